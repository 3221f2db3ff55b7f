/* runtime/conv_wino.c — Winograd F(2x2, 3x3) for the "same" 3x3 convolutions of the CPU path:
 * blocking chosen to fit the device's local memory, and the launches of
 * kernels/conv_wino_cpu.cl for the forward pass, the input gradient (the same kernel on the
 * padded dy with the flipped, transposed weights) and the weight gradient.
 */
#include <stdio.h>

#include "rt_internal.h"

/* bytes of V (ch = C) or M (ch = kb) in local memory: 16 blocks of ch slots of 16 tv + 16
 * floats, 16 floats apart (so that the 16 blocks of a tile fall into different cache sets) */
static size_t v_bytes(int ch, int tv) { return (size_t)16 * ((size_t)ch * (16 * tv + 16) + 16) * sizeof(float); }

/* D of the weight gradient: 16 blocks of 16 tv tiles x kb channels, 16 floats apart */
static size_t d_bytes(int kb, int tv) { return (size_t)16 * ((size_t)16 * tv * kb + 16) * sizeof(float); }

/* The blocking for tv vectors of 16 tiles a work-item: input channels in chunks (down to 32:
 * each chunk costs a pass over M), then output channels in blocks (each transforms the input
 * again), both multiples of 16, until V and M (or D) fit the local memory; 0 if nothing fits or
 * a tile row is wider than the work-item's tiles. */
static int fit(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, int wgrad, int tv, rt_wino_plan *out)
{
    /* register block of the products: R x tv accumulators, tv tile vectors and a broadcast
     * within 32 vector registers */
    rt_wino_plan p = {(oh + 1) / 2, (ow + 1) / 2, tv, 16, tv <= 5 ? 4 : 3, 0, K, C, 1, 0, 1, 0};
    if (p.tw > 16 * tv) return 0;
    p.wv = p.tw > 8 ? 16 : p.tw > 4 ? 8 : 4;
    p.rpi = 16 * tv / p.tw;
    size_t local;
    for (;;) {
        local = v_bytes(p.cb, tv) + (wgrad ? d_bytes(p.kb, tv) : v_bytes(p.kb, tv));
        if (local <= ctx->dev.local_mem) break;
        if (p.cb > 32) p.cb = p.cb > 64 ? (p.cb / 2 + 15) / 16 * 16 : 32;
        else if (p.kb > 16) p.kb = p.kb > 32 ? (p.kb / 2 + 15) / 16 * 16 : 16;
        else if (p.cb > 16) p.cb = 16;
        else break;
    }
    if (local > ctx->dev.local_mem) return 0;
    p.kblocks = (K + p.kb - 1) / p.kb;
    const int blocks = (n * p.th + p.rpi - 1) / p.rpi;
    p.items = blocks * p.kblocks;
    if (wgrad) {
        /* slices: a few per core, partial sums of at most 32 MB in all */
        const int cu = ctx->dev.compute_units ? (int)ctx->dev.compute_units : 1;
        const size_t part = (size_t)16 * C * K * sizeof(float);
        int slices = 4 * cu;
        if ((size_t)slices * part > ((size_t)32 << 20)) slices = (int)(((size_t)32 << 20) / part);
        if (slices < 1) slices = 1;
        if (slices > blocks) slices = blocks;
        p.per = (blocks + slices - 1) / slices * p.rpi;
        p.slices = (n * p.th + p.per - 1) / p.per;
        p.items = p.slices * p.kblocks;
    }
    *out = p;
    return 1;
}

/* the share of the products' lanes that hold tiles (the rest are zeros past a tile row) */
static double lanes_used(const rt_wino_plan *p) { return (double)(p->rpi * p->tw) / (16.0 * p->tv); }

/* The widest of 4, 2 or 1 vectors of tiles whose blocks fit and leave 16 work-items, else the
 * one that fits with the most of them; 0 if none fits (the direct kernels then run). Then 5 to 7
 * vectors where whole tile rows fill them better, by 5% or more, with the same blocks (and, for
 * the forward pass, 16 work-items still): cnn5's 28x28 maps have 14 tiles a row, 8 rows in 7
 * vectors with no lane idle instead of 4 rows in 4 with an eighth idle. The weight gradient's
 * products run over the used tiles only, but its larger block reads each input plane in longer
 * runs and adds into its partial sums less often (cnn5 conv2: 3.88 -> 3.65 ms). */
static int plan(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, int wgrad, rt_wino_plan *out)
{
    int found = 0;
    for (int tv = 4; tv >= 1; tv /= 2) {
        rt_wino_plan p;
        if (!fit(ctx, n, C, K, oh, ow, wgrad, tv, &p)) continue;
        *out = p;
        found = 1;
        if (wgrad || p.items >= 16) break; /* the weight gradient: its slices are its work-items */
    }
    if (!found || out->tv != 4) return found;
    rt_wino_plan best = *out;
    for (int tv = 5; tv <= 7; tv++) {
        rt_wino_plan p;
        if (fit(ctx, n, C, K, oh, ow, wgrad, tv, &p) && p.kb == out->kb && p.cb == out->cb &&
            (wgrad || p.items >= 16) && lanes_used(&p) >= 1.05 * lanes_used(out) &&
            lanes_used(&p) > lanes_used(&best))
            best = p;
    }
    *out = best;
    return 1;
}

int rt_wino_plan_conv(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, rt_wino_plan *p)
{
    return plan(ctx, n, C, K, oh, ow, 0, p);
}

int rt_wino_plan_wgrad(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, rt_wino_plan *p)
{
    return K % 16 == 0 && plan(ctx, n, C, K, oh, ow, 1, p);
}

static void variant(const rt_wino_plan *p, char *opts, size_t len)
{
    snprintf(opts, len, "-DWINO_TV=%d -DWINO_WV=%d -DWINO_R=%d", p->tv, p->wv, p->r);
}

rt_status rt_wino_conv(rt_ctx *ctx, const rt_wino_plan *p, int n, int C, int K, int hp, int wp, int oh,
                       int ow, const rt_buf *xp, const rt_buf *w, int flip, rt_buf *y, int acc)
{
    rt_buf *u;
    rt_kernel *kw, *kc;
    char opts[64];
    variant(p, opts, sizeof opts);
    rt_status s = rt_scratch(ctx, RT_SCRATCH_WFLIP, (size_t)16 * C * K * sizeof(float), &u);
    if (s == RT_OK) s = rt_kernel_get(ctx, "conv_wino_cpu", "wino_weights", &kw);
    if (s == RT_OK) s = rt_kernel_get_variant(ctx, "conv_wino_cpu", "conv_wino3", opts, &kc);
    if (s != RT_OK) return s;
    size_t fl = 16, fg = ((size_t)C * ((K + 15) / 16) + fl - 1) / fl * fl;
    s = RT_LAUNCH(ctx, kw, 1, &fg, &fl, RT_BUF(w), RT_BUF(u), RT_I32(C), RT_I32(K), RT_I32(flip));
    if (s != RT_OK) return s;
    size_t g[2] = {(size_t)(p->items / p->kblocks), (size_t)p->kblocks}, l[2] = {1, 1};
    return RT_LAUNCH(ctx, kc, 2, g, l, RT_BUF(xp), RT_BUF(u), RT_BUF(y), RT_LOCAL(v_bytes(p->cb, p->tv)),
                     RT_LOCAL(v_bytes(p->kb, p->tv)), RT_I32(n), RT_I32(C), RT_I32(K), RT_I32(hp),
                     RT_I32(wp), RT_I32(oh), RT_I32(ow), RT_I32(p->th), RT_I32(p->tw), RT_I32(p->rpi),
                     RT_I32(p->kb), RT_I32(p->cb), RT_I32(acc));
}

rt_status rt_wino_wgrad(rt_ctx *ctx, const rt_wino_plan *p, int n, int C, int K, int hp, int wp, int oh,
                        int ow, const rt_buf *xp, const rt_buf *dy, const rt_plane_layout *dyl,
                        rt_buf *dw)
{
    /* dy's positions in its layout, transposed whole (the zeros of a padded one too) */
    const rt_plane_layout dense = {oh * ow, ow, 0}, *dl = dyl ? dyl : &dense;
    const int P = n * dl->plane;
    const size_t pstride = (size_t)16 * C * K;
    rt_buf *dyt, *part;
    rt_kernel *kg, *out;
    char opts[64];
    variant(p, opts, sizeof opts);
    rt_status s = rt_scratch(ctx, RT_SCRATCH_PART, p->slices * pstride * sizeof(float), &part);
    if (s == RT_OK) s = rt_kernel_get_variant(ctx, "conv_wino_cpu", "conv_wino3_wgrad", opts, &kg);
    if (s == RT_OK) s = rt_kernel_get(ctx, "conv_wino_cpu", "wino_wgrad_out", &out);
    if (s == RT_OK) s = rt_conv_transpose_dy(ctx, dy, K, P, &dyt);
    if (s != RT_OK) return s;
    size_t g[2] = {(size_t)p->slices, (size_t)p->kblocks}, l[2] = {1, 1};
    s = RT_LAUNCH(ctx, kg, 2, g, l, RT_BUF(xp), RT_BUF(dyt), RT_BUF(part), RT_LOCAL(v_bytes(p->cb, p->tv)),
                  RT_LOCAL(d_bytes(p->kb, p->tv)), RT_I32(n), RT_I32(C), RT_I32(K), RT_I32(hp),
                  RT_I32(wp), RT_I32(oh), RT_I32(ow), RT_I32(p->th), RT_I32(p->tw), RT_I32(p->rpi),
                  RT_I32(p->kb), RT_I32(p->cb), RT_I32(p->per), RT_I32(pstride), RT_I32(dl->plane),
                  RT_I32(dl->pitch), RT_I32(dl->offset));
    if (s != RT_OK) return s;
    /* the slices summed in order and transformed back in one pass */
    size_t ol = 16, og = ((size_t)C * (K / 16) + ol - 1) / ol * ol;
    return RT_LAUNCH(ctx, out, 1, &og, &ol, RT_BUF(part), RT_I32(p->slices), RT_I32((int)pstride),
                     RT_BUF(dw), RT_I32(C), RT_I32(K));
}
