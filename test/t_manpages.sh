#!/bin/sh
# Every public function has its man page; every page is mandoc-lint clean.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$top/tools/check-man" "${TKS_BUILD:-$top/build}/libtokstream.so"
