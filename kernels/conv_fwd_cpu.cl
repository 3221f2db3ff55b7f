/* kernels/conv_fwd_cpu.cl — the forward convolution of the CPU path, tunable (prelude.cl: TUNE_*).
 *
 * The input was copied into a zero-padded layout xp[c][n][HP][WP] (conv_cpu.cl conv_pad), so
 * every tap of every output pixel is an in-bounds read without checks:
 *   y[co][n][oh][ow] = sum_{ci,kh,kw} w[co][(ci*K + kh)*K + kw] * xp[ci][n][oh*S+kh][ow*S+kw]
 * A work-item owns NV x VW consecutive output pixels (NV vectors of VW lanes; lanes past a row's
 * end compute garbage that is never stored) and walks all output channels in register blocks of
 * MR rows, with each weight broadcast once for the NV vectors and the input values vector loads
 * (stride 1) or two loads and an even-lane shuffle (stride 2): a register-tiled GEMM whose B rows
 * are read straight from the padded input. The same kernel computes the input gradient of a stride-1 convolution (the
 * padded dy with flipped weights, runtime/conv.c). MR x NV x VW is the register tile the tuner sizes
 * to the CPU's vector registers and load ports: MR x NV accumulators of VW lanes, NV input
 * vectors, and one weight load for NV FMAs.
 * No local memory, no barriers, a fixed summation order for every parameter set.
 */


inline VF load_taps(__global const float *p, int S)
{
    if (S == 1) return VLOAD(0, p);
    const VF a = VLOAD(0, p), b = VLOAD(0, p + TUNE_VW);
    return (VF)(a.even, b.even);
}

/* accumulators acc<row>_<vector>; the weight of a row is loaded once for its NV vectors */
#define ACC_DECL(r, v) VF acc##r##_##v = 0.0f;
#define FWD_DECL(r) REPV(ACC_DECL, r) \
    __global const float *w##r = w + (size_t)min(i0 + r, Cout - 1) * Kc;
#define ACC_FMA(r, v) acc##r##_##v = fma(wv, b##v, acc##r##_##v);
#define FWD_FMA(r) { const VF wv = (VF)(w##r[k]); REPV(ACC_FMA, r) }
#define TAPS(r, v) const VF b##v = load_taps(row + kw + v * TUNE_VW * S, S);
#define TAPSP(r, v) const VF b##v = VLOAD(0, row + kw + v * TUNE_VW);

/* a row's results for pixels ow0 + v * VW ..., `lanes` of them in this output row */
#define ACC_STORE(r, v)                                                          \
    {                                                                            \
        const int lv = min(TUNE_VW, lanes - v * TUNE_VW);                        \
        __global float *d = dst + v * TUNE_VW;                                   \
        VF x = acc##r##_##v;                                                     \
        if (lv == TUNE_VW) {                                                     \
            if (accumulate) x += VLOAD(0, d);                                    \
            VSTORE(x, 0, d);                                                     \
        } else if (lv > 0) {                                                     \
            VSTORE_PART(d, x, lv, accumulate);                                   \
        }                                                                        \
    }
#define FWD_STORE(r)                                                             \
    if (i0 + r < Cout) {                                                         \
        __global float *dst = y + ((size_t)(i0 + r) * N + n) * OH * OW + (size_t)oh * OW + ow0; \
        REPV(ACC_STORE, r)                                                       \
    }

#define CONV_FWD_ARGS                                                                  \
    __global const float *xp, __global const float *w, __global float *y, int N, int Cin, \
    int Cout, int K, int S, int HP, int WP, int OH, int OW, int accumulate

/* dim 0: panel = (n, oh, ow0 / PANEL) */
__kernel void conv_fwd(CONV_FWD_ARGS)
{
    const int per_row = (OW + PANEL - 1) / PANEL;
    const int panel = (int)get_global_id(0);
    if (panel >= N * OH * per_row) return;
    const int ow0 = (panel % per_row) * PANEL, oh = (panel / per_row) % OH;
    const int n = panel / (per_row * OH), lanes = min(PANEL, OW - ow0);
    const int Kc = Cin * K * K;
    const size_t cstride = (size_t)N * HP * WP;
    __global const float *pix = xp + ((size_t)n * HP + (size_t)oh * S) * WP + (size_t)ow0 * S;
    for (int i0 = 0; i0 < Cout; i0 += TUNE_MR) {
        REPM(FWD_DECL)
        int k = 0;
        for (int ci = 0; ci < Cin; ci++)
            for (int kh = 0; kh < K; kh++) {
                __global const float *row = pix + ci * cstride + (size_t)kh * WP;
                for (int kw = 0; kw < K; kw++, k++) {
                    REPV(TAPS, 0)
                    REPM(FWD_FMA)
                }
            }
        REPM(FWD_STORE)
    }
}

/* "Same" convolutions (stride 1, 2P = K - 1) use a pitched padding: rows of pitch WP = W + P,
 * the right padding of a row being the left padding of the next, so output pixel (oh, ow) sits
 * at position q = oh * WP + ow and its taps at q + kh * WP + kw. A panel is then PANEL
 * consecutive positions — contiguous loads per tap even across rows — and only the positions
 * with ow >= OW (one per row) and past the last row are wasted. dim 0: panel = (n, q0 / PANEL). */
#define ACCP_STORE(r, v)                                                         \
    {                                                                            \
        float t[TUNE_VW];                                                        \
        VSTORE(acc##r##_##v, 0, t);                                              \
        for (int l = 0; l < TUNE_VW; l++) {                                      \
            const int o = out[v * TUNE_VW + l];                                  \
            if (o >= 0) dst[o] = accumulate ? dst[o] + t[l] : t[l];              \
        }                                                                        \
    }
#define FWDP_STORE(r)                                                            \
    if (i0 + r < Cout) {                                                         \
        __global float *dst = y + ((size_t)(i0 + r) * N + n) * OH * OW;          \
        REPV(ACCP_STORE, r)                                                      \
    }

#define CONV_FWDP_BODY(KK)                                                             \
    const int per_image = (OH * WP + PANEL - 1) / PANEL, panel = (int)get_global_id(0); \
    if (panel >= N * per_image) return;                                                \
    const int q0 = (panel % per_image) * PANEL, n = panel / per_image;                 \
    int out[PANEL]; /* where each position's result goes in the output plane, -1 if nowhere */ \
    for (int l = 0; l < PANEL; l++) {                                                  \
        const int q = q0 + l, oh = q / WP, ow = q % WP;                                \
        out[l] = oh < OH && ow < OW ? oh * OW + ow : -1;                               \
    }                                                                                  \
    const int Kc = Cin * KK * KK;                                                      \
    const size_t cstride = (size_t)N * HP * WP;                                        \
    __global const float *pix = xp + (size_t)n * HP * WP + q0;                         \
    for (int i0 = 0; i0 < Cout; i0 += TUNE_MR) {                                       \
        REPM(FWD_DECL)                                                                 \
        int k = 0;                                                                     \
        for (int ci = 0; ci < Cin; ci++)                                               \
            for (int kh = 0; kh < KK; kh++) {                                          \
                __global const float *row = pix + ci * cstride + (size_t)kh * WP;      \
                for (int kw = 0; kw < KK; kw++, k++) {                                 \
                    REPV(TAPSP, 0)                                                     \
                    REPM(FWD_FMA)                                                      \
                }                                                                      \
            }                                                                          \
        REPM(FWDP_STORE)                                                               \
    }

__kernel void conv_fwdp(CONV_FWD_ARGS) { (void)S; CONV_FWDP_BODY(K) }

/* K = 3 known at compile time: the nine taps of an input channel unroll into straight code */
__kernel void conv_fwdp3(CONV_FWD_ARGS) { (void)K; (void)S; CONV_FWDP_BODY(3) }
