/* tests/layers/test_bn.c — batch normalization against a double reference, on every device and
 * kernel style.
 *
 * Train mode: the output with batch statistics (biased variance), the running statistics after
 * one step (momentum 0.1, unbiased variance), and the gradients of the input (including the
 * dependence of the batch mean and variance on every input), gamma and beta, also against finite
 * differences of the reference. Shapes: random C x N x H x W, a channel of more than 1024 values
 * (the blocked sum of the CPU style), a vector input (N values per channel) and inputs with a large
 * common offset (two-pass variance). Eval mode: the output from running statistics set beforehand,
 * which must stay unchanged, and the gradients of gamma, beta and the input after an eval forward:
 * there the map is affine per channel, dL/dx = gamma / sqrt(running_var + eps) * dL/dy, with no
 * batch-mean terms (input-gradient studies of a trained model rely on it).
 */
#include <stdio.h>

#include "lt.h"

static void bn_case(th *t, int c, int h, int w, int batch, double offset, int train, uint64_t seed)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c, h, w, batch);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    char err[128], what[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    for (size_t i = 0; i < ref_input_size(&net); i++) net.x[i] = (float)(net.x[i] + offset);
    for (int ch = 0; ch < c; ch++) net.nodes[0].rmean[ch] = (float)(net.nodes[0].rmean[ch] + offset);
    snprintf(what, sizeof what, "bn C=%d %dx%d N=%d offset %g (%s)", c, h, w, batch, offset,
             train ? "train" : "eval");
    lt_check_net(t, &net, train, NULL, what);
    ref_net_free(&net);
}

static void body(th *t)
{
    for (int train = 1; train >= 0; train--) {
        bn_case(t, 5, 7, 6, 3, 0.0, train, 1);
        bn_case(t, 3, 17, 17, 4, 0.0, train, 2);   /* 1156 values per channel */
        bn_case(t, 6, 1, 1, 4, 0.0, train, 3);     /* a vector: 4 values per channel */
        bn_case(t, 4, 5, 9, 2, 8.0, train, 4);     /* large mean, small spread */
    }
}

int main(void) { return th_run("layers/bn", body, 1); }
