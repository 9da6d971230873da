/* t_histogram.c - tks_histogram: empty answers, exact small histograms, <= 1% relative
 * error from 1 us to 1 h against exact nearest-rank percentiles of sorted samples
 * (uniform, log-normal, bimodal; 10^6 values each), merge == recording everything into
 * one, clamping, memory, raw buckets, OOM torture. */
#include "internal.h"
#include "tap.h"
#include "testalloc.h"

#include <math.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}
static double next_unit(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Exact nearest-rank percentile of sorted v[0..n): the ceil(p/100 n)-th smallest. */
static int64_t exact_pct(const int64_t *v, size_t n, double p) {
    if (p == 0) return v[0];
    double x = p / 100.0 * (double)n;
    size_t r = (size_t)ceil(x - 1e-9);
    if (r < 1) r = 1;
    if (r > n) r = n;
    return v[r - 1];
}

static void test_empty(void) {
    tks_histogram *h;
    is_int(tks_histogram_new(&h, NULL), TKS_OK, "new");
    double p50 = 50, d;
    int64_t v = 12345;
    is_int(tks_histogram_count(h), 0, "empty: count 0");
    is_int(tks_histogram_percentiles(h, &p50, 1, &v), TKS_EEMPTY, "empty: percentiles EEMPTY");
    is_int(v, 12345, "empty: out untouched");
    is_int(tks_histogram_min(h, &v), TKS_EEMPTY, "empty: min EEMPTY");
    is_int(tks_histogram_max(h, &v), TKS_EEMPTY, "empty: max EEMPTY");
    is_int(tks_histogram_mean(h, &d), TKS_EEMPTY, "empty: mean EEMPTY");
    is_int(tks_histogram_std(h, &d), TKS_EEMPTY, "empty: std EEMPTY");
    size_t n = 99;
    is_int(tks_histogram_buckets(h, NULL, NULL, NULL, 0, &n), TKS_OK, "empty: buckets ok");
    is_int(n, 0, "empty: no buckets");
    double bad[2] = {101, NAN};
    tks_histogram_record(h, 5);
    is_int(tks_histogram_percentiles(h, bad, 1, &v), TKS_EINVAL, "p > 100: EINVAL");
    is_int(tks_histogram_percentiles(h, bad + 1, 1, &v), TKS_EINVAL, "p NaN: EINVAL");
    is_int(tks_histogram_record(NULL, 1), TKS_EINVAL, "record NULL: EINVAL");
    is_int(tks_histogram_new(NULL, NULL), TKS_EINVAL, "new NULL out: EINVAL");
    tks_histogram_reset(h);
    is_int(tks_histogram_percentiles(h, &p50, 1, &v), TKS_EEMPTY, "after reset: empty again");
    tks_histogram_free(h);
    tks_histogram_free(NULL);
}

static void test_small_exact(void) {
    tks_histogram *h;
    tks_histogram_new(&h, NULL);
    /* 10 values, hand-sorted: 3 7 100 1001 5000 5000 99999 123457 1000003 3600000000000 */
    static const int64_t vals[] = {5000, 3, 123457, 1001, 3600000000000, 7, 99999, 100, 5000, 1000003};
    for (size_t i = 0; i < 10; i++) tks_histogram_record(h, vals[i]);
    double p[] = {0, 10, 11, 50, 90, 99, 100};
    /* nearest rank: ceil(p/100*10): 0->min, 10->1st, 11->2nd, 50->5th, 90->9th, 99->10th */
    int64_t want[] = {3, 3, 7, 5000, 1000003, 3600000000000, 3600000000000}, got[7];
    is_int(tks_histogram_percentiles(h, p, 7, got), TKS_OK, "percentiles ok");
    for (int i = 0; i < 7; i++) is_int(got[i], want[i], "small histogram: exact p%g", p[i]);
    int64_t v;
    tks_histogram_min(h, &v);
    is_int(v, 3, "min exact");
    tks_histogram_max(h, &v);
    is_int(v, 3600000000000, "max exact");
    double mean, std;
    tks_histogram_mean(h, &mean);
    /* sum = 3+7+100+1001+5000+5000+99999+123457+1000003+3600000000000 = 3600001234570 */
    ok(fabs(mean - 360000123457.0) < 1e-3, "mean from sums: %.3f", mean);
    tks_histogram_std(h, &std);
    /* population std computed independently */
    double m = 360000123457.0, ss = 0;
    for (int i = 0; i < 10; i++) ss += ((double)vals[i] - m) * ((double)vals[i] - m);
    ok(fabs(std - sqrt(ss / 10)) / sqrt(ss / 10) < 1e-9, "std from sums: %.3f", std);
    is_int(tks_histogram_count(h), 10, "count 10");
    tks_histogram_free(h);
}

/* Every value v from 1 us to 1 h (geometric sweep + random) is reported within 1%: a
 * histogram holding v 65 times (past the exact copies) answers the bucket's value. */
static void test_bucket_error(void) {
    tks_histogram *h;
    tks_histogram_new(&h, NULL);
    double worst = 0;
    int64_t worst_v = 0;
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 4000; i++) {
            int64_t v;
            if (pass == 0) v = (int64_t)(1000.0 * pow(3.6e9, i / 3999.0));
            else v = 1000 + (int64_t)(next_unit() * next_unit() * 3.6e12);
            tks_histogram_reset(h);
            tks_histogram_record_n(h, v, 65);
            tks_histogram_record(h, 1); /* far min and max: clamping to them cannot help */
            tks_histogram_record(h, (int64_t)1 << 42);
            double p = 50;
            int64_t got;
            tks_histogram_percentiles(h, &p, 1, &got);
            double e = fabs((double)got - (double)v) / (double)v;
            if (e > worst) {
                worst = e;
                worst_v = v;
            }
            n++;
        }
    }
    ok(worst <= 0.01, "bucket value within 1%% for %d values 1 us..1 h (worst %.4f%% at %lld)", n,
       worst * 100, (long long)worst_v);
    /* Through the raw buckets too: every bucket of the range is at most 2% wide. */
    tks_histogram_reset(h);
    for (int64_t v = 1000; v < 3600000000000; v += v / 200 + 1) tks_histogram_record(h, v);
    size_t nb = 0;
    tks_histogram_buckets(h, NULL, NULL, NULL, 0, &nb);
    int64_t *lo = malloc(nb * sizeof *lo), *hi = malloc(nb * sizeof *hi);
    uint64_t *c = malloc(nb * sizeof *c), total = 0;
    size_t n2;
    is_int(tks_histogram_buckets(h, lo, hi, c, nb, &n2), TKS_OK, "buckets export ok");
    int good = n2 == nb;
    for (size_t i = 0; i < n2; i++) {
        good &= lo[i] <= hi[i];
        if (i) good &= lo[i] > hi[i - 1];
        good &= (double)(hi[i] - lo[i]) / 2 <= 0.01 * (double)lo[i];
        total += c[i];
    }
    ok(good, "%zu buckets: ordered, disjoint, half-width <= 1%% of the lower bound", n2);
    is_int(total, tks_histogram_count(h), "bucket counts add up to count");
    size_t n3 = 0;
    is_int(tks_histogram_buckets(h, lo, hi, c, 3, &n3), TKS_ELIMIT, "small cap: ELIMIT");
    is_int(n3, nb, "small cap: *n says how many");
    free(lo);
    free(hi);
    free(c);
    tks_histogram_free(h);
}

static void check_accuracy(const char *name, int64_t *v, size_t n) {
    tks_histogram *h;
    tks_histogram_new(&h, NULL);
    for (size_t i = 0; i < n; i++) tks_histogram_record(h, v[i]);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)v[i];
    qsort(v, n, sizeof *v, cmp_i64);
    static const double p[] = {0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
    enum { NP = sizeof p / sizeof p[0] };
    int64_t got[NP];
    is_int(tks_histogram_percentiles(h, p, NP, got), TKS_OK, "%s: percentiles", name);
    double worst = 0;
    for (int i = 0; i < NP; i++) {
        int64_t want = exact_pct(v, n, p[i]);
        double e = fabs((double)got[i] - (double)want) / (double)want;
        if (e > worst) worst = e;
        if (e > 0.01) diag("%s p%g: got %lld want %lld", name, p[i], (long long)got[i], (long long)want);
    }
    ok(worst <= 0.01, "%s: %zu values, every percentile within 1%% (worst %.4f%%)", name, n, worst * 100);
    double mean;
    tks_histogram_mean(h, &mean);
    ok(fabs(mean - sum / (double)n) <= 1e-9 * (sum / (double)n), "%s: mean exact (from sums)", name);
    double ss = 0, m = sum / (double)n, std;
    for (size_t i = 0; i < n; i++) ss += ((double)v[i] - m) * ((double)v[i] - m);
    tks_histogram_std(h, &std);
    ok(fabs(std - sqrt(ss / (double)n)) <= 1e-6 * sqrt(ss / (double)n), "%s: std from sums", name);
    int64_t mn, mx;
    tks_histogram_min(h, &mn);
    tks_histogram_max(h, &mx);
    ok(mn == v[0] && mx == v[n - 1], "%s: min and max exact", name);
    tks_histogram_free(h);
}

static void test_accuracy(void) {
    size_t n = 1000000;
    int64_t *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = 1000 + (int64_t)(next_unit() * (3.6e12 - 1000));
    check_accuracy("uniform 1us..1h", v, n);
    for (size_t i = 0; i < n; i++) { /* log-normal around 50 ms, sigma 1 */
        double u1 = next_unit(), u2 = next_unit();
        double z = sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(6.283185307179586 * u2);
        double x = exp(log(50e6) + z);
        v[i] = (int64_t)(x < 1000 ? 1000 : x > 3.6e12 ? 3.6e12 : x);
    }
    check_accuracy("log-normal", v, n);
    for (size_t i = 0; i < n; i++) /* bimodal: 70% near 20 ms, 30% near 2 s */
        v[i] = next_unit() < 0.7 ? 20000000 + (int64_t)(next_unit() * 2000000)
                                 : 2000000000 + (int64_t)(next_unit() * 500000000);
    check_accuracy("bimodal", v, n);
    for (size_t i = 0; i < n; i++) v[i] = (int64_t)(1000.0 * pow(3.6e9, next_unit())); /* log-uniform */
    check_accuracy("log-uniform 1us..1h", v, n);
    free(v);
}

static int same_histograms(const tks_histogram *a, const tks_histogram *b) {
    size_t na, nb;
    tks_histogram_buckets(a, NULL, NULL, NULL, 0, &na);
    tks_histogram_buckets(b, NULL, NULL, NULL, 0, &nb);
    if (na != nb || tks_histogram_count(a) != tks_histogram_count(b)) return 0;
    int64_t *l1 = malloc((na + 1) * 8), *h1 = malloc((na + 1) * 8), *l2 = malloc((na + 1) * 8),
            *h2 = malloc((na + 1) * 8);
    uint64_t *c1 = malloc((na + 1) * 8), *c2 = malloc((na + 1) * 8);
    tks_histogram_buckets(a, l1, h1, c1, na, &na);
    tks_histogram_buckets(b, l2, h2, c2, nb, &nb);
    int same = memcmp(l1, l2, na * 8) == 0 && memcmp(h1, h2, na * 8) == 0 && memcmp(c1, c2, na * 8) == 0;
    free(l1); free(h1); free(l2); free(h2); free(c1); free(c2);
    double p[] = {0, 1, 50, 90, 99, 99.9, 100};
    int64_t pa[7], pb[7];
    tks_histogram_percentiles(a, p, 7, pa);
    tks_histogram_percentiles(b, p, 7, pb);
    same &= memcmp(pa, pb, sizeof pa) == 0;
    double ma, mb, sa, sb;
    tks_histogram_mean(a, &ma);
    tks_histogram_mean(b, &mb);
    tks_histogram_std(a, &sa);
    tks_histogram_std(b, &sb);
    same &= fabs(ma - mb) <= 1e-9 * fabs(ma) && fabs(sa - sb) <= 1e-6 * (sa + 1);
    return same;
}

static void test_merge(void) {
    tks_histogram *all, *part[4], *merged;
    tks_histogram_new(&all, NULL);
    tks_histogram_new(&merged, NULL);
    for (int k = 0; k < 4; k++) tks_histogram_new(&part[k], NULL);
    for (int i = 0; i < 200000; i++) {
        int64_t v = (int64_t)(1000.0 * pow(1e8, next_unit()));
        tks_histogram_record(all, v);
        tks_histogram_record(part[i % 4 == 3 ? 3 : i % 3], v);
    }
    for (int k = 0; k < 4; k++) tks_histogram_merge(merged, part[k]);
    ok(same_histograms(all, merged), "merge of 4 parts == recording everything into one");
    /* small: the exact copies merge too */
    tks_histogram *a, *b, *c;
    tks_histogram_new(&a, NULL);
    tks_histogram_new(&b, NULL);
    tks_histogram_new(&c, NULL);
    for (int i = 1; i <= 30; i++) {
        tks_histogram_record(i % 2 ? a : b, i * 1000003);
        tks_histogram_record(c, i * 1000003);
    }
    tks_histogram_merge(a, b);
    ok(same_histograms(a, c), "small merge == one histogram (exact answers)");
    double p = 50;
    int64_t got;
    tks_histogram_percentiles(a, &p, 1, &got);
    is_int(got, 15 * 1000003, "small merged p50 exact: 15th of 30");
    is_int(tks_histogram_merge(a, a), TKS_EINVAL, "merge into itself: EINVAL");
    /* empty into empty, empty into full */
    tks_histogram_reset(b);
    tks_histogram_merge(a, b);
    ok(same_histograms(a, c), "merging an empty histogram changes nothing");
    tks_histogram_free(a);
    tks_histogram_free(b);
    tks_histogram_free(c);
    tks_histogram_free(all);
    tks_histogram_free(merged);
    for (int k = 0; k < 4; k++) tks_histogram_free(part[k]);
}

static void test_record_n_and_clamp(void) {
    tks_histogram *a, *b;
    tks_histogram_new(&a, NULL);
    tks_histogram_new(&b, NULL);
    for (int i = 0; i < 100; i++) {
        int64_t v = 1000 + i * 777777;
        uint64_t k = (uint64_t)(i % 5) + 1;
        tks_histogram_record_n(a, v, k);
        for (uint64_t j = 0; j < k; j++) tks_histogram_record(b, v);
    }
    ok(same_histograms(a, b), "record_n(v, k) == k x record(v)");
    is_int(tks_histogram_record_n(a, 5, 0), TKS_OK, "record_n count 0: ok, nothing");
    tks_histogram_reset(a);
    tks_histogram_record(a, -5);
    tks_histogram_record(a, (int64_t)1 << 50);
    tks_histogram_record(a, 77);
    is_int(tks_histogram_clamped(a), 2, "two values out of range counted");
    is_int(tks_histogram_count(a), 3, "and recorded");
    int64_t v;
    tks_histogram_min(a, &v);
    is_int(v, 0, "negative clamps to 0");
    tks_histogram_max(a, &v);
    is_int(v, ((int64_t)1 << 42) - 1, "too large clamps to 2^42-1");
    size_t mem = tks_histogram_memory(a);
    ok(mem <= 16384, "memory per histogram %zu bytes <= 16 KiB", mem);
    diag("memory per histogram: %zu bytes", mem);
    tks_histogram_free(a);
    tks_histogram_free(b);
}

static int oom_body(const tks_alloc *al, void *ctx) {
    (void)ctx;
    tks_histogram_config cfg = {al};
    tks_histogram *h;
    int rc = tks_histogram_new(&h, &cfg);
    if (rc == TKS_ENOMEM) return 1;
    if (rc) return 2;
    for (int i = 0; i < 1000; i++) tks_histogram_record(h, i * 1000);
    double p = 50;
    int64_t v;
    rc = tks_histogram_percentiles(h, &p, 1, &v);
    tks_histogram_free(h);
    return rc == TKS_OK && v > 490000 && v < 510000 ? 0 : 2;
}

static void test_oom(void) {
    oom_torture("histogram", oom_body, NULL);
    talloc t;
    tks_alloc a = talloc_make(&t);
    tks_histogram_config cfg = {&a};
    tks_histogram *h;
    tks_histogram_new(&h, &cfg);
    long before = t.calls;
    for (int i = 0; i < 100000; i++) tks_histogram_record_n(h, i * 37, 1 + (i & 3));
    is_int(t.calls - before, 0, "recording allocates nothing");
    tks_histogram_free(h);
    is_int(t.live, 0, "nothing left after free");
    tks_alloc bad = {NULL, NULL, NULL, NULL};
    tks_histogram_config bc = {&bad};
    is_int(tks_histogram_new(&h, &bc), TKS_EINVAL, "incomplete allocator: EINVAL");
}

int main(void) {
    test_empty();
    test_small_exact();
    test_bucket_error();
    test_accuracy();
    test_merge();
    test_record_n_and_clamp();
    test_oom();
    return done_testing();
}
