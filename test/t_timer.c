/* t_timer.c - tks_timer definitions on hand-built traces, every expected number worked
 * out by hand in the comments: multi-token chunks, an empty-content first chunk,
 * reasoning first, a usage chunk after the last token, zero-token and one-token streams,
 * the three time-outs, errors, order checks, sample callbacks, OOM torture. */
#include "internal.h"
#include "tap.h"
#include "testalloc.h"

static int64_t get(const tks_timer *t, int metric) {
    int64_t v = -999;
    int rc = tks_timer_get(t, metric, &v);
    return rc == TKS_OK ? v : rc == TKS_EEMPTY ? -1 : -1000 + rc;
}

static int64_t pct(const tks_histogram *h, double p) {
    int64_t v = -1;
    if (tks_histogram_percentiles(h, &p, 1, &v) != TKS_OK) return -1;
    return v;
}

/* enqueued 1000, sent 5000, first byte 100000;
 * chunk 200000 1 token, no visible content (role / special token): ttfc = 195000
 * chunk 300000 2 tokens content: ttft = 295000; gap 100000 -> itl_token 50000 x2
 * chunk 450000 3 tokens content: gap 150000 -> itl_token 50000 x3
 * chunk 500000 0 tokens (usage chunk): moves nothing; usage says 10 in, 7 out
 * end 600000.
 * N = 7 (usage), tpot = (450000 - 200000) / 6 = 41666.67 -> 41667
 * e2el = 450000 - 5000 = 445000; duration = 595000; queue = 4000
 * tokens/s = 7 / 445 us = 15730.337 -> 15730337 thousandths */
static void test_multi_token(void) {
    tks_timer *t;
    is_int(tks_timer_new(&t, NULL), TKS_OK, "new");
    is_int(tks_timer_mark_enqueued(t, 1000), TKS_OK, "enqueued");
    is_int(tks_timer_mark_sent(t, 5000), TKS_OK, "sent");
    is_int(tks_timer_mark_first_byte(t, 100000), TKS_OK, "first byte");
    is_int(tks_timer_mark_chunk(t, 200000, 1, 0), TKS_OK, "chunk 1");
    is_int(tks_timer_outcome(t), TKS_OUTCOME_NONE, "outcome NONE before end");
    is_int(tks_timer_mark_chunk(t, 300000, 2, TKS_CHUNK_CONTENT), TKS_OK, "chunk 2");
    is_int(tks_timer_mark_chunk(t, 450000, 3, TKS_CHUNK_CONTENT), TKS_OK, "chunk 3");
    is_int(tks_timer_mark_chunk(t, 500000, 0, 0), TKS_OK, "usage chunk (0 tokens)");
    is_int(tks_timer_mark_usage(t, 10, 7), TKS_OK, "usage");
    is_int(get(t, TKS_METRIC_DURATION), -1, "duration undefined before end");
    is_int(tks_timer_mark_end(t, 600000, TKS_OK), TKS_OK, "end");
    is_int(tks_timer_outcome(t), TKS_OUTCOME_OK, "outcome OK");
    is_int(get(t, TKS_METRIC_TTFC), 195000, "ttfc: first token-bearing chunk, empty content counts");
    is_int(get(t, TKS_METRIC_TTFT), 295000, "ttft: first visible content");
    is_int(get(t, TKS_METRIC_TTFT_REASONING), 295000, "ttft with reasoning: same here");
    is_int(get(t, TKS_METRIC_TPOT), 41667, "tpot = (450000-200000)/(7-1) with N from usage");
    is_int(get(t, TKS_METRIC_E2EL), 445000, "e2el ends at the last token, not the usage chunk");
    is_int(get(t, TKS_METRIC_DURATION), 595000, "duration = end - sent");
    is_int(get(t, TKS_METRIC_QUEUE), 4000, "queue = sent - enqueued");
    is_int(get(t, TKS_METRIC_OUTPUT_TOKENS), 7, "N from usage");
    is_int(get(t, TKS_METRIC_TOKENS_PER_S), 15730337, "tokens/s in thousandths");
    is_int(get(t, TKS_METRIC_ITL_CHUNK), -1000 + TKS_EINVAL, "ITL is a distribution: EINVAL");
    const tks_histogram *ic = tks_timer_histogram(t, TKS_METRIC_ITL_CHUNK);
    const tks_histogram *it = tks_timer_histogram(t, TKS_METRIC_ITL_TOKEN);
    const tks_histogram *ct = tks_timer_histogram(t, TKS_METRIC_CHUNK_TOKENS);
    is_int(tks_histogram_count(ic), 2, "itl_chunk: one sample per chunk after the first");
    is_int(pct(ic, 50), 100000, "itl_chunk p50 = 100000");
    is_int(pct(ic, 100), 150000, "itl_chunk max = 150000");
    is_int(tks_histogram_count(it), 5, "itl_token: weighted by tokens (2 + 3)");
    is_int(pct(it, 0), 50000, "itl_token min 50000");
    is_int(pct(it, 100), 50000, "itl_token max 50000");
    is_int(tks_histogram_count(ct), 3, "chunk_tokens: 3 token-bearing chunks");
    is_int(pct(ct, 100), 3, "chunk_tokens max 3");
    ok(tks_timer_histogram(t, TKS_METRIC_TTFC) == NULL, "no histogram for a per-stream metric");
    tks_timer_results r;
    memset(&r, 0x55, sizeof r);
    is_int(tks_timer_results_get(t, &r), TKS_OK, "results");
    is_int(r.outcome, TKS_OUTCOME_OK, "results: outcome");
    is_int(r.ttfc, 195000, "results: ttfc");
    is_int(r.ttft, 295000, "results: ttft");
    is_int(r.tpot, 41667, "results: tpot");
    is_int(r.e2el, 445000, "results: e2el");
    is_int(r.duration, 595000, "results: duration");
    is_int(r.queue, 4000, "results: queue");
    is_int(r.output_tokens, 7, "results: N");
    is_int(r.chunk_tokens, 6, "results: tokens in chunks 1+2+3");
    is_int(r.input_tokens, 10, "results: input tokens");
    is_int(r.chunks, 3, "results: token-bearing chunks");
    is_int(r.first_byte_ns, 100000, "results: first byte mark");
    is_int(r.last_token_ns, 450000, "results: last token mark");
    is_int(r.end_ns, 600000, "results: end mark");
    is_int(r.timeouts, 0, "results: no time-outs configured");
    is_int(tks_timer_mark_chunk(t, 700000, 1, 0), TKS_ESTATE, "mark after end: ESTATE");
    is_str(tks_timer_error(t), "", "no error text");

    /* reset: a new stream with the same object */
    tks_timer_reset(t);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_NONE, "reset: outcome NONE");
    is_int(tks_histogram_count(tks_timer_histogram(t, TKS_METRIC_ITL_CHUNK)), 0, "reset: histograms cleared");
    is_int(get(t, TKS_METRIC_TTFC), -1, "reset: ttfc undefined");
    /* without usage N is the chunks' sum: 1+2+3 = 6, tpot = 250000/5 = 50000 */
    tks_timer_mark_sent(t, 5000);
    tks_timer_mark_chunk(t, 200000, 1, 0);
    tks_timer_mark_chunk(t, 300000, 2, TKS_CHUNK_CONTENT);
    tks_timer_mark_chunk(t, 450000, 3, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 460000, TKS_OK);
    is_int(get(t, TKS_METRIC_TPOT), 50000, "no usage: N = 6 from chunks, tpot 50000");
    is_int(get(t, TKS_METRIC_QUEUE), -1, "no enqueued mark: queue undefined");
    tks_timer_free(t);
    tks_timer_free(NULL);
}

/* Reasoning first: sent 1000; reasoning chunks at 11000 and 21000; content at 41000.
 * ttfc = 10000, ttft_reasoning = 10000, ttft = 40000, N = 3, tpot = 30000/2 = 15000. */
static void test_reasoning_first(void) {
    tks_timer *t;
    tks_timer_new(&t, NULL);
    tks_timer_mark_sent(t, 1000);
    tks_timer_mark_chunk(t, 11000, 1, TKS_CHUNK_REASONING);
    tks_timer_mark_chunk(t, 21000, 1, TKS_CHUNK_REASONING);
    tks_timer_mark_chunk(t, 41000, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 50000, TKS_OK);
    is_int(get(t, TKS_METRIC_TTFC), 10000, "reasoning first: ttfc 10000");
    is_int(get(t, TKS_METRIC_TTFT_REASONING), 10000, "reasoning first: ttft counting reasoning 10000");
    is_int(get(t, TKS_METRIC_TTFT), 40000, "reasoning first: ttft (visible) 40000");
    is_int(get(t, TKS_METRIC_TPOT), 15000, "reasoning first: tpot 15000");
    is_int(get(t, TKS_METRIC_E2EL), 40000, "reasoning first: e2el 40000");
    tks_timer_free(t);
}

static void test_zero_and_one(void) {
    tks_timer *t;
    tks_timer_new(&t, NULL);
    /* zero tokens: a role chunk, usage with 0 output, clean end */
    tks_timer_mark_sent(t, 0);
    tks_timer_mark_chunk(t, 10, 0, 0);
    tks_timer_mark_usage(t, 5, 0);
    tks_timer_mark_end(t, 100, TKS_OK);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_EMPTY, "zero tokens: outcome EMPTY");
    is_int(get(t, TKS_METRIC_TTFC), -1, "zero tokens: no ttfc");
    is_int(get(t, TKS_METRIC_TTFT), -1, "zero tokens: no ttft");
    is_int(get(t, TKS_METRIC_TPOT), -1, "zero tokens: no tpot");
    is_int(get(t, TKS_METRIC_E2EL), -1, "zero tokens: no e2el");
    is_int(get(t, TKS_METRIC_TOKENS_PER_S), -1, "zero tokens: no tokens/s");
    is_int(get(t, TKS_METRIC_OUTPUT_TOKENS), 0, "zero tokens: N = 0");
    is_int(get(t, TKS_METRIC_DURATION), 100, "zero tokens: the stream still lasted 100");
    /* one token: sent 100, one chunk at 600, end 700 */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 100);
    tks_timer_mark_chunk(t, 600, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 700, TKS_OK);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_OK, "one token: OK");
    is_int(get(t, TKS_METRIC_TTFC), 500, "one token: ttfc 500");
    is_int(get(t, TKS_METRIC_TPOT), -1, "one token: tpot undefined (N = 1)");
    is_int(get(t, TKS_METRIC_E2EL), 500, "one token: e2el 500");
    is_int(tks_histogram_count(tks_timer_histogram(t, TKS_METRIC_ITL_CHUNK)), 0, "one token: no ITL");
    /* one chunk of 4 tokens: tpot (600-600)/3 = 0 */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 100);
    tks_timer_mark_chunk(t, 600, 4, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 700, TKS_OK);
    is_int(get(t, TKS_METRIC_TPOT), 0, "one chunk of 4 tokens: tpot 0");
    /* usage overrides N downwards: 3 chunk tokens, usage 1 -> no tpot */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 100);
    tks_timer_mark_chunk(t, 600, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_chunk(t, 700, 2, TKS_CHUNK_CONTENT);
    tks_timer_mark_usage(t, -1, 1);
    tks_timer_mark_end(t, 800, TKS_OK);
    is_int(get(t, TKS_METRIC_TPOT), -1, "usage N = 1: no tpot");
    /* implicit sent: no mark_sent, the first mark stands for it */
    tks_timer_reset(t);
    tks_timer_mark_first_byte(t, 50);
    tks_timer_mark_chunk(t, 80, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 90, TKS_OK);
    is_int(get(t, TKS_METRIC_TTFC), 30, "no sent mark: first byte stands for it");
    is_int(tks_timer_mark_sent(t, 95), TKS_ESTATE, "sent after end: ESTATE");
    tks_timer_free(t);
}

static void test_timeouts(void) {
    tks_timer_config cfg = {0};
    cfg.first_token_ns = 1000;
    cfg.idle_ns = 500;
    cfg.total_ns = 5000;
    tks_timer *t;
    tks_timer_new(&t, &cfg);
    is_int(tks_timer_deadline(t), TKS_NO_DEADLINE, "no deadline before sent");
    tks_timer_mark_sent(t, 0);
    is_int(tks_timer_deadline(t), 1000, "deadline: first token at sent + 1000");
    is_int(tks_timer_expired(t, 999), 0, "nothing passed at 999");
    is_int(tks_timer_expired(t, 1000), TKS_TIMEOUT_FIRST_TOKEN, "first token passed at 1000");
    is_int(tks_timer_expired(t, 5000), TKS_TIMEOUT_FIRST_TOKEN | TKS_TIMEOUT_TOTAL,
           "first token and total passed at 5000");
    tks_timer_mark_chunk(t, 800, 1, TKS_CHUNK_CONTENT);
    is_int(tks_timer_deadline(t), 1300, "after a token: idle deadline 800 + 500");
    is_int(tks_timer_expired(t, 1299), 0, "nothing passed at 1299");
    is_int(tks_timer_expired(t, 1300), TKS_TIMEOUT_IDLE, "idle passed at 1300");
    tks_timer_mark_chunk(t, 1200, 1, TKS_CHUNK_CONTENT);
    is_int(tks_timer_deadline(t), 1700, "idle deadline moves with each token: 1700");
    tks_timer_mark_chunk(t, 1250, 0, 0);
    is_int(tks_timer_deadline(t), 1700, "a chunk without tokens does not move it");
    is_int(tks_timer_expired(t, 5000), TKS_TIMEOUT_IDLE | TKS_TIMEOUT_TOTAL, "idle and total at 5000");
    tks_timer_mark_end(t, 1500, TKS_OK);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_OK, "ended in time: OK");
    is_int(tks_timer_deadline(t), TKS_NO_DEADLINE, "no deadline after the end");
    is_int(tks_timer_expired(t, 999999), 0, "nothing passed before the end");

    /* late first token: chunk at 1200 > 1000 */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 0);
    tks_timer_mark_chunk(t, 1200, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 1300, TKS_OK);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_TIMEOUT, "late first token: TIMEOUT");
    is_int(tks_timer_expired(t, 1300), TKS_TIMEOUT_FIRST_TOKEN, "latched: first token");
    /* idle stall: gap 600 > 500 */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 0);
    tks_timer_mark_chunk(t, 100, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_chunk(t, 700, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 800, TKS_OK);
    tks_timer_results r;
    tks_timer_results_get(t, &r);
    is_int(r.outcome, TKS_OUTCOME_TIMEOUT, "idle stall: TIMEOUT");
    is_int(r.timeouts, TKS_TIMEOUT_IDLE, "idle stall: the idle bit");
    /* total: tokens every 400 until 4800, end at 5000 */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 0);
    for (int64_t ns = 400; ns <= 4800; ns += 400) tks_timer_mark_chunk(t, ns, 1, TKS_CHUNK_CONTENT);
    is_int(tks_timer_deadline(t), 5000, "total deadline 5000 comes before idle 5300");
    tks_timer_mark_end(t, 5000, TKS_OK);
    tks_timer_results_get(t, &r);
    is_int(r.timeouts, TKS_TIMEOUT_TOTAL, "total passed at the end");
    is_int(r.outcome, TKS_OUTCOME_TIMEOUT, "total: TIMEOUT");
    /* the caller cut the stream because of the time-out: timeout wins over the error */
    tks_timer_reset(t);
    tks_timer_mark_sent(t, 0);
    tks_timer_mark_end(t, 1000, TKS_ETRUNC);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_TIMEOUT, "no token by the deadline, cut: TIMEOUT");
    tks_timer_free(t);

    tks_timer_new(&t, NULL);
    tks_timer_mark_sent(t, 0);
    is_int(tks_timer_deadline(t), TKS_NO_DEADLINE, "no time-outs configured: no deadline");
    tks_timer_mark_chunk(t, 10, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 20, TKS_ETRUNC);
    is_int(tks_timer_outcome(t), TKS_OUTCOME_ERROR, "error status: ERROR");
    tks_timer_free(t);
    cfg.idle_ns = -1;
    is_int(tks_timer_new(&t, &cfg), TKS_EINVAL, "negative time-out: EINVAL");
}

static void test_errors(void) {
    tks_timer *t;
    tks_timer_new(&t, NULL);
    tks_timer_mark_sent(t, 1000);
    is_int(tks_timer_mark_chunk(t, 900, 1, 0), TKS_EINVAL, "time going backwards: EINVAL");
    ok(strstr(tks_timer_error(t), "backwards") != NULL, "error says why: %s", tks_timer_error(t));
    is_int(tks_timer_mark_chunk(t, 2000, 1, 0), TKS_EINVAL, "sticky until reset");
    is_int(tks_timer_outcome(t), TKS_OUTCOME_ERROR, "a timer with an error is an ERROR stream");
    tks_timer_reset(t);
    is_str(tks_timer_error(t), "", "reset clears the error");
    is_int(tks_timer_mark_sent(t, 5), TKS_OK, "usable after reset");
    is_int(tks_timer_mark_enqueued(t, 1), TKS_ESTATE, "enqueued after sent: ESTATE");
    is_int(tks_timer_mark_chunk(t, -3, 1, 0), TKS_EINVAL, "negative time: EINVAL");
    is_int(tks_timer_mark_chunk(NULL, 3, 1, 0), TKS_EINVAL, "NULL timer: EINVAL");
    is_int(tks_timer_new(NULL, NULL), TKS_EINVAL, "new NULL out: EINVAL");
    tks_timer_free(t);
}

typedef struct {
    int n;
    int metric[16];
    int64_t value[16];
    uint64_t count[16];
} samples;

static int on_sample(void *user, int metric, int64_t value, uint64_t count) {
    samples *s = user;
    if (s->n < 16) {
        s->metric[s->n] = metric;
        s->value[s->n] = value;
        s->count[s->n] = count;
    }
    s->n++;
    return 0;
}

static int64_t fake_now;
static int64_t fake_clock(void *ctx) {
    (void)ctx;
    return fake_now;
}

static void test_callbacks(void) {
    samples s = {0};
    tks_timer_config cfg = {0};
    cfg.flags = TKS_TIMER_NO_HISTOGRAMS;
    cfg.on_sample = on_sample;
    cfg.sample_user = &s;
    cfg.clock = fake_clock;
    tks_timer *t;
    tks_timer_new(&t, &cfg);
    fake_now = 424242;
    is_int(tks_timer_now(t), 424242, "tks_timer_now reads the configured clock");
    tks_timer_mark_sent(t, 0);
    tks_timer_mark_chunk(t, 100, 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_chunk(t, 400, 3, TKS_CHUNK_CONTENT);
    /* chunk 1: CHUNK_TOKENS 1; chunk 2: ITL_CHUNK 300, ITL_TOKEN 100 x3, CHUNK_TOKENS 3 */
    is_int(s.n, 4, "four samples");
    ok(s.metric[0] == TKS_METRIC_CHUNK_TOKENS && s.value[0] == 1 && s.count[0] == 1, "chunk tokens 1");
    ok(s.metric[1] == TKS_METRIC_ITL_CHUNK && s.value[1] == 300 && s.count[1] == 1, "itl_chunk 300");
    ok(s.metric[2] == TKS_METRIC_ITL_TOKEN && s.value[2] == 100 && s.count[2] == 3, "itl_token 100 x3");
    ok(s.metric[3] == TKS_METRIC_CHUNK_TOKENS && s.value[3] == 3, "chunk tokens 3");
    ok(tks_timer_histogram(t, TKS_METRIC_ITL_CHUNK) == NULL, "NO_HISTOGRAMS: no histogram");
    tks_timer_free(t);
    tks_timer_new(&t, NULL);
    int64_t a = tks_now_ns(), b = tks_timer_now(t), c = tks_now_ns();
    ok(a <= b && b <= c, "default clock is tks_now_ns");
    tks_timer_free(t);
}

static int oom_body(const tks_alloc *al, void *ctx) {
    (void)ctx;
    tks_timer_config cfg = {0};
    cfg.alloc = al;
    tks_timer *t;
    int rc = tks_timer_new(&t, &cfg);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    tks_timer_mark_sent(t, 0);
    for (int i = 1; i <= 100; i++) tks_timer_mark_chunk(t, i * 10, 2, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 2000, TKS_OK);
    int64_t v = 0;
    tks_timer_get(t, TKS_METRIC_TPOT, &v);
    tks_timer_free(t);
    return v == 5 ? 0 : 2; /* (1000 - 10) / 199 = 4.97 -> 5 */
}

static void test_oom(void) {
    oom_torture("timer", oom_body, NULL);
    talloc ta;
    tks_alloc a = talloc_make(&ta);
    tks_timer_config cfg = {0};
    cfg.alloc = &a;
    tks_timer *t;
    tks_timer_new(&t, &cfg);
    long before = ta.calls;
    tks_timer_mark_sent(t, 0);
    for (int i = 1; i <= 100000; i++) tks_timer_mark_chunk(t, i * 10, 1 + (i & 3), TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, 10000000, TKS_OK);
    tks_timer_reset(t);
    is_int(ta.calls - before, 0, "100000 marks and a reset allocate nothing");
    tks_timer_free(t);
    is_int(ta.live, 0, "nothing left after free");
}

int main(void) {
    test_multi_token();
    test_reasoning_first();
    test_zero_and_one();
    test_timeouts();
    test_errors();
    test_callbacks();
    test_oom();
    return done_testing();
}
