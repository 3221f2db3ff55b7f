/* runtime/buffer.c — device buffers from a reusable pool, views into them, reads, writes, fills
 * and copies.
 *
 * rt_free puts a buffer back into the pool; rt_alloc takes the smallest free buffer that fits
 * (and is at most twice the size asked) before it allocates, so steady-state training allocates
 * nothing. Allocation failures name the size asked for and the device's limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static rt_status alloc_failed(rt_ctx *ctx, size_t bytes, const char *why)
{
    return rt_fail(ctx, RT_E_ALLOC,
                   "could not allocate %.1f MiB on '%s' (%s): %s; the device has %.1f MiB in all, "
                   "at most %.1f MiB per buffer, and gammacl holds %.1f MiB — use a smaller --batch "
                   "or another --device",
                   (double)bytes / (1 << 20), ctx->dev.name, ctx->dev.platform, why,
                   (double)ctx->dev.global_mem / (1 << 20), (double)ctx->dev.max_alloc / (1 << 20),
                   (double)ctx->bytes_allocated / (1 << 20));
}

rt_status rt_alloc(rt_ctx *ctx, size_t bytes, rt_buf **out)
{
    *out = NULL;
    if (bytes == 0) bytes = 4;
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    rt_status s = rt_fault_check_alloc(ctx, bytes);
    if (s != RT_OK) return s;
    rt_buf *best = NULL;
    for (int i = 0; i < ctx->nbufs; i++) {
        rt_buf *b = ctx->bufs[i];
        if (!b->in_use && b->capacity >= bytes && b->capacity <= 2 * bytes &&
            (!best || b->capacity < best->capacity))
            best = b;
    }
    if (best) {
        best->in_use = 1;
        best->size = bytes;
        ctx->bytes_in_use += best->capacity;
        *out = best;
        return RT_OK;
    }
    size_t cap = (bytes + 4095) & ~(size_t)4095;
    if (cap > ctx->dev.max_alloc) return alloc_failed(ctx, bytes, "larger than the largest allowed buffer");
    if (ctx->nbufs == RT_MAX_BUFS) return alloc_failed(ctx, bytes, "too many buffers");
    rt_buf *b = calloc(1, sizeof *b);
    if (!b) return alloc_failed(ctx, bytes, "out of host memory");
    cl_int rc;
    b->mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, cap, NULL, &rc);
    if (rc != CL_SUCCESS) {
        free(b);
        char why[128];
        snprintf(why, sizeof why, "clCreateBuffer returned %s (%d)", rt_status_name(rc), rc);
        return alloc_failed(ctx, bytes, why);
    }
    b->size = bytes;
    b->capacity = cap;
    b->in_use = 1;
    ctx->bufs[ctx->nbufs++] = b;
    ctx->bytes_allocated += cap;
    ctx->bytes_in_use += cap;
    *out = b;
    return RT_OK;
}

void rt_free(rt_ctx *ctx, rt_buf *buf)
{
    if (buf && buf->view) {
        clReleaseMemObject(buf->mem);
        free(buf);
        return;
    }
    if (!buf || !buf->in_use) return;
    buf->in_use = 0;
    ctx->bytes_in_use -= buf->capacity;
}

void rt_discard(rt_ctx *ctx, rt_buf *buf)
{
    if (!buf || buf->view) {
        rt_free(ctx, buf);
        return;
    }
    for (int i = 0; i < ctx->nbufs; i++)
        if (ctx->bufs[i] == buf) {
            if (buf->in_use) ctx->bytes_in_use -= buf->capacity;
            ctx->bytes_allocated -= buf->capacity;
            ctx->bufs[i] = ctx->bufs[--ctx->nbufs];
            clReleaseMemObject(buf->mem);
            free(buf);
            return;
        }
}

size_t rt_view_align(const rt_ctx *ctx) { return ctx->dev.base_align > 0 ? ctx->dev.base_align : 128; }

rt_status rt_view(rt_ctx *ctx, rt_buf *parent, size_t off, size_t bytes, rt_buf **out)
{
    *out = NULL;
    if (!parent || parent->view || bytes == 0 || off % rt_view_align(ctx) != 0 ||
        off > parent->size || bytes > parent->size - off)
        return rt_fail(ctx, RT_E_ARG, "view of %zu bytes at offset %zu: outside its %zu-byte buffer or "
                       "not aligned to %zu bytes", bytes, off, parent ? parent->size : 0,
                       rt_view_align(ctx));
    rt_buf *b = calloc(1, sizeof *b);
    if (!b) return rt_fail(ctx, RT_E_ALLOC, "out of host memory");
    cl_buffer_region region = {off, bytes};
    cl_int rc;
    b->mem = clCreateSubBuffer(parent->mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
    if (rc != CL_SUCCESS) {
        free(b);
        return rt_cl_fail(ctx, rc, "clCreateSubBuffer", "a view into a buffer");
    }
    b->size = b->capacity = bytes;
    b->in_use = b->view = 1;
    *out = b;
    return RT_OK;
}

size_t rt_buf_size(const rt_buf *buf) { return buf->size; }
uint64_t rt_bytes_in_use(const rt_ctx *ctx) { return ctx->bytes_in_use; }

static rt_status check_range(rt_ctx *ctx, const rt_buf *buf, size_t off, size_t bytes, const char *op)
{
    if (!buf || off > buf->capacity || bytes > buf->capacity - off)
        return rt_fail(ctx, RT_E_ARG, "%s out of range: %zu bytes at offset %zu of a %zu-byte buffer",
                       op, bytes, off, buf ? buf->capacity : 0);
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    return RT_OK;
}

rt_status rt_write(rt_ctx *ctx, rt_buf *buf, size_t off, const void *src, size_t bytes)
{
    rt_status s = check_range(ctx, buf, off, bytes, "write");
    if (s != RT_OK || bytes == 0) return s;
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, buf->mem, CL_TRUE, off, bytes, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clEnqueueWriteBuffer", "");
}

rt_status rt_read(rt_ctx *ctx, const rt_buf *buf, size_t off, void *dst, size_t bytes)
{
    rt_status s = check_range(ctx, buf, off, bytes, "read");
    if (s != RT_OK || bytes == 0) return s;
    cl_int rc = clEnqueueReadBuffer(ctx->queue, buf->mem, CL_TRUE, off, bytes, dst, 0, NULL, NULL);
    return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clEnqueueReadBuffer", "");
}

rt_status rt_copy(rt_ctx *ctx, const rt_buf *src, size_t src_off, rt_buf *dst, size_t dst_off,
                  size_t bytes)
{
    rt_status s = check_range(ctx, src, src_off, bytes, "copy source");
    if (s == RT_OK) s = check_range(ctx, dst, dst_off, bytes, "copy destination");
    if (s != RT_OK || bytes == 0) return s;
    cl_int rc = clEnqueueCopyBuffer(ctx->queue, src->mem, dst->mem, src_off, dst_off, bytes, 0, NULL,
                                    rt_prof_event_slot(ctx));
    return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clEnqueueCopyBuffer", "");
}

rt_status rt_fill_zero(rt_ctx *ctx, rt_buf *buf, size_t off, size_t bytes)
{
    rt_status s = check_range(ctx, buf, off, bytes, "fill");
    if (s != RT_OK || bytes == 0) return s;
    if ((off | bytes) % 4 != 0) return rt_fail(ctx, RT_E_ARG, "fill of %zu bytes at %zu: not whole floats", bytes, off);
    if (!(ctx->params.quirks & RT_QUIRK_NO_FILL_BUFFER)) {
        float zero = 0.0f;
        cl_int rc = clEnqueueFillBuffer(ctx->queue, buf->mem, &zero, sizeof zero, off, bytes, 0, NULL,
                                        rt_prof_event_slot(ctx));
        return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clEnqueueFillBuffer", "");
    }
    rt_kernel *k;
    if ((s = rt_kernel_get(ctx, "util", "fill_zero", &k)) != RT_OK) return s;
    return RT_LAUNCH1(ctx, k, (bytes / 4 + ctx->params.chunk - 1) / ctx->params.chunk, RT_BUF(buf),
                      RT_I32(off / 4), RT_I32(bytes / 4));
}
