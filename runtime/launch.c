/* runtime/launch.c — kernel launches, queue waits, and per-label device timing for bench.
 *
 * A launch sets the arguments and enqueues; nothing waits. Work sizes are rounded up to a
 * multiple of the explicit local size (kernels guard their own bounds). With profiling on, every
 * launch keeps its event under the current label and rt_profile_collect sums START..END per label
 * (each event timed on its own, never across events; an END before START counts as zero).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_internal.h"

double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void rt_prof_after(rt_ctx *ctx, double t0)
{
    if (!ctx->prof_on || !(ctx->params.quirks & RT_QUIRK_NO_EVENT_TIMES) || ctx->nevents == 0) return;
    clFinish(ctx->queue);
    ctx->events[ctx->nevents - 1].host_ms = (rt_now() - t0) * 1e3;
}

cl_event *rt_prof_event_slot(rt_ctx *ctx)
{
    if (!ctx->prof_on) return NULL;
    if (ctx->nevents == ctx->cap_events) {
        int cap = ctx->cap_events ? 2 * ctx->cap_events : 1024;
        rt_prof_event *e = realloc(ctx->events, (size_t)cap * sizeof *e);
        if (!e) return NULL; /* timing is best effort; the launch itself proceeds */
        ctx->events = e;
        ctx->cap_events = cap;
    }
    rt_prof_event *e = &ctx->events[ctx->nevents++];
    e->ev = NULL;
    e->label = ctx->prof_label;
    e->host_ms = -1;
    return &e->ev;
}

void rt_release_all_events(rt_ctx *ctx)
{
    for (int i = 0; i < ctx->nevents; i++)
        if (ctx->events[i].ev) clReleaseEvent(ctx->events[i].ev);
    ctx->nevents = 0;
}

rt_status rt_launch(rt_ctx *ctx, rt_kernel *k, unsigned dims, const size_t *gws, const size_t *lws,
                    unsigned nargs, const rt_arg *args)
{
    if (ctx->lost)
        return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE,
                       "launch of %s refused: device '%s' was lost earlier — check the device and "
                       "its driver; a training run continues from its last checkpoint with "
                       "gammacl train --resume", k->name, ctx->dev.name);
    rt_status s = rt_fault_check_launch(ctx, k->name);
    if (s != RT_OK) return s;
    for (unsigned i = 0; i < nargs; i++) {
        cl_int rc;
        if (args[i].kind == 0) rc = clSetKernelArg(k->kernel, i, sizeof(cl_mem), &args[i].buf->mem);
        else if (args[i].kind == 1) rc = clSetKernelArg(k->kernel, i, args[i].size, args[i].ptr);
        else rc = clSetKernelArg(k->kernel, i, args[i].size, NULL);
        if (rc != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "(kernel %s, argument %u)", k->name, i);
            return rt_cl_fail(ctx, rc, "clSetKernelArg", what);
        }
    }
    size_t g[3], l[3];
    for (unsigned d = 0; d < dims; d++) {
        l[d] = lws[d] ? lws[d] : 1;
        g[d] = (gws[d] + l[d] - 1) / l[d] * l[d];
        if (g[d] == 0) return RT_OK; /* nothing to do */
    }
    int saved = ctx->prof_label;
    if (ctx->prof_on && ctx->prof_by_kernel) {
        char label[48];
        snprintf(label, sizeof label, "%.20s:%.26s", ctx->labels[saved], k->name);
        rt_profile_label(ctx, label);
    }
    const double t0 = ctx->prof_on ? rt_now() : 0;
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k->kernel, dims, NULL, g, l, 0, NULL,
                                       rt_prof_event_slot(ctx));
    if (rc == CL_SUCCESS) rt_prof_after(ctx, t0);
    ctx->prof_label = saved;
    if (rc != CL_SUCCESS) return rt_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", k->name);
    return RT_OK;
}

size_t rt_local_size(const rt_ctx *ctx, size_t n)
{
    /* Always the table's size, even for tiny launches (kernels check their bounds): drivers
     * compile a kernel once per local size, so sizes that follow n would recompile per shape. */
    (void)n;
    return ctx->params.wg > 0 ? (size_t)ctx->params.wg : 1;
}

rt_status rt_launch1(rt_ctx *ctx, rt_kernel *k, size_t n, unsigned nargs, const rt_arg *args)
{
    size_t lws = rt_local_size(ctx, n);
    if (k->max_wg && lws > k->max_wg) lws = k->max_wg;
    return rt_launch(ctx, k, 1, &n, &lws, nargs, args);
}

rt_status rt_finish(rt_ctx *ctx)
{
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    cl_int rc = clFinish(ctx->queue);
    return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clFinish", "");
}

struct rt_fence { cl_event ev; };

rt_status rt_fence_mark(rt_ctx *ctx, rt_fence **out)
{
    *out = NULL;
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    rt_fence *f = malloc(sizeof *f);
    if (!f) return rt_fail(ctx, CL_OUT_OF_HOST_MEMORY, "out of host memory for a queue fence");
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &f->ev);
    if (rc != CL_SUCCESS) {
        free(f);
        return rt_cl_fail(ctx, rc, "clEnqueueMarkerWithWaitList", "");
    }
    *out = f;
    return RT_OK;
}

rt_status rt_fence_wait(rt_ctx *ctx, rt_fence *f)
{
    if (!f) return RT_OK;
    cl_int rc = clWaitForEvents(1, &f->ev);
    rt_fence_release(f);
    if (ctx->lost) return rt_fail(ctx, CL_DEVICE_NOT_AVAILABLE, "device '%s' was lost", ctx->dev.name);
    return rc == CL_SUCCESS ? RT_OK : rt_cl_fail(ctx, rc, "clWaitForEvents", "(a queue fence)");
}

void rt_fence_release(rt_fence *f)
{
    if (!f) return;
    clReleaseEvent(f->ev);
    free(f);
}

void rt_profile_enable(rt_ctx *ctx, int on)
{
    ctx->prof_on = on != 0;
    ctx->prof_by_kernel = on == 2;
    if (on && ctx->nlabels == 0) rt_profile_label(ctx, "other");
    if (!on) ctx->prof_label = 0;
}

void rt_profile_label(rt_ctx *ctx, const char *label)
{
    if (!ctx->prof_on) return;
    for (int i = 0; i < ctx->nlabels; i++)
        if (strcmp(ctx->labels[i], label) == 0) { ctx->prof_label = i; return; }
    if (ctx->nlabels == RT_MAX_LABELS) { ctx->prof_label = 0; return; }
    snprintf(ctx->labels[ctx->nlabels], sizeof ctx->labels[0], "%s", label);
    ctx->prof_label = ctx->nlabels++;
}

void rt_profile_reset(rt_ctx *ctx)
{
    clFinish(ctx->queue);
    rt_release_all_events(ctx);
}

rt_status rt_profile_collect(rt_ctx *ctx, rt_profile_row *rows, int max_rows, int *nrows)
{
    rt_status s = rt_finish(ctx);
    if (s != RT_OK) return s;
    int n = ctx->nlabels < max_rows ? ctx->nlabels : max_rows;
    for (int i = 0; i < n; i++) {
        snprintf(rows[i].label, sizeof rows[i].label, "%s", ctx->labels[i]);
        rows[i].ms = 0;
        rows[i].launches = 0;
    }
    for (int i = 0; i < ctx->nevents; i++) {
        rt_prof_event *e = &ctx->events[i];
        if (e->label >= n) continue;
        if (e->host_ms >= 0) { /* a device without event times: the host clock measured it */
            rows[e->label].ms += e->host_ms;
            rows[e->label].launches++;
            continue;
        }
        if (!e->ev) continue;
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(e->ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) ==
                CL_SUCCESS &&
            clGetEventProfilingInfo(e->ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) ==
                CL_SUCCESS &&
            t1 > t0)
            rows[e->label].ms += (double)(t1 - t0) * 1e-6;
        rows[e->label].launches++;
    }
    *nrows = n;
    rt_release_all_events(ctx);
    return RT_OK;
}
