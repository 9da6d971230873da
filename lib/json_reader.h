/* json_reader.h - an internal, strict (RFC 8259) reader of one JSON text into a flat
 * node array ("tape"), for the decoder's hot path. Not installed, not public.
 *
 * - The tape lives in the reader and is reused from one text to the next: once it has
 *   grown to the size a stream needs, parsing allocates nothing.
 * - Nodes point into the caller's input (offsets), so the input must stay alive and
 *   unchanged while the tape is used. Strings without escapes are returned zero-copy;
 *   strings with escapes are unescaped on demand into a scratch buffer reserved at parse
 *   time (an unescaped string is never longer than its source, so pointers handed out
 *   stay valid until the next parse).
 * - Unescaping keeps every character: \u0000 becomes a real NUL byte (use the lengths),
 *   surrogate pairs become one 4-byte UTF-8 character, U+2028/U+2029 are kept, and a
 *   LONE surrogate (which has no UTF-8 form) becomes U+FFFD, as JavaScript's
 *   TextEncoder does with the strings the SDKs build.
 * - Raw bytes outside the ASCII range must be valid UTF-8 (strings only; anything else
 *   is a grammar error).
 * - Node 0 is a "none" sentinel, the root is node 1: lookups on a missing node give
 *   node 0 again, so chains like get(get(root, "a"), "b") need no checks in between.
 */
#ifndef TKS_JSON_READER_H
#define TKS_JSON_READER_H

#include "internal.h"

enum {
    TKS__J_NONE = 0, /* missing (the sentinel node 0) */
    TKS__J_NULL,
    TKS__J_FALSE,
    TKS__J_TRUE,
    TKS__J_NUMBER,
    TKS__J_STRING,
    TKS__J_ARRAY,
    TKS__J_OBJECT
};

/* tks__jnode.flags */
#define TKS__JF_ESCAPED 0x1u /* string: holds at least one backslash escape */
#define TKS__JF_FRACTION 0x2u /* number: has a fraction or an exponent */
#define TKS__JF_DONE 0x4u     /* string: already unescaped into the scratch buffer */

typedef struct tks__jnode {
    uint8_t type;   /* TKS__J_* */
    uint8_t flags;  /* TKS__JF_* */
    uint16_t pad_;
    uint32_t start; /* byte offset of the value in the input (a string's opening quote) */
    uint32_t len;   /* bytes of the value's raw text (quotes included for strings) */
    uint32_t end;   /* index of the node after this value's subtree */
    uint32_t count; /* containers: children (members for objects); escaped strings once
                       unescaped: offset in the scratch buffer */
    uint32_t ulen;  /* escaped strings once unescaped: unescaped length */
} tks__jnode;

typedef struct tks__json {
    tks__jnode *v;     /* the tape; v[0] is the "none" sentinel, v[1] the root */
    size_t cap;        /* nodes allocated */
    size_t n;          /* nodes in use (including the sentinel) */
    size_t max_nodes;  /* limit on the tape (TKS_ELIMIT beyond) */
    uint32_t max_depth;
    const char *src;   /* the input of the last parse */
    size_t src_len;
    tks__buf scratch;  /* unescaped strings */
    size_t err_pos;    /* after TKS_EJSON: byte offset of the problem in the input */
    const char *err_msg; /* after an error: what was wrong (static text) */
} tks__json;

/* Prepares an empty reader (no allocation). max_depth 0 = 128; max_nodes 0 = no limit
 * beyond what the input can hold. */
void tks__json_init(tks__json *j, uint32_t max_depth, size_t max_nodes);
/* Releases the memory. */
void tks__json_free(tks__json *j, const tks_alloc *a);
/* Parses one JSON text (the whole of s[0..n)). TKS_OK, TKS_EJSON (err_pos, err_msg),
 * TKS_ELIMIT (depth, size) or TKS_ENOMEM. The previous tape is discarded. */
int tks__json_parse(tks__json *j, const tks_alloc *a, const char *s, size_t n);

/* The root node (1), or 0 when nothing has been parsed successfully. */
#define TKS__JROOT 1u

static inline int tks__json_type(const tks__json *j, uint32_t i) { return j->v[i].type; }

/* Raw text of any value (a string's quotes included): zero-copy. */
static inline const char *tks__json_raw(const tks__json *j, uint32_t i, size_t *len) {
    *len = j->v[i].len;
    return j->src + j->v[i].start;
}

int tks__json_str_is(tks__json *j, uint32_t i, const char *lit, size_t n);

/* The member `key` (klen bytes) of object i, or 0 (the last one when a key repeats).
 * Inline, so that a literal key compares as constants. */
static inline uint32_t tks__json_get(tks__json *j, uint32_t obj, const char *key, size_t klen) {
    const tks__jnode *o = &j->v[obj];
    if (o->type != TKS__J_OBJECT || o->count == 0) return 0;
    uint32_t found = 0, end = o->end;
    const char *src = j->src;
    for (uint32_t k = obj + 1; k < end; k = j->v[k + 1].end) {
        const tks__jnode *kv = &j->v[k];
        if (TKS_LIKELY(!(kv->flags & TKS__JF_ESCAPED))) {
            if (kv->len - 2 == klen && memcmp(src + kv->start + 1, key, klen) == 0) found = k + 1;
        } else if (tks__json_str_is(j, k, key, klen)) {
            found = k + 1;
        }
    }
    return found;
}
#define TKS__JGET(j, obj, lit) tks__json_get((j), (obj), lit, sizeof(lit) - 1)

/* Children: first child of an array (or first KEY of an object), 0 when empty; next
 * sibling, 0 after the last. For objects the value follows its key (key + 1) and the
 * next key is tks__json_next(j, key + 1). */
static inline uint32_t tks__json_first(const tks__json *j, uint32_t c) {
    return (j->v[c].type >= TKS__J_ARRAY && j->v[c].count) ? c + 1 : 0;
}
static inline uint32_t tks__json_next(const tks__json *j, uint32_t parent, uint32_t child) {
    uint32_t e = j->v[child].end;
    return e < j->v[parent].end ? e : 0;
}
static inline uint32_t tks__json_count(const tks__json *j, uint32_t c) {
    return j->v[c].type >= TKS__J_ARRAY ? j->v[c].count : 0;
}

/* A string's text (unescaped when needed; may hold NUL bytes): 1, or 0 when i is not a
 * string (then *p = NULL, *len = 0). */
int tks__json_str_escaped(tks__json *j, uint32_t i, const char **p, size_t *len);
static inline int tks__json_str(tks__json *j, uint32_t i, const char **p, size_t *len) {
    const tks__jnode *v = &j->v[i];
    if (v->type != TKS__J_STRING) {
        *p = NULL;
        *len = 0;
        return 0;
    }
    if (TKS_LIKELY(!(v->flags & TKS__JF_ESCAPED))) {
        *p = j->src + v->start + 1;
        *len = v->len - 2;
        return 1;
    }
    return tks__json_str_escaped(j, i, p, len);
}
/* Does string i equal lit? (compares the unescaped text; declared above) */
#define TKS__JSTR_IS(j, i, lit) tks__json_str_is((j), (i), lit, sizeof(lit) - 1)
/* A number that is an integer in int64 range (no fraction/exponent, or one whose value
 * is integral, such as 12.0 or 1e3): 1 and *out; else 0. */
int tks__json_int64(const tks__json *j, uint32_t i, int64_t *out);
/* Any number as a double (correctly rounded for up to 19 significant digits and small
 * exponents, locale-independent otherwise): 1 and *out; else 0. */
int tks__json_double(const tks__json *j, uint32_t i, double *out);
/* true/false: 1 and *out; else 0. */
int tks__json_bool(const tks__json *j, uint32_t i, int *out);
static inline int tks__json_is_null(const tks__json *j, uint32_t i) {
    return j->v[i].type == TKS__J_NULL;
}
/* "Truthy" in the sense of Python's bool(): present and not null/false/0/""/[]/{}. */
int tks__json_truthy(const tks__json *j, uint32_t i);

#endif
