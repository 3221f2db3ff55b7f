/* apps/bench/bench_stats.h — the statistics of the bench, free of devices and files so the tests
 * can feed them constructed numbers: Welch's one-sided t-test (does a device need more epochs
 * than the reference?), the agreement of two loss traces, and epochs to a target accuracy. */
#ifndef GAMMACL_BENCH_STATS_H
#define GAMMACL_BENCH_STATS_H

/* P(T > t) for Student's t with df > 0 degrees of freedom (df need not be an integer). */
double bs_t_upper(double t, double df);

typedef struct bs_welch {
    int n_ref, n_dev;
    double mean_ref, sd_ref, mean_dev, sd_dev;
    double t, df, p;             /* p of H1 "the device needs more" (one-sided) */
    int testable;                /* 0: fewer than 2 values on a side (p is NaN) */
    int slower;                  /* p < alpha */
} bs_welch;

/* Welch's two-sample t-test of H1: mean(dev) > mean(ref). With no spread on either side the
 * test degenerates: p = 0 when dev's mean is larger, else 1. Returns 0, or -1 when n < 1. */
int bs_welch_slower(const double *ref, int nref, const double *dev, int ndev, double alpha,
                    bs_welch *out);

typedef struct bs_agreement {
    double max_rel;              /* largest |a - b| / max(|a|, |b|) over the steps */
    int at_step;                 /* where (0-based) */
    double last_rel;             /* at the last step */
    int identical;               /* every step bit for bit equal */
} bs_agreement;

/* |a - b| / max(|a|, |b|): 0 when a == b (an Inf against the same Inf too) or both are NaN;
 * INFINITY when only one is NaN or an Inf meets anything else. Never NaN. */
double bs_rel_diff(double a, double b);

void bs_trace_agreement(const double *ref, const double *dev, int n, bs_agreement *out);

/* acc[0..nepochs] (acc[0]: before training): the first epoch e >= 1 with acc[e] >= target, or
 * nepochs + 1 when the run never reaches it (a censored count, conservative for the test). */
int bs_epochs_to(const double *acc, int nepochs, double target);

/* The target "just past the knee" of a mean accuracy curve mean[0..nepochs]: the value that
 * covers `frac` of the rise from mean[0] to the curve's maximum. */
double bs_knee_target(const double *mean, int nepochs, double frac);

#endif
