/* testalloc.h - the fault-injecting, leak-counting test allocator (SQLite/curl style
 * OOM torture). Fails the k-th allocation once, or the k-th and every one after it. */
#ifndef TKS_TEST_ALLOC_H
#define TKS_TEST_ALLOC_H

#include "tokstream.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct talloc {
    long calls;        /* malloc + realloc calls so far */
    long fail_at;      /* 1-based call number to fail; 0 = never */
    int persistent;    /* fail every call from fail_at on */
    long injected;     /* failures injected so far */
    long live;         /* blocks allocated and not freed */
    long long live_bytes;
    long long peak_bytes;
    long size_errors;  /* realloc/free given a size different from the block's */
} talloc;

/* Every block carries its size in a header, to check the sizes the library passes. */
typedef struct { size_t size; size_t pad; } talloc_hdr_;

static inline int talloc_should_fail_(talloc *t) {
    t->calls++;
    if (t->fail_at && (t->calls == t->fail_at || (t->persistent && t->calls > t->fail_at))) {
        t->injected++;
        return 1;
    }
    return 0;
}

static inline void *talloc_malloc_(void *ctx, size_t size) {
    talloc *t = ctx;
    if (talloc_should_fail_(t)) return NULL;
    talloc_hdr_ *h = malloc(sizeof *h + size);
    if (!h) return NULL;
    h->size = size;
    t->live++;
    t->live_bytes += (long long)size;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return h + 1;
}

static inline void *talloc_realloc_(void *ctx, void *p, size_t old_size, size_t new_size) {
    talloc *t = ctx;
    talloc_hdr_ *h = (talloc_hdr_ *)p - 1;
    if (h->size != old_size) t->size_errors++;
    if (talloc_should_fail_(t)) return NULL;
    talloc_hdr_ *n = realloc(h, sizeof *n + new_size);
    if (!n) return NULL;
    t->live_bytes += (long long)new_size - (long long)n->size;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    n->size = new_size;
    return n + 1;
}

static inline void talloc_free_(void *ctx, void *p, size_t size) {
    talloc *t = ctx;
    talloc_hdr_ *h = (talloc_hdr_ *)p - 1;
    if (h->size != size) t->size_errors++;
    t->live--;
    t->live_bytes -= (long long)h->size;
    free(h);
}

static inline tks_alloc talloc_make(talloc *t) {
    memset(t, 0, sizeof *t);
    tks_alloc a = {talloc_malloc_, talloc_realloc_, talloc_free_, t};
    return a;
}

/*
 * OOM torture. body runs a whole scenario with the given allocator and returns
 * 0 when it produced the right answer, 1 when it stopped with a clean TKS_ENOMEM (or
 * the error it documents for a failed allocation), and anything else for a wrong result.
 * For every k (then in persistent mode too) the k-th allocation fails; every run must
 * answer 0 or 1, leak nothing and pass the right sizes. The loop ends when a run
 * injected no failure. Emits one TAP line per mode.
 */
typedef int (*talloc_body)(const tks_alloc *a, void *ctx);

static inline void oom_torture(const char *name, talloc_body body, void *ctx) {
    for (int persistent = 0; persistent <= 1; persistent++) {
        long k, bad_k = 0, runs = 0;
        const char *why = "";
        for (k = 1; k < 1000000; k++) {
            talloc t;
            tks_alloc a = talloc_make(&t);
            t.fail_at = k;
            t.persistent = persistent;
            int r = body(&a, ctx);
            runs++;
            if (r != 0 && r != 1) { bad_k = k; why = "wrong result"; break; }
            if (t.live != 0) { bad_k = k; why = "leak"; break; }
            if (t.size_errors) { bad_k = k; why = "wrong size passed to realloc/free"; break; }
            if (t.injected == 0) {
                if (r != 0) { bad_k = k; why = "failed with no failure injected"; }
                break;
            }
        }
        ok(bad_k == 0, "%s: OOM torture (%s), %ld runs", name,
           persistent ? "persistent" : "once", runs);
        if (bad_k) diag("failing allocation k=%ld: %s", bad_k, why);
    }
}

#endif
