#!/usr/bin/env bash
# Benchmark `keytrail scan git --staged` as a pre-commit hook runs it: a
# small repository (three files, one commit) with one new file staged that
# holds a GitHub token, against gitleaks v8.30.1's `git --staged
# --pre-commit`. make bench runs it (through scripts/bench-git.sh); alone:
#
#   scripts/bench-staged.sh                     # 20 runs of each tool
#   RUNS=50 scripts/bench-staged.sh
#   BASELINE=/tmp/keytrail-old scripts/bench-staged.sh   # A/B two builds
#
# Runs of the tools are interleaved, so a change in the machine's load
# falls on all of them alike. Prints mean and minimum wall time per run,
# CPU time (user+sys, git's included) per run, and the load average
# before and after: wall times on a shared machine need it.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-20}
BENCH=.bench
GITLEAKS=$BENCH/bin/gitleaks
mkdir -p "$BENCH/bin"
if [ ! -x "$GITLEAKS" ]; then
	echo "installing gitleaks v8.30.1 into $BENCH/bin"
	GOBIN=$PWD/$BENCH/bin go install github.com/zricethezav/gitleaks/v8@v8.30.1
fi
KEYTRAIL=${KEYTRAIL:-bin/keytrail}
if [ -z "${NO_BUILD:-}" ]; then make -s build >/dev/null; fi
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
KT=$(abs "$KEYTRAIL")
GL=$(abs "$GITLEAKS")

SMALL=$BENCH/staged-small
rm -rf "$SMALL"
git init -q -b main "$SMALL"
for f in main.go util.go README.md; do cp "$(go env GOROOT)/src/strings/strings.go" "$SMALL/$f"; done
git -C "$SMALL" add . && git -C "$SMALL" -c user.name=b -c user.email=b@example.com commit -qm init
# A format-exact fake token: 30 random base62 characters and their CRC32
# in base62, as GitHub's checksum has it.
token=$(python3 -c '
import random, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
rnd = random.Random(20260401)
body = "".join(rnd.choice(A) for _ in range(30))
c, cs = zlib.crc32(body.encode()), ""
for _ in range(6):
    cs, c = A[c % 62] + cs, c // 62
print("ghp_" + body + cs)')
printf 'STAGED_TOKEN = "%s"\n' "$token" >"$SMALL/bench_staged.py"
git -C "$SMALL" add bench_staged.py

# Rule files changed since `go generate ./rules` are decoded at start-up
# (rules/builtin.go): slower, same findings. Say so next to the figures.
stale=$(go test -count=1 -run '^TestBuiltinGenerated$' -v ./rules 2>/dev/null | grep -c 'stale:' || true)

names=(keytrail gitleaks)
cmds=("$KT scan git --staged --no-progress" "$GL git --staged --pre-commit --no-banner")
if [ -n "${BASELINE:-}" ]; then
	names+=(baseline)
	cmds+=("$(abs "$BASELINE") scan git --staged --no-progress")
fi

cd "$SMALL"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A total min cpu status
for i in "${!names[@]}"; do
	n=${names[$i]}
	total[$n]=0 min[$n]=999999999 cpu[$n]=0
	# Warm up (page cache), and check that the staged key is found.
	if ${cmds[$i]} >/dev/null 2>&1; then status[$n]=missed; else status[$n]=found; fi
done
for _ in $(seq "$RUNS"); do
	for i in "${!names[@]}"; do
		n=${names[$i]}
		t0=$EPOCHREALTIME
		${cmds[$i]} >/dev/null 2>&1 || true
		t1=$EPOCHREALTIME
		us=$(((${t1/./} - ${t0/./})))
		total[$n]=$((total[$n] + us))
		[ "$us" -lt "${min[$n]}" ] && min[$n]=$us
	done
done
# CPU time per run, measured apart (time(1) on each run would add its
# own start-up to the wall times above).
for i in "${!names[@]}"; do
	n=${names[$i]}
	/usr/bin/time -f '%U %S' -o ../staged-cpu.txt bash -c "for _ in \$(seq $RUNS); do ${cmds[$i]} >/dev/null 2>&1; done; true"
	cpu[$n]=$(awk -v r="$RUNS" '{printf "%.1f", ($1 + $2) * 1000 / r}' ../staged-cpu.txt)
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\nstaged (small repository, one new file, %d runs each, interleaved; load %s before, %s after)\n' "$RUNS" "$load_before" "$load_after"
if [ "$stale" -gt 0 ]; then
	printf '  (%d rule files changed since go generate ./rules: their changed rules were decoded at each start; run it for the shipped figure)\n' "$stale"
fi
for n in "${names[@]}"; do
	awk -v n="$n" -v t="${total[$n]}" -v m="${min[$n]}" -v r="$RUNS" -v c="${cpu[$n]}" -v s="${status[$n]}" \
		'BEGIN{printf "  %-10s mean %6.1f ms  min %6.1f ms  cpu %6s ms/run  key %s\n", n, t/r/1000, m/1000, c, s}'
done
