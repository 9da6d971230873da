/* fuzz_framing.h - shared part of the framing parser fuzz harnesses: the input's first two
 * bytes choose limits and push sizes; the rest is parsed whole, in pieces and byte by
 * byte, and the three logs (events, status, error offset and text) must be identical. */
#ifndef TKS_FUZZ_FRAMING_H
#define TKS_FUZZ_FRAMING_H

#include "framing_check.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cut points from a small linear congruential sequence seeded by `seed`. */
static inline size_t fuzz_cuts(size_t n, unsigned seed, size_t *cuts, size_t max) {
    size_t k = 0, at = 0;
    uint32_t x = seed * 2654435761u + 1;
    while (k < max) {
        x = x * 1103515245u + 12345u;
        at += 1 + (x >> 16) % 29;
        if (at >= n) break;
        cuts[k++] = at;
    }
    return k;
}

/* Runs the three ways and aborts on any difference. Returns the whole-push log (free it)
 * and its status. */
static inline char *fuzz_compare(const parser_ops *ops, const void *cfg, const char *in,
                                 size_t n, unsigned seed, int *status) {
    char *whole = run_whole(ops, cfg, in, n, status);
    size_t cuts[256];
    size_t k = fuzz_cuts(n, seed, cuts, 256);
    char *pieces = run_cuts(ops, cfg, in, n, cuts, k, NULL);
    if (strcmp(whole, pieces) != 0) abort();
    free(pieces);
    if (n <= 4096) {
        size_t *all = malloc((n ? n : 1) * sizeof *all);
        for (size_t i = 1; i < n; i++) all[i - 1] = i;
        char *bytes = run_cuts(ops, cfg, in, n, all, n ? n - 1 : 0, NULL);
        free(all);
        if (strcmp(whole, bytes) != 0) abort();
        free(bytes);
    }
    return whole;
}

#endif
