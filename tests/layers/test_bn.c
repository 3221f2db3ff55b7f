/* tests/layers/test_bn.c — batch normalization against a double reference, on every device and
 * kernel style.
 *
 * Train mode: the output with batch statistics (biased variance), the running statistics after
 * one step (momentum 0.1, unbiased variance), and the gradients of the input (including the
 * dependence of the batch mean and variance on every input), gamma and beta, also against finite
 * differences of the reference. Shapes: random C x N x H x W, a channel of more than 1024 values
 * (the blocked sum of the CPU style), a vector input (N values per channel) and inputs with a large
 * common offset (two-pass variance), with and without a fused ReLU, and 64 channels (CPUs then
 * run each channel's statistics and element-wise pass in one kernel), and a channel of 2.2 million
 * values (the GPU style's sums in many segments). Eval mode: the output from running statistics set beforehand,
 * which must stay unchanged, and the gradients of gamma, beta and the input after an eval forward:
 * there the map is affine per channel, dL/dx = gamma / sqrt(running_var + eps) * dL/dy, with no
 * batch-mean terms (input-gradient studies of a trained model rely on it).
 */
#include <stdio.h>
#include <string.h>

#include "lt.h"

static void bn_case(th *t, int c, int h, int w, int batch, double offset, int train, int relu,
                    uint64_t seed, const lt_opts *o)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c, h, w, batch);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    if (relu) ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0); /* fused into the batch norm */
    char err[128], what[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    for (size_t i = 0; i < ref_input_size(&net); i++) net.x[i] = (float)(net.x[i] + offset);
    for (int ch = 0; ch < c; ch++) net.nodes[0].rmean[ch] = (float)(net.nodes[0].rmean[ch] + offset);
    snprintf(what, sizeof what, "bn%s C=%d %dx%d N=%d offset %g (%s)", relu ? "-relu" : "", c, h, w,
             batch, offset, train ? "train" : "eval");
    lt_check_net(t, &net, train, o, what);
    ref_net_free(&net);
}

/* a node read by the batch norm and an add: the batch norm's input gradient adds onto the add's
 * (64 channels: the one-pass kernel of CPUs accumulating) */
static void bn_fan_out(th *t, int c)
{
    th_rng r = {11};
    ref_net net;
    ref_net_init(&net, c, 5, 3, 2);
    const int a = ref_add(&net, REF_RELU, "a", REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_BN, "n", a, 0, 0, 0, 0);
    ref_add(&net, REF_ADD, "s", REF_PREV, a, 0, 0, 0);
    char err[128], what[96];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    snprintf(what, sizeof what, "bn C=%d read with an add (the input gradient accumulates)", c);
    lt_check_net(t, &net, 1, NULL, what);
    ref_net_free(&net);
}

/* A channel of 2.2 million values: GPU-style work-groups sum a channel in segments (a few
 * hundred values a work-item), so no work-item loops past the 65535 iterations after which
 * llvmpipe silently leaves a kernel's loops (one group a channel, 64 work-items: 2 x 34560
 * iterations, and the variance came out of part of the channel). CPU-style kernels loop over a
 * whole channel in one work-item by design (PoCL has no such limit): not run on rusticl. */
static void bn_long_channel(th *t)
{
    if (rt_device_params(t->rt)->red_wg == 1 && strstr(rt_device(t->rt)->platform, "rusticl")) return;
    /* no ReLU (its kink near so many values breaks finite differences), nor finite differences
     * of x: one input moves a sum of 4.4 million terms by less than its rounding (the small
     * cases check them) */
    const lt_opts o = {.skip_fd_dx = 1};
    bn_case(t, 2, 64, 64, 541, 0.5, 1, 0, 12, &o); /* 135.25 segments of 64 x 256 */
}

static void body(th *t)
{
    bn_long_channel(t);
    const unsigned cu = rt_device(t->rt)->compute_units;
    const int wide = cu > 16 ? 4 * (int)cu : 64;
    bn_fan_out(t, 4);
    bn_fan_out(t, wide);
    for (int train = 1; train >= 0; train--) {
        bn_case(t, 5, 7, 6, 3, 0.0, train, 0, 1, NULL);
        bn_case(t, 3, 17, 17, 4, 0.0, train, 0, 2, NULL);   /* 1156 values per channel */
        bn_case(t, 6, 1, 1, 4, 0.0, train, 0, 3, NULL);     /* a vector: 4 values per channel */
        bn_case(t, 4, 5, 9, 2, 8.0, train, 0, 4, NULL);     /* large mean, small spread */
        bn_case(t, 4, 5, 9, 2, 0.0, train, 1, 5, NULL);     /* the ReLU fused in */
        /* four channels a core or more, where CPUs run a channel in one pass (net/layers/bn.c
         * one_pass) on any core count; odd lengths leave a scalar tail */
        bn_case(t, wide, 5, 5, 2, 0.0, train, 0, 6, NULL);
        bn_case(t, wide, 17, 17, 4, 1.0, train, 1, 7, NULL);  /* blocked sums, the ReLU, 1156 values */
        bn_case(t, wide, 3, 3, 1, 0.0, train, 1, 9, NULL);    /* 9 values: one vector and a tail */
    }
}

int main(void) { return th_run("layers/bn", body, 1); }
