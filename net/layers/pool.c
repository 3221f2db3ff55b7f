/* net/layers/pool.c — max pooling (window = stride = k) and global average pooling.
 * Max pooling drops a last row or column that does not fill a window, as PyTorch does; the
 * gradient goes to the first maximum of each window (2x2 windows remember it from forward).
 * A 2x2 max-pool that alone reads a batch norm is computed by the batch norm's forward kernel
 * (n->fused; net/model.c); its backward pass runs here as always. */
#include <stdio.h>

#include "../nn_internal.h"

static int parse_max(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    static const char *const keys[] = {"k"};
    n->arg[0] = 2;
    if (nn_spec_args(argc, argv, 0, keys, 1, n->arg, 1, 16, err, errlen) != 0) return -1;
    return 0;
}

static int parse_gap(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    return nn_spec_args(argc, argv, 0, NULL, 0, n->arg, 0, 0, err, errlen);
}

static int shape_max(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    (void)in2;
    if (in->h < n->arg[0] || in->w < n->arg[0]) {
        snprintf(err, errlen, "the input is smaller than the %dx%d window", n->arg[0], n->arg[0]);
        return -1;
    }
    n->out = (nn_shape){in->c, in->h / n->arg[0], in->w / n->arg[0]};
    return 0;
}

static int shape_gap(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    (void)in2, (void)err, (void)errlen;
    n->out = (nn_shape){in->c, 1, 1};
    return 0;
}

static rt_status setup(nn_model *m, nn_node *n) { (void)m, (void)n; return RT_OK; }

/* 2x2 max pooling keeps the index of each window's maximum (one byte per output) */
static rt_status setup_max(nn_model *m, nn_node *n)
{
    if (n->arg[0] != 2) return RT_OK;
    return rt_alloc(m->rt, (size_t)m->max_batch * n->out.c * n->out.h * n->out.w, &n->aux[0]);
}

static rt_status fwd_max(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    if (n->fused) return RT_OK; /* the batch norm before it computed it (net/model.c) */
    rt_kernel *k;
    if (n->arg[0] == 2) {
        rt_status s = nn_kernel(m, "pool", "maxpool2_fwd", &k);
        if (s != RT_OK) return s;
        return NN_ROWS(m, k, n->out.h, batch * n->out.c, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(n->y),
                           RT_BUF(n->aux[0]), RT_I32(batch * n->out.c), RT_I32(n->in_shape.h),
                           RT_I32(n->in_shape.w), RT_I32(n->ylay.plane), RT_I32(n->ylay.pitch),
                           RT_I32(n->ylay.offset));
    }
    rt_status s = nn_kernel(m, "pool", "maxpool_fwd", &k);
    if (s != RT_OK) return s;
    const int planes = batch * n->out.c;
    return NN_ITEMS(m, k, (size_t)planes, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(n->y), RT_I32(planes),
                    RT_I32(n->in_shape.h), RT_I32(n->in_shape.w), RT_I32(n->arg[0]));
}

static rt_status bwd_max(nn_model *m, nn_node *n, int batch)
{
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (!dx) return RT_OK;
    rt_kernel *k;
    if (n->arg[0] == 2) {
        rt_status s = nn_kernel(m, "pool", "maxpool2_bwd", &k);
        if (s != RT_OK) return s;
        return NN_ROWS(m, k, (n->in_shape.h + 1) / 2, batch * n->out.c, RT_BUF(n->aux[0]),
                           RT_BUF(n->dy), RT_BUF(dx), RT_I32(batch * n->out.c), RT_I32(n->in_shape.h),
                           RT_I32(n->in_shape.w), RT_I32(acc));
    }
    rt_status s = nn_kernel(m, "pool", "maxpool_bwd", &k);
    if (s != RT_OK) return s;
    const int planes = batch * n->out.c;
    return NN_ITEMS(m, k, (size_t)planes, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(n->y), RT_BUF(n->dy),
                    RT_BUF(dx), RT_I32(planes), RT_I32(n->in_shape.h), RT_I32(n->in_shape.w),
                    RT_I32(n->arg[0]), RT_I32(acc));
}

static rt_status fwd_gap(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "pool", "gap_fwd", &k);
    if (s != RT_OK) return s;
    const int planes = batch * n->out.c;
    return NN_ITEMS(m, k, (size_t)planes, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(n->y), RT_I32(planes),
                    RT_I32(n->in_shape.h * n->in_shape.w));
}

static rt_status bwd_gap(nn_model *m, nn_node *n, int batch)
{
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (!dx) return RT_OK;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "pool", "gap_bwd", &k);
    if (s != RT_OK) return s;
    const int planes = batch * n->out.c;
    return NN_ITEMS(m, k, (size_t)planes, RT_BUF(n->dy), RT_BUF(dx), RT_I32(planes),
                    RT_I32(n->in_shape.h * n->in_shape.w), RT_I32(acc));
}

const nn_layer_ops nn_layer_maxpool = {
    .name = "maxpool", .usage = "maxpool [k=2]",
    .parse = parse_max, .shape = shape_max, .setup = setup_max, .forward = fwd_max, .backward = bwd_max,
};

const nn_layer_ops nn_layer_gap = {
    .name = "gap", .usage = "gap",
    .parse = parse_gap, .shape = shape_gap, .setup = setup, .forward = fwd_gap, .backward = bwd_gap,
};
