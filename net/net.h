/* net/net.h — models, data on the device, training and evaluation steps: what apps/ uses.
 *
 * A model is built from a text spec (the .spec files in net/models; spec.c has the grammar) for an input
 * shape, a class count and a head: L2-normalized feature h, L2-normalized class weights w_k,
 * cosines c_k = <h, w_k>, logits gamma*c_k (CE) or gamma*c_k - b with one shared learnable bias b
 * (BCE). Every step computes both losses; the trained one supplies the gradient. Activations use
 * the layout C x N x H x W. Nothing here prints or touches files (checkpoints go through
 * net/checkpoint.h as in-memory structures). Errors: an rt_status with the message in rt_error().
 */
#ifndef GAMMACL_NET_H
#define GAMMACL_NET_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "rt.h"

typedef enum { NN_LOSS_CE = 0, NN_LOSS_BCE = 1 } nn_loss;

typedef struct nn_config {
    const char *spec;          /* model spec text */
    int in_c, in_h, in_w;      /* input shape */
    int classes;               /* K */
    int max_batch;
    nn_loss loss;
    float gamma;
    float bias_init;           /* initial b for BCE; a CE run keeps b = b*(gamma, K) for logging */
    uint64_t seed;
    float momentum, weight_decay;
    int input_grad;            /* also compute the gradient with respect to the input (tests,
                                  input-perturbation studies) */
    int raw_output;            /* tests: the last layer may output a map (no vector check) */
} nn_config;

typedef struct nn_model nn_model;

/* Parses the spec (errors name the line), infers shapes, allocates every buffer, initializes
 * parameters deterministically from the seed. */
rt_status nn_model_create(rt_ctx *rt, const nn_config *cfg, nn_model **out);
void nn_model_free(nn_model *m);
int nn_model_feature_dim(const nn_model *m);
size_t nn_model_param_count(const nn_model *m);
/* Floating-point operations of one image's forward pass through the convolutions, linear layers
 * and the classifier head (2 per multiply-add; element-wise layers not counted). A training step
 * does about 3x this per image (forward, gradient of the input, gradient of the weights). */
double nn_model_forward_flops(const nn_model *m);
/* A readable summary: one line per layer with output shape and parameter count. */
void nn_model_describe(const nn_model *m, char *buf, size_t len);
/* Checks a spec without a device (for `--model FILE` validation and the fuzz target). */
int nn_spec_check(const char *spec, int in_c, int in_h, int in_w, char *err, size_t errlen);

/* The text of a model shipped with gammacl ("cnn5", "resnet18"), or NULL. */
const char *nn_builtin_model(const char *name);
/* "cnn5, resnet18" */
void nn_builtin_model_names(char *out, size_t len);

/* ---- data on the device ---- */
typedef struct nn_data nn_data;
/* Uploads uint8 pixels (count x C x H x W) and labels once; mean/std per channel standardize. */
rt_status nn_data_upload(rt_ctx *rt, const uint8_t *pixels, const int32_t *labels, int count,
                         int c, int h, int w, const float *mean, const float *std, nn_data **out);
void nn_data_free(rt_ctx *rt, nn_data *d);
/* Sets the sample order (a permutation of 0..count-1, or NULL for the identity). */
rt_status nn_data_set_order(rt_ctx *rt, nn_data *d, const int32_t *order);
int nn_data_count(const nn_data *d);
/* The order of epoch `epoch` for a seed: a permutation of 0..n-1 drawn from its own stream, so a
 * resumed run shuffles exactly as an uninterrupted one. */
void nn_shuffle(uint64_t seed, uint64_t epoch, int32_t *order, int n);

/* Train-time augmentation of the batches nn_train_step gathers (never evaluation's), on the
 * device inside the gather, in the order of torchvision's RandomCrop(padding=4) then
 * RandomHorizontalFlip: the image is padded with 4 pixels of raw value 0 (black, standardized
 * like any pixel), a window of the image's size is cut at offset (dx, dy) in [-4, 4], and it is
 * mirrored left-right with probability 1/2:
 *   out(y, x) = src(y + dy, x' + dx), x' = flip ? W - 1 - x : x  (0 outside the image).
 * The numbers are counter-based, with no state: key = nn_augment_key(seed, epoch), and the sample
 * at position p of the epoch's order draws r = mix(key + (p + 1) * 0x9e3779b97f4a7c15) (mix: the
 * splitmix64 finalizer); lo = r's low 32 bits, hi = its high 32 bits: dx = lo % 9 - 4,
 * dy = (hi >> 1) % 9 - 4, flip = hi & 1 (each only when its flag is set, else 0). So a resumed run
 * augments exactly as an uninterrupted one. kernels/data.cl holds the device copy. */
enum { NN_AUGMENT_CROP = 1, NN_AUGMENT_FLIP = 2, NN_AUGMENT_PAD = 4 };
uint64_t nn_augment_key(uint64_t seed, uint64_t epoch);
void nn_augment_draw(uint64_t key, int pos, unsigned flags, int *dx, int *dy, int *flip);
/* Sets the augmentation of the training steps that gather from d (flags 0: none) for one epoch;
 * call it after each epoch's nn_data_set_order. */
void nn_data_set_augment(nn_data *d, unsigned flags, uint64_t seed, uint64_t epoch);

/* ---- steps: queued, no host round-trip ---- */
/* Reserves room for per-step statistics (slots); each step writes {sum CE, sum BCE, correct, n}. */
rt_status nn_stats_reserve(nn_model *m, int slots);
/* One SGD step on samples [first, first + n) of the current order, at learning rate lr. */
rt_status nn_train_step(nn_model *m, nn_data *d, int first, int n, float lr, int slot);
/* The same step in two halves (nn_train_step is exactly nn_train_grads then nn_sgd_step), for
 * data-parallel training, where the gradients are averaged over processes in between:
 * nn_train_grads runs forward and backward on [first, first + n) with the statistics into slot
 * and leaves the gradient of the batch mean loss in every trainable parameter's gradient;
 * nn_sgd_step applies them (momentum, weight decay) at learning rate lr. */
rt_status nn_train_grads(nn_model *m, nn_data *d, int first, int n, int slot);
rt_status nn_sgd_step(nn_model *m, float lr);
/* The gradients as one flat vector (net/grads.c): nn_grad_count floats: the trainable parameter
 * tensors in the model's order (as checkpoints list them), each tensor's values in its own order.
 * nn_grads_read waits for the queue; nn_grads_write replaces every gradient with host's. */
size_t nn_grad_count(const nn_model *m);
rt_status nn_grads_read(nn_model *m, float *host);
rt_status nn_grads_write(nn_model *m, const float *host);
/* A 64-bit FNV-1a hash of the bytes of every trainable parameter's value, in model order: equal
 * models give equal digests (data-parallel ranks compare theirs). Waits for the queue. */
rt_status nn_params_digest(nn_model *m, uint64_t *out);
/* Forward in evaluation mode (running BN statistics), losses and accuracy into slot (and, while
 * nn_class_counts_begin of class_acc.h is in force, the per-class counts). */
rt_status nn_eval_batch(nn_model *m, nn_data *d, int first, int n, int slot);

typedef struct nn_stats {
    double ce, bce, correct, count;
    int first_bad;             /* first slot (from `first`) whose losses are not finite, or -1 */
} nn_stats;
/* Waits for the queue, reads slots [first, first + count) and sums them in double precision. */
rt_status nn_stats_sum(nn_model *m, int first, int count, nn_stats *out);

/* Raw slots (4 floats each: sum CE, sum BCE, correct, n) out of and back into the device, so a
 * run stopped mid-epoch can resume with the statistics of the steps it already took. */
rt_status nn_stats_raw(nn_model *m, int first, int count, float *out);
rt_status nn_stats_restore(nn_model *m, int first, int count, const float *in);

/* The current shared bias b (a CE run reports the fixed b* it logs BCE with). */
rt_status nn_model_bias(nn_model *m, float *b);

/* ---- state for checkpoints: parameters, running statistics, momentum, bias ---- */
rt_status nn_model_export(nn_model *m, nn_ckpt *c);   /* fills c->tensors (and c->spec) */
rt_status nn_model_import(nn_model *m, const nn_ckpt *c);

/* Scans every parameter and gradient for NaN/Inf; *where gets the first bad one's name ("" if
 * all finite). Used after a non-finite loss to name the layer. */
rt_status nn_model_find_nonfinite(nn_model *m, char *where, size_t len);
/* Numerical faults seen by the optimizer: the first step (counting from 1 over the whole run, as
 * set by nn_model_set_step) whose update made a parameter tensor non-finite, or found it already
 * non-finite (already = 1: a poisoned state, reported first). step = 0: none. */
typedef struct nn_nonfinite { long long step; int already; char param[48]; } nn_nonfinite;
rt_status nn_model_nonfinite(nn_model *m, nn_nonfinite *out);
/* The number of optimizer steps already taken (a resumed run continues the count). */
rt_status nn_model_set_step(nn_model *m, long long steps_done);

/* Locates where non-finite numbers first appear: parameters, then (re-running the forward pass on
 * batch [first, first + n)) each layer's output in order, the cosines, then the gradients. The
 * running statistics are left as they were. */
rt_status nn_model_diagnose(nn_model *m, nn_data *d, int first, int n, char *where, size_t len);

#endif
