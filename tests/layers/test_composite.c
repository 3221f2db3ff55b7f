/* tests/layers/test_composite.c — small stacks of layers against a double reference and finite
 * differences of it, on every device and kernel style: every layer's output and output gradient,
 * the input gradient and every parameter gradient.
 *
 *   conv-bn-relu-maxpool-conv-bn-relu-gap (odd input: the pool drops a row and a column), in train
 *   mode and in eval mode with running statistics set beforehand;
 *   a residual block with a 1x1 stride-2 projection shortcut (labels, `< label`, `add`), whose stem
 *   output feeds two branches so its gradient is the sum of both;
 *   batch norms and a max-pool writing into the padded inputs of the convolutions that read them;
 *   max-pools computed inside the batch norms before them;
 *   two fan-out graphs where one node is read by several layers (maxpool k=2 on an odd size and
 *   k=3, BN, ReLU, fused and pointwise convolutions, gap, linear), so every layer's backward also
 *   runs in its mode that adds to a gradient another reader already wrote.
 */
#include <stdio.h>

#include "lt.h"

/* a chain of layers, each reading the one before: op and its four arguments a row */
typedef struct chain_layer { ref_op op; int a, b, c, d; } chain_layer;

static void check_chain(th *t, unsigned seed, const int in[4], const chain_layer *ls, int count,
                        int train, const lt_opts *o, const char *what)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, in[0], in[1], in[2], in[3]);
    for (int i = 0; i < count; i++) ref_add(&net, ls[i].op, NULL, REF_PREV, ls[i].a, ls[i].b, ls[i].c, ls[i].d);
    char err[128], name[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    snprintf(name, sizeof name, "%s (%s)", what, train ? "train" : "eval");
    lt_check_net(t, &net, train, o, name);
    ref_net_free(&net);
}

#define BN {REF_BN, 0, 0, 0, 0}
#define RELU {REF_RELU, 0, 0, 0, 0}
#define GAP {REF_GAP, 0, 0, 0, 0}
#define POOL2 {REF_MAXPOOL, 2, 0, 0, 0}
#define CONV3(out) {REF_CONV, (out), 3, 1, 1}

static void plain_stack(th *t, int train)
{
    static const int in[4] = {3, 9, 9, 3};
    static const chain_layer ls[] = {CONV3(6), BN, RELU, POOL2, CONV3(8), BN, RELU, GAP};
    check_chain(t, 7, in, ls, 8, train, NULL, "conv-bn-relu-maxpool-conv-bn-relu-gap");
}

static void residual_block(th *t)
{
    th_rng r = {8};
    ref_net net;
    ref_net_init(&net, 3, 8, 7, 2);
    ref_add(&net, REF_CONV, "stem", REF_PREV, 4, 3, 1, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    const int r0 = ref_add(&net, REF_RELU, "r0", REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 6, 3, 2, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 6, 3, 1, 1);
    const int b2 = ref_add(&net, REF_BN, "b2", REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_CONV, "proj", r0, 6, 1, 2, 0);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_ADD, NULL, REF_PREV, b2, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_GAP, NULL, REF_PREV, 0, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    lt_check_net(t, &net, 1, NULL, "residual block with a 1x1 stride-2 projection (train)");
    ref_net_free(&net);
}

/* One node read by many layers: the gradient each reader adds to what an earlier one (in backward
 * order) wrote — maxpool k=2 on an odd size, BN, ReLU, a fused stride-1 conv, a pointwise conv. */
static void fan_out_a(th *t)
{
    th_rng r = {9};
    ref_net net;
    ref_net_init(&net, 3, 7, 7, 2);
    const int a = ref_add(&net, REF_CONV, "a", REF_PREV, 4, 3, 1, 1);
    const int rl = ref_add(&net, REF_RELU, "r", REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_BN, "n", a, 0, 0, 0, 0);
    const int s = ref_add(&net, REF_ADD, "s", REF_PREV, rl, 0, 0, 0);
    ref_add(&net, REF_CONV, "c3", a, 4, 3, 1, 1);
    const int u = ref_add(&net, REF_ADD, "u", REF_PREV, s, 0, 0, 0);
    ref_add(&net, REF_CONV, "c1", a, 4, 1, 1, 0);
    const int tt = ref_add(&net, REF_ADD, "t", REF_PREV, u, 0, 0, 0);
    const int mp = ref_add(&net, REF_MAXPOOL, "mp", REF_PREV, 2, 0, 0, 0);
    ref_add(&net, REF_CONV, "cs", tt, 4, 3, 2, 0);
    ref_add(&net, REF_ADD, NULL, REF_PREV, mp, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    lt_check_net(t, &net, 1, NULL, "fan-out: maxpool k=2, bn, relu, conv 3x3, conv 1x1 sharing inputs");
    ref_net_free(&net);
}

/* The same for maxpool k=3, global average pooling and the linear layer. */
static void fan_out_b(th *t)
{
    th_rng r = {10};
    ref_net net;
    ref_net_init(&net, 3, 9, 9, 2);
    const int a = ref_add(&net, REF_CONV, "a", REF_PREV, 4, 3, 1, 1);
    const int m = ref_add(&net, REF_MAXPOOL, "m", REF_PREV, 3, 0, 0, 0);
    ref_add(&net, REF_CONV, "c", a, 4, 3, 3, 0);
    const int v = ref_add(&net, REF_ADD, "v", REF_PREV, m, 0, 0, 0);
    const int g = ref_add(&net, REF_GAP, "g", REF_PREV, 0, 0, 0, 0);
    const int lin = ref_add(&net, REF_LINEAR, "lin", REF_PREV, 4, 0, 0, 0);
    ref_add(&net, REF_GAP, "g2", v, 0, 0, 0, 0);
    ref_add(&net, REF_ADD, "s2", REF_PREV, g, 0, 0, 0);
    ref_add(&net, REF_ADD, NULL, REF_PREV, lin, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    lt_check_net(t, &net, 1, NULL, "fan-out: maxpool k=3, gap, linear sharing inputs");
    ref_net_free(&net);
}

/* Batch norms (with and without a ReLU) and 2x2 max-pools read only by convolutions write into
 * the convolutions' padded inputs, and batch norms' input gradients go into the padded dy of
 * the convolutions before them: pitched and unpadded-row layouts, Winograd where the device
 * runs it, rows of 10, 5 and 2 (whole-vector row ends, and the one-by-one ends of 2x2 maps,
 * whose planes lie too close for them), enough channels for the one-pass batch-norm kernels
 * on every core count; a 5x5 convolution, whose weight gradient reads its input dense, keeps
 * its own padding copy. Checked after a larger batch, whose values then lie past the checked
 * planes. */
static void padded_handoff(th *t, int train)
{
    static const int in[4] = {3, 10, 10, 2};
    const unsigned cu = rt_device(t->rt)->compute_units;
    const int C = cu > 4 ? 4 * (int)cu : 16;
    const chain_layer ls[] = {CONV3(C), BN, RELU, CONV3(C), BN, {REF_CONV, C, 5, 1, 2}, BN, RELU,
                              CONV3(C), POOL2, CONV3(C), BN, RELU, POOL2, CONV3(C), BN, RELU, GAP};
    const lt_opts o = {.spare_batch = 2, .lent_outputs = 4};
    check_chain(t, 12, in, ls, (int)(sizeof ls / sizeof ls[0]), train, &o,
                "bn, bn+relu, maxpool into padded conv inputs and dy");
}

/* Max-pools computed inside the batch norms before them, with and without a ReLU, on rows of 17
 * and 8 windows (vectors of 8 windows, then the rest), an odd width and height (a dropped row
 * and column), in the one-pass batch-norm kernels (train) and after the statistics (eval) */
static void pooled_bn(th *t, int train)
{
    static const int in[4] = {3, 19, 35, 2};
    const unsigned cu = rt_device(t->rt)->compute_units;
    const int C = cu > 4 ? 4 * (int)cu : 16;
    const chain_layer ls[] = {CONV3(C), BN, POOL2, CONV3(C), BN, RELU, POOL2, GAP};
    check_chain(t, 13, in, ls, (int)(sizeof ls / sizeof ls[0]), train, NULL,
                "bn+maxpool and bn+relu+maxpool in one kernel");
}

static void body(th *t)
{
    plain_stack(t, 1);
    plain_stack(t, 0);
    padded_handoff(t, 1);
    padded_handoff(t, 0);
    pooled_bn(t, 1);
    pooled_bn(t, 0);
    residual_block(t);
    fan_out_a(t);
    fan_out_b(t);
}

int main(void) { return th_run("layers/composite", body, 1); }
