package awsaudit

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/keytrail/keytrail/audit"
)

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// AthenaSQL returns Athena (Trino) queries that ask of a CloudTrail table
// in the standard layout (AWS's CREATE TABLE for CloudTrail logs:
// useridentity.accesskeyid, eventtime as an ISO 8601 string,
// responseelements as JSON text) what the audit asks of the logs it
// reads: per key, events after the leak, first use, denied calls; IPs,
// Regions and user agents first seen after the leak (never in the
// baseline window before it); and the sessions minted with the key,
// whose use counts as the key's. Every statement stands alone.
func AthenaSQL(table string, keys []audit.Key, baseline time.Duration) (string, error) {
	if !tableName.MatchString(table) {
		return "", fmt.Errorf("table name %q: want name or database.name (letters, digits, _)", table)
	}
	type row struct {
		id     string
		leaked time.Time
	}
	seen := map[string]bool{}
	var rows []row
	for _, k := range keys {
		// Only well-formed key ids reach the SQL: nothing to escape.
		if k.Provider != "aws" || !IsAccessKeyID(k.KeyID) || seen[k.KeyID] || k.LeakedAt.IsZero() {
			continue
		}
		seen[k.KeyID] = true
		rows = append(rows, row{k.KeyID, k.LeakedAt.UTC()})
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("no AWS access key id with a leak time to query")
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].id < rows[j].id })
	var vals []string
	for _, r := range rows {
		vals = append(vals, fmt.Sprintf("('%s', from_iso8601_timestamp('%s'))", r.id, r.leaked.Format(time.RFC3339)))
	}
	days := int(baseline.Hours() / 24)
	if days < 1 {
		days = 1
	}
	with := fmt.Sprintf(`WITH keys(key_id, leaked_at) AS (
  VALUES
    %s
),
sessions AS (
  SELECT k.key_id,
         json_extract_scalar(t.responseelements, '$.credentials.accessKeyId') AS session_key_id,
         t.eventname AS via,
         from_iso8601_timestamp(t.eventtime) AS minted_at,
         t.sourceipaddress AS source_ip
  FROM %[2]s t
  JOIN keys k ON t.useridentity.accesskeyid = k.key_id
  WHERE t.eventname IN ('GetSessionToken', 'AssumeRole', 'GetFederationToken')
    AND t.errorcode IS NULL
),
ids AS (
  SELECT key_id, key_id AS used_id, leaked_at FROM keys
  UNION ALL
  SELECT s.key_id, s.session_key_id, k.leaked_at FROM sessions s JOIN keys k ON s.key_id = k.key_id
  WHERE s.session_key_id IS NOT NULL
),
events AS (
  SELECT i.key_id, i.used_id, i.leaked_at,
         from_iso8601_timestamp(t.eventtime) AS at,
         t.sourceipaddress AS ip, t.awsregion AS region, t.useragent AS agent,
         t.errorcode, t.eventsource, t.eventname
  FROM %[2]s t
  JOIN ids i ON t.useridentity.accesskeyid = i.used_id
  -- the baseline window (--baseline-window) and everything after the leak
  WHERE from_iso8601_timestamp(t.eventtime) >= i.leaked_at - INTERVAL '%[3]d' DAY
)
`, strings.Join(vals, ",\n    "), table, days)

	var b strings.Builder
	fmt.Fprintf(&b, "-- keytrail audit: Athena SQL for %d leaked AWS key(s) over the CloudTrail table %s.\n", len(rows), table)
	b.WriteString("-- Each statement runs on its own. Add a partition filter (region, date) if your table is partitioned.\n\n")
	b.WriteString("-- 1. Use after the leak: events, first use, denied calls (sessions minted with the key included).\n")
	b.WriteString(with)
	b.WriteString(`SELECT key_id,
       count(*) AS events_after_leak,
       min(at) AS first_use_after_leak,
       max(at) AS last_use,
       count_if(errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'UnauthorizedAccess')) AS access_denied_after_leak
FROM events
WHERE at >= leaked_at
GROUP BY key_id
ORDER BY key_id;

`)
	b.WriteString("-- 2. New places: source IPs, Regions and user agents first seen after the leak (never in the baseline window).\n")
	b.WriteString(with)
	b.WriteString(`SELECT key_id, kind, value, min(at) AS first_seen, count(*) AS events
FROM events
CROSS JOIN UNNEST(ARRAY['source_ip', 'region', 'user_agent'], ARRAY[ip, region, agent]) AS u(kind, value)
WHERE value IS NOT NULL
GROUP BY key_id, kind, value
HAVING min(at) >= arbitrary(leaked_at)
ORDER BY key_id, kind, first_seen;

`)
	b.WriteString("-- 3. Access denied after the leak: what someone tried and was not allowed.\n")
	b.WriteString(with)
	b.WriteString(`SELECT key_id, at, eventsource, eventname, errorcode, ip, region, agent
FROM events
WHERE at >= leaked_at
  AND errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'UnauthorizedAccess')
ORDER BY key_id, at;

`)
	b.WriteString("-- 4. Sessions minted with the keys (temporary ASIA credentials) and how often each was used.\n")
	b.WriteString(with)
	b.WriteString(`SELECT s.key_id, s.session_key_id, s.via, s.minted_at, s.source_ip, count(e.at) AS events
FROM sessions s
LEFT JOIN events e ON e.used_id = s.session_key_id
GROUP BY s.key_id, s.session_key_id, s.via, s.minted_at, s.source_ip
ORDER BY s.key_id, s.minted_at;
`)
	return b.String(), nil
}
