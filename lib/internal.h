/* internal.h - private helpers shared by the objects in lib/. Not installed. */
#ifndef TKS_INTERNAL_H
#define TKS_INTERNAL_H

#define TKS_BUILDING 1
#include "tokstream.h"

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define TKS_KIB ((size_t)1024)
#define TKS_MIB ((size_t)1024 * 1024)

/* A config value, or its default when the caller left it zero. */
#define TKS_OR(v, dflt) ((v) ? (v) : (dflt))

#if defined(__GNUC__)
#  define TKS_LIKELY(x) __builtin_expect(!!(x), 1)
#  define TKS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define TKS_LIKELY(x) (x)
#  define TKS_UNLIKELY(x) (x)
#endif

/* ---- allocation (alloc.c) ---------------------------------------------------------- */

/* Copies *src into *dst, or the libc allocator when src is NULL. TKS_EINVAL when src
 * lacks one of its three functions. */
int tks__alloc_init(tks_alloc *dst, const tks_alloc *src);
void *tks__malloc(const tks_alloc *a, size_t size);
void *tks__calloc(const tks_alloc *a, size_t size); /* zeroed */
void *tks__realloc(const tks_alloc *a, void *p, size_t old_size, size_t new_size);
void tks__free(const tks_alloc *a, void *p, size_t size); /* NULL-safe */

/*
 * Allocates an object of `size` bytes (zeroed) with the allocator given in a config
 * (NULL = libc), and stores the resolved allocator at `alloc_offset` inside it. The
 * usual first lines of every tks_X_new.
 */
int tks__object_new(void **out, size_t size, const tks_alloc *cfg_alloc, size_t alloc_offset);

/* ---- growable byte buffer with a limit (buf.c) ------------------------------------- */

typedef struct tks__buf {
    char *p;
    size_t len;
    size_t cap;
    size_t limit; /* largest len allowed; exceeding it is TKS_ELIMIT */
} tks__buf;

/* Makes room for `extra` more bytes: TKS_OK, TKS_ELIMIT or TKS_ENOMEM. */
int tks__buf_reserve(tks__buf *b, const tks_alloc *a, size_t extra);
int tks__buf_append(tks__buf *b, const tks_alloc *a, const void *data, size_t len);
int tks__buf_putc(tks__buf *b, const tks_alloc *a, char c);
/* Appends a NUL-terminated string. */
int tks__buf_puts(tks__buf *b, const tks_alloc *a, const char *s);
/* Releases the memory; len, cap = 0, limit kept. */
void tks__buf_free(tks__buf *b, const tks_alloc *a);

/* ---- sticky error record (error.c) ------------------------------------------------- */

typedef struct tks__err {
    int code;          /* TKS_OK when no error */
    uint64_t offset;   /* input position the error refers to */
    char msg[160];     /* detail in words; "" when none */
} tks__err;

/* Records an error (the first one sticks: later calls keep the first) and returns code.
 * msg may be NULL (tks_strerror(code) is used). */
int tks__err_set(tks__err *e, int code, uint64_t offset, const char *msg);
/* Same with " at byte N" appended to msg automatically. */
int tks__err_at(tks__err *e, int code, uint64_t offset, const char *msg);
void tks__err_clear(tks__err *e);
/* The message to return from tks_X_error: "" when there is no error. */
const char *tks__err_text(const tks__err *e);

/* ---- UTF-8 (utf8.c) ---------------------------------------------------------------- */

/*
 * Looks at the sequence starting at s[0] (n >= 1 bytes available).
 * Returns  > 0: a valid character of that many bytes;
 *          0  : a valid prefix of a character that needs more bytes than n;
 *          < 0: invalid; -k bytes form the maximal subpart to replace with one U+FFFD
 *               (WHATWG / Unicode "maximal subpart" practice; k >= 1).
 */
int tks__utf8_char(const unsigned char *s, size_t n);
/* Length of the longest prefix of s that is valid, complete UTF-8. */
size_t tks__utf8_valid_prefix(const unsigned char *s, size_t n);

#define TKS_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* ---- JSON output (json_writer.c) --------------------------------------------------- */

/* Appends s as a JSON string literal, quotes included. Bytes are copied as they are except
 * '"', '\\' and control characters, which are escaped; invalid UTF-8 is replaced by
 * U+FFFD so the output is always valid JSON. */
int tks__json_string(tks__buf *b, const tks_alloc *a, const char *s, size_t n);
/* Appends a signed integer in decimal. */
int tks__json_int(tks__buf *b, const tks_alloc *a, int64_t v);

#endif
