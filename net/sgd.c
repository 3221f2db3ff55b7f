/* net/sgd.c — one SGD step over every trainable parameter: momentum and weight decay (decay only
 * on convolution, linear and classifier weights; never on batch-norm parameters or the bias). */
#include "nn_internal.h"

rt_status nn_sgd_step(nn_model *m, float lr)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "sgd", "sgd_step", &k);
    if (s != RT_OK) return s;
    for (int i = 0; i < m->nparams; i++) {
        nn_param *p = &m->params[i];
        if (!p->trainable) continue;
        const float wd = p->decay ? m->cfg.weight_decay : 0.0f;
        s = NN_ELEMS(m, k, p->count, RT_BUF(p->value), RT_BUF(p->grad), RT_BUF(p->mom),
                     RT_I32(p->count), RT_F32(lr), RT_F32(m->cfg.momentum), RT_F32(wd));
        if (s != RT_OK) return rt_wrap(m->rt, s, "SGD step of %s", p->name);
    }
    return RT_OK;
}
