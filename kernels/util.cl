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
