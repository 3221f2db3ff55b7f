/* tests/unit/test_conv.c — rt_conv (forward, weight and input gradients) on every implementation,
 * im2col + GEMM and the fused CPU kernels (padded rows, and the pitched layout that "same"
 * convolutions with at least 64 taps per output use), against a double-precision reference, for
 * 3x3, 1x1 and strided shapes including ragged widths (not multiples of 16) and the accumulate
 * mode, and Winograd F(2x2, 3x3) for the "same" 3x3 ones. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

typedef struct { int n, cin, h, w, cout, k, s, p; } conv_case;

static double xat(const float *x, const conv_case *c, int ci, int n, int ih, int iw)
{
    if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w) return 0;
    return x[(((size_t)ci * c->n + n) * c->h + ih) * c->w + iw];
}

static void reference(const conv_case *c, int oh, int ow, const float *x, const float *w,
                      const float *dy, double *y, double *dw, double *dx)
{
    const int K = c->k, kk = c->cin * K * K;
    for (int co = 0; co < c->cout; co++)
        for (int n = 0; n < c->n; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double acc = 0;
                    const double g = dy[(((size_t)co * c->n + n) * oh + i) * ow + j];
                    for (int ci = 0; ci < c->cin; ci++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                const int ih = i * c->s - c->p + kh, iw = j * c->s - c->p + kw;
                                const size_t wi = (size_t)co * kk + (ci * K + kh) * K + kw;
                                const double xv = xat(x, c, ci, n, ih, iw);
                                acc += w[wi] * xv;
                                dw[wi] += g * xv;
                                if (ih >= 0 && ih < c->h && iw >= 0 && iw < c->w)
                                    dx[(((size_t)ci * c->n + n) * c->h + ih) * c->w + iw] += g * w[wi];
                            }
                    y[(((size_t)co * c->n + n) * oh + i) * ow + j] = acc;
                }
}

static void one(th *t, const conv_case *c, int mode)
{
    rt_conv_desc d = {c->cin, c->h, c->w, c->cout, c->k, c->s, c->p};
    int oh, ow;
    rt_conv_out_size(&d, &oh, &ow);
    const size_t nx = (size_t)c->cin * c->n * c->h * c->w, nw = (size_t)c->cout * c->cin * c->k * c->k,
                 ny = (size_t)c->cout * c->n * oh * ow;
    th_rng r = {(uint64_t)(nx + nw * 3 + mode)};
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4), *dx0 = malloc(nx * 4);
    th_fill_uniform(&r, x, nx, -1, 1);
    th_fill_uniform(&r, w, nw, -1, 1);
    th_fill_uniform(&r, dy, ny, -1, 1);
    th_fill_uniform(&r, dx0, nx, -1, 1);
    double *y = calloc(ny, 8), *dw = calloc(nw, 8), *dx = calloc(nx, 8), *dxa = malloc(nx * 8);
    reference(c, oh, ow, x, w, dy, y, dw, dx);
    for (size_t i = 0; i < nx; i++) dxa[i] = dx[i] + dx0[i];
    char what[160];
    snprintf(what, sizeof what, "%s conv N%d %dx%dx%d -> %d k%d s%d p%d",
             mode == 0 ? "im2col" : mode & RT_CONV_NO_PITCH ? "fused rows" : mode & RT_CONV_WINOGRAD ? "winograd" : "fused", c->n, c->cin, c->h, c->w, c->cout, c->k, c->s, c->p);
    rt_conv *cv = NULL;
    if (!th_ok(t, rt_conv_create_with(t->rt, &d, c->n, mode, &cv), what)) return;
    /* Winograd must actually run where its blocks fit: on every device for 8 -> 6 channels on
     * 4x4 (30 KiB of local memory), with 128 KiB or more for 16 -> 32 on 28x28; never on a map
     * wider than 128 columns (65 tiles a row) */
    if (mode & RT_CONV_WINOGRAD) {
        const int wino = rt_conv_winograd(t->rt, cv, c->n);
        if ((c->cin == 8 && c->h == 4 && c->cout == 6) ||
            (c->cin == 16 && c->h == 28 && rt_device(t->rt)->local_mem >= (128u << 10)))
            th_check(t, wino, "%s: Winograd expected, the direct kernel ran", what);
        if (c->w > 128) th_check(t, !wino, "%s: Winograd on a map too wide for its blocks", what);
        /* with room for them, whole tile rows fill the work-item's vectors: 14 tiles a row in
         * 8 rows (7 vectors), 10 in 8 rows (5), 19 in 5 rows (6) */
        static const struct { int n, h, w, tiles; } filled[] = {{10, 28, 27, 112}, {13, 20, 19, 80}, {5, 38, 37, 96}};
        for (int f = 0; f < 3; f++)
            if (c->n == filled[f].n && c->h == filled[f].h && c->w == filled[f].w &&
                rt_device(t->rt)->local_mem >= (256u << 10))
                th_check(t, wino == filled[f].tiles, "%s: %d tiles a work-item, expected %d", what, wino,
                         filled[f].tiles);
    }
    rt_buf *bx = th_upload(t, x, nx), *bw = th_upload(t, w, nw), *bdy = th_upload(t, dy, ny);
    rt_buf *by = th_zeros(t, ny), *bdw = th_zeros(t, nw), *bdx = th_zeros(t, nx), *bdxa = th_upload(t, dx0, nx);
    const double atol = 1e-5 * c->cin * c->k * c->k, atol_w = 1e-5 * c->n * oh * ow;
    if (th_ok(t, rt_conv_forward(t->rt, cv, c->n, bx, bw, by), what)) {
        float *got = th_download(t, by, ny);
        th_close(t, got, y, ny, 1e-4, atol, what);
        free(got);
    }
    if (th_ok(t, rt_conv_backward(t->rt, cv, c->n, bx, bw, bdy, bdw, bdx, 0), what)) {
        float *gw = th_download(t, bdw, nw), *gx = th_download(t, bdx, nx);
        char w2[200];
        snprintf(w2, sizeof w2, "%s dW", what);
        th_close(t, gw, dw, nw, 1e-4, atol_w, w2);
        snprintf(w2, sizeof w2, "%s dX", what);
        th_close(t, gx, dx, nx, 1e-4, 1e-5 * c->cout * c->k * c->k, w2);
        free(gw), free(gx);
    }
    /* the weight gradient alone (a first layer: no input gradient), which may take another path */
    if (th_ok(t, rt_fill_zero(t->rt, bdw, 0, nw * sizeof(float)), what) &&
        th_ok(t, rt_conv_backward(t->rt, cv, c->n, bx, bw, bdy, bdw, NULL, 0), what)) {
        float *gw = th_download(t, bdw, nw);
        char w2[200];
        snprintf(w2, sizeof w2, "%s dW without dX", what);
        th_close(t, gw, dw, nw, 1e-4, atol_w, w2);
        free(gw);
    }
    if (th_ok(t, rt_conv_backward(t->rt, cv, c->n, bx, bw, bdy, bdw, bdxa, 1), what)) {
        float *gx = th_download(t, bdxa, nx);
        char w2[200];
        snprintf(w2, sizeof w2, "%s dX accumulate", what);
        th_close(t, gx, dxa, nx, 1e-4, 1e-5 * c->cout * c->k * c->k, w2);
        free(gx);
    }
    rt_conv_free(t->rt, cv);
    rt_buf *all[] = {bx, bw, bdy, by, bdw, bdx, bdxa};
    for (int i = 0; i < 7; i++) rt_free(t->rt, all[i]);
    free(x), free(w), free(dy), free(dx0), free(y), free(dw), free(dx), free(dxa);
}

#ifndef EVERY_TUNING
static void body(th *t)
{
    static const conv_case cases[] = {
        {3, 3, 9, 9, 16, 3, 1, 1},   {2, 5, 28, 28, 32, 3, 1, 1}, {2, 4, 7, 7, 32, 3, 1, 1},
        {3, 6, 14, 13, 16, 3, 1, 1}, {2, 3, 9, 9, 16, 3, 2, 1},   {2, 8, 8, 8, 16, 1, 2, 0},
        {2, 8, 6, 6, 16, 1, 1, 0},   {2, 3, 7, 9, 5, 3, 1, 1},    {2, 2, 7, 7, 3, 3, 2, 0},
        {1, 1, 30, 33, 16, 3, 1, 1}, {2, 3, 6, 6, 16, 3, 1, 0},  {3, 4, 3, 3, 5, 3, 1, 1},
        {2, 3, 4, 4, 6, 3, 1, 1},    {5, 2, 2, 3, 3, 3, 1, 1},
        /* 8+ input channels: the pitched layout (small maps: the vector tail past an image) */
        {2, 8, 7, 7, 16, 3, 1, 1},   {3, 8, 4, 4, 6, 3, 1, 1},   {2, 9, 13, 11, 16, 3, 1, 1},
        /* stride 2 onto more than 8 columns (the fused kernels take 8 or fewer, and strided 1x1
         * ones, only when forced: RT_CONV_ANY_WIDTH in the modes below) */
        {2, 3, 21, 23, 16, 3, 2, 1}, {2, 4, 19, 19, 5, 3, 2, 0},
        /* Winograd: odd and even maps, rows of more than 16 tiles, channels not a multiple of
         * 4, blocks of whole images (7x7) and of several rows; a map too wide (direct) */
        {2, 16, 28, 28, 32, 3, 1, 1}, {3, 12, 14, 13, 5, 3, 1, 1}, {2, 33, 9, 7, 40, 3, 1, 1},
        {1, 8, 40, 37, 8, 3, 1, 1},   {2, 64, 7, 7, 128, 3, 1, 1}, {1, 8, 3, 130, 4, 3, 1, 1},
        /* Winograd in blocks (local memory): of the 600 output channels, and of 600 input
         * channels (forward, weight gradient; the input gradient's output channels) */
        {1, 8, 4, 4, 600, 3, 1, 1},   {1, 600, 4, 4, 16, 3, 1, 1},
        /* rows wider than col2im's 64-column segments, strided, odd; a 5x5 kernel (im2col) */
        {1, 3, 5, 135, 4, 3, 2, 1},   {2, 3, 9, 11, 4, 5, 2, 2},
    };
    /* fused as the device table has it, and forced wherever the fused kernels can run */
    static const int modes[] = {0, RT_CONV_FUSED, RT_CONV_FUSED | RT_CONV_NO_PITCH | RT_CONV_ANY_WIDTH,
                                RT_CONV_FUSED | RT_CONV_WINOGRAD};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int m = 0; m < 4; m++) one(t, &cases[i], modes[m]);
    /* Winograd with 7, 5 and 6 vectors of tiles a work-item (whole tile rows fill them) */
    static const conv_case filled[] = {{10, 8, 28, 27, 16, 3, 1, 1}, {13, 8, 20, 19, 8, 3, 1, 1},
                                       {5, 8, 38, 37, 8, 3, 1, 1}};
    for (int i = 0; i < 3; i++) one(t, &filled[i], modes[3]);
}

#endif

#ifdef EVERY_TUNING
/* Every parameter set the tuner can choose, in every shape class at once: each forward candidate
 * (with a weight-gradient candidate beside it, cycling through theirs) on the fused kernels'
 * cases (pitched, rows, stride 2, the input gradient), against the same reference. On a device
 * whose row runs no tunable kernels the table must stay at its defaults. */
static void every_tuning(th *t)
{
    if (!th_tunable(t)) return;
    static const conv_case cases[] = {
        {2, 5, 28, 28, 32, 3, 1, 1}, {3, 6, 14, 13, 16, 3, 1, 1}, {2, 3, 9, 9, 16, 3, 2, 1},
        {2, 3, 7, 9, 5, 3, 1, 1},    {2, 9, 13, 11, 40, 3, 1, 1}, {3, 8, 4, 4, 6, 3, 1, 1},
        {2, 3, 21, 23, 16, 3, 2, 1},
    };
    rt_tune_choice fwd[128], wg[128];
    const int nf = rt_tune_space(RT_TUNE_CONV_FWD, fwd, 128), nw = rt_tune_space(RT_TUNE_CONV_WGRAD, wg, 128);
    th_check(t, nf > 1 && nw > 1, "the search space is empty");
    for (int i = 0; i < nf || i < nw; i++) {
        for (int c = 0; c < RT_TUNE_CLASSES; c++) {
            rt_tune_set(t->rt, RT_TUNE_CONV_FWD, c, fwd[i % nf]);
            rt_tune_set(t->rt, RT_TUNE_CONV_WGRAD, c, wg[i % nw]);
        }
        for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
            one(t, &cases[j], RT_CONV_ANY_WIDTH | (j % 2 ? RT_CONV_FUSED | RT_CONV_NO_PITCH : RT_CONV_FUSED));
    }
}

int main(void) { return th_run("conv-every-tuning", every_tuning, 0); }
#else
int main(void) { return th_run("conv", body, 0); }
#endif
