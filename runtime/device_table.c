/* runtime/device_table.c — per-device knowledge, kept as data: the one place for device quirks.
 *
 * Each row says how gammacl runs on a kind of device: which GEMM (CLBlast or its own kernels),
 * CPU-style or GPU-style kernels, work sizes, whether to keep its own binary cache, and which
 * driver bugs to work around. The first matching rule picks the row; the last rule is the default.
 * GAMMACL_PARAMS=<row> forces a row (the tests use it to run both kernel styles on one device).
 *
 * Driver findings behind the rows (measured on this project's machines; see README "Devices"):
 *  - PoCL (CPU): CLBlast SGEMM runs at 11-28 GFLOP/s against 150-220 for gammacl's register-tiled
 *    kernel; local-memory tree reductions with barriers are ~30x slower than a chunked loop; a NULL
 *    local size can leave a core idle. So: own GEMM, chunked loops, explicit small local sizes.
 *    Winograd F(2x2, 3x3) ran the "same" 3x3 convolutions 1.5-2.1x faster than the direct kernel
 *    at every cnn5 and resnet18 shape that fits its local memory (Zen 5, batch 128/32; 8 -> 16
 *    channels on 28x28 too: 1.66 -> 0.81 ms), so the CPU rows take it from 8 channels up. A strided
 *    1x1 convolution (resnet18's shortcuts) ran 1.4x (forward) and 1.7x (backward) faster as a
 *    subsampling im2col + GEMM than in the fused kernels, so the CPU rows leave fused_1x1 at 0.
 *    A GEMM whose C outgrows the global memory cache PoCL reports (the L3) is written with
 *    non-temporal stores (gemm_stream; a clang builtin, so only the PoCL rows): cnn5's input-
 *    gradient product TN 288x100352x32 (a 115 MB C) went from 132-174 to 245-252 GFLOP/s.
 *  - Mesa rusticl 22.3 (llvmpipe): correct but slow; a second CPU vendor for correctness. It runs
 *    the work-items of a group in SIMD lanes like a GPU, so CPU-style kernels (few work-items, long
 *    vector loops) are the worst case there: a batch-32 cnn5 step took ~150 s CPU-style and ~65 s
 *    GPU-style; gammacl's GEMM at 128^3 took ~0.8 s against ~40 ms for CLBlast. So its row is
 *    GPU-style with CLBlast. Its event profiling reports zero durations (quirk NO_EVENT_TIMES).
 *    llvmpipe ends a work-item's loops after 65535 iterations in all, silently (its guard against
 *    endless shader loops): CPU-style kernels, whose work-items loop long, give wrong results
 *    there at large shapes (the forced weight gradient at 600 x 4x4 -> 32), another reason for
 *    the GPU style, whose loops are short.
 *  - NVIDIA (H100, driver 580.159.04): kernel builds took 1.7 s cold, 0.01 s from the driver's own
 *    cache (~/.nv/ComputeCache) and 0.9 s from gammacl's binary cache, so gammacl's cache is off
 *    there. CLBlast's indirect GEMM allocates a temporary buffer per call (~12 ms of GPU idle in a
 *    41 ms resnet18 step); its direct GEMM at every size (row nvidia-direct) avoids that but ran
 *    slower (44.6 ms), so the row keeps CLBlast's default. Long-K GEMMs are split (runtime/gemm.c).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rt_internal.h"

static const rt_params rows[] = {
    {.row = "pocl-cpu", .gemm = RT_GEMM_OWN_CPU, .cpu_style = 1, .conv_fused = 1, .fused_strided_min_ow = 9,
     .winograd_min_ch = 8, .gemm_stream = 1,
     .chunk = 2048, .wg = 4,
     .red_wg = 1, .cache_binaries = 1, .quirks = 0,
     .why = "PoCL on a CPU: own register-tiled GEMM, chunked loops, no barriers"},
    {.row = "rusticl", .gemm = RT_GEMM_CLBLAST, .cpu_style = 0, .conv_fused = 0, .chunk = 1, .wg = 64,
     .red_wg = 64, .cache_binaries = 1, .quirks = RT_QUIRK_NO_EVENT_TIMES,
     .why = "Mesa rusticl on llvmpipe: SIMD across work-items, so GPU-style kernels and CLBlast"},
    {.row = "nvidia-gpu", .gemm = RT_GEMM_CLBLAST, .cpu_style = 0, .chunk = 1, .wg = 256,
     .red_wg = 256, .cache_binaries = 0, .quirks = 0,
     .why = "NVIDIA: CLBlast GEMM, GPU-style kernels, the driver caches binaries itself"},
    {.row = "cpu", .gemm = RT_GEMM_OWN_CPU, .cpu_style = 1, .conv_fused = 1, .fused_strided_min_ow = 9,
     .winograd_min_ch = 8,
     .chunk = 2048, .wg = 4, .red_wg = 1,
     .cache_binaries = 1, .quirks = 0, .why = "any other CPU device: CPU-style kernels"},
    {.row = "gpu", .gemm = RT_GEMM_CLBLAST, .cpu_style = 0, .chunk = 1, .wg = 256, .red_wg = 256,
     .cache_binaries = 1, .quirks = 0, .why = "default: GPU-style kernels, CLBlast GEMM"},
    /* forced rows for tests and experiments */
    {.row = "cpu-clblast", .gemm = RT_GEMM_CLBLAST, .cpu_style = 1, .conv_fused = 1, .fused_strided_min_ow = 9,
     .winograd_min_ch = 8,
     .chunk = 2048, .wg = 4,
     .red_wg = 1, .cache_binaries = 1, .quirks = 0, .why = "CPU-style kernels with CLBlast GEMM"},
    {.row = "cpu-im2col", .gemm = RT_GEMM_OWN_CPU, .cpu_style = 1, .conv_fused = 0, .gemm_stream = 1, .chunk = 2048,
     .wg = 4, .red_wg = 1, .cache_binaries = 1, .quirks = 0,
     .why = "CPU-style kernels with im2col + gammacl's GEMM (the first design; for comparisons)"},
    {.row = "nvidia-direct", .gemm = RT_GEMM_CLBLAST, .cpu_style = 0, .chunk = 1, .wg = 256,
     .red_wg = 256, .cache_binaries = 0, .clblast_direct = 1, .quirks = 0,
     .why = "the NVIDIA row with CLBlast's direct GEMM at every size (for comparisons)"},
    {.row = "gpu-own", .gemm = RT_GEMM_OWN_CPU, .cpu_style = 0, .chunk = 1, .wg = 64, .red_wg = 64,
     .cache_binaries = 1, .quirks = 0, .why = "GPU-style kernels with gammacl's GEMM"},
};

typedef struct {
    const char *platform; /* substring of the platform name, or NULL */
    const char *vendor;   /* substring of the device vendor, or NULL */
    const char *type;     /* "cpu", "gpu" or NULL */
    const char *row;
} rule;

static const rule rules[] = {
    {"Portable Computing Language", NULL, "cpu", "pocl-cpu"},
    {"rusticl", NULL, NULL, "rusticl"},
    {NULL, "NVIDIA", "gpu", "nvidia-gpu"},
    {NULL, NULL, "cpu", "cpu"},
    {NULL, NULL, NULL, "gpu"},
};

static int has(const char *hay, const char *needle)
{
    if (!needle) return 1;
    for (size_t n = strlen(needle); *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return 0;
}

static const rt_params *find_row(const char *name)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].row, name) == 0) return &rows[i];
    return NULL;
}

rt_status rt_params_row_exists(const char *name) { return find_row(name) ? RT_OK : RT_E_ARG; }

void rt_params_for(const rt_device_info *dev, const char *force_row, rt_params *out)
{
    const rt_params *p = force_row && *force_row ? find_row(force_row) : NULL;
    for (size_t i = 0; !p && i < sizeof rules / sizeof rules[0]; i++) {
        const rule *r = &rules[i];
        if (has(dev->platform, r->platform) && has(dev->vendor, r->vendor) &&
            (!r->type || strcmp(r->type, dev->type) == 0))
            p = find_row(r->row);
    }
    *out = *p;
    /* never exceed what the device allows */
    if ((size_t)out->wg > dev->max_wg) out->wg = (int)dev->max_wg;
    if ((size_t)out->red_wg > dev->max_wg) out->red_wg = (int)dev->max_wg;
}

/* Tuned parameters shipped as data, for CPUs this project has measured with `gammacl tune`
 * (bench/baselines/ holds the figures). A row applies where the platform and the host CPU (model
 * name, family and model from /proc/cpuinfo) both contain its strings; a tuning file written on
 * the machine itself overrides it. */
typedef struct tuned_row {
    const char *platform, *cpu;
    rt_tune_kernel kernel;
    int cls;
    rt_tune_choice choice;
} tuned_row;

static const tuned_row tuned_rows[] = {
    /* AMD EPYC family 26 (Zen 5), 2 cores of a VM, PoCL 3.1: `gammacl tune`, 2026-12-02
     * (bench/baselines/tune-pocl-amd-epyc-f26.json; FMA peak 446-490 GFLOP/s; tuned at cnn5's batch of 128) */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_FWD, 2, {8, 2, 16, 1}}, /* conv_fwd m<=64: 207 -> 277 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_FWD, 4, {8, 2, 16, 4}}, /* conv_fwd m>128: 153 -> 212 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_WGRAD, 2, {3, 1, 16, 1024}}, /* conv_wgrad m<=64: 227 -> 252 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_WGRAD, 3, {3, 1, 16, 1024}}, /* conv_wgrad m<=128: 188 -> 229 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_WGRAD, 4, {0, 1, 16, 0}}, /* conv_wgrad m>128: 79 -> 163 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_NN, 1, {8, 2, 16, 16}}, /* gemm_nn m<=32: 150 -> 187 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_NN, 2, {8, 2, 16, 4}}, /* gemm_nn m<=64: 226 -> 293 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_NN, 3, {8, 2, 16, 16}}, /* gemm_nn m<=128: 291 -> 409 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_NN, 5, {8, 2, 16, 16}}, /* gemm_nn split-k: 231 -> 300 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_TN, 4, {8, 2, 16, 4}}, /* gemm_tn m>128: 233 -> 267 GFLOP/s */
    /* the GEMM classes resnet18's strided convolutions use, added to the tuner's shapes later
     * (`gammacl tune`, 2026-12-03: bench/baselines/tune-pocl-amd-epyc-f26-resnet18-gemms.json) */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_NN, 4, {8, 2, 16, 16}}, /* gemm_nn m>128: 223 -> 285 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_TN, 2, {8, 2, 16, 1}}, /* gemm_tn m<=64: 282 -> 372 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_GEMM_TN, 3, {8, 2, 16, 16}}, /* gemm_tn m<=128: 242 -> 344 GFLOP/s */
    /* the direct kernels' classes measured on the layers that run them here, Winograd's left out
     * (`gammacl tune`, 2026-12-04: bench/baselines/tune-pocl-amd-epyc-f26-direct.json): cnn5's first
     * layer and resnet18's first stride-2 layer; the m<=64 classes (resnet18's first layer) chose
     * what the rows above have */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_FWD, 1, {8, 2, 16, 4}}, /* conv_fwd m<=32: 77 -> 114 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_FWD, 3, {16, 1, 16, 4}}, /* conv_fwd m<=128: 182 -> 203 GFLOP/s */
    {"Portable Computing Language", "AMD EPYC, family 26 model 2", RT_TUNE_CONV_WGRAD, 1, {3, 1, 16, 1024}}, /* conv_wgrad m<=32: 66 -> 80 GFLOP/s */
    {NULL, NULL, RT_TUNE_KERNELS, 0, {0, 0, 0, 0}}, /* end */
};

int rt_tune_shipped(const rt_device_info *dev, rt_tune_kernel k, int cls, rt_tune_choice *out)
{
    if (!dev->is_cpu || !*dev->cpu_model) return 0;
    for (const tuned_row *r = tuned_rows; r->kernel != RT_TUNE_KERNELS; r++)
        if (r->kernel == k && r->cls == cls && has(dev->platform, r->platform) && has(dev->cpu_model, r->cpu)) {
            *out = r->choice;
            return 1;
        }
    return 0;
}
