/* net/sgd.c — one SGD step over every trainable parameter: momentum and weight decay (decay only
 * on convolution, linear and classifier weights; never on batch-norm parameters or the bias),
 * and the record of the first step that made (or found) each parameter tensor non-finite. The
 * trainable tensors live in one buffer each of values, gradients and momenta, so that one launch
 * steps them all (a step of cnn5 was 16 launches, of resnet18 62). */
#include <limits.h>
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

static size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

rt_status nn_sgd_pack(nn_model *m)
{
    const size_t align = rt_view_align(m->rt), chunk = (size_t)rt_device_params(m->rt)->chunk;
    int table[5 * NN_MAX_PARAMS], nt = 0;
    size_t bytes = 0, chunks = 0;
    for (int i = 0; i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        if (!p->trainable) continue;
        int *row = table + 5 * nt++;
        row[0] = (int)(bytes / sizeof(float)), row[1] = (int)p->count, row[2] = p->decay, row[3] = i;
        row[4] = (int)chunks;
        bytes += round_up(p->count * sizeof(float), align);
        chunks += (p->count + chunk - 1) / chunk;
        if (bytes / sizeof(float) > INT_MAX || chunks > INT_MAX) return RT_OK; /* stays tensor by tensor */
    }
    if (nt == 0 || bytes > rt_device(m->rt)->max_alloc) return RT_OK;
    rt_status s = RT_OK;
    for (int b = 0; b < 3 && s == RT_OK; b++) s = rt_alloc(m->rt, bytes, &m->packed[b]);
    if (s == RT_OK) s = rt_alloc(m->rt, sizeof(int) * 5 * (size_t)nt, &m->sgd_table);
    if (s == RT_OK) s = rt_write(m->rt, m->sgd_table, 0, table, sizeof(int) * 5 * (size_t)nt);
    for (int t = 0; t < nt && s == RT_OK; t++) {
        nn_param *p = &m->params[table[5 * t + 3]];
        rt_buf **old[3] = {&p->value, &p->grad, &p->mom};
        const size_t off = (size_t)table[5 * t] * sizeof(float), len = p->count * sizeof(float);
        for (int b = 0; b < 3 && s == RT_OK; b++) {
            rt_buf *view;
            if ((s = rt_view(m->rt, m->packed[b], off, len, &view)) == RT_OK &&
                (s = rt_copy(m->rt, *old[b], 0, view, 0, len)) == RT_OK) {
                rt_discard(m->rt, *old[b]);
                *old[b] = view;
            } else if (s == RT_OK) {
                rt_free(m->rt, view);
            }
        }
    }
    if (s != RT_OK) return rt_wrap(m->rt, s, "packing the parameters into one buffer");
    m->sgd_tensors = nt, m->sgd_chunks = (int)chunks;
    return RT_OK;
}

void nn_sgd_unpack_free(nn_model *m)
{
    for (int b = 0; b < 3; b++) rt_free(m->rt, m->packed[b]);
    rt_free(m->rt, m->sgd_table);
}

/* one launch over the packed tensors */
static rt_status step_packed(nn_model *m, float lr)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "sgd", "sgd_step_packed", &k);
    if (s != RT_OK) return s;
    s = NN_ITEMS(m, k, (size_t)m->sgd_chunks, RT_BUF(m->packed[0]), RT_BUF(m->packed[1]),
                 RT_BUF(m->packed[2]), RT_BUF(m->sgd_table), RT_I32(m->sgd_tensors),
                 RT_I32(m->sgd_chunks), RT_F32(lr), RT_F32(m->cfg.momentum),
                 RT_F32(m->cfg.weight_decay), RT_BUF(m->bad), RT_I32(m->nparams),
                 RT_I32(m->steps_done + 1));
    return s == RT_OK ? RT_OK : rt_wrap(m->rt, s, "SGD step");
}

/* a launch per tensor: a model whose tensors are not packed */
static rt_status step_each(nn_model *m, float lr)
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
    return RT_OK;
}

rt_status nn_sgd_step_as(nn_model *m, float lr, int each)
{
    rt_status s = m->sgd_tensors > 0 && !each ? step_packed(m, lr) : step_each(m, lr);
    if (s == RT_OK) m->steps_done++;
    return s;
}

rt_status nn_sgd_step(nn_model *m, float lr) { return nn_sgd_step_as(m, lr, 0); }
