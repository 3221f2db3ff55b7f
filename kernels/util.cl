/* kernels/util.cl — small helpers: zero fill, scaled copy and accumulation of float arrays. */

__kernel void fill_zero(__global float *x, int off, int n)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) x[off + i] = 0.0f;
}

/* y += x (n elements) */
__kernel void add_inplace(__global float *y, __global const float *x, int n)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) y[i] += x[i];
}

/* y = a * x (n elements) */
__kernel void scale_copy(__global float *y, __global const float *x, float a, int n)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) y[i] = a * x[i];
}

/* out[e] = sum over s of part[s * stride + e], slices added in order s = 0, 1, ... (the fixed
 * order that makes split reductions reproducible); RT_CHUNK contiguous elements per work-item */
__kernel void sum_slices(__global const float *part, int poff, int slices, int stride,
                         __global float *out, int ooff, int n)
{
    CHUNK_RANGE(n, i0, i1);
    part += poff;
    out += ooff;
    for (int e = i0; e < i1; e++) out[e] = part[e];
    for (int s = 1; s < slices; s++) { /* slice by slice: contiguous streams, same order per element */
        __global const float *p = part + (size_t)s * stride;
        for (int e = i0; e < i1; e++) out[e] += p[e];
    }
}

/* C[i, j] = alpha * (sum over s of part[s * M * N + i * N + j], added in order s = 0, 1, ...)
 * + beta * C[i, j] for a row-major M x N block per slice; C is not read when beta is 0 */
__kernel void sum_slices_axpby(__global const float *part, int slices, int M, int N, float alpha,
                               float beta, __global float *C, int coff, int ldc)
{
    const int mn = M * N;
    CHUNK_RANGE(mn, e0, e1);
    C += coff;
    for (int e = e0; e < e1; e++) {
        float acc = part[e];
        for (int s = 1; s < slices; s++) acc += part[(size_t)s * mn + e];
        const int i = e / N, j = e - i * N;
        const float v = alpha * acc;
        C[(size_t)i * ldc + j] = beta != 0.0f ? v + beta * C[(size_t)i * ldc + j] : v;
    }
}
