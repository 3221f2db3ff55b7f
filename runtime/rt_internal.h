/* runtime/rt_internal.h — private structures shared by the runtime's source files.
 *
 * Nothing outside runtime/ includes this header (or CL/cl.h). It defines the context, buffers,
 * kernels and programs, and the helpers that turn OpenCL status codes into messages.
 */
#ifndef GAMMACL_RT_INTERNAL_H
#define GAMMACL_RT_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "rt.h"

/* Embedded kernel sources (generated at build time from the kernels folder). */
typedef struct rt_embedded_source { const char *name; const char *text; } rt_embedded_source;
extern const rt_embedded_source rt_embedded_kernels[];
extern const int rt_embedded_kernel_count;

struct rt_buf {
    cl_mem mem;
    size_t size;               /* bytes the caller asked for */
    size_t capacity;           /* bytes actually allocated (pool bucket) */
    struct rt_buf *next_free;  /* pool free list */
    int in_use;
    int view;                  /* a sub-buffer of another buffer (rt_view): not pooled */
};

struct rt_kernel {
    cl_kernel kernel;
    int program;               /* index into rt_embedded_kernels */
    char name[64];
    size_t max_wg;             /* CL_KERNEL_WORK_GROUP_SIZE on this device */
    int variant;               /* index into ctx->variants, -1 for the program's base build */
};

typedef struct rt_program {
    cl_program program;
    int built;                 /* 0 not yet, 1 ok, -1 failed (error kept) */
} rt_program;

typedef struct rt_prof_event { cl_event ev; int label; double host_ms; } rt_prof_event;

typedef struct rt_fault {
    long alloc_at, launch_at, lost_at;  /* fail the Nth call (1-based); 0 = never */
    long hang_at;                        /* never return from the Nth launch; 0 = never */
    int build;                          /* 1: every program build fails */
    long allocs, launches;              /* calls so far */
} rt_fault;

#define RT_MAX_KERNELS 256
#define RT_MAX_VARIANTS 64
#define RT_VARIANT_OPTS 64

/* a tunable program built with extra -D values */
typedef struct rt_variant { int index; char opts[RT_VARIANT_OPTS]; rt_program prog; } rt_variant;
#define RT_MAX_LABELS 1024  /* resnet18 by kernel: ~500 layer:kernel labels */
#define RT_MAX_BUFS 4096

struct rt_ctx {
    rt_device_info dev;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    rt_params params;
    char build_opts[512];
    int use_cache;
    char cache_dir[1024];
    rt_program *programs;      /* one per embedded source */
    rt_variant variants[RT_MAX_VARIANTS];
    int nvariants;
    rt_tune_table tune;        /* the parameters of the tunable kernels (tune.c) */
    size_t stream_min_bytes;   /* own GEMM: C of at least this size is stored non-temporally */
    rt_kernel kernels[RT_MAX_KERNELS];
    int nkernels;
    rt_build_stats build_stats;
    /* buffer pool: every buffer ever allocated, and the free ones by capacity */
    rt_buf *bufs[RT_MAX_BUFS];
    int nbufs;
    uint64_t bytes_allocated, bytes_in_use;
    /* profiling */
    int prof_on, prof_by_kernel, prof_label;
    char labels[RT_MAX_LABELS][48];
    int nlabels;
    rt_prof_event *events;
    int nevents, cap_events;
    /* scratch buffers grown on demand, reused in queue order: see enum rt_scratch_slot */
    rt_buf *scratch[8];
    rt_fault fault;
    int lost;                  /* an injected or real device loss: every later call fails */
    char err[RT_ERRLEN];
};

/* Records a failed OpenCL call: "<call> failed on <device>: <CODE> — <hint>". Returns the code. */
rt_status rt_cl_fail(rt_ctx *ctx, cl_int code, const char *call, const char *what);
/* Per-context GEMM set-up at rt_open (CLBlast parameter overrides the device row asks for). */
rt_status rt_gemm_setup(rt_ctx *ctx);
/* The advice for an OpenCL or CLBlast code ("" if none). */
const char *rt_status_hint(rt_status s);

/* device_table.c */
void rt_params_for(const rt_device_info *dev, const char *force_row, rt_params *out);
rt_status rt_params_row_exists(const char *name);

/* program.c / cache.c */
rt_status rt_program_build(rt_ctx *ctx, int index);
int rt_cache_load(rt_ctx *ctx, const char *key, unsigned char **bin, size_t *len);
void rt_cache_store(rt_ctx *ctx, const char *key, const unsigned char *bin, size_t len);
uint64_t rt_hash64(uint64_t h, const void *data, size_t len);
int rt_make_dirs(const char *dir);  /* mkdir -p; 0 on success */
void rt_default_cache_dir(char *out, size_t len);  /* GAMMACL_CACHE_DIR, XDG, ~/.cache/gammacl */

/* tune.c / device_table.c: the tunable kernels' parameters */
void rt_tune_init(rt_ctx *ctx);  /* defaults, then shipped rows, then the tuning file */
/* the -D values of a parameter set for its program ("-DTUNE_MR=8 -DTUNE_VW=16") */
int rt_tune_opts(rt_tune_kernel k, rt_tune_choice c, char *out, size_t len);
/* kernel `name` of `program` built with the parameters chosen for kernel k in class cls (*c),
 * and the further -D values `extra` ("" for none) */
rt_status rt_tuned_kernel(rt_ctx *ctx, const char *program, const char *name, rt_tune_kernel k, int cls,
                          const char *extra, rt_tune_choice *c, rt_kernel **out);
/* the local size for a launch of `items` work-items: the tuned one where there are enough of
 * them for every core (16 groups), else 1; never above the kernel's limit (launches round the
 * work-items up to a multiple; the kernels skip the extra ones) */
size_t rt_tuned_local(const rt_kernel *k, size_t items, int ls);
/* 1 and *out set if the device table ships a tuned entry for this device's CPU */
int rt_tune_shipped(const rt_device_info *dev, rt_tune_kernel k, int cls, rt_tune_choice *out);

/* launch.c */
cl_event *rt_prof_event_slot(rt_ctx *ctx);  /* NULL when profiling is off */
/* after an enqueue that used the slot: on devices without event times, waits and stores the
 * host-clock duration since t0 (seconds from rt_now) */
void rt_prof_after(rt_ctx *ctx, double t0);
double rt_now(void);
void rt_release_all_events(rt_ctx *ctx);

/* scratch slots: GEMM transposes and partials, convolution workspaces */
enum rt_scratch_slot { RT_SCRATCH_GEMM, RT_SCRATCH_COL, RT_SCRATCH_DYT, RT_SCRATCH_PART,
                       RT_SCRATCH_DYPAD, RT_SCRATCH_WFLIP };
rt_status rt_scratch(rt_ctx *ctx, int slot, size_t bytes, rt_buf **out);

/* conv.c, shared with conv_wino.c: dw = the sum of `slices` partial weight gradients `stride`
 * floats apart, in slice order; *dyt (scratch) = dy [K][P] transposed to [P][K] */
rt_status rt_conv_sum_slices(rt_ctx *ctx, const rt_buf *part, int slices, size_t stride, rt_buf *dw);
rt_status rt_conv_transpose_dy(rt_ctx *ctx, const rt_buf *dy, int K, int P, rt_buf **dyt);

/* conv_wino.c: Winograd F(2x2, 3x3) for "same" 3x3 convolutions on the pitched padded layout
 * (rows of pitch W + 1, runtime/conv.c). A pass's blocking: rpi tile rows of tw tiles a
 * work-item, in tv vectors of 16 tiles (products r output channels at a time), kb of its K
 * output channels, its C input channels in
 * chunks of cb; the transforms take wv tiles of a row at a time; the weight gradient sums
 * `slices` partial sums of `per` tile rows. */
typedef struct rt_wino_plan { int th, tw, tv, wv, r, rpi, kb, cb, kblocks, items, slices, per; } rt_wino_plan;
/* 1 and *p set if a blocking of the forward pass (C -> K channels onto oh x ow) fits the device */
int rt_wino_plan_conv(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, rt_wino_plan *p);
/* y (+)= the convolution of the padded xp (C planes of hp x wp a image) onto K planes of
 * oh x ow, with w as stored (flip 0) or its flipped transpose (flip 1: the input gradient) */
rt_status rt_wino_conv(rt_ctx *ctx, const rt_wino_plan *p, int n, int C, int K, int hp, int wp, int oh,
                       int ow, const rt_buf *xp, const rt_buf *w, int flip, rt_buf *y, int acc);
/* 1 and *p set if the weight gradient of a C -> K convolution fits (K a multiple of 16) */
int rt_wino_plan_wgrad(const rt_ctx *ctx, int n, int C, int K, int oh, int ow, rt_wino_plan *p);
/* dw = the weight gradient from the padded x and dy [K][n][oh][ow], dense (dyl NULL) or in the
 * layout *dyl (its zero-padded copy) */
rt_status rt_wino_wgrad(rt_ctx *ctx, const rt_wino_plan *p, int n, int C, int K, int hp, int wp, int oh,
                        int ow, const rt_buf *xp, const rt_buf *dy, const rt_plane_layout *dyl,
                        rt_buf *dw);

/* fault.c */
rt_status rt_fault_parse(rt_ctx *ctx, const char *spec);
rt_status rt_fault_check_alloc(rt_ctx *ctx, size_t bytes);
rt_status rt_fault_check_launch(rt_ctx *ctx, const char *kernel);

#endif
