/* net/data.c — data sets on the device: uint8 pixels and labels uploaded once, a per-epoch order,
 * and the gather of a batch (standardized, in the C x N x H x W layout) by a kernel, so a training
 * step uploads nothing. Training steps may augment their batch in that gather (random crop and
 * flip, drawn from the epoch's key: see net.h).
 */
#include <stdlib.h>

#include "nn_internal.h"

struct nn_data {
    rt_buf *pixels, *labels, *order, *norm;
    int count, c, h, w;
    unsigned augment;          /* NN_AUGMENT_* flags of training gathers */
    uint64_t augment_key;      /* nn_augment_key(seed, epoch) of the current epoch */
};

int nn_data_count(const nn_data *d) { return d->count; }

rt_status nn_data_upload(rt_ctx *rt, const uint8_t *pixels, const int32_t *labels, int count,
                         int c, int h, int w, const float *mean, const float *std, nn_data **out)
{
    *out = NULL;
    if (count < 1 || c < 1 || h < 1 || w < 1 || c > 64)
        return rt_fail(rt, RT_E_ARG, "data set of %d samples of %dx%dx%d cannot be used", count, c, h, w);
    nn_data *d = calloc(1, sizeof *d);
    float *norm = calloc(2 * (size_t)c, sizeof *norm);
    if (!d || !norm) {
        free(d), free(norm);
        return rt_fail(rt, RT_E_ALLOC, "out of host memory");
    }
    *d = (nn_data){.count = count, .c = c, .h = h, .w = w};
    for (int i = 0; i < c; i++) {
        norm[2 * i] = mean[i];
        norm[2 * i + 1] = std[i] > 0 ? 1.0f / std[i] : 1.0f;
    }
    const size_t px = (size_t)count * c * h * w;
    rt_status s = rt_alloc(rt, px, &d->pixels);
    if (s == RT_OK) s = rt_alloc(rt, (size_t)count * sizeof(int32_t), &d->labels);
    if (s == RT_OK) s = rt_alloc(rt, (size_t)count * sizeof(int32_t), &d->order);
    if (s == RT_OK) s = rt_alloc(rt, 2 * (size_t)c * sizeof(float), &d->norm);
    if (s == RT_OK) s = rt_write(rt, d->pixels, 0, pixels, px);
    if (s == RT_OK) s = rt_write(rt, d->labels, 0, labels, (size_t)count * sizeof(int32_t));
    if (s == RT_OK) s = rt_write(rt, d->norm, 0, norm, 2 * (size_t)c * sizeof(float));
    free(norm);
    if (s == RT_OK) s = nn_data_set_order(rt, d, NULL);
    if (s != RT_OK) {
        nn_data_free(rt, d);
        return rt_wrap(rt, s, "uploading the data set");
    }
    *out = d;
    return RT_OK;
}

void nn_data_free(rt_ctx *rt, nn_data *d)
{
    if (!d) return;
    rt_free(rt, d->pixels), rt_free(rt, d->labels), rt_free(rt, d->order), rt_free(rt, d->norm);
    free(d);
}

rt_status nn_data_set_order(rt_ctx *rt, nn_data *d, const int32_t *order)
{
    int32_t *id = NULL;
    if (!order) {
        id = malloc((size_t)d->count * sizeof *id);
        if (!id) return rt_fail(rt, RT_E_ALLOC, "out of host memory");
        for (int i = 0; i < d->count; i++) id[i] = i;
        order = id;
    }
    rt_status s = rt_write(rt, d->order, 0, order, (size_t)d->count * sizeof(int32_t));
    free(id);
    return s;
}

void nn_data_set_augment(nn_data *d, unsigned flags, uint64_t seed, uint64_t epoch)
{
    d->augment = flags & (NN_AUGMENT_CROP | NN_AUGMENT_FLIP);
    d->augment_key = nn_augment_key(seed, epoch);
}

rt_status nn_data_gather(nn_model *m, nn_data *d, int first, int n, int augment)
{
    if (d->c != m->in.c || d->h != m->in.h || d->w != m->in.w)
        return rt_fail(m->rt, RT_E_ARG, "data of shape %dx%dx%d does not fit a model built for %dx%dx%d",
                       d->c, d->h, d->w, m->in.c, m->in.h, m->in.w);
    rt_kernel *k;
    const int aug = augment && d->augment;
    rt_status s = nn_kernel(m, "data", aug ? "gather_batch_augment" : "gather_batch", &k);
    if (s != RT_OK) return s;
    size_t gws[2] = {(size_t)n, (size_t)d->c}, lws[2] = {rt_local_size(m->rt, (size_t)n), 1};
    if (aug) /* the 64-bit key travels as two 32-bit halves */
        return RT_LAUNCH(m->rt, k, 2, gws, lws, RT_BUF(d->pixels), RT_BUF(d->labels), RT_BUF(d->order),
                         RT_I32(first), RT_I32(n), RT_I32(d->c), RT_I32(d->h), RT_I32(d->w),
                         RT_BUF(d->norm), RT_BUF(m->x), RT_BUF(m->labels),
                         RT_I32((uint32_t)d->augment_key), RT_I32((uint32_t)(d->augment_key >> 32)),
                         RT_I32(d->augment));
    return RT_LAUNCH(m->rt, k, 2, gws, lws, RT_BUF(d->pixels), RT_BUF(d->labels), RT_BUF(d->order),
                     RT_I32(first), RT_I32(n), RT_I32(d->c), RT_I32(d->h * d->w), RT_BUF(d->norm),
                     RT_BUF(m->x), RT_BUF(m->labels));
}
