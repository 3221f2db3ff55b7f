/* net/fuse.c — the passes over a model's graph that let neighbouring layers share work and
 * buffers: a ReLU or a 2x2 max-pool computed inside the batch norm before it, and the layers
 * around a convolution writing straight into its zero-padded input and output gradient. Each
 * pass changes where values are computed or stored, never the values themselves.
 */
#include "nn_internal.h"

/* A ReLU right after a batch norm read by nothing else runs inside the batch norm's kernels and
 * shares its buffers (the batch norm's gradient is then the ReLU's output gradient). */
static void fuse_bn_relu(nn_model *m)
{
    for (int i = 0; i + 1 < m->nnodes; i++) {
        nn_node *bn = &m->nodes[i], *relu = &m->nodes[i + 1];
        if (bn->ops == &nn_layer_bn && relu->ops == &nn_layer_relu && relu->in == i &&
            bn->consumers == 1)
            bn->fused = relu->fused = 1;
    }
}

/* A 2x2 max-pool that alone reads a batch norm (its ReLU fused or not) runs inside the batch
 * norm's forward kernel, which then never stores its own output: the batch norm's backward
 * pass reads its input and gradient, the pool's only its arg-max bytes (kernels/batchnorm.cl
 * bn_pool2_row: the pool's values bit for bit). The two nodes keep their gradients. */
static void fuse_bn_pool(nn_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *bn = &m->nodes[i];
        if (bn->ops != &nn_layer_bn || bn->consumers != 1) continue;
        const int src = bn->fused ? i + 1 : i; /* the fused ReLU's node carries the output */
        if (m->nodes[src].consumers != 1) continue;
        for (int j = src + 1; j < m->nnodes; j++) {
            nn_node *pool = &m->nodes[j];
            if (pool->in != src) continue;
            if (pool->ops == &nn_layer_maxpool && pool->arg[0] == 2) bn->pool = j, pool->fused = 1;
            break;
        }
    }
}

/* A batch norm (its ReLU fused or not) or a 2x2 max-pool read only by a convolution that pads
 * its input writes its output straight into the convolution's padded copy, which then needs no
 * padding pass (runtime/rt.h rt_conv_take_padded_input): y is that buffer, in its layout. Only
 * layers that never read their own output back do so. */
static void lend_padded_inputs(nn_model *m)
{
    for (int j = 0; j < m->nnodes; j++) {
        nn_node *conv = &m->nodes[j];
        if (conv->ops != &nn_layer_conv || conv->in < 0) continue;
        nn_node *src = &m->nodes[conv->in];
        nn_node *prod = src->fused && src->ops == &nn_layer_relu ? &m->nodes[src->in] : src;
        const int writes = prod->ops == &nn_layer_bn || (prod->ops == &nn_layer_maxpool && prod->arg[0] == 2);
        if (src->consumers != 1 || !writes) continue;
        rt_buf *buf;
        rt_plane_layout lay;
        if (!rt_conv_take_padded_input(conv->plan, &buf, &lay)) continue;
        prod->y = buf, prod->ylay = lay, prod->y_lent = 1;
    }
}

/* Likewise a batch norm that alone reads a convolution's output writes its input gradient into
 * the convolution's padded dy (rt_conv_take_padded_dy): the convolution's dy is that buffer. */
static rt_status lend_padded_dys(nn_model *m)
{
    for (int j = 0; j < m->nnodes; j++) {
        nn_node *conv = &m->nodes[j];
        if (conv->ops != &nn_layer_conv || conv->consumers != 1 || j + 1 >= m->nnodes) continue;
        int reader = -1;
        for (int i = j + 1; i < m->nnodes; i++)
            if (m->nodes[i].in == j || m->nodes[i].in2 == j) reader = i;
        if (reader < 0 || m->nodes[reader].ops != &nn_layer_bn) continue;
        int taken = 0;
        const int dx = conv->in >= 0 || m->dx != NULL;
        rt_status s = rt_conv_take_padded_dy(m->rt, conv->plan, dx, &taken, &conv->dy, &conv->dylay);
        if (s != RT_OK) return rt_wrap(m->rt, s, "layer %s", conv->label);
        conv->dy_lent = taken;
    }
    return RT_OK;
}

void nn_fuse_layers(nn_model *m)
{
    fuse_bn_relu(m);
    fuse_bn_pool(m);
}

rt_status nn_lend_padded_buffers(nn_model *m)
{
    lend_padded_inputs(m);
    return lend_padded_dys(m);
}
