/* fuzz_eventstream_parser.c - AWS eventstream framing: chunk independence. First byte:
 * bit 0 = fix the CRCs of every frame the length fields describe (so the fuzzer reaches
 * header decoding), bit 1 = a small max_frame; second byte: the push sizes. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_framing.h"
#include "crc32.h"

static int es_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_eventstream_config c = *(const tks_eventstream_config *)cfg;
    c.alloc = a;
    return tks_eventstream_parser_new((tks_eventstream_parser **)p, &c, rec_cb, r);
}
static int es_push(void *p, const void *d, size_t n) { return tks_eventstream_parser_push(p, d, n); }
static int es_finish(void *p) { return tks_eventstream_parser_finish(p); }
static void es_reset(void *p) { tks_eventstream_parser_reset(p); }
static void es_free(void *p) { tks_eventstream_parser_free(p); }
static const char *es_error(const void *p) { return tks_eventstream_parser_error(p); }
static uint64_t es_offset(const void *p) { return tks_eventstream_parser_offset(p); }
static const parser_ops ES = {"eventstream", es_make, es_push, es_finish, es_reset, es_free,
                              es_error, es_offset};

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static void put32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    tks_eventstream_config cfg = {NULL, 0};
    if (data[0] & 2) cfg.max_frame = 16 + data[0] % 64;
    size_t n = size - 2;
    unsigned char *in = malloc(n ? n : 1);
    memcpy(in, data + 2, n);
    if (data[0] & 1) {
        size_t at = 0;
        while (at + 12 <= n) {
            uint32_t tl = be32(in + at);
            if (tl < 16 || tl > n - at) break;
            put32(in + at + 8, tks__crc32(0, in + at, 8));
            put32(in + at + tl - 4, tks__crc32(0, in + at, tl - 4));
            at += tl;
        }
    }
    int st;
    char *log = fuzz_compare(&ES, &cfg, (const char *)in, n, data[1], &st);
    if (st != TKS_OK && st != TKS_ECRC && st != TKS_EPROTO && st != TKS_ETRUNC && st != TKS_ELIMIT)
        abort();
    free(log);
    free(in);
    return 0;
}
