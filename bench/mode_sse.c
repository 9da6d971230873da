/* mode_sse.c - `tokstream-bench sse [--chunk N|random] [--repeat N] CORPUS.sse`: SSE framing
 * alone (tks_sse_parser), the same work as the eventsource-parser peer: count events and
 * data bytes in every pass, SHA-256 over each event's data + LF in the warmup pass only,
 * all checked against CORPUS.expected.json. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* CPU time of this thread: on a shared, loaded machine it says what the parser costs
 * when wall-clock time also counts the waits for a CPU. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct sse_tally {
    long long events;
    long long data_bytes;
    bench_sha256 *sha; /* NULL: no hashing (timed passes) */
} sse_tally;

static int on_event(void *user, const tks_event *ev) {
    sse_tally *t = user;
    t->events++;
    t->data_bytes += (long long)ev->data_len;
    if (t->sha) {
        bench_sha256_update(t->sha, ev->data, ev->data_len);
        bench_sha256_update(t->sha, "\n", 1);
    }
    return 0;
}

/* One pass over the corpus in its chunks; 0 when the parser reported no error. */
static int run_pass(tks_sse_parser *p, const bench_corpus *c) {
    size_t start = 0;
    tks_sse_parser_reset(p);
    for (size_t i = 0; i < c->nchunks; i++) {
        int rc = tks_sse_parser_push(p, c->data + start, c->ends[i] - start);
        if (rc != TKS_OK) {
            fprintf(stderr, "tokstream-bench sse: push: %s\n", tks_sse_parser_error(p));
            return -1;
        }
        start = c->ends[i];
    }
    int rc = tks_sse_parser_finish(p);
    if (rc != TKS_OK) {
        fprintf(stderr, "tokstream-bench sse: finish: %s\n", tks_sse_parser_error(p));
        return -1;
    }
    return 0;
}

int bench_sse(int argc, char **argv) {
    bench_corpus c;
    bench_corpus_load(&c, argc, argv);
    long long want_events = bench_expected_int(&c, "events");
    long long want_bytes = bench_expected_int(&c, "data_bytes");
    const char *w = bench_expected_str(&c, "data_sha256");
    char want_sha[65] = "";
    if (w) snprintf(want_sha, sizeof want_sha, "%s", w);
    if (want_events < 0 || want_bytes < 0 || !want_sha[0])
        fprintf(stderr, "tokstream-bench sse: %s: no expected events/data_bytes/data_sha256\n",
                c.path);

    bench_counter counter;
    tks_alloc a = bench_counting_alloc(&counter);
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &a;
    cfg.max_event = 16 * 1024 * 1024; /* the corpora hold 64 KiB events; generous */
    cfg.max_line = 16 * 1024 * 1024;
    sse_tally t;
    tks_sse_parser *p;
    if (tks_sse_parser_new(&p, &cfg, on_event, &t) != TKS_OK) {
        fprintf(stderr, "tokstream-bench sse: cannot create the parser\n");
        bench_corpus_free(&c);
        return 2;
    }
    long long parser_bytes = (long long)counter.live_bytes; /* the idle object */

    int ok = want_events >= 0 && want_bytes >= 0 && want_sha[0];
    char got_sha[65] = "";
    for (int i = 0; i < (c.warmup > 0 ? c.warmup : 1); i++) {
        bench_sha256 sha;
        bench_sha256_init(&sha);
        memset(&t, 0, sizeof t);
        t.sha = i == 0 ? &sha : NULL;
        if (run_pass(p, &c) != 0) ok = 0;
        if (i == 0) bench_sha256_hex(&sha, got_sha);
        if (t.events != want_events || t.data_bytes != want_bytes) ok = 0;
    }
    if (strcmp(got_sha, want_sha) != 0) {
        ok = 0;
        fprintf(stderr, "tokstream-bench sse: data_sha256 %s, expected %s\n", got_sha, want_sha);
    }

    double times[256], cpu[256];
    int n = c.repeat < 256 ? c.repeat : 256;
    uint64_t allocs_before = counter.allocs;
    long long timed_events = 0;
    for (int i = 0; i < n; i++) {
        memset(&t, 0, sizeof t);
        double t0 = bench_seconds(), c0 = cpu_seconds();
        int rc = run_pass(p, &c);
        times[i] = bench_seconds() - t0;
        cpu[i] = cpu_seconds() - c0;
        if (rc != 0 || t.events != want_events || t.data_bytes != want_bytes) {
            ok = 0;
            fprintf(stderr, "tokstream-bench sse: pass %d: %lld events, %lld data bytes\n", i,
                    t.events, t.data_bytes);
        }
        timed_events += t.events;
    }
    double best, median, cpu_best, cpu_median;
    bench_best_median(times, n, &best, &median);
    bench_best_median(cpu, n, &cpu_best, &cpu_median);
    char extra[384];
    snprintf(extra, sizeof extra,
             ",\"cpu_seconds_best\":%.6f,\"mib_per_cpu_s\":%.1f,\"allocs_per_event\":%.6f,"
             "\"parser_bytes\":%lld,\"parser_peak_bytes\":%lld,\"data_bytes\":%lld,"
             "\"data_sha256\":\"%s\"",
             cpu_best, cpu_best > 0 ? (double)c.len / 1048576.0 / cpu_best : 0.0,
             timed_events ? (double)(counter.allocs - allocs_before) / (double)timed_events : 0.0,
             parser_bytes, (long long)counter.peak_bytes, want_bytes, got_sha);
    bench_report(&c, "tokstream-sse", t.events, 0, best, median, ok, extra);
    tks_sse_parser_free(p);
    bench_corpus_free(&c);
    return ok ? 0 : 1;
}
