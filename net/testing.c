/* net/testing.c — see testing.h: direct access to layers, the head and named tensors. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* a node's tensor and where its values lie */
typedef struct laid_tensor { const nn_node *node; rt_plane_layout lay; } laid_tensor;

static int dense(const nn_node *nd, const rt_plane_layout *l)
{
    return l->offset == 0 && l->plane == nd->out.h * nd->out.w && l->pitch == nd->out.w;
}

/* Finds a named tensor: its buffer and its float count for `batch`; laid_out->node is the node
 * whose y or dy it is when that lies in a layout other than the dense one, else NULL. */
static rt_buf *lookup(nn_model *m, const char *name, int batch, size_t *count, laid_tensor *laid_out)
{
    laid_out->node = NULL;
    const size_t K = (size_t)m->cfg.classes;
    if (strcmp(name, "x") == 0 || strcmp(name, "x.grad") == 0) {
        *count = (size_t)batch * m->in.c * m->in.h * m->in.w;
        return name[1] ? m->dx : m->x;
    }
    if (strcmp(name, "cos") == 0 || strcmp(name, "dcos") == 0) {
        *count = (size_t)batch * K;
        return name[0] == 'c' ? m->cosv : m->dcos;
    }
    for (int i = 0; i < m->nparams; i++) {
        nn_param *p = &m->params[i];
        const size_t n = strlen(p->name);
        if (strncmp(name, p->name, n) != 0) continue;
        *count = p->count;
        if (name[n] == 0) return p->value;
        if (strcmp(name + n, ".grad") == 0) return p->grad;
        if (strcmp(name + n, ".momentum") == 0) return p->mom;
    }
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *nd = &m->nodes[i];
        const size_t n = strlen(nd->label);
        if (strncmp(name, nd->label, n) != 0) continue;
        *count = (size_t)batch * nd->out.c * nd->out.h * nd->out.w;
        const int y = strcmp(name + n, ".y") == 0;
        if (!y && strcmp(name + n, ".dy") != 0) continue;
        const rt_plane_layout *l = y ? &nd->ylay : &nd->dylay;
        if (!dense(nd, l)) *laid_out = (laid_tensor){nd, *l};
        return y ? nd->y : nd->dy;
    }
    *count = 0;
    return NULL;
}

size_t nn_test_size(nn_model *m, const char *name, int batch)
{
    size_t n = 0;
    laid_tensor laid;
    return lookup(m, name, batch, &n, &laid) ? n : 0;
}

/* a node's y or dy in its layout read into, or written from, the dense values: the span is read
 * whole, so that a write keeps the zeros between the values */
static rt_status laid_out_copy(nn_model *m, const laid_tensor *t, rt_buf *b, int batch, float *out,
                               const float *in)
{
    const int write = in != NULL;
    const nn_node *nd = t->node;
    const size_t planes = (size_t)batch * nd->out.c, span = planes * t->lay.plane;
    const int H = nd->out.h, W = nd->out.w;
    float *h = malloc(span * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = rt_read(m->rt, b, 0, h, span * sizeof *h);
    for (size_t q = 0; s == RT_OK && q < planes; q++)
        for (int r = 0; r < H; r++) {
            float *laid = h + t->lay.offset + q * t->lay.plane + (size_t)r * t->lay.pitch;
            const size_t d = (q * H + r) * W;
            if (write) memcpy(laid, in + d, (size_t)W * sizeof *h);
            else memcpy(out + d, laid, (size_t)W * sizeof *h);
        }
    if (s == RT_OK && write) s = rt_write(m->rt, b, 0, h, span * sizeof *h);
    free(h);
    return s;
}

rt_status nn_test_read(nn_model *m, const char *name, int batch, float *out)
{
    size_t n = 0;
    laid_tensor laid;
    rt_buf *b = lookup(m, name, batch, &n, &laid);
    if (!b) return rt_fail(m->rt, RT_E_ARG, "no tensor named '%s'", name);
    if (laid.node) return laid_out_copy(m, &laid, b, batch, out, NULL);
    return rt_read(m->rt, b, 0, out, n * sizeof(float));
}

rt_status nn_test_write(nn_model *m, const char *name, int batch, const float *in)
{
    size_t n = 0;
    laid_tensor laid;
    rt_buf *b = lookup(m, name, batch, &n, &laid);
    if (!b) return rt_fail(m->rt, RT_E_ARG, "no tensor named '%s'", name);
    if (laid.node) return laid_out_copy(m, &laid, b, batch, NULL, in);
    return rt_write(m->rt, b, 0, in, n * sizeof(float));
}

const char *nn_test_last_label(const nn_model *m) { return m->nodes[m->nnodes - 1].label; }

int nn_test_stored(nn_model *m, const char *name)
{
    size_t n = 0;
    laid_tensor laid;
    for (int i = 0; i < m->nnodes; i++) {
        const size_t len = strlen(m->nodes[i].label);
        if (strncmp(name, m->nodes[i].label, len) == 0 && strcmp(name + len, ".y") == 0)
            return m->nodes[i].y != NULL;
    }
    return lookup(m, name, 1, &n, &laid) ? 1 : -1;
}

int nn_test_lent_outputs(const nn_model *m)
{
    int n = 0;
    for (int i = 0; i < m->nnodes; i++)
        n += m->nodes[i].y_lent && !(m->nodes[i].fused && m->nodes[i].ops == &nn_layer_relu);
    return n;
}

rt_status nn_test_forward(nn_model *m, const float *x, int batch, int train)
{
    if (batch < 1 || batch > m->max_batch) return rt_fail(m->rt, RT_E_ARG, "bad batch %d", batch);
    rt_status s = nn_test_write(m, "x", batch, x);
    return s == RT_OK ? nn_forward_nodes(m, batch, train) : s;
}

rt_status nn_test_gather(nn_model *m, nn_data *d, int first, int n, int augment, float *x,
                         int32_t *labels)
{
    if (n < 1 || n > m->max_batch || first < 0 || first > nn_data_count(d) - n)
        return rt_fail(m->rt, RT_E_ARG, "bad batch [%d, %d)", first, first + n);
    rt_status s = nn_data_gather(m, d, first, n, augment);
    if (s == RT_OK) s = nn_test_read(m, "x", n, x);
    if (s == RT_OK) s = rt_read(m->rt, m->labels, 0, labels, (size_t)n * sizeof *labels);
    return s;
}

rt_status nn_test_backward(nn_model *m, const float *dy_last, int batch)
{
    char name[64];
    snprintf(name, sizeof name, "%s.dy", nn_test_last_label(m));
    rt_status s = nn_test_write(m, name, batch, dy_last);
    return s == RT_OK ? nn_backward_nodes(m, batch) : s;
}

rt_status nn_test_head(nn_model *m, const float *feature, const int32_t *labels, int batch,
                       int want_grad)
{
    if (batch < 1 || batch > m->max_batch) return rt_fail(m->rt, RT_E_ARG, "bad batch %d", batch);
    char name[64];
    snprintf(name, sizeof name, "%s.y", nn_test_last_label(m));
    rt_status s = nn_test_write(m, name, batch, feature);
    if (s == RT_OK) s = rt_write(m->rt, m->labels, 0, labels, (size_t)batch * sizeof *labels);
    if (s == RT_OK) s = nn_head_forward(m, batch, want_grad, 0);
    if (s == RT_OK && want_grad) s = nn_head_backward(m, batch);
    return s;
}

rt_status nn_test_sgd(nn_model *m, float lr) { return nn_sgd_step(m, lr); }
rt_status nn_test_sgd_each(nn_model *m, float lr) { return nn_sgd_step_as(m, lr, 1); }
int nn_test_packed(const nn_model *m) { return m->sgd_tensors > 0; }
