/* sse_parser.c - tks_sse_parser: bytes -> events under the WHATWG "event stream" rules
 * (HTML Living Standard 9.2.5/9.2.6; ../shared/research/formats.md section 8).
 *
 * Speed comes from three things. Line ends are found in one vector pass (SSE2, or a
 * word-at-a-time fallback) that also notes the line's first byte >= 0x80, so each byte
 * is scanned once and lone-CR streams stay linear. Only a line holding such a byte is
 * checked as UTF-8 (SSSE3 chosen at run time, else scalar with an ASCII fast path; the
 * shared decoder tks__utf8_char has the last word on anything invalid). And a value
 * lying in the caller's push buffer is referenced, not copied: an event made of one data
 * line reaches the callback pointing into the caller's bytes. Only what must outlive the
 * push (an unfinished event or line) is copied, once, when the push ends. */
#include "internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* SSSE3 validation of UTF-8, chosen at run time (gcc/clang on x86 only). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(TKS_NO_SIMD)
#include <tmmintrin.h>
#define HAVE_UTF8_SSSE3 1
#endif

#if defined(__GNUC__)
#define TKS_HOT_INLINE __attribute__((always_inline)) inline
#else
#define TKS_HOT_INLINE inline
#endif

/* p->st bits */
#define ST_PENDING_CR 0x01u /* the last byte seen was CR: an LF first in the next push pairs */
#define ST_BOM_DONE 0x02u   /* the stream's first bytes were checked for a BOM */
#define ST_FIELDS 0x04u     /* a field line was read since the last blank line */
#define ST_ID_PENDING 0x08u /* an id field set the id buffer since the last blank line */
#define ST_STOPPED 0x10u
#define ST_FINISHED 0x20u

struct tks_sse_parser {
    tks_alloc alloc;
    tks_event_cb on_event;
    void *user;
    tks_event_cb on_comment;
    tks_event_cb on_retry;
    uint64_t offset;      /* input bytes consumed so far */
    uint64_t ev_start;    /* offset of the first field line of the event being read */
    uint64_t err_offset;
    tks__err *err;        /* the error's words; allocated when an error happens (keeps the
                             idle object small); NULL: no error, or no memory for it */
    tks__buf line;        /* a line begun in an earlier push; .limit = max_line */
    tks__buf data;        /* data lines joined with LF; .limit = max_event */
    tks__buf type;        /* the event type buffer */
    tks__buf ids;         /* [last event ID string][id buffer, when ST_ID_PENDING] */
    size_t last_id_len;
    int err_code;
    uint32_t flags;       /* TKS_SSE_* */
    uint32_t st;          /* ST_* */
    uint8_t bom;          /* leading BOM bytes matched so far */
    uint8_t ndata;        /* data lines in the event: 0, 1, 2 = two or more */
};

/* Per-push state: values that still point into the caller's bytes (or into p->line,
 * which is not overwritten before the push ends). */
typedef struct push_ctx {
    const char *dref; /* the event's only data line, when dref_on */
    size_t dref_len;
    const char *tref; /* the event type, when tref_on */
    size_t tref_len;
    int dref_on, tref_on;
} push_ctx;

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* ---- errors ---------------------------------------------------------------------- */

static int fail(tks_sse_parser *p, int code, uint64_t off, const char *msg) {
    if (p->err_code) return p->err_code;
    p->err_code = code;
    p->err_offset = off;
    if (!p->err) p->err = tks__calloc(&p->alloc, sizeof *p->err);
    if (p->err) {
        tks__err_clear(p->err);
        tks__err_at(p->err, code, off, msg);
    }
    return code;
}

static int fail_mem(tks_sse_parser *p, int rc, uint64_t off) {
    if (rc == TKS_ELIMIT) return fail(p, rc, off, "event larger than max_event");
    return fail(p, rc, off, "out of memory");
}

/* ---- UTF-8 ------------------------------------------------------------------------ */

/* A word with byte c in every byte. */
#define REP8(c) (UINT64_C(0x0101010101010101) * (uint64_t)(c))
/* 0x80 in each byte of w that is zero (exact for the lowest such byte). */
#define ZERO8(w) (((w) - REP8(0x01)) & ~(w) & REP8(0x80))

/* Length of the leading run of ASCII bytes. */
static size_t ascii_len(const unsigned char *s, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 64 <= n; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)))) break;
    }
    for (; i + 16 <= n; i += 16)
        if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)))) break;
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080)) break;
    }
    while (i < n && s[i] < 0x80) i++;
    return i;
}

#define CONT(b) (((b) & 0xC0u) == 0x80u)

/* Index of the first byte >= 0x80 in the 8 bytes at s, given w = their word & REP8(0x80)
 * (not 0). */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_HI8(w, s) ((size_t)__builtin_ctzll(w) >> 3)
#else
#define FIRST_HI8(w, s) first_hi8(s)
static size_t first_hi8(const unsigned char *s) {
    size_t k = 0;
    while (s[k] < 0x80) k++;
    return k;
}
#endif

/*
 * Length of the longest valid UTF-8 prefix. ASCII runs are skipped a word (or 16 bytes)
 * at a time and well-formed sequences are accepted inline (Unicode Table 3-7); anything
 * else goes to the shared decoder, tks__utf8_char, which has the last word.
 */
static size_t utf8_valid(const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            uint64_t w;
            if (n - i < 8) {
                i++;
                continue;
            }
            memcpy(&w, s + i, 8);
            w &= REP8(0x80);
            if (w) { /* to the first byte >= 0x80 of the word */
                i += FIRST_HI8(w, s + i);
                continue;
            }
            i += 8;
            if (n - i >= 16) i += ascii_len(s + i, n - i);
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (n - i >= 2 && CONT(s[i + 1])) {
                i += 2;
                continue;
            }
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (n - i >= 3 && CONT(s[i + 1]) && CONT(s[i + 2]) && (c != 0xE0 || s[i + 1] >= 0xA0) &&
                (c != 0xED || s[i + 1] <= 0x9F)) {
                i += 3;
                continue;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (n - i >= 4 && CONT(s[i + 1]) && CONT(s[i + 2]) && CONT(s[i + 3]) &&
                (c != 0xF0 || s[i + 1] >= 0x90) && (c != 0xF4 || s[i + 1] <= 0x8F)) {
                i += 4;
                continue;
            }
        }
        int k = tks__utf8_char(s + i, n - i);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return i;
}

#if HAVE_UTF8_SSSE3
/*
 * Is s[0..n) valid UTF-8? 16 bytes at a time with the "lookup" method (Keiser & Lemire,
 * "Validating UTF-8 in less than one instruction per byte", 2021): three table lookups
 * on the high and low nibbles of each byte and its predecessor flag every bad pair, and
 * the bytes two and three back say where a third or fourth byte is due. Yes/no only:
 * when it says no, the scalar path finds the exact place.
 */
#define U8_TS 0x01   /* too short: a lead or ASCII byte where a continuation is due */
#define U8_TL 0x02   /* too long: a continuation after ASCII */
#define U8_O3 0x04   /* overlong 3-byte form */
#define U8_BIG 0x08  /* above U+10FFFF */
#define U8_SUR 0x10  /* surrogate */
#define U8_O2 0x20   /* overlong 2-byte form */
#define U8_B1000 0x40 /* above U+10FFFF (second byte 1000xxxx), or overlong 4-byte form */
#define U8_TC 0x80   /* two continuations in a row */
#define U8_CARRY (U8_TS | U8_TL | U8_TC)

/* n >= 32. */
__attribute__((target("ssse3"))) static int utf8_ok_ssse3(const unsigned char *s, size_t n) {
    const __m128i b1_high = _mm_setr_epi8(
        U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, /* 0xxx: ASCII */
        (char)U8_TC, (char)U8_TC, (char)U8_TC, (char)U8_TC,     /* 10xx: continuation */
        U8_TS | U8_O2, U8_TS, U8_TS | U8_O3 | U8_SUR,            /* 1100, 1101, 1110 */
        U8_TS | U8_BIG | U8_B1000);                              /* 1111 */
    const __m128i b1_low = _mm_setr_epi8(
        (char)(U8_CARRY | U8_O3 | U8_O2 | U8_B1000), (char)(U8_CARRY | U8_O2), (char)U8_CARRY,
        (char)U8_CARRY, (char)(U8_CARRY | U8_BIG), (char)(U8_CARRY | U8_BIG | U8_B1000),
        (char)(U8_CARRY | U8_BIG | U8_B1000), (char)(U8_CARRY | U8_BIG | U8_B1000),
        (char)(U8_CARRY | U8_BIG | U8_B1000), (char)(U8_CARRY | U8_BIG | U8_B1000),
        (char)(U8_CARRY | U8_BIG | U8_B1000), (char)(U8_CARRY | U8_BIG | U8_B1000),
        (char)(U8_CARRY | U8_BIG | U8_B1000), (char)(U8_CARRY | U8_BIG | U8_B1000 | U8_SUR),
        (char)(U8_CARRY | U8_BIG | U8_B1000), (char)(U8_CARRY | U8_BIG | U8_B1000));
    const __m128i b2_high = _mm_setr_epi8(
        U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, /* ASCII */
        (char)(U8_TL | U8_O2 | U8_TC | U8_O3 | U8_B1000),       /* 1000 */
        (char)(U8_TL | U8_O2 | U8_TC | U8_O3 | U8_BIG),         /* 1001 */
        (char)(U8_TL | U8_O2 | U8_TC | U8_SUR | U8_BIG),        /* 1010 */
        (char)(U8_TL | U8_O2 | U8_TC | U8_SUR | U8_BIG),        /* 1011 */
        U8_TS, U8_TS, U8_TS, U8_TS);                            /* 11xx: a lead */
    const __m128i nib = _mm_set1_epi8(0x0F), zero = _mm_setzero_si128();
    const __m128i third = _mm_set1_epi8((char)(0xE0 - 1)), fourth = _mm_set1_epi8((char)(0xF0 - 1));
    const __m128i flag80 = _mm_set1_epi8((char)0x80);
    __m128i prev = zero, err = zero;
#define U8_BLOCK(in)                                                                           \
    do {                                                                                       \
        __m128i p1 = _mm_alignr_epi8(in, prev, 15);                                            \
        __m128i p2 = _mm_alignr_epi8(in, prev, 14);                                            \
        __m128i p3 = _mm_alignr_epi8(in, prev, 13);                                            \
        __m128i sc = _mm_and_si128(                                                            \
            _mm_and_si128(_mm_shuffle_epi8(b1_high, _mm_and_si128(_mm_srli_epi16(p1, 4), nib)), \
                          _mm_shuffle_epi8(b1_low, _mm_and_si128(p1, nib))),                  \
            _mm_shuffle_epi8(b2_high, _mm_and_si128(_mm_srli_epi16(in, 4), nib)));            \
        __m128i must = _mm_or_si128(_mm_subs_epu8(p2, third), _mm_subs_epu8(p3, fourth));     \
        must = _mm_and_si128(_mm_cmpgt_epi8(must, zero), flag80);                              \
        err = _mm_or_si128(err, _mm_xor_si128(must, sc));                                      \
        prev = in;                                                                             \
    } while (0)
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        U8_BLOCK(in);
    }
    if (i < n) { /* the last 16 bytes again, after their own 16 predecessors (n >= 32) */
        prev = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 32));
        __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
        U8_BLOCK(in);
    }
    /* then NULs: a sequence cut short by the end meets ASCII, which is an error */
    U8_BLOCK(zero);
#undef U8_BLOCK
    return _mm_movemask_epi8(_mm_cmpeq_epi8(err, zero)) == 0xFFFF;
}
#endif

/* Size of s once its invalid sequences are replaced by U+FFFD (maximal subparts). A
 * sequence cut short by the end of the value (the line ended) is one maximal subpart. */
static size_t replaced_len(const char *text, size_t n, size_t ok) {
    const unsigned char *s = (const unsigned char *)text;
    size_t out = ok, i = ok;
    while (i < n) {
        int k = tks__utf8_char(s + i, n - i);
        if (k > 0) {
            out += (size_t)k;
            i += (size_t)k;
        } else {
            out += 3;
            i += k < 0 ? (size_t)-k : n - i;
        }
    }
    return out;
}

/* Appends s with invalid sequences replaced; ok = length of its valid prefix. */
static int append_text(tks__buf *b, const tks_alloc *a, const char *text, size_t n, size_t ok) {
    int rc = tks__buf_append(b, a, text, ok);
    const unsigned char *s = (const unsigned char *)text;
    size_t i = ok;
    while (rc == TKS_OK && i < n) {
        int k = tks__utf8_char(s + i, n - i);
        if (k > 0) {
            rc = tks__buf_append(b, a, s + i, (size_t)k);
            i += (size_t)k;
        } else {
            rc = tks__buf_append(b, a, TKS_UTF8_REPLACEMENT, 3);
            i += k < 0 ? (size_t)-k : n - i;
        }
    }
    return rc;
}

/* Valid prefix length of the value v[0..n); hi = the line's first byte >= 0x80 (when it
 * is past v + n, the value is ASCII: nothing to check). */
static size_t text_ok(const tks_sse_parser *p, const char *v, size_t n, const char *hi) {
    if (p->flags & TKS_SSE_RAW_UTF8) return n;
    if (hi < v) hi = v; /* a line from p->line: hi is its start, check it all */
    size_t skip = (size_t)(hi - v);
    if (skip >= n) return n;
#if HAVE_UTF8_SSSE3
    /* from the first byte >= 0x80, or from the value's start when that leaves too few
     * bytes for the vector path (the ASCII before it is valid either way) */
    if (n >= 32 && __builtin_cpu_supports("ssse3")) {
        const char *from = n - skip >= 32 ? hi : v;
        if (utf8_ok_ssse3((const unsigned char *)from, n - (size_t)(from - v))) return n;
    }
#endif
    return skip + utf8_valid(hi, n - skip);
}

/* ---- events ------------------------------------------------------------------------ */

static size_t id_buf_len(const tks_sse_parser *p) {
    return p->st & ST_ID_PENDING ? p->ids.len - p->last_id_len : p->last_id_len;
}

/* Is data + type + id larger than max_event? (no overflow whatever the sizes) */
static int too_big(const tks_sse_parser *p, size_t data, size_t type, size_t id) {
    size_t lim = p->data.limit;
    if (data > lim) return 1;
    lim -= data;
    if (type > lim) return 1;
    return id > lim - type;
}

static size_t data_len(const tks_sse_parser *p, const push_ctx *c) {
    return c->dref_on ? c->dref_len : p->data.len;
}

static size_t type_len(const tks_sse_parser *p, const push_ctx *c) {
    return c->tref_on ? c->tref_len : p->type.len;
}

static int stop(tks_sse_parser *p) {
    p->st |= ST_STOPPED;
    return TKS_STOPPED;
}

/* A blank line: dispatch the event (spec 9.2.6 "dispatch the event"). */
static int dispatch(tks_sse_parser *p, push_ctx *c) {
    if (p->st & ST_ID_PENDING) { /* the last event ID string takes the id buffer */
        size_t n = p->ids.len - p->last_id_len;
        if (n && p->last_id_len) memmove(p->ids.p, p->ids.p + p->last_id_len, n);
        p->ids.len = p->last_id_len = n;
    }
    p->st &= ~(ST_FIELDS | ST_ID_PENDING);
    if (p->ndata == 0) { /* empty data buffer: nothing, and the type is forgotten */
        c->tref_on = 0;
        p->type.len = 0;
        return 0;
    }
    tks_event ev;
    if (c->tref_on) {
        ev.type = c->tref;
        ev.type_len = c->tref_len;
    } else {
        ev.type = p->type.p;
        ev.type_len = p->type.len;
    }
    if (ev.type_len == 0) {
        ev.type = "message";
        ev.type_len = 7;
    }
    if (c->dref_on) {
        ev.data = c->dref;
        ev.data_len = c->dref_len;
    } else {
        ev.data = p->data.len ? p->data.p : "";
        ev.data_len = p->data.len;
    }
    ev.id = p->last_id_len ? p->ids.p : "";
    ev.id_len = p->last_id_len;
    ev.message_type = "";
    ev.message_type_len = 0;
    ev.headers = NULL;
    ev.n_headers = 0;
    ev.offset = p->ev_start;
    ev.retry_ms = 0;
    int r = p->on_event ? p->on_event(p->user, &ev) : 0;
    c->dref_on = c->tref_on = 0;
    p->data.len = p->type.len = 0;
    p->ndata = 0;
    return r ? stop(p) : 0;
}

static int data_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, const char *hi) {
    size_t ok = text_ok(p, v, n, hi);
    size_t out = ok == n ? n : replaced_len(v, n, ok);
    size_t cur = data_len(p, c), sep = p->ndata ? 1 : 0;
    if (out > SIZE_MAX - 1 - cur ||
        too_big(p, cur + sep + out, type_len(p, c), id_buf_len(p)))
        return fail(p, TKS_ELIMIT, p->ev_start, "event larger than max_event");
    if (p->ndata == 0 && ok == n) { /* the common case: reference, don't copy */
        c->dref = v;
        c->dref_len = n;
        c->dref_on = 1;
        p->ndata = 1;
        return 0;
    }
    int rc = TKS_OK;
    if (c->dref_on) {
        c->dref_on = 0;
        rc = tks__buf_append(&p->data, &p->alloc, c->dref, c->dref_len);
    }
    if (rc == TKS_OK && sep) rc = tks__buf_putc(&p->data, &p->alloc, '\n');
    if (rc == TKS_OK) rc = append_text(&p->data, &p->alloc, v, n, ok);
    if (rc) return fail_mem(p, rc, p->ev_start);
    p->ndata = p->ndata ? 2 : 1;
    return 0;
}

static int event_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, const char *hi) {
    size_t ok = text_ok(p, v, n, hi);
    size_t out = ok == n ? n : replaced_len(v, n, ok);
    if (too_big(p, data_len(p, c), out, id_buf_len(p)))
        return fail(p, TKS_ELIMIT, p->ev_start, "event larger than max_event");
    p->type.len = 0;
    if (ok == n) {
        c->tref = v;
        c->tref_len = n;
        c->tref_on = 1;
        return 0;
    }
    c->tref_on = 0;
    int rc = append_text(&p->type, &p->alloc, v, n, ok);
    return rc ? fail_mem(p, rc, p->ev_start) : 0;
}

static int id_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, const char *hi) {
    if (memchr(v, '\0', n)) return 0; /* an id holding NULL is ignored */
    size_t ok = text_ok(p, v, n, hi);
    size_t out = ok == n ? n : replaced_len(v, n, ok);
    if (too_big(p, data_len(p, c), type_len(p, c), out))
        return fail(p, TKS_ELIMIT, p->ev_start, "event larger than max_event");
    p->ids.len = p->last_id_len; /* drop an earlier id of the same event */
    p->st |= ST_ID_PENDING;
    int rc = append_text(&p->ids, &p->alloc, v, n, ok);
    return rc ? fail_mem(p, rc, p->ev_start) : 0;
}

static int retry_field(tks_sse_parser *p, const char *v, size_t n, uint64_t off) {
    uint64_t ms = 0;
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)v[i] - (unsigned)'0';
        if (d > 9) return 0;                         /* digits only */
        if (ms > (UINT64_MAX - d) / 10) return 0;    /* too large: ignored */
        ms = ms * 10 + d;
    }
    if (!p->on_retry) return 0;
    tks_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ev.id = ev.message_type = "";
    ev.data = v;
    ev.data_len = n;
    ev.offset = off;
    ev.retry_ms = ms;
    return p->on_retry(p->user, &ev) ? stop(p) : 0;
}

/* A comment: text after the ':' as it is (the spec strips no space from comments). */
static int comment(tks_sse_parser *p, const char *v, size_t n, uint64_t off, const char *hi) {
    if (!p->on_comment) return 0;
    tks_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ev.id = ev.message_type = "";
    ev.offset = off;
    size_t ok = text_ok(p, v, n, hi);
    if (ok == n) {
        ev.data = v;
        ev.data_len = n;
        return p->on_comment(p->user, &ev) ? stop(p) : 0;
    }
    /* Rare (invalid UTF-8 in a comment): a temporary copy with replacements. */
    tks__buf tmp = {NULL, 0, 0, 0};
    int rc = append_text(&tmp, &p->alloc, v, n, ok);
    if (rc) {
        tks__buf_free(&tmp, &p->alloc);
        return fail_mem(p, rc, off);
    }
    ev.data = tmp.p;
    ev.data_len = tmp.len;
    int r = p->on_comment(p->user, &ev);
    tks__buf_free(&tmp, &p->alloc);
    return r ? stop(p) : 0;
}

/* One complete line (terminator removed) starting at input offset off. */
static int on_line(tks_sse_parser *p, push_ctx *c, const char *s, size_t n, uint64_t off,
                   const char *hi) {
    if (n == 0) return dispatch(p, c);
    if (s[0] == ':') return comment(p, s + 1, n - 1, off, hi);
    if (!(p->st & ST_FIELDS)) {
        p->st |= ST_FIELDS;
        p->ev_start = off;
    }
    const char *v;
    size_t name, vn;
    if (n >= 5 && memcmp(s, "data:", 5) == 0) { /* fast path for the usual line */
        v = s + 5;
        vn = n - 5;
        if (vn && *v == ' ') v++, vn--;
        return data_field(p, c, v, vn, hi);
    }
    if (n >= 6 && memcmp(s, "event:", 6) == 0) { /* the other usual line */
        v = s + 6;
        vn = n - 6;
        if (vn && *v == ' ') v++, vn--;
        return event_field(p, c, v, vn, hi);
    }
    const char *colon = memchr(s, ':', n);
    if (colon) {
        name = (size_t)(colon - s);
        v = colon + 1;
        vn = n - name - 1;
        if (vn && *v == ' ') v++, vn--;
    } else { /* a bare name: the value is empty */
        name = n;
        v = s + n;
        vn = 0;
    }
    switch (name) {
    case 2:
        if (s[0] == 'i' && s[1] == 'd') return id_field(p, c, v, vn, hi);
        break;
    case 4:
        if (memcmp(s, "data", 4) == 0) return data_field(p, c, v, vn, hi);
        break;
    case 5:
        if (memcmp(s, "event", 5) == 0) return event_field(p, c, v, vn, hi);
        if (memcmp(s, "retry", 5) == 0) return retry_field(p, v, vn, off);
        break;
    default:
        break;
    }
    return 0; /* any other field is ignored */
}

/* Copies what still points into the push (or into p->line) before the push returns. */
static int keep_refs(tks_sse_parser *p, push_ctx *c) {
    int rc = TKS_OK;
    if (c->dref_on) {
        c->dref_on = 0;
        p->data.len = 0;
        rc = tks__buf_append(&p->data, &p->alloc, c->dref, c->dref_len);
    }
    if (c->tref_on && rc == TKS_OK) {
        c->tref_on = 0;
        p->type.len = 0;
        rc = tks__buf_append(&p->type, &p->alloc, c->tref, c->tref_len);
    }
    return rc;
}

/* After a line's terminator at e (CR or LF, e < end): the next line's start. */
static const char *past_eol(tks_sse_parser *p, const char *e, const char *end) {
    if (*e == '\n') return e + 1;
    if (e + 1 < end) return e + 1 + (e[1] == '\n');
    p->st |= ST_PENDING_CR; /* CR last in the push: an LF first in the next one pairs */
    return e + 1;
}

/*
 * Finds the first CR or LF in [s, end), or end when there is none, in one pass that also
 * finds the first byte >= 0x80 before it (*hi; the line end when none): an ASCII line
 * needs no UTF-8 validation, and a line that is not is validated from there on.
 * Linear whatever the line ends are (lone CR included).
 */
static TKS_HOT_INLINE const char *scan_eol(const char *s, const char *end, const char **hi) {
    const char *h = NULL;
#if defined(__SSE2__) && !defined(TKS_NO_SIMD)
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    while (end - s >= 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
        unsigned ma = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(a, cr)));
        unsigned mb = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(b, lf), _mm_cmpeq_epi8(b, cr)));
        unsigned m = ma | mb << 16;
        unsigned hb = (unsigned)_mm_movemask_epi8(a) | (unsigned)_mm_movemask_epi8(b) << 16;
        if (!h && hb) h = s + __builtin_ctz(hb);
        if (m) {
            s += __builtin_ctz(m);
            *hi = h && h < s ? h : s;
            return s;
        }
        s += 32;
    }
#endif
    while (end - s >= 8) { /* SWAR: 8 bytes at a time */
        uint64_t w;
        memcpy(&w, s, 8);
        if (ZERO8(w ^ REP8('\n')) | ZERO8(w ^ REP8('\r'))) break;
        if (!h && (w & REP8(0x80))) /* the exact byte is found below */
            for (const char *q = s; !h; q++)
                if ((unsigned char)*q >= 0x80) h = q;
        s += 8;
    }
    for (; s < end; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n' || ch == '\r') break;
        if (!h && ch >= 0x80) h = s;
    }
    *hi = h && h < s ? h : s;
    return s;
}

static int parse(tks_sse_parser *p, push_ctx *c, const char *s, size_t len) {
    const char *pos = s, *end = s + len;
    const uint64_t base = p->offset;
    const size_t max_line = p->line.limit;
    int rc;
#define OFF(ptr) (base + (uint64_t)((ptr) - s))

    if (!(p->st & ST_BOM_DONE)) {
        while (pos < end && p->bom < 3 && (unsigned char)*pos == BOM[p->bom]) pos++, p->bom++;
        if (p->bom == 3) {
            p->st |= ST_BOM_DONE; /* stripped */
        } else if (pos < end) {   /* not a BOM: the bytes held back are content */
            p->st |= ST_BOM_DONE;
            if (p->bom && (rc = tks__buf_append(&p->line, &p->alloc, BOM, p->bom)))
                return fail_mem(p, rc, 0);
        } else {
            return 0; /* a BOM's beginning: wait for more */
        }
    }
    if (p->st & ST_PENDING_CR) {
        p->st &= ~ST_PENDING_CR;
        if (pos < end && *pos == '\n') pos++;
    }

    const char *hi;
    if (p->line.len) { /* finish the line begun in an earlier push */
        const char *e = scan_eol(pos, end, &hi);
        uint64_t loff = OFF(pos) - p->line.len;
        if ((size_t)(e - pos) > max_line - p->line.len)
            return fail(p, TKS_ELIMIT, loff, "line longer than max_line");
        if ((rc = tks__buf_append(&p->line, &p->alloc, pos, (size_t)(e - pos))))
            return fail_mem(p, rc, loff);
        if (e == end) return 0;
        pos = past_eol(p, e, end);
        size_t n = p->line.len;
        p->line.len = 0; /* the bytes stay put until the end of this push */
        if ((rc = on_line(p, c, p->line.p, n, loff, p->line.p))) return rc;
    }
    while (pos < end) {
        if (*pos == '\n' || *pos == '\r') { /* blank line */
            pos = past_eol(p, pos, end);
            if ((rc = dispatch(p, c))) return rc;
            continue;
        }
        const char *e = scan_eol(pos, end, &hi);
        if (e == end) break;
        if ((size_t)(e - pos) > max_line)
            return fail(p, TKS_ELIMIT, OFF(pos), "line longer than max_line");
        const char *line = pos;
        pos = past_eol(p, e, end);
        if ((rc = on_line(p, c, line, (size_t)(e - line), OFF(line), hi))) return rc;
    }
    if ((rc = keep_refs(p, c))) return fail_mem(p, rc, p->ev_start);
    if (pos < end) { /* a line continues in the next push */
        if ((size_t)(end - pos) > max_line)
            return fail(p, TKS_ELIMIT, OFF(pos), "line longer than max_line");
        if ((rc = tks__buf_append(&p->line, &p->alloc, pos, (size_t)(end - pos))))
            return fail_mem(p, rc, OFF(pos));
    }
    return 0;
#undef OFF
}

/* ---- public API --------------------------------------------------------------------- */

int tks_sse_parser_new(tks_sse_parser **out, const tks_sse_config *cfg, tks_event_cb on_event,
                       void *user) {
    void *obj;
    if (!out) return TKS_EINVAL;
    *out = NULL;
    int rc = tks__object_new(&obj, sizeof(tks_sse_parser), cfg ? cfg->alloc : NULL,
                             offsetof(tks_sse_parser, alloc));
    if (rc) return rc;
    tks_sse_parser *p = obj;
    p->on_event = on_event;
    p->user = user;
    size_t max_line = TKS_MIB, max_event = TKS_MIB;
    if (cfg) {
        p->on_comment = cfg->on_comment;
        p->on_retry = cfg->on_retry;
        p->flags = cfg->flags;
        max_line = TKS_OR(cfg->max_line, TKS_MIB);
        max_event = TKS_OR(cfg->max_event, TKS_MIB);
    }
    p->line.limit = max_line;
    p->data.limit = p->type.limit = p->ids.limit = max_event;
    *out = p;
    return TKS_OK;
}

int tks_sse_parser_push(tks_sse_parser *p, const void *data, size_t len) {
    if (!p || (!data && len)) return TKS_EINVAL;
    if (p->err_code) return p->err_code;
    if (p->st & ST_STOPPED) return TKS_STOPPED;
    if (p->st & ST_FINISHED) return fail(p, TKS_ESTATE, p->offset, "push after finish");
    if (len == 0) return TKS_OK;
    push_ctx c;
    memset(&c, 0, sizeof c);
    int rc = parse(p, &c, data, len);
    p->offset += len;
    return rc;
}

int tks_sse_parser_finish(tks_sse_parser *p) {
    if (!p) return TKS_EINVAL;
    if (p->err_code) return p->err_code;
    if (p->st & ST_STOPPED) return TKS_STOPPED;
    if (p->st & ST_FINISHED) return TKS_OK;
    p->st |= ST_FINISHED;
    if (p->st & ST_FIELDS)
        return fail(p, TKS_ETRUNC, p->ev_start,
                    "stream ended inside an event (no blank line after it): not dispatched");
    if (p->line.len || (!(p->st & ST_BOM_DONE) && p->bom))
        return fail(p, TKS_ETRUNC, p->offset - (p->line.len ? p->line.len : p->bom),
                    "stream ended in the middle of a line");
    return TKS_OK;
}

void tks_sse_parser_reset(tks_sse_parser *p) {
    if (!p) return;
    tks__free(&p->alloc, p->err, sizeof *p->err);
    p->err = NULL;
    p->err_code = 0;
    p->err_offset = p->offset = p->ev_start = 0;
    p->line.len = p->data.len = p->type.len = p->ids.len = 0; /* memory kept for reuse */
    p->last_id_len = 0;
    p->st = 0;
    p->bom = p->ndata = 0;
}

void tks_sse_parser_free(tks_sse_parser *p) {
    if (!p) return;
    tks_alloc a = p->alloc;
    tks__free(&a, p->err, sizeof *p->err);
    tks__buf_free(&p->line, &a);
    tks__buf_free(&p->data, &a);
    tks__buf_free(&p->type, &a);
    tks__buf_free(&p->ids, &a);
    tks__free(&a, p, sizeof *p);
}

const char *tks_sse_parser_error(const tks_sse_parser *p) {
    if (!p || !p->err_code) return "";
    return p->err ? tks__err_text(p->err) : tks_strerror(p->err_code);
}

uint64_t tks_sse_parser_offset(const tks_sse_parser *p) { return p ? p->err_offset : 0; }

const char *tks_sse_parser_last_id(const tks_sse_parser *p, size_t *len) {
    size_t n = p ? p->last_id_len : 0;
    if (len) *len = n;
    return n ? p->ids.p : "";
}
