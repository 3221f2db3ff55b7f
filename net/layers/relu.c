/* net/layers/relu.c — y = max(x, 0); the backward pass reads y (dx = dy where y > 0).
 * After a batch norm that has no other reader, the model fuses the ReLU into it (n->fused): this
 * layer then shares the batch norm's buffers and does nothing itself. */
#include "../nn_internal.h"

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

static rt_status setup(nn_model *m, nn_node *n) { (void)m, (void)n; return RT_OK; }

static size_t count(const nn_node *n, int batch)
{
    return (size_t)batch * n->out.c * n->out.h * n->out.w;
}

static rt_status forward(nn_model *m, nn_node *n, int batch, int train)
{
    (void)train;
    if (n->fused) return RT_OK;
    rt_kernel *k;
    rt_status s = nn_kernel(m, "elementwise", "relu_fwd", &k);
    if (s != RT_OK) return s;
    const size_t e = count(n, batch);
    return NN_ELEMS(m, k, e, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(n->y), RT_I32(e));
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    int acc = 0;
    rt_buf *dx = nn_dx_target(m, n, 0, &acc);
    if (!dx || n->fused) return RT_OK; /* fused: the batch norm reads this gradient itself */
    rt_kernel *k;
    rt_status s = nn_kernel(m, "elementwise", "relu_bwd", &k);
    if (s != RT_OK) return s;
    const size_t e = count(n, batch);
    return NN_ELEMS(m, k, e, RT_BUF(n->y), RT_BUF(n->dy), RT_BUF(dx), RT_I32(e), RT_I32(acc));
}

const nn_layer_ops nn_layer_relu = {
    .name = "relu", .usage = "relu",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
};
