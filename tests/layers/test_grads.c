/* tests/layers/test_grads.c — the split training step and the flat gradient vector that
 * data-parallel training is built on (nn_train_grads, nn_grads_read/write, nn_sgd_step,
 * nn_params_digest), on every device, with a BCE head (its shared bias is a trainable parameter)
 * and a model without batch norm:
 *   - nn_grad_count is the number of trainable values;
 *   - nn_grads_write then nn_grads_read gives back what was written;
 *   - nn_train_grads, a read and a write back of the gradients, then nn_sgd_step, is nn_train_step
 *     bit for bit (statistics, every exported tensor, the digest), over several steps;
 *   - a batch split in two parts of 20 and 12 samples, each part's gradient scaled by its share
 *     (n_r / n) and the two summed, is the whole batch's gradient up to rounding (the loss is the
 *     mean over the batch, for the class weights, the convolutions and the bias alike), so the
 *     parameters after the steps agree within 1e-5 relative;
 *   - the digest is equal for equal parameters and changes when one value does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "net.h"

#define SIDE 8
#define SAMPLES 96
#define BATCH 32
#define PART 20                /* the split step: [0, 20) and [20, 32) of each batch */
#define STEPS 3
#define CLASSES 4
#define LR 0.05f

static const char *const SPEC = "conv 8 k=3\nrelu\nmaxpool\nconv 16 k=3\nrelu\ngap";

static nn_model *make_model(th *t)
{
    nn_config cfg = {.spec = SPEC, .in_c = 1, .in_h = SIDE, .in_w = SIDE, .classes = CLASSES,
                     .max_batch = BATCH, .loss = NN_LOSS_BCE, .gamma = 8.0f, .bias_init = 1.0f, .seed = 7,
                     .momentum = 0.9f, .weight_decay = 5e-4f};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), "create the model")) return NULL;
    if (!th_ok(t, nn_stats_reserve(m, 2 * STEPS), "reserve statistics")) {
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* mode 0: nn_train_step; 1: grads, read, write back, SGD; 2: the batch in two parts, summed */
static int train(th *t, nn_model *m, nn_data *d, int mode, float *g, float *g2)
{
    const size_t n = nn_grad_count(m);
    for (int s = 0; s < STEPS; s++) {
        const int first = s * BATCH;
        if (mode == 0) {
            if (!th_ok(t, nn_train_step(m, d, first, BATCH, LR, s), "nn_train_step")) return 0;
            continue;
        }
        if (mode == 1) {
            if (!th_ok(t, nn_train_grads(m, d, first, BATCH, s), "nn_train_grads") ||
                !th_ok(t, nn_grads_read(m, g), "nn_grads_read"))
                return 0;
        } else {
            if (!th_ok(t, nn_train_grads(m, d, first, PART, s), "nn_train_grads, part 1") ||
                !th_ok(t, nn_grads_read(m, g), "nn_grads_read, part 1") ||
                !th_ok(t, nn_train_grads(m, d, first + PART, BATCH - PART, STEPS + s), "nn_train_grads, part 2") ||
                !th_ok(t, nn_grads_read(m, g2), "nn_grads_read, part 2"))
                return 0;
            for (size_t i = 0; i < n; i++)
                g[i] = g[i] * ((float)PART / BATCH) + g2[i] * ((float)(BATCH - PART) / BATCH);
        }
        if (!th_ok(t, nn_grads_write(m, g), "nn_grads_write") || !th_ok(t, nn_sgd_step(m, LR), "nn_sgd_step"))
            return 0;
    }
    return 1;
}

/* the largest relative difference of a's and b's tensors (each relative to its largest value) */
static double tensors_diff(const nn_ckpt *a, const nn_ckpt *b, int *exact)
{
    double worst = a->ntensors == b->ntensors ? 0 : INFINITY;
    *exact = a->ntensors == b->ntensors && a->ntensors > 0;
    for (int i = 0; i < a->ntensors; i++) {
        const nn_ckpt_tensor *x = &a->tensors[i], *y = nn_ckpt_find(b, x->name);
        if (!y || y->count != x->count) return *exact = 0, INFINITY;
        *exact = *exact && memcmp(x->data, y->data, x->count * sizeof(float)) == 0;
        double scale = 0, d = 0;
        for (uint64_t k = 0; k < x->count; k++) {
            scale = fmax(scale, fabs(x->data[k]));
            d = fmax(d, fabs((double)x->data[k] - y->data[k]));
        }
        if (scale > 0) worst = fmax(worst, d / scale);
    }
    return worst;
}

static void body(th *t)
{
    uint8_t *px = malloc(SAMPLES * SIDE * SIDE);
    int32_t labels[SAMPLES];
    th_rng r = {31};
    for (int i = 0; i < SAMPLES * SIDE * SIDE; i++) px[i] = (uint8_t)(th_uniform(&r) * 256);
    for (int i = 0; i < SAMPLES; i++) labels[i] = i % CLASSES;
    const float mean = 127.5f, std = 74.0f;
    nn_data *d = NULL;
    nn_model *m[3] = {NULL, NULL, NULL};
    nn_ckpt c[3] = {{0}, {0}, {0}};
    float *g = NULL, *g2 = NULL;
    float st[2][STEPS * 4];
    if (!th_ok(t, nn_data_upload(t->rt, px, labels, SAMPLES, 1, SIDE, SIDE, &mean, &std, &d), "upload") ||
        !th_ok(t, nn_data_set_order(t->rt, d, NULL), "identity order"))
        goto out;
    for (int k = 0; k < 3; k++)
        if (!(m[k] = make_model(t))) goto out;
    const size_t n = nn_grad_count(m[0]);
    th_check(t, n == nn_model_param_count(m[0]) && n > 0, "nn_grad_count %zu, trainable values %zu", n,
             nn_model_param_count(m[0]));
    g = malloc(n * sizeof *g), g2 = malloc(n * sizeof *g2);
    if (!g || !g2) goto out;
    /* a write and a read give back the same vector */
    for (size_t i = 0; i < n; i++) g[i] = (float)i * 0.25f - 3.0f;
    if (th_ok(t, nn_grads_write(m[1], g), "write a pattern") && th_ok(t, nn_grads_read(m[1], g2), "read it back"))
        th_check(t, memcmp(g, g2, n * sizeof *g) == 0, "nn_grads_read does not return what nn_grads_write wrote");
    for (int k = 0; k < 3; k++)
        if (!train(t, m[k], d, k, g, g2) || !th_ok(t, nn_model_export(m[k], &c[k]), "export")) goto out;
    if (!th_ok(t, nn_stats_raw(m[0], 0, STEPS, st[0]), "statistics") ||
        !th_ok(t, nn_stats_raw(m[1], 0, STEPS, st[1]), "statistics"))
        goto out;
    int exact = 0;
    const double d01 = tensors_diff(&c[0], &c[1], &exact);
    th_check(t, exact, "grads + read + write + nn_sgd_step differs from nn_train_step (relative %.3g)", d01);
    th_check(t, memcmp(st[0], st[1], sizeof st[0]) == 0, "the split step's statistics differ from nn_train_step's");
    const double d02 = tensors_diff(&c[0], &c[2], &exact);
    th_check(t, d02 < 1e-5, "a batch in two parts, scaled by their shares and summed: parameters %.3g relative "
             "from the whole batch's (want < 1e-5)", d02);
    if (getenv("GAMMACL_TEST_VERBOSE")) printf("  two parts vs the whole batch: %.3g relative\n", d02);
    uint64_t h0 = 0, h1 = 1, h2 = 2;
    if (th_ok(t, nn_params_digest(m[0], &h0), "digest") && th_ok(t, nn_params_digest(m[1], &h1), "digest")) {
        th_check(t, h0 == h1, "equal parameters, different digests");
        /* one more step changes the parameters: the digest must change */
        if (th_ok(t, nn_train_step(m[1], d, 0, BATCH, LR, 0), "one more step") &&
            th_ok(t, nn_params_digest(m[1], &h2), "digest"))
            th_check(t, h2 != h1, "the digest did not change with the parameters");
    }
out:
    for (int k = 0; k < 3; k++) nn_ckpt_free(&c[k]), nn_model_free(m[k]);
    nn_data_free(t->rt, d);
    free(g), free(g2), free(px);
}

int main(void) { return th_run("layers/grads", body, 0); }
