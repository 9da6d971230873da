/* t_vocab.c - tks_vocab: the tokenizer.json and tiktoken loaders on the project's own
 * small files (test/data/vocab), per-id bytes derived by hand from the decoder rules,
 * refusals of decoders that cannot be reproduced, malformed input, limits,
 * tks_vocab_add, and OOM torture of every load. */
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"

#include <stdint.h>

static char *data_file(const char *name, size_t *len) {
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s", name);
    char *p = read_file(path_join(test_data_dir(), rel), len);
    if (!p) diag("cannot read %s", path_join(test_data_dir(), rel));
    return p;
}

/* Loads a small file; the vocabulary (or NULL, with rc set). */
static tks_vocab *load(const char *name, int *rc_out) {
    size_t len;
    char *p = data_file(name, &len);
    tks_vocab *v = NULL;
    int rc = p ? tks_vocab_new(&v, NULL) : TKS_EIO;
    if (rc == TKS_OK) {
        if (strstr(name, ".tiktoken")) rc = tks_vocab_load_tiktoken(v, p, len, NULL, 0);
        else rc = tks_vocab_load_hf(v, p, len);
    }
    free(p);
    if (rc_out) *rc_out = rc;
    if (rc && v) {
        diag("%s: %s: %s at byte %llu", name, tks_status_name(rc), tks_vocab_error(v),
             (unsigned long long)tks_vocab_offset(v));
        tks_vocab_free(v);
        v = NULL;
    }
    return v;
}

static void tok_is(const tks_vocab *v, int32_t id, const char *want, size_t wl, uint32_t wflags,
                   const char *what) {
    const char *b = NULL;
    size_t n = 0;
    uint32_t f = 99;
    int rc = tks_vocab_token(v, id, &b, &n, &f);
    if (rc) {
        ok(0, "%s: id %d present (rc %d)", what, id, rc);
        return;
    }
    is_mem(b, n, want, wl, "%s: id %d bytes", what, id);
    is_int(f, wflags, "%s: id %d flags", what, id);
}
#define TOK(v, id, lit, fl, what) tok_is(v, id, lit, sizeof(lit) - 1, fl, what)

static void test_bytelevel(void) {
    tks_vocab *v = load("bytelevel.json", NULL);
    ok(v != NULL, "bytelevel.json loads");
    if (!v) return;
    is_int(tks_vocab_size(v), 18, "bytelevel: largest id + 1");
    TOK(v, 0, "Hello", 0, "bytelevel plain");
    TOK(v, 1, " world", 0, "bytelevel U+0120 is a space");
    TOK(v, 2, "<nl>", TKS_TOKEN_SPECIAL, "bytelevel added token shadows model id 2");
    TOK(v, 3, "  ", 0, "bytelevel two spaces");
    TOK(v, 4, "\xF0\x9F", 0, "bytelevel U+00F0 U+0141");
    TOK(v, 5, "\x91\x8B", 0, "bytelevel U+0133 U+012D");
    TOK(v, 6, "\x00", 0, "bytelevel U+0100 is NUL, kept");
    TOK(v, 7, "\xE4\xB8\xAD", 0, "bytelevel char outside the table: raw UTF-8");
    TOK(v, 8, "\xE9", 0, "bytelevel U+00E9 is byte E9");
    TOK(v, 9, " \xF0\x9F\x91", 0, "bytelevel valid prefix + unfinished tail");
    TOK(v, 10, "<|end|>", TKS_TOKEN_SPECIAL, "bytelevel special added token");
    TOK(v, 11, "<extra>", 0, "bytelevel non-special added token");
    TOK(v, 12, "Za\rnimo", 0, "bytelevel added token mangled like HF (U+010D is byte 0D)");
    TOK(v, 13, "Hi there", 0, "bytelevel added token with a space: raw");
    TOK(v, 14, "\x8B!", 0, "bytelevel continuation byte + ASCII");
    TOK(v, 15, "\xC3\xA9", 0, "bytelevel two table chars make e-acute");
    TOK(v, 16, "\xC3\xB0\xC2\x9F\xC2\x98\xC2\x80", 0, "bytelevel U+009F is not in the table: raw");
    TOK(v, 17, "<|end|>", TKS_TOKEN_SPECIAL, "bytelevel model token with a special's text is special (HF skips by text)");
    is_int(tks_vocab_token(v, 18, NULL, NULL, NULL), TKS_ENOTFOUND, "bytelevel: id past the end");
    is_int(tks_vocab_token(v, -1, NULL, NULL, NULL), TKS_ENOTFOUND, "bytelevel: negative id");
    is_int(tks_vocab_add(v, 20, "x", 1, 0), TKS_ESTATE, "tks_vocab_add on a loaded vocabulary");
    is_int(tks_vocab_load_hf(v, "{}", 2), TKS_ESTATE, "a second load");
    is_str(tks_vocab_error(v), "", "no error text after a good load");
    tks_vocab_free(v);
}

static void test_spm(void) {
    tks_vocab *v = load("spm_bytefallback.json", NULL);
    ok(v != NULL, "spm_bytefallback.json loads");
    if (!v) return;
    TOK(v, 1, "<s>", TKS_TOKEN_SPECIAL, "spm <s>");
    TOK(v, 3, " ", 0, "spm <0x20>");
    TOK(v, 4, "\xF0", 0, "spm <0xF0>");
    TOK(v, 9, " Hello", 0, "spm U+2581 becomes a space");
    TOK(v, 12, "  ", 0, "spm two U+2581");
    TOK(v, 17, "\n", 0, "spm <0x0A>");
    TOK(v, 18, "\xFF", 0, "spm <0xff> (lower-case hex)");
    tks_vocab_free(v);
}

static void test_forms(void) {
    /* The usual form (a token in the middle); the first/last forms are the detok's tests. */
    tks_vocab *v = load("metaspace_first.json", NULL);
    ok(v != NULL, "metaspace_first.json loads (Unigram list vocab)");
    if (v) {
        is_int(tks_vocab_size(v), 7, "Unigram: id = index");
        TOK(v, 1, " Hello", 0, "metaspace U+2581 -> space in the middle");
        TOK(v, 4, "  x", 0, "metaspace two U+2581");
        TOK(v, 6, "<ctl>", TKS_TOKEN_SPECIAL, "metaspace special added token");
        tks_vocab_free(v);
    }
    v = load("wordpiece.json", NULL);
    ok(v != NULL, "wordpiece.json loads");
    if (v) {
        TOK(v, 3, " hello", 0, "wordpiece: a word gets a space in the middle");
        TOK(v, 5, "ing", 0, "wordpiece: ## continuation loses its prefix");
        TOK(v, 7, ".", 0, "wordpiece: cleanup ' .' -> '.'");
        TOK(v, 10, "n't", 0, "wordpiece: cleanup ' n't' -> 'n't'");
        TOK(v, 11, "'s", 0, "wordpiece: cleanup ' 's' -> ''s'");
        TOK(v, 2, " [SEP]", TKS_TOKEN_SPECIAL, "wordpiece: added tokens go through the decoder");
        tks_vocab_free(v);
    }
    v = load("wordpiece_nocleanup.json", NULL);
    ok(v != NULL, "wordpiece_nocleanup.json loads");
    if (v) {
        TOK(v, 7, " .", 0, "wordpiece without cleanup keeps ' .'");
        tks_vocab_free(v);
    }
    v = load("wordlevel.json", NULL);
    ok(v != NULL, "wordlevel.json loads (decoder null)");
    if (v) {
        TOK(v, 2, " b", 0, "no decoder: tokens joined by spaces");
        TOK(v, 4, " \xF0\x9F\x98\x80", 0, "surrogate pair escape in a key");
        tks_vocab_free(v);
    }
    v = load("bpe_suffix.json", NULL);
    ok(v != NULL, "bpe_suffix.json loads");
    if (v) {
        TOK(v, 1, "lo ", 0, "BPEDecoder: suffix -> space when not last");
        TOK(v, 4, "a b", 0, "BPEDecoder: inner suffix");
        tks_vocab_free(v);
    }
}

static void test_tiktoken(void) {
    size_t len;
    char *p = data_file("tiny.tiktoken", &len);
    ok(p != NULL, "tiny.tiktoken read");
    if (!p) return;
    tks_vocab *v;
    tks_special_token sp[] = {{"<|endoftext|>", 25}, {"<|fim|>", 26}};
    is_int(tks_vocab_new(&v, NULL), TKS_OK, "vocab new");
    is_int(tks_vocab_load_tiktoken(v, p, len, sp, 2), TKS_OK, "tiny.tiktoken loads with 2 specials");
    is_int(tks_vocab_size(v), 27, "tiktoken: largest id + 1");
    TOK(v, 0, "Hello", 0, "tiktoken");
    TOK(v, 6, " \xF0\x9F\x91", 0, "tiktoken partial");
    TOK(v, 16, "\x00", 0, "tiktoken NUL");
    TOK(v, 25, "<|endoftext|>", TKS_TOKEN_SPECIAL, "tiktoken special by name");
    TOK(v, 19, "\xCC\x81", 0, "tiktoken combining acute");
    is_int(tks_vocab_token(v, 24, NULL, NULL, NULL), TKS_ENOTFOUND, "tiktoken: hole between ranks and specials");
    tks_vocab_free(v);
    free(p);

    const tks_special_token *b;
    size_t n;
    is_int(tks_vocab_tiktoken_specials("cl100k_base", &b, &n), TKS_OK, "cl100k_base specials");
    is_int(n, 5, "cl100k_base has 5 specials");
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].name, "<|endofprompt|>") == 0 && b[i].id == 100276) found = 1;
    ok(found, "cl100k_base <|endofprompt|> is 100276");
    is_int(tks_vocab_tiktoken_specials("o200k_base", &b, &n), TKS_OK, "o200k_base specials");
    is_int(n, 2, "o200k_base has 2 specials");
    ok(b[0].id == 199999 && strcmp(b[0].name, "<|endoftext|>") == 0, "o200k_base <|endoftext|> is 199999");
    is_int(tks_vocab_tiktoken_specials("p50k_base", &b, &n), TKS_ENOTFOUND, "unknown encoding name");

    /* malformed tiktoken */
    static const struct { const char *text; int rc; const char *what; } bad[] = {
        {"SGVsbG8 0\n", TKS_EPROTO, "base64 without padding"},
        {"SGVsbG8= x\n", TKS_EPROTO, "rank not a number"},
        {"SGVsbG8=\n", TKS_EPROTO, "no rank"},
        {"SGVsbG8= 0\nIQ== 0\n", TKS_EPROTO, "rank given twice"},
        {"SG!sbG8= 0\n", TKS_EPROTO, "bad base64 character"},
        {"SGVsbG9= 0\n", TKS_EPROTO, "non-canonical base64 padding bits"},
        {"SGVsbG8= 99999999999\n", TKS_ELIMIT, "rank too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tks_vocab_new(&v, NULL);
        int rc = tks_vocab_load_tiktoken(v, bad[i].text, strlen(bad[i].text), NULL, 0);
        is_int(rc, bad[i].rc, "tiktoken refuses: %s", bad[i].what);
        ok(tks_vocab_error(v)[0] != 0, "tiktoken: error text for %s (%s)", bad[i].what, tks_vocab_error(v));
        is_int(tks_vocab_load_tiktoken(v, "", 0, NULL, 0), bad[i].rc, "error is sticky");
        tks_vocab_free(v);
    }
    tks_vocab_new(&v, NULL);
    is_int(tks_vocab_load_tiktoken(v, "\r\nSGVsbG8= 0\r\n\nIQ== 1", 21, NULL, 0), TKS_OK,
           "tiktoken: CRLF, empty line, no final newline");
    TOK(v, 1, "!", 0, "tiktoken last line without LF");
    tks_vocab_free(v);
}

static void refuse(const char *json, int want, const char *needle, const char *what) {
    tks_vocab *v;
    tks_vocab_new(&v, NULL);
    int rc = tks_vocab_load_hf(v, json, strlen(json));
    is_int(rc, want, "refused: %s", what);
    ok(strstr(tks_vocab_error(v), needle) != NULL, "message for %s mentions \"%s\" (%s)", what, needle,
       tks_vocab_error(v));
    tks_vocab_free(v);
}

static void test_refusals(void) {
    int rc;
    tks_vocab *v = load("unsupported_regex.json", &rc);
    ok(v == NULL && rc == TKS_EUNSUPPORTED, "Replace with a Regex pattern: TKS_EUNSUPPORTED");
    v = load("unsupported_ctc.json", &rc);
    ok(v == NULL && rc == TKS_EUNSUPPORTED, "CTC decoder: TKS_EUNSUPPORTED");
    refuse("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" +\"},"
           "\"content\":\" \"}]},\"model\":{\"vocab\":{}}}",
           TKS_EUNSUPPORTED, "Regex", "Regex Replace");
    refuse("{\"decoder\":{\"type\":\"CTC\"},\"model\":{\"vocab\":{}}}", TKS_EUNSUPPORTED, "CTC", "CTC");
    refuse("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},{\"type\":\"Strip\","
           "\"content\":\" \",\"start\":0,\"stop\":1}]},\"model\":{\"vocab\":{}}}",
           TKS_EUNSUPPORTED, "stop", "Strip stop after Fuse");
    refuse("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":"
           "\"Metaspace\"}]},\"model\":{\"vocab\":{}}}",
           TKS_EUNSUPPORTED, "ByteFallback", "Metaspace between ByteFallback and Fuse");
    refuse("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},{\"type\":\"Replace\","
           "\"pattern\":{\"String\":\"ab\"},\"content\":\"c\"}]},\"model\":{\"vocab\":{}}}",
           TKS_EUNSUPPORTED, "span", "multi-character Replace after Fuse");
    refuse("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"WordPiece\"},{\"type\":"
           "\"BPEDecoder\"}]},\"model\":{\"vocab\":{}}}",
           TKS_EUNSUPPORTED, "first-token and last-token", "WordPiece and BPEDecoder together");
    refuse("{\"model\":{\"type\":\"Mystery\",\"vocab\":{}}}", TKS_EUNSUPPORTED, "Mystery", "unknown model type");
    refuse("{\"decoder\":null}", TKS_EPROTO, "model", "no model");
    refuse("{\"model\":{\"vocab\":{\"a\":-1}}}", TKS_EPROTO, "-1", "negative id");
    refuse("{\"model\":{\"vocab\":{\"a\":1.5}}}", TKS_EJSON, "integer", "fractional id");
    refuse("{\"model\":{\"vocab\":{\"\\ud800\":1}}}", TKS_EJSON, "surrogate", "lone surrogate");
    refuse("{\"model\":{\"vocab\":{\"a\\q\":1}}}", TKS_EJSON, "escape", "bad escape");
    refuse("{\"model\":{\"vocab\":{\"a\":1}}", TKS_EJSON, "end of input", "truncated document");
    refuse("{\"model\":{\"vocab\":{\"a\":1}}} x", TKS_EJSON, "after", "trailing text");
    refuse("{\"model\":{\"vocab\":{\"\xC3\":1}}}", TKS_EJSON, "UTF-8", "invalid UTF-8 in a token");
    refuse("{\"model\":{\"vocab\":{\"a\":1}},\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
           TKS_ELIMIT, "deeply", "nesting deeper than 512");

    /* error position */
    tks_vocab_new(&v, NULL);
    const char *j = "{\"model\":{\"vocab\":{\"a\":1,\"b\" 2}}}";
    rc = tks_vocab_load_hf(v, j, strlen(j));
    is_int(rc, TKS_EJSON, "missing colon");
    is_int(tks_vocab_offset(v), 29, "error offset points at the missing colon");
    tks_vocab_free(v);
}

static void test_add_and_limits(void) {
    tks_vocab *v;
    tks_vocab_config cfg = {0};
    cfg.max_tokens = 100;
    cfg.max_bytes = 16;
    is_int(tks_vocab_new(&v, &cfg), TKS_OK, "vocab new with limits");
    is_int(tks_vocab_add(v, 5, "hello", 5, 0), TKS_OK, "add id 5");
    is_int(tks_vocab_add(v, 7, "<eos>", 5, TKS_TOKEN_SPECIAL), TKS_OK, "add special id 7");
    is_int(tks_vocab_add(v, 5, "HELLO", 5, 0), TKS_OK, "replace id 5");
    TOK(v, 5, "HELLO", 0, "replaced token");
    TOK(v, 7, "<eos>", TKS_TOKEN_SPECIAL, "special token");
    is_int(tks_vocab_add(v, -3, "x", 1, 0), TKS_EINVAL, "negative id");
    is_int(tks_vocab_add(v, 1, NULL, 1, 0), TKS_EINVAL, "NULL bytes with a length");
    is_int(tks_vocab_add(v, 1, "x", 1, 0x80), TKS_EINVAL, "unknown flag");
    is_int(tks_vocab_add(v, 0, "", 0, 0), TKS_OK, "empty token");
    TOK(v, 0, "", 0, "empty token present");
    is_int(tks_vocab_size(v), 8, "size after adds");
    is_int(tks_vocab_add(v, 100, "x", 1, 0), TKS_ELIMIT, "id beyond max_tokens");
    tks_vocab_free(v);
    tks_vocab_new(&v, &cfg);
    is_int(tks_vocab_add(v, 1, "0123456789abcdefXYZ", 19, 0), TKS_ELIMIT, "bytes beyond max_bytes");
    tks_vocab_free(v);

    /* limits apply to loaders too */
    size_t len;
    char *p = data_file("bytelevel.json", &len);
    cfg.max_tokens = 10;
    cfg.max_bytes = 0;
    tks_vocab_new(&v, &cfg);
    is_int(tks_vocab_load_hf(v, p, len), TKS_ELIMIT, "tokenizer.json id beyond max_tokens");
    ok(strstr(tks_vocab_error(v), "max_tokens") != NULL, "message names max_tokens");
    tks_vocab_free(v);
    free(p);
    is_int(tks_vocab_new(NULL, NULL), TKS_EINVAL, "new without out");
    tks_alloc bad = {0};
    is_int(tks_vocab_new(&v, &(tks_vocab_config){.alloc = &bad}), TKS_EINVAL, "allocator lacking functions");
    tks_vocab_free(NULL);
    is_str(tks_vocab_error(NULL), "", "error of NULL");
}

/* ---- OOM torture: each small file loads fully or fails cleanly ------------------------ */

typedef struct oom_ctx {
    const char *name;
    char *data;
    size_t len;
} oom_ctx;

static int oom_body(const tks_alloc *a, void *vctx) {
    oom_ctx *c = vctx;
    tks_vocab *v;
    tks_vocab_config cfg = {0};
    cfg.alloc = a;
    int rc = tks_vocab_new(&v, &cfg);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    tks_special_token sp[] = {{"<|endoftext|>", 20}};
    if (strstr(c->name, ".tiktoken")) rc = tks_vocab_load_tiktoken(v, c->data, c->len, sp, 1);
    else rc = tks_vocab_load_hf(v, c->data, c->len);
    int result = 2;
    if (rc == TKS_ENOMEM) result = tks_vocab_error(v)[0] ? 1 : 2;
    else if (rc == TKS_OK) {
        const char *b;
        size_t n;
        result = tks_vocab_token(v, 0, &b, &n, NULL) == TKS_OK || tks_vocab_size(v) > 0 ? 0 : 2;
    }
    tks_vocab_free(v);
    return result;
}

static void test_oom(void) {
    static const char *files[] = {"bytelevel.json", "spm_bytefallback.json", "metaspace_first.json",
                                  "wordpiece.json", "bpe_suffix.json", "tiny.tiktoken"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        oom_ctx c = {files[i], NULL, 0};
        c.data = data_file(files[i], &c.len);
        if (!c.data) continue;
        char name[96];
        snprintf(name, sizeof name, "load %s", files[i]);
        oom_torture(name, oom_body, &c);
        free(c.data);
    }
}

int main(void) {
    test_bytelevel();
    test_spm();
    test_forms();
    test_tiktoken();
    test_refusals();
    test_add_and_limits();
    test_oom();
    return done_testing();
}
