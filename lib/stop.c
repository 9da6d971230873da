/* stop.c - stop strings (Aho-Corasick over the text's bytes) and stop token ids.
 *
 * The automaton is a dense DFA over byte classes (the bytes that occur in some stop
 * string, plus one class for all others), built once at new in the same block as the
 * object. Its state after each byte is the longest suffix of the text that is a prefix
 * of a stop string: exactly what must be held back. That suffix is itself a prefix of a
 * stop string, so the held bytes are never copied: they are read from the stop string a
 * state stands for. Each pushed byte costs one table step; nothing is rescanned.
 *
 * Match rule: the earliest start wins, ties go to the first in the list. A match is
 * final once no live partial match starts earlier (or at the same start with a
 * stop string earlier in the list); until then it stays held with the partial match.
 * Stop strings and the text are valid UTF-8, so every hold-back boundary (the first
 * byte of a stop string in the text) is a character boundary. */
#include "internal.h"
#include "text_internal.h"

/* Words of a state's row after its ncls transitions. */
enum { I_DEPTH, I_REP, I_OUT_LEN, I_OUT_IDX, I_SUBMIN, I_FAIL, N_INFO };

#define T_MATCH 0x80000000u /* transition flag: the target state ends a stop string */
#define T_MASK 0x7fffffffu
#define SCRATCH_EXTRA 128   /* a held prefix and a short push are joined into one delta */

struct tks_stop {
    tks_alloc alloc;
    tks_text_cb on_text;
    void *user;
    uint32_t *T;          /* rows of stride words; a state is its row's offset */
    const uint8_t *cls;   /* byte -> class */
    const char *blob;     /* the stop strings, one after another */
    const uint32_t *pat_off, *pat_len;
    const int32_t *tokens;
    char *scratch;
    size_t scratch_cap;
    size_t n_strings, n_tokens, n_states, block_size;
    uint32_t stride;
    uint32_t ncls;        /* a row's info words start after its ncls transitions */
    uint32_t st;          /* current state */
    uint32_t flags;
    unsigned char stopped, finished, has_cand;
    unsigned char gate;   /* error, stopped or finished: the hot path's one check */
    uint32_t cand_idx;    /* the best match so far, while a better one may still come */
    uint64_t cand_start;
    uint64_t pos;         /* text bytes pushed so far */
    tks_stop_match match;
    uint64_t work;
    tks__err err;
};

static inline uint32_t info(const tks_stop *s, uint32_t st, int k) {
    return s->T[st + s->ncls + (uint32_t)k];
}

static int stop_cb(tks_stop *s, const char *p, size_t n) {
    if (n == 0) return TKS_OK;
    if (s->on_text(s->user, p, n)) {
        s->stopped = s->gate = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

/* Emits the text between absolute offsets from and to, which lie in the held prefix
 * at the start of the push (held, hl bytes ending at base) and the push (text). */
static int emit_range(tks_stop *s, const char *held, size_t hl, uint64_t base,
                      const char *text, uint64_t from, uint64_t to) {
    if (to <= from) return TKS_OK;
    const char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    if (from < base) {
        a = held + (hl - (size_t)(base - from));
        la = (size_t)((to < base ? to : base) - from);
    }
    if (to > base) {
        uint64_t f = from > base ? from : base;
        b = text + (size_t)(f - base);
        lb = (size_t)(to - f);
    }
    if (la && lb && la + lb <= s->scratch_cap) {
        char *o = s->scratch;
        for (size_t k = 0; k < la; k++) o[k] = a[k]; /* short: no libc call */
        for (size_t k = 0; k < lb; k++) o[la + k] = b[k];
        s->work += la + lb;
        return stop_cb(s, s->scratch, la + lb);
    }
    int rc = stop_cb(s, a, la);
    if (rc) return rc;
    return stop_cb(s, b, lb);
}

/* The candidate becomes the match: text up to it (or through it) goes out; stopped. */
static int finalize(tks_stop *s, const char *held, size_t hl, uint64_t base, const char *text) {
    uint32_t idx = s->cand_idx;
    s->match.kind = TKS_STOP_STRING;
    s->match.index = idx;
    s->match.text = s->blob + s->pat_off[idx];
    s->match.text_len = s->pat_len[idx];
    s->match.token = -1;
    s->match.offset = s->cand_start;
    s->has_cand = 0;
    uint64_t from = base - hl;
    uint64_t to = s->cand_start + ((s->flags & TKS_STOP_INCLUDE) ? s->pat_len[idx] : 0);
    s->st = 0;
    emit_range(s, held, hl, base, text, from, to);
    s->stopped = s->gate = 1;
    return TKS_STOPPED;
}

/* Sticky error: also closes the gate that the hot path checks. */
static int fail(tks_stop *s, int code, uint64_t offset, const char *msg) {
    s->gate = 1;
    return tks__err_at(&s->err, code, offset, msg);
}

/* TKS_OK when the push is valid UTF-8 of whole characters. */
static int check_utf8(tks_stop *s, const char *text, size_t len) {
    size_t v = tks__utf8_valid_prefix((const unsigned char *)text, len);
    if (TKS_LIKELY(v == len)) return TKS_OK;
    return fail(s, TKS_EUTF8, s->pos + v, "text is not valid UTF-8 made of whole characters");
}

/* Scans the push: one table step per byte, the bytes ORed on the way to know whether
 * the push needs UTF-8 validation (checked before anything goes out); the slow path (a
 * match seen) is outside the inner loop. */
static int scan(tks_stop *s, const char *text, size_t len) {
    const uint32_t *T = s->T;
    const uint8_t *cls = s->cls;
    const unsigned char *p = (const unsigned char *)text;
    uint32_t st0 = s->st, st = st0;
    uint32_t hl = info(s, st, I_DEPTH);
    uint64_t base = s->pos;
    unsigned acc = 0;
    s->work += len;
    size_t i = 0;
    while (i < len) {
        if (!s->has_cand) {
            uint32_t e = 0;
            while (i < len) {
                unsigned b = p[i++];
                acc |= b;
                e = T[st + cls[b]];
                st = e & T_MASK;
                if (e & T_MATCH) break;
            }
            if (!(e & T_MATCH)) break;
        } else {
            unsigned b = p[i++];
            acc |= b;
            uint32_t e = T[st + cls[b]];
            st = e & T_MASK;
            if (!(e & T_MATCH)) goto check;
        }
        {   /* st ends a stop string: the longest one ending here starts earliest. */
            uint64_t end = base + i;
            uint64_t start = end - info(s, st, I_OUT_LEN);
            uint32_t idx = info(s, st, I_OUT_IDX);
            if (!s->has_cand || start < s->cand_start ||
                (start == s->cand_start && idx < s->cand_idx)) {
                s->has_cand = 1;
                s->cand_start = start;
                s->cand_idx = idx;
            }
        }
    check: {
            /* Final unless the live partial match starts earlier, or at the same start
             * with a stop string earlier in the list still reachable. */
            uint64_t cur = base + i - info(s, st, I_DEPTH);
            if (cur > s->cand_start ||
                (cur == s->cand_start && info(s, st, I_SUBMIN) >= s->cand_idx)) {
                if (check_utf8(s, text, len)) return s->err.code; /* all of the push */
                s->pos = base + len; /* the rest of the push is dropped */
                return finalize(s, s->blob + info(s, st0, I_REP), hl, base, text);
            }
        }
    }
    if (TKS_UNLIKELY(acc & 0x80) && check_utf8(s, text, len)) return s->err.code;
    s->st = st;
    s->pos = base + len;
    uint32_t d = info(s, st, I_DEPTH);
    if (TKS_LIKELY(hl == 0)) /* nothing was held: one delta straight from the push */
        return d < len ? stop_cb(s, text, len - d) : TKS_OK;
    return emit_range(s, s->blob + info(s, st0, I_REP), hl, base, text, base - hl, s->pos - d);
}

#if defined(__GNUC__)
#  define TKS_NOINLINE __attribute__((noinline))
#else
#  define TKS_NOINLINE
#endif

static TKS_NOINLINE int push_slow(tks_stop *s, const char *text, size_t len) {
    if (!s) return TKS_EINVAL;
    if (s->gate) {
        if (s->err.code) return s->err.code;
        if (s->stopped) return TKS_STOPPED;
        return fail(s, TKS_ESTATE, s->pos, "push after finish (reset first)");
    }
    if (!text) return len ? fail(s, TKS_EINVAL, s->pos, "NULL text with a length") : TKS_OK;
    if (s->n_strings == 0) {
        if (check_utf8(s, text, len)) return s->err.code;
        s->pos += len;
        return len ? stop_cb(s, text, len) : TKS_OK;
    }
    return scan(s, text, len);
}

int tks_stop_push(tks_stop *s, const char *text, size_t len) {
    /* Fast path, the usual token: nothing held, no match pending, a short push with no
     * match in it and no byte >= 0x80 (with no stop strings the one-state automaton
     * never matches). Anything else (or a match seen) goes to the
     * general path, which starts the push over: nothing was changed here. */
    if (TKS_UNLIKELY(!s || s->gate || !text || s->has_cand || len > 64 || s->st != 0))
        return push_slow(s, text, len);
    const uint32_t *T = s->T;
    const uint8_t *cls = s->cls;
    const unsigned char *p = (const unsigned char *)text;
    uint32_t st = 0, flags = 0;
    unsigned acc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned b = p[i];
        acc |= b;
        uint32_t e = T[st + cls[b]];
        flags |= e;
        st = e & T_MASK;
    }
    s->work += len;
    if (TKS_UNLIKELY((flags & T_MATCH) || (acc & 0x80))) return push_slow(s, text, len);
    s->st = st;
    s->pos += len;
    uint32_t d = info(s, st, I_DEPTH);
    if (d < len && s->on_text(s->user, text, len - d)) {
        s->stopped = s->gate = 1;
        return TKS_STOPPED;
    }
    return TKS_OK;
}

int tks_stop_is_stop_token(const tks_stop *s, int32_t id) {
    if (!s) return 0;
    for (size_t i = 0; i < s->n_tokens; i++)
        if (s->tokens[i] == id) return 1;
    return 0;
}

int tks_stop_push_token(tks_stop *s, int32_t id, const char *text, size_t len) {
    if (!s) return TKS_EINVAL;
    size_t k = 0;
    while (k < s->n_tokens && s->tokens[k] != id) k++;
    if (TKS_LIKELY(k == s->n_tokens)) return tks_stop_push(s, text, len);
    if (s->err.code) return s->err.code;
    if (s->stopped) return TKS_STOPPED;
    if (s->finished)
        return fail(s, TKS_ESTATE, s->pos, "push after finish (reset first)");
    int include = (s->flags & TKS_STOP_INCLUDE) && len;
    if (include) {
        if (!text) return fail(s, TKS_EINVAL, s->pos, "NULL text with a length");
        size_t v = tks__utf8_valid_prefix((const unsigned char *)text, len);
        if (v != len)
            return fail(s, TKS_EUTF8, s->pos + v,
                        "stop token text is not valid UTF-8 made of whole characters");
    }
    uint32_t hl = info(s, s->st, I_DEPTH);
    const char *held = s->blob + info(s, s->st, I_REP);
    /* The text ends here: a stop string already matched before the token wins. */
    if (s->has_cand) return finalize(s, held, hl, s->pos, NULL);
    s->match.kind = TKS_STOP_TOKEN;
    s->match.index = k;
    s->match.text = NULL;
    s->match.text_len = 0;
    s->match.token = id;
    s->match.offset = s->pos;
    s->st = 0;
    s->stopped = s->gate = 1;
    if (stop_cb(s, held, hl) == TKS_OK && include) stop_cb(s, text, len);
    s->pos += len;
    return TKS_STOPPED;
}

int tks_stop_finish(tks_stop *s) {
    if (!s) return TKS_EINVAL;
    if (s->err.code) return s->err.code;
    if (s->stopped) return TKS_STOPPED;
    if (s->finished) return TKS_OK;
    s->finished = s->gate = 1;
    uint32_t hl = info(s, s->st, I_DEPTH);
    const char *held = s->blob + info(s, s->st, I_REP);
    if (s->has_cand) return finalize(s, held, hl, s->pos, NULL);
    s->st = 0;
    return stop_cb(s, held, hl);
}

void tks_stop_reset(tks_stop *s) {
    if (!s) return;
    s->st = 0;
    s->stopped = s->finished = s->has_cand = s->gate = 0;
    s->cand_idx = 0;
    s->cand_start = 0;
    s->pos = 0;
    memset(&s->match, 0, sizeof s->match);
    tks__err_clear(&s->err);
}

void tks_stop_free(tks_stop *s) {
    if (!s) return;
    tks_alloc a = s->alloc;
    tks__free(&a, s, s->block_size);
}

const char *tks_stop_error(const tks_stop *s) { return s ? tks__err_text(&s->err) : ""; }

uint64_t tks_stop_offset(const tks_stop *s) { return s ? s->err.offset : 0; }

const tks_stop_match *tks_stop_matched(const tks_stop *s) {
    return s && s->match.kind != TKS_STOP_NONE ? &s->match : NULL;
}

const char *tks_stop_held(const tks_stop *s, size_t *len) {
    if (!s) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = info(s, s->st, I_DEPTH);
    return s->blob + info(s, s->st, I_REP);
}

uint64_t tks__stop_work(const tks_stop *s) { return s->work; }

size_t tks__stop_states(const tks_stop *s) { return s->n_states; }

/* ---- building the automaton ------------------------------------------------------ */

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

int tks_stop_new(tks_stop **out, const tks_stop_config *cfg, tks_text_cb on_text,
                 void *user) {
    if (out) *out = NULL;
    if (!out || !on_text) return TKS_EINVAL;
    tks_stop_config dflt = {0};
    if (!cfg) cfg = &dflt;
    if (cfg->flags & ~(uint32_t)TKS_STOP_INCLUDE) return TKS_EINVAL;
    size_t n = cfg->n_strings, nt = cfg->n_tokens;
    if ((n && !cfg->strings) || (nt && !cfg->tokens)) return TKS_EINVAL;
    size_t max_table = TKS_OR(cfg->max_table, TKS_MIB);
    if (max_table > ((size_t)1 << 30)) max_table = (size_t)1 << 30; /* offsets fit 31 bits */

    /* Check the strings, count the bytes and the byte classes. */
    unsigned char used[256] = {0};
    size_t total = 0, maxlen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *str = cfg->strings[i];
        if (!str) return TKS_EINVAL;
        size_t l = cfg->lengths ? cfg->lengths[i] : strlen(str);
        if (l == 0 || tks__utf8_valid_prefix((const unsigned char *)str, l) != l)
            return TKS_EINVAL; /* empty, or not valid UTF-8 */
        if (l > max_table || total + l > max_table) return TKS_ELIMIT;
        total += l;
        if (l > maxlen) maxlen = l;
        for (size_t j = 0; j < l; j++) used[(unsigned char)str[j]] = 1;
    }
    uint32_t ncls = 1;
    for (int b = 0; b < 256; b++) ncls += used[b];
    size_t nst = total + 1;
    uint32_t stride = ncls + N_INFO;
    if (nst > max_table / (stride * sizeof(uint32_t))) return TKS_ELIMIT;
    size_t table_bytes = nst * stride * sizeof(uint32_t);
    size_t scratch_cap = n ? maxlen + SCRATCH_EXTRA : 0;

    size_t o_table = ALIGN8(sizeof(tks_stop));
    size_t o_pat = ALIGN8(o_table + table_bytes);
    size_t o_tok = ALIGN8(o_pat + 2 * n * sizeof(uint32_t));
    size_t o_cls = ALIGN8(o_tok + nt * sizeof(int32_t));
    size_t o_blob = o_cls + 256;
    size_t o_scratch = o_blob + total;
    size_t size = o_scratch + scratch_cap;

    uint32_t *queue = NULL;
    if (n) {
        tks_alloc a;
        int rc = tks__alloc_init(&a, cfg->alloc);
        if (rc) return rc;
        queue = tks__malloc(&a, nst * sizeof(uint32_t));
        if (!queue) return TKS_ENOMEM;
    }
    tks_stop *s;
    int rc = tks__object_new((void **)&s, size, cfg->alloc, offsetof(tks_stop, alloc));
    if (rc) {
        if (queue) {
            tks_alloc a;
            tks__alloc_init(&a, cfg->alloc);
            tks__free(&a, queue, nst * sizeof(uint32_t));
        }
        return rc;
    }
    char *blk = (char *)s;
    s->block_size = size;
    s->on_text = on_text;
    s->user = user;
    s->flags = cfg->flags;
    s->T = (uint32_t *)(void *)(blk + o_table);
    uint32_t *pat_off = (uint32_t *)(void *)(blk + o_pat);
    uint32_t *pat_len = pat_off + n;
    int32_t *tokens = (int32_t *)(void *)(blk + o_tok);
    uint8_t *cls = (uint8_t *)(blk + o_cls);
    char *blob = blk + o_blob;
    s->pat_off = pat_off;
    s->pat_len = pat_len;
    s->tokens = tokens;
    s->cls = cls;
    s->blob = blob;
    s->scratch = blk + o_scratch;
    s->scratch_cap = scratch_cap;
    s->n_strings = n;
    s->n_tokens = nt;
    s->stride = stride;
    s->ncls = ncls;
    if (nt) memcpy(tokens, cfg->tokens, nt * sizeof(int32_t));
    uint8_t c = 1;
    for (int b = 0; b < 256; b++)
        if (used[b]) cls[b] = c++;

    /* The trie. Row words are zero from the allocation: 0 = no child (the root is
     * never a child). Strings go in list order, so the first to create a state has the
     * smallest index through it. */
    uint32_t *T = s->T, inf = ncls;
    size_t off = 0, states = 1;
    T[inf + I_SUBMIN] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *str = cfg->strings[i];
        size_t l = cfg->lengths ? cfg->lengths[i] : strlen(str);
        memcpy(blob + off, str, l);
        pat_off[i] = (uint32_t)off;
        pat_len[i] = (uint32_t)l;
        uint32_t st = 0;
        for (size_t j = 0; j < l; j++) {
            uint32_t k = cls[(unsigned char)str[j]];
            uint32_t nx = T[st + k];
            if (!nx) {
                nx = (uint32_t)(states++ * stride);
                T[st + k] = nx;
                T[nx + inf + I_DEPTH] = (uint32_t)j + 1;
                T[nx + inf + I_REP] = (uint32_t)off;
                T[nx + inf + I_SUBMIN] = (uint32_t)i;
            }
            st = nx;
        }
        if (!T[st + inf + I_OUT_LEN]) { /* a duplicate keeps the first index */
            T[st + inf + I_OUT_LEN] = (uint32_t)l;
            T[st + inf + I_OUT_IDX] = (uint32_t)i;
        }
        off += l;
    }
    s->n_states = states;

    /* Failure links in breadth-first order, completing every row into a DFA; a state's
     * output is its own stop string or, failing that, its failure state's. */
    if (n) {
        size_t head = 0, tail = 0;
        queue[tail++] = 0;
        while (head < tail) {
            uint32_t st = queue[head++];
            uint32_t fail = T[st + inf + I_FAIL];
            for (uint32_t k = 0; k < ncls; k++) {
                uint32_t t = T[st + k];
                uint32_t via_fail = st ? T[fail + k] : 0;
                if (t) {
                    T[t + inf + I_FAIL] = via_fail;
                    if (!T[t + inf + I_OUT_LEN]) {
                        T[t + inf + I_OUT_LEN] = T[via_fail + inf + I_OUT_LEN];
                        T[t + inf + I_OUT_IDX] = T[via_fail + inf + I_OUT_IDX];
                    }
                    queue[tail++] = t;
                } else {
                    T[st + k] = via_fail;
                }
            }
        }
        for (size_t r = 0; r < states; r++)
            for (uint32_t k = 0; k < ncls; k++) {
                uint32_t *e = &T[r * stride + k];
                if (T[*e + inf + I_OUT_LEN]) *e |= T_MATCH;
            }
        tks__free(&s->alloc, queue, nst * sizeof(uint32_t));
    }
    *out = s;
    return TKS_OK;
}
