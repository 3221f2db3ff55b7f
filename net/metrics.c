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
 * (percentiles, margins, uniform accuracy, NC1 with LAPACK, NC2, NC3, angles) runs in double in
 * metrics_host.c.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "nn_internal.h"

#define NORM_EPS 1e-12f   /* as the head's normalization */
/* Class sums run over segments of at most this many samples of one class, a work-item each, and
 * add up on the host in order: some drivers end a work-item's loops after 65535 iterations in all
 * (llvmpipe, without an error), which one work-item per class would pass at 65536 samples. */
#define CLASS_SEGMENT 4096

/* segments for n samples in K classes: class k takes ceil(n_k / CLASS_SEGMENT), at most
 * n_k / CLASS_SEGMENT + 1 */
static size_t max_segments(size_t n, size_t K) { return n / CLASS_SEGMENT + K; }

struct nn_metrics_ws {
    int capacity, count, d, K;
    int first_slot, slots, consumed;
    rt_buf *H, *C, *labels, *hnorm;               /* gathered */
    rt_buf *perm, *offs, *seg, *S, *MU, *MUHAT, *D, *G, *V, *out4, *gn, *SW, *hist; /* computing */
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
        {&ws->offs, K + 1}, {&ws->seg, max_segments(N, K) + 1}, {&ws->S, max_segments(N, K) * d},
        {&ws->MU, K * d}, {&ws->MUHAT, K * d},
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
    rt_buf *bufs[] = {ws->H, ws->C, ws->labels, ws->hnorm, ws->perm, ws->offs, ws->seg, ws->S, ws->MU,
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

/* ---- computing ---- */

static void host_free(nn_metrics_host *h)
{
    free(h->labels), free(h->perm), free(h->offs), free(h->mu), free(h->muG), free(h->centered);
    free(h->muhat), free(h->upload), free(h->s4), free(h->gn), free(h->sw), free(h->w);
    free(h->seg), free(h->cseg), free(h->segsum);
}

static int host_alloc(nn_metrics_host *h, int N, int K, int d)
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
    const size_t segs = max_segments((size_t)N, (size_t)K);
    h->seg = malloc((segs + 1) * sizeof *h->seg);
    h->cseg = malloc(((size_t)K + 1) * sizeof *h->cseg);
    h->segsum = malloc(segs * d * sizeof *h->segsum);
    return h->labels && h->perm && h->offs && h->mu && h->muG && h->centered && h->muhat &&
           h->upload && h->s4 && h->gn && h->sw && h->w && h->seg && h->cseg && h->segsum ? 0 : -1;
}

/* Reads the labels and uploads a class-sorted order (counting sort, stable) with its offsets and
 * its segments (runs of at most CLASS_SEGMENT samples of one class; class k's are cseg[k] ..
 * cseg[k+1] - 1). */
static rt_status sort_by_class(nn_model *m, nn_metrics_ws *ws, nn_metrics_host *h)
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
    h->nseg = 0;
    for (int k = 0; k < h->K; k++) {
        h->cseg[k] = h->nseg;
        for (int p = h->offs[k]; p < h->offs[k + 1]; p += CLASS_SEGMENT) h->seg[h->nseg++] = p;
    }
    h->cseg[h->K] = h->nseg;
    h->seg[h->nseg] = h->N;
    s = rt_write(m->rt, ws->perm, 0, h->perm, (size_t)h->N * sizeof(int32_t));
    if (s == RT_OK) s = rt_write(m->rt, ws->offs, 0, h->offs, ((size_t)h->K + 1) * sizeof(int32_t));
    if (s == RT_OK) s = rt_write(m->rt, ws->seg, 0, h->seg, ((size_t)h->nseg + 1) * sizeof(int32_t));
    return s;
}

/* Segment sums on the device, then class sums (each class's segments in order), means, the
 * global mean and normalized means on the host. */
static rt_status class_means(nn_model *m, nn_metrics_ws *ws, nn_metrics_host *h)
{
    const int K = h->K, d = h->d;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "metrics", "metrics_class_sums", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)h->nseg * d, RT_BUF(ws->H), RT_I32(ws->capacity), RT_I32(d),
                     RT_I32(h->nseg), RT_BUF(ws->perm), RT_BUF(ws->seg), RT_BUF(ws->S));
    if (s == RT_OK) s = rt_read(m->rt, ws->S, 0, h->segsum, (size_t)h->nseg * d * sizeof(float));
    if (s != RT_OK) return s;
    for (int c = 0; c < K; c++) /* h->mu: the class sums first */
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int t = h->cseg[c]; t < h->cseg[c + 1]; t++) sum += h->segsum[(size_t)t * d + j];
            h->mu[(size_t)c * d + j] = sum;
            h->muG[j] += sum / h->N;
        }
    for (int c = 0; c < K; c++) {
        const int n = nn_metrics_class_count(h, c);
        double *mu = h->mu + (size_t)c * d, *hat = h->muhat + (size_t)c * d, norm = 0;
        for (int j = 0; j < d; j++) {
            mu[j] = n > 0 ? mu[j] / (double)n : 0.0;
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

static rt_status read_results(nn_model *m, nn_metrics_ws *ws, nn_metrics_host *h)
{
    const size_t N = (size_t)h->N, d = (size_t)h->d, K = (size_t)h->K;
    rt_status s = rt_read(m->rt, ws->out4, 0, h->s4, 4 * N * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->gn, 0, h->gn, 2 * N * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->SW, 0, h->sw, d * d * sizeof(float));
    if (s == RT_OK) s = rt_read(m->rt, ws->hist, 0, h->hist, sizeof h->hist);
    if (s == RT_OK) s = rt_read(m->rt, m->params[m->head_w].value, 0, h->w, K * d * sizeof(float));
    return s;
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
    nn_metrics_host h;
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
        const int a = nn_metrics_sample_figures(&h, m->cfg.gamma, out);
        const int b = a == 0 ? nn_metrics_geometry_figures(&h, out) : a;
        if (b == -2) s = rt_fail(m->rt, RT_E_NUMERIC, "metrics: LAPACK's eigen-decomposition failed");
        else if (b != 0) s = rt_fail(m->rt, RT_E_ALLOC, "out of host memory for the metrics");
    }
    host_free(&h);
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "feature metrics");
}
