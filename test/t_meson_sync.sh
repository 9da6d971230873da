#!/bin/sh
# meson.build lists exactly the sources, man pages, tests and fuzz harnesses in the tree,
# so the meson build and the Makefile cannot drift apart (fix: tools/meson-lists --write).
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
n=0 fail=0
for list in LIB CLI MAN TESTS FUZZ; do
    n=$((n + 1))
    want=$(tools/meson-lists | awk -v l=$list '/^[A-Z]+$/ {on = ($0 == l); next} on')
    have=$(awk -v l="# @@$list@@" '$0 == l {on = 1; next} on && /^  / {print; next} {on = 0}' meson.build)
    if [ "$want" = "$have" ]; then echo "ok $n - meson.build $list list matches the tree"
    else echo "not ok $n - meson.build $list list matches the tree (run tools/meson-lists --write)"; fail=1; fi
done
echo "1..$n"
exit $fail
