/* tests/metrics/mref.c — see mref.h: the reference metrics, slow and obvious. */
#include "mref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static double *dz(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

static int cmp_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* p-quantile with rank p (n - 1), linear in between, of an unsorted array */
static double quantile(const double *x, int n, double p)
{
    double *s = dz((size_t)n);
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    const double r = p * (n - 1);
    const int lo = (int)floor(r), hi = lo + 1 < n ? lo + 1 : lo;
    const double v = s[lo] + (r - lo) * (s[hi] - s[lo]);
    free(s);
    return v;
}

double mref_uniform_accuracy(const double *pos, const double *neg, int n)
{
    double *pts = dz((size_t)2 * n);
    for (int i = 0; i < n; i++) pts[2 * i] = pos[i], pts[2 * i + 1] = neg[i];
    qsort(pts, (size_t)2 * n, sizeof *pts, cmp_d);
    int best = 0;
    for (int a = 0; a + 1 < 2 * n; a++) {
        if (pts[a + 1] == pts[a]) continue;
        const double t = 0.5 * (pts[a] + pts[a + 1]);
        int hit = 0;
        for (int i = 0; i < n; i++) hit += neg[i] < t && t < pos[i];
        if (hit > best) best = hit;
    }
    free(pts);
    return (double)best / n;
}

/* the values of x[] below t, or at most t (x sorted ascending, n of them) */
static int count_below(const double *x, int n, double t, int or_equal)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (x[mid] < t || (or_equal && x[mid] == t)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

double mref_uniform_accuracy_counted(const double *pos, const double *neg, int n)
{
    double *pts = dz((size_t)2 * n), *lo = dz((size_t)n), *hi = dz((size_t)n);
    int m = 0;
    for (int i = 0; i < n; i++) {
        pts[2 * i] = pos[i], pts[2 * i + 1] = neg[i];
        if (neg[i] < pos[i]) lo[m] = neg[i], hi[m] = pos[i], m++;
    }
    qsort(pts, (size_t)2 * n, sizeof *pts, cmp_d);
    qsort(lo, (size_t)m, sizeof *lo, cmp_d);
    qsort(hi, (size_t)m, sizeof *hi, cmp_d);
    int best = 0;
    for (int a = 0; a + 1 < 2 * n; a++) {
        if (pts[a + 1] == pts[a]) continue;
        const double t = 0.5 * (pts[a] + pts[a + 1]);
        /* the intervals opened below t less those closed at or below it (t may round onto an end
         * point when two are adjacent doubles: the same strict test as the brute force) */
        const int hit = count_below(lo, m, t, 0) - count_below(hi, m, t, 1);
        if (hit > best) best = hit;
    }
    free(pts), free(lo), free(hi);
    return (double)best / n;
}

/* inverse of an r x r matrix by Gauss-Jordan with partial pivoting (in place into inv) */
static void invert(double *a, double *inv, int r)
{
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) inv[i * r + j] = i == j;
    for (int c = 0; c < r; c++) {
        int piv = c;
        for (int i = c + 1; i < r; i++)
            if (fabs(a[i * r + c]) > fabs(a[piv * r + c])) piv = i;
        for (int j = 0; j < r; j++) {
            double t = a[c * r + j]; a[c * r + j] = a[piv * r + j]; a[piv * r + j] = t;
            t = inv[c * r + j]; inv[c * r + j] = inv[piv * r + j]; inv[piv * r + j] = t;
        }
        const double p = a[c * r + c];
        for (int j = 0; j < r; j++) a[c * r + j] /= p, inv[c * r + j] /= p;
        for (int i = 0; i < r; i++) {
            if (i == c) continue;
            const double f = a[i * r + c];
            for (int j = 0; j < r; j++) a[i * r + j] -= f * a[c * r + j], inv[i * r + j] -= f * inv[c * r + j];
        }
    }
}

double mref_nc1(const double *sw, const double *centered, int d, int K)
{
    double *q = dz((size_t)K * d), big = 0;
    int r = 0;
    for (int k = 0; k < K; k++) {
        double n = 0;
        for (int j = 0; j < d; j++) n += centered[k * d + j] * centered[k * d + j];
        big = fmax(big, sqrt(n));
    }
    for (int k = 0; k < K; k++) {
        double *v = q + (size_t)r * d;
        memcpy(v, centered + (size_t)k * d, (size_t)d * sizeof *v);
        for (int pass = 0; pass < 2; pass++)
            for (int b = 0; b < r; b++) {
                double p = 0;
                for (int j = 0; j < d; j++) p += v[j] * q[b * d + j];
                for (int j = 0; j < d; j++) v[j] -= p * q[b * d + j];
            }
        double n = 0;
        for (int j = 0; j < d; j++) n += v[j] * v[j];
        n = sqrt(n);
        if (n <= 1e-7 * big) continue;
        for (int j = 0; j < d; j++) v[j] /= n;
        r++;
    }
    if (r == 0) {
        free(q);
        return NAN;
    }
    /* B = Q^T S_B Q (r x r), Wq = Q^T S_W Q */
    double *B = dz((size_t)r * r), *Wq = dz((size_t)r * r), *Bi = dz((size_t)r * r);
    for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++) {
            double sb = 0, swab = 0;
            for (int k = 0; k < K; k++) {
                double pa = 0, pb = 0;
                for (int j = 0; j < d; j++)
                    pa += q[a * d + j] * centered[k * d + j], pb += q[b * d + j] * centered[k * d + j];
                sb += pa * pb / K;
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) swab += q[a * d + i] * sw[i * d + j] * q[b * d + j];
            B[a * r + b] = sb, Wq[a * r + b] = swab;
        }
    invert(B, Bi, r);
    double tr = 0;
    for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++) tr += Wq[a * r + b] * Bi[b * r + a];
    free(q), free(B), free(Wq), free(Bi);
    return tr / K;
}

static double norm_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

static double std_over_mean(const double *x, int n)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i] / n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m) / n;
    return sqrt(v) / m;
}

/* || G/||G|| - (I - J/n)/sqrt(n-1) ||_F for the Gram matrix of the n rows of x */
static double etf_dev(const double *x, int n, int d)
{
    double *g = dz((size_t)n * n), f = 0, dev = 0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += x[a * d + j] * x[b * d + j];
            g[a * n + b] = s;
            f += s * s;
        }
    f = sqrt(f);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            const double t = g[a * n + b] / f - ((a == b) - 1.0 / n) / sqrt(n - 1.0);
            dev += t * t;
        }
    free(g);
    return sqrt(dev);
}

static double softplus(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }
static double sigm(double x) { return 1 / (1 + exp(-x)); }

static void hist_add(int32_t *hist, double c, int *edge)
{
    const float cf = (float)c;
    int b = (int)floorf((cf + 1.0f) * (0.5f * (float)NN_HIST_BINS));
    b = b < 0 ? 0 : b >= NN_HIST_BINS ? NN_HIST_BINS - 1 : b;
    hist[b]++;
    const double x = (c + 1) * 0.5 * NN_HIST_BINS;
    if (fabs(x - floor(x + 0.5)) < 1e-5 * NN_HIST_BINS) (*edge)++;
}

void mref_compute(const mref_input *in, mref_result *out)
{
    const int N = in->N, d = in->d, K = in->K;
    nn_split_metrics *o = &out->m;
    memset(out, 0, sizeof *out);
    double *hn = dz((size_t)N * d), *hnorm = dz((size_t)N), *wn = dz((size_t)K * d);
    double *c = dz((size_t)N * K), *wr = dz((size_t)K * d);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double)in->h[j * N + i] * in->h[j * N + i];
        hnorm[i] = fmax(sqrt(s), 1e-12);
        for (int j = 0; j < d; j++) hn[i * d + j] = in->h[j * N + i] / hnorm[i];
    }
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < d; j++) wr[k * d + j] = in->w[k * d + j];
        const double n = fmax(norm_of(wr + k * d, d), 1e-12);
        for (int j = 0; j < d; j++) wn[k * d + j] = wr[k * d + j] / n;
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += hn[i * d + j] * wn[k * d + j];
            c[i * K + k] = s;
        }
    /* losses, accuracy, gradient norms */
    const double g = in->gamma, b = in->bias;
    double *vce = dz((size_t)d), *vbce = dz((size_t)d);
    for (int i = 0; i < N; i++) {
        const int y = in->labels[i];
        const double *ci = c + i * K;
        int arg = 0;
        double zmax = 0, se = 0;
        for (int k = 0; k < K; k++) {
            if (ci[k] > ci[arg]) arg = k;
            if (k != y) zmax = fmax(zmax, g * (ci[k] - ci[y]));
        }
        for (int k = 0; k < K; k++)
            if (k != y) se += exp(g * (ci[k] - ci[y]) - zmax);
        o->ce += (zmax + log(exp(-zmax) + se)) / N;
        double bce = softplus(b - g * ci[y]);
        for (int k = 0; k < K; k++)
            if (k != y) bce += softplus(g * ci[k] - b);
        o->bce += bce / N;
        o->acc += (double)(arg == y) / N;
        memset(vce, 0, (size_t)d * sizeof *vce);
        memset(vbce, 0, (size_t)d * sizeof *vbce);
        const double den = exp(-zmax) + se;
        for (int k = 0; k < K; k++) {
            const double gce = k == y ? -g * se / den : g * exp(g * (ci[k] - ci[y]) - zmax) / den;
            const double gbce = k == y ? -g * sigm(b - g * ci[y]) : g * sigm(g * ci[k] - b);
            for (int j = 0; j < d; j++) vce[j] += gce * wn[k * d + j], vbce[j] += gbce * wn[k * d + j];
        }
        double pce = 0, pbce = 0, nce = 0, nbce = 0;
        for (int j = 0; j < d; j++) pce += vce[j] * hn[i * d + j], pbce += vbce[j] * hn[i * d + j];
        for (int j = 0; j < d; j++) {
            const double a = vce[j] - pce * hn[i * d + j], e = vbce[j] - pbce * hn[i * d + j];
            nce += a * a, nbce += e * e;
        }
        o->grad_ce += sqrt(nce) / hnorm[i] / N;
        o->grad_bce += sqrt(nbce) / hnorm[i] / N;
    }
    /* class means */
    int *cnt = calloc((size_t)K, sizeof *cnt);
    double *mu = dz((size_t)K * d), *muG = dz((size_t)d), *muhat = dz((size_t)K * d);
    for (int i = 0; i < N; i++) {
        cnt[in->labels[i]]++;
        for (int j = 0; j < d; j++) mu[in->labels[i] * d + j] += hn[i * d + j], muG[j] += hn[i * d + j] / N;
    }
    int P = 0;
    for (int k = 0; k < K; k++) {
        if (!cnt[k]) continue;
        P++;
        for (int j = 0; j < d; j++) mu[k * d + j] /= cnt[k];
        const double n = norm_of(mu + k * d, d);
        for (int j = 0; j < d; j++) muhat[k * d + j] = mu[k * d + j] / n;
    }
    o->count = N, o->classes_present = P, o->bias = b;
    /* per-sample figures */
    double *pos = dz((size_t)N), *neg = dz((size_t)N), *margin = dz((size_t)N);
    o->neg_max = -INFINITY;
    for (int i = 0; i < N; i++) {
        const int y = in->labels[i];
        int arg = 0, ncc = -1;
        double dc[1024];
        neg[i] = -INFINITY;
        for (int k = 0; k < K; k++) {
            dc[k] = 0;
            for (int j = 0; j < d; j++) dc[k] += hn[i * d + j] * muhat[k * d + j];
            if (c[i * K + k] > c[i * K + arg]) arg = k;
            if (cnt[k] && (ncc < 0 || dc[k] > dc[ncc])) ncc = k;
            if (k != y) {
                neg[i] = fmax(neg[i], c[i * K + k]);
                hist_add(o->hist_neg, c[i * K + k], &out->edge_values);
            }
        }
        hist_add(o->hist_pos, c[i * K + y], &out->edge_values);
        int tie = 0;
        for (int k = 0; k < K; k++) {
            tie |= k != arg && fabs(c[i * K + k] - c[i * K + arg]) < 1e-5;
            tie |= cnt[k] && k != ncc && fabs(dc[k] - dc[ncc]) < 1e-5;
        }
        out->near_ties += tie;
        pos[i] = c[i * K + y];
        margin[i] = pos[i] - neg[i];
        o->compact += dc[y] / N;
        o->nc4 += (double)(arg != ncc) / N;
        o->pos_mean += pos[i] / N;
        o->margin_mean += margin[i] / N;
        o->neg_max = fmax(o->neg_max, neg[i]);
    }
    o->pos_min = quantile(pos, N, 0), o->pos_p5 = quantile(pos, N, 0.05);
    o->margin_min = quantile(margin, N, 0), o->margin_p5 = quantile(margin, N, 0.05);
    o->margin_median = quantile(margin, N, 0.5);
    o->gap = o->pos_min - o->neg_max;
    /* every threshold tried against every sample, or counted in sorted end points where that
     * would take too long (the two agree: tests/metrics/test_metrics_host.c) */
    o->uacc = N <= 4096 ? mref_uniform_accuracy(pos, neg, N) : mref_uniform_accuracy_counted(pos, neg, N);
    o->uacc_at_bias = 0;
    for (int i = 0; i < N; i++) o->uacc_at_bias += (double)(neg[i] < b / g && b / g < pos[i]) / N;
    /* geometry over the classes present */
    double *M = dz((size_t)P * d), *Wp = dz((size_t)P * d), *nm = dz((size_t)K);
    double amin = INFINITY, asum = 0;
    int pairs = 0;
    for (int k = 0, p = 0; k < K; k++) {
        if (!cnt[k]) continue;
        for (int j = 0; j < d; j++) M[p * d + j] = mu[k * d + j] - muG[j], Wp[p * d + j] = wr[k * d + j];
        nm[p] = norm_of(M + p * d, d);
        p++;
        for (int l = k + 1; l < K; l++) {
            if (!cnt[l]) continue;
            double s = 0;
            for (int j = 0; j < d; j++) s += muhat[k * d + j] * muhat[l * d + j];
            const double a = acos(fmin(1, fmax(-1, s))) * 180 / PI;
            amin = fmin(amin, a), asum += a, pairs++;
        }
    }
    o->sep_min_deg = amin, o->sep_mean_deg = asum / pairs;
    o->nc2_equinorm_h = std_over_mean(nm, P);
    o->nc2_etf_h = etf_dev(M, P, d);
    for (int k = 0; k < K; k++) nm[k] = norm_of(wr + k * d, d);
    o->nc2_equinorm_w = std_over_mean(nm, K);
    o->nc2_etf_w = etf_dev(wr, K, d);
    const double fm = norm_of(M, P * d), fw = norm_of(Wp, P * d);
    double dev = 0;
    for (int i = 0; i < P * d; i++) dev += (Wp[i] / fw - M[i] / fm) * (Wp[i] / fw - M[i] / fm);
    o->nc3 = sqrt(dev);
    double *sw = dz((size_t)d * d);
    for (int i = 0; i < N; i++) {
        const int y = in->labels[i];
        for (int a = 0; a < d; a++)
            for (int e = 0; e < d; e++)
                sw[a * d + e] += (hn[i * d + a] - mu[y * d + a]) * (hn[i * d + e] - mu[y * d + e]) / N;
    }
    o->nc1 = mref_nc1(sw, M, d, P);
    free(hn), free(hnorm), free(wn), free(c), free(wr), free(vce), free(vbce), free(cnt), free(mu);
    free(muG), free(muhat), free(pos), free(neg), free(margin), free(M), free(Wp), free(nm), free(sw);
}
