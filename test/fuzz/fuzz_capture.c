/* fuzz_capture.c - tks_capture_reader on arbitrary bytes: no crash, no leak, and the
 * same records, status and error offset whether the input is pushed whole, cut at a
 * point the input chooses, or byte by byte. */
#include "tokstream.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash;
    size_t n;
} digest;

static void mix(digest *d, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) d->hash = (d->hash ^ s[i]) * 1099511628211ull;
}

static int on_record(void *user, const tks_capture_record *rec) {
    digest *d = user;
    mix(d, &rec->kind, sizeof rec->kind);
    mix(d, &rec->t_ns, sizeof rec->t_ns);
    mix(d, &rec->len, sizeof rec->len);
    mix(d, rec->data, rec->len);
    d->n++;
    return 0;
}

static void run(const uint8_t *data, size_t size, size_t step, size_t cut, digest *d, int *rc,
                uint64_t *off) {
    tks_capture_config cfg = {0};
    cfg.max_line = 4096;
    tks_capture_reader *r;
    d->hash = 14695981039346656037ull;
    d->n = 0;
    if (tks_capture_reader_new(&r, &cfg, on_record, d) != TKS_OK) abort();
    int s = TKS_OK;
    if (step) {
        for (size_t i = 0; i < size && s == TKS_OK; i += step)
            s = tks_capture_reader_push(r, data + i, size - i < step ? size - i : step);
    } else {
        s = tks_capture_reader_push(r, data, cut);
        if (s == TKS_OK) s = tks_capture_reader_push(r, data + cut, size - cut);
    }
    if (s == TKS_OK) s = tks_capture_reader_finish(r);
    *rc = s;
    *off = tks_capture_reader_offset(r);
    tks_capture_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    digest a, b, c;
    int ra, rb, rc;
    uint64_t oa, ob, oc;
    run(data, size, size ? size : 1, 0, &a, &ra, &oa);
    size_t cut = size ? (size_t)data[0] * 257 % (size + 1) : 0;
    run(data, size, 0, cut, &b, &rb, &ob);
    run(data, size, 1, 0, &c, &rc, &oc);
    if (ra != rb || ra != rc || oa != ob || oa != oc) abort();
    if (a.hash != b.hash || a.hash != c.hash || a.n != b.n || a.n != c.n) abort();
    return 0;
}
