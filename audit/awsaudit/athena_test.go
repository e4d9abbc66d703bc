package awsaudit

import (
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
)

func TestAthenaSQL(t *testing.T) {
	keys := []audit.Key{key(aliceKey), key(bobKey), key(aliceKey),
		{Provider: "aws", KeyID: "AKIA'; DROP TABLE x; --", LeakedAt: leak},
		{Provider: "github", KeyID: "", Secret: "ghp_x", LeakedAt: leak}}
	keys[1].LeakedAt = leak.Add(time.Hour)
	sql, err := AthenaSQL("security.cloudtrail_logs", keys, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stmts := strings.Split(strings.TrimSpace(sql), ";")
	if last := strings.TrimSpace(stmts[len(stmts)-1]); last != "" {
		t.Fatalf("text after the last statement: %q", last)
	}
	stmts = stmts[:len(stmts)-1]
	if len(stmts) != 4 {
		t.Fatalf("%d statements, want 4", len(stmts))
	}
	wants := []string{"events_after_leak", "HAVING min(at) >= arbitrary(leaked_at)", "errorcode IN ('AccessDenied'", "LEFT JOIN events e ON e.used_id = s.session_key_id"}
	for i, st := range stmts {
		// Each statement stands alone: its own CTEs, the table, both keys
		// once each with their leak times, the baseline window.
		for _, w := range []string{"WITH keys(key_id, leaked_at)", "FROM security.cloudtrail_logs t", "INTERVAL '30' DAY",
			"('" + aliceKey + "', from_iso8601_timestamp('2026-03-01T12:00:00Z'))",
			"('" + bobKey + "', from_iso8601_timestamp('2026-03-01T13:00:00Z'))",
			"json_extract_scalar(t.responseelements, '$.credentials.accessKeyId')", wants[i]} {
			if !strings.Contains(st, w) {
				t.Errorf("statement %d lacks %q", i+1, w)
			}
		}
		if n := strings.Count(st, "('"+aliceKey+"'"); n != 1 {
			t.Errorf("statement %d lists alice's key %d times", i+1, n)
		}
		if strings.Count(st, "(") != strings.Count(st, ")") {
			t.Errorf("statement %d: unbalanced parentheses", i+1)
		}
		if strings.Contains(st, "DROP") || strings.Contains(st, "ghp_") {
			t.Errorf("statement %d holds a key that is not an AWS key id", i+1)
		}
	}
	for _, bad := range []string{"logs; DROP", "a b", "", "x.y.z"} {
		if _, err := AthenaSQL(bad, keys, time.Hour); err == nil {
			t.Errorf("table %q accepted", bad)
		}
	}
	if _, err := AthenaSQL("t", []audit.Key{{Provider: "github"}}, time.Hour); err == nil {
		t.Error("no AWS key: no error")
	}
}
