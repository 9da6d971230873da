/* buf.c - a growable byte buffer that refuses to grow past its limit. */
#include "internal.h"

int tks__buf_reserve(tks__buf *b, const tks_alloc *a, size_t extra) {
    size_t limit = b->limit ? b->limit : SIZE_MAX;
    if (extra > limit - b->len) return TKS_ELIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap) return TKS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > limit && need <= limit) cap = limit;
    char *p = tks__realloc(a, b->p, b->cap, cap);
    if (!p) return TKS_ENOMEM;
    b->p = p;
    b->cap = cap;
    return TKS_OK;
}

int tks__buf_append(tks__buf *b, const tks_alloc *a, const void *data, size_t len) {
    if (len == 0) return TKS_OK;
    int rc = tks__buf_reserve(b, a, len);
    if (rc) return rc;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return TKS_OK;
}

int tks__buf_putc(tks__buf *b, const tks_alloc *a, char c) {
    if (b->len < b->cap) {
        b->p[b->len++] = c;
        return TKS_OK;
    }
    return tks__buf_append(b, a, &c, 1);
}

int tks__buf_puts(tks__buf *b, const tks_alloc *a, const char *s) {
    return tks__buf_append(b, a, s, strlen(s));
}

void tks__buf_free(tks__buf *b, const tks_alloc *a) {
    tks__free(a, b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}
