/* tap.h - a minimal TAP producer for the test programs (header only; tests are
 * single-file programs). */
#ifndef TKS_TEST_TAP_H
#define TKS_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

static inline void tap_vreport(int pass, const char *file, int line, const char *fmt, va_list ap) {
    tap_count++;
    if (!pass) tap_failed++;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
    vprintf(fmt, ap);
    printf("\n");
    if (!pass) printf("#   failed at %s:%d\n", file, line);
    fflush(stdout);
}

static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tap_vreport(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

static inline void diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* Prints a byte string as a C literal in a diagnostic line. */
static inline void diag_bytes(const char *label, const void *p, size_t n) {
    const unsigned char *s = p;
    printf("#   %s (%zu bytes): \"", label, n);
    for (size_t i = 0; i < n && i < 400; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') putchar(s[i]);
        else printf("\\x%02x", s[i]);
    }
    printf("%s\"\n", n > 400 ? "..." : "");
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                        \
    do {                                                                              \
        long long got_ = (long long)(got), want_ = (long long)(want);                 \
        if (!tap_ok(got_ == want_, __FILE__, __LINE__, __VA_ARGS__))                  \
            printf("#   got %lld, want %lld\n", got_, want_);                         \
    } while (0)

#define is_mem(got, gotlen, want, wantlen, ...)                                       \
    do {                                                                              \
        const void *g_ = (got), *w_ = (want);                                         \
        size_t gl_ = (gotlen), wl_ = (wantlen);                                       \
        int same_ = gl_ == wl_ && (gl_ == 0 || memcmp(g_, w_, gl_) == 0);             \
        if (!tap_ok(same_, __FILE__, __LINE__, __VA_ARGS__)) {                        \
            diag_bytes("got", g_, gl_);                                               \
            diag_bytes("want", w_, wl_);                                              \
        }                                                                             \
    } while (0)

#define is_str(got, want, ...)                                                        \
    do {                                                                              \
        const char *gs_ = (got), *ws_ = (want);                                       \
        if (!gs_) gs_ = "(null)";                                                     \
        if (!ws_) ws_ = "(null)";                                                     \
        is_mem(gs_, strlen(gs_), ws_, strlen(ws_), __VA_ARGS__);                      \
    } while (0)

/* Ends the program: prints the plan, exit status 0 only if every test passed. */
static inline int done_testing(void) {
    printf("1..%d\n", tap_count);
    if (tap_count == 0) {
        printf("# no tests ran: that is a failure\n");
        return 1;
    }
    return tap_failed ? 1 : 0;
}

/* Whole-program skip, for tests whose data is absent; says why. */
static inline int skip_all(const char *why) {
    printf("1..0 # SKIP %s\n", why);
    return 0;
}

#endif
