#!/bin/sh
# The Go binding (bindings/go): runs its `go test -v` (with the race detector when this Go
# supports it with cgo) and reports one TAP line per test and subtest from the -v output.
# A missing `go`, an unbuilt library or a build failure is `not ok`, never a skip.
# Environment: TKS_TOP (repo root), TKS_BUILD (build dir, holds libtokstream.a and the
# tokstream CLI the tests compare against), TKS_TEST_DATA (test/data), TKS_SHARED.
top=${TKS_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TKS_BUILD:-$top/build}
TKS_TOP=$top TKS_BUILD=$build
TKS_TEST_DATA=${TKS_TEST_DATA:-$top/test/data}
TKS_SHARED=${TKS_SHARED:-$top/../shared}
export TKS_TOP TKS_BUILD TKS_TEST_DATA TKS_SHARED
n=0 fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
finish() { echo "1..$n"; exit $fail; }

if ! command -v go >/dev/null 2>&1; then
    t 1 "go is installed (apt-get install golang-go)"; finish
fi
# The package links the library of its own tree (bindings/go/../../build).
lib=$top/build/libtokstream.a
if [ ! -f "$lib" ]; then
    t 1 "$lib is built (make all)"; finish
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Go's caches live in the build dir (kept between runs: the first run compiles the
# standard library for the race detector), or in the temporary dir when it is read-only.
gohome=$build/go
mkdir -p "$gohome" 2>/dev/null && [ -w "$gohome" ] || gohome=$tmp/go
GOCACHE=$gohome/cache GOPATH=$gohome/path GOMODCACHE=$gohome/path/pkg/mod
GOTOOLCHAIN=local GOFLAGS= GOPROXY=off GO111MODULE=on GOENV=off CGO_ENABLED=1
export GOCACHE GOPATH GOMODCACHE GOTOOLCHAIN GOFLAGS GOPROXY GO111MODULE GOENV CGO_ENABLED
# cgo does not track the header and library outside the package: a stamp of them in the
# C flags makes Go rebuild the package when they change.
stamp=$(cat "$top/include/tokstream.h" "$lib" | cksum | cut -d' ' -f1)
CGO_CFLAGS="${CGO_CFLAGS:--g -O2} -DTKS_GO_STAMP=$stamp"
export CGO_CFLAGS

echo "# $(go version)"
cd "$top/bindings/go" || { t 1 "cd $top/bindings/go"; finish; }

start=$(date +%s)
race=-race
go test $race -count=1 -v . >"$tmp/out" 2>&1
rc=$?
if [ $rc != 0 ] && ! grep -q '^=== RUN' "$tmp/out" && grep -qi 'race' "$tmp/out"; then
    echo "# -race unavailable here, running without it:"
    sed 's/^/#   /' "$tmp/out" | head -5
    race=
    go test -count=1 -v . >"$tmp/out" 2>&1
    rc=$?
fi
echo "# go test $race took $(( $(date +%s) - start )) s, exit $rc"

# One TAP line per test and subtest: "--- PASS: Name (0.00s)", indented for subtests.
sed -n 's/^ *--- \(PASS\|FAIL\|SKIP\): \([^ ]*\).*/\1 \2/p' "$tmp/out" >"$tmp/results"
while read -r res name; do
    n=$((n + 1))
    case $res in
    PASS) echo "ok $n - $name" ;;
    SKIP) echo "ok $n - $name # SKIP" ;;
    *) echo "not ok $n - $name"; fail=1 ;;
    esac
done <"$tmp/results"
[ -s "$tmp/results" ]; t $? "go test ran tests"
[ $rc = 0 ]; t $? "go test $race exit status 0 (got $rc)"
if [ $rc != 0 ]; then
    sed 's/^/# /' "$tmp/out" | grep -v '^# \(=== \(RUN\|PAUSE\|CONT\)\| *--- PASS\)' | head -200
fi
unformatted=$(gofmt -l . 2>&1)
[ -z "$unformatted" ]; t $? "gofmt -l is empty ($unformatted)"
finish
