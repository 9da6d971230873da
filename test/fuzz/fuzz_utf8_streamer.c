/* fuzz_utf8_streamer.c - differential: for any bytes, the streamer's deltas, pushed in
 * pieces cut at a few input-derived points (and one byte at a time), concatenate to a
 * one-shot WHATWG UTF-8 decode with maximal-subpart U+FFFD, written here on its own.
 * Every delta is valid, non-empty UTF-8; in grapheme mode no delta ends inside a
 * cluster of utf8proc's segmentation of the whole output.
 * Input: byte 0 = mode (bit 0 grapheme), bytes 1..3 = cut points, the rest = payload. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct out {
    unsigned char *p;
    size_t len, cap;
    size_t *ends;
    size_t n_ends, cap_ends;
} out;

static void put(out *o, const void *s, size_t n) {
    if (o->len + n > o->cap) {
        size_t c = o->cap ? o->cap : 256;
        while (c < o->len + n) c *= 2;
        o->p = realloc(o->p, c);
        if (!o->p) abort();
        o->cap = c;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_cp(out *o, uint32_t cp) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { b[0] = (unsigned char)(0xC0 | (cp >> 6)); b[1] = (unsigned char)(0x80 | (cp & 63)); n = 2; }
    else if (cp < 0x10000) { b[0] = (unsigned char)(0xE0 | (cp >> 12)); b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)); b[2] = (unsigned char)(0x80 | (cp & 63)); n = 3; }
    else { b[0] = (unsigned char)(0xF0 | (cp >> 18)); b[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)); b[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)); b[3] = (unsigned char)(0x80 | (cp & 63)); n = 4; }
    put(o, b, n);
}

/* The Encoding Standard's UTF-8 decoder, whole input, end-of-stream rule included. */
static void whatwg_decode(const unsigned char *s, size_t n, out *o) {
    uint32_t cp = 0;
    int needed = 0, seen = 0;
    unsigned lower = 0x80, upper = 0xBF;
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        if (needed == 0) {
            i++;
            if (b <= 0x7F) put_cp(o, b);
            else if (b >= 0xC2 && b <= 0xDF) { needed = 1; cp = b & 0x1F; }
            else if (b >= 0xE0 && b <= 0xEF) {
                if (b == 0xE0) lower = 0xA0;
                if (b == 0xED) upper = 0x9F;
                needed = 2; cp = b & 0xF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                if (b == 0xF0) lower = 0x90;
                if (b == 0xF4) upper = 0x8F;
                needed = 3; cp = b & 0x7;
            } else put_cp(o, 0xFFFD);
            continue;
        }
        if (b < lower || b > upper) { /* error; b is read again */
            cp = 0; needed = seen = 0; lower = 0x80; upper = 0xBF;
            put_cp(o, 0xFFFD);
            continue;
        }
        i++;
        lower = 0x80; upper = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
        if (++seen == needed) { put_cp(o, cp); cp = 0; needed = seen = 0; }
    }
    if (needed) put_cp(o, 0xFFFD);
}

static int valid(const void *s, size_t n) {
    out d = {0};
    whatwg_decode(s, n, &d);
    int same = d.len == n && (n == 0 || memcmp(d.p, s, n) == 0);
    free(d.p);
    return same;
}

static int on_text(void *user, const char *t, size_t n) {
    out *o = user;
    if (n == 0 || !valid(t, n)) abort(); /* every delta: valid UTF-8, never empty */
    put(o, t, n);
    if (o->n_ends == o->cap_ends) {
        o->cap_ends = o->cap_ends ? 2 * o->cap_ends : 64;
        o->ends = realloc(o->ends, o->cap_ends * sizeof *o->ends);
        if (!o->ends) abort();
    }
    o->ends[o->n_ends++] = o->len;
    return 0;
}

static void run(const tks_utf8_config *cfg, const unsigned char *in, size_t n, const size_t *cuts,
                size_t nc, out *o) {
    tks_utf8_streamer *s;
    if (tks_utf8_streamer_new(&s, cfg, on_text, o)) abort();
    size_t prev = 0;
    for (size_t i = 0; i <= nc; i++) {
        size_t end = i < nc ? cuts[i] : n;
        if (tks_utf8_streamer_push(s, in + prev, end - prev) != TKS_OK) abort();
        prev = end;
    }
    if (tks_utf8_streamer_finish(s) != TKS_OK) abort();
    tks_utf8_streamer_free(s);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    const unsigned char *in = data + 4;
    size_t n = size - 4;
    tks_utf8_config cfg = {0};
    cfg.flags = (data[0] & 1) ? TKS_UTF8_GRAPHEME : 0;
    cfg.max_hold = (size_t)1 << 20; /* no cluster here is longer: boundaries must hold */
    size_t cuts[3], nc = 0;
    for (int i = 0; i < 3 && n; i++) cuts[nc++] = (size_t)data[1 + i] * n / 256;
    qsort(cuts, nc, sizeof cuts[0], cmp_size);

    out want = {0};
    whatwg_decode(in, n, &want);
    out a = {0}, b = {0};
    run(&cfg, in, n, cuts, nc, &a);
    if (a.len != want.len || (a.len && memcmp(a.p, want.p, a.len))) abort();
    /* one byte at a time: the same text */
    size_t *every = malloc((n ? n : 1) * sizeof *every);
    for (size_t i = 1; i < n; i++) every[i - 1] = i;
    run(&cfg, in, n, every, n ? n - 1 : 0, &b);
    free(every);
    if (b.len != want.len || (b.len && memcmp(b.p, want.p, b.len))) abort();

    if ((cfg.flags & TKS_UTF8_GRAPHEME) && want.len) {
        /* delta ends must be cluster starts of utf8proc's segmentation of the whole text */
        utf8proc_uint8_t *m = NULL;
        utf8proc_ssize_t ml = utf8proc_map(want.p, (utf8proc_ssize_t)want.len, &m, UTF8PROC_CHARBOUND);
        if (ml < 0) abort();
        unsigned char *is_start = calloc(want.len + 1, 1);
        size_t pos = 0;
        for (utf8proc_ssize_t i = 0; i < ml; i++) {
            if (m[i] == 0xFF) is_start[pos] = 1;
            else pos++;
        }
        is_start[want.len] = 1;
        if (pos != want.len) abort();
        for (int pass = 0; pass < 2; pass++) {
            const out *o = pass ? &b : &a;
            for (size_t i = 0; i < o->n_ends; i++)
                if (!is_start[o->ends[i]]) abort();
        }
        free(is_start);
        free(m);
    }
    free(want.p);
    free(a.p);
    free(a.ends);
    free(b.p);
    free(b.ends);
    return 0;
}
