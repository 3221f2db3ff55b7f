/* net/layers/conv.c — 2-D convolution (k x k, stride, zero padding, no bias).
 *
 * The layer owns its weights [Cout][Cin*k*k] and a planned runtime convolution (rt_conv): the
 * runtime picks im2col + GEMM or its fused CPU kernels per device, so this file never changes
 * when the device path does. Weights start uniform in +-1/sqrt(fan_in), PyTorch's default.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

static rt_conv_desc desc(const nn_node *n)
{
    return (rt_conv_desc){n->in_shape.c, n->in_shape.h, n->in_shape.w, n->arg[OUT], n->arg[K],
                          n->arg[S], n->arg[P]};
}

static rt_status setup(nn_model *m, nn_node *n)
{
    char name[48];
    const size_t fan_in = (size_t)n->in_shape.c * n->arg[K] * n->arg[K];
    snprintf(name, sizeof name, "%s.w", n->label);
    rt_status s = nn_param_add(m, name, (size_t)n->arg[OUT] * fan_in, 1, 1, &n->param[0]);
    if (s == RT_OK) s = nn_param_init_uniform(m, n->param[0], 1.0f / sqrtf((float)fan_in));
    if (s != RT_OK) return s;
    const rt_conv_desc d = desc(n);
    rt_conv *c = NULL;
    if ((s = rt_conv_create(m->rt, &d, m->max_batch, &c)) != RT_OK) return s;
    n->plan = c;
    return RT_OK;
}

static rt_status forward(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    return rt_conv_forward(m->rt, n->plan, batch, nn_input_y(m, n, 0), m->params[n->param[0]].value,
                           n->y);
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    const nn_param *w = &m->params[n->param[0]];
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    return rt_conv_backward(m->rt, n->plan, batch, nn_input_y(m, n, 0), w->value, n->dy, w->grad,
                            dx, acc);
}

static void release(nn_model *m, nn_node *n)
{
    rt_conv_free(m->rt, n->plan);
    n->plan = NULL;
}

const nn_layer_ops nn_layer_conv = {
    .name = "conv", .usage = "conv OUT [k=3] [s=1] [p=k/2]",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
    .release = release,
};
