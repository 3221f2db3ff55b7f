/* tests/layers/lt.h — shared driver of the layer tests: a reference network against the engine.
 *
 * lt_check_net builds the engine's model from a reference net's spec (raw output, input gradient
 * on), writes the same random parameters into both, and checks on the current device:
 *   forward   every layer's output (".y") against the double reference, and the BN running
 *             statistics (updated in train mode with the unbiased variance, untouched in eval);
 *   backward  for loss = sum(r * y_last) with a random r: every layer's output gradient (".dy"),
 *             the input gradient ("x.grad") and every parameter gradient against the analytic
 *             double reference, and against central finite differences of the double reference
 *             forward (a sample of elements of every tensor; the reference's own analytic gradient
 *             must match them too, so a wrong reference cannot pass).
 * Tolerances are relative to the largest reference magnitude of each tensor. A batch norm read
 * only by the ReLU right after it is fused with it by the engine and shares its tensors, so that
 * BN's ".y" and ".dy" are compared with the ReLU's. GAMMACL_TEST_VERBOSE=1 prints the worst
 * error of every comparison as a fraction of its tolerance.
 */
#ifndef GAMMACL_TEST_LT_H
#define GAMMACL_TEST_LT_H

#include "harness.h"
#include "ref.h"
#include "testing.h"

typedef struct lt_opts {
    double fwd_tol;            /* forward: |got - want| <= tol * (|want| + max |want|) */
    double grad_tol;           /* gradients, same form */
    int fd_max;                /* finite-difference elements per tensor (0: default 24, <0: none) */
    int skip_fd_dx;            /* 1: no finite-difference check of x.grad (e.g. ties) */
    int spare_batch;           /* > 0: the model holds batch + spare_batch samples, and a full
                                  forward and backward at that size runs first, so the checked
                                  (smaller) batch meets buffers full of stale values */
    int lent_outputs;          /* > 0: on a device whose convolutions run fused, exactly this
                                  many layers write into a convolution's padded input */
} lt_opts;

/* Fills the input and every parameter with random values that are exact floats: inputs and
 * weights in [-1, 1] (weights scaled by 1/sqrt(fan_in)), BN gamma in [0.5, 1.5], beta and the
 * running mean in [-0.5, 0.5], the running variance in [0.5, 2]. */
void lt_randomize(ref_net *net, th_rng *r);

/* The whole check described above for one net in one BN mode; what names the case. */
void lt_check_net(th *t, ref_net *net, int train, const lt_opts *o, const char *what);

/* got (device) vs want: |got - want| <= tol * |want| + tol * scale, where scale <= 0 means the
 * largest |want|. Reports the worst element. */
int lt_close(th *t, const float *got, const double *want, size_t n, double tol, double scale,
             const char *what);
/* The same for two double arrays (reference self-checks). */
int lt_close_d(th *t, const double *got, const double *want, size_t n, double tol, double scale,
               const char *what);

/* Reads a named tensor of the model (its size must be `n`); malloc'd, NULL on failure. */
float *lt_read(th *t, nn_model *m, const char *name, int batch, size_t n);
/* Writes a double array as floats into a named tensor (its size must be `n`). */
int lt_write(th *t, nn_model *m, const char *name, int batch, const double *v, size_t n);
/* Rounds doubles to floats in place (so both sides see the same numbers) and returns a float copy. */
float *lt_to_float(double *v, size_t n);

#endif
