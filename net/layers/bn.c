/* net/layers/bn.c — batch normalization per channel (train: batch statistics and running
 * estimates with momentum 0.1; eval: running estimates), eps 1e-5, learnable scale and shift.
 *
 * Forward keeps each channel's mean and 1/std for the backward pass:
 *   dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma/std * (dy - dbeta/M - xhat * dgamma/M).
 * Scale and shift are not weight-decayed; running statistics are saved but never stepped.
 * When the model fuses a following ReLU into this layer (n->fused), the output is max(y, 0) and
 * the incoming gradient is masked by it, which saves two passes over the activations each way;
 * the backward pass recomputes the mask from x (kernels/batchnorm.cl), never reading the output.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../nn_internal.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
/* GPU style: values a work-item sums per segment of a channel (kernels/batchnorm.cl) */
#define BN_SEG_STEPS 256

enum { GAMMA, BETA, RMEAN, RVAR };

static int parse(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    return nn_spec_args(argc, argv, 0, NULL, 0, n->arg, 0, 0, err, errlen);
}

static int shape(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    (void)in2, (void)err, (void)errlen;
    n->out = *in;
    return 0;
}

static rt_status fill(nn_model *m, int param, float v)
{
    nn_param *p = &m->params[param];
    float *h = malloc(p->count * sizeof *h);
    if (!h) return rt_fail(m->rt, RT_E_ALLOC, "out of host memory");
    for (size_t i = 0; i < p->count; i++) h[i] = v;
    rt_status s = rt_write(m->rt, p->value, 0, h, p->count * sizeof *h);
    free(h);
    return s;
}

/* GPU style: a channel of M values in segments of BN_SEG_STEPS values a work-item */
static int seg_len(const nn_model *m) { return rt_device_params(m->rt)->red_wg * BN_SEG_STEPS; }
static int segments(const nn_model *m, int M) { return (M + seg_len(m) - 1) / seg_len(m); }

/* a work-group a segment: dim 0 segment x group size, dim 1 channel */
static rt_status per_segment(nn_model *m, rt_kernel *k, int C, int M, unsigned nargs, const rt_arg *args)
{
    const size_t wg = (size_t)rt_device_params(m->rt)->red_wg;
    size_t gws[2] = {(size_t)segments(m, M) * wg, (size_t)C}, lws[2] = {wg, 1};
    return rt_launch(m->rt, k, 2, gws, lws, nargs, args);
}
#define PER_SEGMENT(m, k, C, M, ...)                                                           \
    per_segment((m), (k), (C), (M), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg), (rt_arg[]){__VA_ARGS__})

static rt_status setup(nn_model *m, nn_node *n)
{
    static const char *const suffix[] = {"gamma", "beta", "running_mean", "running_var"};
    const size_t c = (size_t)n->out.c;
    for (int i = 0; i < 4; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.%s", n->label, suffix[i]);
        rt_status s = nn_param_add(m, name, c, i < 2, 0, &n->param[i]);
        if (s != RT_OK) return s;
    }
    rt_status s;
    if ((s = fill(m, n->param[GAMMA], 1.0f)) != RT_OK || (s = fill(m, n->param[BETA], 0.0f)) != RT_OK ||
        (s = fill(m, n->param[RMEAN], 0.0f)) != RT_OK || (s = fill(m, n->param[RVAR], 1.0f)) != RT_OK)
        return s;
    for (int i = 0; i < 2; i++)
        if ((s = rt_alloc(m->rt, c * sizeof(float), &n->aux[i])) != RT_OK) return s;
    if (rt_device_params(m->rt)->red_wg == 1) return RT_OK;
    /* GPU style: two sums per segment of the largest batch's channels */
    return rt_alloc(m->rt, 2 * c * (size_t)segments(m, m->max_batch * n->out.h * n->out.w) * sizeof(float),
                    &n->aux[2]);
}

/* CPU style: one work-item per channel */
static rt_status per_channel(nn_model *m, rt_kernel *k, int C, unsigned nargs, const rt_arg *args)
{
    size_t gws = (size_t)C, lws = 1;
    return rt_launch(m->rt, k, 1, &gws, &lws, nargs, args);
}
#define PER_CHANNEL(m, k, C, ...)                                                              \
    per_channel((m), (k), (C), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg), (rt_arg[]){__VA_ARGS__})

/* GPU style training statistics: segment sums of x, the means, segment sums of the squared
 * deviations, 1/std and the running statistics */
static rt_status seg_stats(nn_model *m, nn_node *n, const rt_buf *x, int C, int M)
{
    const nn_param *p = m->params;
    const int G = segments(m, M), seg = seg_len(m);
    rt_kernel *ks, *km, *kv;
    rt_status s;
    if ((s = nn_kernel(m, "batchnorm", "bn_seg_sums", &ks)) != RT_OK ||
        (s = nn_kernel(m, "batchnorm", "bn_seg_mean", &km)) != RT_OK ||
        (s = nn_kernel(m, "batchnorm", "bn_seg_var", &kv)) != RT_OK)
        return s;
    for (int squares = 0; squares < 2; squares++) {
        s = PER_SEGMENT(m, ks, C, M, RT_BUF(x), RT_I32(M), RT_I32(seg), RT_I32(G), RT_BUF(n->aux[0]),
                        RT_I32(squares), RT_BUF(n->aux[2]));
        if (s != RT_OK) return s;
        s = squares ? NN_ITEMS(m, kv, (size_t)C, RT_BUF(n->aux[2]), RT_I32(G), RT_I32(M), RT_I32(C),
                               RT_BUF(n->aux[0]), RT_BUF(n->aux[1]), RT_BUF(p[n->param[RMEAN]].value),
                               RT_BUF(p[n->param[RVAR]].value), RT_F32(BN_MOMENTUM), RT_F32(BN_EPS))
                    : NN_ITEMS(m, km, (size_t)C, RT_BUF(n->aux[2]), RT_I32(G), RT_I32(M), RT_I32(C),
                               RT_BUF(n->aux[0]));
        if (s != RT_OK) return s;
    }
    return RT_OK;
}

/* GPU style gradient sums: segment sums of g and g (x - mean), then dbeta and dgamma */
static rt_status seg_grad(nn_model *m, nn_node *n, const rt_buf *x, int C, int M)
{
    const nn_param *p = m->params;
    const int G = segments(m, M);
    rt_kernel *kg, *ko;
    rt_status s;
    if ((s = nn_kernel(m, "batchnorm", "bn_seg_grad", &kg)) != RT_OK ||
        (s = nn_kernel(m, "batchnorm", "bn_seg_grad_out", &ko)) != RT_OK)
        return s;
    s = PER_SEGMENT(m, kg, C, M, RT_BUF(x), RT_BUF(n->dy), RT_I32(n->fused), RT_I32(M), RT_I32(seg_len(m)),
                    RT_I32(G), RT_BUF(n->aux[0]), RT_BUF(n->aux[1]), RT_BUF(p[n->param[GAMMA]].value),
                    RT_BUF(p[n->param[BETA]].value), RT_BUF(n->aux[2]));
    if (s != RT_OK) return s;
    return NN_ITEMS(m, ko, (size_t)C, RT_BUF(n->aux[2]), RT_I32(G), RT_I32(C), RT_BUF(n->aux[1]),
                    RT_BUF(p[n->param[GAMMA]].grad), RT_BUF(p[n->param[BETA]].grad));
}

/* CPU style with at least four channels a core: each channel's statistics and element-wise
 * pass in one work-item (kernels/batchnorm.cl bn_train_fwd, bn_bwd_fused), its later reads
 * from cache; with fewer channels than that the separate kernels keep every core busy */
static int one_pass(const nn_model *m, int C)
{
    const unsigned cu = rt_device(m->rt)->compute_units;
    return rt_device_params(m->rt)->red_wg == 1 && (unsigned)C >= 4 * (cu ? cu : 1);
}

static rt_status forward(nn_model *m, nn_node *n, int batch, int train)
{
    const rt_buf *x = nn_input_y(m, n, 0);
    const int C = n->out.c, M = batch * n->out.h * n->out.w;
    const nn_param *p = m->params;
    rt_kernel *k;
    rt_status s;
    n->train_mode = train;
    /* a fused 2x2 max-pool (n->pool): its output and arg-max bytes, in its layout, instead of y */
    const nn_node *pool = n->pool ? &m->nodes[n->pool] : NULL;
    if (train && one_pass(m, C)) {
        /* kernels/batchnorm.cl BN_TRAIN_ARGS */
#define TRAIN_ARGS                                                                              \
    RT_BUF(x), RT_I32(M), RT_I32(C), RT_BUF(n->aux[0]), RT_BUF(n->aux[1]),                       \
        RT_BUF(p[n->param[RMEAN]].value), RT_BUF(p[n->param[RVAR]].value), RT_F32(BN_MOMENTUM),  \
        RT_F32(BN_EPS), RT_BUF(p[n->param[GAMMA]].value), RT_BUF(p[n->param[BETA]].value),       \
        RT_I32(n->fused)
        if ((s = nn_kernel(m, "batchnorm", pool ? "bn_train_fwd_pool2" : "bn_train_fwd", &k)) != RT_OK)
            return s;
        if (pool)
            return PER_CHANNEL(m, k, C, RT_BUF(pool->y), RT_BUF(pool->aux[0]), TRAIN_ARGS,
                               NN_LAYOUT_ARGS(n->out.h, n->out.w, pool->ylay));
        return PER_CHANNEL(m, k, C, RT_BUF(n->y), TRAIN_ARGS, NN_Y_ARGS(n));
#undef TRAIN_ARGS
    }
    if (train && rt_device_params(m->rt)->red_wg > 1) {
        s = seg_stats(m, n, x, C, M);
    } else if (train) {
        if ((s = nn_kernel(m, "batchnorm", "bn_stats", &k)) != RT_OK) return s;
        s = PER_CHANNEL(m, k, C, RT_BUF(x), RT_I32(M), RT_I32(C), RT_BUF(n->aux[0]),
                        RT_BUF(n->aux[1]), RT_BUF(p[n->param[RMEAN]].value),
                        RT_BUF(p[n->param[RVAR]].value), RT_F32(BN_MOMENTUM), RT_F32(BN_EPS));
    } else {
        if ((s = nn_kernel(m, "batchnorm", "bn_eval_stats", &k)) != RT_OK) return s;
        s = NN_ITEMS(m, k, (size_t)C, RT_BUF(p[n->param[RMEAN]].value),
                     RT_BUF(p[n->param[RVAR]].value), RT_I32(C), RT_F32(BN_EPS),
                     RT_BUF(n->aux[0]), RT_BUF(n->aux[1]));
    }
    if (s != RT_OK) return s;
    if (pool) {
        if ((s = nn_kernel(m, "batchnorm", "bn_pool2_apply", &k)) != RT_OK) return s;
        return NN_ROWS(m, k, n->out.h / 2, batch * C, RT_BUF(x), RT_I32(batch), RT_I32(batch * C),
                       RT_BUF(n->aux[0]), RT_BUF(n->aux[1]), RT_BUF(p[n->param[GAMMA]].value),
                       RT_BUF(p[n->param[BETA]].value), RT_I32(n->fused), RT_BUF(pool->y),
                       RT_BUF(pool->aux[0]), NN_LAYOUT_ARGS(n->out.h, n->out.w, pool->ylay));
    }
    if ((s = nn_kernel(m, "batchnorm", "bn_apply", &k)) != RT_OK) return s;
    return NN_CHANNELS(m, k, C, (size_t)M, RT_BUF(x), RT_BUF(n->y), RT_I32(M), RT_BUF(n->aux[0]),
                       RT_BUF(n->aux[1]), RT_BUF(p[n->param[GAMMA]].value),
                       RT_BUF(p[n->param[BETA]].value), RT_I32(n->fused), NN_Y_ARGS(n));
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    const rt_buf *x = nn_input_y(m, n, 0);
    const int C = n->out.c, M = batch * n->out.h * n->out.w;
    const nn_param *p = m->params;
    rt_kernel *k;
    rt_status s;
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (dx && n->train_mode && one_pass(m, C)) {
        if ((s = nn_kernel(m, "batchnorm", "bn_bwd_fused", &k)) != RT_OK) return s;
        return PER_CHANNEL(m, k, C, RT_BUF(x), RT_BUF(n->dy), RT_I32(n->fused), RT_BUF(dx),
                        RT_I32(M), RT_I32(C), RT_BUF(n->aux[0]), RT_BUF(n->aux[1]),
                        RT_BUF(p[n->param[GAMMA]].value), RT_BUF(p[n->param[BETA]].value),
                        RT_BUF(p[n->param[GAMMA]].grad), RT_BUF(p[n->param[BETA]].grad), RT_I32(acc),
                        NN_DX_ARGS(m, n));
    }
    if (rt_device_params(m->rt)->red_wg > 1) {
        s = seg_grad(m, n, x, C, M);
    } else {
        if ((s = nn_kernel(m, "batchnorm", "bn_bwd_reduce", &k)) != RT_OK) return s;
        s = PER_CHANNEL(m, k, C, RT_BUF(x), RT_BUF(n->dy), RT_I32(n->fused), RT_I32(M), RT_I32(C),
                        RT_BUF(n->aux[0]), RT_BUF(n->aux[1]), RT_BUF(p[n->param[GAMMA]].value),
                        RT_BUF(p[n->param[BETA]].value), RT_BUF(p[n->param[GAMMA]].grad),
                        RT_BUF(p[n->param[BETA]].grad));
    }
    if (s != RT_OK) return s;
    if (!dx) return RT_OK;
    if ((s = nn_kernel(m, "batchnorm", "bn_bwd_dx", &k)) != RT_OK) return s;
    return NN_CHANNELS(m, k, C, (size_t)M, RT_BUF(x), RT_BUF(n->dy), RT_I32(n->fused), RT_BUF(dx),
                       RT_I32(M), RT_BUF(n->aux[0]), RT_BUF(n->aux[1]),
                       RT_BUF(p[n->param[GAMMA]].value), RT_BUF(p[n->param[BETA]].value),
                       RT_BUF(p[n->param[GAMMA]].grad), RT_BUF(p[n->param[BETA]].grad),
                       RT_I32(acc), RT_I32(n->train_mode), NN_DX_ARGS(m, n));
}

const nn_layer_ops nn_layer_bn = {
    .name = "bn", .usage = "bn",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
};
