#!/bin/sh
# `make install DESTDIR=...` installs a library that pkg-config finds and a program
# compiles and runs against; `make uninstall` removes it again.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
dest=$tmp/root prefix=/usr/local
make -C "$top" --no-print-directory install DESTDIR="$dest" PREFIX=$prefix >"$tmp/log" 2>&1
t $? "make install DESTDIR=... succeeds"; [ $fail = 0 ] || sed 's/^/# /' "$tmp/log"
for f in lib/libtokstream.a lib/libtokstream.so lib/pkgconfig/tokstream.pc include/tokstream.h \
         bin/tokstream share/man/man1/tokstream.1 share/man/man7/tokstream.7 share/man/man3/tks_strerror.3; do
    [ -e "$dest$prefix/$f" ]; t $? "installed $f"
done
major=$(sed -n 's/^#define TKS_VERSION_MAJOR \([0-9]*\)/\1/p' "$top/include/tokstream.h")
[ -e "$dest$prefix/lib/libtokstream.so.$major" ]; t $? "installed the SONAME link"

cat > "$tmp/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tokstream.h>
int main(void) {
    printf("%s %s\n", tks_version(), tks_strerror(TKS_ELIMIT));
    return strcmp(tks_version(), TKS_VERSION_STRING) != 0;
}
C
export PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs tokstream 2>"$tmp/err"); t $? "pkg-config finds tokstream"
${CC:-cc} "$tmp/use.c" $flags -o "$tmp/use" 2>"$tmp/err"; t $? "an example compiles with pkg-config --cflags --libs tokstream"
sed 's/^/# /' "$tmp/err"
out=$(LD_LIBRARY_PATH="$dest$prefix/lib" "$tmp/use"); t $? "it runs against the installed shared library"
echo "$out" | grep -q "a configured size limit"; t $? "and gets the library's answers"
${CC:-cc} "$tmp/use.c" $(pkg-config --cflags tokstream) "$dest$prefix/lib/libtokstream.a" $(pkg-config --libs --static tokstream | sed 's/-ltokstream//') -o "$tmp/use-static" 2>"$tmp/err"
t $? "it links statically too"; sed 's/^/# /' "$tmp/err"
"$dest$prefix/bin/tokstream" --version >/dev/null; t $? "the installed CLI runs"
make -C "$top" --no-print-directory uninstall DESTDIR="$dest" PREFIX=$prefix >"$tmp/log" 2>&1
left=$(find "$dest" -type f -o -type l); [ -z "$left" ]; t $? "make uninstall removes every installed file"
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'
echo "1..$n"
exit $fail
