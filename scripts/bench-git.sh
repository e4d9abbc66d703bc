#!/usr/bin/env bash
# Benchmark `keytrail scan git` against gitleaks v8.30.1 on a large,
# reproducible history built without network from $(go env GOROOT)/src,
# and on gitleaks' own history from $BUNDLE (a git bundle; see
# BENCHMARKS.md), with `git log -p -U0 --all` timed on each for scale.
#
#   scripts/bench-git.sh            # COMMITS=20000 by default
#   COMMITS=5000 scripts/bench-git.sh
#   SYNTHETIC=0 scripts/bench-git.sh   # real history and --staged only
#   FULL_BLOBS=1 scripts/bench-git.sh   # also --full-blobs, and check both reports agree (make bench)
#   REAL_RUNS=21 scripts/bench-git.sh   # the real history 21 times (default 11), medians
#   STAGED_ONLY=1 scripts/bench-git.sh   # only --staged (scripts/bench-staged.sh)
#
# The repository is cached under .bench/ (gitignored) keyed by its size and
# generator version; delete it to rebuild. Prints wall time and peak RSS of
# both tools, the ratio, and whether each found every planted key.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${STAGED_ONLY:-}" ]; then exec ./scripts/bench-staged.sh; fi

COMMITS=${COMMITS:-20000}
GEN=3
BENCH=.bench
REPO=$BENCH/history-$COMMITS-v$GEN
GITLEAKS=$BENCH/bin/gitleaks
mkdir -p "$BENCH/bin"

if [ ! -x "$GITLEAKS" ]; then
	echo "installing gitleaks v8.30.1 into $BENCH/bin"
	GOBIN=$PWD/$BENCH/bin go install github.com/zricethezav/gitleaks/v8@v8.30.1
fi
KEYTRAIL=${KEYTRAIL:-bin/keytrail}
if [ -z "${NO_BUILD:-}" ]; then make -s build >/dev/null; fi

if [ ! -d "$REPO/.git" ]; then
	echo "building $REPO ($COMMITS commits from $(go env GOROOT)/src)..."
	rm -rf "$REPO.tmp"
	git init -q -b main "$REPO.tmp"
	python3 - "$(go env GOROOT)/src" "$COMMITS" "$REPO.tmp/planted.txt" <<'PY' | git -C "$REPO.tmp" fast-import --quiet
import os, random, sys, zlib

src, n, planted_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20260401)
ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

def token():
    body = "".join(rnd.choice(ALPHA) for _ in range(30))
    c = zlib.crc32(body.encode())
    cs = ""
    for _ in range(6):
        cs = ALPHA[c % 62] + cs
        c //= 62
    return "ghp_" + body + cs

pool = []
for root, dirs, files in os.walk(src):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(root, f)
        try:
            if os.path.getsize(p) > 256 << 10:
                continue
            with open(p, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if b"\0" in data[:8000]:
            continue
        # Keep the benchmark about planted keys: drop any token-shaped
        # text the Go tree may carry.
        if b"ghp_" in data or b"AKIA" in data:
            continue
        pool.append((os.path.relpath(p, src), data))
rnd.shuffle(pool)
out = sys.stdout.buffer
planted = []
mark = [0]
ts = [1700000000]

def w(s):
    out.write(s if isinstance(s, bytes) else s.encode())

def commit(ref, msg, parent, merges, changes, dels):
    mark[0] += 1
    ts[0] += rnd.randint(30, 3000)
    who = rnd.choice(["Ada <ada@example.com>", "Bob <bob@example.com>", "Cy <cy@example.com>"])
    w(f"commit {ref}\nmark :{mark[0]}\nauthor {who} {ts[0]} +0000\ncommitter {who} {ts[0]} +0000\n")
    m = msg.encode()
    w(f"data {len(m)}\n"); w(m); w("\n")
    if parent:
        w(f"from :{parent}\n")
    for mm in merges:
        w(f"merge :{mm}\n")
    for p in dels:
        w(f"D {p}\n")
    for p, data in changes:
        w(f"M 100644 inline {p}\ndata {len(data)}\n"); w(data); w("\n")
    return mark[0]

def edit(data):
    lines = data.split(b"\n")
    donor = rnd.choice(pool)[1].split(b"\n")
    i = rnd.randrange(len(lines))
    k = rnd.randint(0, 6)
    j = rnd.randrange(len(donor))
    new = donor[j:j + rnd.randint(1, 8)]
    return b"\n".join(lines[:i] + new + lines[i + k:])

state = {}   # path -> content on main
next_file = 0
head = None
live = []    # (path, token, kill_at) planted keys still to delete
for i in range(n):
    changes, dels = {}, []
    # Grow the tree early, then mostly edit.
    adds = 40 if i < 100 else rnd.choice([0, 0, 0, 1, 1, 2])
    for _ in range(adds):
        if next_file < len(pool):
            p, d = pool[next_file]; next_file += 1
            changes[p] = d
    for _ in range(rnd.randint(1, 4)):
        if state:
            p = rnd.choice(list(state))
            changes[p] = edit(changes.get(p, state[p]))
    if state and rnd.random() < 0.02:
        p = rnd.choice(list(state))
        if p not in changes:
            dels.append(p)
    msg = f"change {i}"
    if i % 400 == 200:
        # Plant a key: a new config file or a line in an existing file.
        t = token()
        if rnd.random() < 0.5:
            p = f"deploy/env-{i}.conf"
            changes[p] = f"# deploy settings\nGITHUB_TOKEN={t}\nREGION=eu-west-1\n".encode()
        else:
            p = rnd.choice(list(state))
            d = changes.get(p, state[p])
            changes[p] = d + f"\n// ci token: {t}\n".encode()
        planted.append(t)
        # Most are deleted a few commits later; one in three stays.
        if rnd.random() < 0.67:
            live.append((p, t, i + rnd.randint(1, 50)))
        msg = f"configure deploy {i}"
    for (p, t, k) in list(live):
        if k == i and p not in dels:
            d = changes.get(p, state.get(p))
            if d is not None:
                changes[p] = d.replace(f"GITHUB_TOKEN={t}\n".encode(), b"").replace(f"\n// ci token: {t}\n".encode(), b"")
            live.remove((p, t, k))
    if i % 1000 == 500 and head:
        # A feature branch with a few commits, merged back.
        bstate = dict(state)
        bh = head
        bchanged = {}
        for j in range(rnd.randint(3, 12)):
            bc = {}
            p = rnd.choice(list(bstate))
            bc[p] = edit(bstate[p])
            if j == 1 and (i // 1000) % 2 == 0:
                t = token()
                q = f"feature/{i}/settings.py"
                bc[q] = f"API = 'https://api.github.com'\nTOKEN = '{t}'\n".encode()
                planted.append(t)
            bstate.update(bc); bchanged.update(bc)
            bh = commit(f"refs/heads/feature-{i}", f"feature {i} step {j}", bh, [], list(bc.items()), [])
        for p in list(changes):
            bchanged.pop(p, None)
        changes.update(bchanged)
        head = commit("refs/heads/main", f"Merge feature-{i}", head, [bh], list(changes.items()), dels)
    else:
        head = commit("refs/heads/main", msg, head, [], list(changes.items()), dels)
    for p in dels:
        state.pop(p, None)
    state.update(changes)
    if i % 5000 == 4999:
        w(f"reset refs/tags/v{i // 5000 + 1}.0\nfrom :{head}\n\n")
with open(planted_path, "w") as fh:
    fh.write("\n".join(planted) + "\n")
PY
	mv "$REPO.tmp/planted.txt" "$BENCH/planted-$COMMITS-v$GEN.txt"
	git -C "$REPO.tmp" gc -q --aggressive --depth=50 2>/dev/null || git -C "$REPO.tmp" repack -adq
	git -C "$REPO.tmp" checkout -q -f main 2>/dev/null
	mv "$REPO.tmp" "$REPO"
fi
PLANTED=$BENCH/planted-$COMMITS-v$GEN.txt
nplanted=$(grep -c . "$PLANTED")
echo "repository: $REPO: $(git -C "$REPO" rev-list --all | wc -l) commits, $(git -C "$REPO" count-objects -vH | awk '/size-pack/{print $2 $3}') packed, $nplanted planted keys"

# found FILE: how many planted keys appear in a report.
found() { local n=0; while read -r t; do grep -qF "$t" "$1" && n=$((n + 1)); done <"$PLANTED"; echo "$n"; }
# timed NAME CMD...: wall seconds, CPU seconds (user+sys, children
# included) and peak RSS (MB) into $NAME_s / $NAME_cpu / $NAME_mb. CPU time
# is steadier than wall time on a loaded machine.
timed() {
	local name=$1; shift
	/usr/bin/time -v -o "$BENCH/git-$name.time" "$@" >/dev/null 2>"$BENCH/git-$name.stderr" || true
	eval "${name}_s=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$BENCH/git-$name.time")"
	eval "${name}_cpu=$(awk -F': ' '/User time|System time/{s+=$2} END{printf "%.2f", s}' "$BENCH/git-$name.time")"
	eval "${name}_mb=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$BENCH/git-$name.time")"
}

# median NAME: of the runs kept in $NAME_all ("wall cpu mb" per line),
# the one with the median wall time into $NAME_s / $NAME_cpu / $NAME_mb.
median() {
	local name=$1 v
	v=$(eval "printf '%s' \"\$${name}_all\"" | sort -n -k1,1 | awk '{w[NR]=$1; c[NR]=$2; m[NR]=$3} END{i=int((NR+1)/2); print w[i], c[i], m[i]}')
	read -r "${name}_s" "${name}_cpu" "${name}_mb" <<<"$v"
}

# compare LABEL REPO [RUNS]: keytrail (and, with FULL_BLOBS=1, its
# --full-blobs path), gitleaks and `git log -p -U0 --all` on one
# repository, RUNS times interleaved (default 1); each tool's run with the
# median wall time is reported.
compare() {
	local label=$1 repo=$2 runs=${3:-1} i
	# Warm the page cache so no tool pays for the first read.
	git -C "$repo" cat-file --batch-all-objects --batch-check >/dev/null
	kt_all='' gl_all='' lp_all=''
	for i in $(seq "$runs"); do
		timed kt "$KEYTRAIL" scan git --no-progress --show-secrets -f json -o "$BENCH/git-kt.json" "$repo"
		kt_all+="$kt_s $kt_cpu $kt_mb"$'\n'
		timed gl "$GITLEAKS" git --no-banner --report-format json --report-path "$BENCH/git-gl.json" "$repo"
		gl_all+="$gl_s $gl_cpu $gl_mb"$'\n'
		timed lp git -C "$repo" log -p -U0 --all
		lp_all+="$lp_s $lp_cpu $lp_mb"$'\n'
	done
	median kt
	median gl
	median lp
	printf '\n%s\n' "$label"
	printf '  %-22s %7ss wall %7ss cpu %6s MB  %s\n' keytrail "$kt_s" "$kt_cpu" "$kt_mb" "$(planted kt)"
	if [ -n "${FULL_BLOBS:-}" ]; then
		timed kf "$KEYTRAIL" scan git --full-blobs --no-progress --show-secrets -f json -o "$BENCH/git-kf.json" "$repo"
		printf '  %-22s %7ss wall %7ss cpu %6s MB  %s\n' "keytrail --full-blobs" "$kf_s" "$kf_cpu" "$kf_mb" "$(planted kf)"
		# Reading only what each version adds must not change a finding
		# or its provenance.
		if [ "$(provenance "$BENCH/git-kt.json")" = "$(provenance "$BENCH/git-kf.json")" ]; then
			echo "  delta and --full-blobs reports: identical ($(jq length "$BENCH/git-kt.json") findings, rule, secret, commit, path, line, column and provenance)"
		else
			echo "  delta and --full-blobs reports DIFFER:"
			diff <(provenance "$BENCH/git-kf.json") <(provenance "$BENCH/git-kt.json") | head -20
		fi
	fi
	printf '  %-22s %7ss wall %7ss cpu %6s MB  %s\n' gitleaks "$gl_s" "$gl_cpu" "$gl_mb" "$(planted gl)"
	printf '  %-22s %7ss wall %7ss cpu %6s MB\n' "git log -p -U0 --all" "$lp_s" "$lp_cpu" "$lp_mb"
	awk -v a="$kt_s" -v b="$gl_s" -v c="$kt_cpu" -v d="$gl_cpu" 'BEGIN{ if (a > 0 && c > 0) printf "  keytrail is %.1fx faster than gitleaks (wall), %.1fx (cpu)\n", b/a, d/c }'
	if [ "$runs" -gt 1 ]; then
		printf '  (%s runs each, interleaved; the run with the median wall time is shown)\n' "$runs"
		# Each gitleaks run over the keytrail run just before it: on a
		# shared 2-core VM both move with the host's load, keytrail's
		# sub-second runs the most, and a pair shares the moment.
		printf '  per pair, gitleaks over keytrail: wall %s, cpu %s\n' "$(pair_ratios 1)" "$(pair_ratios 2)"
		printf '  keytrail wall: %s; gitleaks wall: %s\n' "$(printf '%s' "$kt_all" | awk '{printf "%s%ss", (NR>1?", ":""), $1}')" "$(printf '%s' "$gl_all" | awk '{printf "%s%ss", (NR>1?", ":""), $1}')"
	fi
}
# pair_ratios FIELD: gitleaks' over keytrail's value of FIELD (1 wall, 2
# cpu) for each interleaved run, as "median Mx (min-max)".
pair_ratios() {
	paste -d' ' <(printf '%s' "$kt_all") <(printf '%s' "$gl_all") |
		awk -v f="$1" '$f > 0 {print $(f+3) / $f}' | sort -n |
		awk '{r[NR]=$1} END{if (NR) printf "median %.1fx (%.1f-%.1fx)", r[int((NR+1)/2)], r[1], r[NR]}'
}
# provenance FILE: each finding's rule, fingerprint, commit, path, line,
# column and provenance, sorted.
provenance() {
	jq -r '.[] | [.rule_id, .fingerprint, .commit, .file, .line, .column, .other_locations, .commits_containing, .present_at_head] | @tsv' "$1" | sort
}
planted() {
	if [ -n "${PLANTED:-}" ]; then echo "found $(found "$BENCH/git-$1.json")/$nplanted planted keys"; fi
}

if [ "${SYNTHETIC:-1}" != 0 ]; then
	compare "synthetic history ($COMMITS commits)" "$REPO"
fi

# A real history: gitleaks' own, from the bundle kept outside the repo.
BUNDLE=${BUNDLE:-/work/shared/bench/gitleaks-history.bundle}
REAL=$BENCH/gitleaks-history.git
if [ ! -d "$REAL" ] && [ -f "$BUNDLE" ]; then
	git clone -q --mirror "$BUNDLE" "$REAL"
fi
if [ -d "$REAL" ]; then
	PLANTED='' compare "real history: gitleaks' own ($(git -C "$REAL" rev-list --all | wc -l) commits)" "$REAL" "${REAL_RUNS:-11}"
else
	printf '\nreal history skipped: no bundle at %s (set BUNDLE=)\n' "$BUNDLE"
fi

# Staged scan, as a pre-commit hook runs it (scripts/bench-staged.sh).
KEYTRAIL=$KEYTRAIL NO_BUILD=1 ./scripts/bench-staged.sh
