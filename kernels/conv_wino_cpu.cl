/* kernels/conv_wino_cpu.cl — Winograd F(2x2, 3x3) for the "same" 3x3 convolutions of the CPU path.
 *
 * A 2x2 block of outputs of one channel comes from a 4x4 patch d of each input channel:
 *   y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
 * with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 * A^T = [1 1 1 0; 0 1 -1 -1]: 16 multiplications per 2x2 outputs and input channel instead of 36.
 * wino_weights makes U[p][c][k] = (G g G^T)[p] once per pass (from the flipped, transposed
 * weights for the input gradient); conv_wino3 does the rest in one kernel, so the transformed
 * input V and the products M live only in local memory (a cache-sized block on a CPU):
 *   1. V[p][c][t] = (B^T d B)[p] for the TP tiles t of the work-item: whole rows of tiles
 *      at once, lanes over tiles (a row transform on four input rows, then even/odd lanes);
 *   2. M[p][k][t] = sum_c U[p][c][k] * V[p][c][t]: 16 independent GEMMs, register-tiled as
 *      WINO_R output channels x WINO_TV vectors of 16 tiles, U broadcast, c in order (the host
 *      picks TV, 1 to 7, so that whole tile rows fill the vectors, and R with it: R x TV
 *      accumulators, TV tile vectors and a broadcast within 32 vector registers);
 *   3. y = A^T M A, the two output rows of a tile row interleaved into vector stores.
 * The input is the pitched padded layout of runtime/conv.c (rows of pitch W + 1 sharing their
 * zero column; the row past a plane is the next plane's zero row, or the buffer's zero slack),
 * so patches need no bounds checks: the columns and rows a tile reads past the map only reach
 * the transformed values that feed its outputs past the map, which are never stored.
 * A work-item owns RPI consecutive tile rows (over images: n * TH + ty), RPI * TW <= TP.
 * No barriers (one work-item a group), fixed summation order for every parameter set.
 */

#ifndef WINO_R
#define WINO_R 4
#endif
#ifndef WINO_TV
#define WINO_TV 4
#endif
#define WINO_TP (16 * WINO_TV)
/* a slot of V or M: TP tiles, and room for the last row's vector running past them */
#define WINO_TPS (WINO_TP + 16)

/* U[p][c][k] = (G g G^T)[p] of g = w[k][c] (flip = 0), or of g = w[c][k] turned 180 degrees
 * (flip = 1: the input gradient's weights; C = the layer's output channels). dim 0: c * KV + kv
 * for the KV = ceil(K / 16) vectors of 16 output channels (lanes; those past K repeat the last
 * one and are not stored), so that each of the 16 results is one vector store. */
__kernel void wino_weights(__global const float *w, __global float *U, int C, int K, int flip)
{
    const int KV = (K + 15) / 16, i = (int)get_global_id(0);
    if (i >= C * KV) return;
    const int c = i / KV, k0 = (i % KV) * 16, lanes = min(16, K - k0);
    float gs[9][16];
    for (int l = 0; l < 16; l++) {
        const int k = min(k0 + l, K - 1);
        __global const float *src = flip ? w + ((size_t)c * K + k) * 9 : w + ((size_t)k * C + c) * 9;
        for (int j = 0; j < 9; j++) gs[j][l] = src[flip ? 8 - j : j];
    }
    float16 g[3][3];
    for (int j = 0; j < 9; j++) g[j / 3][j % 3] = vload16(0, gs[j]);
    float16 t[4][3]; /* G g */
    for (int b = 0; b < 3; b++) {
        t[0][b] = g[0][b];
        t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
        t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
        t[3][b] = g[2][b];
    }
    const size_t pstride = (size_t)C * K;
    __global float *u = U + (size_t)c * K + k0;
    for (int a = 0; a < 4; a++) { /* (G g) G^T */
        float16 r[4];
        r[0] = t[a][0];
        r[1] = 0.5f * (t[a][0] + t[a][1] + t[a][2]);
        r[2] = 0.5f * (t[a][0] - t[a][1] + t[a][2]);
        r[3] = t[a][2];
        for (int b = 0; b < 4; b++) {
            __global float *o = u + (a * 4 + b) * pstride;
            if (lanes == 16) {
                vstore16(r[b], 0, o);
            } else {
                float x[16];
                vstore16(r[b], 0, x);
                for (int l = 0; l < lanes; l++) o[l] = x[l];
            }
        }
    }
}

/* WINO_WV tiles of a row at a time (16, 8 or 4: narrow maps waste fewer lanes): TV_T holds a
 * value per tile, DV_T two (the even and odd columns of the patches) */
#ifndef WINO_WV
#define WINO_WV 16
#endif
#if WINO_WV == 16
#define TV_T float16
#define TV_LOAD vload16
#define TV_STORE vstore16
#elif WINO_WV == 8
#define TV_T float8
#define DV_T float16
#define TV_LOAD vload8
#define TV_STORE vstore8
#define DV_LOAD vload16
#elif WINO_WV == 4
#define TV_T float4
#define DV_T float8
#define TV_LOAD vload4
#define TV_STORE vstore4
#define DV_LOAD vload8
#else
#error "WINO_WV must be 16, 8 or 4"
#endif

/* B^T d over the four rows of the patches, then (B^T d) B over even and odd columns: V of the
 * tiles of one row and channel into dst (slot p at dst + p * pstride); x0..x3 are a column
 * stride apart and hold the columns 2j, 2j+1 (x) and 2j+2, 2j+3 (the shifted load) per tile j */
#define ROWT(t, x) t[0] = x[0] - x[2]; t[1] = x[1] + x[2]; t[2] = x[2] - x[1]; t[3] = x[1] - x[3];
#define COLT(d0, d1, d2, d3, o, pstride)                                                          \
    TV_STORE(d0 - d2, 0, o);                                                                    \
    TV_STORE(d1 + d2, 0, o + pstride);                                                          \
    TV_STORE(d2 - d1, 0, o + 2 * pstride);                                                      \
    TV_STORE(d1 - d3, 0, o + 3 * pstride);

/* V for WINO_WV tiles of one tile row and one channel: src at the patch row 0, column 2 tx0 */
inline void wino_input_row(__global const float *src, int WP, __local float *dst, size_t pstride)
{
#if WINO_WV == 16
    float16 a[4], b[4], c[4], e[4];
    _Pragma("unroll") for (int i = 0; i < 4; i++) {
        __global const float *s = src + (size_t)i * WP;
        a[i] = vload16(0, s);       /* columns 2j, 2j+1 of tiles 0..7 */
        b[i] = vload16(0, s + 16);  /* of tiles 8..15 */
        c[i] = vload16(0, s + 2);   /* columns 2j+2, 2j+3 */
        e[i] = vload16(0, s + 18);
    }
    float16 ta[4], tb[4], tc[4], te[4];
    ROWT(ta, a) ROWT(tb, b) ROWT(tc, c) ROWT(te, e)
    _Pragma("unroll") for (int i = 0; i < 4; i++) {
        const float16 d0 = (float16)(ta[i].even, tb[i].even), d1 = (float16)(ta[i].odd, tb[i].odd);
        const float16 d2 = (float16)(tc[i].even, te[i].even), d3 = (float16)(tc[i].odd, te[i].odd);
        __local float *o = dst + (size_t)(i * 4) * pstride;
        COLT(d0, d1, d2, d3, o, pstride)
    }
#else
    DV_T a[4], c[4];
    _Pragma("unroll") for (int i = 0; i < 4; i++) {
        __global const float *s = src + (size_t)i * WP;
        a[i] = DV_LOAD(0, s);
        c[i] = DV_LOAD(0, s + 2);
    }
    DV_T ta[4], tc[4];
    ROWT(ta, a) ROWT(tc, c)
    _Pragma("unroll") for (int i = 0; i < 4; i++) {
        __local float *o = dst + (size_t)(i * 4) * pstride;
        COLT(ta[i].even, ta[i].odd, tc[i].even, tc[i].odd, o, pstride)
    }
#endif
}

/* a row of `cols` outputs from the tiles of a tile row (a: column 0 of each tile, b: column 1) */
inline void wino_store_row(__global float *dst, TV_T a, TV_T b, int cols, int accumulate)
{
#if WINO_WV == 16
    const float16 lo = (float16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3, a.s4, b.s4, a.s5,
                                 b.s5, a.s6, b.s6, a.s7, b.s7);
    const float16 hi = (float16)(a.s8, b.s8, a.s9, b.s9, a.sa, b.sa, a.sb, b.sb, a.sc, b.sc, a.sd,
                                 b.sd, a.se, b.se, a.sf, b.sf);
    store_part16(dst, lo, cols, accumulate);
    store_part16(dst + 16, hi, cols - 16, accumulate);
#elif WINO_WV == 8
    store_part16(dst, (float16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3, a.s4, b.s4, a.s5,
                                b.s5, a.s6, b.s6, a.s7, b.s7), cols, accumulate);
#else
    store_part8(dst, (float8)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3), cols, accumulate);
#endif
}

/* dim 0: the work-item's block of RPI tile rows, dim 1: its block of KB output channels (where
 * M for all K would not fit, the blocks transform the input again). The input channels go in
 * chunks of CB (where V for all C would not fit), the products adding onto M after the first.
 * V: 16 x (CB slots of TPS floats + 16), M: the same with KB slots.
 * xp: the padded input [C][N][HP][WP]; y: [K][N][OH][OW]; TH x TW tiles an image. */
__kernel void conv_wino3(__global const float *xp, __global const float *U, __global float *y,
                         __local float *V, __local float *M, int N, int C, int K, int HP, int WP,
                         int OH, int OW, int TH, int TW, int RPI, int KB, int CB, int accumulate)
{
    const int r0 = (int)get_global_id(0) * RPI, rows = N * TH;
    if (r0 >= rows) return;
    const int nr = min(RPI, rows - r0), kb0 = (int)get_global_id(1) * KB, KN = min(KB, K - kb0);
    /* slots p apart are a cache line more than the C (or K) slots apart: 16 of them at once (a
     * tile row's transform) then fall into different cache sets */
    const size_t cstride = (size_t)N * HP * WP, vstride = (size_t)CB * WINO_TPS + 16,
                 mstride = (size_t)KB * WINO_TPS + 16;

    for (int cb0 = 0; cb0 < C; cb0 += CB) {
        const int CN = min(CB, C - cb0);
        /* 1. input transform, tile rows in order (a row's vector past its end is overwritten by the
         * next row); the slots' lanes past the used tiles are zeroed */
        for (int c = 0; c < CN; c++) {
            for (int r = 0; r < nr; r++) {
                const int n = (r0 + r) / TH, ty = (r0 + r) % TH;
                __global const float *src = xp + (cb0 + c) * cstride + ((size_t)n * HP + 2 * ty) * WP;
                for (int tx0 = 0; tx0 < TW; tx0 += WINO_WV)
                    wino_input_row(src + 2 * tx0, WP, V + c * WINO_TPS + r * TW + tx0, vstride);
            }
            const int written = (nr - 1) * TW + ((TW - 1) / WINO_WV + 1) * WINO_WV;
            for (int p = 0; p < 16; p++)
                for (int t = written; t < WINO_TP; t += 16) vstore16((float16)0.0f, 0, V + p * vstride + c * WINO_TPS + t);
        }

        /* 2. the 16 products, WINO_R channels x WINO_TV vectors of tiles at a time */
        for (int p = 0; p < 16; p++) {
            __local const float *vp = V + p * vstride;
            __global const float *up = U + ((size_t)p * C + cb0) * K + kb0;
            __local float *mp = M + p * mstride;
            for (int k0 = 0; k0 < KN; k0 += WINO_R) {
                int ko[WINO_R]; /* channels past the block repeat its last one and are not stored */
                _Pragma("unroll") for (int r = 0; r < WINO_R; r++) ko[r] = min(k0 + r, KN - 1);
                float16 acc[WINO_R][WINO_TV];
                _Pragma("unroll") for (int r = 0; r < WINO_R; r++)
                    _Pragma("unroll") for (int v = 0; v < WINO_TV; v++)
                        acc[r][v] = cb0 == 0 ? 0.0f : vload16(v, mp + ko[r] * WINO_TPS);
                for (int c = 0; c < CN; c++) {
                    float16 vv[WINO_TV];
                    _Pragma("unroll") for (int v = 0; v < WINO_TV; v++) vv[v] = vload16(v, vp + c * WINO_TPS);
                    __global const float *u = up + (size_t)c * K;
                    _Pragma("unroll") for (int r = 0; r < WINO_R; r++) {
                        const float16 ur = (float16)(u[ko[r]]);
                        _Pragma("unroll") for (int v = 0; v < WINO_TV; v++) acc[r][v] = fma(ur, vv[v], acc[r][v]);
                    }
                }
                _Pragma("unroll") for (int r = 0; r < WINO_R; r++)
                    if (k0 + r < KN) {
                        __local float *m = M + p * mstride + (k0 + r) * WINO_TPS;
                        _Pragma("unroll") for (int v = 0; v < WINO_TV; v++) vstore16(acc[r][v], v, m);
                    }
            }
        }
    }

    /* 3. output transform and stores */
    for (int k = 0; k < KN; k++)
        for (int r = 0; r < nr; r++) {
            const int n = (r0 + r) / TH, ty = (r0 + r) % TH;
            __global float *dst = y + ((size_t)(kb0 + k) * N + n) * OH * OW + (size_t)(2 * ty) * OW;
            const int second = 2 * ty + 1 < OH;
            for (int tx0 = 0; tx0 < TW; tx0 += WINO_WV) {
                __local const float *m = M + k * WINO_TPS + r * TW + tx0;
                TV_T s[4], q[4]; /* A^T M: the two rows */
                _Pragma("unroll") for (int j = 0; j < 4; j++) {
                    const TV_T m0 = TV_LOAD(0, m + j * mstride), m1 = TV_LOAD(0, m + (4 + j) * mstride);
                    const TV_T m2 = TV_LOAD(0, m + (8 + j) * mstride), m3 = TV_LOAD(0, m + (12 + j) * mstride);
                    s[j] = m0 + m1 + m2;
                    q[j] = m1 - m2 - m3;
                }
                const int cols = min(2 * WINO_WV, OW - 2 * tx0);
                wino_store_row(dst + 2 * tx0, s[0] + s[1] + s[2], s[1] - s[2] - s[3], cols, accumulate);
                if (second)
                    wino_store_row(dst + OW + 2 * tx0, q[0] + q[1] + q[2], q[1] - q[2] - q[3], cols, accumulate);
            }
        }
}

/* ---- the weight gradient ----
 * With M = U .* V and y = A^T M A per tile, dU = sum over tiles of (A dy A^T) .* V and
 * dw = G^T dU G. conv_wino3_wgrad: a work-item owns a slice of tile rows (and a block of KB
 * output channels), walks it in blocks of RPI rows, and for each block makes V (as above) and
 * D[p][t][k] = (A dy A^T)[p] of its tiles from the transposed dy (rows of K channels, lanes
 * over k; the outputs past the map are zeros; the rows are dy's positions in its layout, image n
 * at n * DPS + DOFF, rows DRP apart: dense, or dy's zero-padded copy transposed whole), then for each chunk of CB input channels V and adds sum_t V[p][c][t] D[p][t][k] into its
 * slice of part[p][c][k]: WINO_CR input channels (V broadcast) x WINO_KV vectors of 16 output
 * channels at a time, tiles in order. wino_wgrad_out sums the slices in order and applies
 * G^T . G. */
#ifndef WINO_CR
#define WINO_CR 8
#endif
#ifndef WINO_KV
#define WINO_KV 2
#endif

/* dim 0: slice of `per` tile rows, dim 1: block of KB output channels (a multiple of 16).
 * V as in conv_wino3; D: 16 blocks of TP x KB floats, 16 floats apart. part: slices of pstride. */
__kernel void conv_wino3_wgrad(__global const float *xp, __global const float *dyT, __global float *part,
                               __local float *V, __local float *D, int N, int C, int K, int HP, int WP,
                               int OH, int OW, int TH, int TW, int RPI, int KB, int CB, int per,
                               int pstride, int DPS, int DRP, int DOFF)
{
    const int rows = N * TH, first = (int)get_global_id(0) * per;
    if (first >= rows) return;
    const int last = min(rows, first + per), kb0 = (int)get_global_id(1) * KB, KN = min(KB, K - kb0);
    const int nkv = KN / 16;
    const size_t cstride = (size_t)N * HP * WP, vstride = (size_t)CB * WINO_TPS + 16,
                 dstride = (size_t)WINO_TP * KB + 16;
    __global float *out = part + (size_t)get_global_id(0) * pstride + kb0;
    for (int r0 = first; r0 < last; r0 += RPI) {
        const int nr = min(RPI, last - r0), used = nr * TW;
        /* D: A dy A^T of the 2x2 outputs [a b; c e] of each tile, rows of A dy then columns */
        for (int r = 0; r < nr; r++) {
            const int n = (r0 + r) / TH, oy = 2 * ((r0 + r) % TH), down = oy + 1 < OH;
            for (int tx = 0; tx < TW; tx++) {
                const int ox = 2 * tx, right = ox + 1 < OW;
                __global const float *g = dyT + ((size_t)n * DPS + DOFF + oy * DRP + ox) * K + kb0;
                __local float *d = D + (r * TW + tx) * KB;
                for (int k = 0; k < KN; k += 16) {
                    const float16 a = vload16(0, g + k), z = 0.0f;
                    const float16 b = right ? vload16(0, g + K + k) : z;
                    const float16 c = down ? vload16(0, g + (size_t)DRP * K + k) : z;
                    const float16 e = down && right ? vload16(0, g + (size_t)(DRP + 1) * K + k) : z;
                    float16 u[4][2];
                    u[0][0] = a, u[0][1] = b, u[1][0] = a + c, u[1][1] = b + e;
                    u[2][0] = a - c, u[2][1] = b - e, u[3][0] = -c, u[3][1] = -e;
                    _Pragma("unroll") for (int i = 0; i < 4; i++) {
                        __local float *o = d + (size_t)(4 * i) * dstride + k;
                        vstore16(u[i][0], 0, o);
                        vstore16(u[i][0] + u[i][1], 0, o + dstride);
                        vstore16(u[i][0] - u[i][1], 0, o + 2 * dstride);
                        vstore16(-u[i][1], 0, o + 3 * dstride);
                    }
                }
            }
        }
        for (int cb0 = 0; cb0 < C; cb0 += CB) {
            const int CN = min(CB, C - cb0);
            /* V of the chunk */
            for (int c = 0; c < CN; c++)
                for (int r = 0; r < nr; r++) {
                    const int n = (r0 + r) / TH, ty = (r0 + r) % TH;
                    __global const float *src = xp + (cb0 + c) * cstride + ((size_t)n * HP + 2 * ty) * WP;
                    for (int tx0 = 0; tx0 < TW; tx0 += WINO_WV)
                        wino_input_row(src + 2 * tx0, WP, V + c * WINO_TPS + r * TW + tx0, vstride);
                }
            /* part[p][c][k] += sum_t V[p][c][t] D[p][t][k] for the chunk's channels */
            for (int p = 0; p < 16; p++) {
                __local const float *vp = V + p * vstride, *dp = D + p * dstride;
                for (int c0 = 0; c0 < CN; c0 += WINO_CR) {
                    int co[WINO_CR]; /* channels past C repeat the last one and are not stored */
                    _Pragma("unroll") for (int i = 0; i < WINO_CR; i++) co[i] = min(c0 + i, CN - 1);
                    for (int kv0 = 0; kv0 < nkv; kv0 += WINO_KV) {
                        int kvo[WINO_KV];
                        _Pragma("unroll") for (int j = 0; j < WINO_KV; j++) kvo[j] = 16 * min(kv0 + j, nkv - 1);
                        float16 acc[WINO_CR][WINO_KV];
                        _Pragma("unroll") for (int i = 0; i < WINO_CR; i++)
                            _Pragma("unroll") for (int j = 0; j < WINO_KV; j++)
                                acc[i][j] = r0 == first ? 0.0f : vload16(0, out + ((size_t)p * C + cb0 + co[i]) * K + kvo[j]);
                        for (int t = 0; t < used; t++) {
                            float16 dv[WINO_KV];
                            _Pragma("unroll") for (int j = 0; j < WINO_KV; j++) dv[j] = vload16(0, dp + t * KB + kvo[j]);
                            _Pragma("unroll") for (int i = 0; i < WINO_CR; i++) {
                                const float16 x = (float16)(vp[co[i] * WINO_TPS + t]);
                                _Pragma("unroll") for (int j = 0; j < WINO_KV; j++) acc[i][j] = fma(x, dv[j], acc[i][j]);
                            }
                        }
                        _Pragma("unroll") for (int i = 0; i < WINO_CR; i++)
                            _Pragma("unroll") for (int j = 0; j < WINO_KV; j++)
                                if (c0 + i < CN && kv0 + j < nkv)
                                    vstore16(acc[i][j], 0, out + ((size_t)p * C + cb0 + c0 + i) * K + kvo[j]);
                    }
                }
            }
        }
    }
}

/* dw[k][c][3][3] = G^T X G of X[p][c][k] = the sum of the slices of part (sstride floats apart),
 * added in order s = 0, 1, ... as util.cl sum_slices adds them. dim 0: c * KV + kv for the
 * KV = K / 16 vectors of 16 output channels (lanes) */
__kernel void wino_wgrad_out(__global const float *part, int slices, int sstride, __global float *dw,
                             int C, int K)
{
    const int KV = K / 16, i = (int)get_global_id(0);
    if (i >= C * KV) return;
    const int c = i / KV, k0 = (i % KV) * 16;
    const size_t pstride = (size_t)C * K;
    float16 x[4][4], z[3][4];
    for (int p = 0; p < 16; p++) {
        __global const float *src = part + p * pstride + (size_t)c * K + k0;
        float16 v = vload16(0, src);
        for (int s = 1; s < slices; s++) v += vload16(0, src + (size_t)s * sstride);
        x[p / 4][p % 4] = v;
    }
    for (int j = 0; j < 4; j++) { /* G^T X */
        z[0][j] = x[0][j] + 0.5f * (x[1][j] + x[2][j]);
        z[1][j] = 0.5f * (x[1][j] - x[2][j]);
        z[2][j] = 0.5f * (x[1][j] + x[2][j]) + x[3][j];
    }
    float o[9][16];
    for (int a = 0; a < 3; a++) { /* (G^T X) G */
        vstore16(z[a][0] + 0.5f * (z[a][1] + z[a][2]), 0, o[a * 3 + 0]);
        vstore16(0.5f * (z[a][1] - z[a][2]), 0, o[a * 3 + 1]);
        vstore16(0.5f * (z[a][1] + z[a][2]) + z[a][3], 0, o[a * 3 + 2]);
    }
    for (int l = 0; l < 16; l++) {
        __global float *d = dw + ((size_t)(k0 + l) * C + c) * 9;
        for (int j = 0; j < 9; j++) d[j] = o[j][l];
    }
}
