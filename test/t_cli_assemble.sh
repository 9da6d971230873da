#!/bin/sh
# tokstream assemble / text: the JSON contract on the project's own streams (compared with
# the hand-written expected messages), --chunk independence, exit statuses and stderr
# for truncated and malformed input, text and --json output. TAP.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/client
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
same_json() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' "$1" "$2"; }

for f in "$data"/*.sse "$data"/*.ndjson "$data"/*.json "$data"/*.bin; do
    case $f in *.expected.json) continue;; esac
    base=${f%.*}; name=$(basename "$f")
    "$cli" assemble "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
    t $rc "assemble $name exits 0"
    same_json "$tmp/out" "$base.expected.json"; t $? "assemble $name: the expected message"
    [ "$(wc -l <"$tmp/out")" -eq 1 ]; t $? "assemble $name: one line"
    for c in 1 7 4096; do
        "$cli" assemble --chunk $c "$f" >"$tmp/c$c" 2>/dev/null
        cmp -s "$tmp/out" "$tmp/c$c"; t $? "assemble --chunk $c $name: same output"
    done
    "$cli" assemble - <"$f" >"$tmp/stdin" 2>/dev/null
    cmp -s "$tmp/out" "$tmp/stdin"; t $? "assemble $name from stdin"
done

f=$data/openai-chat.sse
size=$(wc -c <"$f")
head -c $((size - 30)) "$f" >"$tmp/cut.sse"
"$cli" assemble "$tmp/cut.sse" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ]; t $? "truncated stream: exit 1"
grep -q '"complete":false' "$tmp/out"; t $? "truncated stream: stdout holds the message, complete:false"
grep -q 'Streaming keeps' "$tmp/out"; t $? "truncated stream: the content received is there"
grep -q 'byte' "$tmp/err"; t $? "truncated stream: stderr gives the byte position"

printf '{"model":"m","message":{"content":"ok"},"done":false}\n{"model": nope}\n' >"$tmp/bad.ndjson"
"$cli" assemble "$tmp/bad.ndjson" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ]; t $? "malformed stream: exit 1"
grep -q '"content":"ok"' "$tmp/out"; t $? "malformed stream: what came before is printed"
grep -q 'byte' "$tmp/err"; t $? "malformed stream: stderr gives the byte position"

# an in-band error: the message (with its error) on stdout, exit 1, the provider's words on stderr
printf 'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\ndata: {"error":{"message":"Rate limit reached","type":"rate_limit","code":"429"}}\n\ndata: [DONE]\n\n' >"$tmp/inband.sse"
for cmd in assemble text; do
    "$cli" $cmd "$tmp/inband.sse" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -eq 1 ]; t $? "$cmd, in-band error: exit 1"
    grep -q 'Rate limit reached' "$tmp/err" && grep -q '429' "$tmp/err"; t $? "$cmd, in-band error: stderr gives the provider's message and code"
    grep -q 'ok' "$tmp/out"; t $? "$cmd, in-band error: the content before it is printed"
done
"$cli" assemble "$tmp/inband.sse" 2>/dev/null | grep -q '"error":{"message":"Rate limit reached"'; t $? "assemble, in-band error: the message holds it"

"$cli" assemble --dialect nonsense "$f" >/dev/null 2>&1; [ $? -eq 2 ]; t $? "unknown dialect: exit 2"
"$cli" assemble --bogus "$f" >/dev/null 2>&1; [ $? -eq 2 ]; t $? "unknown option: exit 2"
"$cli" assemble "$f" --chunk >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] && grep -q 'needs a number' "$tmp/err"; t $? "--chunk without a value: exit 2, says so"
"$cli" text "$f" --dialect >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] && grep -q 'needs a name' "$tmp/err"; t $? "text --dialect without a value: exit 2, says so"
"$cli" assemble --dialect anthropic "$f" >"$tmp/out" 2>/dev/null; [ $? -eq 1 ]; t $? "wrong dialect forced: not complete, exit 1"
"$cli" assemble --dialect openai-chat "$f" >"$tmp/out" 2>/dev/null; t $? "--dialect openai-chat: exit 0"
"$cli" assemble /nonexistent/file >/dev/null 2>&1; [ $? -eq 2 ]; t $? "missing file: exit 2 (as in every command)"
"$cli" text /nonexistent/file >/dev/null 2>&1; [ $? -eq 2 ]; t $? "text, missing file: exit 2"

# text: the content exactly, at any chunking
"$cli" text "$f" >"$tmp/text"; t $? "text exits 0"
printf 'Streaming keeps users engaged: the first words appear in milliseconds \342\200\224 caf\303\251 \360\237\230\200.' >"$tmp/want"
cmp -s "$tmp/text" "$tmp/want"; t $? "text writes the content"
"$cli" text --chunk 3 "$f" >"$tmp/text3"; cmp -s "$tmp/text3" "$tmp/want"; t $? "text --chunk 3: same text"
"$cli" text --json "$f" >"$tmp/json"; t $? "text --json exits 0"
python3 -c '
import json,sys
kinds=[json.loads(l)["kind"] for l in open(sys.argv[1])]
sys.exit(0 if kinds[0]=="start" and kinds[-1]=="done" and kinds.count("text")==15 and "usage" in kinds and "finish" in kinds else 1)' "$tmp/json"
t $? "text --json: one JSON line per delta with its kind"
"$cli" text "$tmp/cut.sse" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ]; t $? "text on a truncated stream: exit 1"
echo "1..$n"
exit $fail
