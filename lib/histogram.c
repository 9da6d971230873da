/* histogram.c - tks_histogram: log-linear buckets over int64 values (nanoseconds or
 * counts), at most ~0.97% relative error from 512 up to 2^42-1, O(1) record with no
 * allocation, mergeable, nearest-rank percentiles.
 *
 * Layout: values 0..63 have a bucket each (exact). Above, each power-of-two range
 * [2^e, 2^(e+1)) (e = 6..41) is cut into 52 buckets of equal width 2^e/52; the value
 * reported for a bucket is its midpoint, so the error is at most half a width over the
 * bucket's lower bound: 1/104 < 1% (plus integer rounding, visible only below 512 ns).
 * 64 + 36 * 52 = 1936 buckets of 8 bytes: the whole object stays under 16 KiB.
 * The first 64 values are also kept as they are, so small histograms (a single stream,
 * a test, a few captures) answer exactly. */
#include "internal.h"
#include "timing.h"


/* Smallest value of bucket i. */
static int64_t cell_lo(uint32_t i) {
    if (i < H_LIN) return i;
    uint32_t k = i - H_LIN;
    int e = H_E0 + (int)(k / H_SUB);
    uint64_t sub = k % H_SUB, p = (uint64_t)1 << e;
    return (int64_t)(p + (sub * p + H_SUB - 1) / H_SUB);
}

static int64_t cell_hi(uint32_t i) {
    if (i < H_LIN) return i;
    if (i + 1 == H_CELLS) return H_MAX_VALUE;
    return cell_lo(i + 1) - 1;
}

static int64_t cell_mid(uint32_t i) {
    int64_t lo = cell_lo(i), hi = cell_hi(i);
    return lo + (hi - lo) / 2;
}

static void clear(tks_histogram *h) {
    if (h->count) memset(h->cells + h->lo_cell, 0, (h->hi_cell - h->lo_cell + 1) * sizeof h->cells[0]);
    h->count = 0;
    h->clamped = 0;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
    h->shift = 0;
    h->sum = h->sumsq = 0;
    h->lo_cell = H_CELLS - 1;
    h->hi_cell = 0;
    h->exact_lost = 0;
}

int tks_histogram_new(tks_histogram **out, const tks_histogram_config *cfg) {
    if (!out) return TKS_EINVAL;
    *out = NULL;
    void *p;
    int rc = tks__object_new(&p, sizeof(tks_histogram), cfg ? cfg->alloc : NULL,
                             offsetof(tks_histogram, alloc));
    if (rc) return rc;
    tks_histogram *h = p;
    clear(h);
    *out = h;
    return TKS_OK;
}

void tks_histogram_free(tks_histogram *h) {
    if (!h) return;
    tks_alloc a = h->alloc;
    tks__free(&a, h, sizeof *h);
}

void tks_histogram_reset(tks_histogram *h) {
    if (h) clear(h);
}

size_t tks_histogram_memory(const tks_histogram *h) {
    (void)h;
    return sizeof(tks_histogram);
}

int tks_histogram_record_n(tks_histogram *h, int64_t v, uint64_t n) {
    if (TKS_UNLIKELY(!h)) return TKS_EINVAL;
    tks__histogram_record_n(h, v, n);
    return TKS_OK;
}

int tks_histogram_record(tks_histogram *h, int64_t v) {
    if (TKS_UNLIKELY(!h)) return TKS_EINVAL;
    tks__histogram_record(h, v);
    return TKS_OK;
}

int tks_histogram_merge(tks_histogram *dst, const tks_histogram *src) {
    if (!dst || !src) return TKS_EINVAL;
    if (dst == src) return TKS_EINVAL;
    if (src->count == 0) return TKS_OK;
    for (uint32_t i = src->lo_cell; i <= src->hi_cell; i++) dst->cells[i] += src->cells[i];
    if (src->lo_cell < dst->lo_cell) dst->lo_cell = src->lo_cell;
    if (src->hi_cell > dst->hi_cell) dst->hi_cell = src->hi_cell;
    if (dst->count == 0) {
        dst->shift = src->shift;
        dst->sum = src->sum;
        dst->sumsq = src->sumsq;
    } else {
        /* Move src's sums to dst's shift: sum(v - a) = sum(v - b) + n (b - a). */
        double d = (double)(src->shift - dst->shift), n = (double)src->count;
        dst->sum += src->sum + n * d;
        dst->sumsq += src->sumsq + 2 * d * src->sum + n * d * d;
    }
    if (!dst->exact_lost && !src->exact_lost && dst->count + src->count <= H_EXACT)
        memcpy(dst->exact + dst->count, src->exact, src->count * sizeof src->exact[0]);
    else
        dst->exact_lost = 1;
    dst->count += src->count;
    dst->clamped += src->clamped;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return TKS_OK;
}

uint64_t tks_histogram_count(const tks_histogram *h) { return h ? h->count : 0; }

uint64_t tks_histogram_clamped(const tks_histogram *h) { return h ? h->clamped : 0; }

int tks_histogram_min(const tks_histogram *h, int64_t *out) {
    if (!h || !out) return TKS_EINVAL;
    if (!h->count) return TKS_EEMPTY;
    *out = h->min;
    return TKS_OK;
}

int tks_histogram_max(const tks_histogram *h, int64_t *out) {
    if (!h || !out) return TKS_EINVAL;
    if (!h->count) return TKS_EEMPTY;
    *out = h->max;
    return TKS_OK;
}

int tks_histogram_mean(const tks_histogram *h, double *out) {
    if (!h || !out) return TKS_EINVAL;
    if (!h->count) return TKS_EEMPTY;
    *out = (double)h->shift + h->sum / (double)h->count;
    return TKS_OK;
}

/* Square root by Newton's method: keeps the shared library free of libm. */
static double root(double x) {
    if (!(x > 0)) return 0;
    double y = x > 1 ? x : 1;
    for (int i = 0; i < 200; i++) {
        double z = (y + x / y) / 2;
        if (z >= y) break;
        y = z;
    }
    return y;
}

int tks_histogram_std(const tks_histogram *h, double *out) {
    if (!h || !out) return TKS_EINVAL;
    if (!h->count) return TKS_EEMPTY;
    double n = (double)h->count, m = h->sum / n, var = h->sumsq / n - m * m;
    *out = root(var);
    return TKS_OK;
}

/* The nearest rank (1-based) of percentile p among n values: ceil(p/100 n), at least 1,
 * with a tolerance so that 99.9% of 1000 is rank 999, not 1000 by rounding. */
static uint64_t rank_of(double p, uint64_t n) {
    double x = p / 100.0 * (double)n;
    uint64_t r = (uint64_t)x;
    if ((double)r < x - x * 1e-12) r++;
    if (r < 1) r = 1;
    if (r > n) r = n;
    return r;
}

static void sort_i64(int64_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) { /* n <= 64: insertion sort */
        int64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

int tks_histogram_percentiles(const tks_histogram *h, const double *pcts, size_t n, int64_t *out) {
    if (!h || (n && (!pcts || !out))) return TKS_EINVAL;
    for (size_t k = 0; k < n; k++)
        if (!(pcts[k] >= 0 && pcts[k] <= 100)) return TKS_EINVAL; /* NaN too */
    if (!h->count) return TKS_EEMPTY;
    int exact = !h->exact_lost && h->count <= H_EXACT;
    int64_t sorted[H_EXACT];
    if (exact) {
        memcpy(sorted, h->exact, h->count * sizeof sorted[0]);
        sort_i64(sorted, h->count);
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t r = rank_of(pcts[k], h->count);
        if (pcts[k] == 0) {
            out[k] = h->min;
        } else if (exact) {
            out[k] = sorted[r - 1];
        } else {
            uint64_t cum = 0;
            uint32_t i = h->lo_cell;
            for (; i < h->hi_cell; i++) {
                cum += h->cells[i];
                if (cum >= r) break;
            }
            int64_t v = cell_mid(i);
            /* The extreme buckets are bounded by the true extremes. */
            out[k] = v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return TKS_OK;
}

int tks_histogram_buckets(const tks_histogram *h, int64_t *lo, int64_t *hi, uint64_t *counts,
                          size_t cap, size_t *n) {
    if (!h || !n || (cap && (!lo || !hi || !counts))) return TKS_EINVAL;
    size_t k = 0;
    if (h->count) {
        for (uint32_t i = h->lo_cell; i <= h->hi_cell; i++) {
            if (!h->cells[i]) continue;
            if (k < cap) {
                lo[k] = cell_lo(i);
                hi[k] = cell_hi(i);
                counts[k] = h->cells[i];
            }
            k++;
        }
    }
    *n = k;
    return k > cap ? TKS_ELIMIT : TKS_OK;
}

uint64_t tks__histogram_count_le(const tks_histogram *h, int64_t bound) {
    if (!h->count || bound < h->min) return 0;
    if (bound >= h->max) return h->count;
    uint64_t n = 0;
    if (!h->exact_lost && h->count <= H_EXACT) {
        for (uint64_t k = 0; k < h->count; k++) n += h->exact[k] <= bound;
        return n;
    }
    for (uint32_t i = h->lo_cell; i <= h->hi_cell; i++) {
        if (cell_lo(i) > bound) break;
        if (cell_hi(i) <= bound || cell_mid(i) <= bound) n += h->cells[i];
    }
    return n;
}

double tks__histogram_sum(const tks_histogram *h) {
    return (double)h->shift * (double)h->count + h->sum;
}
