/* net/layers/add.c — the residual add: y = input + output of the labelled layer (same shape).
 * Backward passes dy unchanged to both inputs (added to what other readers already gave them). */
#include <stdio.h>
#include <string.h>

#include "../nn_internal.h"

static int parse(nn_node *n, int argc, char **argv, char *err, size_t errlen)
{
    if (argc != 1) {
        snprintf(err, errlen, "needs exactly one label");
        return -1;
    }
    if (strlen(argv[0]) >= sizeof n->ref) {
        snprintf(err, errlen, "label too long");
        return -1;
    }
    snprintf(n->ref, sizeof n->ref, "%s", argv[0]);
    return 0;
}

static int shape(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen)
{
    if (!in2 || in->c != in2->c || in->h != in2->h || in->w != in2->w) {
        snprintf(err, errlen, "cannot add '%s' of shape %dx%dx%d", n->ref, in2 ? in2->c : 0,
                 in2 ? in2->h : 0, in2 ? in2->w : 0);
        return -1;
    }
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
    rt_kernel *k;
    rt_status s = nn_kernel(m, "elementwise", "add_fwd", &k);
    if (s != RT_OK) return s;
    const size_t e = count(n, batch);
    return NN_ELEMS(m, k, e, RT_BUF(nn_input_y(m, n, 0)), RT_BUF(nn_input_y(m, n, 1)), RT_BUF(n->y),
                    RT_I32(e));
}

static rt_status backward(nn_model *m, nn_node *n, int batch)
{
    rt_kernel *k;
    rt_status s = nn_kernel(m, "elementwise", "pass_bwd", &k);
    if (s != RT_OK) return s;
    const size_t e = count(n, batch);
    for (int which = 0; which < 2; which++) {
        int acc = 0;
        rt_buf *dx = nn_dx_target(m, n, which, &acc);
        if (!dx) continue;
        if ((s = NN_ELEMS(m, k, e, RT_BUF(n->dy), RT_BUF(dx), RT_I32(e), RT_I32(acc))) != RT_OK)
            return s;
    }
    return RT_OK;
}

const nn_layer_ops nn_layer_add = {
    .name = "add", .usage = "add LABEL",
    .parse = parse, .shape = shape, .setup = setup, .forward = forward, .backward = backward,
};
