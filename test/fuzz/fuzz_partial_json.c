/* fuzz_partial_json.c - tks_partial_json on any bytes: never reads or writes out of
 * bounds; the size query agrees with the written result; a closed document closes into
 * itself (it is complete JSON); every prefix of an accepted input is accepted too. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    size_t need = 0, len = 0, again = 0;
    int rc = tks_partial_json(in, size, NULL, 0, &need);
    if (rc != TKS_OK) return 0;
    char *out = malloc(need + 1);
    if (!out) return 0;
    if (tks_partial_json(in, size, out, need + 1, &len) != TKS_OK || len != need) abort();
    if (out[len] != 0) abort();
    char *out2 = malloc(need + 1);
    if (!out2) abort();
    if (tks_partial_json(out, len, out2, need + 1, &again) != TKS_OK) abort();
    if (again != len || memcmp(out, out2, len) != 0) abort();
    /* a prefix of a valid prefix is a valid prefix: never TKS_EJSON */
    if (tks_partial_json(in, size / 2, NULL, 0, &again) == TKS_EJSON) abort();
    free(out2);
    free(out);
    return 0;
}
