/* kernels/sgd.cl — SGD with momentum and (optional) weight decay, as PyTorch defines it:
 *   g' = g + wd * p;  m = momentum * m + g';  p = p - lr * m
 * It also watches for numerical faults: bad[index] records the first step (step_id > 0) whose
 * update made this tensor non-finite, bad[count_params + index] the first step that found it
 * non-finite already (a poisoned checkpoint, say). Recorded with an integer compare-and-swap, so
 * the first step wins whatever the work-item order; no float atomics. sgd_step_packed steps every
 * tensor of a model in one launch.
 */
/* the update of elements [i0, i1) of one tensor, and its fault record */
static void sgd_range(__global float *p, __global const float *g, __global float *m, int i0, int i1,
                      float lr, float momentum, float wd, __global int *bad, int index, int nparams,
                      int step_id)
{
    int made = 0, found = 0;
    for (int i = i0; i < i1; i++) {
        const float old = p[i];
        const float gi = g[i] + wd * old;
        const float mi = momentum * m[i] + gi;
        const float np = old - lr * mi;
        m[i] = mi;
        p[i] = np;
        found |= !isfinite(old);
        made |= isfinite(old) && !isfinite(np);
    }
    if (made) atomic_cmpxchg(bad + index, 0, step_id);
    if (found) atomic_cmpxchg(bad + nparams + index, 0, step_id);
}

__kernel void sgd_step(__global float *p, __global const float *g, __global float *m, int n,
                       float lr, float momentum, float wd, __global int *bad, int index,
                       int nparams, int step_id)
{
    CHUNK_RANGE(n, i0, i1);
    sgd_range(p, g, m, i0, i1, lr, momentum, wd, bad, index, nparams, step_id);
}

/* Every trainable tensor in one launch: they lie in one buffer each of values, gradients and
 * momenta; table holds per tensor {offset, count, decays, parameter index, first chunk}, tensors
 * in order. A work-item takes one chunk of RT_CHUNK elements of the tensor whose chunks hold it,
 * cut from the tensor's start as sgd_step cuts it, so the results are the same bits. */
__kernel void sgd_step_packed(__global float *P, __global const float *G, __global float *M,
                              __global const int *table, int ntensors, int chunks, float lr,
                              float momentum, float wd, __global int *bad, int nparams, int step_id)
{
    const int c = (int)get_global_id(0);
    if (c >= chunks) return;
    int lo = 0, hi = ntensors - 1; /* the last tensor whose first chunk is at or before c */
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (table[5 * mid + 4] <= c) lo = mid;
        else hi = mid - 1;
    }
    __global const int *t = table + 5 * lo;
    const int i0 = (c - t[4]) * RT_CHUNK, i1 = min(i0 + RT_CHUNK, t[1]);
    sgd_range(P + t[0], G + t[0], M + t[0], i0, i1, lr, momentum, t[2] ? wd : 0.0f, bad, t[3],
              nparams, step_id);
}
