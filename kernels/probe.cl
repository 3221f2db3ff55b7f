/* kernels/probe.cl — peak probes for `gammacl bench`: the FP32 FMA rate and the read bandwidth.
 *
 * FMA probe (probe_fma16 on CPU-style rows, probe_fma4 on GPU-style rows; runtime/probe.c picks):
 * work-item g (of n) holds L = 12 * W independent values x_j (W = 16 or 4 lanes per chain,
 * 12 vector chains: enough in flight to hide the FMA latency on every FMA unit of a CPU core, and
 * instruction-level parallelism on a GPU). Value j = c * W + lane of chain c starts at
 * ((g * 37 + j) & 1023) / 1024 (exact in fp32), and each of the `iters` iterations does
 * x_j = fma(x_j, a, b) — the exactly rounded builtin, so the host reproduces every bit with C's
 * fmaf. With 0 < a < 1 and b / (1 - a) < 1 the values stay in [0, 1) and approach b / (1 - a)
 * only geometrically (runtime/rt.h: RT_PROBE_FMA_A, RT_PROBE_FMA_B).
 * probe_muladd16 / probe_muladd4 do x_j * a + b instead, for devices without a fused FMA in
 * hardware (CL_FP_FMA unset: llvmpipe computes fma() in software, ~50x slower than its multiply
 * and add, while gammacl's kernels write a * b + c, which such a device runs as a multiply and an
 * add).
 * out[g] = x_0 + x_1 + ... + x_(L-1), added one by one from 0 in that order (the work cannot be
 * dropped, and the host can recompute it exactly).
 * FLOPs of one launch: n * iters * L * 2 (one FMA = 2 FLOPs; L = 192 for the 16-wide kernels,
 * 48 for the 4-wide ones); the seeds and the final sum are not counted.
 *
 * Read probe (probe_read16 on CPU-style rows, probe_read4 on GPU-style rows): the n work-items
 * form blocks of `lanes` (the launch's work-group size or a multiple of it), and the buffer one
 * contiguous slice of `per_block` vectors (float16 or float4) per block; work-item l of a block
 * reads the vectors l, l + lanes, l + 2 lanes, ... of its slice (contiguous for a CPU work-item at
 * lanes = 1, coalesced across a GPU work-group), the k-th of them added to accumulator k % 4.
 * out[global id] = the lanes of ((a0 + a1) + a2) + a3 in order, added one by one from 0.
 * Bytes counted: the bytes read, 64 or 16 per vector.
 */

/* s + v.s0 + v.s1 + ... in lane order (a fixed order the host reproduces) */
float probe_hsum4(float s, float4 v)
{
    return (((s + v.s0) + v.s1) + v.s2) + v.s3;
}

float probe_hsum16(float s, float16 v)
{
    s = probe_hsum4(s, v.s0123);
    s = probe_hsum4(s, v.s4567);
    s = probe_hsum4(s, v.s89ab);
    return probe_hsum4(s, v.scdef);
}

/* One step of every chain. llvmpipe (Mesa 22.3) silently leaves a kernel's loops after 65535
 * loop trips in all (nested loops too): the FMA loop does 16 steps a trip, and runtime/probe.c
 * launches at most RT_PROBE_FMA_MAX_ITERS steps at a time and at most 4 x 65535 vectors per
 * work-item of the read loop. */
#define PROBE_STEP(OP)                                                                        \
    x0 = OP(x0, va, vb); x1 = OP(x1, va, vb); x2 = OP(x2, va, vb); x3 = OP(x3, va, vb);       \
    x4 = OP(x4, va, vb); x5 = OP(x5, va, vb); x6 = OP(x6, va, vb); x7 = OP(x7, va, vb);       \
    x8 = OP(x8, va, vb); x9 = OP(x9, va, vb); x10 = OP(x10, va, vb); x11 = OP(x11, va, vb);
#define PROBE_STEP4(OP) PROBE_STEP(OP) PROBE_STEP(OP) PROBE_STEP(OP) PROBE_STEP(OP)

/* The body of an FMA probe with chains of type V (W lanes, lane offsets LANES), step OP. */
#define PROBE_FMA_BODY(V, W, LANES, HSUM, OP)                                                 \
    const int g = (int)get_global_id(0);                                                      \
    if (g >= n) return;                                                                       \
    const V va = (V)(a), vb = (V)(b);                                                         \
    const int base = (int)(((uint)g * 37u) & 1023u); /* uint: no overflow */                  \
    V x0 = PROBE_SEED(V, W, LANES, 0), x1 = PROBE_SEED(V, W, LANES, 1);                       \
    V x2 = PROBE_SEED(V, W, LANES, 2), x3 = PROBE_SEED(V, W, LANES, 3);                       \
    V x4 = PROBE_SEED(V, W, LANES, 4), x5 = PROBE_SEED(V, W, LANES, 5);                       \
    V x6 = PROBE_SEED(V, W, LANES, 6), x7 = PROBE_SEED(V, W, LANES, 7);                       \
    V x8 = PROBE_SEED(V, W, LANES, 8), x9 = PROBE_SEED(V, W, LANES, 9);                       \
    V x10 = PROBE_SEED(V, W, LANES, 10), x11 = PROBE_SEED(V, W, LANES, 11);                   \
    int i = 0;                                                                                \
    for (; i + 16 <= iters; i += 16) { /* 16 steps a loop trip: see PROBE_STEP */             \
        PROBE_STEP4(OP) PROBE_STEP4(OP) PROBE_STEP4(OP) PROBE_STEP4(OP)                       \
    }                                                                                         \
    for (; i < iters; i++) { PROBE_STEP(OP) }                                                 \
    float s = 0.0f;                                                                           \
    s = HSUM(s, x0); s = HSUM(s, x1); s = HSUM(s, x2); s = HSUM(s, x3);                       \
    s = HSUM(s, x4); s = HSUM(s, x5); s = HSUM(s, x6); s = HSUM(s, x7);                       \
    s = HSUM(s, x8); s = HSUM(s, x9); s = HSUM(s, x10); s = HSUM(s, x11);                     \
    out[g] = s

/* chain c's start: ((base + c * W + lane) & 1023) / 1024 for every lane */
#define PROBE_SEED(V, W, LANES, c) \
    (convert_##V((base + (c) * (W) + LANES) & 1023) * (1.0f / 1024.0f))

#define PROBE_LANES16 (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define PROBE_LANES4 (int4)(0, 1, 2, 3)
#define PROBE_MULADD(x, a, b) ((x) * (a) + (b)) /* contractable: the driver may fuse it */

/* 12 chains of float16 (L = 192): 512-bit vectors for CPU devices that run a work-item's own
 * vectors (PoCL), 12 accumulators + 2 constants of the 32 vector registers of AVX-512 */
__kernel void probe_fma16(__global float *out, int n, int iters, float a, float b)
{
    PROBE_FMA_BODY(float16, 16, PROBE_LANES16, probe_hsum16, fma);
}

__kernel void probe_muladd16(__global float *out, int n, int iters, float a, float b)
{
    PROBE_FMA_BODY(float16, 16, PROBE_LANES16, probe_hsum16, PROBE_MULADD);
}

/* 12 chains of float4 (L = 48): for devices that vectorise across work-items (GPUs, llvmpipe) */
__kernel void probe_fma4(__global float *out, int n, int iters, float a, float b)
{
    PROBE_FMA_BODY(float4, 4, PROBE_LANES4, probe_hsum4, fma);
}

__kernel void probe_muladd4(__global float *out, int n, int iters, float a, float b)
{
    PROBE_FMA_BODY(float4, 4, PROBE_LANES4, probe_hsum4, PROBE_MULADD);
}

/* The body of a read probe over vectors of type V, summed lane by lane with HSUM. */
#define PROBE_READ_BODY(V, HSUM)                                                              \
    const int g = (int)get_global_id(0);                                                      \
    if (g >= n) return;                                                                       \
    const int cnt = per_block / lanes;                                                        \
    __global const V *p = x + (size_t)(g / lanes) * (size_t)per_block + g % lanes;            \
    V a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;                                             \
    int k = 0;                                                                                \
    for (; k + 4 <= cnt; k += 4) {                                                            \
        a0 += p[(size_t)k * lanes];                                                           \
        a1 += p[(size_t)(k + 1) * lanes];                                                     \
        a2 += p[(size_t)(k + 2) * lanes];                                                     \
        a3 += p[(size_t)(k + 3) * lanes];                                                     \
    }                                                                                         \
    if (k < cnt) a0 += p[(size_t)k * lanes];                                                  \
    if (k + 1 < cnt) a1 += p[(size_t)(k + 1) * lanes];                                        \
    if (k + 2 < cnt) a2 += p[(size_t)(k + 2) * lanes];                                        \
    out[g] = HSUM(0.0f, ((a0 + a1) + a2) + a3)

/* 64-byte vectors: one cache line per load for a CPU work-item that runs its own vectors */
__kernel void probe_read16(__global const float16 *x, int n, int lanes, int per_block,
                           __global float *out)
{
    PROBE_READ_BODY(float16, probe_hsum16);
}

/* 16-byte vectors, coalesced across the work-items of a GPU-style work-group */
__kernel void probe_read4(__global const float4 *x, int n, int lanes, int per_block,
                          __global float *out)
{
    PROBE_READ_BODY(float4, probe_hsum4);
}
