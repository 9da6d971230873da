/* common.c - corpus loading, chunk cuts, timing, SHA-256 and the JSON line. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "tokstream-bench: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) die("cannot seek", path);
    long n = ftell(f);
    if (n < 0) die("cannot size", path);
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    if (!p) die("out of memory", NULL);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) die("short read", path);
    fclose(f);
    p[n] = 0;
    *len = (size_t)n;
    return p;
}

void bench_corpus_load(bench_corpus *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    c->chunk = 4096;
    c->repeat = 5;
    c->warmup = 1;
    const char *env;
    if ((env = getenv("TOKSTREAM_BENCH_CHUNK")) && *env) {
        if (strcmp(env, "random") == 0) c->random_chunks = 1;
        else c->chunk = (size_t)atol(env);
    }
    if ((env = getenv("TOKSTREAM_BENCH_REPEAT")) && *env) c->repeat = atoi(env);
    if ((env = getenv("TOKSTREAM_BENCH_CORPUS")) && *env) c->path = env;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            i++;
            c->random_chunks = strcmp(argv[i], "random") == 0;
            if (!c->random_chunks) c->chunk = (size_t)atol(argv[i]);
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            c->repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            c->warmup = atoi(argv[++i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            die("unknown option", argv[i]);
        } else {
            c->path = argv[i];
        }
    }
    if (!c->path) die("no corpus given", NULL);
    if (!c->random_chunks && c->chunk == 0) die("bad --chunk", NULL);
    if (c->repeat < 1) c->repeat = 1;
    if (c->warmup < 0) c->warmup = 0;
    c->data = slurp(c->path, &c->len);
    if (!c->data) die(strerror(errno), c->path);

    const char *base = strrchr(c->path, '/');
    base = base ? base + 1 : c->path;
    snprintf(c->name, sizeof c->name, "%s", base);
    size_t nl = strlen(c->name);
    if (nl > 4 && strcmp(c->name + nl - 4, ".sse") == 0) c->name[nl - 4] = 0;

    char exp[4096];
    size_t pl = strlen(c->path);
    if (pl > 4 && strcmp(c->path + pl - 4, ".sse") == 0 && pl < sizeof exp - 20) {
        snprintf(exp, sizeof exp, "%.*s.expected.json", (int)(pl - 4), c->path);
        size_t el;
        c->expected = (char *)slurp(exp, &el);
    }

    /* Cuts: fixed, or xorshift32 sizes 1 + x % 8192 from seed 0x9E3779B9 (the peers'). */
    size_t cap = c->random_chunks ? c->len + 1 : c->len / c->chunk + 2;
    c->ends = malloc(cap * sizeof *c->ends);
    if (!c->ends) die("out of memory", NULL);
    uint32_t x = 0x9E3779B9u;
    size_t off = 0;
    while (off < c->len) {
        size_t n = c->chunk;
        if (c->random_chunks) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            n = 1 + x % 8192;
        }
        off = n > c->len - off ? c->len : off + n;
        c->ends[c->nchunks++] = off;
    }
}

void bench_corpus_free(bench_corpus *c) {
    free(c->data);
    free(c->ends);
    free(c->expected);
}

long long bench_expected_int(const bench_corpus *c, const char *key) {
    char pat[128];
    if (!c->expected) return -1;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *k = strstr(c->expected, pat);
    if (!k) return -1;
    k += strlen(pat);
    while (*k == ' ') k++;
    if (*k < '0' || *k > '9') return -1;
    return strtoll(k, NULL, 10);
}

const char *bench_expected_str(const bench_corpus *c, const char *key) {
    static char out[256];
    char pat[128];
    if (!c->expected) return NULL;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *k = strstr(c->expected, pat);
    if (!k) return NULL;
    k += strlen(pat);
    while (*k == ' ') k++;
    if (*k != '"') return NULL;
    k++;
    size_t n = 0;
    while (k[n] && k[n] != '"' && n < sizeof out - 1) n++;
    memcpy(out, k, n);
    out[n] = 0;
    return out;
}

double bench_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_best_median(double *times, int n, double *best, double *median) {
    qsort(times, (size_t)n, sizeof *times, cmp_double);
    *best = times[0];
    *median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

void bench_report(const bench_corpus *c, const char *impl, long long events, long long streams,
                  double best, double median, int ok, const char *extra) {
    double mib = (double)c->len / 1048576.0 / best;
    printf("{\"impl\":\"%s\",\"corpus\":\"%s\",\"bytes\":%zu,\"events\":%lld,\"streams\":%lld,"
           "\"seconds_best\":%.6f,\"seconds_median\":%.6f,\"mib_per_s\":%.1f,"
           "\"events_per_s\":%.0f,\"ok\":%s,\"chunk\":\"%s\",\"repeat\":%d,"
           "\"version\":\"%s\"%s}\n",
           impl, c->name, c->len, events, streams, best, median, mib, (double)events / best,
           ok ? "true" : "false", c->random_chunks ? "random" : "fixed", c->repeat,
           tks_version(), extra ? extra : "");
    fflush(stdout);
}

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------ */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void bench_sha256_init(bench_sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->nbuf = 0;
}

void bench_sha256_update(bench_sha256 *s, const void *data, size_t n) {
    const unsigned char *p = data;
    s->len += n;
    if (s->nbuf) {
        size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        n -= take;
        if (s->nbuf < 64) return;
        sha_block(s->h, s->buf);
        s->nbuf = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha_block(s->h, p);
    memcpy(s->buf, p, n);
    s->nbuf = n;
}

void bench_sha256_hex(bench_sha256 *s, char out[65]) {
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80;
    bench_sha256_update(s, &pad, 1);
    pad = 0;
    while (s->nbuf != 56) bench_sha256_update(s, &pad, 1);
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    bench_sha256_update(s, lenb, 8);
    for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", s->h[i]);
    out[64] = 0;
}

/* ---- counting allocator ------------------------------------------------------------- */

static void *count_malloc(void *ctx, size_t n) {
    bench_counter *c = ctx;
    c->allocs++;
    c->live_bytes += (int64_t)n;
    if (c->live_bytes > c->peak_bytes) c->peak_bytes = c->live_bytes;
    return malloc(n ? n : 1);
}

static void *count_realloc(void *ctx, void *p, size_t old, size_t n) {
    bench_counter *c = ctx;
    c->allocs++;
    c->live_bytes += (int64_t)n - (int64_t)old;
    if (c->live_bytes > c->peak_bytes) c->peak_bytes = c->live_bytes;
    return realloc(p, n ? n : 1);
}

static void count_free(void *ctx, void *p, size_t n) {
    bench_counter *c = ctx;
    c->frees++;
    c->live_bytes -= (int64_t)n;
    free(p);
}

tks_alloc bench_counting_alloc(bench_counter *c) {
    memset(c, 0, sizeof *c);
    tks_alloc a = {count_malloc, count_realloc, count_free, c};
    return a;
}
