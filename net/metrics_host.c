/* net/metrics_host.c — the host half of the feature metrics, in double precision: percentiles,
 * the uniform-accuracy sweep, NC1 (LAPACK pseudo-inverse) and the convergence fit declared in
 * metrics.h, and the figures nn_metrics_compute (metrics.c) finishes from what it read back:
 * positive cosines, margins, gap, compactness, NC4, gradient norms, class-mean angles, NC1-NC3.
 */
#include "metrics.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

#define NC1_RCOND 1e-6
#define RAD_TO_DEG (180.0 / 3.14159265358979323846)

/* ---- host pieces (metrics.h) ---- */

double nn_percentile(const double *sorted, int n, double p)
{
    if (n < 1) return NAN;
    const double r = fmin(fmax(p, 0.0), 1.0) * (n - 1);
    const int lo = (int)floor(r);
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (r - lo) * (sorted[lo + 1] - sorted[lo]);
}

typedef struct sweep_event { double v; int delta; } sweep_event;

/* by value; at equal values interval ends (-1) before starts (+1): the intervals are open */
static int cmp_event(const void *a, const void *b)
{
    const sweep_event *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->delta - y->delta;
}

int nn_uniform_accuracy(const double *pos, const double *neg, int n, double *acc, double *threshold)
{
    *acc = 0;
    *threshold = NAN;
    sweep_event *ev = malloc((size_t)(n > 0 ? 2 * n : 1) * sizeof *ev);
    if (!ev) return -1;
    int ne = 0;
    for (int i = 0; i < n; i++)
        if (pos[i] > neg[i]) {
            ev[ne++] = (sweep_event){neg[i], +1};
            ev[ne++] = (sweep_event){pos[i], -1};
        }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_event);
    int cur = 0, best = 0;
    for (int e = 0; e < ne; e++) {
        cur += ev[e].delta;
        /* after the last event at this value, cur holds for t in (ev[e].v, ev[e+1].v) */
        if (e + 1 < ne && ev[e + 1].v != ev[e].v && cur > best) {
            best = cur;
            *threshold = 0.5 * (ev[e].v + ev[e + 1].v);
        }
    }
    free(ev);
    *acc = n > 0 ? (double)best / n : 0;
    return 0;
}

double nn_uniform_accuracy_at(const double *pos, const double *neg, int n, double t)
{
    int hit = 0;
    for (int i = 0; i < n; i++) hit += neg[i] < t && t < pos[i];
    return n > 0 ? (double)hit / n : 0;
}

int nn_nc1(const double *sw, const double *centered, int d, int K, double rcond, double *nc1)
{
    *nc1 = NAN;
    double *sb = calloc((size_t)d * d, sizeof *sb), *ev = malloc((size_t)d * sizeof *ev);
    int rc = -1;
    if (!sb || !ev) goto done;
    for (int k = 0; k < K; k++) {
        const double *c = centered + (size_t)k * d;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) sb[(size_t)a * d + b] += c[a] * c[b] / K;
    }
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, sb, d, ev) != 0) goto done;
    rc = 0;
    const double top = ev[d - 1];
    if (!(top > 0)) goto done; /* no spread between the class means: NC1 undefined */
    double sum = 0;
    for (int e = 0; e < d; e++) {
        if (!(ev[e] > rcond * top)) continue;
        double q = 0; /* u^T S_W u, u = eigenvector e (column e) */
        for (int a = 0; a < d; a++) {
            double row = 0;
            for (int b = 0; b < d; b++) row += sw[(size_t)a * d + b] * sb[(size_t)b * d + e];
            q += sb[(size_t)a * d + e] * row;
        }
        sum += q / ev[e];
    }
    *nc1 = sum / K;
done:
    free(sb), free(ev);
    return rc;
}

void nn_convergence_fit(const int *epochs, const double *E, int n, double eps, double *slope,
                        int *epochs_to)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int pts = 0;
    *epochs_to = -1;
    for (int i = 0; i < n; i++) {
        if (*epochs_to < 0 && E[i] < eps) *epochs_to = epochs[i];
        if (!(E[i] > 0) || !isfinite(E[i])) continue;
        const double x = epochs[i], y = log(E[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
        pts++;
    }
    const double den = pts * sxx - sx * sx;
    *slope = pts >= 2 && den > 0 ? (pts * sxy - sx * sy) / den : NAN;
}

/* ---- figures of a computation ---- */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n > 0 ? s / n : NAN;
}

/* Positive cosines, margins, gap, uniform accuracy, compactness, NC4 and gradient norms. */
int nn_metrics_sample_figures(const nn_metrics_host *h, double gamma, nn_split_metrics *o)
{
    const int N = h->N;
    double *pos = malloc((size_t)N * sizeof *pos), *neg = malloc((size_t)N * sizeof *neg);
    double *margin = malloc((size_t)N * sizeof *margin), *sorted = malloc((size_t)N * sizeof *sorted);
    int rc = pos && neg && margin && sorted ? 0 : -1;
    double compact = 0, disagree = 0, gce = 0, gbce = 0;
    o->neg_max = -INFINITY;
    for (int i = 0; rc == 0 && i < N; i++) {
        pos[i] = h->s4[4 * i], neg[i] = h->s4[4 * i + 1];
        margin[i] = pos[i] - neg[i];
        compact += h->s4[4 * i + 2];
        disagree += h->s4[4 * i + 3];
        gce += h->gn[i], gbce += h->gn[N + i];
        o->neg_max = fmax(o->neg_max, neg[i]);
    }
    if (rc == 0) {
        o->compact = compact / N, o->nc4 = disagree / N;
        o->grad_ce = gce / N, o->grad_bce = gbce / N;
        memcpy(sorted, pos, (size_t)N * sizeof *sorted);
        qsort(sorted, (size_t)N, sizeof *sorted, cmp_double);
        o->pos_min = sorted[0], o->pos_p5 = nn_percentile(sorted, N, 0.05), o->pos_mean = mean_of(pos, N);
        o->gap = o->pos_min - o->neg_max;
        memcpy(sorted, margin, (size_t)N * sizeof *sorted);
        qsort(sorted, (size_t)N, sizeof *sorted, cmp_double);
        o->margin_min = sorted[0], o->margin_p5 = nn_percentile(sorted, N, 0.05);
        o->margin_median = nn_percentile(sorted, N, 0.5), o->margin_mean = mean_of(margin, N);
        o->uacc_at_bias = nn_uniform_accuracy_at(pos, neg, N, o->bias / gamma);
        rc = nn_uniform_accuracy(pos, neg, N, &o->uacc, &o->uacc_threshold);
    }
    free(pos), free(neg), free(margin), free(sorted);
    return rc;
}

static double equinorm(const double *norms, int n)
{
    const double mean = mean_of(norms, n);
    double var = 0;
    for (int i = 0; i < n; i++) var += (norms[i] - mean) * (norms[i] - mean) / n;
    return mean > 0 ? sqrt(var) / mean : NAN;
}

/* || G/||G||_F - (I - 11^T/n)/sqrt(n-1) ||_F for the n x n Gram matrix of the rows of x (n x d). */
static double etf_deviation(const double *x, int n, int d)
{
    double *g = malloc((size_t)n * n * sizeof *g), fro = 0, dev = 0;
    if (!g || n < 2) {
        free(g);
        return NAN;
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += x[(size_t)a * d + j] * x[(size_t)b * d + j];
            g[(size_t)a * n + b] = s;
            fro += s * s;
        }
    fro = sqrt(fro);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            const double want = ((a == b) - 1.0 / n) / sqrt(n - 1.0);
            const double t = (fro > 0 ? g[(size_t)a * n + b] / fro : 0) - want;
            dev += t * t;
        }
    free(g);
    return sqrt(dev);
}

static double frobenius(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

/* Smallest and mean angle (degrees) between the normalized means of the classes present. */
static void class_angles(const nn_metrics_host *h, nn_split_metrics *o)
{
    const int K = h->K, d = h->d;
    double amin = INFINITY, asum = 0;
    int pairs = 0;
    for (int k = 0; k < K; k++)
        for (int l = k + 1; l < K && nn_metrics_class_count(h, k) > 0; l++) {
            if (nn_metrics_class_count(h, l) == 0) continue;
            double c = 0;
            for (int j = 0; j < d; j++) c += h->muhat[(size_t)k * d + j] * h->muhat[(size_t)l * d + j];
            const double angle = acos(fmin(1.0, fmax(-1.0, c))) * RAD_TO_DEG;
            amin = fmin(amin, angle), asum += angle, pairs++;
        }
    o->sep_min_deg = pairs ? amin : NAN;
    o->sep_mean_deg = pairs ? asum / pairs : NAN;
}

/* || A/||A||_F - B/||B||_F ||_F over n values */
static double scaled_distance(const double *a, const double *b, size_t n)
{
    const double fa = frobenius(a, n), fb = frobenius(b, n);
    double dev = 0;
    for (size_t i = 0; i < n; i++) {
        const double t = (fa > 0 ? a[i] / fa : 0) - (fb > 0 ? b[i] / fb : 0);
        dev += t * t;
    }
    return sqrt(dev);
}

/* NC1, NC2 (features and weights) and NC3 over the classes present (P rows of cm and wp). */
static int collapse_figures(const nn_metrics_host *h, const double *cm, const double *wp,
                            const double *wall, const double *sw, double *norms, nn_split_metrics *o)
{
    const int K = h->K, d = h->d, P = h->present;
    for (int p = 0; p < P; p++) norms[p] = frobenius(cm + (size_t)p * d, (size_t)d);
    o->nc2_equinorm_h = P >= 2 ? equinorm(norms, P) : NAN;
    o->nc2_etf_h = etf_deviation(cm, P, d);
    for (int k = 0; k < K; k++) norms[k] = frobenius(wall + (size_t)k * d, (size_t)d);
    o->nc2_equinorm_w = equinorm(norms, K);
    o->nc2_etf_w = etf_deviation(wall, K, d);
    o->nc3 = P >= 1 ? scaled_distance(wp, cm, (size_t)P * d) : NAN;
    o->nc1 = NAN;
    return P >= 2 && nn_nc1(sw, cm, d, P, NC1_RCOND, &o->nc1) != 0 ? -2 : 0;
}

/* Angles between normalized class means, NC1, NC2 and NC3 over the classes present. */
int nn_metrics_geometry_figures(const nn_metrics_host *h, nn_split_metrics *o)
{
    const int K = h->K, d = h->d, P = h->present;
    double *cm = malloc((size_t)P * d * sizeof *cm), *wp = malloc((size_t)P * d * sizeof *wp);
    double *wall = malloc((size_t)K * d * sizeof *wall), *norms = malloc((size_t)K * sizeof *norms);
    double *sw = malloc((size_t)d * d * sizeof *sw);
    int rc = cm && wp && wall && norms && sw ? 0 : -1;
    if (rc == 0) {
        for (int i = 0; i < K * d; i++) wall[i] = h->w[i];
        for (int i = 0; i < d * d; i++) sw[i] = h->sw[i];
        for (int k = 0, p = 0; k < K; k++) { /* the classes present, in order */
            if (nn_metrics_class_count(h, k) == 0) continue;
            memcpy(cm + (size_t)p * d, h->centered + (size_t)k * d, (size_t)d * sizeof *cm);
            memcpy(wp + (size_t)p * d, wall + (size_t)k * d, (size_t)d * sizeof *wp);
            p++;
        }
        class_angles(h, o);
        rc = collapse_figures(h, cm, wp, wall, sw, norms, o);
    }
    free(cm), free(wp), free(wall), free(norms), free(sw);
    return rc;
}
