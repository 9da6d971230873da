/* sse_parser.c - tks_sse_parser: bytes -> events under the WHATWG "event stream" rules
 * (HTML Living Standard 9.2.5/9.2.6; ../shared/research/formats.md section 8).
 *
 * Two stages per push, 1 KiB at a time. Stage 1 classifies 64-byte blocks with vector
 * compares into line ends (CR, and LF unless it follows a CR), written out as a list of
 * offsets, and checks the bytes as one UTF-8 stream (the lookup method), noting each
 * block that may hold an error. Stage 2 walks the list: a line whose bytes lie after the
 * last flagged block is known to be valid UTF-8 (line ends are ASCII, so a valid stream
 * cut at them gives valid lines); only the other lines are checked one by one (and get
 * U+FFFD replacements). Stage 1 comes as AVX-512 (BW + VBMI2), AVX2, SSSE3, SSE2 (line
 * ends only: a block with a byte >= 0x80 counts as flagged) and word-at-a-time C, chosen
 * per parser at tks_sse_parser_new from what the CPU supports; the environment variable
 * TKS_SSE_SIMD=avx512|avx2|ssse3|sse2|scalar caps the choice (for tests and fuzzing).
 *
 * A value lying in the caller's push buffer is referenced, not copied: an event made of
 * one data line reaches the callback pointing into the caller's bytes. Only what must
 * outlive the push (an unfinished event or line) is copied, once, when the push ends; a
 * line continued from an earlier push carries its validation state along (ST_LINE_OK,
 * and its last bytes are the next push's stage 1 context). */
#include "internal.h"

#include <stdlib.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(TKS_NO_SIMD)
#include <immintrin.h>
#define HAVE_X86_SIMD 1
#define TKS_TARGET(t) __attribute__((target(t)))
#else
#define HAVE_X86_SIMD 0
#endif

#if defined(__GNUC__)
#define TKS_HOT_INLINE __attribute__((always_inline)) inline
#define TKS_NOINLINE __attribute__((noinline))
#define CTZ64(x) ((unsigned)__builtin_ctzll(x)) /* x != 0 */
#define CLZ64(x) ((unsigned)__builtin_clzll(x)) /* x != 0 */
#else
#define TKS_HOT_INLINE inline
#define TKS_NOINLINE
static unsigned CTZ64(uint64_t x) {
    unsigned n = 0;
    while (!(x & 1)) x >>= 1, n++;
    return n;
}
static unsigned CLZ64(uint64_t x) {
    unsigned n = 0;
    while (!(x >> 63)) x <<= 1, n++;
    return n;
}
#endif

/* p->st bits */
#define ST_PENDING_CR 0x01u /* the last byte seen was CR: an LF first in the next push pairs */
#define ST_BOM_DONE 0x02u   /* the stream's first bytes were checked for a BOM */
#define ST_FIELDS 0x04u     /* a field line was read since the last blank line */
#define ST_ID_PENDING 0x08u /* an id field set the id buffer since the last blank line */
#define ST_STOPPED 0x10u
#define ST_FINISHED 0x20u
#define ST_LINE_OK 0x40u    /* p->line holds valid UTF-8 but maybe for an unfinished last
                               sequence (that the next push's stage 1 checks) */

/* Stage 1 variants (p->isa) */
#define ISA_SCALAR 0
#define ISA_SSE2 1
#define ISA_SSSE3 2
#define ISA_AVX2 3
#define ISA_AVX512 4 /* AVX-512 BW + VBMI2 */

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
    uint8_t isa;          /* ISA_*: the stage 1 variant */
};

/* Per-push state: values that still point into the caller's bytes (or into p->line,
 * which is not overwritten before the push ends). */
typedef struct push_ctx {
    const char *dref; /* the event's only data line, when dref_on */
    size_t dref_len;
    const char *tref; /* the event type, when tref_on */
    size_t tref_len;
    int dref_on, tref_on;
    uintptr_t lo, hi; /* the push's bytes */
} push_ctx;

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* The best stage 1 variant this CPU runs, capped by TKS_SSE_SIMD. */
static uint8_t pick_isa(void) {
    int isa = ISA_SCALAR;
#if HAVE_X86_SIMD
    if (__builtin_cpu_supports("sse2")) {
        isa = ISA_SSE2;
        if (__builtin_cpu_supports("ssse3")) {
            isa = ISA_SSSE3;
            if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
                isa = ISA_AVX2;
                if (__builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vbmi2"))
                    isa = ISA_AVX512;
            }
        }
    }
#endif
    const char *cap = getenv("TKS_SSE_SIMD");
    if (cap && *cap) {
        int want = strcmp(cap, "avx512") == 0  ? ISA_AVX512
                   : strcmp(cap, "avx2") == 0  ? ISA_AVX2
                   : strcmp(cap, "ssse3") == 0 ? ISA_SSSE3
                   : strcmp(cap, "sse2") == 0  ? ISA_SSE2
                                               : ISA_SCALAR;
        if (want < isa) isa = want;
    }
    return (uint8_t)isa;
}
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
#if HAVE_X86_SIMD && defined(__SSE2__)
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


#if HAVE_X86_SIMD
/*
 * The "lookup" UTF-8 check (Keiser & Lemire, "Validating UTF-8 in less than one
 * instruction per byte", 2021): three table lookups on the high and low nibbles of each
 * byte and its predecessor flag every bad pair, and the bytes two and three back say
 * where a third or fourth byte is due. Each vector's result is non-zero in the bytes
 * that show an error (a byte's verdict depends only on it and the three before it).
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
#define U8_HI4 (char)(U8_CARRY | U8_BIG | U8_B1000)
/* by the previous byte's high nibble */
#define U8_T1H                                                                             \
    U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL, U8_TL,     /* 0xxx: ASCII */          \
        (char)U8_TC, (char)U8_TC, (char)U8_TC, (char)U8_TC,     /* 10xx: continuation */   \
        U8_TS | U8_O2, U8_TS, U8_TS | U8_O3 | U8_SUR,           /* 1100, 1101, 1110 */     \
        U8_TS | U8_BIG | U8_B1000                               /* 1111 */
/* by the previous byte's low nibble */
#define U8_T1L                                                                             \
    (char)(U8_CARRY | U8_O3 | U8_O2 | U8_B1000), (char)(U8_CARRY | U8_O2), (char)U8_CARRY,    \
        (char)U8_CARRY, (char)(U8_CARRY | U8_BIG), U8_HI4, U8_HI4, U8_HI4, U8_HI4, U8_HI4,    \
        U8_HI4, U8_HI4, U8_HI4, (char)(U8_CARRY | U8_BIG | U8_B1000 | U8_SUR), U8_HI4, U8_HI4
/* by this byte's high nibble */
#define U8_T2H                                                                             \
    U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, U8_TS, /* ASCII */                    \
        (char)(U8_TL | U8_O2 | U8_TC | U8_O3 | U8_B1000),   /* 1000 */                     \
        (char)(U8_TL | U8_O2 | U8_TC | U8_O3 | U8_BIG),     /* 1001 */                     \
        (char)(U8_TL | U8_O2 | U8_TC | U8_SUR | U8_BIG),    /* 1010 */                     \
        (char)(U8_TL | U8_O2 | U8_TC | U8_SUR | U8_BIG),    /* 1011 */                     \
        U8_TS, U8_TS, U8_TS, U8_TS                          /* 11xx: a lead */

/* Errors shown by the 16 bytes in, after the 16 bytes prev. */
TKS_TARGET("ssse3") static TKS_HOT_INLINE __m128i u8_err16(__m128i in, __m128i prev) {
    const __m128i t1h = _mm_setr_epi8(U8_T1H), t1l = _mm_setr_epi8(U8_T1L);
    const __m128i t2h = _mm_setr_epi8(U8_T2H), nib = _mm_set1_epi8(0x0F);
    __m128i p1 = _mm_alignr_epi8(in, prev, 15);
    __m128i p2 = _mm_alignr_epi8(in, prev, 14);
    __m128i p3 = _mm_alignr_epi8(in, prev, 13);
    __m128i sc = _mm_and_si128(
        _mm_and_si128(_mm_shuffle_epi8(t1h, _mm_and_si128(_mm_srli_epi16(p1, 4), nib)),
                      _mm_shuffle_epi8(t1l, _mm_and_si128(p1, nib))),
        _mm_shuffle_epi8(t2h, _mm_and_si128(_mm_srli_epi16(in, 4), nib)));
    /* a third byte is due after E0..FF two back, a fourth after F0..FF three back: the
     * saturated differences have their high bit set exactly then */
    __m128i must = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8(0x60)),
                                _mm_subs_epu8(p3, _mm_set1_epi8(0x70)));
    must = _mm_and_si128(must, _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must, sc);
}

/* The same for 32 bytes. */
TKS_TARGET("avx2") static TKS_HOT_INLINE __m256i u8_err32(__m256i in, __m256i prev) {
    const __m256i t1h = _mm256_setr_epi8(U8_T1H, U8_T1H), t1l = _mm256_setr_epi8(U8_T1L, U8_T1L);
    const __m256i t2h = _mm256_setr_epi8(U8_T2H, U8_T2H), nib = _mm256_set1_epi8(0x0F);
    __m256i sh = _mm256_permute2x128_si256(prev, in, 0x21); /* prev's high half, in's low */
    __m256i p1 = _mm256_alignr_epi8(in, sh, 15);
    __m256i p2 = _mm256_alignr_epi8(in, sh, 14);
    __m256i p3 = _mm256_alignr_epi8(in, sh, 13);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(t1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nib)),
            _mm256_shuffle_epi8(t1l, _mm256_and_si256(p1, nib))),
        _mm256_shuffle_epi8(t2h, _mm256_and_si256(_mm256_srli_epi16(in, 4), nib)));
    __m256i must = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8(0x60)),
                                   _mm256_subs_epu8(p3, _mm256_set1_epi8(0x70)));
    must = _mm256_and_si256(must, _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must, sc);
}

/* The same for 64 bytes. */
#define TKS_AVX512 "avx512f,avx512bw,avx512vbmi2,popcnt"
TKS_TARGET(TKS_AVX512) static TKS_HOT_INLINE __m512i u8_err64(__m512i in, __m512i prev) {
    const __m512i t1h = _mm512_broadcast_i32x4(_mm_setr_epi8(U8_T1H));
    const __m512i t1l = _mm512_broadcast_i32x4(_mm_setr_epi8(U8_T1L));
    const __m512i t2h = _mm512_broadcast_i32x4(_mm_setr_epi8(U8_T2H));
    const __m512i nib = _mm512_set1_epi8(0x0F);
    /* each 16-byte lane's predecessor: prev's last lane, then in's first three */
    __m512i sh = _mm512_alignr_epi64(in, prev, 6);
    __m512i p1 = _mm512_alignr_epi8(in, sh, 15);
    __m512i p2 = _mm512_alignr_epi8(in, sh, 14);
    __m512i p3 = _mm512_alignr_epi8(in, sh, 13);
    __m512i sc = _mm512_and_si512(
        _mm512_and_si512(
            _mm512_shuffle_epi8(t1h, _mm512_and_si512(_mm512_srli_epi16(p1, 4), nib)),
            _mm512_shuffle_epi8(t1l, _mm512_and_si512(p1, nib))),
        _mm512_shuffle_epi8(t2h, _mm512_and_si512(_mm512_srli_epi16(in, 4), nib)));
    __m512i must = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8(0x60)),
                                   _mm512_subs_epu8(p3, _mm512_set1_epi8(0x70)));
    must = _mm512_and_si512(must, _mm512_set1_epi8((char)0x80));
    return _mm512_xor_si512(must, sc);
}

/* Is s[0..n) valid UTF-8? n >= 32. Yes/no only: when it says no, the scalar path finds
 * the exact place. */
TKS_TARGET("ssse3") static int utf8_ok_ssse3(const unsigned char *s, size_t n) {
    const __m128i zero = _mm_setzero_si128();
    __m128i prev = zero, err = zero;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        err = _mm_or_si128(err, u8_err16(in, prev));
        prev = in;
    }
    if (i < n) { /* the last 16 bytes again, after their own 16 predecessors (n >= 32) */
        prev = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 32));
        __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
        err = _mm_or_si128(err, u8_err16(in, prev));
        prev = in;
    }
    /* then NULs: a sequence cut short by the end meets ASCII, which is an error */
    err = _mm_or_si128(err, u8_err16(zero, prev));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(err, zero)) == 0xFFFF;
}
#endif

/* ---- stage 1: line ends and UTF-8, 64 bytes at a time ---------------------------- */

/* What one block hands the next. */
typedef struct scan_carry {
    uint64_t cr; /* 1: the byte before the next block is a CR (an LF there pairs with it) */
    int hi;      /* the block before held a byte >= 0x80: its last sequence may go on */
} scan_carry;

/* A block's line ends from its LF and CR bits: every CR, and every LF not after a CR. */
#define EOL_BITS(lfm, crm, crc) ((crm) | ((lfm) & ~(((crm) << 1) | (crc))))

/*
 * Stage 1 over nblk 64-byte blocks at s: appends the offsets of their line ends (base +
 * 64 * block + byte) to idx[*nl..], in order (idx has room for 32 more than that). With
 * check, returns a bit per block that may hold invalid UTF-8: the stream is checked
 * from its context, prev = the 32 bytes before s, and each error counts in the block of
 * the byte that shows it (only the positions in last_mask count in the last block: a
 * zero-padded tail). The SSE2 and scalar variants do not validate: every block holding
 * a byte >= 0x80 counts. k carries the state from block to block and push to push.
 */
typedef uint64_t stage1_fn(const unsigned char *s, size_t nblk, const unsigned char *prev,
                           uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                           uint64_t last_mask, int check);

/* The set bits of m as offsets from base, appended to idx[nl..]. */
#define FLATTEN_LOOP(m, base, idx, nl)                                                     \
    do {                                                                                   \
        uint64_t m_ = (m);                                                                 \
        while (m_) {                                                                       \
            (idx)[(nl)++] = (uint16_t)((base) + CTZ64(m_));                                \
            m_ &= m_ - 1;                                                                  \
        }                                                                                  \
    } while (0)
/* The same with fewer branches: four writes whatever the count (idx has room), and a
 * loop only past four. (m | H) has the same lowest bit as m, and is never 0. */
#define FLATTEN_POPCNT(m, base, idx, nl)                                                   \
    do {                                                                                   \
        uint64_t m_ = (m);                                                                 \
        const uint64_t h_ = (uint64_t)1 << 63;                                            \
        size_t c_ = (size_t)__builtin_popcountll(m_), n_ = (nl);                           \
        (idx)[n_] = (uint16_t)((base) + (unsigned)__builtin_ctzll(m_ | h_));               \
        m_ &= m_ - 1;                                                                      \
        (idx)[n_ + 1] = (uint16_t)((base) + (unsigned)__builtin_ctzll(m_ | h_));           \
        m_ &= m_ - 1;                                                                      \
        (idx)[n_ + 2] = (uint16_t)((base) + (unsigned)__builtin_ctzll(m_ | h_));           \
        m_ &= m_ - 1;                                                                      \
        (idx)[n_ + 3] = (uint16_t)((base) + (unsigned)__builtin_ctzll(m_ | h_));           \
        m_ &= m_ - 1;                                                                      \
        if (c_ > 4) {                                                                      \
            size_t j_ = n_ + 4;                                                            \
            while (m_) {                                                                   \
                (idx)[j_++] = (uint16_t)((base) + (unsigned)__builtin_ctzll(m_));          \
                m_ &= m_ - 1;                                                              \
            }                                                                              \
        }                                                                                  \
        (nl) = n_ + c_;                                                                    \
    } while (0)

#if HAVE_X86_SIMD
/*
 * The vector variants make two passes over the window (it is in L1 for the second):
 * line ends first, with an OR of every byte; then, unless the window is ASCII and nothing
 * was left unfinished before it, the UTF-8 check of every block, without branches (text
 * mixes ASCII and other blocks at random, which a per-block test would mispredict).
 */

/* Bit b of the result: errors shown in block b, those of the last block only at the
 * positions in last_mask. */
#define BAD_BIT(e, b, nblk, last_mask)                                                    \
    ((uint64_t)(((e) & ((b) + 1 == (nblk) ? (last_mask) : ~(uint64_t)0)) != 0) << (b))

/* AVX-512: compares straight into bit masks, and the line ends' offsets written by one
 * byte compress (VBMI2) per block. */
TKS_TARGET(TKS_AVX512)
static uint64_t stage1_avx512(const unsigned char *s, size_t nblk, const unsigned char *prevp,
                              uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                              uint64_t last_mask, int check) {
    const __m512i lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r');
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42,
        41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
        19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i x = _mm512_setzero_si512(), any = x;
    uint64_t crc = k->cr, bad = 0;
    size_t n = *nl;
    for (size_t b = 0; b < nblk; b++) {
        x = _mm512_loadu_si512((const void *)(s + 64 * b));
        any = _mm512_or_si512(any, x);
        uint64_t lfm = _mm512_cmpeq_epi8_mask(x, lf), crm = _mm512_cmpeq_epi8_mask(x, cr);
        uint64_t eb = EOL_BITS(lfm, crm, crc);
        crc = crm >> 63;
        { /* without a test of eb: short lines make it unpredictable */
            unsigned cnt = (unsigned)__builtin_popcountll(eb);
            __m512i pos = _mm512_maskz_compress_epi8(eb, iota);
            __m512i off = _mm512_set1_epi16((short)(base + 64 * (unsigned)b));
            _mm512_storeu_si512(
                (void *)(idx + n),
                _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(pos)), off));
            if (cnt > 32)
                _mm512_storeu_si512(
                    (void *)(idx + n + 32),
                    _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(pos, 1)), off));
            n += cnt;
        }
    }
    k->cr = crc;
    *nl = n;
    if (!check || (!_mm512_movepi8_mask(any) && !k->hi)) return k->hi = 0, 0;
    k->hi = _mm512_movepi8_mask(x) != 0;
    /* prev's 32 bytes in the top half: only its last bytes matter */
    __m512i prev = _mm512_inserti64x4(_mm512_setzero_si512(),
                                      _mm256_loadu_si256((const __m256i *)(const void *)prevp), 1);
    for (size_t b = 0; b < nblk; b++) {
        x = _mm512_loadu_si512((const void *)(s + 64 * b));
        __m512i ev = u8_err64(x, prev);
        bad |= BAD_BIT(_mm512_test_epi8_mask(ev, ev), b, nblk, last_mask);
        prev = x;
    }
    return bad;
}

/* A 32-bit movemask as a 64-bit word's half. */
#define MM32(v) ((uint64_t)(uint32_t)_mm256_movemask_epi8(v))

TKS_TARGET("avx2,popcnt")
static uint64_t stage1_avx2(const unsigned char *s, size_t nblk, const unsigned char *prevp,
                            uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                            uint64_t last_mask, int check) {
    const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
    const __m256i zero = _mm256_setzero_si256();
    __m256i y = zero, any = zero;
    uint64_t crc = k->cr, bad = 0;
    size_t n = *nl;
    for (size_t b = 0; b < nblk; b++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(s + 64 * b));
        y = _mm256_loadu_si256((const __m256i *)(const void *)(s + 64 * b + 32));
        any = _mm256_or_si256(any, _mm256_or_si256(x, y));
        uint64_t lfm = MM32(_mm256_cmpeq_epi8(x, lf)) | MM32(_mm256_cmpeq_epi8(y, lf)) << 32;
        uint64_t crm = MM32(_mm256_cmpeq_epi8(x, cr)) | MM32(_mm256_cmpeq_epi8(y, cr)) << 32;
        uint64_t eb = EOL_BITS(lfm, crm, crc);
        crc = crm >> 63;
        if (eb) FLATTEN_POPCNT(eb, base + 64 * (unsigned)b, idx, n);
    }
    k->cr = crc;
    *nl = n;
    if (!check || (!_mm256_movemask_epi8(any) && !k->hi)) return k->hi = 0, 0;
    k->hi = _mm256_movemask_epi8(y) != 0; /* the last 32 bytes: where a sequence may go on */
    __m256i prev = _mm256_loadu_si256((const __m256i *)(const void *)prevp);
    for (size_t b = 0; b < nblk; b++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(s + 64 * b));
        y = _mm256_loadu_si256((const __m256i *)(const void *)(s + 64 * b + 32));
        __m256i ex = u8_err32(x, prev), ey = u8_err32(y, x);
        prev = y;
        uint64_t e = ~(MM32(_mm256_cmpeq_epi8(ex, zero)) | MM32(_mm256_cmpeq_epi8(ey, zero)) << 32);
        bad |= BAD_BIT(e, b, nblk, last_mask);
    }
    return bad;
}

/* A 16-bit movemask placed at 16 * j in a 64-bit word. */
#define MM16(v, j) ((uint64_t)(unsigned)_mm_movemask_epi8(v) << 16 * (j))

TKS_TARGET("ssse3")
static uint64_t stage1_ssse3(const unsigned char *s, size_t nblk, const unsigned char *prevp,
                             uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                             uint64_t last_mask, int check) {
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    const __m128i zero = _mm_setzero_si128();
    __m128i v = zero, any = zero;
    uint64_t crc = k->cr, bad = 0;
    size_t n = *nl;
    for (size_t b = 0; b < nblk; b++) {
        uint64_t lfm = 0, crm = 0;
        for (int j = 0; j < 4; j++) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + 64 * b + 16 * (size_t)j));
            any = _mm_or_si128(any, v);
            lfm |= MM16(_mm_cmpeq_epi8(v, lf), j);
            crm |= MM16(_mm_cmpeq_epi8(v, cr), j);
        }
        FLATTEN_LOOP(EOL_BITS(lfm, crm, crc), base + 64 * (unsigned)b, idx, n);
        crc = crm >> 63;
    }
    k->cr = crc;
    *nl = n;
    if (!check || (!_mm_movemask_epi8(any) && !k->hi)) return k->hi = 0, 0;
    k->hi = _mm_movemask_epi8(v) != 0;
    __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(prevp + 16));
    for (size_t b = 0; b < nblk; b++) {
        uint64_t ok = 0;
        for (int j = 0; j < 4; j++) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + 64 * b + 16 * (size_t)j));
            ok |= MM16(_mm_cmpeq_epi8(u8_err16(v, prev), zero), j);
            prev = v;
        }
        bad |= BAD_BIT(~ok, b, nblk, last_mask);
    }
    return bad;
}

TKS_TARGET("sse2")
static uint64_t stage1_sse2(const unsigned char *s, size_t nblk, const unsigned char *prevp,
                            uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                            uint64_t last_mask, int check) {
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    uint64_t crc = k->cr, bad = 0;
    size_t n = *nl;
    (void)prevp;
    (void)last_mask; /* the zero padding holds no byte >= 0x80 */
    for (size_t b = 0; b < nblk; b++, s += 64) {
        uint64_t lfm = 0, crm = 0;
        unsigned hi = 0;
        for (int j = 0; j < 4; j++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * j));
            lfm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)) << 16 * j;
            crm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)) << 16 * j;
            hi |= (unsigned)_mm_movemask_epi8(v);
        }
        FLATTEN_LOOP(EOL_BITS(lfm, crm, crc), base + 64 * (unsigned)b, idx, n);
        crc = crm >> 63;
        if (check && hi) bad |= (uint64_t)1 << b;
    }
    k->cr = crc;
    *nl = n;
    return bad;
}
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 0x80 in each byte of w equal to c (exact: no borrow between bytes) */
#define EQ8(w, c)                                                                          \
    (~(((((w) ^ REP8(c)) & REP8(0x7F)) + REP8(0x7F)) | ((w) ^ REP8(c))) & REP8(0x80))
/* the 8 high bits of m (a word of 0x00/0x80 bytes) as an 8-bit mask, byte 0 lowest */
#define BITS8(m) ((((m) >> 7) * UINT64_C(0x0102040810204080)) >> 56)
#endif

static uint64_t stage1_scalar(const unsigned char *s, size_t nblk, const unsigned char *prevp,
                              uint16_t *idx, size_t *nl, unsigned base, scan_carry *k,
                              uint64_t last_mask, int check) {
    uint64_t crc = k->cr, bad = 0;
    size_t n = *nl;
    (void)prevp;
    (void)last_mask;
    for (size_t b = 0; b < nblk; b++, s += 64) {
        uint64_t lfm = 0, crm = 0, hi = 0;
#ifdef EQ8
        uint64_t w[8], any = 0;
        for (int j = 0; j < 8; j++) { /* word at a time: is there a line end at all? */
            memcpy(&w[j], s + 8 * j, 8);
            hi |= w[j];
            any |= ZERO8(w[j] ^ REP8('\n')) | ZERO8(w[j] ^ REP8('\r'));
        }
        if (any) /* where (most blocks of long lines have none) */
            for (int j = 0; j < 8; j++) {
                lfm |= BITS8(EQ8(w[j], '\n')) << 8 * j;
                crm |= BITS8(EQ8(w[j], '\r')) << 8 * j;
            }
#else
        for (int j = 0; j < 64; j++) {
            hi |= s[j];
            lfm |= (uint64_t)(s[j] == '\n') << j;
            crm |= (uint64_t)(s[j] == '\r') << j;
        }
#endif
        FLATTEN_LOOP(EOL_BITS(lfm, crm, crc), base + 64 * (unsigned)b, idx, n);
        crc = crm >> 63;
        if (check && (hi & REP8(0x80))) bad |= (uint64_t)1 << b;
    }
    k->cr = crc;
    *nl = n;
    return bad;
}

static stage1_fn *stage1_for(int isa) {
    switch (isa) {
#if HAVE_X86_SIMD
    case ISA_AVX512:
        return stage1_avx512;
    case ISA_AVX2:
        return stage1_avx2;
    case ISA_SSSE3:
        return stage1_ssse3;
    case ISA_SSE2:
        return stage1_sse2;
#endif
    default:
        return stage1_scalar;
    }
}
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


/* Valid prefix length of v[0..n), checked here (stage 1 could not vouch for it). */
static TKS_NOINLINE size_t text_check(const tks_sse_parser *p, const char *v, size_t n) {
    size_t skip = ascii_len((const unsigned char *)v, n);
    if (skip >= n) return n;
#if HAVE_X86_SIMD
    /* from the first byte >= 0x80, or from the value's start when that leaves too few
     * bytes for the vector path (the ASCII before it is valid either way) */
    if (n >= 32 && p->isa >= ISA_SSSE3) {
        const char *from = n - skip >= 32 ? v + skip : v;
        if (utf8_ok_ssse3((const unsigned char *)from, n - (size_t)(from - v))) return n;
    }
#else
    (void)p;
#endif
    return skip + utf8_valid(v + skip, n - skip);
}

/* Valid prefix length of the value v[0..n); known: stage 1 found its line valid. */
static TKS_HOT_INLINE size_t text_ok(const tks_sse_parser *p, const char *v, size_t n,
                                     int known) {
    if (known || (p->flags & TKS_SSE_RAW_UTF8)) return n;
    return text_check(p, v, n);
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

/* Short lines are copied as one constant-size block (no branches on the size inside
 * memcpy, which random line lengths mispredict): when the destination has COPY_SLACK
 * bytes to spare and the source lies in the push with as many bytes after it. */
#define COPY_SLACK 64
static TKS_HOT_INLINE void copy_line(char *d, const char *v, size_t n, int slack,
                                     const push_ctx *c) {
    uintptr_t a = (uintptr_t)v;
    if (slack && n <= COPY_SLACK && a >= c->lo && a < c->hi && c->hi - a >= COPY_SLACK)
        memcpy(d, v, COPY_SLACK);
    else
        memcpy(d, v, n);
}

/* Appends data line v[0..n) (valid, or TKS_SSE_RAW_UTF8) to an event holding data
 * already: LF then the line, after the referenced first line when there is one. */
static TKS_NOINLINE int data_append(tks_sse_parser *p, push_ctx *c, const char *v, size_t n) {
    size_t cur = data_len(p, c);
    if (n > SIZE_MAX - 1 - cur || too_big(p, cur + 1 + n, type_len(p, c), id_buf_len(p)))
        return fail(p, TKS_ELIMIT, p->ev_start, "event larger than max_event");
    size_t extra = 1 + n + (c->dref_on ? c->dref_len : 0); /* <= max_event + 1 */
    size_t room = p->data.cap - p->data.len;
    if (room < extra + COPY_SLACK) { /* room for whole-block copies if the limit allows */
        if (tks__buf_reserve(&p->data, &p->alloc, extra + COPY_SLACK) != TKS_OK) {
            int rc = tks__buf_reserve(&p->data, &p->alloc, extra);
            if (rc) return fail_mem(p, rc, p->ev_start);
        }
        room = p->data.cap - p->data.len;
    }
    char *d = p->data.p + p->data.len;
    int slack = room >= extra + COPY_SLACK;
    if (c->dref_on) { /* the first line, referenced so far (the buffer was empty) */
        c->dref_on = 0;
        copy_line(d, c->dref, c->dref_len, slack, c);
        d += c->dref_len;
    }
    *d++ = '\n';
    copy_line(d, v, n, slack, c);
    p->data.len = (size_t)(d + n - p->data.p);
    p->ndata = 2;
    return 0;
}

/* A data field whose value v[0..n) is known valid (or TKS_SSE_RAW_UTF8). */
static TKS_HOT_INLINE int data_valid(tks_sse_parser *p, push_ctx *c, const char *v, size_t n) {
    if (p->ndata) return data_append(p, c, v, n);
    /* the event's first data line: reference, don't copy */
    if (too_big(p, n, type_len(p, c), id_buf_len(p)))
        return fail(p, TKS_ELIMIT, p->ev_start, "event larger than max_event");
    c->dref = v;
    c->dref_len = n;
    c->dref_on = 1;
    p->ndata = 1;
    return 0;
}

static int data_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, int known) {
    size_t ok = text_ok(p, v, n, known);
    if (ok == n) return data_valid(p, c, v, n);
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

static int event_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, int known) {
    size_t ok = text_ok(p, v, n, known);
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

static int id_field(tks_sse_parser *p, push_ctx *c, const char *v, size_t n, int known) {
    if (memchr(v, '\0', n)) return 0; /* an id holding NULL is ignored */
    size_t ok = text_ok(p, v, n, known);
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
static int comment(tks_sse_parser *p, const char *v, size_t n, uint64_t off, int known) {
    if (!p->on_comment) return 0;
    tks_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ev.id = ev.message_type = "";
    ev.offset = off;
    size_t ok = text_ok(p, v, n, known);
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

/* The value of the field named by the k bytes at s, when line s[0..n) is that field:
 * *v set past the colon and one space. */
static TKS_HOT_INLINE int field_is(const char *s, size_t n, const char *name, size_t k,
                                   const char **v, size_t *vn) {
    if (n < k || (n > k && s[k] != ':') || memcmp(s, name, k) != 0) return 0;
    if (n == k) { /* a bare name: the value is empty */
        *v = s + n;
        *vn = 0;
        return 1;
    }
    *v = s + k + 1;
    *vn = n - k - 1;
    if (*vn && **v == ' ') ++*v, --*vn;
    return 1;
}

/* One complete line but a blank or data: one (n > 0), starting at input offset off;
 * known: it is valid UTF-8. */
static TKS_NOINLINE int other_line(tks_sse_parser *p, push_ctx *c, const char *s, size_t n,
                                   uint64_t off, int known) {
    if (s[0] == ':') return comment(p, s + 1, n - 1, off, known);
    if (!(p->st & ST_FIELDS)) {
        p->st |= ST_FIELDS;
        p->ev_start = off;
    }
    const char *v;
    size_t vn;
    switch (s[0]) {
    case 'd':
        if (field_is(s, n, "data", 4, &v, &vn)) return data_field(p, c, v, vn, known);
        break;
    case 'e':
        if (field_is(s, n, "event", 5, &v, &vn)) return event_field(p, c, v, vn, known);
        break;
    case 'i':
        if (field_is(s, n, "id", 2, &v, &vn)) return id_field(p, c, v, vn, known);
        break;
    case 'r':
        if (field_is(s, n, "retry", 5, &v, &vn)) return retry_field(p, v, vn, off);
        break;
    default:
        break;
    }
    return 0; /* any other field is ignored */
}

/* One complete line (terminator removed) starting at input offset off; known: it is
 * valid UTF-8. */
static int on_line(tks_sse_parser *p, push_ctx *c, const char *s, size_t n, uint64_t off,
                   int known) {
    if (n == 0) return dispatch(p, c);
    return other_line(p, c, s, n, off, known);
}

/* After a line's end at e (CR or LF, e < end): the next line's start. */
static TKS_HOT_INLINE const char *next_line(tks_sse_parser *p, const char *e, const char *end) {
    if (TKS_LIKELY(e + 1 < end)) return e + 1 + ((*e == '\r') & (e[1] == '\n'));
    if (*e == '\r') p->st |= ST_PENDING_CR; /* an LF first in the next push pairs */
    return end;
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


/* ---- stage 2: lines, fields, events ------------------------------------------------ */

/* A line of the push, ln[0..n) at input offset off (not one begun in an earlier push);
 * known: it is valid UTF-8. */
static TKS_HOT_INLINE int push_line(tks_sse_parser *p, push_ctx *c, const char *ln, size_t n,
                                    uint64_t off, int known) {
    if (n == 0) return dispatch(p, c); /* blank line */
    if (TKS_UNLIKELY(n > p->line.limit))
        return fail(p, TKS_ELIMIT, off, "line longer than max_line");
    if (n >= 5 && memcmp(ln, "data:", 5) == 0) { /* the usual line */
        uint32_t st = p->st;
        p->ev_start = st & ST_FIELDS ? p->ev_start : off;
        p->st = st | ST_FIELDS;
        /* one space stripped; with no value, *v is the line end (in the push) */
        size_t sp = ln[5] == ' ';
        const char *v = ln + 5 + sp;
        size_t vn = n - 5 - sp;
        return known ? data_valid(p, c, v, vn) : data_field(p, c, v, vn, 0);
    }
    return other_line(p, c, ln, n, off, known);
}

/* The line begun in an earlier push (in p->line) ends at e: its rest is pos[0..e), at
 * input offset off; known: p->line's bytes (ST_LINE_OK) and the rest are valid UTF-8
 * together. */
static TKS_NOINLINE int finish_line(tks_sse_parser *p, push_ctx *c, const char *pos,
                                    const char *e, uint64_t off, int known) {
    uint64_t loff = off - p->line.len;
    int rc;
    if ((size_t)(e - pos) > p->line.limit - p->line.len)
        return fail(p, TKS_ELIMIT, loff, "line longer than max_line");
    if ((rc = tks__buf_append(&p->line, &p->alloc, pos, (size_t)(e - pos))))
        return fail_mem(p, rc, loff);
    size_t n = p->line.len;
    p->line.len = 0; /* the bytes stay put until the end of this push */
    return on_line(p, c, p->line.p, n, loff, known && (p->st & ST_LINE_OK));
}

/* The end of a push: what still points into it is copied, and the unfinished line
 * (from ln, at input offset off; the line begun earlier when carried) is kept. ok: its
 * bytes in this push were found valid UTF-8 but maybe for an unfinished last sequence. */
static int end_push(tks_sse_parser *p, push_ctx *c, int carried, const char *pos,
                    const char *ln, const char *end, uint64_t off, int ok) {
    int rc;
    if ((rc = keep_refs(p, c))) return fail_mem(p, rc, p->ev_start);
    if (carried) { /* no line end in this push: the line goes on */
        uint64_t loff = off - p->line.len;
        if ((size_t)(end - pos) > p->line.limit - p->line.len)
            return fail(p, TKS_ELIMIT, loff, "line longer than max_line");
        if ((rc = tks__buf_append(&p->line, &p->alloc, pos, (size_t)(end - pos))))
            return fail_mem(p, rc, loff);
        if (!ok) p->st &= ~ST_LINE_OK;
    } else if (ln < end) { /* a line continues in the next push */
        if ((size_t)(end - ln) > p->line.limit)
            return fail(p, TKS_ELIMIT, off, "line longer than max_line");
        if ((rc = tks__buf_append(&p->line, &p->alloc, ln, (size_t)(end - ln))))
            return fail_mem(p, rc, off);
        if (ok) p->st |= ST_LINE_OK;
        else p->st &= ~ST_LINE_OK;
    }
    return 0;
}

/*
 * A push too short for one 64-byte block (pos < end): byte by byte, like a plain parser.
 * A line counts as known valid only when it is ASCII (and, for the line begun in an
 * earlier push, when that one ended in ASCII, so it has no sequence left unfinished).
 */
static TKS_NOINLINE int parse_short(tks_sse_parser *p, push_ctx *c, const char *s,
                                    const char *pos, const char *end) {
    const uint64_t base = p->offset;
    int carried = p->line.len != 0, rc;
    /* no byte >= 0x80 in the current line so far (for the line begun earlier: in its
     * last byte, as ST_LINE_OK says the rest is valid) */
    unsigned hi = carried ? (unsigned char)p->line.p[p->line.len - 1] & 0x80u : 0;
    const char *ln = pos;
    for (const char *q = pos; q < end; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch != '\n' && ch != '\r') {
            hi |= ch & 0x80u;
            continue;
        }
        const char *next = next_line(p, q, end);
        if (carried) {
            carried = 0;
            rc = finish_line(p, c, pos, q, base + (uint64_t)(pos - s), !hi);
        } else {
            rc = push_line(p, c, ln, (size_t)(q - ln), base + (uint64_t)(ln - s), !hi);
        }
        if (rc) return rc;
        hi = 0;
        ln = next;
        q = next - 1;
    }
    const char *from = carried ? pos : ln;
    return end_push(p, c, carried, pos, ln, end, base + (uint64_t)(from - s), !hi);
}

#define WBLK 16 /* blocks per stage 1 window (1 KiB) */

static int parse(tks_sse_parser *p, push_ctx *c, const char *s, size_t len) {
    const char *pos = s, *end = s + len;
    const uint64_t base = p->offset;
    int rc;
#define OFF(ptr) (base + (uint64_t)((ptr) - s))

    if (!(p->st & ST_BOM_DONE)) {
        while (pos < end && p->bom < 3 && (unsigned char)*pos == BOM[p->bom]) pos++, p->bom++;
        if (p->bom == 3) {
            p->st |= ST_BOM_DONE; /* stripped */
        } else if (pos < end) {   /* not a BOM: the bytes held back are content */
            p->st |= ST_BOM_DONE;
            p->st &= ~ST_LINE_OK;
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
    if (pos == end) return 0;
    if (end - pos < 64) return parse_short(p, c, s, pos, end);

    stage1_fn *const scan = stage1_for(p->isa);
    const int check = !(p->flags & TKS_SSE_RAW_UTF8);
    const unsigned char *const u0 = (const unsigned char *)pos;
    /* The stream before pos, for stage 1's UTF-8 check: ASCII (a line end) unless a
     * line checked so far goes on from the earlier push. */
    unsigned char ctx[32];
    memset(ctx, 0, sizeof ctx);
    scan_carry k = {0, 0};
    int carried = p->line.len != 0; /* the first line end finishes p->line */
    if (carried && (p->st & ST_LINE_OK)) {
        size_t t = p->line.len < 32 ? p->line.len : 32;
        memcpy(ctx + 32 - t, p->line.p + p->line.len - t, t);
        k.hi = ((ctx[29] | ctx[30] | ctx[31]) & 0x80) != 0;
    }
    const char *line = pos;  /* the current line's start (when not carried) */
    const char *clean = pos; /* no block from here on was flagged by stage 1 (so far) */
    uint16_t idx[WBLK * 64 + 32]; /* room for stage 1's whole-vector writes */
    for (const char *w = pos; w < end; w += WBLK * 64) {
        size_t avail = (size_t)(end - w);
        size_t nb = avail / 64 < WBLK ? avail / 64 : WBLK, nl = 0;
        uint64_t bad = 0;
        if (nb)
            bad = scan((const unsigned char *)w, nb, w == pos ? ctx : (const unsigned char *)w - 32,
                       idx, &nl, 0, &k, ~(uint64_t)0, check);
        if (nb < WBLK && avail > nb * 64) { /* the push's last, partial block: padded */
            size_t t = avail - nb * 64;
            const unsigned char *q = (const unsigned char *)w + nb * 64;
            size_t have = (size_t)(q - u0);
            unsigned char tb[96]; /* 32 bytes of context, then the block */
            if (have >= 32) {
                memcpy(tb, q - 32, 32);
            } else {
                memcpy(tb, ctx + have, 32 - have);
                memcpy(tb + 32 - have, u0, have);
            }
            memcpy(tb + 32, q, t);
            memset(tb + 32 + t, 0, 64 - t);
            bad |= scan(tb + 32, 1, tb, idx, &nl, 64 * (unsigned)nb, &k, ((uint64_t)1 << t) - 1,
                        check) << nb;
        }
        if (bad) { /* lines must start past the last flagged block to be known valid */
            size_t past = 64 * (size_t)(64 - CLZ64(bad));
            clean = w + (past < avail ? past : avail);
        }
        size_t i = 0;
        if (TKS_UNLIKELY(carried) && nl) { /* finish the line begun in an earlier push */
            const char *e = w + idx[i++];
            carried = 0;
            line = next_line(p, e, end);
            if ((rc = finish_line(p, c, pos, e, OFF(pos), clean == pos))) return rc;
        }
        for (; i < nl; i++) {
            const char *e = w + idx[i];
            const char *ln = line;
            line = next_line(p, e, end);
            if ((rc = push_line(p, c, ln, (size_t)(e - ln), OFF(ln), ln >= clean))) return rc;
        }
    }
    return end_push(p, c, carried, pos, line, end, OFF(carried ? pos : line),
                    carried ? clean == pos : line >= clean);
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
    p->isa = pick_isa();
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
    c.lo = (uintptr_t)data;
    c.hi = c.lo + len;
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
                    "stream ended inside an event, not dispatched (no blank line after it); the event began");
    if (p->line.len || (!(p->st & ST_BOM_DONE) && p->bom))
        return fail(p, TKS_ETRUNC, p->offset - (p->line.len ? p->line.len : p->bom),
                    "stream ended inside a line that began");
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
