/* tests/harness.h — the test driver: runs a test body on every OpenCL device, and comparisons.
 *
 * th_run opens every device found (or only GAMMACL_DEVICE), and for each one every device-table
 * style the test asks for, runs the body, and prints one line per failed check and a summary.
 * No device at all is a failure, never a skip. Comparisons use relative + absolute tolerance
 * against double-precision references.
 */
#ifndef GAMMACL_TEST_HARNESS_H
#define GAMMACL_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "rt.h"

typedef struct th {
    const char *suite;
    const char *config;   /* "device / row" of the current run */
    int checks, failures;
    rt_ctx *rt;
} th;

typedef void (*th_body)(th *t);

/* Runs body on every device; styles: 0 = the device's own row only, 1 = also the opposite
 * kernel style (CPU-style rows also run "gpu-own", GPU-style rows also "cpu") on the first device
 * tested, or on every device with GAMMACL_TEST_ALL_STYLES=1. Returns the exit code. */
int th_run(const char *suite, th_body body, int styles);

/* Records a check; prints the message when it fails. Returns cond. */
int th_check(th *t, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Asserts an rt call succeeded; prints rt_error otherwise. */
int th_ok(th *t, rt_status s, const char *what);
/* 1 if the device's row runs tunable kernels; else 0, after checking that its parameter table
 * stayed at the defaults (no shipped or tuned entry reaches a GPU-style row) */
int th_tunable(th *t);
/* got vs ref elementwise: |got - ref| <= atol + rtol * |ref|. Reports the worst element. */
int th_close(th *t, const float *got, const double *ref, size_t n, double rtol, double atol,
             const char *what);

/* deterministic test data */
typedef struct th_rng { uint64_t s; } th_rng;
double th_uniform(th_rng *r);                      /* [0, 1) */
double th_normal(th_rng *r);
void th_fill_uniform(th_rng *r, float *x, size_t n, float lo, float hi);

/* device buffer helpers that abort the test case on failure */
rt_buf *th_upload(th *t, const float *x, size_t n);
rt_buf *th_zeros(th *t, size_t n);
float *th_download(th *t, const rt_buf *b, size_t n);   /* malloc'd */

#endif
