/* t_core.c - status table, version, clock, allocator plumbing, buffers, UTF-8 and JSON
 * helpers shared by every object. */
#include "internal.h"
#include "tap.h"
#include "testalloc.h"

static void test_status(void) {
    static const struct { int code; const char *name; int num; } table[] = {
#define ROW_(name, num, msg) {TKS_##name, #name, num},
        TKS_STATUS_MAP(ROW_)
#undef ROW_
    };
    size_t n = sizeof table / sizeof table[0];
    int dup = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) dup |= table[i].num == table[j].num;
    ok(!dup, "status numbers are unique");
    /* The numbers are an ABI: pin them. */
    is_int(TKS_OK, 0, "TKS_OK is 0");
    is_int(TKS_STOPPED, 1, "TKS_STOPPED is 1");
    is_int(TKS_ENOMEM, -1, "TKS_ENOMEM is -1");
    is_int(TKS_EINVAL, -2, "TKS_EINVAL is -2");
    is_int(TKS_ELIMIT, -3, "TKS_ELIMIT is -3");
    is_int(TKS_EPROTO, -4, "TKS_EPROTO is -4");
    is_int(TKS_EUTF8, -5, "TKS_EUTF8 is -5");
    is_int(TKS_ESTATE, -6, "TKS_ESTATE is -6");
    is_int(TKS_ETRUNC, -7, "TKS_ETRUNC is -7");
    is_int(TKS_EIO, -8, "TKS_EIO is -8");
    is_int(TKS_EUNSUPPORTED, -9, "TKS_EUNSUPPORTED is -9");
    is_int(TKS_ENOTFOUND, -10, "TKS_ENOTFOUND is -10");
    is_int(TKS_EEMPTY, -11, "TKS_EEMPTY is -11");
    is_int(TKS_ETOOOLD, -12, "TKS_ETOOOLD is -12");
    is_int(TKS_EJSON, -13, "TKS_EJSON is -13");
    is_int(TKS_ECRC, -14, "TKS_ECRC is -14");
    int named = 1;
    for (size_t i = 0; i < n; i++) {
        named &= strcmp(tks_status_name(table[i].code), table[i].name) == 0;
        named &= strcmp(tks_strerror(table[i].code), "unknown status") != 0;
    }
    ok(named, "every status has its name and a message");
    is_str(tks_strerror(-9999), "unknown status", "unknown code: fixed message");
    is_str(tks_status_name(12345), "UNKNOWN", "unknown code: fixed name");
    is_str(tks_strerror(TKS_ENOMEM), "out of memory", "ENOMEM message");
}

static void test_version_clock(void) {
    is_str(tks_version(), TKS_VERSION_STRING, "tks_version matches the header");
    is_int(tks_version_hex(), TKS_VERSION_HEX, "tks_version_hex matches the header");
    int64_t a = tks_now_ns(), b = tks_now_ns();
    ok(a > 0 && b >= a, "tks_now_ns is monotonic");
}

static void test_alloc(void) {
    tks_alloc a;
    tks_alloc partial = {0};
    is_int(tks__alloc_init(&a, NULL), TKS_OK, "NULL allocator means libc");
    void *p = tks__malloc(&a, 10);
    ok(p != NULL, "libc malloc works");
    p = tks__realloc(&a, p, 10, 100);
    ok(p != NULL, "libc realloc works");
    tks__free(&a, p, 100);
    tks__free(&a, NULL, 0);
    is_int(tks__alloc_init(&a, &partial), TKS_EINVAL, "an allocator without functions is EINVAL");
}

static void test_buf(void) {
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks__buf b = {0};
    b.limit = 10;
    is_int(tks__buf_append(&b, &a, "hello", 5), TKS_OK, "append within the limit");
    is_int(tks__buf_puts(&b, &a, "world"), TKS_OK, "append up to the limit");
    is_int(tks__buf_putc(&b, &a, '!'), TKS_ELIMIT, "one byte past the limit is ELIMIT");
    is_mem(b.p, b.len, "helloworld", 10, "contents kept after ELIMIT");
    tks__buf_free(&b, &a);
    is_int(t.live, 0, "buffer freed");
    ok(t.size_errors == 0, "sizes passed to realloc/free are right");
    t.fail_at = t.calls + 1;
    is_int(tks__buf_append(&b, &a, "x", 1), TKS_ENOMEM, "failed allocation is ENOMEM");
    is_int(t.live, 0, "nothing leaked after ENOMEM");
}

static void test_err(void) {
    tks__err e = {0};
    is_str(tks__err_text(&e), "", "no error: empty text");
    is_int(tks__err_at(&e, TKS_EPROTO, 42, "bad thing"), TKS_EPROTO, "err_at returns the code");
    is_str(tks__err_text(&e), "bad thing at byte 42", "message with position");
    tks__err_set(&e, TKS_ENOMEM, 7, NULL);
    is_int(e.code, TKS_EPROTO, "the first error sticks");
    is_int(e.offset, 42, "its offset too");
    tks__err_clear(&e);
    is_int(e.code, TKS_OK, "cleared");
}

static void test_utf8(void) {
    static const struct { const char *s; int want; const char *what; } cases[] = {
        {"A", 1, "ASCII"},
        {"\xC3\xA9", 2, "two bytes"},
        {"\xE2\x82\xAC", 3, "three bytes"},
        {"\xF0\x9F\x98\x80", 4, "four bytes"},
        {"\xC3", 0, "cut two-byte"},
        {"\xF0\x9F\x98", 0, "cut four-byte"},
        {"\x80", -1, "lone continuation"},
        {"\xC0\xAF", -1, "overlong C0"},
        {"\xE0\x80\x80", -1, "overlong E0 80"},
        {"\xED\xA0\x80", -1, "surrogate"},
        {"\xF4\x90\x80\x80", -1, "above U+10FFFF"},
        {"\xF5\x80", -1, "F5 lead"},
        {"\xE2\x82" "A", -2, "three-byte cut by ASCII: maximal subpart of 2"},
        {"\xF0\x9F\x98" "A", -3, "four-byte cut by ASCII: maximal subpart of 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        is_int(tks__utf8_char((const unsigned char *)cases[i].s, strlen(cases[i].s)),
               cases[i].want, "utf8_char: %s", cases[i].what);
    const char *mixed = "abcdefghij\xC3\xA9xyz\xE2\x82";
    is_int(tks__utf8_valid_prefix((const unsigned char *)mixed, strlen(mixed)), 15,
           "valid prefix stops before a cut character");
}

static void test_json(void) {
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks__buf b = {0};
    const char in[] = "a\"b\\c\n\x01\xC3\xA9\xFF\0z";
    tks__json_string(&b, &a, in, sizeof in - 1);
    const char want[] = "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD\\u0000z\"";
    is_mem(b.p, b.len, want, sizeof want - 1, "JSON string escapes and replaces invalid UTF-8");
    b.len = 0;
    tks__json_int(&b, &a, -1234567890123LL);
    is_mem(b.p, b.len, "-1234567890123", 14, "JSON integer");
    tks__buf_free(&b, &a);
    is_int(t.live, 0, "no leak");
}

int main(void) {
    test_status();
    test_version_clock();
    test_alloc();
    test_buf();
    test_err();
    test_utf8();
    test_json();
    return done_testing();
}
