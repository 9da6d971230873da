/* cmd_stats.c - `tokstream stats [--dialect D] [--json|--prometheus] [--capture FILE]...
 * [FILE|-]`: times streams with tks_client + tks_timer and aggregates them in a
 * tks_stats. A live stream (FILE or stdin) is timed as it arrives (tks_now_ns when each
 * read completes; sent = when stats started); captures from `tokstream record` are
 * replayed with their own times, so the figures are deterministic. Token-bearing chunks
 * are marked by the client: one token per content or reasoning delta, unless the
 * stream's usage gives the output token count (N for TPOT). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { OUT_TABLE, OUT_JSON, OUT_PROM };

typedef struct run {
    tks_client *client;
    tks_timer *timer;
    tks_stats *stats;
    int64_t now;        /* the replay clock */
    int replay;
    int bad;            /* a stream was malformed or truncated */
    const char *name;   /* for messages */
    int client_rc;
} run;

static int64_t replay_clock(void *ctx) { return ((run *)ctx)->now; }

static int push_client(void *ctx, const void *data, size_t len) {
    run *r = ctx;
    r->now = tks_now_ns(); /* the read just completed: its arrival time for every mark */
    int rc = tks_client_push(r->client, data, len);
    if (rc != TKS_OK) r->client_rc = rc;
    return TKS_OK; /* keep reading: the rest of the input is still timed as received */
}

/* End of one stream: finish the client (it marks the end), make sure the timer ended,
 * add it. */
static void end_stream(run *r, int64_t now) {
    r->now = now;
    int rc = tks_client_finish(r->client);
    if (tks_timer_outcome(r->timer) == TKS_OUTCOME_NONE) tks_timer_mark_end(r->timer, now, rc);
    if (*tks_timer_error(r->timer)) {
        fprintf(stderr, "tokstream stats: %s: %s\n", r->name, tks_timer_error(r->timer));
        r->bad = 1;
    }
    if (rc != TKS_OK) {
        const char *why = tks_client_error(r->client);
        if (strstr(why, "at byte ")) /* the library's message carries the position */
            fprintf(stderr, "tokstream stats: %s: %s\n", r->name, why);
        else
            fprintf(stderr, "tokstream stats: %s: %s at byte %llu\n", r->name, *why ? why : tks_strerror(rc),
                    (unsigned long long)tks_client_offset(r->client));
        r->bad = 1;
    }
    tks_stats_add(r->stats, r->timer);
    tks_client_reset(r->client);
    tks_timer_reset(r->timer);
}

typedef struct replay {
    run *r;
    int started;
    int64_t last;
} replay;

static int on_record(void *user, const tks_capture_record *rec) {
    replay *p = user;
    run *r = p->r;
    r->now = rec->t_ns;
    p->last = rec->t_ns;
    if (rec->kind == TKS_CAPTURE_START) {
        p->started = 1;
        tks_timer_mark_sent(r->timer, rec->t_ns);
        return 0;
    }
    if (rec->len) {
        int rc = tks_client_push(r->client, rec->data, rec->len);
        if (rc != TKS_OK) r->client_rc = rc;
    }
    return 0;
}

static int push_capture(void *ctx, const void *data, size_t len) {
    return tks_capture_reader_push((tks_capture_reader *)ctx, data, len);
}

static int replay_file(run *r, const char *path) {
    FILE *f = cli_open(path);
    if (!f) return CLI_USAGE;
    replay p = {r, 0, 0};
    tks_capture_reader *cr;
    if (tks_capture_reader_new(&cr, NULL, on_record, &p) != TKS_OK) {
        cli_close(f);
        fprintf(stderr, "tokstream stats: out of memory\n");
        return CLI_BAD_STREAM;
    }
    r->name = path;
    r->client_rc = TKS_OK;
    int rc = cli_feed(f, 0, push_capture, cr, NULL);
    if (rc == TKS_OK) rc = tks_capture_reader_finish(cr);
    cli_close(f);
    if (rc != TKS_OK && rc != TKS_EIO) {
        const char *why = tks_capture_reader_error(cr);
        if (strstr(why, "at byte "))
            fprintf(stderr, "tokstream stats: %s: not a valid capture: %s\n", path, why);
        else
            fprintf(stderr, "tokstream stats: %s: not a valid capture: %s at byte %llu\n", path,
                    *why ? why : tks_strerror(rc), (unsigned long long)tks_capture_reader_offset(cr));
    } else if (rc == TKS_EIO) {
        fprintf(stderr, "tokstream stats: %s: read error\n", path);
    }
    tks_capture_reader_free(cr);
    if (p.started) end_stream(r, p.last); /* what was read is still a stream */
    if (rc != TKS_OK) r->bad = 1;
    return CLI_OK;
}

static int write_out(void *user, const char *bytes, size_t len) {
    return fwrite(bytes, 1, len, (FILE *)user) == len ? 0 : 1;
}

/* Milliseconds with three decimals from ns, or the plain integer (counts). */
static void cell(char *b, size_t cap, int64_t v, int unit_ns) {
    if (unit_ns) {
        v = (v + 500) / 1000; /* microseconds, rounded */
        snprintf(b, cap, "%lld.%03lld", (long long)(v / 1000), (long long)(v % 1000));
    }
    else snprintf(b, cap, "%lld", (long long)v);
}

static void print_table(const tks_stats *s) {
    printf("streams %llu: ok %llu, zero tokens %llu, timed out %llu, errors %llu\n",
           (unsigned long long)tks_stats_count(s, TKS_OUTCOME_NONE),
           (unsigned long long)tks_stats_count(s, TKS_OUTCOME_OK),
           (unsigned long long)tks_stats_count(s, TKS_OUTCOME_EMPTY),
           (unsigned long long)tks_stats_count(s, TKS_OUTCOME_TIMEOUT),
           (unsigned long long)tks_stats_count(s, TKS_OUTCOME_ERROR));
    static const struct {
        const char *label;
        int metric;
        int ns;
    } rows[] = {
        {"TTFC (ms)", TKS_METRIC_TTFC, 1},         {"TTFT (ms)", TKS_METRIC_TTFT, 1},
        {"ITL (ms)", TKS_METRIC_ITL_CHUNK, 1},     {"ITL/token (ms)", TKS_METRIC_ITL_TOKEN, 1},
        {"TPOT (ms)", TKS_METRIC_TPOT, 1},         {"E2E (ms)", TKS_METRIC_E2EL, 1},
        {"duration (ms)", TKS_METRIC_DURATION, 1}, {"output tokens", TKS_METRIC_OUTPUT_TOKENS, 0},
    };
    printf("%-15s %8s %10s %10s %10s %10s %10s %10s\n", "", "count", "mean", "p50", "p90", "p99",
           "min", "max");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tks_summary m;
        if (tks_stats_summary(s, rows[i].metric, &m) != TKS_OK) {
            printf("%-15s %8s\n", rows[i].label, "0");
            continue;
        }
        char c[6][32];
        cell(c[0], 32, m.mean, rows[i].ns);
        cell(c[1], 32, m.p50, rows[i].ns);
        cell(c[2], 32, m.p90, rows[i].ns);
        cell(c[3], 32, m.p99, rows[i].ns);
        cell(c[4], 32, m.min, rows[i].ns);
        cell(c[5], 32, m.max, rows[i].ns);
        printf("%-15s %8llu %10s %10s %10s %10s %10s %10s\n", rows[i].label,
               (unsigned long long)m.count, c[0], c[1], c[2], c[3], c[4], c[5]);
    }
    tks_summary t;
    if (tks_stats_summary(s, TKS_METRIC_TOKENS_PER_S, &t) == TKS_OK)
        printf("tokens/s per stream: mean %lld.%03lld, p50 %lld.%03lld\n", (long long)(t.mean / 1000),
               (long long)(t.mean % 1000), (long long)(t.p50 / 1000), (long long)(t.p50 % 1000));
}

int cmd_stats(int argc, char **argv) {
    int dialect = TKS_DIALECT_AUTO, format = OUT_TABLE;
    const char *file = NULL;
    const char **captures = calloc((size_t)argc, sizeof *captures);
    size_t ncap = 0;
    if (!captures) return CLI_BAD_STREAM;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--dialect") == 0 && i + 1 < argc) {
            dialect = tks_dialect_from_name(argv[i + 1], strlen(argv[i + 1]));
            i++;
            if (dialect < 0) {
                free(captures);
                return cli_usage("stats", "unknown dialect");
            }
        } else if (strcmp(a, "--json") == 0 || strcmp(a, "--prometheus") == 0) {
            int want = a[2] == 'j' ? OUT_JSON : OUT_PROM;
            if (format != OUT_TABLE && format != want) {
                free(captures);
                return cli_usage("stats", "give one of --json and --prometheus");
            }
            format = want;
        } else if (strcmp(a, "--capture") == 0 && i + 1 < argc) {
            captures[ncap++] = argv[++i];
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && !file) {
            file = a;
        } else {
            free(captures);
            return cli_usage("stats", "unknown argument");
        }
    }
    if (ncap && file) {
        free(captures);
        return cli_usage("stats", "give captures (--capture) or one live stream, not both");
    }
    run r = {0};
    r.replay = ncap > 0;
    tks_timer_config tc = {0};
    tc.clock = replay_clock; /* the capture's times, or each live read's arrival time */
    tc.clock_ctx = &r;
    tks_client_config cc = {0};
    cc.dialect = dialect;
    int rc = tks_timer_new(&r.timer, &tc);
    if (rc == TKS_OK) {
        cc.timer = r.timer;
        rc = tks_client_new(&r.client, &cc, NULL, NULL);
    }
    if (rc == TKS_OK) rc = tks_stats_new(&r.stats, NULL);
    int status = CLI_OK;
    if (rc != TKS_OK) {
        fprintf(stderr, "tokstream stats: %s\n", tks_strerror(rc));
        status = CLI_BAD_STREAM;
        goto done;
    }
    if (r.replay) {
        for (size_t i = 0; i < ncap; i++) {
            int s = replay_file(&r, captures[i]);
            if (s == CLI_USAGE) {
                status = CLI_USAGE;
                goto done;
            }
        }
    } else {
        FILE *f = cli_open(file);
        if (!f) {
            status = CLI_USAGE;
            goto done;
        }
        r.name = file ? file : "stdin";
        tks_timer_mark_sent(r.timer, tks_now_ns());
        rc = cli_feed(f, 0, push_client, &r, NULL);
        cli_close(f);
        if (rc == TKS_EIO) {
            fprintf(stderr, "tokstream stats: %s: read error\n", r.name);
            r.bad = 1;
        }
        end_stream(&r, tks_now_ns());
    }
    if (format == OUT_JSON) tks_stats_write(r.stats, TKS_STATS_JSON, write_out, stdout);
    else if (format == OUT_PROM) tks_stats_write(r.stats, TKS_STATS_PROMETHEUS, write_out, stdout);
    else print_table(r.stats);
    fflush(stdout);
    if (r.bad) status = CLI_BAD_STREAM;
done:
    tks_client_free(r.client);
    tks_timer_free(r.timer);
    tks_stats_free(r.stats);
    free(captures);
    return status;
}
