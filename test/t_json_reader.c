/* t_json_reader.c - the internal strict JSON reader (lib/json_reader.c): grammar (valid
 * and invalid texts, with the byte position of each error), string escapes (NUL,
 * surrogate pairs, lone surrogates -> U+FFFD, U+2028), numbers, the depth and size
 * limits, lookups, reuse without allocation, OOM torture; validity compared with cJSON
 * on a corpus where the two grammars agree. */
#include "json_reader.h"
#include "tap.h"
#include "testalloc.h"

#include <cJSON.h>
#include <math.h>

static tks_alloc libc_alloc(void) {
    tks_alloc a;
    tks__alloc_init(&a, NULL);
    return a;
}

static int parse(tks__json *j, const char *s) {
    tks_alloc a = libc_alloc();
    return tks__json_parse(j, &a, s, strlen(s));
}

static void test_valid(void) {
    static const char *valid[] = {
        "0", "-0", "1", "-1", "12.5e-3", "1E+2", "1e2", "0.0", "-0.5", "true", "false", "null", "\"\"",
        "\"a\"", "[]", "{}", "[1,2,3]", " \t\r\n[ 1 , { \"a\" : [ ] } ]\n ", "{\"a\":{\"b\":{\"c\":null}}}",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\"", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", "[\"\",\"\"]",
        "{\"\":0}", "{\"a\":1,\"a\":2}", "123456789012345678901234567890", "1.7976931348623157e308",
        "[[[[[[[[[[]]]]]]]]]]", "{\"type\": \"ping\"}", "{\"index\":0        }",
    };
    tks__json j;
    tks__json_init(&j, 0, 0);
    tks_alloc a = libc_alloc();
    int bad = 0;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        int rc = parse(&j, valid[i]);
        cJSON *c = cJSON_Parse(valid[i]);
        if (rc != TKS_OK || !c) {
            bad++;
            diag("valid text rejected: %s (rc %d, cJSON %s)", valid[i], rc, c ? "ok" : "rejects");
        }
        cJSON_Delete(c);
    }
    ok(bad == 0, "%zu valid texts accepted (cJSON agrees)", sizeof valid / sizeof valid[0]);
    tks__json_free(&j, &a);
}

static void test_invalid(void) {
    static const struct {
        const char *s;
        size_t pos;
    } invalid[] = {
        {"", 0},         {"   ", 3},         {"[", 1},          {"[1,]", 3},       {"[1 2]", 3},
        {"{\"a\"}", 4},  {"{\"a\":}", 5},    {"{a:1}", 1},      {"{\"a\":1,}", 7}, {"01", 1},
        {"1.", 2},       {"1.e3", 2},        {"1e", 2},         {"-", 1},          {"+1", 0},
        {".5", 0},       {"tru", 0},         {"nul", 0},        {"True", 0},       {"\"abc", 0},
        {"\"a\\x\"", 2}, {"\"\\u12G4\"", 1}, {"\"\\u12\"", 1},  {"\"a\tb\"", 2},   {"\"a\nb\"", 2},
        {"[1]x", 3},     {"1 2", 2},         {"{}{}", 2},       {"[1,,2]", 3},     {"\xEF\xBB\xBF{}", 0},
        {"\"\xC3\"", 1}, {"\"\xC0\xAF\"", 1}, {"\"\xED\xA0\x80\"", 1}, {"\"\xFF\"", 1}, {"NaN", 0},
        {"Infinity", 0}, {"[1,2", 4},        {"{\"a\":1", 6},   {"'a'", 0},        {"[-]", 2},
        {"\"\\", 1},     {"/*c*/1", 0},
    };
    tks__json j;
    tks__json_init(&j, 0, 0);
    tks_alloc a = libc_alloc();
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int rc = tks__json_parse(&j, &a, invalid[i].s, strlen(invalid[i].s));
        is_int(rc, TKS_EJSON, "invalid text %zu rejected", i);
        is_int(j.err_pos, invalid[i].pos, "invalid text %zu: error at byte %zu (%s)", i, invalid[i].pos,
               j.err_msg ? j.err_msg : "?");
    }
    /* a NUL byte inside the text is not JSON either */
    is_int(tks__json_parse(&j, &a, "\"a\0b\"", 5), TKS_EJSON, "raw NUL in a string is rejected");
    is_int(tks__json_parse(&j, &a, "[1]\0", 4), TKS_EJSON, "NUL after the value is rejected");
    tks__json_free(&j, &a);
}

static void is_str_node(tks__json *j, uint32_t n, const char *want, size_t wl, const char *what) {
    const char *p;
    size_t len;
    int r = tks__json_str(j, n, &p, &len);
    ok(r == 1, "%s: is a string", what);
    is_mem(p, len, want, wl, "%s", what);
}

static void test_strings(void) {
    tks__json j;
    tks__json_init(&j, 0, 0);
    tks_alloc a = libc_alloc();
    const char *doc =
        "[\"plain\", \"a\\u0000b\", \"\\ud83d\\ude00\", \"x\\ud800y\", \"\\udc00\", \"\\ud800\\u0041\","
        "\"\\ud800\\ud800\\udc00\", \"\\u2028\\u2029\", \"\\u00e9\\u20ac\", \"tab\\tq\\\"s\\\\/\\/\","
        "\"\\uD83D\\uDE00\", \"\\ud800\"]";
    is_int(tks__json_parse(&j, &a, doc, strlen(doc)), TKS_OK, "string corpus parses");
    uint32_t root = TKS__JROOT, n = tks__json_first(&j, root);
    is_int(tks__json_count(&j, root), 12, "12 elements");
    const char *p0;
    size_t l0;
    tks__json_str(&j, n, &p0, &l0);
    ok(p0 == doc + 2, "a string without escapes points into the input (zero-copy)");
    is_str_node(&j, n, "plain", 5, "plain");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "a\0b", 3, "\\u0000 is a real NUL byte");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xF0\x9F\x98\x80", 4, "surrogate pair -> 4-byte UTF-8");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "x\xEF\xBF\xBDy", 5, "lone high surrogate -> U+FFFD");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xEF\xBF\xBD", 3, "lone low surrogate -> U+FFFD");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xEF\xBF\xBD" "A", 4, "high surrogate followed by a non-surrogate escape");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xEF\xBF\xBD\xF0\x90\x80\x80", 7, "high, then a valid pair");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xE2\x80\xA8\xE2\x80\xA9", 6, "U+2028 and U+2029 kept");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xC3\xA9\xE2\x82\xAC", 5, "2- and 3-byte escapes");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "tab\tq\"s\\//", 10, "short escapes");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xF0\x9F\x98\x80", 4, "upper-case hex");
    n = tks__json_next(&j, root, n);
    is_str_node(&j, n, "\xEF\xBF\xBD", 3, "lone high surrogate at the end of a string");
    /* asking twice gives the same bytes (no second unescape into the scratch) */
    size_t used = j.scratch.len;
    is_str_node(&j, n, "\xEF\xBF\xBD", 3, "asked again");
    is_int(j.scratch.len, used, "no second unescape");
    is_int(tks__json_next(&j, root, n), 0, "no element after the last");
    ok(!TKS__JSTR_IS(&j, root, "x"), "an array is not a string");
    tks__json_free(&j, &a);
}

static void test_numbers(void) {
    tks__json j;
    tks__json_init(&j, 0, 0);
    static const struct {
        const char *s;
        int is_int;
        int64_t v;
    } ints[] = {
        {"0", 1, 0},
        {"-0", 1, 0},
        {"42", 1, 42},
        {"-42", 1, -42},
        {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775809", 0, 0},
        {"18446744073709551616", 0, 0},
        {"12.0", 1, 12},
        {"1e3", 1, 1000},
        {"1.5", 0, 0},
        {"1e400", 0, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = -1;
        parse(&j, ints[i].s);
        int r = tks__json_int64(&j, TKS__JROOT, &v);
        is_int(r, ints[i].is_int, "int64 of %s: %s", ints[i].s, ints[i].is_int ? "yes" : "no");
        if (ints[i].is_int) is_int(v, ints[i].v, "int64 value of %s", ints[i].s);
    }
    static const char *dbl[] = {"0.1", "-2.5e-3", "1.7976931348623157e308", "5e-324", "123456789012345678901234",
                                "0.30000000000000004", "3.141592653589793238462643383279", "1e22", "1e23",
                                "-0.0", "2.2250738585072014e-308", "9007199254740993"};
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        double v = 0;
        parse(&j, dbl[i]);
        ok(tks__json_double(&j, TKS__JROOT, &v) && v == strtod(dbl[i], NULL), "double %s correctly rounded (%.17g)",
           dbl[i], v);
    }
    double v;
    parse(&j, "\"1\"");
    ok(!tks__json_double(&j, TKS__JROOT, &v) && !tks__json_int64(&j, TKS__JROOT, (int64_t *)&v),
       "a string is not a number");
    int b;
    parse(&j, "true");
    ok(tks__json_bool(&j, TKS__JROOT, &b) && b == 1, "bool true");
    parse(&j, "false");
    ok(tks__json_bool(&j, TKS__JROOT, &b) && b == 0, "bool false");
    parse(&j, "null");
    ok(!tks__json_bool(&j, TKS__JROOT, &b) && tks__json_is_null(&j, TKS__JROOT), "null is not a bool, is null");
    static const struct {
        const char *s;
        int t;
    } truthy[] = {{"true", 1}, {"false", 0}, {"null", 0}, {"0", 0}, {"0.0", 0}, {"2", 1}, {"\"\"", 0},
                  {"\"x\"", 1}, {"[]", 0},   {"[0]", 1},   {"{}", 0}, {"{\"a\":0}", 1}};
    for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++) {
        parse(&j, truthy[i].s);
        is_int(tks__json_truthy(&j, TKS__JROOT), truthy[i].t, "truthy(%s)", truthy[i].s);
    }
    tks_alloc a = libc_alloc();
    tks__json_free(&j, &a);
}

static void test_lookup(void) {
    tks__json j;
    tks__json_init(&j, 0, 0);
    tks_alloc a = libc_alloc();
    const char *doc = "{\"a\":1,\"b\":{\"c\":[10,20,{\"d\":\"x\"}]},\"a\":3,\"\\u0065sc\":true,\"e\":[]}";
    is_int(parse(&j, doc), TKS_OK, "lookup doc parses");
    uint32_t root = TKS__JROOT;
    is_int(tks__json_type(&j, root), TKS__J_OBJECT, "root is an object");
    is_int(tks__json_count(&j, root), 5, "5 members (a duplicate counts)");
    int64_t v;
    ok(tks__json_int64(&j, TKS__JGET(&j, root, "a"), &v) && v == 3, "duplicate key: the last wins");
    uint32_t c = TKS__JGET(&j, TKS__JGET(&j, root, "b"), "c");
    is_int(tks__json_count(&j, c), 3, "array of 3");
    uint32_t e0 = tks__json_first(&j, c), e1 = tks__json_next(&j, c, e0), e2 = tks__json_next(&j, c, e1);
    ok(tks__json_int64(&j, e1, &v) && v == 20, "second element");
    ok(TKS__JSTR_IS(&j, TKS__JGET(&j, e2, "d"), "x"), "nested object member");
    is_int(tks__json_next(&j, c, e2), 0, "end of array");
    ok(TKS__JGET(&j, root, "esc") != 0, "a key with escapes matches its unescaped text");
    is_int(TKS__JGET(&j, root, "zz"), 0, "missing key -> 0");
    is_int(TKS__JGET(&j, TKS__JGET(&j, TKS__JGET(&j, root, "zz"), "y"), "x"), 0, "chains through missing nodes");
    is_int(tks__json_type(&j, 0), TKS__J_NONE, "node 0 is none");
    is_int(tks__json_first(&j, TKS__JGET(&j, root, "e")), 0, "empty array has no first child");
    is_int(TKS__JGET(&j, c, "a"), 0, "get on an array -> 0");
    size_t len;
    const char *raw = tks__json_raw(&j, TKS__JGET(&j, root, "b"), &len);
    is_mem(raw, len, "{\"c\":[10,20,{\"d\":\"x\"}]}", strlen("{\"c\":[10,20,{\"d\":\"x\"}]}"), "raw bytes of a value");
    raw = tks__json_raw(&j, root, &len);
    is_int(len, strlen(doc), "raw of the root is the whole text");
    parse(&j, "  [ 1 ,\"s\" ]  ");
    raw = tks__json_raw(&j, TKS__JROOT, &len);
    is_mem(raw, len, "[ 1 ,\"s\" ]", 10, "raw excludes the surrounding whitespace");
    tks__json_free(&j, &a);
}

static void test_limits(void) {
    tks__json j;
    tks_alloc a = libc_alloc();
    tks__json_init(&j, 3, 0);
    is_int(parse(&j, "[[[1]]]"), TKS_OK, "depth 3 at max_depth 3");
    is_int(parse(&j, "[[[[1]]]]"), TKS_ELIMIT, "depth 4 over max_depth 3: ELIMIT");
    is_int(j.err_pos, 3, "depth error at the opening bracket");
    is_int(parse(&j, "{\"a\":{\"b\":{\"c\":{}}}}"), TKS_ELIMIT, "objects count too");
    is_int(parse(&j, "[1,[2],[[3]],4]"), TKS_OK, "depth goes back down when containers close");
    tks__json_free(&j, &a);
    tks__json_init(&j, 0, 0);
    /* default depth 128; deep input is iterative: no recursion to overflow */
    char deep[2 * 200 + 1];
    for (int i = 0; i < 200; i++) deep[i] = '[', deep[200 + i] = ']';
    deep[400] = 0;
    is_int(tks__json_parse(&j, &a, deep, 256), TKS_ELIMIT, "default max depth 128");
    is_int(tks__json_parse(&j, &a, deep + 72, 256), TKS_OK, "128 deep is fine");
    tks__json_free(&j, &a);
    tks__json_init(&j, 0, 10);
    is_int(parse(&j, "[1,2,3,4,5,6,7,8,9]"), TKS_OK, "10 values at max_nodes 10");
    is_int(parse(&j, "[1,2,3,4,5,6,7,8,9,10]"), TKS_ELIMIT, "11 values over max_nodes 10: ELIMIT");
    tks__json_free(&j, &a);
}

/* reuse: a warm reader parses the same shapes without allocating */
static void test_reuse(void) {
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks__json j;
    tks__json_init(&j, 0, 0);
    const char *d1 = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"he said \\\"hi\\\"\"}}],\"x\":[1,2,3]}";
    const char *d2 = "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"plain\"}}],\"x\":[4,5,6]}";
    is_int(tks__json_parse(&j, &a, d1, strlen(d1)), TKS_OK, "first parse");
    const char *p;
    size_t n;
    tks__json_str(&j, TKS__JGET(&j, TKS__JGET(&j, tks__json_first(&j, TKS__JGET(&j, TKS__JROOT, "choices")), "delta"),
                                "content"),
                  &p, &n);
    is_mem(p, n, "he said \"hi\"", 12, "escaped content");
    long calls = t.calls;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        const char *d = i & 1 ? d1 : d2;
        if (tks__json_parse(&j, &a, d, strlen(d)) != TKS_OK) bad++;
        tks__json_str(&j, TKS__JGET(&j, TKS__JGET(&j, tks__json_first(&j, TKS__JGET(&j, TKS__JROOT, "choices")), "delta"),
                                    "content"),
                      &p, &n);
    }
    ok(bad == 0, "1000 parses");
    is_int(t.calls, calls, "no allocation once warm");
    tks__json_free(&j, &a);
    is_int(t.live, 0, "nothing left after free");
    is_int(t.size_errors, 0, "sizes passed correctly");
}

static int oom_body(const tks_alloc *a, void *ctx) {
    const char *doc = ctx;
    tks__json j;
    tks__json_init(&j, 0, 0);
    int res = 2;
    int rc = tks__json_parse(&j, a, doc, strlen(doc));
    if (rc == TKS_ENOMEM) {
        res = 1;
    } else if (rc == TKS_OK) {
        const char *p;
        size_t n;
        uint32_t last = 0;
        for (uint32_t k = tks__json_first(&j, TKS__JROOT); k; k = tks__json_next(&j, TKS__JROOT, k)) last = k;
        tks__json_str(&j, last, &p, &n);
        res = (n == 6 && memcmp(p, "\xF0\x9F\x98\x80" "\n!", 6) == 0 && tks__json_count(&j, TKS__JROOT) == 101) ? 0 : 2;
    }
    tks__json_free(&j, a);
    return res;
}

/* validity against cJSON on mutated texts kept inside the ground where the two grammars
 * agree: integers without 0 (cJSON reads numbers with strtod: "01", "1." pass there), no
 * \\u escapes (cJSON rejects lone surrogates, which are valid JSON), no control
 * characters (cJSON does not reject them in strings), valid UTF-8 */
static void test_differential(void) {
    static const char *seeds[] = {
        "{\"a\":[1,2,-3,true,false,null,\"x\\ny\"],\"b\":{\"c\":{}}}",
        "[{\"k\":\"v\"},[],[[\"\"]],7,-9]",
        "{\"id\":\"chatcmpl\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"Hi\"}}]}",
    };
    const char alphabet[] = "{}[],:\" tfnrual\x7f";
    uint32_t seed = 12345;
    int disagree = 0, runs = 0, valid = 0;
    tks__json j;
    tks__json_init(&j, 1000, 0);
    tks_alloc a = libc_alloc();
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t n = strlen(seeds[s]);
        char buf[256];
        for (int m = 0; m < 4000; m++) {
            memcpy(buf, seeds[s], n + 1);
            int edits = 1 + m % 3;
            size_t len = n;
            for (int e = 0; e < edits; e++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                int op = (seed >> 8) % 3;
                char ch = alphabet[(seed >> 12) % (sizeof alphabet - 1)];
                if (op == 0) buf[pos] = ch;
                else if (op == 1 && len > 1) {
                    memmove(buf + pos, buf + pos + 1, len - pos);
                    len--;
                } else if (len < sizeof buf - 2) {
                    memmove(buf + pos + 1, buf + pos, len - pos + 1);
                    buf[pos] = ch;
                    len++;
                }
            }
            buf[len] = 0;
            int mine = tks__json_parse(&j, &a, buf, len) == TKS_OK;
            const char *end = NULL;
            cJSON *c = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1); /* the NUL is part of what cJSON checks */
            int theirs = c != NULL;
            if (mine != theirs) {
                disagree++;
                if (disagree < 5) diag("disagreement on %s: mine %d cJSON %d", buf, mine, theirs);
            }
            valid += mine;
            runs++;
            cJSON_Delete(c);
        }
    }
    ok(disagree == 0 && valid > 100 && valid < runs - 100,
       "validity agrees with cJSON on %d mutated texts (%d valid, %d invalid)", runs, valid, runs - valid);
    tks__json_free(&j, &a);
}

int main(void) {
    test_valid();
    test_invalid();
    test_strings();
    test_numbers();
    test_lookup();
    test_limits();
    test_reuse();
    static char big[4096];
    strcpy(big, "[");
    for (int i = 0; i < 100; i++) strcat(big, "{\"k\":[1,\"a\\tb\"]},");
    strcat(big, "\"\\ud83d\\ude00\\n!\"]");
    oom_torture("json_reader parse", oom_body, big);
    test_differential();
    return done_testing();
}
