/* mode_detok.c - `tokstream-bench detok [--vocab FILE] [--tokens N] [--repeat N]`.
 *
 * Without --vocab: o200k_base.tiktoken and llama3.tokenizer.json from $TKS_SHARED (or
 * ../shared). The id stream is the ids of the vocabulary's golden cases (multilingual
 * text, emoji, CJK, code, invalid tails) joined and repeated to N tokens, pushed ONE id
 * per call into tks_detok, whose deltas go through a tks_stop with one stop string that
 * keeps matching partially (every space) but never completes, so the hold-back path
 * runs. One JSON line per measurement:
 *   detok:      tokens/s, allocations per token (counting allocator), state bytes
 *   vocab_load: load time of the file; for tokenizer.json also cJSON_Parse alone on the
 *               same bytes and the ratio. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "vocab_internal.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STOP_STRING " STOP-NEVER-SEEN"

/* CPU time of this process: on a shared machine it is the fairer figure (wall time is
 * reported too). */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0, r;
    char *p = malloc(cap + 1);
    while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *q = realloc(p, cap * 2 + 1);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (p) p[n] = 0;
    *len = n;
    return p;
}

static int is_json(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) i++;
    return i < n && p[i] == '{';
}

static int load(tks_vocab **v, const char *path, const char *data, size_t len) {
    int rc = tks_vocab_new(v, NULL);
    if (rc) return rc;
    if (is_json(data, len)) return tks_vocab_load_hf(*v, data, len);
    const tks_special_token *sp = NULL;
    size_t nsp = 0;
    if (strstr(path, "cl100k")) tks_vocab_tiktoken_specials("cl100k_base", &sp, &nsp);
    else if (strstr(path, "o200k")) tks_vocab_tiktoken_specials("o200k_base", &sp, &nsp);
    return tks_vocab_load_tiktoken(*v, data, len, sp, nsp);
}

/* The golden ids for a vocabulary file (by name), or NULL. */
static int32_t *golden_ids(const char *shared, const char *vocab_path, size_t *n) {
    const char *names[] = {"cl100k_base", "o200k_base", "llama3", "mistral7b"};
    const char *base = strrchr(vocab_path, '/');
    base = base ? base + 1 : vocab_path;
    const char *name = NULL;
    for (size_t i = 0; i < 4; i++)
        if (strncmp(base, names[i], strlen(names[i])) == 0) name = names[i];
    if (!name || !shared) return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab/golden/%s.jsonl", shared, name);
    size_t len;
    char *text = slurp(path, &len);
    if (!text) return NULL;
    size_t cap = 4096, cnt = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        cJSON *a = cJSON_GetObjectItem(j, "ids");
        int m = cJSON_GetArraySize(a);
        for (int k = 0; k < m; k++) {
            if (cnt == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
            ids[cnt++] = (int32_t)cJSON_GetArrayItem(a, k)->valuedouble;
        }
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    *n = cnt;
    return ids;
}

typedef struct sink {
    uint64_t bytes, deltas;
} sink;

static int on_text(void *user, const char *t, size_t n) {
    sink *s = user;
    (void)t;
    s->bytes += n;
    s->deltas++;
    return 0;
}

static int to_stop(void *user, const char *t, size_t n) { return tks_stop_push(user, t, n); }

static const char *basename_of(const char *p) {
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static int bench_one(const char *shared, const char *path, size_t tokens, int repeat) {
    size_t len;
    char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "tokstream-bench detok: cannot read %s\n", path);
        return 2;
    }
    const char *name = basename_of(path);

    /* ---- vocabulary load (and cJSON_Parse alone for tokenizer.json) ---- */
    double best = 1e9, cj_best = 1e9, cpu_best = 1e9, cj_cpu_best = 1e9;
    tks_vocab *v = NULL;
    for (int r = 0; r < repeat; r++) {
        tks_vocab *tmp;
        double c0 = cpu_seconds(), t0 = bench_seconds();
        int rc = load(&tmp, path, data, len);
        double t = bench_seconds() - t0, c = cpu_seconds() - c0;
        if (c < cpu_best) cpu_best = c;
        if (rc) {
            fprintf(stderr, "tokstream-bench detok: %s: %s\n", path, tks_vocab_error(tmp));
            tks_vocab_free(tmp);
            free(data);
            return 1;
        }
        if (t < best) best = t;
        if (v) tks_vocab_free(v);
        v = tmp;
    }
    if (is_json(data, len)) {
        for (int r = 0; r < repeat; r++) {
            double c0 = cpu_seconds(), t0 = bench_seconds();
            cJSON *j = cJSON_ParseWithLength(data, len);
            double t = bench_seconds() - t0, c = cpu_seconds() - c0;
            if (c < cj_cpu_best) cj_cpu_best = c;
            if (!j) {
                fprintf(stderr, "tokstream-bench detok: cJSON cannot parse %s\n", path);
                break;
            }
            cJSON_Delete(j);
            if (t < cj_best) cj_best = t;
        }
        printf("{\"impl\":\"tokstream\",\"mode\":\"vocab_load\",\"vocab\":\"%s\",\"bytes\":%zu,\"ids\":%zu,"
               "\"load_ms_best\":%.2f,\"cjson_parse_ms_best\":%.2f,\"ratio_to_cjson\":%.2f,"
               "\"load_cpu_ms_best\":%.2f,\"cjson_parse_cpu_ms_best\":%.2f,\"cpu_ratio_to_cjson\":%.2f,"
               "\"target_ratio\":2,\"repeat\":%d,\"version\":\"%s\"}\n",
               name, len, tks_vocab_size(v), best * 1e3, cj_best * 1e3, best / cj_best, cpu_best * 1e3,
               cj_cpu_best * 1e3, cpu_best / cj_cpu_best, repeat, tks_version());
    } else {
        printf("{\"impl\":\"tokstream\",\"mode\":\"vocab_load\",\"vocab\":\"%s\",\"bytes\":%zu,\"ids\":%zu,"
               "\"load_ms_best\":%.2f,\"load_cpu_ms_best\":%.2f,\"target_ms\":100,\"repeat\":%d,"
               "\"version\":\"%s\"}\n",
               name, len, tks_vocab_size(v), best * 1e3, cpu_best * 1e3, repeat, tks_version());
    }
    fflush(stdout);
    free(data);

    /* ---- the id stream ---- */
    size_t nbase = 0;
    int32_t *base = golden_ids(shared, path, &nbase);
    const char *source = "golden";
    if (!base || nbase == 0) { /* no golden file: a deterministic PRNG mix of present ids */
        free(base);
        source = "prng";
        nbase = 65536;
        base = malloc(nbase * sizeof *base);
        uint32_t x = 0x9E3779B9u;
        size_t size = tks_vocab_size(v);
        for (size_t i = 0; i < nbase;) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            int32_t id = (int32_t)(x % size);
            uint32_t fl;
            if (tks_vocab_token(v, id, NULL, NULL, &fl) == TKS_OK && !(fl & TKS_TOKEN_SPECIAL)) base[i++] = id;
        }
    }
    int32_t *ids = malloc(tokens * sizeof *ids);
    uint64_t token_bytes = 0;
    for (size_t i = 0; i < tokens; i++) {
        ids[i] = base[i % nbase];
        size_t n = 0;
        tks_vocab_token(v, ids[i], NULL, &n, NULL);
        token_bytes += n;
    }
    free(base);

    /* ---- detok + stop, one id per push ---- */
    bench_counter cnt;
    tks_alloc a = bench_counting_alloc(&cnt);
    sink s = {0, 0};
    tks_stop *st;
    tks_stop_config sc;
    memset(&sc, 0, sizeof sc);
    const char *stops[1] = {STOP_STRING};
    sc.alloc = &a;
    sc.strings = stops;
    sc.n_strings = 1;
    tks_detok *d;
    tks_detok_config dc;
    memset(&dc, 0, sizeof dc);
    dc.alloc = &a;
    dc.flags = TKS_DETOK_SKIP_SPECIAL;
    int64_t before_detok = 0;
    if (tks_stop_new(&st, &sc, on_text, &s)) {
        fprintf(stderr, "tokstream-bench detok: tks_stop_new failed\n");
        return 1;
    }
    before_detok = cnt.live_bytes;
    if (tks_detok_new(&d, v, &dc, to_stop, st)) {
        fprintf(stderr, "tokstream-bench detok: tks_detok_new failed\n");
        return 1;
    }
    int64_t detok_bytes = cnt.live_bytes - before_detok;
    double times[64], cpu_times[64];
    int nrep = repeat > 64 ? 64 : repeat;
    int ok = 1, matched = 0;
    uint64_t out_bytes = 0, deltas = 0, allocs_warm = 0;
    for (int r = -1; r < nrep; r++) { /* r = -1: warm-up */
        tks_detok_reset(d);
        tks_stop_reset(st);
        s.bytes = s.deltas = 0;
        if (r == 0) allocs_warm = cnt.allocs;
        double c0 = cpu_seconds(), t0 = bench_seconds();
        int rc = TKS_OK;
        for (size_t i = 0; i < tokens && rc == TKS_OK; i++) rc = tks_detok_push(d, ids + i, 1);
        if (rc == TKS_OK) rc = tks_detok_finish(d);
        if (rc == TKS_OK) rc = tks_stop_finish(st);
        double t = bench_seconds() - t0, c = cpu_seconds() - c0;
        if (r >= 0) cpu_times[r] = c;
        if (rc == TKS_STOPPED && tks_stop_matched(st)) matched = 1;
        else if (rc != TKS_OK) ok = 0;
        if (r >= 0) times[r] = t;
        out_bytes = s.bytes;
        deltas = s.deltas;
    }
    uint64_t allocs = cnt.allocs - allocs_warm;
    double tbest, tmed, cbest, cmed;
    bench_best_median(times, nrep, &tbest, &tmed);
    bench_best_median(cpu_times, nrep, &cbest, &cmed);
    printf("{\"impl\":\"tokstream\",\"mode\":\"detok\",\"vocab\":\"%s\",\"ids_from\":\"%s\",\"tokens\":%zu,"
           "\"token_bytes\":%llu,\"out_bytes\":%llu,\"deltas\":%llu,\"ids_per_push\":1,\"stop\":\"%s\","
           "\"stop_matched\":%s,\"seconds_best\":%.6f,\"seconds_median\":%.6f,\"tokens_per_s\":%.0f,"
           "\"ns_per_token\":%.2f,\"cpu_seconds_best\":%.6f,\"tokens_per_cpu_s\":%.0f,\"cpu_ns_per_token\":%.2f,"
           "\"allocs_per_token\":%.6f,\"state_bytes\":%zu,\"detok_object_bytes\":%lld,"
           "\"ok\":%s,\"repeat\":%d,\"version\":\"%s\"}\n",
           name, source, tokens, (unsigned long long)token_bytes, (unsigned long long)out_bytes,
           (unsigned long long)deltas, STOP_STRING, matched ? "true" : "false", tbest, tmed,
           (double)tokens / tbest, tbest * 1e9 / (double)tokens, cbest, (double)tokens / cbest,
           cbest * 1e9 / (double)tokens, (double)allocs / ((double)tokens * nrep),
           tks__detok_state_size(), (long long)detok_bytes, ok ? "true" : "false", nrep, tks_version());
    fflush(stdout);
    tks_detok_free(d);
    tks_stop_free(st);
    tks_vocab_free(v);
    free(ids);
    return ok ? 0 : 1;
}

int bench_detok(int argc, char **argv) {
    const char *vocab = NULL;
    size_t tokens = 2000000;
    int repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc) {
            vocab = argv[++i];
        } else if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc) {
            long long t = atoll(argv[++i]);
            if (t < 1) {
                fprintf(stderr, "tokstream-bench detok: bad --tokens\n");
                return 2;
            }
            tokens = (size_t)t;
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
            if (repeat < 1) repeat = 1;
        } else {
            fprintf(stderr, "usage: tokstream-bench detok [--vocab FILE] [--tokens N] [--repeat N]\n");
            return 2;
        }
    }
    const char *shared = getenv("TKS_SHARED");
    if (!shared || !*shared) shared = "../shared";
    if (vocab) return bench_one(shared, vocab, tokens, repeat);
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/vocab/o200k_base.tiktoken", shared);
    snprintf(p2, sizeof p2, "%s/vocab/llama3.tokenizer.json", shared);
    int rc = bench_one(shared, p1, tokens, repeat);
    int rc2 = bench_one(shared, p2, tokens, repeat);
    return rc ? rc : rc2;
}
