/* net/probe.c — see probe.h: a model run in evaluation mode on host-supplied samples, with the
 * normalized features, the cosines and the input gradient read back, and the class weights.
 *
 * A probe is an evaluation step (batch norm on its running statistics, which it leaves as they
 * are) followed, when the input gradient is asked for, by the head's and the layers' backward
 * passes. Those passes write the parameter-gradient buffers (and, in a BCE run, the bias
 * gradient that loss_reduce writes) exactly as a training step would, but no optimizer step
 * follows: parameters, running statistics and momentum stay untouched, and the next training
 * step overwrites those gradients before it uses them. The dual-loss kernel scales its gradient
 * by 1/n, so dx is the gradient of the batch's mean trained loss.
 */
#include "probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* the epsilon of the head's normalization (head.c's NORM_EPS): n = max(||w||, eps) */
#define PROBE_NORM_EPS 1e-12

static rt_status check_probe(nn_model *m, const float *x, const int32_t *labels, int n, int slot,
                             const nn_probe_out *out)
{
    if (!x || !labels || !out)
        return rt_fail(m->rt, RT_E_ARG, "nn_probe_batch needs inputs, labels and an output");
    if (n < 1 || n > m->max_batch)
        return rt_fail(m->rt, RT_E_ARG, "probe batch of %d samples: must be 1 to the model's "
                       "batch %d", n, m->max_batch);
    if (slot < 0 || slot >= m->stat_slots)
        return rt_fail(m->rt, RT_E_ARG, "statistics slot %d outside the %d reserved", slot,
                       m->stat_slots);
    if (out->dx && !m->dx)
        return rt_fail(m->rt, RT_E_ARG, "the input gradient needs a model made with "
                       "cfg.input_grad = 1");
    const nn_node *last = &m->nodes[m->nnodes - 1];
    if (last->out.h != 1 || last->out.w != 1)
        return rt_fail(m->rt, RT_E_ARG, "the model's last layer %s outputs a %dx%dx%d map, not "
                       "the feature vector the head reads", last->label, last->out.c,
                       last->out.h, last->out.w);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->cfg.classes)
            return rt_fail(m->rt, RT_E_ARG, "label %d of sample %d outside the %d classes",
                           (int)labels[i], i, m->cfg.classes);
    return RT_OK;
}

/* src is `outer` blocks of `inner` blocks of `len` floats; dst gets them with the two block
 * levels swapped (n x C x HW <-> C x n x HW, and n x d <-> d x n with len = 1) */
static void swap_blocks(const float *src, float *dst, size_t outer, size_t inner, size_t len)
{
    for (size_t a = 0; a < outer; a++)
        for (size_t b = 0; b < inner; b++)
            memcpy(dst + (b * outer + a) * len, src + (a * inner + b) * len, len * sizeof *dst);
}

rt_status nn_probe_batch(nn_model *m, const float *x, const int32_t *labels, int n, int slot,
                         nn_probe_out *out)
{
    rt_status s = check_probe(m, x, labels, n, slot, out);
    if (s != RT_OK) return s;
    const size_t C = (size_t)m->in.c, HW = (size_t)m->in.h * m->in.w, N = (size_t)n;
    const size_t K = (size_t)m->cfg.classes, d = (size_t)m->feature_dim;
    const size_t nx = N * C * HW;
    size_t scratch_n = nx;
    if (d * N > scratch_n) scratch_n = d * N;
    float *scratch = malloc(scratch_n * sizeof *scratch);
    if (!scratch) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");

    swap_blocks(x, scratch, N, C, HW);
    s = rt_write(m->rt, m->x, 0, scratch, nx * sizeof *scratch);
    if (s == RT_OK) s = rt_write(m->rt, m->labels, 0, labels, N * sizeof *labels);
    if (s == RT_OK) s = nn_forward_nodes(m, n, 0);
    if (s == RT_OK) s = nn_head_forward(m, n, out->dx != NULL, slot);
    if (s == RT_OK && out->dx) {
        s = nn_head_backward(m, n);
        if (s == RT_OK) s = nn_backward_nodes(m, n);
        /* every layer path reaches the input, but never hand back stale values */
        if (s == RT_OK && !m->dx_written) s = rt_fill_zero(m->rt, m->dx, 0, nx * sizeof(float));
        if (s == RT_OK) s = rt_read(m->rt, m->dx, 0, scratch, nx * sizeof *scratch);
        if (s == RT_OK) swap_blocks(scratch, out->dx, C, N, HW);
    }
    if (s == RT_OK && out->hn) {
        s = rt_read(m->rt, m->hn, 0, scratch, d * N * sizeof *scratch);
        if (s == RT_OK) swap_blocks(scratch, out->hn, d, N, 1);
    }
    if (s == RT_OK && out->cos) s = rt_read(m->rt, m->cosv, 0, out->cos, N * K * sizeof *out->cos);
    free(scratch);
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "probe of %d samples", n);
}

rt_status nn_probe_class_weights(nn_model *m, float *raw, float *normalized)
{
    const size_t K = (size_t)m->cfg.classes, d = (size_t)m->feature_dim;
    if (!raw && !normalized) return RT_OK;
    float *w = raw ? raw : malloc(K * d * sizeof *w);
    if (!w) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = rt_read(m->rt, m->params[m->head_w].value, 0, w, K * d * sizeof *w);
    if (s == RT_OK && normalized)
        for (size_t k = 0; k < K; k++) {
            const float *wk = w + k * d;
            double ss = 0;
            for (size_t j = 0; j < d; j++) ss += (double)wk[j] * wk[j];
            const double norm = fmax(sqrt(ss), PROBE_NORM_EPS);
            for (size_t j = 0; j < d; j++) normalized[k * d + j] = (float)(wk[j] / norm);
        }
    if (!raw) free(w);
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "reading the class weights");
}
