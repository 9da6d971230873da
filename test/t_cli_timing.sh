#!/bin/sh
# tokstream record and tokstream stats: bytes through record unchanged, capture lines
# valid JSON whose base64 decodes back to the input; stats on the hand-made captures of
# test/data/timing (see its README for the times) gives the numbers worked out by hand.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/timing
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
if ! command -v python3 >/dev/null; then echo "1..0 # SKIP python3 is needed to read JSON"; exit 0; fi

# ---- record ------------------------------------------------------------------------
python3 -c "import os,sys; sys.stdout.buffer.write(os.urandom(300000) + bytes(range(256)))" > "$tmp/in.bin"
"$cli" record --out "$tmp/cap" < "$tmp/in.bin" > "$tmp/out.bin"
t $? "record exits 0"
cmp -s "$tmp/in.bin" "$tmp/out.bin"; t $? "record: stdout is the input, byte for byte (300 KB binary)"
python3 - "$tmp/cap" "$tmp/in.bin" > "$tmp/why" 2>&1 <<'EOF'
import base64, json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
assert lines[-1] == b'', 'capture ends with a newline'
recs = [json.loads(l) for l in lines[:-1]]
h = recs[0]
assert h['tokstream_capture'] == 1 and isinstance(h['start_ns'], int), 'header'
assert set(h) == {'tokstream_capture', 'start_ns'}, 'header keys'
data, last = b'', h['start_ns']
for r in recs[1:]:
    assert set(r) == {'t_ns', 'data'}, 'data line keys'
    assert isinstance(r['t_ns'], int) and r['t_ns'] >= last, 'times from one monotonic clock'
    last = r['t_ns']
    data += base64.b64decode(r['data'], validate=True)
assert recs[-1]['data'] == '', 'a last line with empty data marks the end'
assert data == open(sys.argv[2], 'rb').read(), 'base64 decodes back to the input'
EOF
t $? "record: capture lines are JSON, header first, base64 decodes back to the input"; sed 's/^/# /' "$tmp/why"

printf 'data: x\n\n' | "$cli" record 2> "$tmp/err.cap" > "$tmp/o"
head -c 22 "$tmp/err.cap" | grep -q '^{"tokstream_capture":1'; t $? "record without --out: the capture goes to stderr"
[ "$(cat "$tmp/o")" = "data: x" ]; t $? "record without --out: stdout unchanged"
"$cli" record --bogus < /dev/null > /dev/null 2>&1; [ $? = 2 ]; t $? "record: unknown argument exits 2"
: | "$cli" record --out "$tmp/empty.cap" > "$tmp/o"; t $? "record: empty input is fine"
[ "$(wc -l < "$tmp/empty.cap")" = 2 ]; t $? "record: empty input gives the header and the end line"

# ---- stats on hand-made captures ------------------------------------------------------
A="--capture $data/two-streams-a.capture"
B="--capture $data/two-streams-b.capture"
R="--capture $data/reasoning.capture"
E="--capture $data/empty.capture"

# check FILE 'key.sub=value ...': exact comparison of the JSON numbers
check() {
    python3 - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
for kv in sys.argv[2:]:
    k, v = kv.split('=')
    x = d
    for part in k.split('/'):
        x = x[part]
    want = None if v == 'null' else float(v)
    if x != want:
        bad.append('%s: got %r want %r' % (k, x, want))
if bad: print('\n'.join(bad))
sys.exit(1 if bad else 0)
EOF
}

"$cli" stats --json $A > "$tmp/a.json"; t $? "stats A: exit 0"
# A: ttfc = ttft = 200, e2el 350, N 3 (usage), tpot (350-200)/2 = 75, itl 50 100, duration 400
check "$tmp/a.json" streams=1 ok=1 empty=0 ttfc_ms/p50=200 ttft_ms/mean=200 e2el_ms/p99=350 \
    tpot_ms/mean=75 itl_ms/count=2 itl_ms/p50=50 itl_ms/p90=100 itl_ms/mean=75 duration_ms/p50=400 \
    output_tokens/p50=3 queue_ms/p50=null > "$tmp/why"
t $? "stats A: numbers by hand (role-only chunk not counted, usage sets N)"; sed 's/^/# /' "$tmp/why"

"$cli" stats --json $B > "$tmp/b.json"
# B: ttfc 300, e2el 400, N = 10 from usage although 4 deltas: tpot 100/9 ms
check "$tmp/b.json" streams=1 ttfc_ms/p50=300 e2el_ms/p50=400 tpot_ms/p50=11.111111 \
    output_tokens/p50=10 itl_ms/count=3 itl_ms/p50=20 itl_ms/p99=60 chunk_tokens/count=4 > "$tmp/why"
t $? "stats B: usage completion_tokens sets N for TPOT"; sed 's/^/# /' "$tmp/why"

"$cli" stats --json $R > "$tmp/r.json"
# reasoning: ttfc 150, ttft (visible) 450, ttft counting reasoning 150, tpot 300/2
check "$tmp/r.json" ttfc_ms/p50=150 ttft_ms/p50=450 ttft_reasoning_ms/p50=150 tpot_ms/p50=150 \
    itl_ms/p50=100 itl_ms/p99=200 e2el_ms/p50=450 duration_ms/p50=470 > "$tmp/why"
t $? "stats reasoning: ttft waits for visible content, ttfc does not"; sed 's/^/# /' "$tmp/why"

"$cli" stats --json $E > "$tmp/e.json"
check "$tmp/e.json" streams=1 ok=0 empty=1 ttfc_ms/count=0 ttfc_ms/mean=null e2el_ms/p50=null > "$tmp/why"
t $? "stats empty: a zero-token stream is counted apart, in no latency"; sed 's/^/# /' "$tmp/why"

"$cli" stats --json $A $B $R $E > "$tmp/all.json"; t $? "stats on 4 captures: exit 0"
# ttfc 200 300 150: mean 216.666667, nearest-rank p50 = 2nd = 200, p90 = 3rd = 300
# ttft 200 300 450: mean 316.666667; tpot 75 11.111111 150: mean 78.703704 (rounded ns)
# e2el 350 400 450; itl 50 100 | 20 20 60 | 100 200: 7 samples, mean 550/7 = 78.571429,
# p50 = 4th = 60, p90 = 7th = 200
check "$tmp/all.json" streams=4 ok=3 empty=1 timeout=0 error=0 \
    ttfc_ms/count=3 ttfc_ms/mean=216.666667 ttfc_ms/p50=200 ttfc_ms/p90=300 ttfc_ms/p99=300 \
    ttft_ms/mean=316.666667 ttft_ms/p50=300 ttft_ms/p90=450 ttft_ms/p99=450 \
    tpot_ms/mean=78.703704 tpot_ms/p50=75 tpot_ms/p90=150 tpot_ms/p99=150 \
    e2el_ms/mean=400 e2el_ms/p50=400 e2el_ms/p90=450 e2el_ms/p99=450 \
    itl_ms/count=7 itl_ms/mean=78.571429 itl_ms/p50=60 itl_ms/p90=200 itl_ms/p99=200 \
    itl_ms/min=20 itl_ms/max=200 duration_ms/mean=430 > "$tmp/why"
t $? "stats on 4 captures: every number as worked out by hand"; sed 's/^/# /' "$tmp/why"

"$cli" stats --json --dialect openai-chat $A $B $R $E > "$tmp/all2.json"
cmp -s "$tmp/all.json" "$tmp/all2.json"; t $? "--dialect openai-chat: the same as auto"
"$cli" stats --json $A $B $R $E > "$tmp/all3.json"
cmp -s "$tmp/all.json" "$tmp/all3.json"; t $? "stats on captures: byte-identical from run to run"

"$cli" stats --prometheus $A $B $R $E > "$tmp/p1"; t $? "stats --prometheus: exit 0"
"$cli" stats --prometheus $A $B $R $E > "$tmp/p2"
cmp -s "$tmp/p1" "$tmp/p2"; t $? "--prometheus: byte-identical across runs"
# ttfc 0.15 0.2 0.3 s: 2 are <= 0.25, all 3 <= 0.5; sum 0.65
grep -qx 'gen_ai_server_time_to_first_token_seconds_bucket{le="0.25"} 2' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_to_first_token_seconds_bucket{le="0.1"} 0' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_to_first_token_seconds_bucket{le="0.5"} 3' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_to_first_token_seconds_sum 0.650000000' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_to_first_token_seconds_count 3' "$tmp/p1"
t $? "--prometheus: TTFT buckets, sum and count as worked out"
# itl 0.02 0.02 0.05 0.06 0.1 0.1 0.2: <= 0.02: 2, <= 0.04: 2, <= 0.08: 4, <= 0.16: 6
grep -qx 'gen_ai_client_operation_time_per_output_chunk_seconds_bucket{le="0.02"} 2' "$tmp/p1" &&
grep -qx 'gen_ai_client_operation_time_per_output_chunk_seconds_bucket{le="0.08"} 4' "$tmp/p1" &&
grep -qx 'gen_ai_client_operation_time_per_output_chunk_seconds_bucket{le="0.16"} 6' "$tmp/p1" &&
grep -qx 'gen_ai_client_operation_time_per_output_chunk_seconds_bucket{le="+Inf"} 7' "$tmp/p1"
t $? "--prometheus: chunk gaps, a value on a boundary in its bucket (le)"
# tpot 0.011111111 0.075 0.15: <= 0.025: 1, <= 0.075: 2, <= 0.15: 3
grep -qx 'gen_ai_server_time_per_output_token_seconds_bucket{le="0.025"} 1' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_per_output_token_seconds_bucket{le="0.075"} 2' "$tmp/p1" &&
grep -qx 'gen_ai_server_time_per_output_token_seconds_bucket{le="0.15"} 3' "$tmp/p1"
t $? "--prometheus: TPOT buckets"
grep -qx 'tokstream_streams_total{outcome="empty"} 1' "$tmp/p1" &&
grep -qx 'tokstream_streams_total{outcome="ok"} 3' "$tmp/p1"
t $? "--prometheus: streams by outcome"

"$cli" stats $A $B $R $E > "$tmp/table"; t $? "stats table: exit 0"
grep -q '^streams 4: ok 3, zero tokens 1' "$tmp/table"; t $? "table: stream counts"
grep -Eq '^TTFC \(ms\) +3 +216\.667 +200\.000 +300\.000' "$tmp/table"; t $? "table: TTFC row"

# ---- record -> stats, live stats, errors ----------------------------------------------
python3 -c "
import base64, json, sys
for l in open('$data/two-streams-a.capture').read().splitlines()[1:]:
    sys.stdout.buffer.write(base64.b64decode(json.loads(l)['data']))" > "$tmp/a.sse"
"$cli" record --out "$tmp/rec.cap" < "$tmp/a.sse" > /dev/null
"$cli" stats --json --capture "$tmp/rec.cap" > "$tmp/rec.json"; t $? "stats on a fresh recording: exit 0"
check "$tmp/rec.json" streams=1 ok=1 output_tokens/p50=3 ttfc_ms/count=1 > "$tmp/why"
t $? "record then stats: one good stream of 3 tokens"; sed 's/^/# /' "$tmp/why"
"$cli" stats --json < "$tmp/a.sse" > "$tmp/live.json"; t $? "live stats from stdin: exit 0"
check "$tmp/live.json" streams=1 ok=1 output_tokens/p50=3 itl_ms/count=2 > "$tmp/why"
t $? "live stats: one stream, 3 tokens, 2 chunk gaps"; sed 's/^/# /' "$tmp/why"
"$cli" stats --json "$tmp/a.sse" > "$tmp/live2.json"
check "$tmp/live2.json" streams=1 ok=1 > "$tmp/why"; t $? "live stats from a FILE"

head -5 "$data/two-streams-a.capture" > "$tmp/cut.capture" # no [DONE]: truncated stream
"$cli" stats --json --capture "$tmp/cut.capture" > "$tmp/cut.json" 2> "$tmp/cut.err"
[ $? = 1 ]; t $? "truncated stream: exit 1"
check "$tmp/cut.json" streams=1 error=1 ok=0 > "$tmp/why"; t $? "truncated stream: counted as an error, output still printed"
grep -q 'byte' "$tmp/cut.err"; t $? "truncated stream: stderr says where"
printf '{"tokstream_capture":1,"start_ns":5}\nnot json\n' > "$tmp/bad.capture"
"$cli" stats --json --capture "$tmp/bad.capture" > /dev/null 2> "$tmp/bad.err"
[ $? = 1 ]; t $? "malformed capture: exit 1"
grep -q 'byte 37' "$tmp/bad.err"; t $? "malformed capture: the byte of the bad line"
printf '{"tokstream_capture":1,"start_ns":5000}\n{"t_ns":4000,"data":"ZGF0YTogeyJjaG9pY2VzIjpbXX0KCg=="}\n' > "$tmp/back.capture"
"$cli" stats --json --capture "$tmp/back.capture" > "$tmp/back.json" 2> "$tmp/back.err"
[ $? = 1 ]; t $? "capture with time going backwards: exit 1"
check "$tmp/back.json" streams=1 error=1 > "$tmp/why"; t $? "time going backwards: an error stream"
grep -q backwards "$tmp/back.err"; t $? "time going backwards: stderr says so"
"$cli" stats --capture "$tmp/nonexistent" > /dev/null 2>&1; [ $? = 2 ]; t $? "missing capture file: exit 2"
"$cli" stats --capture "$data/empty.capture" "$tmp/a.sse" > /dev/null 2>&1; [ $? = 2 ]; t $? "captures and a live FILE: exit 2"
"$cli" stats --dialect nope < /dev/null > /dev/null 2>&1; [ $? = 2 ]; t $? "unknown dialect: exit 2"

# ---- the shared recorded fixtures: one stream each; N from the fixture's own usage -------
shared=${TKS_SHARED:-$top/../shared}
if [ -d "$shared/fixtures" ]; then
    for f in "$shared"/fixtures/*/*.sse "$shared"/fixtures/*/*.ndjson "$shared"/fixtures/*/*.json \
             "$shared"/fixtures/*/*.bin; do
        [ -f "$f" ] || continue
        name=${f#$shared/fixtures/}
        "$cli" stats --json "$f" > "$tmp/fx.json" 2> /dev/null
        rc=$?
        python3 -c "
import json, sys
d = json.load(open('$tmp/fx.json'))
assert d['streams'] == 1 and d['ok'] + d['empty'] + d['error'] == 1
assert (d['error'] == 1) == ($rc == 1), 'exit status 1 exactly for a failed stream'
assert d['ok'] == 0 or d['output_tokens']['count'] == 1" 2> "$tmp/why"
        t $? "fixture $name: one stream, its outcome matches the exit status ($rc)"; sed 's/^/# /' "$tmp/why"
    done
    for f in "$shared"/fixtures/openai-chat/*.sse; do
        want=$(grep -o '"completion_tokens":[0-9]*' "$f" | tail -1 | cut -d: -f2)
        [ -n "$want" ] || continue
        "$cli" stats --json "$f" > "$tmp/fx.json" 2> /dev/null
        check "$tmp/fx.json" ok=1 output_tokens/p50="$want" > "$tmp/why"
        t $? "fixture ${f#$shared/fixtures/}: N = usage completion_tokens $want"; sed 's/^/# /' "$tmp/why"
    done
else
    echo "# no ../shared: the recorded fixtures are not checked"
fi

"$cli" stats --json --prometheus </dev/null >/dev/null 2>&1; [ $? -eq 2 ]; t $? "--json with --prometheus: usage error"

echo "1..$n"
exit $fail
