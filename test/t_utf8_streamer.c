/* t_utf8_streamer.c - tks_utf8_streamer: valid UTF-8 deltas from bytes cut anywhere,
 * maximal-subpart U+FFFD at once, finish, zero-copy, grapheme mode, linear work, OOM. */
#define _POSIX_C_SOURCE 200809L
#include "tokstream.h"
#include "tap.h"
#include "testalloc.h"
#include "testutil.h"
#include "text_ref.h"
#include "text_internal.h"

#include <utf8proc.h>

#define FFFD "\xEF\xBF\xBD"

/* Pushes in[0..n) cut at cuts[] (ascending offsets inside (0, n)), then finishes.
 * Returns the first non-OK status, or TKS_OK. */
static int stream(const tks_utf8_config *cfg, const void *in, size_t n, const size_t *cuts,
                  size_t ncuts, sink *k) {
    tks_utf8_streamer *s;
    int rc = tks_utf8_streamer_new(&s, cfg, sink_text, k);
    if (rc) return rc;
    size_t prev = 0;
    for (size_t i = 0; i <= ncuts && rc == TKS_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        rc = tks_utf8_streamer_push(s, (const char *)in + prev, end - prev);
        prev = end;
    }
    if (rc == TKS_OK) rc = tks_utf8_streamer_finish(s);
    tks_utf8_streamer_free(s);
    return rc;
}

static size_t *every_byte(size_t n) {
    size_t *c = malloc((n ? n : 1) * sizeof *c);
    for (size_t i = 1; i < n; i++) c[i - 1] = i;
    return c;
}

/* Checks one input against an expected output: one push, byte by byte, and two pushes
 * at every cut point; every delta must be valid and non-empty. */
static void check_all_cuts(const char *name, const tks_utf8_config *cfg, const void *in,
                           size_t n, const void *want, size_t wn) {
    sink k = {0};
    int rc = stream(cfg, in, n, NULL, 0, &k);
    is_int(rc, TKS_OK, "%s: one push: status", name);
    is_mem(k.text.p, k.text.len, want, wn, "%s: one push: text", name);
    ok(k.bad == 0, "%s: one push: every delta valid UTF-8, non-empty", name);
    sink_free(&k);

    size_t *cuts = every_byte(n);
    rc = stream(cfg, in, n, cuts, n ? n - 1 : 0, &k);
    is_int(rc, TKS_OK, "%s: byte by byte: status", name);
    is_mem(k.text.p, k.text.len, want, wn, "%s: byte by byte: text", name);
    ok(k.bad == 0, "%s: byte by byte: every delta valid UTF-8, non-empty", name);
    sink_free(&k);
    free(cuts);

    long wrong = 0, bad = 0;
    size_t first_wrong = 0;
    for (size_t c = 1; c < n; c++) {
        rc = stream(cfg, in, n, &c, 1, &k);
        if (rc != TKS_OK || !mem_eq(k.text.p, k.text.len, want, wn)) {
            if (!wrong) first_wrong = c;
            wrong++;
        }
        bad += k.bad;
        sink_free(&k);
    }
    ok(wrong == 0 && bad == 0, "%s: two pushes at each of the %zu cut points", name, n ? n - 1 : 0);
    if (wrong) diag("first wrong cut at %zu (%ld wrong, %ld bad deltas)", first_wrong, wrong, bad);
}

/* ---- hand-derived vectors ------------------------------------------------------------ */

typedef struct vec { const char *name, *in; size_t n; const char *want; size_t wn; } vec;
#define V(name, in, want) {name, in, sizeof(in) - 1, want, sizeof(want) - 1}

static const vec vectors[] = {
    V("ascii", "abc", "abc"),
    V("two-byte", "caf\xC3\xA9", "caf\xC3\xA9"),
    V("euro", "\xE2\x82\xAC", "\xE2\x82\xAC"),
    V("emoji", "\xF0\x9F\x91\x8B", "\xF0\x9F\x91\x8B"),
    V("lone FF", "a\xFF" "b", "a" FFFD "b"),
    V("lone continuation", "\x80", FFFD),
    V("two continuations", " \x80\x80!", " " FFFD FFFD "!"),
    V("C0 AF overlong", "\xC0\xAF", FFFD FFFD),
    V("E0 80 AF overlong", "\xE0\x80\xAF", FFFD FFFD FFFD),
    V("surrogate ED A0 80", "\xED\xA0\x80", FFFD FFFD FFFD),
    V("above U+10FFFF", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD),
    V("F5 never starts", "\xF5\x80", FFFD FFFD),
    V("F0 9F 41", "\xF0\x9F\x41", FFFD "A"),
    V("lead then ascii", "\xC2" "A", FFFD "A"),
    V("truncated at end 4", "x\xF0\x9F\x98", "x" FFFD),
    V("truncated at end 3", "\xE5\xBE", FFFD),
    V("truncated at end 2", "\xC3", FFFD),
    V("subpart then valid", "\xE1\x80\xE1\x80\x80", FFFD "\xE1\x80\x80"),
    V("E0 A0 then ascii", "\xE0\xA0z", FFFD "z"),
    V("F4 8F BF BF max", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"),
    V("NUL bytes", "a\0\0b", "a\0\0b"),
    V("FE FF run", "\xFE\xFF\xFE", FFFD FFFD FFFD),
    V("CJK", "\xE6\x88\x91\xE5\xBE\x88", "\xE6\x88\x91\xE5\xBE\x88"),
};

static void test_vectors(void) {
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vec *v = &vectors[i];
        /* The independent WHATWG decoder must agree with the hand-derived answer... */
        rbuf r = ref_decode(v->in, v->n);
        is_mem(r.p, r.len, v->want, v->wn, "%s: reference decoder agrees with the hand-derived answer",
               v->name);
        rb_free(&r);
        check_all_cuts(v->name, NULL, v->in, v->n, v->want, v->wn);
    }
}

/* ---- the project's own stream data (test/data/text/streams.txt) ------------------------ */

static void test_data_streams(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/text/streams.txt", test_data_dir());
    size_t len;
    char *file = read_file(path, &len);
    ok(file != NULL, "read %s", path);
    if (!file) return;
    int cases = 0;
    for (char *line = strtok(file, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2) continue;
        *t1 = 0;
        /* pieces */
        unsigned char in[1024], want[1024];
        size_t n = 0, cuts[256], ncuts = 0;
        const char *p = t1 + 1;
        while (p < t2) {
            const char *e = p;
            while (e < t2 && *e != '/') e++;
            n += hex_decode(p, (size_t)(e - p), in + n);
            if (e < t2) cuts[ncuts++] = n;
            p = e + 1;
        }
        size_t wn = hex_decode(t2 + 1, strlen(t2 + 1), want);
        sink k = {0};
        int rc = stream(NULL, in, n, cuts, ncuts, &k);
        is_int(rc, TKS_OK, "data %s: token pieces: status", line);
        is_mem(k.text.p, k.text.len, want, wn, "data %s: token pieces: text", line);
        ok(k.bad == 0, "data %s: token pieces: deltas valid", line);
        sink_free(&k);
        check_all_cuts(line, NULL, in, n, want, wn);
        tks_utf8_config g = {0};
        g.flags = TKS_UTF8_GRAPHEME;
        rc = stream(&g, in, n, cuts, ncuts, &k);
        is_mem(k.text.p, k.text.len, want, wn, "data %s: grapheme mode, token pieces: text", line);
        sink_free(&k);
        cases++;
    }
    ok(cases >= 15, "test/data/text/streams.txt had %d cases", cases);
    free(file);
}

/* ---- immediacy: after any prefix the output is what a streaming WHATWG decoder has
 * output, so nothing waits but an unfinished character (at most 3 bytes) ------------ */

static const char *corpus[] = {
    "Hi \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD!",
    "\xE6\x88\x91\xE5\xBE\x88\xE6\x84\x9F\xE8\xB0\xA2 \xFF\x80 ok",
    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
    "a\xC3\xE2\x82\xF0\x9F\x98z\xED\xA0\x80\xF4\x90\x80\x80\xC0\xAF\xE0\x80\xAF\xF0\x9F\x98",
    "e\xCC\x81 caf\xC3\xA9 \xEF\xBB\xBF\xEF\xBF\xBD\r\n\t",
};

static void test_immediate(void) {
    long wrong = 0, checked = 0;
    for (size_t ci = 0; ci < sizeof corpus / sizeof corpus[0]; ci++) {
        const char *in = corpus[ci];
        size_t n = strlen(in);
        for (size_t c = 0; c <= n; c++) {
            sink k = {0};
            tks_utf8_streamer *s;
            if (tks_utf8_streamer_new(&s, NULL, sink_text, &k)) abort();
            /* the prefix in one push, and again byte by byte in a second streamer */
            tks_utf8_streamer_push(s, in, c);
            rbuf want = ref_decode_prefix(in, c);
            if (!mem_eq(k.text.p, k.text.len, want.p, want.len)) wrong++;
            sink_free(&k);
            tks_utf8_streamer_reset(s);
            for (size_t i = 0; i < c; i++) tks_utf8_streamer_push(s, in + i, 1);
            if (!mem_eq(k.text.p, k.text.len, want.p, want.len)) wrong++;
            checked += 2;
            rb_free(&want);
            sink_free(&k);
            tks_utf8_streamer_free(s);
        }
    }
    ok(wrong == 0, "after every prefix (one push, byte by byte) the output is the streaming "
                   "WHATWG decoder's (%ld checks)", checked);
}

/* ---- random bytes against the reference ------------------------------------------------ */

static void test_random(void) {
    static const unsigned char alphabet[] = {
        'a', ' ', 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
        0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF, 0xBD, 0x81};
    uint64_t seed = 0x9E3779B97F4A7C15u;
    long wrong = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char in[64];
        size_t n = rng_next(&seed) % sizeof in;
        for (size_t i = 0; i < n; i++) in[i] = alphabet[rng_next(&seed) % sizeof alphabet];
        size_t cuts[8], nc = 0, last = 0;
        for (int j = 0; j < 8 && n > 1; j++) {
            size_t c = last + 1 + rng_next(&seed) % (n / 4 + 1);
            if (c >= n) break;
            cuts[nc++] = last = c;
        }
        rbuf want = ref_decode(in, n);
        sink k = {0};
        tks_utf8_config cfg = {0};
        cfg.flags = (iter & 1) ? TKS_UTF8_GRAPHEME : 0;
        int rc = stream(&cfg, in, n, cuts, nc, &k);
        if (rc || !mem_eq(k.text.p, k.text.len, want.p, want.len)) {
            if (!wrong) diag_bytes("first wrong input", in, n);
            wrong++;
        }
        bad += k.bad;
        rb_free(&want);
        sink_free(&k);
    }
    ok(wrong == 0 && bad == 0, "3000 random byte strings, random cuts, both modes: "
                               "output = WHATWG decode, deltas valid");
}

/* ---- zero copy, finish, state rules -------------------------------------------------- */

static void test_zero_copy(void) {
    static const char in[] = "hello w\xC3\xB6rld \xFF tail";
    sink k = {0};
    k.lo = in;
    k.hi = in + sizeof in - 1;
    tks_utf8_streamer *s;
    is_int(tks_utf8_streamer_new(&s, NULL, sink_text, &k), TKS_OK, "new with NULL config");
    is_int(tks_utf8_streamer_push(s, in, sizeof in - 1), TKS_OK, "push");
    is_int(k.n_deltas, 3, "valid run, U+FFFD, valid run: 3 deltas");
    is_int(k.in_caller_buf, 2, "both valid runs point into the caller's buffer (zero copy)");
    tks_utf8_streamer_free(s);
    sink_free(&k);
}

static void test_split_token_62904(void) {
    /* cl100k 62904 = " \xF0\x9F\x91": the space must go out at once (detok.md §7.1). */
    sink k = {0};
    tks_utf8_streamer *s;
    tks_utf8_streamer_new(&s, NULL, sink_text, &k);
    tks_utf8_streamer_push(s, "Hi", 2);
    tks_utf8_streamer_push(s, " \xF0\x9F\x91", 4);
    is_mem(k.text.p, k.text.len, "Hi ", 3, "token 62904: the space is out before the emoji completes");
    tks_utf8_streamer_push(s, "\x8B", 1);
    is_mem(k.text.p, k.text.len, "Hi \xF0\x9F\x91\x8B", 7, "the next token completes the emoji");
    tks_utf8_streamer_push(s, "\xF0\x9F", 2);
    tks_utf8_streamer_push(s, "!", 1);
    is_mem(k.text.p, k.text.len, "Hi \xF0\x9F\x91\x8B" FFFD "!", 11,
           "a lead byte followed by ASCII: U+FFFD at once, no stall");
    tks_utf8_streamer_free(s);
    sink_free(&k);
}

static void test_finish_and_state(void) {
    sink k = {0};
    tks_utf8_streamer *s;
    tks_utf8_streamer_new(&s, NULL, sink_text, &k);
    is_int(tks_utf8_streamer_push(s, "ok\xF0\x9F", 4), TKS_OK, "push ending inside a character");
    is_mem(k.text.p, k.text.len, "ok", 2, "the unfinished character is held");
    is_int(tks_utf8_streamer_finish(s), TKS_OK, "finish with an unfinished tail returns TKS_OK");
    is_mem(k.text.p, k.text.len, "ok" FFFD, 5, "finish turned the tail into one U+FFFD");
    is_int(tks_utf8_streamer_finish(s), TKS_OK, "finish twice: TKS_OK, nothing more");
    is_int(k.text.len, 5, "second finish emitted nothing");
    is_int(tks_utf8_streamer_push(s, "x", 1), TKS_ESTATE, "push after finish: TKS_ESTATE");
    ok(strlen(tks_utf8_streamer_error(s)) > 0, "error text: %s", tks_utf8_streamer_error(s));
    is_int(tks_utf8_streamer_offset(s), 4, "error offset = bytes pushed before");
    is_int(tks_utf8_streamer_push(s, "x", 1), TKS_ESTATE, "the error is sticky");
    tks_utf8_streamer_reset(s);
    is_str(tks_utf8_streamer_error(s), "", "reset clears the error");
    is_int(tks_utf8_streamer_push(s, "\x9F", 1), TKS_OK, "reused after reset");
    is_mem(k.text.p + 5, k.text.len - 5, FFFD, 3,
           "reset dropped the old tail: a continuation byte alone is U+FFFD");
    tks_utf8_streamer_push(s, "\xC3", 1);
    tks_utf8_streamer_reset(s);
    tks_utf8_streamer_finish(s);
    is_int(k.text.len, 8, "reset drops a held partial character (finish after reset: nothing)");
    is_int(tks_utf8_streamer_push(s, NULL, 0), TKS_ESTATE, "after finish even an empty push is refused");
    tks_utf8_streamer_reset(s);
    is_int(tks_utf8_streamer_push(s, NULL, 0), TKS_OK, "empty push with NULL: TKS_OK");
    is_int(tks_utf8_streamer_push(s, NULL, 3), TKS_EINVAL, "NULL bytes with a length: TKS_EINVAL");
    tks_utf8_streamer_free(s);
    sink_free(&k);

    tks_utf8_config bad = {0};
    bad.flags = 0x80;
    tks_utf8_streamer *out = (tks_utf8_streamer *)&bad;
    is_int(tks_utf8_streamer_new(&out, &bad, sink_text, &k), TKS_EINVAL, "unknown flag: TKS_EINVAL");
    ok(out == NULL, "*out is NULL after a failed new");
    is_int(tks_utf8_streamer_new(&out, NULL, NULL, &k), TKS_EINVAL, "NULL callback: TKS_EINVAL");
    is_int(tks_utf8_streamer_new(NULL, NULL, sink_text, &k), TKS_EINVAL, "NULL out: TKS_EINVAL");
    tks_alloc half = {talloc_malloc_, NULL, talloc_free_, NULL};
    tks_utf8_config hc = {0};
    hc.alloc = &half;
    is_int(tks_utf8_streamer_new(&out, &hc, sink_text, &k), TKS_EINVAL, "allocator missing realloc: TKS_EINVAL");
    tks_utf8_streamer_free(NULL);
    is_str(tks_utf8_streamer_error(NULL), "", "error(NULL) is \"\"");
}

static void test_callback_stop(void) {
    for (int g = 0; g <= 1; g++) {
        sink k = {0};
        k.stop_at = 1;
        tks_utf8_config cfg = {0};
        cfg.flags = g ? TKS_UTF8_GRAPHEME : 0;
        tks_utf8_streamer *s;
        tks_utf8_streamer_new(&s, &cfg, sink_text, &k);
        int rc = tks_utf8_streamer_push(s, "ab\xFF" "cd", 5);
        if (g) { /* the grapheme hold releases "ab" only when "\xFF" (U+FFFD) starts */
            is_int(rc, TKS_STOPPED, "grapheme: callback returning 1: TKS_STOPPED");
        } else {
            is_int(rc, TKS_STOPPED, "callback returning 1: the push returns TKS_STOPPED");
        }
        is_int(k.calls, 1, "%s: no callback after the stop", g ? "grapheme" : "plain");
        is_int(tks_utf8_streamer_push(s, "x", 1), TKS_STOPPED, "stays stopped: push");
        is_int(tks_utf8_streamer_finish(s), TKS_STOPPED, "stays stopped: finish");
        is_int(k.calls, 1, "nothing emitted while stopped");
        tks_utf8_streamer_reset(s);
        k.stop_at = 0;
        is_int(tks_utf8_streamer_push(s, "x", 1), TKS_OK, "reset: usable again");
        tks_utf8_streamer_finish(s);
        /* grapheme mode: the first delta is "a", released when "b" starts */
        if (g) is_mem(k.text.p, k.text.len, "ax", 2, "after reset the new stream is intact");
        else is_mem(k.text.p, k.text.len, "abx", 3, "after reset the new stream is intact");
        tks_utf8_streamer_free(s);
        sink_free(&k);
    }
}

/* ---- grapheme mode ------------------------------------------------------------------- */

/* Cluster boundaries of valid text by utf8proc's own segmentation of the whole text
 * (utf8proc_map with UTF8PROC_CHARBOUND marks each cluster start with 0xFF). */
static size_t ref_boundaries(const char *t, size_t n, size_t *b, size_t cap) {
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)t, (utf8proc_ssize_t)n, &dst,
                                      UTF8PROC_CHARBOUND);
    size_t nb = 0, pos = 0;
    if (m < 0) return 0;
    for (utf8proc_ssize_t i = 0; i < m; i++) {
        if (dst[i] == 0xFF) {
            if (nb < cap) b[nb++] = pos;
        } else {
            if (pos >= n || (unsigned char)t[pos] != dst[i]) { nb = 0; break; } /* must be the same text */
            pos++;
        }
    }
    free(dst);
    if (pos != n) return 0;
    if (nb < cap) b[nb++] = n;
    return nb;
}

static int is_boundary(const size_t *b, size_t nb, size_t x) {
    for (size_t i = 0; i < nb; i++)
        if (b[i] == x) return 1;
    return 0;
}

/* Released text after a prefix of c bytes: everything before the start of the cluster
 * that holds the last complete character of the prefix. */
static size_t expected_release(const char *t, size_t c, const size_t *b, size_t nb) {
    size_t last_start = SIZE_MAX, i = 0;
    while (i < c) {
        size_t l = 1;
        unsigned char x = (unsigned char)t[i];
        if (x >= 0xF0) l = 4; else if (x >= 0xE0) l = 3; else if (x >= 0xC0) l = 2;
        if (i + l > c) break;
        last_start = i;
        i += l;
    }
    if (last_start == SIZE_MAX) return 0;
    size_t r = 0;
    for (size_t j = 0; j < nb; j++)
        if (b[j] <= last_start && b[j] > r) r = b[j];
    return r;
}

typedef struct gcase { const char *name, *text; size_t clusters; } gcase;

static const gcase gcases[] = {
    /* cluster counts are hand-derived from UAX #29 */
    {"ZWJ family", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6", 1},
    {"ZWJ family then x", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6x", 2},
    {"two flags JP FR", "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", 2},
    {"three regional indicators", "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5\xF0\x9F\x87\xAB", 2},
    {"skin tone", "Hi \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD!", 5},
    {"e + U+0301", "e\xCC\x81 caf\xC3\xA9", 6},
    {"Hangul jamo L V T", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8\xE1\x84\x82\xE1\x85\xA1", 2},
    {"heart + VS16", "\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x9D\xA4", 2},
    {"CRLF", "a\r\nb\n\r", 5},
    {"Thai sawasdee", "\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\xAA\xE0\xB8\x94\xE0\xB8\xB5", 4},
    {"kana konnichiwa", "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF", 5},
    {"keycap", "1\xEF\xB8\x8F\xE2\x83\xA3#", 2},
    {"combining stack", "a\xCC\x81\xCC\x82\xCC\x83\xCC\x84z", 2},
    {"U+FFFD between", "a\xEF\xBF\xBD\xCC\x81" "b", 3},
};

static void test_grapheme(void) {
    tks_utf8_config g = {0};
    g.flags = TKS_UTF8_GRAPHEME;
    for (size_t ci = 0; ci < sizeof gcases / sizeof gcases[0]; ci++) {
        const gcase *gc = &gcases[ci];
        const char *t = gc->text;
        size_t n = strlen(t), b[128];
        size_t nb = ref_boundaries(t, n, b, 128);
        is_int(nb ? nb - 1 : 0, gc->clusters, "%s: utf8proc segmentation has the hand-counted "
                                              "%zu clusters", gc->name, gc->clusters);
        /* text and delta ends at one push, byte by byte, and every cut point */
        long bad_end = 0, wrong = 0, not_prompt = 0;
        size_t *cuts = every_byte(n);
        for (size_t c = 0; c <= n; c++) {
            sink k = {0};
            int rc = c == 0 ? stream(&g, t, n, NULL, 0, &k)
                   : c == n ? stream(&g, t, n, cuts, n - 1, &k) : stream(&g, t, n, &c, 1, &k);
            if (rc || !mem_eq(k.text.p, k.text.len, t, n)) wrong++;
            for (size_t d = 0; d < k.n_deltas; d++)
                if (!is_boundary(b, nb, k.ends[d])) bad_end++;
            sink_free(&k);
        }
        free(cuts);
        ok(wrong == 0, "%s: one push, byte by byte, every cut: text intact", gc->name);
        ok(bad_end == 0, "%s: no delta ends inside a grapheme cluster (%ld bad)", gc->name, bad_end);
        /* promptness: byte by byte, after each byte exactly the finished clusters are out */
        sink k = {0};
        tks_utf8_streamer *s;
        tks_utf8_streamer_new(&s, &g, sink_text, &k);
        for (size_t c = 1; c <= n; c++) {
            tks_utf8_streamer_push(s, t + c - 1, 1);
            if (k.text.len != expected_release(t, c, b, nb)) not_prompt++;
        }
        tks_utf8_streamer_finish(s);
        ok(not_prompt == 0 && k.text.len == n,
           "%s: each cluster goes out as soon as the next one starts, the last at finish",
           gc->name);
        tks_utf8_streamer_free(s);
        sink_free(&k);
    }

    /* Thai and kana stream (unlike word-buffering streamers): pushed whole, all but the
     * last cluster is out before finish. */
    sink k = {0};
    tks_utf8_streamer *s;
    tks_utf8_streamer_new(&s, &g, sink_text, &k);
    tks_utf8_streamer_push(s, "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB", 9);
    is_mem(k.text.p, k.text.len, "\xE3\x81\x93\xE3\x82\x93", 6, "kana: two of three out before finish");
    tks_utf8_streamer_push(s, "e", 1);
    tks_utf8_streamer_push(s, "\xCC\x81", 2);
    is_int(k.text.len, 9, "e is held while U+0301 may follow, and with it");
    tks_utf8_streamer_push(s, "!", 1);
    is_mem(k.text.p + 9, k.text.len - 9, "e\xCC\x81", 3, "e + U+0301 went out as one delta");
    is_int(k.ends[k.n_deltas - 1] - (k.n_deltas > 1 ? k.ends[k.n_deltas - 2] : 0), 3,
           "the combining sequence was one delta");
    tks_utf8_streamer_finish(s);
    is_mem(k.text.p + 12, k.text.len - 12, "!", 1, "finish released the last cluster");
    tks_utf8_streamer_free(s);
    sink_free(&k);
}

static void test_max_hold(void) {
    /* A pathological cluster: e + 40 combining accents (81 bytes) with max_hold 16. */
    rbuf t = {0};
    rb_put(&t, "ab e", 4);
    for (int i = 0; i < 40; i++) rb_put(&t, "\xCC\x81", 2);
    rb_put(&t, "z", 1);
    talloc ta;
    tks_alloc a = talloc_make(&ta);
    tks_utf8_config g = {0};
    g.alloc = &a;
    g.flags = TKS_UTF8_GRAPHEME;
    g.max_hold = 16;
    sink k = {0};
    tks_utf8_streamer *s;
    tks_utf8_streamer_new(&s, &g, sink_text, &k);
    long long after_new = ta.live_bytes;
    for (size_t i = 0; i < t.len; i++) tks_utf8_streamer_push(s, t.p + i, 1);
    ok(k.text.len >= t.len - 16 - 1, "a cluster longer than max_hold is released "
                                     "(%zu of %zu bytes out before finish)", k.text.len, t.len);
    ok(ta.peak_bytes <= after_new, "the hold never grew past its 16-byte bound "
                                   "(peak %lld, after new %lld)", ta.peak_bytes, after_new);
    tks_utf8_streamer_finish(s);
    is_mem(k.text.p, k.text.len, t.p, t.len, "max_hold: the text is complete");
    ok(k.bad == 0, "max_hold: every delta still valid UTF-8");
    tks_utf8_streamer_free(s);
    is_int(ta.live, 0, "no leak");
    sink_free(&k);
    rb_free(&t);
}

/* ---- 100k tokens: linear work, constant memory ----------------------------------------- */

static void test_linear(void) {
    static const char src[] =
        "\xE6\x88\x91\xE5\xBE\x88\xE6\x84\x9F\xE8\xB0\xA2\xE4\xBD\xA0\xE7\x9A\x84\xE7\x83\xAD\xE6\x83\x85"
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 "
        "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5 caf\xC3\xA9 e\xCC\x81 \xFF\x80\xC0\xAF\xED\xA0\x80 "
        "\xF0\x9F\x98 hello \xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1 ";
    size_t srcn = sizeof src - 1;
    const size_t ntok = 100000;
    rbuf all = {0};
    size_t *ends = malloc(ntok * sizeof *ends);
    uint64_t seed = 12345;
    size_t at = 0;
    for (size_t i = 0; i < ntok; i++) { /* tokens of 1..4 bytes cut anywhere in the text */
        size_t l = 1 + rng_next(&seed) % 4;
        for (size_t j = 0; j < l; j++) {
            rb_put(&all, src + at, 1);
            at = (at + 1) % srcn;
        }
        ends[i] = all.len;
    }
    rbuf want = ref_decode(all.p, all.len);
    for (int gm = 0; gm <= 1; gm++) {
        talloc ta;
        tks_alloc a = talloc_make(&ta);
        tks_utf8_config cfg = {0};
        cfg.alloc = &a;
        cfg.flags = gm ? TKS_UTF8_GRAPHEME : 0;
        sink k = {0};
        tks_utf8_streamer *s;
        tks_utf8_streamer_new(&s, &cfg, sink_text, &k);
        long calls_after_new = ta.calls;
        long long peak_after_new = ta.peak_bytes;
        size_t prev = 0;
        int rc = TKS_OK;
        for (size_t i = 0; i < ntok && rc == TKS_OK; i++) {
            rc = tks_utf8_streamer_push(s, all.p + prev, ends[i] - prev);
            prev = ends[i];
        }
        if (rc == TKS_OK) rc = tks_utf8_streamer_finish(s);
        const char *m = gm ? "grapheme" : "plain";
        is_int(rc, TKS_OK, "%s: 100k tokens (%zu bytes) of CJK, emoji, invalid bytes", m, all.len);
        ok(mem_eq(k.text.p, k.text.len, want.p, want.len),
           "%s: output = WHATWG decode of the whole", m);
        ok(k.bad == 0, "%s: every delta valid", m);
        uint64_t work = tks__utf8_streamer_work(s);
        /* plain: each byte validated once; grapheme: also decoded, held and released */
        uint64_t per = gm ? 6 : 2;
        ok(work <= per * (uint64_t)all.len, "%s: work counted %llu <= %d x %zu bytes (linear)", m,
           (unsigned long long)work, (int)per, all.len);
        is_int(ta.calls - calls_after_new, 0, "%s: no allocation after new", m);
        ok(ta.peak_bytes == peak_after_new, "%s: memory constant (%lld bytes for the object)", m,
           peak_after_new);
        tks_utf8_streamer_free(s);
        sink_free(&k);
    }
    rb_free(&want);
    rb_free(&all);
    free(ends);
}

/* ---- real vocabularies: token bytes from the tiktoken files, golden decodes ---------- */

static void test_golden(const char *shared, const char *vocab) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab/%s.tiktoken", shared, vocab);
    tik v;
    if (tik_load(&v, path)) {
        ok(0, "load %s", path);
        return;
    }
    snprintf(path, sizeof path, "%s/vocab/golden/%s.jsonl", shared, vocab);
    size_t glen;
    char *g = read_file(path, &glen);
    ok(g != NULL, "read %s", path);
    int lines = 0, good = 0, bad_end = 0, good_g = 0;
    for (char *line = g ? strtok(g, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        char *ids = strstr(line, "\"ids\":["), *dec = strstr(line, "\"decoded\":\"");
        if (!ids || !dec) continue;
        /* token pieces; lines with special ids (not in the file) are for detok */
        rbuf all = {0};
        size_t cuts[4096], nc = 0;
        int special = 0;
        for (char *p = ids + 7; *p && *p != ']';) {
            unsigned long id = strtoul(p, &p, 10);
            if (id >= v.n || !v.tok[id]) { special = 1; break; }
            rb_put(&all, v.tok[id], v.len[id]);
            if (nc < 4096) cuts[nc++] = all.len;
            if (*p == ',') p++;
        }
        if (special) { rb_free(&all); continue; }
        if (nc) nc--; /* the last end is the end of the input */
        rbuf want = {0};
        json_unescape(dec + 11, &want);
        rb_put(&want, "", 0);
        lines++;
        sink k = {0};
        int rc = stream(NULL, all.p, all.len, cuts, nc, &k);
        if (rc == TKS_OK && k.bad == 0 && mem_eq(k.text.p, k.text.len, want.p, want.len))
            good++;
        else
            diag("%s: token by token differs on: %.60s", vocab, line);
        sink_free(&k);
        tks_utf8_config gc = {0};
        gc.flags = TKS_UTF8_GRAPHEME;
        rc = stream(&gc, all.p, all.len, cuts, nc, &k);
        if (rc == TKS_OK && mem_eq(k.text.p, k.text.len, want.p, want.len)) {
            good_g++;
            size_t b[4096];
            size_t nb = ref_boundaries(want.p, want.len, b, 4096);
            for (size_t d = 0; d < k.n_deltas; d++)
                if (!is_boundary(b, nb, k.ends[d])) bad_end++;
        }
        sink_free(&k);
        rb_free(&want);
        rb_free(&all);
    }
    ok(lines >= 60, "%s golden: %d lines without special tokens", vocab, lines);
    is_int(good, lines, "%s golden: token by token, output = reference decode, deltas valid", vocab);
    is_int(good_g, lines, "%s golden: grapheme mode, output = reference decode", vocab);
    is_int(bad_end, 0, "%s golden: grapheme mode, no delta ends inside a cluster", vocab);
    free(g);
    tik_free(&v);
}

/* ---- OOM --------------------------------------------------------------------------- */

typedef struct oomcase { uint32_t flags; const char *in; size_t n; } oomcase;

static int oom_body(const tks_alloc *a, void *ctx) {
    const oomcase *oc = ctx;
    tks_utf8_config cfg = {0};
    cfg.alloc = a;
    cfg.flags = oc->flags;
    sink k = {0};
    tks_utf8_streamer *s;
    int rc = tks_utf8_streamer_new(&s, &cfg, sink_text, &k);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    size_t i;
    for (i = 0; i < oc->n && rc == TKS_OK; i += 3) {
        size_t l = oc->n - i < 3 ? oc->n - i : 3;
        rc = tks_utf8_streamer_push(s, oc->in + i, l);
    }
    int result;
    if (rc == TKS_ENOMEM) {
        /* nothing received may be lost: the output holds all that was pushed */
        rbuf want = ref_decode_prefix(oc->in, i);
        result = mem_eq(k.text.p, k.text.len, want.p, want.len) ? 1 : 3;
        if (tks_utf8_streamer_push(s, "x", 1) != TKS_ENOMEM) result = 5; /* sticky */
        rb_free(&want);
    } else {
        if (rc == TKS_OK) rc = tks_utf8_streamer_finish(s);
        rbuf want = ref_decode(oc->in, oc->n);
        result = rc == TKS_OK && mem_eq(k.text.p, k.text.len, want.p, want.len) ? 0 : 4;
        rb_free(&want);
    }
    tks_utf8_streamer_free(s);
    sink_free(&k);
    return result;
}

static void test_oom(void) {
    static char big[400];
    size_t n = 0;
    memcpy(big, "ab e", 4);
    n = 4;
    for (int i = 0; i < 150; i++) { big[n++] = '\xCC'; big[n++] = '\x81'; } /* a 301-byte cluster */
    memcpy(big + n, " \xF0\x9F\x91\x8B\xFF z", 9);
    n += 9;
    oomcase plain = {0, big, n}, graph = {TKS_UTF8_GRAPHEME, big, n};
    oom_torture("utf8 streamer (plain)", oom_body, &plain);
    oom_torture("utf8 streamer (grapheme, growing hold)", oom_body, &graph);
}

static void test_sizes(void) {
    for (int gm = 0; gm <= 1; gm++) {
        talloc ta;
        tks_alloc a = talloc_make(&ta);
        tks_utf8_config cfg = {0};
        cfg.alloc = &a;
        cfg.flags = gm ? TKS_UTF8_GRAPHEME : 0;
        tks_utf8_streamer *s;
        sink k = {0};
        tks_utf8_streamer_new(&s, &cfg, sink_text, &k);
        diag("tks_utf8_streamer %s: %lld bytes per stream", gm ? "grapheme" : "plain", ta.live_bytes);
        ok(ta.live_bytes <= (gm ? 512 : 400), "per-stream state is small");
        tks_utf8_streamer_free(s);
    }
}

int main(void) {
    test_vectors();
    test_data_streams();
    test_immediate();
    test_random();
    test_zero_copy();
    test_split_token_62904();
    test_finish_and_state();
    test_callback_stop();
    test_grapheme();
    test_max_hold();
    test_linear();
    const char *shared = shared_dir();
    if (shared) {
        test_golden(shared, "cl100k_base");
        test_golden(shared, "o200k_base");
    } else {
        diag("no shared fixtures (TKS_SHARED): the cl100k/o200k golden part is skipped; "
             "test/data/text covers the same ground in small");
    }
    test_oom();
    test_sizes();
    return done_testing();
}
