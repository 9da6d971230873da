#!/bin/sh
# `tokstream encode`: JSON-lines deltas -> the hand-written SSE streams of
# test/data/encoder in both dialects, stdin, a live pipe, the round trip through
# `tokstream assemble`, exit statuses 0/1/2 with the line of a malformed input on stderr.
# Environment: TKS_CLI (the tool), TKS_TEST_DATA (test/data).
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/encoder
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
same() { cmp -s "$1" "$2"; r=$?; t $r "$3"; [ $r = 0 ] || { diff "$1" "$2" | head -10 | sed 's/^/#   /'; }; }

if [ ! -x "$cli" ]; then echo "not ok 1 - $cli not built"; echo "1..1"; exit 1; fi

fixed="--id id-1 --model m-1 --created 1700000000"
# enc OUT ARGS...: stdout to OUT, stderr to OUT.err, status in $rc
enc() { out=$1; shift; "$cli" encode "$@" >"$out" 2>"$out.err"; rc=$?; }

# ---- the hand-written streams --------------------------------------------------------
for name in basic kinds error choices refusal escapes; do
    for d in openai-chat anthropic; do
        [ "$name.$d" = choices.anthropic ] && continue
        # shellcheck disable=SC2086
        enc "$tmp/out" --dialect "$d" $fixed "$data/$name.jsonl"
        t $rc "$name -> $d: exit 0"
        same "$data/$name.$d.sse" "$tmp/out" "$name -> $d: the hand-written stream"
        # shellcheck disable=SC2086
        "$cli" encode --dialect "$d" $fixed <"$data/$name.jsonl" >"$tmp/stdin" 2>/dev/null
        same "$data/$name.$d.sse" "$tmp/stdin" "$name -> $d: from stdin"
    done
done

# CRLF input lines and blank lines are accepted
sed 's/$/\r/' "$data/basic.jsonl" | awk '{print} NR==2{print ""}' >"$tmp/crlf.jsonl"
# shellcheck disable=SC2086
enc "$tmp/out" --dialect openai-chat $fixed "$tmp/crlf.jsonl"
same "$data/basic.openai-chat.sse" "$tmp/out" "CRLF line ends and a blank line: same stream"

# --no-usage drops the usage chunk only
# shellcheck disable=SC2086
enc "$tmp/out" --dialect openai-chat $fixed --no-usage "$data/basic.jsonl"
grep -v '"usage"' "$data/basic.openai-chat.sse" | cat -s >"$tmp/want"
same "$tmp/want" "$tmp/out" "--no-usage: the same stream without the usage chunk"

# ---- the round trip through the decoder: tokstream assemble ---------------------------
for d in openai-chat anthropic; do
    # shellcheck disable=SC2086
    "$cli" encode --dialect "$d" $fixed "$data/kinds.jsonl" | "$cli" assemble >"$tmp/asm" 2>"$tmp/asm.err"
    t $? "kinds -> $d -> assemble: exit 0"
    for want in '"complete":true' '"content":"Calling."' '"reasoning":"Let me think."' \
        '"name":"get_weather","arguments":"{\"city\":\"Paris\"}"' '"name":"now","arguments":"{}"' \
        '"finish_reason":"tool_calls"' '"input_tokens":5,"output_tokens":7'; do
        grep -qF "$want" "$tmp/asm"; t $? "kinds -> $d -> assemble: $want"
    done
done

# ---- defaults: a generated id, the clock, the model from START -------------------------
enc "$tmp/a" --dialect openai-chat "$data/basic.jsonl"
enc "$tmp/b" --dialect openai-chat "$data/basic.jsonl"
ida=$(sed -n 's/^data: {"id":"\([^"]*\)".*/\1/p' "$tmp/a" | head -1)
idb=$(sed -n 's/^data: {"id":"\([^"]*\)".*/\1/p' "$tmp/b" | head -1)
echo "$ida" | grep -Eq '^chatcmpl-[0-9A-Za-z]{24}$'; t $? "no --id: a generated chatcmpl- id ($ida)"
[ "$ida" != "$idb" ]; t $? "no --id: two runs, two ids"
now=$(date +%s)
created=$(sed -n 's/.*"created":\([0-9]*\).*/\1/p' "$tmp/a" | head -1)
[ -n "$created" ] && [ $((now - created)) -ge 0 ] && [ $((now - created)) -lt 600 ]
t $? "no --created: the current time ($created)"
enc "$tmp/a" --dialect anthropic "$data/kinds.jsonl"
grep -q '"model":"ignored-model"' "$tmp/a"; t $? "no --model: the model of the start line"

# ---- a live pipe: each delta is written before the next line is read -------------------
if command -v mkfifo >/dev/null 2>&1; then
    mkfifo "$tmp/fifo"
    # shellcheck disable=SC2086
    "$cli" encode --dialect openai-chat $fixed <"$tmp/fifo" >"$tmp/live" 2>/dev/null &
    pid=$!
    exec 3>"$tmp/fifo"
    echo '{"text":"first"}' >&3
    i=0
    while [ $i -lt 400 ] && ! grep -q first "$tmp/live" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    grep -q '"content":"first"' "$tmp/live"; t $? "live pipe: the first chunk is out while the input is open"
    exec 3>&-
    wait $pid
    t $? "live pipe: exit 0 at end of input"
    tail -n 2 "$tmp/live" | head -1 | grep -q '^data: \[DONE\]$'; t $? "live pipe: ends with [DONE]"
fi

# ---- malformed input: exit 1, the line on stderr, the events before it kept -------------
bad() { # bad LABEL LINE-NUMBER INPUT-TEXT [dialect]
    printf '%s\n' "$3" >"$tmp/bad.jsonl"
    # shellcheck disable=SC2086
    enc "$tmp/out" --dialect "${4:-openai-chat}" $fixed "$tmp/bad.jsonl"
    [ $rc = 1 ]; t $? "$1: exit 1"
    grep -q "line $2" "$tmp/out.err"; t $? "$1: stderr names line $2"
    sed 's/^/#   /' "$tmp/out.err"
}
bad "not JSON" 2 '{"text":"a"}
{"text":'
grep -q '"content":"a"' "$tmp/out"; t $? "not JSON: the chunk of line 1 was written"
! grep -q DONE "$tmp/out"; t $? "not JSON: the stream is not ended ([DONE] not written)"
bad "unknown key" 1 '{"txt":"a"}'
bad "two kinds on one line" 1 '{"text":"a","reasoning":"b"}'
bad "not an object" 3 '{"text":"a"}

[1,2]'
bad "text not a string" 1 '{"text":5}'
bad "negative index" 2 '{"tool_call":{"index":0,"id":"c","name":"f"}}
{"tool_args":{"index":-1,"text":"x"}}'
bad "fractional token count" 1 '{"usage":{"output_tokens":1.5}}'
bad "arguments before their call" 1 '{"tool_args":{"index":3,"text":"{}"}}'
grep -q 'TOOL_CALL' "$tmp/out.err"; t $? "arguments before their call: the library says why"
bad "choice 1 in anthropic" 2 '{"text":"a"}
{"choice":1,"text":"b"}' anthropic
bad "text after done" 2 '{"done":true}
{"text":"late"}'
bad "logprobs after done is dropped, content is refused" 3 '{"done":true}
{"logprobs":null}
{"refusal":"x"}'

# ---- usage errors: exit 2 ---------------------------------------------------------------
usage() { "$cli" encode "$@" >"$tmp/u" 2>"$tmp/u.err" </dev/null; [ $? = 2 ]; t $? "usage: encode $*: exit 2"; }
usage
usage --dialect gemini
usage --dialect
usage --dialect openai-chat --bogus
usage --dialect openai-chat --created -5
usage --dialect openai-chat a b
"$cli" encode --dialect openai-chat /nonexistent/file >/dev/null 2>"$tmp/err"
[ $? = 2 ]; t $? "a missing file: exit 2 (as in every command)"
"$cli" encode --dialect openai-chat --help >"$tmp/help"
t $? "--help: exit 0"
grep -q '"tool_args"' "$tmp/help" && grep -q 'Exit status' "$tmp/help"; t $? "--help documents the input lines and exit statuses"

echo "1..$n"
exit $fail
