#!/bin/sh
# The official SDKs against tokstream on the same bytes: for every OpenAI and Anthropic
# SSE stream (../shared/fixtures and test/data/client), `openai` and `@anthropic-ai/sdk`
# (pinned in test/node/package.json + package-lock.json) accumulate the message through
# their public streaming helpers over an in-memory Response, and the result must equal
# `tokstream assemble`. Also tks_partial_json against the npm partial-json parser on
# every prefix of test/node/docs.jsonl. Installs the packages with `npm ci` into
# test/node/node_modules (gitignored) when missing. TAP.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}
shared=${TKS_SHARED:-$top/../shared}
node_dir=$top/test/node
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "1..0 # SKIP node and npm are not installed (tools/install-deps check installs them)"; exit 0
fi
if [ ! -d "$node_dir/node_modules/openai" ] || [ ! -d "$node_dir/node_modules/partial-json" ] ||
   [ ! -d "$node_dir/node_modules/@anthropic-ai/sdk" ]; then
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1) || {
        echo "1..0 # SKIP npm ci failed (no registry and no cache?): $(tail -1 "$tmp/npm.log")"; exit 0; }
fi
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

compare() { # FILE KIND
    "$cli" assemble "$1" >"$tmp/ours.json" 2>/dev/null
    res=$(node "$node_dir/sdk-compare.mjs" "$1" "$2" "$tmp/ours.json" 2>&1)
    [ "$res" = ok ]; t $? "$2 SDK and tokstream agree on $(basename "$(dirname "$1")")/$(basename "$1")"
    [ "$res" = ok ] || echo "$res" | sed 's/^/# /'
}
for f in "$data"/client/openai-*.sse; do compare "$f" openai; done
compare "$data/client/anthropic-tool.sse" anthropic
if [ -d "$shared/fixtures" ]; then
    for f in "$shared"/fixtures/openai-chat/*.sse "$shared"/fixtures/deepseek/*.sse; do compare "$f" openai; done
    for f in "$shared"/fixtures/anthropic/*.sse; do compare "$f" anthropic; done
fi

# partial JSON: every prefix of each document, against partial-json
cc=${CC:-cc}
lib=${TKS_BUILD:-$top/build}/asan/libtokstream.a
if $cc -std=c11 -fsanitize=address,undefined -I"$top/include" "$node_dir/pj_close.c" "$lib" \
       $(pkg-config --libs libutf8proc libcjson) -lm -o "$tmp/pj_close" 2>"$tmp/cc.log"; then
    "$tmp/pj_close" <"$node_dir/docs.jsonl" >"$tmp/pairs"
    out=$(node "$node_dir/partial-json-compare.mjs" "$tmp/pairs"); rc=$?
    t $rc "tks_partial_json equals partial-json (STR|ARR|OBJ) on every prefix: $(echo "$out" | tail -1)"
    [ $rc = 0 ] || echo "$out" | sed 's/^/# /'
else
    t 1 "build the partial JSON helper"; sed 's/^/# /' "$tmp/cc.log"
fi
echo "1..$n"
exit $fail
