/* runtime/fault.c — deliberate device faults for the reliability tests (GAMMACL_FAULT).
 *
 * GAMMACL_FAULT is a comma-separated list: "alloc:N" fails the Nth buffer allocation as if the
 * device were out of memory, "launch:N" fails the Nth kernel launch with CL_OUT_OF_RESOURCES,
 * "lost:N" makes the device vanish at the Nth launch (every later call fails too), "hang:N" never
 * returns from the Nth launch (a hung driver: signals are handled but the call goes on waiting;
 * it says on stderr when it starts to, so that tests can wait for it), "build" fails every program
 * build. The counters live in the context; nothing is global.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

rt_status rt_fault_parse(rt_ctx *ctx, const char *spec)
{
    memset(&ctx->fault, 0, sizeof ctx->fault);
    if (!spec || !*spec) return RT_OK;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':'), *end = NULL;
        long n = colon ? strtol(colon + 1, &end, 10) : 1;
        if (colon) *colon = 0;
        const int counted = !strcmp(tok, "alloc") || !strcmp(tok, "launch") || !strcmp(tok, "lost") ||
                            !strcmp(tok, "hang");
        if (counted && (!colon || !end || *end || n < 1))
            return rt_fail(ctx, RT_E_ARG, "GAMMACL_FAULT: '%s' needs a count N >= 1 (%s:N)", tok, tok);
        if (!strcmp(tok, "alloc")) ctx->fault.alloc_at = n;
        else if (!strcmp(tok, "launch")) ctx->fault.launch_at = n;
        else if (!strcmp(tok, "lost")) ctx->fault.lost_at = n;
        else if (!strcmp(tok, "hang")) ctx->fault.hang_at = n;
        else if (!strcmp(tok, "build") && !colon) ctx->fault.build = 1;
        else
            return rt_fail(ctx, RT_E_ARG, "GAMMACL_FAULT: unknown fault '%s' (alloc:N, launch:N, "
                           "lost:N, hang:N or build)", tok);
    }
    return RT_OK;
}

rt_status rt_fault_check_alloc(rt_ctx *ctx, size_t bytes)
{
    ctx->fault.allocs++;
    if (ctx->fault.alloc_at && ctx->fault.allocs == ctx->fault.alloc_at)
        return rt_fail(ctx, RT_E_INJECTED,
                       "could not allocate %.1f MiB on '%s': CL_MEM_OBJECT_ALLOCATION_FAILURE "
                       "injected by GAMMACL_FAULT=alloc:%ld — use a smaller --batch or another --device",
                       (double)bytes / (1 << 20), ctx->dev.name, ctx->fault.alloc_at);
    return RT_OK;
}

rt_status rt_fault_check_launch(rt_ctx *ctx, const char *kernel)
{
    ctx->fault.launches++;
    if (ctx->fault.hang_at && ctx->fault.launches == ctx->fault.hang_at) {
        fprintf(stderr, "GAMMACL_FAULT: launch %ld (%s) hangs\n", ctx->fault.hang_at, kernel);
        fflush(stderr);
        for (;;) pause();
    }
    if (ctx->fault.launch_at && ctx->fault.launches == ctx->fault.launch_at)
        return rt_fail(ctx, RT_E_INJECTED,
                       "clEnqueueNDRangeKernel %s failed on '%s': CL_OUT_OF_RESOURCES injected by "
                       "GAMMACL_FAULT=launch:%ld — the device ran out of resources; try a smaller --batch",
                       kernel, ctx->dev.name, ctx->fault.launch_at);
    if (ctx->fault.lost_at && ctx->fault.launches >= ctx->fault.lost_at) {
        ctx->lost = 1;
        return rt_fail(ctx, RT_E_INJECTED,
                       "clEnqueueNDRangeKernel %s failed on '%s': CL_DEVICE_NOT_AVAILABLE (device "
                       "lost, injected by GAMMACL_FAULT=lost:%ld) — check the device and its driver; "
                       "a training run continues from its last checkpoint with gammacl train --resume",
                       kernel, ctx->dev.name, ctx->fault.lost_at);
    }
    return RT_OK;
}
