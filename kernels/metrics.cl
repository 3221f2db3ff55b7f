/* kernels/metrics.cl — feature-geometry metrics over a whole data set (net/metrics.c).
 *
 * A metrics pass gathers, batch by batch, the normalized features H (d x ld, column i = sample i),
 * the cosines C (N x K), the labels and the raw feature norms; these kernels then reduce them.
 * Every reduction runs in a fixed order inside one work-item (no float atomics), so results
 * reproduce bit for bit; the histogram counts with integer atomics, whose sums do not depend on
 * the order. One work-item per item (sample, class x dimension, ...) or, for element-wise work,
 * RT_CHUNK consecutive elements.
 */

/* dst[j*ld + first + i] = src[j*n + i] for j < d, i < n: a batch's d x n block into column
 * `first` of the d x ld accumulation matrix. */
__kernel void metrics_append(__global const float *src, int n, int d, __global float *dst, int ld,
                             int first)
{
    CHUNK_RANGE(n * d, e0, e1);
    for (int e = e0; e < e1; e++) {
        const int j = e / n, i = e - j * n;
        dst[(size_t)j * ld + first + i] = src[e];
    }
}

/* S[t*d + j] = sum of H[j, i] over the samples i of segment t, taken in the order
 * perm[seg[t]] .. perm[seg[t+1] - 1] (compensated summation). A segment is a run of at most a few
 * thousand samples of one class (net/metrics.c), so that no work-item loops long: some drivers
 * end a work-item's loops after 65535 iterations in all. One work-item per (t, j). */
__kernel void metrics_class_sums(__global const float *H, int ld, int d, int nseg,
                                 __global const int *perm, __global const int *seg,
                                 __global float *S)
{
    const int e = (int)get_global_id(0);
    if (e >= nseg * d) return;
    const int t = e / d, j = e - t * d;
    __global const float *row = H + (size_t)j * ld;
    float s = 0.0f, comp = 0.0f;
    for (int p = seg[t]; p < seg[t + 1]; p++) {
        const float y = row[perm[p]] - comp;
        const float u = s + y;
        comp = (u - s) - y;
        s = u;
    }
    S[e] = s;
}

inline int metrics_bin(float c, int bins)
{
    const int b = (int)floor((c + 1.0f) * (0.5f * (float)bins));
    return clamp(b, 0, bins - 1);
}

/* Per sample i (C: cosines to the class weights, D: cosines to the normalized class means):
 *   out[4i] = c_{i,y}, out[4i+1] = max_{k!=y} c_{ik}, out[4i+2] = D_{i,y},
 *   out[4i+3] = 1 when the classifier's first arg max of C differs from the nearest class mean
 *   (the first arg max of D over the classes with samples: offs[k+1] > offs[k]).
 * hist[0..bins) counts positive cosines, hist[bins..2 bins) negative ones, bins of width 2/bins
 * over [-1, 1] (values outside go to the end bins; NaN is not counted). */
__kernel void metrics_samples(__global const float *C, __global const float *D,
                              __global const int *labels, __global const int *offs, int N, int K,
                              __global float *out, __global int *hist, int bins)
{
    const int i = (int)get_global_id(0);
    if (i >= N) return;
    __global const float *c = C + (size_t)i * K, *dc = D + (size_t)i * K;
    const int y = labels[i];
    int arg = 0, ncc = -1;
    float neg = -INFINITY;
    for (int k = 0; k < K; k++) {
        if (c[k] > c[arg]) arg = k;
        if (offs[k + 1] > offs[k] && (ncc < 0 || dc[k] > dc[ncc])) ncc = k;
        if (k == y) continue;
        neg = fmax(neg, c[k]);
        if (!isnan(c[k])) atomic_inc(&hist[bins + metrics_bin(c[k], bins)]);
    }
    if (!isnan(c[y])) atomic_inc(&hist[metrics_bin(c[y], bins)]);
    __global float *o = out + (size_t)4 * i;
    o[0] = c[y];
    o[1] = neg;
    o[2] = dc[y];
    o[3] = arg != ncc ? 1.0f : 0.0f;
}

inline float metrics_sigm(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}

/* The gradient of each sample's own loss with respect to its cosines, for both losses (as in
 * dual_loss.cl, without the 1/N of the batch mean): G[i*K + k] for CE, G[(N + i)*K + k] for BCE
 * at the shared bias b. */
__kernel void metrics_loss_dcos(__global const float *C, __global const int *labels, int N, int K,
                                float gamma, float b, __global float *G)
{
    const int i = (int)get_global_id(0);
    if (i >= N) return;
    __global const float *c = C + (size_t)i * K;
    __global float *gce = G + (size_t)i * K, *gbce = G + ((size_t)N + i) * K;
    const int y = labels[i];
    const float cy = c[y];
    float zmax = 0.0f;
    for (int k = 0; k < K; k++)
        if (k != y) zmax = fmax(zmax, gamma * (c[k] - cy));
    float s = 0.0f;
    for (int k = 0; k < K; k++)
        if (k != y) s += exp(gamma * (c[k] - cy) - zmax);
    const float denom = exp(-zmax) + s;
    for (int k = 0; k < K; k++) {
        gce[k] = k == y ? -gamma * (s / denom) : gamma * (exp(gamma * (c[k] - cy) - zmax) / denom);
        gbce[k] = k == y ? -gamma * metrics_sigm(b - gamma * cy) : gamma * metrics_sigm(gamma * c[k] - b);
    }
}

/* V (2N x d) holds v = sum_k dl/dc_k wn_k for each sample and loss (row r: sample r mod N).
 * out[r] = ||dl/dh|| = ||v - hn (hn . v)|| / ||h|| (through the L2 normalization, as
 * normalize.cl's backward: no projection where the norm was clamped at eps). */
__kernel void metrics_grad_norms(__global const float *V, __global const float *H, int ld,
                                 __global const float *hnorm, int N, int d, float eps,
                                 __global float *out)
{
    const int r = (int)get_global_id(0);
    if (r >= 2 * N) return;
    const int i = r < N ? r : r - N;
    __global const float *v = V + (size_t)r * d;
    const float n = hnorm[i];
    float dot = 0.0f;
    if (n > eps)
        for (int j = 0; j < d; j++) dot = fma(v[j], H[(size_t)j * ld + i], dot);
    float ss = 0.0f;
    for (int j = 0; j < d; j++) {
        const float t = v[j] - dot * H[(size_t)j * ld + i];
        ss = fma(t, t, ss);
    }
    out[r] = sqrt(ss) / n;
}

/* H[j, i] -= MU[y_i*d + j]: each feature minus its class mean, in place (d x N, leading dim ld). */
__kernel void metrics_center(__global float *H, int ld, int N, int d, __global const float *MU,
                             __global const int *labels)
{
    CHUNK_RANGE(N * d, e0, e1);
    for (int e = e0; e < e1; e++) {
        const int j = e / N, i = e - j * N;
        H[(size_t)j * ld + i] -= MU[(size_t)labels[i] * d + j];
    }
}
