/* t_coalescer.c - tks_coalescer: batches by tokens, bytes and deadline; whole pushes
 * only; oversized pushes alone; carried text-less tokens; finish, reset, stop; bounded
 * memory; OOM. */
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "text_ref.h"

typedef struct bsink {
    sink k;                 /* text and delta ends */
    uint64_t tokens[4096];  /* tokens per batch */
    long stop_at;
} bsink;

static int on_batch(void *user, const char *t, size_t n, uint64_t ntok) {
    bsink *b = user;
    if (b->k.n_deltas < 4096) b->tokens[b->k.n_deltas] = ntok;
    long before = b->k.calls;
    sink_text(&b->k, t, n);
    return b->stop_at && before + 1 == b->stop_at;
}

static tks_coalescer *mk(uint64_t tokens, size_t bytes, int64_t delay, bsink *b) {
    tks_coalescer_config cfg = {0};
    cfg.max_tokens = tokens;
    cfg.max_bytes = bytes;
    cfg.max_delay_ns = delay;
    tks_coalescer *c = NULL;
    if (tks_coalescer_new(&c, &cfg, on_batch, b)) abort();
    return c;
}

static size_t delta_len(const bsink *b, size_t i) {
    return b->k.ends[i] - (i ? b->k.ends[i - 1] : 0);
}

static void test_tokens_trigger(void) {
    bsink b = {0};
    tks_coalescer *c = mk(3, 0, INT64_MAX, &b);
    tks_coalescer_push(c, "a", 1, 1, 0);
    tks_coalescer_push(c, "b", 1, 1, 0);
    is_int(b.k.n_deltas, 0, "2 of 3 tokens: nothing out");
    is_int(tks_coalescer_push(c, "c", 1, 1, 0), TKS_OK, "third token");
    is_int(b.k.n_deltas, 1, "3 tokens: one batch");
    is_mem(b.k.text.p, b.k.text.len, "abc", 3, "the batch joins the three pushes");
    is_int(b.tokens[0], 3, "it carries 3 tokens");
    tks_coalescer_push(c, "de", 2, 2, 0);
    tks_coalescer_push(c, NULL, 0, 1, 0);
    is_int(b.k.n_deltas, 2, "a text-less token counts toward N");
    is_int(b.tokens[1], 3, "2 + 1 tokens");
    /* tokens without any text wait for text */
    tks_coalescer_push(c, NULL, 0, 5, 0);
    is_int(b.k.n_deltas, 2, "tokens alone make no batch (a batch is never empty)");
    tks_coalescer_push(c, "f", 1, 1, 0);
    is_int(b.k.n_deltas, 3, "the next text goes out at once (6 tokens >= 3)");
    is_int(b.tokens[2], 6, "carrying the waiting tokens");
    tks_coalescer_free(c);
    sink_free(&b.k);
}

static void test_bytes_trigger(void) {
    bsink b = {0};
    tks_coalescer *c = mk(100, 10, INT64_MAX, &b);
    tks_coalescer_push(c, "abcd", 4, 1, 0);
    tks_coalescer_push(c, "efgh", 4, 1, 0);
    is_int(b.k.n_deltas, 0, "8 of 10 bytes: held");
    tks_coalescer_push(c, "ijk", 3, 1, 0);
    is_int(b.k.n_deltas, 1, "a push that would pass 10 bytes sends the batch first");
    is_mem(b.k.text.p, b.k.text.len, "abcdefgh", 8, "the batch before it, whole pushes");
    is_int(b.tokens[0], 2, "with its own 2 tokens");
    tks_coalescer_push(c, "lmnopqrstuvw", 12, 4, 0);
    is_int(b.k.n_deltas, 3, "a push larger than B: the batch, then the push alone");
    is_int(delta_len(&b, 1), 3, "the batch \"ijk\"");
    is_int(delta_len(&b, 2), 12, "the large push whole");
    is_int(b.tokens[2], 4, "with its tokens");
    tks_coalescer_push(c, "0123456789", 10, 1, 0);
    is_int(b.k.n_deltas, 3, "exactly B bytes fits");
    tks_coalescer_finish(c);
    is_mem(b.k.text.p, b.k.text.len, "abcdefghijklmnopqrstuvw0123456789", 33, "finish flushes");
    tks_coalescer_free(c);
    sink_free(&b.k);
}

static void test_deadline(void) {
    bsink b = {0};
    tks_coalescer *c = mk(100, 0, 1000, &b);
    ok(tks_coalescer_deadline(c) == INT64_MAX, "nothing batched: no deadline (INT64_MAX)");
    tks_coalescer_push(c, NULL, 0, 1, 50);
    ok(tks_coalescer_deadline(c) == INT64_MAX, "tokens without text set no deadline");
    tks_coalescer_push(c, "a", 1, 1, 100);
    is_int(tks_coalescer_deadline(c), 1100, "deadline = first text's time + max_delay");
    tks_coalescer_push(c, "b", 1, 1, 600);
    is_int(tks_coalescer_deadline(c), 1100, "later pushes do not move it");
    is_int(tks_coalescer_poll(c, 1099), TKS_OK, "poll before the deadline");
    is_int(b.k.n_deltas, 0, "nothing out before it");
    is_int(tks_coalescer_poll(c, 1100), TKS_OK, "poll at the deadline");
    is_mem(b.k.text.p, b.k.text.len, "ab", 2, "the batch went out");
    is_int(b.tokens[0], 3, "with every token so far");
    ok(tks_coalescer_deadline(c) == INT64_MAX, "no deadline after the flush");
    tks_coalescer_push(c, "c", 1, 1, 2000);
    tks_coalescer_push(c, "d", 1, 1, 3000);
    is_int(b.k.n_deltas, 2, "a push past the deadline sends the batch, itself included");
    is_mem(b.k.text.p + 2, b.k.text.len - 2, "cd", 2, "\"cd\"");
    tks_coalescer_push(c, "e", 1, 1, 4000);
    is_int(tks_coalescer_flush(c), TKS_OK, "flush");
    is_int(b.k.n_deltas, 3, "flush sends at once");
    is_int(tks_coalescer_flush(c), TKS_OK, "flush of nothing");
    is_int(b.k.n_deltas, 3, "sends nothing");
    tks_coalescer_push(c, "f", 1, 1, INT64_MAX - 10);
    ok(tks_coalescer_deadline(c) == INT64_MAX, "deadline saturates instead of overflowing");
    tks_coalescer_free(c);
    sink_free(&b.k);
}

static void test_defaults(void) {
    bsink b = {0};
    tks_coalescer *c;
    is_int(tks_coalescer_new(&c, NULL, on_batch, &b), TKS_OK, "NULL config");
    for (int i = 0; i < 15; i++) tks_coalescer_push(c, "x", 1, 1, 0);
    is_int(b.k.n_deltas, 0, "default N = 16: 15 tokens held");
    tks_coalescer_push(c, "x", 1, 1, 0);
    is_int(b.k.n_deltas, 1, "16th token sends");
    tks_coalescer_push(c, "y", 1, 1, 0);
    is_int(tks_coalescer_deadline(c), 50000000, "default delay 50 ms");
    static char big[5000];
    memset(big, 'z', sizeof big);
    tks_coalescer_push(c, big, 4096, 1, 0);
    is_int(b.k.n_deltas, 2, "default B = 4 KiB: \"y\" sent before 4096 bytes");
    tks_coalescer_push(c, "!", 1, 1, 0);
    is_int(b.k.n_deltas, 3, "4096 bytes fit the batch exactly; one more byte sends it");
    is_int(delta_len(&b, 2), 4096, "the 4096-byte batch");
    tks_coalescer_free(c);
    sink_free(&b.k);
}

/* Random pushes of multibyte text: every batch is whole pushes, nothing lost, bounded. */
static void test_random(void) {
    static const char *pieces[] = {"a", "\xC3\xA9", "\xE6\x88\x91", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
                                   "hello ", "e\xCC\x81", ""};
    uint64_t seed = 5;
    int bad = 0;
    for (int iter = 0; iter < 300 && !bad; iter++) {
        bsink b = {0};
        size_t maxb = 4 + rng_next(&seed) % 40;
        tks_coalescer *c = mk(1 + rng_next(&seed) % 6, maxb, 1 + (int64_t)(rng_next(&seed) % 50), &b);
        rbuf in = {0};
        size_t bounds[400], nb = 0;
        uint64_t toks = 0, last_text_tokens = 0;
        int64_t now = 0;
        for (int i = 0; i < 200; i++) {
            const char *p = pieces[rng_next(&seed) % 7];
            size_t l = strlen(p);
            if (rng_next(&seed) % 10 == 0) { /* a long push */
                p = "0123456789012345678901234567890123456789012345678901234567890123456789";
                l = 10 + rng_next(&seed) % 60;
            }
            now += (int64_t)(rng_next(&seed) % 20);
            uint64_t nt = rng_next(&seed) % 3;
            tks_coalescer_push(c, p, l, nt, now);
            if (rng_next(&seed) % 5 == 0) tks_coalescer_poll(c, now);
            rb_put(&in, p, l);
            toks += nt;
            if (l) { bounds[nb++] = in.len; last_text_tokens = toks; }
        }
        tks_coalescer_finish(c);
        uint64_t got = 0;
        for (size_t d = 0; d < b.k.n_deltas; d++) got += b.tokens[d];
        int whole = 1;
        for (size_t d = 0; d < b.k.n_deltas; d++) {
            size_t e = b.k.ends[d], j;
            for (j = 0; j < nb && bounds[j] != e; j++) {}
            if (j == nb) { whole = 0; continue; }
            size_t dl = delta_len(&b, d);
            /* over B only when the batch is one single push */
            if (dl > maxb && (j ? bounds[j - 1] : 0) != e - dl) whole = 0;
        }
        if (!mem_eq(b.k.text.p, b.k.text.len, in.p, in.len) || !whole || b.k.bad || got < last_text_tokens || got > toks) {
            bad = 1;
            diag("iteration %d: text %s, whole %d, bad %ld, tokens %llu vs %llu", iter,
                 mem_eq(b.k.text.p, b.k.text.len, in.p, in.len) ? "ok" : "differs", whole, b.k.bad,
                 (unsigned long long)got, (unsigned long long)last_text_tokens);
        }
        tks_coalescer_free(c);
        sink_free(&b.k);
        rb_free(&in);
    }
    ok(!bad, "300 random streams: text intact, every batch ends at a push boundary (never "
             "inside a character or a cluster given whole), batches <= B unless one push, "
             "every token up to the last text is counted once (later text-less tokens may ride "
             "with it)");
}

static void test_state(void) {
    bsink b = {0};
    tks_coalescer *c = mk(10, 0, INT64_MAX, &b);
    tks_coalescer_push(c, "ab", 2, 1, 0);
    is_int(tks_coalescer_finish(c), TKS_OK, "finish");
    is_mem(b.k.text.p, b.k.text.len, "ab", 2, "finish flushed");
    is_int(tks_coalescer_push(c, "x", 1, 1, 0), TKS_ESTATE, "push after finish: TKS_ESTATE");
    ok(strlen(tks_coalescer_error(c)) > 0, "error: %s", tks_coalescer_error(c));
    is_int(tks_coalescer_offset(c), 2, "offset: bytes pushed before");
    is_int(tks_coalescer_flush(c), TKS_ESTATE, "sticky");
    tks_coalescer_reset(c);
    is_str(tks_coalescer_error(c), "", "reset clears");
    tks_coalescer_push(c, "cd", 2, 1, 0);
    tks_coalescer_reset(c);
    tks_coalescer_finish(c);
    is_int(b.k.text.len, 2, "reset drops the batch");
    tks_coalescer_reset(c);
    is_int(tks_coalescer_push(c, NULL, 2, 1, 0), TKS_EINVAL, "NULL text with a length");
    tks_coalescer_free(c);
    sink_free(&b.k);

    b.stop_at = 1;
    c = mk(1, 0, INT64_MAX, &b);
    is_int(tks_coalescer_push(c, "a", 1, 1, 0), TKS_STOPPED, "callback returning 1: TKS_STOPPED");
    is_int(tks_coalescer_push(c, "b", 1, 1, 0), TKS_STOPPED, "stays stopped");
    is_int(tks_coalescer_poll(c, 0), TKS_STOPPED, "poll: stopped");
    is_int(tks_coalescer_finish(c), TKS_STOPPED, "finish: stopped");
    ok(tks_coalescer_deadline(c) == INT64_MAX, "no deadline while stopped");
    is_int(b.k.calls, 1, "one callback");
    tks_coalescer_reset(c);
    is_int(tks_coalescer_push(c, "c", 1, 1, 0), TKS_OK, "reset: usable");
    tks_coalescer_free(c);
    sink_free(&b.k);

    tks_coalescer_config bad = {0};
    bad.max_delay_ns = -1;
    is_int(tks_coalescer_new(&c, &bad, on_batch, &b), TKS_EINVAL, "negative delay: TKS_EINVAL");
    ok(c == NULL, "*out NULL");
    is_int(tks_coalescer_new(&c, NULL, NULL, &b), TKS_EINVAL, "NULL callback: TKS_EINVAL");
    tks_coalescer_free(NULL);
    is_str(tks_coalescer_error(NULL), "", "error(NULL)");
}

/* ---- memory ---------------------------------------------------------------------- */

static int oom_body(const tks_alloc *a, void *ctx) {
    (void)ctx;
    tks_coalescer_config cfg = {0};
    cfg.alloc = a;
    cfg.max_tokens = 1000;
    cfg.max_bytes = 1000;
    bsink b = {0};
    tks_coalescer *c;
    int rc = tks_coalescer_new(&c, &cfg, on_batch, &b);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    rbuf in = {0};
    for (int i = 0; i < 60 && rc == TKS_OK; i++) { /* grows the batch past 64, 128, 256 */
        rc = tks_coalescer_push(c, "\xE6\x88\x91\xC3\xA9!", 6, 1, i);
        rb_put(&in, "\xE6\x88\x91\xC3\xA9!", 6);
    }
    int r;
    if (rc == TKS_ENOMEM) {
        /* nothing lost: what was pushed has gone out, in whole pushes */
        r = mem_eq(b.k.text.p, b.k.text.len, in.p, in.len) && !b.k.bad ? 1 : 3;
        if (tks_coalescer_push(c, "x", 1, 1, 0) != TKS_ENOMEM) r = 4;
    } else {
        rc = tks_coalescer_finish(c);
        r = rc == TKS_OK && mem_eq(b.k.text.p, b.k.text.len, in.p, in.len) && b.k.n_deltas == 1 ? 0 : 5;
    }
    tks_coalescer_free(c);
    sink_free(&b.k);
    rb_free(&in);
    return r;
}

static void test_memory(void) {
    oom_torture("coalescer", oom_body, NULL);
    talloc ta;
    tks_alloc a = talloc_make(&ta);
    tks_coalescer_config cfg = {0};
    cfg.alloc = &a;
    cfg.max_bytes = 256;
    cfg.max_tokens = UINT64_MAX;
    cfg.max_delay_ns = INT64_MAX;
    bsink b = {0};
    tks_coalescer *c;
    tks_coalescer_new(&c, &cfg, on_batch, &b);
    diag("tks_coalescer: %lld bytes per stream before the first push", ta.live_bytes);
    long long obj = ta.live_bytes;
    for (int i = 0; i < 100000; i++) tks_coalescer_push(c, "tok ", 4, 1, i);
    ok(ta.peak_bytes <= obj + 256, "100k pushes: memory bounded by max_bytes (peak %lld)", ta.peak_bytes);
    is_int(b.k.n_deltas, 100000 * 4 / 256, "every batch full (256 bytes)");
    tks_coalescer_free(c);
    is_int(ta.live, 0, "free releases everything");
    sink_free(&b.k);
}

int main(void) {
    test_tokens_trigger();
    test_bytes_trigger();
    test_deadline();
    test_defaults();
    test_random();
    test_state();
    test_memory();
    return done_testing();
}
