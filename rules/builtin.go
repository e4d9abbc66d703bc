package rules

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"sort"

	"github.com/sourcegraph/conc/iter"
)

//go:generate go test -run ^TestBuiltinGenerated$ -update .

// generatedFile is one rule file decoded ahead of time (builtin_gen.go).
type generatedFile struct {
	name   string // as in the embedded FS: "data/aws.toml"
	digest string // fileDigest of the content rules came from
	rules  []*Rule
	// chunks[i] is the fileDigest of rules[i]'s own text, from its
	// [[rule]] line to the next (splitRules); nil when the file does not
	// split that way.
	chunks []string
}

// builtinRules returns fresh copies of the built-in rules. Decoding the
// TOML was most of a pre-commit run's start-up (about 6 ms of CPU for
// 450 rules), so builtin_gen.go holds the files already decoded, as
// static data. A file's copy is used only while its digest matches the
// embedded file; a file added or changed since `go generate ./rules` is
// decoded, so a stale copy costs time, never findings; and only its rules
// whose own text changed are (decodeBuiltinFile).
func builtinRules() ([]*Rule, error) {
	files, err := fs.Glob(builtin, "data/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	perFile, err := iter.MapErr(files, func(f *string) ([]*Rule, error) {
		if g := generatedFor(*f, embeddedDigest(*f)); g != nil {
			// The copies share the pre-decoded slices (cloning them was
			// ~4% of a pre-commit run): their backing arrays are static,
			// full to capacity (an append copies), and Compile copies the
			// keywords before changing them.
			rs := make([]*Rule, len(g.rules))
			for i, r := range g.rules {
				rs[i] = r.copyData(func(s []string) []string { return s })
				rs[i].lazy = true
			}
			return rs, nil
		}
		data, err := builtin.ReadFile(*f)
		if err != nil {
			return nil, err
		}
		return decodeBuiltinFile(*f, data)
	})
	if err != nil {
		return nil, err
	}
	var all []*Rule
	for _, rs := range perFile {
		all = append(all, rs...)
	}
	return all, nil
}

// generatedFor returns the pre-decoded copy of file name if it was made
// from content with this digest, or nil.
func generatedFor(name, digest string) *generatedFile {
	for i := range generatedFiles {
		if g := &generatedFiles[i]; g.name == name && g.digest == digest {
			return g
		}
	}
	return nil
}

// fileDigest identifies a rule file's content. It guards against a stale
// copy, not against tampering, so a CRC is enough (microseconds).
func fileDigest(data []byte) string {
	return fmt.Sprintf("%d:%08x", len(data), crc32.ChecksumIEEE(data))
}

// embeddedDigest is fileDigest of an embedded file, streamed: ReadFile
// would copy it ("" on error, which matches no copy).
func embeddedDigest(name string) string {
	f, err := builtin.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := crc32.NewIEEE()
	var buf [8 << 10]byte
	n, err := io.CopyBuffer(h, f, buf[:])
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d:%08x", n, h.Sum32())
}

// decodeBuiltinFile decodes an embedded rule file that has no current
// copy. Rules are often added to a file between two go generate runs, so
// a rule whose own text (splitRules) is unchanged is taken from the copy
// and only the others are decoded; when the file does not split cleanly
// or a rule's text does not decode alone, the whole file is decoded, so
// errors read as they would.
func decodeBuiltinFile(name string, data []byte) ([]*Rule, error) {
	if rs, ok := decodeChangedRules(name, data); ok {
		return rs, nil
	}
	rs, err := Parse("rules/"+name, data)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		r.lazy = true
	}
	return rs, nil
}

func decodeChangedRules(name string, data []byte) ([]*Rule, bool) {
	chunks, ok := splitRules(data)
	if !ok {
		return nil, false
	}
	known := map[string]*Rule{}
	for _, g := range generatedFiles {
		for i, d := range g.chunks {
			known[d] = g.rules[i]
		}
	}
	out := make([]*Rule, 0, len(chunks))
	for _, c := range chunks {
		var r *Rule
		if old := known[fileDigest(c)]; old != nil {
			r = old.Clone()
		} else {
			rs, err := Parse("rules/"+name, c)
			if err != nil || len(rs) != 1 {
				return nil, false
			}
			r = rs[0]
		}
		r.Source = "rules/" + name
		r.lazy = true
		out = append(out, r)
	}
	return out, true
}

// splitRules splits a rule file into each rule's text: from a line that
// is exactly "[[rule]]" up to the next such line or the end. ok is false
// when anything but comments and blank lines comes before the first rule.
func splitRules(data []byte) (chunks [][]byte, ok bool) {
	const head = "[[rule]]\n"
	start := -1
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		line := data[off:end]
		switch {
		case string(line) == head:
			if start >= 0 {
				chunks = append(chunks, data[start:off])
			}
			start = off
		case start < 0:
			if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
				return nil, false
			}
		}
		off = end
	}
	if start >= 0 {
		chunks = append(chunks, data[start:])
	}
	return chunks, true
}
