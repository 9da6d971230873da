#!/bin/sh
# t_python.sh - the Python binding's tests (bindings/python/test_tokstream.py, stdlib
# unittest) as TAP: one line per unittest test. They load the plain (non-ASan)
# $TKS_BUILD/libtokstream.so and compare with $TKS_BUILD/tokstream.
# Environment (from the Makefile; defaults relative to this script): TKS_TOP, TKS_BUILD,
# TKS_TEST_DATA, TKS_SHARED (optional: vocab goldens and provider fixtures).
here=$(cd "$(dirname "$0")" && pwd)
TKS_TOP=${TKS_TOP:-$(dirname "$here")}
TKS_BUILD=${TKS_BUILD:-$TKS_TOP/build}
TKS_TEST_DATA=${TKS_TEST_DATA:-$TKS_TOP/test/data}
if [ -z "${TKS_SHARED:-}" ] && [ -d "$TKS_TOP/../shared" ]; then
    TKS_SHARED=$(cd "$TKS_TOP/../shared" && pwd)
fi
export TKS_TOP TKS_BUILD TKS_TEST_DATA
[ -n "${TKS_SHARED:-}" ] && export TKS_SHARED

py=$(command -v python3) || { echo "1..0 # SKIP python3 not found"; exit 0; }
lib=$TKS_BUILD/libtokstream.so
if [ ! -e "$lib" ]; then
    echo "1..1"
    echo "not ok 1 - $lib exists (run make all first)"
    exit 1
fi
# The library under test is always the one of this build, whatever the caller has set.
TOKSTREAM_LIB=$lib
PYTHONDONTWRITEBYTECODE=1
export TOKSTREAM_LIB PYTHONDONTWRITEBYTECODE
exec "$py" "$TKS_TOP/bindings/python/test_tokstream.py" --tap
