/* kernels/data.cl — building a training batch on the device from the uint8 data set.
 *
 * The whole data set lives on the device as uint8; a batch is a range of a per-epoch order
 * (a permutation uploaded once per epoch), so a step uploads nothing. The batch is written in the
 * engine's activation layout C x N x H x W, standardized with the training set's per-channel mean
 * and standard deviation (norm = {mean_0, 1/std_0, mean_1, 1/std_1, ...}); training batches may
 * be augmented (random crop with zero padding, horizontal flip) as they are gathered.
 */
__kernel void gather_batch(__global const uchar *pixels, __global const int *labels,
                           __global const int *order, int first, int n, int C, int HW,
                           __global const float *norm, __global float *x, __global int *y)
{
    const int i = (int)get_global_id(0), c = (int)get_global_id(1);
    if (i >= n || c >= C) return;
    const int idx = order[first + i];
    __global const uchar *src = pixels + ((size_t)idx * C + c) * HW;
    __global float *dst = x + ((size_t)c * n + i) * HW;
    const float mean = norm[2 * c], inv_std = norm[2 * c + 1];
    for (int p = 0; p < HW; p++) dst[p] = ((float)src[p] - mean) * inv_std;
    if (c == 0) y[i] = labels[idx];
}

/* splitmix64's finalizer; the host copy is net/rng.c's mix */
static ulong augment_mix(ulong z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

/* gather_batch with train-time augmentation (net.h has the formula; nn_augment_draw is its host
 * copy): per sample, from the epoch's key and its position in the order, a shift (dx, dy) in
 * [-4, 4] of a crop out of the image padded with raw 0 pixels (flags & 1), and a left-right flip
 * with probability 1/2 (flags & 2). The key comes as two 32-bit halves. */
__kernel void gather_batch_augment(__global const uchar *pixels, __global const int *labels,
                                   __global const int *order, int first, int n, int C, int H, int W,
                                   __global const float *norm, __global float *x, __global int *y,
                                   int key_lo, int key_hi, int flags)
{
    const int i = (int)get_global_id(0), c = (int)get_global_id(1);
    if (i >= n || c >= C) return;
    const int idx = order[first + i];
    const ulong key = ((ulong)(uint)key_hi << 32) | (ulong)(uint)key_lo;
    const ulong r = augment_mix(key + (ulong)(first + i + 1) * 0x9e3779b97f4a7c15UL);
    const uint lo = (uint)r, hi = (uint)(r >> 32);
    const int dx = (flags & 1) ? (int)(lo % 9u) - 4 : 0;
    const int dy = (flags & 1) ? (int)((hi >> 1) % 9u) - 4 : 0;
    const int flip = (flags & 2) ? (int)(hi & 1u) : 0;
    const int HW = H * W;
    __global const uchar *src = pixels + ((size_t)idx * C + c) * HW;
    __global float *dst = x + ((size_t)c * n + i) * HW;
    const float mean = norm[2 * c], inv_std = norm[2 * c + 1];
    const float pad = (0.0f - mean) * inv_std;
    for (int yy = 0; yy < H; yy++) {
        const int sy = yy + dy;
        const int row_in = sy >= 0 && sy < H;
        for (int xx = 0; xx < W; xx++) {
            const int sx = (flip ? W - 1 - xx : xx) + dx;
            dst[yy * W + xx] =
                row_in && sx >= 0 && sx < W ? ((float)src[sy * W + sx] - mean) * inv_std : pad;
        }
    }
    if (c == 0) y[i] = labels[idx];
}
