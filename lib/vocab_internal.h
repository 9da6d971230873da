/* vocab_internal.h - the vocabulary's layout, shared by vocab.c, its two loaders and
 * detok.c; and the detok's work counter for the tests. Not installed. */
#ifndef TKS_VOCAB_INTERNAL_H
#define TKS_VOCAB_INTERNAL_H

#include "internal.h"

/* Per-id entry: offset of the bytes in the arena, length (low 24 bits) and flags (high 8). */
typedef struct tks__tok {
    uint32_t off;
    uint32_t lenf;
} tks__tok;

#define TKS__TOK_LEN_MAX 0xFFFFFFu
#define TKS__TOK_LEN(t) ((t).lenf & TKS__TOK_LEN_MAX)
#define TKS__TOK_FLAGS(t) ((t).lenf >> 24)
/* Flag bits (public TKS_TOKEN_SPECIAL is bit 0). */
#define TKS__F_SPECIAL 0x01u
#define TKS__F_PRESENT 0x02u
#define TKS__F_ALT 0x04u /* alt[id] holds the token's other form (see pos_rule) */

/* Which position uses the alternative form of a token. */
enum {
    TKS__POS_NONE = 0,
    TKS__POS_FIRST = 1, /* the first kept token (Metaspace first rule, WordPiece, joins) */
    TKS__POS_LAST = 2   /* the last token (BPEDecoder suffix) */
};

struct tks_vocab {
    tks_alloc alloc;
    tks__err err;
    tks__tok *tok;   /* cap entries; ids < n are meaningful */
    tks__tok *alt;   /* same cap, only when pos_rule != NONE */
    size_t n, cap, alt_cap;
    size_t count;    /* ids present */
    tks__buf bytes;  /* the arena of every form */
    size_t max_tokens;
    int pos_rule;
    int loaded;      /* a loader ran (successfully or not) */
    unsigned char strip_byte;
    uint32_t strip_start;
};

/* Stores one id: its usual form (b) and, when pos_rule is set and it differs, its
 * alternative form (a; NULL = same). flags: TKS__F_SPECIAL. */
int tks__vocab_put(tks_vocab *v, int64_t id, const void *b, size_t blen, const void *a,
                   size_t alen, unsigned flags, uint64_t offset);

/* Sizes the tables ahead of a load (a hint: loads still grow them as needed). */
int tks__vocab_reserve(tks_vocab *v, size_t ids, size_t bytes);

/* Bytes the detok examined or copied since new (tests: linear work). */
uint64_t tks__detok_work(const tks_detok *d);
/* The bytes of per-stream state the detok keeps beyond its held bytes. */
size_t tks__detok_state_size(void);

#endif
