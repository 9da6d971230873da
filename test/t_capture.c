/* t_capture.c - tks_capture_reader: the records of a hand-written capture (base64
 * decoded by hand in the comments), identical at every cut point and byte by byte,
 * errors with their byte offsets, stop, reset, OOM torture. */
#include "internal.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"

#include <stdio.h>

typedef struct {
    tks__buf out; /* "kind t_ns hex\n" per record */
    tks_alloc a;
    int stop_after; /* stop at that record (1-based); 0 = never */
    int n;
} sink;

static int on_record(void *user, const tks_capture_record *rec) {
    sink *s = user;
    char line[64];
    snprintf(line, sizeof line, "%d %lld ", rec->kind, (long long)rec->t_ns);
    tks__buf_puts(&s->out, &s->a, line);
    for (size_t i = 0; i < rec->len; i++) {
        snprintf(line, sizeof line, "%02x", (unsigned char)rec->data[i]);
        tks__buf_puts(&s->out, &s->a, line);
    }
    tks__buf_putc(&s->out, &s->a, '\n');
    s->n++;
    return s->stop_after && s->n == s->stop_after;
}

/* Feeds text cut at the given points (ncuts of them, increasing); returns the status of
 * finish (or of the first failing push) and leaves the records in s. */
static int run(const char *text, size_t len, const size_t *cuts, size_t ncuts, sink *s,
               const tks_capture_config *cfg, uint64_t *offset) {
    tks_capture_reader *r;
    memset(s, 0, sizeof *s);
    tks__alloc_init(&s->a, NULL);
    int rc = tks_capture_reader_new(&r, cfg, on_record, s);
    if (rc) return rc;
    size_t prev = 0;
    for (size_t k = 0; k <= ncuts && rc == TKS_OK; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        rc = tks_capture_reader_push(r, text + prev, end - prev);
        prev = end;
    }
    if (rc == TKS_OK) rc = tks_capture_reader_finish(r);
    if (offset) *offset = tks_capture_reader_offset(r);
    tks_capture_reader_free(r);
    return rc;
}

/* "hello" = aGVsbG8=, " world" = IHdvcmxk, 0xff = /w== (written with the \/ escape),
 * "" = "", "\n" = Cg== */
static const char capture[] =
    "{\"tokstream_capture\":1,\"start_ns\":1000}\n"
    "{\"t_ns\":1500,\"data\":\"aGVsbG8=\"}\n"
    "\n"
    "{ \"data\" : \"IHdvcmxk\" , \"t_ns\" : 2500, \"extra\": [1] }\n"
    "{\"t_ns\":2600,\"data\":\"\\/w==\",\"note\":\"x\\u00e9\",\"ok\":true,\"z\":null,\"f\":1.5e3}\r\n"
    "{\"t_ns\":2700,\"data\":\"\"}\n"
    "{\"t_ns\":2800,\"data\":\"Cg==\"}";

static const char expected[] = "1 1000 \n"
                               "2 1500 68656c6c6f\n"
                               "2 2500 20776f726c64\n"
                               "2 2600 ff\n"
                               "2 2700 \n"
                               "2 2800 0a\n";

static void test_records(void) {
    /* The "extra": [1] member is not a flat value: it is an error. Use the capture
     * without it for the cut tests. */
    sink s;
    uint64_t off;
    int rc = run(capture, strlen(capture), NULL, 0, &s, NULL, &off);
    is_int(rc, TKS_EJSON, "a nested value is refused");
    const char *line4 = strstr(capture, "{ \"data\"");
    is_int(off, (uint64_t)(strstr(capture, "[1]") - capture), "at the byte of the '['");
    (void)line4;
    tks__buf_free(&s.out, &s.a);

    char text[1024];
    snprintf(text, sizeof text, "%s", capture);
    char *ex = strstr(text, ", \"extra\": [1]");
    memmove(ex, ex + strlen(", \"extra\": [1]"), strlen(ex + strlen(", \"extra\": [1]")) + 1);
    size_t len = strlen(text);
    rc = run(text, len, NULL, 0, &s, NULL, NULL);
    is_int(rc, TKS_OK, "whole capture: ok");
    is_mem(s.out.p, s.out.len, expected, strlen(expected), "records as decoded by hand");
    tks__buf_free(&s.out, &s.a);

    int all_same = 1;
    for (size_t k = 1; k < len; k++) {
        rc = run(text, len, &k, 1, &s, NULL, NULL);
        if (rc != TKS_OK || s.out.len != strlen(expected) || memcmp(s.out.p, expected, s.out.len)) {
            if (all_same) diag("differs when cut at %zu (rc %d)", k, rc);
            all_same = 0;
        }
        tks__buf_free(&s.out, &s.a);
    }
    ok(all_same, "same records at every cut point (%zu)", len - 1);
    size_t *cuts = malloc(len * sizeof *cuts);
    for (size_t k = 0; k + 1 < len; k++) cuts[k] = k + 1;
    rc = run(text, len, cuts, len - 1, &s, NULL, NULL);
    ok(rc == TKS_OK && s.out.len == strlen(expected) && memcmp(s.out.p, expected, s.out.len) == 0,
       "same records byte by byte");
    tks__buf_free(&s.out, &s.a);
    free(cuts);
}

static void expect_error(const char *text, int code, uint64_t offset, const char *what) {
    sink s;
    uint64_t off = 0;
    int rc = run(text, strlen(text), NULL, 0, &s, NULL, &off);
    is_int(rc, code, "%s: %s", what, tks_status_name(code));
    is_int(off, offset, "%s: at byte %llu", what, (unsigned long long)offset);
    /* and byte by byte: the same error, the same offset */
    size_t len = strlen(text);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    for (size_t k = 0; k + 1 < len; k++) cuts[k] = k + 1;
    tks__buf_free(&s.out, &s.a);
    rc = run(text, len, cuts, len ? len - 1 : 0, &s, NULL, &off);
    ok(rc == code && off == offset, "%s: same byte by byte", what);
    tks__buf_free(&s.out, &s.a);
    free(cuts);
}

#define H "{\"tokstream_capture\":1,\"start_ns\":5}\n"
#define HL 37 /* strlen(H) */
static void test_errors(void) {
    expect_error("", TKS_ETRUNC, 0, "empty input");
    expect_error("\n\n", TKS_ETRUNC, 2, "blank lines only");
    expect_error("{\"t_ns\":1,\"data\":\"\"}\n", TKS_EPROTO, 0, "data before the header");
    expect_error("hello\n", TKS_EPROTO, 0, "not JSON");
    expect_error("{\"tokstream_capture\":2,\"start_ns\":5}\n", TKS_EUNSUPPORTED, 0, "version 2");
    expect_error("{\"tokstream_capture\":1}\n", TKS_EPROTO, 0, "header without start_ns");
    expect_error(H H, TKS_EPROTO, HL, "a second header");
    expect_error(H "{\"t_ns\":1,\"data\":\"aGVsbG8\"}\n", TKS_EPROTO, HL, "base64 without padding");
    expect_error(H "{\"t_ns\":1,\"data\":\"aG=sbG8=\"}\n", TKS_EPROTO, HL, "base64 with '=' inside");
    expect_error(H "{\"t_ns\":1,\"data\":\"aGVsbG9=\"}\n", TKS_EPROTO, HL, "base64 with stray bits");
    expect_error(H "{\"t_ns\":1.5,\"data\":\"\"}\n", TKS_EPROTO, HL + 8, "fractional time");
    expect_error(H "{\"t_ns\":99999999999999999999,\"data\":\"\"}\n", TKS_EPROTO, HL + 8, "time overflows");
    expect_error(H "{\"t_ns\":1}\n", TKS_EPROTO, HL, "data line without data");
    expect_error(H "{\"t_ns\":\"1\",\"data\":\"\"}\n", TKS_EPROTO, HL + 8, "time as a string");
    expect_error(H "{\"t_ns\":1,\"data\":\"\"} x\n", TKS_EJSON, HL + 21, "text after the object");
    expect_error(H "{\"t_ns\":1,\"data\":\"abc\n", TKS_EJSON, HL + 21, "unterminated string");
    expect_error(H "{\"t_ns\":1,\"data\":\"\\q\"}\n", TKS_EJSON, HL + 18, "bad escape");
    /* max_line */
    tks_capture_config cfg = {0};
    cfg.max_line = 40;
    sink s;
    uint64_t off;
    const char *t = H "{\"t_ns\":1,\"data\":\"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=\"}\n";
    int rc = run(t, strlen(t), NULL, 0, &s, &cfg, &off);
    /* the 52-byte line is whole in one push: read in place, still ELIMIT */
    is_int(rc, TKS_ELIMIT, "line longer than max_line: ELIMIT");
    tks__buf_free(&s.out, &s.a);
    size_t cut = 50;
    rc = run(t, strlen(t), &cut, 1, &s, &cfg, &off);
    is_int(rc, TKS_ELIMIT, "cut line longer than max_line: ELIMIT");
    is_int(off, HL, "at the line's start");
    tks__buf_free(&s.out, &s.a);
}

static void test_stop_reset(void) {
    sink s;
    memset(&s, 0, sizeof s);
    tks__alloc_init(&s.a, NULL);
    s.stop_after = 2;
    tks_capture_reader *r;
    tks_capture_reader_new(&r, NULL, on_record, &s);
    const char *t = H "{\"t_ns\":6,\"data\":\"\"}\n{\"t_ns\":7,\"data\":\"\"}\n";
    is_int(tks_capture_reader_push(r, t, strlen(t)), TKS_STOPPED, "callback stops: STOPPED");
    is_int(s.n, 2, "no record after the stop");
    is_int(tks_capture_reader_push(r, "\n", 1), TKS_STOPPED, "stays stopped");
    is_int(tks_capture_reader_finish(r), TKS_STOPPED, "finish: stopped");
    tks_capture_reader_reset(r);
    s.stop_after = 0;
    s.n = 0;
    is_int(tks_capture_reader_push(r, t, strlen(t)), TKS_OK, "after reset: reads again");
    is_int(tks_capture_reader_finish(r), TKS_OK, "finish ok");
    is_int(s.n, 3, "three records");
    is_int(tks_capture_reader_push(r, "x\n", 2), TKS_EPROTO, "error");
    is_int(tks_capture_reader_push(r, H, strlen(H)), TKS_EPROTO, "sticky");
    ok(strstr(tks_capture_reader_error(r), "byte") != NULL, "error text: %s", tks_capture_reader_error(r));
    tks_capture_reader_reset(r);
    is_str(tks_capture_reader_error(r), "", "reset clears the error");
    tks_capture_reader_free(r);
    tks_capture_reader_free(NULL);
    tks__buf_free(&s.out, &s.a);
    is_int(tks_capture_reader_new(&r, NULL, NULL, NULL), TKS_EINVAL, "no callback: EINVAL");
}

static int oom_body(const tks_alloc *al, void *ctx) {
    const char *text = ctx;
    tks_capture_config cfg = {0};
    cfg.alloc = al;
    sink s;
    memset(&s, 0, sizeof s);
    tks__alloc_init(&s.a, NULL);
    tks_capture_reader *r;
    int rc = tks_capture_reader_new(&r, &cfg, on_record, &s);
    if (rc == TKS_ENOMEM) return 1;
    size_t len = strlen(text), half = len / 2;
    rc = tks_capture_reader_push(r, text, half);
    if (!rc) rc = tks_capture_reader_push(r, text + half, len - half);
    if (!rc) rc = tks_capture_reader_finish(r);
    tks_capture_reader_free(r);
    int good = rc == TKS_OK && s.n == 4;
    tks__buf_free(&s.out, &s.a);
    return good ? 0 : rc == TKS_ENOMEM ? 1 : 2;
}

static void test_oom(void) {
    oom_torture("capture reader", oom_body,
                (void *)(H "{\"t_ns\":6,\"data\":\"aGVsbG8=\"}\n{\"t_ns\":7,\"data\":\"IHdvcmxk\"}\n"
                           "{\"t_ns\":8,\"data\":\"Cg==\"}\n"));
}

/* The project's own captures (the CLI tests use them) all read cleanly. */
static void test_data_files(void) {
    static const char *const files[] = {"timing/two-streams-a.capture", "timing/two-streams-b.capture",
                                        "timing/reasoning.capture", "timing/empty.capture"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *text = read_file(path_join(test_data_dir(), files[i]), &len);
        if (!text) {
            ok(0, "read %s", files[i]);
            continue;
        }
        sink s;
        int rc = run(text, len, NULL, 0, &s, NULL, NULL);
        ok(rc == TKS_OK && s.n >= 1, "%s: %d records", files[i], s.n);
        tks__buf_free(&s.out, &s.a);
        free(text);
    }
}

int main(void) {
    test_records();
    test_errors();
    test_stop_reset();
    test_oom();
    test_data_files();
    return done_testing();
}
