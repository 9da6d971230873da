/* stats.c - tks_stats: many finished timers aggregated into one histogram per metric,
 * outcome counts, and the exports (JSON, Prometheus text with the OpenTelemetry GenAI
 * bucket boundaries). One tks_stats per thread, merged at the end.
 *
 * Metric names and bucket boundaries live here, in the exporter, never in the ABI. The
 * exports format every number from integers (nanoseconds, thousandths), so they are
 * locale-free and byte-identical from run to run. */
#include "internal.h"
#include "timing.h"

#include <stdio.h>

#define N_OUTCOMES 5

/* Nearest integer (halves away from zero), without libm. */
static int64_t round_i64(double x) { return (int64_t)(x < 0 ? x - 0.5 : x + 0.5); }

struct tks_stats {
    tks_alloc alloc;
    uint64_t outcomes[N_OUTCOMES];
    tks_histogram *h[TKS_METRIC_COUNT_];
};

void tks_stats_free(tks_stats *s) {
    if (!s) return;
    for (int i = 0; i < TKS_METRIC_COUNT_; i++) tks_histogram_free(s->h[i]);
    tks_alloc a = s->alloc;
    tks__free(&a, s, sizeof *s);
}

int tks_stats_new(tks_stats **out, const tks_stats_config *cfg) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    void *p;
    int rc = tks__object_new(&p, sizeof(tks_stats), cfg ? cfg->alloc : NULL,
                             offsetof(tks_stats, alloc));
    if (rc) return rc;
    tks_stats *s = p;
    tks_histogram_config hc = {&s->alloc};
    for (int i = 0; i < TKS_METRIC_COUNT_; i++) {
        rc = tks_histogram_new(&s->h[i], &hc);
        if (rc) {
            tks_stats_free(s);
            return rc;
        }
    }
    *out = s;
    return TKS_OK;
}

void tks_stats_reset(tks_stats *s) {
    if (!s) return;
    memset(s->outcomes, 0, sizeof s->outcomes);
    for (int i = 0; i < TKS_METRIC_COUNT_; i++) tks_histogram_reset(s->h[i]);
}

/* The per-stream metrics (one value per stream) and the per-chunk ones. */
static const int per_stream[] = {TKS_METRIC_TTFC,     TKS_METRIC_TTFT,     TKS_METRIC_TTFT_REASONING,
                                 TKS_METRIC_TPOT,     TKS_METRIC_E2EL,     TKS_METRIC_DURATION,
                                 TKS_METRIC_QUEUE,    TKS_METRIC_OUTPUT_TOKENS,
                                 TKS_METRIC_TOKENS_PER_S};
static const int per_chunk[] = {TKS_METRIC_ITL_CHUNK, TKS_METRIC_ITL_TOKEN, TKS_METRIC_CHUNK_TOKENS};

int tks_stats_add(tks_stats *s, const tks_timer *t) {
    if (!s || !t) return TKS_EINVAL;
    int outcome = tks_timer_outcome(t);
    if (outcome == TKS_OUTCOME_NONE) return TKS_ESTATE;
    s->outcomes[outcome]++;
    if (outcome != TKS_OUTCOME_OK) return TKS_OK; /* latency only from good streams */
    for (size_t i = 0; i < sizeof per_stream / sizeof per_stream[0]; i++) {
        int64_t v;
        if (tks_timer_get(t, per_stream[i], &v) == TKS_OK)
            tks_histogram_record(s->h[per_stream[i]], v);
    }
    for (size_t i = 0; i < sizeof per_chunk / sizeof per_chunk[0]; i++) {
        const tks_histogram *th = tks_timer_histogram(t, per_chunk[i]);
        if (th) tks_histogram_merge(s->h[per_chunk[i]], th);
    }
    return TKS_OK;
}

int tks_stats_merge(tks_stats *dst, const tks_stats *src) {
    if (!dst || !src || dst == src) return TKS_EINVAL;
    for (int i = 0; i < N_OUTCOMES; i++) dst->outcomes[i] += src->outcomes[i];
    for (int i = 0; i < TKS_METRIC_COUNT_; i++) tks_histogram_merge(dst->h[i], src->h[i]);
    return TKS_OK;
}

uint64_t tks_stats_count(const tks_stats *s, int outcome) {
    if (!s || outcome < 0 || outcome >= N_OUTCOMES) return 0;
    if (outcome != TKS_OUTCOME_NONE) return s->outcomes[outcome];
    uint64_t n = 0;
    for (int i = 1; i < N_OUTCOMES; i++) n += s->outcomes[i];
    return n;
}

const tks_histogram *tks_stats_histogram(const tks_stats *s, int metric) {
    if (!s || metric < 0 || metric >= TKS_METRIC_COUNT_) return NULL;
    return s->h[metric];
}

static const double summary_pcts[5] = {50, 90, 95, 99, 99.9};

int tks_stats_summary(const tks_stats *s, int metric, tks_summary *out) {
    if (!out) return TKS_EINVAL;
    memset(out, 0, sizeof *out);
    const tks_histogram *h = tks_stats_histogram(s, metric);
    if (!h) return TKS_EINVAL;
    if (!tks_histogram_count(h)) return TKS_EEMPTY;
    int64_t p[5];
    double mean, std;
    out->count = tks_histogram_count(h);
    tks_histogram_min(h, &out->min);
    tks_histogram_max(h, &out->max);
    tks_histogram_mean(h, &mean);
    tks_histogram_std(h, &std);
    out->mean = round_i64(mean);
    out->std = round_i64(std);
    tks_histogram_percentiles(h, summary_pcts, 5, p);
    out->p50 = p[0];
    out->p90 = p[1];
    out->p95 = p[2];
    out->p99 = p[3];
    out->p999 = p[4];
    return TKS_OK;
}

/* ---- output --------------------------------------------------------------------------- */

typedef struct out {
    tks_bytes_cb sink;
    void *user;
    int rc;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
    if (o->rc == TKS_OK && n) o->rc = o->sink(o->user, s, n) ? TKS_STOPPED : TKS_OK;
}

static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }

/* v / 10^digits as a decimal with `digits` places, from integers only. */
static void put_fixed(out_t *o, int64_t v, int digits) {
    char b[48];
    int64_t scale = 1;
    for (int i = 0; i < digits; i++) scale *= 10;
    const char *sign = v < 0 ? "-" : "";
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(b, sizeof b, "%s%llu.%0*llu", sign, (unsigned long long)(a / (uint64_t)scale),
                     digits, (unsigned long long)(a % (uint64_t)scale));
    put(o, b, (size_t)n);
}

static void put_uint(out_t *o, uint64_t v) {
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    put(o, b, (size_t)n);
}

/* How a metric's values are shown: ns as ms with 6 places, thousandths with 3 places,
 * counts as integers (means with 3 places). */
enum { U_NS, U_MILLI, U_COUNT };

static void put_value(out_t *o, int64_t v, int unit) {
    if (unit == U_NS) put_fixed(o, v, 6);
    else if (unit == U_MILLI) put_fixed(o, v, 3);
    else {
        char b[24];
        int n = snprintf(b, sizeof b, "%lld", (long long)v);
        put(o, b, (size_t)n);
    }
}

static void put_mean(out_t *o, double m, int unit) {
    if (unit == U_NS) put_fixed(o, round_i64(m), 6);        /* ms, ns precision */
    else if (unit == U_MILLI) put_fixed(o, round_i64(m), 3);
    else put_fixed(o, round_i64(m * 1000), 3);
}

static const struct {
    const char *key;
    int metric;
    int unit;
} json_metrics[] = {
    {"ttfc_ms", TKS_METRIC_TTFC, U_NS},
    {"ttft_ms", TKS_METRIC_TTFT, U_NS},
    {"ttft_reasoning_ms", TKS_METRIC_TTFT_REASONING, U_NS},
    {"itl_ms", TKS_METRIC_ITL_CHUNK, U_NS},
    {"itl_token_ms", TKS_METRIC_ITL_TOKEN, U_NS},
    {"tpot_ms", TKS_METRIC_TPOT, U_NS},
    {"e2el_ms", TKS_METRIC_E2EL, U_NS},
    {"duration_ms", TKS_METRIC_DURATION, U_NS},
    {"queue_ms", TKS_METRIC_QUEUE, U_NS},
    {"output_tokens", TKS_METRIC_OUTPUT_TOKENS, U_COUNT},
    {"chunk_tokens", TKS_METRIC_CHUNK_TOKENS, U_COUNT},
    {"tokens_per_s", TKS_METRIC_TOKENS_PER_S, U_MILLI},
};

static void write_json(const tks_stats *s, out_t *o) {
    static const char *const outcome_keys[N_OUTCOMES] = {NULL, "ok", "empty", "timeout", "error"};
    puts_(o, "{\"streams\":");
    put_uint(o, tks_stats_count(s, TKS_OUTCOME_NONE));
    for (int i = 1; i < N_OUTCOMES; i++) {
        puts_(o, ",\"");
        puts_(o, outcome_keys[i]);
        puts_(o, "\":");
        put_uint(o, s->outcomes[i]);
    }
    for (size_t m = 0; m < sizeof json_metrics / sizeof json_metrics[0]; m++) {
        const tks_histogram *h = s->h[json_metrics[m].metric];
        int unit = json_metrics[m].unit;
        puts_(o, ",\"");
        puts_(o, json_metrics[m].key);
        puts_(o, "\":{\"count\":");
        uint64_t n = tks_histogram_count(h);
        put_uint(o, n);
        static const char *const keys[] = {"p50", "p90", "p95", "p99", "p99.9"};
        if (!n) {
            puts_(o, ",\"mean\":null,\"std\":null,\"min\":null,\"max\":null");
            for (int k = 0; k < 5; k++) {
                puts_(o, ",\"");
                puts_(o, keys[k]);
                puts_(o, "\":null");
            }
        } else {
            double mean, std;
            int64_t mn, mx, p[5];
            tks_histogram_mean(h, &mean);
            tks_histogram_std(h, &std);
            tks_histogram_min(h, &mn);
            tks_histogram_max(h, &mx);
            tks_histogram_percentiles(h, summary_pcts, 5, p);
            puts_(o, ",\"mean\":");
            put_mean(o, mean, unit);
            puts_(o, ",\"std\":");
            put_mean(o, std, unit);
            puts_(o, ",\"min\":");
            put_value(o, mn, unit);
            puts_(o, ",\"max\":");
            put_value(o, mx, unit);
            for (int k = 0; k < 5; k++) {
                puts_(o, ",\"");
                puts_(o, keys[k]);
                puts_(o, "\":");
                put_value(o, p[k], unit);
            }
        }
        puts_(o, "}");
    }
    puts_(o, "}\n");
}

/* OpenTelemetry GenAI semantic conventions: recommended ExplicitBucketBoundaries
 * (gen-ai-metrics.md). As text (the `le` labels) and in the values' unit. */
#define N_DURATION_B 14
static const char *const duration_b[N_DURATION_B] = {
    "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64",
    "1.28", "2.56", "5.12", "10.24", "20.48", "40.96", "81.92"};
#define N_TTFT_B 16
static const char *const ttft_b[N_TTFT_B] = {"0.001", "0.005", "0.01", "0.02", "0.04", "0.06",
                                             "0.08",  "0.1",   "0.25", "0.5",  "0.75", "1.0",
                                             "2.5",   "5.0",   "7.5",  "10.0"};
#define N_TPOT_B 13
static const char *const tpot_b[N_TPOT_B] = {"0.01", "0.025", "0.05", "0.075", "0.1",
                                             "0.15", "0.2",   "0.3",  "0.4",   "0.5",
                                             "0.75", "1.0",   "2.5"};
#define N_TOKEN_B 14
static const char *const token_b[N_TOKEN_B] = {
    "1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576",
    "4194304", "16777216", "67108864"};

/* "2.56" seconds -> 2560000000 ns (scale 10^9), or a token count (scale 1): exact, from
 * the digits. */
static int64_t parse_bound(const char *s, int64_t scale) {
    int64_t ip = 0, fp = 0, fscale = 1;
    while (*s >= '0' && *s <= '9') ip = ip * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            fp = fp * 10 + (*s++ - '0');
            fscale *= 10;
        }
    }
    return ip * scale + fp * (scale / fscale);
}

static const struct {
    const char *name;
    const char *help;
    int metric;
    const char *const *bounds;
    int n_bounds;
    int seconds; /* values in ns shown in seconds; else plain counts */
    const char *labels; /* extra labels, or "" */
} prom_metrics[] = {
    {"gen_ai_client_operation_duration_seconds",
     "GenAI operation duration (tokstream: stream end - request sent), successful streams.",
     TKS_METRIC_DURATION, duration_b, N_DURATION_B, 1, ""},
    {"gen_ai_client_operation_time_to_first_chunk_seconds",
     "Time to receive the first chunk (tokstream: first token-bearing chunk - request sent).",
     TKS_METRIC_TTFC, duration_b, N_DURATION_B, 1, ""},
    {"gen_ai_client_operation_time_per_output_chunk_seconds",
     "Time per output chunk, for each token-bearing chunk after the first.",
     TKS_METRIC_ITL_CHUNK, duration_b, N_DURATION_B, 1, ""},
    {"gen_ai_server_time_to_first_token_seconds",
     "Time to generate first token for successful responses (tokstream: first token-bearing "
     "chunk - request sent).",
     TKS_METRIC_TTFC, ttft_b, N_TTFT_B, 1, ""},
    {"gen_ai_server_time_per_output_token_seconds",
     "Time per output token generated after the first token for successful responses.",
     TKS_METRIC_TPOT, tpot_b, N_TPOT_B, 1, ""},
    {"gen_ai_client_token_usage", "Number of output tokens used, per successful stream.",
     TKS_METRIC_OUTPUT_TOKENS, token_b, N_TOKEN_B, 0, "gen_ai_token_type=\"output\""},
};

static void put_labels(out_t *o, const char *extra, const char *le) {
    if (!*extra && !le) return;
    puts_(o, "{");
    puts_(o, extra);
    if (le) {
        if (*extra) puts_(o, ",");
        puts_(o, "le=\"");
        puts_(o, le);
        puts_(o, "\"");
    }
    puts_(o, "}");
}

static void write_prometheus(const tks_stats *s, out_t *o) {
    for (size_t m = 0; m < sizeof prom_metrics / sizeof prom_metrics[0]; m++) {
        const char *name = prom_metrics[m].name, *labels = prom_metrics[m].labels;
        const tks_histogram *h = s->h[prom_metrics[m].metric];
        int64_t scale = prom_metrics[m].seconds ? 1000000000 : 1;
        puts_(o, "# HELP ");
        puts_(o, name);
        puts_(o, " ");
        puts_(o, prom_metrics[m].help);
        puts_(o, "\n# TYPE ");
        puts_(o, name);
        puts_(o, " histogram\n");
        for (int b = 0; b < prom_metrics[m].n_bounds; b++) {
            const char *le = prom_metrics[m].bounds[b];
            puts_(o, name);
            puts_(o, "_bucket");
            put_labels(o, labels, le);
            puts_(o, " ");
            put_uint(o, tks__histogram_count_le(h, parse_bound(le, scale)));
            puts_(o, "\n");
        }
        puts_(o, name);
        puts_(o, "_bucket");
        put_labels(o, labels, "+Inf");
        puts_(o, " ");
        put_uint(o, tks_histogram_count(h));
        puts_(o, "\n");
        puts_(o, name);
        puts_(o, "_sum");
        put_labels(o, labels, NULL);
        puts_(o, " ");
        int64_t sum = round_i64(tks__histogram_sum(h));
        if (prom_metrics[m].seconds) put_fixed(o, sum, 9);
        else put_value(o, sum, U_COUNT);
        puts_(o, "\n");
        puts_(o, name);
        puts_(o, "_count");
        put_labels(o, labels, NULL);
        puts_(o, " ");
        put_uint(o, tks_histogram_count(h));
        puts_(o, "\n");
    }
    static const char *const outcome_names[N_OUTCOMES] = {NULL, "ok", "empty", "timeout", "error"};
    puts_(o, "# HELP tokstream_streams_total Streams timed, by outcome.\n"
             "# TYPE tokstream_streams_total counter\n");
    for (int i = 1; i < N_OUTCOMES; i++) {
        puts_(o, "tokstream_streams_total{outcome=\"");
        puts_(o, outcome_names[i]);
        puts_(o, "\"} ");
        put_uint(o, s->outcomes[i]);
        puts_(o, "\n");
    }
}

int tks_stats_write(const tks_stats *s, int format, tks_bytes_cb sink, void *user) {
    if (!s || !sink) return TKS_EINVAL;
    out_t o = {sink, user, TKS_OK};
    if (format == TKS_STATS_JSON) write_json(s, &o);
    else if (format == TKS_STATS_PROMETHEUS) write_prometheus(s, &o);
    else return TKS_EINVAL;
    return o.rc;
}
