/* runtime/conv.c — convolution behind one interface, with two implementations per device.
 *
 * im2col path (GPUs, and any case the fused kernels do not cover): col = im2col(x),
 * y = W * col (rt_gemm, so CLBlast on GPUs); backward dW = dy * col^T, dcol = W^T * dy,
 * dx = col2im(dcol). The col buffer is shared scratch, recomputed in backward.
 * Fused path (CPU rows of the device table): x is copied once into a zero-padded layout that the
 * layer keeps for its backward pass; forward is conv_fwd on it; the weight gradient is
 * conv_wgrad on the padded x and the transposed dy, split over pixels and reduced in a fixed
 * order; the input gradient of a stride-1 convolution is conv_fwd of the padded dy with the
 * flipped, transposed weights. No buffer of Cin*k*k x pixels ever exists, which is what made
 * im2col slow on CPUs (up to ~115 MB per layer and step for cnn5).
 * Winograd (device table: winograd_min_ch): the forward, input and weight gradients of a pitched
 * "same" 3x3 convolution run as F(2x2, 3x3) on the same padded layout (runtime/conv_wino.c),
 * 2.25x fewer multiplications than the direct kernels.
 * A 1x1 stride-1 convolution without padding is a plain GEMM on x in both paths.
 * The layer that produces the input may write it into the padded copy itself
 * (rt_conv_take_padded_input: a batch norm or a max-pool, net/model.c), which saves the copy.
 */
#include <stdlib.h>

#include "rt_internal.h"

struct rt_conv {
    rt_conv_desc d;
    int oh, ow, max_batch, fused;
    int pitched;         /* a "same" convolution: rows of pitch W + P share their padding */
    int wino;            /* forward and both gradients by Winograd F(2x2, 3x3) where it fits */
    int hp, wp;          /* padded input size (fused path): rows, row pitch */
    rt_buf *xp;          /* the padded input kept from forward to backward */
    int producer_pads;   /* the layer before writes its output into xp (rt_conv_take_padded_input) */
    rt_buf *dyp;         /* dy padded by the layer after (rt_conv_take_padded_dy), else NULL */
};

void rt_conv_out_size(const rt_conv_desc *d, int *oh, int *ow)
{
    *oh = (d->h + 2 * d->pad - d->k) / d->stride + 1;
    *ow = (d->w + 2 * d->pad - d->k) / d->stride + 1;
}

static int pointwise(const rt_conv_desc *d) { return d->k == 1 && d->stride == 1 && d->pad == 0; }

/* Slack after a padded tensor for the kernels' vector overreads: a panel of up to 32 positions
 * (stride 2: 64 input values, plus a vector for the even-lane shuffle) past the last row's taps
 * (two rows and two columns further). It is kept zero (pad), since masked lanes of the weight
 * gradient multiply it by zero. */
static size_t pad_slack(int wp) { return 128 + 3 * (size_t)wp; }

/* floats of a padded tensor of c planes of hp x wp, with slack for the kernels' vector overreads */
static size_t padded_floats(int c, int n, int hp, int wp)
{
    return (size_t)c * n * hp * wp + pad_slack(wp);
}

rt_status rt_conv_create_with(rt_ctx *ctx, const rt_conv_desc *d, int max_batch, int mode,
                              rt_conv **out)
{
    *out = NULL;
    if (d->cin < 1 || d->cout < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 || d->h + 2 * d->pad < d->k ||
        d->w + 2 * d->pad < d->k || max_batch < 1)
        return rt_fail(ctx, RT_E_ARG, "convolution %dx%d/%d pad %d on %dx%dx%d is not valid", d->k,
                       d->k, d->stride, d->pad, d->cin, d->h, d->w);
    rt_conv *c = calloc(1, sizeof *c);
    if (!c) return rt_fail(ctx, RT_E_ALLOC, "out of host memory");
    c->d = *d;
    c->max_batch = max_batch;
    rt_conv_out_size(d, &c->oh, &c->ow);
    /* a stride-2 convolution onto a narrow map fills a panel with one short output row (4 of 16
     * lanes on a 4x4 map): the device table says below how many columns im2col + GEMM is faster
     * (PoCL, resnet18 at batch 32: 28 ms less device time a step with 9, the 256->512 layer's
     * forward 32.7 -> 5.7 ms) */
    /* and a strided 1x1 convolution, a subsampling copy and a plain GEMM with im2col, is faster
     * that way on the CPUs measured (bench_conv --model resnet18, 64x32x32 -> 128: 1.4x forward,
     * 1.7x backward): the table's fused_1x1 */
    const int any = mode & RT_CONV_ANY_WIDTH;
    c->fused = (mode & RT_CONV_FUSED) && !pointwise(d) && d->stride <= 2 &&
               !(d->stride == 2 && c->ow < ctx->params.fused_strided_min_ow && !any) &&
               !(d->k == 1 && !ctx->params.fused_1x1 && !any);
    /* the pitched layout stores each result separately: it pays off only with enough work per
     * position (measured: 1-channel input, 9 taps, 25 against 41 GFLOP/s with rows) */
    c->pitched = c->fused && !(mode & RT_CONV_NO_PITCH) && d->stride == 1 &&
                 2 * d->pad == d->k - 1 && d->cin * d->k * d->k >= 64;
    c->wino = c->pitched && (mode & RT_CONV_WINOGRAD) && d->k == 3;
    c->hp = d->h + 2 * d->pad;
    c->wp = d->w + (c->pitched ? 1 : 2) * d->pad;
    if (c->fused) {
        const size_t bytes = padded_floats(d->cin, max_batch, c->hp, c->wp) * sizeof(float);
        rt_status s = rt_alloc(ctx, bytes, &c->xp);
        if (s == RT_OK) s = rt_fill_zero(ctx, c->xp, 0, bytes);
        if (s != RT_OK) {
            free(c);
            return s;
        }
    }
    *out = c;
    return RT_OK;
}

rt_status rt_conv_create(rt_ctx *ctx, const rt_conv_desc *d, int max_batch, rt_conv **out)
{
    const int wmin = ctx->params.winograd_min_ch;
    const int wino = wmin > 0 && d->cin >= wmin && d->cout >= wmin ? RT_CONV_WINOGRAD : 0;
    return rt_conv_create_with(ctx, d, max_batch, ctx->params.conv_fused ? RT_CONV_FUSED | wino : 0, out);
}

int rt_conv_winograd(const rt_ctx *ctx, const rt_conv *c, int n)
{
    rt_wino_plan p;
    return c->wino && rt_wino_plan_conv(ctx, n, c->d.cin, c->d.cout, c->oh, c->ow, &p) ? 16 * p.tv : 0;
}

void rt_conv_free(rt_ctx *ctx, rt_conv *c)
{
    if (!c) return;
    rt_free(ctx, c->xp);
    rt_free(ctx, c->dyp);
    free(c);
}

/* ---- shared pieces ---- */

rt_status rt_conv_sum_slices(rt_ctx *ctx, const rt_buf *part, int slices, size_t stride, rt_buf *dw)
{
    rt_kernel *k;
    rt_status s = rt_kernel_get(ctx, "util", "sum_slices", &k);
    if (s != RT_OK) return s;
    const size_t chunk = (size_t)ctx->params.chunk, items = (stride + chunk - 1) / chunk;
    return RT_LAUNCH1(ctx, k, items, RT_BUF(part), RT_I32(0), RT_I32(slices), RT_I32(stride),
                      RT_BUF(dw), RT_I32(0), RT_I32(stride));
}

static rt_status pad(rt_ctx *ctx, const rt_buf *x, rt_buf *xp, int planes, int h, int w, int p,
                     int pitched)
{
    rt_kernel *k;
    rt_status s = rt_kernel_get(ctx, "conv_cpu", "conv_pad", &k);
    if (s != RT_OK) return s;
    const int hp = h + 2 * p, wp = w + (pitched ? 1 : 2) * p;
    size_t gws = (size_t)planes, lws = rt_local_size(ctx, gws);
    /* vector reads of the last rows reach past the last plane: the kernel zeros that slack too */
    return RT_LAUNCH(ctx, k, 1, &gws, &lws, RT_BUF(x), RT_BUF(xp), RT_I32(planes), RT_I32(h), RT_I32(w),
                     RT_I32(p), RT_I32(hp), RT_I32(wp), RT_I32((int)pad_slack(wp)));
}

/* pitched: the input uses the shared-padding layout of a "same" convolution */
static rt_status fwd_fused(rt_ctx *ctx, int n, int cin, int cout, int k, int stride, int hp, int wp,
                           int oh, int ow, int pitched, const rt_buf *xp, const rt_buf *w, rt_buf *y,
                           int acc)
{
    rt_kernel *kr;
    rt_tune_choice c;
    const char *name = pitched ? (k == 3 ? "conv_fwdp3" : "conv_fwdp") : "conv_fwd";
    rt_status s = rt_tuned_kernel(ctx, "conv_fwd_cpu", name, RT_TUNE_CONV_FWD, rt_tune_class_of(cout), "", &c, &kr);
    if (s != RT_OK) return s;
    const int px = c.nv * c.vw; /* positions a work-item owns */
    size_t panels = pitched ? (size_t)n * ((oh * wp + px - 1) / px) : (size_t)n * oh * ((ow + px - 1) / px);
    size_t lws = rt_tuned_local(kr, panels, c.ls);
    return RT_LAUNCH(ctx, kr, 1, &panels, &lws, RT_BUF(xp), RT_BUF(w), RT_BUF(y), RT_I32(n),
                     RT_I32(cin), RT_I32(cout), RT_I32(k), RT_I32(stride), RT_I32(hp), RT_I32(wp),
                     RT_I32(oh), RT_I32(ow), RT_I32(acc));
}

/* rows a work-item of the CPU row kernels takes: about a chunk of values */
static int rows_per_item(const rt_ctx *ctx, int width)
{
    const int r = ctx->params.chunk / (width > 0 ? width : 1);
    return r > 1 ? r : 1;
}

static rt_status im2col(rt_ctx *ctx, const rt_conv *c, int n, const rt_buf *x, rt_buf *col)
{
    rt_kernel *k;
    const int cpu = ctx->params.cpu_style;
    rt_status s = rt_kernel_get(ctx, "conv", cpu ? "im2col_rows" : "im2col", &k);
    if (s != RT_OK) return s;
    const int rows = c->d.cin * c->d.k * c->d.k;
    if (cpu) {
        const int rpi = rows_per_item(ctx, c->ow);
        size_t gws[2] = {((size_t)n * c->oh + rpi - 1) / rpi, (size_t)rows}, lws[2] = {1, 1};
        return RT_LAUNCH(ctx, k, 2, gws, lws, RT_BUF(x), RT_BUF(col), RT_I32(n), RT_I32(c->d.h),
                         RT_I32(c->d.w), RT_I32(c->oh), RT_I32(c->ow), RT_I32(c->d.k),
                         RT_I32(c->d.stride), RT_I32(c->d.pad), RT_I32(rpi));
    }
    const size_t pixels = (size_t)n * c->oh * c->ow, chunk = (size_t)ctx->params.chunk;
    size_t gws[2] = {(pixels + chunk - 1) / chunk, (size_t)rows}, lws[2] = {rt_local_size(ctx, gws[0]), 1};
    return RT_LAUNCH(ctx, k, 2, gws, lws, RT_BUF(x), RT_BUF(col), RT_I32(n), RT_I32(c->d.h),
                     RT_I32(c->d.w), RT_I32(c->oh), RT_I32(c->ow), RT_I32(c->d.k),
                     RT_I32(c->d.stride), RT_I32(c->d.pad));
}

static size_t col_bytes(const rt_conv *c, int n)
{
    return (size_t)c->d.cin * c->d.k * c->d.k * n * c->oh * c->ow * sizeof(float);
}

/* ---- forward ---- */

static rt_status check_batch(rt_ctx *ctx, const rt_conv *c, int n)
{
    if (n < 1 || n > c->max_batch)
        return rt_fail(ctx, RT_E_ARG, "convolution batch %d outside [1, %d]", n, c->max_batch);
    return RT_OK;
}

static int same3(const rt_conv *c);
static int wgrad_fused_ok(const rt_conv *c);

int rt_conv_take_padded_input(rt_conv *c, rt_buf **buf, rt_plane_layout *layout)
{
    /* only where the backward pass, too, reads the padded copy and never x itself (the im2col
     * weight gradient of the other fused shapes reads x dense) */
    if (!c->fused || !(same3(c) || wgrad_fused_ok(c))) return 0;
    c->producer_pads = 1;
    *buf = c->xp;
    *layout = (rt_plane_layout){c->hp * c->wp, c->wp, c->d.pad * c->wp + c->d.pad};
    return 1;
}

/* The input of a batch of n as the fused kernels read it: padded here, or by its producer, who
 * writes only the values of its n * cin planes; the slack after them (the kernels' overreads)
 * then holds a larger batch's values, zeroed here. */
static rt_status padded_input(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *x)
{
    const rt_conv_desc *d = &c->d;
    if (!c->producer_pads) return pad(ctx, x, c->xp, d->cin * n, d->h, d->w, d->pad, c->pitched);
    if (n == c->max_batch) return RT_OK;
    const size_t end = (size_t)d->cin * n * c->hp * c->wp;
    return rt_fill_zero(ctx, c->xp, end * sizeof(float), pad_slack(c->wp) * sizeof(float));
}

rt_status rt_conv_forward(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *x, const rt_buf *w, rt_buf *y)
{
    rt_status s = check_batch(ctx, c, n);
    if (s != RT_OK) return s;
    const rt_conv_desc *d = &c->d;
    const int kk = d->cin * d->k * d->k, pixels = n * c->oh * c->ow;
    if (c->fused) {
        if ((s = padded_input(ctx, c, n, x)) != RT_OK) return s;
        rt_wino_plan p;
        if (c->wino && rt_wino_plan_conv(ctx, n, d->cin, d->cout, c->oh, c->ow, &p))
            return rt_wino_conv(ctx, &p, n, d->cin, d->cout, c->hp, c->wp, c->oh, c->ow, c->xp, w, 0, y, 0);
        return fwd_fused(ctx, n, d->cin, d->cout, d->k, d->stride, c->hp, c->wp, c->oh, c->ow,
                         c->pitched, c->xp, w, y, 0);
    }
    const rt_buf *col = x;
    if (!pointwise(d)) {
        rt_buf *cb;
        if ((s = rt_scratch(ctx, RT_SCRATCH_COL, col_bytes(c, n), &cb)) != RT_OK) return s;
        if ((s = im2col(ctx, c, n, x, cb)) != RT_OK) return s;
        col = cb;
    }
    rt_gemm_args g = {0, 0, d->cout, pixels, kk, 1.0f, 0.0f, w, 0, kk, col, 0, pixels, y, 0, pixels};
    return rt_gemm(ctx, &g);
}

/* ---- backward ---- */

static int wgrad_fused_ok(const rt_conv *c)
{
    return c->fused && c->d.cout % 16 == 0 && (c->d.k == 3 || c->d.k == 1);
}

static int dgrad_fused_ok(const rt_conv *c)
{
    return c->fused && c->d.stride == 1 && c->d.pad <= c->d.k - 1;
}

rt_status rt_conv_transpose_dy(rt_ctx *ctx, const rt_buf *dy, int K, int P, rt_buf **dyt)
{
    rt_kernel *tr;
    rt_status s = rt_scratch(ctx, RT_SCRATCH_DYT, (size_t)P * K * sizeof(float), dyt);
    if (s == RT_OK) s = rt_kernel_get(ctx, "gemm", "transpose", &tr);
    if (s != RT_OK) return s;
    size_t tg[2] = {(size_t)(P + 15) / 16, (size_t)(K + 15) / 16}, tl[2] = {1, 1};
    return RT_LAUNCH(ctx, tr, 2, tg, tl, RT_I32(K), RT_I32(P), RT_BUF(dy), RT_I32(0), RT_I32(P),
                     RT_BUF(*dyt), RT_I32(0), RT_I32(K));
}

static rt_status wgrad_fused(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *dy, rt_buf *dw)
{
    const rt_conv_desc *d = &c->d;
    const int P = n * c->oh * c->ow, kk = d->cin * d->k * d->k;
    rt_buf *dyt, *part;
    rt_kernel *wg;
    rt_status s = rt_conv_transpose_dy(ctx, dy, d->cout, P, &dyt);
    if (s == RT_OK) s = rt_kernel_get(ctx, "conv_cpu", d->k == 3 ? "conv_wgrad_k3" : "conv_wgrad_k1", &wg);
    if (s != RT_OK) return s;
    /* slices small enough that a slice of dyT stays in cache while every input channel reads it */
    const int panels = d->cout / 16;
    int slice = (int)(((size_t)256 << 10) / ((size_t)d->cout * sizeof(float)));
    if (slice > 4096) slice = 4096;
    int slices = (P + slice - 1) / slice;
    if (slices * panels < 16 && P >= 16 * 256) slices = (16 + panels - 1) / panels; /* balance */
    slice = (P + slices - 1) / slices;
    const size_t pstride = (size_t)d->cout * kk;
    if ((s = rt_scratch(ctx, RT_SCRATCH_PART, (size_t)slices * pstride * sizeof(float), &part)) != RT_OK)
        return s;
    size_t wgws[2] = {(size_t)panels, (size_t)slices}, wlws[2] = {1, 1};
    s = RT_LAUNCH(ctx, wg, 2, wgws, wlws, RT_BUF(c->xp), RT_BUF(dyt), RT_BUF(part), RT_I32(n),
                  RT_I32(d->cin), RT_I32(d->cout), RT_I32(d->stride), RT_I32(c->hp), RT_I32(c->wp),
                  RT_I32(c->oh), RT_I32(c->ow), RT_I32(slice), RT_I32(pstride));
    if (s != RT_OK) return s;
    return rt_conv_sum_slices(ctx, part, slices, pstride, dw);
}

/* A stride-1 "same" 3x3 convolution: its padded dy has the padded x's layout, which the
 * transpose-free weight gradient (conv_wgrad_q3) needs. */
static int same3(const rt_conv *c)
{
    return c->fused && c->d.k == 3 && c->d.stride == 1 && c->d.pad == 1;
}

/* the choices rt_conv_forward, backward_same3 (dgrad_padded) and rt_conv_backward make */
int rt_conv_pass_runs(const rt_ctx *ctx, const rt_conv *c, int n, int pass)
{
    const rt_conv_desc *d = &c->d;
    rt_wino_plan p;
    if (pass == RT_CONV_PASS_FWD) {
        if (!c->fused) return RT_CONV_RUNS_GEMM;
        return rt_conv_winograd(ctx, c, n) ? RT_CONV_RUNS_WINOGRAD : RT_CONV_RUNS_FUSED;
    }
    if (same3(c)) {
        const int wino = !c->wino ? 0
                         : pass == RT_CONV_PASS_DW ? rt_wino_plan_wgrad(ctx, n, d->cin, d->cout, c->oh, c->ow, &p)
                                                   : rt_wino_plan_conv(ctx, n, d->cout, d->cin, d->h, d->w, &p);
        return wino ? RT_CONV_RUNS_WINOGRAD : RT_CONV_RUNS_FUSED;
    }
    if (pass == RT_CONV_PASS_DW) return wgrad_fused_ok(c) ? RT_CONV_RUNS_FUSED : RT_CONV_RUNS_GEMM;
    return !pointwise(d) && dgrad_fused_ok(c) ? RT_CONV_RUNS_FUSED : RT_CONV_RUNS_GEMM;
}

/* dy padded by K-1-P: rows, row pitch, padding, in the layout (pitched or not) of the padded x */
static void dy_geometry(const rt_conv *c, int *hp, int *wp, int *p2, int *pitched)
{
    const rt_conv_desc *d = &c->d;
    *p2 = d->k - 1 - d->pad;
    *hp = c->oh + 2 * *p2;
    *pitched = c->pitched && 2 * *p2 == d->k - 1;
    *wp = c->ow + (*pitched ? 1 : 2) * *p2;
}

/* dy padded into scratch */
static rt_status pad_dy(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *dy, rt_buf **dyp, int *hp,
                        int *wp, int *p2, int *pitched)
{
    const rt_conv_desc *d = &c->d;
    dy_geometry(c, hp, wp, p2, pitched);
    rt_status s = rt_scratch(ctx, RT_SCRATCH_DYPAD, padded_floats(d->cout, n, *hp, *wp) * sizeof(float), dyp);
    return s == RT_OK ? pad(ctx, dy, *dyp, d->cout * n, c->oh, c->ow, *p2, *pitched) : s;
}

/* few input channels and no input gradient (a first layer): the sums from dy as it is, rows
 * of VW positions (conv_wgrad_q3_rows), without the padding copy that costs more there */
#define WGRAD_ROWS_MAX_CIN 4

static int wgrad_rows_ok(const rt_conv *c, int dx) { return !dx && c->d.cin <= WGRAD_ROWS_MAX_CIN; }

/* the images a work-item of the padded-x weight gradients takes: their padded x and dy fit in
 * the tuned cache size, and there are enough work-items */
static int wgrad_slice(const rt_conv *c, int n, const rt_tune_choice *tc)
{
    const size_t per_image = (size_t)(c->d.cin + c->d.cout) * c->hp * c->wp * sizeof(float);
    int per = (int)(((size_t)tc->ls << 10) / per_image);
    if (per < 1) per = 1;
    if (per > (n + 15) / 16) per = (n + 15) / 16;
    return per;
}

/* the weight gradient from the padded x by `kernel` of conv_wgrad_cpu.cl (conv_wgrad_q3 on the
 * padded dy, arg = dy's offset in it; conv_wgrad_q3_rows on dy as it is, arg = its row length),
 * slices of images summed in order */
static rt_status wgrad_q3(rt_ctx *ctx, rt_conv *c, int n, const char *kernel, const rt_buf *dy, int arg,
                          rt_buf *dw)
{
    const rt_conv_desc *d = &c->d;
    const int kk = d->cin * 9;
    rt_kernel *wg;
    rt_tune_choice tc;
    rt_status s = rt_tuned_kernel(ctx, "conv_wgrad_cpu", kernel, RT_TUNE_CONV_WGRAD,
                                  rt_tune_class_of(d->cout), "", &tc, &wg);
    if (s != RT_OK) return s;
    if (tc.mr == 0) tc = rt_tune_default(RT_TUNE_CONV_WGRAD, 0); /* transposed kernel chosen, not possible here */
    const int per = wgrad_slice(c, n, &tc), slices = (n + per - 1) / per;
    const size_t pstride = (size_t)d->cout * kk;
    rt_buf *part;
    s = rt_scratch(ctx, RT_SCRATCH_PART, (size_t)slices * pstride * sizeof(float), &part);
    if (s != RT_OK) return s;
    size_t g = (size_t)slices, l = 1;
    s = RT_LAUNCH(ctx, wg, 1, &g, &l, RT_BUF(c->xp), RT_BUF(dy), RT_BUF(part), RT_I32(n),
                  RT_I32(d->cin), RT_I32(d->cout), RT_I32(c->hp), RT_I32(c->wp), RT_I32(c->oh),
                  RT_I32(arg), RT_I32(per), RT_I32(pstride));
    if (s != RT_OK) return s;
    return rt_conv_sum_slices(ctx, part, slices, pstride, dw);
}

static rt_status dgrad_padded(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *w, const rt_buf *dyp,
                              int hp, int wp, int pitched, rt_buf *dx, int acc)
{
    const rt_conv_desc *d = &c->d;
    rt_wino_plan p;
    if (c->wino && pitched && rt_wino_plan_conv(ctx, n, d->cout, d->cin, d->h, d->w, &p))
        return rt_wino_conv(ctx, &p, n, d->cout, d->cin, hp, wp, d->h, d->w, dyp, w, 1, dx, acc);
    rt_buf *wf;
    rt_kernel *flip;
    rt_status s = rt_scratch(ctx, RT_SCRATCH_WFLIP, (size_t)d->cout * d->cin * d->k * d->k * sizeof(float), &wf);
    if (s == RT_OK) s = rt_kernel_get(ctx, "conv_cpu", "conv_flip", &flip);
    if (s != RT_OK) return s;
    /* 64 pairs a group: one a group cost ~25 ns each on PoCL (7 ms for a 512 x 512 layer) */
    size_t fl = 64, fg = ((size_t)d->cin * d->cout + fl - 1) / fl * fl;
    s = RT_LAUNCH(ctx, flip, 1, &fg, &fl, RT_BUF(w), RT_BUF(wf), RT_I32(d->cin), RT_I32(d->cout),
                  RT_I32(d->k));
    if (s != RT_OK) return s;
    return fwd_fused(ctx, n, d->cout, d->cin, d->k, 1, hp, wp, d->h, d->w, pitched, dyp, wf, dx, acc);
}

static rt_status dgrad_fused(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *w, const rt_buf *dy,
                             rt_buf *dx, int acc)
{
    rt_buf *dyp;
    int hp, wp, p2, pitched;
    rt_status s = pad_dy(ctx, c, n, dy, &dyp, &hp, &wp, &p2, &pitched);
    return s == RT_OK ? dgrad_padded(ctx, c, n, w, dyp, hp, wp, pitched, dx, acc) : s;
}

/* How the weight gradient of a "same" 3x3 convolution runs for a batch of n: as Winograd (from
 * dy transposed), in the transposed-dy kernel (a tuned choice, mr = 0, for small maps with many
 * channels: its lanes run over 16 output channels instead of the map's positions), or from the
 * padded dy (conv_wgrad_q3, or without an input gradient and with few input channels from dy as
 * it is: rows); the last two need dy dense. */
typedef struct same3_plan { rt_wino_plan p; int wino_wg, transposed, padded_wg, rows; } same3_plan;

static same3_plan plan_same3(const rt_ctx *ctx, const rt_conv *c, int n, int dx)
{
    const rt_conv_desc *d = &c->d;
    same3_plan q = {0};
    const rt_tune_choice wc = rt_tune_choice_for(ctx, RT_TUNE_CONV_WGRAD, rt_tune_class_of(d->cout));
    q.wino_wg = c->wino && rt_wino_plan_wgrad(ctx, n, d->cin, d->cout, c->oh, c->ow, &q.p);
    q.transposed = !q.wino_wg && wc.mr == 0 && wgrad_fused_ok(c);
    q.padded_wg = !q.wino_wg && !q.transposed;
    q.rows = q.padded_wg && wgrad_rows_ok(c, dx);
    return q;
}

rt_status rt_conv_take_padded_dy(rt_ctx *ctx, rt_conv *c, int dx, int *taken, rt_buf **buf,
                                 rt_plane_layout *layout)
{
    int hp, wp, p2, pitched;
    *taken = 0;
    const same3_plan q = plan_same3(ctx, c, c->max_batch, dx);
    if (!same3(c) || q.transposed || q.rows) return RT_OK;
    dy_geometry(c, &hp, &wp, &p2, &pitched);
    if (!c->dyp) {
        const size_t bytes = padded_floats(c->d.cout, c->max_batch, hp, wp) * sizeof(float);
        rt_status s = rt_alloc(ctx, bytes, &c->dyp);
        if (s == RT_OK) s = rt_fill_zero(ctx, c->dyp, 0, bytes);
        if (s != RT_OK) {
            rt_free(ctx, c->dyp);
            c->dyp = NULL;
            return s;
        }
    }
    *taken = 1;
    *buf = c->dyp;
    *layout = (rt_plane_layout){hp * wp, wp, p2 * wp + p2};
    return RT_OK;
}

/* dy as the layer after left it in c->dyp (rt_conv_take_padded_dy): the slack after a batch of n
 * zeroed (as padded_input) */
static rt_status lent_dy(rt_ctx *ctx, rt_conv *c, int n, int hp, int wp)
{
    if (n == c->max_batch) return RT_OK;
    const size_t end = (size_t)c->d.cout * n * hp * wp;
    return rt_fill_zero(ctx, c->dyp, end * sizeof(float), pad_slack(wp) * sizeof(float));
}

/* the fused backward of a "same" 3x3 convolution: dy padded once for the kernels that read it
 * padded (the input gradient, the transpose-free weight gradient), both gradients from it */
static rt_status backward_same3(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *w, const rt_buf *dy,
                                rt_buf *dw, rt_buf *dx, int acc)
{
    const rt_conv_desc *d = &c->d;
    rt_buf *dyp = c->dyp;
    int hp, wp, p2, pitched;
    same3_plan q = plan_same3(ctx, c, n, dx != NULL);
    const int lent = c->dyp != NULL;
    rt_status s = RT_OK;
    if (lent) {
        /* the plan does not change with the batch: rt_conv_take_padded_dy lent dy for it */
        if (q.transposed || q.rows)
            return rt_fail(ctx, RT_E_ARG, "convolution's weight gradient needs dy dense, but it was lent padded");
        dy_geometry(c, &hp, &wp, &p2, &pitched);
        if ((s = lent_dy(ctx, c, n, hp, wp)) != RT_OK) return s;
    }
    if (q.rows) return wgrad_q3(ctx, c, n, "conv_wgrad_q3_rows", dy, c->ow, dw);
    /* the weight gradients that read dy as it is come first, so that the padded copy is made just
     * before the kernels that read it, while it is still in cache */
    const rt_plane_layout dyl = lent ? (rt_plane_layout){hp * wp, wp, p2 * wp + p2} : (rt_plane_layout){0};
    if (q.wino_wg)
        s = rt_wino_wgrad(ctx, &q.p, n, d->cin, d->cout, c->hp, c->wp, c->oh, c->ow, c->xp, lent ? dyp : dy,
                          lent ? &dyl : NULL, dw);
    else if (q.transposed) s = wgrad_fused(ctx, c, n, dy, dw);
    if (s == RT_OK && !lent && (dx || q.padded_wg)) s = pad_dy(ctx, c, n, dy, &dyp, &hp, &wp, &p2, &pitched);
    if (s == RT_OK && q.padded_wg) s = wgrad_q3(ctx, c, n, "conv_wgrad_q3", dyp, p2 * wp + p2, dw);
    if (s == RT_OK && dx) s = dgrad_padded(ctx, c, n, w, dyp, hp, wp, pitched, dx, acc);
    return s;
}

rt_status rt_conv_backward(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *x, const rt_buf *w,
                           const rt_buf *dy, rt_buf *dw, rt_buf *dx, int accumulate)
{
    rt_status s = check_batch(ctx, c, n);
    if (s != RT_OK) return s;
    if (same3(c)) return backward_same3(ctx, c, n, w, dy, dw, dx, accumulate);
    const rt_conv_desc *d = &c->d;
    const int kk = d->cin * d->k * d->k, pixels = n * c->oh * c->ow;
    const int use_col = !pointwise(d) && (!wgrad_fused_ok(c) || (dx && !dgrad_fused_ok(c)));
    rt_buf *col = NULL;
    if (use_col) {
        if ((s = rt_scratch(ctx, RT_SCRATCH_COL, col_bytes(c, n), &col)) != RT_OK) return s;
    }
    /* weight gradient */
    if (wgrad_fused_ok(c)) {
        if ((s = wgrad_fused(ctx, c, n, dy, dw)) != RT_OK) return s;
    } else {
        const rt_buf *b = x;
        if (!pointwise(d)) {
            if ((s = im2col(ctx, c, n, x, col)) != RT_OK) return s;
            b = col;
        }
        rt_gemm_args g = {0, 1, d->cout, kk, pixels, 1.0f, 0.0f, dy, 0, pixels, b, 0, pixels, dw, 0, kk};
        if ((s = rt_gemm(ctx, &g)) != RT_OK) return s;
    }
    if (!dx) return RT_OK;
    /* input gradient */
    if (pointwise(d)) {
        rt_gemm_args g = {1, 0, kk, pixels, d->cout, 1.0f, accumulate ? 1.0f : 0.0f, w, 0, kk, dy, 0,
                          pixels, dx, 0, pixels};
        return rt_gemm(ctx, &g);
    }
    if (dgrad_fused_ok(c)) return dgrad_fused(ctx, c, n, w, dy, dx, accumulate);
    rt_gemm_args g = {1, 0, kk, pixels, d->cout, 1.0f, 0.0f, w, 0, kk, dy, 0, pixels, col, 0, pixels};
    if ((s = rt_gemm(ctx, &g)) != RT_OK) return s;
    rt_kernel *k;
    const int cpu = ctx->params.cpu_style;
    if ((s = rt_kernel_get(ctx, "conv", cpu ? "col2im_rows" : "col2im", &k)) != RT_OK) return s;
    if (cpu) {
        const int rpi = rows_per_item(ctx, d->w);
        size_t gws[2] = {((size_t)n * d->h + rpi - 1) / rpi, (size_t)d->cin}, lws[2] = {1, 1};
        return RT_LAUNCH(ctx, k, 2, gws, lws, RT_BUF(col), RT_BUF(dx), RT_I32(n), RT_I32(d->h),
                         RT_I32(d->w), RT_I32(c->oh), RT_I32(c->ow), RT_I32(d->k), RT_I32(d->stride),
                         RT_I32(d->pad), RT_I32(accumulate), RT_I32(rpi));
    }
    const size_t total = (size_t)n * d->h * d->w, chunk = (size_t)ctx->params.chunk;
    size_t gws[2] = {(total + chunk - 1) / chunk, (size_t)d->cin}, lws[2] = {rt_local_size(ctx, gws[0]), 1};
    return RT_LAUNCH(ctx, k, 2, gws, lws, RT_BUF(col), RT_BUF(dx), RT_I32(n), RT_I32(d->h),
                     RT_I32(d->w), RT_I32(c->oh), RT_I32(c->ow), RT_I32(d->k), RT_I32(d->stride),
                     RT_I32(d->pad), RT_I32(accumulate));
}
