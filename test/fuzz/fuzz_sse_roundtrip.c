/* fuzz_sse_roundtrip.c - writer -> parser round trip on fuzzer-chosen events. The input is
 * split at 0xFF bytes into records; each record's first byte picks what it is (event or
 * comment, with or without type/id/retry) and the rest is split at 0xFE into type, id and
 * data. The writer must accept exactly the records the rules allow (no CR/LF in type, id
 * or comment, no NUL in id, valid UTF-8 everywhere), and parsing its output - whole and
 * in pieces chosen by the input - must give back every accepted event: data with CR and
 * CRLF as LF, "message" for no type, the last event ID, and each retry and comment. */
#include "tokstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

static void put(sink *s, const void *d, size_t n) {
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n) cap *= 2;
        char *q = realloc(s->p, cap);
        if (!q) abort();
        s->p = q;
        s->cap = cap;
    }
    if (n) memcpy(s->p + s->len, d, n);
    s->len += n;
}

static void record(sink *s, char kind, const char *a, size_t an, const char *b, size_t bn,
                   const char *c, size_t cn) {
    size_t hdr[3] = {an, bn, cn};
    put(s, &kind, 1);
    put(s, hdr, sizeof hdr);
    put(s, a, an);
    put(s, b, bn);
    put(s, c, cn);
}

static int on_bytes(void *user, const char *b, size_t n) {
    put(user, b, n);
    return 0;
}

static int on_event(void *user, const tks_event *ev) {
    record(user, 'E', ev->type, ev->type_len, ev->id, ev->id_len, ev->data, ev->data_len);
    return 0;
}

static int on_comment(void *user, const tks_event *ev) {
    record(user, 'C', ev->data, ev->data_len, NULL, 0, NULL, 0);
    return 0;
}

static int on_retry(void *user, const tks_event *ev) {
    record(user, 'R', (const char *)&ev->retry_ms, sizeof ev->retry_ms, NULL, 0, NULL, 0);
    return 0;
}

/* Independent of the library: UTF-8 well-formedness per Unicode Table 3-7. */
static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t k;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 2;
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return 0;
        if (i + k > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j < k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k;
    }
    return 1;
}

static int has(const char *s, size_t n, int c) { return n && memchr(s, c, n) != NULL; }

static void parse(const sink *bytes, size_t step, sink *out) {
    tks_sse_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_comment = on_comment;
    cfg.on_retry = on_retry;
    tks_sse_parser *p;
    if (tks_sse_parser_new(&p, &cfg, on_event, out) != TKS_OK) abort();
    int rc = TKS_OK;
    for (size_t i = 0; i < bytes->len && rc == TKS_OK; i += step)
        rc = tks_sse_parser_push(p, bytes->p + i, bytes->len - i < step ? bytes->len - i : step);
    if (rc == TKS_OK) rc = tks_sse_parser_finish(p);
    if (rc != TKS_OK) abort(); /* the writer's output is always a complete, valid stream */
    tks_sse_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sink bytes = {0}, want = {0}, got = {0};
    tks_sse_writer *w;
    if (tks_sse_writer_new(&w, NULL, on_bytes, &bytes) != TKS_OK) abort();
    char last_id[4096];
    size_t last_id_len = 0, step = 1 + (size ? data[0] % 64 : 0);
    const char *s = (const char *)data, *end = s + size;
    while (s < end) {
        const char *r = memchr(s, 0xFF, (size_t)(end - s));
        if (!r) r = end;
        if (r > s) {
            unsigned kind = (unsigned char)*s;
            const char *f[3] = {s + 1, NULL, NULL};
            size_t fl[3] = {0, 0, 0};
            const char *q = s + 1;
            int nf = 0;
            for (;;) { /* fields separated by 0xFE */
                const char *sep = nf < 2 ? memchr(q, 0xFE, (size_t)(r - q)) : NULL;
                f[nf] = q;
                fl[nf] = (size_t)((sep ? sep : r) - q);
                if (!sep) break;
                q = sep + 1;
                nf++;
            }
            if (kind & 1) { /* a comment: the first field */
                int okc = !has(f[0], fl[0], '\r') && !has(f[0], fl[0], '\n') &&
                          utf8_ok((const unsigned char *)f[0], fl[0]);
                int rc = tks_sse_writer_comment(w, f[0], fl[0]);
                if ((rc == TKS_OK) != okc) abort();
                if (okc) record(&want, 'C', f[0], fl[0], NULL, 0, NULL, 0);
            } else {
                tks_sse_out e;
                memset(&e, 0, sizeof e);
                e.type = kind & 2 ? f[0] : NULL;
                e.type_len = e.type ? fl[0] : 0;
                e.id = kind & 4 ? (f[1] ? f[1] : "") : NULL;
                e.id_len = e.id && f[1] ? fl[1] : 0;
                e.data = f[2] ? f[2] : f[0];
                e.data_len = f[2] ? fl[2] : fl[0];
                e.retry_ms = kind & 8 ? (int64_t)(kind >> 4) * 1000 : -1;
                int oke = !has(e.type, e.type_len, '\r') && !has(e.type, e.type_len, '\n') &&
                          !has(e.id, e.id_len, '\r') && !has(e.id, e.id_len, '\n') &&
                          !has(e.id, e.id_len, 0) &&
                          utf8_ok((const unsigned char *)e.type, e.type_len) &&
                          utf8_ok((const unsigned char *)e.id, e.id_len) &&
                          utf8_ok((const unsigned char *)e.data, e.data_len) &&
                          e.id_len <= sizeof last_id;
                int rc = tks_sse_writer_event(w, &e);
                if ((rc == TKS_OK) != oke) abort();
                if (oke) {
                    if (e.retry_ms >= 0) {
                        uint64_t ms = (uint64_t)e.retry_ms;
                        record(&want, 'R', (const char *)&ms, sizeof ms, NULL, 0, NULL, 0);
                    }
                    if (e.id) {
                        memcpy(last_id, e.id, e.id_len);
                        last_id_len = e.id_len;
                    }
                    char *norm = malloc(e.data_len + 1);
                    size_t nl = 0;
                    for (size_t k = 0; k < e.data_len; k++) {
                        if (e.data[k] == '\r') {
                            norm[nl++] = '\n';
                            if (k + 1 < e.data_len && e.data[k + 1] == '\n') k++;
                        } else {
                            norm[nl++] = e.data[k];
                        }
                    }
                    if (e.type_len) record(&want, 'E', e.type, e.type_len, last_id, last_id_len, norm, nl);
                    else record(&want, 'E', "message", 7, last_id, last_id_len, norm, nl);
                    free(norm);
                }
            }
        }
        s = r + 1;
    }
    parse(&bytes, bytes.len ? bytes.len : 1, &got);
    if (got.len != want.len || (got.len && memcmp(got.p, want.p, got.len) != 0)) abort();
    got.len = 0;
    parse(&bytes, step, &got);
    if (got.len != want.len || (got.len && memcmp(got.p, want.p, got.len) != 0)) abort();
    tks_sse_writer_free(w);
    free(bytes.p);
    free(want.p);
    free(got.p);
    return 0;
}
