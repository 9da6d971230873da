/* t_stats.c - tks_stats: outcome counts and summaries of hand-built timers (numbers by
 * hand), merge == adding everything to one, 20000 random streams against exact
 * nearest-rank percentiles, exports (valid JSON with the contract keys, Prometheus text
 * identical across runs and accepted by `promtool check metrics`), OOM torture. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "tap.h"
#include "testalloc.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double unit(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }

typedef struct text {
    char *p;
    size_t len, cap;
    int stop_after; /* pieces; 0 = never */
    int pieces;
} text;

static int sink(void *user, const char *b, size_t n) {
    text *t = user;
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, b, n);
    t->len += n;
    t->p[t->len] = 0;
    t->pieces++;
    return t->stop_after && t->pieces >= t->stop_after;
}

static char *export(const tks_stats *s, int format) {
    text t = {0};
    int rc = tks_stats_write(s, format, sink, &t);
    if (rc) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

/* sent, chunk times (1 token each, content), end */
static void stream(tks_timer *t, int64_t sent, const int64_t *chunks, int n, int64_t end, int status) {
    tks_timer_reset(t);
    tks_timer_mark_sent(t, sent);
    for (int i = 0; i < n; i++) tks_timer_mark_chunk(t, chunks[i], 1, TKS_CHUNK_CONTENT);
    tks_timer_mark_end(t, end, status);
}

static void test_hand(void) {
    tks_stats *s;
    tks_timer *t;
    is_int(tks_stats_new(&s, NULL), TKS_OK, "new");
    tks_timer_new(&t, NULL);
    tks_summary m;
    is_int(tks_stats_summary(s, TKS_METRIC_TTFC, &m), TKS_EEMPTY, "empty stats: EEMPTY");
    is_int(m.count, 0, "empty summary zeroed");
    is_int(tks_stats_add(s, t), TKS_ESTATE, "adding a timer that has not ended: ESTATE");
    /* stream 1: ttfc 100, chunks 100 130 190: itl 30 60, tpot 45, e2el 190
     * stream 2: ttfc 300, chunks 300 310: itl 10, tpot 10, e2el 310
     * stream 3: ttfc 200, one chunk: no tpot, e2el 200
     * stream 4: no token: EMPTY; stream 5: error; stream 6: would be OK but errors */
    static const int64_t c1[] = {1100, 1130, 1190}, c2[] = {5300, 5310}, c3[] = {9200};
    stream(t, 1000, c1, 3, 1200, TKS_OK);
    is_int(tks_stats_add(s, t), TKS_OK, "add 1");
    stream(t, 5000, c2, 2, 5400, TKS_OK);
    tks_stats_add(s, t);
    stream(t, 9000, c3, 1, 9300, TKS_OK);
    tks_stats_add(s, t);
    stream(t, 0, NULL, 0, 50, TKS_OK);
    tks_stats_add(s, t);
    stream(t, 0, c3, 1, 9999, TKS_ETRUNC);
    tks_stats_add(s, t);
    is_int(tks_stats_count(s, TKS_OUTCOME_NONE), 5, "5 streams");
    is_int(tks_stats_count(s, TKS_OUTCOME_OK), 3, "3 ok");
    is_int(tks_stats_count(s, TKS_OUTCOME_EMPTY), 1, "1 zero-token");
    is_int(tks_stats_count(s, TKS_OUTCOME_ERROR), 1, "1 error");
    is_int(tks_stats_count(s, TKS_OUTCOME_TIMEOUT), 0, "0 timed out");
    is_int(tks_stats_summary(s, TKS_METRIC_TTFC, &m), TKS_OK, "ttfc summary");
    /* 100 300 200: mean 200, min 100, max 300, p50 = 2nd = 200, p90.. = 300,
     * std = sqrt((100^2 + 100^2 + 0)/3) = 81.65 -> 82 */
    ok(m.count == 3 && m.mean == 200 && m.min == 100 && m.max == 300 && m.p50 == 200 &&
           m.p90 == 300 && m.p99 == 300 && m.p999 == 300 && m.std == 82,
       "ttfc: count 3 mean 200 p50 200 p90 300 std 82 (got %lld %lld %lld %lld %lld)",
       (long long)m.count, (long long)m.mean, (long long)m.p50, (long long)m.p90, (long long)m.std);
    tks_stats_summary(s, TKS_METRIC_TPOT, &m);
    ok(m.count == 2 && m.mean == 28 && m.p50 == 10 && m.p90 == 45,
       "tpot: only N > 1 streams: 45 and 10, mean 27.5 -> 28");
    tks_stats_summary(s, TKS_METRIC_ITL_CHUNK, &m);
    ok(m.count == 3 && m.mean == 33 && m.p50 == 30 && m.max == 60,
       "itl: 30 60 10 pooled over streams: mean 33, p50 30");
    tks_stats_summary(s, TKS_METRIC_E2EL, &m);
    ok(m.count == 3 && m.p50 == 200 && m.max == 310, "e2el: 190 310 200");
    tks_stats_summary(s, TKS_METRIC_DURATION, &m);
    ok(m.count == 3 && m.min == 200 && m.max == 400, "duration of ok streams: 200 400 300");
    is_int(tks_stats_summary(s, TKS_METRIC_QUEUE, &m), TKS_EEMPTY, "no queue marks: EEMPTY");
    is_int(tks_stats_summary(s, 99, &m), TKS_EINVAL, "unknown metric: EINVAL");

    char *json = export(s, TKS_STATS_JSON);
    cJSON *j = cJSON_Parse(json);
    ok(j != NULL, "JSON export parses");
    static const char *const keys[] = {"ttfc_ms", "ttft_ms", "tpot_ms", "e2el_ms", "itl_ms"};
    int shape = cJSON_GetObjectItem(j, "streams") && cJSON_GetObjectItem(j, "streams")->valuedouble == 5;
    for (int k = 0; k < 5; k++) {
        cJSON *o = cJSON_GetObjectItem(j, keys[k]);
        shape &= o && cJSON_IsNumber(cJSON_GetObjectItem(o, "mean")) &&
                 cJSON_IsNumber(cJSON_GetObjectItem(o, "p50")) &&
                 cJSON_IsNumber(cJSON_GetObjectItem(o, "p90")) &&
                 cJSON_IsNumber(cJSON_GetObjectItem(o, "p99"));
    }
    ok(shape, "JSON: streams and {mean,p50,p90,p99} for ttfc, ttft, tpot, e2el, itl");
    cJSON *ttfc = cJSON_GetObjectItem(j, "ttfc_ms");
    ok(cJSON_GetObjectItem(ttfc, "p50")->valuedouble == 0.0002, "ttfc p50 200 ns = 0.0002 ms");
    ok(strstr(json, "\"queue_ms\":{\"count\":0,\"mean\":null") != NULL, "no samples: nulls");
    ok(strstr(json, "\"ttfc_ms\":{\"count\":3,\"mean\":0.000200,\"std\":0.000082,\"min\":0.000100,"
                    "\"max\":0.000300,\"p50\":0.000200,\"p90\":0.000300,\"p95\":0.000300,"
                    "\"p99\":0.000300,\"p99.9\":0.000300}") != NULL,
       "ttfc object exactly");
    cJSON_Delete(j);
    free(json);

    char *p1 = export(s, TKS_STATS_PROMETHEUS), *p2 = export(s, TKS_STATS_PROMETHEUS);
    ok(p1 && p2 && strcmp(p1, p2) == 0, "Prometheus export identical across calls");
    ok(strstr(p1, "gen_ai_server_time_to_first_token_seconds_bucket{le=\"0.001\"} 3\n") != NULL,
       "all three ttfc (<= 300 ns) in the first bucket");
    ok(strstr(p1, "gen_ai_server_time_to_first_token_seconds_sum 0.000000600\n") != NULL,
       "ttfc sum 600 ns");
    ok(strstr(p1, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"output\",le=\"1\"} 1\n") != NULL &&
           strstr(p1, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"output\",le=\"4\"} 3\n") != NULL,
       "output tokens 3 2 1: one <= 1, three <= 4");
    free(p1);
    free(p2);
    text st = {0};
    st.stop_after = 3;
    is_int(tks_stats_write(s, TKS_STATS_JSON, sink, &st), TKS_STOPPED, "sink stops: STOPPED");
    is_int(st.pieces, 3, "nothing after the stop");
    free(st.p);
    is_int(tks_stats_write(s, 7, sink, &st), TKS_EINVAL, "unknown format: EINVAL");
    tks_stats_reset(s);
    is_int(tks_stats_count(s, TKS_OUTCOME_NONE), 0, "reset: no streams");
    tks_timer_free(t);
    tks_stats_free(s);
    tks_stats_free(NULL);
}

/* A random stream: returns its outcome; exact values appended to the arrays. */
static void random_stream(tks_timer *t, int64_t *ttfc, size_t *nt, int64_t *itl, size_t *ni) {
    tks_timer_reset(t);
    int64_t now = 1000000;
    tks_timer_mark_sent(t, now);
    int n = (int)(next_u64() % 40); /* 0 tokens sometimes */
    double u = unit();
    int64_t first = (int64_t)(20e6 * exp(3 * u)); /* 20 ms .. 400 ms */
    for (int i = 0; i < n; i++) {
        int64_t gap = i == 0 ? first : (int64_t)(1e6 + unit() * unit() * 200e6);
        now += gap;
        tks_timer_mark_chunk(t, now, 1 + (uint32_t)(next_u64() % 3), TKS_CHUNK_CONTENT);
        if (i == 0) ttfc[(*nt)++] = gap;
        else itl[(*ni)++] = gap;
    }
    tks_timer_mark_end(t, now + 1000, TKS_OK);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t exact_pct(const int64_t *v, size_t n, double p) {
    size_t r = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
    return v[(r < 1 ? 1 : r > n ? n : r) - 1];
}

static void test_many(void) {
    tks_stats *one, *part[3], *merged;
    tks_timer *t;
    tks_stats_new(&one, NULL);
    tks_stats_new(&merged, NULL);
    for (int k = 0; k < 3; k++) tks_stats_new(&part[k], NULL);
    tks_timer_new(&t, NULL);
    size_t N = 20000, nt = 0, ni = 0;
    int64_t *ttfc = malloc(N * sizeof *ttfc), *itl = malloc(N * 40 * sizeof *itl);
    for (size_t i = 0; i < N; i++) {
        random_stream(t, ttfc, &nt, itl, &ni);
        tks_stats_add(one, t);
        tks_stats_add(part[i % 3], t);
    }
    for (int k = 0; k < 3; k++) tks_stats_merge(merged, part[k]);
    char *a = export(one, TKS_STATS_JSON), *b = export(merged, TKS_STATS_JSON);
    ok(a && b && strcmp(a, b) == 0, "merge of 3 per-thread stats == one stats (JSON identical)");
    free(a);
    free(b);
    a = export(one, TKS_STATS_PROMETHEUS);
    b = export(merged, TKS_STATS_PROMETHEUS);
    ok(a && b && strcmp(a, b) == 0, "merge: Prometheus identical");
    free(b);
    is_int(tks_stats_count(one, TKS_OUTCOME_OK), nt, "ok streams = streams with a token");
    is_int(tks_stats_count(one, TKS_OUTCOME_EMPTY), N - nt, "the others are zero-token");

    qsort(ttfc, nt, sizeof *ttfc, cmp_i64);
    qsort(itl, ni, sizeof *itl, cmp_i64);
    tks_summary m;
    tks_stats_summary(one, TKS_METRIC_TTFC, &m);
    int64_t got[5] = {m.p50, m.p90, m.p95, m.p99, m.p999};
    double p[5] = {50, 90, 95, 99, 99.9}, worst = 0;
    for (int k = 0; k < 5; k++) {
        double e = fabs((double)got[k] - (double)exact_pct(ttfc, nt, p[k])) / (double)exact_pct(ttfc, nt, p[k]);
        if (e > worst) worst = e;
    }
    ok(worst <= 0.01, "ttfc over %zu streams: percentiles within 1%% of exact (worst %.3f%%)", nt, worst * 100);
    tks_stats_summary(one, TKS_METRIC_ITL_CHUNK, &m);
    int64_t goti[5] = {m.p50, m.p90, m.p95, m.p99, m.p999};
    worst = 0;
    for (int k = 0; k < 5; k++) {
        double e = fabs((double)goti[k] - (double)exact_pct(itl, ni, p[k])) / (double)exact_pct(itl, ni, p[k]);
        if (e > worst) worst = e;
    }
    is_int(m.count, ni, "itl: every chunk gap of every stream");
    ok(worst <= 0.01, "itl over %zu gaps: percentiles within 1%% of exact (worst %.3f%%)", ni, worst * 100);

    /* promtool on the library's own export */
    const char *promtool = access("/usr/bin/promtool", X_OK) == 0 ? "/usr/bin/promtool" : NULL;
    if (!promtool) {
        ok(0, "promtool is installed (apt-get install prometheus)");
    } else {
        char path[] = "/tmp/tks_stats_XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f) {
            fputs(a, f);
            fclose(f);
        }
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s check metrics < %s 2>&1", promtool, path);
        FILE *pp = popen(cmd, "r");
        char out[4096] = "";
        size_t n = pp ? fread(out, 1, sizeof out - 1, pp) : 0;
        out[n] = 0;
        int rc = pp ? pclose(pp) : -1;
        ok(rc == 0 && n == 0, "promtool check metrics accepts the export of %zu streams", N);
        if (n) diag("%s", out);
        unlink(path);
    }
    free(a);
    free(ttfc);
    free(itl);
    tks_timer_free(t);
    tks_stats_free(one);
    tks_stats_free(merged);
    for (int k = 0; k < 3; k++) tks_stats_free(part[k]);
}

static int oom_body(const tks_alloc *al, void *ctx) {
    (void)ctx;
    tks_stats_config sc = {al};
    tks_timer_config tc = {0};
    tc.alloc = al;
    tks_stats *s = NULL, *s2 = NULL;
    tks_timer *t = NULL;
    int rc = tks_stats_new(&s, &sc);
    if (!rc) rc = tks_stats_new(&s2, &sc);
    if (!rc) rc = tks_timer_new(&t, &tc);
    int result = 2;
    if (rc == TKS_ENOMEM) {
        result = 1;
    } else if (rc == TKS_OK) {
        static const int64_t c[] = {100, 150, 175};
        stream(t, 0, c, 3, 200, TKS_OK);
        tks_stats_add(s, t);
        tks_stats_merge(s2, s);
        tks_summary m;
        tks_stats_summary(s2, TKS_METRIC_TPOT, &m);
        text out = {0};
        rc = tks_stats_write(s2, TKS_STATS_PROMETHEUS, sink, &out);
        free(out.p);
        result = rc == TKS_OK && m.p50 == 38 ? 0 : 2; /* 75 / 2 = 37.5 -> 38 */
    }
    tks_timer_free(t);
    tks_stats_free(s);
    tks_stats_free(s2);
    return result;
}

static void test_oom(void) {
    oom_torture("stats", oom_body, NULL);
    talloc ta;
    tks_alloc al = talloc_make(&ta);
    tks_stats_config sc = {&al};
    tks_stats *s;
    tks_timer *t;
    tks_stats_new(&s, &sc);
    tks_timer_new(&t, NULL);
    static const int64_t c[] = {100, 150, 175};
    long before = ta.calls;
    for (int i = 0; i < 1000; i++) {
        stream(t, 0, c, 3, 200, TKS_OK);
        tks_stats_add(s, t);
    }
    text out = {0};
    tks_stats_write(s, TKS_STATS_JSON, sink, &out);
    tks_stats_write(s, TKS_STATS_PROMETHEUS, sink, &out);
    free(out.p);
    is_int(ta.calls - before, 0, "add, summaries and exports allocate nothing");
    tks_timer_free(t);
    tks_stats_free(s);
    is_int(ta.live, 0, "nothing left after free");
}

int main(void) {
    test_hand();
    test_many();
    test_oom();
    return done_testing();
}
