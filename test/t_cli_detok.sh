#!/bin/sh
# `tokstream detok`: token ids -> text with the project's small vocabularies
# (test/data/vocab), the same text whatever --chunk is, --json deltas and the stopped
# line, --skip-special, --grapheme, format detection (tokenizer.json vs tiktoken, the
# built-in specials for *cl100k* / *o200k* file names), a live pipe that streams, and exit
# statuses 0/1/2 with the id and its position on stderr.
# Environment: TKS_CLI (the tool), TKS_TEST_DATA (test/data), TKS_SHARED (optional).
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cli=${TKS_CLI:-$top/build/asan/tokstream}
data=${TKS_TEST_DATA:-$top/test/data}/vocab
shared=${TKS_SHARED:-$top/../shared}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
# is WANT GOT-FILE WHAT: the file holds exactly WANT (printf format)
is() { printf "$1" >"$tmp/want"; cmp -s "$tmp/want" "$2"; r=$?; t $r "$3";
       [ $r = 0 ] || { echo "#   want: $(od -c "$tmp/want" | head -3)"; echo "#   got:  $(od -c "$2" | head -3)"; }; }

if [ ! -x "$cli" ]; then echo "not ok 1 - $cli not built"; echo "1..1"; exit 1; fi
tiny=$data/tiny.tiktoken

# ---- text, chunking, stdin/file ------------------------------------------------------------
printf '0 1 4\n' | "$cli" detok --vocab "$tiny" >"$tmp/out" 2>"$tmp/err"
t $? "tiktoken: exit 0"
is 'Hello world!' "$tmp/out" "tiktoken: Hello world!"
printf '0\n6\t17  3\n4' >"$tmp/ids"   # Hello, " F0 9F 91", "8B F0 9F", "91 8B", "!" (no final newline)
for c in "" "--chunk 1" "--chunk 2" "--chunk 3" "--chunk 100"; do
    # shellcheck disable=SC2086
    "$cli" detok --vocab "$tiny" $c "$tmp/ids" >"$tmp/out" 2>"$tmp/err"
    t $? "ids from a file ${c:-without --chunk}: exit 0"
    is 'Hello \360\237\221\213\360\237\221\213!' "$tmp/out" "emoji split over tokens ${c:-without --chunk}"
done
"$cli" detok --vocab "$tiny" - <"$tmp/ids" >"$tmp/out"
is 'Hello \360\237\221\213\360\237\221\213!' "$tmp/out" "'-' reads stdin"
printf '0 8 13 11\n' | "$cli" detok --vocab "$tiny" >"$tmp/out"
is 'Hello\357\277\275A\357\277\275' "$tmp/out" "invalid bytes become U+FFFD"
printf '' | "$cli" detok --vocab "$tiny" >"$tmp/out"
t $? "no ids: exit 0"
is '' "$tmp/out" "no ids: no output"

# ---- --json ----------------------------------------------------------------------------------
printf '0 6 7 15' | "$cli" detok --vocab "$tiny" --json >"$tmp/out"
is '{"delta":"Hello"}\n{"delta":" "}\n{"delta":"\360\237\221\213"}\n{"delta":"\\n"}\n' "$tmp/out" \
   "--json: one delta per line, the space before the unfinished emoji at once"
printf '0 1 4' | "$cli" detok --vocab "$tiny" --json --stop "o wor" --stop "zzz" >"$tmp/out"
t $? "--stop: exit 0"
is '{"delta":"Hell"}\n{"stopped":"o wor"}\n' "$tmp/out" "--stop across tokens, cut mid-token, stopped line"
printf '0 1 4' | "$cli" detok --vocab "$tiny" --stop "lo!" >"$tmp/out"
is 'Hello world!' "$tmp/out" "--stop that never completes: everything released"
printf '0 1 4' | "$cli" detok --vocab "$tiny" --stop " world" --chunk 2 >"$tmp/out"
is 'Hello' "$tmp/out" "--stop with --chunk 2"

# ---- tokenizer.json, specials, grapheme ----------------------------------------------------
spm=$data/spm_bytefallback.json
printf '1 9 2 10' | "$cli" detok --vocab "$spm" >"$tmp/out"
is '<s> Hello</s> world' "$tmp/out" "tokenizer.json detected; specials rendered"
printf '1 9 2 10' | "$cli" detok --vocab "$spm" --skip-special >"$tmp/out"
is 'Hello world' "$tmp/out" "--skip-special: strip applies to the first kept token"
printf '0 5 2 3 14 2 3 18 19' | "$cli" detok --vocab "$tiny" --grapheme --json >"$tmp/out"
printf '{"delta":"\360\237\221\213\342\200\215\360\237\221\213"}\n' >"$tmp/zwj"
printf '{"delta":"e\314\201"}\n' >"$tmp/acute"
grep -qxF -f "$tmp/zwj" "$tmp/out" && grep -qxF -f "$tmp/acute" "$tmp/out"
t $? "--grapheme: the ZWJ sequence and e + U+0301 each come whole in one delta"
printf '0 5 2 3 14 2 3 18 19' | "$cli" detok --vocab "$tiny" --grapheme >"$tmp/out"
is 'Hello \360\237\221\213\342\200\215\360\237\221\213e\314\201' "$tmp/out" "--grapheme: same text"
cp "$tiny" "$tmp/my_cl100k_base.tiktoken"
printf '0 100257 1' | "$cli" detok --vocab "$tmp/my_cl100k_base.tiktoken" >"$tmp/out"
is 'Hello<|endoftext|> world' "$tmp/out" "*cl100k* file name: built-in specials"
printf '0 100257 1' | "$cli" detok --vocab "$tmp/my_cl100k_base.tiktoken" --skip-special >"$tmp/out"
is 'Hello world' "$tmp/out" "*cl100k* specials skipped"
cp "$tiny" "$tmp/o200k.tiktoken"
printf '0 199999' | "$cli" detok --vocab "$tmp/o200k.tiktoken" >"$tmp/out"
is 'Hello<|endoftext|>' "$tmp/out" "*o200k* file name: built-in specials"

# ---- a live pipe streams -----------------------------------------------------------------------
mkfifo "$tmp/fifo"
"$cli" detok --vocab "$tiny" "$tmp/fifo" >"$tmp/live" 2>&1 &
pid=$!
exec 3>"$tmp/fifo"
printf '0 1\n' >&3
i=0; while [ $i -lt 100 ] && ! grep -q 'Hello world' "$tmp/live" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
grep -q 'Hello world' "$tmp/live"
t $? "live pipe: the first ids' text arrives while the pipe is still open"
printf '4\n' >&3
exec 3>&-
wait $pid
t $? "live pipe: exit 0 at end of input"
is 'Hello world!' "$tmp/live" "live pipe: whole text"

# ---- errors and exit statuses --------------------------------------------------------------------
printf '0 1\n999 4' | "$cli" detok --vocab "$tiny" >"$tmp/out" 2>"$tmp/err"
t $([ $? = 1 ] && echo 0 || echo 1) "unknown id: exit 1"
grep -q '999' "$tmp/err" && grep -q 'index 2' "$tmp/err" && grep -q 'byte 4' "$tmp/err"
t $? "unknown id: stderr names the id, its index and its byte ($(cat "$tmp/err"))"
is 'Hello world' "$tmp/out" "unknown id: the text before it was written"
printf '0 1 -3' | "$cli" detok --vocab "$tiny" --chunk 2 >/dev/null 2>"$tmp/err"
t $([ $? = 1 ] && echo 0 || echo 1) "negative id with --chunk 2: exit 1"
grep -q 'index 2' "$tmp/err"; t $? "negative id: index 2 named"
printf '0 1 x1' | "$cli" detok --vocab "$tiny" >"$tmp/out" 2>"$tmp/err"
t $([ $? = 1 ] && echo 0 || echo 1) "not a number: exit 1"
grep -q 'byte 4' "$tmp/err"; t $? "not a number: its byte named"
is 'Hello world' "$tmp/out" "not a number: the ids before it (same read) were decoded"
printf '0 1 99999999999' | "$cli" detok --vocab "$tiny" >"$tmp/out" 2>"$tmp/err"
t $([ $? = 1 ] && echo 0 || echo 1) "id beyond 32 bits: exit 1"
is 'Hello world' "$tmp/out" "id beyond 32 bits: the ids before it were decoded"
"$cli" detok --vocab "$data/unsupported_regex.json" </dev/null >/dev/null 2>"$tmp/err"
t $([ $? = 1 ] && echo 0 || echo 1) "unsupported decoder: exit 1"
grep -q 'Regex' "$tmp/err"; t $? "unsupported decoder: says why"
"$cli" detok </dev/null >/dev/null 2>&1
t $([ $? = 2 ] && echo 0 || echo 1) "no --vocab: exit 2"
"$cli" detok --vocab "$tiny" --chunk 0 </dev/null >/dev/null 2>&1
t $([ $? = 2 ] && echo 0 || echo 1) "--chunk 0: exit 2"
"$cli" detok --vocab "$tiny" --bogus </dev/null >/dev/null 2>&1
t $([ $? = 2 ] && echo 0 || echo 1) "unknown option: exit 2"
"$cli" detok --vocab "$tmp/nonexistent" </dev/null >/dev/null 2>&1
t $([ $? = 2 ] && echo 0 || echo 1) "missing vocabulary file: exit 2"
"$cli" detok --vocab "$tiny" --stop "" </dev/null >/dev/null 2>&1
t $([ $? = 2 ] && echo 0 || echo 1) "empty --stop: exit 2"
"$cli" detok --help >/dev/null 2>&1
t $? "--help: exit 0"

# ---- a real vocabulary when ../shared is here ------------------------------------------------
if [ -f "$shared/vocab/llama3.tokenizer.json" ]; then
    printf '13347 62904 233 9468 237 121 0' | "$cli" detok --vocab "$shared/vocab/llama3.tokenizer.json" --chunk 1 >"$tmp/out"
    is 'Hi \360\237\221\213\360\237\217\275!' "$tmp/out" "llama3: Hi + waving hand + skin tone"
else
    n=$((n + 1)); echo "ok $n # SKIP ../shared is absent"
fi

echo "1..$n"
exit $fail
