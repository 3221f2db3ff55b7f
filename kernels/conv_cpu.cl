/* kernels/conv_cpu.cl — convolutions without im2col buffers, for CPU devices.
 *
 * The input is first copied into a zero-padded layout xp[c][n][HP][WP] (HP = H + 2P, WP = W + 2P,
 * plus slack at the end), so every tap of every output pixel is an in-bounds read without checks.
 *   conv_fwd_*:   y[co][n][oh][ow] = sum_{ci,kh,kw} w[co][(ci*K + kh)*K + kw] * xp[ci][n][oh*S+kh][ow*S+kw]
 *                 One work-item owns 16 consecutive output pixels of one output row (lanes past the
 *                 row's end compute garbage that is never stored) and walks all output channels in
 *                 blocks of MR, with the weights broadcast and the 16 input values one vector load
 *                 (stride 1) or two loads and an even-lane shuffle (stride 2). It is a register-
 *                 tiled GEMM whose B rows are read straight from the padded input.
 *   conv_wgrad_*: dw[co][ci,kh,kw] = sum_p dyT[p][co] * xp[ci][n][oh*S+kh][ow*S+kw] over output
 *                 pixels p; one work-item owns 16 output channels (lanes) and a slice of the pixels
 *                 and walks every input channel; the K*K taps are scalar broadcasts. Slices are
 *                 summed later in a fixed order (util.cl sum_slices).
 *   conv_flip:    w'[ci][(co*K + kh)*K + kw] = w[co][(ci*K + K-1-kh)*K + K-1-kw], so the gradient
 *                 with respect to the input of a stride-1 convolution is conv_fwd of the padded dy.
 * No local memory, no barriers, fixed summation order.
 */

#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* one padded plane per work-item (c * N + n), row by row */
__kernel void conv_pad(__global const float *x, __global float *xp, int planes, int H, int W, int P,
                       int HP, int WP)
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
}

inline float16 load_taps(__global const float *p, int S)
{
    if (S == 1) return vload16(0, p);
    const float16 a = vload16(0, p), b = vload16(0, p + 16);
    return (float16)(a.even, b.even);
}

#define FWD_DECL(r) float16 acc##r = 0.0f; \
    __global const float *w##r = w + (size_t)min(i0 + r, Cout - 1) * Kc;
#define FWD_FMA(r) acc##r = fma((float16)(w##r[k]), b, acc##r);
#define FWD_STORE(r)                                                             \
    if (i0 + r < Cout) {                                                         \
        __global float *dst = y + ((size_t)(i0 + r) * N + n) * OH * OW + (size_t)oh * OW + ow0; \
        float16 v = acc##r;                                                      \
        if (lanes == 16) {                                                       \
            if (accumulate) v += vload16(0, dst);                                \
            vstore16(v, 0, dst);                                                 \
        } else {                                                                 \
            float t[16];                                                         \
            vstore16(v, 0, t);                                                   \
            for (int l = 0; l < lanes; l++) dst[l] = accumulate ? dst[l] + t[l] : t[l]; \
        }                                                                        \
    }


#define CONV_FWD_ARGS                                                                  \
    __global const float *xp, __global const float *w, __global float *y, int N, int Cin, \
    int Cout, int K, int S, int HP, int WP, int OH, int OW, int accumulate

/* dim 0: panel = (n, oh, ow0 / 16); MR output channels per register block */
#define CONV_FWD_BODY(MR, REP)                                                         \
    const int per_row = (OW + 15) / 16;                                                \
    const int panel = (int)get_global_id(0);                                           \
    if (panel >= N * OH * per_row) return;                                             \
    const int ow0 = (panel % per_row) * 16, oh = (panel / per_row) % OH;               \
    const int n = panel / (per_row * OH), lanes = min(16, OW - ow0);                  \
    const int Kc = Cin * K * K;                                                        \
    const size_t cstride = (size_t)N * HP * WP;                                        \
    __global const float *pix = xp + ((size_t)n * HP + (size_t)oh * S) * WP + (size_t)ow0 * S; \
    for (int i0 = 0; i0 < Cout; i0 += MR) {                                            \
        REP(FWD_DECL)                                                                  \
        int k = 0;                                                                     \
        for (int ci = 0; ci < Cin; ci++)                                               \
            for (int kh = 0; kh < K; kh++) {                                           \
                __global const float *row = pix + ci * cstride + (size_t)kh * WP;      \
                for (int kw = 0; kw < K; kw++, k++) {                                  \
                    const float16 b = load_taps(row + kw, S);                          \
                    REP(FWD_FMA)                                                       \
                }                                                                      \
            }                                                                          \
        REP(FWD_STORE)                                                                 \
    }

__kernel void conv_fwd_mr8(CONV_FWD_ARGS) { CONV_FWD_BODY(8, REP8) }

/* "Same" convolutions (stride 1, 2P = K - 1) use a pitched padding: rows of pitch WP = W + P,
 * the right padding of a row being the left padding of the next, so output pixel (oh, ow) sits
 * at position q = oh * WP + ow and its taps at q + kh * WP + kw. A panel is then 16 consecutive
 * positions — one contiguous load per tap even across rows — and only the positions with
 * ow >= OW (one per row) and past the last row are wasted. dim 0: panel = (n, q0 / 16). */
#define FWDP_STORE(r)                                                            \
    if (i0 + r < Cout) {                                                         \
        float t[16];                                                             \
        vstore16(acc##r, 0, t);                                                  \
        __global float *dst = y + ((size_t)(i0 + r) * N + n) * OH * OW;          \
        for (int l = 0; l < 16; l++)                                             \
            if (out[l] >= 0) dst[out[l]] = accumulate ? dst[out[l]] + t[l] : t[l]; \
    }

#define CONV_FWDP_BODY(KK, MR, REP)                                                             \
    const int per_image = (OH * WP + 15) / 16, panel = (int)get_global_id(0);          \
    if (panel >= N * per_image) return;                                                \
    const int q0 = (panel % per_image) * 16, n = panel / per_image;                    \
    int out[16]; /* where each lane's result goes in the output plane, -1 if nowhere */ \
    for (int l = 0; l < 16; l++) {                                                     \
        const int q = q0 + l, oh = q / WP, ow = q % WP;                                \
        out[l] = oh < OH && ow < OW ? oh * OW + ow : -1;                               \
    }                                                                                  \
    const int Kc = Cin * KK * KK;                                                      \
    const size_t cstride = (size_t)N * HP * WP;                                        \
    __global const float *pix = xp + (size_t)n * HP * WP + q0;                         \
    for (int i0 = 0; i0 < Cout; i0 += MR) {                                             \
        REP(FWD_DECL)                                                                 \
        int k = 0;                                                                     \
        for (int ci = 0; ci < Cin; ci++)                                               \
            for (int kh = 0; kh < KK; kh++) {                                          \
                __global const float *row = pix + ci * cstride + (size_t)kh * WP;      \
                for (int kw = 0; kw < KK; kw++, k++) {                                 \
                    const float16 b = vload16(0, row + kw);                            \
                    REP(FWD_FMA)                                                      \
                }                                                                      \
            }                                                                          \
        REP(FWDP_STORE)                                                               \
    }

__kernel void conv_fwdp_mr8(CONV_FWD_ARGS) { CONV_FWDP_BODY(K, 8, REP8) }

/* K = 3 known at compile time: the nine taps of an input channel unroll into straight code */
__kernel void conv_fwdp3_mr8(CONV_FWD_ARGS) { (void)K; CONV_FWDP_BODY(3, 8, REP8) }

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

/* Weight gradient of a stride-1 "same" 3x3 convolution from the padded dy (dyp, built for the
 * input gradient anyway) and the padded x kept from forward, which share one row pitch WP: for
 * output position q = oh * WP + ow of an image, dy sits at q + dyoff and tap (kh, kw) of x at
 * q + kh * WP + kw; positions in the padding columns have dy = 0 and add nothing. Lanes run over
 * 16 positions, so every load is one contiguous vector and no transpose is needed. A work-item
 * owns a slice of `per` images (sized so its x and dy stay in cache) and walks the output
 * channels two at a time (18 accumulators) and every input channel; its lanes are reduced in a
 * fixed order. dim 0: image slice. */
inline float hsum16(float16 v)
{
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

#define WQ_DECL(t) float16 u##t = 0.0f, v##t = 0.0f;
#define WQ_FMA(t)                                                                      \
    {                                                                                  \
        const float16 x = vload16(0, xq + (t / 3) * WP + (t % 3));                     \
        u##t = fma(x, g0, u##t);                                                       \
        v##t = fma(x, g1, v##t);                                                       \
    }
#define WQ_STORE(t)                                                                    \
    out[(size_t)co * Kc + ci * 9 + t] = hsum16(u##t);                                  \
    if (co + 1 < Cout) out[(size_t)(co + 1) * Kc + ci * 9 + t] = hsum16(v##t);
#define REP9(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)

__kernel void conv_wgrad_q3(__global const float *xp, __global const float *dyp,
                            __global float *part, int N, int Cin, int Cout, int HP, int WP,
                            int OH, int dyoff, int per, int pstride)
{
    const int s = (int)get_global_id(0);
    const int n0 = s * per, n1 = min(N, n0 + per);
    if (n0 >= N) return;
    const int Kc = Cin * 9, Q = OH * WP;
    const size_t plane = (size_t)HP * WP;
    __global float *out = part + (size_t)s * pstride;
    for (int co = 0; co < Cout; co += 2) {
        const int co1 = min(co + 1, Cout - 1);
        for (int ci = 0; ci < Cin; ci++) {
            REP9(WQ_DECL)
            for (int n = n0; n < n1; n++) {
                __global const float *xi = xp + ((size_t)ci * N + n) * plane;
                __global const float *d0 = dyp + ((size_t)co * N + n) * plane + dyoff;
                __global const float *d1 = dyp + ((size_t)co1 * N + n) * plane + dyoff;
                for (int q = 0; q < Q; q += 16) {
                    float16 g0 = vload16(0, d0 + q), g1 = vload16(0, d1 + q);
                    if (q + 16 > Q) { /* the tail may reach the next image: mask it */
                        const int16 in = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) < Q - q;
                        g0 = select((float16)0.0f, g0, in);
                        g1 = select((float16)0.0f, g1, in);
                    }
                    __global const float *xq = xi + q;
                    REP9(WQ_FMA)
                }
            }
            REP9(WQ_STORE)
        }
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
