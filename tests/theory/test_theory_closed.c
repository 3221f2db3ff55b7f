/* tests/theory/test_theory_closed.c — checks the closed forms of net/theory.c: the K = 10 table
 * of the science notes, high-precision reference values (extreme gamma and K included), a 1-D
 * numerical minimization of the BCE loss over the shared bias, the small- and large-gamma limits,
 * the critical gamma, the gradient bounds against exact gradients, and the rejection of bad input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "theory.h"

static double sigmoid(double x)
{
    return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* ---- the K = 10 table, to the printed digits ------------------------------------------------ */

typedef struct {
    double gamma;
    const char *ce, *bias, *threshold, *bce, *pos, *neg;
} table_row;

static void check_format(check_tally *t, const char *fmt, double v, const char *want,
                         double gamma, const char *what)
{
    char got[32];
    snprintf(got, sizeof got, fmt, v);
    check_that(t, strcmp(got, want) == 0, "table gamma=%g %s: got %s, want %s", gamma, what, got,
               want);
}

static void test_table(check_tally *t)
{
    static const table_row rows[] = {
        {1, "1.3769e+00", "2.2482", "2.248", "2.3131e+00", "-1.248", "-2.359"},
        {2, "6.8073e-01", "2.4134", "1.207", "1.5441e+00", "-0.413", "-2.636"},
        {4, "1.0047e-01", "3.0204", "0.755", "5.9598e-01", "0.980", "-3.465"},
        {8, "1.2404e-03", "4.6698", "0.584", "6.9778e-02", "3.330", "-5.559"},
        {16, "1.7118e-07", "8.2099", "0.513", "8.2738e-04", "7.790", "-9.988"},
        {32, "3.2558e-15", "15.3208", "0.479", "1.1412e-07", "16.679", "-18.876"},
        {64, "1.1778e-30", "29.5431", "0.462", "2.1705e-15", "34.457", "-36.654"},
    };
    const int K = 10;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const table_row *r = &rows[i];
        double g = r->gamma, b = nn_theory_bce_bias(g, K);
        check_format(t, "%.4e", nn_theory_ce_min(g, K), r->ce, g, "L*_CE");
        check_format(t, "%.4f", b, r->bias, g, "b*");
        check_format(t, "%.3f", b / g, r->threshold, g, "t");
        check_format(t, "%.4e", nn_theory_bce_min(g, K), r->bce, g, "L*_BCE");
        check_format(t, "%.3f", g - b, r->pos, g, "positive logit");
        check_format(t, "%.3f", -g / (K - 1) - b, r->neg, g, "negative logit");
    }
}

/* ---- reference values computed independently at 60 significant digits ---------------------- */

typedef struct {
    double gamma;
    int K;
    double ce, bias, bce;
} reference;

/* A reference value below the double range is stored as 0 (its true value in a comment); the
 * result must then be a non-negative number below 1e-300. */
static void check_tiny_or_rel(check_tally *t, double got, double want, const char *what)
{
    if (want == 0.0) check_that(t, got >= 0.0 && got < 1e-300, "%s: got %.17g, want %.3g",
                                  what, got, want);
    else check_rel(t, got, want, 1e-12, what);
}

static void test_references(check_tally *t)
{
    static const reference refs[] = {
        {1e-3, 3, 1.0976125387097607, 6.9314726387938918e-1, 1.9085426715603586},
        {0.5, 2, 3.1326168751822283e-1, 0.0, 9.4815396836021336e-1},
        {0.5, 10, 1.8186903533337302, 2.2092288039545023, 2.7648512625991188},
        {3, 7, 1.6651757968341312e-1, 2.322320129675378, 7.5724779886732659e-1},
        {64, 10, 1.177821158799525e-30, 2.9543056733112555e+1, 2.1705493855699522e-15},
        {64, 2, 2.5722093726424148e-56, 0.0, 3.2076217810972757e-28},
        {100, 1000, 3.3623612875517559e-41, 5.3403327339274227e+1, 1.1597174289544425e-20},
        {300, 10, 1.5467324904506084e-144, 1.3443194562200144e+2, 2.4873540081384543e-72},
        {1000, 2, 0.0 /* 2.58e-869 */, 0.0, 0.0 /* 1.02e-434 */},
        {1000, 100000, 0.0 /* 5.03e-430 */, 5.0575145768245961e+2, 4.4834814622427614e-215},
        {20, 100000, 2.0605085220488736e-4, 1.5763535203544825e+1, 2.8607631408906868e-2},
        {1e-6, 100000, 1.1512924464970228e+1, 1.1512915464920228e+1, 1.2512919464953562e+1},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        const reference *r = &refs[i];
        char what[96];
        snprintf(what, sizeof what, "reference gamma=%g K=%d L*_CE", r->gamma, r->K);
        check_tiny_or_rel(t, nn_theory_ce_min(r->gamma, r->K), r->ce, what);
        snprintf(what, sizeof what, "reference gamma=%g K=%d b*", r->gamma, r->K);
        if (r->bias == 0.0) check_abs(t, nn_theory_bce_bias(r->gamma, r->K), 0.0, 0.0, what);
        else check_rel(t, nn_theory_bce_bias(r->gamma, r->K), r->bias, 1e-12, what);
        snprintf(what, sizeof what, "reference gamma=%g K=%d L*_BCE", r->gamma, r->K);
        check_tiny_or_rel(t, nn_theory_bce_min(r->gamma, r->K), r->bce, what);
    }
}

/* ---- 1-D numerical minimization of the BCE loss over the shared bias ------------------------ */

static double softplus(double x)
{
    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
}

/* The sign of f'(b) = sigma(b - gamma) - (K-1) sigma(-c - b) (f is convex, so f' increases),
 * decided in log space, log sigma(x) = -softplus(-x), so that it stays exact when both terms
 * underflow (large gamma). */
static int bce_slope_positive(double gamma, int K, double b)
{
    double c = gamma / (K - 1);
    return -softplus(gamma - b) > log((double)(K - 1)) - softplus(c + b);
}

/* A bracket that holds the minimizer for every gamma >= 0 and K >= 2. */
static void bias_bracket(double gamma, int K, double *lo, double *hi)
{
    *lo = -10.0;
    *hi = gamma + log((double)K) + 10.0;
}

/* The minimizer by bisection on the sign of f', down to adjacent doubles. */
static double argmin_by_slope(double gamma, int K)
{
    double lo, hi;
    bias_bracket(gamma, K, &lo, &hi);
    for (int it = 0; it < 2000; it++) {
        double mid = lo + 0.5 * (hi - lo);
        if (mid <= lo || mid >= hi) break;
        if (bce_slope_positive(gamma, K, mid)) hi = mid;
        else lo = mid;
    }
    return lo + 0.5 * (hi - lo);
}

/* The minimizer by golden-section search on f itself (no derivative). */
static double argmin_by_golden(double gamma, int K)
{
    const double r = 0.6180339887498949;
    double a, b;
    bias_bracket(gamma, K, &a, &b);
    double x1 = b - r * (b - a), x2 = a + r * (b - a);
    double f1 = nn_theory_bce_at(gamma, K, x1), f2 = nn_theory_bce_at(gamma, K, x2);
    for (int it = 0; it < 300 && b - a > 1e-15 * fmax(1.0, fabs(a)); it++) {
        if (f1 <= f2) {
            b = x2, x2 = x1, f2 = f1;
            x1 = b - r * (b - a), f1 = nn_theory_bce_at(gamma, K, x1);
        } else {
            a = x1, x1 = x2, f1 = f2;
            x2 = a + r * (b - a), f2 = nn_theory_bce_at(gamma, K, x2);
        }
    }
    return f1 <= f2 ? x1 : x2;
}

static void test_bias_minimization(check_tally *t)
{
    static const int classes[] = {2, 3, 4, 5, 10, 100, 1000, 100000};
    static const double gammas[] = {1e-4, 0.01, 0.1, 0.5, 1,  2,   2.55, 4,
                                    8,    16,   32,  64,  128, 300, 1000};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        for (size_t j = 0; j < sizeof gammas / sizeof gammas[0]; j++) {
            int K = classes[i];
            double g = gammas[j], bs = nn_theory_bce_bias(g, K), fs = nn_theory_bce_min(g, K);
            double bn = argmin_by_slope(g, K);
            check_that(t, fabs(bn - bs) <= 1e-9 * fmax(1.0, fabs(bs)),
                       "K=%d gamma=%g: b* %.17g, bisection on f' %.17g", K, g, bs, bn);
            /* Beyond this the loss itself underflows near its minimum: nothing to search on. */
            if (g * K / (2.0 * (K - 1)) > 650.0) continue;
            double bg = argmin_by_golden(g, K);
            double fn = nn_theory_bce_at(g, K, bn), fg = nn_theory_bce_at(g, K, bg);
            check_that(t, fabs(bg - bs) <= 1e-6 * fmax(1.0, fabs(bs)),
                       "K=%d gamma=%g: b* %.17g, golden section %.17g", K, g, bs, bg);
            check_that(t, fabs(fn - fs) <= 1e-12 * fs && fabs(fg - fs) <= 1e-9 * fs,
                       "K=%d gamma=%g: L*_BCE %.17g, at numerical minimizers %.17g / %.17g", K, g,
                       fs, fn, fg);
            check_that(t, fn >= fs * (1.0 - 1e-13) && fg >= fs * (1.0 - 1e-13),
                       "K=%d gamma=%g: a numerical minimum lies below L*_BCE %.17g: %.17g / %.17g",
                       K, g, fs, fn, fg);
            check_that(t, fs == nn_theory_bce_at(g, K, bs), "K=%d gamma=%g: bce_min != bce_at(b*)",
                       K, g);
        }
}

/* ---- small-gamma limits --------------------------------------------------------------------- */

static void test_small_gamma(check_tally *t)
{
    static const int classes[] = {2, 3, 10, 100, 100000};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        int K = classes[i];
        double ce_err[2], bce_err[2];
        double l0_bce = nn_theory_bce_min_small(0.0, K);
        check_rel(t, nn_theory_bce_min(0.0, K), l0_bce, 1e-14, "L*_BCE at gamma = 0");
        check_rel(t, nn_theory_ce_min(0.0, K), log((double)K), 1e-14, "L*_CE at gamma = 0");
        for (int j = 0; j < 2; j++) {
            double g = j == 0 ? 1e-3 : 1e-4;
            double ce_slope = (nn_theory_ce_min(g, K) - log((double)K)) / g;
            double bce_slope = (nn_theory_bce_min(g, K) - l0_bce) / g;
            ce_err[j] = fabs(ce_slope + 1.0);
            bce_err[j] = fabs(bce_slope + 1.0);
            check_that(t, ce_err[j] <= g, "K=%d gamma=%g: L*_CE slope %.12g, want -1 + O(gamma)",
                       K, g, ce_slope);
            check_that(t, bce_err[j] <= g, "K=%d gamma=%g: L*_BCE slope %.12g, want -1 + O(gamma)",
                       K, g, bce_slope);
            double b_err = fabs(nn_theory_bce_bias(g, K) - nn_theory_bce_bias_small(g, K));
            check_that(t, b_err <= g * g, "K=%d gamma=%g: b* - log(K-1) = %.3g, want O(gamma^2)",
                       K, g, b_err);
            check_that(t, fabs(nn_theory_ce_min(g, K) - nn_theory_ce_min_small(g, K)) <= g * g,
                       "K=%d gamma=%g: L*_CE differs from log K - gamma by more than gamma^2",
                       K, g);
            check_that(t, fabs(nn_theory_bce_min(g, K) - nn_theory_bce_min_small(g, K)) <= g * g,
                       "K=%d gamma=%g: L*_BCE differs from its small-gamma form by more than "
                       "gamma^2", K, g);
        }
        /* The slope error is linear in gamma: ten times smaller gamma, about ten times smaller. */
        if (K <= 100) {
            double rc = ce_err[0] / ce_err[1], rb = bce_err[0] / bce_err[1];
            check_that(t, rc > 8.0 && rc < 12.0, "K=%d: L*_CE slope error ratio %.4g, want ~10", K,
                       rc);
            check_that(t, rb > 8.0 && rb < 12.0, "K=%d: L*_BCE slope error ratio %.4g, want ~10", K,
                       rb);
        }
    }
}

/* ---- large-gamma limits --------------------------------------------------------------------- */

typedef struct {
    const char *name;
    double last, final;
    int monotone;
} limit_track;

/* Follows |err| along increasing gamma: it must never grow above the rounding floor (exp of an
 * argument near 100 carries ~1e-14 relative error). */
static void track(limit_track *tr, double err)
{
    if (err > tr->last && err > 1e-13) tr->monotone = 0;
    tr->last = err;
    tr->final = err;
}

static void test_large_gamma(check_tally *t)
{
    static const int classes[] = {2, 3, 10, 100, 1000, 100000};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        int K = classes[i];
        limit_track ce = {"L*_CE / (K-1)e^{-gamma K/(K-1)}", INFINITY, 0, 1};
        limit_track bias = {"b* - [gamma (K-2)/(2(K-1)) + log(K-1)/2]", INFINITY, 0, 1};
        limit_track bce = {"L*_BCE / 2 sqrt(K-1) e^{-gamma K/(2(K-1))}", INFINITY, 0, 1};
        for (double g = 4.0; g <= 256.0; g *= 2.0) {
            track(&ce, fabs(nn_theory_ce_min(g, K) / nn_theory_ce_min_large(g, K) - 1.0));
            track(&bias, fabs(nn_theory_bce_bias(g, K) - nn_theory_bce_bias_large(g, K)));
            track(&bce, fabs(nn_theory_bce_min(g, K) / nn_theory_bce_min_large(g, K) - 1.0));
        }
        const limit_track *all[] = {&ce, &bias, &bce};
        for (int j = 0; j < 3; j++) {
            check_that(t, all[j]->monotone, "K=%d: %s does not shrink monotonically", K,
                       all[j]->name);
            check_that(t, all[j]->final <= 1e-12, "K=%d: %s at gamma 256: %.3g, want -> 0 / 1", K,
                       all[j]->name, all[j]->final);
        }
    }
    /* Half the exponent: L*_BCE decays as e^{-gamma K/(2(K-1))}, L*_CE as e^{-gamma K/(K-1)}. */
    double r = log(nn_theory_bce_min(64.0, 10) / nn_theory_bce_min(32.0, 10)) /
               log(nn_theory_ce_min(64.0, 10) / nn_theory_ce_min(32.0, 10));
    check_rel(t, r, 0.5, 1e-6, "ratio of the BCE and CE decay exponents (K=10, gamma 32->64)");
}

/* ---- critical gamma ------------------------------------------------------------------------- */

static void test_critical_gamma(check_tally *t)
{
    static const struct {
        int K;
        double gc;
    } refs[] = {{3, 0.73240819244540646},
                {5, 1.5567281192442506},
                {10, 2.5498920096505945},
                {100, 5.2303716914506086},
                {100000, 12.205935584841218}};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        int K = refs[i].K;
        double gc = nn_theory_critical_gamma(K);
        char what[64];
        snprintf(what, sizeof what, "critical gamma K=%d", K);
        check_rel(t, gc, refs[i].gc, 1e-12, what);
        check_that(t, fabs(nn_theory_bce_bias(gc, K) - gc) <= 1e-12,
                   "K=%d: b*(gc) - gc = %.3g, want |.| <= 1e-12", K,
                   nn_theory_bce_bias(gc, K) - gc);
        double below = gc * (1.0 - 1e-6), above = gc * (1.0 + 1e-6);
        check_that(t, nn_theory_bce_bias(below, K) > below && nn_theory_bce_bias(above, K) < above,
                   "K=%d: b*(gamma) - gamma does not change sign at gc = %.17g", K, gc);
    }
    check_abs(t, nn_theory_critical_gamma(10), 2.55, 0.005, "critical gamma K=10 is about 2.55");
    check_abs(t, nn_theory_critical_gamma(2), 0.0, 0.0, "critical gamma K=2");
    check_abs(t, nn_theory_bce_bias(7.0, 2), 0.0, 0.0, "b* for K=2");
}

/* ---- gradient bounds against exact gradients ------------------------------------------------ */

typedef struct {
    uint64_t state;
} rng;

static double rng_uniform(rng *r)
{
    r->state = r->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(r->state >> 11) + 0.5) / 9007199254740992.0;
}

/* Exact ||dL_CE/dc||_1 = 2 gamma (1 - p_y) for cosines c (label 0), from the off-target sum. */
static double ce_grad_l1(double gamma, int K, const double *c)
{
    double s = 0.0;
    for (int k = 1; k < K; k++) s += exp(gamma * (c[k] - c[0]));
    return 2.0 * gamma * s / (1.0 + s);
}

/* Exact ||dL_BCE/dc||_1 for cosines c (label 0) and shared bias b. */
static double bce_grad_l1(double gamma, int K, double b, const double *c)
{
    double s = sigmoid(b - gamma * c[0]);
    for (int k = 1; k < K; k++) s += sigmoid(gamma * c[k] - b);
    return gamma * s;
}

static void test_gradient_bounds(check_tally *t)
{
    enum { KMAX = 16 };
    rng r = {12345};
    static const double gammas[] = {0.5, 2, 8, 32, 64};
    double c[KMAX];
    int bad_ce = 0, bad_bce = 0, trials = 0;
    for (int trial = 0; trial < 4000; trial++) {
        int K = 2 + trial % (KMAX - 1);
        double g = gammas[trial % 5], cmax = -2.0;
        for (int k = 0; k < K; k++) c[k] = 2.0 * rng_uniform(&r) - 1.0;
        for (int k = 1; k < K; k++) cmax = fmax(cmax, c[k]);
        if (c[0] <= cmax) c[0] = fmin(1.0, cmax + rng_uniform(&r));
        double b = g * (2.0 * rng_uniform(&r) - 1.0);
        bad_ce += ce_grad_l1(g, K, c) > nn_theory_ce_grad_bound(g, K, c[0] - cmax) * (1 + 1e-12);
        bad_bce += bce_grad_l1(g, K, b, c) > nn_theory_bce_grad_bound(g, K, b, c[0], cmax) *
                                                  (1 + 1e-12);
        trials++;
    }
    check_that(t, bad_ce == 0, "CE gradient above its bound in %d of %d trials", bad_ce, trials);
    check_that(t, bad_bce == 0, "BCE gradient above its bound in %d of %d trials", bad_bce, trials);
    /* Tight when every negative sits at the largest negative cosine and the margin is wide. */
    for (int k = 0; k < 10; k++) c[k] = k == 0 ? 1.0 : -1.0 / 9.0;
    double ce_ratio = ce_grad_l1(16.0, 10, c) / nn_theory_ce_grad_bound(16.0, 10, 10.0 / 9.0);
    double bce_ratio = bce_grad_l1(16.0, 10, 7.0, c) /
                       nn_theory_bce_grad_bound(16.0, 10, 7.0, 1.0, -1.0 / 9.0);
    check_that(t, ce_ratio > 0.999 && ce_ratio <= 1.0, "CE bound not tight at the ETF: ratio %.6g",
               ce_ratio);
    check_that(t, bce_ratio > 0.99 && bce_ratio <= 1.0,
               "BCE bound not tight at the ETF: ratio %.6g", bce_ratio);
    check_rel(t, nn_theory_ce_grad_bound(2.0, 10, 1.0), 36.0 * exp(-2.0), 1e-15,
              "CE bound 2 gamma (K-1) e^{-gamma delta}");
    check_rel(t, nn_theory_bce_grad_bound(2.0, 10, 1.0, 0.5, -0.25),
              2.0 * (exp(1.0 - 1.0) + 9.0 * exp(-0.5 - 1.0)), 1e-15,
              "BCE bound gamma (e^{b - gamma c_y} + (K-1) e^{gamma c_n - b})");
}

/* ---- invalid input -------------------------------------------------------------------------- */

static void test_invalid(check_tally *t)
{
    const double bad_gammas[] = {-1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_gammas / sizeof bad_gammas[0]; i++) {
        double g = bad_gammas[i];
        check_that(t, isnan(nn_theory_ce_min(g, 10)) && isnan(nn_theory_bce_bias(g, 10)) &&
                          isnan(nn_theory_bce_min(g, 10)) && isnan(nn_theory_bce_at(g, 10, 1.0)) &&
                          isnan(nn_theory_ce_grad_bound(g, 10, 1.0)),
                   "gamma=%g is not rejected with NaN", g);
    }
    const int bad_classes[] = {1, 0, -3};
    for (size_t i = 0; i < sizeof bad_classes / sizeof bad_classes[0]; i++) {
        int K = bad_classes[i];
        check_that(t, isnan(nn_theory_ce_min(1.0, K)) && isnan(nn_theory_bce_bias(1.0, K)) &&
                          isnan(nn_theory_bce_min(1.0, K)) && isnan(nn_theory_critical_gamma(K)) &&
                          isnan(nn_theory_bce_min_large(1.0, K)),
                   "K=%d is not rejected with NaN", K);
    }
    check_that(t, isnan(nn_theory_bce_at(1.0, 10, NAN)), "bias NaN is not rejected");
}

/* ---- no overflow or loss of digits over the whole range ------------------------------------- */

static void test_range(check_tally *t)
{
    static const int classes[] = {2, 3, 10, 1000, 100000};
    int bad = 0;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        int K = classes[i];
        double prev_ce = INFINITY, prev_bce = INFINITY;
        for (double g = 1e-6; g <= 1000.0; g *= 1.25) {
            double ce = nn_theory_ce_min(g, K), b = nn_theory_bce_bias(g, K);
            double bce = nn_theory_bce_min(g, K);
            int ok = isfinite(ce) && isfinite(b) && isfinite(bce) && ce >= 0.0 && bce >= 0.0 &&
                     ce <= prev_ce && bce <= prev_bce && bce >= ce;
            if (!ok && bad++ < 5)
                printf("FAIL: K=%d gamma=%g: L*_CE %.17g b* %.17g L*_BCE %.17g\n", K, g, ce, b,
                       bce);
            prev_ce = ce;
            prev_bce = bce;
        }
    }
    check_that(t, bad == 0, "%d points of the (K, gamma) grid are non-finite, negative, not "
               "decreasing in gamma, or have L*_BCE < L*_CE", bad);
}

int main(void)
{
    check_tally t = {0, 0};
    test_table(&t);
    test_references(&t);
    test_bias_minimization(&t);
    test_small_gamma(&t);
    test_large_gamma(&t);
    test_critical_gamma(&t);
    test_gradient_bounds(&t);
    test_invalid(&t);
    test_range(&t);
    return check_summary(&t, "theory closed forms");
}
