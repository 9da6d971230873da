#!/bin/sh
# The official SDKs read what `tokstream encode` writes: openai's ChatCompletionStream and
# @anthropic-ai/sdk's MessageStream (pinned in test/node-encoder/package-lock.json,
# installed here with npm ci into test/node-encoder/node_modules) assemble the hand-made
# and random delta streams into the message the deltas describe. Network-free at run
# time (an in-memory Response); npm ci needs the registry or a warm npm cache.
# Node and npm are required (tools/install-deps check installs them): missing is a failure.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/encoder
dir=$top/test/node-encoder

fail1() { echo "not ok 1 - $1"; shift; for l in "$@"; do echo "#   $l"; done; echo "1..1"; exit 1; }

command -v node >/dev/null 2>&1 || fail1 "node is not installed (tools/install-deps check installs nodejs)"
command -v npm >/dev/null 2>&1 || fail1 "npm is not installed (tools/install-deps check installs npm)"
[ -x "$cli" ] || fail1 "$cli is not built (make build/asan/tokstream)"

log=$(mktemp); trap 'rm -f "$log"' EXIT
if ! (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline) >"$log" 2>&1; then
    reason=$(grep -E 'npm (ERR|error)' "$log" | head -5 | tr '\n' ' ')
    fail1 "npm ci could not install the pinned SDKs into test/node-encoder/node_modules: ${reason:-see below}" \
        "$(tail -n 5 "$log" | tr '\n' ' ')"
fi
exec node "$dir/sdk-check.mjs" "$cli" "$data" --streams "${TKS_NODE_STREAMS:-60}"
