/* mode_client.c - `tokstream-bench client [--chunk N|random] [--repeat N] CORPUS.sse`:
 * the whole client path (tks_client: SSE framing, chunk decoding, assembly), the work of
 * the openai and Anthropic SDK peers.
 *
 * Like the peers, the corpus is split into its streams before timing (at each
 * `data: [DONE]` / `message_stop` event) and the common chunk cuts get one more cut at
 * each stream end; each stream goes through one client, finished and then reset for the
 * next (a warm client allocates nothing). After each stream the message is read through
 * the getters: streams, content bytes, tool calls, finish reasons and usage are checked
 * in every pass; the SHA-256 fields (content, tool calls, thinking, tool inputs) are
 * computed in the warmup pass, outside the clock, as the SDK runners hash after theirs.
 * `events` is the expected file's count (the client path does not surface framed
 * events); `allocs_per_chunk` counts allocator calls in the timed passes per push. */
#include "bench.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXR = 16 };

typedef struct tally {
    long long streams, content_bytes, tool_calls, thinking_blocks, in, out, total, pushes;
    char reasons[MAXR][32];
    long long reason_n[MAXR];
    int nreasons, bad;
    bench_sha256 *content, *tools, *thinking; /* NULL in timed passes */
} tally;

static void count_reason(tally *t, const char *s, size_t n) {
    if (n >= 32) n = 31;
    for (int i = 0; i < t->nreasons; i++)
        if (strlen(t->reasons[i]) == n && !memcmp(t->reasons[i], s, n)) {
            t->reason_n[i]++;
            return;
        }
    if (t->nreasons == MAXR) return;
    memcpy(t->reasons[t->nreasons], s, n);
    t->reasons[t->nreasons][n] = 0;
    t->reason_n[t->nreasons++] = 1;
}

/* Reads one finished stream's message. */
static void record(tally *t, const tks_assembler *m) {
    t->streams++;
    if (tks_assembler_choices(m) == 0) return;
    size_t len;
    const char *s = tks_assembler_content(m, 0, &len);
    t->content_bytes += (long long)len;
    if (t->content && s) bench_sha256_update(t->content, s, len);
    s = tks_assembler_reasoning(m, 0, &len);
    if (s) {
        t->thinking_blocks++;
        if (t->thinking) bench_sha256_update(t->thinking, s, len);
    }
    size_t calls = tks_assembler_tool_calls(m, 0);
    t->tool_calls += (long long)calls;
    for (size_t k = 0; t->tools && k < calls; k++) {
        const char *f[3] = {tks_assembler_tool_id(m, 0, k, &len), NULL, NULL};
        size_t fl[3] = {len, 0, 0};
        f[1] = tks_assembler_tool_name(m, 0, k, &fl[1]);
        f[2] = tks_assembler_tool_args(m, 0, k, &fl[2]);
        for (int i = 0; i < 3; i++) {
            if (f[i]) bench_sha256_update(t->tools, f[i], fl[i]);
            bench_sha256_update(t->tools, "\n", 1);
        }
    }
    s = tks_assembler_raw_finish(m, 0, &len);
    if (s) count_reason(t, s, len);
    int64_t v;
    if ((v = tks_assembler_usage(m, TKS_USAGE_INPUT)) > 0) t->in += v;
    if ((v = tks_assembler_usage(m, TKS_USAGE_OUTPUT)) > 0) t->out += v;
    if ((v = tks_assembler_usage(m, TKS_USAGE_TOTAL)) > 0) t->total += v;
}

/* Where each stream ends: after the blank line that ends its terminal event. */
static size_t *stream_ends(const bench_corpus *c, int anthropic, size_t *n) {
    const char *marker = anthropic ? "event: message_stop\n" : "data: [DONE]\n";
    size_t ml = strlen(marker), cap = 1024, k = 0;
    size_t *ends = malloc(cap * sizeof *ends);
    const char *p = (const char *)c->data, *end = p + c->len;
    while (p < end) {
        const char *hit = strstr(p, marker);
        if (!hit) break;
        const char *blank = strstr(hit + ml - 1, "\n\n");
        if (!blank) break;
        if (k == cap) ends = realloc(ends, (cap *= 2) * sizeof *ends);
        ends[k++] = (size_t)(blank + 2 - (const char *)c->data);
        p = blank + 2;
    }
    *n = k;
    return ends;
}

/* One pass: the pieces are the common cuts plus the stream ends. */
static void run_pass(tks_client *cl, const bench_corpus *c, const size_t *sends, size_t nsends,
                     tally *t) {
    size_t at = 0, ci = 0, si = 0;
    tks_client_reset(cl);
    while (at < c->len) {
        size_t next = c->len;
        if (ci < c->nchunks && c->ends[ci] < next) next = c->ends[ci];
        if (si < nsends && sends[si] <= next) next = sends[si];
        int rc = tks_client_push(cl, c->data + at, next - at);
        t->pushes++;
        if (rc != TKS_OK && !t->bad++)
            fprintf(stderr, "tokstream-bench client: push: %s\n", tks_client_error(cl));
        at = next;
        if (ci < c->nchunks && c->ends[ci] == at) ci++;
        if (si < nsends && sends[si] == at) {
            si++;
            rc = tks_client_finish(cl);
            if (rc != TKS_OK && !t->bad++)
                fprintf(stderr, "tokstream-bench client: stream %lld: %s\n", t->streams,
                        tks_client_error(cl));
            record(t, tks_client_message(cl));
            tks_client_reset(cl);
        }
    }
}

static long long jint(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}
static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Every count field of the expected file this pass can produce; 0 when all match. */
static int check_counts(const cJSON *x, int anthropic, const tally *t, int verbose) {
    int bad = 0;
#define EXPECT(name, got)                                                                  \
    do {                                                                                   \
        long long w_ = jint(x, name);                                                      \
        if (w_ >= 0 && w_ != (got)) {                                                      \
            bad++;                                                                         \
            if (verbose)                                                                   \
                fprintf(stderr, "tokstream-bench client: %s %lld, expected %lld\n", name,  \
                        (long long)(got), w_);                                             \
        }                                                                                  \
    } while (0)
    EXPECT("streams", t->streams);
    if (anthropic) {
        EXPECT("text_bytes", t->content_bytes);
        EXPECT("tool_uses", t->tool_calls);
        EXPECT("thinking_blocks", t->thinking_blocks);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(x, "usage");
        if (jint(u, "input_tokens") != t->in || jint(u, "output_tokens") != t->out) {
            bad++;
            if (verbose) fprintf(stderr, "tokstream-bench client: usage %lld/%lld\n", t->in, t->out);
        }
    } else {
        EXPECT("content_bytes", t->content_bytes);
        EXPECT("tool_calls", t->tool_calls);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(x, "usage");
        if (jint(u, "prompt_tokens") != t->in || jint(u, "completion_tokens") != t->out ||
            jint(u, "total_tokens") != t->total) {
            bad++;
            if (verbose)
                fprintf(stderr, "tokstream-bench client: usage %lld/%lld/%lld\n", t->in, t->out,
                        t->total);
        }
    }
#undef EXPECT
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(x, anthropic ? "stop_reasons" : "finish_reasons");
    int nfr = cJSON_GetArraySize(fr);
    if (nfr != t->nreasons) bad++;
    for (int i = 0; i < t->nreasons; i++)
        if (jint(fr, t->reasons[i]) != t->reason_n[i]) {
            bad++;
            if (verbose)
                fprintf(stderr, "tokstream-bench client: finish %s: %lld, expected %lld\n",
                        t->reasons[i], t->reason_n[i], jint(fr, t->reasons[i]));
        }
    return bad;
}

int bench_client(int argc, char **argv) {
    bench_corpus c;
    bench_corpus_load(&c, argc, argv);
    int anthropic = strncmp(c.name, "anthropic", 9) == 0;
    if (!anthropic && strncmp(c.name, "openai-chat", 11) != 0) {
        fprintf(stderr, "tokstream-bench client: %s: the client mode reads the openai-chat and "
                        "anthropic corpora only\n", c.path);
        bench_corpus_free(&c);
        return 2;
    }
    cJSON *x = c.expected ? cJSON_Parse(c.expected) : NULL;
    if (!x) fprintf(stderr, "tokstream-bench client: %s: no expected file\n", c.path);

    size_t nsends;
    size_t *sends = stream_ends(&c, anthropic, &nsends);

    bench_counter counter;
    tks_alloc a = bench_counting_alloc(&counter);
    tks_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &a;
    cfg.dialect = anthropic ? TKS_DIALECT_ANTHROPIC : TKS_DIALECT_OPENAI_CHAT;
    tks_client *cl;
    if (tks_client_new(&cl, &cfg, NULL, NULL) != TKS_OK) {
        fprintf(stderr, "tokstream-bench client: cannot create the client\n");
        return 2;
    }

    int ok = x != NULL;
    /* warmup: the full check, hashes included */
    char hc[65], ht[65], hk[65];
    for (int i = 0; i < (c.warmup > 0 ? c.warmup : 1); i++) {
        bench_sha256 sc, st, sk;
        bench_sha256_init(&sc);
        bench_sha256_init(&st);
        bench_sha256_init(&sk);
        tally t;
        memset(&t, 0, sizeof t);
        if (i == 0) t.content = &sc, t.tools = &st, t.thinking = &sk;
        run_pass(cl, &c, sends, nsends, &t);
        if (t.bad || (x && check_counts(x, anthropic, &t, 1))) ok = 0;
        if (i == 0) {
            bench_sha256_hex(&sc, hc);
            bench_sha256_hex(&st, ht);
            bench_sha256_hex(&sk, hk);
            const char *wc = x ? jstr(x, anthropic ? "text_sha256" : "content_sha256") : NULL;
            const char *wt = x ? jstr(x, anthropic ? "tool_inputs_raw_sha256" : "tool_calls_sha256") : NULL;
            const char *wk = x && anthropic ? jstr(x, "thinking_sha256") : NULL;
            if (!wc || strcmp(wc, hc)) ok = 0, fprintf(stderr, "tokstream-bench client: content sha %s\n", hc);
            if (!wt || strcmp(wt, ht)) ok = 0, fprintf(stderr, "tokstream-bench client: tool sha %s\n", ht);
            if (wk && strcmp(wk, hk)) ok = 0, fprintf(stderr, "tokstream-bench client: thinking sha %s\n", hk);
        }
    }

    double times[256];
    int n = c.repeat < 256 ? c.repeat : 256;
    uint64_t allocs_before = counter.allocs;
    long long pushes = 0, streams = 0;
    for (int i = 0; i < n; i++) {
        tally t;
        memset(&t, 0, sizeof t);
        double t0 = bench_seconds();
        run_pass(cl, &c, sends, nsends, &t);
        times[i] = bench_seconds() - t0;
        if (t.bad || (x && check_counts(x, anthropic, &t, 0))) ok = 0;
        pushes += t.pushes;
        streams = t.streams;
    }
    double best, median;
    bench_best_median(times, n, &best, &median);
    char extra[512];
    snprintf(extra, sizeof extra,
             ",\"allocs_per_chunk\":%.6f,\"peak_bytes\":%lld,\"%s\":\"%s\",\"%s\":\"%s\"",
             pushes ? (double)(counter.allocs - allocs_before) / (double)pushes : 0.0,
             (long long)counter.peak_bytes, anthropic ? "text_sha256" : "content_sha256", hc,
             anthropic ? "tool_inputs_raw_sha256" : "tool_calls_sha256", ht);
    long long events = x ? jint(x, "events") : 0;
    bench_report(&c, "tokstream-client", events, streams, best, median, ok, extra);
    tks_client_free(cl);
    free(sends);
    cJSON_Delete(x);
    bench_corpus_free(&c);
    return ok ? 0 : 1;
}
