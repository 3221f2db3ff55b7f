/* kernels/dual_loss.cl — CE and BCE from a batch's cosines in one pass, the gradient of the loss
 * being trained, and accuracy counts.
 *
 * For sample i with label y, cosines c_k, scale gamma and shared bias b:
 *   CE  = log(1 + sum_{k!=y} exp(z_k)),  z_k = gamma (c_k - c_y)       (log1p form: exact for the
 *         tiny losses of large gamma, where a plain log-sum-exp in fp32 returns 0; shifted by
 *         max(0, max z_k) so nothing overflows)
 *   BCE = softplus(b - gamma c_y) + sum_{k!=y} softplus(gamma c_k - b)
 *   dCE/dc_y = -gamma (1 - p_y), dCE/dc_k = gamma p_k
 *   dBCE/dc_y = -gamma sig(b - gamma c_y), dBCE/dc_k = gamma sig(gamma c_k - b)
 *   dBCE/db = sig(b - gamma c_y) - sum_{k!=y} sig(gamma c_k - b)
 * Gradients are of the batch mean (scaled by 1/N). The prediction is the first arg max of c.
 * sample[i] = {CE, BCE, correct, dBCE/db}; loss_reduce sums them in order into stats[slot], and
 * class_counts adds the batch's samples and correct ones per class (net/class_acc.h), predictions
 * writes each sample's predicted class for the same pass.
 */
inline float softplus(float x) { return fmax(x, 0.0f) + log1p(exp(-fabs(x))); }
inline float sigm(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}

__kernel void dual_loss(__global const float *cosv, __global const int *labels, int N, int K,
                        float gamma, __global const float *bias, int train_bce, int want_grad,
                        __global float *dcos, __global float *sample)
{
    const int i = (int)get_global_id(0);
    if (i >= N) return;
    __global const float *c = cosv + (size_t)i * K;
    const int y = labels[i];
    const float cy = c[y], b = bias[0];
    int arg = 0;
    float zmax = 0.0f;
    for (int k = 0; k < K; k++) {
        if (c[k] > c[arg]) arg = k;
        if (k != y) zmax = fmax(zmax, gamma * (c[k] - cy));
    }
    float s = 0.0f, bce = softplus(b - gamma * cy), db = sigm(b - gamma * cy);
    for (int k = 0; k < K; k++) {
        if (k == y) continue;
        s += exp(gamma * (c[k] - cy) - zmax);
        const float t = gamma * c[k] - b;
        bce += softplus(t);
        db -= sigm(t);
    }
    const float e0 = exp(-zmax);
    const float ce = zmax == 0.0f ? log1p(s) : zmax + log(e0 + s);
    __global float *out = sample + (size_t)i * 4;
    out[0] = ce;
    out[1] = bce;
    out[2] = arg == y ? 1.0f : 0.0f;
    out[3] = db;
    if (!want_grad) return;
    const float scale = gamma / (float)N;
    __global float *g = dcos + (size_t)i * K;
    if (train_bce) {
        for (int k = 0; k < K; k++)
            g[k] = k == y ? -scale * sigm(b - gamma * cy) : scale * sigm(gamma * c[k] - b);
    } else {
        const float denom = e0 + s;
        for (int k = 0; k < K; k++)
            g[k] = k == y ? -scale * (s / denom) : scale * (exp(gamma * (c[k] - cy) - zmax) / denom);
    }
}

/* stats[slot] = {sum CE, sum BCE, sum correct, N}; dbias[0] = mean dBCE/db (when dbias_on) */
__kernel void loss_reduce(__global const float *sample, int N, __global float *stats, int slot,
                          __global float *dbias, int dbias_on)
{
    if (get_global_id(0) != 0) return;
    float ce = 0.0f, bce = 0.0f, correct = 0.0f, db = 0.0f;
    for (int i = 0; i < N; i++) {
        ce += sample[4 * i];
        bce += sample[4 * i + 1];
        correct += sample[4 * i + 2];
        db += sample[4 * i + 3];
    }
    stats[4 * slot] = ce;
    stats[4 * slot + 1] = bce;
    stats[4 * slot + 2] = correct;
    stats[4 * slot + 3] = (float)N;
    if (dbias_on) dbias[0] = db / (float)N;
}

/* pred[first + i] = the first arg max of sample i's cosines (the prediction `correct` counts) */
__kernel void predictions(__global const float *cosv, int N, int K, __global int *pred, int first)
{
    const int i = (int)get_global_id(0);
    if (i >= N) return;
    __global const float *c = cosv + (size_t)i * K;
    int best = 0;
    for (int k = 1; k < K; k++)
        if (c[k] > c[best]) best = k;
    pred[first + i] = best;
}

/* counts[2k] += the batch's samples of label k, counts[2k + 1] += those predicted right
 * (sample[4i + 2]): one work-item per class, the batch in sample order, whole numbers */
__kernel void class_counts(__global const float *sample, __global const int *labels, int N, int K,
                           __global int *counts)
{
    const int k = (int)get_global_id(0);
    if (k >= K) return;
    int n = 0, right = 0;
    for (int i = 0; i < N; i++)
        if (labels[i] == k) {
            n++;
            right += sample[4 * i + 2] != 0.0f;
        }
    counts[2 * k] += n;
    counts[2 * k + 1] += right;
}
