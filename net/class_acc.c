/* net/class_acc.c — per-class accuracy of evaluation passes (device counters fed by nn_eval_batch)
 * and the long-tailed shot groups on the host; see class_acc.h for the definitions. */
#include "class_acc.h"

#include <math.h>
#include <stdlib.h>

#include "nn_internal.h"

const char *const nn_shot_names[NN_SHOTS] = {"many", "medium", "few"};

/* ---- device counters ---- */

static size_t counter_bytes(const nn_model *m) { return 2 * (size_t)m->cfg.classes * sizeof(int32_t); }

rt_status nn_class_counts_begin(nn_model *m)
{
    m->pred_out = NULL, m->pred_cap = 0, m->pred_n = 0;
    rt_status s = RT_OK;
    if (!m->class_counts) s = rt_alloc(m->rt, counter_bytes(m), &m->class_counts);
    if (s == RT_OK) s = rt_fill_zero(m->rt, m->class_counts, 0, counter_bytes(m));
    m->class_counts_on = s == RT_OK;
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "per-class counters");
}

rt_status nn_class_counts_begin_pred(nn_model *m, int32_t *pred, int capacity)
{
    if (!pred || capacity < 0) return rt_fail(m->rt, RT_E_ARG, "predictions: no room given");
    rt_status s = nn_class_counts_begin(m);
    if (s != RT_OK) return s;
    const size_t bytes = (size_t)(capacity > 0 ? capacity : 1) * sizeof(int32_t);
    if (m->pred && rt_buf_size(m->pred) < bytes) {
        rt_free(m->rt, m->pred);
        m->pred = NULL;
    }
    if (!m->pred && (s = rt_alloc(m->rt, bytes, &m->pred)) != RT_OK) {
        m->class_counts_on = 0;
        return rt_wrap(m->rt, s, "the test pass's predictions");
    }
    m->pred_out = pred, m->pred_cap = capacity;
    return RT_OK;
}

/* the batch's predictions into the device buffer after those of the batches before (no wait:
 * nn_class_counts_end reads them all at once) */
static rt_status add_predictions(nn_model *m, int n)
{
    if (m->pred_n + n > m->pred_cap)
        return rt_fail(m->rt, RT_E_ARG, "predictions: %d samples evaluated, room for %d",
                       m->pred_n + n, m->pred_cap);
    rt_kernel *k;
    rt_status s = nn_kernel(m, "dual_loss", "predictions", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)n, RT_BUF(m->cosv), RT_I32(n), RT_I32(m->cfg.classes), RT_BUF(m->pred),
                     RT_I32(m->pred_n));
    if (s == RT_OK) m->pred_n += n;
    return s;
}

rt_status nn_class_counts_add(nn_model *m, int n)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "dual_loss", "class_counts", &k);
    if (s == RT_OK)
        s = NN_ITEMS(m, k, (size_t)m->cfg.classes, RT_BUF(m->sample), RT_BUF(m->labels), RT_I32(n),
                     RT_I32(m->cfg.classes), RT_BUF(m->class_counts));
    return s == RT_OK && m->pred_out ? add_predictions(m, n) : s;
}

rt_status nn_class_counts_end(nn_model *m, int32_t *correct, int32_t *count)
{
    if (!m->class_counts_on)
        return rt_fail(m->rt, RT_E_ARG, "per-class counts read without nn_class_counts_begin");
    m->class_counts_on = 0;
    int32_t *pred = m->pred_out;
    m->pred_out = NULL;
    const int K = m->cfg.classes;
    int32_t *h = malloc(counter_bytes(m));
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = rt_read(m->rt, m->class_counts, 0, h, counter_bytes(m));
    if (s == RT_OK && pred && m->pred_n > 0)
        s = rt_read(m->rt, m->pred, 0, pred, (size_t)m->pred_n * sizeof *pred);
    for (int c = 0; s == RT_OK && c < K; c++) count[c] = h[2 * c], correct[c] = h[2 * c + 1];
    free(h);
    return s;
}

/* ---- host ---- */

void nn_class_sizes(const int32_t *labels, int n, int K, int *counts)
{
    for (int k = 0; k < K; k++) counts[k] = 0;
    for (int i = 0; i < n; i++)
        if (labels[i] >= 0 && labels[i] < K) counts[labels[i]]++;
}

void nn_class_accuracy(const int32_t *correct, const int32_t *count, int K, double *acc)
{
    for (int k = 0; k < K; k++) acc[k] = count[k] ? (double)correct[k] / count[k] : NAN;
}

int nn_shot_group(const nn_shot_groups *g, int n)
{
    return n > g->many_above ? NN_SHOT_MANY : n < g->few_below ? NN_SHOT_FEW : NN_SHOT_MEDIUM;
}

void nn_shot_groups_compute(const int *train_counts, const int32_t *correct, const int32_t *count,
                            int K, nn_shot_groups *g)
{
    *g = (nn_shot_groups){0};
    for (int k = 0; k < K; k++)
        if (train_counts[k] > g->n_max) g->n_max = train_counts[k];
    g->many_above = g->n_max / 5.0, g->few_below = g->n_max / 25.0;
    for (int k = 0; k < K; k++) {
        const int s = nn_shot_group(g, train_counts[k]);
        g->classes[s]++;
        g->correct[s] += correct[k], g->count[s] += count[k];
    }
    for (int s = 0; s < NN_SHOTS; s++) g->acc[s] = g->count[s] ? (double)g->correct[s] / g->count[s] : NAN;
}
