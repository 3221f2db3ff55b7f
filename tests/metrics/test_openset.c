/* tests/metrics/test_openset.c — nn_auroc and nn_oscr of net/openset.c, host only:
 *   hand-worked cases (perfect separation 1, reversed 0, all equal 0.5, a small OSCR by hand, a
 *   tied block, OSCR with every known correct = AUROC, with none correct = 0, NaN for empty sides);
 *   random scores, with many ties (a few integer values) and without, against brute-force
 *   references: AUROC by counting all pairs, OSCR by evaluating CCR and FPR at every distinct
 *   threshold (and +inf) and integrating by trapezoids.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "openset.h"

typedef struct tally {
    int checks, failures;
} tally;

static void close_to(tally *t, double got, double want, double tol, const char *what)
{
    t->checks++;
    if (fabs(got - want) <= tol)
        return;
    t->failures++;
    fprintf(stderr, "FAIL [metrics/openset] %s: got %.17g, want %.17g\n", what, got, want);
}

static void is_nan(tally *t, double got, const char *what)
{
    t->checks++;
    if (isnan(got))
        return;
    t->failures++;
    fprintf(stderr, "FAIL [metrics/openset] %s: got %.17g, want NaN\n", what, got);
}

/* ---- brute-force references ---- */

static double ref_auroc(const double *k, int n, const double *u, int m)
{
    double wins = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            wins += k[i] > u[j] ? 1.0 : (k[i] == u[j] ? 0.5 : 0.0);
    return wins / ((double)n * m);
}

/* CCR and FPR at threshold th (scores >= th are accepted). */
static void rates_at(const double *k, const int *correct, int n, const double *u, int m,
                     double th, double *ccr, double *fpr)
{
    int c = 0, f = 0;
    for (int i = 0; i < n; i++)
        c += correct[i] && k[i] >= th;
    for (int j = 0; j < m; j++)
        f += u[j] >= th;
    *ccr = (double)c / n;
    *fpr = (double)f / m;
}

static double ref_oscr(const double *k, const int *correct, int n, const double *u, int m)
{
    /* thresholds from +inf down through every distinct score, found by repeated maximum */
    double area = 0, prev_ccr = 0, prev_fpr = 0, th = INFINITY;
    for (;;) {
        double next = -INFINITY;
        int found = 0;
        for (int i = 0; i < n + m; i++) {
            double s = i < n ? k[i] : u[i - n];
            if (s < th && (!found || s > next)) {
                next = s;
                found = 1;
            }
        }
        if (!found)
            break;
        th = next;
        double ccr, fpr;
        rates_at(k, correct, n, u, m, th, &ccr, &fpr);
        area += (fpr - prev_fpr) * (ccr + prev_ccr) / 2;
        prev_ccr = ccr;
        prev_fpr = fpr;
    }
    return area;
}

/* ---- hand-worked cases ---- */

static void hand_cases(tally *t)
{
    const double hi[] = {3, 4, 5}, lo[] = {1, 2};
    const int all[] = {1, 1, 1}, none[] = {0, 0, 0};
    close_to(t, nn_auroc(hi, 3, lo, 2), 1, 0, "AUROC perfect separation");
    close_to(t, nn_auroc(lo, 2, hi, 3), 0, 0, "AUROC reversed");
    const double eq[] = {2, 2, 2};
    close_to(t, nn_auroc(eq, 3, eq, 2), 0.5, 0, "AUROC all equal");
    close_to(t, nn_oscr(hi, all, 3, lo, 2), 1, 0, "OSCR perfect, all correct");
    close_to(t, nn_oscr(hi, none, 3, lo, 2), 0, 0, "OSCR none correct");
    close_to(t, nn_oscr(eq, all, 3, eq, 2), 0.5, 0, "OSCR all equal, all correct");

    /* known 0.9 (right) 0.8 (wrong) 0.3 (right), unknown 0.5 0.1: the curve (0,1/3) -> (1/2,1/3)
     * -> (1/2,2/3) -> (1,2/3), area 1/6 + 1/3; AUROC 5 of 6 pairs */
    const double k[] = {0.9, 0.8, 0.3}, u[] = {0.5, 0.1};
    const int c[] = {1, 0, 1};
    close_to(t, nn_oscr(k, c, 3, u, 2), 0.5, 1e-15, "OSCR small case by hand");
    close_to(t, nn_auroc(k, 3, u, 2), 5.0 / 6, 1e-15, "AUROC small case by hand");

    /* one tied block: known 1 (right), 1 (wrong), unknown 1: (0,0) -> (1,1/2), area 1/4 */
    const double one[] = {1, 1};
    const int rw[] = {1, 0};
    close_to(t, nn_oscr(one, rw, 2, one, 1), 0.25, 0, "OSCR tied block");

    /* NaN is the lowest score: known NaN, 1 against unknown 1 wins half of one pair of two */
    const double withnan[] = {NAN, 1};
    close_to(t, nn_auroc(withnan, 2, lo, 1), 0.25, 0, "AUROC with a NaN known score");

    is_nan(t, nn_auroc(hi, 3, lo, 0), "AUROC no unknown");
    is_nan(t, nn_auroc(hi, 0, lo, 2), "AUROC no known");
    is_nan(t, nn_oscr(hi, all, 3, lo, 0), "OSCR no unknown");
    is_nan(t, nn_oscr(hi, all, 0, lo, 2), "OSCR no known");
}

/* ---- random cases against the references ---- */

static double uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

static void random_cases(tally *t)
{
    uint64_t state = 2024;
    enum { MAXN = 300 };
    double k[MAXN], u[MAXN];
    int c[MAXN], ones[MAXN];
    for (int i = 0; i < MAXN; i++)
        ones[i] = 1;
    for (int trial = 0; trial < 200; trial++) {
        const int ties = trial % 2 == 0;
        const int n = 1 + (int)(uniform(&state) * (trial < 100 ? 12 : MAXN));
        const int m = 1 + (int)(uniform(&state) * (trial < 100 ? 12 : MAXN));
        const double p_correct = uniform(&state);
        for (int i = 0; i < n; i++) {
            /* knowns a little higher on average, so the figures are not all near 0.5 */
            double s = uniform(&state) + 0.3;
            k[i] = ties ? floor(s * 4) : s;
            c[i] = uniform(&state) < p_correct;
        }
        for (int j = 0; j < m; j++) {
            double s = uniform(&state);
            u[j] = ties ? floor(s * 4) : s;
        }
        char what[96];
        snprintf(what, sizeof what, "AUROC trial %d (n %d, m %d, %s)", trial, n, m,
                 ties ? "ties" : "no ties");
        const double auroc = nn_auroc(k, n, u, m);
        close_to(t, auroc, ref_auroc(k, n, u, m), 1e-12, what);
        snprintf(what, sizeof what, "OSCR trial %d (n %d, m %d, %s)", trial, n, m,
                 ties ? "ties" : "no ties");
        close_to(t, nn_oscr(k, c, n, u, m), ref_oscr(k, c, n, u, m), 1e-12, what);
        snprintf(what, sizeof what, "OSCR all correct = AUROC, trial %d", trial);
        close_to(t, nn_oscr(k, ones, n, u, m), auroc, 1e-12, what);
    }
}

int main(void)
{
    tally t = {0, 0};
    hand_cases(&t);
    random_cases(&t);
    printf("metrics/openset: %d checks, %d failures\n", t.checks, t.failures);
    return t.failures ? 1 : 0;
}
