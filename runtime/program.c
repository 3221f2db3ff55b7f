/* runtime/program.c — building the embedded kernel programs for a device, and kernel lookup.
 *
 * Each kernels/<name>.cl is one program, built on first use with kernels/prelude.cl prepended and
 * the device's build options (-D values from the device table). Tunable programs are also built
 * as variants, one per parameter set (extra -D values, runtime/tune.c), each its own cl_program. A build first tries the on-disk
 * binary cache (cache.c); a failed build reports the kernel file, the device and the build log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_internal.h"

#define RT_CACHE_FORMAT 1

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int find_source(const char *name)
{
    for (int i = 0; i < rt_embedded_kernel_count; i++)
        if (strcmp(rt_embedded_kernels[i].name, name) == 0) return i;
    return -1;
}

static const char *prelude_text(void)
{
    int i = find_source("prelude");
    return i >= 0 ? rt_embedded_kernels[i].text : "";
}

/* The cache key: every input that can change the compiled binary. */
static void cache_key(const rt_ctx *ctx, int index, const char *opts, char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {prelude_text(), rt_embedded_kernels[index].text, opts,
                           ctx->dev.platform, ctx->dev.platform_version, ctx->dev.name,
                           ctx->dev.driver, ctx->dev.version};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        h = rt_hash64(h, parts[i], strlen(parts[i]));
        h = rt_hash64(h, "\x1f", 1);
    }
    unsigned fmt = RT_CACHE_FORMAT;
    h = rt_hash64(h, &fmt, sizeof fmt);
    snprintf(key, len, "%s-v%u-%016llx", rt_embedded_kernels[index].name, fmt, (unsigned long long)h);
}

static char *build_log(rt_ctx *ctx, cl_program prog)
{
    size_t n = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (!log) return NULL;
    log[0] = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
    log[n] = 0;
    return log;
}

static rt_status build_failed(rt_ctx *ctx, int index, const char *opts, cl_program prog, cl_int rc)
{
    char *log = prog ? build_log(ctx, prog) : NULL;
    rt_fail(ctx, RT_E_BUILD,
            "kernels/%s.cl failed to build on '%s' (%s, driver %s) with options '%s': %s (%d) — "
            "update the OpenCL driver, try another --device, or report this with the build log\n"
            "build log:\n%.700s%s",
            rt_embedded_kernels[index].name, ctx->dev.name, ctx->dev.platform, ctx->dev.driver,
            opts, rt_status_name(rc), rc, log && *log ? log : "(empty)",
            log && strlen(log) > 700 ? "\n[log truncated]" : "");
    free(log);
    return RT_E_BUILD;
}

static int try_cached(rt_ctx *ctx, rt_program *pr, const char *opts, const char *key)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    if (!rt_cache_load(ctx, key, &bin, &len)) return 0;
    cl_int status = CL_SUCCESS, rc;
    const unsigned char *bins[1] = {bin};
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, bins, &status, &rc);
    free(bin);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) {
        if (p) clReleaseProgram(p);
        return 0; /* silently fall back to compiling */
    }
    if (clBuildProgram(p, 1, &ctx->device, opts, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return 0;
    }
    pr->program = p;
    return 1;
}

static void store_binary(rt_ctx *ctx, cl_program p, const char *key)
{
    size_t len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS || !len)
        return;
    unsigned char *bin = malloc(len);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        rt_cache_store(ctx, key, bin, len);
    free(bin);
}

/* Builds program `index` into *pr with the device's options plus `extra` (a variant's -D values,
 * or ""). */
static rt_status build(rt_ctx *ctx, int index, const char *extra, rt_program *pr)
{
    if (pr->built == 1) return RT_OK;
    char opts[sizeof ctx->build_opts + RT_VARIANT_OPTS + 2];
    snprintf(opts, sizeof opts, "%s%s%s", ctx->build_opts, *extra ? " " : "", extra);
    double t0 = now_s();
    if (ctx->fault.build) {
        pr->built = -1;
        return rt_fail(ctx, RT_E_INJECTED,
                       "kernels/%s.cl failed to build on '%s' (%s): build failure injected by "
                       "GAMMACL_FAULT=build — update the OpenCL driver, try another --device, or "
                       "report this with the build log\nbuild log:\n(injected)",
                       rt_embedded_kernels[index].name, ctx->dev.name, ctx->dev.platform);
    }
    char key[128];
    cache_key(ctx, index, opts, key, sizeof key);
    if (ctx->use_cache && try_cached(ctx, pr, opts, key)) {
        pr->built = 1;
        ctx->build_stats.cached++;
        ctx->build_stats.seconds += now_s() - t0;
        return RT_OK;
    }
    const char *srcs[2] = {prelude_text(), rt_embedded_kernels[index].text};
    cl_int rc;
    cl_program p = clCreateProgramWithSource(ctx->context, 2, srcs, NULL, &rc);
    if (rc != CL_SUCCESS) {
        pr->built = -1;
        return rt_cl_fail(ctx, rc, "clCreateProgramWithSource", rt_embedded_kernels[index].name);
    }
    rc = clBuildProgram(p, 1, &ctx->device, opts, NULL, NULL);
    if (rc != CL_SUCCESS) {
        rt_status s = build_failed(ctx, index, opts, p, rc);
        clReleaseProgram(p);
        pr->built = -1;
        return s;
    }
    if (ctx->use_cache) store_binary(ctx, p, key);
    pr->program = p;
    pr->built = 1;
    ctx->build_stats.compiled++;
    ctx->build_stats.seconds += now_s() - t0;
    return RT_OK;
}

rt_status rt_program_build(rt_ctx *ctx, int index) { return build(ctx, index, "", &ctx->programs[index]); }

/* the program of a variant (its -D values), made on first use */
static rt_status variant_program(rt_ctx *ctx, int index, const char *extra, int *slot)
{
    for (int i = 0; i < ctx->nvariants; i++)
        if (ctx->variants[i].index == index && strcmp(ctx->variants[i].opts, extra) == 0) {
            *slot = i;
            return build(ctx, index, extra, &ctx->variants[i].prog);
        }
    if (ctx->nvariants == RT_MAX_VARIANTS)
        return rt_fail(ctx, RT_E_NOT_FOUND, "too many program variants (raise RT_MAX_VARIANTS)");
    if (strlen(extra) >= RT_VARIANT_OPTS)
        return rt_fail(ctx, RT_E_ARG, "variant options '%s' too long", extra);
    rt_variant *v = &ctx->variants[ctx->nvariants];
    memset(v, 0, sizeof *v);
    v->index = index;
    snprintf(v->opts, sizeof v->opts, "%s", extra);
    *slot = ctx->nvariants++;
    return build(ctx, index, extra, &v->prog);
}

rt_status rt_build_all(rt_ctx *ctx)
{
    for (int i = 0; i < rt_embedded_kernel_count; i++) {
        if (strcmp(rt_embedded_kernels[i].name, "prelude") == 0) continue;
        rt_status s = rt_program_build(ctx, i);
        if (s != RT_OK) return s;
    }
    return RT_OK;
}

rt_status rt_kernel_get_variant(rt_ctx *ctx, const char *program, const char *name, const char *extra,
                                rt_kernel **out)
{
    if (!extra) extra = "";
    for (int i = 0; i < ctx->nkernels; i++) {
        rt_kernel *k = &ctx->kernels[i];
        if (strcmp(k->name, name) == 0 && strcmp(rt_embedded_kernels[k->program].name, program) == 0 &&
            strcmp(k->variant >= 0 ? ctx->variants[k->variant].opts : "", extra) == 0) {
            *out = k;
            return RT_OK;
        }
    }
    int index = find_source(program);
    if (index < 0 || strcmp(program, "prelude") == 0)
        return rt_fail(ctx, RT_E_NOT_FOUND, "no kernel program kernels/%s.cl is embedded", program);
    int variant = -1;
    rt_status s = *extra ? variant_program(ctx, index, extra, &variant) : rt_program_build(ctx, index);
    if (s != RT_OK) return s;
    if (ctx->nkernels == RT_MAX_KERNELS)
        return rt_fail(ctx, RT_E_NOT_FOUND, "too many kernels (raise RT_MAX_KERNELS)");
    cl_int rc;
    cl_program prog = variant >= 0 ? ctx->variants[variant].prog.program : ctx->programs[index].program;
    cl_kernel k = clCreateKernel(prog, name, &rc);
    if (rc != CL_SUCCESS) return rt_cl_fail(ctx, rc, "clCreateKernel", name);
    rt_kernel *rk = &ctx->kernels[ctx->nkernels++];
    rk->kernel = k;
    rk->program = index;
    rk->variant = variant;
    snprintf(rk->name, sizeof rk->name, "%s", name);
    rk->max_wg = 0;
    clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof rk->max_wg,
                             &rk->max_wg, NULL);
    *out = rk;
    return RT_OK;
}

rt_status rt_kernel_get(rt_ctx *ctx, const char *program, const char *name, rt_kernel **out)
{
    return rt_kernel_get_variant(ctx, program, name, "", out);
}
