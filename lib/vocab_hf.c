/* vocab_hf.c - the Hugging Face tokenizer.json loader (decode side only).
 *
 * A small streaming JSON scanner (no document tree): one pass over the top level records
 * where "model", "added_tokens" and "decoder" start, skipping everything else (the
 * merges are most of the file), then those three are read in place. The decoder chain
 * is compiled into per-token operations that run once per token at load time, plus the
 * few rules that depend on position (first kept token, last token) or on the whole
 * output (Strip at the start after Fuse). A chain that cannot be reproduced exactly that
 * way is refused with TKS_EUNSUPPORTED and the reason, never decoded approximately. */
#include "vocab_internal.h"

#include <stdio.h>

#define MAX_DEPTH 512   /* JSON nesting skipped over */
#define MAX_STEPS 32    /* decoder steps after flattening Sequences */
#define MAX_SEQ_DEPTH 8 /* nested Sequence decoders */
#define MAX_PARAM 64    /* bytes of a decoder's string parameter */

/* Per-token operations the decoder chain compiles to. */
enum {
    OP_REPLACE = 1, /* a -> b everywhere in the token */
    OP_METASPACE,   /* first kept token: a -> "" ; others: a -> " " */
    OP_WORDPIECE,   /* not first: drop prefix a, or prepend " "; then cleanup (flag) */
    OP_BPE_SUFFIX,  /* a -> " ", or "" in the last token */
    OP_STRIP,       /* up to start leading / stop trailing copies of char a */
    OP_BYTEFALLBACK,/* "<0xHH>" -> the byte */
    OP_BYTELEVEL,   /* GPT-2 bytes_to_unicode inverse, or the raw text if a char is unmapped */
    OP_JOIN         /* not first: prepend " " (no decoder: tokens joined by spaces) */
};

typedef struct op {
    int kind;
    int flag;
    uint32_t start, stop;
    size_t alen, blen;
    char a[MAX_PARAM];
    char b[MAX_PARAM];
} op;

/* A decoder object's parameters, whatever its type. */
typedef struct dparams {
    char type[32];
    size_t type_len;
    const unsigned char *decoders_at;
    int pattern_kind; /* 0 none, 1 String, 2 Regex */
    char pattern[MAX_PARAM], content[MAX_PARAM], replacement[MAX_PARAM], prefix[MAX_PARAM],
        suffix[MAX_PARAM];
    size_t pattern_len, content_len, replacement_len, prefix_len, suffix_len;
    int has_content, has_replacement, has_prefix, has_suffix;
    int prepend;          /* -1 unset, 0 always, 1 first, 2 never */
    int add_prefix_space; /* -1 unset */
    int cleanup;          /* -1 unset */
    int64_t start, stop;
} dparams;

typedef struct hf {
    tks_vocab *v;
    const unsigned char *base, *p, *end;
    tks__buf str;   /* decoded JSON string (token text, parameter) */
    tks__buf key;   /* decoded member name */
    tks__buf w[2];  /* ping-pong work buffers of the per-token operations */
    tks__buf formb; /* the usual form while the alternative one is computed */
    op ops[MAX_STEPS];
    int nops;
    int fused, bytes_made, bf_open, gstrip, pos_first, pos_last;
    int16_t inv[0x144]; /* bytes_to_unicode inverse: code point -> byte, -1 unmapped */
    /* The contents of the special added tokens: HF skips a token as special by its text,
     * so any id with one of these texts is special. Records [u32 len][bytes] in sp,
     * an open-addressing set of (record offset + 1) in sp_tab. */
    tks__buf sp;
    uint32_t *sp_tab;
    size_t sp_cap, sp_count;
} hf;

static int fail(hf *h, int code, const char *msg) {
    return tks__err_at(&h->v->err, code, (uint64_t)(h->p - h->base), msg);
}

/* ---- JSON scanning ------------------------------------------------------------------ */

static void ws(hf *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\n' || *h->p == '\r' || *h->p == '\t'))
        h->p++;
}

static int peek(hf *h) {
    ws(h);
    return h->p < h->end ? *h->p : -1;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(hf *h, unsigned *out) {
    if (h->end - h->p < 4) return fail(h, TKS_EJSON, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexval(h->p[i]);
        if (d < 0) return fail(h, TKS_EJSON, "bad \\u escape");
        v = v << 4 | (unsigned)d;
    }
    h->p += 4;
    *out = v;
    return TKS_OK;
}

/* Plain string bytes: not '"', not '\\', not a control character. */
static int plain(unsigned c) { return c >= 0x20 && c != '"' && c != '\\'; }

static int put(hf *h, tks__buf *b, const void *p, size_t n) {
    int rc = tks__buf_append(b, &h->v->alloc, p, n);
    if (rc == TKS_ELIMIT) return fail(h, rc, "string longer than max_bytes");
    if (rc) return fail(h, rc, "out of memory");
    return TKS_OK;
}

/* Decodes the string at the cursor into out (replacing its content). */
static int jstr(hf *h, tks__buf *out) {
    out->len = 0;
    if (peek(h) != '"') return fail(h, TKS_EJSON, "expected a string");
    const unsigned char *start = ++h->p;
    int rc;
    for (;;) {
        const unsigned char *q = h->p;
        while (q < h->end && plain(*q)) q++;
        if (q > h->p && (rc = put(h, out, h->p, (size_t)(q - h->p)))) return rc;
        h->p = q;
        if (q >= h->end) return fail(h, TKS_EJSON, "unterminated string");
        if (*q == '"') {
            h->p++;
            break;
        }
        if (*q < 0x20) return fail(h, TKS_EJSON, "control character in a string");
        /* backslash */
        if (h->end - q < 2) return fail(h, TKS_EJSON, "unterminated string");
        char c;
        h->p = q + 2;
        switch (q[1]) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            h->p = q + 2;
            if ((rc = hex4(h, &cp))) return rc;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(h, TKS_EJSON, "lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (h->end - h->p < 2 || h->p[0] != '\\' || h->p[1] != 'u')
                    return fail(h, TKS_EJSON, "lone high surrogate");
                h->p += 2;
                if ((rc = hex4(h, &lo))) return rc;
                if (lo < 0xDC00 || lo > 0xDFFF) return fail(h, TKS_EJSON, "lone high surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            unsigned char u[4];
            size_t n;
            if (cp < 0x80) {
                u[0] = (unsigned char)cp;
                n = 1;
            } else if (cp < 0x800) {
                u[0] = (unsigned char)(0xC0 | cp >> 6);
                u[1] = (unsigned char)(0x80 | (cp & 0x3F));
                n = 2;
            } else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xE0 | cp >> 12);
                u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                u[2] = (unsigned char)(0x80 | (cp & 0x3F));
                n = 3;
            } else {
                u[0] = (unsigned char)(0xF0 | cp >> 18);
                u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
                u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                u[3] = (unsigned char)(0x80 | (cp & 0x3F));
                n = 4;
            }
            if ((rc = put(h, out, u, n))) return rc;
            continue;
        }
        default: h->p = q; return fail(h, TKS_EJSON, "bad escape in a string");
        }
        if ((rc = put(h, out, &c, 1))) return rc;
    }
    if (tks__utf8_valid_prefix((const unsigned char *)out->p, out->len) != out->len) {
        h->p = start - 1;
        return fail(h, TKS_EJSON, "invalid UTF-8 in a string");
    }
    return TKS_OK;
}

static int skip_string(hf *h) {
    h->p++; /* the opening quote, checked by the caller */
    for (;;) {
        while (h->p < h->end && plain(*h->p)) h->p++;
        if (h->p >= h->end) return fail(h, TKS_EJSON, "unterminated string");
        unsigned c = *h->p;
        if (c == '"') {
            h->p++;
            return TKS_OK;
        }
        if (c < 0x20) return fail(h, TKS_EJSON, "control character in a string");
        if (h->end - h->p < 2) return fail(h, TKS_EJSON, "unterminated string");
        c = h->p[1];
        if (c == 'u') {
            unsigned u;
            h->p += 2;
            int rc = hex4(h, &u);
            if (rc) return rc;
        } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                   c == 'r' || c == 't') {
            h->p += 2;
        } else {
            return fail(h, TKS_EJSON, "bad escape in a string");
        }
    }
}

static int skip_number(hf *h) {
    const unsigned char *q = h->p;
    if (q < h->end && *q == '-') q++;
    if (q >= h->end || *q < '0' || *q > '9') return fail(h, TKS_EJSON, "bad number");
    if (*q == '0') q++;
    else
        while (q < h->end && *q >= '0' && *q <= '9') q++;
    if (q < h->end && *q == '.') {
        q++;
        if (q >= h->end || *q < '0' || *q > '9') return fail(h, TKS_EJSON, "bad number");
        while (q < h->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < h->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < h->end && (*q == '+' || *q == '-')) q++;
        if (q >= h->end || *q < '0' || *q > '9') return fail(h, TKS_EJSON, "bad number");
        while (q < h->end && *q >= '0' && *q <= '9') q++;
    }
    h->p = q;
    return TKS_OK;
}

static int literal(hf *h, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, word, n) != 0)
        return fail(h, TKS_EJSON, "unexpected character");
    h->p += n;
    return TKS_OK;
}

/* Skips one value of any kind (iterative: nesting costs no stack). */
static int skip_value(hf *h) {
    unsigned char stack[MAX_DEPTH];
    int depth = 0, rc, c;
    enum { VALUE, KEY, AFTER } st = VALUE;
    for (;;) {
        switch (st) {
        case VALUE:
            c = peek(h);
            if (c == '{' || c == '[') {
                if (depth == MAX_DEPTH) return fail(h, TKS_ELIMIT, "JSON nested too deeply");
                stack[depth++] = (unsigned char)c;
                h->p++;
                c = peek(h);
                if (c == (stack[depth - 1] == '{' ? '}' : ']')) {
                    h->p++;
                    depth--;
                    st = AFTER;
                } else {
                    st = stack[depth - 1] == '{' ? KEY : VALUE;
                }
                continue;
            }
            if (c == '"') rc = skip_string(h);
            else if (c == 't') rc = literal(h, "true");
            else if (c == 'f') rc = literal(h, "false");
            else if (c == 'n') rc = literal(h, "null");
            else if (c == '-' || (c >= '0' && c <= '9')) rc = skip_number(h);
            else rc = fail(h, TKS_EJSON, c < 0 ? "unexpected end of input" : "expected a value");
            if (rc) return rc;
            st = AFTER;
            continue;
        case KEY:
            if (peek(h) != '"') return fail(h, TKS_EJSON, "expected a member name");
            if ((rc = skip_string(h))) return rc;
            if (peek(h) != ':') return fail(h, TKS_EJSON, "expected ':'");
            h->p++;
            st = VALUE;
            continue;
        case AFTER:
            if (depth == 0) return TKS_OK;
            c = peek(h);
            if (c == ',') {
                h->p++;
                st = stack[depth - 1] == '{' ? KEY : VALUE;
            } else if (c == (stack[depth - 1] == '{' ? '}' : ']')) {
                h->p++;
                depth--;
            } else {
                return fail(h, TKS_EJSON, c < 0 ? "unexpected end of input" : "expected ',' or a closing bracket");
            }
            continue;
        }
    }
}

/* Object members: *n counts the members read so far (start at 0, after '{').
 * Returns 1 with the name in h->key and the cursor on the value, 0 at the end. */
static int obj_begin(hf *h) {
    if (peek(h) != '{') return fail(h, TKS_EJSON, "expected an object");
    h->p++;
    return TKS_OK;
}

static int obj_next(hf *h, int *n) {
    int c = peek(h);
    if (c == '}') {
        h->p++;
        return 0;
    }
    if (*n) {
        if (c != ',') return fail(h, TKS_EJSON, c < 0 ? "unexpected end of input" : "expected ',' or '}'");
        h->p++;
    }
    int rc = jstr(h, &h->key);
    if (rc) return rc;
    if (peek(h) != ':') return fail(h, TKS_EJSON, "expected ':'");
    h->p++;
    (*n)++;
    return 1;
}

static int arr_begin(hf *h) {
    if (peek(h) != '[') return fail(h, TKS_EJSON, "expected an array");
    h->p++;
    return TKS_OK;
}

/* 1: the cursor is on the next element; 0: end of the array. */
static int arr_next(hf *h, int *n) {
    int c = peek(h);
    if (c == ']') {
        h->p++;
        return 0;
    }
    if (*n) {
        if (c != ',') return fail(h, TKS_EJSON, c < 0 ? "unexpected end of input" : "expected ',' or ']'");
        h->p++;
    }
    (*n)++;
    return 1;
}

static int key_is(const hf *h, const char *name) {
    size_t n = strlen(name);
    return h->key.len == n && memcmp(h->key.p, name, n) == 0;
}

static int jint(hf *h, int64_t *out) {
    ws(h);
    const unsigned char *q = h->p;
    int neg = 0;
    if (q < h->end && *q == '-') {
        neg = 1;
        q++;
    }
    if (q >= h->end || *q < '0' || *q > '9') return fail(h, TKS_EJSON, "expected an integer");
    int64_t v = 0;
    while (q < h->end && *q >= '0' && *q <= '9') {
        if (v > (INT64_MAX - 9) / 10) return fail(h, TKS_ELIMIT, "integer too large");
        v = v * 10 + (*q++ - '0');
    }
    if (q < h->end && (*q == '.' || *q == 'e' || *q == 'E'))
        return fail(h, TKS_EJSON, "expected an integer");
    h->p = q;
    *out = neg ? -v : v;
    return TKS_OK;
}

static int jbool(hf *h, int *out) {
    int c = peek(h);
    if (c == 't') {
        *out = 1;
        return literal(h, "true");
    }
    if (c == 'f') {
        *out = 0;
        return literal(h, "false");
    }
    return fail(h, TKS_EJSON, "expected true or false");
}

/* A short string parameter into a fixed buffer. */
static int jparam(hf *h, char *dst, size_t *len) {
    int rc = jstr(h, &h->str);
    if (rc) return rc;
    if (h->str.len > MAX_PARAM)
        return fail(h, TKS_EUNSUPPORTED, "decoder parameter longer than 64 bytes");
    if (h->str.len) memcpy(dst, h->str.p, h->str.len);
    *len = h->str.len;
    return TKS_OK;
}

/* ---- decoder chain -> operations ------------------------------------------------------ */

static size_t utf8_len1(const char *s, size_t n) {
    /* bytes of the first character (n when s is not one well-formed character) */
    int k = n ? tks__utf8_char((const unsigned char *)s, n) : 0;
    return k > 0 ? (size_t)k : n + 1;
}

static int add_op(hf *h, int kind, const char *a, size_t alen, const char *b, size_t blen) {
    if (h->nops == MAX_STEPS) return fail(h, TKS_EUNSUPPORTED, "more than 32 decoder steps");
    op *o = &h->ops[h->nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    if (alen) memcpy(o->a, a, alen);
    if (blen) memcpy(o->b, b, blen);
    o->alen = alen;
    o->blen = blen;
    return TKS_OK;
}

/* After Fuse the chain sees the whole text as one token; a pattern can then be applied
 * per token only when it is one character that no token boundary can split. */
static int whole_text_pattern_ok(hf *h, const char *pat, size_t len, const char *what) {
    char msg[120];
    if (len == 0 || utf8_len1(pat, len) != len || (h->bytes_made && (unsigned char)pat[0] >= 0x80)) {
        snprintf(msg, sizeof msg, "%s after Fuse/ByteLevel with a pattern that can span tokens",
                 what);
        return fail(h, TKS_EUNSUPPORTED, msg);
    }
    return TKS_OK;
}

static int compile_step(hf *h, const dparams *d, int depth);
static int compile_decoder(hf *h, int depth);

/* One decoder object at the cursor: its parameters, then its operations. */
static int compile_decoder(hf *h, int depth) {
    int rc;
    dparams d;
    memset(&d, 0, sizeof d);
    d.prepend = d.add_prefix_space = d.cleanup = -1;
    d.start = d.stop = -1;
    /* parse one decoder object */
    int m = 0;
    if ((rc = obj_begin(h))) return rc;
    while ((rc = obj_next(h, &m)) == 1) {
        if (key_is(h, "type")) {
            if ((rc = jstr(h, &h->str))) return rc;
            if (h->str.len >= sizeof d.type) return fail(h, TKS_EUNSUPPORTED, "unknown decoder type");
            memcpy(d.type, h->str.p, h->str.len);
            d.type_len = h->str.len;
        } else if (key_is(h, "decoders")) {
            d.decoders_at = h->p;
            rc = skip_value(h);
        } else if (key_is(h, "pattern")) {
            int k = 0, rc2;
            if (peek(h) != '{') return fail(h, TKS_EUNSUPPORTED, "Replace pattern is not {\"String\"} or {\"Regex\"}");
            if ((rc = obj_begin(h))) return rc;
            while ((rc2 = obj_next(h, &k)) == 1) {
                if (key_is(h, "String")) d.pattern_kind = 1;
                else if (key_is(h, "Regex")) d.pattern_kind = 2;
                else return fail(h, TKS_EUNSUPPORTED, "Replace pattern is not {\"String\"} or {\"Regex\"}");
                if (d.pattern_kind == 2) rc2 = skip_value(h);
                else rc2 = jparam(h, d.pattern, &d.pattern_len);
                if (rc2) return rc2;
            }
            rc = rc2;
        } else if (key_is(h, "content")) {
            rc = jparam(h, d.content, &d.content_len);
            d.has_content = 1;
        } else if (key_is(h, "replacement")) {
            rc = jparam(h, d.replacement, &d.replacement_len);
            d.has_replacement = 1;
        } else if (key_is(h, "prefix")) {
            rc = jparam(h, d.prefix, &d.prefix_len);
            d.has_prefix = 1;
        } else if (key_is(h, "suffix")) {
            rc = jparam(h, d.suffix, &d.suffix_len);
            d.has_suffix = 1;
        } else if (key_is(h, "prepend_scheme")) {
            if ((rc = jstr(h, &h->str))) return rc;
            if (h->str.len == 6 && memcmp(h->str.p, "always", 6) == 0) d.prepend = 0;
            else if (h->str.len == 5 && memcmp(h->str.p, "first", 5) == 0) d.prepend = 1;
            else if (h->str.len == 5 && memcmp(h->str.p, "never", 5) == 0) d.prepend = 2;
            else return fail(h, TKS_EUNSUPPORTED, "unknown Metaspace prepend_scheme");
        } else if (key_is(h, "add_prefix_space") && peek(h) != 'n') {
            rc = jbool(h, &d.add_prefix_space);
        } else if (key_is(h, "cleanup") && peek(h) != 'n') {
            rc = jbool(h, &d.cleanup);
        } else if (key_is(h, "start")) {
            rc = jint(h, &d.start);
        } else if (key_is(h, "stop")) {
            rc = jint(h, &d.stop);
        } else {
            rc = skip_value(h);
        }
        if (rc) return rc;
    }
    if (rc < 0) return rc;
    if ((rc = compile_step(h, &d, depth))) return rc;
    return TKS_OK;
}

static int compile_sequence(hf *h, const unsigned char *at, int depth) {
    const unsigned char *save = h->p;
    int rc, n = 0;
    h->p = at;
    if (depth >= MAX_SEQ_DEPTH) return fail(h, TKS_EUNSUPPORTED, "Sequence decoders nested too deeply");
    if ((rc = arr_begin(h))) return rc;
    while ((rc = arr_next(h, &n)) == 1)
        if ((rc = compile_decoder(h, depth))) return rc;
    if (rc < 0) return rc;
    h->p = save;
    return TKS_OK;
}

static int type_is(const dparams *d, const char *name) {
    size_t n = strlen(name);
    return d->type_len == n && memcmp(d->type, name, n) == 0;
}

static int compile_step(hf *h, const dparams *d, int depth) {
    char msg[140];
    int rc;
    if (h->gstrip)
        return fail(h, TKS_EUNSUPPORTED, "a decoder step after Strip on the whole text");
    if (type_is(d, "Sequence")) {
        if (!d->decoders_at) return fail(h, TKS_EPROTO, "Sequence decoder without decoders");
        return compile_sequence(h, d->decoders_at, depth + 1);
    }
    if (h->bf_open && !type_is(d, "Fuse")) /* ByteFallback merges byte runs into one token:
                                              only Fuse keeps per-token rules exact */
        return fail(h, TKS_EUNSUPPORTED, "a decoder step between ByteFallback and Fuse");
    if (type_is(d, "ByteLevel")) {
        if (h->fused) return fail(h, TKS_EUNSUPPORTED, "ByteLevel decoder after Fuse");
        h->fused = h->bytes_made = 1;
        return add_op(h, OP_BYTELEVEL, NULL, 0, NULL, 0);
    }
    if (type_is(d, "ByteFallback")) {
        if (h->fused) return fail(h, TKS_EUNSUPPORTED, "ByteFallback decoder after Fuse");
        h->bf_open = h->bytes_made = 1;
        return add_op(h, OP_BYTEFALLBACK, NULL, 0, NULL, 0);
    }
    if (type_is(d, "Fuse")) {
        h->fused = 1;
        h->bf_open = 0;
        return TKS_OK;
    }
    if (type_is(d, "Replace")) {
        if (d->pattern_kind == 2)
            return fail(h, TKS_EUNSUPPORTED, "Replace decoder with a Regex pattern");
        if (d->pattern_kind != 1 || !d->has_content)
            return fail(h, TKS_EPROTO, "Replace decoder without a String pattern and content");
        if (d->pattern_len == 0) return fail(h, TKS_EUNSUPPORTED, "Replace decoder with an empty pattern");
        if (h->fused && (rc = whole_text_pattern_ok(h, d->pattern, d->pattern_len, "Replace")))
            return rc;
        return add_op(h, OP_REPLACE, d->pattern, d->pattern_len, d->content, d->content_len);
    }
    if (type_is(d, "Metaspace")) {
        const char *r = d->has_replacement ? d->replacement : "\xE2\x96\x81";
        size_t rl = d->has_replacement ? d->replacement_len : 3;
        if (rl == 0 || utf8_len1(r, rl) != rl)
            return fail(h, TKS_EPROTO, "Metaspace replacement is not one character");
        int scheme = d->prepend >= 0 ? d->prepend : d->add_prefix_space == 0 ? 2 : 0;
        if (h->fused) { /* the whole text is token 0 */
            if ((rc = whole_text_pattern_ok(h, r, rl, "Metaspace"))) return rc;
            return add_op(h, OP_REPLACE, r, rl, " ", scheme == 2 ? 1 : 0);
        }
        if (scheme == 2) return add_op(h, OP_REPLACE, r, rl, " ", 1);
        h->pos_first = 1;
        return add_op(h, OP_METASPACE, r, rl, NULL, 0);
    }
    if (type_is(d, "WordPiece")) {
        if (h->fused) return fail(h, TKS_EUNSUPPORTED, "WordPiece decoder after Fuse");
        h->pos_first = 1;
        rc = add_op(h, OP_WORDPIECE, d->has_prefix ? d->prefix : "##", d->has_prefix ? d->prefix_len : 2,
                    NULL, 0);
        if (!rc) h->ops[h->nops - 1].flag = d->cleanup != 0;
        return rc;
    }
    if (type_is(d, "BPEDecoder")) {
        const char *s = d->has_suffix ? d->suffix : "</w>";
        size_t sl = d->has_suffix ? d->suffix_len : 4;
        if (sl == 0) return TKS_OK; /* nothing to replace */
        if (h->fused) {               /* the whole text is the last token */
            if ((rc = whole_text_pattern_ok(h, s, sl, "BPEDecoder"))) return rc;
            return add_op(h, OP_REPLACE, s, sl, NULL, 0);
        }
        h->pos_last = 1;
        return add_op(h, OP_BPE_SUFFIX, s, sl, NULL, 0);
    }
    if (type_is(d, "Strip")) {
        const char *c = d->has_content ? d->content : " ";
        size_t cl = d->has_content ? d->content_len : 1;
        if (cl == 0 || utf8_len1(c, cl) != cl) return fail(h, TKS_EPROTO, "Strip content is not one character");
        if (d->start < -1 || d->stop < -1 || d->start > UINT32_MAX || d->stop > UINT32_MAX)
            return fail(h, TKS_EPROTO, "Strip start/stop out of range");
        uint32_t start = d->start > 0 ? (uint32_t)d->start : 0, stop = d->stop > 0 ? (uint32_t)d->stop : 0;
        if (start == 0 && stop == 0) return TKS_OK;
        if (h->fused) {
            if (stop) return fail(h, TKS_EUNSUPPORTED, "Strip with stop > 0 on the whole text");
            if ((unsigned char)c[0] >= 0x80)
                return fail(h, TKS_EUNSUPPORTED, "Strip of a non-ASCII character on the whole text");
            h->gstrip = 1;
            h->v->strip_byte = (unsigned char)c[0];
            h->v->strip_start = start;
            return TKS_OK;
        }
        rc = add_op(h, OP_STRIP, c, cl, NULL, 0);
        if (!rc) {
            h->ops[h->nops - 1].start = start;
            h->ops[h->nops - 1].stop = stop;
        }
        return rc;
    }
    snprintf(msg, sizeof msg, "unsupported decoder type \"%.*s\"", (int)d->type_len, d->type);
    if (d->type_len == 0) snprintf(msg, sizeof msg, "decoder without a type");
    return fail(h, TKS_EUNSUPPORTED, msg);
}

/* ---- per-token operations ------------------------------------------------------------- */

static const unsigned char *find(const unsigned char *s, size_t n, const char *pat, size_t pl) {
    if (pl == 0 || pl > n) return NULL;
    const unsigned char *last = s + (n - pl);
    for (const unsigned char *q = s; q <= last; q++) {
        q = memchr(q, (unsigned char)pat[0], (size_t)(last - q) + 1);
        if (!q) return NULL;
        if (memcmp(q, pat, pl) == 0) return q;
    }
    return NULL;
}

static int replace_all(hf *h, tks__buf *o, const unsigned char *s, size_t n, const char *a,
                       size_t al, const char *b, size_t bl) {
    int rc;
    const unsigned char *q;
    while ((q = find(s, n, a, al)) != NULL) {
        if ((rc = put(h, o, s, (size_t)(q - s))) || (bl && (rc = put(h, o, b, bl)))) return rc;
        n -= (size_t)(q - s) + al;
        s = q + al;
    }
    return put(h, o, s, n);
}

/* transformers/tokenizers WordPiece cleanup, applied in this order. */
static const char *const cleanup_pairs[][2] = {
    {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},          {" ' ", "'"},  {" n't", "n't"},
    {" 'm", "'m"}, {" do not", " don't"},        {" 's", "'s"},        {" 've", "'ve"}, {" 're", "'re"},
};

/* Runs every operation over one token for a position; *res points at the result. */
static int run_ops(hf *h, const unsigned char *s, size_t n, int first, int last, tks__buf **res) {
    int cur = -1, rc;
    for (int i = 0; i < h->nops; i++) {
        const op *o = &h->ops[i];
        tks__buf *out = &h->w[cur == 0 ? 1 : 0];
        out->len = 0;
        switch (o->kind) {
        case OP_REPLACE:
            rc = replace_all(h, out, s, n, o->a, o->alen, o->b, o->blen);
            break;
        case OP_METASPACE:
            rc = replace_all(h, out, s, n, o->a, o->alen, " ", first ? 0 : 1);
            break;
        case OP_BPE_SUFFIX:
            rc = replace_all(h, out, s, n, o->a, o->alen, " ", last ? 0 : 1);
            break;
        case OP_JOIN:
            rc = first ? TKS_OK : put(h, out, " ", 1);
            if (!rc) rc = put(h, out, s, n);
            break;
        case OP_WORDPIECE:
            if (first) rc = put(h, out, s, n);
            else if (n >= o->alen && memcmp(s, o->a, o->alen) == 0) rc = put(h, out, s + o->alen, n - o->alen);
            else if (!(rc = put(h, out, " ", 1))) rc = put(h, out, s, n);
            if (!rc && o->flag) {
                for (size_t k = 0; k < sizeof cleanup_pairs / sizeof cleanup_pairs[0]; k++) {
                    tks__buf *o2 = out == &h->w[0] ? &h->w[1] : &h->w[0];
                    const char *pa = cleanup_pairs[k][0], *pb = cleanup_pairs[k][1];
                    if (!find((const unsigned char *)out->p, out->len, pa, strlen(pa))) continue;
                    o2->len = 0;
                    if ((rc = replace_all(h, o2, (const unsigned char *)out->p, out->len, pa, strlen(pa), pb,
                                          strlen(pb))))
                        break;
                    out = o2;
                }
            }
            break;
        case OP_STRIP: {
            uint32_t k = 0;
            while (k < o->start && n >= o->alen && memcmp(s, o->a, o->alen) == 0) {
                s += o->alen;
                n -= o->alen;
                k++;
            }
            k = 0;
            while (k < o->stop && n >= o->alen && memcmp(s + n - o->alen, o->a, o->alen) == 0) {
                n -= o->alen;
                k++;
            }
            rc = put(h, out, s, n);
            break;
        }
        case OP_BYTEFALLBACK: {
            /* tokens exactly "<0xHH>" (Rust from_str_radix: a '+' sign is accepted too) */
            int hi = n == 6 ? hexval(s[3]) : -1, lo = n == 6 ? hexval(s[4]) : -1;
            if (n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' && s[3] == '+') hi = 0;
            if (n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' && hi >= 0 && lo >= 0) {
                unsigned char byte = (unsigned char)(hi << 4 | lo);
                rc = put(h, out, &byte, 1);
            } else {
                rc = put(h, out, s, n);
            }
            break;
        }
        case OP_BYTELEVEL: {
            size_t j = 0;
            if ((rc = tks__buf_reserve(out, &h->v->alloc, n))) return fail(h, rc, "out of memory");
            while (j < n) {
                unsigned cp, c = s[j];
                int k;
                if (c < 0x80) {
                    cp = c;
                    k = 1;
                } else {
                    k = tks__utf8_char(s + j, n - j);
                    if (k <= 0) break;
                    cp = k == 2 ? (c & 0x1Fu) << 6 | (s[j + 1] & 0x3Fu)
                                : k == 3 ? (c & 0x0Fu) << 12 | (s[j + 1] & 0x3Fu) << 6 | (s[j + 2] & 0x3Fu)
                                         : 0x110000; /* 4-byte characters are never in the table */
                }
                if (cp >= 0x144 || h->inv[cp] < 0) break;
                out->p[out->len++] = (char)h->inv[cp];
                j += (size_t)k;
            }
            if (j < n) { /* a character outside the table: the token's text as it is */
                out->len = 0;
                rc = put(h, out, s, n);
            } else {
                rc = TKS_OK;
            }
            break;
        }
        default:
            rc = fail(h, TKS_EUNSUPPORTED, "internal: unknown operation");
        }
        if (rc) return rc;
        cur = out == &h->w[0] ? 0 : 1;
        s = (const unsigned char *)out->p;
        n = out->len;
    }
    if (cur < 0) { /* no operation: the text itself */
        h->w[0].len = 0;
        if ((rc = put(h, &h->w[0], s, n))) return rc;
        cur = 0;
    }
    *res = &h->w[cur];
    return TKS_OK;
}

/* ---- the set of special contents -------------------------------------------------- */

static uint64_t fnv1a(const char *p, size_t n) {
    uint64_t x = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) x = (x ^ (unsigned char)p[i]) * 0x100000001b3u;
    return x;
}

static int sp_has(const hf *h, const char *s, size_t n) {
    if (!h->sp_count) return 0;
    size_t m = h->sp_cap - 1;
    for (size_t i = (size_t)fnv1a(s, n) & m;; i = (i + 1) & m) {
        uint32_t e = h->sp_tab[i];
        if (!e) return 0;
        const char *r = h->sp.p + e - 1;
        uint32_t len;
        memcpy(&len, r, 4);
        if (len == n && memcmp(r + 4, s, n) == 0) return 1;
    }
}

static void sp_insert(hf *h, uint32_t *tab, size_t cap, uint32_t e) {
    const char *r = h->sp.p + e - 1;
    uint32_t len;
    memcpy(&len, r, 4);
    size_t m = cap - 1, i = (size_t)fnv1a(r + 4, len) & m;
    while (tab[i]) i = (i + 1) & m;
    tab[i] = e;
}

static int sp_add(hf *h, const char *s, size_t n) {
    if (sp_has(h, s, n)) return TKS_OK;
    if ((h->sp_count + 1) * 2 > h->sp_cap) { /* grow the set, rehashing every record */
        size_t ncap = h->sp_cap ? h->sp_cap * 2 : 16;
        uint32_t *tab = tks__calloc(&h->v->alloc, ncap * sizeof *tab);
        if (!tab) return fail(h, TKS_ENOMEM, "out of memory");
        for (size_t i = 0; i < h->sp_cap; i++)
            if (h->sp_tab[i]) sp_insert(h, tab, ncap, h->sp_tab[i]);
        tks__free(&h->v->alloc, h->sp_tab, h->sp_cap * sizeof *h->sp_tab);
        h->sp_tab = tab;
        h->sp_cap = ncap;
    }
    uint32_t len = (uint32_t)n, e = (uint32_t)h->sp.len + 1;
    int rc = put(h, &h->sp, &len, 4);
    if (!rc) rc = put(h, &h->sp, s, n);
    if (rc) return rc;
    sp_insert(h, h->sp_tab, h->sp_cap, e);
    h->sp_count++;
    return TKS_OK;
}

/* Stores token text (already JSON-decoded, in h->str) under id. */
static int add_token(hf *h, int64_t id, unsigned flags) {
    tks__buf *r;
    const unsigned char *s = (const unsigned char *)h->str.p;
    size_t n = h->str.len;
    if (h->sp_count && sp_has(h, h->str.p, n)) flags |= TKS__F_SPECIAL;
    int rc = run_ops(h, s, n, 0, 0, &r);
    if (rc) return rc;
    if (h->v->pos_rule == TKS__POS_NONE)
        return tks__vocab_put(h->v, id, r->p, r->len, NULL, 0, flags, (uint64_t)(h->p - h->base));
    h->formb.len = 0;
    if ((rc = put(h, &h->formb, r->p, r->len))) return rc;
    int first = h->v->pos_rule == TKS__POS_FIRST;
    if ((rc = run_ops(h, s, n, first, !first, &r))) return rc;
    return tks__vocab_put(h->v, id, h->formb.p, h->formb.len, r->p, r->len, flags,
                          (uint64_t)(h->p - h->base));
}

/* ---- the document ---------------------------------------------------------------------- */

static int load_model(hf *h, const unsigned char *at) {
    const unsigned char *vocab_at = NULL;
    char type[16] = "";
    int n = 0, rc;
    h->p = at;
    if (peek(h) != '{') return fail(h, TKS_EPROTO, "\"model\" is not an object");
    if ((rc = obj_begin(h))) return rc;
    while ((rc = obj_next(h, &n)) == 1) {
        if (key_is(h, "type")) {
            if ((rc = jstr(h, &h->str))) return rc;
            if (h->str.len >= sizeof type) return fail(h, TKS_EUNSUPPORTED, "unsupported model type");
            memcpy(type, h->str.p, h->str.len);
            type[h->str.len] = 0;
        } else if (key_is(h, "vocab")) {
            vocab_at = h->p;
            rc = skip_value(h);
        } else {
            rc = skip_value(h);
        }
        if (rc) return rc;
    }
    if (rc < 0) return rc;
    if (type[0] && strcmp(type, "BPE") && strcmp(type, "WordPiece") && strcmp(type, "WordLevel") &&
        strcmp(type, "Unigram")) {
        char msg[64];
        snprintf(msg, sizeof msg, "unsupported model type \"%s\"", type);
        h->p = at;
        return fail(h, TKS_EUNSUPPORTED, msg);
    }
    if (!vocab_at) {
        h->p = at;
        return fail(h, TKS_EPROTO, "model without a vocab");
    }
    h->p = vocab_at;
    n = 0;
    if (peek(h) == '[') { /* Unigram: [[piece, score], ...], id = index */
        int64_t id = 0;
        if ((rc = arr_begin(h))) return rc;
        while ((rc = arr_next(h, &n)) == 1) {
            int m = 0;
            if ((rc = arr_begin(h))) return rc;
            if ((rc = arr_next(h, &m)) != 1) return rc < 0 ? rc : fail(h, TKS_EPROTO, "empty Unigram vocab entry");
            if ((rc = jstr(h, &h->str))) return rc;
            while ((rc = arr_next(h, &m)) == 1)
                if ((rc = skip_value(h))) return rc;
            if (rc < 0) return rc;
            if ((rc = add_token(h, id++, 0))) return rc;
        }
        return rc < 0 ? rc : TKS_OK;
    }
    if ((rc = obj_begin(h))) return fail(h, TKS_EPROTO, "vocab is neither an object nor an array");
    while ((rc = obj_next(h, &n)) == 1) {
        int64_t id;
        /* the member name (the token) is in h->key: move it to h->str for add_token */
        tks__buf t = h->str;
        h->str = h->key;
        h->key = t;
        if ((rc = jint(h, &id))) return rc;
        if ((rc = add_token(h, id, 0))) return rc;
    }
    return rc < 0 ? rc : TKS_OK;
}

/* added_tokens: with collect, only gathers the special contents (first pass). */
static int load_added(hf *h, const unsigned char *at, int collect) {
    int n = 0, rc;
    h->p = at;
    if (peek(h) == 'n') return literal(h, "null");
    if ((rc = arr_begin(h))) return rc;
    while ((rc = arr_next(h, &n)) == 1) {
        int m = 0, special = 0, have_content = 0;
        int64_t id = -1;
        const unsigned char *obj = h->p;
        if ((rc = obj_begin(h))) return rc;
        tks__buf content = {0};
        content.limit = h->str.limit;
        while ((rc = obj_next(h, &m)) == 1) {
            if (key_is(h, "id")) {
                rc = jint(h, &id);
            } else if (key_is(h, "content")) {
                rc = jstr(h, &h->str);
                if (!rc) {
                    content.len = 0;
                    rc = put(h, &content, h->str.p ? h->str.p : "", h->str.len);
                    have_content = 1;
                }
            } else if (key_is(h, "special")) {
                rc = jbool(h, &special);
            } else {
                rc = skip_value(h);
            }
            if (rc) break;
        }
        if (rc >= 0 && (id < 0 || !have_content)) {
            h->p = obj;
            rc = fail(h, TKS_EPROTO, "added token without an id or content");
        }
        if (rc >= 0 && collect) {
            if (special) rc = sp_add(h, content.p ? content.p : "", content.len);
        } else if (rc >= 0) {
            h->str.len = 0;
            rc = put(h, &h->str, content.p ? content.p : "", content.len);
            if (!rc) rc = add_token(h, id, special ? TKS__F_SPECIAL : 0);
        }
        tks__buf_free(&content, &h->v->alloc);
        if (rc < 0) return rc;
    }
    return rc < 0 ? rc : TKS_OK;
}

static int load(hf *h) {
    const unsigned char *model = NULL, *added = NULL, *decoder = NULL;
    int n = 0, rc;
    if ((rc = obj_begin(h))) return rc;
    while ((rc = obj_next(h, &n)) == 1) {
        if (key_is(h, "model")) model = h->p;
        else if (key_is(h, "added_tokens")) added = h->p;
        else if (key_is(h, "decoder")) decoder = h->p;
        if ((rc = skip_value(h))) return rc;
    }
    if (rc < 0) return rc;
    if (peek(h) >= 0) return fail(h, TKS_EJSON, "text after the JSON document");
    if (!model) return fail(h, TKS_EPROTO, "no \"model\" in tokenizer.json");

    /* The decoder chain: none (or null) joins tokens with spaces. */
    h->p = decoder;
    if (!decoder || peek(h) == 'n') {
        h->pos_first = 1;
        if ((rc = add_op(h, OP_JOIN, NULL, 0, NULL, 0))) return rc;
    } else {
        if (peek(h) != '{') return fail(h, TKS_EPROTO, "\"decoder\" is not an object");
        if ((rc = compile_decoder(h, 0))) return rc;
    }
    if (h->pos_first && h->pos_last)
        return fail(h, TKS_EUNSUPPORTED, "decoder chain with both first-token and last-token rules");
    h->v->pos_rule = h->pos_first ? TKS__POS_FIRST : h->pos_last ? TKS__POS_LAST : TKS__POS_NONE;

    if (added && (rc = load_added(h, added, 1))) return rc;
    if ((rc = load_model(h, model))) return rc;
    if (added && (rc = load_added(h, added, 0))) return rc;
    return TKS_OK;
}

int tks_vocab_load_hf(tks_vocab *v, const void *json, size_t len) {
    if (!v || (!json && len)) return TKS_EINVAL;
    if (v->err.code) return v->err.code;
    if (v->loaded || v->count) return TKS_ESTATE;
    v->loaded = 1;
    v->strip_start = 0;
    v->strip_byte = 0;
    hf *h = tks__calloc(&v->alloc, sizeof *h);
    if (!h) return tks__err_set(&v->err, TKS_ENOMEM, 0, "out of memory");
    h->v = v;
    h->base = h->p = json ? json : (const void *)"";
    h->end = h->base + len;
    h->str.limit = h->key.limit = h->w[0].limit = h->w[1].limit = h->formb.limit = h->sp.limit =
        v->bytes.limit;
    for (int i = 0; i < 0x144; i++) h->inv[i] = -1;
    for (int b = 0, k = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        h->inv[printable ? b : 0x100 + k++] = (int16_t)b;
    }
    int rc = load(h);
    tks__buf_free(&h->str, &v->alloc);
    tks__buf_free(&h->key, &v->alloc);
    tks__buf_free(&h->w[0], &v->alloc);
    tks__buf_free(&h->w[1], &v->alloc);
    tks__buf_free(&h->formb, &v->alloc);
    tks__buf_free(&h->sp, &v->alloc);
    tks__free(&v->alloc, h->sp_tab, h->sp_cap * sizeof *h->sp_tab);
    tks__free(&v->alloc, h, sizeof *h);
    if (rc) {
        if (!v->err.code) tks__err_set(&v->err, rc, 0, NULL);
        return v->err.code;
    }
    return TKS_OK;
}
