/* kernels/pool.cl — max pooling (window = stride = K) and global average pooling.
 *
 * One work-item per image plane (channel, sample). Max pooling's backward recomputes which input
 * of each window was the maximum (the first one, in row-major order, as the forward took it) and
 * routes the gradient there; inputs outside every window (odd sizes) get zero. No atomics.
 */
__kernel void maxpool_fwd(__global const float *x, __global float *y, int planes, int H, int W,
                          int K)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const int OH = H / K, OW = W / K;
    __global const float *xp = x + (size_t)pl * H * W;
    __global float *yp = y + (size_t)pl * OH * OW;
    for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
            float m = xp[(oh * K) * W + ow * K];
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++) m = fmax(m, xp[(oh * K + a) * W + ow * K + b]);
            yp[oh * OW + ow] = m;
        }
}

__kernel void maxpool_bwd(__global const float *x, __global const float *y,
                          __global const float *dy, __global float *dx, int planes, int H, int W,
                          int K, int acc)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const int OH = H / K, OW = W / K;
    __global const float *xp = x + (size_t)pl * H * W;
    __global const float *yp = y + (size_t)pl * OH * OW;
    __global const float *dyp = dy + (size_t)pl * OH * OW;
    __global float *dxp = dx + (size_t)pl * H * W;
    /* every window writes all of its inputs: the gradient at the first maximum, zero elsewhere */
    for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
            const float m = yp[oh * OW + ow], g = dyp[oh * OW + ow];
            int found = 0;
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++) {
                    const int i = (oh * K + a) * W + ow * K + b;
                    const int hit = !found && xp[i] == m;
                    found |= hit;
                    const float v = hit ? g : 0.0f;
                    dxp[i] = acc ? dxp[i] + v : v;
                }
        }
    /* rows and columns outside every window (odd sizes) get no gradient */
    if (!acc) {
        for (int r = OH * K; r < H; r++)
            for (int c = 0; c < W; c++) dxp[r * W + c] = 0.0f;
        for (int r = 0; r < OH * K; r++)
            for (int c = OW * K; c < W; c++) dxp[r * W + c] = 0.0f;
    }
}

/* N windows at once (8, then 4): even and odd lanes of two rows (prelude.cl POOL2_STORE) */
#define POOL2_FWD_VEC(N, N2)                                                                       \
    {                                                                                              \
        const float##N2 t = vload##N2(0, r0 + 2 * ow), u = vload##N2(0, r1 + 2 * ow);              \
        POOL2_STORE(N, t.even, t.odd, u.even, u.odd, yr + ow, ar + ow)                             \
    }

/* the lanes of a and b interleaved: a0 b0 a1 b1 ... */
inline float16 pool_interleave8(float8 a, float8 b)
{
    return (float16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3, a.s4, b.s4, a.s5, b.s5, a.s6, b.s6,
                     a.s7, b.s7);
}
inline float8 pool_interleave4(float4 a, float4 b)
{
    return (float8)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3);
}

/* the gradients of N windows (8, then 4) into their two rows of 2N values */
#define POOL2_BWD_VEC(N, N2)                                                                       \
    {                                                                                              \
        const float##N g = vload##N(0, gr + ow), z = 0.0f;                                         \
        const int##N i = convert_int##N(vload##N(0, ar + ow));                                     \
        float##N2 top = pool_interleave##N(select(z, g, i == 0), select(z, g, i == 1));            \
        float##N2 bot = pool_interleave##N(select(z, g, i == 2), select(z, g, i == 3));            \
        if (acc) top += vload##N2(0, d0 + 2 * ow), bot += vload##N2(0, d1 + 2 * ow);               \
        vstore##N2(top, 0, d0 + 2 * ow);                                                           \
        vstore##N2(bot, 0, d1 + 2 * ow);                                                           \
    }

/* the windows of a row from ow on in vectors: of 8 while they last, then one of 4 */
#define POOL2_VECTORS(VEC)                                                                         \
    for (; ow + 8 <= OW; ow += 8) VEC(8, 16)                                                       \
    if (ow + 4 <= OW) {                                                                            \
        VEC(4, 8)                                                                                  \
        ow += 4;                                                                                   \
    }

/* 2x2 windows, one work-item per output row (dim 0 = row, dim 1 = plane). The forward pass
 * also stores which of the four inputs was the (first) maximum, one byte per output, so the
 * backward pass reads only dy and that byte; same results as maxpool_fwd/bwd with K = 2.
 * Rows go in vectors of 8 windows, then 4 (cnn5's rows of 14 and 7), then one by one. The
 * output plane pl starts at OFF + pl * PS, its rows RP apart (runtime/rt.h rt_plane_layout):
 * dense, or the zero-padded input of the convolution that reads it. */
__kernel void maxpool2_fwd(__global const float *x, __global float *y, __global uchar *arg,
                           int planes, int H, int W, int PS, int RP, int OFF)
{
    const int oh = (int)get_global_id(0), pl = (int)get_global_id(1), OH = H / 2, OW = W / 2;
    if (oh >= OH || pl >= planes) return;
    __global const float *r0 = x + ((size_t)pl * H + 2 * oh) * W, *r1 = r0 + W;
    __global float *yr = y + OFF + (size_t)pl * PS + (size_t)oh * RP;
    __global uchar *ar = arg + ((size_t)pl * OH + oh) * OW;
    int ow = 0;
    POOL2_VECTORS(POOL2_FWD_VEC)
    for (; ow < OW; ow++)
        pool2_store1(r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1], yr + ow, ar + ow);
}

__kernel void maxpool2_bwd(__global const uchar *arg, __global const float *dy, __global float *dx,
                           int planes, int H, int W, int acc)
{
    const int r = (int)get_global_id(0), pl = (int)get_global_id(1), OH = H / 2, OW = W / 2;
    if (r >= (H + 1) / 2 || pl >= planes) return;
    __global float *d0 = dx + ((size_t)pl * H + 2 * r) * W;
    if (r == OH) { /* the last row of an odd height: outside every window */
        if (!acc)
            for (int c = 0; c < W; c++) d0[c] = 0.0f;
        return;
    }
    __global float *d1 = d0 + W;
    __global const uchar *ar = arg + ((size_t)pl * OH + r) * OW;
    __global const float *gr = dy + ((size_t)pl * OH + r) * OW;
    int ow = 0;
    POOL2_VECTORS(POOL2_BWD_VEC)
    for (; ow < OW; ow++) {
        const float g = gr[ow];
        const int i = ar[ow];
        float2 top = (float2)(i == 0 ? g : 0.0f, i == 1 ? g : 0.0f);
        float2 bot = (float2)(i == 2 ? g : 0.0f, i == 3 ? g : 0.0f);
        if (acc) top += vload2(ow, d0), bot += vload2(ow, d1);
        vstore2(top, ow, d0);
        vstore2(bot, ow, d1);
    }
    if (W % 2 && !acc) d0[W - 1] = 0.0f, d1[W - 1] = 0.0f;
}

/* y[plane] = mean of the plane's HW values */
__kernel void gap_fwd(__global const float *x, __global float *y, int planes, int HW)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    __global const float *xp = x + (size_t)pl * HW;
    float s = 0.0f;
    for (int i = 0; i < HW; i++) s += xp[i];
    y[pl] = s / (float)HW;
}

__kernel void gap_bwd(__global const float *dy, __global float *dx, int planes, int HW, int acc)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const float g = dy[pl] / (float)HW;
    __global float *dxp = dx + (size_t)pl * HW;
    if (acc)
        for (int i = 0; i < HW; i++) dxp[i] += g;
    else
        for (int i = 0; i < HW; i++) dxp[i] = g;
}
