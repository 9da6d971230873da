/* fuzz_ndjson_parser.c - NDJSON framing: chunk independence and agreement with a plain
 * line split. First byte: max_line choice; second: the push sizes. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_framing.h"

static int nd_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_ndjson_config c = *(const tks_ndjson_config *)cfg;
    c.alloc = a;
    return tks_ndjson_parser_new((tks_ndjson_parser **)p, &c, rec_cb, r);
}
static int nd_push(void *p, const void *d, size_t n) { return tks_ndjson_parser_push(p, d, n); }
static int nd_finish(void *p) { return tks_ndjson_parser_finish(p); }
static void nd_reset(void *p) { tks_ndjson_parser_reset(p); }
static void nd_free(void *p) { tks_ndjson_parser_free(p); }
static const char *nd_error(const void *p) { return tks_ndjson_parser_error(p); }
static uint64_t nd_offset(const void *p) { return tks_ndjson_parser_offset(p); }
static const parser_ops ND = {"ndjson", nd_make, nd_push, nd_finish, nd_reset, nd_free,
                              nd_error, nd_offset};

/* Counts the non-blank lines the simple way. */
static long count_lines(const char *in, size_t n) {
    long count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && in[i] != '\n') continue;
        int blank = 1;
        size_t from = start;
        if (start == 0 && i >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0) from = 3; /* BOM */
        for (size_t j = from; j < i; j++)
            if (in[j] != ' ' && in[j] != '\t' && in[j] != '\r') blank = 0;
        count += !blank;
        start = i + 1;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    tks_ndjson_config cfg = {NULL, 0};
    if (data[0] & 1) cfg.max_line = 1 + data[0] % 16;
    const char *in = (const char *)data + 2;
    size_t n = size - 2;
    int st;
    char *log = fuzz_compare(&ND, &cfg, in, n, data[1], &st);
    if (st == TKS_OK) {
        long events = 0;
        for (const char *p = log; (p = strchr(p, '\n')); p++) events++;
        if (events - 1 != count_lines(in, n)) abort(); /* the last line is the status */
    } else if (st != TKS_ELIMIT || !cfg.max_line) {
        abort();
    }
    free(log);
    return 0;
}
