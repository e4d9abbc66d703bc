package scanner

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/keytrail/keytrail/rules"
)

// FuzzEngine scans arbitrary bytes with the built-in rules plus the test
// rules, through small windows so that boundaries are crossed often: no
// panic, and every finding lies inside the input.
func FuzzEngine(f *testing.F) {
	builtin, err := rules.BuiltinRules()
	if err != nil {
		f.Fatal(err)
	}
	extra, err := rules.Parse("test.toml", []byte(testRules))
	if err != nil {
		f.Fatal(err)
	}
	set, err := rules.NewSet(append(builtin, extra...), rules.DefaultValidators())
	if err != nil {
		f.Fatal(err)
	}
	engines := map[string]*Engine{}
	for name, o := range map[string]Options{"default": {}, "small": {WindowSize: 512, Overlap: 128}} {
		e, err := NewEngine(set, o)
		if err != nil {
			f.Fatal(err)
		}
		engines[name] = e
	}
	for _, s := range []string{
		"", "\n\n", "token=tkn_0123456789abcdefABCDEF0123456789\n",
		`secret = "abcdefgh12"`,
		"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"x: dG9rZW49dGtuXzAxMjM0NTY3ODlhYmNkZWZBQkNERUYwMTIzNDU2Nzg5\n",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
		"\xff\xfe\x00tkn_\x00secret=\"\xff\xff\xff\xff\xff\xff\xff\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for name, e := range engines {
			fs, err := e.ScanReader(context.Background(), "fuzz.txt", bytes.NewReader(data))
			if errors.Is(err, ErrBinary) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, fd := range fs {
				if fd.Line < 1 || fd.Line > lines || fd.EndLine < fd.Line || fd.EndLine > lines || fd.Column < 1 {
					t.Fatalf("%s: finding at %d:%d-%d:%d outside %d lines: %+v", name, fd.Line, fd.Column, fd.EndLine, fd.EndColumn, lines, fd)
				}
				if fd.Secret == "" || fd.RuleID == "" {
					t.Fatalf("%s: empty secret or rule: %+v", name, fd)
				}
				if fd.Decoded == "" && !bytes.Contains(data, []byte(fd.Secret)) {
					t.Fatalf("%s: secret %q not in the input", name, fd.Secret)
				}
			}
		}
	})
}
