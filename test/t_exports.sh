#!/bin/sh
# The shared library exports only tks_ symbols, carries its SONAME, and the static and
# shared libraries hold the same public functions.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
b=${TKS_BUILD:-$top/build}
so=$b/libtokstream.so
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

major=$(sed -n 's/^#define TKS_VERSION_MAJOR \([0-9]*\)/\1/p' "$top/include/tokstream.h")
[ -f "$so" ]; t $? "shared library built"
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | sort -u)
[ -n "$exported" ]; t $? "it exports symbols"
others=$(echo "$exported" | grep -v '^tks_' || true)
[ -z "$others" ]; t $? "only tks_ symbols are exported"
[ -z "$others" ] || echo "$others" | sed 's/^/#   exported: /'
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libtokstream.so.$major" ]; t $? "SONAME is libtokstream.so.$major (got $soname)"
[ -e "$b/libtokstream.so.$major" ]; t $? "libtokstream.so.$major link exists"
static=$(nm --defined-only "$b/libtokstream.a" 2>/dev/null | awk '$2 == "T" {print $3}' | grep '^tks_[a-z]' | grep -v '^tks__' | sort -u)
shared=$(echo "$exported" | grep '^tks_' | sort -u)
[ "$static" = "$shared" ]; t $? "static and shared libraries define the same public functions"
declared=$(grep -oE '\btks_[a-z0-9_]+[[:space:]]*\(' "$top/include/tokstream.h" | tr -d ' (' | sort -u)
missing=$(for f in $declared; do echo "$shared" | grep -qx "$f" || echo "$f"; done)
[ -z "$missing" ]; t $? "every function declared in tokstream.h is exported"
[ -z "$missing" ] || echo "$missing" | sed 's/^/#   not exported: /'
echo "1..$n"
exit $fail
