/* text_ref.h - references and sinks for the text-stage tests (t_utf8_streamer, t_stop,
 * t_coalescer): a WHATWG "UTF-8 decode" written from the Encoding Standard's algorithm
 * (independent of lib/utf8.c), a strict validator, a collecting sink, a small PRNG and
 * hex parsing. Header only. */
#ifndef TKS_TEST_TEXT_REF_H
#define TKS_TEST_TEXT_REF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable byte string ------------------------------------------------------------ */

typedef struct rbuf {
    char *p;
    size_t len, cap;
} rbuf;

static inline void rb_put(rbuf *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->len + n + 1) c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p) abort();
        b->cap = c;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
/* Equal byte strings (NULL allowed when the length is 0). */
static inline int mem_eq(const void *a, size_t an, const void *b, size_t bn) {
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static inline void rb_free(rbuf *b) { free(b->p); memset(b, 0, sizeof *b); }

static inline void rb_cp(rbuf *b, uint32_t cp) {
    unsigned char o[4];
    size_t n;
    if (cp < 0x80) { o[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { o[0] = (unsigned char)(0xE0 | cp >> 12); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3; }
    else { o[0] = (unsigned char)(0xF0 | cp >> 18); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F)); o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4; }
    rb_put(b, o, n);
}

/* ---- WHATWG Encoding Standard, "UTF-8 decoder" (streaming) -------------------------- */

typedef struct wdec {
    uint32_t cp;
    int needed, seen;
    unsigned lower, upper;
} wdec;

static inline void wdec_init(wdec *d) { d->cp = 0; d->needed = d->seen = 0; d->lower = 0x80; d->upper = 0xBF; }

/* One byte in; code points out (U+FFFD for errors) into b. */
static inline void wdec_byte(wdec *d, unsigned char byte, rbuf *b) {
    for (;;) {
        if (d->needed == 0) {
            if (byte <= 0x7F) rb_cp(b, byte);
            else if (byte >= 0xC2 && byte <= 0xDF) { d->needed = 1; d->cp = byte & 0x1F; }
            else if (byte >= 0xE0 && byte <= 0xEF) {
                if (byte == 0xE0) d->lower = 0xA0;
                if (byte == 0xED) d->upper = 0x9F;
                d->needed = 2; d->cp = byte & 0xF;
            } else if (byte >= 0xF0 && byte <= 0xF4) {
                if (byte == 0xF0) d->lower = 0x90;
                if (byte == 0xF4) d->upper = 0x8F;
                d->needed = 3; d->cp = byte & 0x7;
            } else rb_cp(b, 0xFFFD);
            return;
        }
        if (byte < d->lower || byte > d->upper) {
            /* error; the byte is processed again from the start state ("prepend") */
            d->cp = 0; d->needed = d->seen = 0; d->lower = 0x80; d->upper = 0xBF;
            rb_cp(b, 0xFFFD);
            continue;
        }
        d->lower = 0x80; d->upper = 0xBF;
        d->cp = (d->cp << 6) | (byte & 0x3F);
        if (++d->seen == d->needed) {
            rb_cp(b, d->cp);
            d->cp = 0; d->needed = d->seen = 0;
        }
        return;
    }
}

/* End of stream: an unfinished sequence is one U+FFFD. */
static inline void wdec_end(wdec *d, rbuf *b) {
    if (d->needed) rb_cp(b, 0xFFFD);
    wdec_init(d);
}

/* The whole decode of s (with the end-of-stream rule) into a fresh buffer. */
static inline rbuf ref_decode(const void *s, size_t n) {
    rbuf b = {0};
    wdec d;
    wdec_init(&d);
    for (size_t i = 0; i < n; i++) wdec_byte(&d, ((const unsigned char *)s)[i], &b);
    wdec_end(&d, &b);
    rb_put(&b, "", 0);
    return b;
}

/* What a streaming decoder has output after the first n bytes (no end-of-stream rule). */
static inline rbuf ref_decode_prefix(const void *s, size_t n) {
    rbuf b = {0};
    wdec d;
    wdec_init(&d);
    for (size_t i = 0; i < n; i++) wdec_byte(&d, ((const unsigned char *)s)[i], &b);
    rb_put(&b, "", 0);
    return b;
}

/* Valid UTF-8 of whole characters: decoding changes nothing and adds no U+FFFD. */
static inline int ref_valid(const void *s, size_t n) {
    rbuf b = ref_decode(s, n);
    int same = b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
    rb_free(&b);
    return same;
}

/* ---- sink recording every delta ----------------------------------------------------- */

typedef struct sink {
    rbuf text;
    size_t *ends;       /* text.len after each delta */
    size_t n_deltas, cap_ends;
    long bad;           /* deltas that were empty or not valid UTF-8 */
    long stop_at;       /* return 1 on this call number (1-based); 0 = never */
    long calls;
    const char *lo, *hi; /* zero-copy check: deltas pointing into [lo, hi) */
    long in_caller_buf;
} sink;

static inline int sink_text(void *user, const char *t, size_t n) {
    sink *k = user;
    k->calls++;
    if (n == 0 || !ref_valid(t, n)) k->bad++;
    if (k->lo && t >= k->lo && t + n <= k->hi) k->in_caller_buf++;
    rb_put(&k->text, t, n);
    if (k->n_deltas == k->cap_ends) {
        k->cap_ends = k->cap_ends ? 2 * k->cap_ends : 64;
        k->ends = realloc(k->ends, k->cap_ends * sizeof *k->ends);
        if (!k->ends) abort();
    }
    k->ends[k->n_deltas++] = k->text.len;
    return k->stop_at && k->calls == k->stop_at;
}

static inline void sink_free(sink *k) {
    rb_free(&k->text);
    free(k->ends);
    memset(k, 0, sizeof *k);
}

/* ---- PRNG and hex -------------------------------------------------------------------- */

static inline uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

/* Parses hex digits (stops at the first non-hex); returns the byte count. */
static inline size_t hex_decode(const char *h, size_t hn, unsigned char *out) {
    size_t n = 0;
    for (size_t i = 0; i + 2 <= hn; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return n;
            v = v * 16 + d;
        }
        out[n++] = (unsigned char)v;
    }
    return n;
}

/* ---- tiktoken files and golden JSON lines (include testutil.h first: read_file) ---- */

#ifdef TKS_TEST_UTIL_H
static inline int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

typedef struct tik { char **tok; size_t *len; size_t n; } tik;

static inline int tik_load(tik *v, const char *path) {
    size_t flen;
    char *f = read_file(path, &flen);
    if (!f) return -1;
    size_t cap = 1 << 18;
    v->tok = calloc(cap, sizeof *v->tok);
    v->len = calloc(cap, sizeof *v->len);
    v->n = cap;
    char *p = f, *end = f + flen;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        char *sp = memchr(p, ' ', (size_t)(nl - p));
        if (sp) {
            size_t rank = strtoul(sp + 1, NULL, 10);
            if (rank < cap) {
                char *out = malloc((size_t)(sp - p));
                size_t o = 0;
                unsigned acc = 0;
                int bits = 0;
                for (char *q = p; q < sp; q++) {
                    int d = b64v(*q);
                    if (d < 0) break;
                    acc = (acc << 6) | (unsigned)d;
                    bits += 6;
                    if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)((acc >> bits) & 0xFF);
                    }
                }
                v->tok[rank] = out;
                v->len[rank] = o;
            }
        }
        p = nl + 1;
    }
    free(f);
    return 0;
}

static inline void tik_free(tik *v) {
    for (size_t i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok);
    free(v->len);
}

/* Unescapes the JSON string starting after the opening quote at s. */
static inline void json_unescape(const char *s, rbuf *out) {
    while (*s && *s != '"') {
        if (*s != '\\') { rb_put(out, s++, 1); continue; }
        s++;
        char c = *s++;
        switch (c) {
        case 'n': rb_put(out, "\n", 1); break;
        case 't': rb_put(out, "\t", 1); break;
        case 'r': rb_put(out, "\r", 1); break;
        case 'b': rb_put(out, "\b", 1); break;
        case 'f': rb_put(out, "\f", 1); break;
        case 'u': {
            uint32_t u = (uint32_t)strtoul((char[5]){s[0], s[1], s[2], s[3], 0}, NULL, 16);
            s += 4;
            if (u >= 0xD800 && u < 0xDC00 && s[0] == '\\' && s[1] == 'u') {
                uint32_t lo = (uint32_t)strtoul((char[5]){s[2], s[3], s[4], s[5], 0}, NULL, 16);
                s += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            rb_cp(out, u);
            break;
        }
        default: rb_put(out, &c, 1); break;
        }
    }
}

#endif

#endif
