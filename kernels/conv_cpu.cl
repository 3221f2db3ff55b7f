/* kernels/conv_cpu.cl — the pieces of the CPU convolution path around its tunable kernels.
 *
 * The input is first copied into a zero-padded layout xp[c][n][HP][WP] (HP = H + 2P, WP = W + 2P,
 * plus slack at the end), so every tap of every output pixel is an in-bounds read without checks;
 * the forward pass on it is conv_fwd_cpu.cl, the weight gradient of "same" 3x3 convolutions
 * conv_wgrad_cpu.cl (both tunable).
 *   conv_wgrad_*: dw[co][ci,kh,kw] = sum_p dyT[p][co] * xp[ci][n][oh*S+kh][ow*S+kw] over output
 *                 pixels p, for the other shapes (strided, 1x1); one work-item owns 16 output
 *                 channels (lanes) and a slice of the pixels and walks every input channel; the
 *                 K*K taps are scalar broadcasts. Slices are summed later in a fixed order
 *                 (util.cl sum_slices).
 *   conv_flip:    w'[ci][(co*K + kh)*K + kw] = w[co][(ci*K + K-1-kh)*K + K-1-kw], so the gradient
 *                 with respect to the input of a stride-1 convolution is conv_fwd of the padded dy.
 * No local memory, no barriers, fixed summation order.
 */

/* one padded plane per work-item (c * N + n), row by row; the last one also zeros the `slack`
 * floats after the last plane, which the kernels' vector reads of the last rows reach */
__kernel void conv_pad(__global const float *x, __global float *xp, int planes, int H, int W, int P,
                       int HP, int WP, int slack)
{
    const int plane = (int)get_global_id(0);
    if (plane >= planes) return;
    __global float *dst = xp + (size_t)plane * HP * WP;
    __global const float *src = x + (size_t)plane * H * W;
    for (int r = 0; r < HP; r++, dst += WP) {
        const int ih = r - P;
        if (ih < 0 || ih >= H) {
            for (int j = 0; j < WP; j++) dst[j] = 0.0f;
            continue;
        }
        for (int j = 0; j < P; j++) dst[j] = 0.0f;
        for (int j = 0; j < W; j++) dst[P + j] = src[(size_t)ih * W + j];
        for (int j = P + W; j < WP; j++) dst[j] = 0.0f;
    }
    if (plane == planes - 1)
        for (int j = 0; j < slack; j++) dst[j] = 0.0f;
}

/* dim 0: output-channel panel (16 channels), dim 1: pixel slice. For every input channel in turn
 * the work-item sums over its slice of pixels, so the slice of dyT (slice x Cout floats) stays in
 * cache while all input channels read it. K = 3 (9 taps) or 1. */
#define WG_ARGS                                                                        \
    __global const float *xp, __global const float *dyT, __global float *part, int N,  \
    int Cin, int Cout, int S, int HP, int WP, int OH, int OW, int slice, int pstride

#define WG_PROLOGUE                                                                    \
    const int j0 = (int)get_global_id(0) * 16, s = (int)get_global_id(1);             \
    const int P = N * OH * OW, p0 = s * slice, p1 = min(P, p0 + slice);                \
    if (j0 >= Cout || p0 >= P) return;                                                 \
    const int ow0 = p0 % OW, oh0 = (p0 / OW) % OH, n0 = p0 / (OW * OH);                \
    __global float *out = part + (size_t)s * pstride;

#define WG_ADVANCE                                                                     \
    if (++ow == OW) {                                                                  \
        ow = 0;                                                                        \
        if (++oh == OH) { oh = 0; n++; }                                               \
    }

__kernel void conv_wgrad_k3(WG_ARGS)
{
    WG_PROLOGUE
    const int Kc = Cin * 9;
    for (int ci = 0; ci < Cin; ci++) {
        __global const float *plane = xp + (size_t)ci * N * HP * WP;
        float16 a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f,
                a7 = 0.0f, a8 = 0.0f;
        int ow = ow0, oh = oh0, n = n0;
        for (int p = p0; p < p1; p++) {
            const float16 g = vload16(0, dyT + (size_t)p * Cout + j0);
            __global const float *t = plane + ((size_t)n * HP + (size_t)oh * S) * WP + (size_t)ow * S;
            a0 = fma((float16)t[0], g, a0);
            a1 = fma((float16)t[1], g, a1);
            a2 = fma((float16)t[2], g, a2);
            a3 = fma((float16)t[WP], g, a3);
            a4 = fma((float16)t[WP + 1], g, a4);
            a5 = fma((float16)t[WP + 2], g, a5);
            a6 = fma((float16)t[2 * WP], g, a6);
            a7 = fma((float16)t[2 * WP + 1], g, a7);
            a8 = fma((float16)t[2 * WP + 2], g, a8);
            WG_ADVANCE
        }
        float r[9][16];
        vstore16(a0, 0, r[0]), vstore16(a1, 0, r[1]), vstore16(a2, 0, r[2]);
        vstore16(a3, 0, r[3]), vstore16(a4, 0, r[4]), vstore16(a5, 0, r[5]);
        vstore16(a6, 0, r[6]), vstore16(a7, 0, r[7]), vstore16(a8, 0, r[8]);
        for (int j = 0; j < 16; j++)
            for (int t = 0; t < 9; t++) out[(size_t)(j0 + j) * Kc + ci * 9 + t] = r[t][j];
    }
}

__kernel void conv_wgrad_k1(WG_ARGS)
{
    WG_PROLOGUE
    for (int ci = 0; ci < Cin; ci++) {
        __global const float *plane = xp + (size_t)ci * N * HP * WP;
        float16 a0 = 0.0f;
        int ow = ow0, oh = oh0, n = n0;
        for (int p = p0; p < p1; p++) {
            const float16 g = vload16(0, dyT + (size_t)p * Cout + j0);
            a0 = fma((float16)plane[((size_t)n * HP + (size_t)oh * S) * WP + (size_t)ow * S], g, a0);
            WG_ADVANCE
        }
        float r[16];
        vstore16(a0, 0, r);
        for (int j = 0; j < 16; j++) out[(size_t)(j0 + j) * Cin + ci] = r[j];
    }
}

/* one work-item per (ci, co) pair */
__kernel void conv_flip(__global const float *w, __global float *wf, int Cin, int Cout, int K)
{
    const int i = (int)get_global_id(0);
    if (i >= Cin * Cout) return;
    const int co = i % Cout, ci = i / Cout, KK = K * K;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++)
            wf[((size_t)ci * Cout + co) * KK + kh * K + kw] =
                w[((size_t)co * Cin + ci) * KK + (K - 1 - kh) * K + (K - 1 - kw)];
}
