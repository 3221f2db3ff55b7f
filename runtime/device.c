/* runtime/device.c — enumerating OpenCL devices, choosing one, opening a context and queue.
 *
 * Device SPECs: "" (the first GPU, else the first device), an index over all platforms, "P:D"
 * (platform and device index), or a case-insensitive substring of the platform or device name,
 * the vendor or the device version (PoCL names itself there: "pocl" finds it).
 * rusticl only shows its CPU device with RUSTICL_ENABLE=llvmpipe: it is set when the user has not.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rt_internal.h"

static void info_str(cl_device_id d, cl_device_info what, char *out, size_t len)
{
    out[0] = 0;
    if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS) snprintf(out, len, "?");
    out[len - 1] = 0;
    /* trim trailing blanks some drivers append */
    for (size_t n = strlen(out); n > 0 && isspace((unsigned char)out[n - 1]); n--) out[n - 1] = 0;
}


/* The host CPU as /proc/cpuinfo names it, with family and model: CPU devices of one name (PoCL
 * says "pthread-skylake-avx512-AMD EPYC" on a Zen 4 and a Zen 5) differ in speed, and tuned
 * parameters belong to one of them. "" where the file is missing. */
void rt_host_cpu(char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256], model[128] = "", family[16] = "", mod[16] = "";
    while (fgets(line, sizeof line, f) && !(*model && *family && *mod)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        if (!*model && !strncmp(line, "model name", 10)) snprintf(model, sizeof model, "%s", v);
        else if (!*family && !strncmp(line, "cpu family", 10)) snprintf(family, sizeof family, "%s", v);
        else if (!*mod && !strncmp(line, "model", 5) && (line[5] == ' ' || line[5] == '\t'))
            snprintf(mod, sizeof mod, "%s", v);
    }
    fclose(f);
    if (*model) snprintf(out, len, "%s, family %s model %s", model, *family ? family : "?", *mod ? mod : "?");
}

static void fill_info(cl_platform_id p, cl_device_id d, rt_device_info *info)
{
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL);
    info->platform[sizeof info->platform - 1] = 0;
    clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof info->platform_version, info->platform_version,
                      NULL);
    info->platform_version[sizeof info->platform_version - 1] = 0;
    info_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    info_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    info_str(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    info_str(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    info_str(d, CL_DEVICE_OPENCL_C_VERSION, info->clc_version, sizeof info->clc_version);
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    const char *t = (type & CL_DEVICE_TYPE_GPU)           ? "gpu"
                    : (type & CL_DEVICE_TYPE_CPU)         ? "cpu"
                    : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "accel"
                                                          : "other";
    snprintf(info->type, sizeof info->type, "%s", t);
    info->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    if (info->is_cpu) rt_host_cpu(info->cpu_model, sizeof info->cpu_model);
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    cl_ulong v = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof v, &v, NULL);
    info->global_mem = v;
    v = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof v, &v, NULL);
    info->max_alloc = v;
    v = 0;
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof v, &v, NULL);
    info->local_mem = v;
    v = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof v, &v, NULL);
    info->global_cache = v;
    cl_uint align_bits = 0;
    clGetDeviceInfo(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    info->base_align = align_bits >= 8 ? align_bits / 8 : 128;
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->max_wg = wg;
    char ext[4096] = "";
    clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, sizeof ext, ext, NULL);
    ext[sizeof ext - 1] = 0;
    info->fp64 = strstr(ext, "cl_khr_fp64") != NULL || strstr(ext, "cl_amd_fp64") != NULL;
}

/* Collects platforms and devices; ids may be NULL when only the info is wanted. */
static rt_status enumerate(rt_device_info **out, cl_platform_id **pids, cl_device_id **dids,
                           int *count, char *err, size_t errlen)
{
    setenv("RUSTICL_ENABLE", "llvmpipe", 0); /* 0: keep the user's own value */
    /* PoCL's worker threads pinned one to a core: left to the scheduler, two of them now and then
     * shared a core for a whole kernel (a 2-core Zen 5: GEMMs at half speed in one process in
     * three, the cnn5 step 6-14% slower); POCL_AFFINITY=0 keeps them free */
    setenv("POCL_AFFINITY", "1", 0);
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0)) {
        snprintf(err, errlen,
                 "no OpenCL platform found: install an OpenCL driver (Debian: pocl-opencl-icd or "
                 "mesa-opencl-icd) and the ICD loader (ocl-icd-libopencl1)");
        return RT_E_NO_DEVICE;
    }
    if (rc != CL_SUCCESS) {
        snprintf(err, errlen, "clGetPlatformIDs failed: %s (%d)", rt_status_name(rc), rc);
        return rc;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return RT_E_ALLOC;
    clGetPlatformIDs(np, plats, NULL);
    int cap = 16, n = 0;
    rt_device_info *list = calloc((size_t)cap, sizeof *list);
    cl_platform_id *pl = calloc((size_t)cap, sizeof *pl);
    cl_device_id *dl = calloc((size_t)cap, sizeof *dl);
    if (!list || !pl || !dl) {
        free(plats), free(list), free(pl), free(dl);
        return RT_E_ALLOC;
    }
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* a platform without devices (e.g. Clover with no GPU) is not an error */
        cl_device_id *devs = calloc(nd, sizeof *devs);
        if (!devs) continue;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            if (n == cap) {
                cap *= 2;
                list = realloc(list, (size_t)cap * sizeof *list);
                pl = realloc(pl, (size_t)cap * sizeof *pl);
                dl = realloc(dl, (size_t)cap * sizeof *dl);
                if (!list || !pl || !dl) exit(3); /* out of host memory while listing devices */
            }
            memset(&list[n], 0, sizeof list[n]);
            fill_info(plats[p], devs[d], &list[n]);
            list[n].index = n;
            list[n].platform_index = (int)p;
            list[n].device_index = (int)d;
            pl[n] = plats[p];
            dl[n] = devs[d];
            n++;
        }
        free(devs);
    }
    free(plats);
    *out = list;
    *count = n;
    if (pids) *pids = pl; else free(pl);
    if (dids) *dids = dl; else free(dl);
    if (n == 0) {
        snprintf(err, errlen,
                 "OpenCL platforms found, but no devices: install a driver with a device (Debian: "
                 "pocl-opencl-icd), or set RUSTICL_ENABLE=llvmpipe for Mesa's CPU device");
        return RT_E_NO_DEVICE;
    }
    return RT_OK;
}

rt_status rt_list_devices(rt_device_info **out, int *count, char *err, size_t errlen)
{
    return enumerate(out, NULL, NULL, count, err, errlen);
}

static void human_bytes(uint64_t b, char *out, size_t len)
{
    if (b >= (1ull << 30)) snprintf(out, len, "%.1f GiB", (double)b / (1ull << 30));
    else snprintf(out, len, "%.0f MiB", (double)b / (1ull << 20));
}

void rt_format_device(const rt_device_info *d, char *line, size_t len)
{
    char gm[32], ma[32];
    human_bytes(d->global_mem, gm, sizeof gm);
    human_bytes(d->max_alloc, ma, sizeof ma);
    snprintf(line, len,
             "%d (%d:%d)  %s | %s | vendor %s | %s | driver %s | %s | %u CUs | mem %s | max alloc "
             "%s | fp64 %s",
             d->index, d->platform_index, d->device_index, d->platform, d->name, d->vendor, d->type,
             d->driver, d->clc_version, d->compute_units, gm, ma, d->fp64 ? "yes" : "no");
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

rt_status rt_pick_device(const rt_device_info *list, int count, const char *spec, int *picked,
                         char *err, size_t errlen)
{
    if (count <= 0) {
        snprintf(err, errlen, "no OpenCL device found");
        return RT_E_NO_DEVICE;
    }
    if (!spec || !*spec) {
        *picked = 0;
        for (int i = 0; i < count; i++)
            if (strcmp(list[i].type, "gpu") == 0) { *picked = i; break; }
        return RT_OK;
    }
    char *end;
    long v = strtol(spec, &end, 10);
    if (end != spec && *end == 0) {
        if (v >= 0 && v < count) { *picked = (int)v; return RT_OK; }
    } else if (end != spec && *end == ':') {
        char *end2;
        long d = strtol(end + 1, &end2, 10);
        if (end2 != end + 1 && *end2 == 0)
            for (int i = 0; i < count; i++)
                if (list[i].platform_index == v && list[i].device_index == d) {
                    *picked = i;
                    return RT_OK;
                }
    } else {
        for (int i = 0; i < count; i++)
            if (contains_nocase(list[i].name, spec) || contains_nocase(list[i].platform, spec) ||
                contains_nocase(list[i].vendor, spec) || contains_nocase(list[i].version, spec)) {
                *picked = i;
                return RT_OK;
            }
    }
    size_t off = (size_t)snprintf(err, errlen,
                                  "no OpenCL device matches '%s' (give an index, P:D, or part of "
                                  "a platform or device name). Devices:", spec);
    for (int i = 0; i < count && off < errlen; i++) {
        char line[768];
        rt_format_device(&list[i], line, sizeof line);
        off += (size_t)snprintf(err + off, errlen - off, "\n  %s", line);
    }
    return RT_E_NO_DEVICE;
}

const rt_device_info *rt_device(const rt_ctx *ctx) { return &ctx->dev; }
const rt_params *rt_device_params(const rt_ctx *ctx) { return &ctx->params; }
const char *rt_build_options(const rt_ctx *ctx) { return ctx->build_opts; }
rt_build_stats rt_get_build_stats(const rt_ctx *ctx) { return ctx->build_stats; }

void rt_default_cache_dir(char *out, size_t len)
{
    const char *d = getenv("GAMMACL_CACHE_DIR");
    if (d && *d) { snprintf(out, len, "%s", d); return; }
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && *x) { snprintf(out, len, "%s/gammacl", x); return; }
    const char *h = getenv("HOME");
    snprintf(out, len, "%s/.cache/gammacl", h && *h ? h : "/tmp");
}

rt_status rt_open(rt_ctx **out, const rt_options *opt, char *err, size_t errlen)
{
    *out = NULL;
    rt_options none = {0};
    if (!opt) opt = &none;
    rt_device_info *list;
    cl_platform_id *pids = NULL;
    cl_device_id *dids = NULL;
    int n;
    rt_status s = enumerate(&list, &pids, &dids, &n, err, errlen);
    if (s != RT_OK) {
        free(list), free(pids), free(dids);
        return s;
    }
    const char *spec = opt->device_spec;
    if (!spec || !*spec) spec = getenv("GAMMACL_DEVICE");
    int pick;
    s = rt_pick_device(list, n, spec, &pick, err, errlen);
    if (s != RT_OK) {
        free(list), free(pids), free(dids);
        return s;
    }
    const char *row = opt->param_row && *opt->param_row ? opt->param_row : getenv("GAMMACL_PARAMS");
    if (row && *row && rt_params_row_exists(row) != RT_OK) {
        snprintf(err, errlen, "unknown device-table row '%s' (GAMMACL_PARAMS); see runtime/device_table.c",
                 row);
        free(list), free(pids), free(dids);
        return RT_E_ARG;
    }
    rt_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(list), free(pids), free(dids);
        snprintf(err, errlen, "out of host memory");
        return RT_E_ALLOC;
    }
    ctx->dev = list[pick];
    ctx->platform = pids[pick];
    ctx->device = dids[pick];
    free(list), free(pids), free(dids);
    rt_params_for(&ctx->dev, row, &ctx->params);
    if (rt_fault_parse(ctx, getenv("GAMMACL_FAULT")) != RT_OK) {
        snprintf(err, errlen, "%s", ctx->err);
        free(ctx);
        return RT_E_ARG;
    }

    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        rt_cl_fail(ctx, rc, "clCreateContext", "");
        snprintf(err, errlen, "%s", ctx->err);
        free(ctx);
        return rc;
    }
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS) {
        rt_cl_fail(ctx, rc, "clCreateCommandQueue", "");
        snprintf(err, errlen, "%s", ctx->err);
        clReleaseContext(ctx->context);
        free(ctx);
        return rc;
    }
    if (rt_gemm_setup(ctx) != RT_OK) {
        snprintf(err, errlen, "%s", ctx->err);
        rt_close(ctx);
        return RT_E_ARG;
    }
    ctx->programs = calloc((size_t)rt_embedded_kernel_count, sizeof *ctx->programs);
    if (!ctx->programs) {
        snprintf(err, errlen, "out of host memory");
        rt_close(ctx);
        return RT_E_ALLOC;
    }
    snprintf(ctx->build_opts, sizeof ctx->build_opts,
             "-DRT_CHUNK=%d -DRT_RED_WG=%d -DRT_CPU_STYLE=%d%s", ctx->params.chunk,
             ctx->params.red_wg, ctx->params.cpu_style,
             opt->fast_math ? " -cl-fast-relaxed-math -DRT_FAST_MATH=1" : "");
    const char *nc = getenv("GAMMACL_NO_CACHE");
    ctx->use_cache = !opt->no_cache && !(nc && *nc && strcmp(nc, "0") != 0) &&
                     ctx->params.cache_binaries;
    rt_default_cache_dir(ctx->cache_dir, sizeof ctx->cache_dir);
    rt_tune_init(ctx);
    rt_gemm_force_stream(ctx, 0);
    *out = ctx;
    return RT_OK;
}

void rt_close(rt_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->queue) clFinish(ctx->queue);
    rt_release_all_events(ctx);
    free(ctx->events);
    for (int i = 0; i < ctx->nkernels; i++) clReleaseKernel(ctx->kernels[i].kernel);
    if (ctx->programs)
        for (int i = 0; i < rt_embedded_kernel_count; i++)
            if (ctx->programs[i].program) clReleaseProgram(ctx->programs[i].program);
    free(ctx->programs);
    for (int i = 0; i < ctx->nvariants; i++)
        if (ctx->variants[i].prog.program) clReleaseProgram(ctx->variants[i].prog.program);
    for (int i = 0; i < ctx->nbufs; i++) {
        clReleaseMemObject(ctx->bufs[i]->mem);
        free(ctx->bufs[i]);
    }
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    free(ctx);
}
