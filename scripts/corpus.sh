# Sourced by scripts/accuracy.sh and scripts/pgo.sh: sets CORPUS, unless
# already set, to the labelled corpus (a folder holding files/ and
# labels.jsonl): ../shared/corpora/creddata-dev next to the repository
# (or next to the main checkout of a worktree), else
# /work/shared/corpora/creddata-dev. Leaves it empty when none is found.
find_corpus() {
	if [ -n "${CORPUS:-}" ]; then
		return
	fi
	local common c
	common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$PWD/.git")
	for c in "../shared/corpora/creddata-dev" "$(dirname "$common")/../shared/corpora/creddata-dev" \
		"/work/shared/corpora/creddata-dev"; do
		if [ -d "$c" ]; then
			CORPUS=$c
			return
		fi
	done
}
