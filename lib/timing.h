/* timing.h - private to histogram.c, timer.c and stats.c: the histogram's layout and its
 * inline record (the timer's hot path), and what the exporters need beyond the public
 * API. Not installed. */
#ifndef TKS_TIMING_H
#define TKS_TIMING_H

#include "internal.h"

/* The histogram itself (histogram.c), here so that the timer records inline. */
#define H_SUB 52                      /* buckets per power of two */
#define H_LIN 64                      /* exact buckets below 2^6 */
#define H_E0 6
#define H_E_MAX 41                    /* last power of two range: [2^41, 2^42) */
#define H_CELLS (H_LIN + (H_E_MAX - H_E0 + 1) * H_SUB)
#define H_MAX_VALUE (((int64_t)1 << (H_E_MAX + 1)) - 1)
#define H_EXACT 64

struct tks_histogram {
    tks_alloc alloc;
    uint64_t count;
    uint64_t clamped;
    int64_t min, max;
    int64_t shift;          /* first value recorded: sums are kept relative to it, so the
                               variance does not cancel away */
    double sum, sumsq;      /* of (v - shift) */
    uint32_t lo_cell, hi_cell; /* range of buckets that may be non-zero */
    uint32_t exact_lost;    /* the exact copies no longer hold every value */
    int64_t exact[H_EXACT];
    uint64_t cells[H_CELLS];
};

static inline int tks__log2_floor(uint64_t v) { /* v > 0 */
#if defined(__GNUC__)
    return 63 - __builtin_clzll((unsigned long long)v);
#else
    int e = 0;
    while (v >>= 1) e++;
    return e;
#endif
}

static inline uint32_t tks__cell_of(int64_t v) {
    if (v < H_LIN) return (uint32_t)v;
    int e = tks__log2_floor((uint64_t)v);
    uint64_t sub = ((uint64_t)(v - ((int64_t)1 << e)) * H_SUB) >> e;
    return (uint32_t)(H_LIN + (e - H_E0) * H_SUB + (int)sub);
}

static inline void tks__histogram_record_n(tks_histogram *h, int64_t v, uint64_t n) {
    if (TKS_UNLIKELY(n == 0)) return;
    if (TKS_UNLIKELY(v < 0 || v > H_MAX_VALUE)) {
        v = v < 0 ? 0 : H_MAX_VALUE;
        h->clamped += n;
    }
    uint32_t i = tks__cell_of(v);
    h->cells[i] += n;
    if (i < h->lo_cell) h->lo_cell = i;
    if (i > h->hi_cell) h->hi_cell = i;
    if (TKS_UNLIKELY(h->count == 0)) h->shift = v;
    if (h->count + n <= H_EXACT) {
        for (uint64_t k = 0; k < n; k++) h->exact[h->count + k] = v;
    } else {
        h->exact_lost = 1;
    }
    h->count += n;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    double d = (double)(v - h->shift), dn = (double)n;
    h->sum += d * dn;
    h->sumsq += d * d * dn;
}

static inline void tks__histogram_record(tks_histogram *h, int64_t v) {
    if (TKS_UNLIKELY(v < 0 || v > H_MAX_VALUE)) {
        v = v < 0 ? 0 : H_MAX_VALUE;
        h->clamped++;
    }
    uint32_t i = tks__cell_of(v);
    h->cells[i]++;
    if (i < h->lo_cell) h->lo_cell = i;
    if (i > h->hi_cell) h->hi_cell = i;
    if (TKS_UNLIKELY(h->count == 0)) h->shift = v;
    if (h->count < H_EXACT) h->exact[h->count] = v;
    h->count++;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    double d = (double)(v - h->shift);
    h->sum += d;
    h->sumsq += d * d;
}


/* How many recorded values are <= bound: exact while the histogram still holds every
 * value (at most 64), else whole buckets, a bucket straddling the bound counted by its
 * midpoint. */
uint64_t tks__histogram_count_le(const tks_histogram *h, int64_t bound);
/* The sum of the recorded values (after clamping). */
double tks__histogram_sum(const tks_histogram *h);

#endif
