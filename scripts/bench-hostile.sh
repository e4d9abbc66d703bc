#!/usr/bin/env bash
# Hostile inputs at full size: wall time, peak RSS and the result of
# `keytrail scan` on each (the tests in internal/cli/hostile_tree_test.go
# run smaller versions in make test). Figures go in BENCHMARKS.md.
#
#   scripts/bench-hostile.sh              # all cases
#   BLOB_MB=50 FILES=20000 scripts/bench-hostile.sh
#
# Cases: a BLOB_MB (default 500) blob of "password" repeated, committed to
# git and scanned with the default --max-file-size and with no limit; the
# same as a plain file; a directory tree DEPTH (5000) levels deep; FILES
# (200,000) empty files.
set -uo pipefail
cd "$(dirname "$0")/.."

BLOB_MB=${BLOB_MB:-500}
DEPTH=${DEPTH:-5000}
FILES=${FILES:-200000}
KEYTRAIL=${KEYTRAIL:-bin/keytrail}
if [ -z "${NO_BUILD:-}" ]; then make -s build >/dev/null || exit 2; fi
W=$(mktemp -d "${TMPDIR:-/tmp}/keytrail-hostile.XXXXXX")
trap 'rm -rf "$W"' EXIT

measure() { # name, then the keytrail arguments
  local name=$1
  shift
  local t0 t1 rc
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$W/rss" "$KEYTRAIL" "$@" --no-progress >"$W/out" 2>"$W/err"
  rc=$?
  t1=$(date +%s.%N)
  printf '%-44s exit %d  %7.1f s  peak RSS %6d MiB  %s\n' "$name" "$rc" "$(echo "$t1 - $t0" | bc)" \
    "$(($(tail -1 "$W/rss") / 1024))" "$(tail -1 "$W/out" | cut -c1-90)"
}

# One keyword repeated: a blob in git and a plain file, made by streaming.
mkdir -p "$W/repo" "$W/file"
git -C "$W/repo" init -q -b main
blob=$(yes password | tr -d '\n' | head -c "${BLOB_MB}M" | git -C "$W/repo" hash-object -w --stdin)
git -C "$W/repo" update-index --add --cacheinfo "100644,$blob,big.txt"
git -C "$W/repo" -c user.name=b -c user.email=b@b.invalid commit -q -m big
yes password | tr -d '\n' | head -c "${BLOB_MB}M" >"$W/file/big.txt"
measure "git: ${BLOB_MB} MB keyword blob (default limit)" scan git "$W/repo"
measure "git: ${BLOB_MB} MB keyword blob (--max-file-size 0)" scan git --max-file-size 0 "$W/repo"
measure "dir: ${BLOB_MB} MB keyword file (--max-file-size 0)" scan dir --max-file-size 0 "$W/file"
rm -rf "$W/repo" "$W/file"

# A tree DEPTH levels deep, built with directory descriptors: the full
# path is longer than PATH_MAX (and bash's cd slows down past it).
mkdir -p "$W/deep"
python3 - "$W/deep" "$DEPTH" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    os.mkdir("d", dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = nfd
f = os.open("deep.env", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
os.write(f, b"T=placeholder\n")
PY
measure "dir: tree $DEPTH levels deep" scan dir "$W/deep"
rm -rf "$W/deep"

# FILES empty files in 100 directories.
mkdir -p "$W/many"
python3 - "$W/many" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, str(i % 100))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, str(i)), "w").close()
PY
measure "dir: $FILES empty files" scan dir "$W/many"
