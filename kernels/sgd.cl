/* kernels/sgd.cl — SGD with momentum and (optional) weight decay, as PyTorch defines it:
 *   g' = g + wd * p;  m = momentum * m + g';  p = p - lr * m
 * It also watches for numerical faults: bad[index] records the first step (step_id > 0) whose
 * update made this tensor non-finite, bad[count_params + index] the first step that found it
 * non-finite already (a poisoned checkpoint, say). Recorded with an integer compare-and-swap, so
 * the first step wins whatever the work-item order; no float atomics.
 */
__kernel void sgd_step(__global float *p, __global const float *g, __global float *m, int n,
                       float lr, float momentum, float wd, __global int *bad, int index,
                       int nparams, int step_id)
{
    CHUNK_RANGE(n, i0, i1);
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
