# tokstream - the build every user runs.
#   make            library (static + shared), CLI, pkg-config file   -> build/
#   make check      every test, under AddressSanitizer + UBSan (the one test command)
#   make demo       runs the CLI on a bundled stream
#   make bench      build/tokstream-bench (see BENCHMARKS.md)
#   make fuzz       libFuzzer harnesses with clang (build/fuzz/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall, make clean
# meson.build builds the same library for packagers; `make check` builds it too.

CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

MAJOR := $(shell sed -n 's/^\#define TKS_VERSION_MAJOR \([0-9]*\)/\1/p' include/tokstream.h)
MINOR := $(shell sed -n 's/^\#define TKS_VERSION_MINOR \([0-9]*\)/\1/p' include/tokstream.h)
PATCH := $(shell sed -n 's/^\#define TKS_VERSION_PATCH \([0-9]*\)/\1/p' include/tokstream.h)
VERSION := $(MAJOR).$(MINOR).$(PATCH)
SONAME := libtokstream.so.$(MAJOR)

B := build
WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-missing-field-initializers
BASE_CFLAGS := -std=c11 $(WARN) -Iinclude -Ilib
CFLAGS ?= -O2 -g
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

LIB_SRC := $(sort $(wildcard lib/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
TEST_SRC := $(sort $(wildcard test/t_*.c))
TEST_SH := $(sort $(wildcard test/t_*.sh))
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))
HDR := include/tokstream.h lib/internal.h $(wildcard lib/*.h)

LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/obj/%.o)
ASAN_OBJ := $(LIB_SRC:lib/%.c=$(B)/asan/obj/%.o)
TESTS := $(TEST_SRC:test/%.c=$(B)/asan/%)
FUZZ_REPLAY := $(FUZZ_SRC:test/fuzz/%.c=$(B)/asan/%)

# The dependency flags come from pkg-config (the library needs utf8proc and libm; cJSON
# is for the CLI, the tests and the bench), after tools/install-deps made sure the
# packages are there. Generating build/config.mk is what runs it, before anything else.
NODEPS_GOALS := clean uninstall help
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
include $(B)/config.mk
endif

$(B)/config.mk: tools/install-deps Makefile
	@mkdir -p $(B)
	@tools/install-deps build
	@{ echo "DEPS_CFLAGS := $$(pkg-config --cflags libutf8proc libcjson)"; \
	   echo "LIB_LIBS := $$(pkg-config --libs libutf8proc) -lm"; \
	   echo "DEPS_LIBS := $$(pkg-config --libs libutf8proc libcjson)"; } > $@.tmp && mv $@.tmp $@

.PHONY: all check demo bench fuzz install uninstall clean help test-deps meson-check
.DEFAULT_GOAL := all

# The libcurl example is built when libcurl is there (make check installs it).
HAVE_CURL := $(shell pkg-config --exists libcurl 2>/dev/null && echo yes)
EXAMPLES := $(if $(HAVE_CURL),$(B)/curl-client)

all: $(B)/libtokstream.a $(B)/libtokstream.so $(B)/tokstream $(B)/tokstream.pc $(EXAMPLES)

# ---- library ------------------------------------------------------------------------

$(B)/obj/%.o: lib/%.c $(HDR) | $(B)/obj
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(DEPS_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(B)/libtokstream.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/libtokstream.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LIB_LIBS)

$(B)/libtokstream.so: $(B)/libtokstream.so.$(VERSION)
	ln -sf libtokstream.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libtokstream.so.$(VERSION) $@

$(B)/tokstream.pc: tools/tokstream.pc.in include/tokstream.h Makefile | $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< > $@

$(B)/tokstream: $(CLI_SRC) cli/cli.h $(B)/libtokstream.a
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(DEPS_CFLAGS) -Icli $(CLI_SRC) $(B)/libtokstream.a $(DEPS_LIBS) -lm -o $@

$(B) $(B)/obj $(B)/asan/obj $(B)/bench:
	mkdir -p $@

# ---- tests: everything under ASan + UBSan ----------------------------------------------

$(B)/asan/obj/%.o: lib/%.c $(HDR) | $(B)/asan/obj
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(DEPS_CFLAGS) -c $< -o $@

$(B)/asan/libtokstream.a: $(ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/asan/t_%: test/t_%.c test/*.h $(B)/asan/libtokstream.a
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(DEPS_CFLAGS) -Itest $< $(B)/asan/libtokstream.a $(DEPS_LIBS) -lm -o $@

$(B)/asan/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(B)/asan/libtokstream.a
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(DEPS_CFLAGS) -Itest $< test/fuzz/replay.c $(B)/asan/libtokstream.a $(DEPS_LIBS) -lm -o $@

$(B)/asan/tokstream: $(CLI_SRC) cli/cli.h $(B)/asan/libtokstream.a
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(DEPS_CFLAGS) -Icli $(CLI_SRC) $(B)/asan/libtokstream.a $(DEPS_LIBS) -lm -o $@

$(B)/curl-client: examples/curl-client.c include/tokstream.h $(B)/libtokstream.a
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $$(pkg-config --cflags libcurl) $< $(B)/libtokstream.a \
	  $(LIB_LIBS) $$(pkg-config --libs libcurl) -o $@

# Environment of every test program and script.
TEST_ENV := TKS_TOP=$(CURDIR) TKS_BUILD=$(CURDIR)/$(B) TKS_CLI=$(CURDIR)/$(B)/asan/tokstream \
            TKS_TEST_DATA=$(CURDIR)/test/data TKS_SHARED=$(abspath ../shared) CC=$(CC) \
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

test-deps:
	@tools/install-deps check

# Every test program, script, fuzz-corpus replay, then the meson build and its tests.
check: test-deps all $(B)/curl-client $(TESTS) $(FUZZ_REPLAY) $(B)/asan/tokstream
	@chmod +x $(TEST_SH) 2>/dev/null || true
	$(TEST_ENV) prove --exec '' --timer $(TESTS) $(FUZZ_REPLAY) $(TEST_SH)
	@$(MAKE) --no-print-directory meson-check

# The meson build must build the same library and pass the same tests.
meson-check:
	rm -rf $(B)/meson
	meson setup $(B)/meson --buildtype=debugoptimized -Dwerror=true >$(B)/meson-setup.log
	ninja -C $(B)/meson >$(B)/meson-build.log
	$(TEST_ENV) meson test -C $(B)/meson --print-errorlogs

# ---- demo, bench, fuzz -------------------------------------------------------------

demo: all
	@tools/demo $(B)/tokstream

bench: $(B)/tokstream-bench

$(B)/tokstream-bench: $(BENCH_SRC) bench/bench.h $(B)/libtokstream.a | $(B)/bench
	$(CC) $(BASE_CFLAGS) -O2 -g -DNDEBUG $(DEPS_CFLAGS) $(BENCH_SRC) $(B)/libtokstream.a $(DEPS_LIBS) -lm -o $@

FUZZ_CC ?= clang
fuzz: $(FUZZ_SRC:test/fuzz/%.c=$(B)/fuzz/%)

$(B)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(LIB_SRC) $(HDR)
	@mkdir -p $(B)/fuzz
	$(FUZZ_CC) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined $(DEPS_CFLAGS) -Itest $< $(LIB_SRC) $(DEPS_LIBS) -lm -o $@

# ---- install -----------------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(B)/libtokstream.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libtokstream.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libtokstream.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libtokstream.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtokstream.so
	install -m 644 $(B)/tokstream.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 include/tokstream.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(B)/tokstream $(DESTDIR)$(BINDIR)/
	install -m 644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/man7/*.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libtokstream.a $(DESTDIR)$(LIBDIR)/libtokstream.so* \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/tokstream.pc $(DESTDIR)$(INCLUDEDIR)/tokstream.h \
	  $(DESTDIR)$(BINDIR)/tokstream $(DESTDIR)$(MANDIR)/man7/tokstream.7 \
	  $(DESTDIR)$(MANDIR)/man1/tokstream.1
	for f in man/man3/*.3; do rm -f $(DESTDIR)$(MANDIR)/man3/$${f##*/}; done

clean:
	rm -rf $(B)

help:
	@sed -n '2,9p' Makefile
