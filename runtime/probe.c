/* runtime/probe.c — clpeak-style peak probes: the device's FP32 FMA rate and read bandwidth.
 *
 * A probe warms up (the first launch compiles for its local size and touches the pages), sizes
 * its work — iterations of the FMA loop, passes over a buffer larger than the caches — until one
 * run takes about the target time, then keeps the best of PROBE_RUNS runs. Runs are timed through
 * the runtime's own profiling (rt_profile_*: event times, or the host clock on devices whose
 * events report none); the caller's profiling state is left as it was. Kernels: kernels/probe.cl.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "rt_internal.h"

enum {
    PROBE_RUNS = 5,
    PROBE_CHAINS = 12,           /* vector chains per work-item in probe_fma16 / probe_fma4 */
    PROBE_CPU_ITEMS_PER_CU = 16, /* CPU rows: work-groups of one item, enough to balance threads */
    PROBE_GPU_ITEMS_PER_CU = 2048,
    PROBE_MAX_PASSES = 100000,
    PROBE_MAX_LOOP = 65535,      /* iterations of the read loop (4 vectors each) per work-item:
                                    llvmpipe leaves a loop after 65535 iterations */
};
#define PROBE_READ_BYTES ((size_t)256 << 20) /* well beyond a last-level cache */

typedef struct probe {
    const char *what;  /* "FMA probe", "read probe": for messages */
    rt_kernel *k;
    size_t items, lws; /* global size, local size of the launch */
    int lanes;         /* read probe: work-items per block of the layout (rt_probe_read_shape) */
    rt_buf *out;       /* one float per work-item */
    rt_buf *src;       /* read probe: the buffer read (NULL: the FMA probe) */
    int per_block;     /* read probe: vectors per block */
    double unit;       /* the work of n = 1: FLOPs of one iteration, bytes of one pass */
} probe;

rt_status rt_probe_fma_shape(rt_ctx *ctx, int *lanes, int *fused)
{
    cl_device_fp_config fp = 0;
    cl_int rc = clGetDeviceInfo(ctx->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    if (rc != CL_SUCCESS)
        return rt_cl_fail(ctx, rc, "clGetDeviceInfo",
                          "(CL_DEVICE_SINGLE_FP_CONFIG, for the FMA probe)");
    *lanes = PROBE_CHAINS * (ctx->params.cpu_style ? 16 : 4);
    *fused = (fp & CL_FP_FMA) != 0;
    return RT_OK;
}

/* PoCL runs a work-item's own 16-wide vectors at local size 1 (and does not vectorise across
 * work-items there); GPU-style devices take the table's work-group size and float4 loads */
static size_t probe_lanes(const rt_ctx *ctx)
{
    return ctx->params.cpu_style ? 1 : rt_local_size(ctx, 0);
}

void rt_probe_read_shape(const rt_ctx *ctx, size_t *lanes, int *width)
{
    *lanes = probe_lanes(ctx);
    *width = ctx->params.cpu_style ? 16 : 4;
}

static size_t default_items(const rt_ctx *ctx)
{
    const size_t cu = ctx->dev.compute_units ? ctx->dev.compute_units : 1;
    const size_t lws = probe_lanes(ctx);
    const size_t per_cu = ctx->params.cpu_style ? PROBE_CPU_ITEMS_PER_CU : PROBE_GPU_ITEMS_PER_CU;
    const size_t n = cu * per_cu;
    return (n + lws - 1) / lws * lws;
}

static void probe_release(rt_ctx *ctx, probe *p)
{
    rt_free(ctx, p->out);
    rt_free(ctx, p->src);
}

/* Gets the kernel and the output buffer. The local size is the layout's lanes, or the largest
 * the kernel allows on this device when that is less (llvmpipe: 32 for these kernels). */
static rt_status probe_setup(rt_ctx *ctx, probe *p, const char *kernel, size_t items)
{
    rt_status s = rt_kernel_get(ctx, "probe", kernel, &p->k);
    if (s != RT_OK) return rt_wrap(ctx, s, "%s", p->what);
    p->items = items;
    p->lanes = (int)probe_lanes(ctx);
    p->lws = (size_t)p->lanes;
    while (p->k->max_wg && p->lws > p->k->max_wg) p->lws /= 2;
    if (items == 0 || items > INT_MAX)
        return rt_fail(ctx, RT_E_ARG, "%s on '%s': %zu work-items (want 1 to %d)", p->what,
                       ctx->dev.name, items, INT_MAX);
    s = rt_alloc(ctx, items * sizeof(float), &p->out);
    return s == RT_OK ? RT_OK : rt_wrap(ctx, s, "%s: the output buffer", p->what);
}

/* *fused (may be NULL) gets whether the kernel runs fma() or x * a + b (rt_probe_fma_shape). */
static rt_status fma_setup(rt_ctx *ctx, probe *p, size_t items, int *fused)
{
    int lanes = 0, fma = 0;
    *p = (probe){.what = "FMA probe"};
    rt_status s = rt_probe_fma_shape(ctx, &lanes, &fma);
    if (s != RT_OK) return s;
    p->unit = (double)items * lanes * 2.0;
    if (fused) *fused = fma;
    static const char *const kernels[2][2] = {{"probe_muladd4", "probe_fma4"},
                                              {"probe_muladd16", "probe_fma16"}};
    return probe_setup(ctx, p, kernels[ctx->params.cpu_style != 0][fma], items);
}

/* The read probe over `floats` floats (in: their values; NULL: zeros). */
static rt_status read_setup(rt_ctx *ctx, probe *p, const float *in, size_t floats, size_t items)
{
    size_t lanes = 0;
    int width = 0;
    rt_probe_read_shape(ctx, &lanes, &width);
    *p = (probe){.what = "read probe", .unit = (double)floats * sizeof(float)};
    rt_status s = probe_setup(ctx, p, width == 16 ? "probe_read16" : "probe_read4", items);
    if (s != RT_OK) return s;
    const size_t w = (size_t)width;
    if (items % lanes != 0 || floats == 0 || floats % (w * items) != 0 ||
        floats / w / items > 4 * (size_t)PROBE_MAX_LOOP)
        return rt_fail(ctx, RT_E_ARG,
                       "read probe on '%s': %zu floats over %zu work-items; the items must be a "
                       "multiple of the %zu lanes, the floats a multiple of %zu x items and at "
                       "most %zu x %d x items",
                       ctx->dev.name, floats, items, lanes, w, w, 4 * PROBE_MAX_LOOP);
    p->per_block = (int)(floats / w / (items / lanes));
    const size_t bytes = floats * sizeof(float);
    if ((s = rt_alloc(ctx, bytes, &p->src)) != RT_OK)
        return rt_wrap(ctx, s, "read probe: the %.1f MiB buffer", (double)bytes / (1 << 20));
    const int on = ctx->prof_on; /* the fill is no profiled launch of the caller's */
    ctx->prof_on = 0;
    s = in ? rt_write(ctx, p->src, 0, in, bytes) : rt_fill_zero(ctx, p->src, 0, bytes);
    ctx->prof_on = on;
    return s == RT_OK ? RT_OK : rt_wrap(ctx, s, "read probe: filling its buffer");
}

/* Enqueues n units of work: n iterations of the FMA loop (launches of at most
 * RT_PROBE_FMA_MAX_ITERS, each from the seeds), or n passes over the buffer. */
static rt_status probe_enqueue(rt_ctx *ctx, const probe *p, long long n)
{
    for (long long done = 0; !p->src && (done == 0 || done < n); done += RT_PROBE_FMA_MAX_ITERS) {
        const long long m = n - done < RT_PROBE_FMA_MAX_ITERS ? n - done : RT_PROBE_FMA_MAX_ITERS;
        rt_status s = RT_LAUNCH(ctx, p->k, 1, &p->items, &p->lws, RT_BUF(p->out),
                                RT_I32(p->items), RT_I32(m), RT_F32(RT_PROBE_FMA_A),
                                RT_F32(RT_PROBE_FMA_B));
        if (s != RT_OK) return s;
    }
    for (long long i = 0; p->src && i < n; i++) {
        rt_status s = RT_LAUNCH(ctx, p->k, 1, &p->items, &p->lws, RT_BUF(p->src),
                                RT_I32(p->items), RT_I32(p->lanes), RT_I32(p->per_block),
                                RT_BUF(p->out));
        if (s != RT_OK) return s;
    }
    return RT_OK;
}

/* Runs n units of work and measures them: the launches' summed event times, or the host clock
 * from the first enqueue to the end of the queue where events report no time. */
static rt_status probe_time(rt_ctx *ctx, const probe *p, long long n, double *seconds,
                            int *host_timed)
{
    if (ctx->prof_on && ctx->nevents > 0)
        return rt_fail(ctx, RT_E_ARG,
                       "%s on '%s': %d profiled launches are not collected yet; call "
                       "rt_profile_collect (or rt_profile_reset) before a probe",
                       p->what, ctx->dev.name, ctx->nevents);
    rt_status s = rt_finish(ctx); /* the host clock starts on an empty queue */
    if (s != RT_OK) return rt_wrap(ctx, s, "before the %s", p->what);
    const int on = ctx->prof_on, by_kernel = ctx->prof_by_kernel, label = ctx->prof_label,
              nlabels = ctx->nlabels;
    rt_profile_enable(ctx, 1);
    rt_profile_label(ctx, "probe");
    const int row = ctx->prof_label;
    const double t0 = rt_now();
    s = probe_enqueue(ctx, p, n);
    rt_profile_row rows[RT_MAX_LABELS];
    int nrows = 0;
    if (s == RT_OK) s = rt_profile_collect(ctx, rows, row + 1, &nrows);
    else rt_profile_reset(ctx);
    const double host = rt_now() - t0;
    ctx->prof_on = on, ctx->prof_by_kernel = by_kernel, ctx->prof_label = label,
    ctx->nlabels = nlabels;
    if (s != RT_OK) return rt_wrap(ctx, s, "%s (%lld units of work)", p->what, n);
    const double ev = nrows > row ? rows[row].ms * 1e-3 : 0.0;
    /* events that report (almost) nothing are broken, not fast: rusticl reports 1 ns for a run
     * of seconds when its row's quirk is not set (a forced row) */
    *host_timed = (ctx->params.quirks & RT_QUIRK_NO_EVENT_TIMES) || !(ev > 1e-3 * host);
    *seconds = *host_timed ? host : ev;
    return RT_OK;
}

/* clpeak's method: warm up, size n so that one run takes about target_s, keep the best run. */
static rt_status probe_measure(rt_ctx *ctx, const probe *p, double target_s, long long max_n,
                               rt_probe_result *out)
{
    double t = 0;
    int host = 0;
    rt_status s = probe_time(ctx, p, 1, &t, &host); /* warm-up */
    long long n = 1;
    /* grow n until a run takes half the target: time beyond the work (launch, finish, per-item
     * set-up) only makes t larger, so every step undershoots and no run is long */
    while (s == RT_OK && (s = probe_time(ctx, p, n, &t, &host)) == RT_OK && t < target_s / 2 &&
           n < max_n) {
        const double next = fmin(fmax(t > 0 ? (double)n * target_s / t : 0, 2.0 * n), 1024.0 * n);
        n = next >= (double)max_n ? max_n : (long long)next;
    }
    if (s != RT_OK) return s;
    if (t > 0) n = (long long)fmin(fmax(round((double)n * target_s / t), 1.0), (double)max_n);
    double best = INFINITY;
    for (int r = 0; r < PROBE_RUNS; r++) {
        if ((s = probe_time(ctx, p, n, &t, &host)) != RT_OK) return s;
        best = fmin(best, t);
    }
    if (!(best > 0))
        return rt_fail(ctx, RT_E_NUMERIC, "%s on '%s': the runs measured no time (%g s)", p->what,
                       ctx->dev.name, best);
    *out = (rt_probe_result){.rate = (double)n * p->unit / best / 1e9, .seconds = best,
                             .work = (double)n * p->unit, .items = (long long)p->items,
                             .iters = n, .runs = PROBE_RUNS, .host_timed = host, .fused = 1};
    return RT_OK;
}

static rt_status check_target(rt_ctx *ctx, const char *what, double target_s, const void *out)
{
    if (!out || !(target_s > 0) || !(target_s < 600))
        return rt_fail(ctx, RT_E_ARG,
                       "%s on '%s': target time %g s (want 0 < t < 600) or no result", what,
                       ctx->dev.name, target_s);
    return RT_OK;
}

rt_status rt_probe_fma(rt_ctx *ctx, double target_s, rt_probe_result *out)
{
    rt_status s = check_target(ctx, "FMA probe", target_s, out);
    if (s != RT_OK) return s;
    probe p;
    int fused = 0;
    if ((s = fma_setup(ctx, &p, default_items(ctx), &fused)) == RT_OK &&
        (s = probe_measure(ctx, &p, target_s, (long long)PROBE_MAX_PASSES * RT_PROBE_FMA_MAX_ITERS,
                           out)) == RT_OK)
        out->fused = fused;
    probe_release(ctx, &p);
    return s;
}

rt_status rt_probe_bandwidth(rt_ctx *ctx, double target_s, rt_probe_result *out)
{
    rt_status s = check_target(ctx, "read probe", target_s, out);
    if (s != RT_OK) return s;
    size_t lanes = 0;
    int width = 0;
    rt_probe_read_shape(ctx, &lanes, &width);
    const size_t items = default_items(ctx);
    uint64_t bytes = PROBE_READ_BYTES;
    if (bytes > ctx->dev.max_alloc) bytes = ctx->dev.max_alloc;
    if (bytes > ctx->dev.global_mem / 4) bytes = ctx->dev.global_mem / 4;
    /* whole vectors per work-item, the same number for every one, within the loop's limit */
    const size_t vec = 4 * (size_t)width, blocks = items / lanes;
    const size_t most = 4 * (size_t)PROBE_MAX_LOOP * lanes;
    size_t per_block = (size_t)(bytes / vec) / blocks / lanes * lanes;
    if (per_block > most) per_block = most;
    if (per_block == 0)
        return rt_fail(ctx, RT_E_UNSUPPORTED,
                       "read probe: '%s' allows %.1f MiB per buffer, too little for %zu work-items",
                       ctx->dev.name, (double)bytes / (1 << 20), items);
    probe p;
    if ((s = read_setup(ctx, &p, NULL, per_block * blocks * (size_t)width, items)) == RT_OK)
        s = probe_measure(ctx, &p, target_s, PROBE_MAX_PASSES, out);
    probe_release(ctx, &p);
    return s;
}

/* One timed run of n units; out (may be NULL) receives the per-work-item results. */
static rt_status probe_once(rt_ctx *ctx, const probe *p, long long n, float *out, double *seconds)
{
    double t = 0;
    int host = 0;
    rt_status s = probe_time(ctx, p, n, &t, &host);
    if (s == RT_OK && out) s = rt_read(ctx, p->out, 0, out, p->items * sizeof(float));
    if (s != RT_OK) return s;
    if (seconds) *seconds = t;
    return RT_OK;
}

rt_status rt_probe_fma_run(rt_ctx *ctx, size_t items, int iters, float *out, double *seconds,
                           double *flops)
{
    if (iters < 0 || iters > RT_PROBE_FMA_MAX_ITERS)
        return rt_fail(ctx, RT_E_ARG, "FMA probe on '%s': %d iterations (want 0 to %d)",
                       ctx->dev.name, iters, RT_PROBE_FMA_MAX_ITERS);
    probe p;
    rt_status s = fma_setup(ctx, &p, items, NULL);
    if (s == RT_OK) s = probe_once(ctx, &p, iters, out, seconds);
    if (s == RT_OK && flops) *flops = (double)iters * p.unit;
    probe_release(ctx, &p);
    return s;
}

rt_status rt_probe_read_run(rt_ctx *ctx, const float *in, size_t floats, size_t items, float *out,
                            double *seconds, double *bytes)
{
    probe p;
    rt_status s = read_setup(ctx, &p, in, floats, items);
    if (s == RT_OK) s = probe_once(ctx, &p, 1, out, seconds);
    if (s == RT_OK && bytes) *bytes = p.unit;
    probe_release(ctx, &p);
    return s;
}
