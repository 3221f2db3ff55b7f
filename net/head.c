/* net/head.c — the normalized classifier and the dual loss.
 *
 * Forward: hn = h/||h|| (features, d x N), wn = w/||w|| (class weights, K x d), cos = hn^T wn^T
 * (N x K), then the dual-loss kernel: CE and BCE values, accuracy, and the gradient of the loss
 * being trained; loss_reduce sums them into the step's statistics slot. BCE uses one shared bias
 * b (learnable, never weight-decayed, initialized from --bias-init); a CE run keeps b fixed at
 * b*(gamma, K) so that its BCE column is measured at the optimal threshold.
 * Backward: dhn = wn^T dcos^T, dwn = dcos^T hn^T, then through both normalizations.
 */
#include <math.h>

#include "nn_internal.h"
#include "theory.h"

#define NORM_EPS 1e-12f

static rt_status alloc_floats(nn_model *m, size_t n, rt_buf **b)
{
    return rt_alloc(m->rt, n * sizeof(float), b);
}

rt_status nn_head_setup(nn_model *m)
{
    const int K = m->cfg.classes, d = m->feature_dim, N = m->max_batch;
    const int bce = m->cfg.loss == NN_LOSS_BCE;
    rt_status s = nn_param_add(m, "head.w", (size_t)K * d, 1, 1, &m->head_w);
    if (s == RT_OK) s = nn_param_init_uniform(m, m->head_w, 1.0f / sqrtf((float)d));
    if (s == RT_OK) s = nn_param_add(m, "head.b", 1, bce, 0, &m->head_b);
    if (s != RT_OK) return s;
    const float b0 = bce ? m->cfg.bias_init : (float)nn_theory_bce_bias(m->cfg.gamma, K);
    if ((s = rt_write(m->rt, m->params[m->head_b].value, 0, &b0, sizeof b0)) != RT_OK) return s;
    if ((s = alloc_floats(m, (size_t)d * N, &m->hn)) != RT_OK ||
        (s = alloc_floats(m, (size_t)N, &m->hnorm)) != RT_OK ||
        (s = alloc_floats(m, (size_t)K * d, &m->wn)) != RT_OK ||
        (s = alloc_floats(m, (size_t)K, &m->wnorm)) != RT_OK ||
        (s = alloc_floats(m, (size_t)N * K, &m->cosv)) != RT_OK ||
        (s = alloc_floats(m, (size_t)N * K, &m->dcos)) != RT_OK ||
        (s = alloc_floats(m, (size_t)d * N, &m->dhn)) != RT_OK ||
        (s = alloc_floats(m, (size_t)K * d, &m->dwn)) != RT_OK ||
        (s = alloc_floats(m, (size_t)N * 4, &m->sample)) != RT_OK)
        return rt_wrap(m->rt, s, "classifier head");
    return RT_OK;
}

static rt_status normalize(nn_model *m, const rt_buf *x, rt_buf *y, rt_buf *norms, int count,
                           int dim, int stride_e, int stride_v)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "normalize", "l2norm_fwd", &k);
    if (s != RT_OK) return s;
    return NN_ITEMS(m, k, (size_t)count, RT_BUF(x), RT_BUF(y), RT_BUF(norms), RT_I32(count),
                    RT_I32(dim), RT_I32(stride_e), RT_I32(stride_v), RT_F32(NORM_EPS));
}

static rt_status normalize_bwd(nn_model *m, const rt_buf *y, const rt_buf *norms, const rt_buf *dy,
                               rt_buf *dx, int count, int dim, int stride_e, int stride_v)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "normalize", "l2norm_bwd", &k);
    if (s != RT_OK) return s;
    return NN_ITEMS(m, k, (size_t)count, RT_BUF(y), RT_BUF(norms), RT_BUF(dy), RT_BUF(dx),
                    RT_I32(count), RT_I32(dim), RT_I32(stride_e), RT_I32(stride_v),
                    RT_F32(NORM_EPS), RT_I32(0));
}

rt_status nn_head_forward(nn_model *m, int batch, int want_grad, int slot)
{
    const int K = m->cfg.classes, d = m->feature_dim;
    const nn_param *w = &m->params[m->head_w], *b = &m->params[m->head_b];
    const int bce = m->cfg.loss == NN_LOSS_BCE;
    rt_status s = normalize(m, m->nodes[m->nnodes - 1].y, m->hn, m->hnorm, batch, d, batch, 1);
    if (s == RT_OK) s = normalize(m, w->value, m->wn, m->wnorm, K, d, 1, d);
    if (s != RT_OK) return rt_wrap(m->rt, s, "classifier head");
    rt_gemm_args g = {1, 1, batch, K, d, 1.0f, 0.0f, m->hn, 0, batch, m->wn, 0, d, m->cosv, 0, K};
    if ((s = rt_gemm(m->rt, &g)) != RT_OK) return rt_wrap(m->rt, s, "cosines");
    rt_kernel *k;
    if ((s = nn_kernel(m, "dual_loss", "dual_loss", &k)) != RT_OK) return s;
    s = NN_ITEMS(m, k, (size_t)batch, RT_BUF(m->cosv), RT_BUF(m->labels), RT_I32(batch), RT_I32(K),
                 RT_F32(m->cfg.gamma), RT_BUF(b->value), RT_I32(bce), RT_I32(want_grad),
                 RT_BUF(m->dcos), RT_BUF(m->sample));
    if (s != RT_OK) return s;
    if ((s = nn_kernel(m, "dual_loss", "loss_reduce", &k)) != RT_OK) return s;
    size_t one = 1;
    return RT_LAUNCH(m->rt, k, 1, &one, &one, RT_BUF(m->sample), RT_I32(batch), RT_BUF(m->stats),
                     RT_I32(slot), RT_BUF(bce && want_grad ? b->grad : m->sample),
                     RT_I32(bce && want_grad));
}

rt_status nn_head_backward(nn_model *m, int batch)
{
    const int K = m->cfg.classes, d = m->feature_dim;
    const nn_param *w = &m->params[m->head_w];
    rt_gemm_args gh = {1, 1, d, batch, K, 1.0f, 0.0f, m->wn, 0, d, m->dcos, 0, K, m->dhn, 0, batch};
    rt_gemm_args gw = {1, 1, K, d, batch, 1.0f, 0.0f, m->dcos, 0, K, m->hn, 0, batch, m->dwn, 0, d};
    rt_status s = rt_gemm(m->rt, &gh);
    if (s == RT_OK) s = rt_gemm(m->rt, &gw);
    if (s == RT_OK)
        s = normalize_bwd(m, m->hn, m->hnorm, m->dhn, m->nodes[m->nnodes - 1].dy, batch, d, batch, 1);
    if (s == RT_OK) s = normalize_bwd(m, m->wn, m->wnorm, m->dwn, w->grad, K, d, 1, d);
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "classifier head backward");
}
