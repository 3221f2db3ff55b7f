/* tests/layers/test_train.c — a small end-to-end training run on every device.
 *
 * A synthetic, learnable data set (4 classes of 8x8 one-channel images: a horizontal bar, a
 * vertical bar, a diagonal, a filled square, each at a random position, on noise) is uploaded
 * once; conv-bn-relu-maxpool-conv-bn-relu-gap trains for 3 epochs with nn_shuffle orders (CE,
 * gamma 8, SGD with momentum and decay). Checks: the mean loss of the last epoch is far below the
 * first (and below log K), training accuracy in the last epoch and evaluation accuracy (running BN
 * statistics) are far above chance, and a second run with the same seed on the same device gives
 * bit-identical per-step statistics and parameters (with momentum and running statistics) after
 * its first SNAP_STEPS steps. Kept tiny (160 samples, 15 steps) for the slowest device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"

#define CLASSES 4
#define SIDE 8
#define SAMPLES 160
#define BATCH 32
#define EPOCHS 3
#define STEPS (SAMPLES / BATCH)
#define SNAP_STEPS 3           /* the second run stops here; both are compared at this point */
#define LR 0.05f

typedef struct dataset {
    uint8_t px[SAMPLES * SIDE * SIDE];
    int32_t labels[SAMPLES];
    float mean, std;
} dataset;

static void make_data(dataset *d, uint64_t seed)
{
    th_rng r = {seed};
    double s = 0, ss = 0;
    for (int i = 0; i < SAMPLES; i++) {
        const int y = i % CLASSES;
        const int a = 1 + (int)(th_uniform(&r) * 5), b = 1 + (int)(th_uniform(&r) * 5);
        uint8_t *img = d->px + (size_t)i * SIDE * SIDE;
        for (int h = 0; h < SIDE; h++)
            for (int w = 0; w < SIDE; w++) {
                int on = 0;
                switch (y) {
                case 0: on = h == a && w >= 1 && w <= 6; break;                 /* horizontal bar */
                case 1: on = w == b && h >= 1 && h <= 6; break;                 /* vertical bar */
                case 2: on = h - w == a - 3 && h >= 1 && h <= 6; break;         /* diagonal */
                case 3: on = h >= a && h < a + 3 && w >= b && w < b + 3; break; /* filled square */
                }
                const double v = (on ? 170 : 20) + 60 * th_uniform(&r);
                img[h * SIDE + w] = (uint8_t)v;
                s += (uint8_t)v, ss += (double)(uint8_t)v * (uint8_t)v;
            }
        d->labels[i] = y;
    }
    const double n = (double)SAMPLES * SIDE * SIDE;
    d->mean = (float)(s / n);
    d->std = (float)sqrt(ss / n - (s / n) * (s / n));
}

typedef struct run {
    float stats[EPOCHS * STEPS * 4];
    nn_ckpt snap;              /* parameters, momentum and running statistics after SNAP_STEPS */
    double ce[EPOCHS], acc[EPOCHS], eval_acc;
} run;

/* Trains `steps` steps (epochs of STEPS steps with nn_shuffle orders), keeps a snapshot after
 * SNAP_STEPS, and with `evaluate` classifies the whole set in eval mode afterwards. */
static int train(th *t, nn_data *data, int steps, int evaluate, run *out)
{
    nn_config cfg = {.spec = "conv 8 k=3\nbn\nrelu\nmaxpool\nconv 16 k=3\nbn\nrelu\ngap",
                     .in_c = 1, .in_h = SIDE, .in_w = SIDE, .classes = CLASSES, .max_batch = SAMPLES,
                     .loss = NN_LOSS_CE, .gamma = 8.0f, .seed = 2024, .momentum = 0.9f,
                     .weight_decay = 5e-4f};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), "create the model")) return 0;
    int ok = th_ok(t, nn_stats_reserve(m, EPOCHS * STEPS + 1), "reserve statistics");
    int32_t order[SAMPLES];
    for (int step = 0; ok && step < steps; step++) {
        const int e = step / STEPS, s = step % STEPS;
        if (s == 0) {
            nn_shuffle(cfg.seed, (uint64_t)e, order, SAMPLES);
            ok = th_ok(t, nn_data_set_order(t->rt, data, order), "set the order");
        }
        ok = ok && th_ok(t, nn_train_step(m, data, s * BATCH, BATCH, LR, step), "train step");
        if (ok && step + 1 == SNAP_STEPS) ok = th_ok(t, nn_model_export(m, &out->snap), "export");
        if (!ok || s + 1 < STEPS) continue;
        nn_stats st;
        ok = th_ok(t, nn_stats_sum(m, e * STEPS, STEPS, &st), "statistics");
        ok = ok && th_check(t, st.first_bad < 0 && st.count == SAMPLES, "epoch %d: bad statistics",
                            e + 1);
        out->ce[e] = st.ce / st.count, out->acc[e] = st.correct / st.count;
    }
    ok = ok && th_ok(t, nn_stats_raw(m, 0, steps, out->stats), "raw statistics");
    if (ok && evaluate) {
        nn_stats st;
        ok = th_ok(t, nn_data_set_order(t->rt, data, NULL), "identity order") &&
             th_ok(t, nn_eval_batch(m, data, 0, SAMPLES, EPOCHS * STEPS), "eval") &&
             th_ok(t, nn_stats_sum(m, EPOCHS * STEPS, 1, &st), "eval statistics");
        out->eval_acc = ok ? st.correct / st.count : 0;
    }
    nn_model_free(m);
    return ok;
}

static int same_tensors(const nn_ckpt *a, const nn_ckpt *b, char *which, size_t len)
{
    if (a->ntensors != b->ntensors || a->ntensors == 0) {
        snprintf(which, len, "tensor count %d vs %d", a->ntensors, b->ntensors);
        return 0;
    }
    for (int i = 0; i < a->ntensors; i++) {
        const nn_ckpt_tensor *x = &a->tensors[i], *y = nn_ckpt_find(b, x->name);
        if (!y || y->count != x->count || memcmp(x->data, y->data, x->count * sizeof(float)) != 0) {
            snprintf(which, len, "%s", x->name);
            return 0;
        }
    }
    return 1;
}

/* nn_model_forward_flops against cnn5's count by hand: 2 x outputs x (Cin x 3 x 3) per
 * convolution (32@28x28 from 1 and 32 channels, 64@14x14 from 32 and 64, 128@7x7 from 64) plus the
 * 10 x 128 head; and a linear layer of the spec grammar */
static void forward_flops(th *t)
{
    const double want = 2.0 * (32 * 784 * (1 * 9 + 32 * 9) + 64 * 196 * (32 * 9 + 64 * 9) +
                               128 * 49 * 64 * 9) + 2.0 * 10 * 128;
    nn_config cfg = {.spec = nn_builtin_model("cnn5"), .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10,
                     .max_batch = 2, .loss = NN_LOSS_CE, .gamma = 16, .seed = 1};
    nn_model *m = NULL;
    if (th_ok(t, nn_model_create(t->rt, &cfg, &m), "create cnn5"))
        th_check(t, nn_model_forward_flops(m) == want, "cnn5 forward FLOPs %.0f, by hand %.0f",
                 nn_model_forward_flops(m), want);
    nn_model_free(m);
    cfg.spec = "conv 4 k=3\ngap\nlinear 6", cfg.in_h = cfg.in_w = 5, m = NULL;
    if (th_ok(t, nn_model_create(t->rt, &cfg, &m), "create conv-gap-linear"))
        th_check(t, nn_model_forward_flops(m) == 2.0 * (4 * 25 * 9 + 6 * 4 + 10 * 6),
                 "conv-gap-linear forward FLOPs %.0f", nn_model_forward_flops(m));
    nn_model_free(m);
}

static void body(th *t)
{
    forward_flops(t);
    dataset *d = malloc(sizeof *d);
    make_data(d, 77);
    nn_data *data = NULL;
    run *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    if (th_ok(t, nn_data_upload(t->rt, d->px, d->labels, SAMPLES, 1, SIDE, SIDE, &d->mean, &d->std,
                                &data), "upload") &&
        train(t, data, EPOCHS * STEPS, 1, a) && train(t, data, SNAP_STEPS, 0, b)) {
        if (getenv("GAMMACL_TEST_VERBOSE")) {
            for (int e = 0; e < EPOCHS; e++)
                printf("  epoch %d: mean CE %.4f, accuracy %.3f\n", e + 1, a->ce[e], a->acc[e]);
            printf("  evaluation accuracy %.3f\n", a->eval_acc);
        }
        th_check(t, a->ce[EPOCHS - 1] < 0.5 * a->ce[0] && a->ce[EPOCHS - 1] < 0.5 * log(CLASSES),
                 "the loss did not fall: mean CE per epoch %.4f -> %.4f", a->ce[0], a->ce[EPOCHS - 1]);
        th_check(t, a->acc[EPOCHS - 1] > 0.8, "last-epoch training accuracy %.3f", a->acc[EPOCHS - 1]);
        th_check(t, a->eval_acc > 0.8, "evaluation accuracy %.3f", a->eval_acc);
        th_check(t, memcmp(a->stats, b->stats, SNAP_STEPS * 4 * sizeof(float)) == 0,
                 "two runs with the same seed differ in their statistics");
        char which[80] = "";
        th_check(t, same_tensors(&a->snap, &b->snap, which, sizeof which),
                 "two runs with the same seed differ after %d steps: %s", SNAP_STEPS, which);
    }
    nn_ckpt_free(&a->snap), nn_ckpt_free(&b->snap);
    nn_data_free(t->rt, data);
    free(a), free(b), free(d);
}

int main(void) { return th_run("layers/train", body, 0); }
