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

/* The row forms of both, for CPUs (the device table's cpu_style): a work-item owns RPI whole
 * rows, so there is no per-pixel index arithmetic and the inner loops are plain strided copies
 * and adds. Same values, same summation order as above (bit for bit). */

/* dim 1: the row r of col, dim 0: RPI output rows (n, oh) of it */
__kernel void im2col_rows(__global const float *x, __global float *col, int N, int H, int W, int OH,
                          int OW, int K, int S, int P, int RPI)
{
    const int r = (int)get_global_id(1);
    const int kw = r % K, kh = (r / K) % K, ci = r / (K * K);
    const int rows = N * OH, j0 = (int)get_global_id(0) * RPI;
    if (j0 >= rows) return;
    const int j1 = min(j0 + RPI, rows);
    /* the output columns whose input column ow*S - P + kw lies inside the image */
    const int lo = min(OW, kw >= P ? 0 : (P - kw + S - 1) / S);
    const int hi = max(lo, min(OW, W - 1 + P - kw >= 0 ? (W - 1 + P - kw) / S + 1 : 0));
    __global const float *xc = x + (size_t)ci * N * H * W;
    __global float *out = col + (size_t)r * rows * OW;
    for (int j = j0; j < j1; j++) {
        const int n = j / OH, ih = (j % OH) * S - P + kh;
        __global float *o = out + (size_t)j * OW;
        if (ih < 0 || ih >= H) {
            for (int ow = 0; ow < OW; ow++) o[ow] = 0.0f;
            continue;
        }
        __global const float *xr = xc + ((size_t)n * H + ih) * W + kw; /* minus P: in the index */
        for (int ow = 0; ow < lo; ow++) o[ow] = 0.0f;
        for (int ow = lo; ow < hi; ow++) o[ow] = xr[ow * S - P];
        for (int ow = hi; ow < OW; ow++) o[ow] = 0.0f;
    }
}

#define COL2IM_SEG 64 /* input columns summed at a time in private memory */

/* dim 1: the input channel, dim 0: RPI input rows (n, ih) of it, each in segments of
 * COL2IM_SEG columns: every (kh, kw) in order adds its col row into the segment */
__kernel void col2im_rows(__global const float *col, __global float *dx, int N, int H, int W, int OH,
                          int OW, int K, int S, int P, int accumulate, int RPI)
{
    const int ci = (int)get_global_id(1);
    const int rows = N * H, j0 = (int)get_global_id(0) * RPI;
    if (j0 >= rows) return;
    const int j1 = min(j0 + RPI, rows);
    const size_t ptotal = (size_t)N * OH * OW;
    __global float *out = dx + (size_t)ci * rows * W;
    for (int j = j0; j < j1; j++) {
        const int n = j / H, ih = j % H;
        __global float *o = out + (size_t)j * W;
        for (int b0 = 0; b0 < W; b0 += COL2IM_SEG) {
            const int bw = min(COL2IM_SEG, W - b0);
            float acc[COL2IM_SEG];
            for (int i = 0; i < bw; i++) acc[i] = 0.0f;
            for (int kh = 0; kh < K; kh++) {
                const int th = ih + P - kh;
                if (th < 0 || th % S || th / S >= OH) continue;
                __global const float *cr = col + (size_t)((ci * K + kh) * K) * ptotal +
                                           ((size_t)n * OH + th / S) * OW;
                for (int kw = 0; kw < K; kw++, cr += ptotal) {
                    /* the outputs ow whose input column ow*S - P + kw falls in [b0, b0 + bw) */
                    const int first = b0 + P - kw, last = b0 + bw - 1 + P - kw;
                    if (last < 0) continue;
                    const int olo = first <= 0 ? 0 : (first + S - 1) / S;
                    const int ohi = min(OW - 1, last / S);
                    for (int ow = olo; ow <= ohi; ow++) acc[ow * S - P + kw - b0] += cr[ow];
                }
            }
            if (accumulate)
                for (int i = 0; i < bw; i++) o[b0 + i] += acc[i];
            else
                for (int i = 0; i < bw; i++) o[b0 + i] = acc[i];
        }
    }
}
