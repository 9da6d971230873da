/* coalescer.c - joins text deltas into fewer, larger batches: sent when the batch
 * carries N tokens, when the next push would take it past B bytes, or when its oldest
 * text has waited D ns (the caller's clock; the caller asks for the deadline, the
 * library has no timers). It only ever concatenates whole pushes, so a character or
 * a grapheme cluster given whole is never split. */
#include "internal.h"

struct tks_coalescer {
    tks_alloc alloc;
    tks_batch_cb on_batch;
    void *user;
    uint64_t max_tokens;
    int64_t max_delay;
    tks__buf buf;       /* the batch; limit = max_bytes */
    uint64_t tokens;    /* tokens the batch carries (text-less tokens wait for text) */
    int64_t first_ns;   /* when the batch's oldest text came */
    uint64_t pos;       /* text bytes pushed so far */
    unsigned char stopped, finished;
    tks__err err;
};

static int send(tks_coalescer *c, const char *text, size_t len) {
    uint64_t tokens = c->tokens;
    c->tokens = 0;
    if (c->on_batch(c->user, text, len, tokens)) {
        c->stopped = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

static int flush_batch(tks_coalescer *c) {
    if (c->buf.len == 0) return TKS_OK;
    size_t len = c->buf.len;
    c->buf.len = 0;
    return send(c, c->buf.p, len);
}

static int64_t deadline_of(const tks_coalescer *c) {
    if (c->buf.len == 0) return INT64_MAX;
    if (c->first_ns > INT64_MAX - c->max_delay) return INT64_MAX;
    return c->first_ns + c->max_delay;
}

int tks_coalescer_new(tks_coalescer **out, const tks_coalescer_config *cfg,
                      tks_batch_cb on_batch, void *user) {
    if (out) *out = NULL;
    if (!out || !on_batch) return TKS_EINVAL;
    tks_coalescer_config dflt = {0};
    if (!cfg) cfg = &dflt;
    if (cfg->max_delay_ns < 0) return TKS_EINVAL;
    tks_coalescer *c;
    int rc = tks__object_new((void **)&c, sizeof *c, cfg->alloc, offsetof(tks_coalescer, alloc));
    if (rc) return rc;
    c->on_batch = on_batch;
    c->user = user;
    c->max_tokens = TKS_OR(cfg->max_tokens, 16);
    c->buf.limit = TKS_OR(cfg->max_bytes, 4 * TKS_KIB);
    c->max_delay = TKS_OR(cfg->max_delay_ns, (int64_t)50000000);
    *out = c;
    return TKS_OK;
}

int tks_coalescer_push(tks_coalescer *c, const char *text, size_t len, uint64_t n_tokens,
                       int64_t now_ns) {
    if (!c) return TKS_EINVAL;
    if (c->err.code) return c->err.code;
    if (c->stopped) return TKS_STOPPED;
    if (c->finished)
        return tks__err_at(&c->err, TKS_ESTATE, c->pos, "push after finish (reset first)");
    if (len && !text) return tks__err_at(&c->err, TKS_EINVAL, c->pos, "NULL text with a length");
    int rc;
    c->pos += len;
    c->tokens += n_tokens;
    if (len) {
        if (len > c->buf.limit - c->buf.len) {
            /* It would overflow the batch: the batch goes first, its tokens with it. */
            c->tokens -= n_tokens;
            rc = flush_batch(c);
            c->tokens += n_tokens;
            if (rc) return rc;
            if (len > c->buf.limit) return send(c, text, len); /* too big: alone, whole */
        }
        if (c->buf.len == 0) c->first_ns = now_ns;
        rc = tks__buf_append(&c->buf, &c->alloc, text, len);
        if (rc) {
            /* No memory for the batch: what it holds and this push go out as they are,
             * so nothing is lost, and the error is reported. */
            c->tokens -= n_tokens;
            if (flush_batch(c) == TKS_OK) {
                c->tokens += n_tokens;
                send(c, text, len);
            }
            return tks__err_at(&c->err, rc, c->pos - len, "out of memory growing the batch");
        }
    }
    if (c->buf.len && (c->tokens >= c->max_tokens || now_ns >= deadline_of(c)))
        return flush_batch(c);
    return TKS_OK;
}

int64_t tks_coalescer_deadline(const tks_coalescer *c) {
    if (!c || c->stopped || c->err.code) return INT64_MAX;
    return deadline_of(c);
}

int tks_coalescer_poll(tks_coalescer *c, int64_t now_ns) {
    if (!c) return TKS_EINVAL;
    if (c->err.code) return c->err.code;
    if (c->stopped) return TKS_STOPPED;
    if (now_ns >= deadline_of(c)) return flush_batch(c);
    return TKS_OK;
}

int tks_coalescer_flush(tks_coalescer *c) {
    if (!c) return TKS_EINVAL;
    if (c->err.code) return c->err.code;
    if (c->stopped) return TKS_STOPPED;
    return flush_batch(c);
}

int tks_coalescer_finish(tks_coalescer *c) {
    if (!c) return TKS_EINVAL;
    if (c->err.code) return c->err.code;
    if (c->stopped) return TKS_STOPPED;
    c->finished = 1;
    return flush_batch(c);
}

void tks_coalescer_reset(tks_coalescer *c) {
    if (!c) return;
    c->buf.len = 0; /* the memory is kept for the next stream */
    c->tokens = 0;
    c->first_ns = 0;
    c->pos = 0;
    c->stopped = c->finished = 0;
    tks__err_clear(&c->err);
}

void tks_coalescer_free(tks_coalescer *c) {
    if (!c) return;
    tks_alloc a = c->alloc;
    tks__buf_free(&c->buf, &a);
    tks__free(&a, c, sizeof *c);
}

const char *tks_coalescer_error(const tks_coalescer *c) {
    return c ? tks__err_text(&c->err) : "";
}

uint64_t tks_coalescer_offset(const tks_coalescer *c) { return c ? c->err.offset : 0; }
