package rules

import "testing"

// TestScoreKeywordContext checks the features move a candidate to the
// confidence a reader would give it.
func TestScoreKeywordContext(t *testing.T) {
	cases := []struct {
		prefix, value, after string
		want                 string // confidence, "" for dropped
		bare                 bool
	}{
		{`db_password = "`, "q8Zr2LwT9vXk4NbPmY7c", `"`, ConfidenceHigh, false},
		{`"clientSecret": "`, "ZUm14QhoxhLPAbQcEFUV2fsjGHb6HrlEOS47WgjK", `",`, ConfidenceHigh, false},
		{`password: '`, "foo", `'`, ConfidenceLow, false},
		{`password: '`, "postgres", `'`, ConfidenceMedium, false},
		{`password: '`, "Tr0ub4dor", `'`, ConfidenceHigh, false},
		{`GRAPHITE_PASS=`, "password", ``, ConfidenceLow, true},
		{`password = `, "gocommerce", ``, ConfidenceMedium, true},
		{`password = `, "other_password", ``, "", false},
		{`password = `, "get_password", `()`, "", false},
		{`password = `, "config.password", ``, "", false},
		{`password: "`, "${DB_PASSWORD}", `"`, "", false},
		{`password: "`, "<your-password>", `"`, "", false},
		{`password: "`, "pbkdf2_sha256$36000$90bEBUbbgBEO$L8mP32NfNI8IYyrFFUejJ1J8Mb7nWXAXfc4o40NZcVw=", `"`, "", false},
		{`password: "`, "Enter your password here", `"`, "", false},
		{`passwordHint: "`, "Mb8Lq2Zx", `"`, "", false},
		{`api_key: "`, "oa_citations", `"`, "", false},
		{`tokenKey = "`, "access_token", `"`, "", false},
		{`secret: "`, "aaaaaaaaaaaaaaaa", `"`, "", false},
		{`token = "`, "9eeaf77e-e09a-4449-9e0e-d7afceaa86dc", `"`, "", false},
		{`aws_secret_access_key = `, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ``, "", false},
		{`author = "`, "Jane Doe", `"`, "", false},
		{`$password === '`, "whisky", `'`, ConfidenceLow, false},
	}
	for _, c := range cases {
		sc := scoreKeywordContext(Candidate{Prefix: c.prefix, Value: c.value, After: c.after})
		got := ConfidenceFor(sc.Value)
		if got != c.want || got != "" && sc.Bare != c.bare {
			t.Errorf("%s%s%s: confidence %q bare %v (score %.2f), want %q bare %v", c.prefix, c.value, c.after, got, sc.Bare, sc.Value, c.want, c.bare)
		}
	}
}

func TestClassifyKey(t *testing.T) {
	cases := map[string]keyKind{
		"DB_PASSWORD": kindPassword, "dbPass": kindPassword, "bypass": kindNone, "NOPASSWD": kindNone,
		"client_secret": kindSecret, "oauth_token": kindToken, "apiKey": kindAPIKey, "AES_KEY": kindKey,
		"key": kindNone, "token_uri": kindNone, "password_file": kindNone, "publicKeyToken": kindNone,
		"credentials": kindAuth, "author": kindNone,
	}
	for k, want := range cases {
		if got := classify(k); got != want {
			t.Errorf("classify(%q) = %v, want %v", k, got, want)
		}
	}
}
