/* net/openset.c — AUROC and OSCR for open-set recognition (see openset.h), by one sort of each
 * side and a sweep of the threshold down through the distinct scores.
 *
 * The curve starts at (FPR, CCR) = (0, 0) for a threshold above every score; each distinct score
 * value v, taken from the highest down, moves FPR by the unknowns scored v and CCR by the correctly
 * classified knowns scored v at once, and the area is summed by trapezoids. With every known
 * counted as correct this area is the ROC area, which equals the rank statistic
 * P(s_known > s_unknown) + 0.5 P(equal): nn_auroc is that case.
 */
#include "openset.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
    double s;
    int correct;
} scored;

/* Descending; NaN after every number (the lowest score), NaNs equal to each other. */
static int desc(double a, double b)
{
    const int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    return (a < b) - (a > b);
}

static int cmp_scored(const void *a, const void *b)
{
    return desc(((const scored *)a)->s, ((const scored *)b)->s);
}

static int cmp_double(const void *a, const void *b)
{
    return desc(*(const double *)a, *(const double *)b);
}

/* The area under (FPR, CCR); correct NULL counts every known as correct. */
static double sweep_area(const double *known, const int *correct, int n, const double *unknown,
                         int m)
{
    if (!known || !unknown || n < 1 || m < 1)
        return NAN;
    scored *k = malloc((size_t)n * sizeof *k);
    double *u = malloc((size_t)m * sizeof *u);
    if (!k || !u) {
        free(k);
        free(u);
        return NAN;
    }
    for (int i = 0; i < n; i++) {
        k[i].s = known[i];
        k[i].correct = correct ? correct[i] != 0 : 1;
    }
    for (int j = 0; j < m; j++)
        u[j] = unknown[j];
    qsort(k, (size_t)n, sizeof *k, cmp_scored);
    qsort(u, (size_t)m, sizeof *u, cmp_double);

    /* twice the area times n m: sum over blocks of (unknowns in block) * (2 C_above + C_block) */
    double sum = 0;
    long long c_above = 0;
    int i = 0, j = 0;
    while (i < n || j < m) {
        /* the next distinct score: the higher of the two heads */
        double v;
        if (i == n)
            v = u[j];
        else if (j == m)
            v = k[i].s;
        else
            v = desc(k[i].s, u[j]) <= 0 ? k[i].s : u[j];
        long long c_block = 0, u_block = 0;
        while (i < n && desc(k[i].s, v) == 0)
            c_block += k[i++].correct;
        while (j < m && desc(u[j], v) == 0) {
            u_block++;
            j++;
        }
        sum += (double)u_block * (double)(2 * c_above + c_block);
        c_above += c_block;
    }
    free(k);
    free(u);
    return sum / (2.0 * (double)n * (double)m);
}

double nn_auroc(const double *known, int n, const double *unknown, int m)
{
    return sweep_area(known, NULL, n, unknown, m);
}

double nn_oscr(const double *known, const int *correct, int n, const double *unknown, int m)
{
    if (!correct)
        return NAN;
    return sweep_area(known, correct, n, unknown, m);
}
