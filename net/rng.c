/* net/rng.c — deterministic random numbers for initialization, data order and augmentation.
 *
 * splitmix64 keyed by (seed, stream): every parameter and every epoch's shuffle gets its own
 * stream, so adding a layer does not shift the others and a resumed run draws the same numbers.
 */
#include "nn_internal.h"

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void nn_fill_uniform(uint64_t seed, uint64_t stream, float *x, size_t n, float lo, float hi)
{
    uint64_t state = mix(seed ^ mix(stream + 0x9e3779b97f4a7c15ull));
    for (size_t i = 0; i < n; i++) {
        state += 0x9e3779b97f4a7c15ull;
        const float u = (float)(mix(state) >> 40) * (1.0f / 16777216.0f); /* [0, 1), 24 bits */
        x[i] = lo + (hi - lo) * u;
    }
}

void nn_shuffle(uint64_t seed, uint64_t stream, int32_t *order, int n)
{
    uint64_t state = mix(seed ^ mix(stream + 0x632be59bd9b4e019ull));
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        state += 0x9e3779b97f4a7c15ull;
        const int j = (int)(mix(state) % (uint64_t)(i + 1));
        const int32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

uint64_t nn_augment_key(uint64_t seed, uint64_t epoch)
{
    return mix(seed ^ mix(epoch + 0xd1b54a32d192ed03ull));
}

/* the host copy of the draw in kernels/data.cl gather_batch_augment (see net.h) */
void nn_augment_draw(uint64_t key, int pos, unsigned flags, int *dx, int *dy, int *flip)
{
    const uint64_t r = mix(key + (uint64_t)(pos + 1) * 0x9e3779b97f4a7c15ull);
    const uint32_t lo = (uint32_t)r, hi = (uint32_t)(r >> 32);
    *dx = flags & NN_AUGMENT_CROP ? (int)(lo % (2u * NN_AUGMENT_PAD + 1u)) - NN_AUGMENT_PAD : 0;
    *dy = flags & NN_AUGMENT_CROP ? (int)((hi >> 1) % (2u * NN_AUGMENT_PAD + 1u)) - NN_AUGMENT_PAD : 0;
    *flip = flags & NN_AUGMENT_FLIP ? (int)(hi & 1u) : 0;
}
