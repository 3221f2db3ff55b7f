/* kernels/normalize.cl — L2 normalization of vectors (features or class weights), and its backward.
 *
 * Vector v has `dim` elements at x[v*stride_v + j*stride_e] (features are stored d x N, so
 * stride_e = N, stride_v = 1; weights K x d, so stride_e = 1, stride_v = d).
 *   y = x / n,  n = max(||x||, eps);   dx = (dy - y (y . dy)) / n   (dx = dy / eps where clamped)
 * norms[v] keeps n for the backward pass. One work-item per vector; sums in a fixed order.
 */
__kernel void l2norm_fwd(__global const float *x, __global float *y, __global float *norms,
                         int count, int dim, int stride_e, int stride_v, float eps)
{
    const int v = (int)get_global_id(0);
    if (v >= count) return;
    __global const float *xv = x + (size_t)v * stride_v;
    __global float *yv = y + (size_t)v * stride_v;
    float s = 0.0f;
    for (int j = 0; j < dim; j++) {
        const float t = xv[(size_t)j * stride_e];
        s = fma(t, t, s);
    }
    const float n = fmax(sqrt(s), eps);
    norms[v] = n;
    for (int j = 0; j < dim; j++) yv[(size_t)j * stride_e] = xv[(size_t)j * stride_e] / n;
}

__kernel void l2norm_bwd(__global const float *y, __global const float *norms,
                         __global const float *dy, __global float *dx, int count, int dim,
                         int stride_e, int stride_v, float eps, int acc)
{
    const int v = (int)get_global_id(0);
    if (v >= count) return;
    const size_t o = (size_t)v * stride_v;
    const float n = norms[v];
    float d = 0.0f;
    if (n > eps)
        for (int j = 0; j < dim; j++) d = fma(y[o + (size_t)j * stride_e], dy[o + (size_t)j * stride_e], d);
    for (int j = 0; j < dim; j++) {
        const size_t e = o + (size_t)j * stride_e;
        const float g = (dy[e] - y[e] * d) / n;
        dx[e] = acc ? dx[e] + g : g;
    }
}
