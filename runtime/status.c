/* runtime/status.c — status codes to names and advice; the context's error message.
 *
 * One status type for the whole program: OpenCL's codes, CLBlast's extra codes and gammacl's
 * RT_E_* codes. A message always names the failed call, the device, and what the user can do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

typedef struct { rt_status code; const char *name; const char *hint; } status_row;

static const status_row status_table[] = {
    {0, "CL_SUCCESS", ""},
    {-1, "CL_DEVICE_NOT_FOUND", "no device of the requested kind; run `gammacl devices`"},
    {-2, "CL_DEVICE_NOT_AVAILABLE", "the device is busy or was lost; check the driver and retry"},
    {-3, "CL_COMPILER_NOT_AVAILABLE", "the driver ships no OpenCL C compiler; install the full ICD"},
    {-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE",
     "the device could not allocate memory; try a smaller --batch or another device"},
    {-5, "CL_OUT_OF_RESOURCES",
     "the device ran out of resources (memory, registers, or it was lost); try a smaller --batch"},
    {-6, "CL_OUT_OF_HOST_MEMORY", "the host ran out of memory; close other programs or use a smaller --batch"},
    {-7, "CL_PROFILING_INFO_NOT_AVAILABLE", "the queue was created without profiling"},
    {-11, "CL_BUILD_PROGRAM_FAILURE", "a kernel did not compile for this device; see the build log"},
    {-30, "CL_INVALID_VALUE", "an argument was out of range (a bug in gammacl: please report it)"},
    {-33, "CL_INVALID_DEVICE", "the device handle is not valid"},
    {-34, "CL_INVALID_CONTEXT", "the context is not valid"},
    {-36, "CL_INVALID_COMMAND_QUEUE", "the queue is not valid (the device may have been lost)"},
    {-38, "CL_INVALID_MEM_OBJECT", "a buffer handle is not valid (a bug in gammacl: please report it)"},
    {-42, "CL_INVALID_BINARY", "a cached kernel binary was rejected; it will be rebuilt"},
    {-43, "CL_INVALID_BUILD_OPTIONS", "the driver rejected the build options"},
    {-44, "CL_INVALID_PROGRAM", "the program object is not valid"},
    {-45, "CL_INVALID_PROGRAM_EXECUTABLE", "the program was not built for this device"},
    {-46, "CL_INVALID_KERNEL_NAME", "no kernel of that name in the program"},
    {-48, "CL_INVALID_KERNEL", "the kernel object is not valid"},
    {-49, "CL_INVALID_ARG_INDEX", "wrong kernel argument index (a bug in gammacl: please report it)"},
    {-50, "CL_INVALID_ARG_VALUE", "wrong kernel argument (a bug in gammacl: please report it)"},
    {-51, "CL_INVALID_ARG_SIZE", "wrong kernel argument size (a bug in gammacl: please report it)"},
    {-52, "CL_INVALID_KERNEL_ARGS", "a kernel argument was not set (a bug in gammacl: please report it)"},
    {-53, "CL_INVALID_WORK_DIMENSION", "bad launch dimensions"},
    {-54, "CL_INVALID_WORK_GROUP_SIZE",
     "the local size does not fit this device; adjust its row in runtime/device_table.c"},
    {-55, "CL_INVALID_WORK_ITEM_SIZE", "the local size exceeds a per-dimension limit of this device"},
    {-59, "CL_INVALID_OPERATION", "the operation is not allowed here"},
    {-61, "CL_INVALID_BUFFER_SIZE",
     "the buffer is larger than the device allows (max allocation); use a smaller --batch"},
    {-63, "CL_INVALID_GLOBAL_WORK_SIZE", "the launch is larger than the device allows"},
    {-1024, "CLBLAST_NOT_IMPLEMENTED", "CLBlast lacks this routine for the device"},
    {-2046, "CLBLAST_INVALID_LOCAL_MEM_USAGE", "CLBlast's kernel needs more local memory than the device has"},
    {-2050, "CLBLAST_INSUFFICIENT_MEMORY_TEMP", "CLBlast could not get its temporary buffer; use a smaller --batch"},
    {-2040, "CLBLAST_UNKNOWN_ERROR", "CLBlast failed; set GAMMACL_PARAMS=cpu to use gammacl's own GEMM"},
    {-2039, "CLBLAST_UNEXPECTED_ERROR", "CLBlast failed; set GAMMACL_PARAMS=cpu to use gammacl's own GEMM"},
    {RT_E_NO_DEVICE, "RT_E_NO_DEVICE",
     "install an OpenCL driver (pocl-opencl-icd, mesa-opencl-icd) or pick another --device"},
    {RT_E_BUILD, "RT_E_BUILD", "a kernel did not compile for this device; see the build log"},
    {RT_E_ALLOC, "RT_E_ALLOC", "use a smaller --batch or a device with more memory"},
    {RT_E_ARG, "RT_E_ARG", ""},
    {RT_E_IO, "RT_E_IO", "check the path, permissions and free disk space"},
    {RT_E_NOT_FOUND, "RT_E_NOT_FOUND", "a bug in gammacl: please report it"},
    {RT_E_INJECTED, "RT_E_INJECTED", "a fault injected on purpose by GAMMACL_FAULT"},
    {RT_E_NUMERIC, "RT_E_NUMERIC", "lower --lr or --gamma, or check the input data"},
    {RT_E_UNSUPPORTED, "RT_E_UNSUPPORTED", "pick another --device"},
};

static const status_row *find_row(rt_status s)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == s) return &status_table[i];
    return NULL;
}

const char *rt_status_name(rt_status s)
{
    const status_row *r = find_row(s);
    return r ? r->name : "UNKNOWN_STATUS";
}

const char *rt_status_hint(rt_status s)
{
    const status_row *r = find_row(s);
    return r ? r->hint : "";
}

const char *rt_error(const rt_ctx *ctx) { return ctx->err; }

rt_status rt_fail(rt_ctx *ctx, rt_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return code;
}

rt_status rt_wrap(rt_ctx *ctx, rt_status code, const char *fmt, ...)
{
    char prefix[256], old[RT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, ctx->err, sizeof old);
    snprintf(ctx->err, sizeof ctx->err, "%s: %s", prefix, old);
    return code;
}

rt_status rt_cl_fail(rt_ctx *ctx, cl_int code, const char *call, const char *what)
{
    const char *hint = rt_status_hint(code);
    snprintf(ctx->err, sizeof ctx->err, "%s%s%s failed on '%s' (%s, driver %s): %s (%d)%s%s", call,
             what && *what ? " " : "", what ? what : "", ctx->dev.name, ctx->dev.platform,
             ctx->dev.driver, rt_status_name(code), code, *hint ? " — " : "", hint);
    if (code == CL_DEVICE_NOT_AVAILABLE || code == CL_INVALID_COMMAND_QUEUE) ctx->lost = 1;
    return code;
}
