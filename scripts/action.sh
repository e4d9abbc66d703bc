#!/usr/bin/env bash
# Logic of the keytrail GitHub Action (action.yml), kept in a script so it
# can be tested outside GitHub (internal/cli/action_test.go).
#
#   action.sh install   build (go install) or download keytrail; sets output "bin"
#   action.sh scan      scan what the event changed; writes SARIF and outputs
#
# Environment: the usual GITHUB_* variables (GITHUB_EVENT_NAME,
# GITHUB_EVENT_PATH, GITHUB_WORKSPACE, GITHUB_OUTPUT, RUNNER_TEMP,
# GITHUB_ACTION_PATH) and the inputs as INPUT_VERSION, INPUT_ARGS,
# INPUT_SARIF_CATEGORY, INPUT_BASELINE, INPUT_FAIL_ON_FINDINGS,
# INPUT_FAIL_ON_NEW_SUPPRESSIONS, INPUT_SARIF_FILE; GITHUB_STEP_SUMMARY. KEYTRAIL_BIN names the binary for "scan".
#
# What "scan" scans:
#   pull_request(_target)  the PR's commits: merge-base(base.sha, head.sha)..head.sha
#                          from the event payload (not the synthetic merge commit)
#   push                   before..after; the pushed branch's whole history when
#                          "before" is all zeros (new branch)
#   anything else          (schedule, workflow_dispatch, ...) the full history
# A checkout too shallow for that is an error telling how to fix it.
set -uo pipefail

ZERO_SHA=0000000000000000000000000000000000000000

log() { printf '%s\n' "$*" >&2; }
die() {
  # ::error:: makes the message an annotation on the run.
  printf '::error title=keytrail::%s\n' "$*"
  exit 2
}
set_output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

SHALLOW_HELP='the checkout is too shallow to contain the commits to scan. Check out the full history: in the workflow, give actions/checkout "with: fetch-depth: 0".'

# json_get FILTER: read a string from the event payload (jq, else python3).
json_get() {
  local filter=$1
  if command -v jq >/dev/null 2>&1; then
    jq -r "($filter) // empty" "$GITHUB_EVENT_PATH"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$GITHUB_EVENT_PATH" "$filter" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].lstrip('.').split('.'):
    v = v.get(k) if isinstance(v, dict) else None
print('' if v is None else v)
PY
  else
    die "jq or python3 is needed to read the event payload"
  fi
}

is_shallow() {
  [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = "true" ]
}

# need_commit SHA WHAT: the commit must be in the checkout.
need_commit() {
  if ! git cat-file -e "$1^{commit}" 2>/dev/null; then
    if is_shallow; then
      die "$2 commit $1 is not in the checkout: $SHALLOW_HELP"
    fi
    die "$2 commit $1 is not in the checkout (was it fetched? actions/checkout needs \"fetch-depth: 0\")"
  fi
}

cmd_install() {
  local dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/keytrail-bin"
  mkdir -p "$dest" || die "cannot create $dest"
  local version="${INPUT_VERSION:-}"
  if [ -n "$version" ] && [ "$version" != "source" ]; then
    local os arch v url
    os=$(uname -s | tr '[:upper:]' '[:lower:]')
    case "$(uname -m)" in
      x86_64 | amd64) arch=amd64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) die "no keytrail release for $(uname -m); leave 'version' empty to build from source" ;;
    esac
    v=${version#v}
    url="https://github.com/keytrail/keytrail/releases/download/v${v}/keytrail_${v}_${os}_${arch}.tar.gz"
    log "keytrail: downloading $url"
    curl -fsSL --retry 3 "$url" | tar -xz -C "$dest" keytrail ||
      die "downloading keytrail $version failed ($url)"
  else
    local src="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
    command -v go >/dev/null 2>&1 ||
      die "Go is needed to build keytrail from source: add actions/setup-go before this action, or set 'version' to download a release"
    log "keytrail: building from $src"
    # GOTOOLCHAIN=auto fetches the Go version go.mod asks for if the
    # runner's Go is older, without changing the job's Go.
    (cd "$src" && GOTOOLCHAIN=${GOTOOLCHAIN:-auto} GOBIN="$dest" go install ./cmd/keytrail) ||
      die "building keytrail failed"
  fi
  "$dest/keytrail" version >&2 || die "the installed keytrail does not run"
  set_output bin "$dest/keytrail"
}

cmd_scan() {
  local kt="${KEYTRAIL_BIN:-keytrail}"
  command -v "$kt" >/dev/null 2>&1 || die "keytrail binary '$kt' not found"
  local ws="${GITHUB_WORKSPACE:-$PWD}"
  cd "$ws" || die "cannot enter the workspace $ws"
  git rev-parse --git-dir >/dev/null 2>&1 ||
    die "$ws is not a git repository: run actions/checkout (with fetch-depth: 0) before keytrail"
  # Actions checks out as another user than the container may run as.
  git config --global --add safe.directory "$ws" 2>/dev/null || true

  local event="${GITHUB_EVENT_NAME:-}"
  local scope=() desc
  case "$event" in
    pull_request | pull_request_target)
      [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || die "GITHUB_EVENT_PATH is not set or missing"
      local base head mb
      base=$(json_get '.pull_request.base.sha')
      head=$(json_get '.pull_request.head.sha')
      [ -n "$base" ] && [ -n "$head" ] || die "the $event payload has no pull_request.base.sha / head.sha"
      need_commit "$base" "pull request base"
      need_commit "$head" "pull request head"
      # The payload's base.sha is the base tip when the event fired; the
      # merge base is where the PR's own commits start.
      if ! mb=$(git merge-base "$base" "$head" 2>/dev/null); then
        if is_shallow; then die "no merge base of $base and $head: $SHALLOW_HELP"; fi
        die "pull request base $base and head $head have no common ancestor"
      fi
      scope=(--range "$mb..$head")
      desc="pull request commits $mb..$head"
      ;;
    push)
      [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || die "GITHUB_EVENT_PATH is not set or missing"
      local before after
      before=$(json_get '.before')
      after=$(json_get '.after')
      [ -n "$after" ] || die "the push payload has no 'after' commit"
      if [ "$after" = "$ZERO_SHA" ]; then
        log "keytrail: the push deleted a ref; nothing to scan"
        set_output findings 0
        set_output exit-code 0
        return 0
      fi
      need_commit "$after" "pushed"
      if [ -z "$before" ] || [ "$before" = "$ZERO_SHA" ]; then
        is_shallow && die "a new branch's whole history is scanned, but $SHALLOW_HELP"
        scope=(--branch "$after")
        desc="history of $after (new branch)"
      elif git cat-file -e "$before^{commit}" 2>/dev/null; then
        scope=(--range "$before..$after")
        desc="pushed commits $before..$after"
      elif is_shallow; then
        die "commit $before (before the push) is not in the checkout: $SHALLOW_HELP"
      else
        # A force push replaced history that was never fetched.
        log "keytrail: $before (before the push) is not in the checkout (force push?); scanning the history of $after"
        scope=(--branch "$after")
        desc="history of $after"
      fi
      ;;
    *)
      is_shallow && die "a ${event:-manual} run scans the full history, but $SHALLOW_HELP"
      desc="full history (all refs)"
      ;;
  esac

  local commits=""
  case "$desc" in
    "pull request commits "* | "pushed commits "*)
      commits=$(git rev-list --count "${scope[1]}" 2>/dev/null || echo "?")
      ;;
    "history of "*)
      commits=$(git rev-list --count "${scope[1]}" 2>/dev/null || echo "?")
      ;;
    *)
      commits=$(git rev-list --count --all 2>/dev/null || echo "?")
      ;;
  esac
  log "keytrail: scanning $desc ($commits commit(s))"
  set_output range "$desc"
  set_output commits "$commits"

  local sarif="${INPUT_SARIF_FILE:-}"
  [ -n "$sarif" ] || sarif="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/keytrail.sarif"
  mkdir -p "$(dirname "$sarif")" || die "cannot create the directory for $sarif"
  local category="${INPUT_SARIF_CATEGORY:-keytrail}"
  local args=(scan git . "${scope[@]}" --format sarif --output "$sarif" --no-progress)
  [ -n "$category" ] && args+=(--sarif-category "$category")
  # In a range (pull requests, pushes) keytrail reads the config, ignore
  # files and baseline from the range's base commit, so a change cannot
  # silence itself; the baseline counts if either side has it.
  local base_rev=""
  if [ "${scope[0]:-}" = "--range" ]; then
    base_rev=${scope[1]%%..*}
  fi
  local baseline="${INPUT_BASELINE:-}"
  if [ -z "$baseline" ] && { [ -f .keytrail-baseline.json ] ||
    { [ -n "$base_rev" ] && git cat-file -e "$base_rev:.keytrail-baseline.json" 2>/dev/null; }; }; then
    baseline=.keytrail-baseline.json
  fi
  if [ -n "$baseline" ]; then
    [ -f "$baseline" ] || { [ -n "$base_rev" ] && git cat-file -e "$base_rev:$baseline" 2>/dev/null; } ||
      die "baseline $baseline does not exist (create it with: keytrail baseline create --output $baseline git .)"
    args+=(--baseline "$baseline")
    if [ -n "$base_rev" ]; then
      log "keytrail: findings in $baseline as of $base_rev are not reported"
    else
      log "keytrail: findings in $baseline are not reported"
    fi
  fi
  if [ "${INPUT_FAIL_ON_NEW_SUPPRESSIONS:-false}" = "true" ]; then
    args+=(--fail-on-new-suppressions)
  fi
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Word splitting is intended: extra flags as one string.
    # shellcheck disable=SC2206
    local extra=(${INPUT_ARGS})
    args+=("${extra[@]}")
  fi

  "$kt" "${args[@]}"
  local rc=$?
  set_output exit-code "$rc"
  local n=0 suppressions=0
  if [ -f "$sarif" ]; then
    set_output sarif-file "$sarif"
    n=$(grep -c '"ruleId":' "$sarif" || true)
    annotate "$sarif"
    suppressions=$(summarize_suppressions "$sarif")
  fi
  set_output findings "$n"
  set_output new-suppressions "${suppressions:-0}"
  case "$rc" in
    0)
      if [ "${suppressions:-0}" -gt 0 ]; then
        log "keytrail: $suppressions secret(s) in $desc are suppressed only by the change itself (see the warnings and job summary; fail-on-new-suppressions: true fails on them)"
      else
        log "keytrail: no new secrets in $desc"
      fi
      ;;
    1)
      log "keytrail: $n new secret(s) in $desc"
      if [ "${suppressions:-0}" -gt 0 ]; then
        log "keytrail: $suppressions of them only the change's own suppressions would hide (fail-on-new-suppressions)"
      fi
      if [ "${INPUT_FAIL_ON_FINDINGS:-true}" = "true" ]; then
        exit 1
      fi
      ;;
    *)
      die "keytrail could not complete the scan (exit $rc); see the messages above"
      ;;
  esac
}

# annotate prints each SARIF result as a workflow command, so findings show
# on the run (and the PR diff) even where code scanning is not available.
annotate() {
  command -v jq >/dev/null 2>&1 || return 0
  jq -r '
    def hexval: ascii_downcase | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
    # SARIF URIs are percent-encoded; decode ASCII escapes back to the path.
    def urldecode: gsub("%(?<h>[0-7][0-9A-Fa-f])"; [.h | hexval] | implode);
    def prop: gsub("%"; "%25") | gsub("\r"; "%0D") | gsub("\n"; "%0A") | gsub(":"; "%3A") | gsub(","; "%2C");
    def data: gsub("%"; "%25") | gsub("\r"; "%0D") | gsub("\n"; "%0A");
    .runs[].results[] |
    (.locations[0].physicalLocation) as $l |
    ($l.artifactLocation.uri | urldecode) as $path |
    ($l.region.startLine // 1) as $line |
    if .properties.suppressedByChange then
      "::warning \(if $path == "(commit message)" then "" else "file=\($path | prop),line=\($line)," end)title=\("keytrail: secret suppressed by this change (" + .ruleId + ")" | prop)::\(.ruleId + " at " + $path + ":" + ($line | tostring) + " would be hidden by " + .properties.suppressedByChange + ", which this change adds itself; reported anyway. " + .message.text | data)"
    elif $path == "(commit message)" then
      "::error title=\("keytrail " + .ruleId | prop)::\("in the message of commit " + (.properties.commit // "?") + ": " + .message.text | data)"
    else
      "::error file=\($path | prop),line=\($line),title=\("keytrail " + .ruleId | prop)::\(.ruleId + " at " + $path + ":" + ($line | tostring) + ": " + .message.text | data)"
    end' "$1" 2>/dev/null || true
}

# summarize_suppressions lists the findings only the change's own
# suppressions would hide in the job summary ($GITHUB_STEP_SUMMARY) and
# prints how many there are. Cells are markdown-escaped: paths and rule
# descriptions come from the change.
summarize_suppressions() {
  command -v jq >/dev/null 2>&1 || {
    echo 0
    return 0
  }
  local n
  n=$(jq '[.runs[].results[] | select(.properties.suppressedByChange)] | length' "$1" 2>/dev/null || echo 0)
  if [ "${n:-0}" -gt 0 ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      printf '### keytrail: %s secret(s) suppressed by this change itself\n\n' "$n"
      printf 'These would be hidden by suppressions the change adds (baseline or ignore entries, allowlist rules, inline allow comments). Suppressions are only trusted from the base commit; review them before merging.\n\n'
      printf '| Rule | Location | Suppressed by |\n|---|---|---|\n'
      jq -r '
        def hexval: ascii_downcase | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
        def urldecode: gsub("%(?<h>[0-7][0-9A-Fa-f])"; [.h | hexval] | implode);
        def md: gsub("[\u0000-\u001f\u007f]"; " ") | gsub("(?<c>[\\\\`*_{}\\[\\]<>()#+!|~-])"; "\\\(.c)");
        .runs[].results[] | select(.properties.suppressedByChange) |
        (.locations[0].physicalLocation) as $l |
        "| \(.ruleId | md) | \(($l.artifactLocation.uri | urldecode) + ":" + (($l.region.startLine // 1) | tostring) | md) | \(.properties.suppressedByChange | md) |"' "$1"
      printf '\n'
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  echo "${n:-0}"
}

case "${1:-}" in
  install) cmd_install ;;
  scan) cmd_scan ;;
  *)
    log "usage: $0 install|scan"
    exit 2
    ;;
esac
