/* net/grads.c — the gradients of every trainable parameter as one flat vector, and a digest of the
 * parameters' values: what data-parallel training averages over processes between
 * nn_train_grads and nn_sgd_step, and compares across them. */
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* one gradient per trainable value */
size_t nn_grad_count(const nn_model *m) { return nn_model_param_count(m); }

rt_status nn_grads_read(nn_model *m, float *host)
{
    size_t off = 0;
    for (int i = 0; i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        if (!p->trainable) continue;
        rt_status s = rt_read(m->rt, p->grad, 0, host + off, p->count * sizeof *host);
        if (s != RT_OK) return rt_wrap(m->rt, s, "reading the gradient of %s", p->name);
        off += p->count;
    }
    return RT_OK;
}

rt_status nn_grads_write(nn_model *m, const float *host)
{
    size_t off = 0;
    for (int i = 0; i < m->nparams; i++) {
        nn_param *p = &m->params[i];
        if (!p->trainable) continue;
        rt_status s = rt_write(m->rt, p->grad, 0, host + off, p->count * sizeof *host);
        if (s != RT_OK) return rt_wrap(m->rt, s, "writing the gradient of %s", p->name);
        off += p->count;
    }
    return RT_OK;
}

rt_status nn_params_digest(nn_model *m, uint64_t *out)
{
    size_t most = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].trainable && m->params[i].count > most) most = m->params[i].count;
    float *h = malloc((most ? most : 1) * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    uint64_t hash = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
    rt_status s = RT_OK;
    for (int i = 0; i < m->nparams && s == RT_OK; i++) {
        const nn_param *p = &m->params[i];
        if (!p->trainable) continue;
        if ((s = rt_read(m->rt, p->value, 0, h, p->count * sizeof *h)) != RT_OK) {
            s = rt_wrap(m->rt, s, "reading %s", p->name);
            break;
        }
        const unsigned char *b = (const unsigned char *)h;
        for (size_t k = 0; k < p->count * sizeof *h; k++) hash = (hash ^ b[k]) * 0x100000001b3ull;
    }
    free(h);
    *out = hash;
    return s;
}
