/* framing_check.h - shared machinery of the framing parser tests: an event recorder that
 * writes every event into a text log, a driver that feeds an input in given pieces, and
 * the "every cut point and byte by byte give identical results" check. */
#ifndef TKS_TEST_FRAMING_CHECK_H
#define TKS_TEST_FRAMING_CHECK_H

#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable string for logs ---------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static inline void sb_add(sbuf *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static inline void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static inline void sb_fmt(sbuf *b, const char *fmt, unsigned long long v) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, fmt, v);
    sb_str(b, tmp);
}

/* A length-prefixed field, so a log cannot be ambiguous. */
static inline void sb_field(sbuf *b, char tag, const char *s, size_t n) {
    char tmp[40];
    snprintf(tmp, sizeof tmp, " %c%zu:", tag, n);
    sb_str(b, tmp);
    /* NUL, control bytes and '\\' escaped: logs are compared as C strings. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '\\') {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            sb_str(b, tmp);
        } else {
            sb_add(b, &s[i], 1);
        }
    }
}

/* ---- the recorder ------------------------------------------------------------------- */

typedef struct rec {
    sbuf log;
    long events;
    long stop_at;          /* return non-zero from the stop_at-th event (1-based); 0 = never */
    const char *in_lo;     /* the input buffer, to tell in-place (zero-copy) events */
    const char *in_hi;
    long in_place;         /* events whose data pointed into [in_lo, in_hi) */
} rec;

static inline void rec_event(rec *r, const tks_event *e) {
    sb_fmt(&r->log, "@%llu", e->offset);
    sb_field(&r->log, 't', e->type, e->type_len);
    sb_field(&r->log, 'm', e->message_type, e->message_type_len);
    sb_field(&r->log, 'i', e->id, e->id_len);
    sb_field(&r->log, 'd', e->data, e->data_len);
    sb_fmt(&r->log, " h%llu", e->n_headers);
    for (size_t i = 0; i < e->n_headers; i++) {
        const tks_header *h = &e->headers[i];
        sb_field(&r->log, 'n', h->name, h->name_len);
        sb_fmt(&r->log, " T%llu", (unsigned long long)h->type);
        char num[32];
        snprintf(num, sizeof num, " I%lld", (long long)h->integer);
        sb_str(&r->log, num);
        if (h->value) sb_field(&r->log, 'v', h->value, h->value_len);
    }
    sb_str(&r->log, "\n");
}

static inline int rec_cb(void *user, const tks_event *e) {
    rec *r = user;
    r->events++;
    if (!e->type || !e->id || !e->message_type || (!e->data && e->data_len)) {
        sb_str(&r->log, "NULL-POINTER-IN-EVENT\n");
        return 1;
    }
    if (r->in_lo && e->data >= r->in_lo && e->data < r->in_hi) r->in_place++;
    rec_event(r, e);
    return r->stop_at && r->events == r->stop_at;
}

static inline void rec_free(rec *r) {
    free(r->log.p);
    memset(r, 0, sizeof *r);
}

/* ---- one parser behind function pointers -------------------------------------------- */

typedef struct parser_ops {
    const char *name;
    /* Makes the parser with the test's config and allocator a (NULL = libc). */
    int (*make)(void **p, const tks_alloc *a, const void *cfg, rec *r);
    int (*push)(void *p, const void *data, size_t len);
    int (*finish)(void *p);
    void (*reset)(void *p);
    void (*free)(void *p);
    const char *(*error)(const void *p);
    uint64_t (*offset)(const void *p);
} parser_ops;

/* Feeds in[0..n) cut at the given points (increasing, each in 1..n-1), then finishes.
 * Appends the outcome (first non-OK push status, finish status, error offset and text)
 * to the log. Returns the final status (finish's, or the failing push's). */
static inline int feed_cuts(const parser_ops *ops, void *p, rec *r, const char *in, size_t n,
                            const size_t *cuts, size_t ncuts) {
    size_t at = 0;
    int prc = TKS_OK;
    for (size_t c = 0; c <= ncuts && prc == TKS_OK; c++) {
        size_t end = c < ncuts ? cuts[c] : n;
        prc = ops->push(p, in + at, end - at);
        at = end;
    }
    int frc = ops->finish(p);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "=> push %d finish %d offset %llu ", prc, frc,
             (unsigned long long)ops->offset(p));
    sb_str(&r->log, tmp);
    sb_str(&r->log, ops->error(p));
    sb_str(&r->log, "\n");
    return prc != TKS_OK ? prc : frc;
}

/* The whole log of parsing `in` cut at `cuts` with a fresh parser. */
static inline char *run_cuts(const parser_ops *ops, const void *cfg, const char *in, size_t n,
                             const size_t *cuts, size_t ncuts, int *status) {
    rec r = {0};
    void *p = NULL;
    int rc = ops->make(&p, NULL, cfg, &r);
    if (rc) {
        if (status) *status = rc;
        return strdup("make failed");
    }
    int st = feed_cuts(ops, p, &r, in, n, cuts, ncuts);
    if (status) *status = st;
    ops->free(p);
    char *out = r.log.p ? r.log.p : strdup("");
    return out;
}

static inline char *run_whole(const parser_ops *ops, const void *cfg, const char *in, size_t n,
                              int *status) {
    return run_cuts(ops, cfg, in, n, NULL, 0, status);
}

/*
 * The chunking property: the log for in[0..n) pushed whole equals the log for every
 * two-push cut [0,k) [k,n) and for byte-by-byte pushes. Emits two TAP lines. Returns the
 * whole-push log (caller frees) so the test can check it against expected values.
 */
static inline char *check_chunking(const parser_ops *ops, const void *cfg, const char *label,
                                   const char *in, size_t n, int *status) {
    char *whole = run_whole(ops, cfg, in, n, status);
    size_t bad_k = 0;
    char *bad_log = NULL;
    for (size_t k = 1; k < n && !bad_log; k++) {
        char *got = run_cuts(ops, cfg, in, n, &k, 1, NULL);
        if (strcmp(got, whole) != 0) {
            bad_k = k;
            bad_log = got;
        } else {
            free(got);
        }
    }
    ok(!bad_log, "%s: %s: every two-push cut (%zu) gives the whole-push result", ops->name,
       label, n ? n - 1 : 0);
    if (bad_log) {
        diag("first differing cut at k=%zu", bad_k);
        diag_bytes("whole", whole, strlen(whole));
        diag_bytes("cut", bad_log, strlen(bad_log));
        free(bad_log);
    }
    size_t *cuts = malloc((n ? n : 1) * sizeof *cuts);
    for (size_t k = 1; k < n; k++) cuts[k - 1] = k;
    char *bytes = run_cuts(ops, cfg, in, n, cuts, n ? n - 1 : 0, NULL);
    free(cuts);
    ok(strcmp(bytes, whole) == 0, "%s: %s: byte by byte gives the whole-push result", ops->name,
       label);
    if (strcmp(bytes, whole) != 0) {
        diag_bytes("whole", whole, strlen(whole));
        diag_bytes("bytes", bytes, strlen(bytes));
    }
    free(bytes);
    return whole;
}

/* ---- OOM torture ---------------------------------------------------------------------- */

typedef struct oom_case {
    const parser_ops *ops;
    const void *cfg;
    const char *in;
    size_t n;
    const size_t *cuts;
    size_t ncuts;
    const char *want; /* the log of a run without failures */
} oom_case;

static inline int oom_body(const tks_alloc *a, void *ctx) {
    oom_case *c = ctx;
    rec r = {0};
    void *p = NULL;
    int rc = c->ops->make(&p, a, c->cfg, &r);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    int st = feed_cuts(c->ops, p, &r, c->in, c->n, c->cuts, c->ncuts);
    int res = st == TKS_ENOMEM ? 1 : strcmp(r.log.p ? r.log.p : "", c->want) == 0 ? 0 : 2;
    if (res == 1) {
        /* The object must be usable again after reset. */
        c->ops->reset(p);
        rec_free(&r);
        r.log.p = NULL;
    }
    c->ops->free(p);
    rec_free(&r);
    return res;
}

/* ---- stop, reset, stickiness ------------------------------------------------------------ */

/* Stops at each event in turn (the input has `events` events): the push returns
 * TKS_STOPPED, every later call too, only the events up to the stop were seen; reset
 * makes the parser whole again. */
static inline void check_stop_reset(const parser_ops *ops, const void *cfg, const char *in,
                                    size_t n, long events, const char *want) {
    int all = 1;
    for (long k = 1; k <= events; k++) {
        rec r = {0};
        void *p = NULL;
        if (ops->make(&p, NULL, cfg, &r)) { all = 0; break; }
        r.stop_at = k;
        int rc = ops->push(p, in, n);
        if (rc == TKS_OK) rc = ops->finish(p); /* the last event may come at finish */
        int rc2 = ops->push(p, in, n);
        int rc3 = ops->finish(p);
        long seen = r.events;
        all &= rc == TKS_STOPPED && rc2 == TKS_STOPPED && rc3 == TKS_STOPPED && seen == k;
        all &= strcmp(ops->error(p), "") == 0;
        ops->reset(p);
        r.stop_at = 0;
        free(r.log.p);
        r.log.p = NULL;
        r.log.len = r.log.cap = 0;
        r.events = 0;
        feed_cuts(ops, p, &r, in, n, NULL, 0);
        all &= strcmp(r.log.p, want) == 0;
        ops->free(p);
        rec_free(&r);
    }
    ok(all, "%s: a callback's stop at each of %ld events is sticky until reset, then a clean "
       "parse", ops->name, events);
}

/* An error is sticky: later pushes and finish return it, and reset clears it. */
static inline void check_sticky(const parser_ops *ops, const void *cfg, const char *bad,
                                size_t bad_n, int want_rc, const char *good, size_t good_n,
                                const char *good_want) {
    rec r = {0};
    void *p = NULL;
    if (ops->make(&p, NULL, cfg, &r)) {
        ok(0, "%s: make", ops->name);
        return;
    }
    int rc = ops->push(p, bad, bad_n);
    if (rc == TKS_OK) rc = ops->finish(p);
    uint64_t off = ops->offset(p);
    int rc2 = ops->push(p, good, good_n);
    int rc3 = ops->finish(p);
    is_int(rc, want_rc, "%s: the bad input gives %s", ops->name, tks_status_name(want_rc));
    ok(rc2 == want_rc && rc3 == want_rc && ops->offset(p) == off && ops->error(p)[0],
       "%s: the error is sticky (push and finish repeat it, same offset)", ops->name);
    ops->reset(p);
    ok(ops->error(p)[0] == 0 && ops->offset(p) == 0, "%s: reset clears the error", ops->name);
    free(r.log.p);
    memset(&r, 0, sizeof r);
    feed_cuts(ops, p, &r, good, good_n, NULL, 0);
    is_str(r.log.p, good_want, "%s: after reset a good stream parses", ops->name);
    ops->free(p);
    rec_free(&r);
}

#endif
