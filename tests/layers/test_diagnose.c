/* tests/layers/test_diagnose.c — the NaN diagnosis pass (nn_model_diagnose) reruns the forward
 * pass in training mode to find the first layer that goes non-finite; it must leave the model's
 * running statistics exactly as they were (they are saved in the next checkpoint), and still
 * name the bad place. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "net.h"
#include "testing.h"

#define N 8
#define K 4

static void body(th *t)
{
    static const char *const spec = "conv 4 k=3\nbn\nrelu\nmaxpool\nconv 6 k=3\nbn\nrelu\ngap\n";
    nn_config cfg = {.spec = spec, .in_c = 1, .in_h = 8, .in_w = 8, .classes = K, .max_batch = N,
                     .loss = NN_LOSS_CE, .gamma = 4, .seed = 3, .momentum = 0.9f, .weight_decay = 5e-4f};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), "model")) return;
    uint8_t px[N * 64];
    int32_t labels[N];
    th_rng r = {11};
    for (int i = 0; i < N * 64; i++) px[i] = (uint8_t)(th_uniform(&r) * 256);
    for (int i = 0; i < N; i++) labels[i] = i % K;
    const float mean = 128, sd = 64;
    nn_data *d = NULL;
    if (!th_ok(t, nn_data_upload(t->rt, px, labels, N, 1, 8, 8, &mean, &sd, &d), "data") ||
        !th_ok(t, nn_stats_reserve(m, 1), "stats") || !th_ok(t, nn_train_step(m, d, 0, N, 0.05f, 0), "a step")) {
        nn_model_free(m);
        nn_data_free(t->rt, d);
        return;
    }
    static const char *const names[] = {"bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var"};
    float before[4][8], after[4][8];
    for (int i = 0; i < 4; i++) th_ok(t, nn_test_read(m, names[i], N, before[i]), names[i]);
    char where[256];
    th_ok(t, nn_model_diagnose(m, d, 0, N, where, sizeof where), "diagnosis of a healthy model");
    th_check(t, where[0] == 0, "a healthy model: nothing named (got '%s')", where);
    for (int i = 0; i < 4; i++) {
        th_ok(t, nn_test_read(m, names[i], N, after[i]), names[i]);
        const size_t n = strstr(names[i], "bn1") ? 4 : 6;
        th_check(t, memcmp(before[i], after[i], n * sizeof(float)) == 0,
                 "%s unchanged by the diagnosis pass", names[i]);
    }
    /* a NaN in a weight is still found, and the statistics still kept */
    float w[6 * 4 * 9];
    th_ok(t, nn_test_read(m, "conv2.w", N, w), "conv2.w");
    w[5] = NAN;
    th_ok(t, nn_test_write(m, "conv2.w", N, w), "poison conv2.w");
    th_ok(t, nn_model_diagnose(m, d, 0, N, where, sizeof where), "diagnosis of a poisoned model");
    th_check(t, strstr(where, "conv2") != NULL, "the poisoned weight is named (got '%s')", where);
    for (int i = 0; i < 4; i++) {
        th_ok(t, nn_test_read(m, names[i], N, after[i]), names[i]);
        const size_t n = strstr(names[i], "bn1") ? 4 : 6;
        th_check(t, memcmp(before[i], after[i], n * sizeof(float)) == 0, "%s unchanged after a poisoned diagnosis", names[i]);
    }
    nn_data_free(t->rt, d);
    nn_model_free(m);
}

int main(void) { return th_run("layers/diagnose", body, 0); }
