/* tests/metrics/test_metrics_host.c — the host-side pieces of net/metrics.c, no device:
 *   nn_percentile          hand-computed quantiles (rank p (n - 1), linear in between);
 *   nn_uniform_accuracy    hand cases (open intervals, touching and empty ones) and 300 random
 *                          cases with ties against trying every candidate threshold; the returned
 *                          threshold must achieve the returned accuracy;
 *   nn_convergence_fit     exact exponentials, skipped non-positive points, "not reached";
 *   nn_nc1                 a 2-D case by hand, and random S_W / class means (rank K-1 and K, d > K)
 *                          against a Gram-Schmidt + Gauss-Jordan pseudo-inverse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "mref.h"

static int checks, failures;

static void check(int ok, const char *fmt, double got, double want)
{
    checks++;
    if (ok) return;
    failures++;
    fprintf(stderr, "FAIL [metrics/host] ");
    fprintf(stderr, fmt, got, want);
    fputc('\n', stderr);
}

static void close_to(double got, double want, double tol, const char *what)
{
    char fmt[200];
    snprintf(fmt, sizeof fmt, "%s: got %%.17g, want %%.17g", what);
    check(fabs(got - want) <= tol * (1 + fabs(want)), fmt, got, want);
}

static uint64_t state = 12345;
static double uni(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(state >> 11) * (1.0 / 9007199254740992.0);
}

static void percentiles(void)
{
    const double x[] = {1, 2, 3, 4, 5};
    close_to(nn_percentile(x, 5, 0), 1, 0, "percentile 0");
    close_to(nn_percentile(x, 5, 1), 5, 0, "percentile 1");
    close_to(nn_percentile(x, 5, 0.5), 3, 0, "median");
    close_to(nn_percentile(x, 5, 0.05), 1.2, 1e-15, "5th percentile");
    close_to(nn_percentile(x, 5, 0.3), 2.2, 1e-15, "30th percentile");
    close_to(nn_percentile(x + 2, 1, 0.05), 3, 0, "one value");
    const double y[] = {-1, 0};
    close_to(nn_percentile(y, 2, 0.25), -0.75, 1e-15, "two values");
}

static void uniform_accuracy(void)
{
    double acc, t;
    const double pos1[] = {0.9, 0.8, 0.7}, neg1[] = {0.1, 0.5, 0.75};
    nn_uniform_accuracy(pos1, neg1, 3, &acc, &t);
    close_to(acc, 2.0 / 3, 1e-15, "uacc, one empty interval");
    close_to(t, 0.65, 1e-15, "threshold in the middle of (0.5, 0.8)");
    const double pos2[] = {1, 2}, neg2[] = {0, 1};
    nn_uniform_accuracy(pos2, neg2, 2, &acc, &t);
    close_to(acc, 0.5, 0, "uacc, touching open intervals");
    const double pos3[] = {1, 1, 1}, neg3[] = {-0.1, -0.1, -0.1};
    nn_uniform_accuracy(pos3, neg3, 3, &acc, &t);
    close_to(acc, 1, 0, "uacc, identical intervals");
    close_to(nn_uniform_accuracy_at(pos3, neg3, 3, t), 1, 0, "accuracy at the threshold");
    const double pos4[] = {0.1, 0.2}, neg4[] = {0.3, 0.2};
    nn_uniform_accuracy(pos4, neg4, 2, &acc, &t);
    check(acc == 0 && isnan(t), "uacc with no separable sample: %g (threshold %g)", acc, t);
    close_to(nn_uniform_accuracy_at(pos1, neg1, 3, 0.6), 2.0 / 3, 0, "accuracy at 0.6");
    close_to(nn_uniform_accuracy_at(pos1, neg1, 3, 0.85), 1.0 / 3, 0, "accuracy at 0.85");
    close_to(nn_uniform_accuracy_at(pos2, neg2, 2, 1), 0, 0, "accuracy at a shared end point");
    /* an interval between adjacent doubles holds no threshold: its midpoint rounds onto an end */
    const double pos5[] = {0.5}, neg5[] = {nextafter(0.5, 0.0)};
    close_to(mref_uniform_accuracy(pos5, neg5, 1), 0, 0, "the reference's uacc at adjacent end points");
    close_to(mref_uniform_accuracy_counted(pos5, neg5, 1), 0, 0,
             "the reference's counted uacc at adjacent end points");
    for (int trial = 0; trial < 300; trial++) {
        const int n = 1 + (int)(uni() * 60);
        double pos[64], neg[64];
        for (int i = 0; i < n; i++) { /* on a 0.1 grid: many ties */
            pos[i] = floor(uni() * 21) / 10 - 1;
            neg[i] = floor(uni() * 21) / 10 - 1;
        }
        nn_uniform_accuracy(pos, neg, n, &acc, &t);
        const double want = mref_uniform_accuracy(pos, neg, n);
        close_to(acc, want, 1e-15, "uacc, random case against every threshold");
        close_to(mref_uniform_accuracy_counted(pos, neg, n), want, 0, "the reference's counted uacc");
        if (acc > 0) close_to(nn_uniform_accuracy_at(pos, neg, n, t), acc, 1e-15, "accuracy at the returned threshold");
    }
}

static void convergence(void)
{
    int ep[10];
    double E[10], slope;
    int to;
    for (int i = 0; i < 10; i++) ep[i] = i, E[i] = exp(-0.7 * i);
    nn_convergence_fit(ep, E, 10, 1e-2, &slope, &to);
    close_to(slope, -0.7, 1e-12, "slope of an exact exponential");
    close_to(to, 7, 0, "first epoch with E < 1e-2");
    nn_convergence_fit(ep, E, 5, 1e-2, &slope, &to);
    close_to(to, -1, 0, "not reached in 5 epochs");
    close_to(slope, -0.7, 1e-12, "slope over 5 epochs");
    /* evaluated every other epoch, with a non-positive point that the fit skips */
    int ep2[] = {0, 2, 4, 6};
    double E2[] = {1, exp(-0.6), -1e-3, exp(-1.8)};
    nn_convergence_fit(ep2, E2, 4, 1e-2, &slope, &to);
    close_to(slope, -0.3, 1e-12, "slope skipping E <= 0");
    close_to(to, 4, 0, "E <= 0 is below the threshold");
    nn_convergence_fit(ep2, E2, 1, 1e-2, &slope, &to);
    check(isnan(slope), "one point gives no slope: %g (want %g)", slope, NAN);
}

static void nc1_cases(void)
{
    /* 2-D: means (a, 0) and (-a, 0): S_B = a^2 e1 e1^T, NC1 = s11 / (2 a^2) */
    const double a = 0.7, cm[] = {a, 0, -a, 0}, sw[] = {0.3, 0.1, 0.1, 0.5};
    double nc1;
    check(nn_nc1(sw, cm, 2, 2, 1e-6, &nc1) == 0, "nn_nc1 failed (%g, %g)", 0, 0);
    close_to(nc1, 0.3 / (2 * a * a), 1e-12, "NC1 by hand");
    for (int trial = 0; trial < 20; trial++) {
        const int d = 12, K = 3 + trial % 6, centred = trial % 2;
        double c[12 * 8] = {0}, A[12 * 12], S[12 * 12] = {0};
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++) c[k * d + j] = 2 * uni() - 1;
        if (centred) /* columns sum to zero: rank K - 1 */
            for (int j = 0; j < d; j++) {
                double m = 0;
                for (int k = 0; k < K; k++) m += c[k * d + j] / K;
                for (int k = 0; k < K; k++) c[k * d + j] -= m;
            }
        for (int i = 0; i < d * d; i++) A[i] = 2 * uni() - 1;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) S[i * d + j] += 0.01 * A[i * d + k] * A[j * d + k];
        check(nn_nc1(S, c, d, K, 1e-6, &nc1) == 0, "nn_nc1 failed (%g, %g)", 0, 0);
        close_to(nc1, mref_nc1(S, c, d, K), 1e-9, centred ? "NC1, rank K-1" : "NC1, rank K");
    }
    const double zero[4] = {0};
    nn_nc1(sw, zero, 2, 2, 1e-6, &nc1);
    check(isnan(nc1), "NC1 with coincident class means: %g (want %g)", nc1, NAN);
}

int main(void)
{
    percentiles();
    uniform_accuracy();
    convergence();
    nc1_cases();
    printf("%-24s %4d checks, %d failed\n", "metrics/host", checks, failures);
    return failures ? 1 : 0;
}
