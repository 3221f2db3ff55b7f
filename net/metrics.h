/* net/metrics.h — feature geometry over a whole data set, on the device (science.md §3-§4).
 *
 * A metrics pass runs the model in evaluation mode over a data set in batches and keeps, for every
 * sample, the normalized feature hn (what the classifier reads), its cosines to the normalized
 * class weights, its label and the norm of the raw feature h. nn_metrics_compute then reduces
 * them with device kernels (fixed-order sums, GEMMs) and reads back only small results and a few
 * per-sample arrays; percentiles, the uniform-accuracy sweep, NC1 (LAPACK pseudo-inverse), NC2 and
 * NC3 are finished on the host in double precision.
 *
 * Definitions (N samples, K classes, c_ik = <hn_i, wn_k>, mu_k the mean of class k's hn, mu_G the
 * mean of all hn, mu^_k = mu_k/||mu_k||; classes without samples are left out of every mean-based
 * figure, and K below is then the number of classes present):
 *   compact        mean_i <hn_i, mu^_{y_i}>
 *   pos_*          c_{i,y_i}: minimum, 5th percentile, mean;  neg_max = max_{i,k!=y_i} c_ik
 *   sep_*_deg      angles between the mu^_k (pairs k < k'), minimum and mean, in degrees
 *                  (simplex ETF: arccos(-1/(K-1)))
 *   nc1            tr(S_W S_B^+)/K, S_W = (1/N) sum_i (hn_i - mu_{y_i})(.)^T,
 *                  S_B = (1/K) sum_k (mu_k - mu_G)(.)^T, + by LAPACK (eigenvalues above 1e-6 of
 *                  the largest)
 *   nc2_equinorm_h std_k / mean_k of ||mu_k - mu_G||;  nc2_equinorm_w the same for the raw ||w_k||
 *   nc2_etf_h      || G/||G||_F - (I - 11^T/K)/sqrt(K-1) ||_F with G = M^T M, M = [mu_k - mu_G];
 *   nc2_etf_w      the same with G = W W^T (raw class weights)
 *   nc3            || W^T/||W||_F - M/||M||_F ||_F (raw W)
 *   nc4            fraction of samples whose arg max_k c_ik differs from the nearest class mean,
 *                  arg max_k <hn_i, mu^_k> over the classes present
 *   margin_*       c_{i,y_i} - max_{k!=y_i} c_ik: minimum, 5th percentile, median, mean
 *   gap            min_i c_{i,y_i} - max_{i,k!=y_i} c_ik (> 0: one threshold separates all)
 *   uacc           max_t (1/N) #{i : c_{i,y_i} > t > max_{k!=y_i} c_ik}; uacc_threshold is the
 *                  middle of the best interval of t; uacc_at_bias the same count at t = b/gamma
 *   grad_ce/_bce   mean_i ||d l_i / d h_i||: h_i the raw feature (the last layer's output), l_i the
 *                  sample's CE, or BCE at the model's shared bias
 * Percentiles interpolate linearly between order statistics (rank p (n - 1)).
 */
#ifndef GAMMACL_METRICS_H
#define GAMMACL_METRICS_H

#include <stdint.h>

#include "net.h"

#define NN_HIST_BINS 100 /* cosine histogram: bins of width 0.02 over [-1, 1] */

typedef struct nn_split_metrics {
    int count, classes_present;
    double ce, bce, acc;       /* mean losses and arg-max accuracy (evaluation mode) */
    double bias;               /* the shared bias b the BCE figures use */
    double compact;
    double pos_min, pos_p5, pos_mean, neg_max;
    double sep_min_deg, sep_mean_deg;
    double nc1, nc2_equinorm_h, nc2_etf_h, nc2_equinorm_w, nc2_etf_w, nc3, nc4;
    double margin_min, margin_p5, margin_median, margin_mean;
    double gap, uacc, uacc_threshold, uacc_at_bias;
    double grad_ce, grad_bce;
    int32_t hist_pos[NN_HIST_BINS], hist_neg[NN_HIST_BINS];
} nn_split_metrics;

/* Device buffers for up to `capacity` samples of a model. */
typedef struct nn_metrics_ws nn_metrics_ws;
rt_status nn_metrics_ws_create(nn_model *m, int capacity, nn_metrics_ws **out);
void nn_metrics_ws_free(nn_model *m, nn_metrics_ws *ws);

/* Forgets the samples gathered so far. */
void nn_metrics_reset(nn_metrics_ws *ws);
/* Evaluates samples [0, count) of d (in its current order) in evaluation mode, in batches of at
 * most `batch`, batch b's losses going to statistics slot first_slot + b (the caller reserves
 * them), and gathers every sample (after a reset). Queued only; nothing waits. */
rt_status nn_metrics_collect(nn_model *m, nn_metrics_ws *ws, nn_data *d, int count, int batch,
                             int first_slot);
/* Computes every figure over the samples gathered (consumes them: a new collect must follow). */
rt_status nn_metrics_compute(nn_model *m, nn_metrics_ws *ws, nn_split_metrics *out);

/* Tests: sets the raw feature (the last layer's output, d x n) and labels of one batch directly,
 * runs the head in evaluation mode (losses into statistics slot `slot`) and appends the batch. */
rt_status nn_metrics_collect_features(nn_model *m, nn_metrics_ws *ws, const float *feature,
                                      const int32_t *labels, int n, int slot);

/* ---- host pieces (double precision; exposed for tests) ---- */

/* The p-quantile (p in [0, 1]) of n ascending values, linear between order statistics. */
double nn_percentile(const double *sorted, int n, double p);
/* The best single threshold: max over t of #{i : neg[i] < t < pos[i]} / n; *threshold gets the
 * middle of the best interval (NaN when no sample has pos > neg). Returns -1 on allocation
 * failure, else 0. */
int nn_uniform_accuracy(const double *pos, const double *neg, int n, double *acc, double *threshold);
/* #{i : neg[i] < t < pos[i]} / n */
double nn_uniform_accuracy_at(const double *pos, const double *neg, int n, double t);
/* tr(S_W S_B^+)/K with S_B = (1/K) sum_k m_k m_k^T for the K centered class means m_k (rows of
 * `centered`, K x d) and S_W (d x d, symmetric); pseudo-inverse by a LAPACK eigen-decomposition,
 * eigenvalues up to rcond times the largest treated as zero. Returns -1 when LAPACK fails. */
int nn_nc1(const double *sw, const double *centered, int d, int K, double rcond, double *nc1);
/* Convergence of E_t = (L_t - L*)/(L_0 - L*) over evaluated epochs: the least-squares slope of
 * ln E_t against the epoch (points with E_t > 0 only; NaN with fewer than two), and the first
 * epoch where E_t < eps (-1 when never). */
void nn_convergence_fit(const int *epochs, const double *E, int n, double eps, double *slope,
                        int *epochs_to);

#endif
