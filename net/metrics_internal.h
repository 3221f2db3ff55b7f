/* net/metrics_internal.h — what the device half of the feature metrics (metrics.c) hands the host
 * half (metrics_host.c): the host copy of one computation and the figures made from it; nothing
 * else includes it.
 */
#ifndef GAMMACL_METRICS_INTERNAL_H
#define GAMMACL_METRICS_INTERNAL_H

#include <stdint.h>

#include "metrics.h"

/* What nn_metrics_compute keeps and reads back on the host for N samples, K classes, d features. */
typedef struct nn_metrics_host {
    int N, K, d, present;
    int32_t *labels, *perm, *offs;
    int nseg;                     /* segments: runs of one class's samples summed a work-item each */
    int32_t *seg, *cseg;          /* nseg + 1 starts in perm (the last: N); class k's first segment */
    float *segsum;                /* nseg x d sums read back */
    double *mu, *muG, *centered;  /* K x d class means, d global mean, K x d mu_k - mu_G */
    double *muhat;                /* K x d */
    float *upload;                /* 2 K d: MU, MUHAT as floats */
    float *s4, *gn, *sw, *w;
    int32_t hist[2 * NN_HIST_BINS];
} nn_metrics_host;

/* The number of samples of class k (offs: class-sorted offsets, K + 1 of them). */
static inline int nn_metrics_class_count(const nn_metrics_host *h, int k)
{
    return h->offs[k + 1] - h->offs[k];
}

/* Positive cosines, margins, gap, uniform accuracy, compactness, NC4 and gradient norms; returns
 * -1 on allocation failure, else 0. */
int nn_metrics_sample_figures(const nn_metrics_host *h, double gamma, nn_split_metrics *o);
/* Angles between normalized class means, NC1, NC2 and NC3 over the classes present; returns -1 on
 * allocation failure, -2 when LAPACK fails, else 0. */
int nn_metrics_geometry_figures(const nn_metrics_host *h, nn_split_metrics *o);

#endif
