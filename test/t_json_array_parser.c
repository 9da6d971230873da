/* t_json_array_parser.c - the JSON array framing: elements of a top-level array handed
 * over as each completes (exact bytes), strings and escapes respected, nesting, BOM,
 * malformed input with its byte offset, truncation, limits, zero-copy, every cut point,
 * OOM, stop, reset, and the recorded Gemini array stream checked against cJSON. */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "framing_check.h"

#include <cJSON.h>

static int ja_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_json_array_config c = {0};
    if (cfg) c = *(const tks_json_array_config *)cfg;
    c.alloc = a;
    return tks_json_array_parser_new((tks_json_array_parser **)p, &c, rec_cb, r);
}
static int ja_push(void *p, const void *d, size_t n) { return tks_json_array_parser_push(p, d, n); }
static int ja_finish(void *p) { return tks_json_array_parser_finish(p); }
static void ja_reset(void *p) { tks_json_array_parser_reset(p); }
static void ja_free(void *p) { tks_json_array_parser_free(p); }
static const char *ja_error(const void *p) { return tks_json_array_parser_error(p); }
static uint64_t ja_offset(const void *p) { return tks_json_array_parser_offset(p); }

static const parser_ops JA = {"json-array", ja_make, ja_push, ja_finish, ja_reset, ja_free,
                              ja_error, ja_offset};

static void want_event(sbuf *b, unsigned long long off, const char *data, size_t n) {
    rec r = {0};
    tks_event e = {0};
    e.type = e.id = e.message_type = "";
    e.data = data;
    e.data_len = n;
    e.offset = off;
    rec_event(&r, &e);
    sb_str(b, r.log.p);
    rec_free(&r);
}

static void want_end(sbuf *b, int rc, unsigned long long off, const char *msg) {
    char tmp[256];
    /* A push error repeats at finish; a finish-only error (truncation) leaves push at 0. */
    snprintf(tmp, sizeof tmp, "=> push %d finish %d offset %llu %s\n",
             rc == TKS_ETRUNC ? 0 : rc, rc, off, msg);
    sb_str(b, tmp);
}

/* Parses each element with cJSON into an array (a parse failure becomes a string that
 * no real element equals). */
static int collect(void *user, const tks_event *e) {
    cJSON *v = cJSON_ParseWithLength(e->data, e->data_len);
    cJSON_AddItemToArray(user, v ? v : cJSON_CreateString("UNPARSABLE ELEMENT"));
    return 0;
}

static cJSON *parse_elements(const char *in, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    tks_json_array_parser *p;
    tks_json_array_parser_new(&p, NULL, collect, arr);
    tks_json_array_parser_push(p, in, n);
    if (tks_json_array_parser_finish(p) != TKS_OK) cJSON_AddItemToArray(arr, cJSON_CreateString("FAILED"));
    tks_json_array_parser_free(p);
    return arr;
}

static void test_small(void) {
    size_t n;
    char *in = read_file(path_join(test_data_dir(), "framing/small-array.json"), &n);
    ok(in != NULL, "test/data/framing/small-array.json readable");
    if (!in) return;
    /* Hand-written: the exact bytes of each element, whitespace around it trimmed. */
    static const char *elems[] = {
        "{\"t\": \"a ] , { } [ \\\" \\\\ \\/ \\u00e9 x\", \"n\": [1, -2.5e+3, 0, {\"deep\": [[]]}], \"b\": true}",
        "[ ]", "\"str \\u0041\"", "-0.0E5", "null", "false", "{}"};
    sbuf want = {0};
    size_t from = 0;
    for (size_t i = 0; i < 7; i++) {
        const char *at = strstr(in + from, elems[i]);
        ok(at != NULL, "element %zu is in the file", i);
        if (!at) return;
        want_event(&want, (unsigned long long)(at - in), elems[i], strlen(elems[i]));
        from = (size_t)(at - in) + strlen(elems[i]);
    }
    want_end(&want, 0, 0, "");
    int st;
    char *got = check_chunking(&JA, NULL, "small-array.json", in, n, &st);
    is_str(got, want.p, "small-array.json: the seven hand-written elements at their offsets");
    is_int(st, TKS_OK, "small-array.json: OK");

    /* cJSON, on the whole document (after the BOM), agrees element by element. */
    cJSON *whole = cJSON_ParseWithLength(in + 3, n - 3);
    cJSON *mine = parse_elements(in, n);
    ok(whole && cJSON_Compare(whole, mine, 1), "small-array.json: elements equal cJSON's items");
    cJSON_Delete(whole);
    cJSON_Delete(mine);

    /* Zero-copy: pushed whole, every element is handed over in place. */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_json_array_config cfg = {&a, 0, 0};
    rec r = {0};
    r.in_lo = in;
    r.in_hi = in + n;
    tks_json_array_parser *p;
    tks_json_array_parser_new(&p, &cfg, rec_cb, &r);
    is_int(tks_json_array_parser_push(p, in, n), TKS_OK, "push whole");
    is_int(r.in_place, 7, "all seven elements handed over in place");
    is_int(t.calls, 2, "only the object and the bracket stack were allocated");
    is_int(tks_json_array_parser_finish(p), TKS_OK, "finish after ']' is OK");
    is_int(tks_json_array_parser_finish(p), TKS_OK, "finish again is OK");
    is_int(tks_json_array_parser_push(p, "[]", 2), TKS_ESTATE, "push after finish is ESTATE");
    tks_json_array_parser_reset(p);
    rec_free(&r);
    is_int(feed_cuts(&JA, p, &r, in, n, NULL, 0), TKS_OK, "after reset a new stream parses");
    is_str(r.log.p, got, "with the same elements");
    tks_json_array_parser_free(p);
    rec_free(&r);
    is_int(t.live, 0, "nothing leaked");

    oom_case oc = {&JA, NULL, in, n, (const size_t[]){2, 30, 60, 100}, 4, got};
    oom_torture("json-array small-array.json in five pieces", oom_body, &oc);
    check_stop_reset(&JA, NULL, in, n, 7, got);
    check_sticky(&JA, NULL, "[1 2]", 5, TKS_EJSON, in, n, got);
    free(got);
    free(want.p);
    free(in);
}

/* Malformed and truncated arrays: the events before the fault, the code, the offset. */
static void test_bad(void) {
    static const struct {
        const char *in;
        const char *events; /* elements dispatched first, separated by '|' ("" = none) */
        int rc;
        unsigned long long off;
        const char *msg;
    } cases[] = {
        {"[1 2]", "1", TKS_EJSON, 3, "expected ',' or ']' after an array element"},
        {"[{\"a\":1}{\"b\":2}]", "{\"a\":1}", TKS_EJSON, 8, "expected ',' or ']' after an array element"},
        {"]", "", TKS_EJSON, 0, "expected '[': the input is not a JSON array"},
        {"{\"a\":1}", "", TKS_EJSON, 0, "expected '[': the input is not a JSON array"},
        {"[1,]", "1", TKS_EJSON, 3, "expected an element after ','"},
        {"[,1]", "", TKS_EJSON, 1, "expected a JSON value"},
        {"[{\"a\" 1}]", "", TKS_EJSON, 6, "expected ':' after an object key"},
        {"[{\"a\":1,}]", "", TKS_EJSON, 8, "expected a string key in an object"},
        {"[{1:2}]", "", TKS_EJSON, 2, "expected a string key in an object"},
        {"[{\"a\":1]]", "", TKS_EJSON, 7, "mismatched closing bracket"},
        {"[[1}]", "", TKS_EJSON, 3, "mismatched closing bracket"},
        {"[[1 2]]", "", TKS_EJSON, 4, "expected ',' or ']' in an array"},
        {"[{\"a\":1 \"b\":2}]", "", TKS_EJSON, 8, "expected ',' or '}' in an object"},
        {"[\"\\x\"]", "", TKS_EJSON, 3, "invalid escape sequence in a string"},
        {"[\"\\u12G4\"]", "", TKS_EJSON, 6, "invalid \\u escape in a string"},
        {"[\"a\nb\"]", "", TKS_EJSON, 3, "unescaped control character in a string"},
        {"[tru]", "", TKS_EJSON, 4, "invalid literal (expected true, false or null)"},
        {"[nul,1]", "", TKS_EJSON, 4, "invalid literal (expected true, false or null)"},
        {"[01]", "0", TKS_EJSON, 2, "expected ',' or ']' after an array element"},
        {"[-]", "", TKS_EJSON, 2, "invalid number"},
        {"[1.]", "", TKS_EJSON, 3, "invalid number"},
        {"[1.e5]", "", TKS_EJSON, 3, "invalid number"},
        {"[1e]", "", TKS_EJSON, 3, "invalid number"},
        {"[1e+]", "", TKS_EJSON, 4, "invalid number"},
        {"[+1]", "", TKS_EJSON, 1, "expected a JSON value"},
        {"[1] x", "1", TKS_EJSON, 4, "unexpected data after the array's closing ']'"},
        {"[1][2]", "1", TKS_EJSON, 3, "unexpected data after the array's closing ']'"},
        {"\xef\xbb[]", "", TKS_EJSON, 2, "broken UTF-8 byte order mark"},
        {" \xef\xbb\xbf[]", "", TKS_EJSON, 1, "expected '[': the input is not a JSON array"},
        {"", "", TKS_ETRUNC, 0, "input ended before the array began"},
        {"  \n", "", TKS_ETRUNC, 3, "input ended before the array began"},
        {"\xef\xbb", "", TKS_ETRUNC, 2, "input ended before the array began"},
        {"[", "", TKS_ETRUNC, 1, "input ended before the array's closing ']'"},
        {"[{\"a\":1}, {\"b\":", "{\"a\":1}", TKS_ETRUNC, 15, "element beginning at byte 10 cut short: input ended"},
        {"[1", "", TKS_ETRUNC, 2, "element beginning at byte 1 cut short: input ended"},
        {"[\"abc", "", TKS_ETRUNC, 5, "element beginning at byte 1 cut short: input ended"},
        {"[1,2,", "1|2", TKS_ETRUNC, 5, "input ended before the array's closing ']'"},
        {"[true ,false", "true|false", TKS_ETRUNC, 12, "input ended before the array's closing ']'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        sbuf want = {0};
        /* Offsets of the expected elements: found in the input by the test. */
        const char *ev = cases[i].events;
        size_t from = 0;
        while (*ev) {
            const char *bar = strchr(ev, '|');
            size_t len = bar ? (size_t)(bar - ev) : strlen(ev);
            char *e = strndup(ev, len);
            const char *at = strstr(in + from, e);
            want_event(&want, at ? (unsigned long long)(at - in) : 999, e, len);
            from = at ? (size_t)(at - in) + len : from;
            free(e);
            ev += len + (bar ? 1 : 0);
        }
        char msg[200];
        snprintf(msg, sizeof msg, "%s at byte %llu", cases[i].msg, cases[i].off);
        want_end(&want, cases[i].rc, cases[i].off, msg);
        char label[64];
        snprintf(label, sizeof label, "bad input #%zu", i);
        int st;
        char *got = check_chunking(&JA, NULL, label, in, strlen(in), &st);
        is_str(got, want.p, "json-array: %s: %s, %s at byte %llu", label,
               tks_status_name(cases[i].rc), cases[i].msg, cases[i].off);
        free(got);
        free(want.p);
    }
}

static void test_limits(void) {
    tks_json_array_config depth2 = {NULL, 0, 2};
    int st;
    char *got = check_chunking(&JA, &depth2, "depth 2 fits", "[[[1]],{\"a\":{}}]", 16, &st);
    sbuf want = {0};
    want_event(&want, 1, "[[1]]", 5);
    want_event(&want, 7, "{\"a\":{}}", 8);
    want_end(&want, 0, 0, "");
    is_str(got, want.p, "json-array: nesting of max_depth passes");
    free(got);
    free(want.p);
    got = check_chunking(&JA, &depth2, "depth 3", "[[[[1]]]]", 9, &st);
    want = (sbuf){0};
    want_end(&want, TKS_ELIMIT, 3, "nesting deeper than max_depth at byte 3");
    is_str(got, want.p, "json-array: nesting of max_depth+1 is ELIMIT at the bracket");
    free(got);
    free(want.p);

    tks_json_array_config five = {NULL, 5, 0};
    got = check_chunking(&JA, &five, "elements of max_element", "[\"abc\", 12345 ,{\"\":1}]", 22, &st);
    /* {"":1} is 6 bytes: one too many. */
    want = (sbuf){0};
    want_event(&want, 1, "\"abc\"", 5);
    want_event(&want, 8, "12345", 5);
    want_end(&want, TKS_ELIMIT, 20,
             "element beginning at byte 15 is longer than 5 bytes (max_element): limit reached at byte 20");
    is_str(got, want.p, "json-array: elements of max_element pass, one byte more is ELIMIT");
    free(got);
    free(want.p);
    got = check_chunking(&JA, &five, "a long number", "[123456]", 8, &st);
    want = (sbuf){0};
    want_end(&want, TKS_ELIMIT, 6,
             "element beginning at byte 1 is longer than 5 bytes (max_element): limit reached at byte 6");
    is_str(got, want.p, "json-array: a number past max_element is ELIMIT");
    free(got);
    free(want.p);
    got = check_chunking(&JA, &five, "a long string", "[\"abcdefgh\"]", 12, &st);
    want = (sbuf){0};
    want_end(&want, TKS_ELIMIT, 6,
             "element beginning at byte 1 is longer than 5 bytes (max_element): limit reached at byte 6");
    is_str(got, want.p, "json-array: a string past max_element is ELIMIT");
    free(got);
    free(want.p);

    /* Memory stays bounded by the limits whatever the input. */
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_json_array_config small = {&a, 1000, 100};
    rec r = {0};
    tks_json_array_parser *p;
    tks_json_array_parser_new(&p, &small, rec_cb, &r);
    int rc = tks_json_array_parser_push(p, "[", 1);
    for (int i = 0; i < 10000 && rc == TKS_OK; i++) rc = tks_json_array_parser_push(p, "[", 1);
    is_int(rc, TKS_ELIMIT, "json-array: endless nesting stops with ELIMIT");
    tks_json_array_parser_reset(p);
    rc = tks_json_array_parser_push(p, "[\"", 2);
    for (int i = 0; i < 10000 && rc == TKS_OK; i++) rc = tks_json_array_parser_push(p, "xxxxxxxx", 8);
    is_int(rc, TKS_ELIMIT, "json-array: an endless string stops with ELIMIT");
    ok(t.peak_bytes < 4096, "json-array: memory stayed within the limits (peak %lld bytes)",
       t.peak_bytes);
    tks_json_array_parser_free(p);
    rec_free(&r);
}

static void test_api(void) {
    tks_json_array_parser *p = (tks_json_array_parser *)1;
    is_int(tks_json_array_parser_new(NULL, NULL, rec_cb, NULL), TKS_EINVAL, "new(NULL out) is EINVAL");
    is_int(tks_json_array_parser_new(&p, NULL, NULL, NULL), TKS_EINVAL, "new without callback is EINVAL");
    ok(p == NULL, "a failed new sets *out to NULL");
    rec r = {0};
    is_int(tks_json_array_parser_new(&p, NULL, rec_cb, &r), TKS_OK, "new with defaults");
    is_int(tks_json_array_parser_push(p, NULL, 0), TKS_OK, "empty push is fine");
    is_int(tks_json_array_parser_push(p, NULL, 1), TKS_EINVAL, "NULL data with a length is EINVAL");
    is_int(tks_json_array_parser_push(p, "[]", 2), TKS_OK, "empty array");
    is_int(tks_json_array_parser_finish(p), TKS_OK, "empty array finishes OK");
    is_int(r.events, 0, "and has no elements");
    tks_json_array_parser_free(p);
    tks_json_array_parser_free(NULL);
    tks_json_array_parser_reset(NULL);
    is_str(tks_json_array_parser_error(NULL), "", "error(NULL) is empty");
    is_int(tks_json_array_parser_offset(NULL), 0, "offset(NULL) is 0");
    rec_free(&r);
}

static void test_fixture(void) {
    const char *sh = shared_dir();
    if (!sh) {
        diag("../shared is absent: the recorded Gemini array stream is not checked here");
        return;
    }
    size_t n;
    char *in = read_file(path_join(sh, "fixtures/gemini/json-array-stream-bom.json"), &n);
    ok(in != NULL, "gemini/json-array-stream-bom.json readable");
    if (!in) return;
    ok(n > 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0, "the fixture starts with a BOM (SOURCES.md)");
    int st;
    char *got = check_chunking(&JA, NULL, "gemini/json-array-stream-bom.json", in, n, &st);
    is_int(st, TKS_OK, "gemini array: OK");
    cJSON *whole = cJSON_ParseWithLength(in + 3, n - 3);
    cJSON *mine = parse_elements(in, n);
    is_int(cJSON_GetArraySize(whole), 6, "cJSON finds 6 elements (SOURCES.md)");
    is_int(cJSON_GetArraySize(mine), 6, "the parser hands over 6 elements");
    ok(whole && cJSON_Compare(whole, mine, 1), "each element equals cJSON's item");
    /* Each element's bytes are exactly what lies between the separators: the first
     * starts right after "[", the others after ",\n  ". */
    const char *first = strchr(in, '[') + 1;
    char off[32];
    snprintf(off, sizeof off, "@%ld ", (long)(first - in));
    ok(strncmp(got, off, strlen(off)) == 0, "the first element begins right after '['");
    cJSON_Delete(whole);
    cJSON_Delete(mine);
    free(got);
    free(in);
}

int main(void) {
    test_api();
    test_small();
    test_bad();
    test_limits();
    test_fixture();
    return done_testing();
}
