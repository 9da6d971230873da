/* vocab_tiktoken.c - the tiktoken file loader: one "base64(token bytes) SP rank" per line
 * (rank = token id), empty lines ignored; the special tokens come from the caller, since
 * tiktoken keeps them in code. Decoding a tiktoken vocabulary is plain byte
 * concatenation: no context rules. */
#include "vocab_internal.h"

#include <stdio.h>

/* base64 alphabet value of a byte, or -1. */
static int b64val(unsigned c) {
    if (c >= 'A' && c <= 'Z') return (int)(c - 'A');
    if (c >= 'a' && c <= 'z') return (int)(c - 'a' + 26);
    if (c >= '0' && c <= '9') return (int)(c - '0' + 52);
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 with padding (s, n) into out (room for n / 4 * 3 bytes).
 * Returns the decoded length, or -1 when the text is not canonical base64. */
static long b64decode(const unsigned char *s, size_t n, unsigned char *out) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64val(s[i]), b = b64val(s[i + 1]), c, d;
        if (a < 0 || b < 0) return -1;
        int last = i + 4 == n;
        if (last && s[i + 2] == '=' && s[i + 3] == '=') {
            if (b & 0x0F) return -1;
            out[o++] = (unsigned char)(a << 2 | b >> 4);
            break;
        }
        c = b64val(s[i + 2]);
        if (c < 0) return -1;
        if (last && s[i + 3] == '=') {
            if (c & 0x03) return -1;
            out[o++] = (unsigned char)(a << 2 | b >> 4);
            out[o++] = (unsigned char)((b & 0x0F) << 4 | c >> 2);
            break;
        }
        d = b64val(s[i + 3]);
        if (d < 0) return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        out[o++] = (unsigned char)((b & 0x0F) << 4 | c >> 2);
        out[o++] = (unsigned char)((c & 0x03) << 6 | d);
    }
    return (long)o;
}

int tks_vocab_load_tiktoken(tks_vocab *v, const void *data, size_t len,
                            const tks_special_token *specials, size_t n_specials) {
    if (!v || (!data && len) || (!specials && n_specials)) return TKS_EINVAL;
    for (size_t i = 0; i < n_specials; i++)
        if (!specials[i].name || specials[i].id < 0) return TKS_EINVAL;
    if (v->err.code) return v->err.code;
    if (v->loaded || v->count) return TKS_ESTATE;
    v->loaded = 1;
    v->pos_rule = TKS__POS_NONE;
    v->strip_start = 0;

    const unsigned char *base = data ? data : (const void *)"", *p = base, *end = base + len;
    unsigned char tok[1032]; /* a 1024-byte token is 1368 base64 characters: 1026 bytes of room */
    /* one line per token, about 3/4 of a line's base64 is bytes: size the tables once */
    size_t lines = 0;
    for (const unsigned char *q = base; q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) lines++;
    int rrc = tks__vocab_reserve(v, lines + 1, len / 2);
    if (rrc) return rrc;
    char msg[96];
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        const unsigned char *le = nl ? nl : end;
        uint64_t off = (uint64_t)(p - base);
        if (le > p && le[-1] == '\r') le--;
        if (le == p) { /* empty line */
            p = nl ? nl + 1 : end;
            continue;
        }
        const unsigned char *sp = memchr(p, ' ', (size_t)(le - p));
        if (!sp) return tks__err_at(&v->err, TKS_EPROTO, off, "tiktoken line without \"token rank\"");
        size_t b64len = (size_t)(sp - p);
        if (b64len / 4 * 3 > sizeof tok)
            return tks__err_at(&v->err, TKS_ELIMIT, off, "tiktoken token longer than 1024 bytes");
        long n = b64decode(p, b64len, tok);
        if (n < 0) return tks__err_at(&v->err, TKS_EPROTO, off, "bad base64 in a tiktoken line");
        const unsigned char *q = sp + 1;
        int64_t rank = 0;
        if (q == le) return tks__err_at(&v->err, TKS_EPROTO, off, "tiktoken line without a rank");
        for (; q < le; q++) {
            if (*q < '0' || *q > '9')
                return tks__err_at(&v->err, TKS_EPROTO, (uint64_t)(q - base), "bad rank in a tiktoken line");
            rank = rank * 10 + (*q - '0');
            if (rank > INT32_MAX) return tks__err_at(&v->err, TKS_ELIMIT, off, "rank too large");
        }
        if ((size_t)rank < v->n && (TKS__TOK_FLAGS(v->tok[rank]) & TKS__F_PRESENT)) {
            snprintf(msg, sizeof msg, "rank %lld given twice", (long long)rank);
            return tks__err_at(&v->err, TKS_EPROTO, off, msg);
        }
        int rc = tks__vocab_put(v, rank, tok, (size_t)n, NULL, 0, 0, off);
        if (rc) return rc;
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < n_specials; i++) {
        int rc = tks__vocab_put(v, specials[i].id, specials[i].name, strlen(specials[i].name), NULL, 0,
                                TKS__F_SPECIAL, len);
        if (rc) return rc;
    }
    return TKS_OK;
}
