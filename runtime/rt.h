/* runtime/rt.h — the only interface to OpenCL that the rest of gammacl sees.
 *
 * The runtime knows devices, programs, buffers, launches and GEMM; it knows nothing about neural
 * networks. Everything is reached through an rt_ctx (one device, one in-order profiling queue);
 * there is no global mutable state. Every call returns an rt_status: RT_OK (0) or a negative code
 * (OpenCL's own codes, CLBlast's, or RT_E_* below), and leaves a readable message — naming the call,
 * the device and what the user can do — in rt_error(ctx).
 */
#ifndef GAMMACL_RT_H
#define GAMMACL_RT_H

#include <stddef.h>
#include <stdint.h>

typedef int rt_status;

enum {
    RT_OK = 0,
    RT_E_NO_DEVICE = -3001,    /* no OpenCL device at all, or a --device SPEC that matches none */
    RT_E_BUILD = -3002,        /* a kernel program failed to build */
    RT_E_ALLOC = -3003,        /* a device allocation failed or exceeds the device's limits */
    RT_E_ARG = -3004,          /* a caller passed an invalid argument */
    RT_E_IO = -3005,           /* file system trouble (binary cache) */
    RT_E_NOT_FOUND = -3006,    /* unknown program or kernel name */
    RT_E_INJECTED = -3007,     /* a fault injected on purpose (GAMMACL_FAULT) */
    RT_E_NUMERIC = -3008,      /* NaN or Inf found where finite numbers were required */
    RT_E_UNSUPPORTED = -3009,  /* the device lacks something gammacl needs */
};

#define RT_ERRLEN 1024

/* ---- devices ------------------------------------------------------------------------------ */

typedef struct rt_device_info {
    int index;                 /* global index over all platforms, as `gammacl devices` shows */
    int platform_index, device_index;
    char platform[128];        /* platform name */
    char platform_version[128];
    char name[128];
    char vendor[128];
    char type[8];              /* "cpu", "gpu", "accel", "other" */
    char driver[128];
    char version[128];         /* CL_DEVICE_VERSION */
    char clc_version[64];      /* OpenCL C version */
    unsigned compute_units;
    uint64_t global_mem, max_alloc, local_mem;
    uint64_t global_cache;     /* CL_DEVICE_GLOBAL_MEM_CACHE_SIZE (0: not reported) */
    unsigned base_align;       /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: sub-buffer offsets */
    size_t max_wg;
    int fp64;
    int is_cpu;
    char cpu_model[160];       /* CPU devices: the host CPU ("AMD EPYC, family 26 model 2"), else "" */
} rt_device_info;

/* The host CPU as /proc/cpuinfo names it, with family and model ("AMD EPYC, family 26 model 2");
 * "" where the file is missing. CPU devices carry it as cpu_model. */
void rt_host_cpu(char *out, size_t len);

/* Enumerates every platform and device. Sets RUSTICL_ENABLE=llvmpipe first when the user has not,
 * so Mesa's CPU device shows. *out is malloc'd; free() it. err gets a message on failure. */
rt_status rt_list_devices(rt_device_info **out, int *count, char *err, size_t errlen);

/* Picks a device by SPEC: NULL/"" (the first; GPUs before CPUs), an index, "P:D", or a
 * case-insensitive substring of platform or device name. On no match, err lists the devices. */
rt_status rt_pick_device(const rt_device_info *list, int count, const char *spec, int *picked,
                         char *err, size_t errlen);

/* One line per device, the format of `gammacl devices`. */
void rt_format_device(const rt_device_info *d, char *line, size_t len);

/* ---- context ------------------------------------------------------------------------------ */

typedef struct rt_ctx rt_ctx;
typedef struct rt_buf rt_buf;
typedef struct rt_kernel rt_kernel;

typedef struct rt_options {
    const char *device_spec;   /* NULL: GAMMACL_DEVICE, else the first device */
    int fast_math;             /* opt-in -cl-fast-relaxed-math; results must record it */
    int no_cache;              /* 1: do not use the on-disk binary cache (also GAMMACL_NO_CACHE=1) */
    const char *param_row;     /* force a device-table row by name (tests; also GAMMACL_PARAMS) */
} rt_options;

/* Opens a context and queue on the chosen device. On failure *ctx is NULL and err explains. */
rt_status rt_open(rt_ctx **ctx, const rt_options *opt, char *err, size_t errlen);
void rt_close(rt_ctx *ctx);

const char *rt_error(const rt_ctx *ctx);
const rt_device_info *rt_device(const rt_ctx *ctx);
/* Records a message (printf-style) and returns code, so callers can write
 * `return rt_fail(ctx, RT_E_ARG, "...")`. Other layers use it for their own errors too. */
rt_status rt_fail(rt_ctx *ctx, rt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the current message with context ("while X: ..."). Returns code. */
rt_status rt_wrap(rt_ctx *ctx, rt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A short name for a status code: "CL_OUT_OF_RESOURCES", "RT_E_BUILD", ... */
const char *rt_status_name(rt_status s);

/* ---- per-device parameters (runtime/device_table.c) --------------------------------------- */

typedef enum { RT_GEMM_OWN_CPU = 0, RT_GEMM_CLBLAST = 1 } rt_gemm_path;

typedef struct rt_params {
    const char *row;           /* the table row's name */
    rt_gemm_path gemm;         /* which GEMM implementation this device uses */
    int cpu_style;             /* 1: chunked loops per work-item, no barriers; 0: GPU style */
    int chunk;                 /* elements per work-item in element-wise kernels */
    int wg;                    /* default local size for 1-D launches */
    int red_wg;                /* work-group size of per-channel reductions (1 = chunked loop) */
    int conv_fused;            /* 1: convolutions without im2col buffers (CPU kernels); 0: im2col + GEMM */
    int fused_strided_min_ow;  /* with conv_fused: a stride-2 convolution onto fewer output columns
                                  takes im2col + GEMM (the fused kernel's panel would hold one short
                                  row); 0: always fused */
    int fused_1x1;             /* with conv_fused: 1x1 convolutions with a stride or padding take
                                  the fused kernels too (0: im2col, a subsampling copy, + GEMM) */
    int winograd_min_ch;       /* with conv_fused: a "same" 3x3 convolution with at least this many
                                  input and output channels takes Winograd F(2x2, 3x3); 0: never */
    int gemm_stream;           /* own GEMM: a product larger than the device's global memory cache
                                  writes C with non-temporal stores (it cannot stay in cache, and
                                  the stores then skip reading each line first); 0: never */
    int cache_binaries;        /* 1: keep compiled programs in gammacl's disk cache */
    int clblast_direct;        /* 1: CLBlast's single-kernel GEMM at every size (its faster
                                  indirect GEMM allocates a temporary buffer per call) */
    unsigned quirks;           /* RT_QUIRK_* bits */
    const char *why;           /* one line: why this row looks the way it does */
} rt_params;

/* quirk bits: device/driver bugs worked around in one documented place */
enum {
    RT_QUIRK_NO_FILL_BUFFER = 1u << 0,   /* clEnqueueFillBuffer unreliable: fill with a kernel */
    RT_QUIRK_NO_EVENT_TIMES = 1u << 1,   /* event profiling reports zero durations: bench times
                                            each launch by the host clock instead */
};

const rt_params *rt_device_params(const rt_ctx *ctx);

/* ---- programs and kernels ------------------------------------------------------------------ */

/* Returns the kernel `name` of program `program` (the stem of kernels/<program>.cl), building
 * the program for this device on first use (through the binary cache). */
rt_status rt_kernel_get(rt_ctx *ctx, const char *program, const char *name, rt_kernel **out);
/* The same kernel from a variant of its program built with extra -D values (NULL or "": base). */
rt_status rt_kernel_get_variant(rt_ctx *ctx, const char *program, const char *name, const char *extra,
                                rt_kernel **out);

/* Builds every embedded program now (tests, bench; reports the first failure). */
rt_status rt_build_all(rt_ctx *ctx);

/* Build statistics: programs compiled from source vs loaded from the cache, seconds spent. */
typedef struct rt_build_stats { int compiled, cached; double seconds; } rt_build_stats;
rt_build_stats rt_get_build_stats(const rt_ctx *ctx);
const char *rt_build_options(const rt_ctx *ctx);

/* ---- tunable kernel parameters (tune.c) -------------------------------------------------------
 * The CPU path's register-tiled kernels are compiled per parameter set: MR rows x NV vectors of VW
 * lanes of accumulators (for the weight gradient: CB output channels x 9 taps of VW lanes, NV 1)
 * and `ls`, the
 * local size (the weight gradient: KB of cache a slice of images may fill). The choice is made per
 * kernel and shape class (the size of the register-blocked dimension: output channels, GEMM rows)
 * from, in order: defaults (the hand-set first design), the rows shipped in the device table for
 * CPUs measured by this project, and the file `gammacl tune` writes for this device, driver and
 * kernel source. GAMMACL_TUNING=defaults or =shipped stops at that step (for comparisons). */
typedef enum rt_tune_kernel {
    RT_TUNE_CONV_FWD,          /* conv_fwd_cpu.cl: fused forward and stride-1 input gradient */
    RT_TUNE_CONV_WGRAD,        /* conv_wgrad_cpu.cl: weight gradient of "same" 3x3 convolutions;
                                  mr = 0 picks conv_cpu.cl's transposed-dy kernel instead */
    RT_TUNE_GEMM_NN,           /* gemm.cl gemm_nn */
    RT_TUNE_GEMM_TN,           /* gemm.cl gemm_tn */
    RT_TUNE_KERNELS
} rt_tune_kernel;

/* classes: rows of the register-blocked dimension <=16, <=32, <=64, <=128, >128; and (GEMM NN
 * only) the split-K pass of weight gradients */
#define RT_TUNE_CLASSES 6
#define RT_TUNE_SPLIT_K 5

typedef struct rt_tune_choice { int mr, nv, vw, ls; } rt_tune_choice;

typedef struct rt_tune_table {
    rt_tune_choice c[RT_TUNE_KERNELS][RT_TUNE_CLASSES];
    unsigned char from[RT_TUNE_KERNELS][RT_TUNE_CLASSES]; /* 0 default, 1 shipped, 2 tuned file */
    char file[1100];           /* the tuning file that was read, or "" */
    int shipped, tuned;        /* how many entries came from the device table, from the file */
} rt_tune_table;

const char *rt_tune_kernel_name(rt_tune_kernel k);   /* "conv_fwd", ... */
const char *rt_tune_class_name(int cls);             /* "m<=16", ..., "split-k" */
int rt_tune_class_of(int rows);
/* 1 if the device's row runs tunable kernels (CPU-style with its own GEMM or fused convolutions) */
int rt_tune_applies(const rt_ctx *ctx);
/* The candidates of kernel k (the defaults are among them); returns how many (<= max). */
int rt_tune_space(rt_tune_kernel k, rt_tune_choice *out, int max);
rt_tune_choice rt_tune_default(rt_tune_kernel k, int cls);
int rt_tune_valid(rt_tune_kernel k, rt_tune_choice c);
const rt_tune_table *rt_tune_get(const rt_ctx *ctx);
rt_tune_choice rt_tune_choice_for(const rt_ctx *ctx, rt_tune_kernel k, int cls);
/* Sets one entry (the tuner while it measures, the tests for every candidate); from = 2. */
void rt_tune_set(rt_ctx *ctx, rt_tune_kernel k, int cls, rt_tune_choice c);
/* Where this device's tuning file lives (the kernel cache folder; the name hashes the device,
 * driver, CPU and the tunable kernels' source). */
void rt_tune_path(const rt_ctx *ctx, char *out, size_t len);
/* One line for `gammacl devices`: tuned here (the file), shipped, defaults, or nothing to tune. */
void rt_tune_describe(const rt_device_info *dev, char *out, size_t len);
/* The same in a few words, for tables: "tuned here (13 entries)", "shipped for this CPU (13
 * entries)", "untuned defaults" or "no tunable kernels". */
void rt_tune_brief(const rt_device_info *dev, char *out, size_t len);
/* Writes every entry with from = 2, with a measured GFLOP/s per entry (may be NULL), atomically. */
rt_status rt_tune_save(rt_ctx *ctx, const double gflops[RT_TUNE_KERNELS][RT_TUNE_CLASSES]);

/* ---- buffers --------------------------------------------------------------------------------- */

/* Device buffers come from a size-keyed pool: rt_free returns a buffer to it, rt_alloc reuses. */
rt_status rt_alloc(rt_ctx *ctx, size_t bytes, rt_buf **out);
void rt_free(rt_ctx *ctx, rt_buf *buf);
/* Gives a buffer's memory back to the driver instead of the pool (a buffer that will not be
 * needed again at its size, such as one whose contents moved into a view). */
void rt_discard(rt_ctx *ctx, rt_buf *buf);
size_t rt_buf_size(const rt_buf *buf);
rt_status rt_write(rt_ctx *ctx, rt_buf *buf, size_t offset, const void *src, size_t bytes);
rt_status rt_read(rt_ctx *ctx, const rt_buf *buf, size_t offset, void *dst, size_t bytes);
rt_status rt_fill_zero(rt_ctx *ctx, rt_buf *buf, size_t offset, size_t bytes);
rt_status rt_copy(rt_ctx *ctx, const rt_buf *src, size_t src_off, rt_buf *dst, size_t dst_off,
                  size_t bytes);
uint64_t rt_bytes_in_use(const rt_ctx *ctx);
/* A view of `bytes` of `parent` from `offset`, which must be a multiple of rt_view_align: to
 * kernels and copies a buffer of its own, sharing the parent's memory (one launch can then reach
 * what many views hold). Views are not pooled: rt_free releases one; free them before the parent. */
rt_status rt_view(rt_ctx *ctx, rt_buf *parent, size_t offset, size_t bytes, rt_buf **out);
size_t rt_view_align(const rt_ctx *ctx);

/* ---- launches -------------------------------------------------------------------------------- */

typedef struct rt_arg {
    int kind;                  /* 0 buffer, 1 by value, 2 local memory of `size` bytes */
    size_t size;
    const void *ptr;
    const rt_buf *buf;
} rt_arg;

#define RT_BUF(b)   ((rt_arg){0, 0, NULL, (b)})
#define RT_I32(v)   ((rt_arg){1, sizeof(int32_t), &(int32_t){(int32_t)(v)}, NULL})
#define RT_F32(v)   ((rt_arg){1, sizeof(float), &(float){(float)(v)}, NULL})
#define RT_LOCAL(n) ((rt_arg){2, (n), NULL, NULL})

/* Enqueues kernel k over gws (rounded up to a multiple of lws; lws must not be NULL: an explicit
 * local size is always passed, see the device table). Nothing waits. */
rt_status rt_launch(rt_ctx *ctx, rt_kernel *k, unsigned dims, const size_t *gws, const size_t *lws,
                    unsigned nargs, const rt_arg *args);
#define RT_LAUNCH(ctx, k, dims, gws, lws, ...)                                                   \
    rt_launch((ctx), (k), (dims), (gws), (lws), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg), \
              (rt_arg[]){__VA_ARGS__})

/* The local size for dimension 0 of a launch of n work-items: the device table's size (small on
 * CPU rows, large on GPU-style rows), whatever n: the work size is rounded up to it. */
size_t rt_local_size(const rt_ctx *ctx, size_t n);

/* Convenience: a 1-D launch of n work-items with the device's default local size. */
rt_status rt_launch1(rt_ctx *ctx, rt_kernel *k, size_t n, unsigned nargs, const rt_arg *args);
#define RT_LAUNCH1(ctx, k, n, ...)                                                               \
    rt_launch1((ctx), (k), (n), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg),               \
               (rt_arg[]){__VA_ARGS__})

rt_status rt_finish(rt_ctx *ctx);

/* Fences bound how far the host runs ahead of the device (a long queue would make a stop request
 * wait for all of it): rt_fence_mark records the current end of the queue, rt_fence_wait blocks
 * until the device has passed that point and releases the fence; rt_fence_release drops one
 * without waiting (NULL is fine). */
typedef struct rt_fence rt_fence;
rt_status rt_fence_mark(rt_ctx *ctx, rt_fence **out);
rt_status rt_fence_wait(rt_ctx *ctx, rt_fence *f);
void rt_fence_release(rt_fence *f);

/* ---- profiling (bench) ---------------------------------------------------------------------- */

/* While a label is set, every launch (kernels and GEMMs) is timed with events and its device time
 * is added to that label. rt_profile_collect waits for the queue and returns the totals.
 * on = 2 splits every label by kernel name ("conv2 bwd:conv_wgrad_k3"). */
void rt_profile_enable(rt_ctx *ctx, int on);
void rt_profile_label(rt_ctx *ctx, const char *label);
typedef struct rt_profile_row { char label[48]; double ms; int launches; } rt_profile_row;
rt_status rt_profile_collect(rt_ctx *ctx, rt_profile_row *rows, int max_rows, int *nrows);
void rt_profile_reset(rt_ctx *ctx);

/* ---- peak probes (bench; runtime/probe.c, kernels/probe.cl) ------------------------------ */

/* clpeak-style measurements of what the device can do, for `gammacl bench` to set the training
 * step against: the FP32 FMA rate and the read bandwidth from a buffer beyond the caches. Each
 * probe warms up, sizes its work so that one run takes about target_s seconds (0 < target_s <
 * 600), and keeps the best of several runs. Runs are timed with profiling events, or with the host
 * clock around enqueue and finish where events report no time (RT_QUIRK_NO_EVENT_TIMES, or
 * events that report almost nothing). A probe finishes the queue; it refuses to run (RT_E_ARG)
 * while profiled launches wait for rt_profile_collect, and leaves the profiling state (on/off,
 * labels) as it found it. The read probe's buffer (256 MiB, or less within max_alloc and a quarter
 * of the device's memory) goes back to the buffer pool. */
typedef struct rt_probe_result {
    double rate;               /* the best run: GFLOP/s (FMA probe) or GB/s (read probe), 1e9 units */
    double seconds;            /* the best run's time */
    double work;               /* FLOPs or bytes of one run: rate = work / seconds / 1e9 */
    long long items, iters;    /* work-items, and FMA iterations or passes over the buffer a run */
    int runs;                  /* timed runs the best was taken from */
    int host_timed;            /* 1: timed by the host clock (no event times), 0: profiling events */
    int fused;                 /* FMA probe: 1 fma(), 0 x * a + b (see rt_probe_fma_shape); else 1 */
} rt_probe_result;

rt_status rt_probe_fma(rt_ctx *ctx, double target_s, rt_probe_result *out);
rt_status rt_probe_bandwidth(rt_ctx *ctx, double target_s, rt_probe_result *out);

/* What the FMA probe computes, so that a host can recompute it bit for bit: work-item g holds
 * *lanes = L values x_j; x_j starts at ((g * 37 + j) & 1023) / 1024 and every iteration does
 * x_j = fmaf(x_j, RT_PROBE_FMA_A, RT_PROBE_FMA_B); its output is ((0 + x_0) + x_1) + ... +
 * x_(L-1). FLOPs of a run: items * iters * L * 2. *fused is 0 on devices that report no fused
 * FMA (CL_FP_FMA unset; llvmpipe, whose fma() runs in software ~50x slower than a multiply and
 * an add): there the probe computes x_j * A + B, which the driver may or may not fuse — the
 * multiply-add rate that gammacl's kernels (a * b + c) get on such a device. Strict math only:
 * -cl-fast-relaxed-math may reorder the sums. */
#define RT_PROBE_FMA_A 0.9993f  /* full mantissas, so that products round (fused != unfused) */
#define RT_PROBE_FMA_B 0.00069f /* values stay in [0, 1): the fixed point is B / (1 - A) ~ 0.986 */
/* The most iterations one launch runs: llvmpipe silently leaves a kernel's loops after 65535
 * trips in all, and the FMA loop does 16 iterations a trip; rt_probe_fma launches longer runs in
 * pieces (each from the seeds). */
#define RT_PROBE_FMA_MAX_ITERS (16 * 65000)
rt_status rt_probe_fma_shape(rt_ctx *ctx, int *lanes, int *fused);

/* The read probe's layout: *lanes L = 1 and *width W = 16 on CPU-style rows; L = the row's wg and
 * W = 4 on GPU-style rows. Launches use L as their local size, halved until the kernel allows it
 * (llvmpipe: 32); the layout stays the same. */
void rt_probe_read_shape(const rt_ctx *ctx, size_t *lanes, int *width);

/* Single timed runs at a fixed size (tests); seconds (NULL: not wanted) gets the run's time, out
 * (NULL: not wanted) the items per-work-item outputs.
 * rt_probe_fma_run: `iters` (0 to RT_PROBE_FMA_MAX_ITERS) iterations over `items` work-items;
 * *flops = items * iters * L * 2.
 * rt_probe_read_run: one pass over `floats` floats of values `in` (NULL: zeros) as vectors of W
 * floats. items must be a multiple of L, floats of W * items, and at most 4 * 65535 vectors go to
 * a work-item (llvmpipe's loop limit). Block G of L work-items (items / L blocks) reads the G-th
 * contiguous slice of floats / (items / L) floats; its work-item l the vectors l, l + L, l + 2L,
 * ... of it, the k-th added to accumulator k % 4 (lane by lane, from zero); out[G * L + l] =
 * ((0 + v_0) + v_1) + ... + v_(W-1) over the lanes of v = ((a0 + a1) + a2) + a3.
 * *bytes = floats * 4. */
rt_status rt_probe_fma_run(rt_ctx *ctx, size_t items, int iters, float *out, double *seconds,
                           double *flops);
rt_status rt_probe_read_run(rt_ctx *ctx, const float *in, size_t floats, size_t items, float *out,
                            double *seconds, double *bytes);

/* ---- GEMM (runtime/gemm.c) -------------------------------------------------------------------- */

/* Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, offsets in floats. Dispatches to
 * gammacl's own kernels or to CLBlast, per the device table (or `path` when >= 0, for tests). */
typedef struct rt_gemm_args {
    int trans_a, trans_b;
    int m, n, k;
    float alpha, beta;
    const rt_buf *a; size_t a_off; int lda;
    const rt_buf *b; size_t b_off; int ldb;
    rt_buf *c; size_t c_off; int ldc;
} rt_gemm_args;
rt_status rt_gemm(rt_ctx *ctx, const rt_gemm_args *g);
rt_status rt_gemm_with(rt_ctx *ctx, rt_gemm_path path, const rt_gemm_args *g);
/* Own GEMM, where the device table's gemm_stream allows: a C at least the size of the device's
 * global memory cache is stored non-temporally (on = 0, rt_open's default); on = 1 streams every
 * eligible C whatever its size (tests). rt_gemm_streams: whether rt_gemm would stream g's C. */
void rt_gemm_force_stream(rt_ctx *ctx, int on);
int rt_gemm_streams(const rt_ctx *ctx, const rt_gemm_args *g);
const char *rt_gemm_path_name(rt_gemm_path p);
/* ---- convolution (runtime/conv.c) -------------------------------------------------------------- */

/* A 2-D convolution without bias in the layout C x N x H x W; weights Cout x (Cin*k*k), a row per
 * output channel, columns (ci*k + kh)*k + kw. Planned once per layer (it owns the buffers kept
 * from forward to backward); the implementation follows the device table: im2col + rt_gemm, or
 * gammacl's fused CPU kernels (padded input, no im2col buffer). */
typedef struct rt_conv_desc { int cin, h, w, cout, k, stride, pad; } rt_conv_desc;
typedef struct rt_conv rt_conv;
rt_status rt_conv_create(rt_ctx *ctx, const rt_conv_desc *d, int max_batch, rt_conv **out);
/* As rt_conv_create with the implementation forced (tests, bench): mode 0 = im2col + GEMM,
 * RT_CONV_FUSED = the fused CPU kernels, | RT_CONV_NO_PITCH = without the pitched layout,
 * | RT_CONV_WINOGRAD = Winograd F(2x2, 3x3) for the forward pass and both gradients of a pitched
 * "same" 3x3 convolution where its blocks fit the device's local memory (else the direct kernels;
 * the weight gradient also needs a multiple of 16 output channels), | RT_CONV_ANY_WIDTH = the fused
 * kernels wherever they can run: a stride-2 convolution however narrow its output, a strided 1x1
 * one (the device table's fused_strided_min_ow and fused_1x1 ignored). */
enum { RT_CONV_FUSED = 1, RT_CONV_NO_PITCH = 2, RT_CONV_WINOGRAD = 4, RT_CONV_ANY_WIDTH = 8 };
rt_status rt_conv_create_with(rt_ctx *ctx, const rt_conv_desc *d, int max_batch, int mode,
                              rt_conv **out);
/* the tiles a work-item holds (16 to 112) if the forward pass of a batch of n runs as Winograd
 * on this device, else 0 (tests, bench) */
int rt_conv_winograd(const rt_ctx *ctx, const rt_conv *c, int n);
/* How a pass (forward, input gradient, weight gradient) of a batch of n runs on this device: as
 * a GEMM (with im2col, or on x itself), in the fused direct kernels, or as Winograd (the tuner
 * measures each kernel only on the passes that run it) */
enum { RT_CONV_PASS_FWD, RT_CONV_PASS_DX, RT_CONV_PASS_DW };
enum { RT_CONV_RUNS_GEMM, RT_CONV_RUNS_FUSED, RT_CONV_RUNS_WINOGRAD };
int rt_conv_pass_runs(const rt_ctx *ctx, const rt_conv *c, int n, int pass);
void rt_conv_free(rt_ctx *ctx, rt_conv *c);
void rt_conv_out_size(const rt_conv_desc *d, int *oh, int *ow);
rt_status rt_conv_forward(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *x, const rt_buf *w, rt_buf *y);
/* Where a value of a tensor in the layout C x N x H x W lies: value (c, n, h, w) of a batch of N
 * at offset + (c * N + n) * plane + h * pitch + w floats. Dense: plane = H * W, pitch = W, 0. */
typedef struct rt_plane_layout { int plane, pitch, offset; } rt_plane_layout;
/* The zero-padded copy of the input that the fused kernels read, handed to the layer that
 * produces the input, so that it writes its output there and the padding copy is skipped (only
 * the values, never the zeros around them). Returns 1 with *buf and *layout set, after which
 * rt_conv_forward ignores its x and reads the buffer as the producer left it (rt_conv_backward
 * too); 0 where either pass reads its input as it is (nothing changes). */
int rt_conv_take_padded_input(rt_conv *c, rt_buf **buf, rt_plane_layout *layout);
/* The same for the output gradient dy of a stride-1 "same" convolution: the layer that reads the
 * output writes its input gradient, dy, into the zero-padded copy of dy that the input gradient
 * and the weight gradient read (dx: the layer's input gradient will be asked for). Sets *taken
 * to 1 with *buf (the convolution's own) and *layout, after which rt_conv_backward ignores its
 * dy and reads the buffer; to 0 where the backward pass reads dy as it is. */
rt_status rt_conv_take_padded_dy(rt_ctx *ctx, rt_conv *c, int dx, int *taken, rt_buf **buf,
                                 rt_plane_layout *layout);
/* dw (Cout x Cin*k*k) is overwritten; dx (NULL: not needed) is written, or added to when
 * accumulate = 1. Uses what rt_conv_forward kept for the same x. */
rt_status rt_conv_backward(rt_ctx *ctx, rt_conv *c, int n, const rt_buf *x, const rt_buf *w,
                           const rt_buf *dy, rt_buf *dw, rt_buf *dx, int accumulate);

/* The CLBlast version gammacl was built against. */
const char *rt_clblast_version(void);

#endif
