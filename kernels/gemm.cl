/* kernels/gemm.cl — gammacl's own SGEMM for CPU devices, plus its transpose and split-K reduce.
 *
 * Row-major C[M,N] = alpha * op(A)[M,K] * B[K,N] + beta * C, with op(A) = A (nn) or A^T (tn; A is
 * stored K x M). B is always K x N: the host transposes a transposed B first (see runtime/gemm.c).
 * Each work-item owns one 16-column panel of B and walks all row blocks of C, so the panel stays
 * in cache; the register tile is MR rows x float16, A values are broadcast, B is one contiguous
 * 16-wide load per k. No local memory, no barriers: this is what runs fast on PoCL.
 * Split-K: dimension 1 of the launch picks a slice [s*kchunk, (s+1)*kchunk) of K and writes its
 * partial product to C + s*cstride (alpha 1, beta 0); the slices are then summed in order
 * (util.cl sum_slices) and transposed back with alpha and beta (transpose_axpby).
 */

#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define REP16(X) REP8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

/* loads the 16 B values of row k of this panel: full panels use one vector load */
#define LOAD_B_FULL(k) vload16(0, B + (size_t)(k) * ldb + j0)
#define LOAD_B_EDGE(k) load_edge(B + (size_t)(k) * ldb + j0, nj)

inline float16 load_edge(__global const float *p, int nj)
{
    float t[16];
    for (int c = 0; c < 16; c++) t[c] = c < nj ? p[c] : 0.0f;
    return vload16(0, t);
}

inline void store_row(__global float *c, float16 v, float alpha, float beta, int nj)
{
    v *= alpha;
    if (nj == 16) {
        if (beta != 0.0f) v += beta * vload16(0, c);
        vstore16(v, 0, c);
    } else {
        float t[16];
        vstore16(v, 0, t);
        for (int j = 0; j < nj; j++) c[j] = beta != 0.0f ? t[j] + beta * c[j] : t[j];
    }
}

/* ---- NN: A row-major M x K; a row block reads MR separate rows of A ---- */
#define NN_DECL(r) float16 acc##r = 0.0f; \
    __global const float *a##r = A + (size_t)min(i0 + r, M - 1) * lda;
#define NN_FMA(r) acc##r = fma((float16)(a##r[k]), bv, acc##r);
#define STORE(r) if (i0 + r < M) store_row(C + (size_t)(i0 + r) * ldc + j0, acc##r, alpha, beta, nj);

#define GEMM_NN_BODY(MR, REP, LOADB)                                   \
    for (int i0 = 0; i0 < M; i0 += MR) {                               \
        REP(NN_DECL)                                                   \
        for (int k = k0; k < k1; k++) {                                \
            const float16 bv = LOADB(k);                               \
            REP(NN_FMA)                                                \
        }                                                              \
        REP(STORE)                                                     \
    }

/* ---- TN: A stored K x M; the MR values of a row block are contiguous in row k of A ---- */
#define TN_DECL(r) float16 acc##r = 0.0f; \
    __global const float *a##r = A + min(i0 + r, M - 1);
#define TN_FMA(r) acc##r = fma((float16)(a##r[(size_t)k * lda]), bv, acc##r);

#define GEMM_TN_BODY(MR, REP, LOADB)                                   \
    for (int i0 = 0; i0 < M; i0 += MR) {                               \
        REP(TN_DECL)                                                   \
        for (int k = k0; k < k1; k++) {                                \
            const float16 bv = LOADB(k);                               \
            REP(TN_FMA)                                                \
        }                                                              \
        REP(STORE)                                                     \
    }

#define GEMM_PROLOGUE                                                  \
    const int j0 = (int)get_global_id(0) * 16;                         \
    if (j0 >= N) return;                                               \
    const int nj = min(16, N - j0);                                    \
    const int s = (int)get_global_id(1);                               \
    const int k0 = s * kchunk;                                         \
    const int k1 = min(K, k0 + kchunk);                                \
    A += aoff; B += boff; C += coff + (size_t)s * cstride;

#define GEMM_ARGS                                                      \
    int M, int N, int K, float alpha,                                  \
    __global const float *A, int aoff, int lda,                        \
    __global const float *B, int boff, int ldb, float beta,            \
    __global float *C, int coff, int ldc, int kchunk, int cstride

__kernel void gemm_nn8(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == 16) { GEMM_NN_BODY(8, REP8, LOAD_B_FULL) }
    else { GEMM_NN_BODY(8, REP8, LOAD_B_EDGE) }
}

__kernel void gemm_nn16(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == 16) { GEMM_NN_BODY(16, REP16, LOAD_B_FULL) }
    else { GEMM_NN_BODY(16, REP16, LOAD_B_EDGE) }
}

__kernel void gemm_tn8(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == 16) { GEMM_TN_BODY(8, REP8, LOAD_B_FULL) }
    else { GEMM_TN_BODY(8, REP8, LOAD_B_EDGE) }
}

__kernel void gemm_tn16(GEMM_ARGS)
{
    GEMM_PROLOGUE
    if (nj == 16) { GEMM_TN_BODY(16, REP16, LOAD_B_FULL) }
    else { GEMM_TN_BODY(16, REP16, LOAD_B_EDGE) }
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
        /* a full tile: 16 row loads, then each output row gathered from the registers */
        float16 v[16];
        for (int r = 0; r < 16; r++) v[r] = vload16(0, in + (size_t)(r0 + r) * ld_in + c0);
        for (int c = 0; c < 16; c++) {
            float t[16];
            for (int r = 0; r < 16; r++) t[r] = ((float *)&v[r])[c];
            vstore16(vload16(0, t), 0, out + (size_t)(c0 + c) * ld_out + r0);
        }
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
