/* net/theory.c — closed forms of the CE and BCE minima at the simplex ETF, the optimal shared
 * BCE bias, the critical scale and the gradient bounds (science.md §2-§3), evaluated in log space
 * so that they stay accurate and finite for large gamma and many classes.
 */
#include "theory.h"

#include <math.h>

/* True when K and gamma lie in the domain documented in theory.h. */
static int nn_theory_valid(double gamma, int K)
{
    return K >= 2 && isfinite(gamma) && gamma >= 0.0;
}

/* log(1 + e^x) without overflow for large x or loss of digits for very negative x. */
static double nn_theory_softplus(double x)
{
    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
}

/* The negative logit magnitude at the ETF: c = gamma/(K-1). */
static double nn_theory_neg_scale(double gamma, int K)
{
    return gamma / (double)(K - 1);
}

/* The ETF logit gap between the positive and the negatives: A = gamma K/(K-1) = gamma + c. */
static double nn_theory_etf_gap(double gamma, int K)
{
    return gamma + nn_theory_neg_scale(gamma, K);
}

double nn_theory_ce_min(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    return log1p((double)(K - 1) * exp(-nn_theory_etf_gap(gamma, K)));
}

double nn_theory_bce_at(double gamma, int K, double b)
{
    if (!nn_theory_valid(gamma, K) || isnan(b)) return NAN;
    double c = nn_theory_neg_scale(gamma, K);
    return nn_theory_softplus(b - gamma) + (double)(K - 1) * nn_theory_softplus(-c - b);
}

/* b* solves e^c u^2 - (K-2) u - (K-1) e^gamma = 0 with u = e^b. Taking the positive root and
 * factoring e^{A/2} (A = gamma + c) and 2 sqrt(K-1) out of it gives
 *   b* = (gamma - c)/2 + log(K-1)/2 + asinh( (K-2) e^{-A/2} / (2 sqrt(K-1)) ),
 * a sum of non-negative terms (no cancellation, no overflow; the last one underflows to 0). */
double nn_theory_bce_bias(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    double c = nn_theory_neg_scale(gamma, K);
    if (K == 2) return 0.5 * (gamma - c); /* K-2 = 0: the quadratic has no linear term (b* = 0) */
    double km1 = (double)(K - 1);
    double s = (double)(K - 2) * exp(-0.5 * nn_theory_etf_gap(gamma, K)) / (2.0 * sqrt(km1));
    return 0.5 * (gamma - c) + 0.5 * log(km1) + asinh(s);
}

double nn_theory_bce_min(double gamma, int K)
{
    return nn_theory_bce_at(gamma, K, nn_theory_bce_bias(gamma, K));
}

/* b*(gamma) - gamma: positive at gamma = 0 for K > 2 and strictly decreasing (the slope of b* is
 * below 1/2). */
static double nn_theory_bias_excess(double gamma, int K)
{
    return nn_theory_bce_bias(gamma, K) - gamma;
}

/* Bisection down to adjacent doubles. The bracket [0, 2 log(K-1) + 1] holds the root because
 * b* <= gamma/2 + log(K-1). */
double nn_theory_critical_gamma(int K)
{
    if (K < 2) return NAN;
    if (K == 2) return 0.0;
    double lo = 0.0, hi = 2.0 * log((double)(K - 1)) + 1.0;
    for (int it = 0; it < 200; it++) {
        double mid = lo + 0.5 * (hi - lo);
        if (mid <= lo || mid >= hi) break;
        if (nn_theory_bias_excess(mid, K) > 0.0) lo = mid;
        else hi = mid;
    }
    return fabs(nn_theory_bias_excess(lo, K)) <= fabs(nn_theory_bias_excess(hi, K)) ? lo : hi;
}

double nn_theory_ce_grad_bound(double gamma, int K, double delta)
{
    if (!nn_theory_valid(gamma, K) || isnan(delta)) return NAN;
    return 2.0 * gamma * (double)(K - 1) * exp(-gamma * delta);
}

double nn_theory_bce_grad_bound(double gamma, int K, double b, double c_pos, double c_neg)
{
    if (!nn_theory_valid(gamma, K) || isnan(b) || isnan(c_pos) || isnan(c_neg)) return NAN;
    return gamma * (exp(b - gamma * c_pos) + (double)(K - 1) * exp(gamma * c_neg - b));
}

double nn_theory_ce_min_small(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    return log((double)K) - gamma;
}

double nn_theory_ce_min_large(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    return (double)(K - 1) * exp(-nn_theory_etf_gap(gamma, K));
}

double nn_theory_bce_bias_small(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    return log((double)(K - 1));
}

double nn_theory_bce_bias_large(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    double km1 = (double)(K - 1);
    return gamma * (double)(K - 2) / (2.0 * km1) + 0.5 * log(km1);
}

/* (K-1) log(K/(K-1)) is written as (K-1) log1p(1/(K-1)) to keep its digits for large K. */
double nn_theory_bce_min_small(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    double km1 = (double)(K - 1);
    return log((double)K) + km1 * log1p(1.0 / km1) - gamma;
}

double nn_theory_bce_min_large(double gamma, int K)
{
    if (!nn_theory_valid(gamma, K)) return NAN;
    return 2.0 * sqrt((double)(K - 1)) * exp(-0.5 * nn_theory_etf_gap(gamma, K));
}
