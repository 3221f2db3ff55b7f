/* net/layers/linear.c — a fully connected layer without bias on a C x 1 x 1 input:
 * y[OUT, N] = W[OUT, IN] * x[IN, N]; dW = dy * x^T; dx = W^T * dy. Init uniform +-1/sqrt(IN). */
#include <math.h>
#include <stdio.h>

#include "../nn_internal.h"

static int parse(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    return nn_spec_args(argc, argv, 1, NULL, 0, n->arg, 1, 65536, err, errlen);
}

static int shape(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    (void)in2;
    if (in->h != 1 || in->w != 1) {
        snprintf(err, errlen, "linear needs a vector input (C x 1 x 1); put gap before it");
        return -1;
    }
    n->out = (nn_shape){n->arg[0], 1, 1};
    return 0;
}

static rt_status setup(nn_model *m, nn_node *n)
{
    char name[48];
    snprintf(name, sizeof name, "%s.w", n->label);
    rt_status s = nn_param_add(m, name, (size_t)n->arg[0] * n->in_shape.c, 1, 1, &n->param[0]);
    if (s != RT_OK) return s;
    return nn_param_init_uniform(m, n->param[0], 1.0f / sqrtf((float)n->in_shape.c));
}

static rt_status forward(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    const int out = n->arg[0], in = n->in_shape.c;
    rt_gemm_args g = {0, 0, out, batch, in, 1.0f, 0.0f, m->params[n->param[0]].value, 0, in,
                      nn_input_y(m, n, 0), 0, batch, n->y, 0, batch};
    return rt_gemm(m->rt, &g);
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    const int out = n->arg[0], in = n->in_shape.c;
    const nn_param *w = &m->params[n->param[0]];
    rt_gemm_args gw = {0, 1, out, in, batch, 1.0f, 0.0f, n->dy, 0, batch, nn_input_y(m, n, 0), 0,
                       batch, w->grad, 0, in};
    rt_status s = rt_gemm(m->rt, &gw);
    if (s != RT_OK) return s;
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (!dx) return RT_OK;
    rt_gemm_args gx = {1, 0, in, batch, out, 1.0f, acc ? 1.0f : 0.0f, w->value, 0, in, n->dy, 0,
                       batch, dx, 0, batch};
    return rt_gemm(m->rt, &gx);
}

const nn_layer_ops nn_layer_linear = {
    .name = "linear", .usage = "linear OUT",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
};
