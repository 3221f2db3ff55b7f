/* bench/step_trace.c — the loss trajectory of the same seeded training on one device, for
 * comparing devices that are not in the same machine (a GPU elsewhere against PoCL here).
 *
 * usage: step_trace [--device SPEC] [--model NAME] [--loss ce|bce] [--steps K] [--batch N]
 *                   [--out FILE] [--compare FILE]
 * Trains K steps (constant lr 0.05, seed 1, gamma 16) on fixed synthetic images of the model's
 * input shape with a class-dependent pattern, so the loss falls. Prints and writes one line per
 * step: "step CE BCE accuracy" (the batch means, %.17g: exact). --compare FILE reads such a trace from
 * another device and prints the largest relative difference of CE and BCE over the steps and at
 * the last step; it exits 1 when the files do not describe the same run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "rt.h"

#define MAX_STEPS 1000
#define SAMPLES 1024

typedef struct trace_opts {
    const char *device, *model, *out, *compare;
    int ce, steps, batch;
} trace_opts;

typedef struct step_row { double ce, bce, acc; } step_row;

static void usage(FILE *f)
{
    fprintf(f, "usage: step_trace [--device SPEC] [--model cnn5|resnet18] [--loss ce|bce] [--steps K]\n"
               "                  [--batch N] [--out FILE] [--compare FILE]\n");
}

static int parse(int argc, char **argv, trace_opts *o)
{
    *o = (trace_opts){.model = "cnn5", .ce = 1, .steps = 20, .batch = 128};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (v && !strcmp(a, "--device")) o->device = v, i++;
        else if (v && !strcmp(a, "--model")) o->model = v, i++;
        else if (v && !strcmp(a, "--out")) o->out = v, i++;
        else if (v && !strcmp(a, "--compare")) o->compare = v, i++;
        else if (v && !strcmp(a, "--loss") && (!strcmp(v, "ce") || !strcmp(v, "bce"))) o->ce = !strcmp(v, "ce"), i++;
        else if (v && !strcmp(a, "--steps")) o->steps = atoi(v), i++;
        else if (v && !strcmp(a, "--batch")) o->batch = atoi(v), i++;
        else { fprintf(stderr, "step_trace: bad argument '%s'\n", a); usage(stderr); return -1; }
    }
    if (o->steps < 1 || o->steps > MAX_STEPS || o->batch < 1 || o->batch > SAMPLES) {
        fprintf(stderr, "step_trace: 1 <= steps <= %d and 1 <= batch <= %d\n", MAX_STEPS, SAMPLES);
        return -1;
    }
    if (!nn_builtin_model(o->model)) {
        fprintf(stderr, "step_trace: unknown model '%s'\n", o->model);
        return -1;
    }
    return 0;
}

/* images with a bright band whose row depends on the class, plus deterministic noise */
static void make_images(int c, int h, int w, uint8_t *px, int32_t *labels)
{
    uint64_t z = 2024;
    for (int i = 0; i < SAMPLES; i++) {
        labels[i] = i % 10;
        for (int p = 0; p < c * h * w; p++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            const int row = (p / w) % h, band = (row * 10 / h) == labels[i];
            px[(size_t)i * c * h * w + p] = (uint8_t)((band ? 100 : 40) + (int)(z >> 57));
        }
    }
}

static int run(const trace_opts *o, step_row *rows, char *name, size_t namelen)
{
    char err[RT_ERRLEN];
    rt_options ro = {.device_spec = o->device};
    rt_ctx *rt;
    if (rt_open(&rt, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "step_trace: %s\n", err);
        return -1;
    }
    snprintf(name, namelen, "%s / %s", rt_device(rt)->name, rt_device_params(rt)->row);
    const int resnet = strcmp(o->model, "resnet18") == 0;
    const int c = resnet ? 3 : 1, h = resnet ? 32 : 28, w = h;
    nn_config cfg = {.spec = nn_builtin_model(o->model), .in_c = c, .in_h = h, .in_w = w, .classes = 10,
                     .max_batch = o->batch, .loss = o->ce ? NN_LOSS_CE : NN_LOSS_BCE, .gamma = 16,
                     .seed = 1, .momentum = 0.9f, .weight_decay = 5e-4f};
    uint8_t *px = malloc((size_t)SAMPLES * c * h * w);
    int32_t *labels = malloc(SAMPLES * sizeof *labels), *order = malloc(SAMPLES * sizeof *order);
    if (!px || !labels || !order) {
        fprintf(stderr, "step_trace: out of host memory\n");
        return -1;
    }
    make_images(c, h, w, px, labels);
    const float mean[3] = {60, 60, 60}, sd[3] = {50, 50, 50};
    nn_model *m = NULL;
    nn_data *d = NULL;
    const int per_epoch = SAMPLES / o->batch;
    rt_status s = nn_model_create(rt, &cfg, &m);
    if (s == RT_OK) s = nn_data_upload(rt, px, labels, SAMPLES, c, h, w, mean, sd, &d);
    if (s == RT_OK) s = nn_stats_reserve(m, o->steps);
    for (int k = 0; s == RT_OK && k < o->steps; k++) {
        if (k % per_epoch == 0) {
            nn_shuffle(cfg.seed, (uint64_t)(k / per_epoch), order, SAMPLES);
            s = nn_data_set_order(rt, d, order);
        }
        if (s == RT_OK) s = nn_train_step(m, d, (k % per_epoch) * o->batch, o->batch, 0.05f, k);
    }
    for (int k = 0; s == RT_OK && k < o->steps; k++) {
        nn_stats st;
        s = nn_stats_sum(m, k, 1, &st);
        rows[k] = (step_row){st.ce / st.count, st.bce / st.count, st.correct / st.count};
    }
    if (s != RT_OK) fprintf(stderr, "step_trace: %s\n", rt_error(rt));
    free(px), free(labels), free(order);
    nn_data_free(rt, d);
    nn_model_free(m);
    rt_close(rt);
    return s == RT_OK ? 0 : -1;
}

static int write_trace(FILE *f, const trace_opts *o, const char *name, const step_row *rows)
{
    fprintf(f, "# step_trace %s %s steps %d batch %d on %s\n", o->model, o->ce ? "ce" : "bce", o->steps,
            o->batch, name);
    for (int k = 0; k < o->steps; k++)
        fprintf(f, "%d %.17g %.17g %.17g\n", k, rows[k].ce, rows[k].bce, rows[k].acc);
    return ferror(f) ? -1 : 0;
}

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-30); }

/* reads a trace written by another run; checks it is the same model, loss and length */
static int compare(const trace_opts *o, const step_row *rows)
{
    FILE *f = fopen(o->compare, "r");
    if (!f) {
        perror(o->compare);
        return -1;
    }
    char line[512], model[64], loss[8], other[400] = "";
    int steps = 0, batch = 0, bad = 0;
    double worst = 0;
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "# step_trace %63s %7s steps %d batch %d on %399[^\n]", model, loss, &steps, &batch, other) != 5 ||
        strcmp(model, o->model) || strcmp(loss, o->ce ? "ce" : "bce") || steps != o->steps || batch != o->batch) {
        fprintf(stderr, "step_trace: %s is not a trace of the same run\n", o->compare);
        fclose(f);
        return -1;
    }
    step_row last = {0};
    for (int k = 0; k < steps; k++) {
        int idx;
        step_row r;
        if (!fgets(line, sizeof line, f) || sscanf(line, "%d %lf %lf %lf", &idx, &r.ce, &r.bce, &r.acc) != 4 || idx != k) {
            bad = 1;
            break;
        }
        worst = fmax(worst, fmax(rel(rows[k].ce, r.ce), rel(rows[k].bce, r.bce)));
        last = r;
    }
    fclose(f);
    if (bad) {
        fprintf(stderr, "step_trace: %s is truncated or malformed\n", o->compare);
        return -1;
    }
    const step_row *mine = &rows[o->steps - 1];
    printf("against %s:\n  last step CE %.7g vs %.7g (rel %.2e), BCE %.7g vs %.7g (rel %.2e)\n"
           "  largest relative difference over %d steps: %.2e\n", other, mine->ce, last.ce,
           rel(mine->ce, last.ce), mine->bce, last.bce, rel(mine->bce, last.bce), steps, worst);
    return 0;
}

int main(int argc, char **argv)
{
    trace_opts o;
    if (parse(argc, argv, &o) != 0) return 2;
    step_row *rows = calloc((size_t)o.steps, sizeof *rows);
    char name[300];
    if (!rows || run(&o, rows, name, sizeof name) != 0) return 1;
    write_trace(stdout, &o, name, rows);
    if (o.out) {
        FILE *f = fopen(o.out, "w");
        if (!f || write_trace(f, &o, name, rows) != 0 || fclose(f) != 0) {
            perror(o.out);
            return 1;
        }
    }
    const int rc = o.compare && compare(&o, rows) != 0 ? 1 : 0;
    free(rows);
    return rc;
}
