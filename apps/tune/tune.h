/* apps/tune/tune.h — `gammacl tune`: the shapes it measures, and one candidate's check and timing.
 *
 * For each tunable kernel (runtime/rt.h rt_tune_kernel) and shape class, the tuner times every
 * parameter set of the search space on the class's representative shapes (the layers of cnn5 and
 * resnet18 that fall in it), after checking its result on a small batch against a double-precision
 * reference, and keeps the fastest. The runtime stores the winners (rt_tune_save).
 */
#ifndef GAMMACL_TUNE_H
#define GAMMACL_TUNE_H

#include "rt.h"

/* one representative shape: a convolution (forward or its weight gradient) or a GEMM */
typedef struct tune_shape {
    rt_tune_kernel kernel;
    const char *what;              /* "cnn5 conv2", ... */
    rt_conv_desc conv;             /* convolutions */
    int batch;                     /* timed batch (the check uses 2 images) */
    int trans_a, trans_b, m, n, k; /* GEMMs */
    rt_conv_desc layer;            /* a GEMM's convolution (cin 0: none), at `batch` images */
    int pass;                      /* and which of its passes it is (RT_CONV_PASS_*) */
} tune_shape;

/* The shapes of kernel k in class cls that run that kernel on ctx's device (a convolution that
 * runs as Winograd there does not, nor a GEMM whose convolution pass runs in the fused kernels:
 * their parameters would be tuned for nothing), at most cap of them into out; returns how many
 * there are (0: the class is not tuned here; more than cap: only cap were stored). */
int tune_shapes(rt_ctx *ctx, rt_tune_kernel k, int cls, tune_shape *out, int cap);

/* FLOPs of one timed run of the shape */
double tune_flops(const tune_shape *s);

/* A shape's buffers, made once and reused by every candidate. */
typedef struct tune_case tune_case;
rt_status tune_case_open(rt_ctx *ctx, const tune_shape *s, tune_case **out);
void tune_case_close(rt_ctx *ctx, tune_case *c);

/* With the kernel's parameters set (rt_tune_set) as the candidate: 1 if the small-batch result
 * matches the reference (*err = the worst error over its tolerance), 0 if not, -1 and the runtime
 * error on a failure to run. */
int tune_check(rt_ctx *ctx, tune_case *c, double *err);
/* Seconds of the fastest of `reps` timed runs after one untimed run; < 0 on failure. */
double tune_time(rt_ctx *ctx, tune_case *c, int reps);

#endif
