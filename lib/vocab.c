/* vocab.c - the decode-only vocabulary: id -> bytes table with per-id flags, the
 * alternative form some decoders need at the first or last position, and the
 * whole-output rules (Strip at the start). Filled by a loader or by tks_vocab_add;
 * read-only afterwards, so detoks in many threads can share it. */
#include "vocab_internal.h"

#include <stdio.h>

#define DEFAULT_MAX_TOKENS ((size_t)1 << 24)
#define DEFAULT_MAX_BYTES (256 * TKS_MIB)

int tks_vocab_new(tks_vocab **out, const tks_vocab_config *cfg) {
    tks_vocab *v;
    if (!out) return TKS_EINVAL;
    *out = NULL;
    int rc = tks__object_new((void **)&v, sizeof *v, cfg ? cfg->alloc : NULL,
                             offsetof(tks_vocab, alloc));
    if (rc) return rc;
    size_t mt = cfg ? cfg->max_tokens : 0, mb = cfg ? cfg->max_bytes : 0;
    v->max_tokens = TKS_OR(mt, DEFAULT_MAX_TOKENS);
    if (v->max_tokens > (size_t)INT32_MAX + 1) v->max_tokens = (size_t)INT32_MAX + 1;
    v->bytes.limit = TKS_OR(mb, DEFAULT_MAX_BYTES);
    if (v->bytes.limit > UINT32_MAX) v->bytes.limit = UINT32_MAX; /* offsets are 32-bit */
    if (cfg && cfg->strip_start) {
        v->strip_start = cfg->strip_start;
        v->strip_byte = ' ';
    }
    *out = v;
    return TKS_OK;
}

void tks_vocab_free(tks_vocab *v) {
    if (!v) return;
    tks_alloc a = v->alloc;
    tks__free(&a, v->tok, v->cap * sizeof *v->tok);
    tks__free(&a, v->alt, v->alt_cap * sizeof *v->alt);
    tks__buf_free(&v->bytes, &a);
    tks__free(&a, v, sizeof *v);
}

const char *tks_vocab_error(const tks_vocab *v) { return v ? tks__err_text(&v->err) : ""; }
uint64_t tks_vocab_offset(const tks_vocab *v) { return v ? v->err.offset : 0; }
size_t tks_vocab_size(const tks_vocab *v) { return v ? v->n : 0; }

/* Makes room for ids < need (and their alternative forms when the rules use them). */
static int grow(tks_vocab *v, size_t need, uint64_t offset) {
    if (need > v->cap) {
        size_t ncap = v->cap ? v->cap : 256;
        while (ncap < need) ncap = ncap > v->max_tokens / 2 ? v->max_tokens : ncap * 2;
        tks__tok *t = tks__realloc(&v->alloc, v->tok, v->cap * sizeof *t, ncap * sizeof *t);
        if (!t) return tks__err_at(&v->err, TKS_ENOMEM, offset, "out of memory for the id table");
        memset(t + v->cap, 0, (ncap - v->cap) * sizeof *t);
        v->tok = t;
        v->cap = ncap;
    }
    if (v->pos_rule != TKS__POS_NONE && v->alt_cap < v->cap) {
        tks__tok *a = tks__realloc(&v->alloc, v->alt, v->alt_cap * sizeof *a, v->cap * sizeof *a);
        if (!a) return tks__err_at(&v->err, TKS_ENOMEM, offset, "out of memory for the id table");
        memset(a + v->alt_cap, 0, (v->cap - v->alt_cap) * sizeof *a);
        v->alt = a;
        v->alt_cap = v->cap;
    }
    return TKS_OK;
}

int tks__vocab_reserve(tks_vocab *v, size_t ids, size_t bytes) {
    if (ids > v->max_tokens) ids = v->max_tokens;
    int rc = grow(v, ids, 0);
    if (rc) return rc;
    if (bytes > v->bytes.limit) bytes = v->bytes.limit;
    if (bytes > v->bytes.len) {
        rc = tks__buf_reserve(&v->bytes, &v->alloc, bytes - v->bytes.len);
        if (rc) return tks__err_set(&v->err, rc, 0, "out of memory for token bytes");
    }
    return TKS_OK;
}

static int arena_add(tks_vocab *v, const void *p, size_t len, tks__tok *t, unsigned flags,
                     uint64_t offset) {
    if (len > TKS__TOK_LEN_MAX)
        return tks__err_at(&v->err, TKS_ELIMIT, offset, "token longer than 16 MiB");
    int rc = tks__buf_append(&v->bytes, &v->alloc, p, len);
    if (rc == TKS_ELIMIT)
        return tks__err_at(&v->err, rc, offset, "vocabulary bytes exceed max_bytes");
    if (rc) return tks__err_at(&v->err, rc, offset, "out of memory for token bytes");
    t->off = (uint32_t)(v->bytes.len - len);
    t->lenf = (uint32_t)len | (uint32_t)flags << 24;
    return TKS_OK;
}

int tks__vocab_put(tks_vocab *v, int64_t id, const void *b, size_t blen, const void *a,
                   size_t alen, unsigned flags, uint64_t offset) {
    char msg[96];
    if (v->err.code) return v->err.code;
    if (id < 0 || (uint64_t)id >= v->max_tokens) {
        snprintf(msg, sizeof msg, "token id %lld out of range (max_tokens %zu)", (long long)id,
                 v->max_tokens);
        return tks__err_at(&v->err, id < 0 ? TKS_EPROTO : TKS_ELIMIT, offset, msg);
    }
    size_t i = (size_t)id;
    int rc = grow(v, i + 1, offset);
    if (rc) return rc;
    tks__tok t;
    unsigned f = (flags & TKS__F_SPECIAL) | TKS__F_PRESENT;
    int alt = a && v->pos_rule != TKS__POS_NONE && (alen != blen || memcmp(a, b, blen) != 0);
    if (alt) f |= TKS__F_ALT;
    rc = arena_add(v, b, blen, &t, f, offset);
    if (rc) return rc;
    if (alt) {
        tks__tok ta;
        rc = arena_add(v, a, alen, &ta, 0, offset);
        if (rc) return rc;
        v->alt[i] = ta;
    }
    if (!(TKS__TOK_FLAGS(v->tok[i]) & TKS__F_PRESENT)) v->count++;
    v->tok[i] = t;
    if (i >= v->n) v->n = i + 1;
    return TKS_OK;
}

int tks_vocab_add(tks_vocab *v, int32_t id, const void *bytes, size_t len, uint32_t flags) {
    if (!v || (!bytes && len) || (flags & ~(uint32_t)TKS_TOKEN_SPECIAL)) return TKS_EINVAL;
    if (v->err.code) return v->err.code;
    if (v->loaded) /* a loaded vocabulary's rules belong to its file: keep it whole */
        return TKS_ESTATE;
    if (id < 0) return TKS_EINVAL;
    return tks__vocab_put(v, id, bytes ? bytes : "", len, NULL, 0,
                          flags & TKS_TOKEN_SPECIAL ? TKS__F_SPECIAL : 0, (uint64_t)id);
}

int tks_vocab_token(const tks_vocab *v, int32_t id, const char **bytes, size_t *len,
                    uint32_t *flags) {
    if (!v) return TKS_EINVAL;
    if (id < 0 || (size_t)id >= v->n || !(TKS__TOK_FLAGS(v->tok[id]) & TKS__F_PRESENT))
        return TKS_ENOTFOUND;
    tks__tok t = v->tok[id];
    if (bytes) *bytes = v->bytes.p + t.off;
    if (len) *len = TKS__TOK_LEN(t);
    if (flags) *flags = TKS__TOK_FLAGS(t) & TKS__F_SPECIAL ? TKS_TOKEN_SPECIAL : 0;
    return TKS_OK;
}

/* ---- tiktoken's special tokens (tiktoken_ext/openai_public.py) ------------------------ */

static const tks_special_token cl100k_specials[] = {
    {"<|endoftext|>", 100257},  {"<|fim_prefix|>", 100258}, {"<|fim_middle|>", 100259},
    {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276},
};
static const tks_special_token o200k_specials[] = {
    {"<|endoftext|>", 199999},
    {"<|endofprompt|>", 200018},
};

int tks_vocab_tiktoken_specials(const char *encoding, const tks_special_token **out, size_t *n) {
    if (!encoding || !out || !n) return TKS_EINVAL;
    if (strcmp(encoding, "cl100k_base") == 0) {
        *out = cl100k_specials;
        *n = sizeof cl100k_specials / sizeof cl100k_specials[0];
    } else if (strcmp(encoding, "o200k_base") == 0) {
        *out = o200k_specials;
        *n = sizeof o200k_specials / sizeof o200k_specials[0];
    } else {
        *out = NULL;
        *n = 0;
        return TKS_ENOTFOUND;
    }
    return TKS_OK;
}
