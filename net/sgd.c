/* net/sgd.c — one SGD step over every trainable parameter: momentum and weight decay (decay only
 * on convolution, linear and classifier weights; never on batch-norm parameters or the bias),
 * and the record of the first step that made (or found) each parameter tensor non-finite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

rt_status nn_model_set_step(nn_model *m, long long steps_done)
{
    m->steps_done = steps_done;
    return RT_OK;
}

rt_status nn_model_nonfinite(nn_model *m, nn_nonfinite *out)
{
    memset(out, 0, sizeof *out);
    int *h = malloc(2 * (size_t)m->nparams * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = rt_read(m->rt, m->bad, 0, h, 2 * (size_t)m->nparams * sizeof *h);
    /* a tensor that was already non-finite is the cause; one that an update broke comes next */
    for (int kind = 1; s == RT_OK && kind >= 0 && !out->step; kind--)
        for (int i = 0; i < m->nparams; i++) {
            const int v = h[kind * m->nparams + i];
            if (v > 0 && (!out->step || v < out->step)) {
                out->step = v;
                out->already = kind;
                snprintf(out->param, sizeof out->param, "%s", m->params[i].name);
            }
        }
    free(h);
    return s;
}

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
                     RT_I32(p->count), RT_F32(lr), RT_F32(m->cfg.momentum), RT_F32(wd),
                     RT_BUF(m->bad), RT_I32(i), RT_I32(m->nparams), RT_I32(m->steps_done + 1));
        if (s != RT_OK) return rt_wrap(m->rt, s, "SGD step of %s", p->name);
    }
    m->steps_done++;
    return RT_OK;
}
