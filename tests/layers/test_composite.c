/* tests/layers/test_composite.c — small stacks of layers against a double reference and finite
 * differences of it, on every device and kernel style: every layer's output and output gradient,
 * the input gradient and every parameter gradient.
 *
 *   conv-bn-relu-maxpool-conv-bn-relu-gap (odd input: the pool drops a row and a column), train
 *   mode, and its eval-mode forward with running statistics set beforehand;
 *   a residual block with a 1x1 stride-2 projection shortcut (labels, `< label`, `add`), whose stem
 *   output feeds two branches so its gradient is the sum of both.
 */
#include <stdio.h>

#include "lt.h"

static void plain_stack(th *t, int train)
{
    th_rng r = {7};
    ref_net net;
    ref_net_init(&net, 3, 9, 9, 3);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 6, 3, 1, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_MAXPOOL, NULL, REF_PREV, 2, 0, 0, 0);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 8, 3, 1, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_GAP, NULL, REF_PREV, 0, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    /* eval mode: only the forward pass (see test_bn_eval_grad.c for its input gradient) */
    const lt_opts o = {.forward_only = !train};
    lt_check_net(t, &net, train, &o, train ? "conv-bn-relu-maxpool-conv-bn-relu-gap (train)"
                                           : "conv-bn-relu-maxpool-conv-bn-relu-gap (eval)");
    ref_net_free(&net);
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

static void body(th *t)
{
    plain_stack(t, 1);
    plain_stack(t, 0);
    residual_block(t);
}

int main(void) { return th_run("layers/composite", body, 1); }
