/* bench.h - shared by the modes of build/tokstream-bench: the one-JSON-line protocol of
 * ../shared/bench/README.md (arguments, corpus, chunk cuts, timing, checking). */
#ifndef TKS_BENCH_H
#define TKS_BENCH_H

#include "tokstream.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bench_corpus {
    const char *path;
    char name[256];       /* file name without directory and .sse */
    unsigned char *data;
    size_t len;
    size_t *ends;         /* chunk end offsets */
    size_t nchunks;
    int random_chunks;
    size_t chunk;
    int repeat, warmup;
    char *expected;       /* CORPUS.expected.json text, or NULL */
} bench_corpus;

/* Parses [--chunk N|random] [--repeat N] [--warmup N] CORPUS (and the TOKSTREAM_BENCH_*
 * environment), loads the corpus and its expected file, computes the cuts. Exits 2 on
 * bad usage. */
void bench_corpus_load(bench_corpus *c, int argc, char **argv);
void bench_corpus_free(bench_corpus *c);

/* An integer field of the expected file ("events", "streams", ...); -1 when absent. */
long long bench_expected_int(const bench_corpus *c, const char *key);
/* A string field of the expected file (a sha256 in hex), or NULL. Static buffer. */
const char *bench_expected_str(const bench_corpus *c, const char *key);

double bench_seconds(void);

/* Sorts times[0..n) and stores best and median. */
void bench_best_median(double *times, int n, double *best, double *median);

/* Prints the protocol's JSON line. `extra` is a string of additional `,"k":v` fields or
 * "". */
void bench_report(const bench_corpus *c, const char *impl, long long events, long long streams,
                  double best, double median, int ok, const char *extra);

/* SHA-256, incremental. */
typedef struct bench_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t nbuf;
} bench_sha256;
void bench_sha256_init(bench_sha256 *s);
void bench_sha256_update(bench_sha256 *s, const void *data, size_t n);
void bench_sha256_hex(bench_sha256 *s, char out[65]); /* finishes s */

/* Counting allocator for "allocations per event" figures. */
typedef struct bench_counter {
    uint64_t allocs; /* malloc + realloc calls */
    uint64_t frees;
    int64_t live_bytes;
    int64_t peak_bytes;
} bench_counter;
tks_alloc bench_counting_alloc(bench_counter *c);

/* The modes. */
int bench_sse(int argc, char **argv);
int bench_client(int argc, char **argv);
int bench_detok(int argc, char **argv);
int bench_timer(int argc, char **argv);

#endif
