/* mode_timer.c - `tokstream-bench timer [--n N] [--repeat R]`: the cost of timing.
 * One JSON line per figure:
 *   mark_chunk        one token-bearing chunk into a timer, which records it into its
 *                     three histograms (ITL per chunk, ITL per token, tokens per chunk);
 *                     times are precomputed, so the clock read is not in the figure
 *   histogram_record  one tks_histogram_record alone
 *   now_ns            one tks_now_ns (the clock read a live caller adds per chunk)
 *   memory            bytes per histogram, per timer and per stats (counted allocator)
 * ns figures are best and median over --repeat passes of N operations, measured in the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID): the cost on one core, not counting the time
 * the thread waited for a core on a busy machine. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void line(const char *figure, double best, double median, long long n, int repeat, int ok,
                 const char *extra) {
    printf("{\"impl\":\"tokstream-timer\",\"figure\":\"%s\",\"ns_best\":%.3f,\"ns_median\":%.3f,"
           "\"n\":%lld,\"repeat\":%d,\"ok\":%s,\"version\":\"%s\"%s}\n",
           figure, best, median, n, repeat, ok ? "true" : "false", tks_version(), extra);
    fflush(stdout);
}

int bench_timer(int argc, char **argv) {
    long long n = 10000000;
    int repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) n = atoll(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: tokstream-bench timer [--n N] [--repeat R]\n");
            return 2;
        }
    }
    if (n < 1000 || repeat < 1) {
        fprintf(stderr, "tokstream-bench timer: --n >= 1000, --repeat >= 1\n");
        return 2;
    }
    /* Chunk times: gaps of 1..50 ms with 1..4 tokens, a realistic spread over the buckets. */
    enum { PATTERN = 1 << 16 };
    int64_t *gap = malloc(PATTERN * sizeof *gap);
    uint32_t *tok = malloc(PATTERN * sizeof *tok);
    double *times = malloc((size_t)repeat * sizeof *times);
    if (!gap || !tok || !times) return 2;
    uint32_t x = 0x9E3779B9u;
    for (int i = 0; i < PATTERN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        gap[i] = 1000000 + (int64_t)(x % 49000000u);
        tok[i] = 1 + (x >> 28) % 4;
    }

    bench_counter cnt;
    tks_alloc alloc = bench_counting_alloc(&cnt);
    tks_timer_config tc = {0};
    tc.alloc = &alloc;
    tks_timer *t;
    if (tks_timer_new(&t, &tc) != TKS_OK) return 2;
    int64_t timer_bytes = cnt.live_bytes;
    uint64_t allocs_before = cnt.allocs;
    int ok = 1;
    for (int r = -1; r < repeat; r++) { /* r = -1: warm-up */
        tks_timer_reset(t);
        int64_t now = 0;
        tks_timer_mark_sent(t, 0);
        double t0 = cpu_seconds();
        for (long long i = 0; i < n; i++) {
            now += gap[i & (PATTERN - 1)];
            tks_timer_mark_chunk(t, now, tok[i & (PATTERN - 1)], TKS_CHUNK_CONTENT);
        }
        double dt = cpu_seconds() - t0;
        if (r >= 0) times[r] = dt / (double)n * 1e9;
        ok &= tks_histogram_count(tks_timer_histogram(t, TKS_METRIC_ITL_CHUNK)) == (uint64_t)(n - 1);
    }
    double best, median;
    bench_best_median(times, repeat, &best, &median);
    line("mark_chunk", best, median, n, repeat, ok && cnt.allocs == allocs_before, "");

    tks_histogram *h;
    tks_histogram_new(&h, NULL);
    for (int r = -1; r < repeat; r++) {
        tks_histogram_reset(h);
        double t0 = cpu_seconds();
        for (long long i = 0; i < n; i++) tks_histogram_record(h, gap[i & (PATTERN - 1)]);
        double dt = cpu_seconds() - t0;
        if (r >= 0) times[r] = dt / (double)n * 1e9;
    }
    bench_best_median(times, repeat, &best, &median);
    line("histogram_record", best, median, n, repeat, tks_histogram_count(h) == (uint64_t)n, "");

    volatile int64_t sink = 0;
    for (int r = -1; r < repeat; r++) {
        double t0 = cpu_seconds();
        int64_t acc = 0;
        for (long long i = 0; i < n; i++) acc += tks_now_ns();
        double dt = cpu_seconds() - t0;
        sink += acc;
        if (r >= 0) times[r] = dt / (double)n * 1e9;
    }
    bench_best_median(times, repeat, &best, &median);
    line("now_ns", best, median, n, repeat, sink != 0, "");

    bench_counter sc;
    tks_alloc salloc = bench_counting_alloc(&sc);
    tks_stats_config scfg = {&salloc};
    tks_stats *s;
    int sok = tks_stats_new(&s, &scfg) == TKS_OK;
    char extra[256];
    snprintf(extra, sizeof extra,
             ",\"histogram_bytes\":%zu,\"timer_bytes\":%lld,\"stats_bytes\":%lld",
             tks_histogram_memory(h), (long long)timer_bytes, (long long)sc.live_bytes);
    line("memory", 0, 0, 0, 1, sok && tks_histogram_memory(h) <= 16384, extra);
    tks_stats_free(s);
    tks_histogram_free(h);
    tks_timer_free(t);
    free(gap);
    free(tok);
    free(times);
    return ok ? 0 : 1;
}
