/* tests/e2e/test_agreement.c — the same seeded training on every OpenCL device (its own device-
 * table row), and on the first device also in the opposite kernel style (CPU-style fused
 * convolutions with gammacl's GEMM, or GPU-style im2col with tree reductions), must follow the
 * same loss trajectory. The implementations sum in different orders, so results
 * agree to fp32 rounding, not bit for bit: every step's mean CE and BCE must match the first
 * configuration's to 1e-3 relative, and the final parameters to 1e-3 relative of their scale.
 * The figures (largest relative difference per configuration) are printed for the README. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "testing.h"

#define STEPS 6
#define BATCH 16
#define COUNT 96

static const char *SPEC = "conv 8 k=3\nbn\nrelu\nmaxpool k=2\nconv 16 k=3\nbn\nrelu\ngap\n";

typedef struct trace { double ce[STEPS], bce[STEPS]; float *w; size_t nw; char name[200]; } trace;

static int train(int device, const char *row, trace *t)
{
    char spec[16], err[RT_ERRLEN];
    snprintf(spec, sizeof spec, "%d", device);
    rt_options o = {.device_spec = spec, .param_row = row};
    rt_ctx *rt;
    if (rt_open(&rt, &o, err, sizeof err) != RT_OK) {
        fprintf(stderr, "FAIL cannot open device %d: %s\n", device, err);
        return -1;
    }
    snprintf(t->name, sizeof t->name, "%s / %s", rt_device(rt)->name, rt_device_params(rt)->row);
    nn_config cfg = {.spec = SPEC, .in_c = 1, .in_h = 12, .in_w = 12, .classes = 4,
                     .max_batch = BATCH, .loss = NN_LOSS_BCE, .gamma = 8, .bias_init = 1.0f,
                     .seed = 7, .momentum = 0.9f, .weight_decay = 5e-4f};
    uint8_t px[COUNT * 144];
    int32_t lab[COUNT];
    for (int i = 0; i < COUNT; i++) {
        lab[i] = i % 4;
        for (int p = 0; p < 144; p++) /* a class-dependent stripe plus deterministic noise */
            px[i * 144 + p] = (uint8_t)(((p / 12) % 4 == lab[i] ? 180 : 40) + (i * 37 + p * 11) % 50);
    }
    const float mean = 100, sd = 60;
    nn_model *m = NULL;
    nn_data *d = NULL;
    int32_t order[COUNT];
    rt_status s = nn_model_create(rt, &cfg, &m);
    if (s == RT_OK) s = nn_data_upload(rt, px, lab, COUNT, 1, 12, 12, &mean, &sd, &d);
    if (s == RT_OK) s = nn_stats_reserve(m, STEPS);
    nn_shuffle(cfg.seed, 0, order, COUNT);
    if (s == RT_OK) s = nn_data_set_order(rt, d, order);
    for (int k = 0; s == RT_OK && k < STEPS; k++) s = nn_train_step(m, d, k * BATCH, BATCH, 0.05f, k);
    for (int k = 0; s == RT_OK && k < STEPS; k++) {
        nn_stats st;
        s = nn_stats_sum(m, k, 1, &st);
        t->ce[k] = st.ce / st.count, t->bce[k] = st.bce / st.count;
    }
    t->nw = nn_test_size(m, "conv2.w", BATCH);
    t->w = malloc(t->nw * sizeof *t->w);
    if (s == RT_OK) s = nn_test_read(m, "conv2.w", BATCH, t->w);
    if (s != RT_OK) fprintf(stderr, "FAIL %s: %s\n", t->name, rt_error(rt));
    nn_data_free(rt, d);
    nn_model_free(m);
    rt_close(rt);
    return s == RT_OK ? 0 : -1;
}

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-12); }

int main(void)
{
    rt_device_info *list = NULL;
    int n = 0;
    char err[RT_ERRLEN];
    if (rt_list_devices(&list, &n, err, sizeof err) != RT_OK || n == 0) {
        fprintf(stderr, "FAIL no OpenCL device: %s\n", err);
        return 1;
    }
    const char *only = getenv("GAMMACL_DEVICE");
    int pick = -1;
    if (only && *only && rt_pick_device(list, n, only, &pick, err, sizeof err) != RT_OK) {
        fprintf(stderr, "FAIL %s\n", err);
        return 1;
    }
    trace ref = {0}, t;
    int have_ref = 0, failures = 0, runs = 0;
    for (int i = 0; i < n; i++) {
        if (pick >= 0 && i != pick) continue;
        const int configs = have_ref ? 1 : 2;
        for (int r = 0; r < configs; r++) {
            /* the first device also runs the other style: GPU-style for a CPU-style row */
            const char *row = r == 0 ? NULL : list[i].is_cpu ? "gpu-own" : "cpu";
            memset(&t, 0, sizeof t);
            if (train(i, row, &t) != 0) { failures++; continue; }
            runs++;
            if (!have_ref) { ref = t; have_ref = 1; printf("reference: %s\n", ref.name); continue; }
            double worst = 0, wscale = 0, wdiff = 0;
            for (int k = 0; k < STEPS; k++) worst = fmax(worst, fmax(rel(t.ce[k], ref.ce[k]), rel(t.bce[k], ref.bce[k])));
            for (size_t j = 0; j < t.nw; j++) wscale = fmax(wscale, fabs(ref.w[j])), wdiff = fmax(wdiff, fabs(t.w[j] - ref.w[j]));
            const int ok = worst < 1e-3 && wdiff < 1e-3 * wscale;
            printf("%-70s losses max rel diff %.2e, weights max diff %.2e (scale %.3f) %s\n", t.name, worst,
                   wdiff, wscale, ok ? "ok" : "FAIL");
            failures += !ok;
            free(t.w);
        }
    }
    free(ref.w);
    free(list);
    if (runs < 2) {
        fprintf(stderr, "FAIL fewer than two configurations ran\n");
        return 1;
    }
    printf("agreement: %d configurations, %d failed\n", runs, failures);
    return failures ? 1 : 0;
}
