/* runtime/gemm.c — the one GEMM interface, dispatching per device to CLBlast or gammacl's kernels.
 *
 * net/ calls rt_gemm and never knows which implementation ran: the device table picks it (CLBlast
 * on GPUs, where it is tuned; gammacl's register-tiled kernels on CPUs, where CLBlast runs ~10x
 * slower). The own path turns every case into the kernels' NN/TN form:
 *   - a transposed B is transposed into scratch first (B is then K x N);
 *   - with a long K (the weight gradient, K = batch * pixels) and a transposed B it computes
 *     C^T = B * A^T instead, split along K; the slices are summed in a fixed order (sum_slices) and
 *     transposed back with alpha and beta. Scratch memory is owned here and reused across calls
 *     (in-order queue).
 * The CLBlast path splits a long K over a small C the same way (one strided-batched call, then a
 * fixed-order sum), since CLBlast spreads only the tiles of C over the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

#include <clblast_c.h>

const char *rt_clblast_version(void) { return RT_CLBLAST_VERSION; }

const char *rt_gemm_path_name(rt_gemm_path p)
{
    switch (p) {
    case RT_GEMM_OWN_CPU: return "gammacl-cpu";
    case RT_GEMM_CLBLAST: return "clblast";
    }
    return "?";
}

rt_status rt_scratch(rt_ctx *ctx, int slot, size_t bytes, rt_buf **out)
{
    rt_buf **b = &ctx->scratch[slot];
    if (!*b || rt_buf_size(*b) < bytes) {
        if (*b) rt_free(ctx, *b);
        *b = NULL;
        rt_status s = rt_alloc(ctx, bytes, b);
        if (s != RT_OK) return rt_wrap(ctx, s, "scratch memory");
    }
    *out = *b;
    return RT_OK;
}

static rt_status scratch(rt_ctx *ctx, size_t floats, rt_buf **out)
{
    return rt_scratch(ctx, RT_SCRATCH_GEMM, floats * sizeof(float), out);
}

static rt_status clblast_fail(rt_ctx *ctx, CLBlastStatusCode rc, const char *call, const rt_gemm_args *g)
{
    char what[96];
    snprintf(what, sizeof what, "(%c%c, M=%d N=%d K=%d)", g->trans_a ? 'T' : 'N', g->trans_b ? 'T' : 'N',
             g->m, g->n, g->k);
    return rt_cl_fail(ctx, rc, call, what);
}

/* Slices for a CLBlast GEMM with a long K and a small C: CLBlast parallelizes over tiles of C
 * only, so cnn5's first weight gradients (C of 32 x 9 and 32 x 288, K = 100352) left an H100
 * nearly idle for 5-6 ms each of a 17 ms step. Slices of at least 2048 along K, at most 64, a
 * divisor of K (the batched call needs equal slices), scratch of at most 16M floats; 1 = none. */
static int clblast_slices(const rt_gemm_args *g)
{
    const size_t mn = (size_t)g->m * (size_t)g->n;
    if (g->k < 8192 || mn >= ((size_t)1 << 20)) return 1;
    int s = g->k / 2048 < 64 ? g->k / 2048 : 64;
    while (s > 1 && (g->k % s != 0 || mn * (size_t)s > ((size_t)16 << 20))) s--;
    return s;
}

/* C = alpha A B + beta C as S partial products over K slices (one strided-batched call into
 * scratch), then summed in slice order with alpha and beta (util.cl sum_slices_axpby). */
static rt_status run_clblast_split(rt_ctx *ctx, const rt_gemm_args *g, int S)
{
    const size_t mn = (size_t)g->m * (size_t)g->n, kc = (size_t)(g->k / S);
    rt_buf *sc = NULL;
    rt_status s = scratch(ctx, (size_t)S * mn, &sc);
    if (s != RT_OK) return s;
    const size_t a_stride = g->trans_a ? kc * (size_t)g->lda : kc;
    const size_t b_stride = g->trans_b ? kc : kc * (size_t)g->ldb;
    const double t0 = ctx->prof_on ? rt_now() : 0;
    cl_event *ev = rt_prof_event_slot(ctx);
    CLBlastStatusCode rc = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n, kc, 1.0f,
        g->a->mem, g->a_off, (size_t)g->lda, a_stride, g->b->mem, g->b_off, (size_t)g->ldb, b_stride,
        0.0f, sc->mem, 0, (size_t)g->n, mn, (size_t)S, &ctx->queue, ev);
    if (rc != CLBlastSuccess) return clblast_fail(ctx, rc, "CLBlastSgemmStridedBatched", g);
    rt_prof_after(ctx, t0);
    rt_kernel *sum;
    if ((s = rt_kernel_get(ctx, "util", "sum_slices_axpby", &sum)) != RT_OK) return s;
    const size_t chunk = (size_t)ctx->params.chunk;
    return RT_LAUNCH1(ctx, sum, (mn + chunk - 1) / chunk, RT_BUF(sc), RT_I32(S), RT_I32(g->m),
                      RT_I32(g->n), RT_F32(g->alpha), RT_F32(g->beta), RT_BUF(g->c), RT_I32(g->c_off),
                      RT_I32(g->ldc));
}

static rt_status run_clblast(rt_ctx *ctx, const rt_gemm_args *g)
{
    const int S = clblast_slices(g);
    if (S > 1) return run_clblast_split(ctx, g, S);
    const double t0 = ctx->prof_on ? rt_now() : 0;
    cl_event *ev = rt_prof_event_slot(ctx);
    CLBlastStatusCode rc = CLBlastSgemm(
        CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, g->a->mem, g->a_off, (size_t)g->lda, g->b->mem, g->b_off,
        (size_t)g->ldb, g->beta, g->c->mem, g->c_off, (size_t)g->ldc, &ctx->queue, ev);
    if (rc != CLBlastSuccess) return clblast_fail(ctx, rc, "CLBlastSgemm", g);
    rt_prof_after(ctx, t0);
    return RT_OK;
}

/* A C too large to stay in cache goes out with non-temporal stores: whole aligned vectors (rows
 * a multiple of 16 floats apart), overwritten (beta 0); split products never (their slices are
 * summed at once). */
static int streams_c(const rt_ctx *ctx, int m, int n, float beta, int ldc, size_t coff)
{
    return beta == 0.0f && ldc % 16 == 0 && coff % 16 == 0 &&
           (size_t)m * (size_t)n * sizeof(float) >= ctx->stream_min_bytes;
}

static rt_status launch_tile(rt_ctx *ctx, int trans_a, int m, int n, int k, float alpha,
                             const rt_buf *a, size_t aoff, int lda, const rt_buf *b, size_t boff,
                             int ldb, float beta, rt_buf *c, size_t coff, int ldc, int nsplit,
                             int kchunk, size_t cstride)
{
    const rt_tune_kernel tk = trans_a ? RT_TUNE_GEMM_TN : RT_TUNE_GEMM_NN;
    const int cls = nsplit > 1 && !trans_a ? RT_TUNE_SPLIT_K : rt_tune_class_of(m);
    const int stream = nsplit == 1 && streams_c(ctx, m, n, beta, ldc, coff);
    rt_tune_choice tc;
    rt_kernel *kr;
    rt_status s = rt_tuned_kernel(ctx, "gemm", trans_a ? "gemm_tn" : "gemm_nn", tk, cls,
                                  stream ? "-DGEMM_STREAM=1" : "", &tc, &kr);
    if (s != RT_OK) return s;
    size_t panels = (size_t)(n + tc.nv * tc.vw - 1) / (tc.nv * tc.vw);
    /* a few panels per group keeps groups substantial without starving either core */
    size_t lws[2] = {rt_tuned_local(kr, panels, tc.ls), 1};
    size_t gws[2] = {panels, (size_t)nsplit};
    return RT_LAUNCH(ctx, kr, 2, gws, lws, RT_I32(m), RT_I32(n), RT_I32(k), RT_F32(alpha),
                     RT_BUF(a), RT_I32(aoff), RT_I32(lda), RT_BUF(b), RT_I32(boff), RT_I32(ldb),
                     RT_F32(beta), RT_BUF(c), RT_I32(coff), RT_I32(ldc), RT_I32(kchunk),
                     RT_I32(cstride));
}

static rt_status transpose(rt_ctx *ctx, int rows, int cols, const rt_buf *in, size_t ioff, int ld_in,
                           rt_buf *out, size_t ooff)
{
    rt_kernel *k;
    rt_status s = rt_kernel_get(ctx, "gemm", "transpose", &k);
    if (s != RT_OK) return s;
    size_t gws[2] = {(size_t)(cols + 15) / 16, (size_t)(rows + 15) / 16};
    size_t lws[2] = {1, 1};
    return RT_LAUNCH(ctx, k, 2, gws, lws, RT_I32(rows), RT_I32(cols), RT_BUF(in), RT_I32(ioff),
                     RT_I32(ld_in), RT_BUF(out), RT_I32(ooff), RT_I32(rows));
}

/* The split along K: slices of about 1k values (measured best between 768 and 1536). */
static int split_count(const rt_gemm_args *g, int panels)
{
    if (g->k < 4096) return 1;
    int s = g->k / 1024;
    if (panels >= 64) s = s < 4 ? s : 4; /* enough panels already: split only to bound slices */
    return s < 1 ? 1 : s;
}

/* the own GEMM's long-K products with a transposed B: split along K (run_own) */
static int split_along_k(const rt_gemm_args *g) { return g->trans_b && g->k >= 4096; }

static rt_status run_own(rt_ctx *ctx, const rt_gemm_args *g)
{
    const size_t mn = (size_t)g->m * (size_t)g->n;
    if (split_along_k(g)) {
        /* C^T[N,M] = B[N,K] * A^T[K,M], split along K, reduced and transposed back. */
        const int panels = (g->m + 15) / 16;
        const int S = split_count(g, panels);
        const int kchunk = (g->k + S - 1) / S;
        size_t at_floats = g->trans_a ? 0 : (size_t)g->k * (size_t)g->m;
        rt_buf *sc = NULL;
        rt_status s = scratch(ctx, at_floats + (size_t)(S + 1) * mn, &sc);
        if (s != RT_OK) return s;
        const rt_buf *bt = g->a; /* A^T as K x M */
        size_t bt_off = g->a_off;
        int ldbt = g->lda;
        if (!g->trans_a) {
            s = transpose(ctx, g->m, g->k, g->a, g->a_off, g->lda, sc, 0);
            if (s != RT_OK) return s;
            bt = sc, bt_off = 0, ldbt = g->m;
        }
        s = launch_tile(ctx, 0, g->n, g->m, g->k, 1.0f, g->b, g->b_off, g->ldb, bt, bt_off, ldbt,
                        0.0f, sc, at_floats, g->m, S, kchunk, mn);
        if (s != RT_OK) return s;
        /* slices summed in order into T (N x M, right after them), then C = alpha T^T + beta C */
        const size_t t_off = at_floats + (size_t)S * mn;
        rt_kernel *sum, *tr;
        if ((s = rt_kernel_get(ctx, "util", "sum_slices", &sum)) != RT_OK ||
            (s = rt_kernel_get(ctx, "gemm", "transpose_axpby", &tr)) != RT_OK)
            return s;
        const size_t chunk = (size_t)ctx->params.chunk;
        s = RT_LAUNCH1(ctx, sum, (mn + chunk - 1) / chunk, RT_BUF(sc), RT_I32(at_floats), RT_I32(S),
                       RT_I32(mn), RT_BUF(sc), RT_I32(t_off), RT_I32(mn));
        if (s != RT_OK) return s;
        size_t tg[2] = {(size_t)(g->n + 15) / 16, (size_t)(g->m + 15) / 16}, tl[2] = {1, 1};
        return RT_LAUNCH(ctx, tr, 2, tg, tl, RT_I32(g->m), RT_I32(g->n), RT_F32(g->alpha), RT_BUF(sc),
                         RT_I32(t_off), RT_F32(g->beta), RT_BUF(g->c), RT_I32(g->c_off), RT_I32(g->ldc));
    }
    const rt_buf *b = g->b;
    size_t boff = g->b_off;
    int ldb = g->ldb;
    if (g->trans_b) {
        rt_buf *sc = NULL;
        rt_status s = scratch(ctx, (size_t)g->k * (size_t)g->n, &sc);
        if (s != RT_OK) return s;
        s = transpose(ctx, g->n, g->k, g->b, g->b_off, g->ldb, sc, 0);
        if (s != RT_OK) return s;
        b = sc, boff = 0, ldb = g->n;
    }
    return launch_tile(ctx, g->trans_a, g->m, g->n, g->k, g->alpha, g->a, g->a_off, g->lda, b, boff,
                       ldb, g->beta, g->c, g->c_off, g->ldc, 1, g->k, 0);
}

void rt_gemm_force_stream(rt_ctx *ctx, int on)
{
    const uint64_t cache = ctx->dev.global_cache;
    ctx->stream_min_bytes = !ctx->params.gemm_stream ? SIZE_MAX : on ? 0 : cache ? (size_t)cache : SIZE_MAX;
}

int rt_gemm_streams(const rt_ctx *ctx, const rt_gemm_args *g)
{
    if (ctx->params.gemm != RT_GEMM_OWN_CPU || split_along_k(g)) return 0;
    return streams_c(ctx, g->m, g->n, g->beta, g->ldc, g->c_off);
}

static rt_status check_args(rt_ctx *ctx, const rt_gemm_args *g)
{
    if (g->m <= 0 || g->n <= 0 || g->k <= 0)
        return rt_fail(ctx, RT_E_ARG, "GEMM with empty dimensions M=%d N=%d K=%d", g->m, g->n, g->k);
    const size_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
    const size_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
    if ((size_t)g->lda < ac || (size_t)g->ldb < bc || g->ldc < g->n)
        return rt_fail(ctx, RT_E_ARG, "GEMM leading dimensions too small (lda %d, ldb %d, ldc %d)",
                       g->lda, g->ldb, g->ldc);
    if ((g->a_off + (ar - 1) * g->lda + ac) * 4 > rt_buf_size(g->a) ||
        (g->b_off + (br - 1) * g->ldb + bc) * 4 > rt_buf_size(g->b) ||
        (g->c_off + (size_t)(g->m - 1) * g->ldc + g->n) * 4 > rt_buf_size(g->c))
        return rt_fail(ctx, RT_E_ARG, "GEMM operand larger than its buffer (M=%d N=%d K=%d)", g->m,
                       g->n, g->k);
    return RT_OK;
}

rt_status rt_gemm_setup(rt_ctx *ctx)
{
    if (ctx->params.gemm != RT_GEMM_CLBLAST || !ctx->params.clblast_direct) return RT_OK;
    /* CLBlast uses its direct kernel when M*N*K < XGEMM_MIN_INDIRECT_SIZE^3 */
    const char *names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    const size_t values[] = {(size_t)1 << 20};
    CLBlastStatusCode rc = CLBlastOverrideParameters(ctx->device, "GemmRoutine", CLBlastPrecisionSingle,
                                                     1, names, values);
    return rc == CLBlastSuccess ? RT_OK
                                : rt_cl_fail(ctx, rc, "CLBlastOverrideParameters", "(GemmRoutine, direct GEMM)");
}

rt_status rt_gemm_with(rt_ctx *ctx, rt_gemm_path path, const rt_gemm_args *g)
{
    rt_status s = check_args(ctx, g);
    if (s != RT_OK) return s;
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    return path == RT_GEMM_CLBLAST ? run_clblast(ctx, g) : run_own(ctx, g);
}

rt_status rt_gemm(rt_ctx *ctx, const rt_gemm_args *g)
{
    return rt_gemm_with(ctx, ctx->params.gemm, g);
}
