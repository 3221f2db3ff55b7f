/* kernels/batchnorm.cl — batch normalization over each channel's N*H*W values (layout C x N x H x W,
 * so a channel is one contiguous block of M values).
 *
 * Per-channel sums come in two device styles chosen by RT_RED_WG (CPUs with enough channels run
 * a channel's sums and its element-wise pass in one work-item: bn_train_fwd, bn_bwd_fused):
 *   1  (CPUs): one work-item per channel, explicit float8 lanes summed in blocks of 1024 values,
 *      no barriers — the fast and precise form on PoCL;
 *   >1 (GPUs): a channel in segments of `seg` values, a work-group each (strided partial sums,
 *      then a fixed local-memory tree), the segments' sums added in order by one work-item a
 *      channel: a work-item loops over a few hundred values whatever the channel's length
 *      (llvmpipe silently leaves a work-item's loops after 65535 iterations), and a layer of
 *      few channels still gives a GPU many groups.
 * Both sum in a fixed order, so results reproduce run to run. Statistics are two-pass (mean, then
 * squared deviations). Running variance uses the unbiased estimate, as PyTorch does.
 */
#if RT_RED_WG == 1

/* sum of f(x[i]) over a channel; f given as a macro of v (a float8) and s (a float) */
#define CHANNEL_SUM(result, M, VEXPR, SEXPR)                                    \
    {                                                                           \
        float8 acc = 0.0f;                                                      \
        int i = 0;                                                              \
        for (; i + 1024 <= (M); i += 1024) {                                    \
            float8 blk = 0.0f;                                                  \
            for (int j = i; j < i + 1024; j += 8) blk += VEXPR(j);              \
            acc += blk;                                                         \
        }                                                                       \
        float8 blk = 0.0f;                                                      \
        for (; i + 8 <= (M); i += 8) blk += VEXPR(i);                           \
        acc += blk;                                                             \
        float tail = 0.0f;                                                      \
        for (; i < (M); i++) tail += SEXPR(i);                                  \
        result = ((acc.s0 + acc.s1) + (acc.s2 + acc.s3)) +                     \
                 ((acc.s4 + acc.s5) + (acc.s6 + acc.s7)) + tail;                \
    }

#else

inline float group_sum(float v, __local float *scratch)
{
    const int li = (int)get_local_id(0);
    scratch[li] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RT_RED_WG / 2; s > 0; s >>= 1) {
        if (li < s) scratch[li] += scratch[li + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* a work-group's sum of f(i) over its segment [g seg, min(M, (g + 1) seg)) of the channel,
 * strided by the group size; dim 0: segment g x RT_RED_WG, dim 1: channel */
#define SEGMENT_SUM(result, M, seg, SEXPR)                                      \
    {                                                                           \
        const int i0 = (int)get_group_id(0) * (seg), i1 = min((M), i0 + (seg)); \
        float part = 0.0f;                                                      \
        for (int i = i0 + (int)get_local_id(0); i < i1; i += RT_RED_WG) part += SEXPR(i); \
        result = group_sum(part, scratch);                                      \
    }

#endif

/* the running statistics after the batch's mean and biased variance */
inline void bn_running(int c, int M, float mu, float var, __global float *run_mean,
                       __global float *run_var, float momentum)
{
    const float unbiased = M > 1 ? var * (float)M / (float)(M - 1) : var;
    run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mu;
    run_var[c] = (1.0f - momentum) * run_var[c] + momentum * unbiased;
}

#define S_X(j) xc[j]
#define S_D2(j) ((xc[j] - mu) * (xc[j] - mu))

#if RT_RED_WG == 1
/* training statistics: mean and 1/sqrt(var + eps) of each channel; updates the running stats */
__kernel void bn_stats(__global const float *x, int M, int C, __global float *mean,
                       __global float *invstd, __global float *run_mean, __global float *run_var,
                       float momentum, float eps)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    __global const float *xc = x + (size_t)c * M;
#define V_X(j) vload8(0, xc + (j))
    float s;
    CHANNEL_SUM(s, M, V_X, S_X)
    const float mu = s / (float)M;
#define V_D2(j) ((vload8(0, xc + (j)) - mu) * (vload8(0, xc + (j)) - mu))
    float ss;
    CHANNEL_SUM(ss, M, V_D2, S_D2)
    const float var = ss / (float)M;
    mean[c] = mu;
    invstd[c] = 1.0f / sqrt(var + eps);
    bn_running(c, M, mu, var, run_mean, run_var, momentum);
}
#else
/* training statistics in four launches: the segments' sums of x (squares = 0) or of the squared
 * deviations from the channel means (squares = 1), part[c][g] for G segments a channel */
__kernel void bn_seg_sums(__global const float *x, int M, int seg, int G, __global const float *mean,
                          int squares, __global float *part)
{
    __local float scratch[RT_RED_WG];
    const int c = (int)get_global_id(1);
    __global const float *xc = x + (size_t)c * M;
    float s;
    if (squares) {
        const float mu = mean[c];
        SEGMENT_SUM(s, M, seg, S_D2)
    } else {
        SEGMENT_SUM(s, M, seg, S_X)
    }
    if (get_local_id(0) == 0) part[(size_t)c * G + get_group_id(0)] = s;
}

/* a channel's mean from its segments' sums, in order; one work-item a channel */
__kernel void bn_seg_mean(__global const float *part, int G, int M, int C, __global float *mean)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    float s = 0.0f;
    for (int g = 0; g < G; g++) s += part[(size_t)c * G + g];
    mean[c] = s / (float)M;
}

/* 1/sqrt(var + eps) and the running statistics from the squared deviations' segment sums */
__kernel void bn_seg_var(__global const float *part, int G, int M, int C, __global const float *mean,
                         __global float *invstd, __global float *run_mean, __global float *run_var,
                         float momentum, float eps)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    float ss = 0.0f;
    for (int g = 0; g < G; g++) ss += part[(size_t)c * G + g];
    const float var = ss / (float)M;
    invstd[c] = 1.0f / sqrt(var + eps);
    bn_running(c, M, mean[c], var, run_mean, run_var, momentum);
}
#endif

/* evaluation statistics from the running estimates */
__kernel void bn_eval_stats(__global const float *run_mean, __global const float *run_var, int C,
                            float eps, __global float *mean, __global float *invstd)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    mean[c] = run_mean[c];
    invstd[c] = 1.0f / sqrt(run_var[c] + eps);
}

/* The output y (forward) or dx (backward) may lie in a layout other than x's (runtime/rt.h
 * rt_plane_layout): a channel's M values are its planes of H rows of W, plane i of channel c at
 * OFF + (c * M / (H W) + i) * PS, row h of it h * RP further. Dense: PS = H * W, RP = W, OFF = 0;
 * otherwise the zero-padded input of the convolution that reads y, or the zero-padded dy of the
 * convolution whose output x is (net/model.c), which then needs no padding copy. */
#define Y_ARGS int H, int W, int PS, int RP, int OFF
#define Y_DENSE (PS == H * W && RP == W && OFF == 0)
inline __global float *bn_out_row(__global float *y, int c, int M, int r, int H, int W, int PS,
                                  int RP, int OFF)
{
    const int planes = M / (H * W);
    return y + OFF + ((size_t)c * planes + r / H) * PS + (size_t)(r % H) * RP;
}

/* A row's last n < 8 values (7 of cnn5's rows of 7, 6 of its rows of 14) as one vector, not a
 * scalar loop (which made the backward pass onto padded 7 x 7 maps 10x slower). Where the
 * layout leaves 8 or more floats between a plane's last value and the next plane's first (OVR:
 * a padded one), a whole vector is stored, the lanes past the row as zeros: onto the padding,
 * or onto the next row's values, which the same work-item writes after. The lanes load the
 * values after the row (BN_VLOAD: but never past the last channel). Elsewhere only lanes [0, n)
 * are loaded and stored (prelude.cl load_part8, store_part8). */
#define BN_LIVE(n) (((int8)(0, 1, 2, 3, 4, 5, 6, 7)) < (int8)(n))
#define OVR (PS - (H - 1) * RP - W >= 8)
#define BN_VLOAD(p, idx, n) ((size_t)c * M + (idx) + 8 <= (size_t)C * M ? vload8(0, (p) + (idx)) : load_part8((p) + (idx), (n)))

/* y = gamma * (x - mean) * invstd + beta, then max(y, 0) when relu = 1 (a following ReLU fused
 * in); 2-D launch: dim 1 = channel, dim 0 = chunk */
__kernel void bn_apply(__global const float *x, __global float *y, int M,
                       __global const float *mean, __global const float *invstd,
                       __global const float *gamma, __global const float *beta, int relu, Y_ARGS)
{
    const int c = (int)get_global_id(1);
    const int i0 = (int)get_global_id(0) * RT_CHUNK;
    if (i0 >= M) return;
    const int i1 = min(i0 + RT_CHUNK, M);
    const float a = gamma[c] * invstd[c], b = beta[c] - mean[c] * a;
    __global const float *xc = x + (size_t)c * M;
    for (int i = i0; i < i1;) { /* row by row of y's layout (a dense one is one row) */
        const int len = Y_DENSE ? M : W, r = i / len, j0 = i % len, j1 = min(len, j0 + (i1 - i));
        __global float *yr = Y_DENSE ? y + (size_t)c * M : bn_out_row(y, c, M, r, H, W, PS, RP, OFF);
        for (int j = j0; j < j1; j++, i++) {
            const float v = fma(xc[i], a, b);
            yr[j] = relu ? fmax(v, 0.0f) : v;
        }
    }
}

/* ---- a 2x2 max-pool that alone reads the batch norm, computed with it (net/model.c): the
 * normalized values (with the ReLU) of a window's two rows, their maximum stored at yr in the
 * pool's layout and the first maximum's index (0-3, row-major) at ar, exactly as
 * pool.cl maxpool2_fwd computes them from the stored output, which is then never written: 8
 * windows at once, then 4, then 2, then one; an odd last row or column is in no window. */
/* N windows at once: the even and odd lanes of 2N values of the two rows */
#define BN_POOL2_VEC(N, N2)                                                                 \
    for (; ow + N <= OW; ow += N) {                                                         \
        float##N2 t = fma(vload##N2(0, r0 + 2 * ow), (float##N2)a, (float##N2)b);          \
        float##N2 u = fma(vload##N2(0, r1 + 2 * ow), (float##N2)a, (float##N2)b);          \
        if (relu) t = fmax(t, 0.0f), u = fmax(u, 0.0f);                                    \
        POOL2_STORE(N, t.even, t.odd, u.even, u.odd, yr + ow, ar + ow)                      \
    }

inline void bn_pool2_row(__global const float *r0, __global const float *r1, float a, float b, int relu,
                         int OW, __global float *yr, __global uchar *ar)
{
    int ow = 0;
    BN_POOL2_VEC(8, 16)
    BN_POOL2_VEC(4, 8)
    BN_POOL2_VEC(2, 4)
    for (; ow < OW; ow++) {
        float pa = fma(r0[2 * ow], a, b), pb = fma(r0[2 * ow + 1], a, b);
        float pc = fma(r1[2 * ow], a, b), pd = fma(r1[2 * ow + 1], a, b);
        if (relu) pa = fmax(pa, 0.0f), pb = fmax(pb, 0.0f), pc = fmax(pc, 0.0f), pd = fmax(pd, 0.0f);
        pool2_store1(pa, pb, pc, pd, yr + ow, ar + ow);
    }
}

/* bn_apply and the pool: one output row (dim 0) of a plane (dim 1: channel c = plane / N); the
 * pool's output plane pl at OFF + pl * PS, rows RP apart (Y_ARGS of the pool's layout, H x W
 * the batch norm's maps) */
__kernel void bn_pool2_apply(__global const float *x, int N, int planes, __global const float *mean,
                             __global const float *invstd, __global const float *gamma,
                             __global const float *beta, int relu, __global float *py,
                             __global uchar *parg, Y_ARGS)
{
    const int oh = (int)get_global_id(0), pl = (int)get_global_id(1), OH = H / 2, OW = W / 2;
    if (oh >= OH || pl >= planes) return;
    const int c = pl / N;
    const float a = gamma[c] * invstd[c], b = beta[c] - mean[c] * a;
    __global const float *r0 = x + ((size_t)pl * H + 2 * oh) * W;
    bn_pool2_row(r0, r0 + W, a, b, relu, OW, py + OFF + (size_t)pl * PS + (size_t)oh * RP,
                 parg + ((size_t)pl * OH + oh) * OW);
}

/* With a fused ReLU the gradient that reaches the batch norm is dy where its output was > 0,
 * that is where fma(x, a, b) > 0 with bn_apply's a and b: recomputed from x, bit for bit the
 * forward's decision, so the backward pass never reads the output (a third less traffic). */
#define V_RELU(v, j) (relu ? select((float8)0.0f, (v), isgreater(fma(vload8(0, xc + (j)), (float8)a, (float8)b), (float8)0.0f)) : (v))
#define S_RELU(v, j) (relu ? (fma(xc[j], a, b) > 0.0f ? (v) : 0.0f) : (v))

#if RT_RED_WG == 1
/* two sums over a channel in one pass, each in CHANNEL_SUM's blocked order */
#define CHANNEL_SUM2(r1, r2, M, V1, S1, V2, S2)                                          \
    {                                                                                    \
        float8 acc1 = 0.0f, acc2 = 0.0f;                                                 \
        int i = 0;                                                                       \
        for (; i + 1024 <= (M); i += 1024) {                                             \
            float8 b1 = 0.0f, b2 = 0.0f;                                                 \
            for (int j = i; j < i + 1024; j += 8) { b1 += V1(j); b2 += V2(j); }          \
            acc1 += b1;                                                                  \
            acc2 += b2;                                                                  \
        }                                                                                \
        float8 b1 = 0.0f, b2 = 0.0f;                                                     \
        for (; i + 8 <= (M); i += 8) { b1 += V1(i); b2 += V2(i); }                       \
        acc1 += b1;                                                                      \
        acc2 += b2;                                                                      \
        float t1 = 0.0f, t2 = 0.0f;                                                      \
        for (; i < (M); i++) { t1 += S1(i); t2 += S2(i); }                               \
        r1 = ((acc1.s0 + acc1.s1) + (acc1.s2 + acc1.s3)) + ((acc1.s4 + acc1.s5) + (acc1.s6 + acc1.s7)) + t1; \
        r2 = ((acc2.s0 + acc2.s1) + (acc2.s2 + acc2.s3)) + ((acc2.s4 + acc2.s5) + (acc2.s6 + acc2.s7)) + t2; \
    }
#endif

#define V_G(j) V_RELU(vload8(0, gc + (j)), j)
#define S_G(j) S_RELU(gc[j], j)
#define V_GX(j) (V_RELU(vload8(0, gc + (j)), j) * (vload8(0, xc + (j)) - mu))
#define S_GX(j) (S_RELU(gc[j], j) * (xc[j] - mu))

#if RT_RED_WG == 1
/* dbeta = sum g, dgamma = sum g * xhat, per channel (g = dy, masked by the ReLU), in one pass */
__kernel void bn_bwd_reduce(__global const float *x, __global const float *dy, int relu, int M, int C,
                            __global const float *mean, __global const float *invstd,
                            __global const float *gamma, __global const float *beta,
                            __global float *dgamma, __global float *dbeta)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    __global const float *xc = x + (size_t)c * M;
    __global const float *gc = dy + (size_t)c * M;
    const float mu = mean[c], a = gamma[c] * invstd[c], b = beta[c] - mu * a;
    float sg, sgx;
    CHANNEL_SUM2(sg, sgx, M, V_G, S_G, V_GX, S_GX)
    dbeta[c] = sg;
    dgamma[c] = sgx * invstd[c];
}
#else
/* the same sums in segments (as bn_seg_sums): part[c][g][0] = sum g, part[c][g][1] = sum g (x - mean) */
__kernel void bn_seg_grad(__global const float *x, __global const float *dy, int relu, int M, int seg,
                          int G, __global const float *mean, __global const float *invstd,
                          __global const float *gamma, __global const float *beta, __global float *part)
{
    __local float scratch[RT_RED_WG];
    const int c = (int)get_global_id(1);
    __global const float *xc = x + (size_t)c * M;
    __global const float *gc = dy + (size_t)c * M;
    const float mu = mean[c], a = gamma[c] * invstd[c], b = beta[c] - mu * a;
    float sg, sgx;
    SEGMENT_SUM(sg, M, seg, S_G)
    SEGMENT_SUM(sgx, M, seg, S_GX)
    if (get_local_id(0) == 0) {
        __global float *o = part + 2 * ((size_t)c * G + get_group_id(0));
        o[0] = sg;
        o[1] = sgx;
    }
}

/* dbeta and dgamma from the segments' sums, in order; one work-item a channel */
__kernel void bn_seg_grad_out(__global const float *part, int G, int C, __global const float *invstd,
                              __global float *dgamma, __global float *dbeta)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    float sg = 0.0f, sgx = 0.0f;
    for (int g = 0; g < G; g++) {
        sg += part[2 * ((size_t)c * G + g)];
        sgx += part[2 * ((size_t)c * G + g) + 1];
    }
    dbeta[c] = sg;
    dgamma[c] = sgx * invstd[c];
}
#endif

/* dx = gamma * invstd * (g - dbeta/M - xhat * dgamma/M) after a training forward (batch
 * statistics depend on every input); dx = gamma * invstd * g after an evaluation forward (fixed
 * running statistics, batch_stats = 0). acc = 1 adds into dx. */
__kernel void bn_bwd_dx(__global const float *x, __global const float *dy, int relu, __global float *dx,
                        int M, __global const float *mean, __global const float *invstd,
                        __global const float *gamma, __global const float *beta,
                        __global const float *dgamma, __global const float *dbeta, int acc,
                        int batch_stats, Y_ARGS)
{
    const int c = (int)get_global_id(1);
    const int i0 = (int)get_global_id(0) * RT_CHUNK;
    if (i0 >= M) return;
    const int i1 = min(i0 + RT_CHUNK, M);
    const float is = invstd[c], mu = mean[c];
    const float k = gamma[c] * is, a = k, b = beta[c] - mu * a;
    const float mg = batch_stats ? dbeta[c] / (float)M : 0.0f;
    const float mgx = batch_stats ? dgamma[c] / (float)M : 0.0f;
    __global const float *xc = x + (size_t)c * M;
    __global const float *gc = dy + (size_t)c * M;
    for (int i = i0; i < i1;) { /* row by row of dx's layout (a dense one is one row) */
        const int len = Y_DENSE ? M : W, r = i / len, j0 = i % len, j1 = min(len, j0 + (i1 - i));
        __global float *dr = Y_DENSE ? dx + (size_t)c * M : bn_out_row(dx, c, M, r, H, W, PS, RP, OFF);
        for (int j = j0; j < j1; j++, i++) {
            const float g = S_RELU(gc[i], i);
            const float v = k * (g - mg - (xc[i] - mu) * is * mgx);
            dr[j] = acc ? dr[j] + v : v;
        }
    }
}

#if RT_RED_WG == 1
/* ---- one pass a channel on CPUs: the statistics (or the sums) and then the element-wise part,
 * by the same work-item, so that its second and third reads of the channel come from its core's
 * cache instead of memory (a channel of cnn5's 28 x 28 layers is 400 KB). The same sums in the
 * same order and the same element-wise formulas as the kernels above: bit-identical results.
 * runtime: net/layers/bn.c uses these where there are enough channels to keep every core busy. */

/* bn_stats for channel c (the statistics and running statistics); returns y = a x + b's a and b */
inline float2 bn_train_stats(__global const float *xc, int c, int M, __global float *mean,
                             __global float *invstd, __global float *run_mean, __global float *run_var,
                             float momentum, float eps, __global const float *gamma,
                             __global const float *beta)
{
    float s;
    CHANNEL_SUM(s, M, V_X, S_X)
    const float mu = s / (float)M;
    float ss;
    CHANNEL_SUM(ss, M, V_D2, S_D2)
    const float var = ss / (float)M, is = 1.0f / sqrt(var + eps);
    mean[c] = mu;
    invstd[c] = is;
    const float unbiased = M > 1 ? var * (float)M / (float)(M - 1) : var;
    run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mu;
    run_var[c] = (1.0f - momentum) * run_var[c] + momentum * unbiased;
    const float a = gamma[c] * is;
    return (float2)(a, beta[c] - mu * a);
}

#define BN_TRAIN_ARGS                                                                     \
    __global const float *x, int M, int C, __global float *mean, __global float *invstd,  \
        __global float *run_mean, __global float *run_var, float momentum, float eps,      \
        __global const float *gamma, __global const float *beta, int relu

/* bn_stats, then bn_apply for the channel */
__kernel void bn_train_fwd(__global float *y, BN_TRAIN_ARGS, Y_ARGS)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    __global const float *xc = x + (size_t)c * M;
    const float2 ab = bn_train_stats(xc, c, M, mean, invstd, run_mean, run_var, momentum, eps, gamma, beta);
    const float a = ab.x, b = ab.y;
    /* plane by plane, row by row (dense: the channel as one row), no division a row */
    const int planes = Y_DENSE ? 1 : M / (H * W), hh = Y_DENSE ? 1 : H, len = Y_DENSE ? M : W;
    for (int pl = 0, r = 0; pl < planes; pl++) {
        for (int h = 0; h < hh; h++, r++) {
            __global const float *xr = xc + (size_t)r * len;
            __global float *yr = Y_DENSE ? y + (size_t)c * M
                                         : y + OFF + ((size_t)c * planes + pl) * PS + (size_t)h * RP;
            int i = 0;
            for (; i + 8 <= len; i += 8) {
                const float8 v = fma(vload8(0, xr + i), (float8)a, (float8)b);
                vstore8(relu ? fmax(v, 0.0f) : v, 0, yr + i);
            }
            if (i < len) {
                const int n = len - i, ovr = OVR;
                const float8 xv = ovr ? BN_VLOAD(xc, r * len + i, n) : load_part8(xr + i, n);
                float8 v = fma(xv, (float8)a, (float8)b);
                if (relu) v = fmax(v, 0.0f);
                if (ovr) vstore8(select((float8)0.0f, v, BN_LIVE(n)), 0, yr + i);
                else store_part8(yr + i, v, n, 0);
            }
        }
    }
}

/* bn_stats, then bn_pool2_apply for the channel's planes */
__kernel void bn_train_fwd_pool2(__global float *py, __global uchar *parg, BN_TRAIN_ARGS, Y_ARGS)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    __global const float *xc = x + (size_t)c * M;
    const float2 ab = bn_train_stats(xc, c, M, mean, invstd, run_mean, run_var, momentum, eps, gamma, beta);
    const int N = M / (H * W), OH = H / 2, OW = W / 2;
    for (int n = 0; n < N; n++) {
        const size_t pl = (size_t)c * N + n;
        for (int oh = 0; oh < OH; oh++) {
            __global const float *r0 = xc + ((size_t)n * H + 2 * oh) * W;
            bn_pool2_row(r0, r0 + W, ab.x, ab.y, relu, OW, py + OFF + pl * PS + (size_t)oh * RP,
                         parg + (pl * OH + oh) * OW);
        }
    }
}

/* bn_bwd_reduce, then bn_bwd_dx for the channel (after a training forward) */
__kernel void bn_bwd_fused(__global const float *x, __global const float *dy, int relu, __global float *dx,
                           int M, int C, __global const float *mean, __global const float *invstd,
                           __global const float *gamma, __global const float *beta,
                           __global float *dgamma, __global float *dbeta, int acc, Y_ARGS)
{
    const int c = (int)get_global_id(0);
    if (c >= C) return;
    __global const float *xc = x + (size_t)c * M;
    __global const float *gc = dy + (size_t)c * M;
    const float mu = mean[c], is = invstd[c], a = gamma[c] * is, b = beta[c] - mu * a;
    float sg, sgx;
    CHANNEL_SUM2(sg, sgx, M, V_G, S_G, V_GX, S_GX)
    const float dg = sgx * is;
    dbeta[c] = sg;
    dgamma[c] = dg;
    const float k = a, mg = sg / (float)M, mgx = dg / (float)M;
    /* dx in its layout, plane by plane, row by row (a dense one is one row), as bn_train_fwd;
     * i runs over the channel's values */
    const int planes = Y_DENSE ? 1 : M / (H * W), hh = Y_DENSE ? 1 : H, len = Y_DENSE ? M : W;
    for (int pl = 0, r = 0; pl < planes; pl++) {
        for (int h = 0; h < hh; h++, r++) {
            __global float *dc = Y_DENSE ? dx + (size_t)c * M
                                         : dx + OFF + ((size_t)c * planes + pl) * PS + (size_t)h * RP;
            const int base = r * len;
            int j = 0;
            for (; j + 8 <= len; j += 8) {
                const int i = base + j;
                const float8 g = V_RELU(vload8(0, gc + i), i);
                const float8 v = k * (g - mg - (vload8(0, xc + i) - mu) * is * mgx);
                vstore8(acc ? vload8(0, dc + j) + v : v, 0, dc + j);
            }
            if (j < len) {
                const int i = base + j, n = len - j, ovr = OVR;
                const float8 xv = ovr ? BN_VLOAD(xc, i, n) : load_part8(xc + i, n);
                const float8 gv = ovr ? BN_VLOAD(gc, i, n) : load_part8(gc + i, n);
                const float8 g = relu ? select((float8)0.0f, gv, isgreater(fma(xv, (float8)a, (float8)b), (float8)0.0f)) : gv;
                float8 v = k * (g - mg - (xv - mu) * is * mgx);
                if (ovr) {
                    v = select((float8)0.0f, v, BN_LIVE(n));
                    vstore8(acc ? vload8(0, dc + j) + v : v, 0, dc + j);
                } else {
                    store_part8(dc + j, v, n, acc);
                }
            }
        }
    }
}
#endif
