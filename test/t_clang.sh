#!/bin/sh
# Every C file of the project is warning-free under clang too (the build uses $CC).
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
flags="-std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers -Iinclude -Ilib -Itest -Icli $(pkg-config --cflags libutf8proc libcjson)"
n=0 fail=0
if ! command -v clang >/dev/null; then echo "not ok 1 - clang is installed"; echo 1..1; exit 1; fi
for f in lib/*.c cli/*.c bench/*.c test/*.c test/fuzz/*.c examples/*.c; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if out=$(clang $flags -fsyntax-only "$f" 2>&1); then echo "ok $n - clang: $f"
    else echo "not ok $n - clang: $f"; echo "$out" | sed 's/^/# /'; fail=1; fi
done
echo "1..$n"
exit $fail
