#!/bin/sh
# README.md says what is true: its C example compiles warning-free and assembles the
# project's streams exactly as `tokstream assemble` does; its CLI synopsis is the CLI's
# own; its links point at files that exist. TAP.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TKS_BUILD:-$top/build}
cli=$build/tokstream
data=${TKS_TEST_DATA:-$top/test/data}/client
cc=${CC:-cc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
readme=$top/README.md

# the one ```c block
sed -n '/^```c$/,/^```$/p' "$readme" | sed '1d;$d' >"$tmp/example.c"
lines=$(wc -l <"$tmp/example.c")
[ "$lines" -gt 10 ] && [ "$lines" -le 30 ]; t $? "README has a C example of 11..30 lines ($lines)"
$cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$top/include" "$tmp/example.c" "$build/libtokstream.a" \
    $(pkg-config --libs libutf8proc) -lm -o "$tmp/example" 2>"$tmp/cc.err"
rc=$?; t $rc "the example compiles with -Wall -Wextra -Wpedantic -Werror"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc.err"

for f in "$data"/*.sse "$data"/*.ndjson "$data"/*.json "$data"/*.bin; do
    case $f in *.expected.json) continue;; esac
    name=$(basename "$f")
    "$tmp/example" <"$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
    t $rc "example on $name: exit 0"
    "$cli" assemble "$f" >"$tmp/want"
    tail -n 1 "$tmp/out" | cmp -s - "$tmp/want"; t $? "example on $name: the message tokstream assemble prints"
    python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
text = "".join(c["content"] or "" for c in m["choices"])
out = open(sys.argv[2], encoding="utf-8").read()
sys.exit(0 if out.startswith(text + "\n") else 1)' "$tmp/want" "$tmp/out"
    t $? "example on $name: the text streams first"
done

f=$data/openai-chat.sse
head -c $(($(wc -c <"$f") - 30)) "$f" >"$tmp/cut.sse"
"$tmp/example" <"$tmp/cut.sse" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 1 ]; t $? "example on a cut stream: exit 1"
grep -q '"complete":false' "$tmp/out"; t $? "example on a cut stream: complete:false"
grep -q 'byte' "$tmp/err"; t $? "example on a cut stream: the error names the byte"

# the CLI synopsis in the README is the CLI's own
"$cli" --help | sed -n 's/^  tokstream \([a-z]\)/tokstream \1/p' | tr -s ' ' >"$tmp/cli.syn"
sed -n 's/^    tokstream \([a-z]\)/tokstream \1/p' "$readme" | tr -s ' ' >"$tmp/readme.syn"
[ "$(wc -l <"$tmp/cli.syn")" -ge 7 ]; t $? "tokstream --help lists the commands"
sort "$tmp/cli.syn" >"$tmp/a"; sort "$tmp/readme.syn" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b"; rc=$?; t $rc "README's CLI synopsis equals tokstream --help"
[ $rc = 0 ] || diff "$tmp/a" "$tmp/b" | sed 's/^/# /'

# relative links point at files
grep -o '](\([^)]*\))' "$readme" | sed 's/^](//; s/)$//' | grep -v '^http' | sort -u >"$tmp/links"
[ -s "$tmp/links" ]; t $? "README links to files"
while read -r l; do
    [ -e "$top/$l" ]; t $? "link $l exists"
done <"$tmp/links"

# the two commands are make targets
for target in demo check; do
    grep -q "^$target:" "$top/Makefile"; t $? "make $target exists"
done

echo "1..$n"
exit $fail
