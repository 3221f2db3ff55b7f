/* kernels/data.cl — building a training batch on the device from the uint8 data set.
 *
 * The whole data set lives on the device as uint8; a batch is a range of a per-epoch order
 * (a permutation uploaded once per epoch), so a step uploads nothing. The batch is written in the
 * engine's activation layout C x N x H x W, standardized with the training set's per-channel mean
 * and standard deviation (norm = {mean_0, 1/std_0, mean_1, 1/std_1, ...}).
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
