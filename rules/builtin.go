package rules

import (
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
}

// builtinRules returns fresh copies of the built-in rules. Decoding the
// TOML was most of a pre-commit run's start-up (about 6 ms of CPU for
// 450 rules), so builtin_gen.go holds the files already decoded, as
// static data. A file's copy is used only while its digest matches the
// embedded file; a file added or changed since `go generate ./rules` is
// decoded, so a stale copy costs time, never findings.
func builtinRules() ([]*Rule, error) {
	files, err := fs.Glob(builtin, "data/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	perFile, err := iter.MapErr(files, func(f *string) ([]*Rule, error) {
		if g := generatedFor(*f, embeddedDigest(*f)); g != nil {
			rs := make([]*Rule, len(g.rules))
			for i, r := range g.rules {
				rs[i] = r.Clone()
				rs[i].lazy = true
			}
			return rs, nil
		}
		data, err := builtin.ReadFile(*f)
		if err != nil {
			return nil, err
		}
		rs, err := Parse("rules/"+*f, data)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			r.lazy = true
		}
		return rs, nil
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
