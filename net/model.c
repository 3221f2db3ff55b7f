/* net/model.c — building a model from its spec, running forward and backward, and its state.
 *
 * Creation parses the spec, infers shapes, lets every layer set up its parameters (initialized
 * from the seed), and allocates every buffer a step needs, so a step allocates nothing. A training
 * step is queued whole — batch gather, forward, dual loss, backward, SGD — with no read-back
 * (nn_train_grads stops before the SGD step, for data-parallel training: net/grads.c).
 * Gradients of a node read by several layers are summed: the first reader (in backward order)
 * writes, the others add.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "theory.h"

/* ---- launch helpers used by the layers ---- */

rt_status nn_kernel(nn_model *m, const char *program, const char *name, rt_kernel **k)
{
    return rt_kernel_get(m->rt, program, name, k);
}

size_t nn_items(const nn_model *m, size_t n)
{
    const size_t chunk = (size_t)rt_device_params(m->rt)->chunk;
    return (n + chunk - 1) / chunk;
}

rt_status nn_launch_elems(nn_model *m, rt_kernel *k, size_t n, unsigned nargs, const rt_arg *args)
{
    return rt_launch1(m->rt, k, nn_items(m, n), nargs, args);
}

rt_status nn_launch_items(nn_model *m, rt_kernel *k, size_t count, unsigned nargs,
                          const rt_arg *args)
{
    return rt_launch1(m->rt, k, count, nargs, args);
}

rt_status nn_launch_rows(nn_model *m, rt_kernel *k, int rows, int planes, unsigned nargs,
                         const rt_arg *args)
{
    /* groups of about 16 x the table's size: these items are small, and PoCL pays per group */
    const size_t want = 16 * (size_t)rt_device_params(m->rt)->wg;
    size_t l0 = rt_local_size(m->rt, (size_t)rows), l1 = want / l0 ? want / l0 : 1;
    if (l1 > (size_t)planes) l1 = (size_t)planes;
    while (l0 * l1 > 256) l1 /= 2; /* stay within every device's work-group limit */
    size_t gws[2] = {(size_t)rows, (size_t)planes}, lws[2] = {l0, l1 ? l1 : 1};
    return rt_launch(m->rt, k, 2, gws, lws, nargs, args);
}

rt_status nn_launch_channels(nn_model *m, rt_kernel *k, int channels, size_t M, unsigned nargs,
                             const rt_arg *args)
{
    size_t items = nn_items(m, M), wg = (size_t)rt_device_params(m->rt)->wg;
    size_t gws[2] = {items, (size_t)channels}, lws[2] = {wg < items ? wg : items, 1};
    return rt_launch(m->rt, k, 2, gws, lws, nargs, args);
}

/* ---- parameters ---- */

rt_status nn_param_add(nn_model *m, const char *name, size_t count, int trainable, int decay,
                       int *index)
{
    if (m->nparams == NN_MAX_PARAMS)
        return rt_fail(m->rt, RT_E_ARG, "model has more than %d parameter tensors", NN_MAX_PARAMS);
    nn_param *p = &m->params[m->nparams];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->count = count;
    p->trainable = trainable;
    p->decay = decay;
    const size_t bytes = count * sizeof(float);
    rt_status s = rt_alloc(m->rt, bytes, &p->value);
    if (s == RT_OK && trainable) {
        if ((s = rt_alloc(m->rt, bytes, &p->grad)) == RT_OK &&
            (s = rt_alloc(m->rt, bytes, &p->mom)) == RT_OK &&
            (s = rt_fill_zero(m->rt, p->grad, 0, bytes)) == RT_OK)
            s = rt_fill_zero(m->rt, p->mom, 0, bytes);
    }
    if (s != RT_OK) return rt_wrap(m->rt, s, "parameter %s", name);
    *index = m->nparams++;
    return RT_OK;
}

rt_status nn_param_init_uniform(nn_model *m, int index, float bound)
{
    nn_param *p = &m->params[index];
    float *h = malloc(p->count * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    nn_fill_uniform(m->cfg.seed, (uint64_t)index + 1, h, p->count, -bound, bound);
    rt_status s = rt_write(m->rt, p->value, 0, h, p->count * sizeof *h);
    free(h);
    return s;
}

const rt_buf *nn_input_y(nn_model *m, const nn_node *n, int which)
{
    const int i = which ? n->in2 : n->in;
    return i < 0 ? m->x : m->nodes[i].y;
}

rt_buf *nn_dx_target(nn_model *m, const nn_node *n, int which, int *acc)
{
    const int i = which ? n->in2 : n->in;
    if (i < 0) { /* the model input: a gradient only when asked for */
        if (!m->dx) return NULL;
        *acc = m->dx_written;
        m->dx_written = 1;
        return m->dx;
    }
    *acc = m->dy_written[i];
    m->dy_written[i] = 1;
    return m->nodes[i].dy;
}

rt_plane_layout nn_dx_layout(const nn_model *m, const nn_node *n, int which)
{
    const int i = which ? n->in2 : n->in;
    if (i >= 0) return m->nodes[i].dylay;
    return (rt_plane_layout){m->in.h * m->in.w, m->in.w, 0};
}

size_t nn_y_span(const nn_node *n, int batch)
{
    return (size_t)batch * n->out.c * n->ylay.plane;
}

/* ---- creation ---- */

static void auto_labels(nn_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        if (n->label[0]) continue;
        int same = 1;
        for (int j = 0; j < i; j++) same += m->nodes[j].ops == n->ops;
        char cand[NN_LABEL];
        snprintf(cand, sizeof cand, "%s%d", n->ops->name, same);
        for (int j = 0; j < m->nnodes; j++)
            if (strcmp(m->nodes[j].label, cand) == 0) {
                snprintf(cand, sizeof cand, "layer%d", i + 1);
                break;
            }
        snprintf(n->label, sizeof n->label, "%s", cand);
    }
}

static rt_status allocate_nodes(nn_model *m)
{
    nn_fuse_layers(m);
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        for (int j = 0; j < 4; j++) n->param[j] = -1;
        n->ylay = n->dylay = (rt_plane_layout){n->out.h * n->out.w, n->out.w, 0};
        rt_status s = n->ops->setup(m, n);
        if (s != RT_OK) return rt_wrap(m->rt, s, "layer %s (spec line %d)", n->label, n->line);
    }
    rt_status s = nn_lend_padded_buffers(m);
    if (s != RT_OK) return s;
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        if (n->fused && n->ops == &nn_layer_relu) { /* shares the batch norm's buffers */
            const nn_node *bn = &m->nodes[n->in];
            n->y = bn->y, n->dy = bn->dy, n->ylay = bn->ylay, n->y_lent = 1;
            continue;
        }
        const size_t bytes = (size_t)m->max_batch * n->out.c * n->out.h * n->out.w * sizeof(float);
        s = n->y_lent || n->pool ? RT_OK : rt_alloc(m->rt, bytes, &n->y);
        if (s == RT_OK && !n->dy_lent) s = rt_alloc(m->rt, bytes, &n->dy);
        if (s != RT_OK) return rt_wrap(m->rt, s, "activations of layer %s", n->label);
    }
    return RT_OK;
}

rt_status nn_model_create(rt_ctx *rt, const nn_config *cfg, nn_model **out)
{
    *out = NULL;
    if (cfg->classes < 2 || cfg->max_batch < 1 || !(cfg->gamma > 0) || !isfinite(cfg->gamma))
        return rt_fail(rt, RT_E_ARG, "model needs at least 2 classes, a batch >= 1 and gamma > 0");
    nn_model *m = calloc(1, sizeof *m);
    if (!m) return rt_fail(rt, RT_E_ALLOC, "out of host memory");
    m->rt = rt;
    m->cfg = *cfg;
    m->spec = strdup(cfg->spec ? cfg->spec : "");
    m->cfg.spec = m->spec;
    m->in = (nn_shape){cfg->in_c, cfg->in_h, cfg->in_w};
    m->max_batch = cfg->max_batch;
    m->head_w = m->head_b = -1;
    char err[RT_ERRLEN];
    if (!m->spec || nn_spec_parse(m->spec, m->nodes, &m->nnodes, err, sizeof err) != 0 ||
        nn_spec_resolve(m->nodes, m->nnodes, m->in, !cfg->raw_output, err, sizeof err) != 0) {
        rt_status s = rt_fail(rt, RT_E_ARG, "%s", m->spec ? err : "out of host memory");
        nn_model_free(m);
        return s;
    }
    auto_labels(m);
    m->feature_dim = m->nodes[m->nnodes - 1].out.c;
    const size_t in_bytes = (size_t)m->max_batch * cfg->in_c * cfg->in_h * cfg->in_w * sizeof(float);
    rt_status s = rt_alloc(rt, in_bytes, &m->x);
    if (s == RT_OK) s = rt_alloc(rt, (size_t)m->max_batch * sizeof(int32_t), &m->labels);
    if (s == RT_OK && cfg->input_grad) s = rt_alloc(rt, in_bytes, &m->dx);
    if (s == RT_OK) s = allocate_nodes(m);
    if (s == RT_OK) s = nn_head_setup(m);
    if (s == RT_OK) s = nn_sgd_pack(m);
    if (s == RT_OK) s = rt_alloc(rt, 2 * (size_t)m->nparams * sizeof(int), &m->bad);
    if (s == RT_OK) s = rt_fill_zero(rt, m->bad, 0, 2 * (size_t)m->nparams * sizeof(int));
    if (s == RT_OK) s = nn_stats_reserve(m, 1);
    if (s == RT_OK) s = rt_finish(rt);
    if (s != RT_OK) {
        nn_model_free(m);
        return s;
    }
    *out = m;
    return RT_OK;
}

void nn_model_free(nn_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nparams; i++) {
        rt_free(m->rt, m->params[i].value);
        rt_free(m->rt, m->params[i].grad);
        rt_free(m->rt, m->params[i].mom);
    }
    nn_sgd_unpack_free(m); /* after the views into it */
    for (int i = 0; i < m->nnodes; i++) {
        if (!(m->nodes[i].fused && m->nodes[i].ops == &nn_layer_relu)) {
            if (!m->nodes[i].y_lent) rt_free(m->rt, m->nodes[i].y);
            if (!m->nodes[i].dy_lent) rt_free(m->rt, m->nodes[i].dy);
        }
        for (int j = 0; j < 4; j++) rt_free(m->rt, m->nodes[i].aux[j]);
        if (m->nodes[i].ops->release) m->nodes[i].ops->release(m, &m->nodes[i]);
    }
    rt_buf *bufs[] = {m->x, m->dx, m->labels, m->hn, m->hnorm, m->wn, m->wnorm,
                      m->cosv, m->dcos, m->dhn, m->dwn, m->sample, m->stats, m->bad,
                      m->class_counts, m->pred};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_free(m->rt, bufs[i]);
    free(m->spec);
    free(m);
}

int nn_model_feature_dim(const nn_model *m) { return m->feature_dim; }

size_t nn_model_param_count(const nn_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].trainable) n += m->params[i].count;
    return n;
}

double nn_model_forward_flops(const nn_model *m)
{
    double flops = 2.0 * m->cfg.classes * m->feature_dim;
    for (int i = 0; i < m->nnodes; i++) {
        const nn_node *n = &m->nodes[i];
        const double out = (double)n->out.c * n->out.h * n->out.w;
        const double fan_in = (double)n->in_shape.c * n->in_shape.h * n->in_shape.w;
        if (strcmp(n->ops->name, "conv") == 0)
            flops += 2.0 * out * n->in_shape.c * n->arg[1] * n->arg[1];
        else if (strcmp(n->ops->name, "linear") == 0)
            flops += 2.0 * out * fan_in;
    }
    return flops;
}

void nn_model_describe(const nn_model *m, char *buf, size_t len)
{
    size_t off = (size_t)snprintf(buf, len, "input %dx%dx%d\n", m->in.c, m->in.h, m->in.w);
    for (int i = 0; i < m->nnodes && off < len; i++) {
        const nn_node *n = &m->nodes[i];
        size_t params = 0;
        for (int j = 0; j < 4; j++)
            if (n->param[j] >= 0 && m->params[n->param[j]].trainable) params += m->params[n->param[j]].count;
        off += (size_t)snprintf(buf + off, len - off, "%-10s %-8s -> %4dx%-3dx%-3d %9zu params\n",
                                n->label, n->ops->name, n->out.c, n->out.h, n->out.w, params);
    }
    if (off < len)
        snprintf(buf + off, len - off, "head       normalized classifier %d classes x %d, gamma %g, %s; "
                 "%zu parameters in all\n", m->cfg.classes, m->feature_dim, m->cfg.gamma,
                 m->cfg.loss == NN_LOSS_BCE ? "BCE with a shared learnable bias" : "CE",
                 nn_model_param_count(m));
}

/* ---- steps ---- */

rt_status nn_forward_nodes(nn_model *m, int batch, int train)
{
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        char label[48];
        snprintf(label, sizeof label, "%s fwd", n->label);
        rt_profile_label(m->rt, label);
        rt_status s = n->ops->forward(m, n, batch, train);
        if (s != RT_OK) return rt_wrap(m->rt, s, "forward of layer %s", n->label);
    }
    return RT_OK;
}

rt_status nn_backward_nodes(nn_model *m, int batch)
{
    memset(m->dy_written, 0, sizeof m->dy_written);
    m->dx_written = 0;
    m->dy_written[m->nnodes - 1] = 1; /* written by the head */
    for (int i = m->nnodes - 1; i >= 0; i--) {
        nn_node *n = &m->nodes[i];
        char label[48];
        snprintf(label, sizeof label, "%s bwd", n->label);
        rt_profile_label(m->rt, label);
        rt_status s = n->ops->backward(m, n, batch);
        if (s != RT_OK) return rt_wrap(m->rt, s, "backward of layer %s", n->label);
    }
    return RT_OK;
}

static rt_status check_batch(nn_model *m, nn_data *d, int first, int n, int slot)
{
    if (n < 1 || n > m->max_batch || first < 0 || first > nn_data_count(d) - n)
        return rt_fail(m->rt, RT_E_ARG, "batch [%d, %d) outside the data (%d samples) or above the "
                       "model's batch %d", first, first + n, nn_data_count(d), m->max_batch);
    if (slot < 0 || slot >= m->stat_slots)
        return rt_fail(m->rt, RT_E_ARG, "statistics slot %d outside the %d reserved", slot,
                       m->stat_slots);
    return RT_OK;
}

rt_status nn_train_grads(nn_model *m, nn_data *d, int first, int n, int slot)
{
    rt_status s = check_batch(m, d, first, n, slot);
    rt_profile_label(m->rt, "data");
    if (s == RT_OK) s = nn_data_gather(m, d, first, n, 1);
    if (s == RT_OK) s = nn_forward_nodes(m, n, 1);
    rt_profile_label(m->rt, "head");
    if (s == RT_OK) s = nn_head_forward(m, n, 1, slot);
    if (s == RT_OK) s = nn_head_backward(m, n);
    if (s == RT_OK) s = nn_backward_nodes(m, n);
    return s;
}

rt_status nn_train_step(nn_model *m, nn_data *d, int first, int n, float lr, int slot)
{
    rt_status s = nn_train_grads(m, d, first, n, slot);
    rt_profile_label(m->rt, "sgd");
    if (s == RT_OK) s = nn_sgd_step(m, lr);
    return s;
}

rt_status nn_eval_batch(nn_model *m, nn_data *d, int first, int n, int slot)
{
    rt_status s = check_batch(m, d, first, n, slot);
    if (s == RT_OK) s = nn_data_gather(m, d, first, n, 0);
    if (s == RT_OK) s = nn_forward_nodes(m, n, 0);
    if (s == RT_OK) s = nn_head_forward(m, n, 0, slot);
    if (s == RT_OK && m->class_counts_on) s = nn_class_counts_add(m, n);
    return s;
}

rt_status nn_stats_reserve(nn_model *m, int slots)
{
    if (slots <= m->stat_slots) return RT_OK;
    rt_free(m->rt, m->stats);
    m->stats = NULL;
    m->stat_slots = 0;
    rt_status s = rt_alloc(m->rt, (size_t)slots * 4 * sizeof(float), &m->stats);
    if (s != RT_OK) return s;
    m->stat_slots = slots;
    return rt_fill_zero(m->rt, m->stats, 0, (size_t)slots * 4 * sizeof(float));
}

static rt_status check_slots(nn_model *m, int first, int count)
{
    if (first < 0 || count < 0 || first + count > m->stat_slots)
        return rt_fail(m->rt, RT_E_ARG, "statistics slots [%d, %d) outside the %d reserved", first,
                       first + count, m->stat_slots);
    return RT_OK;
}

rt_status nn_stats_raw(nn_model *m, int first, int count, float *out)
{
    rt_status s = check_slots(m, first, count);
    if (s != RT_OK || count == 0) return s;
    return rt_read(m->rt, m->stats, (size_t)first * 4 * sizeof(float), out,
                   (size_t)count * 4 * sizeof(float));
}

rt_status nn_stats_restore(nn_model *m, int first, int count, const float *in)
{
    rt_status s = check_slots(m, first, count);
    if (s != RT_OK || count == 0) return s;
    return rt_write(m->rt, m->stats, (size_t)first * 4 * sizeof(float), in,
                    (size_t)count * 4 * sizeof(float));
}

rt_status nn_stats_sum(nn_model *m, int first, int count, nn_stats *out)
{
    memset(out, 0, sizeof *out);
    out->first_bad = -1;
    rt_status s = check_slots(m, first, count);
    if (s != RT_OK || count == 0) return s;
    float *h = malloc((size_t)count * 4 * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    s = nn_stats_raw(m, first, count, h);
    for (int i = 0; s == RT_OK && i < count; i++) {
        if (out->first_bad < 0 && !(isfinite(h[4 * i]) && isfinite(h[4 * i + 1]))) out->first_bad = i;
        out->ce += h[4 * i];
        out->bce += h[4 * i + 1];
        out->correct += h[4 * i + 2];
        out->count += h[4 * i + 3];
    }
    free(h);
    return s;
}

rt_status nn_model_bias(nn_model *m, float *b)
{
    return rt_read(m->rt, m->params[m->head_b].value, 0, b, sizeof *b);
}

/* ---- state ---- */

static int tensor_count(const nn_model *m)
{
    int n = 0;
    for (int i = 0; i < m->nparams; i++) n += m->params[i].trainable ? 2 : 1;
    return n;
}

rt_status nn_model_export(nn_model *m, nn_ckpt *c)
{
    const int n = tensor_count(m);
    c->tensors = calloc((size_t)n, sizeof *c->tensors);
    c->spec = strdup(m->spec);
    if (!c->tensors || !c->spec) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    c->ntensors = 0;
    for (int i = 0; i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        for (int which = 0; which < (p->trainable ? 2 : 1); which++) {
            nn_ckpt_tensor *t = &c->tensors[c->ntensors];
            snprintf(t->name, sizeof t->name, "%s%s", p->name, which ? ".momentum" : "");
            t->count = p->count;
            t->data = malloc(p->count * sizeof(float) + 1);
            if (!t->data) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
            c->ntensors++;
            rt_status s = rt_read(m->rt, which ? p->mom : p->value, 0, t->data, p->count * sizeof(float));
            if (s != RT_OK) return s;
        }
    }
    return RT_OK;
}

rt_status nn_model_import(nn_model *m, const nn_ckpt *c)
{
    for (int i = 0; i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        for (int which = 0; which < (p->trainable ? 2 : 1); which++) {
            char name[80];
            snprintf(name, sizeof name, "%s%s", p->name, which ? ".momentum" : "");
            const nn_ckpt_tensor *t = nn_ckpt_find(c, name);
            if (!t || t->count != p->count)
                return rt_fail(m->rt, RT_E_ARG,
                               "checkpoint %s tensor '%s' (%zu values) that this model needs; it "
                               "was written for another model", t ? "has a different size for" : "lacks",
                               name, p->count);
            rt_status s = rt_write(m->rt, which ? p->mom : p->value, 0, t->data, p->count * sizeof(float));
            if (s != RT_OK) return s;
        }
    }
    return rt_finish(m->rt);
}

static rt_status first_nonfinite(nn_model *m, const rt_buf *b, size_t count, int *bad)
{
    float *h = malloc(count * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = rt_read(m->rt, b, 0, h, count * sizeof *h);
    *bad = 0;
    for (size_t i = 0; s == RT_OK && i < count && !*bad; i++) *bad = !isfinite(h[i]);
    free(h);
    return s;
}

rt_status nn_model_find_nonfinite(nn_model *m, char *where, size_t len)
{
    where[0] = 0;
    for (int i = 0; i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        int bad = 0;
        rt_status s = first_nonfinite(m, p->value, p->count, &bad);
        if (s != RT_OK) return s;
        if (bad) { snprintf(where, len, "%s (value)", p->name); return RT_OK; }
        if (!p->trainable) continue;
        if ((s = first_nonfinite(m, p->grad, p->count, &bad)) != RT_OK) return s;
        if (bad) { snprintf(where, len, "%s (gradient)", p->name); return RT_OK; }
    }
    return RT_OK;
}

/* The running statistics (the parameters that are state, not trained), saved to the host and put
 * back, so that a diagnosis pass in training mode leaves the model as it was. */
static rt_status state_copy(nn_model *m, float **saved, int restore)
{
    rt_status s = RT_OK;
    for (int i = 0; s == RT_OK && i < m->nparams; i++) {
        const nn_param *p = &m->params[i];
        if (p->trainable) continue;
        const size_t bytes = p->count * sizeof(float);
        if (restore) {
            s = rt_write(m->rt, p->value, 0, saved[i], bytes);
            continue;
        }
        if (!(saved[i] = malloc(bytes))) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
        s = rt_read(m->rt, p->value, 0, saved[i], bytes);
    }
    return s;
}

static rt_status diagnose(nn_model *m, nn_data *d, int first, int n, char *where, size_t len);

rt_status nn_model_diagnose(nn_model *m, nn_data *d, int first, int n, char *where, size_t len)
{
    float **saved = calloc((size_t)m->nparams + 1, sizeof *saved);
    if (!saved) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    rt_status s = state_copy(m, saved, 0);
    if (s == RT_OK) s = diagnose(m, d, first, n, where, len);
    const rt_status r = s == RT_OK ? state_copy(m, saved, 1) : RT_OK;
    for (int i = 0; i < m->nparams; i++) free(saved[i]);
    free(saved);
    return s == RT_OK ? r : s;
}

static rt_status diagnose(nn_model *m, nn_data *d, int first, int n, char *where, size_t len)
{
    where[0] = 0;
    for (int i = 0; i < m->nparams; i++) {
        int bad = 0;
        rt_status s = first_nonfinite(m, m->params[i].value, m->params[i].count, &bad);
        if (s != RT_OK) return s;
        if (bad) {
            snprintf(where, len, "parameter %s", m->params[i].name);
            return RT_OK;
        }
    }
    /* the training batch, augmented as the step saw it */
    rt_status s = nn_data_gather(m, d, first, n, 1);
    for (int i = 0; s == RT_OK && i < m->nnodes; i++) {
        nn_node *nd = &m->nodes[i];
        int bad = 0;
        if ((s = nd->ops->forward(m, nd, n, 1)) != RT_OK) break;
        /* a batch norm computing the max-pool after it stores no output: the pool's is checked
         * here, in its name; its fused ReLU has none either */
        const nn_node *out = nd->pool ? &m->nodes[nd->pool] : nd;
        if (!out->y) continue;
        if ((s = first_nonfinite(m, out->y, nn_y_span(out, n), &bad)) != RT_OK)
            break;
        if (bad) {
            snprintf(where, len, "the output of layer %s (spec line %d, %s%s%s)", nd->label, nd->line,
                     nd->ops->name, nd->pool ? ", computed with " : "", nd->pool ? out->label : "");
            return RT_OK;
        }
    }
    if (s != RT_OK) return s;
    int bad = 0;
    if ((s = nn_head_forward(m, n, 1, 0)) != RT_OK ||
        (s = first_nonfinite(m, m->cosv, (size_t)n * m->cfg.classes, &bad)) != RT_OK)
        return s;
    if (bad) {
        snprintf(where, len, "the cosines of the classifier head");
        return RT_OK;
    }
    return nn_model_find_nonfinite(m, where, len);
}
