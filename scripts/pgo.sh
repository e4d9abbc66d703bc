#!/usr/bin/env bash
# Write cmd/keytrail/default.pgo, the CPU profile `go build` optimises
# keytrail with (profile-guided optimisation, on by default since Go 1.21).
#
# The profile comes from inputs that no benchmark measures, so that the
# figures in BENCHMARKS.md are not of a build tuned to them:
#   - a history scan of this repository's own history (its test data is
#     full of fake keys: the engine, the delta path and provenance);
#   - a directory scan of the labelled corpus `make accuracy` reads, when
#     present (CORPUS=DIR, or found as scripts/accuracy.sh finds it): speed
#     only, the findings are the same with or without the profile.
# Not the gitleaks history, the synthetic history or the Go tree, which
# `make bench` times.
#
#   scripts/pgo.sh            # then rebuild: make build
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/corpus.sh
find_corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A build without the current profile, so the new one is of plain code.
CGO_ENABLED=0 go build -pgo=off -trimpath -o "$tmp/keytrail" ./cmd/keytrail
git clone -q --mirror . "$tmp/self.git"
profiles=()
for i in 1 2 3; do
	KEYTRAIL_CPUPROFILE="$tmp/self$i.prof" "$tmp/keytrail" scan git --no-progress -f json -o "$tmp/out.json" "$tmp/self.git" || [ $? -eq 1 ]
	profiles+=("$tmp/self$i.prof")
done
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS/files" ]; then
	KEYTRAIL_CPUPROFILE="$tmp/corpus.prof" "$tmp/keytrail" scan dir --no-progress -f json -o "$tmp/out.json" "$CORPUS/files" || [ $? -eq 1 ]
	profiles+=("$tmp/corpus.prof")
else
	echo "pgo: no corpus found (CORPUS=DIR); profiling the history scan only" >&2
fi
go tool pprof -proto "${profiles[@]}" >cmd/keytrail/default.pgo
echo "wrote cmd/keytrail/default.pgo from ${#profiles[@]} profiles"
