#!/bin/sh
# The Prometheus exposition of `tokstream stats --prometheus` passes `promtool check
# metrics` (Debian's prometheus package): on the hand-made captures, on a zero-token
# stream (every histogram empty) and on a live stream. (t_stats runs promtool on an
# export of 20000 random streams written by the library directly.)
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/timing
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
promtool=$(command -v promtool || echo /usr/bin/promtool)
if [ ! -x "$promtool" ]; then
    echo "not ok 1 - promtool is installed (apt-get install prometheus)"; echo "1..1"; exit 1
fi
check() { # FILE NAME
    out=$("$promtool" check metrics < "$1" 2>&1); rc=$?
    t $rc "promtool check metrics: $2"; [ -n "$out" ] && echo "$out" | sed 's/^/# /'
    [ -s "$1" ]; t $? "$2: not empty"
}
"$cli" stats --prometheus --capture "$data/two-streams-a.capture" --capture "$data/two-streams-b.capture" \
    --capture "$data/reasoning.capture" --capture "$data/empty.capture" > "$tmp/a.prom"
check "$tmp/a.prom" "four captures"
"$cli" stats --prometheus --capture "$data/empty.capture" > "$tmp/e.prom"
check "$tmp/e.prom" "only a zero-token stream (empty histograms)"
python3 -c "
import base64, json, sys
for l in open('$data/reasoning.capture').read().splitlines()[1:]:
    sys.stdout.buffer.write(base64.b64decode(json.loads(l)['data']))" | "$cli" stats --prometheus > "$tmp/l.prom"
check "$tmp/l.prom" "a live stream"
grep -c '^# TYPE .* histogram$' "$tmp/a.prom" | grep -qx 6; t $? "six histogram families"
echo "1..$n"
exit $fail
