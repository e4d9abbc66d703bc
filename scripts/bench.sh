#!/usr/bin/env bash
# Side-by-side benchmark: keytrail vs gitleaks on a copy of Go's own src
# tree with planted fake keys. Prints wall time, MB/s, the speed ratio, both
# peak RSS figures and whether each tool found every planted key.
#
# Usage: scripts/bench.sh            (or: make bench)
# Env:   RUNS=N       timed runs per tool (default 1; the median is reported)
#        TREE_SRC=DIR tree to copy instead of $(go env GOROOT)/src
#        KEYTRAIL_ARGS / GITLEAKS_ARGS  extra flags for either tool
#
# Everything lives in .bench/ (git-ignored). Re-runs reuse the gitleaks
# binary, the copied tree and the PEM key; only the planted files are
# rewritten (deterministically, fixed seed).
set -euo pipefail
cd "$(dirname "$0")/.."

GITLEAKS_VERSION=v8.30.1
RUNS=${RUNS:-1}
B=$PWD/.bench
TREE=$B/gosrc
OUT=$B/out
TREE_SRC=${TREE_SRC:-$(go env GOROOT)/src}
mkdir -p "$B/bin" "$OUT"

log() { printf '==> %s\n' "$*" >&2; }

# 1. keytrail
log "building bin/keytrail"
make -s build >/dev/null

# 2. gitleaks, pinned
GL=$B/bin/gitleaks
if ! go version -m "$GL" 2>/dev/null | grep -q "gitleaks/v8[[:space:]]*$GITLEAKS_VERSION"; then
	log "installing gitleaks $GITLEAKS_VERSION into $B/bin"
	GOBIN=$B/bin go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION"
fi
if ! [ -x /usr/bin/time ]; then
	log "installing GNU time"
	apt-get install -y time >/dev/null
fi

# 3. target tree: a copy of Go's src, refreshed when the source changes
stamp="$TREE_SRC $(go version) $(du -s --apparent-size "$TREE_SRC" | cut -f1)"
if ! [ -d "$TREE" ] || [ "$(cat "$B/gosrc.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "copying $TREE_SRC to $TREE"
	rm -rf "$TREE"
	cp -a "$TREE_SRC" "$TREE"
	echo "$stamp" >"$B/gosrc.stamp"
fi
[ -s "$B/ec.pem" ] || openssl ecparam -name prime256v1 -genkey -noout -out "$B/ec.pem" 2>/dev/null
go run ./scripts/genkeys -root "$TREE" -pem "$B/ec.pem" -manifest "$B/planted.json"

# Warm the page cache so neither tool pays for the first read.
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null

KT_CMD=(./bin/keytrail scan dir --no-progress --format json --show-secrets
	--log-level info --log-format json -o "$OUT/keytrail.json" ${KEYTRAIL_ARGS:-} "$TREE")
GL_CMD=("$GL" dir --no-banner --report-format json --report-path "$OUT/gitleaks.json"
	${GITLEAKS_ARGS:-} "$TREE")

# Exit codes 0/1 (clean/findings) are both fine; anything else is not.
timed() { # name run cmd...
	local name=$1 run=$2
	shift 2
	local rc=0
	/usr/bin/time -v -o "$OUT/$name.time.$run" "$@" >"$OUT/$name.stdout.$run" 2>"$OUT/$name.stderr.$run" || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "$name exited $rc; see $OUT/$name.stderr.$run" >&2
		tail -5 "$OUT/$name.stderr.$run" >&2
		exit 1
	fi
}

rm -f "$OUT"/*.time.* "$OUT"/*.stderr.* "$OUT"/*.stdout.*
for run in $(seq 1 "$RUNS"); do
	log "run $run/$RUNS: keytrail"
	timed keytrail "$run" "${KT_CMD[@]}"
	log "run $run/$RUNS: gitleaks $GITLEAKS_VERSION"
	timed gitleaks "$run" "${GL_CMD[@]}"
done

python3 - "$OUT" "$B/planted.json" "$TREE" "$RUNS" <<'EOF'
import json, os, re, statistics, sys

out, manifest, tree, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def parse_time(path):
    t = {}
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    h = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(h)))
    return {"wall": wall,
            "cpu": float(t["User time (seconds)"]) + float(t["System time (seconds)"]),
            "rss": int(t["Maximum resident set size (kbytes)"]) * 1024}

def median_run(name):
    rs = [parse_time(f"{out}/{name}.time.{i}") for i in range(1, runs + 1)]
    walls = sorted(r["wall"] for r in rs)
    med = statistics.median_low(walls)
    r = next(r for r in rs if r["wall"] == med)
    r["walls"] = [x["wall"] for x in rs]
    r["rss_max"] = max(x["rss"] for x in rs)
    return r

# Bytes each tool says it scanned.
kt_bytes = None
for line in open(f"{out}/keytrail.stderr.1"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("message") == "scan finished":
        kt_bytes, kt_items = ev["bytes"], ev["items"]
gl_bytes = None
m = re.search(r"scanned ~?(\d+) bytes", open(f"{out}/gitleaks.stderr.1").read())
if m:
    gl_bytes = int(m.group(1))
# Text bytes: regular files without a NUL in their first 8000 bytes (the
# sniff both tools apply), i.e. what a scanner has to read.
tree_bytes = text_bytes = 0
for d, _, fs in os.walk(tree):
    for f in fs:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        n = os.path.getsize(p)
        tree_bytes += n
        with open(p, "rb") as fh:
            if b"\0" not in fh.read(8000):
                text_bytes += n

planted = json.load(open(manifest))
def found(report, fkey, skey):
    try:
        fs = json.load(open(report)) or []
    except (OSError, ValueError):
        fs = []
    res = {}
    for p in planted:
        res[p["kind"]] = any(f[fkey].replace(os.sep, "/").endswith(p["file"]) and p["needle"] in f[skey] for f in fs)
    return res, len(fs)
kt_found, kt_n = found(f"{out}/keytrail.json", "file", "secret")
gl_found, gl_n = found(f"{out}/gitleaks.json", "File", "Secret")

kt, gl = median_run("keytrail"), median_run("gitleaks")
MB = 1e6
base = text_bytes
print()
print(f"tree: {tree}  ({tree_bytes/MB:.1f} MB in files, {text_bytes/MB:.1f} MB of it text; keytrail read {kt_bytes/MB:.1f} MB in {kt_items} files; "
      f"gitleaks reports {gl_bytes/MB if gl_bytes else float('nan'):.1f} MB)")
print(f"runs per tool: {runs} (median wall shown; all walls: keytrail {kt['walls']}, gitleaks {gl['walls']})")
print()
print("| tool | wall (s) | CPU (s) | MB/s | peak RSS (MiB) | findings | planted keys found |")
print("|---|---:|---:|---:|---:|---:|---|")
for name, r, n, fd in (("keytrail", kt, kt_n, kt_found), ("gitleaks v8.30.1", gl, gl_n, gl_found)):
    ok = sum(fd.values())
    miss = [k for k, v in fd.items() if not v]
    print(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {base/MB/r['wall']:.1f} | {r['rss_max']/2**20:.0f} | {n} | "
          f"{ok}/{len(fd)}{' (missed: ' + ', '.join(miss) + ')' if miss else ''} |")
print()
print(f"speed ratio (gitleaks wall / keytrail wall): {gl['wall']/kt['wall']:.1f}x")
print(f"peak RSS ratio (gitleaks / keytrail): {gl['rss_max']/kt['rss_max']:.1f}x")
print(f"CPU ratio (gitleaks CPU / keytrail CPU): {gl['cpu']/kt['cpu']:.1f}x")
print(f"MB/s = text bytes of the tree ({base/MB:.1f} MB) / wall time, for both tools")
EOF
