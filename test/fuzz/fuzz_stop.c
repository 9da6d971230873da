/* fuzz_stop.c - tks_stop against a naive matcher written here: for any stop strings
 * and text (both made valid UTF-8 by replacing bad bytes with U+FFFD), pushed at
 * input-derived character boundaries: the output is the text up to the earliest-start
 * match (ties: first in the list; through it with TKS_STOP_INCLUDE), the match and its
 * offset agree, every delta is valid UTF-8, and after every push output + held equals
 * the text so far with held the longest suffix that is a proper prefix of a stop.
 * Input: byte 0 = flags (bit 0 include) and cut seed; then stop strings separated by
 * 0x01, then 0x02, then the text. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct buf { char *p; size_t len, cap; } buf;

static void put(buf *b, const void *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + n) c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p) abort();
        b->cap = c;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Bad bytes -> U+FFFD, one per byte that is not part of a well-formed character (a
 * simple policy: the matcher only needs valid text, not a particular repair). */
static void sanitize(const unsigned char *s, size_t n, buf *o) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                    : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        int good = need > 0 && i + need <= n;
        for (size_t k = 1; good && k < need; k++) {
            unsigned lo = 0x80, hi = 0xBF, b = s[i + k];
            if (k == 1 && c == 0xE0) lo = 0xA0;
            if (k == 1 && c == 0xED) hi = 0x9F;
            if (k == 1 && c == 0xF0) lo = 0x90;
            if (k == 1 && c == 0xF4) hi = 0x8F;
            if (b < lo || b > hi) good = 0;
        }
        if (good) {
            put(o, s + i, need);
            i += need;
        } else {
            put(o, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
}

static int valid(const char *s, size_t n) {
    buf o = {0};
    sanitize((const unsigned char *)s, n, &o);
    int same = o.len == n && (n == 0 || memcmp(o.p, s, n) == 0);
    free(o.p);
    return same;
}

static int on_text(void *user, const char *t, size_t n) {
    if (n == 0 || !valid(t, n)) abort();
    put(user, t, n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const unsigned char *end = data + size, *p = data + 1;
    const unsigned char *sep = memchr(p, 0x02, (size_t)(end - p));
    if (!sep) return 0;
    buf store[16];
    const char *strs[16];
    size_t lens[16], ns = 0;
    while (p < sep && ns < 16) {
        const unsigned char *e = memchr(p, 0x01, (size_t)(sep - p));
        if (!e) e = sep;
        memset(&store[ns], 0, sizeof store[ns]);
        sanitize(p, (size_t)(e - p), &store[ns]);
        if (store[ns].len) {
            strs[ns] = store[ns].p;
            lens[ns] = store[ns].len;
            ns++;
        } else {
            free(store[ns].p);
        }
        p = e + 1;
    }
    buf text = {0};
    sanitize(sep + 1, (size_t)(end - sep - 1), &text);
    int include = data[0] & 1;

    /* the naive answer */
    size_t out_len = text.len, midx = 0, mstart = 0;
    int matched = 0;
    for (size_t s = 0; s < text.len && !matched; s++)
        for (size_t i = 0; i < ns; i++)
            if (lens[i] <= text.len - s && memcmp(text.p + s, strs[i], lens[i]) == 0) {
                matched = 1;
                midx = i;
                mstart = s;
                out_len = include ? s + lens[i] : s;
                break;
            }

    tks_stop_config cfg = {0};
    cfg.strings = strs;
    cfg.lengths = lens;
    cfg.n_strings = ns;
    cfg.flags = include ? TKS_STOP_INCLUDE : 0;
    cfg.max_table = (size_t)64 << 20;
    buf out = {0};
    tks_stop *st;
    if (tks_stop_new(&st, &cfg, on_text, &out) != TKS_OK) abort();
    uint64_t seed = data[0] | 1u;
    size_t prev = 0;
    int rc = TKS_OK;
    while (prev < text.len && rc == TKS_OK) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t cut = prev + 1 + (size_t)(seed >> 33) % 7;
        if (cut > text.len) cut = text.len;
        while (cut < text.len && ((unsigned char)text.p[cut] & 0xC0) == 0x80) cut++;
        rc = tks_stop_push(st, text.p + prev, cut - prev);
        prev = cut;
        if (rc == TKS_OK) {
            size_t hl, best = 0;
            const char *h = tks_stop_held(st, &hl);
            if (out.len + hl != cut || (out.len && memcmp(out.p, text.p, out.len)) ||
                (hl && memcmp(h, text.p + out.len, hl)))
                abort();
            for (size_t i = 0; i < ns; i++)
                for (size_t k = lens[i] - 1; k > best; k--)
                    if (k <= cut && memcmp(text.p + cut - k, strs[i], k) == 0) { best = k; break; }
            if (hl != best) abort();
        } else if (rc != TKS_STOPPED) {
            abort();
        }
    }
    int frc = tks_stop_finish(st);
    const tks_stop_match *m = tks_stop_matched(st);
    if (out.len != out_len || (out_len && memcmp(out.p, text.p, out_len))) abort();
    if (!!m != matched) abort();
    if (m && (m->index != midx || m->offset != mstart)) abort();
    if (frc != (matched ? TKS_STOPPED : TKS_OK)) abort();
    tks_stop_free(st);
    for (size_t i = 0; i < ns; i++) free(store[i].p);
    free(text.p);
    free(out.p);
    return 0;
}
