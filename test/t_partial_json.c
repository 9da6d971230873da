/* t_partial_json.c - tks_partial_json: hand-derived closings of cut JSON texts, and for
 * whole documents, every prefix closes into a document cJSON accepts, which grows with
 * the prefix and ends as the document itself. */
#include "tokstream.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *in, *want; /* want NULL: expect the status below */
    int status;
} cases[] = {
    /* strings */
    {"\"", "\"\"", TKS_OK},
    {"\"hello", "\"hello\"", TKS_OK},
    {"\"hello \\", "\"hello \"", TKS_OK},
    {"\"hello \\u12", "\"hello \"", TKS_OK},
    {"\"hello \\u00e9", "\"hello \\u00e9\"", TKS_OK},
    {"\"a\\n", "\"a\\n\"", TKS_OK},
    {"\"caf\xc3", "\"caf\"", TKS_OK},
    {"\"caf\xc3\xa9", "\"caf\xc3\xa9\"", TKS_OK},
    {"\"\xf0\x9f\x98", "\"\"", TKS_OK},
    {"\"a\\ud83d", "\"a\"", TKS_OK},
    {"\"a\\ud83d\\ude", "\"a\"", TKS_OK},
    {"\"a\\ud83d\\ude00", "\"a\\ud83d\\ude00\"", TKS_OK},
    {"\"a\\uDBFFx", "\"a\\uDBFFx\"", TKS_OK},
    /* objects */
    {"{", "{}", TKS_OK},
    {"{\"", "{}", TKS_OK},
    {"{\"ke", "{}", TKS_OK},
    {"{\"key\"", "{}", TKS_OK},
    {"{\"key\":", "{}", TKS_OK},
    {"{\"key\": ", "{}", TKS_OK},
    {"{\"key\": \"v", "{\"key\": \"v\"}", TKS_OK},
    {"{\"key\": \"v\"", "{\"key\": \"v\"}", TKS_OK},
    {"{\"key\": \"v\",", "{\"key\": \"v\"}", TKS_OK},
    {"{\"key\": \"v\", \"k2", "{\"key\": \"v\"}", TKS_OK},
    {"{\"a\": 1, \"b\": 12", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": 12.", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": -", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": 1e", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": 1e+", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": 12 ", "{\"a\": 1, \"b\": 12}", TKS_OK},
    {"{\"a\": 1, \"b\": tru", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": nul", "{\"a\": 1}", TKS_OK},
    {"{\"a\": 1, \"b\": true", "{\"a\": 1, \"b\": true}", TKS_OK},
    {"{\"a\": 1, \"b\": false", "{\"a\": 1, \"b\": false}", TKS_OK},
    {"{\"a\": {\"b\": [1, {\"c\": \"d", "{\"a\": {\"b\": [1, {\"c\": \"d\"}]}}", TKS_OK},
    {"{\"a\": [", "{\"a\": []}", TKS_OK},
    {"{\"a\": {", "{\"a\": {}}", TKS_OK},
    {"{\"a\": \"", "{\"a\": \"\"}", TKS_OK},
    {"{\"city\": \"Par", "{\"city\": \"Par\"}", TKS_OK},
    {"{\"q\":\"a \\\"quoted", "{\"q\":\"a \\\"quoted\"}", TKS_OK},
    {"{\"q\":\"a \\\"", "{\"q\":\"a \\\"\"}", TKS_OK},
    {"{}", "{}", TKS_OK},
    {"{\"a\":1}", "{\"a\":1}", TKS_OK},
    {"{\"a\":1}  ", "{\"a\":1}", TKS_OK},
    /* arrays */
    {"[", "[]", TKS_OK},
    {"[1, 2", "[1]", TKS_OK},
    {"[1, 2,", "[1, 2]", TKS_OK},
    {"[\"", "[\"\"]", TKS_OK},
    {"[[[", "[[[]]]", TKS_OK},
    {"[0.5, -3e2, ", "[0.5, -3e2]", TKS_OK},
    /* top level scalars */
    {"12", "12", TKS_OK},
    {"12 ", "12", TKS_OK},
    {"-0.5e3", "-0.5e3", TKS_OK},
    {"true", "true", TKS_OK},
    {"12.", NULL, TKS_EEMPTY},
    {"-", NULL, TKS_EEMPTY},
    {"tru", NULL, TKS_EEMPTY},
    {"", NULL, TKS_EEMPTY},
    {"  \n", NULL, TKS_EEMPTY},
    /* not JSON */
    {"{a", NULL, TKS_EJSON},
    {"{\"a\" 1", NULL, TKS_EJSON},
    {"[1 2", NULL, TKS_EJSON},
    {"[1,]", NULL, TKS_EJSON},
    {"{\"a\":1,}", NULL, TKS_EJSON},
    {"01", NULL, TKS_EJSON},
    {"\"\\x\"", NULL, TKS_EJSON},
    {"\"\\u12g4\"", NULL, TKS_EJSON},
    {"\"a\tb\"", NULL, TKS_EJSON},
    {"\"\xff\"", NULL, TKS_EJSON},
    {"truex", NULL, TKS_EJSON},
    {"1 2", NULL, TKS_EJSON},
    {"]", NULL, TKS_EJSON},
    {"[}", NULL, TKS_EJSON},
};

/* Whole documents whose every prefix is checked. */
static const char *docs[] = {
    ("{\"location\": \"San Francisco, CA\", \"unit\": \"celsius\", \"days\": [1, 2.5, -3e-2],"
     " \"nested\": {\"ok\": true, \"no\": false, \"none\": null, \"empty\": {}, \"list\": []}}"),
    "[\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80\", {\"k\\\"ey\": \"v\\\\\"}, 0, -0.0]",
    "{\n  \"code\": \"def f(x):\\n\\treturn \\\"x\\\"\\r\\n\",\n  \"n\": 12345678901234\n}",
    "\"just a string with \\/ slash\"",
    "-12.5e+10",
};

static void test_cases(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        size_t len = 99;
        int rc = tks_partial_json(cases[i].in, strlen(cases[i].in), out, sizeof out, &len);
        is_int(rc, cases[i].status, "status of %s", cases[i].in);
        if (cases[i].want && rc == TKS_OK)
            is_mem(out, len, cases[i].want, strlen(cases[i].want), "closing of %s", cases[i].in);
        if (rc == TKS_OK) ok(out[len] == 0, "NUL-terminated: %s", cases[i].in);
    }
}

static void test_size_query(void) {
    const char *in = "{\"a\": [1, {\"b\": \"xy";
    size_t need = 0, len = 0;
    is_int(tks_partial_json(in, strlen(in), NULL, 0, &need), TKS_OK, "size query");
    is_int(need, strlen("{\"a\": [1, {\"b\": \"xy\"}]}"), "size query gives the length");
    char small[8];
    is_int(tks_partial_json(in, strlen(in), small, sizeof small, &len), TKS_ELIMIT,
           "short buffer: TKS_ELIMIT");
    is_int(len, need, "short buffer still reports the length");
    char *exact = malloc(need + 1);
    is_int(tks_partial_json(in, strlen(in), exact, need + 1, &len), TKS_OK, "exact buffer");
    is_mem(exact, len, "{\"a\": [1, {\"b\": \"xy\"}]}", need, "exact buffer content");
    is_int(tks_partial_json(in, strlen(in), exact, need, &len), TKS_ELIMIT,
           "no room for the NUL: TKS_ELIMIT");
    free(exact);
    is_int(tks_partial_json(in, 3, NULL, 0, NULL), TKS_EINVAL, "out_len NULL: TKS_EINVAL");
    is_int(tks_partial_json(NULL, 3, NULL, 0, &len), TKS_EINVAL, "in NULL with n > 0");
    is_int(tks_partial_json(NULL, 0, NULL, 0, &len), TKS_EEMPTY, "in NULL with n == 0");
}

static void test_depth(void) {
    size_t n = TKS_PARTIAL_JSON_MAX_DEPTH;
    char *s = malloc(n + 2);
    memset(s, '[', n + 1);
    size_t len;
    is_int(tks_partial_json(s, n, NULL, 0, &len), TKS_OK, "nesting at the maximum");
    is_int(len, 2 * n, "... closes every level");
    is_int(tks_partial_json(s, n + 1, NULL, 0, &len), TKS_ELIMIT, "one deeper: TKS_ELIMIT");
    free(s);
}

/* Every prefix of each document: a valid document (cJSON), never shrinking in kept bytes,
 * and the whole document comes back verbatim (less trailing whitespace). */
static void test_prefixes(void) {
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        const char *doc = docs[d];
        size_t n = strlen(doc);
        char *out = malloc(n + TKS_PARTIAL_JSON_MAX_DEPTH + 2);
        int bad = 0, got_any = 0;
        for (size_t k = 0; k <= n && !bad; k++) {
            size_t len;
            int rc = tks_partial_json(doc, k, out, n + TKS_PARTIAL_JSON_MAX_DEPTH + 2, &len);
            /* a top-level number may be cut again ("-12." after "-12") */
            if (rc == TKS_EEMPTY && (!got_any || doc[0] == '-')) continue;
            if (rc != TKS_OK) {
                diag("doc %zu prefix %zu: status %d", d, k, rc);
                bad = 1;
                break;
            }
            got_any = 1;
            cJSON *j = cJSON_ParseWithLength(out, len);
            if (!j) {
                diag_bytes("invalid output", out, len);
                bad = 1;
            }
            cJSON_Delete(j);
            if (k == n && (len != n || memcmp(out, doc, n) != 0)) {
                diag_bytes("whole document changed", out, len);
                bad = 1;
            }
        }
        ok(!bad, "document %zu: all %zu prefixes close into valid JSON", d, n + 1);
        free(out);
    }
}

int main(void) {
    test_cases();
    test_size_query();
    test_depth();
    test_prefixes();
    return done_testing();
}
