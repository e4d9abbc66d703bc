package rules

import (
	"fmt"
	"regexp/syntax"
	"sort"
	"testing"
)

func TestZZProgSizes(t *testing.T) {
	rs, err := BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	type e struct {
		id    string
		n     int
		runes int
	}
	var all []e
	total, totalRunes := 0, 0
	for _, r := range rs {
		re, err := syntax.Parse(r.Regex, syntax.Perl)
		if err != nil {
			continue
		}
		p, err := syntax.Compile(re.Simplify())
		if err != nil {
			continue
		}
		runes := 0
		for _, in := range p.Inst {
			runes += len(in.Rune)
		}
		all = append(all, e{r.ID, len(p.Inst), runes})
		total += len(p.Inst)
		totalRunes += runes
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n*40+all[i].runes*4 > all[j].n*40+all[j].runes*4 })
	fmt.Printf("rules %d insts %d (%.1f MB at 40 B) runes %d (%.1f MB)\n", len(all), total, float64(total*40)/1e6, totalRunes, float64(totalRunes*4)/1e6)
	for _, x := range all[:25] {
		fmt.Printf("%-50s %6d insts %6d runes\n", x.id, x.n, x.runes)
	}
}
