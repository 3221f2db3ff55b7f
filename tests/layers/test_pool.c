/* tests/layers/test_pool.c — max pooling and global average pooling against a double reference
 * and finite differences of it, on every device and kernel style.
 *
 * Max pooling (window = stride = k): k=2 on even and odd sizes (the last row and column of an odd
 * input belong to no window: output dropped, zero gradient), k=3 on sizes that are not multiples
 * of 3, and inputs with many ties (values from {-1, -0.5, 0, 0.5, 1}): the gradient must go to the
 * first maximal element of each window in row-major order and nowhere else (no finite differences
 * there: the function has no derivative at a tie); k=2 on rows of 16, 17, 14 and 7 windows, for
 * the kernels' vectors of 8 and 4 windows and their tails. Global average pooling on random shapes,
 * including 1x1 maps.
 */
#include <math.h>
#include <stdio.h>

#include "lt.h"

static void pool_case(th *t, ref_op op, int k, int c, int h, int w, int batch, int ties, uint64_t seed)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c, h, w, batch);
    ref_add(&net, op, NULL, REF_PREV, k, 0, 0, 0);
    char err[128], what[160];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    if (ties)
        for (size_t i = 0; i < ref_input_size(&net); i++) net.x[i] = 0.5 * floor(th_uniform(&r) * 5) - 1;
    snprintf(what, sizeof what, "%s k=%d C=%d %dx%d N=%d%s", op == REF_GAP ? "gap" : "maxpool", k, c,
             h, w, batch, ties ? " with ties" : "");
    const lt_opts o = {.skip_fd_dx = ties};
    lt_check_net(t, &net, 1, &o, what);
    ref_net_free(&net);
}

static void body(th *t)
{
    pool_case(t, REF_MAXPOOL, 2, 4, 8, 6, 3, 0, 1);
    pool_case(t, REF_MAXPOOL, 2, 3, 7, 9, 2, 0, 2);
    pool_case(t, REF_MAXPOOL, 3, 5, 8, 7, 4, 0, 3);
    pool_case(t, REF_MAXPOOL, 2, 6, 8, 8, 3, 1, 4);
    pool_case(t, REF_MAXPOOL, 2, 3, 9, 7, 5, 1, 5);
    pool_case(t, REF_MAXPOOL, 3, 4, 9, 6, 2, 1, 6);
    /* rows of 8+ windows: the kernels' vector paths (16 and 17 windows: whole vectors, a tail) */
    pool_case(t, REF_MAXPOOL, 2, 3, 4, 32, 2, 0, 10);
    pool_case(t, REF_MAXPOOL, 2, 2, 5, 35, 2, 1, 11);
    pool_case(t, REF_MAXPOOL, 2, 2, 6, 34, 3, 0, 12);
    pool_case(t, REF_MAXPOOL, 2, 2, 4, 28, 2, 1, 13); /* 14 windows: 8 + 4 + 2 */
    pool_case(t, REF_MAXPOOL, 2, 3, 6, 15, 2, 0, 14); /* 7 windows: 4 + 3 */
    pool_case(t, REF_GAP, 0, 5, 7, 6, 3, 0, 7);
    pool_case(t, REF_GAP, 0, 8, 9, 5, 2, 0, 8);
    pool_case(t, REF_GAP, 0, 3, 1, 1, 4, 0, 9);
}

int main(void) { return th_run("layers/pool", body, 1); }
