/* kernels/gemm.cl — gammacl's own SGEMM for CPU devices, plus its transpose and split-K reduce.
 *
 * Row-major C[M,N] = alpha * op(A)[M,K] * B[K,N] + beta * C, with op(A) = A (nn) or A^T (tn; A is
 * stored K x M). B is always K x N: the host transposes a transposed B first (see runtime/gemm.c).
 * Each work-item owns one panel of NV x VW columns of B and walks all row blocks of C, so the
 * panel stays in cache; the register tile is MR rows x NV vectors of VW lanes (prelude.cl: TUNE_*,
 * chosen per device and shape class by runtime/tune.c), an A value is broadcast once for the NV
 * vectors, B is NV contiguous VW-wide loads per k. No local memory, no barriers: this is what runs fast on PoCL.
 * Split-K: dimension 1 of the launch picks a slice [s*kchunk, (s+1)*kchunk) of K and writes its
 * partial product to C + s*cstride (alpha 1, beta 0); the slices are then summed in order
 * (util.cl sum_slices) and transposed back with alpha and beta (transpose_axpby).
 */


/* loads the VW B values of row k of vector v of this panel: full panels use one vector load */
#define LOAD_B_FULL(r, v) const VF b##v = VLOAD(0, B + (size_t)k * ldb + j0 + v * TUNE_VW);
#define LOAD_B_EDGE(r, v) const VF b##v = load_edge(B + (size_t)k * ldb + j0 + v * TUNE_VW, nj - v * TUNE_VW);

inline VF load_edge(__global const float *p, int nj)
{
    float t[TUNE_VW];
    for (int c = 0; c < TUNE_VW; c++) t[c] = c < nj ? p[c] : 0.0f;
    return VLOAD(0, t);
}

/* GEMM_STREAM (runtime/gemm.c: a C larger than the cache, beta 0, rows aligned to 16 floats):
 * whole vectors go out with non-temporal stores, which skip reading the line first (a clang
 * builtin; only the PoCL rows of the device table ask for it: the driver's end-of-kernel
 * synchronization, locked instructions on x86, orders them before the next kernel reads C) */
inline void store_row(__global float *c, VF v, float alpha, float beta, int nj)
{
    if (nj <= 0) return;
    v *= alpha;
    if (nj >= TUNE_VW) {
#if GEMM_STREAM
        __builtin_nontemporal_store(v, (__global VF *)c);
        return;
#endif
        if (beta != 0.0f) v += beta * VLOAD(0, c);
        VSTORE(v, 0, c);
    } else if (beta == 0.0f) {
        VSTORE_PART(c, v, nj, 0);
    } else {
        float t[TUNE_VW];
        VSTORE(v, 0, t);
        for (int j = 0; j < nj; j++) c[j] = t[j] + beta * c[j];
    }
}

/* accumulators acc<row>_<vector>; an A value is broadcast once for the NV vectors */
#define ACC_DECL(r, v) VF acc##r##_##v = 0.0f;
#define ACC_FMA(r, v) acc##r##_##v = fma(av, b##v, acc##r##_##v);
#define ACC_STORE(r, v) store_row(C + (size_t)(i0 + r) * ldc + j0 + v * TUNE_VW, acc##r##_##v, alpha, beta, nj - v * TUNE_VW);
#define STORE(r) if (i0 + r < M) { REPV(ACC_STORE, r) }

/* ---- NN: A row-major M x K; a row block reads MR separate rows of A ---- */
#define NN_DECL(r) REPV(ACC_DECL, r) \
    __global const float *a##r = A + (size_t)min(i0 + r, M - 1) * lda;
#define NN_FMA(r) { const VF av = (VF)(a##r[k]); REPV(ACC_FMA, r) }

#define GEMM_NN_BODY(LOADB)                                            \
    for (int i0 = 0; i0 < M; i0 += TUNE_MR) {                          \
        REPM(NN_DECL)                                                  \
        for (int k = k0; k < k1; k++) {                                \
            REPV(LOADB, 0)                                             \
            REPM(NN_FMA)                                               \
        }                                                              \
        REPM(STORE)                                                    \
    }

/* ---- TN: A stored K x M; the MR values of a row block are contiguous in row k of A ---- */
#define TN_DECL(r) REPV(ACC_DECL, r) \
    __global const float *a##r = A + min(i0 + r, M - 1);
#define TN_FMA(r) { const VF av = (VF)(a##r[(size_t)k * lda]); REPV(ACC_FMA, r) }

#define GEMM_TN_BODY(LOADB)                                            \
    for (int i0 = 0; i0 < M; i0 += TUNE_MR) {                          \
        REPM(TN_DECL)                                                  \
        for (int k = k0; k < k1; k++) {                                \
            REPV(LOADB, 0)                                             \
            REPM(TN_FMA)                                               \
        }                                                              \
        REPM(STORE)                                                    \
    }

#define GEMM_PROLOGUE                                                  \
    const int j0 = (int)get_global_id(0) * PANEL;                      \
    if (j0 >= N) return;                                               \
    const int nj = min(PANEL, N - j0);                                 \
    const int s = (int)get_global_id(1);                               \
    const int k0 = s * kchunk, k1 = min(K, k0 + kchunk);               \
    A += aoff; B += boff; C += coff + (size_t)s * cstride;

#define GEMM_ARGS                                                      \
    int M, int N, int K, float alpha,                                  \
    __global const float *A, int aoff, int lda,                        \
    __global const float *B, int boff, int ldb, float beta,            \
    __global float *C, int coff, int ldc, int kchunk, int cstride

__kernel void gemm_nn(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == PANEL) { GEMM_NN_BODY(LOAD_B_FULL) }
    else { GEMM_NN_BODY(LOAD_B_EDGE) }
}

__kernel void gemm_tn(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == PANEL) { GEMM_TN_BODY(LOAD_B_FULL) }
    else { GEMM_TN_BODY(LOAD_B_EDGE) }
}

/* out[c, r] = in[r, c] for an R x C block (row strides ld_in, ld_out); one 16x16 tile per item */
__kernel void transpose(int R, int Cn, __global const float *in, int ioff, int ld_in,
                        __global float *out, int ooff, int ld_out)
{
    const int r0 = (int)get_global_id(1) * 16, c0 = (int)get_global_id(0) * 16;
    if (r0 >= R || c0 >= Cn) return;
    in += ioff;
    out += ooff;
    const int r1 = min(r0 + 16, R), c1 = min(c0 + 16, Cn);
    if (r1 - r0 == 16 && c1 - c0 == 16) {
        /* a full tile: 16 row loads, four perfect shuffles of the rows (row 2i, 2i+1 = the
         * interleaved rows i and i+8; four times over, that is the transpose), 16 row stores */
        float16 v[16], u[16];
        _Pragma("unroll") for (int r = 0; r < 16; r++) v[r] = vload16(0, in + (size_t)(r0 + r) * ld_in + c0);
        _Pragma("unroll") for (int stage = 0; stage < 4; stage++) {
            _Pragma("unroll") for (int i = 0; i < 8; i++) {
                const float16 a = v[i], b = v[i + 8];
                u[2 * i] = (float16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3, a.s4, b.s4, a.s5,
                                     b.s5, a.s6, b.s6, a.s7, b.s7);
                u[2 * i + 1] = (float16)(a.s8, b.s8, a.s9, b.s9, a.sa, b.sa, a.sb, b.sb, a.sc, b.sc,
                                         a.sd, b.sd, a.se, b.se, a.sf, b.sf);
            }
            _Pragma("unroll") for (int r = 0; r < 16; r++) v[r] = u[r];
        }
        _Pragma("unroll") for (int c = 0; c < 16; c++) vstore16(v[c], 0, out + (size_t)(c0 + c) * ld_out + r0);
        return;
    }
    for (int c = c0; c < c1; c++)
        for (int r = r0; r < r1; r++) out[(size_t)c * ld_out + r] = in[(size_t)r * ld_in + c];
}

/* C[i, j] = alpha * T[j, i] + beta * C[i, j] for an M x N block of C (T is N x M): the last step
 * of the split-K GEMM, after the slices were summed into T in a fixed order. One 16 x 16 tile per
 * work-item; beta = 0 never reads C. */
__kernel void transpose_axpby(int M, int N, float alpha, __global const float *T, int toff,
                              float beta, __global float *C, int coff, int ldc)
{
    T += toff;
    const int j0 = (int)get_global_id(0) * 16, i0 = (int)get_global_id(1) * 16;
    if (i0 >= M || j0 >= N) return;
    C += coff;
    const int i1 = min(i0 + 16, M), j1 = min(j0 + 16, N);
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) {
            const float v = alpha * T[(size_t)j * M + i];
            C[(size_t)i * ldc + j] = beta != 0.0f ? v + beta * C[(size_t)i * ldc + j] : v;
        }
}
