/* t_sse_parser.c - tks_sse_parser against the WHATWG event stream rules: hand-written
 * inputs with hand-derived events, the formats.md worked example, the project's own
 * test/data/sse fixtures and the recorded provider streams of ../shared/fixtures, each
 * parsed whole, at every cut point (two pushes) and byte by byte with identical results;
 * limits, truncation, stop, reset, allocation counts and OOM torture. */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "tokstream.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a log of everything the parser reported, as text ------------------------------ */

typedef struct logbuf {
    char *p;
    size_t len, cap;
    int with_off;   /* write event offsets */
    int stop_at;    /* non-zero: the callback returns 1 at this (1-based) report */
    int reports;
    int hash_only;  /* keep only an FNV-1a hash of the log (fast, for big inputs) */
    uint64_t hash;
    const char *push_lo, *push_hi; /* the current push buffer, for the zero-copy check */
    int refs_inside;               /* single-line events whose data pointed into the push */
} logbuf;

static void log_put(logbuf *l, const char *s, size_t n) {
    if (l->hash_only) {
        for (size_t i = 0; i < n; i++) l->hash = (l->hash ^ (unsigned char)s[i]) * 0x100000001b3u;
        return;
    }
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n + 1) cap *= 2;
        char *q = realloc(l->p, cap);
        if (!q) abort();
        l->p = q;
        l->cap = cap;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    l->p[l->len] = 0;
}

static void log_str(logbuf *l, const char *s) { log_put(l, s, strlen(s)); }

/* Escapes '\\', '|', CR, LF, NUL and other control bytes; other bytes as they are. */
static void log_esc(logbuf *l, const char *s, size_t n) {
    if (l->hash_only) {
        char len[32];
        snprintf(len, sizeof len, "%zu:", n);
        log_put(l, len, strlen(len));
        log_put(l, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        if (c == '\\') log_str(l, "\\\\");
        else if (c == '|') log_str(l, "\\|");
        else if (c == '\n') log_str(l, "\\n");
        else if (c == '\r') log_str(l, "\\r");
        else if (c == 0) log_str(l, "\\0");
        else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            log_str(l, tmp);
        } else log_put(l, (const char *)&c, 1);
    }
}

static int report_done(logbuf *l) {
    l->reports++;
    return l->stop_at && l->reports == l->stop_at;
}

static int on_event(void *user, const tks_event *ev) {
    logbuf *l = user;
    log_str(l, "E|");
    log_esc(l, ev->type, ev->type_len);
    log_str(l, "|");
    log_esc(l, ev->id, ev->id_len);
    log_str(l, "|");
    log_esc(l, ev->data, ev->data_len);
    if (l->with_off) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "@%llu", (unsigned long long)ev->offset);
        log_str(l, tmp);
    }
    log_str(l, "\n");
    if (l->push_lo && ev->data >= l->push_lo && ev->data < l->push_hi) l->refs_inside++;
    return report_done(l);
}

static int on_comment(void *user, const tks_event *ev) {
    logbuf *l = user;
    log_str(l, "C|");
    log_esc(l, ev->data, ev->data_len);
    log_str(l, "\n");
    return report_done(l);
}

static int on_retry(void *user, const tks_event *ev) {
    logbuf *l = user;
    char tmp[48];
    snprintf(tmp, sizeof tmp, "R|%llu\n", (unsigned long long)ev->retry_ms);
    log_str(l, tmp);
    return report_done(l);
}

static void log_status(logbuf *l, int rc, const tks_sse_parser *p) {
    char tmp[64];
    if (rc < 0) snprintf(tmp, sizeof tmp, "=%s@%llu\n", tks_status_name(rc),
                         (unsigned long long)tks_sse_parser_offset(p));
    else snprintf(tmp, sizeof tmp, "=%s\n", tks_status_name(rc));
    log_str(l, tmp);
}

/* ---- running one input with a given chunking ---------------------------------------- */

typedef struct opts {
    uint32_t flags;
    size_t max_line, max_event;
    int with_off;
    int no_comments;
    int hash;
} opts;

/* Parses in[0..n) in pieces ending at cuts[0..ncuts) (then the rest); each piece is pushed
 * from its own heap copy, freed right after the push, so a reference kept past the push
 * is a use-after-free that ASan reports. Returns the log (caller frees). */
static char *run_cuts(const char *in, size_t n, const opts *o, const size_t *cuts, size_t ncuts) {
    logbuf l;
    memset(&l, 0, sizeof l);
    l.with_off = o->with_off;
    l.hash_only = o->hash;
    l.hash = 0xcbf29ce484222325u;
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = o->flags;
    cfg.max_line = o->max_line;
    cfg.max_event = o->max_event;
    if (!o->no_comments) cfg.on_comment = on_comment;
    cfg.on_retry = on_retry;
    tks_sse_parser *p;
    if (tks_sse_parser_new(&p, &cfg, on_event, &l) != TKS_OK) abort();
    size_t start = 0;
    int rc = TKS_OK;
    for (size_t i = 0; i <= ncuts && rc == TKS_OK; i++) {
        size_t stop = i < ncuts ? cuts[i] : n;
        if (stop < start) stop = start;
        size_t len = stop - start;
        char *piece = malloc(len ? len : 1);
        memcpy(piece, in + start, len);
        rc = tks_sse_parser_push(p, piece, len);
        free(piece);
        start = stop;
    }
    if (rc == TKS_OK) rc = tks_sse_parser_finish(p);
    log_status(&l, rc, p);
    tks_sse_parser_free(p);
    if (l.hash_only) {
        l.hash_only = 0;
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%016llx", (unsigned long long)l.hash);
        log_str(&l, tmp);
    }
    return l.p;
}

static char *run_whole(const char *in, size_t n, const opts *o) { return run_cuts(in, n, o, NULL, 0); }

/* Whole, at every cut point (two pushes), and byte by byte: each must give `want`. */
static void check_all(const char *name, const char *in, size_t n, const opts *o, const char *want) {
    char *got = run_whole(in, n, o);
    is_str(got, want, "%s: whole", name);
    free(got);
    size_t bad = 0;
    for (size_t k = 1; k < n && !bad; k++) {
        got = run_cuts(in, n, o, &k, 1);
        if (strcmp(got, want) != 0) {
            bad = k;
            diag("cut at %zu:", k);
            diag_bytes("got", got, strlen(got));
            diag_bytes("want", want, strlen(want));
        }
        free(got);
    }
    ok(!bad, "%s: every cut point (%zu)", name, n > 1 ? n - 1 : 0);
    size_t *cuts = malloc((n ? n : 1) * sizeof *cuts);
    for (size_t k = 0; k < n; k++) cuts[k] = k + 1;
    got = run_cuts(in, n, o, cuts, n);
    is_str(got, want, "%s: byte by byte", name);
    free(got);
    free(cuts);
}

#define S(lit) (lit), (sizeof(lit) - 1)

static const opts DEF = {0, 0, 0, 0, 0, 0};
static const opts OFFS = {0, 0, 0, 1, 0, 0};

/* ---- the WHATWG rules, one by one --------------------------------------------------- */

static void test_rules(void) {
    /* formats.md section 8 worked example; offsets counted by hand: the event line after
     * ": keep-alive\r\n" (14 bytes) starts at 14; the second event's line after
     * 14 + 14 + 7 + 18 + 5 + 1 = 59 bytes. */
    check_all("worked example",
              S(": keep-alive\r\nevent: delta\r\nid: 7\r\ndata:  two spaces\ndata\n\ndata: x\r\r"),
              &OFFS, "C| keep-alive\nE|delta|7| two spaces\\n@14\nE|message|7|x@59\n=OK\n");

    check_all("LF, CR and CRLF line ends", S("data: a\rdata: b\r\n\r\ndata: c\n\n"), &DEF,
              "E|message||a\\nb\nE|message||c\n=OK\n");
    /* a CR|LF pair split by a cut must stay one line end: otherwise the LF would be a
     * blank line and split the event in two */
    check_all("CRLF across pushes", S("data: a\r\ndata: b\r\n\r\n"), &DEF, "E|message||a\\nb\n=OK\n");
    check_all("lone CR stream", S("event: x\rdata: 1\rdata: 2\r\rdata: 3\r\r"), &DEF,
              "E|x||1\\n2\nE|message||3\n=OK\n");
    check_all("CR CR LF is two line ends", S("data: a\r\r\ndata: b\n\n"), &DEF,
              "E|message||a\nE|message||b\n=OK\n");

    check_all("no space after colon", S("data:x\n\n"), &DEF, "E|message||x\n=OK\n");
    check_all("one space stripped, second kept", S("data:  x\n\n"), &DEF, "E|message|| x\n=OK\n");
    check_all("tab is not stripped", S("data:\tx\n\n"), &DEF, "E|message||\\x09x\n=OK\n");
    check_all("bare data is an empty line", S("data\n\n"), &DEF, "E|message||\n=OK\n");
    check_all("two bare data lines", S("data\ndata\n\n"), &DEF, "E|message||\\n\n=OK\n");
    check_all("data ending in an empty line", S("data: a\ndata:\n\n"), &DEF,
              "E|message||a\\n\n=OK\n");
    check_all("colon inside the value", S("data: a: b:c\n\n"), &DEF, "E|message||a: b:c\n=OK\n");
    check_all("wrong-case and spaced names ignored",
              S("Data: a\n data: b\ndata-x: c\nDATA: d\nfoo\nfoo: bar\n\n"), &DEF, "=OK\n");
    check_all("blank lines alone dispatch nothing", S("\n\n\r\n\r\r\n"), &DEF, "=OK\n");

    check_all("event type without data: nothing, type not kept",
              S("event: foo\n\ndata: x\n\n"), &DEF, "E|message||x\n=OK\n");
    check_all("last event type wins", S("event: a\nevent: b\ndata: x\n\n"), &DEF, "E|b||x\n=OK\n");
    check_all("empty event type is message", S("event:\ndata: x\n\nevent\ndata: y\n\n"), &DEF,
              "E|message||x\nE|message||y\n=OK\n");
    check_all("event type with spaces", S("event:  a b \ndata: x\n\n"), &DEF, "E| a b ||x\n=OK\n");

    check_all("id persists across events", S("id: 1\ndata: a\n\ndata: b\n\n"), &DEF,
              "E|message|1|a\nE|message|1|b\n=OK\n");
    check_all("empty id resets it", S("id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n"), &DEF,
              "E|message|1|a\nE|message||b\nE|message||c\n=OK\n");
    check_all("id with NUL ignored", S("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"), &DEF,
              "E|message|1|a\nE|message|1|b\n=OK\n");
    check_all("id set by an event without data", S("id: 5\n\ndata: y\n\n"), &DEF,
              "E|message|5|y\n=OK\n");
    check_all("last id field of an event wins", S("id: 1\nid: 2\ndata: y\n\n"), &DEF,
              "E|message|2|y\n=OK\n");

    check_all("retry digits", S("retry: 1000\nretry:0\n"), &DEF, "R|1000\nR|0\n=ETRUNC@0\n");
    check_all("retry not digits: ignored",
              S("retry: 10 \nretry: 1000x\nretry:\nretry:  5\nretry: -1\nretry: +1\n\n"), &DEF,
              "=OK\n");
    check_all("retry at the uint64 limit", S("retry: 18446744073709551615\n\n"), &DEF,
              "R|18446744073709551615\n=OK\n");
    check_all("retry above the uint64 limit ignored",
              S("retry: 18446744073709551616\nretry: 99999999999999999999999\n\n"), &DEF, "=OK\n");

    check_all("comments", S(":\n: x\n:x\n::y\n"), &DEF, "C|\nC| x\nC|x\nC|:y\n=OK\n");
    check_all("comment inside an event", S("data: a\n: mid\ndata: b\n\n"), &DEF,
              "C| mid\nE|message||a\\nb\n=OK\n");

    check_all("BOM stripped", S("\xEF\xBB\xBF" "data: x\n\n"), &OFFS, "E|message||x@3\n=OK\n");
    check_all("only the first BOM", S("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\ndata: b\n\n"), &DEF,
              "E|message||b\n=OK\n");
    check_all("BOM in the middle is content", S("data: \xEF\xBB\xBFx\n\n"), &DEF,
              "E|message||\xEF\xBB\xBFx\n=OK\n");
    check_all("half a BOM is content (U+FFFD in the first field name)",
              S("\xEF\xBB" "data: a\n\ndata: b\n\n"), &DEF, "E|message||b\n=OK\n");
    check_all("BOM then a BOM-like prefix", S("\xEF\xBB\xBF\xEF" "data: a\n\ndata: b\n\n"), &DEF,
              "E|message||b\n=OK\n");
    check_all("BOM only", S("\xEF\xBB\xBF"), &DEF, "=OK\n");
    check_all("half a BOM at the end", S("\xEF\xBB"), &DEF, "=ETRUNC@0\n");
    check_all("UTF-16 BOM is not a BOM", S("\xFF\xFE" "data: a\n\ndata: b\n\n"), &DEF,
              "E|message||b\n=OK\n");

    /* offsets: input offset of each event's first field line */
    check_all("event offsets",
              S(": c\n\nevent: e\ndata: 1\n\n\n\r\n" "data: 2\n\n" "id: 3\n: c\ndata: 3\n\n"), &OFFS,
              "C| c\nE|e||1@5\nE|message||2@26\nC| c\nE|message|3|3@35\n=OK\n");

    /* invalid UTF-8 -> U+FFFD (maximal subparts); sequences split by cuts are joined first */
    check_all("UTF-8 replacement",
              S("data: \xC3\xA9\xFF\xE2\x82\x41\xF0\x9F\x98\x8A\xED\xA0\x80\xE2\x82\n\n"), &DEF,
              "E|message||\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD" "A\xF0\x9F\x98\x8A"
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n=OK\n");
    check_all("UTF-8 replacement in type, id and comment",
              S("event: \xFF\nid: a\xC3\ndata: \xE4\xB8\xAD\n\n:\xC0\xAF\n"), &DEF,
              "E|\xEF\xBF\xBD|a\xEF\xBF\xBD|\xE4\xB8\xAD\nC|\xEF\xBF\xBD\xEF\xBF\xBD\n=OK\n");
    check_all("UTF-8 replacement across several data lines",
              S("data: a\ndata: \xF4\x90\x80\x80\n\n"), &DEF,
              "E|message||a\\n\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n=OK\n");
    /* a line valid so far, cut (at some cut point) inside its last sequence, which the
     * line end then leaves unfinished; short and past a 64-byte block */
    check_all("unfinished sequence at the line end", S("data: ok \xE2\x82\r\n\r\n"), &DEF,
              "E|message||ok \xEF\xBF\xBD\n=OK\n");
    check_all("unfinished 4-byte sequence at the line end",
              S("data: \xF0\x9F\x98\x8A\xF0\x9F\x98\ndata: \xC3\n\n"), &DEF,
              "E|message||\xF0\x9F\x98\x8A\xEF\xBF\xBD\\n\xEF\xBF\xBD\n=OK\n");
    check_all("unfinished sequence after a long line",
              S("data: 0123456789012345678901234567890123456789012345678901234567890123456789"
                "\xE4\xB8\xAD\xE4\xB8\n"
                "data: 01234567890123456789012345678901234567890123456789012345678901234567\n\n"),
              &DEF,
              "E|message||0123456789012345678901234567890123456789012345678901234567890123456789"
              "\xE4\xB8\xAD\xEF\xBF\xBD\\n"
              "01234567890123456789012345678901234567890123456789012345678901234567\n=OK\n");
    opts raw = DEF;
    raw.flags = TKS_SSE_RAW_UTF8;
    check_all("TKS_SSE_RAW_UTF8 passes bytes", S("event: \xFF\ndata: \xC3\xA9\xFF\xE2\x82\n\n"), &raw,
              "E|\xFF||\xC3\xA9\xFF\xE2\x82\n=OK\n");
    /* a long ASCII run then invalid bytes, to cover the fast paths' boundaries */
    {
        char in[300], want[400];
        size_t k = 0, w = 0;
        memcpy(in, "data: ", 6);
        k = 6;
        for (int i = 0; i < 70; i++) in[k++] = (char)('a' + i % 26);
        memcpy(in + k, "\xC3\x28\xE2\x82\xAC", 5);
        k += 5;
        for (int i = 0; i < 40; i++) in[k++] = 'z';
        in[k++] = (char)0x80;
        in[k++] = '\n';
        in[k++] = '\n';
        w += (size_t)snprintf(want, sizeof want, "E|message||");
        for (int i = 0; i < 70; i++) want[w++] = (char)('a' + i % 26);
        memcpy(want + w, "\xEF\xBF\xBD(\xE2\x82\xAC", 7);
        w += 7;
        for (int i = 0; i < 40; i++) want[w++] = 'z';
        memcpy(want + w, "\xEF\xBF\xBD\n=OK\n", 9);
        w += 9;
        want[w] = 0;
        char name[] = "UTF-8 replacement after long ASCII runs";
        check_all(name, in, k, &DEF, want);
    }
}

/* ---- finish, limits, stop, reset ------------------------------------------------------ */

static void test_truncation(void) {
    check_all("clean end", S("data: a\n\n"), &DEF, "E|message||a\n=OK\n");
    check_all("empty stream", S(""), &DEF, "=OK\n");
    check_all("field line without blank line", S("data: a\n\ndata: b\n"), &DEF,
              "E|message||a\n=ETRUNC@9\n");
    check_all("partial line", S("data: a\n\ndata: b"), &DEF, "E|message||a\n=ETRUNC@9\n");
    check_all("ended by CR only", S("data: b\r"), &DEF, "=ETRUNC@0\n");
    check_all("event field only", S("event: x\n"), &DEF, "=ETRUNC@0\n");
    check_all("partial comment", S("data: a\n\n: pi"), &DEF, "E|message||a\n=ETRUNC@9\n");
    check_all("complete trailing comment is fine", S("data: a\n\n: ping\n"), &DEF,
              "E|message||a\nC| ping\n=OK\n");

    /* the error's words say where */
    tks_sse_parser *p;
    tks_sse_parser_new(&p, NULL, NULL, NULL);
    tks_sse_parser_push(p, S("data: a\n\nid: 1\ndata: b\n"));
    is_int(tks_sse_parser_finish(p), TKS_ETRUNC, "finish reports truncation");
    ok(strstr(tks_sse_parser_error(p), "at byte 9") != NULL, "error text has the offset: %s",
       tks_sse_parser_error(p));
    is_int(tks_sse_parser_offset(p), 9, "offset of the unterminated event");
    size_t n;
    const char *id = tks_sse_parser_last_id(p, &n);
    is_mem(id, n, "", 0, "an id of an undispatched event is not the last event ID");
    is_int(tks_sse_parser_finish(p), TKS_ETRUNC, "sticky");
    is_int(tks_sse_parser_push(p, S("\n")), TKS_ETRUNC, "push after the error: same error");
    tks_sse_parser_reset(p);
    is_str(tks_sse_parser_error(p), "", "reset clears the error");
    is_int(tks_sse_parser_push(p, S("id: 7\n\n")), TKS_OK, "push after reset");
    id = tks_sse_parser_last_id(p, &n);
    is_mem(id, n, "7", 1, "last event ID set at the blank line");
    is_int(tks_sse_parser_finish(p), TKS_OK, "clean finish");
    is_int(tks_sse_parser_finish(p), TKS_OK, "finish twice");
    is_int(tks_sse_parser_push(p, S("data: x\n\n")), TKS_ESTATE, "push after finish");
    tks_sse_parser_free(p);
}

static void test_limits(void) {
    opts o = DEF;
    o.max_line = 16;
    check_all("max_line: line too long",
              S("data: a\n\ndata: 0123456789abcdefXYZ\n\n"), &o, "E|message||a\n=ELIMIT@9\n");
    check_all("max_line: exactly the limit", S("data: 0123456789\n\n"), &o,
              "E|message||0123456789\n=OK\n");
    check_all("max_line: comments count too", S(": 0123456789abcdefghij\n"), &o, "=ELIMIT@0\n");
    check_all("max_line: a partial line too long", S("data: a\n\ndata: 0123456789abcdefXYZ"), &o,
              "E|message||a\n=ELIMIT@9\n");
    o = DEF;
    o.max_event = 8;
    check_all("max_event: joined data too big", S("data: 1\n\ndata: 12345\ndata: 678\n\n"), &o,
              "E|message||1\n=ELIMIT@9\n");
    check_all("max_event: exactly the limit", S("data: 1234\ndata: 567\n\n"), &o,
              "E|message||1234\\n567\n=OK\n");
    check_all("max_event: type + data", S("event: abcd\ndata: 12345\n\n"), &o, "=ELIMIT@0\n");

    /* memory stays bounded: a 4 MiB line without an end, against the default limit */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &a;
    tks_sse_parser *p;
    tks_sse_parser_new(&p, &cfg, NULL, NULL);
    char *chunk = malloc(65536);
    memset(chunk, 'x', 65536);
    memcpy(chunk, "data: ", 6);
    int rc = TKS_OK;
    size_t pushed = 0;
    for (int i = 0; i < 64 && rc == TKS_OK; i++, pushed += 65536) rc = tks_sse_parser_push(p, chunk, 65536);
    is_int(rc, TKS_ELIMIT, "an endless line hits the default max_line (1 MiB)");
    is_int(tks_sse_parser_offset(p), 0, "at the line's start");
    ok(pushed <= 1024 * 1024 + 65536, "stopped once past 1 MiB (%zu bytes pushed)", pushed);
    ok(t.peak_bytes <= 1024 * 1024 + 4096, "memory bounded by the limit (peak %lld)", t.peak_bytes);
    tks_sse_parser_free(p);
    free(chunk);
    is_int(t.live, 0, "nothing leaked");
}

static void test_stop_reset(void) {
    logbuf l;
    memset(&l, 0, sizeof l);
    l.stop_at = 2;
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_comment = on_comment;
    tks_sse_parser *p;
    is_int(tks_sse_parser_new(&p, &cfg, on_event, &l), TKS_OK, "new");
    is_int(tks_sse_parser_push(p, S("data: 1\n\n: c\ndata: 3\n\n")), TKS_STOPPED,
           "callback stop -> TKS_STOPPED");
    is_str(l.p, "E|message||1\nC| c\n", "nothing reported after the stop");
    is_int(tks_sse_parser_push(p, S("data: 4\n\n")), TKS_STOPPED, "stays stopped");
    is_int(tks_sse_parser_finish(p), TKS_STOPPED, "finish: stopped");
    tks_sse_parser_reset(p);
    l.len = 0;
    l.stop_at = 0;
    is_int(tks_sse_parser_push(p, S("data: 5\n\n")), TKS_OK, "reset: usable again");
    is_str(l.p, "E|message||5\n", "fresh state after reset");
    /* reset mid-event forgets the event, the line and the id */
    is_int(tks_sse_parser_push(p, S("id: 9\n\nevent: t\ndata: half\ndata: li")), TKS_OK, "mid-event");
    tks_sse_parser_reset(p);
    l.len = 0;
    is_int(tks_sse_parser_push(p, S("ne\n\ndata: z\n\n")), TKS_OK, "after reset");
    is_int(tks_sse_parser_finish(p), TKS_OK, "finish");
    is_str(l.p, "E|message||z\n", "nothing of the old event, line, type or id");
    tks_sse_parser_free(p);
    free(l.p);

    tks_sse_parser_free(NULL);
    tks_sse_parser_reset(NULL);
    is_int(tks_sse_parser_new(NULL, NULL, NULL, NULL), TKS_EINVAL, "new(NULL out)");
    tks_alloc bad = {NULL, NULL, NULL, NULL};
    cfg.alloc = &bad;
    p = (tks_sse_parser *)&l;
    is_int(tks_sse_parser_new(&p, &cfg, NULL, NULL), TKS_EINVAL, "allocator without functions");
    ok(p == NULL, "out set to NULL on failure");
    is_int(tks_sse_parser_push(NULL, "x", 1), TKS_EINVAL, "push(NULL)");
    is_str(tks_sse_parser_error(NULL), "", "error(NULL)");
}

/* ---- zero copy and allocations ---------------------------------------------------- */

static int count_inside(void *user, const tks_event *ev) {
    logbuf *l = user;
    l->reports++;
    if (ev->data >= l->push_lo && ev->data + ev->data_len <= l->push_hi) l->refs_inside++;
    return 0;
}

static void test_zero_copy_allocs(void) {
    static const char in[] = "event: a\ndata: {\"x\":1}\n\ndata: one line\n\n"
                             "id: 3\nevent: b\ndata: \xE4\xB8\xAD\n\n";
    logbuf l;
    memset(&l, 0, sizeof l);
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &a;
    tks_sse_parser *p;
    tks_sse_parser_new(&p, &cfg, count_inside, &l);
    l.push_lo = in;
    l.push_hi = in + sizeof in - 1;
    long calls0 = t.calls;
    is_int(tks_sse_parser_push(p, in, sizeof in - 1), TKS_OK, "push");
    is_int(l.reports, 3, "three events");
    is_int(l.refs_inside, 3, "each single-line event points into the caller's buffer");
    ok(t.calls - calls0 <= 1, "at most the id buffer allocated (%ld calls)", t.calls - calls0);

    /* warm: the same input in 7-byte pushes twice; the second pass allocates nothing */
    for (int pass = 0; pass < 2; pass++) {
        tks_sse_parser_reset(p);
        long before = t.calls;
        for (size_t i = 0; i < sizeof in - 1; i += 7) {
            size_t n = sizeof in - 1 - i < 7 ? sizeof in - 1 - i : 7;
            tks_sse_parser_push(p, in + i, n);
        }
        is_int(tks_sse_parser_finish(p), TKS_OK, "finish (pass %d)", pass);
        if (pass == 1) is_int(t.calls - before, 0, "no allocation once warm");
    }
    tks_sse_parser_free(p);
    is_int(t.live, 0, "free releases everything");
    is_int(t.size_errors, 0, "sizes passed to realloc/free are right");
}

/* ---- OOM torture -------------------------------------------------------------------- */

static const char OOM_IN[] = "\xEF\xBB\xBF: c\nid: 12\nevent: tt\ndata: first line\ndata: \xFF\n\n"
                             "data: x\r\n\r\n: \xC3\n";

static int oom_body(const tks_alloc *a, void *ctx) {
    (void)ctx;
    logbuf l;
    memset(&l, 0, sizeof l);
    log_str(&l, "");
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = a;
    cfg.on_comment = on_comment;
    tks_sse_parser *p;
    int rc = tks_sse_parser_new(&p, &cfg, on_event, &l);
    if (rc) {
        free(l.p);
        return rc == TKS_ENOMEM ? 1 : 2;
    }
    for (size_t i = 0; i < sizeof OOM_IN - 1 && rc == TKS_OK; i += 5) {
        size_t n = sizeof OOM_IN - 1 - i < 5 ? sizeof OOM_IN - 1 - i : 5;
        rc = tks_sse_parser_push(p, OOM_IN + i, n);
    }
    if (rc == TKS_OK) rc = tks_sse_parser_finish(p);
    int r;
    if (rc == TKS_ENOMEM) r = 1;
    else if (rc == TKS_OK)
        r = strcmp(l.p, "C| c\nE|tt|12|first line\\n\xEF\xBF\xBD\nE|message|12|x\n"
                        "C| \xEF\xBF\xBD\n") == 0 ? 0 : 2;
    else r = 2;
    tks_sse_parser_free(p);
    free(l.p);
    return r;
}

/* ---- fixtures: test/data/sse and ../shared/fixtures ----------------------------------- */

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the files in dir ending in suffix; *n set. */
static char **list_dir(const char *dir, const char *suffix, size_t *n) {
    DIR *d = opendir(dir);
    char **v = NULL;
    *n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!ends_with(e->d_name, suffix)) continue;
        v = realloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = strdup(e->d_name);
    }
    if (d) closedir(d);
    if (*n) qsort(v, *n, sizeof *v, cmp_names);
    return v;
}

static void test_own_fixtures(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sse", test_data_dir());
    size_t n;
    char **names = list_dir(dir, ".sse", &n);
    ok(n >= 4, "test/data/sse holds the fixtures (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        char path[4200], exp[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(exp, sizeof exp, "%.*s.expected", (int)(strlen(path) - 4), path);
        size_t len, elen;
        char *in = read_file(path, &len), *want = read_file(exp, &elen);
        ok(in && want, "%s and its .expected read", names[i]);
        if (in && want) check_all(names[i], in, len, &DEF, want);
        free(in);
        free(want);
        free(names[i]);
    }
    free(names);
}

/* An independent count of dispatched events: split into lines (CR, LF, CRLF), and count
 * blank lines that follow at least one line whose field name is exactly "data". */
static long naive_count(const char *s, size_t n) {
    long events = 0;
    int has_data = 0;
    size_t i = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\r' && s[j] != '\n') j++;
        if (j == n) break; /* unterminated: not dispatched */
        size_t len = j - i;
        if (len == 0) {
            events += has_data;
            has_data = 0;
        } else if (len >= 4 && memcmp(s + i, "data", 4) == 0 && (len == 4 || s[i + 4] == ':')) {
            has_data = 1;
        }
        i = j + 1;
        if (s[j] == '\r' && i < n && s[i] == '\n') i++;
    }
    return events;
}

static int count_events(void *user, const tks_event *ev) {
    (void)ev;
    (*(long *)user)++;
    return 0;
}

static void test_shared_fixtures(void) {
    const char *shared = shared_dir();
    if (!shared) {
        diag("SKIP shared fixtures: ../shared is absent (set TKS_SHARED)");
        return;
    }
    static const char *const sub[] = {"anthropic", "deepseek", "gemini", "groq", "openai-chat",
                                      "openai-responses", "openrouter", "azure-openai", "bedrock",
                                      "ollama"};
    int files = 0;
    for (size_t d = 0; d < sizeof sub / sizeof sub[0]; d++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/fixtures/%s", shared, sub[d]);
        size_t n;
        char **names = list_dir(dir, ".sse", &n);
        for (size_t i = 0; i < n; i++) {
            char path[4200], label[512];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            snprintf(label, sizeof label, "%s/%s", sub[d], names[i]);
            size_t len;
            char *in = read_file(path, &len);
            if (!in) {
                ok(0, "%s: read", label);
                continue;
            }
            files++;
            opts o = OFFS;
            o.hash = 1; /* O(n^2) runs: compare hashes of the logs */
            char *want = run_whole(in, len, &o);
            /* independent count */
            long got = 0;
            tks_sse_parser *p;
            tks_sse_parser_new(&p, NULL, count_events, &got);
            tks_sse_parser_push(p, in, len);
            int rc = tks_sse_parser_finish(p);
            tks_sse_parser_free(p);
            long naive = naive_count(in, len);
            is_int(got, naive, "%s: %ld events, as counted independently", label, naive);
            diag("%s: finish %s", label, tks_status_name(rc));
            /* every cut point and byte by byte: identical logs */
            size_t bad = 0;
            for (size_t k = 1; k < len && !bad; k++) {
                char *g = run_cuts(in, len, &o, &k, 1);
                if (strcmp(g, want) != 0) bad = k;
                free(g);
            }
            ok(!bad, "%s: every cut point (%zu) gives the same events", label, len - 1);
            if (bad) diag("first differing cut: %zu", bad);
            size_t *cuts = malloc(len * sizeof *cuts);
            for (size_t k = 0; k < len; k++) cuts[k] = k + 1;
            char *g = run_cuts(in, len, &o, cuts, len);
            is_str(g, want, "%s: byte by byte gives the same events", label);
            free(g);
            free(cuts);
            free(want);
            free(in);
            free(names[i]);
        }
        free(names);
    }
    ok(files >= 10, "found the recorded .sse fixtures (%d)", files);

    /* counts stated in SOURCES.md */
    static const struct {
        const char *file;
        long events;
    } known[] = {
        {"anthropic/text-padded-json.sse", 7},
        {"openai-responses/function-call-no-sequence-number.sse", 11},
        {"openai-chat/tool-call-usage-obfuscation.sse", 9},  /* 8 chunks + [DONE] */
        {"openai-chat/parallel-tool-calls-usage.sse", 26},   /* 25 chunks + [DONE] */
        {"openai-chat/refusal-logprobs-usage.sse", 15},      /* 14 chunks + [DONE] */
        {"gemini/sse-text-crlf.sse", 3},
        {"gemini/sse-function-call-thought-signature.sse", 2},
        {"gemini/sse-utf8-cjk.sse", 4},
        {"gemini/sse-thought-parts.sse", 23},
        {"anthropic/thinking-signature.sse", 118},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/fixtures/%s", shared, known[i].file);
        size_t len;
        char *in = read_file(path, &len);
        if (!in) {
            ok(0, "%s: read", known[i].file);
            continue;
        }
        long got = 0;
        tks_sse_parser *p;
        tks_sse_parser_new(&p, NULL, count_events, &got);
        tks_sse_parser_push(p, in, len);
        tks_sse_parser_finish(p);
        tks_sse_parser_free(p);
        is_int(got, known[i].events, "%s: %ld events as SOURCES.md says", known[i].file,
               known[i].events);
        free(in);
    }
}

/* ---- random streams: chunking never matters ------------------------------------------ */

static uint32_t rng = 12345;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* nc random cut points in 0..n, sorted (run_cuts wants them in order). */
static void random_cuts(size_t *cuts, size_t nc, size_t n) {
    for (size_t i = 0; i < nc; i++) cuts[i] = rnd() % (n + 1);
    for (size_t i = 1; i < nc; i++) /* insertion sort */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t tmp = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = tmp;
        }
}

static void test_random_chunking(void) {
    static const char *const pieces[] = {
        "data: ", "data:", "data", "event: ", "id: ", "retry: ", ":", " ", "x", "\xC3\xA9",
        "\xE4\xB8\xAD", "\xF0\x9F\x98\x8A", "\xFF", "\xE2\x82", "\r", "\n", "\r\n", "\n\n",
        "\r\r", "12", "\xEF\xBB\xBF", "Data: ", "\0"};
    int bad = 0;
    for (int round = 0; round < 300 && !bad; round++) {
        char in[400];
        size_t n = 0;
        while (n < 300) {
            const char *pc = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
            size_t k = strlen(pc);
            if (k == 0) k = 1; /* the NUL piece */
            memcpy(in + n, pc, k);
            n += k;
        }
        opts o = OFFS;
        char *want = run_whole(in, n, &o);
        size_t cuts[8];
        for (int t = 0; t < 20 && !bad; t++) {
            size_t nc = 1 + rnd() % 8;
            random_cuts(cuts, nc, n);
            char *got = run_cuts(in, n, &o, cuts, nc);
            if (strcmp(got, want) != 0) {
                bad = 1;
                diag_bytes("input", in, n);
                diag_bytes("whole", want, strlen(want));
                diag_bytes("cut", got, strlen(got));
            }
            free(got);
        }
        free(want);
    }
    ok(!bad, "300 random streams x 20 random chunkings: identical results");
}

/* Reference U+FFFD replacement (maximal subparts, Unicode Table 3-7), written here
 * independently of the library; returns the output length. */
static size_t ref_replace(const unsigned char *s, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t need;
        if (c < 0x80) { out[o++] = (char)c; i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) need = 2;
        else if (c >= 0xE0 && c <= 0xEF) { need = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else { memcpy(out + o, "\xEF\xBF\xBD", 3); o += 3; i++; continue; }
        size_t k = 1;
        while (k < need && i + k < n) {
            unsigned b = s[i + k];
            unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (b < l || b > h) break;
            k++;
        }
        if (k == need) { memcpy(out + o, s + i, k); o += k; }
        else { memcpy(out + o, "\xEF\xBF\xBD", 3); o += 3; }
        i += k;
    }
    return o;
}

typedef struct one_event {
    char *data;
    size_t len;
    int n;
} one_event;

static int keep_data(void *user, const tks_event *ev) {
    one_event *e = user;
    e->n++;
    e->data = realloc(e->data, ev->data_len + 1);
    memcpy(e->data, ev->data, ev->data_len);
    e->len = ev->data_len;
    return 0;
}

/* Random byte strings, dense in UTF-8 lead and continuation bytes, of every length up to
 * 200 (so the 16-byte SIMD blocks and the scalar tails both meet every case) as one data
 * line: the parser's data must equal the reference replacement. */
static void test_utf8_differential(void) {
    static const unsigned char alphabet[] = {'a', ' ', 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                             0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                             0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
    unsigned char line[256];
    char want[1024];
    int bad = 0;
    tks_sse_parser *p;
    one_event e = {NULL, 0, 0};
    tks_sse_parser_new(&p, NULL, keep_data, &e);
    for (int round = 0; round < 20000 && !bad; round++) {
        size_t n = 6 + (size_t)(rnd() % 200);
        memcpy(line, "data: ", 6);
        for (size_t i = 6; i < n; i++) {
            uint32_t r = rnd();
            line[i] = r % 4 == 0 ? (unsigned char)(0x80 + (r >> 8) % 64)
                                 : alphabet[(r >> 8) % sizeof alphabet];
        }
        /* valid sequences sometimes, so long valid stretches reach the SIMD path too */
        if (rnd() % 2) {
            for (size_t i = 6; i + 4 <= n; i += 4) memcpy(line + i, "\xF0\x9F\x98\x8A", 4);
            if (n > 20) line[6 + rnd() % (n - 6)] = (unsigned char)(rnd() & 0xFF);
        }
        line[n] = '\n';
        line[n + 1] = '\n';
        size_t wl = ref_replace(line + 6, n - 6, want);
        /* no CR or LF in the random part: they would end the line */
        for (size_t i = 6; i < n; i++)
            if (line[i] == '\n' || line[i] == '\r') line[i] = 'x';
        wl = ref_replace(line + 6, n - 6, want);
        tks_sse_parser_reset(p);
        e.n = 0;
        tks_sse_parser_push(p, line, n + 2);
        if (e.n != 1 || e.len != wl || memcmp(e.data, want, wl) != 0) {
            bad = 1;
            diag_bytes("line", line, n);
            diag_bytes("got", e.data, e.len);
            diag_bytes("want", want, wl);
        }
    }
    ok(!bad, "20000 random byte strings: U+FFFD replacement as the reference decoder does");
    tks_sse_parser_free(p);
    free(e.data);
}


/* ---- a reference parser: long random streams, every stage 1 variant ------------------ */

/* The WHATWG rules written plainly, byte by byte, independently of the library: the log
 * run_cuts writes (offsets, comments and retries included) for the whole input. */
static char *ref_parse(const char *in, size_t n, int raw) {
    logbuf l;
    memset(&l, 0, sizeof l);
    log_str(&l, "");
    char *data = malloc(4 * n + 8), *type = malloc(4 * n + 8), *id = malloc(4 * n + 8);
    char *last = malloc(4 * n + 8), *tmp = malloc(4 * n + 8);
    size_t dlen = 0, tlen = 0, ilen = 0, llen = 0;
    int ndata = 0, fields = 0, id_set = 0;
    size_t ev_start = 0, i = 0;
    if (n >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < n) {
        size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n') j++;
        if (j == n) break; /* unterminated */
        const char *s = in + i;
        size_t len = j - i, line_off = i;
        i = j + 1;
        if (in[j] == '\r' && i < n && in[i] == '\n') i++;
        if (len == 0) { /* dispatch */
            if (id_set) memcpy(last, id, llen = ilen);
            id_set = 0;
            fields = 0;
            if (ndata) {
                log_str(&l, "E|");
                if (tlen) log_esc(&l, type, tlen);
                else log_str(&l, "message");
                log_str(&l, "|");
                log_esc(&l, last, llen);
                log_str(&l, "|");
                log_esc(&l, data, dlen);
                char off[32];
                snprintf(off, sizeof off, "@%zu\n", ev_start);
                log_str(&l, off);
            }
            ndata = 0;
            dlen = tlen = 0;
            continue;
        }
        if (s[0] == ':') {
            size_t k = raw ? (memcpy(tmp, s + 1, len - 1), len - 1)
                           : ref_replace((const unsigned char *)s + 1, len - 1, tmp);
            log_str(&l, "C|");
            log_esc(&l, tmp, k);
            log_str(&l, "\n");
            continue;
        }
        if (!fields) ev_start = line_off;
        fields = 1;
        size_t name = 0;
        while (name < len && s[name] != ':') name++;
        const char *v = s + name;
        size_t vn = 0;
        if (name < len) {
            v = s + name + 1;
            vn = len - name - 1;
            if (vn && v[0] == ' ') v++, vn--;
        }
        size_t k = raw ? (memcpy(tmp, v, vn), vn) : ref_replace((const unsigned char *)v, vn, tmp);
        if (name == 4 && memcmp(s, "data", 4) == 0) {
            if (ndata++) data[dlen++] = '\n';
            memcpy(data + dlen, tmp, k);
            dlen += k;
        } else if (name == 5 && memcmp(s, "event", 5) == 0) {
            memcpy(type, tmp, tlen = k);
        } else if (name == 2 && memcmp(s, "id", 2) == 0) {
            if (!memchr(v, 0, vn)) {
                memcpy(id, tmp, ilen = k);
                id_set = 1;
            }
        } else if (name == 5 && memcmp(s, "retry", 5) == 0) {
            unsigned long long ms = 0;
            int good = vn > 0;
            for (size_t q = 0; q < vn && good; q++) {
                unsigned d = (unsigned char)v[q] - (unsigned)'0';
                if (d > 9 || ms > (18446744073709551615ull - d) / 10) good = 0;
                else ms = ms * 10 + d;
            }
            if (good) {
                char r[48];
                snprintf(r, sizeof r, "R|%llu\n", ms);
                log_str(&l, r);
            }
        }
    }
    char st[64];
    if (fields) snprintf(st, sizeof st, "=ETRUNC@%zu\n", ev_start);
    else if (i < n) snprintf(st, sizeof st, "=ETRUNC@%zu\n", i); /* a partial line */
    else snprintf(st, sizeof st, "=OK\n");
    log_str(&l, st);
    free(data);
    free(type);
    free(id);
    free(last);
    free(tmp);
    return l.p;
}

/* The stage 1 variants (TKS_SSE_SIMD); each is capped at what the CPU runs. */
static const char *const SIMD[] = {"avx512", "avx2", "ssse3", "sse2", "scalar"};
#define NSIMD (sizeof SIMD / sizeof SIMD[0])

static void set_simd(const char *name) {
    if (name) setenv("TKS_SSE_SIMD", name, 1);
    else unsetenv("TKS_SSE_SIMD");
}

/* Appends a random SSE-ish piece to buf (at most 300 bytes). */
static size_t random_piece(char *buf) {
    static const char *const names[] = {"data:", "data: ", "data", "event:", "event: ", "id: ",
                                        "id:", "retry: ", ":", ": ", "Data: ", "foo: ", "dat",
                                        "data:  ", "event", "id"};
    static const char *const ends[] = {"\n", "\r", "\r\n", "\n\n", "\r\r", "\r\n\r\n", "\n\r"};
    static const char *const chars[] = {"\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x8A", "\xE2\x82\xAC",
                                        "\xFF", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                        "\x80", "\xF0\x9F\x98", "\0", "\xEF\xBB\xBF", "12", " "};
    size_t n = 0;
    uint32_t r = rnd();
    if (r % 16 == 0) { /* a blank line or a bare line end */
        const char *e = ends[rnd() % (sizeof ends / sizeof ends[0])];
        memcpy(buf, e, strlen(e));
        return strlen(e);
    }
    const char *nm = names[rnd() % (sizeof names / sizeof names[0])];
    memcpy(buf + n, nm, strlen(nm));
    n += strlen(nm);
    /* a value: ASCII runs of any length (so lines cross 16-, 32- and 64-byte blocks),
     * mixed with multi-byte characters, mostly valid */
    if (r % 8 == 1) { /* any character, then an ASCII run into (or across) the next block */
        const char *ch = chars[rnd() % (sizeof chars / sizeof chars[0])];
        size_t k = ch[0] ? strlen(ch) : 1, run = 30 + rnd() % 120;
        memcpy(buf + n, ch, k);
        n += k;
        memset(buf + n, 'a' + (int)(rnd() % 26), run);
        n += run;
    }
    size_t len = rnd() % 4 == 0 ? rnd() % 250 : rnd() % 40;
    int bad_ok = rnd() % 4 == 0;
    while (len--) {
        uint32_t q = rnd() % 16;
        if (q < 10) buf[n++] = (char)('a' + rnd() % 26);
        else if (q < 14 || bad_ok) {
            const char *ch = chars[rnd() % (bad_ok ? sizeof chars / sizeof chars[0] : 4)];
            size_t k = ch[0] ? strlen(ch) : 1;
            memcpy(buf + n, ch, k);
            n += k;
        } else buf[n++] = (char)(rnd() % 2 ? '1' : ' ');
        if (n > 280) break;
    }
    const char *e = ends[rnd() % (sizeof ends / sizeof ends[0])];
    if (rnd() % 64 == 0) e = ""; /* lines may run into the next piece */
    memcpy(buf + n, e, strlen(e));
    return n + strlen(e);
}

static void test_reference(void) {
    int bad = 0;
    size_t cuts[64];
    for (int round = 0; round < 200 && !bad; round++) {
        size_t cap = 1024 + rnd() % 12000, n = 0;
        char *in = malloc(cap + 320);
        if (round % 5 == 0) {
            memcpy(in, "\xEF\xBB\xBF", 3);
            n = 3;
        }
        while (n < cap) n += random_piece(in + n);
        int raw = round % 7 == 3;
        char *want = ref_parse(in, n, raw);
        opts o = OFFS;
        if (raw) o.flags = TKS_SSE_RAW_UTF8;
        for (size_t v = 0; v < NSIMD && !bad; v++) {
            set_simd(SIMD[v]);
            for (int t = 0; t < 6 && !bad; t++) {
                size_t nc = 0;
                if (t == 1) { /* fixed pieces around the block and window sizes */
                    static const size_t step[] = {1, 3, 31, 63, 64, 65, 100, 1023, 1024, 4096};
                    size_t k = step[rnd() % (sizeof step / sizeof step[0])];
                    for (size_t at = k; at < n && nc < 64; at += k) cuts[nc++] = at;
                } else if (t > 1) {
                    nc = 1 + rnd() % 63;
                    random_cuts(cuts, nc, n);
                }
                char *got = run_cuts(in, n, &o, cuts, nc);
                if (strcmp(got, want) != 0) {
                    bad = 1;
                    diag("simd %s, chunking %d, %zu cuts, raw %d:", SIMD[v], t, nc, raw);
                    diag_bytes("input", in, n < 2000 ? n : 2000);
                    size_t d = 0;
                    while (got[d] && got[d] == want[d]) d++;
                    diag("first difference at log byte %zu", d);
                    size_t from = d > 200 ? d - 200 : 0, gl = strlen(got + from),
                           wl = strlen(want + from);
                    diag_bytes("got", got + from, gl < 600 ? gl : 600);
                    diag_bytes("want", want + from, wl < 600 ? wl : 600);
                }
                free(got);
            }
        }
        set_simd(NULL);
        free(want);
        free(in);
    }
    ok(!bad, "200 long random streams x 5 stage 1 variants x 6 chunkings: as the reference parser");
}

int main(void) {
    /* the rules under every stage 1 variant (TKS_SSE_SIMD), then as the CPU chooses */
    for (size_t v = 0; v < NSIMD; v++) {
        set_simd(SIMD[v]);
        diag("stage 1: %s (or the best this CPU runs below it)", SIMD[v]);
        test_rules();
        test_truncation();
        test_limits();
        test_random_chunking();
        test_utf8_differential();
    }
    set_simd(NULL);
    test_rules();
    test_truncation();
    test_limits();
    test_stop_reset();
    test_zero_copy_allocs();
    oom_torture("sse parser", oom_body, NULL);
    test_own_fixtures();
    test_shared_fixtures();
    test_random_chunking();
    test_utf8_differential();
    test_reference();
    return done_testing();
}
