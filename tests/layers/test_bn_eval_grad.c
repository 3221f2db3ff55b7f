/* tests/layers/test_bn_eval_grad.c — the input gradient of batch normalization after an
 * evaluation-mode forward pass.
 *
 * In eval mode the output is gamma * (x - running_mean) / sqrt(running_var + eps) + beta, a
 * per-channel affine map, so dL/dx = gamma / sqrt(running_var + eps) * dL/dy. A backward pass that
 * follows an eval forward (input-gradient studies on a trained model, cfg.input_grad) must give
 * this, not the train-mode formula that subtracts the batch means of dy and dy * xhat.
 * One BN layer, 2 channels, 3 samples of 1x1, checked against the reference and finite differences.
 */
#include "lt.h"

static void body(th *t)
{
    th_rng r = {42};
    ref_net net;
    ref_net_init(&net, 2, 1, 1, 3);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    lt_check_net(t, &net, 0, NULL, "bn C=2 1x1 N=3 (eval)");
    ref_net_free(&net);
}

int main(void) { return th_run("layers/bn_eval_grad", body, 1); }
