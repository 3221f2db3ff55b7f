/* tests/layers/test_conv.c — convolution forward, input and weight gradients against a double
 * reference and against finite differences of it, on every device and kernel style.
 *
 * Cases: k=3 s=1 p=1; k=3 s=2 p=1; k=1 s=2 p=0; k=1 s=1 p=0 (the pointwise path without im2col);
 * ragged k=3 s=2 p=0 on odd and even sizes (the last row/column unused: zero gradient there);
 * k=5 s=3 p=1 and k=2 s=2 p=0; random small shapes (C 3-8, N 2-5, H/W 5-9, H != W).
 */
#include <stdio.h>

#include "lt.h"

static void conv_case(th *t, int k, int s, int p, int h, int w, uint64_t seed)
{
    th_rng r = {seed};
    const int cin = 3 + (int)(th_uniform(&r) * 6), cout = 3 + (int)(th_uniform(&r) * 6);
    const int batch = 2 + (int)(th_uniform(&r) * 4);
    ref_net net;
    ref_net_init(&net, cin, h, w, batch);
    ref_add(&net, REF_CONV, NULL, REF_PREV, cout, k, s, p);
    char err[128], what[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    snprintf(what, sizeof what, "conv %d->%d k=%d s=%d p=%d on %dx%d, N=%d", cin, cout, k, s, p, h, w,
             batch);
    lt_check_net(t, &net, 1, NULL, what);
    ref_net_free(&net);
}

static void body(th *t)
{
    conv_case(t, 3, 1, 1, 7, 6, 1);
    conv_case(t, 3, 2, 1, 8, 9, 2);
    conv_case(t, 1, 2, 0, 9, 7, 3);
    conv_case(t, 1, 1, 0, 5, 8, 4);
    conv_case(t, 3, 2, 0, 9, 7, 5);     /* ragged: odd sizes */
    conv_case(t, 3, 2, 0, 8, 6, 6);     /* ragged: the last row and column are never read */
    conv_case(t, 5, 3, 1, 9, 8, 7);
    conv_case(t, 2, 2, 0, 7, 5, 8);
}

int main(void) { return th_run("layers/conv", body, 1); }
