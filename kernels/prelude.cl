/* kernels/prelude.cl — prepended to every program: shared helpers and the device's -D values.
 *
 * RT_CHUNK     elements per work-item in element-wise kernels (large on CPUs, 1 on GPUs)
 * RT_RED_WG    work-group size of per-channel reductions (1: one work-item loops over a channel)
 * RT_CPU_STYLE 1 on CPU devices: chunked loops, wide vectors, no barriers
 * All arithmetic is fp32; reductions run in a fixed order so that results reproduce.
 */
#ifndef RT_CHUNK
#define RT_CHUNK 1
#endif
#ifndef RT_RED_WG
#define RT_RED_WG 1
#endif
#ifndef RT_CPU_STYLE
#define RT_CPU_STYLE 0
#endif

/* The [begin, end) range of element-wise work of this work-item. */
#define CHUNK_RANGE(n, i0, i1)                                   \
    const int i0 = (int)get_global_id(0) * RT_CHUNK;            \
    const int i1 = min(i0 + RT_CHUNK, (int)(n))

/* n values of v to dst (n <= the lanes), added to what is there when accumulate is set: whole
 * vectors of 8, 4, 2 and 1 lanes (no scalar loop over a private copy) */
#define PART_PUT(N, x)                                                                            \
    {                                                                                           \
        vstore##N(accumulate ? vload##N(0, dst) + (x) : (x), 0, dst);                           \
        dst += N;                                                                               \
    }
inline void store_part8(__global float *dst, float8 v, int n, int accumulate)
{
    float4 v4 = v.lo;
    if (n >= 8) {
        PART_PUT(8, v)
        return;
    }
    if (n & 4) {
        PART_PUT(4, v.lo)
        v4 = v.hi;
    }
    float2 v2 = v4.lo;
    if (n & 2) {
        PART_PUT(2, v4.lo)
        v2 = v4.hi;
    }
    if (n & 1) dst[0] = accumulate ? dst[0] + v2.x : v2.x;
}
inline void store_part16(__global float *dst, float16 v, int n, int accumulate)
{
    if (n >= 16) {
        PART_PUT(16, v)
    } else if (n >= 8) {
        PART_PUT(8, v.lo)
        store_part8(dst, v.hi, n - 8, accumulate);
    } else if (n > 0) {
        store_part8(dst, v.lo, n, accumulate);
    }
}

/* n < 8 values from src into the low lanes of a vector, the others 0 (the loads of store_part8) */
inline float8 load_part8(__global const float *src, int n)
{
    float8 v = 0.0f;
    if (n & 4) v.lo = vload4(0, src), src += 4;
    float4 r = 0.0f;
    if (n & 2) r.lo = vload2(0, src), src += 2;
    if (n & 1) {
        if (n & 2) r.z = src[0];
        else r.x = src[0];
    }
    if (n & 4) v.hi = r;
    else v.lo = r;
    return v;
}

/* 2x2 max-pool windows whose top rows are a, b and bottom rows c, d (N of them a vector): their
 * maxima to yr, and the first maximum's index (0-3, row-major) to ar as bytes; pool.cl
 * maxpool2_fwd and the max-pool a batch norm computes (batchnorm.cl) */
#define POOL2_STORE(N, a, b, c, d, yr, ar)                                                        \
    {                                                                                           \
        const float##N mx_ = fmax(fmax(a, b), fmax(c, d));                                      \
        vstore##N(mx_, 0, yr);                                                                  \
        const int##N i_ = select(select(select((int##N)3, (int##N)2, c == mx_), (int##N)1, b == mx_), \
                                 (int##N)0, a == mx_);                                          \
        vstore##N(convert_uchar##N(i_), 0, ar);                                                 \
    }
/* one window: the index by integer sums (a chain of ?: made the whole pass 5x slower on PoCL,
 * 2.0 against 0.4 ms for cnn5's second pooling) */
inline void pool2_store1(float a, float b, float c, float d, __global float *yr, __global uchar *ar)
{
    const float mx = fmax(fmax(a, b), fmax(c, d));
    *yr = mx;
    const int na = a != mx, nb = na & (b != mx), nc = nb & (c != mx);
    *ar = (uchar)(na + nb + nc);
}

/* Tunable CPU kernels (conv_fwd_cpu.cl, conv_wgrad_cpu.cl, gemm.cl) are compiled per parameter
 * set with -DTUNE_MR=<rows of the register block> -DTUNE_NV=<vectors per row> -DTUNE_VW=<lanes
 * of a vector> (runtime/tune.c picks them per device and shape class). VF is the vector of
 * TUNE_VW floats, REPM repeats a macro for the TUNE_MR rows, REPV(X, r) for the TUNE_NV vectors
 * of row r, and PANEL is the columns (positions) a work-item owns. Without the options the
 * hand-set values of the first design hold. */
#ifndef TUNE_MR
#define TUNE_MR 8
#endif
#ifndef TUNE_VW
#define TUNE_VW 16
#endif
#define REP4(X) X(0) X(1) X(2) X(3)
#define REP8(X) REP4(X) X(4) X(5) X(6) X(7)
#define REP12(X) REP8(X) X(8) X(9) X(10) X(11)
#define REP16(X) REP12(X) X(12) X(13) X(14) X(15)
#ifndef TUNE_NV
#define TUNE_NV 1
#endif
#if TUNE_NV == 1
#define REPV(X, r) X(r, 0)
#elif TUNE_NV == 2
#define REPV(X, r) X(r, 0) X(r, 1)
#else
#error "TUNE_NV must be 1 or 2"
#endif
#define PANEL (TUNE_NV * TUNE_VW)
#if TUNE_MR == 4
#define REPM REP4
#elif TUNE_MR == 8
#define REPM REP8
#elif TUNE_MR == 12
#define REPM REP12
#elif TUNE_MR == 16
#define REPM REP16
#else
#error "TUNE_MR must be 4, 8, 12 or 16"
#endif
#if TUNE_VW == 16
#define VF float16
#define VI int16
#define VLOAD vload16
#define VSTORE vstore16
#define VLANES (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VSTORE_PART store_part16
#elif TUNE_VW == 8
#define VF float8
#define VI int8
#define VLOAD vload8
#define VSTORE vstore8
#define VLANES (int8)(0, 1, 2, 3, 4, 5, 6, 7)
#define VSTORE_PART store_part8
#else
#error "TUNE_VW must be 8 or 16"
#endif

/* the lanes of v added in a fixed order (pairwise halves) */
inline float vsum(VF v)
{
#if TUNE_VW == 16
    const float8 a = v.lo + v.hi;
#else
    const float8 a = v;
#endif
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}
