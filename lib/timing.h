/* timing.h - private helpers shared by histogram.c and stats.c (the exporters need more
 * of a histogram than the public API gives). Not installed. */
#ifndef TKS_TIMING_H
#define TKS_TIMING_H

#include "internal.h"

/* How many recorded values are <= bound: exact while the histogram still holds every
 * value (at most 64), else whole buckets, a bucket straddling the bound counted by its
 * midpoint. */
uint64_t tks__histogram_count_le(const tks_histogram *h, int64_t bound);
/* The sum of the recorded values (after clamping). */
double tks__histogram_sum(const tks_histogram *h);

#endif
