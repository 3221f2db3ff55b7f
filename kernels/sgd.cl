/* kernels/sgd.cl — SGD with momentum and (optional) weight decay, as PyTorch defines it:
 *   g' = g + wd * p;  m = momentum * m + g';  p = p - lr * m
 */
__kernel void sgd_step(__global float *p, __global const float *g, __global float *m, int n,
                       float lr, float momentum, float wd)
{
    CHUNK_RANGE(n, i0, i1);
    for (int i = i0; i < i1; i++) {
        const float gi = g[i] + wd * p[i];
        const float mi = momentum * m[i] + gi;
        m[i] = mi;
        p[i] -= lr * mi;
    }
}
