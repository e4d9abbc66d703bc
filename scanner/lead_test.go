package scanner

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/keytrail/keytrail/rules"
)

// leadRules is a PEM-like block rule, with and without a Lead.
func leadEngine(t *testing.T, lead int) *Engine {
	t.Helper()
	src := fmt.Sprintf(`
[[rule]]
id = "test-block"
description = "block"
keywords = ["begin block-----"]
multiline = true
lead = %d
regex = '''-----BEGIN BLOCK-----\n(?:[A-Za-z]+: [^\n]*\n)*[A-Za-z0-9]{8}[\s\S]*?(?:-----END BLOCK-----|\n\n|\z)'''
examples = ["-----BEGIN BLOCK-----\nabcdefgh\n-----END BLOCK-----"]
negative_examples = ["-----BEGIN BLOCK-----\n..."]
`, lead)
	rs, err := rules.Parse("lead.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.NewSet(rs, rules.DefaultValidators())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func findingKeys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d-%d:%q", f.Line, f.EndLine, f.Secret))
	}
	sort.Strings(out)
	return out
}

func TestLeadRuleBlocks(t *testing.T) {
	e := leadEngine(t, 5)
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"blocks in a row, each once and whole",
			"-----BEGIN BLOCK-----\nAAAAAAAA\n-----END BLOCK-----\n-----BEGIN BLOCK-----\nBBBBBBBB\n-----END BLOCK-----\nx -----BEGIN BLOCK-----\nCCCCCCCC\n-----END BLOCK-----\n",
			[]string{
				"1-3:\"-----BEGIN BLOCK-----\\nAAAAAAAA\\n-----END BLOCK-----\"",
				"4-6:\"-----BEGIN BLOCK-----\\nBBBBBBBB\\n-----END BLOCK-----\"",
				"7-9:\"-----BEGIN BLOCK-----\\nCCCCCCCC\\n-----END BLOCK-----\"",
			}},
		{"a BEGIN inside the match before it is part of that match",
			"-----BEGIN BLOCK-----\nNote: -----BEGIN BLOCK-----\nDDDDDDDD\n-----END BLOCK-----\n",
			[]string{"1-4:\"-----BEGIN BLOCK-----\\nNote: -----BEGIN BLOCK-----\\nDDDDDDDD\\n-----END BLOCK-----\""}},
		{"missing END ends at a blank line",
			"-----BEGIN BLOCK-----\nEEEEEEEE\nmore\n\nafter\n",
			[]string{"1-5:\"-----BEGIN BLOCK-----\\nEEEEEEEE\\nmore\\n\\n\""}},
		{"BEGIN at the very start and without body",
			"-----BEGIN BLOCK-----\n...\n", nil},
		{"keyword without its dashes",
			"BEGIN BLOCK-----\nFFFFFFFF\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := findingKeys(scanString(t, e, tc.text))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A Lead rule finds every block the same rule finds from ±Context
// regions, and no other; the region scan's extra findings are only a
// block cut short where an earlier block's region ended.
func TestLeadRuleMatchesRegionScan(t *testing.T) {
	lead, plain := leadEngine(t, 5), leadEngine(t, 0)
	r := rand.New(rand.NewSource(7))
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	total := 0
	for round := 0; round < 40; round++ {
		var b strings.Builder
		for i := r.Intn(30); i >= 0; i-- {
			switch r.Intn(4) {
			case 0:
				b.WriteString("some text -----BEGIN BLOCK----- in prose\n\n")
			case 1:
				b.WriteString(strings.Repeat("filler line\n", r.Intn(400)))
			default:
				b.WriteString("key: -----BEGIN BLOCK-----\n")
				for j := r.Intn(40); j >= 0; j-- {
					for k := 0; k < 64; k++ {
						b.WriteByte(abc[r.Intn(len(abc))])
					}
					b.WriteByte('\n')
				}
				if r.Intn(3) > 0 {
					b.WriteString("-----END BLOCK-----\n")
				} else {
					b.WriteString("\n")
				}
			}
		}
		text := b.String()
		got, want := scanString(t, lead, text), scanString(t, plain, text)
		byLine := map[int]string{}
		for _, f := range got {
			if _, dup := byLine[f.Line]; dup {
				t.Fatalf("round %d: two lead findings on line %d", round, f.Line)
			}
			byLine[f.Line] = f.Secret
		}
		seen := map[int]bool{}
		for _, f := range want {
			full, ok := byLine[f.Line]
			switch {
			case ok && full == f.Secret:
				seen[f.Line] = true
			case ok && strings.HasPrefix(full, f.Secret):
				// cut short by a region's end
			default:
				t.Fatalf("round %d: region scan found line %d (%d bytes), lead scan did not", round, f.Line, len(f.Secret))
			}
		}
		if len(seen) != len(got) {
			t.Fatalf("round %d: lead scan found %d blocks, region scan %d of them", round, len(got), len(seen))
		}
		total += len(got)
	}
	if total < 100 {
		t.Fatalf("only %d blocks in all rounds: the test text is wrong", total)
	}
}
