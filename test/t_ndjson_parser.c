/* t_ndjson_parser.c - the NDJSON framing: one event per line, CRLF tolerated, blank lines
 * skipped, the last line without newline handed over at finish, max_line, zero-copy,
 * every cut point, OOM, stop, reset, and the recorded Ollama streams. */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "framing_check.h"

static int nd_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_ndjson_config c = {0};
    if (cfg) c = *(const tks_ndjson_config *)cfg;
    c.alloc = a;
    return tks_ndjson_parser_new((tks_ndjson_parser **)p, &c, rec_cb, r);
}
static int nd_push(void *p, const void *d, size_t n) { return tks_ndjson_parser_push(p, d, n); }
static int nd_finish(void *p) { return tks_ndjson_parser_finish(p); }
static void nd_reset(void *p) { tks_ndjson_parser_reset(p); }
static void nd_free(void *p) { tks_ndjson_parser_free(p); }
static const char *nd_error(const void *p) { return tks_ndjson_parser_error(p); }
static uint64_t nd_offset(const void *p) { return tks_ndjson_parser_offset(p); }

static const parser_ops ND = {"ndjson", nd_make, nd_push, nd_finish, nd_reset, nd_free,
                              nd_error, nd_offset};

/* The log line the recorder writes for a plain event (no type, id, headers). */
static void want_event(sbuf *b, unsigned long long off, const char *data) {
    rec r = {0};
    tks_event e = {0};
    e.type = e.id = e.message_type = "";
    e.data = data;
    e.data_len = strlen(data);
    e.offset = off;
    rec_event(&r, &e);
    sb_str(b, r.log.p);
    rec_free(&r);
}

static void want_end(sbuf *b, int prc, int frc, unsigned long long off, const char *msg) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "=> push %d finish %d offset %llu %s\n", prc, frc, off, msg);
    sb_str(b, tmp);
}

/* The expected log of a body, split by the test's own rule: lines end at LF, a CR just
 * before the LF is dropped, lines of spaces/tabs/CR only are skipped, a last line without
 * LF counts. */
static char *split_expect(const char *in, size_t n, long *count) {
    sbuf b = {0};
    size_t start = 0;
    *count = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && in[i] != '\n') continue;
        if (i == n && start == n) break;
        size_t end = i;
        if (end > start && in[end - 1] == '\r') end--;
        int blank = 1;
        for (size_t j = start; j < end; j++)
            if (in[j] != ' ' && in[j] != '\t' && in[j] != '\r') blank = 0;
        if (!blank) {
            char *line = strndup(in + start, end - start);
            want_event(&b, start, line);
            free(line);
            (*count)++;
        }
        start = i + 1;
    }
    want_end(&b, 0, 0, 0, "");
    return b.p;
}

static void test_small(void) {
    size_t n;
    char *in = read_file(path_join(test_data_dir(), "framing/small.ndjson"), &n);
    ok(in != NULL, "test/data/framing/small.ndjson readable");
    if (!in) return;
    is_int(n, 65, "small.ndjson is the 65 bytes the test expects");
    /* Hand-derived: lines at 0, 8 (CRLF only), 10 (blanks), 16, 29 (empty), 30, 47. */
    sbuf want = {0};
    want_event(&want, 0, "{\"a\":1}");
    want_event(&want, 16, "{\"b\":\"x y\"}");
    want_event(&want, 30, "{\"c\":[1,2,3]}   ");
    want_event(&want, 47, "{\"d\":\"no newline\"}");
    want_end(&want, 0, 0, 0, "");
    int st;
    char *got = check_chunking(&ND, NULL, "small.ndjson", in, n, &st);
    is_str(got, want.p, "small.ndjson: the four hand-derived events");
    long count;
    char *split = split_expect(in, n, &count);
    is_str(split, want.p, "the test's own split agrees with the hand-derived events");
    free(split);

    /* Zero-copy: pushed whole, each newline-terminated line is handed over in place and
     * nothing but the object itself is allocated. */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_ndjson_config cfg = {&a, 0};
    rec r = {0};
    r.in_lo = in;
    r.in_hi = in + n;
    tks_ndjson_parser *p;
    is_int(tks_ndjson_parser_new(&p, &cfg, rec_cb, &r), TKS_OK, "new with the test allocator");
    is_int(tks_ndjson_parser_push(p, in, n - 18), TKS_OK, "push of the terminated lines");
    is_int(r.in_place, 3, "three lines handed over in place");
    is_int(t.calls, 1, "no allocation besides the object for in-place lines");
    is_int(tks_ndjson_parser_push(p, in + n - 18, 18), TKS_OK, "push of the unterminated line");
    is_int(r.events, 3, "an unterminated line waits for its end");
    is_int(tks_ndjson_parser_finish(p), TKS_OK, "finish with a last line without newline is OK");
    is_int(r.events, 4, "finish hands over the last line");
    is_int(tks_ndjson_parser_push(p, "{}\n", 3), TKS_ESTATE, "push after finish is ESTATE");
    tks_ndjson_parser_reset(p);
    rec_free(&r);
    is_int(feed_cuts(&ND, p, &r, in, n, NULL, 0), TKS_OK, "after reset the parser takes a new stream");
    is_str(r.log.p, got, "with the same events");
    tks_ndjson_parser_free(p);
    rec_free(&r);
    is_int(t.live, 0, "nothing leaked");

    oom_case oc = {&ND, NULL, in, n, (const size_t[]){3, 20, 50}, 3, got};
    oom_torture("ndjson small.ndjson in four pieces", oom_body, &oc);
    check_stop_reset(&ND, NULL, in, n, 4, got);
    free(got);
    free(want.p);
    free(in);
}

static void test_edges(void) {
    static const struct {
        const char *label, *in, *want;
    } cases[] = {
        {"empty input", "", ""},
        {"only blank lines", "\n\r\n \t\r\n\n", ""},
        {"a lone CR stays in the line", "a\rb\nc\r\r\n", "@0 t0: m0: i0: d3:a\\x0db h0\n@4 t0: m0: i0: d2:c\\x0d h0\n"},
        {"a trailing CR without LF at finish is dropped", "x\r", "@0 t0: m0: i0: d1:x h0\n"},
        {"whitespace inside a line is kept", "  {} \n", "@0 t0: m0: i0: d5:  {}  h0\n"},
        {"a leading BOM is dropped", "\xef\xbb\xbf{}\n\xef\xbb\xbf{}\n", "@3 t0: m0: i0: d2:{} h0\n@6 t0: m0: i0: d5:\xef\xbb\xbf{} h0\n"},
        {"a BOM alone is a blank line", "\xef\xbb\xbf\r\n{}", "@5 t0: m0: i0: d2:{} h0\n"},
        {"no JSON checks: any bytes pass", "not json\n\xff\xfe\n", "@0 t0: m0: i0: d8:not json h0\n@9 t0: m0: i0: d2:\xff\xfe h0\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf want = {0};
        sb_str(&want, cases[i].want);
        want_end(&want, 0, 0, 0, "");
        char *got = check_chunking(&ND, NULL, cases[i].label, cases[i].in, strlen(cases[i].in), NULL);
        is_str(got, want.p, "ndjson: %s: events", cases[i].label);
        free(got);
        free(want.p);
    }
}

static void test_limits(void) {
    tks_ndjson_config cfg = {NULL, 7};
    /* 7 bytes fit (a CR before the LF does not count); 8 do not. */
    const char *fits = "{\"a\":1}\r\n1234567\n{\"b\":2}";
    sbuf want = {0};
    want_event(&want, 0, "{\"a\":1}");
    want_event(&want, 9, "1234567");
    want_event(&want, 17, "{\"b\":2}");
    want_end(&want, 0, 0, 0, "");
    char *got = check_chunking(&ND, &cfg, "lines of exactly max_line", fits, strlen(fits), NULL);
    is_str(got, want.p, "ndjson: lines of max_line bytes pass");
    free(got);
    free(want.p);

    const char *over = "{\"a\":1}\n12345678\n{\"b\":2}\n";
    want = (sbuf){0};
    want_event(&want, 0, "{\"a\":1}");
    want_end(&want, TKS_ELIMIT, TKS_ELIMIT, 8,
             "line longer than 7 bytes (max_line) beginning at byte 8");
    int st;
    got = check_chunking(&ND, &cfg, "a line one byte too long", over, strlen(over), &st);
    is_str(got, want.p, "ndjson: a line of max_line+1 bytes is ELIMIT at its first byte");
    is_int(st, TKS_ELIMIT, "ndjson: status ELIMIT");
    free(got);
    free(want.p);

    const char *tail = "{}\n123456789";
    want = (sbuf){0};
    want_event(&want, 0, "{}");
    want_end(&want, TKS_ELIMIT, TKS_ELIMIT, 3,
             "line longer than 7 bytes (max_line) beginning at byte 3");
    got = check_chunking(&ND, &cfg, "an unterminated line too long", tail, strlen(tail), NULL);
    is_str(got, want.p, "ndjson: an unterminated line past max_line is ELIMIT");
    free(got);
    free(want.p);

    const char *good = "{\"k\":1}\n";
    sbuf gw = {0};
    want_event(&gw, 0, "{\"k\":1}");
    want_end(&gw, 0, 0, 0, "");
    check_sticky(&ND, &cfg, over, strlen(over), TKS_ELIMIT, good, strlen(good), gw.p);
    free(gw.p);

    /* A line far longer than the limit does not grow the buffer past it. */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_ndjson_config small = {&a, 100};
    rec r = {0};
    tks_ndjson_parser *p;
    tks_ndjson_parser_new(&p, &small, rec_cb, &r);
    char big[64];
    memset(big, 'x', sizeof big);
    int rc = TKS_OK;
    for (int i = 0; i < 1000 && rc == TKS_OK; i++) rc = tks_ndjson_parser_push(p, big, sizeof big);
    is_int(rc, TKS_ELIMIT, "ndjson: an endless line stops with ELIMIT");
    ok(t.peak_bytes < 1024, "ndjson: the line buffer never grew past the limit (peak %lld bytes)",
       t.peak_bytes);
    tks_ndjson_parser_free(p);
    rec_free(&r);
}

static void test_api(void) {
    tks_ndjson_parser *p = (tks_ndjson_parser *)1;
    is_int(tks_ndjson_parser_new(NULL, NULL, rec_cb, NULL), TKS_EINVAL, "new(NULL out) is EINVAL");
    is_int(tks_ndjson_parser_new(&p, NULL, NULL, NULL), TKS_EINVAL, "new without callback is EINVAL");
    ok(p == NULL, "a failed new sets *out to NULL");
    tks_alloc partial = {0};
    tks_ndjson_config cfg = {&partial, 0};
    is_int(tks_ndjson_parser_new(&p, &cfg, rec_cb, NULL), TKS_EINVAL, "incomplete allocator is EINVAL");
    rec r = {0};
    is_int(tks_ndjson_parser_new(&p, NULL, rec_cb, &r), TKS_OK, "new with defaults");
    is_int(tks_ndjson_parser_push(p, NULL, 0), TKS_OK, "empty push is fine");
    is_int(tks_ndjson_parser_push(p, NULL, 3), TKS_EINVAL, "NULL data with a length is EINVAL");
    is_str(tks_ndjson_parser_error(p), "", "no error: empty string");
    tks_ndjson_parser_free(p);
    tks_ndjson_parser_free(NULL);
    is_str(tks_ndjson_parser_error(NULL), "", "error(NULL) is empty");
    is_int(tks_ndjson_parser_offset(NULL), 0, "offset(NULL) is 0");
    tks_ndjson_parser_reset(NULL);
    rec_free(&r);
}

static void test_fixtures(void) {
    const char *sh = shared_dir();
    if (!sh) {
        diag("../shared is absent: the recorded Ollama streams are not checked here");
        return;
    }
    static const char *files[] = {"fixtures/ollama/chat-stream.ndjson",
                                  "fixtures/ollama/generate-stream-context.ndjson"};
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        char *in = read_file(path_join(sh, files[i]), &n);
        ok(in != NULL, "%s readable", files[i]);
        if (!in) continue;
        long count;
        char *want = split_expect(in, n, &count);
        is_int(count, 6, "%s: six lines (SOURCES.md)", files[i]);
        char *got = check_chunking(&ND, NULL, files[i], in, n, NULL);
        is_str(got, want, "%s: one event per line, as the test's own split finds", files[i]);
        /* The last line holds the final metrics (SOURCES.md). */
        const char *last = strstr(got, "\"done\":true");
        ok(last && !strstr(last, "\n@"), "%s: the last event is the done:true line", files[i]);
        free(got);
        free(want);
        free(in);
    }
}

int main(void) {
    test_api();
    test_small();
    test_edges();
    test_limits();
    test_fixtures();
    return done_testing();
}
