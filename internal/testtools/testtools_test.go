package testtools

import "testing"

func TestParseValidation(t *testing.T) {
	out := []byte(`{"runs": [{
	  "results": [
	    {"ruleId": "SARIF2005", "message": {"arguments": ["runs[0]", "dev"]}},
	    {"ruleId": "GH1005", "level": "error", "message": {"text": "absolute URI"}},
	    {"ruleId": "SARIF2002", "level": "note", "message": {"text": "use ids"}}
	  ],
	  "invocations": [{
	    "toolExecutionNotifications": [{"level": "error", "descriptor": {"id": "ERR997"}, "message": {"text": "no targets"}}],
	    "toolConfigurationNotifications": [{"level": "note", "message": {"text": "fine"}}]
	  }]
	}]}`)
	issues, err := ParseValidation(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"warning SARIF2005: runs[0] | dev", "error GH1005: absolute URI", "error ERR997: no targets"}
	if len(issues) != len(want) {
		t.Fatalf("got %v", issues)
	}
	for i, w := range want {
		if issues[i].String() != w {
			t.Errorf("issue %d = %q, want %q", i, issues[i], w)
		}
	}
	if _, err := ParseValidation([]byte(`{"runs": []}`)); err == nil {
		t.Errorf("empty output accepted")
	}
}
