#!/bin/sh
# `tokstream events`: the output contract of DESIGN.md (one JSON object per line), each
# framing option, --comments, retry lines, ids, identical output whatever --chunk is,
# exit statuses 0/1/2 and the byte position of a fault on stderr.
# Environment: TKS_CLI (the tool), TKS_TEST_DATA (test/data), TKS_SHARED (fixtures; the
# fixture checks are skipped without it).
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/framing
shared=${TKS_SHARED:-$top/../shared}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
# same FILE1 FILE2 LABEL: byte-identical files
same() { cmp -s "$1" "$2"; r=$?; t $r "$3"; [ $r = 0 ] || { diff "$1" "$2" | head -10 | sed 's/^/#   /'; }; }

if [ ! -x "$cli" ]; then echo "1..0 # SKIP $cli not built"; exit 0; fi

# run OUT ARGS...: runs the tool, stdout to OUT, stderr to OUT.err, status to OUT.rc
run() { out=$1; shift; "$cli" events "$@" >"$out" 2>"$out.err"; echo $? >"$out.rc"; }

# chunks LABEL ARGS... FILE: default, --chunk 1, 7 and 4096, and stdin, give the same
# stdout, stderr and status. Leaves the default run in $tmp/base.
chunks() {
    label=$1; shift
    run "$tmp/base" "$@"
    for c in 1 7 4096; do
        run "$tmp/c$c" --chunk "$c" "$@"
        cat "$tmp/c$c.rc" "$tmp/c$c.err" "$tmp/c$c" >"$tmp/all$c"
        cat "$tmp/base.rc" "$tmp/base.err" "$tmp/base" >"$tmp/all0"
        same "$tmp/all0" "$tmp/all$c" "$label: --chunk $c gives the same output, message and status"
    done
}

# ---- SSE (the default framing) -------------------------------------------------------
cat >"$tmp/want" <<'EOF'
{"retry":2500}
{"event":"greet","data":"hello\nworld","id":"1"}
{"event":"message","data":"{\"x\":1}","id":"1"}
{"event":"message","data":" two spaces","id":"2"}
EOF
chunks "small.sse" "$data/small.sse"
same "$tmp/want" "$tmp/base" "small.sse: events with type, joined data lines, last id, valid retry only"
t "$(cat "$tmp/base.rc")" "small.sse: exit 0"
{ echo '{"comment":" keep-alive"}'; cat "$tmp/want"; } >"$tmp/want2"
chunks "small.sse --comments" --comments "$data/small.sse"
same "$tmp/want2" "$tmp/base" "small.sse --comments: the comment line comes first"
"$cli" events - <"$data/small.sse" >"$tmp/stdin" 2>/dev/null
same "$tmp/want" "$tmp/stdin" "small.sse from stdin (-)"
"$cli" events <"$data/small.sse" >"$tmp/stdin2" 2>/dev/null
same "$tmp/want" "$tmp/stdin2" "small.sse from stdin (no FILE)"

chunks "truncated.sse" "$data/truncated.sse"
echo '{"event":"message","data":"a","id":""}' >"$tmp/want"
same "$tmp/want" "$tmp/base" "truncated.sse: the complete event is printed"
[ "$(cat "$tmp/base.rc")" = 1 ]; t $? "truncated.sse: exit 1"
grep -q 'byte 9' "$tmp/base.err"; t $? "truncated.sse: stderr names byte 9, where the cut event begins"
sed 's/^/#   /' "$tmp/base.err"

# A live pipe streams: the first event is printed while the input is still open.
if mkfifo "$tmp/fifo" 2>/dev/null; then
    : >"$tmp/live"
    "$cli" events <"$tmp/fifo" >"$tmp/live" 2>&1 &
    pid=$!
    exec 3>"$tmp/fifo"
    printf 'data: a\n\n' >&3
    i=0
    while [ $i -lt 200 ] && ! grep -q '"data":"a"' "$tmp/live"; do sleep 0.05; i=$((i + 1)); done
    grep -q '"data":"a"' "$tmp/live"; t $? "a live pipe streams: the first event is out before the input ends"
    printf 'data: b\n\n' >&3
    exec 3>&-
    wait $pid; t $? "the live pipe: exit 0 at end of input"
    [ "$(grep -c '"data":"[ab]"' "$tmp/live")" = 2 ]; t $? "the live pipe: both events"
fi

# ---- NDJSON ----------------------------------------------------------------------------
cat >"$tmp/want" <<'EOF'
{"event":"","data":"{\"a\":1}","id":""}
{"event":"","data":"{\"b\":\"x y\"}","id":""}
{"event":"","data":"{\"c\":[1,2,3]}   ","id":""}
{"event":"","data":"{\"d\":\"no newline\"}","id":""}
EOF
chunks "small.ndjson" --ndjson "$data/small.ndjson"
same "$tmp/want" "$tmp/base" "small.ndjson: one event per non-blank line, last line without newline included"
t "$(cat "$tmp/base.rc")" "small.ndjson: exit 0"
{ printf '{}\n'; head -c 1100000 /dev/zero | tr '\0' x; printf '\n{}\n'; } >"$tmp/long.ndjson"
run "$tmp/long" --ndjson "$tmp/long.ndjson"
echo '{"event":"","data":"{}","id":""}' >"$tmp/want"
same "$tmp/want" "$tmp/long" "a line past the 1 MiB limit: the events before it are printed"
[ "$(cat "$tmp/long.rc")" = 1 ]; t $? "a line past the 1 MiB limit: exit 1"
grep -q 'byte 3' "$tmp/long.err"; t $? "a line past the 1 MiB limit: stderr names byte 3, where it begins"

# ---- JSON array --------------------------------------------------------------------------
cat >"$tmp/want" <<'EOF'
{"event":"","data":"{\"t\": \"a ] , { } [ \\\" \\\\ \\/ \\u00e9 x\", \"n\": [1, -2.5e+3, 0, {\"deep\": [[]]}], \"b\": true}","id":""}
{"event":"","data":"[ ]","id":""}
{"event":"","data":"\"str \\u0041\"","id":""}
{"event":"","data":"-0.0E5","id":""}
{"event":"","data":"null","id":""}
{"event":"","data":"false","id":""}
{"event":"","data":"{}","id":""}
EOF
chunks "small-array.json" --json-array "$data/small-array.json"
same "$tmp/want" "$tmp/base" "small-array.json: each element's exact bytes"
t "$(cat "$tmp/base.rc")" "small-array.json: exit 0"
chunks "bad.json" --json-array "$data/bad.json"
echo '{"event":"","data":"1","id":""}' >"$tmp/want"
same "$tmp/want" "$tmp/base" "bad.json [1 2]: the complete element is printed"
[ "$(cat "$tmp/base.rc")" = 1 ]; t $? "bad.json: exit 1"
grep -q 'byte 3' "$tmp/base.err"; t $? "bad.json: stderr names byte 3, the missing comma"
chunks "truncated.json" --json-array "$data/truncated.json"
echo '{"event":"","data":"{\"a\":1}","id":""}' >"$tmp/want"
same "$tmp/want" "$tmp/base" "truncated.json: the complete element is printed"
[ "$(cat "$tmp/base.rc")" = 1 ]; t $? "truncated.json: exit 1"
grep -q 'byte 9' "$tmp/base.err"; t $? "truncated.json: stderr names byte 9, the end of the input"

# ---- AWS eventstream -------------------------------------------------------------------------
cat >"$tmp/want" <<'EOF'
{"event":"chunk","data":"{\"bytes\":\"eyJ0ZXh0IjoiaGkifQ==\"}","id":"","message_type":"event","headers":{":event-type":"chunk",":content-type":"application/json",":message-type":"event"}}
{"event":"throttlingException","data":"{\"message\":\"slow down\"}","id":"","message_type":"exception","headers":{":message-type":"exception",":exception-type":"throttlingException",":content-type":"application/json"}}
{"event":"allTypes","data":"{}","id":"","message_type":"event","headers":{":message-type":"event",":event-type":"allTypes","t":true,"f":false,"b":-5,"s":-300,"i":70000,"l":-5000000000,"y":"AP8Q","str":"héllo","ts":1700000000000,"u":"12345678-9abc-def0-1234-56789abcdef0"}}
{"event":"","data":"","id":"","message_type":"","headers":{}}
{"event":"InternalFailure","data":"","id":"","message_type":"error","headers":{":message-type":"error",":error-code":"InternalFailure",":error-message":"it broke"}}
EOF
chunks "small.eventstream" --eventstream "$data/small.eventstream"
same "$tmp/want" "$tmp/base" "small.eventstream: type, message type, payload and every header type"
t "$(cat "$tmp/base.rc")" "small.eventstream: exit 0"
head -1 "$tmp/want" >"$tmp/want1"
for f in bad-prelude-crc:123 bad-message-crc:123 bad-length:123 truncated:191; do
    name=${f%%:*} at=${f##*:}
    chunks "$name.eventstream" --eventstream "$data/$name.eventstream"
    same "$tmp/want1" "$tmp/base" "$name.eventstream: the good first frame is printed"
    [ "$(cat "$tmp/base.rc")" = 1 ]; t $? "$name.eventstream: exit 1"
    grep -q "byte $at" "$tmp/base.err"; t $? "$name.eventstream: stderr names byte $at"
    sed 's/^/#   /' "$tmp/base.err"
done

# ---- usage -------------------------------------------------------------------------------------
for args in "--bogus" "--ndjson --eventstream" "--json-array --json-array" "--chunk 0" \
            "--chunk abc" "--chunk" "--chunk -5" "$data/small.sse $data/small.sse" \
            "$tmp/no-such-file"; do
    # shellcheck disable=SC2086
    "$cli" events $args </dev/null >"$tmp/u" 2>"$tmp/u.err"
    rc=$?
    [ "$rc" = 2 ] && [ ! -s "$tmp/u" ] && [ -s "$tmp/u.err" ]
    t $? "events $args: exit 2, a message on stderr, nothing on stdout (got $rc)"
done
"$cli" events --help >"$tmp/h" 2>&1; rc=$?
[ "$rc" = 0 ] && grep -q 'usage: tokstream events' "$tmp/h"; t $? "events --help: usage, exit 0"
"$cli" events --chunk=3 --ndjson "$data/small.ndjson" >"$tmp/eq" 2>&1
"$cli" events --ndjson "$data/small.ndjson" >"$tmp/eq2" 2>&1
same "$tmp/eq2" "$tmp/eq" "--chunk=3 form is accepted"

# ---- recorded fixtures ---------------------------------------------------------------------------
if [ -d "$shared/fixtures" ]; then
    for f in "$shared"/fixtures/*/*.sse; do
        rel=${f#"$shared"/fixtures/}
        chunks "$rel" "$f"
        t "$(cat "$tmp/base.rc")" "$rel: exit 0"
        # Fixtures whose events hold one data line each: one event per data: line.
        want=$(grep -c '^data:' "$f")
        got=$(grep -c '^{"event":' "$tmp/base")
        [ "$want" = "$got" ]; t $? "$rel: one event per data: line ($want, got $got)"
    done
    for f in "$shared"/fixtures/ollama/*.ndjson; do
        rel=${f#"$shared"/fixtures/}
        chunks "$rel" --ndjson "$f"
        t "$(cat "$tmp/base.rc")" "$rel: exit 0"
        [ "$(grep -c . "$tmp/base")" = 6 ]; t $? "$rel: 6 events (SOURCES.md)"
    done
    f=$shared/fixtures/gemini/json-array-stream-bom.json
    chunks "gemini/json-array-stream-bom.json" --json-array "$f"
    t "$(cat "$tmp/base.rc")" "gemini/json-array-stream-bom.json: exit 0"
    [ "$(grep -c . "$tmp/base")" = 6 ]; t $? "gemini/json-array-stream-bom.json: 6 elements (SOURCES.md)"
    for f in "$shared"/fixtures/bedrock/*.bin; do
        rel=${f#"$shared"/fixtures/}
        chunks "$rel" --eventstream "$f"
        t "$(cat "$tmp/base.rc")" "$rel: exit 0"
    done
    [ "$(grep -c '"message_type":"event"' "$tmp/base")" = 1 ]; t $? "titan: one event frame"
    run "$tmp/conv" --eventstream "$shared/fixtures/bedrock/converse-stream-text-tool-use.bin"
    [ "$(grep -c '^{"event":"' "$tmp/conv")" = 26 ]; t $? "converse-stream-text-tool-use.bin: 26 frames (SOURCES.md)"
    # The openrouter stream opens with 17 keep-alive comments (SOURCES.md).
    run "$tmp/or" --comments "$shared/fixtures/openrouter/chat-inband-error-comments.sse"
    [ "$(grep -c '^{"comment":" OPENROUTER PROCESSING"}$' "$tmp/or")" = 17 ]
    t $? "openrouter --comments: the 17 keep-alive comments are printed"
    run "$tmp/or2" "$shared/fixtures/openrouter/chat-inband-error-comments.sse"
    ! grep -q '"comment"' "$tmp/or2"; t $? "openrouter without --comments: no comment lines"
    # Every output line is a JSON object whose first keys are event, data, id.
    if command -v python3 >/dev/null; then
        cat "$tmp/conv" "$tmp/or" | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    assert isinstance(o, dict)
    if "event" in o: assert list(o)[:3] == ["event", "data", "id"], line
' 2>"$tmp/py"
        t $? "every output line is a JSON object, event/data/id first"; sed 's/^/#   /' "$tmp/py"
    fi
else
    echo "# $shared/fixtures absent: recorded streams not checked"
fi

echo "1..$n"
exit $fail
