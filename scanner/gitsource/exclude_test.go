package gitsource

import "testing"

// Exclude is what incremental org scans pass: the ref tips an earlier run
// scanned. Only commits not reachable from them are walked, and a secret
// already in the pre-image is not news.
func TestExcludeScannedTips(t *testing.T) {
	r := newRepo(t)
	old, fresh, forced := token("ex-old"), token("ex-new"), token("ex-forced")
	r.commit("initial", map[string]string{"app.cfg": "key=" + old + "\n"})
	r.git("checkout", "-q", "-b", "topic")
	r.commit("topic work", map[string]string{"t.txt": "x\n"})
	topicOld := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "main")
	mainOld := r.git("rev-parse", "HEAD")
	// After the "first run": main gains a commit that keeps the old key
	// and adds a new one; topic is force-pushed onto a new commit.
	r.commit("more", map[string]string{"app.cfg": "key=" + old + "\nnew=" + fresh + "\n"})
	mainNew := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "topic")
	r.git("reset", "-q", "--hard", "main~1")
	r.commit("rewritten", map[string]string{"f.txt": forced + "\n"})
	forcedID := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "main")

	cases := []struct {
		name    string
		exclude []string
		want    map[string]string // secret -> commit
	}{
		{"unchanged tips scan nothing", []string{mainNew, forcedID}, map[string]string{}},
		{"new and force-pushed commits", []string{mainOld, topicOld}, map[string]string{fresh: mainNew, forced: forcedID}},
		{"unknown ids are ignored", []string{mainOld, topicOld, "0123456789012345678901234567890123456789"}, map[string]string{fresh: mainNew, forced: forcedID}},
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(b+"/"+c.name, func(t *testing.T) {
				res := mustScan(t, Options{Path: r.dir, Backend: b, Exclude: c.exclude})
				got := map[string]string{}
				for _, f := range res.Findings {
					got[f.Secret] = f.Commit
				}
				if len(got) != len(c.want) {
					t.Errorf("got %d findings %v, want %v", len(got), got, c.want)
				}
				for s, commit := range c.want {
					if got[s] != commit {
						t.Errorf("secret %s...: commit %q, want %q", s[:8], got[s], commit)
					}
				}
			})
		}
	}
}
