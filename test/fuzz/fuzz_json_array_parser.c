/* fuzz_json_array_parser.c - JSON array framing: chunk independence; an input the parser
 * accepts must be a JSON document cJSON accepts too. First byte: limits; second: the push
 * sizes. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_framing.h"

#include <cJSON.h>

static int ja_make(void **p, const tks_alloc *a, const void *cfg, rec *r) {
    tks_json_array_config c = *(const tks_json_array_config *)cfg;
    c.alloc = a;
    return tks_json_array_parser_new((tks_json_array_parser **)p, &c, rec_cb, r);
}
static int ja_push(void *p, const void *d, size_t n) { return tks_json_array_parser_push(p, d, n); }
static int ja_finish(void *p) { return tks_json_array_parser_finish(p); }
static void ja_reset(void *p) { tks_json_array_parser_reset(p); }
static void ja_free(void *p) { tks_json_array_parser_free(p); }
static const char *ja_error(const void *p) { return tks_json_array_parser_error(p); }
static uint64_t ja_offset(const void *p) { return tks_json_array_parser_offset(p); }
static const parser_ops JA = {"json-array", ja_make, ja_push, ja_finish, ja_reset, ja_free,
                              ja_error, ja_offset};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    tks_json_array_config cfg = {NULL, 0, 0};
    if (data[0] & 1) cfg.max_element = 1 + data[0] % 32;
    if (data[0] & 2) cfg.max_depth = 1 + (data[0] >> 2) % 8;
    const char *in = (const char *)data + 2;
    size_t n = size - 2;
    int st;
    char *log = fuzz_compare(&JA, &cfg, in, n, data[1], &st);
    if (st != TKS_OK && st != TKS_EJSON && st != TKS_ETRUNC && st != TKS_ELIMIT) abort();
    /* cJSON rejects lone surrogate escapes that JSON's grammar allows: skip those. */
    int has_u = 0;
    for (size_t i = 0; i + 1 < n; i++) has_u |= in[i] == '\\' && in[i + 1] == 'u';
    if (st == TKS_OK && !has_u) {
        size_t skip = n >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        /* A NUL-terminated copy: cJSON then checks that nothing but whitespace follows. */
        char *copy = malloc(n - skip + 1);
        memcpy(copy, in + skip, n - skip);
        copy[n - skip] = 0;
        cJSON *doc = cJSON_ParseWithOpts(copy, NULL, 1);
        if (!doc || !cJSON_IsArray(doc)) abort();
        cJSON_Delete(doc);
        free(copy);
    }
    free(log);
    return 0;
}
