/* apps/bench/bench_stats.c — Welch's t-test (with Student's t tail from the regularized
 * incomplete beta function), trace agreement and epochs to a target; see bench_stats.h.
 * The t tail is written here because the C libraries that carry it (GSL, Rmath) are GPL and
 * gammacl is MIT; the continued fraction below is the textbook one (modified Lentz). */
#include <math.h>

#include "bench_stats.h"

/* continued fraction of I_x(a, b), valid for x < (a + 1) / (a + b + 2) */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        const double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + num * d, c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d, h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + num * d, c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        const double step = d * c;
        h *= step;
        if (fabs(step - 1) < eps) break;
    }
    return h;
}

/* the regularized incomplete beta function I_x(a, b), 0 <= x <= 1 */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    const double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double bs_t_upper(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 0 : 1;
    const double tail = 0.5 * beta_inc(0.5 * df, 0.5, df / (df + t * t));
    return t >= 0 ? tail : 1 - tail;
}

static void mean_sd(const double *v, int n, double *mean, double *sd)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    double q = 0;
    for (int i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : NAN;
}

int bs_welch_slower(const double *ref, int nref, const double *dev, int ndev, double alpha,
                    bs_welch *out)
{
    *out = (bs_welch){.n_ref = nref, .n_dev = ndev, .t = NAN, .df = NAN, .p = NAN};
    if (nref < 1 || ndev < 1) return -1;
    mean_sd(ref, nref, &out->mean_ref, &out->sd_ref);
    mean_sd(dev, ndev, &out->mean_dev, &out->sd_dev);
    if (nref < 2 || ndev < 2) return 0;
    out->testable = 1;
    const double vr = out->sd_ref * out->sd_ref / nref, vd = out->sd_dev * out->sd_dev / ndev;
    const double diff = out->mean_dev - out->mean_ref;
    if (vr + vd == 0) {
        out->t = diff > 0 ? INFINITY : diff < 0 ? -INFINITY : 0;
        out->p = diff > 0 ? 0 : 1;
    } else {
        out->t = diff / sqrt(vr + vd);
        out->df = (vr + vd) * (vr + vd) / (vr * vr / (nref - 1) + vd * vd / (ndev - 1));
        out->p = bs_t_upper(out->t, out->df);
    }
    out->slower = out->p < alpha;
    return 0;
}

double bs_rel_diff(double a, double b)
{
    /* equal values (an Inf against the same Inf included) and NaN on both sides agree */
    if (a == b || (isnan(a) && isnan(b))) return 0;
    const double rel = fabs(a - b) / fmax(fabs(a), fabs(b));
    /* a NaN on one side, or an Inf against anything else (Inf / Inf), is as far apart as it gets */
    return isnan(rel) ? INFINITY : rel;
}

void bs_trace_agreement(const double *ref, const double *dev, int n, bs_agreement *out)
{
    *out = (bs_agreement){.max_rel = 0, .at_step = -1, .last_rel = NAN, .identical = 1};
    for (int i = 0; i < n; i++) {
        const double rel = bs_rel_diff(ref[i], dev[i]);
        if (ref[i] != dev[i] && !(isnan(ref[i]) && isnan(dev[i]))) out->identical = 0;
        if (rel > out->max_rel || out->at_step < 0) out->max_rel = rel, out->at_step = i;
        out->last_rel = rel;
    }
}

int bs_epochs_to(const double *acc, int nepochs, double target)
{
    for (int e = 1; e <= nepochs; e++)
        if (acc[e] >= target) return e;
    return nepochs + 1;
}

double bs_knee_target(const double *mean, int nepochs, double frac)
{
    double top = mean[0];
    for (int e = 1; e <= nepochs; e++)
        if (mean[e] > top) top = mean[e];
    return mean[0] + frac * (top - mean[0]);
}
