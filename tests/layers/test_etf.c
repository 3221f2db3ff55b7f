/* tests/layers/test_etf.c — the device's losses at a constructed simplex ETF equal the closed-form
 * minima of net/theory.c.
 *
 * Class weights are the K centered standard basis vectors e_k - 1/K (d = K), normalized: a simplex
 * ETF, all cosines between classes -1/(K-1). Every sample's feature is its class weight (three
 * samples per class; one for K = 100). For K in {2, 10, 100} and gamma in {0.5, 1, 2, 4, 8, 16,
 * 32, 64}, where the minimum is a normal fp32 number (> 1.2e-38), to 1e-4 relative:
 *   a BCE model with head.b set to b*(gamma, K): mean BCE = L*_BCE and mean CE = L*_CE;
 *   a CE model (K = 2 and 10): mean CE = L*_CE, and its BCE column (logged at the b* the model
 *   holds) = L*_BCE.
 * Every sample must be classified correctly. This covers large gamma where L*_CE < 1e-7, which a
 * plain fp32 log-sum-exp would round to 0.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lt.h"
#include "theory.h"

#define REL_TOL 1e-4

static void etf_case(th *t, int K, double gamma, int bce)
{
    const int per_class = K > 50 ? 1 : 3, N = K * per_class, d = K;
    const double ce_min = nn_theory_ce_min(gamma, K), bce_min = nn_theory_bce_min(gamma, K);
    const double bstar = nn_theory_bce_bias(gamma, K);
    char spec[32], what[120];
    snprintf(spec, sizeof spec, "linear %d", K);
    snprintf(what, sizeof what, "ETF %s model K=%d gamma=%g", bce ? "BCE" : "CE", K, gamma);
    nn_config cfg = {.spec = spec, .in_c = K, .in_h = 1, .in_w = 1, .classes = K, .max_batch = N,
                     .loss = bce ? NN_LOSS_BCE : NN_LOSS_CE, .gamma = (float)gamma, .seed = 3};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what)) return;
    double *w = malloc((size_t)K * d * sizeof *w), *h = malloc((size_t)d * N * sizeof *h);
    int32_t *labels = malloc((size_t)N * sizeof *labels);
    const double norm = sqrt((1.0 - 1.0 / K) * (1.0 - 1.0 / K) + (K - 1) / ((double)K * K));
    for (int k = 0; k < K; k++)
        for (int j = 0; j < d; j++) w[(size_t)k * d + j] = ((j == k) - 1.0 / K) / norm;
    for (int n = 0; n < N; n++) {
        labels[n] = n % K;
        for (int j = 0; j < d; j++) h[(size_t)j * N + n] = w[(size_t)labels[n] * d + j];
    }
    lt_write(t, m, "head.w", N, w, (size_t)K * d);
    if (bce) lt_write(t, m, "head.b", N, &bstar, 1);
    float *hf = lt_to_float(h, (size_t)d * N);
    th_ok(t, nn_test_head(m, hf, labels, N, 0), what);
    nn_stats st;
    th_ok(t, nn_stats_sum(m, 0, 1, &st), "statistics");
    const double ce = st.ce / N, bc = st.bce / N;
    th_check(t, fabs(ce - ce_min) <= REL_TOL * ce_min, "%s: mean CE %.9g, closed form %.9g (rel %.2g)",
             what, ce, ce_min, fabs(ce - ce_min) / ce_min);
    th_check(t, fabs(bc - bce_min) <= REL_TOL * bce_min,
             "%s: mean BCE at b* %.9g, closed form %.9g (rel %.2g)", what, bc, bce_min,
             fabs(bc - bce_min) / bce_min);
    if (getenv("GAMMACL_TEST_VERBOSE"))
        printf("  %-40s CE %.6g (rel err %.2g)  BCE %.6g (rel err %.2g)\n", what, ce,
               fabs(ce - ce_min) / ce_min, bc, fabs(bc - bce_min) / bce_min);
    th_check(t, st.correct == N && st.count == N, "%s: %g of %g correct, want %d", what, st.correct,
             st.count, N);
    free(w), free(h), free(labels), free(hf);
    nn_model_free(m);
}

static void body(th *t)
{
    static const int classes[] = {2, 10, 100};
    static const double gammas[] = {0.5, 1, 2, 4, 8, 16, 32, 64};
    int run = 0;
    for (int i = 0; i < 3; i++)
        for (int g = 0; g < 8; g++) {
            const int K = classes[i];
            const double gamma = gammas[g];
            /* only minima that are normal fp32 numbers (K = 2, gamma = 64: e^-128) */
            if (!(nn_theory_ce_min(gamma, K) > FLT_MIN && nn_theory_bce_min(gamma, K) > FLT_MIN))
                continue;
            if (K <= 10) etf_case(t, K, gamma, 0);
            etf_case(t, K, gamma, 1);
            run++;
        }
    th_check(t, run == 23, "%d (K, gamma) pairs ran, want 23", run);
}

/* The head's kernels have no code that depends on the kernel style (test_head.c runs both), so
 * each device runs its own row only. */
int main(void) { return th_run("layers/etf", body, 0); }
