/* tests/metrics/mref.h — a double-precision CPU reference of every feature metric of
 * net/metrics.h, written with plain loops and independent methods where the engine has a clever
 * one: uniform accuracy by trying every candidate threshold, NC1 through an orthonormal basis of
 * the class-mean span (Gram-Schmidt) and a Gauss-Jordan inverse instead of an eigen-solver.
 */
#ifndef GAMMACL_TEST_MREF_H
#define GAMMACL_TEST_MREF_H

#include <stdint.h>

#include "metrics.h"

typedef struct mref_input {
    const float *h;            /* raw features, d x N (column i = sample i) */
    const int32_t *labels;     /* N */
    const float *w;            /* raw class weights, K x d */
    int N, d, K;
    double gamma, bias;
} mref_input;

/* Every field of nn_split_metrics in double; histograms are binned from the reference cosines
 * rounded to float. edge_values counts cosines within 1e-5 of a histogram bin edge (where float
 * and double binning may disagree); near_ties the samples where NC4's arg maxes are ambiguous. */
typedef struct mref_result {
    nn_split_metrics m;
    int edge_values;
    int near_ties;             /* samples whose two best classes or two nearest class means are
                                  within 1e-5 (NC4 may count them either way) */
} mref_result;

void mref_compute(const mref_input *in, mref_result *out);

/* NC1 = tr(S_W S_B^+)/K with S_B = (1/K) sum_k c_k c_k^T (rows of centered, K x d), through an
 * orthonormal basis Q of span{c_k} (modified Gram-Schmidt, directions with a residual below
 * 1e-7 of the largest class-mean norm dropped): S_B^+ = Q (Q^T S_B Q)^{-1} Q^T. */
double mref_nc1(const double *sw, const double *centered, int d, int K);

/* max over t of #{i : neg_i < t < pos_i}/n, trying every midpoint of consecutive endpoints. */
double mref_uniform_accuracy(const double *pos, const double *neg, int n);
/* the same by counting: at each midpoint t, the intervals (neg_i, pos_i) that open below t less
 * those that also close at or below it (binary searches in the sorted end points) */
double mref_uniform_accuracy_counted(const double *pos, const double *neg, int n);

#endif
