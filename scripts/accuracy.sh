#!/usr/bin/env bash
# Detection accuracy on real code: scans a CredData-style corpus (labelled
# spans in public repositories; see BENCHMARKS.md) and prints precision,
# recall and F1 overall and per category, using the corpus's own scorer.
#
# Usage: scripts/accuracy.sh          (or: make accuracy [CORPUS=DIR])
# Env:   CORPUS=DIR   the corpus: DIR/files, DIR/labels.jsonl, and the scorer
#                     at DIR/../../tools/score_creddata.py (or SCORER=FILE).
#                     Default: ../shared/corpora/creddata-dev next to the
#                     repository (or the main checkout of a worktree), else
#                     /work/shared/corpora/creddata-dev.
#        KEYTRAIL_ARGS extra scan flags.
#        HALVES=1     also score the two halves of the repositories (by
#                     sha1 of the repository name) apart, to check that a
#                     change made while looking at one half holds on the other.
#
# The corpus stays where it is: nothing is copied into the repository.
# Without a corpus it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/corpus.sh
find_corpus
if [ -z "${CORPUS:-}" ] || ! [ -f "$CORPUS/labels.jsonl" ] || ! [ -d "$CORPUS/files" ]; then
	echo "accuracy: no corpus found (${CORPUS:-looked in ../shared/corpora/creddata-dev and /work/shared/corpora/creddata-dev});" >&2
	echo "accuracy: set CORPUS=DIR to a folder holding files/ and labels.jsonl. Nothing measured." >&2
	exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)
SCORER=${SCORER:-$CORPUS/../../tools/score_creddata.py}
if ! [ -f "$SCORER" ]; then
	echo "accuracy: scorer not found at $SCORER; set SCORER=FILE. Nothing measured." >&2
	exit 0
fi

out=.bench/accuracy
mkdir -p "$out"
make -s build >/dev/null
echo "==> scanning $CORPUS/files" >&2
rc=0
./bin/keytrail scan dir "$CORPUS/files" --no-ignore --no-progress --format json --show-secrets \
	--min-confidence low -o "$out/findings.json" ${KEYTRAIL_ARGS:-} || rc=$?
if [ "$rc" -gt 1 ]; then
	echo "accuracy: keytrail exited $rc" >&2
	exit "$rc"
fi
default=$(./bin/keytrail scan dir --help 2>&1 | sed -n 's/.*--min-confidence.*(default "\([a-z]*\)").*/\1/p')
python3 scripts/accuracy.py --labels "$CORPUS/labels.jsonl" --scorer "$SCORER" \
	--default "${default:-low}" ${HALVES:+--halves} "$out/findings.json"
echo
echo "findings: $out/findings.json (secrets in full: keep it local)" >&2
