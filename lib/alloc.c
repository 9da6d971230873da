/* alloc.c - the per-object allocator: libc by default, or the caller's. */
#include "internal.h"

#include <stdlib.h>

static void *libc_malloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size ? size : 1);
}

static void *libc_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    (void)ctx;
    (void)old_size;
    return realloc(p, new_size ? new_size : 1);
}

static void libc_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

int tks__alloc_init(tks_alloc *dst, const tks_alloc *src) {
    if (!src) {
        dst->malloc = libc_malloc;
        dst->realloc = libc_realloc;
        dst->free = libc_free;
        dst->ctx = NULL;
        return TKS_OK;
    }
    if (!src->malloc || !src->realloc || !src->free) return TKS_EINVAL;
    *dst = *src;
    return TKS_OK;
}

void *tks__malloc(const tks_alloc *a, size_t size) { return a->malloc(a->ctx, size); }

void *tks__calloc(const tks_alloc *a, size_t size) {
    void *p = a->malloc(a->ctx, size);
    if (p) memset(p, 0, size);
    return p;
}

void *tks__realloc(const tks_alloc *a, void *p, size_t old_size, size_t new_size) {
    if (!p) return a->malloc(a->ctx, new_size);
    return a->realloc(a->ctx, p, old_size, new_size);
}

void tks__free(const tks_alloc *a, void *p, size_t size) {
    if (p) a->free(a->ctx, p, size);
}

int tks__object_new(void **out, size_t size, const tks_alloc *cfg_alloc, size_t alloc_offset) {
    tks_alloc a;
    if (!out) return TKS_EINVAL;
    *out = NULL;
    int rc = tks__alloc_init(&a, cfg_alloc);
    if (rc) return rc;
    char *obj = tks__calloc(&a, size);
    if (!obj) return TKS_ENOMEM;
    memcpy(obj + alloc_offset, &a, sizeof a);
    *out = obj;
    return TKS_OK;
}
