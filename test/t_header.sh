#!/bin/sh
# The public header stands alone (C11 and C++), is warning-free with gcc and clang, and
# keeps the FFI rules: no variadic functions, no unions, no bit-fields.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
h=$top/include/tokstream.h
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
printf '#include <tokstream.h>\nint main(void) { return tks_version()[0] == 0; }\n' > "$tmp/a.c"
for cc in gcc clang; do
    if command -v $cc >/dev/null; then
        $cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$top/include" -fsyntax-only "$tmp/a.c" 2>"$tmp/err"
        t $? "header compiles alone with $cc -std=c11 -Wpedantic -Werror"; sed 's/^/# /' "$tmp/err"
        $cc -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$top/include" -fsyntax-only "$tmp/a.c" 2>"$tmp/err"
        t $? "header compiles with $cc -std=c99"; sed 's/^/# /' "$tmp/err"
    else
        t 1 "$cc is installed (tools/install-deps check)"
    fi
done
cp "$tmp/a.c" "$tmp/a.cpp"
if command -v g++ >/dev/null; then
    g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$top/include" -fsyntax-only "$tmp/a.cpp" 2>"$tmp/err"
    t $? "header compiles as C++11"; sed 's/^/# /' "$tmp/err"
fi
# Comments stripped, then look for what FFI cannot bind.
code=$(gcc -fpreprocessed -dD -E -P "$h" 2>/dev/null)
echo "$code" | grep -q '\.\.\.'; [ $? != 0 ]; t $? "no variadic declarations"
echo "$code" | grep -qw 'union'; [ $? != 0 ]; t $? "no unions"
echo "$code" | grep -qE '^[^()]*:[[:space:]]*[0-9]+[[:space:]]*;'; [ $? != 0 ]; t $? "no bit-fields"
echo "$code" | grep -E '^TKS_API ' | sed 's/^TKS_API //' | grep -vE '\btks_[a-z0-9_]+\(' >"$tmp/bad"
[ ! -s "$tmp/bad" ]; t $? "every exported function is named tks_*"; sed 's/^/#   /' "$tmp/bad"
echo "1..$n"
exit $fail
