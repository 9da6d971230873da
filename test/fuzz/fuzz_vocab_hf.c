/* fuzz_vocab_hf.c - the tokenizer.json loader on arbitrary bytes; when a file loads, a
 * detok decodes every id it has (and some it lacks), first with the ids in order and
 * then reversed, in both special modes, to run the position rules on whatever the
 * decoder chain compiled to. */
#include "tokstream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *user, const char *text, size_t len) {
    size_t *total = user;
    *total += len;
    if (len == 0 || !text) abort(); /* deltas are never empty */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tks_vocab *v;
    tks_vocab_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_tokens = 1 << 16; /* keep id tables small for the fuzzer */
    cfg.max_bytes = 1 << 20;
    if (tks_vocab_new(&v, &cfg) != TKS_OK) return 0;
    int rc = tks_vocab_load_hf(v, data, size);
    if (rc != TKS_OK) {
        if (tks_vocab_error(v)[0] == 0) abort(); /* a failure always says why */
        if (tks_vocab_offset(v) > size) abort();
        tks_vocab_free(v);
        return 0;
    }
    size_t n = tks_vocab_size(v);
    if (n > 4096) n = 4096;
    for (int pass = 0; pass < 4; pass++) {
        tks_detok *d;
        tks_detok_config dc;
        memset(&dc, 0, sizeof dc);
        dc.flags = TKS_DETOK_SKIP_UNKNOWN | (pass & 1 ? TKS_DETOK_SKIP_SPECIAL : 0);
        size_t total = 0;
        if (tks_detok_new(&d, v, &dc, sink, &total) != TKS_OK) break;
        if (pass >= 2) {
            int32_t p = (int32_t)(n / 2);
            tks_detok_prime(d, &p, 1);
        }
        for (size_t i = 0; i <= n; i++) {
            int32_t id = (int32_t)(pass & 2 ? n - i : i);
            tks_detok_push(d, &id, 1);
        }
        int32_t odd[3] = {-1, (int32_t)n + 5, INT32_MAX};
        tks_detok_push(d, odd, 3);
        tks_detok_finish(d);
        tks_detok_free(d);
    }
    tks_vocab_free(v);
    return 0;
}
