/* tests/layers/test_conv.c — convolution forward, input and weight gradients against a double
 * reference and against finite differences of it, on every device and kernel style.
 *
 * Cases: k=3 s=1 p=1; k=3 s=2 p=1; k=1 s=2 p=0; k=1 s=1 p=0 (the pointwise path without im2col);
 * ragged k=3 s=2 p=0 on odd and even sizes (the last row/column unused: zero gradient there);
 * stride 3, an even kernel, stride 1 with no, "same", more and p = k padding; small shapes
 * (C 2-8, N 2-5, H/W 5-9, H != W), and 16/32 output channels on wide rows and a 32x32 map for
 * the CPU kernels' full vector panels and sliced weight gradient, 16+ channels each side for
 * Winograd. Some cases run in a model built
 * for a larger batch, right after a forward and backward pass at that size (stale buffers).
 */
#include <stdio.h>

#include "lt.h"

typedef struct conv_spec {
    int cin, cout, k, s, p, h, w, batch;
    int spare;                 /* run in a model for batch + spare, after a pass at that size */
} conv_spec;

static void conv_case(th *t, const conv_spec *c, uint64_t seed)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c->cin, c->h, c->w, c->batch);
    ref_add(&net, REF_CONV, NULL, REF_PREV, c->cout, c->k, c->s, c->p);
    char err[128], what[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    const lt_opts o = {.spare_batch = c->spare};
    snprintf(what, sizeof what, "conv %d->%d k=%d s=%d p=%d on %dx%d, N=%d%s", c->cin, c->cout, c->k,
             c->s, c->p, c->h, c->w, c->batch, o.spare_batch ? " (after a larger batch)" : "");
    lt_check_net(t, &net, 1, &o, what);
    ref_net_free(&net);
}

static void body(th *t)
{
    static const conv_spec cases[] = {
        /* cin cout k s p  h   w  N  spare */
        {4, 6, 3, 1, 1, 7, 6, 3, 2},
        {6, 7, 3, 2, 1, 8, 9, 4, 3},
        {5, 3, 1, 2, 0, 9, 7, 2, 0},
        {3, 8, 1, 1, 0, 5, 8, 5, 2},     /* pointwise: a plain GEMM */
        {7, 5, 3, 2, 0, 9, 7, 2, 0},     /* ragged: odd sizes */
        {3, 4, 3, 2, 0, 8, 6, 3, 0},     /* ragged: the last row and column are never read */
        {4, 6, 5, 3, 1, 9, 8, 2, 0},     /* stride 3 */
        {8, 3, 2, 2, 0, 7, 5, 4, 0},     /* even kernel */
        {3, 5, 3, 1, 0, 7, 9, 2, 1},     /* stride 1, no padding */
        {4, 8, 5, 1, 2, 6, 7, 2, 0},     /* 5x5 "same" */
        {3, 4, 3, 1, 2, 5, 6, 3, 0},     /* more padding than "same" */
        {3, 3, 3, 1, 3, 5, 5, 2, 0},     /* p = k */
        /* 16 and 32 output channels and wide rows: the CPU path's whole 16-pixel panels and
         * 16-channel weight-gradient kernels */
        {3, 16, 3, 1, 1, 5, 37, 2, 1},
        {4, 32, 3, 2, 1, 6, 40, 2, 1},
        {5, 16, 1, 2, 0, 7, 35, 3, 0},
        {4, 16, 3, 1, 0, 6, 21, 2, 0},
        {2, 16, 3, 1, 1, 32, 32, 4, 0},  /* 4096 output pixels: the weight gradient in slices */
        /* 16+ channels each side, "same": Winograd where the device row takes it (odd and even
         * maps, output channels not a multiple of 4) */
        {16, 16, 3, 1, 1, 9, 11, 2, 1},
        {16, 18, 3, 1, 1, 6, 6, 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_case(t, &cases[i], 1 + i);
}

int main(void) { return th_run("layers/conv", body, 1); }
