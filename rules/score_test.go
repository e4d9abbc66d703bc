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
		// Conditionals, patterns, commands and language text are not values.
		{`err ? 'wrongPassword' : '`, "unlockFailed", `';`, "", false},
		// Test runners print "PASS: name"; a PASS key with '=' or in lower case is still one.
		{`--- PASS: `, "TestLog", ` (0.04s)`, "", false},
		{`"PASS:`, "Zq8nR2wLx5", `",`, "", false},
		{`PASS=`, "Zq8nR2wLx5", ``, ConfidenceMedium, true},
		{`pass: `, "Zq8nR2wLx5", ``, ConfidenceMedium, true},
		{`.replace(/\bclient_secret=`, `\w+/g`, `, "x")`, "", false},
		{`$SecPassword = `, "ConvertTo-SecureString", ` '<Wtver>' -AsPlainText`, "", false},
		{`password: '`, "你的密码", `',`, "", false},
		{`?password=`, "zYiAqd9aFz", `"`, ConfidenceMedium, false}, // a query parameter is a literal, even in code
		{`token=`, "zYiAqd9aFz", ``, ConfidenceMedium, true},
		{`$password = '`, "H7{Qj1n>%28=;P", `';`, ConfidenceHigh, false},
		{`KEY_STORE_PASSWORD = "`, "docker!!11!!one!", `".toCharArray();`, ConfidenceHigh, false},
		{`SECRET = "`, "bearer {x}", `".format(t)`, "", false},
		{`'JWT_SECRET='`, ".$this->laravel[", `'config']`, "", false},
		// Braces and parentheses: format strings and calls, not base64 in
		// braces or a Django key's punctuation.
		{`"passphrase": "`, "{AQAAABAAAAAQmEZaw8Ev9tClXWVQye1TR2KgF3p/wGoYs/TEQCmsxCk=}", `",`, ConfidenceHigh, false},
		{`secret = "`, "{0}:{1}", `"`, "", false},
		{`secret = "`, "prefix-{user_name}-suffix", `"`, "", false},
		{`django_secret_key: "`, "akr2icmg1n8%z^3fe3c+)5d0(t^cy-2_25rrl35a7@!scna^1#", `"`, ConfidenceHigh, false},
		{`secret = "`, "hmac(key)", `"`, "", false},
		{`'PASSWORD_CHANGE': '`, "Change Login", `',`, "", false},
		{`google-client-secret: `, "base64-client-secret", ``, "", false},
		{`tlsSecret: `, "kiam-agent-tls", ``, ConfidenceLow, false},
		{`GITLAB_SECRETS_DB_KEY_BASE=`, "long-and-random-alphanumeric-string", ``, ConfidenceLow, false},
		{`secret: `, "base64-something-random", ``, ConfidenceLow, false},
		{`'Example: \'db=mysql:host=h;user=root;password=`, `foobar\`, `' where`, "", false},
		{`api_key = "`, "oaCitations", `"`, "", false},
		// Counting runs are filler: reported, but low.
		{`consumer_secret = '`, "0123456789", `'`, ConfidenceLow, false},
		{`GIT_AUTH_TOKEN=`, "abcdefghijklmno=0123456789", `'`, ConfidenceLow, false},
		{`consumer_secret = '`, "q0Z1r2L3w4T5v6X7", `'`, ConfidenceHigh, false},
		// Salts and nonces are key material when random-looking.
		{`authsalt: `, "MTQ3ZDVhMTIzYmU1ZTRiMWQ1NzUyOWFlNWE2YzRjY2FhMDkyZGQ5Mg==", ``, ConfidenceMedium, false},
		{`SECURE_AUTH_SALT = '`, "q7H2mLx9Pw4Zr8Tn3Kv6Bd1Fs5Yc0Ej", `'`, ConfidenceHigh, false},
		{`salt = "`, "pepper", `"`, "", false},
		{`salt_length = `, "16", ``, "", false},
	}
	for _, c := range cases {
		sc := scoreKeywordContext(Candidate{Prefix: c.prefix, Value: c.value, After: c.after})
		got := ConfidenceFor(sc.Value)
		if got != c.want || got != "" && sc.Bare != c.bare {
			t.Errorf("%s%s%s: confidence %q bare %v (score %.2f), want %q bare %v", c.prefix, c.value, c.after, got, sc.Bare, sc.Value, c.want, c.bare)
		}
	}
}

// TestScoreWeak checks which passwords are marked as plain defaults (the
// engine raises them in deployment config).
func TestScoreWeak(t *testing.T) {
	cases := []struct {
		prefix, value, after string
		weak                 bool
	}{
		{`POSTGRES_PASSWORD: `, "postgres", ``, true},
		{`keystore_password: `, "cassandra", ``, true},
		{`MYSQL_ROOT_PASSWORD: "`, "admin", `"`, true},
		{`password: "`, "q8Zr2LwT9vXk4NbPmY7c", `"`, false},
		{`password: `, "U53r1234", ``, false},
		{`api_token: "`, "postgres", `"`, false},
		{`$password === '`, "whisky", `'`, false},
		{`db_password = "`, "foo", `"`, true}, // raised only in deployment config and code files
	}
	for _, c := range cases {
		sc := scoreKeywordContext(Candidate{Prefix: c.prefix, Value: c.value, After: c.after})
		if sc.Weak != c.weak {
			t.Errorf("%s%s%s: weak %v, want %v", c.prefix, c.value, c.after, sc.Weak, c.weak)
		}
	}
}

func TestClassifyKey(t *testing.T) {
	cases := map[string]keyKind{
		"DB_PASSWORD": kindPassword, "dbPass": kindPassword, "bypass": kindNone, "NOPASSWD": kindNone,
		"client_secret": kindSecret, "oauth_token": kindToken, "apiKey": kindAPIKey, "AES_KEY": kindKey,
		"key": kindNone, "token_uri": kindNone, "password_file": kindNone, "publicKeyToken": kindNone,
		"credentials": kindAuth, "author": kindNone, "AUTH_SALT": kindKey, "oauth_nonce": kindNone, "base_nonce": kindNone,
		"password_salt": kindKey, "saltLength": kindNone, "noncekey": kindKey,
		"postBody.UserPassword": kindPassword, "user_password": kindPassword, "login_token": kindToken,
		"password_username": kindNone, "DB_PW": kindPassword, "hash_pw": kindNone, "new_pw": kindPassword, "token_user": kindNone, "user_name": kindNone,
		"secretary": kindNone, "SECRETARIAT_ID": kindNone, "secretaryToken": kindToken, "SECRET_KEY": kindSecret,
	}
	for k, want := range cases {
		if got := classify(k); got != want {
			t.Errorf("classify(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestScoreCredentialValue checks command-line candidates: argparse
// keywords and help text are code and prose, not passwords.
func TestScoreCredentialValue(t *testing.T) {
	cases := []struct {
		value, after string
		want         string
	}{
		{"Wq8sT2vLx9", ` https://ci`, ConfidenceHigh},
		{"Hk29sLqW0xZt", ` registry.acme.io`, ConfidenceHigh},
		{"action=", `'store', dest`, ""},
		{"dest=", `'default_passwd'`, ""},
		{"Force", ` password prompt.`, ""},
		{"pass>", ` https://test.com`, ""},
		{"ZGp1dHNqOkUxektMaVNwWU1aRWxMVEM=", `"`, ConfidenceHigh},
	}
	for _, c := range cases {
		sc := scoreCredentialValue(Candidate{Prefix: "--password ", Value: c.value, After: c.after})
		if got := ConfidenceFor(sc.Value); got != c.want {
			t.Errorf("%s%s: confidence %q (score %.2f), want %q", c.value, c.after, got, sc.Value, c.want)
		}
	}
}

// TestScoreURLUserinfo checks made-up pairs and reserved example hosts
// lower a URL password, and real-looking ones stay.
func TestScoreURLUserinfo(t *testing.T) {
	cases := []struct {
		prefix, value, after string
		want                 string
	}{
		{"https://deploy:", "ITgqLpaKoJceXBH42IkQ", "@git.acme.io/platform", ConfidenceHigh},
		{"https://deploy:", "ITgqLpaKoJceXBH42IkQ", "@git.example.com/platform", ConfidenceMedium},
		{"https://foo:", "bar", "@api.heroku.com/login", ""},
		{"http://hello:", "world", "@localhost:8080/", ConfidenceLow},
		{"http://svc:", "world", "@localhost:8080/", ConfidenceMedium},
		{"http://joe:", "pass1", "@example.com/resource", ConfidenceLow},
		{"postgres://app:", "s3cretPw", "@db.internal:5432/app", ConfidenceMedium},
	}
	for _, c := range cases {
		sc := scoreURLUserinfo(Candidate{Prefix: c.prefix, Value: c.value, After: c.after})
		if got := ConfidenceFor(sc.Value); got != c.want {
			t.Errorf("%s%s%s: confidence %q (score %.2f), want %q", c.prefix, c.value, c.after, got, sc.Value, c.want)
		}
	}
}
