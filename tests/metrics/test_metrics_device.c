/* tests/metrics/test_metrics_device.c — every feature metric computed on the device equals the
 * double-precision CPU reference (mref.c), on every device and kernel style.
 *
 * Features are injected directly (nn_metrics_collect_features: the raw last-layer output, in
 * several batches, the last one partial) into a `linear d` model whose class weights are set:
 *   exact ETF        every feature a positive multiple of its class's simplex-ETF weight, the ETF
 *                    turned into R^d by a random orthonormal map; besides the reference, the
 *                    closed forms: compactness 1, both separability angles arccos(-1/(K-1)),
 *                    NC1 = 0, NC2 = NC3 = NC4 = 0, every margin and the gap K/(K-1), uniform
 *                    accuracy 1, zero gradients, CE = L*_CE and BCE at b* = L*_BCE;
 *   ETF + noise      the same plus Gaussian noise of known size;
 *   collapsed        every sample on its class centre (random centres, two classes sharing one);
 *   random           Gaussian features and weights, imbalanced, one class absent;
 *   long class       a class of more samples than a work-item may loop over on some drivers.
 * A last case runs the real data path (nn_metrics_collect over an uploaded uint8 data set in
 * batches of 7) against the reference fed with one whole-batch forward pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metrics.h"
#include "mref.h"
#include "testing.h"
#include "theory.h"

#define PI 3.14159265358979323846

typedef struct fcase {
    const char *name;
    int K, d, N, batch, bce;
    double gamma, bias;        /* bias: BCE runs only (a CE run logs BCE at b*) */
    float *h, *w;              /* raw features d x N, raw weights K x d */
    int32_t *labels;
} fcase;

/* ---- comparisons ---- */

static void cmp(th *t, const char *what, const char *field, double got, double want, double atol,
                double rtol)
{
    const int ok = isnan(want) ? isnan(got) : fabs(got - want) <= atol + rtol * fabs(want);
    th_check(t, ok, "%s: %s = %.9g, reference %.9g (atol %g rtol %g)", what, field, got, want, atol, rtol);
}

static void cmp_hist(th *t, const char *what, const char *field, const int32_t *got,
                     const int32_t *want, long total, int edge)
{
    long diff = 0, sum = 0;
    for (int b = 0; b < NN_HIST_BINS; b++) diff += labs((long)got[b] - want[b]), sum += got[b];
    th_check(t, sum == total && diff <= 2L * edge,
             "%s: %s histogram: %ld values (want %ld), %ld bin differences (allowed %d)", what, field,
             sum, total, diff, 2 * edge);
}

static void compare(th *t, const char *what, const nn_split_metrics *g, const mref_result *r, int K,
                    double gamma)
{
    const nn_split_metrics *w = &r->m;
    const double gs = gamma; /* gradient figures scale with gamma */
    th_check(t, g->count == w->count && g->classes_present == w->classes_present,
             "%s: %d samples / %d classes present, want %d / %d", what, g->count,
             g->classes_present, w->count, w->classes_present);
    cmp(t, what, "ce", g->ce, w->ce, 1e-6, 1e-4);
    cmp(t, what, "bce", g->bce, w->bce, 1e-6, 1e-4);
    cmp(t, what, "acc", g->acc, w->acc, 1e-12, 0);
    cmp(t, what, "bias", g->bias, w->bias, 0, 0);
    cmp(t, what, "compact", g->compact, w->compact, 2e-6, 0);
    cmp(t, what, "pos_min", g->pos_min, w->pos_min, 2e-6, 0);
    cmp(t, what, "pos_p5", g->pos_p5, w->pos_p5, 2e-6, 0);
    cmp(t, what, "pos_mean", g->pos_mean, w->pos_mean, 2e-6, 0);
    cmp(t, what, "neg_max", g->neg_max, w->neg_max, 2e-6, 0);
    cmp(t, what, "sep_min_deg", g->sep_min_deg, w->sep_min_deg, 1e-3, 0);
    cmp(t, what, "sep_mean_deg", g->sep_mean_deg, w->sep_mean_deg, 1e-3, 0);
    cmp(t, what, "nc1", g->nc1, w->nc1, 1e-7, 2e-3);
    cmp(t, what, "nc2_equinorm_h", g->nc2_equinorm_h, w->nc2_equinorm_h, 2e-5, 1e-4);
    cmp(t, what, "nc2_etf_h", g->nc2_etf_h, w->nc2_etf_h, 2e-5, 1e-4);
    cmp(t, what, "nc2_equinorm_w", g->nc2_equinorm_w, w->nc2_equinorm_w, 1e-6, 1e-5);
    cmp(t, what, "nc2_etf_w", g->nc2_etf_w, w->nc2_etf_w, 1e-6, 1e-5);
    cmp(t, what, "nc3", g->nc3, w->nc3, 2e-5, 1e-4);
    cmp(t, what, "nc4", g->nc4, w->nc4, 1e-12 + (double)r->near_ties / w->count, 0);
    cmp(t, what, "margin_min", g->margin_min, w->margin_min, 4e-6, 0);
    cmp(t, what, "margin_p5", g->margin_p5, w->margin_p5, 4e-6, 0);
    cmp(t, what, "margin_median", g->margin_median, w->margin_median, 4e-6, 0);
    cmp(t, what, "margin_mean", g->margin_mean, w->margin_mean, 4e-6, 0);
    cmp(t, what, "gap", g->gap, w->gap, 4e-6, 0);
    cmp(t, what, "uacc", g->uacc, w->uacc, 1e-12, 0);
    cmp(t, what, "uacc_at_bias", g->uacc_at_bias, w->uacc_at_bias, 1e-12, 0);
    cmp(t, what, "grad_ce", g->grad_ce, w->grad_ce, 2e-5 * gs, 2e-4);
    cmp(t, what, "grad_bce", g->grad_bce, w->grad_bce, 2e-5 * gs, 2e-4);
    cmp_hist(t, what, "positive", g->hist_pos, w->hist_pos, w->count, r->edge_values);
    cmp_hist(t, what, "negative", g->hist_neg, w->hist_neg, (long)w->count * (K - 1), r->edge_values);
}

/* ---- running a case on the device ---- */

static nn_model *make_model(th *t, const fcase *c, int max_batch, const char *spec, int in_c,
                            int in_h, int in_w)
{
    nn_config cfg = {.spec = spec, .in_c = in_c, .in_h = in_h, .in_w = in_w, .classes = c->K,
                     .max_batch = max_batch, .loss = c->bce ? NN_LOSS_BCE : NN_LOSS_CE,
                     .gamma = (float)c->gamma, .bias_init = (float)c->bias, .seed = 11};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), c->name)) return NULL;
    th_ok(t, nn_test_write(m, "head.w", 1, c->w), "writing head.w");
    return m;
}

/* Device metrics of the case's features, and the reference fed with the same numbers. */
static void run_features(th *t, const fcase *c, nn_split_metrics *got, mref_result *ref)
{
    char spec[32], what[160];
    snprintf(spec, sizeof spec, "linear %d", c->d);
    snprintf(what, sizeof what, "%s (%s, gamma %g)", c->name, c->bce ? "BCE" : "CE", c->gamma);
    memset(got, 0, sizeof *got);
    nn_model *m = make_model(t, c, c->batch, spec, c->d, 1, 1);
    if (!m) return;
    nn_metrics_ws *ws = NULL;
    const int batches = (c->N + c->batch - 1) / c->batch;
    if (th_ok(t, nn_stats_reserve(m, batches), what) &&
        th_ok(t, nn_metrics_ws_create(m, c->N, &ws), what)) {
        nn_metrics_reset(ws);
        float *blk = malloc((size_t)c->d * c->batch * sizeof *blk);
        for (int b = 0; b < batches; b++) {
            const int first = b * c->batch, n = c->N - first < c->batch ? c->N - first : c->batch;
            for (int j = 0; j < c->d; j++)
                for (int i = 0; i < n; i++) blk[j * n + i] = c->h[(size_t)j * c->N + first + i];
            th_ok(t, nn_metrics_collect_features(m, ws, blk, c->labels + first, n, b), what);
        }
        free(blk);
        th_ok(t, nn_metrics_compute(m, ws, got), what);
        float b = 0;
        th_ok(t, nn_model_bias(m, &b), "bias");
        mref_input in = {.h = c->h, .labels = c->labels, .w = c->w, .N = c->N, .d = c->d, .K = c->K,
                         .gamma = c->gamma, .bias = b};
        mref_compute(&in, ref);
        compare(t, what, got, ref, c->K, c->gamma);
        /* the reported threshold achieves the reported uniform accuracy (reference scores) */
        if (!isnan(got->uacc_threshold)) {
            mref_input again = in;
            again.bias = got->uacc_threshold * c->gamma;
            mref_result at;
            mref_compute(&again, &at);
            cmp(t, what, "accuracy at uacc_threshold", at.m.uacc_at_bias, got->uacc, 1.01 / c->N, 0);
        }
    }
    nn_metrics_ws_free(m, ws);
    nn_model_free(m);
}

/* ---- constructed features ---- */

static void alloc_case(fcase *c)
{
    c->h = calloc((size_t)c->d * c->N, sizeof *c->h);
    c->w = calloc((size_t)c->K * c->d, sizeof *c->w);
    c->labels = calloc((size_t)c->N, sizeof *c->labels);
}

static void free_case(fcase *c) { free(c->h), free(c->w), free(c->labels); }

/* K unit vectors of a simplex ETF in R^d (d >= K), rotated by a random orthonormal map: rows of e */
static void etf_vectors(th_rng *r, int K, int d, double *e)
{
    double *q = calloc((size_t)K * d, sizeof *q); /* K orthonormal vectors in R^d */
    for (int k = 0; k < K; k++) {
        double *v = q + (size_t)k * d;
        for (int j = 0; j < d; j++) v[j] = th_normal(r);
        for (int pass = 0; pass < 2; pass++)
            for (int b = 0; b < k; b++) {
                double p = 0;
                for (int j = 0; j < d; j++) p += v[j] * q[(size_t)b * d + j];
                for (int j = 0; j < d; j++) v[j] -= p * q[(size_t)b * d + j];
            }
        double n = 0;
        for (int j = 0; j < d; j++) n += v[j] * v[j];
        for (int j = 0; j < d; j++) v[j] /= sqrt(n);
    }
    const double s = sqrt((double)K / (K - 1)); /* ||e_k - 1/K|| = sqrt((K-1)/K) */
    for (int k = 0; k < K; k++)
        for (int j = 0; j < d; j++) {
            double v = 0;
            for (int a = 0; a < K; a++) v += ((a == k) - 1.0 / K) * q[(size_t)a * d + j];
            e[(size_t)k * d + j] = v * s;
        }
    free(q);
}

/* features around ETF class weights: h_i = s_i (w_{y_i} + noise z), s_i in [0.5, 3] */
static void make_etf(fcase *c, th_rng *r, double noise)
{
    alloc_case(c);
    double *e = calloc((size_t)c->K * c->d, sizeof *e);
    etf_vectors(r, c->K, c->d, e);
    for (int i = 0; i < c->K * c->d; i++) c->w[i] = (float)e[i];
    for (int i = 0; i < c->N; i++) {
        c->labels[i] = i % c->K;
        const double scale = 0.5 + 2.5 * th_uniform(r);
        for (int j = 0; j < c->d; j++)
            c->h[(size_t)j * c->N + i] =
                (float)(scale * (c->w[(size_t)c->labels[i] * c->d + j] + noise * th_normal(r)));
    }
    free(e);
}

static void random_unit(th_rng *r, float *v, int d)
{
    double n = 0, x[256];
    for (int j = 0; j < d; j++) x[j] = th_normal(r), n += x[j] * x[j];
    for (int j = 0; j < d; j++) v[j] = (float)(x[j] / sqrt(n));
}

/* every sample on its class centre (random centres; the last class shares class 2's) */
static void make_collapsed(fcase *c, th_rng *r)
{
    alloc_case(c);
    float *centre = calloc((size_t)c->K * c->d, sizeof *centre);
    for (int k = 0; k < c->K; k++) random_unit(r, centre + (size_t)k * c->d, c->d);
    memcpy(centre + (size_t)(c->K - 1) * c->d, centre + 2 * (size_t)c->d, (size_t)c->d * sizeof *centre);
    for (int i = 0; i < c->K * c->d; i++) c->w[i] = (float)(th_normal(r) * (1 + 0.2 * (i % 3)));
    for (int i = 0; i < c->N; i++) {
        c->labels[i] = (i * 7) % c->K;
        const float scale = (float)(0.5 + th_uniform(r));
        for (int j = 0; j < c->d; j++)
            c->h[(size_t)j * c->N + i] = scale * centre[(size_t)c->labels[i] * c->d + j];
    }
    free(centre);
}

/* Gaussian features and weights; class K-1 absent, classes imbalanced */
static void make_random(fcase *c, th_rng *r)
{
    alloc_case(c);
    for (int i = 0; i < c->K * c->d; i++) c->w[i] = (float)th_normal(r);
    for (int i = 0; i < c->N; i++) {
        const double u = th_uniform(r);
        c->labels[i] = u < 0.4 ? 0 : u < 0.6 ? 1 : u < 0.9 ? 2 : 3;
        if (c->K > 5) c->labels[i] = (int32_t)(u * (c->K - 1));
        for (int j = 0; j < c->d; j++) c->h[(size_t)j * c->N + i] = (float)th_normal(r);
    }
}

/* ---- the cases ---- */

static void etf_closed_forms(th *t, const fcase *c, const nn_split_metrics *g)
{
    char what[160];
    snprintf(what, sizeof what, "%s closed forms (%s, gamma %g)", c->name, c->bce ? "BCE" : "CE", c->gamma);
    const int K = c->K;
    const double angle = acos(-1.0 / (K - 1)) * 180 / PI, margin = (double)K / (K - 1);
    cmp(t, what, "compact", g->compact, 1, 2e-6, 0);
    cmp(t, what, "pos_min", g->pos_min, 1, 2e-6, 0);
    cmp(t, what, "sep_min_deg", g->sep_min_deg, angle, 1e-3, 0);
    cmp(t, what, "sep_mean_deg", g->sep_mean_deg, angle, 1e-3, 0);
    cmp(t, what, "nc1", g->nc1, 0, 1e-9, 0);
    cmp(t, what, "nc2_equinorm_h", g->nc2_equinorm_h, 0, 1e-5, 0);
    cmp(t, what, "nc2_etf_h", g->nc2_etf_h, 0, 1e-5, 0);
    cmp(t, what, "nc2_equinorm_w", g->nc2_equinorm_w, 0, 1e-5, 0);
    cmp(t, what, "nc2_etf_w", g->nc2_etf_w, 0, 1e-5, 0);
    cmp(t, what, "nc3", g->nc3, 0, 1e-5, 0);
    cmp(t, what, "nc4", g->nc4, 0, 0, 0);
    cmp(t, what, "margin_min", g->margin_min, margin, 4e-6, 0);
    cmp(t, what, "margin_mean", g->margin_mean, margin, 4e-6, 0);
    cmp(t, what, "gap", g->gap, margin, 4e-6, 0);
    cmp(t, what, "uacc", g->uacc, 1, 0, 0);
    cmp(t, what, "grad_ce", g->grad_ce, 0, 2e-5 * c->gamma, 0);
    cmp(t, what, "grad_bce", g->grad_bce, 0, 2e-5 * c->gamma, 0);
    cmp(t, what, "ce = L*_CE", g->ce, nn_theory_ce_min(c->gamma, K), 0, 1e-4);
    cmp(t, what, "bce = L*_BCE", g->bce, nn_theory_bce_min(c->gamma, K), 0, 1e-4);
    cmp(t, what, "bias = b*", g->bias, nn_theory_bce_bias(c->gamma, K), 1e-6, 1e-6);
}

static void etf_cases(th *t)
{
    static const int classes[] = {10, 4};
    static const double gammas[] = {4, 16};
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < 2; g++)
            for (int bce = 0; bce < 2; bce++) {
                th_rng r = {100 + (uint64_t)(a * 4 + g * 2 + bce)};
                const int K = classes[a];
                fcase c = {.name = "exact ETF", .K = K, .d = K + 3, .N = 3 * K, .batch = 8,
                           .bce = bce, .gamma = gammas[g], .bias = nn_theory_bce_bias(gammas[g], K)};
                make_etf(&c, &r, 0.0);
                nn_split_metrics got;
                mref_result ref;
                run_features(t, &c, &got, &ref);
                etf_closed_forms(t, &c, &got);
                free_case(&c);
            }
}

static void other_cases(th *t)
{
    for (int bce = 0; bce < 2; bce++) {
        nn_split_metrics got;
        mref_result ref;
        th_rng r = {200 + (uint64_t)bce};
        fcase noisy = {.name = "ETF + noise 0.15", .K = 10, .d = 16, .N = 120, .batch = 32, .bce = bce,
                       .gamma = 8, .bias = 3.5};
        make_etf(&noisy, &r, 0.15);
        run_features(t, &noisy, &got, &ref);
        th_check(t, got.compact < 0.999 && got.nc1 > 1e-4, "ETF + noise: compactness %g and NC1 %g "
                 "should show the noise", got.compact, got.nc1);
        free_case(&noisy);

        fcase col = {.name = "collapsed classes", .K = 6, .d = 8, .N = 60, .batch = 16, .bce = bce,
                     .gamma = 8, .bias = 2.0};
        make_collapsed(&col, &r);
        run_features(t, &col, &got, &ref);
        cmp(t, "collapsed classes", "compact", got.compact, 1, 2e-6, 0);
        cmp(t, "collapsed classes", "nc1", got.nc1, 0, 1e-9, 0);
        cmp(t, "collapsed classes", "sep_min_deg (two classes share a centre)", got.sep_min_deg, 0, 1e-3, 0);
        th_check(t, got.gap <= 0 && got.uacc < 1, "collapsed classes: gap %g and uniform accuracy %g "
                 "with two classes on one centre", got.gap, got.uacc);
        free_case(&col);

        fcase rnd = {.name = "random, class 4 absent", .K = 5, .d = 7, .N = 53, .batch = 16, .bce = bce,
                     .gamma = 8, .bias = 1.3};
        make_random(&rnd, &r);
        run_features(t, &rnd, &got, &ref);
        th_check(t, got.classes_present == 4, "random: %d classes present, want 4", got.classes_present);
        free_case(&rnd);

        fcase big = {.name = "random, 12 classes", .K = 12, .d = 20, .N = 300, .batch = 64, .bce = bce,
                     .gamma = 16, .bias = 7.0};
        make_random(&big, &r);
        run_features(t, &big, &got, &ref);
        free_case(&big);
    }
}

/* One class of more samples than a work-item may loop over on some drivers (llvmpipe ends a
 * work-item's loops after 65535 iterations in all, silently): its class sum must still take
 * every sample. Features around a class-dependent centre, so that a sample left out moves the
 * class mean. */
static void long_class_case(th *t)
{
    nn_split_metrics got;
    mref_result ref;
    th_rng r = {400};
    fcase c = {.name = "one class of 67500 samples", .K = 3, .d = 4, .N = 75000, .batch = 8192, .bce = 1,
               .gamma = 8, .bias = 2.0};
    alloc_case(&c);
    for (int i = 0; i < c.K * c.d; i++) c.w[i] = (float)th_normal(&r);
    for (int i = 0; i < c.N; i++) {
        c.labels[i] = i % 20 == 0 ? 1 : i % 20 == 1 ? 2 : 0;
        for (int j = 0; j < c.d; j++)
            c.h[(size_t)j * c.N + i] = (float)(th_normal(&r) + (j == c.labels[i] ? 2.0 : 0.5));
    }
    run_features(t, &c, &got, &ref);
    free_case(&c);
}

/* The data path: nn_metrics_collect over an uploaded data set in batches of 7 (the last one
 * partial) against the reference fed with one whole-batch evaluation of the same samples. */
static void data_path_case(th *t)
{
    enum { N = 40, C = 3, S = 4, K = 5, D = 6, BATCH = 7 };
    const char *what = "data path (gap + linear 6, batches of 7)";
    th_rng r = {300};
    uint8_t px[N * C * S * S];
    int32_t labels[N];
    for (int i = 0; i < N * C * S * S; i++) px[i] = (uint8_t)(th_uniform(&r) * 256);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)(th_uniform(&r) * K);
    const float mean[C] = {120, 128, 130}, stdv[C] = {60, 70, 80};
    fcase c = {.name = what, .K = K, .d = D, .N = N, .batch = BATCH, .bce = 1, .gamma = 6, .bias = 2.5};
    c.w = malloc(K * D * sizeof *c.w);
    for (int i = 0; i < K * D; i++) c.w[i] = (float)th_normal(&r);
    nn_model *m = make_model(t, &c, N, "conv 8 k=3\nrelu\ngap\nlinear 6", C, S, S);
    nn_data *data = NULL;
    nn_metrics_ws *ws = NULL;
    if (m && th_ok(t, nn_data_upload(t->rt, px, labels, N, C, S, S, mean, stdv, &data), what) &&
        th_ok(t, nn_stats_reserve(m, 1 + (N + BATCH - 1) / BATCH), what) &&
        th_ok(t, nn_metrics_ws_create(m, N, &ws), what)) {
        nn_split_metrics got;
        th_ok(t, nn_metrics_collect(m, ws, data, N, BATCH, 1), what);
        th_ok(t, nn_metrics_compute(m, ws, &got), what);
        /* the reference's features: one evaluation of all N samples */
        float *h = malloc((size_t)D * N * sizeof *h), b = 0;
        char name[64];
        snprintf(name, sizeof name, "%s.y", nn_test_last_label(m));
        th_ok(t, nn_eval_batch(m, data, 0, N, 0), what);
        th_ok(t, nn_test_read(m, name, N, h), what);
        th_ok(t, nn_model_bias(m, &b), what);
        mref_input in = {.h = h, .labels = labels, .w = c.w, .N = N, .d = D, .K = K,
                         .gamma = c.gamma, .bias = b};
        mref_result ref;
        mref_compute(&in, &ref);
        compare(t, what, &got, &ref, K, c.gamma);
        /* a second compute without a new collect is refused */
        th_check(t, nn_metrics_compute(m, ws, &got) != RT_OK, "%s: compute twice must fail", what);
        free(h);
    }
    nn_metrics_ws_free(m, ws);
    nn_data_free(t->rt, data);
    nn_model_free(m);
    free(c.w);
}

static void body(th *t)
{
    etf_cases(t);
    other_cases(t);
    long_class_case(t);
    data_path_case(t);
}

int main(void) { return th_run("metrics/device", body, 1); }
