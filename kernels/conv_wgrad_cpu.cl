/* kernels/conv_wgrad_cpu.cl — the weight gradient of "same" 3x3 convolutions on the CPU path,
 * tunable (prelude.cl: TUNE_VW lanes; TUNE_CB output channels per pass, 1 to 3).
 *
 * From the padded dy (dyp, built for the input gradient anyway) and the padded x kept from
 * forward, which share one row pitch WP: for output position q = oh * WP + ow of an image, dy sits
 * at q + dyoff and tap (kh, kw) of x at q + kh * WP + kw; positions in the padding columns have
 * dy = 0 and add nothing. Lanes run over VW positions, so every load is one contiguous vector and
 * no transpose is needed. A work-item owns a slice of `per` images (sized by the host so that its
 * x and dy stay in cache) and walks the output channels CB at a time (9 * CB accumulators) and
 * every input channel; its lanes are reduced in a fixed order (vsum). dim 0: image slice.
 * conv_wgrad_q3_rows: the same from dy as it is, for first layers (no padded dy made for them).
 */
#ifndef TUNE_CB
#define TUNE_CB 2
#endif
#if TUNE_CB == 1
#define REPC(X, t) X(t, 0)
#elif TUNE_CB == 2
#define REPC(X, t) X(t, 0) X(t, 1)
#elif TUNE_CB == 3
#define REPC(X, t) X(t, 0) X(t, 1) X(t, 2)
#else
#error "TUNE_CB must be 1, 2 or 3"
#endif
#define REP9(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)

#define WQ_ACC(t, c) VF u##t##_##c = 0.0f;
#define WQ_DECL(t) REPC(WQ_ACC, t)
#define WQ_ONE(t, c) u##t##_##c = fma(x, g##c, u##t##_##c);
#define WQ_FMA(t)                                                                      \
    {                                                                                  \
        const VF x = VLOAD(0, xq + (t / 3) * WP + (t % 3));                            \
        REPC(WQ_ONE, t)                                                                \
    }
#define WQ_PUT(t, c) if (co + c < Cout) out[(size_t)(co + c) * Kc + ci * 9 + t] = vsum(u##t##_##c);
#define WQ_STORE(t) REPC(WQ_PUT, t)
#define WQ_DY(t, c)                                                                    \
    __global const float *d##c = dyp + ((size_t)min(co + c, Cout - 1) * N + n) * plane + dyoff;
#define WQ_LOAD(t, c) VF g##c = VLOAD(0, d##c + q);
#define WQ_MASK(t, c) g##c = select((VF)0.0f, g##c, in);
/* the work-item's slice of images [n0, n1) and its partial sums */
#define WQ_PROLOGUE                                                                    \
    const int s = (int)get_global_id(0);                                               \
    const int n0 = s * per, n1 = min(N, n0 + per);                                     \
    if (n0 >= N) return;                                                               \
    const int Kc = Cin * 9;                                                            \
    const size_t plane = (size_t)HP * WP;                                              \
    __global float *out = part + (size_t)s * pstride;

__kernel void conv_wgrad_q3(__global const float *xp, __global const float *dyp,
                            __global float *part, int N, int Cin, int Cout, int HP, int WP,
                            int OH, int dyoff, int per, int pstride)
{
    WQ_PROLOGUE
    const int Q = OH * WP;
    for (int co = 0; co < Cout; co += TUNE_CB) {
        for (int ci = 0; ci < Cin; ci++) {
            REP9(WQ_DECL)
            for (int n = n0; n < n1; n++) {
                __global const float *xi = xp + ((size_t)ci * N + n) * plane;
                REPC(WQ_DY, 0)
                for (int q = 0; q < Q; q += TUNE_VW) {
                    REPC(WQ_LOAD, 0)
                    if (q + TUNE_VW > Q) { /* the tail may reach the next image: mask it */
                        const VI in = VLANES < Q - q;
                        REPC(WQ_MASK, 0)
                    }
                    __global const float *xq = xi + q;
                    REP9(WQ_FMA)
                }
            }
            REP9(WQ_STORE)
        }
    }
}

/* The same sums from dy as it is ([Cout][N][OH][OW], no padding copy), for layers with few input
 * channels, where the copy costs more than these sums (cnn5's first layer: 0.83 ms with the copy,
 * 0.42 without).
 * Lanes run over VW positions of an output row; the row's last vector is masked, and read lane by
 * lane where a whole vector would reach past the end of dy (small maps: up to the last rows). Only where no input gradient is
 * needed (the first layer): otherwise the padded dy exists anyway. */
#define WR_DY(t, c) __global const float *d##c = dy + ((size_t)min(co + c, Cout - 1) * N + n) * oplane;
#define WR_DECL(t, c) VF g##c;
#define WR_TAIL(t, c)                                                                  \
    {                                                                                  \
        float tail[TUNE_VW];                                                           \
        for (int l = 0; l < TUNE_VW; l++) tail[l] = l < OW - ox ? d##c[q + l] : 0.0f;  \
        g##c = VLOAD(0, tail);                                                         \
    }

__kernel void conv_wgrad_q3_rows(__global const float *xp, __global const float *dy,
                                 __global float *part, int N, int Cin, int Cout, int HP, int WP,
                                 int OH, int OW, int per, int pstride)
{
    WQ_PROLOGUE
    const size_t oplane = (size_t)OH * OW, end = (size_t)Cout * N * oplane; /* dy's floats */
    for (int co = 0; co < Cout; co += TUNE_CB) {
        for (int ci = 0; ci < Cin; ci++) {
            REP9(WQ_DECL)
            for (int n = n0; n < n1; n++) {
                __global const float *xi = xp + ((size_t)ci * N + n) * plane;
                REPC(WR_DY, 0)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox += TUNE_VW) {
                        const int q = oy * OW + ox;
                        if (ox + TUNE_VW <= OW) {
                            REPC(WQ_LOAD, 0)
                            __global const float *xq = xi + oy * WP + ox;
                            REP9(WQ_FMA)
                        } else if (((size_t)min(co + TUNE_CB - 1, Cout - 1) * N + n) * oplane + q + TUNE_VW <= end) {
                            /* the next row's start (or the next plane's): masked */
                            const VI in = VLANES < OW - ox;
                            REPC(WQ_LOAD, 0)
                            REPC(WQ_MASK, 0)
                            __global const float *xq = xi + oy * WP + ox;
                            REP9(WQ_FMA)
                        } else {
                            REPC(WR_DECL, 0)
                            REPC(WR_TAIL, 0)
                            __global const float *xq = xi + oy * WP + ox;
                            REP9(WQ_FMA)
                        }
                    }
            }
            REP9(WQ_STORE)
        }
    }
}
