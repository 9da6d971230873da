/* json_reader.c - strict RFC 8259 reader of one JSON text into a reusable flat tape
 * (see json_reader.h). Iterative: an open container keeps its parent's index in its
 * `end` field until it closes, so nesting needs no stack beyond the tape itself. */
#include "json_reader.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void tks__json_init(tks__json *j, uint32_t max_depth, size_t max_nodes) {
    memset(j, 0, sizeof *j);
    j->max_depth = max_depth ? max_depth : 128;
    j->max_nodes = max_nodes;
}

void tks__json_free(tks__json *j, const tks_alloc *a) {
    tks__free(a, j->v, j->cap * sizeof *j->v);
    j->v = NULL;
    j->cap = j->n = 0;
    tks__buf_free(&j->scratch, a);
}

static int grow(tks__json *j, const tks_alloc *a) {
    size_t limit = j->max_nodes ? j->max_nodes + 1 : (size_t)UINT32_MAX;
    if (j->cap >= limit) return TKS_ELIMIT;
    size_t cap = j->cap ? j->cap * 2 : 64;
    if (cap > limit) cap = limit;
    if (cap > SIZE_MAX / sizeof *j->v) return TKS_ELIMIT;
    tks__jnode *v = tks__realloc(a, j->v, j->cap * sizeof *j->v, cap * sizeof *v);
    if (!v) return TKS_ENOMEM;
    j->v = v;
    j->cap = cap;
    return TKS_OK;
}

/* The first byte at or after p that ends the fast scan of a string: '"', '\\', a control
 * character or a non-ASCII byte (e when none). 16 bytes a step with SSE2, 8 with SWAR
 * (the lowest flagged byte of the SWAR masks is exact: borrows only run upwards). */
static inline const unsigned char *scan_string(const unsigned char *p, const unsigned char *e) {
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" flags them too */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)), _mm_cmplt_epi8(v, sp));
        int mask = _mm_movemask_epi8(m);
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t x = w ^ (ones * '"'), y = w ^ (ones * '\\');
        uint64_t m = (((x - ones) & ~x) | ((y - ones) & ~y) | ((w - ones * 0x20) & ~w) | w) & highs;
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    return p;
}

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

#define FAIL(pos, why)                                                                     \
    do {                                                                                   \
        j->err_pos = (size_t)(pos);                                                        \
        j->err_msg = (why);                                                                \
        return TKS_EJSON;                                                                  \
    } while (0)

#define IS_WS(c) ((c) <= ' ' && ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t'))

/* Skips JSON whitespace; runs of spaces (Anthropic pads its events with them, Gemini's
 * arrays are indented) go 16 bytes a step. */
static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *e) {
    if (TKS_LIKELY(p < e && *p > ' ')) return p;
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' ');
    while (e - p >= 16) {
        int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), sp));
        if (mask != 0xFFFF) {
            p += __builtin_ctz(~(unsigned)mask);
            break;
        }
        p += 16;
    }
#endif
    if (e - p >= 8) { /* a short run of spaces before the end (Anthropic's padding) */
        uint64_t w;
        memcpy(&w, p, 8);
        if (w == 0x2020202020202020ull) p += 8;
    }
    while (p < e && IS_WS(*p)) p++;
    return p;
}

int tks__json_parse(tks__json *j, const tks_alloc *a, const char *s, size_t n) {
    const unsigned char *base = (const unsigned char *)s, *p = base, *e = base + n;
    uint32_t parent = 0; /* the open container; 0 = none (top level) */
    uint32_t depth = 0;
    int any_escape = 0;
    int is_key = 0; /* the string being read is an object key */
    uint32_t cnt = 0; /* children of `parent` so far (stored in the node while a child is open) */
    int rc;

    j->n = 0;
    j->src = s;
    j->src_len = n;
    j->err_pos = 0;
    j->err_msg = NULL;
    j->scratch.len = 0;
    if (n >= (size_t)UINT32_MAX) {
        j->err_msg = "JSON text too large";
        return TKS_ELIMIT;
    }
    if (j->cap < 2 && (rc = grow(j, a)) != TKS_OK) {
        j->err_msg = rc == TKS_ELIMIT ? "JSON text has too many values" : NULL;
        return rc;
    }
    memset(&j->v[0], 0, sizeof j->v[0]);
    j->v[0].end = 1;
    j->n = 1;

    for (;;) {
        /* ---- a value is expected at p ---- */
        p = skip_ws(p, e);
        if (p >= e) FAIL(p - base, n == 0 || parent == 0 ? "empty JSON text" : "unexpected end of JSON text");
        if (TKS_UNLIKELY(j->n >= j->cap)) {
            if ((rc = grow(j, a)) != TKS_OK) {
                j->err_msg = rc == TKS_ELIMIT ? "JSON text has too many values" : NULL;
                j->n = 0;
                return rc;
            }
        }
        uint32_t me = (uint32_t)j->n++;
        tks__jnode *v = &j->v[me];
        v->flags = 0;
        v->start = (uint32_t)(p - base);
        cnt++;
        switch (*p) {
        case '{':
        case '[': {
            v->type = *p == '{' ? TKS__J_OBJECT : TKS__J_ARRAY;
            if (++depth > j->max_depth) {
                j->err_pos = (size_t)(p - base);
                j->err_msg = "JSON nesting deeper than the limit";
                j->n = 0;
                return TKS_ELIMIT;
            }
            v->end = parent; /* remembered until this container closes */
            if (parent) j->v[parent].count = cnt;
            cnt = 0;
            parent = me;
            p++;
            p = skip_ws(p, e);
            if (p < e && *p == (v->type == TKS__J_OBJECT ? '}' : ']')) {
                p++;
                goto close_container;
            }
            if (v->type == TKS__J_OBJECT) goto expect_key;
            continue; /* array: a value follows */
        }
        case '"':
            is_key = 0;
            goto parse_string;
        case 't':
            if (e - p < 4 || memcmp(p, "true", 4)) FAIL(p - base, "invalid literal");
            v->type = TKS__J_TRUE;
            p += 4;
            break;
        case 'f':
            if (e - p < 5 || memcmp(p, "false", 5)) FAIL(p - base, "invalid literal");
            v->type = TKS__J_FALSE;
            p += 5;
            break;
        case 'n':
            if (e - p < 4 || memcmp(p, "null", 4)) FAIL(p - base, "invalid literal");
            v->type = TKS__J_NULL;
            p += 4;
            break;
        default: {
            const unsigned char *q = p;
            if (*q == '-') q++;
            if (q >= e) FAIL(q - base, "invalid number");
            if (*q == '0') {
                q++;
            } else if (*q >= '1' && *q <= '9') {
                while (q < e && *q >= '0' && *q <= '9') q++;
            } else {
                FAIL(q - base, q == p ? "unexpected character" : "invalid number");
            }
            if (q < e && *q == '.') {
                q++;
                if (q >= e || *q < '0' || *q > '9') FAIL(q - base, "invalid number: digit expected after '.'");
                while (q < e && *q >= '0' && *q <= '9') q++;
                v->flags |= TKS__JF_FRACTION;
            }
            if (q < e && (*q == 'e' || *q == 'E')) {
                q++;
                if (q < e && (*q == '+' || *q == '-')) q++;
                if (q >= e || *q < '0' || *q > '9') FAIL(q - base, "invalid number: digit expected in exponent");
                while (q < e && *q >= '0' && *q <= '9') q++;
                v->flags |= TKS__JF_FRACTION;
            }
            v->type = TKS__J_NUMBER;
            p = q;
            break;
        }
        }
        v->len = (uint32_t)(p - base) - v->start;
        v->end = (uint32_t)j->n;
        goto after_value;

    parse_string:
        /* v is a string node (value or key) starting at the quote p */
        {
            tks__jnode *sv = &j->v[j->n - 1];
            sv->type = TKS__J_STRING;
            p++;
            for (;;) {
                p = scan_string(p, e);
                if (p >= e) FAIL(sv->start, "unterminated string");
                unsigned char c = *p;
                if (c == '"') break;
                if (c == '\\') {
                    if (e - p < 2) FAIL(p - base, "unterminated string");
                    unsigned char x = p[1];
                    if (x == 'u') {
                        if (e - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 ||
                            hexval(p[5]) < 0)
                            FAIL(p - base, "invalid \\u escape");
                        p += 6;
                    } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                               x == 'r' || x == 't') {
                        p += 2;
                    } else {
                        FAIL(p - base, "invalid escape");
                    }
                    sv->flags |= TKS__JF_ESCAPED;
                    any_escape = 1;
                } else if (c < 0x20) {
                    FAIL(p - base, "control character in string");
                } else if (c < 0x80) {
                    p++;
                } else {
                    int k = tks__utf8_char(p, (size_t)(e - p));
                    if (k <= 0) FAIL(p - base, "invalid UTF-8 in string");
                    p += k;
                }
            }
            p++; /* closing quote */
            sv->len = (uint32_t)(p - base) - sv->start;
            sv->end = (uint32_t)j->n;
            if (is_key) {
                /* that was a key: ':' and the value follow */
                p = skip_ws(p, e);
                if (p >= e || *p != ':') FAIL(p - base, "':' expected after object key");
                p++;
                continue;
            }
        }

    after_value:
        for (;;) {
            if (parent == 0) {
                p = skip_ws(p, e);
                if (p != e) FAIL(p - base, "unexpected data after the JSON value");
                goto done;
            }
            p = skip_ws(p, e);
            if (p >= e) FAIL(p - base, "unexpected end of JSON text");
            tks__jnode *pv = &j->v[parent];
            if (*p == ',') {
                p++;
                if (pv->type == TKS__J_OBJECT) goto expect_key;
                break; /* array: next value */
            }
            if (*p == (pv->type == TKS__J_OBJECT ? '}' : ']')) {
                p++;
                goto close_container;
            }
            FAIL(p - base, pv->type == TKS__J_OBJECT ? "',' or '}' expected" : "',' or ']' expected");
        close_container : {
            tks__jnode *cv = &j->v[parent];
            uint32_t up = cv->end;
            cv->end = (uint32_t)j->n;
            cv->len = (uint32_t)(p - base) - cv->start;
            cv->count = cv->type == TKS__J_OBJECT ? cnt / 2 : cnt; /* keys + values -> members */
            parent = up;
            cnt = parent ? j->v[parent].count : 0;
            depth--;
        }
        }
        continue;

    expect_key:
        p = skip_ws(p, e);
        if (p >= e || *p != '"') FAIL(p - base, p >= e ? "unexpected end of JSON text" : "string key expected");
        if (TKS_UNLIKELY(j->n >= j->cap)) {
            if ((rc = grow(j, a)) != TKS_OK) {
                j->err_msg = rc == TKS_ELIMIT ? "JSON text has too many values" : NULL;
                j->n = 0;
                return rc;
            }
        }
        {
            tks__jnode *kv = &j->v[j->n++];
            kv->flags = 0;
            kv->start = (uint32_t)(p - base);
            cnt++;
        }
        is_key = 1;
        goto parse_string;
    }

done:
    if (any_escape) {
        /* one reservation for every string this text can unescape to: pointers stay put */
        j->scratch.len = 0;
        rc = tks__buf_reserve(&j->scratch, a, n);
        if (rc) {
            j->err_msg = rc == TKS_ELIMIT ? "JSON text too large" : NULL;
            j->n = 0;
            return rc;
        }
    }
    return TKS_OK;
}

#undef FAIL

/* Unescapes src[0..n) (validated by the parser) into out; returns the length written. */
static size_t unescape(const unsigned char *src, size_t n, char *out) {
    const unsigned char *p = src, *e = src + n;
    char *o = out;
    while (p < e) {
        const unsigned char *bs = memchr(p, '\\', (size_t)(e - p));
        if (!bs) bs = e;
        memcpy(o, p, (size_t)(bs - p));
        o += bs - p;
        p = bs;
        if (p >= e) break;
        unsigned char x = p[1];
        p += 2;
        switch (x) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp = (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo = 0;
                if (e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    lo = (uint32_t)(hexval(p[2]) << 12 | hexval(p[3]) << 8 | hexval(p[4]) << 4 | hexval(p[5]));
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD; /* lone high surrogate */
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* lone low surrogate */
            }
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: *o++ = (char)x; break; /* " \ / */
        }
    }
    return (size_t)(o - out);
}

int tks__json_str_escaped(tks__json *j, uint32_t i, const char **p, size_t *len) {
    tks__jnode *v = &j->v[i];
    if (!(v->flags & TKS__JF_DONE)) {
        /* the scratch buffer was reserved at parse time for the whole input */
        v->count = (uint32_t)j->scratch.len;
        v->ulen = (uint32_t)unescape((const unsigned char *)j->src + v->start + 1, v->len - 2,
                                     j->scratch.p + j->scratch.len);
        j->scratch.len += v->ulen;
        v->flags |= TKS__JF_DONE;
    }
    *p = j->scratch.p + v->count;
    *len = v->ulen;
    return 1;
}

int tks__json_str_is(tks__json *j, uint32_t i, const char *lit, size_t n) {
    const tks__jnode *v = &j->v[i];
    if (v->type != TKS__J_STRING) return 0;
    if (!(v->flags & TKS__JF_ESCAPED)) return v->len - 2 == n && memcmp(j->src + v->start + 1, lit, n) == 0;
    const char *p;
    size_t len;
    tks__json_str(j, i, &p, &len);
    return len == n && memcmp(p, lit, n) == 0;
}

int tks__json_int64(const tks__json *j, uint32_t i, int64_t *out) {
    const tks__jnode *v = &j->v[i];
    if (v->type != TKS__J_NUMBER) return 0;
    const char *p = j->src + v->start, *e = p + v->len;
    if (!(v->flags & TKS__JF_FRACTION)) {
        int neg = *p == '-';
        if (neg) p++;
        uint64_t acc = 0;
        for (; p < e; p++) {
            unsigned d = (unsigned)(*p - '0');
            if (acc > (UINT64_MAX - d) / 10) return 0;
            acc = acc * 10 + d;
        }
        if (neg) {
            if (acc > (uint64_t)INT64_MAX + 1) return 0;
            *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
        } else {
            if (acc > (uint64_t)INT64_MAX) return 0;
            *out = (int64_t)acc;
        }
        return 1;
    }
    double d;
    if (!tks__json_double(j, i, &d)) return 0;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) return 0;
    *out = (int64_t)d;
    return 1;
}

int tks__json_double(const tks__json *j, uint32_t i, double *out) {
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const tks__jnode *v = &j->v[i];
    if (v->type != TKS__J_NUMBER) return 0;
    const char *p = j->src + v->start, *e = p + v->len;
    int neg = *p == '-';
    if (neg) p++;
    uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        if (mant == 0 && *p == '0') continue;
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            digits++;
        } else {
            exp10++;
            digits++;
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
            if (mant == 0 && *p == '0') {
                exp10--;
                continue;
            }
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                exp10--;
                digits++;
            } else {
                digits++;
            }
        }
    }
    int inexact = digits > 19;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        long ev = 0;
        for (; p < e; p++)
            if (ev < 100000) ev = ev * 10 + (*p - '0');
        exp10 += (int)(eneg ? -ev : ev);
    }
    double d;
    if (mant == 0) {
        d = 0.0;
    } else if (!inexact && mant <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        /* exact operands, one rounding: correctly rounded */
        d = (double)mant;
        d = exp10 < 0 ? d / pow10[-exp10] : d * pow10[exp10];
    } else {
        /* slow path: strtod on a copy using the locale's decimal point */
        char buf[512];
        const char *src = j->src + v->start;
        size_t n = v->len;
        if (n >= sizeof buf - 8) {
            /* absurdly long number: an approximation is all anyone gets */
            d = (double)mant * pow(10.0, exp10);
        } else {
            const char *dp = localeconv()->decimal_point;
            size_t dl = dp ? strlen(dp) : 0;
            size_t o = 0;
            for (size_t k = 0; k < n; k++) {
                if (src[k] == '.' && dl && dl < 8) {
                    memcpy(buf + o, dp, dl);
                    o += dl;
                } else {
                    buf[o++] = src[k];
                }
            }
            buf[o] = 0;
            d = strtod(buf, NULL);
            *out = d;
            return 1;
        }
    }
    *out = neg ? -d : d;
    return 1;
}

int tks__json_bool(const tks__json *j, uint32_t i, int *out) {
    int t = j->v[i].type;
    if (t != TKS__J_TRUE && t != TKS__J_FALSE) return 0;
    *out = t == TKS__J_TRUE;
    return 1;
}

int tks__json_truthy(const tks__json *j, uint32_t i) {
    const tks__jnode *v = &j->v[i];
    switch (v->type) {
    case TKS__J_TRUE: return 1;
    case TKS__J_STRING: return v->len > 2;
    case TKS__J_ARRAY:
    case TKS__J_OBJECT: return v->count > 0;
    case TKS__J_NUMBER: {
        double d;
        return tks__json_double(j, i, &d) && d != 0.0;
    }
    default: return 0;
    }
}
