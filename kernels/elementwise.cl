/* kernels/elementwise.cl — ReLU and the residual add, forward and backward.
 *
 * One work-item handles RT_CHUNK consecutive elements (a long contiguous loop on CPUs, one element
 * on GPUs). ReLU's backward uses the forward output: dx = dy where y > 0.
 */
__kernel void relu_fwd(__global const float *x, __global float *y, int n)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) y[i] = fmax(x[i], 0.0f);
}

/* acc = 0: dx = dy * (y > 0);  acc = 1: dx += dy * (y > 0) */
__kernel void relu_bwd(__global const float *y, __global const float *dy, __global float *dx,
                       int n, int acc)
{
    CHUNK_RANGE(n, i0, i1);
    if (acc)
        for (int i = i0; i < i1; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    else
        for (int i = i0; i < i1; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void add_fwd(__global const float *a, __global const float *b, __global float *y, int n)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) y[i] = a[i] + b[i];
}

/* acc = 0: dx = dy;  acc = 1: dx += dy */
__kernel void pass_bwd(__global const float *dy, __global float *dx, int n, int acc)
{
    CHUNK_RANGE(n, i0, i1);
    if (acc)
        for (int i = i0; i < i1; i++) dx[i] += dy[i];
    else
        for (int i = i0; i < i1; i++) dx[i] = dy[i];
}
