/* cmd_detok.c - `tokstream detok --vocab FILE [--skip-special] [--grapheme] [--stop S]...
 * [--chunk N] [--json] [IDS|-]`: whitespace-separated token ids in, text deltas out as
 * they come (flushed per delta), through tks_detok and, with --stop, tks_stop. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STOPS 64

typedef struct run {
    tks_detok *detok;
    tks_stop *stop;
    int json;
    size_t chunk;        /* ids per push; 0 = all the ids of each read */
    int32_t *ids;        /* ids waiting for a push */
    uint64_t *offsets;   /* the input byte of each waiting id */
    size_t n, cap;
    uint64_t pushed;     /* ids handed to the detok so far */
    uint64_t in_off;     /* input bytes parsed so far */
    char num[16];        /* a number cut by the end of a read */
    size_t num_len;
    uint64_t num_off;
    int bad;             /* malformed input seen: message already printed */
} run;

static int write_delta(void *user, const char *text, size_t len) {
    run *r = user;
    if (r->json) {
        fputs("{\"delta\":", stdout);
        cli_json_string(stdout, text, len);
        fputs("}\n", stdout);
    } else {
        fwrite(text, 1, len, stdout);
    }
    fflush(stdout);
    return ferror(stdout) ? 1 : 0;
}

static int to_stop(void *user, const char *text, size_t len) {
    run *r = user;
    return tks_stop_push(r->stop, text, len);
}

/* Pushes the waiting ids, `chunk` at a time (all when chunk is 0); with final, the rest. */
static int flush_ids(run *r, int final) {
    size_t at = 0;
    int rc = TKS_OK;
    while (rc == TKS_OK && at < r->n) {
        size_t k = r->n - at;
        if (r->chunk) {
            if (k < r->chunk && !final) break;
            if (k > r->chunk) k = r->chunk;
        }
        rc = tks_detok_push(r->detok, r->ids + at, k);
        if (rc == TKS_OK) {
            at += k;
            r->pushed += k;
        }
    }
    /* ids[0] is always the first id not yet handed over (error positions rely on it) */
    if (at) {
        memmove(r->ids, r->ids + at, (r->n - at) * sizeof *r->ids);
        memmove(r->offsets, r->offsets + at, (r->n - at) * sizeof *r->offsets);
        r->n -= at;
    }
    return rc;
}

/* Bad input: the ids read before it are still decoded (the output keeps everything
 * received), then the error stands. */
static int bad_input(run *r) {
    r->bad = 1;
    int rc = flush_ids(r, 1);
    if (rc == TKS_OK) rc = tks_detok_finish(r->detok);
    if (rc == TKS_OK && r->stop) rc = tks_stop_finish(r->stop);
    return rc == TKS_OK ? TKS_EPROTO : rc;
}

static int add_id(run *r) {
    r->num[r->num_len] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(r->num, &end, 10);
    if (*end || errno || v < INT32_MIN || v > INT32_MAX) {
        fprintf(stderr, "tokstream detok: \"%s\" is not a token id at byte %llu\n", r->num,
                (unsigned long long)r->num_off);
        return bad_input(r);
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 1024;
        int32_t *ids = realloc(r->ids, nc * sizeof *ids);
        if (ids) r->ids = ids;
        uint64_t *offs = ids ? realloc(r->offsets, nc * sizeof *offs) : NULL;
        if (!offs) return TKS_ENOMEM;
        r->offsets = offs;
        r->cap = nc;
    }
    r->ids[r->n] = (int32_t)v;
    r->offsets[r->n++] = r->num_off;
    r->num_len = 0;
    return TKS_OK;
}

static int is_space(int c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* cli_feed's sink: the bytes of one read. Numbers cut by the read wait for the next. */
static int parse_push(void *ctx, const void *data, size_t len) {
    run *r = ctx;
    const char *p = data;
    int rc;
    for (size_t i = 0; i < len; i++, r->in_off++) {
        char c = p[i];
        if (is_space((unsigned char)c)) {
            if (r->num_len && (rc = add_id(r))) return rc;
            continue;
        }
        if (!(c == '-' || (c >= '0' && c <= '9'))) {
            fprintf(stderr, "tokstream detok: unexpected character '%c' where a token id belongs at byte %llu\n",
                    c >= 0x20 && c < 0x7f ? c : '?', (unsigned long long)r->in_off);
            return bad_input(r);
        }
        if (r->num_len == 0) r->num_off = r->in_off;
        if (r->num_len == sizeof r->num - 1) {
            r->num[r->num_len] = 0;
            fprintf(stderr, "tokstream detok: \"%s...\" is not a token id at byte %llu\n", r->num,
                    (unsigned long long)r->num_off);
            return bad_input(r);
        }
        r->num[r->num_len++] = c;
    }
    return flush_ids(r, 0);
}

static int load_vocab(const char *path, tks_vocab **out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tokstream detok: %s: %s\n", path, strerror(errno));
        return CLI_USAGE;
    }
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        fprintf(stderr, "tokstream detok: %s: cannot read\n", path);
        return CLI_BAD_STREAM;
    }
    tks_vocab *v;
    int rc = tks_vocab_new(&v, NULL);
    if (rc == TKS_OK) {
        size_t i = 0;
        while (i < n && is_space((unsigned char)buf[i])) i++;
        if (i < n && buf[i] == '{') {
            rc = tks_vocab_load_hf(v, buf, n);
        } else {
            /* tiktoken: the built-in specials when the file name says which encoding */
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            const tks_special_token *sp = NULL;
            size_t nsp = 0;
            if (strstr(base, "cl100k")) tks_vocab_tiktoken_specials("cl100k_base", &sp, &nsp);
            else if (strstr(base, "o200k")) tks_vocab_tiktoken_specials("o200k_base", &sp, &nsp);
            rc = tks_vocab_load_tiktoken(v, buf, n, sp, nsp);
        }
    }
    free(buf);
    if (rc) {
        fprintf(stderr, "tokstream detok: %s: %s: %s\n", path, tks_strerror(rc), v ? tks_vocab_error(v) : "");
        tks_vocab_free(v);
        return CLI_BAD_STREAM;
    }
    *out = v;
    return CLI_OK;
}

int cmd_detok(int argc, char **argv) {
    const char *vocab_path = NULL, *in_path = NULL;
    const char *stops[MAX_STOPS];
    size_t n_stops = 0;
    uint32_t flags = 0;
    run r;
    memset(&r, 0, sizeof r);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--vocab") == 0) {
            if (++i >= argc) return cli_usage("detok", "--vocab needs a FILE");
            vocab_path = argv[i];
        } else if (strcmp(a, "--skip-special") == 0) {
            flags |= TKS_DETOK_SKIP_SPECIAL;
        } else if (strcmp(a, "--grapheme") == 0) {
            flags |= TKS_DETOK_GRAPHEME;
        } else if (strcmp(a, "--json") == 0) {
            r.json = 1;
        } else if (strcmp(a, "--stop") == 0) {
            if (++i >= argc) return cli_usage("detok", "--stop needs a string");
            if (!argv[i][0]) return cli_usage("detok", "--stop wants a non-empty string");
            if (n_stops == MAX_STOPS) return cli_usage("detok", "at most 64 --stop strings");
            stops[n_stops++] = argv[i];
        } else if (strcmp(a, "--chunk") == 0) {
            if (++i >= argc) return cli_usage("detok", "--chunk needs a number of ids");
            if (cli_parse_size(argv[i], &r.chunk)) return cli_usage("detok", "--chunk wants a positive number of ids");
        } else if (a[0] == '-' && a[1]) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option %.80s", a);
            return cli_usage("detok", msg);
        } else {
            if (in_path) return cli_usage("detok", "only one input IDS file may be given");
            in_path = a;
        }
    }
    if (!vocab_path) return cli_usage("detok", "--vocab FILE is required");

    tks_vocab *v = NULL;
    int st = load_vocab(vocab_path, &v);
    if (st) return st;
    int rc = TKS_OK;
    if (n_stops) {
        tks_stop_config sc;
        memset(&sc, 0, sizeof sc);
        sc.strings = stops;
        sc.n_strings = n_stops;
        rc = tks_stop_new(&r.stop, &sc, write_delta, &r);
        if (rc) {
            tks_vocab_free(v);
            return cli_usage("detok", rc == TKS_EINVAL ? "--stop strings must be valid UTF-8" : tks_strerror(rc));
        }
    }
    tks_detok_config dc;
    memset(&dc, 0, sizeof dc);
    dc.flags = flags;
    rc = tks_detok_new(&r.detok, v, &dc, r.stop ? to_stop : write_delta, &r);
    if (rc) {
        fprintf(stderr, "tokstream detok: %s\n", tks_strerror(rc));
        tks_stop_free(r.stop);
        tks_vocab_free(v);
        return CLI_BAD_STREAM;
    }

    FILE *in = cli_open(in_path);
    int status = CLI_OK;
    if (!in) {
        status = CLI_USAGE;
        goto done;
    }
    uint64_t total = 0;
    rc = cli_feed(in, 0, parse_push, &r, &total);
    cli_close(in);
    if (rc == TKS_OK && r.num_len) rc = add_id(&r); /* a last id without a newline */
    if (rc == TKS_OK) rc = flush_ids(&r, 1);
    if (rc == TKS_OK) rc = tks_detok_finish(r.detok);
    if (rc == TKS_OK && r.stop) rc = tks_stop_finish(r.stop);

    if (rc == TKS_STOPPED && r.stop && tks_stop_matched(r.stop)) {
        const tks_stop_match *m = tks_stop_matched(r.stop);
        if (r.json) {
            fputs("{\"stopped\":", stdout);
            cli_json_string(stdout, m->text ? m->text : "", m->text_len);
            fputs("}\n", stdout);
            fflush(stdout);
        }
        status = CLI_OK;
    } else if (rc == TKS_STOPPED) {
        status = CLI_BAD_STREAM; /* stdout failed */
    } else if (rc == TKS_ENOTFOUND) {
        uint64_t idx = tks_detok_offset(r.detok);
        uint64_t at = idx >= r.pushed && idx - r.pushed < r.n ? r.offsets[idx - r.pushed] : 0;
        status = cli_stream_error("detok", tks_detok_error(r.detok), at);
    } else if (rc == TKS_EIO) {
        fprintf(stderr, "tokstream detok: cannot read the ids: %s\n", strerror(errno));
        status = CLI_BAD_STREAM;
    } else if (rc == TKS_ENOMEM) {
        fprintf(stderr, "tokstream detok: out of memory\n");
        status = CLI_BAD_STREAM;
    } else if (rc != TKS_OK) {
        if (!r.bad)
            fprintf(stderr, "tokstream detok: %s: %s\n", tks_strerror(rc),
                    tks_detok_error(r.detok)[0] || !r.stop ? tks_detok_error(r.detok) : tks_stop_error(r.stop));
        status = CLI_BAD_STREAM;
    }
done:
    tks_detok_free(r.detok);
    tks_stop_free(r.stop);
    tks_vocab_free(v);
    free(r.ids);
    free(r.offsets);
    return status;
}
