/* kernels/pool.cl — max pooling (window = stride = K) and global average pooling.
 *
 * One work-item per image plane (channel, sample). Max pooling's backward recomputes which input
 * of each window was the maximum (the first one, in row-major order, as the forward took it) and
 * routes the gradient there; inputs outside every window (odd sizes) get zero. No atomics.
 */
__kernel void maxpool_fwd(__global const float *x, __global float *y, int planes, int H, int W,
                          int K)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const int OH = H / K, OW = W / K;
    __global const float *xp = x + (size_t)pl * H * W;
    __global float *yp = y + (size_t)pl * OH * OW;
    for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
            float m = xp[(oh * K) * W + ow * K];
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++) m = fmax(m, xp[(oh * K + a) * W + ow * K + b]);
            yp[oh * OW + ow] = m;
        }
}

__kernel void maxpool_bwd(__global const float *x, __global const float *y,
                          __global const float *dy, __global float *dx, int planes, int H, int W,
                          int K, int acc)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const int OH = H / K, OW = W / K;
    __global const float *xp = x + (size_t)pl * H * W;
    __global const float *yp = y + (size_t)pl * OH * OW;
    __global const float *dyp = dy + (size_t)pl * OH * OW;
    __global float *dxp = dx + (size_t)pl * H * W;
    if (!acc)
        for (int i = 0; i < H * W; i++) dxp[i] = 0.0f;
    for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
            const float m = yp[oh * OW + ow];
            int done = 0;
            for (int a = 0; a < K && !done; a++)
                for (int b = 0; b < K && !done; b++) {
                    const int i = (oh * K + a) * W + ow * K + b;
                    if (xp[i] == m) {
                        dxp[i] += dyp[oh * OW + ow];
                        done = 1;
                    }
                }
        }
}

/* y[plane] = mean of the plane's HW values */
__kernel void gap_fwd(__global const float *x, __global float *y, int planes, int HW)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    __global const float *xp = x + (size_t)pl * HW;
    float s = 0.0f;
    for (int i = 0; i < HW; i++) s += xp[i];
    y[pl] = s / (float)HW;
}

__kernel void gap_bwd(__global const float *dy, __global float *dx, int planes, int HW, int acc)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes) return;
    const float g = dy[pl] / (float)HW;
    __global float *dxp = dx + (size_t)pl * HW;
    if (acc)
        for (int i = 0; i < HW; i++) dxp[i] += g;
    else
        for (int i = 0; i < HW; i++) dxp[i] = g;
}
