#!/usr/bin/env bash
# make demo: build the demo repository (fake keys, generated from a fixed
# seed) and scan it. Succeeds when keytrail finds the planted keys.
set -uo pipefail
cd "$(dirname "$0")/.."
go run ./testdata/demogen -out testdata/demo-repo || exit 2

echo
echo "== keytrail scan dir testdata/demo-repo (working tree) =="
bin/keytrail scan dir testdata/demo-repo
code=$?
if bin/keytrail scan --help 2>/dev/null | grep -q "^  git "; then
  echo
  echo "== keytrail scan git testdata/demo-repo (full history, incl. deleted files and commit messages) =="
  bin/keytrail scan git testdata/demo-repo
  gcode=$?
  [ "$gcode" -eq 1 ] || code=$gcode
fi

# The audit: the leaked AWS key against an in-process AWS emulator (kumo
# behind internal/fakes/awsfake) seeded to match the repository, with
# CloudTrail records before and after the leak commit. Writes the HTML.
echo
echo "== keytrail audit git testdata/demo-repo --aws --cloudtrail <trail> (against an in-process AWS emulator) =="
go run ./testdata/demoaws -repo testdata/demo-repo -bin bin/keytrail -html testdata/demo-audit.html || code=2

# The leaked AWS key, then the plan keytrail remediate would run for it
# (a dry run: it prints the API calls and makes none).
akid=$(bin/keytrail scan dir testdata/demo-repo --format json 2>/dev/null | grep -oE '"access_key_id": *"AKIA[A-Z0-9]{16}"' | head -1 | grep -oE 'AKIA[A-Z0-9]{16}')
if [ -n "$akid" ]; then
  echo
  echo "== keytrail remediate rotate --key-id $akid --dry-run (the plan for the leaked key; no call is made) =="
  bin/keytrail remediate rotate --key-id "$akid" --user demo-app --distribute secretsmanager:demo/app --dry-run || code=2
fi
echo
if [ "$code" -eq 1 ]; then
  echo "demo: keytrail found the planted keys (it exits 1 on findings; secrets are redacted, add --show-secrets to see them)."
  exit 0
fi
echo "demo: unexpected exit code $code" >&2
exit 1
