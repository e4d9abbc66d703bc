#!/usr/bin/env bash
# Audit benchmark: keytrail audit over ~1 GB (uncompressed) of gzipped
# CloudTrail files for 100 leaked key ids, side by side with
# `zcat FILES | grep -F -c KEYID` for one key id over the same files.
# Prints wall and CPU time and peak RSS (/usr/bin/time -v) of both.
#
# Usage: scripts/bench-cloudtrail.sh   (or: make bench)
# Env:   MB=N    uncompressed size to generate (default 1024)
#        RUNS=N  timed runs of each (default 1; all are printed)
# The trail is generated once into .bench/cloudtrail (seeded, so re-runs
# reuse the same files).
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1024}
RUNS=${RUNS:-1}
B=$PWD/.bench
TRAIL=$B/cloudtrail-$MB
KEYS=$B/cloudtrail-keys
mkdir -p "$B"
make -s build >/dev/null
if [ ! -f "$TRAIL/.done" ]; then
  rm -rf "$TRAIL" "$KEYS"
  go run ./scripts/gencloudtrail -out "$TRAIL" -keys "$KEYS/keys.env" -mb "$MB"
  touch "$TRAIL/.done"
fi
bin/keytrail scan dir "$KEYS" --format json -o "$B/cloudtrail-findings.json" || [ $? -eq 1 ]
mapfile -t FILES < <(find "$TRAIL" -name '*.json.gz' | sort)
KEY=$(head -1 "$KEYS/keys.env" | awk '{print $3}')
echo "== ${#FILES[@]} files, $(du -sh "$TRAIL" | cut -f1) gzipped, $MB MB uncompressed; $(grep -c . "$KEYS/keys.env") key ids audited"
measure() { # label cmd...
  local label=$1
  shift
  /usr/bin/time -v "$@" 2>"$B/time.txt" >"$B/out.txt" || true
  awk -v l="$label" -F': ' '/Elapsed \(wall/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
    END {printf "%-10s wall %s  user %ss  sys %ss  peak RSS %.0f MB\n", l, w, u, s, r/1024}' "$B/time.txt"
}
for i in $(seq "$RUNS"); do
  measure "zcat|grep" bash -c 'zcat "$@" | grep -F -c '"$KEY" -- "${FILES[@]}"
  measure "keytrail" bin/keytrail audit --findings "$B/cloudtrail-findings.json" --cloudtrail "$TRAIL" \
    --leaked-at 2026-01-02T00:00:00Z --format json -o "$B/cloudtrail-audit.json"
done
python3 - "$B/cloudtrail-audit.json" <<'PY' 2>/dev/null || true
import json, sys
d = json.load(open(sys.argv[1]))
print("keytrail: %d keys, %d events after the leak, input errors: %s" % (len(d["keys"]), sum(k["events_after_leak"] for k in d["keys"]), d["summary"]["input_errors"]))
PY
