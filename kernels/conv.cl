/* kernels/conv.cl — im2col and col2im for convolutions as GEMMs, in the C x N x H x W layout.
 *
 * col has one row per (input channel, kh, kw) and one column per output pixel p = (n, oh, ow):
 *   col[(ci*K + kh)*K + kw][p] = x[ci][n][oh*S - P + kh][ow*S - P + kw]   (0 outside the image).
 * col2im is the gather form of the transpose: every input pixel sums its own contributions in a
 * fixed (kh, kw) order, so no atomics are needed and results reproduce.
 * Launches are 2-D: dimension 1 picks the row (im2col) or channel (col2im), dimension 0 a chunk
 * of RT_CHUNK pixels.
 */
__kernel void im2col(__global const float *x, __global float *col, int N, int H, int W, int OH,
                     int OW, int K, int S, int P)
{
    const int r = (int)get_global_id(1);
    const int kw = r % K, kh = (r / K) % K, ci = r / (K * K);
    const int total = N * OH * OW;
    const int p0 = (int)get_global_id(0) * RT_CHUNK;
    if (p0 >= total) return;
    const int p1 = min(p0 + RT_CHUNK, total);
    __global const float *xc = x + (size_t)ci * N * H * W;
    __global float *out = col + (size_t)r * total;
    int ow = p0 % OW, oh = (p0 / OW) % OH, n = p0 / (OW * OH);
    for (int p = p0; p < p1; p++) {
        const int ih = oh * S - P + kh, iw = ow * S - P + kw;
        out[p] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xc[((size_t)n * H + ih) * W + iw] : 0.0f;
        if (++ow == OW) {
            ow = 0;
            if (++oh == OH) { oh = 0; n++; }
        }
    }
}

__kernel void col2im(__global const float *col, __global float *dx, int N, int H, int W, int OH,
                     int OW, int K, int S, int P, int accumulate)
{
    const int ci = (int)get_global_id(1);
    const int total = N * H * W, ptotal = N * OH * OW;
    const int q0 = (int)get_global_id(0) * RT_CHUNK;
    if (q0 >= total) return;
    const int q1 = min(q0 + RT_CHUNK, total);
    __global float *out = dx + (size_t)ci * total;
    int iw = q0 % W, ih = (q0 / W) % H, n = q0 / (W * H);
    for (int q = q0; q < q1; q++) {
        float acc = 0.0f;
        for (int kh = 0; kh < K; kh++) {
            const int th = ih + P - kh;
            if (th < 0 || th % S) continue;
            const int oh = th / S;
            if (oh >= OH) continue;
            for (int kw = 0; kw < K; kw++) {
                const int tw = iw + P - kw;
                if (tw < 0 || tw % S) continue;
                const int ow = tw / S;
                if (ow >= OW) continue;
                acc += col[(size_t)((ci * K + kh) * K + kw) * ptotal + ((size_t)n * OH + oh) * OW + ow];
            }
        }
        out[q] = accumulate ? out[q] + acc : acc;
        if (++iw == W) {
            iw = 0;
            if (++ih == H) { ih = 0; n++; }
        }
    }
}
