/* timer.c - tks_timer: the timing of one stream from caller-supplied nanoseconds.
 *
 * Definitions (DESIGN.md "Timing"; the research notes say where each comes from):
 *   ttfc            first token-bearing chunk - sent   (OTel time_to_first_chunk, vLLM TTFT)
 *   ttft            first chunk with visible content - sent (GenAI-Perf, LLMPerf)
 *   ttft_reasoning  first chunk with content or reasoning - sent
 *   itl_chunk       one sample per token-bearing chunk after the first: its gap
 *   itl_token       that gap / the chunk's tokens, weighted by the tokens
 *   tpot            (last token - first token) / (N - 1), N > 1
 *   e2el            last token-bearing chunk - sent; duration: end - sent;
 *   queue           sent - enqueued
 * Chunks with no tokens (role-only, usage, [DONE]) move nothing. Memory is fixed at _new:
 * the per-stream distributions go to three histograms (or only to on_sample). */
#include "internal.h"
#include "timing.h"

#include <stdio.h>

#define NONE (-1)

enum { H_ITL_CHUNK, H_ITL_TOKEN, H_CHUNK_TOKENS, N_HIST };

struct tks_timer {
    tks_alloc alloc;
    tks_timer_config cfg;
    tks_histogram *h[N_HIST];
    tks__err err;
    int ended;
    int status;
    uint32_t latched;     /* time-outs seen passed at some mark */
    int64_t last_mark;
    int64_t enqueued, sent, first_byte, first_token, first_content, first_any, last_token, end;
    int64_t chunk_tokens, chunks, usage_in, usage_out;
};

static void clear(tks_timer *t) {
    tks__err_clear(&t->err);
    t->ended = 0;
    t->status = TKS_OK;
    t->latched = 0;
    t->last_mark = 0;
    t->enqueued = t->sent = t->first_byte = t->first_token = NONE;
    t->first_content = t->first_any = t->last_token = t->end = NONE;
    t->chunk_tokens = t->chunks = 0;
    t->usage_in = t->usage_out = NONE;
    for (int i = 0; i < N_HIST; i++) tks_histogram_reset(t->h[i]);
}

void tks_timer_free(tks_timer *t) {
    if (!t) return;
    for (int i = 0; i < N_HIST; i++) tks_histogram_free(t->h[i]);
    tks_alloc a = t->alloc;
    tks__free(&a, t, sizeof *t);
}

int tks_timer_new(tks_timer **out, const tks_timer_config *cfg) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    if (cfg && (cfg->first_token_ns < 0 || cfg->idle_ns < 0 || cfg->total_ns < 0))
        return TKS_EINVAL;
    void *p;
    int rc = tks__object_new(&p, sizeof(tks_timer), cfg ? cfg->alloc : NULL,
                             offsetof(tks_timer, alloc));
    if (rc) return rc;
    tks_timer *t = p;
    if (cfg) t->cfg = *cfg;
    t->cfg.alloc = NULL; /* resolved copy lives in t->alloc */
    if (!(t->cfg.flags & TKS_TIMER_NO_HISTOGRAMS)) {
        tks_histogram_config hc = {&t->alloc};
        for (int i = 0; i < N_HIST; i++) {
            rc = tks_histogram_new(&t->h[i], &hc);
            if (rc) {
                tks_timer_free(t);
                return rc;
            }
        }
    }
    clear(t);
    *out = t;
    return TKS_OK;
}

void tks_timer_reset(tks_timer *t) {
    if (t) clear(t);
}

const char *tks_timer_error(const tks_timer *t) { return t ? tks__err_text(&t->err) : ""; }

int64_t tks_timer_now(const tks_timer *t) {
    if (t && t->cfg.clock) return t->cfg.clock(t->cfg.clock_ctx);
    return tks_now_ns();
}

static int64_t add_sat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* The time-outs that have passed at ns, from the marks so far. */
static uint32_t passed(const tks_timer *t, int64_t ns) {
    uint32_t bits = 0;
    if (t->sent == NONE || !(t->cfg.first_token_ns | t->cfg.idle_ns | t->cfg.total_ns)) return 0;
    if (t->cfg.first_token_ns && t->first_token == NONE &&
        ns >= add_sat(t->sent, t->cfg.first_token_ns))
        bits |= TKS_TIMEOUT_FIRST_TOKEN;
    if (t->cfg.idle_ns && t->first_token != NONE && ns >= add_sat(t->last_token, t->cfg.idle_ns))
        bits |= TKS_TIMEOUT_IDLE;
    if (t->cfg.total_ns && ns >= add_sat(t->sent, t->cfg.total_ns)) bits |= TKS_TIMEOUT_TOTAL;
    return bits;
}

uint32_t tks_timer_expired(const tks_timer *t, int64_t ns) {
    if (!t) return 0;
    if (t->ended) return t->latched;
    return t->latched | passed(t, ns);
}

int64_t tks_timer_deadline(const tks_timer *t) {
    if (!t || t->ended || t->sent == NONE) return TKS_NO_DEADLINE;
    int64_t d = TKS_NO_DEADLINE, x;
    if (t->cfg.first_token_ns && t->first_token == NONE &&
        (x = add_sat(t->sent, t->cfg.first_token_ns)) < d)
        d = x;
    if (t->cfg.idle_ns && t->first_token != NONE && (x = add_sat(t->last_token, t->cfg.idle_ns)) < d)
        d = x;
    if (t->cfg.total_ns && (x = add_sat(t->sent, t->cfg.total_ns)) < d) d = x;
    return d;
}

/* Common entry of every timed mark: state, order, implicit sent, time-outs. */
static int enter(tks_timer *t, int64_t ns, int sets_sent) {
    if (t->err.code) return t->err.code;
    if (t->ended) return TKS_ESTATE;
    if (ns < 0) return TKS_EINVAL;
    if (ns < t->last_mark) {
        char msg[120];
        snprintf(msg, sizeof msg, "time went backwards: mark at %lld ns after one at %lld ns",
                 (long long)ns, (long long)t->last_mark);
        return tks__err_set(&t->err, TKS_EINVAL, 0, msg);
    }
    if (sets_sent && t->sent == NONE) t->sent = ns;
    t->latched |= passed(t, ns);
    t->last_mark = ns;
    return TKS_OK;
}

int tks_timer_mark_enqueued(tks_timer *t, int64_t ns) {
    if (!t) return TKS_EINVAL;
    if (t->sent != NONE || t->enqueued != NONE) return t->err.code ? t->err.code : TKS_ESTATE;
    int rc = enter(t, ns, 0);
    if (rc) return rc;
    t->enqueued = ns;
    return TKS_OK;
}

int tks_timer_mark_sent(tks_timer *t, int64_t ns) {
    if (!t) return TKS_EINVAL;
    if (t->sent != NONE) return t->err.code ? t->err.code : TKS_ESTATE;
    int rc = enter(t, ns, 1);
    return rc;
}

int tks_timer_mark_first_byte(tks_timer *t, int64_t ns) {
    if (!t) return TKS_EINVAL;
    int rc = enter(t, ns, 1);
    if (rc) return rc;
    if (t->first_byte == NONE) t->first_byte = ns;
    return TKS_OK;
}

int tks_timer_mark_chunk(tks_timer *t, int64_t ns, uint32_t n, uint32_t flags) {
    if (TKS_UNLIKELY(!t)) return TKS_EINVAL;
    int rc = enter(t, ns, 1);
    if (TKS_UNLIKELY(rc)) return rc;
    if (n == 0) return TKS_OK;
    if (t->first_token == NONE) {
        t->first_token = ns;
    } else {
        int64_t gap = ns - t->last_token;
        /* gap / n rounded; in double when n > 1 (a 64-bit integer division costs more
         * than the rest of the mark; for gaps below 2^53 the result is the same) */
        int64_t per = n == 1 ? gap : (int64_t)((double)gap / (double)n + 0.5);
        if (t->h[H_ITL_CHUNK]) {
            tks__histogram_record(t->h[H_ITL_CHUNK], gap);
            tks__histogram_record_n(t->h[H_ITL_TOKEN], per, n);
        }
        if (t->cfg.on_sample) {
            (void)t->cfg.on_sample(t->cfg.sample_user, TKS_METRIC_ITL_CHUNK, gap, 1);
            (void)t->cfg.on_sample(t->cfg.sample_user, TKS_METRIC_ITL_TOKEN, per, n);
        }
    }
    if (t->h[H_CHUNK_TOKENS]) tks__histogram_record(t->h[H_CHUNK_TOKENS], (int64_t)n);
    if (t->cfg.on_sample)
        (void)t->cfg.on_sample(t->cfg.sample_user, TKS_METRIC_CHUNK_TOKENS, (int64_t)n, 1);
    if ((flags & TKS_CHUNK_CONTENT) && t->first_content == NONE) t->first_content = ns;
    if ((flags & (TKS_CHUNK_CONTENT | TKS_CHUNK_REASONING)) && t->first_any == NONE)
        t->first_any = ns;
    t->last_token = ns;
    t->chunks++;
    t->chunk_tokens += n;
    return TKS_OK;
}

int tks_timer_mark_usage(tks_timer *t, int64_t input_tokens, int64_t output_tokens) {
    if (!t) return TKS_EINVAL;
    if (t->err.code) return t->err.code;
    if (t->ended) return TKS_ESTATE;
    if (input_tokens > 0) t->usage_in = input_tokens;
    if (output_tokens > 0) t->usage_out = output_tokens;
    return TKS_OK;
}

int tks_timer_mark_end(tks_timer *t, int64_t ns, int status) {
    if (!t) return TKS_EINVAL;
    int rc = enter(t, ns, 1);
    if (rc) return rc;
    t->end = ns;
    t->status = status;
    t->ended = 1;
    return TKS_OK;
}

int tks_timer_outcome(const tks_timer *t) {
    if (!t) return TKS_OUTCOME_NONE;
    if (t->err.code) return TKS_OUTCOME_ERROR; /* marks out of order: the stream is done */
    if (!t->ended) return TKS_OUTCOME_NONE;
    if (t->latched) return TKS_OUTCOME_TIMEOUT;
    if (t->status != TKS_OK || t->err.code) return TKS_OUTCOME_ERROR;
    if (t->first_token == NONE) return TKS_OUTCOME_EMPTY;
    return TKS_OUTCOME_OK;
}

static int64_t n_tokens(const tks_timer *t) {
    return t->usage_out > 0 ? t->usage_out : t->chunk_tokens;
}

static int64_t since_sent(const tks_timer *t, int64_t x) {
    return x == NONE || t->sent == NONE ? NONE : x - t->sent;
}

/* One per-stream value; NONE when not defined. */
static int64_t value_of(const tks_timer *t, int metric) {
    int64_t n = n_tokens(t), e2el;
    switch (metric) {
    case TKS_METRIC_TTFC: return since_sent(t, t->first_token);
    case TKS_METRIC_TTFT: return since_sent(t, t->first_content);
    case TKS_METRIC_TTFT_REASONING: return since_sent(t, t->first_any);
    case TKS_METRIC_TPOT:
        if (t->first_token == NONE || n <= 1) return NONE;
        return (t->last_token - t->first_token + (n - 1) / 2) / (n - 1);
    case TKS_METRIC_E2EL: return since_sent(t, t->last_token);
    case TKS_METRIC_DURATION: return since_sent(t, t->end);
    case TKS_METRIC_QUEUE:
        return t->enqueued == NONE || t->sent == NONE ? NONE : t->sent - t->enqueued;
    case TKS_METRIC_OUTPUT_TOKENS: return n;
    case TKS_METRIC_TOKENS_PER_S:
        e2el = since_sent(t, t->last_token);
        if (e2el <= 0 || n <= 0) return NONE;
        return (int64_t)((double)n * 1e12 / (double)e2el + 0.5);
    default: return NONE;
    }
}

int tks_timer_get(const tks_timer *t, int metric, int64_t *value) {
    if (!t || !value) return TKS_EINVAL;
    if (metric < 0 || metric >= TKS_METRIC_COUNT_ || metric == TKS_METRIC_ITL_CHUNK ||
        metric == TKS_METRIC_ITL_TOKEN || metric == TKS_METRIC_CHUNK_TOKENS)
        return TKS_EINVAL;
    int64_t v = value_of(t, metric);
    if (v == NONE) return TKS_EEMPTY;
    *value = v;
    return TKS_OK;
}

int tks_timer_results_get(const tks_timer *t, tks_timer_results *r) {
    if (!t || !r) return TKS_EINVAL;
    memset(r, 0, sizeof *r);
    r->outcome = tks_timer_outcome(t);
    r->timeouts = t->latched;
    r->status = t->status;
    r->ttfc = value_of(t, TKS_METRIC_TTFC);
    r->ttft = value_of(t, TKS_METRIC_TTFT);
    r->ttft_reasoning = value_of(t, TKS_METRIC_TTFT_REASONING);
    r->tpot = value_of(t, TKS_METRIC_TPOT);
    r->e2el = value_of(t, TKS_METRIC_E2EL);
    r->duration = value_of(t, TKS_METRIC_DURATION);
    r->queue = value_of(t, TKS_METRIC_QUEUE);
    r->output_tokens = n_tokens(t);
    r->chunk_tokens = t->chunk_tokens;
    r->input_tokens = t->usage_in;
    r->chunks = t->chunks;
    r->tokens_per_s_milli = value_of(t, TKS_METRIC_TOKENS_PER_S);
    r->enqueued_ns = t->enqueued;
    r->sent_ns = t->sent;
    r->first_byte_ns = t->first_byte;
    r->first_token_ns = t->first_token;
    r->first_content_ns = t->first_content;
    r->last_token_ns = t->last_token;
    r->end_ns = t->end;
    return TKS_OK;
}

const tks_histogram *tks_timer_histogram(const tks_timer *t, int metric) {
    if (!t) return NULL;
    switch (metric) {
    case TKS_METRIC_ITL_CHUNK: return t->h[H_ITL_CHUNK];
    case TKS_METRIC_ITL_TOKEN: return t->h[H_ITL_TOKEN];
    case TKS_METRIC_CHUNK_TOKENS: return t->h[H_CHUNK_TOKENS];
    default: return NULL;
    }
}
