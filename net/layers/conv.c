/* net/layers/conv.c — 2-D convolution (k x k, stride, zero padding, no bias) as im2col + GEMM.
 *
 * Forward:  col = im2col(x); y[Cout, N*OH*OW] = W[Cout, Cin*k*k] * col   (a 1x1 stride-1 conv
 *           without padding uses x itself as col).
 * Backward: dW = dy * col^T (col recomputed into the shared scratch); dcol = W^T * dy;
 *           dx = col2im(dcol), a gather without atomics. The scratch is reused in queue order.
 * Weights start uniform in +-1/sqrt(fan_in), PyTorch's default for convolutions.
 */
#include <math.h>
#include <stdio.h>

#include "../nn_internal.h"

enum { OUT, K, S, P };

static int parse(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    static const char *const keys[] = {"k", "s", "p"};
    n->arg[K] = 3, n->arg[S] = 1, n->arg[P] = -1;
    if (nn_spec_args(argc, argv, 1, keys, 3, n->arg, -1, 65536, err, errlen) != 0) return -1;
    if (n->arg[P] < 0) n->arg[P] = n->arg[K] / 2;
    if (n->arg[OUT] < 1 || n->arg[K] < 1 || n->arg[K] > 11 || n->arg[S] < 1 || n->arg[S] > 4 ||
        n->arg[P] > n->arg[K]) {
        snprintf(err, errlen, "need OUT >= 1, 1 <= k <= 11, 1 <= s <= 4, 0 <= p <= k");
        return -1;
    }
    return 0;
}

static int shape(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    (void)in2;
    const int k = n->arg[K], s = n->arg[S], p = n->arg[P];
    if (in->h + 2 * p < k || in->w + 2 * p < k) {
        snprintf(err, errlen, "a %dx%d kernel does not fit the input", k, k);
        return -1;
    }
    n->out = (nn_shape){n->arg[OUT], (in->h + 2 * p - k) / s + 1, (in->w + 2 * p - k) / s + 1};
    return 0;
}

static int is_pointwise(const nn_node *n)
{
    return n->arg[K] == 1 && n->arg[S] == 1 && n->arg[P] == 0;
}

static rt_status setup(nn_model *m, nn_node *n)
{
    char name[48];
    const size_t fan_in = (size_t)n->in_shape.c * n->arg[K] * n->arg[K];
    snprintf(name, sizeof name, "%s.w", n->label);
    rt_status s = nn_param_add(m, name, (size_t)n->arg[OUT] * fan_in, 1, 1, &n->param[0]);
    if (s == RT_OK) s = nn_param_init_uniform(m, n->param[0], 1.0f / sqrtf((float)fan_in));
    if (s != RT_OK) return s;
    const size_t col = fan_in * (size_t)n->out.h * n->out.w * (size_t)m->max_batch;
    if (!is_pointwise(n) && col > m->col_floats) m->col_floats = col;
    return RT_OK;
}

static rt_status im2col(nn_model *m, const nn_node *n, const rt_buf *x, int batch)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "conv", "im2col", &k);
    if (s != RT_OK) return s;
    const int rows = n->in_shape.c * n->arg[K] * n->arg[K];
    const size_t pixels = (size_t)batch * n->out.h * n->out.w;
    size_t gws[2] = {nn_items(m, pixels), (size_t)rows}, lws[2] = {1, 1};
    return RT_LAUNCH(m->rt, k, 2, gws, lws, RT_BUF(x), RT_BUF(m->col), RT_I32(batch),
                     RT_I32(n->in_shape.h), RT_I32(n->in_shape.w), RT_I32(n->out.h),
                     RT_I32(n->out.w), RT_I32(n->arg[K]), RT_I32(n->arg[S]), RT_I32(n->arg[P]));
}

static rt_status forward(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    const rt_buf *x = nn_input_y(m, n, 0);
    const int kk = n->in_shape.c * n->arg[K] * n->arg[K];
    const int pixels = batch * n->out.h * n->out.w;
    const rt_buf *col = x;
    if (!is_pointwise(n)) {
        rt_status s = im2col(m, n, x, batch);
        if (s != RT_OK) return s;
        col = m->col;
    }
    rt_gemm_args g = {0, 0, n->arg[OUT], pixels, kk, 1.0f, 0.0f,
                      m->params[n->param[0]].value, 0, kk, col, 0, pixels, n->y, 0, pixels};
    return rt_gemm(m->rt, &g);
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    const rt_buf *x = nn_input_y(m, n, 0);
    const nn_param *w = &m->params[n->param[0]];
    const int kk = n->in_shape.c * n->arg[K] * n->arg[K];
    const int pixels = batch * n->out.h * n->out.w;
    const rt_buf *col = x;
    rt_status s;
    if (!is_pointwise(n)) {
        if ((s = im2col(m, n, x, batch)) != RT_OK) return s;
        col = m->col;
    }
    rt_gemm_args gw = {0, 1, n->arg[OUT], kk, pixels, 1.0f, 0.0f,
                       n->dy, 0, pixels, col, 0, pixels, w->grad, 0, kk};
    if ((s = rt_gemm(m->rt, &gw)) != RT_OK) return s;
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (!dx) return RT_OK;
    if (is_pointwise(n)) {
        rt_gemm_args gx = {1, 0, kk, pixels, n->arg[OUT], 1.0f, acc ? 1.0f : 0.0f,
                           w->value, 0, kk, n->dy, 0, pixels, dx, 0, pixels};
        return rt_gemm(m->rt, &gx);
    }
    rt_gemm_args gx = {1, 0, kk, pixels, n->arg[OUT], 1.0f, 0.0f,
                       w->value, 0, kk, n->dy, 0, pixels, m->col, 0, pixels};
    if ((s = rt_gemm(m->rt, &gx)) != RT_OK) return s;
    rt_kernel *k;
    if ((s = nn_kernel(m, "conv", "col2im", &k)) != RT_OK) return s;
    const size_t total = (size_t)batch * n->in_shape.h * n->in_shape.w;
    size_t gws[2] = {nn_items(m, total), (size_t)n->in_shape.c}, lws[2] = {1, 1};
    return RT_LAUNCH(m->rt, k, 2, gws, lws, RT_BUF(m->col), RT_BUF(dx), RT_I32(batch),
                     RT_I32(n->in_shape.h), RT_I32(n->in_shape.w), RT_I32(n->out.h),
                     RT_I32(n->out.w), RT_I32(n->arg[K]), RT_I32(n->arg[S]), RT_I32(n->arg[P]),
                     RT_I32(acc));
}

const nn_layer_ops nn_layer_conv = {
    .name = "conv", .usage = "conv OUT [k=3] [s=1] [p=k/2]",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
};
