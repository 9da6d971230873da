/* t_detok.c - tks_detok on the project's own small vocabularies (test/data/vocab): the
 * decoders' context rules with expected text derived by hand from the decoder rules, at
 * every split of the ids and one id per push; the ten edge cases of
 * ../shared/research/detok.md section 7; unknown ids; priming; callback stop; reset;
 * linear work over 100k tokens (counted, not timed); OOM torture. */
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "vocab_internal.h"

#include <pthread.h>
#include <stdint.h>

/* ---- output capture ----------------------------------------------------------------- */

typedef struct out {
    char buf[1 << 16];
    size_t len;
    int deltas, bad_utf8;
    size_t ends[256]; /* where each of the first 256 deltas ended */
    int stop_after;   /* return non-zero from this delta on (0 = never) */
} out;

/* Strict UTF-8 (Unicode Table 3-7), written here independently of the library. */
static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 2;
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return 0;
        if (i + k > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j < k; j++) if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static int on_text(void *user, const char *t, size_t n) {
    out *o = user;
    if (n == 0 || !utf8_ok((const unsigned char *)t, n)) o->bad_utf8++;
    if (o->len + n <= sizeof o->buf) memcpy(o->buf + o->len, t, n);
    o->len += n;
    if (o->deltas < 256) o->ends[o->deltas] = o->len;
    o->deltas++;
    return o->stop_after && o->deltas >= o->stop_after;
}

static void out_clear(out *o) {
    o->len = 0;
    o->deltas = o->bad_utf8 = 0;
    o->stop_after = 0;
}

static tks_vocab *vocab(const char *name) {
    char rel[256];
    size_t len;
    snprintf(rel, sizeof rel, "vocab/%s", name);
    char *p = read_file(path_join(test_data_dir(), rel), &len);
    tks_vocab *v = NULL;
    if (!p || tks_vocab_new(&v, NULL)) {
        free(p);
        return NULL;
    }
    int rc;
    if (strstr(name, ".tiktoken")) {
        tks_special_token sp[] = {{"<|endoftext|>", 25}};
        rc = tks_vocab_load_tiktoken(v, p, len, sp, 1);
    } else {
        rc = tks_vocab_load_hf(v, p, len);
    }
    free(p);
    if (rc) {
        diag("%s: %s", name, tks_vocab_error(v));
        tks_vocab_free(v);
        return NULL;
    }
    return v;
}

/* Decodes ids pushed in pieces ending at cuts[]; returns the first status not TKS_OK. */
static int decode(const tks_vocab *v, uint32_t flags, const int32_t *ids, size_t n,
                  const size_t *cuts, size_t ncuts, out *o) {
    tks_detok *d;
    tks_detok_config cfg = {0};
    cfg.flags = flags;
    out_clear(o);
    int rc = tks_detok_new(&d, v, &cfg, on_text, o);
    if (rc) return rc;
    size_t at = 0;
    for (size_t i = 0; i < ncuts && rc == TKS_OK && at < n; i++) {
        rc = tks_detok_push(d, ids + at, cuts[i] - at);
        at = cuts[i];
    }
    if (rc == TKS_OK) rc = tks_detok_finish(d);
    tks_detok_free(d);
    return rc;
}

static out O; /* big: keep it off the stack */

/* The expected text whatever the chunking: one push, one id per push, every split in two. */
static void check(const tks_vocab *v, uint32_t flags, const int32_t *ids, size_t n, const char *want,
                  size_t wl, const char *what) {
    size_t cuts[64];
    char why[96] = "";
    int good = 1, rc;
    cuts[0] = n;
    rc = decode(v, flags, ids, n, cuts, 1, &O);
    if (rc || O.len != wl || memcmp(O.buf, want, wl) || O.bad_utf8) {
        good = 0;
        snprintf(why, sizeof why, "one push, rc %d", rc);
    }
    for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
    if (good) {
        rc = decode(v, flags, ids, n, cuts, n, &O);
        if (rc || O.len != wl || memcmp(O.buf, want, wl) || O.bad_utf8) {
            good = 0;
            snprintf(why, sizeof why, "one id per push, rc %d", rc);
        }
    }
    for (size_t k = 1; good && k < n; k++) {
        cuts[0] = k;
        cuts[1] = n;
        rc = decode(v, flags, ids, n, cuts, 2, &O);
        if (rc || O.len != wl || memcmp(O.buf, want, wl) || O.bad_utf8) {
            good = 0;
            snprintf(why, sizeof why, "split at %zu, rc %d", k, rc);
        }
    }
    ok(good, "%s", what);
    if (!good) {
        diag("%s; %d deltas, %d invalid", why, O.deltas, O.bad_utf8);
        diag_bytes("got", O.buf, O.len < sizeof O.buf ? O.len : sizeof O.buf);
        diag_bytes("want", want, wl);
    }
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__}), (sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))
#define CHECK(v, flags, ids, lit, what) check(v, flags, ids, lit, sizeof(lit) - 1, what)
#define SKIP TKS_DETOK_SKIP_SPECIAL

/* ---- decoder families ----------------------------------------------------------------- */

static void test_bytelevel(void) {
    tks_vocab *v = vocab("bytelevel.json");
    ok(v != NULL, "bytelevel.json");
    if (!v) return;
    CHECK(v, 0, IDS(0, 1), "Hello world", "ByteLevel: U+0120 is a space");
    CHECK(v, 0, IDS(0, 9, 14), "Hello \xF0\x9F\x91\x8B!", "ByteLevel: emoji split over tokens");
    CHECK(v, 0, IDS(4, 5), "\xF0\x9F\x91\x8B", "ByteLevel: 2 + 2 bytes");
    CHECK(v, 0, IDS(0, 10, 1), "Hello<|end|> world", "ByteLevel: special kept");
    CHECK(v, SKIP, IDS(0, 10, 1), "Hello world", "ByteLevel: special skipped");
    CHECK(v, SKIP, IDS(11, 0), "<extra>Hello", "ByteLevel: non-special added token kept when skipping");
    CHECK(v, SKIP, IDS(0, 17, 1), "Hello world", "ByteLevel: a model token with a special's text is skipped too");
    CHECK(v, 0, IDS(0, 17, 1), "Hello<|end|> world", "ByteLevel: ... and rendered when kept");
    CHECK(v, 0, IDS(0, 6, 0), "Hello\0Hello", "ByteLevel: U+0100 is a NUL byte, kept");
    CHECK(v, 0, IDS(8, 0), "\xEF\xBF\xBDHello", "ByteLevel: lead byte then ASCII: U+FFFD");
    CHECK(v, 0, IDS(0, 4), "Hello\xEF\xBF\xBD", "ByteLevel: unfinished at the end: U+FFFD");
    CHECK(v, 0, IDS(12), "Za\rnimo", "ByteLevel: added token mangled as HF does");
    CHECK(v, 0, IDS(3, 7), "  \xE4\xB8\xAD", "ByteLevel: two spaces kept, raw UTF-8 token");
    CHECK(v, 0, IDS(16), "\xC3\xB0\xC2\x9F\xC2\x98\xC2\x80", "ByteLevel: unmapped char: raw text");
    CHECK(v, 0, IDS(15, 2), "\xC3\xA9<nl>", "ByteLevel: added token shadows model id");
    tks_vocab_free(v);
}

static void test_spm(void) {
    tks_vocab *v = vocab("spm_bytefallback.json");
    ok(v != NULL, "spm_bytefallback.json");
    if (!v) return;
    CHECK(v, 0, IDS(9, 10), "Hello world", "SPM: first space stripped");
    CHECK(v, 0, IDS(1, 9), "<s> Hello", "SPM: rendered <s> keeps the space");
    CHECK(v, SKIP, IDS(1, 9), "Hello", "SPM: skipped <s>: the first kept token is stripped");
    CHECK(v, 0, IDS(9, 2, 10), "Hello</s> world", "SPM: </s> in the middle");
    CHECK(v, SKIP, IDS(9, 2, 10), "Hello world", "SPM: </s> skipped in the middle");
    CHECK(v, 0, IDS(11, 12, 13), "  x", "SPM: first token just U+2581");
    CHECK(v, 0, IDS(12, 13), " x", "SPM: strip removes one space only");
    CHECK(v, 0, IDS(3, 9), " Hello", "SPM: byte-token space counts for the strip");
    CHECK(v, 0, IDS(9, 4, 5, 6, 7), "Hello\xF0\x9F\x91\x8B", "SPM: emoji over four byte tokens");
    CHECK(v, 0, IDS(4, 5, 8), "\xEF\xBF\xBD" "A", "SPM: F0 9F then A: one U+FFFD (maximal subpart)");
    CHECK(v, 0, IDS(14, 15, 16), "\xE4\xB8\xAD", "SPM: CJK over three byte tokens");
    CHECK(v, 0, IDS(9, 4, 5, 6), "Hello\xEF\xBF\xBD", "SPM: unfinished emoji at the end");
    CHECK(v, 0, IDS(18, 9), "\xEF\xBF\xBD Hello", "SPM: <0xFF> then a word: no strip after text");
    CHECK(v, SKIP, IDS(1, 11, 9), " Hello", "SPM: skipped <s>, U+2581 stripped, next kept");
    CHECK(v, SKIP, IDS(2), "", "SPM: only a skipped special: no text");
    CHECK(v, 0, IDS(9, 17, 10), "Hello\n world", "SPM: newline byte token");
    tks_vocab_free(v);

    v = vocab("gemma_style.json");
    ok(v != NULL, "gemma_style.json");
    if (!v) return;
    CHECK(v, 0, IDS(1), " Hello", "Gemma style (no Strip): leading space kept");
    CHECK(v, 0, IDS(0, 1), "<bos> Hello", "Gemma style: <bos> rendered");
    CHECK(v, 0, IDS(5, 3, 4), "caf\xC3\xA9", "Gemma style: byte fallback e-acute");
    tks_vocab_free(v);
}

static void test_metaspace(void) {
    static const char *const first_rule[] = {"metaspace_first.json", "metaspace_always.json"};
    for (int i = 0; i < 2; i++) {
        tks_vocab *v = vocab(first_rule[i]);
        ok(v != NULL, "%s", first_rule[i]);
        if (!v) continue;
        char w[96];
        snprintf(w, sizeof w, "%s: first token loses U+2581", first_rule[i]);
        CHECK(v, 0, IDS(1, 2), "Hello world", w);
        snprintf(w, sizeof w, "%s: first token just U+2581", first_rule[i]);
        CHECK(v, 0, IDS(3, 1), " Hello", w);
        snprintf(w, sizeof w, "%s: every U+2581 of the first token removed", first_rule[i]);
        CHECK(v, 0, IDS(4), "x", w);
        snprintf(w, sizeof w, "%s: later tokens keep both spaces", first_rule[i]);
        CHECK(v, 0, IDS(2, 4), "world  x", w);
        snprintf(w, sizeof w, "%s: rendered special is token 0", first_rule[i]);
        CHECK(v, 0, IDS(6, 1), "<ctl> Hello", w);
        snprintf(w, sizeof w, "%s: skipped special: first kept token is token 0", first_rule[i]);
        CHECK(v, SKIP, IDS(6, 1), "Hello", w);
        tks_vocab_free(v);
    }
    tks_vocab *v = vocab("metaspace_never.json");
    ok(v != NULL, "metaspace_never.json");
    if (v) {
        CHECK(v, 0, IDS(1, 2), " Hello world", "Metaspace never: first space kept");
        CHECK(v, 0, IDS(4), "  x", "Metaspace never: both spaces");
        tks_vocab_free(v);
    }
    v = vocab("metaspace_legacy_noprefix.json");
    ok(v != NULL, "metaspace_legacy_noprefix.json");
    if (v) {
        CHECK(v, 0, IDS(1, 2), " Hello world", "Metaspace add_prefix_space false = never");
        tks_vocab_free(v);
    }
    v = vocab("metaspace_legacy_prefix.json");
    ok(v != NULL, "metaspace_legacy_prefix.json");
    if (v) {
        CHECK(v, 0, IDS(1, 2), "Hello world", "Metaspace add_prefix_space true = always");
        tks_vocab_free(v);
    }
}

static void test_wordpiece_wordlevel_bpe(void) {
    tks_vocab *v = vocab("wordpiece.json");
    ok(v != NULL, "wordpiece.json");
    if (v) {
        CHECK(v, 0, IDS(3, 4), "hello world", "WordPiece: space between words");
        CHECK(v, 0, IDS(6, 5), "playing", "WordPiece: ## joins");
        CHECK(v, 0, IDS(3, 7), "hello.", "WordPiece cleanup: ' .'");
        CHECK(v, 0, IDS(8, 9), "do not", "WordPiece cleanup is per token: 'do' + ' not' stays");
        CHECK(v, 0, IDS(8, 10), "don't", "WordPiece cleanup: ' n't'");
        CHECK(v, 0, IDS(12, 11, 13), "it's?", "WordPiece cleanup: ' 's', ' ?'");
        CHECK(v, 0, IDS(1, 3, 2), "[CLS] hello [SEP]", "WordPiece: specials rendered with spaces");
        CHECK(v, SKIP, IDS(1, 3, 2), "hello", "WordPiece: specials skipped");
        CHECK(v, 0, IDS(5, 3), "##ing hello", "WordPiece: first token keeps ##");
        CHECK(v, SKIP, IDS(1, 5), "##ing", "WordPiece: first kept token keeps ##");
        tks_vocab_free(v);
    }
    v = vocab("wordpiece_nocleanup.json");
    ok(v != NULL, "wordpiece_nocleanup.json");
    if (v) {
        CHECK(v, 0, IDS(3, 7), "hello .", "WordPiece without cleanup");
        CHECK(v, 0, IDS(8, 10), "do n't", "WordPiece without cleanup: n't");
        tks_vocab_free(v);
    }
    v = vocab("wordlevel.json");
    ok(v != NULL, "wordlevel.json");
    if (v) {
        CHECK(v, 0, IDS(1, 2, 3), "a b c", "no decoder: joined with spaces");
        CHECK(v, 0, IDS(1), "a", "no decoder: one token");
        CHECK(v, 0, IDS(4, 5), "\xF0\x9F\x98\x80 \xC3\xA9t\xC3\xA9", "JSON escapes: surrogate pair and \\u00e9 in vocab keys");
        tks_vocab_free(v);
    }
    v = vocab("strip_pertoken.json");
    ok(v != NULL, "strip_pertoken.json");
    if (v) {
        /* no Fuse: Replace and Strip work on each token alone */
        CHECK(v, 0, IDS(0, 1, 2), "Xab", "per-token Replace/Strip: 'ab' across two tokens is not replaced");
        CHECK(v, 0, IDS(3, 3), "_c__c_", "per-token Strip: one '_' off each end of every token");
        CHECK(v, 0, IDS(4, 1, 4), "a", "per-token Strip: a token that is only the character vanishes");
        tks_vocab_free(v);
    }
    v = vocab("after_fuse.json");
    ok(v != NULL, "after_fuse.json");
    if (v) {
        /* after Fuse the whole text is token 0 (Metaspace drops every U+2581) and the last
         * token (BPEDecoder drops every suffix) */
        CHECK(v, 0, IDS(0, 1), "ab", "Metaspace after Fuse: every U+2581 removed");
        CHECK(v, 0, IDS(2, 0, 2, 3), "cacd", "BPEDecoder after Fuse: every suffix removed");
        tks_vocab_free(v);
    }
    v = vocab("bpe_suffix.json");
    ok(v != NULL, "bpe_suffix.json");
    if (v) {
        CHECK(v, 0, IDS(0, 1, 2, 3), "hello world", "BPEDecoder: last suffix is dropped");
        CHECK(v, 0, IDS(0, 1), "hello", "BPEDecoder: no trailing space");
        CHECK(v, 0, IDS(4, 0), "a bhel", "BPEDecoder: inner suffix becomes a space");
        CHECK(v, 0, IDS(0, 4), "helab", "BPEDecoder: inner suffix of the last token dropped");
        CHECK(v, 0, IDS(1, 1), "lo lo", "BPEDecoder: repeated");
        CHECK(v, 0, IDS(5), "x", "BPEDecoder: no suffix");
        /* emitted as soon as possible: "lo" goes out at once, only the space waits */
        tks_detok *d;
        out_clear(&O);
        tks_detok_new(&d, v, NULL, on_text, &O);
        tks_detok_push(d, IDS(0, 1));
        is_mem(O.buf, O.len, "hello", 5, "BPEDecoder: the word is out before the next token");
        tks_detok_push(d, IDS(4));
        is_mem(O.buf, O.len, "hello ", 6, "BPEDecoder: inner-suffix token waits whole");
        tks_detok_finish(d);
        is_mem(O.buf, O.len, "hello ab", 8, "BPEDecoder: finish gives its last form");
        tks_detok_free(d);
        tks_vocab_free(v);
    }
}

/* ---- detok.md section 7 ------------------------------------------------------------- */

static void test_utf8_shapes(tks_vocab *t) {
    /* 1. multi-byte characters split across tokens, every shape */
    CHECK(t, 0, IDS(2), "\xEF\xBF\xBD", "7.1 lead bytes alone at the end: one U+FFFD");
    CHECK(t, 0, IDS(2, 3), "\xF0\x9F\x91\x8B", "7.1 2 + 2 bytes");
    CHECK(t, 0, IDS(6, 7), " \xF0\x9F\x91\x8B", "7.1 valid prefix + unfinished tail");
    CHECK(t, 0, IDS(6, 17, 3), " \xF0\x9F\x91\x8B\xF0\x9F\x91\x8B", "7.1 a token ends one character and starts another");
    tks_detok *d;
    out_clear(&O);
    tks_detok_new(&d, t, NULL, on_text, &O);
    tks_detok_push(d, IDS(6));
    is_mem(O.buf, O.len, " ", 1, "7.1 the space of \" F0 9F 91\" is emitted at once");
    tks_detok_push(d, IDS(7));
    is_mem(O.buf, O.len, " \xF0\x9F\x91\x8B", 5, "7.1 the emoji follows when complete");
    tks_detok_free(d);

    /* 2. invalid or never-completing bytes: U+FFFD at once, no stall */
    CHECK(t, 0, IDS(12), "\xEF\xBF\xBD", "7.2 lone continuation byte");
    CHECK(t, 0, IDS(10, 11), "\xEF\xBF\xBD\xEF\xBF\xBD", "7.2 C0 and FF tokens");
    CHECK(t, 0, IDS(8, 13), "\xEF\xBF\xBD" "A", "7.2 lead + continuation, then ASCII");
    CHECK(t, 0, IDS(0, 8), "Hello\xEF\xBF\xBD", "7.2 truncated at the end");
    CHECK(t, 0, IDS(11, 0, 12, 0), "\xEF\xBF\xBDHello\xEF\xBF\xBDHello", "7.2 U+FFFD in the middle");
    out_clear(&O);
    tks_detok_new(&d, t, NULL, on_text, &O);
    tks_detok_push(d, IDS(8, 13));
    is_mem(O.buf, O.len, "\xEF\xBF\xBD" "A", 4, "7.2 a sequence that cannot complete is replaced without waiting");
    tks_detok_push(d, IDS(11, 0));
    is_mem(O.buf, O.len, "\xEF\xBF\xBD" "A\xEF\xBF\xBDHello", 12, "7.2 text after U+FFFD is not held");
    tks_detok_free(d);
    CHECK(t, 0, IDS(0, 16, 15), "Hello\0\n", "NUL bytes in the output");
}

static void test_unknown(tks_vocab *t) {
    /* 4. out-of-range ids never crash: an error naming the id, or skipped */
    tks_detok *d;
    out_clear(&O);
    tks_detok_new(&d, t, NULL, on_text, &O);
    int rc = tks_detok_push(d, IDS(0, 999, 1));
    is_int(rc, TKS_ENOTFOUND, "unknown id: TKS_ENOTFOUND");
    ok(strstr(tks_detok_error(d), "999") != NULL, "message names the id (%s)", tks_detok_error(d));
    is_int(tks_detok_offset(d), 1, "offset is the id's index");
    is_mem(O.buf, O.len, "Hello", 5, "ids before it were decoded");
    is_int(tks_detok_push(d, IDS(0)), TKS_ENOTFOUND, "the error is sticky");
    is_int(tks_detok_finish(d), TKS_ENOTFOUND, "finish too");
    tks_detok_reset(d);
    out_clear(&O);
    is_int(tks_detok_push(d, IDS(0, 1)), TKS_OK, "reset clears the error");
    is_str(tks_detok_error(d), "", "no error text after reset");
    is_int(tks_detok_push(d, IDS(-7)), TKS_ENOTFOUND, "negative id");
    is_int(tks_detok_offset(d), 2, "offset counts every id since reset");
    is_int(tks_detok_push(d, IDS(24)), TKS_ENOTFOUND, "still stuck");
    tks_detok_free(d);
    tks_detok_new(&d, t, NULL, on_text, &O);
    is_int(tks_detok_push(d, IDS(24)), TKS_ENOTFOUND, "a hole in the ids (24) is unknown");
    tks_detok_free(d);
    CHECK(t, TKS_DETOK_SKIP_UNKNOWN, IDS(0, 999, -1, 24, 1), "Hello world", "TKS_DETOK_SKIP_UNKNOWN drops them");
    CHECK(t, 0, IDS(0, 25), "Hello<|endoftext|>", "tiktoken special kept");
    CHECK(t, SKIP, IDS(0, 25, 1), "Hello world", "tiktoken special skipped");
}

static void test_prime(void) {
    /* 7. prefill: nothing of the prompt leaks, context rules continue from it */
    tks_vocab *t = vocab("tiny.tiktoken");
    tks_vocab *s = vocab("spm_bytefallback.json");
    tks_vocab *m = vocab("metaspace_first.json");
    tks_vocab *b = vocab("bpe_suffix.json");
    tks_vocab *w = vocab("wordpiece.json");
    ok(t && s && m && b && w, "vocabularies for priming");
    if (!(t && s && m && b && w)) goto out;
    static const struct {
        int which;
        int32_t prime[4];
        size_t np;
        int32_t gen[4];
        size_t ng;
        const char *want;
        size_t wl;
        const char *what;
    } cases[] = {
        {0, {0, 2}, 2, {3, 4}, 2, "\xF0\x9F\x91\x8B!", 5, "prompt ends mid-emoji: the completed character, no prompt text"},
        {0, {0, 2}, 2, {13}, 1, "A", 1, "prompt ends mid-character, generated ASCII: prompt bytes dropped"},
        {0, {6}, 1, {7}, 1, "\xF0\x9F\x91\x8B", 4, "prompt ' F0 9F 91': only the emoji"},
        {0, {0, 2}, 2, {0}, 0, "", 0, "zero generated tokens: nothing"},
        {0, {0, 8}, 2, {9, 0}, 2, "\xE4\xB8\xADHello", 8, "prompt E4 B8 + generated AD"},
        {0, {0, 2}, 2, {12}, 1, "\xEF\xBF\xBD", 3, "prompt F0 9F + 80: generated byte alone is U+FFFD"},
        {1, {9}, 1, {10}, 1, " world", 6, "SPM: after a prompt the space is not stripped"},
        {1, {11}, 1, {9}, 1, " Hello", 6, "SPM: the strip was used by the prompt"},
        {2, {1}, 1, {2}, 1, " world", 6, "Metaspace: the first-token rule belongs to the prompt"},
        {3, {0, 1}, 2, {2, 3}, 2, "world", 5, "BPEDecoder: the prompt's suffix space is prompt text"},
        {4, {3}, 1, {4}, 1, " world", 6, "WordPiece: generated word gets its space"},
    };
    tks_vocab *vs[] = {t, s, m, b, w};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int mode = 0; mode < 2; mode++) { /* the prompt in one call or id by id */
            tks_detok *d;
            out_clear(&O);
            tks_detok_new(&d, vs[cases[i].which], NULL, on_text, &O);
            int rc = TKS_OK;
            if (mode == 0) rc = tks_detok_prime(d, cases[i].prime, cases[i].np);
            else
                for (size_t k = 0; k < cases[i].np && rc == TKS_OK; k++) rc = tks_detok_prime(d, cases[i].prime + k, 1);
            ok(rc == TKS_OK && O.len == 0, "7.7 %s: priming emits nothing", cases[i].what);
            for (size_t k = 0; k < cases[i].ng && rc == TKS_OK; k++) rc = tks_detok_push(d, cases[i].gen + k, 1);
            if (rc == TKS_OK) rc = tks_detok_finish(d);
            ok(rc == TKS_OK && O.len == cases[i].wl && memcmp(O.buf, cases[i].want, cases[i].wl) == 0 && !O.bad_utf8,
               "7.7 %s (%s)", cases[i].what, mode ? "id by id" : "one call");
            if (!(O.len == cases[i].wl && memcmp(O.buf, cases[i].want, cases[i].wl) == 0))
                diag_bytes("got", O.buf, O.len);
            tks_detok_free(d);
        }
    }
    tks_detok *d;
    out_clear(&O);
    tks_detok_new(&d, t, NULL, on_text, &O);
    is_int(tks_detok_prime_bytes(d, "Hi \xF0\x9F", 5), TKS_OK, "prime with bytes");
    tks_detok_push(d, IDS(3));
    is_mem(O.buf, O.len, "\xF0\x9F\x91\x8B", 4, "7.7 primed bytes ending mid-emoji");
    is_int(tks_detok_prime(d, IDS(0)), TKS_ESTATE, "prime after push: TKS_ESTATE");
    tks_detok_reset(d);
    out_clear(&O);
    is_int(tks_detok_prime(d, IDS(0)), TKS_OK, "prime allowed again after reset");
    tks_detok_free(d);
out:
    tks_vocab_free(t);
    tks_vocab_free(s);
    tks_vocab_free(m);
    tks_vocab_free(b);
    tks_vocab_free(w);
}

static int to_stop(void *user, const char *text, size_t len) { return tks_stop_push(user, text, len); }

static void test_stop_chain(tks_vocab *t) {
    /* 5-6. stop strings downstream of the detok (tks_stop): spanning tokens, partial
     * hold-back released when the match dies, ending mid-token. */
    static const struct { const char *stop; int32_t ids[6]; size_t n; const char *want; const char *what; } cases[] = {
        {"o wor", {0, 1, 4}, 3, "Hell", "7.5 stop spanning two tokens, cut mid-token"},
        {"lo!", {0, 1, 4}, 3, "Hello world!", "7.6 partial match held then released"},
        {"\xF0\x9F\x91\x8B", {0, 6, 7, 4}, 4, "Hello ", "7.5 stop is an emoji split over tokens"},
        {"!x", {0, 1, 4}, 3, "Hello world!", "7.6 a partial match at the end is flushed at finish"},
        {"Hello", {0, 1}, 2, "", "7.5 stop equal to a whole token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tks_stop *st;
        tks_stop_config sc = {0};
        const char *strs[1] = {cases[i].stop};
        sc.strings = strs;
        sc.n_strings = 1;
        out_clear(&O);
        int rc = tks_stop_new(&st, &sc, on_text, &O);
        if (rc) {
            ok(0, "tks_stop_new (%d)", rc);
            continue;
        }
        tks_detok *d;
        tks_detok_new(&d, t, NULL, to_stop, st);
        rc = TKS_OK;
        for (size_t k = 0; k < cases[i].n && rc == TKS_OK; k++) rc = tks_detok_push(d, cases[i].ids + k, 1);
        if (rc == TKS_OK) rc = tks_detok_finish(d);
        if (rc == TKS_OK) rc = tks_stop_finish(st);
        size_t wl = strlen(cases[i].want);
        ok(O.len == wl && memcmp(O.buf, cases[i].want, wl) == 0, "%s", cases[i].what);
        if (!(O.len == wl && memcmp(O.buf, cases[i].want, wl) == 0)) diag_bytes("got", O.buf, O.len);
        tks_detok_free(d);
        tks_stop_free(st);
    }
}

static void test_grapheme(tks_vocab *t) {
    /* 9. grapheme mode: an emoji ZWJ sequence and e + U+0301 never split between deltas */
    static const int32_t ids[] = {0, 5, 2, 3, 14, 2, 3, 5, 18, 19, 4};
    const char *want = "Hello \xF0\x9F\x91\x8B\xE2\x80\x8D\xF0\x9F\x91\x8B e\xCC\x81!";
    size_t wl = strlen(want);
    tks_detok *d;
    tks_detok_config cfg = {0};
    cfg.flags = TKS_DETOK_GRAPHEME;
    out_clear(&O);
    tks_detok_new(&d, t, &cfg, on_text, &O);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) tks_detok_push(d, ids + i, 1);
    tks_detok_finish(d);
    tks_detok_free(d);
    is_mem(O.buf, O.len, want, wl, "7.9 grapheme mode: same text");
    int split = 0;
    size_t zwj_start = 6, zwj_end = 6 + 11, e_start = 18, e_end = 21;
    for (int i = 0; i < O.deltas && i < 256; i++) {
        size_t e = O.ends[i];
        if ((e > zwj_start && e < zwj_end) || (e > e_start && e < e_end)) split = 1;
    }
    ok(!split && O.deltas >= 3, "7.9 no delta ends inside a cluster (%d deltas)", O.deltas);
    /* default mode: code-point safe only (documented) */
    out_clear(&O);
    tks_detok_new(&d, t, NULL, on_text, &O);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) tks_detok_push(d, ids + i, 1);
    tks_detok_finish(d);
    tks_detok_free(d);
    is_mem(O.buf, O.len, want, wl, "default mode: same text");
    ok(O.deltas > 5, "default mode streams code points as they complete (%d deltas)", O.deltas);
}

static void test_lifecycle(tks_vocab *t) {
    tks_detok *d;
    is_int(tks_detok_new(&d, NULL, NULL, on_text, &O), TKS_EINVAL, "no vocabulary");
    is_int(tks_detok_new(&d, t, NULL, NULL, &O), TKS_EINVAL, "no callback");
    is_int(tks_detok_new(&d, t, &(tks_detok_config){.flags = 0x100}, on_text, &O), TKS_EINVAL, "unknown flag");
    tks_vocab *bad;
    tks_vocab_new(&bad, NULL);
    tks_vocab_load_hf(bad, "{", 1);
    is_int(tks_detok_new(&d, bad, NULL, on_text, &O), TKS_EINVAL, "a vocabulary whose load failed");
    tks_vocab_free(bad);

    /* callback stop */
    out_clear(&O);
    O.stop_after = 2;
    tks_detok_new(&d, t, NULL, on_text, &O);
    is_int(tks_detok_push(d, IDS(0, 1, 4, 0)), TKS_STOPPED, "callback stop: TKS_STOPPED");
    is_int(O.deltas, 2, "no delta after the stop");
    is_int(tks_detok_push(d, IDS(0)), TKS_STOPPED, "stays stopped");
    is_int(tks_detok_finish(d), TKS_STOPPED, "finish stays stopped");
    tks_detok_reset(d);
    out_clear(&O);
    is_int(tks_detok_push(d, IDS(0)), TKS_OK, "reset: usable again");
    is_int(tks_detok_finish(d), TKS_OK, "finish");
    is_int(tks_detok_finish(d), TKS_OK, "finish twice");
    is_int(tks_detok_push(d, IDS(0)), TKS_ESTATE, "push after finish: TKS_ESTATE");
    is_mem(O.buf, O.len, "Hello", 5, "one Hello");
    tks_detok_free(d);
    tks_detok_free(NULL);
    is_str(tks_detok_error(NULL), "", "error of NULL");

    /* reset restores the first-token rules */
    tks_vocab *s = vocab("spm_bytefallback.json");
    if (s) {
        tks_detok_new(&d, s, NULL, on_text, &O);
        out_clear(&O);
        tks_detok_push(d, IDS(9, 10, 4));
        tks_detok_reset(d);
        out_clear(&O);
        tks_detok_push(d, IDS(9));
        tks_detok_finish(d);
        is_mem(O.buf, O.len, "Hello", 5, "reset: strip budget and UTF-8 carry start over");
        tks_detok_free(d);
        tks_vocab_free(s);
    }
    ok(tks__detok_state_size() <= 64, "per-stream state is %zu bytes (<= 64)", tks__detok_state_size());
}

/* 8. 100k tokens of CJK, emoji and invalid bytes: the work is the tokens' bytes. */
static void test_linear(tks_vocab *t) {
    enum { N = 100000 };
    static int32_t ids[N];
    static const int32_t pool[] = {2, 3, 8, 9, 10, 11, 12, 6, 7, 17, 14, 0, 5, 18, 19, 13, 16};
    uint32_t x = 12345;
    uint64_t bytes = 0;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ids[i] = pool[x % (sizeof pool / sizeof pool[0])];
        size_t n;
        tks_vocab_token(t, ids[i], NULL, &n, NULL);
        bytes += n;
    }
    static out big;
    talloc ta;
    tks_alloc a = talloc_make(&ta);
    tks_detok_config cfg = {0};
    cfg.alloc = &a;
    tks_detok *d;
    big.len = 0;
    big.deltas = big.bad_utf8 = 0;
    tks_detok_new(&d, t, &cfg, on_text, &big);
    long calls_after_new = ta.calls;
    uint64_t work_half = 0;
    for (int i = 0; i < N; i++) {
        if (i == N / 2) work_half = tks__detok_work(d);
        tks_detok_push(d, ids + i, 1);
    }
    tks_detok_finish(d);
    uint64_t work = tks__detok_work(d);
    is_int(ta.calls - calls_after_new, 0, "8: no allocation for 100k tokens");
    ok(work == bytes, "8: work counted = the tokens' bytes (%llu, %llu)", (unsigned long long)work,
       (unsigned long long)bytes);
    ok(work_half * 2 > work * 9 / 10 && work_half * 2 < work * 11 / 10, "8: the second half costs the same as the first");
    ok(big.bad_utf8 == 0 && big.deltas <= 3 * N, "8: every delta valid, a bounded number per id (%d)", big.deltas);
    ok(big.len <= bytes * 3, "8: output bounded by 3x the bytes (%zu)", big.len);
    tks_detok_free(d);
    is_int(ta.live, 0, "8: nothing leaked");

    /* batches (speculative decoding) give the same text as one id per push */
    static char first[1 << 16];
    size_t cmp = big.len < sizeof first ? big.len : sizeof first;
    memcpy(first, big.buf, cmp);
    size_t first_len = big.len;
    for (size_t batch = 7; batch <= N; batch = batch == 7 ? N : N + 1) {
        big.len = 0;
        big.deltas = big.bad_utf8 = 0;
        tks_detok_new(&d, t, NULL, on_text, &big);
        for (size_t i = 0; i < N; i += batch) tks_detok_push(d, ids + i, N - i < batch ? N - i : batch);
        tks_detok_finish(d);
        tks_detok_free(d);
        ok(big.len == first_len && memcmp(big.buf, first, cmp) == 0 && !big.bad_utf8,
           "8: batches of %zu ids give the same text", batch);
    }
}

/* One vocabulary, read by four detoks in four threads at once: each gets the text a
 * lone detok gets. */
typedef struct thr {
    const tks_vocab *v;
    const int32_t *ids;
    size_t n;
    uint64_t hash, len;
} thr;

static int hash_text(void *user, const char *t, size_t n) {
    thr *a = user;
    for (size_t i = 0; i < n; i++) a->hash = (a->hash ^ (unsigned char)t[i]) * 0x100000001b3u;
    a->len += n;
    return 0;
}

static void *thr_main(void *arg) {
    thr *a = arg;
    tks_detok *d;
    a->hash = 0xcbf29ce484222325u;
    a->len = 0;
    if (tks_detok_new(&d, a->v, NULL, hash_text, a)) return NULL;
    for (size_t i = 0; i < a->n; i++) tks_detok_push(d, a->ids + i, 1);
    tks_detok_finish(d);
    tks_detok_free(d);
    return NULL;
}

static void test_threads(tks_vocab *t) {
    enum { N = 20000, T = 4 };
    static int32_t ids[N];
    uint32_t x = 777;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ids[i] = (int32_t)(x % 20);
    }
    thr one = {t, ids, N, 0, 0}, many[T];
    thr_main(&one);
    pthread_t th[T];
    int started = 0;
    for (int i = 0; i < T; i++) {
        many[i] = one;
        if (pthread_create(&th[i], NULL, thr_main, &many[i]) == 0) started++;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    int same = started == T;
    for (int i = 0; i < started; i++) same &= many[i].hash == one.hash && many[i].len == one.len;
    ok(same && one.len > 0, "one vocabulary shared by %d threads: every thread gets the same text", T);
}

/* ---- OOM torture ---------------------------------------------------------------------- */

typedef struct oom_ctx {
    tks_vocab *v;
    uint32_t flags;
} oom_ctx;

static int oom_body(const tks_alloc *a, void *vctx) {
    oom_ctx *c = vctx;
    static out o;
    tks_detok *d;
    tks_detok_config cfg = {0};
    cfg.alloc = a;
    cfg.flags = c->flags;
    out_clear(&o);
    int rc = tks_detok_new(&d, c->v, &cfg, on_text, &o);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    static const int32_t ids[] = {0, 5, 2, 3, 14, 2, 3, 5, 18, 19, 4, 8, 13};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0] && rc == TKS_OK; i++) rc = tks_detok_push(d, ids + i, 1);
    if (rc == TKS_OK) rc = tks_detok_finish(d);
    tks_detok_free(d);
    if (rc == TKS_ENOMEM) return 1;
    const char *want = "Hello \xF0\x9F\x91\x8B\xE2\x80\x8D\xF0\x9F\x91\x8B e\xCC\x81!\xEF\xBF\xBD" "A";
    return rc == TKS_OK && o.len == strlen(want) && memcmp(o.buf, want, o.len) == 0 ? 0 : 2;
}

int main(void) {
    test_bytelevel();
    test_spm();
    test_metaspace();
    test_wordpiece_wordlevel_bpe();
    tks_vocab *t = vocab("tiny.tiktoken");
    ok(t != NULL, "tiny.tiktoken");
    if (t) {
        test_utf8_shapes(t);
        test_unknown(t);
        test_stop_chain(t);
        test_grapheme(t);
        test_lifecycle(t);
        test_linear(t);
        test_threads(t);
        oom_ctx c = {t, 0};
        oom_torture("detok", oom_body, &c);
        c.flags = TKS_DETOK_GRAPHEME;
        oom_torture("detok, grapheme mode", oom_body, &c);
    }
    test_prime();
    tks_vocab_free(t);
    return done_testing();
}
