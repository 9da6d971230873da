/* t_sse_writer.c - tks_sse_writer: exact bytes for hand-written events, refusals, stop and
 * reset, events larger than the output buffer, OOM torture, and parse(write(e)) == e for
 * thousands of random events (seeded PRNG), read back whole and at random cuts. */
#include "tap.h"
#include "testalloc.h"
#include "tokstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t len, cap;
    int calls;
    int stop_at; /* return 1 at this call (1-based); 0 never */
} out;

static void out_put(out *o, const char *s, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1) cap *= 2;
        char *q = realloc(o->p, cap);
        if (!q) abort();
        o->p = q;
        o->cap = cap;
    }
    if (n) memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static int on_bytes(void *user, const char *bytes, size_t len) {
    out *o = user;
    o->calls++;
    out_put(o, bytes, len);
    return o->stop_at && o->calls == o->stop_at;
}

static tks_sse_out ev_make(const char *type, const char *id, const char *data, size_t data_len,
                           int64_t retry) {
    tks_sse_out e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.type_len = type ? strlen(type) : 0;
    e.id = id;
    e.id_len = id ? strlen(id) : 0;
    e.data = data;
    e.data_len = data_len;
    e.retry_ms = retry;
    return e;
}

#define S(lit) (lit), (sizeof(lit) - 1)
#define W(name, e, lit) check_write(name, e, lit, sizeof(lit) - 1)

/* Writes one event with a fresh writer and compares the bytes. */
static void check_write(const char *name, tks_sse_out e, const char *want, size_t want_len) {
    out o;
    memset(&o, 0, sizeof o);
    out_put(&o, "", 0);
    tks_sse_writer *w;
    tks_sse_writer_new(&w, NULL, on_bytes, &o);
    int rc = tks_sse_writer_event(w, &e);
    is_int(rc, TKS_OK, "%s: written", name);
    is_mem(o.p, o.len, want, want_len, "%s: bytes", name);
    tks_sse_writer_free(w);
    free(o.p);
}

static void test_bytes(void) {
    W("plain", ev_make(NULL, NULL, S("hello"), -1), "data: hello\n\n");
    W("all fields", ev_make("delta", "7", S("x"), 3000), "event: delta\nid: 7\nretry: 3000\ndata: x\n\n");
    W("message type omitted", ev_make("message", NULL, S("x"), -1), "data: x\n\n");
    W("empty type omitted", ev_make("", NULL, S("x"), -1), "data: x\n\n");
    W("empty data", ev_make(NULL, NULL, NULL, 0, -1), "data:\n\n");
    W("empty id resets", ev_make(NULL, "", S("x"), -1), "id:\ndata: x\n\n");
    W("lines split at LF, CR, CRLF", ev_make(NULL, NULL, S("a\nb\rc\r\nd"), -1), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    W("data ending in a line end", ev_make(NULL, NULL, S("a\n"), -1), "data: a\ndata:\n\n");
    W("data that is one line end", ev_make(NULL, NULL, S("\r\n"), -1), "data:\ndata:\n\n");
    W("leading spaces kept", ev_make("  t", " i", S(" x"), -1), "event:   t\nid:  i\ndata:  x\n\n");
    W("retry 0", ev_make(NULL, NULL, S("x"), 0), "retry: 0\ndata: x\n\n");
    W("retry max", ev_make(NULL, NULL, S("x"), INT64_MAX), "retry: 9223372036854775807\ndata: x\n\n");
    W("NUL in data", ev_make(NULL, NULL, S("a\0b"), -1), "data: a\0b\n\n");
}

static void test_refusals(void) {
    out o;
    memset(&o, 0, sizeof o);
    out_put(&o, "", 0);
    tks_sse_writer *w;
    is_int(tks_sse_writer_new(&w, NULL, on_bytes, &o), TKS_OK, "new");
    tks_sse_out e = ev_make("a\nb", NULL, S("x"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "type with LF refused");
    ok(strstr(tks_sse_writer_error(w), "type") != NULL, "error says why: %s", tks_sse_writer_error(w));
    e = ev_make("a\rb", NULL, S("x"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "type with CR refused");
    e = ev_make(NULL, "1\n", S("x"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "id with LF refused");
    e = ev_make(NULL, "\r", S("x"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "id with CR refused");
    e = ev_make(NULL, NULL, S("x"), -1);
    e.id = "a\0b";
    e.id_len = 3;
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "id with NUL refused");
    e = ev_make(NULL, NULL, S("\xFF"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EUTF8, "invalid UTF-8 data refused");
    e = ev_make("\xC3", NULL, S("x"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EUTF8, "invalid UTF-8 type refused");
    e = ev_make(NULL, NULL, NULL, 3, -1);
    is_int(tks_sse_writer_event(w, &e), TKS_EINVAL, "NULL data with a length refused");
    is_int(tks_sse_writer_event(w, NULL), TKS_EINVAL, "NULL event refused");
    is_int(tks_sse_writer_comment(w, S("a\nb")), TKS_EINVAL, "comment with LF refused");
    is_int(tks_sse_writer_comment(w, S("a\rb")), TKS_EINVAL, "comment with CR refused");
    is_int(tks_sse_writer_comment(w, S("\xE2\x82")), TKS_EUTF8, "comment with bad UTF-8 refused");
    is_int(o.len, 0, "nothing written by refused calls");
    e = ev_make(NULL, NULL, S("ok"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_OK, "still usable after refusals");
    is_int(tks_sse_writer_comment(w, S(" keep-alive")), TKS_OK, "comment");
    is_int(tks_sse_writer_comment(w, NULL, 0), TKS_OK, "empty comment");
    is_mem(o.p, o.len, "data: ok\n\n: keep-alive\n:\n", sizeof("data: ok\n\n: keep-alive\n:\n") - 1, "bytes");
    tks_sse_writer_reset(w);
    is_str(tks_sse_writer_error(w), "", "reset clears the error text");
    tks_sse_writer_free(w);
    tks_sse_writer_free(NULL);
    tks_sse_writer_reset(NULL);
    is_int(tks_sse_writer_event(NULL, &e), TKS_EINVAL, "event(NULL writer)");
    is_int(tks_sse_writer_new(NULL, NULL, on_bytes, &o), TKS_EINVAL, "new(NULL out)");
    tks_alloc bad = {NULL, NULL, NULL, NULL};
    tks_sse_writer_config cfg = {&bad};
    is_int(tks_sse_writer_new(&w, &cfg, on_bytes, &o), TKS_EINVAL, "allocator without functions");
    free(o.p);
}

static void test_stop_big(void) {
    out o;
    memset(&o, 0, sizeof o);
    out_put(&o, "", 0);
    o.stop_at = 2;
    tks_sse_writer *w;
    tks_sse_writer_new(&w, NULL, on_bytes, &o);
    tks_sse_out e = ev_make(NULL, NULL, S("1"), -1);
    is_int(tks_sse_writer_event(w, &e), TKS_OK, "first event");
    is_int(tks_sse_writer_event(w, &e), TKS_STOPPED, "callback stop -> TKS_STOPPED");
    is_int(tks_sse_writer_event(w, &e), TKS_STOPPED, "stays stopped");
    is_int(tks_sse_writer_comment(w, S("x")), TKS_STOPPED, "comment too");
    is_int(o.calls, 2, "no callback once stopped");
    tks_sse_writer_reset(w);
    is_int(tks_sse_writer_event(w, &e), TKS_OK, "usable after reset");

    /* an event far larger than the 8 KiB buffer: several calls, the right bytes */
    o.len = 0;
    o.calls = 0;
    o.stop_at = 0;
    size_t n = 100000;
    char *big = malloc(n), *want = malloc(2 * n);
    size_t wl = 0;
    memcpy(want, "data: ", 6);
    wl = 6;
    for (size_t i = 0; i < n; i++) {
        big[i] = i % 997 == 996 ? '\n' : (char)('a' + i % 26);
        want[wl++] = big[i];
        if (big[i] == '\n') {
            memcpy(want + wl, "data: ", 6);
            wl += 6;
        }
    }
    memcpy(want + wl, "\n\n", 2);
    wl += 2;
    e = ev_make(NULL, NULL, big, n, -1);
    is_int(tks_sse_writer_event(w, &e), TKS_OK, "100 KB event");
    is_mem(o.p, o.len, want, wl, "100 KB event bytes");
    ok(o.calls > 1, "handed over in %d calls", o.calls);
    /* one long line straight from the caller's memory */
    o.len = 0;
    memset(big, 'z', n);
    e = ev_make(NULL, NULL, big, n, -1);
    is_int(tks_sse_writer_event(w, &e), TKS_OK, "one 100 KB line");
    ok(o.len == n + 8 && memcmp(o.p, "data: zz", 8) == 0 && memcmp(o.p + o.len - 3, "z\n\n", 3) == 0,
       "one 100 KB line bytes");
    free(big);
    free(want);
    tks_sse_writer_free(w);
    free(o.p);
}

static int oom_body(const tks_alloc *a, void *ctx) {
    (void)ctx;
    out o;
    memset(&o, 0, sizeof o);
    out_put(&o, "", 0);
    tks_sse_writer_config cfg = {a};
    tks_sse_writer *w;
    int rc = tks_sse_writer_new(&w, &cfg, on_bytes, &o);
    if (rc) {
        free(o.p);
        return rc == TKS_ENOMEM ? 1 : 2;
    }
    tks_sse_out e = ev_make("t", "1", S("a\nb"), -1);
    rc = tks_sse_writer_event(w, &e);
    int r = rc == TKS_OK && o.len == sizeof("event: t\nid: 1\ndata: a\ndata: b\n\n") - 1 &&
                    memcmp(o.p, "event: t\nid: 1\ndata: a\ndata: b\n\n", o.len) == 0
                ? 0
                : 2;
    tks_sse_writer_free(w);
    free(o.p);
    return r;
}

/* ---- the round trip -------------------------------------------------------------------- */

static uint32_t rng = 2463534242u;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const char *const PIECES[] = {"a", "b", " ", "  ", ":", "data: ", "event", "id", "\t", "\0",
                                     "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x8A",
                                     "\xEF\xBB\xBF", "message", "[DONE]", "{\"x\":1}"};
static const char *const BREAKS[] = {"\n", "\r", "\r\n", "\n\n", "\r\r", "\r\n\r\n"};

/* Random text into buf; line ends only when breaks; returns length. */
static size_t rand_text(char *buf, size_t max, int breaks, int nul) {
    size_t n = 0, parts = rnd() % 8;
    for (size_t i = 0; i < parts; i++) {
        const char *pc;
        size_t k;
        if (breaks && rnd() % 4 == 0) {
            pc = BREAKS[rnd() % (sizeof BREAKS / sizeof BREAKS[0])];
            k = strlen(pc);
        } else {
            size_t j = rnd() % (sizeof PIECES / sizeof PIECES[0]);
            pc = PIECES[j];
            k = pc[0] ? strlen(pc) : 1;
            if (!pc[0] && !nul) continue;
        }
        if (n + k > max) break;
        memcpy(buf + n, pc, k);
        n += k;
    }
    return n;
}

typedef struct rt_log {
    char *p;
    size_t len, cap;
} rt_log;

static void rt_put(rt_log *l, const void *s, size_t n) {
    out o = {l->p, l->len, l->cap, 0, 0};
    out_put(&o, s, n);
    l->p = o.p;
    l->len = o.len;
    l->cap = o.cap;
}

/* One record per event: lengths then bytes, unambiguous. */
static void rt_record(rt_log *l, const char *type, size_t tl, const char *id, size_t il,
                      const char *data, size_t dl) {
    char hdr[64];
    snprintf(hdr, sizeof hdr, "[%zu,%zu,%zu]", tl, il, dl);
    rt_put(l, hdr, strlen(hdr));
    rt_put(l, type, tl);
    rt_put(l, id, il);
    rt_put(l, data, dl);
}

static int rt_on_event(void *user, const tks_event *ev) {
    rt_record(user, ev->type, ev->type_len, ev->id, ev->id_len, ev->data, ev->data_len);
    return 0;
}

static int rt_on_retry(void *user, const tks_event *ev) {
    char tmp[40];
    snprintf(tmp, sizeof tmp, "{retry %llu}", (unsigned long long)ev->retry_ms);
    rt_put(user, tmp, strlen(tmp));
    return 0;
}

static int rt_on_comment(void *user, const tks_event *ev) {
    rt_put(user, "{comment ", 9);
    rt_put(user, ev->data, ev->data_len);
    rt_put(user, "}", 1);
    return 0;
}

/* Parses bytes in pieces ending at the given cuts into a log. */
static char *rt_parse(const char *bytes, size_t n, const size_t *cuts, size_t ncuts, size_t *len) {
    rt_log l = {NULL, 0, 0};
    rt_put(&l, "", 0);
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_retry = rt_on_retry;
    cfg.on_comment = rt_on_comment;
    tks_sse_parser *p;
    tks_sse_parser_new(&p, &cfg, rt_on_event, &l);
    size_t start = 0;
    int rc = TKS_OK;
    for (size_t i = 0; i <= ncuts && rc == TKS_OK; i++) {
        size_t stop = i < ncuts ? cuts[i] : n;
        rc = tks_sse_parser_push(p, bytes + start, stop - start);
        start = stop;
    }
    if (rc == TKS_OK) rc = tks_sse_parser_finish(p);
    if (rc != TKS_OK) rt_put(&l, "{error}", 7);
    tks_sse_parser_free(p);
    *len = l.len;
    return l.p;
}

static void test_round_trip(void) {
    out o;
    memset(&o, 0, sizeof o);
    out_put(&o, "", 0);
    tks_sse_writer *w;
    tks_sse_writer_new(&w, NULL, on_bytes, &o);
    rt_log want = {NULL, 0, 0};
    rt_put(&want, "", 0);
    char last_id[256];
    size_t last_id_len = 0;
    int events = 0, refused = 0, bad_rc = 0;
    for (int i = 0; i < 5000; i++) {
        char type[64], id[64], data[256], comment[64];
        size_t tl = rand_text(type, sizeof type, 0, 1);
        size_t il = rand_text(id, sizeof id, 0, 0);
        size_t dl = rand_text(data, sizeof data, 1, 1);
        tks_sse_out e;
        memset(&e, 0, sizeof e);
        e.type = rnd() % 3 ? type : NULL;
        e.type_len = e.type ? tl : 0;
        e.id = rnd() % 3 == 0 ? id : NULL;
        e.id_len = e.id ? il : 0;
        e.data = data;
        e.data_len = dl;
        e.retry_ms = rnd() % 5 == 0 ? (int64_t)(rnd() % 100000) : -1;
        if (rnd() % 7 == 0) { /* a heart-beat first */
            size_t cl = rand_text(comment, sizeof comment, 0, 1);
            if (tks_sse_writer_comment(w, comment, cl) != TKS_OK) bad_rc++;
            rt_put(&want, "{comment ", 9);
            rt_put(&want, comment, cl);
            rt_put(&want, "}", 1);
        }
        int rc = tks_sse_writer_event(w, &e);
        if (rc != TKS_OK) {
            bad_rc++;
            continue;
        }
        events++;
        /* what a parser must read back: retry first, then the event with "message" for
         * no type, the last event ID (persisting), and the data with CRLF and CR as LF */
        if (e.retry_ms >= 0) {
            char tmp[40];
            snprintf(tmp, sizeof tmp, "{retry %lld}", (long long)e.retry_ms);
            rt_put(&want, tmp, strlen(tmp));
        }
        if (e.id) {
            memcpy(last_id, id, il);
            last_id_len = il;
        }
        char norm[256];
        size_t nl = 0;
        for (size_t k = 0; k < dl; k++) {
            if (data[k] == '\r') {
                norm[nl++] = '\n';
                if (k + 1 < dl && data[k + 1] == '\n') k++;
            } else {
                norm[nl++] = data[k];
            }
        }
        if (e.type && tl) rt_record(&want, type, tl, last_id, last_id_len, norm, nl);
        else rt_record(&want, "message", 7, last_id, last_id_len, norm, nl);
    }
    (void)refused;
    is_int(bad_rc, 0, "every random event and comment written");
    ok(events == 5000, "%d random events", events);

    size_t gl;
    char *got = rt_parse(o.p, o.len, NULL, 0, &gl);
    is_mem(got, gl, want.p, want.len, "parse(write(e)) == e for 5000 random events");
    free(got);
    int same = 1;
    for (int t = 0; t < 200 && same; t++) {
        size_t cuts[16], nc = 1 + rnd() % 16;
        for (size_t i = 0; i < nc; i++) cuts[i] = rnd() % (o.len + 1);
        for (size_t i = 1; i < nc; i++)
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t tmp = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = tmp;
            }
        got = rt_parse(o.p, o.len, cuts, nc, &gl);
        same = gl == want.len && memcmp(got, want.p, gl) == 0;
        free(got);
    }
    ok(same, "the same read back at 200 random chunkings");
    tks_sse_writer_free(w);
    free(o.p);
    free(want.p);
}

int main(void) {
    test_bytes();
    test_refusals();
    test_stop_big();
    oom_torture("sse writer", oom_body, NULL);
    test_round_trip();
    return done_testing();
}
