/* net/metrics.c — feature-geometry metrics of a data set (see metrics.h for every definition).
 *
 * Gathering: after each evaluation batch the head's hn (d x n), cosines (n x K), labels and raw
 * feature norms are appended to workspace buffers (one kernel, three copies). Computing, all
 * queued in order on the device with two small synchronous reads in between:
 *   labels -> host: a class-sorted order of the samples (counting sort) goes back up;
 *   class sums S (K x d, fixed order)  -> host: class means mu_k, mu^_k in double, sent back;
 *   D = H^T mu^^T (GEMM): cosines to the normalized class means (compactness, NC4);
 *   per-sample positive / largest negative cosine, NCC disagreement, cosine histograms;
 *   per-sample dl/dcos for CE and BCE, V = G wn (GEMM), ||dl/dh|| through the normalization;
 *   H -= mu_{y_i} in place, S_W = H H^T / N (GEMM);
 * then one read of the per-sample arrays, S_W, the histograms and the raw class weights; the rest
 * (percentiles, margins, uniform accuracy, NC1 with LAPACK, NC2, NC3, angles) runs in double.
 */
#include "metrics.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

#define NORM_EPS 1e-12f   /* as the head's normalization */
#define NC1_RCOND 1e-6
#define RAD_TO_DEG (180.0 / 3.14159265358979323846)

struct nn_metrics_ws {
    int capacity, count, d, K;
    int first_slot, slots, consumed;
    rt_buf *H, *C, *labels, *hnorm;               /* gathered */
    rt_buf *perm, *offs, *S, *MU, *MUHAT, *D, *G, *V, *out4, *gn, *SW, *hist; /* computing */
};

/* ---- workspace ---- */

static rt_status alloc_floats(nn_model *m, size_t n, rt_buf **b)
{
    return rt_alloc(m->rt, (n ? n : 1) * sizeof(float), b);
}

rt_status nn_metrics_ws_create(nn_model *m, int capacity, nn_metrics_ws **out)
{
    *out = NULL;
    if (capacity < 1) return rt_fail(m->rt, RT_E_ARG, "metrics workspace needs a capacity >= 1");
    nn_metrics_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    const size_t N = (size_t)capacity, d = (size_t)m->feature_dim, K = (size_t)m->cfg.classes;
    *ws = (nn_metrics_ws){.capacity = capacity, .d = (int)d, .K = (int)K};
    struct { rt_buf **b; size_t floats; } plan[] = {
        {&ws->H, d * N}, {&ws->C, N * K}, {&ws->labels, N}, {&ws->hnorm, N}, {&ws->perm, N},
        {&ws->offs, K + 1}, {&ws->S, K * d}, {&ws->MU, K * d}, {&ws->MUHAT, K * d},
        {&ws->D, N * K}, {&ws->G, 2 * N * K}, {&ws->V, 2 * N * d}, {&ws->out4, 4 * N},
        {&ws->gn, 2 * N}, {&ws->SW, d * d}, {&ws->hist, 2 * NN_HIST_BINS},
    };
    rt_status s = RT_OK;
    for (size_t i = 0; s == RT_OK && i < sizeof plan / sizeof plan[0]; i++)
        s = alloc_floats(m, plan[i].floats, plan[i].b);
    if (s != RT_OK) {
        nn_metrics_ws_free(m, ws);
        return rt_wrap(m->rt, s, "metrics buffers for %d samples", capacity);
    }
    *out = ws;
    return RT_OK;
}

void nn_metrics_ws_free(nn_model *m, nn_metrics_ws *ws)
{
    if (!ws) return;
    rt_buf *bufs[] = {ws->H, ws->C, ws->labels, ws->hnorm, ws->perm, ws->offs, ws->S, ws->MU,
                      ws->MUHAT, ws->D, ws->G, ws->V, ws->out4, ws->gn, ws->SW, ws->hist};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_free(m->rt, bufs[i]);
    free(ws);
}

void nn_metrics_reset(nn_metrics_ws *ws)
{
    ws->count = ws->slots = ws->consumed = 0;
    ws->first_slot = -1;
}

/* ---- gathering ---- */

/* Appends the head's current batch of n samples (hn, cosines, labels, norms) to the workspace. */
static rt_status append_batch(nn_model *m, nn_metrics_ws *ws, int n)
{
    if (ws->count + n > ws->capacity)
        return rt_fail(m->rt, RT_E_ARG, "metrics workspace holds %d samples; %d more do not fit",
                       ws->capacity, n);
    const size_t K = (size_t)ws->K, at = (size_t)ws->count;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "metrics", "metrics_append", &k);
    if (s == RT_OK)
        s = NN_ELEMS(m, k, (size_t)n * ws->d, RT_BUF(m->hn), RT_I32(n), RT_I32(ws->d),
                     RT_BUF(ws->H), RT_I32(ws->capacity), RT_I32(ws->count));
    if (s == RT_OK)
        s = rt_copy(m->rt, m->cosv, 0, ws->C, at * K * sizeof(float), (size_t)n * K * sizeof(float));
    if (s == RT_OK)
        s = rt_copy(m->rt, m->labels, 0, ws->labels, at * sizeof(int32_t), (size_t)n * sizeof(int32_t));
    if (s == RT_OK)
        s = rt_copy(m->rt, m->hnorm, 0, ws->hnorm, at * sizeof(float), (size_t)n * sizeof(float));
    if (s != RT_OK) return rt_wrap(m->rt, s, "gathering features for the metrics");
    ws->count += n;
    return RT_OK;
}

static rt_status take_slot(nn_model *m, nn_metrics_ws *ws, int slot)
{
    if (slot < 0 || slot >= m->stat_slots || (ws->slots > 0 && slot != ws->first_slot + ws->slots))
        return rt_fail(m->rt, RT_E_ARG, "metrics: statistics slot %d is not the next of %d reserved",
                       slot, m->stat_slots);
    if (ws->slots == 0) ws->first_slot = slot;
    ws->slots++;
    return RT_OK;
}

rt_status nn_metrics_collect(nn_model *m, nn_metrics_ws *ws, nn_data *d, int count, int batch,
                             int first_slot)
{
    nn_metrics_reset(ws);
    if (count < 1 || count > ws->capacity || count > nn_data_count(d) || batch < 1 ||
        batch > m->max_batch)
        return rt_fail(m->rt, RT_E_ARG, "metrics over %d samples in batches of %d: the data has %d, "
                       "the workspace %d, the model's batch is %d", count, batch, nn_data_count(d),
                       ws->capacity, m->max_batch);
    rt_status s = RT_OK;
    for (int first = 0; s == RT_OK && first < count; first += batch) {
        const int n = count - first < batch ? count - first : batch, slot = first_slot + first / batch;
        s = take_slot(m, ws, slot);
        if (s == RT_OK) s = nn_eval_batch(m, d, first, n, slot);
        if (s == RT_OK) s = append_batch(m, ws, n);
    }
    return s;
}

rt_status nn_metrics_collect_features(nn_model *m, nn_metrics_ws *ws, const float *feature,
                                      const int32_t *labels, int n, int slot)
{
    if (n < 1 || n > m->max_batch) return rt_fail(m->rt, RT_E_ARG, "bad batch %d", n);
    rt_status s = take_slot(m, ws, slot);
    if (s == RT_OK)
        s = rt_write(m->rt, m->nodes[m->nnodes - 1].y, 0, feature, (size_t)n * ws->d * sizeof(float));
    if (s == RT_OK) s = rt_write(m->rt, m->labels, 0, labels, (size_t)n * sizeof *labels);
    if (s == RT_OK) s = nn_head_forward(m, n, 0, slot);
    if (s == RT_OK) s = append_batch(m, ws, n);
    return s;
}

/* ---- host pieces ---- */

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

/* ---- computing ---- */

typedef struct host_data {
    int N, K, d, present;
    int32_t *labels, *perm, *offs;
    double *mu, *muG, *centered;  /* K x d class means, d global mean, K x d mu_k - mu_G */
    double *muhat;                /* K x d */
    float *upload;                /* 2 K d: MU, MUHAT as floats */
    float *s4, *gn, *sw, *w;
    int32_t hist[2 * NN_HIST_BINS];
} host_data;

static void host_free(host_data *h)
{
    free(h->labels), free(h->perm), free(h->offs), free(h->mu), free(h->muG), free(h->centered);
    free(h->muhat), free(h->upload), free(h->s4), free(h->gn), free(h->sw), free(h->w);
}

static int host_alloc(host_data *h, int N, int K, int d)
{
    memset(h, 0, sizeof *h);
    h->N = N, h->K = K, h->d = d;
    const size_t Kd = (size_t)K * d;
    h->labels = malloc((size_t)N * sizeof *h->labels);
    h->perm = malloc((size_t)N * sizeof *h->perm);
    h->offs = calloc((size_t)K + 1, sizeof *h->offs);
    h->mu = calloc(Kd, sizeof *h->mu);
    h->muG = calloc((size_t)d, sizeof *h->muG);
    h->centered = calloc(Kd, sizeof *h->centered);
    h->muhat = calloc(Kd, sizeof *h->muhat);
    h->upload = calloc(2 * Kd, sizeof *h->upload);
    h->s4 = malloc((size_t)4 * N * sizeof *h->s4);
    h->gn = malloc((size_t)2 * N * sizeof *h->gn);
    h->sw = malloc((size_t)d * d * sizeof *h->sw);
    h->w = malloc(Kd * sizeof *h->w);
    return h->labels && h->perm && h->offs && h->mu && h->muG && h->centered && h->muhat &&
           h->upload && h->s4 && h->gn && h->sw && h->w ? 0 : -1;
}

/* Reads the labels and uploads a class-sorted order (counting sort, stable) with its offsets. */
static rt_status sort_by_class(nn_model *m, nn_metrics_ws *ws, host_data *h)
{
    rt_status s = rt_read(m->rt, ws->labels, 0, h->labels, (size_t)h->N * sizeof(int32_t));
    if (s != RT_OK) return s;
    for (int i = 0; i < h->N; i++) {
        if (h->labels[i] < 0 || h->labels[i] >= h->K)
            return rt_fail(m->rt, RT_E_ARG, "metrics: sample %d has label %d outside [0, %d)", i,
                           h->labels[i], h->K);
        h->offs[h->labels[i] + 1]++;
    }
    for (int k = 0; k < h->K; k++) {
        h->present += h->offs[k + 1] > 0;
        h->offs[k + 1] += h->offs[k];
    }
    int32_t *next = malloc((size_t)h->K * sizeof *next);
    if (!next) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    memcpy(next, h->offs, (size_t)h->K * sizeof *next);
    for (int i = 0; i < h->N; i++) h->perm[next[h->labels[i]]++] = i;
    free(next);
    s = rt_write(m->rt, ws->perm, 0, h->perm, (size_t)h->N * sizeof(int32_t));
    if (s == RT_OK) s = rt_write(m->rt, ws->offs, 0, h->offs, ((size_t)h->K + 1) * sizeof(int32_t));
    return s;
}

static int class_count(const host_data *h, int k) { return h->offs[k + 1] - h->offs[k]; }

/* Class sums on the device, then means, the global mean and normalized means on the host. */
static rt_status class_means(nn_model *m, nn_metrics_ws *ws, host_data *h)
{
    const int K = h->K, d = h->d;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "metrics", "metrics_class_sums", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)K * d, RT_BUF(ws->H), RT_I32(ws->capacity), RT_I32(d), RT_I32(K),
                     RT_BUF(ws->perm), RT_BUF(ws->offs), RT_BUF(ws->S));
    float *sums = h->upload; /* K x d, overwritten below */
    if (s == RT_OK) s = rt_read(m->rt, ws->S, 0, sums, (size_t)K * d * sizeof(float));
    if (s != RT_OK) return s;
    for (int c = 0; c < K; c++)
        for (int j = 0; j < d; j++) h->muG[j] += sums[(size_t)c * d + j] / h->N;
    for (int c = 0; c < K; c++) {
        const int n = class_count(h, c);
        double *mu = h->mu + (size_t)c * d, *hat = h->muhat + (size_t)c * d, norm = 0;
        for (int j = 0; j < d; j++) {
            mu[j] = n > 0 ? sums[(size_t)c * d + j] / (double)n : 0.0;
            norm += mu[j] * mu[j];
            h->centered[(size_t)c * d + j] = n > 0 ? mu[j] - h->muG[j] : 0.0;
        }
        norm = fmax(sqrt(norm), NORM_EPS);
        for (int j = 0; j < d; j++) hat[j] = mu[j] / norm;
    }
    for (size_t i = 0; i < (size_t)K * d; i++) {
        h->upload[i] = (float)h->mu[i];
        h->upload[(size_t)K * d + i] = (float)h->muhat[i];
    }
    s = rt_write(m->rt, ws->MU, 0, h->upload, (size_t)K * d * sizeof(float));
    if (s == RT_OK)
        s = rt_write(m->rt, ws->MUHAT, 0, h->upload + (size_t)K * d, (size_t)K * d * sizeof(float));
    return s;
}

/* Cosines to the class means, per-sample figures and histograms. */
static rt_status sample_pass(nn_model *m, nn_metrics_ws *ws, int N)
{
    const int K = ws->K, d = ws->d;
    rt_gemm_args g = {1, 1, N, K, d, 1.0f, 0.0f, ws->H, 0, ws->capacity, ws->MUHAT, 0, d, ws->D, 0, K};
    rt_status s = rt_fill_zero(m->rt, ws->hist, 0, 2 * NN_HIST_BINS * sizeof(int32_t));
    if (s == RT_OK) s = rt_gemm(m->rt, &g);
    rt_kernel *k;
    if (s == RT_OK) s = nn_kernel(m, "metrics", "metrics_samples", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)N, RT_BUF(ws->C), RT_BUF(ws->D), RT_BUF(ws->labels), RT_BUF(ws->offs), RT_I32(N),
                     RT_I32(K), RT_BUF(ws->out4), RT_BUF(ws->hist), RT_I32(NN_HIST_BINS));
    return s;
}

/* ||dl_i/dh_i|| for CE and BCE at bias b. */
static rt_status gradient_pass(nn_model *m, nn_metrics_ws *ws, int N, float bias)
{
    const int K = ws->K, d = ws->d;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "metrics", "metrics_loss_dcos", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)N, RT_BUF(ws->C), RT_BUF(ws->labels), RT_I32(N), RT_I32(K),
                     RT_F32(m->cfg.gamma), RT_F32(bias), RT_BUF(ws->G));
    rt_gemm_args g = {0, 0, 2 * N, d, K, 1.0f, 0.0f, ws->G, 0, K, m->wn, 0, d, ws->V, 0, d};
    if (s == RT_OK) s = rt_gemm(m->rt, &g);
    if (s == RT_OK) s = nn_kernel(m, "metrics", "metrics_grad_norms", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)2 * N, RT_BUF(ws->V), RT_BUF(ws->H), RT_I32(ws->capacity),
                     RT_BUF(ws->hnorm), RT_I32(N), RT_I32(d), RT_F32(NORM_EPS), RT_BUF(ws->gn));
    return s;
}

/* S_W = (1/N) sum_i (hn_i - mu_{y_i})(.)^T, centering H in place. */
static rt_status within_pass(nn_model *m, nn_metrics_ws *ws, int N)
{
    const int d = ws->d;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "metrics", "metrics_center", &k);
    if (s == RT_OK)
        s = NN_ELEMS(m, k, (size_t)N * d, RT_BUF(ws->H), RT_I32(ws->capacity), RT_I32(N), RT_I32(d),
                     RT_BUF(ws->MU), RT_BUF(ws->labels));
    rt_gemm_args g = {0, 1, d, d, N, 1.0f / (float)N, 0.0f, ws->H, 0, ws->capacity, ws->H, 0,
                      ws->capacity, ws->SW, 0, d};
    if (s == RT_OK) s = rt_gemm(m->rt, &g);
    return s;
}

static rt_status read_results(nn_model *m, nn_metrics_ws *ws, host_data *h)
{
    const size_t N = (size_t)h->N, d = (size_t)h->d, K = (size_t)h->K;
    rt_status s = rt_read(m->rt, ws->out4, 0, h->s4, 4 * N * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->gn, 0, h->gn, 2 * N * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->SW, 0, h->sw, d * d * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->hist, 0, h->hist, sizeof h->hist);
    if (s == RT_OK) s = rt_read(m->rt, m->params[m->head_w].value, 0, h->w, K * d * sizeof(float));
    return s;
}

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
static int sample_figures(const host_data *h, double gamma, nn_split_metrics *o)
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
static void class_angles(const host_data *h, nn_split_metrics *o)
{
    const int K = h->K, d = h->d;
    double amin = INFINITY, asum = 0;
    int pairs = 0;
    for (int k = 0; k < K; k++)
        for (int l = k + 1; l < K && class_count(h, k) > 0; l++) {
            if (class_count(h, l) == 0) continue;
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
static int collapse_figures(const host_data *h, const double *cm, const double *wp,
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
static int geometry_figures(const host_data *h, nn_split_metrics *o)
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
            if (class_count(h, k) == 0) continue;
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

static rt_status losses(nn_model *m, nn_metrics_ws *ws, nn_split_metrics *o)
{
    nn_stats st;
    rt_status s = nn_stats_sum(m, ws->first_slot, ws->slots, &st);
    if (s != RT_OK) return s;
    o->ce = st.ce / st.count, o->bce = st.bce / st.count, o->acc = st.correct / st.count;
    float b = 0;
    s = nn_model_bias(m, &b);
    o->bias = b;
    return s;
}

rt_status nn_metrics_compute(nn_model *m, nn_metrics_ws *ws, nn_split_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (ws->count < 1 || ws->consumed)
        return rt_fail(m->rt, RT_E_ARG, "metrics: no gathered samples to compute on");
    ws->consumed = 1;
    host_data h;
    if (host_alloc(&h, ws->count, ws->K, ws->d) != 0) {
        host_free(&h);
        return rt_fail(m->rt, RT_E_ALLOC, "out of host memory for the metrics");
    }
    out->count = h.N;
    rt_status s = losses(m, ws, out);
    if (s == RT_OK) s = sort_by_class(m, ws, &h);
    if (s == RT_OK) s = class_means(m, ws, &h);
    if (s == RT_OK) s = sample_pass(m, ws, h.N);
    if (s == RT_OK) s = gradient_pass(m, ws, h.N, (float)out->bias);
    if (s == RT_OK) s = within_pass(m, ws, h.N);
    if (s == RT_OK) s = read_results(m, ws, &h);
    if (s == RT_OK) {
        out->classes_present = h.present;
        memcpy(out->hist_pos, h.hist, sizeof out->hist_pos);
        memcpy(out->hist_neg, h.hist + NN_HIST_BINS, sizeof out->hist_neg);
        const int a = sample_figures(&h, m->cfg.gamma, out);
        const int b = a == 0 ? geometry_figures(&h, out) : a;
        if (b == -2) s = rt_fail(m->rt, RT_E_NUMERIC, "metrics: LAPACK's eigen-decomposition failed");
        else if (b != 0) s = rt_fail(m->rt, RT_E_ALLOC, "out of host memory for the metrics");
    }
    host_free(&h);
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "feature metrics");
}
