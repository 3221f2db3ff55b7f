/* apps/bench/bench_measure.c — the child process that measures one device for `gammacl bench`:
 * the peak probes (FMA rate, memory bandwidth), the seeded loss trace of the agreement check
 * (run twice: is the device bit-reproducible with itself?), training and evaluation speed with
 * the device time of each kernel group, and (part "build") the time to build every kernel
 * program. It runs in its own process so that a driver that crashes or hangs costs the bench
 * one device, and so the build can be timed with empty caches. Writes measure.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_stats.h"
#include "progress.h"
#include "provenance.h"
#include "run.h"

typedef struct meas {
    rt_ctx *rt;
    const bn_recipe *r;
    bn_device *d;
} meas;

static int fail(meas *m, const char *what)
{
    fprintf(stderr, "gammacl bench: %s on %s: %s\n", what, m->d->name, rt_error(m->rt));
    return 1;
}

/* ---- the agreement trace: K seeded steps of the science model on real images ---- */

static int trace_once(meas *m, const app_dataset *ds, const float *mean, const float *sd,
                      double *ce, double *bce)
{
    const bn_recipe *r = m->r;
    nn_config cfg = {.spec = nn_builtin_model(r->science_model), .in_c = ds->channels,
                     .in_h = ds->height, .in_w = ds->width, .classes = ds->classes,
                     .max_batch = r->trace_batch, .loss = NN_LOSS_CE, .gamma = 16, .seed = 1,
                     .momentum = 0.9f, .weight_decay = 5e-4f};
    nn_model *model = NULL;
    nn_data *data = NULL;
    const int per_epoch = ds->count / r->trace_batch;
    int32_t *order = malloc((size_t)ds->count * sizeof *order);
    rt_status s = order ? nn_model_create(m->rt, &cfg, &model) : RT_E_ALLOC;
    if (s == RT_OK)
        s = nn_data_upload(m->rt, ds->pixels, ds->labels, ds->count, ds->channels, ds->height, ds->width,
                           mean, sd, &data);
    if (s == RT_OK) s = nn_stats_reserve(model, r->trace_steps);
    for (int k = 0; s == RT_OK && k < r->trace_steps; k++) {
        if (k % per_epoch == 0) {
            nn_shuffle(cfg.seed, (uint64_t)(k / per_epoch), order, ds->count);
            s = nn_data_set_order(m->rt, data, order);
        }
        if (s == RT_OK) s = nn_train_step(model, data, (k % per_epoch) * r->trace_batch, r->trace_batch, 0.01f, k);
    }
    for (int k = 0; s == RT_OK && k < r->trace_steps; k++) {
        nn_stats st;
        s = nn_stats_sum(model, k, 1, &st);
        ce[k] = st.ce / st.count, bce[k] = st.bce / st.count;
    }
    free(order);
    nn_data_free(m->rt, data);
    nn_model_free(model);
    return s == RT_OK ? 0 : -1;
}

static int measure_trace(meas *m)
{
    app_train_opts o;
    app_train_defaults(&o);
    o.train_limit = m->r->trace_steps * m->r->trace_batch;
    if (o.train_limit > 4096) o.train_limit = 4096;
    o.test_limit = 1;
    app_dataset train = {0}, test = {0};
    float mean[8], sd[8];
    if (app_setup_data("bench", &o, &train, &test, mean, sd) != 0) return 2;
    if (train.count < m->r->trace_batch) {
        fprintf(stderr, "gammacl bench: the trace needs %d training images, the data set has %d\n",
                m->r->trace_batch, train.count);
        app_dataset_free(&train), app_dataset_free(&test);
        return 2;
    }
    double ce2[BN_MAX_STEPS], bce2[BN_MAX_STEPS];
    int rc = trace_once(m, &train, mean, sd, m->d->trace_ce, m->d->trace_bce);
    if (rc == 0) rc = trace_once(m, &train, mean, sd, ce2, bce2);
    app_dataset_free(&train);
    app_dataset_free(&test);
    if (rc != 0) return fail(m, "the agreement trace");
    m->d->nsteps = m->r->trace_steps;
    bs_agreement a, b;
    bs_trace_agreement(m->d->trace_ce, ce2, m->d->nsteps, &a);
    bs_trace_agreement(m->d->trace_bce, bce2, m->d->nsteps, &b);
    m->d->bit_reproducible = a.identical && b.identical;
    m->d->self_max_rel = fmax(a.max_rel, b.max_rel);
    return 0;
}

/* ---- speed: the speed model on synthetic images of its input shape ---- */

typedef struct speed_model {
    nn_model *model;
    nn_data *data;
    int batch;
} speed_model;

static int speed_setup(meas *m, const char *name, int batch, speed_model *sm)
{
    const int resnet = strcmp(name, "resnet18") == 0;
    const int c = resnet ? 3 : 1, h = resnet ? 32 : 28, n = 2 * batch;
    nn_config cfg = {.spec = nn_builtin_model(name), .in_c = c, .in_h = h, .in_w = h, .classes = 10,
                     .max_batch = batch, .loss = NN_LOSS_CE, .gamma = 16, .seed = 1, .momentum = 0.9f,
                     .weight_decay = 5e-4f};
    *sm = (speed_model){.batch = batch};
    const size_t px = (size_t)n * c * h * h;
    uint8_t *pixels = malloc(px);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    rt_status s = pixels && labels ? nn_model_create(m->rt, &cfg, &sm->model) : RT_E_ALLOC;
    uint64_t z = 12345;
    for (size_t i = 0; pixels && i < px; i++)
        z = z * 6364136223846793005ull + 1442695040888963407ull, pixels[i] = (uint8_t)(z >> 56);
    for (int i = 0; labels && i < n; i++) labels[i] = i % 10;
    const float mean[3] = {127, 127, 127}, sd[3] = {74, 74, 74};
    if (s == RT_OK) s = nn_data_upload(m->rt, pixels, labels, n, c, h, h, mean, sd, &sm->data);
    if (s == RT_OK) s = nn_stats_reserve(sm->model, 64);
    free(pixels);
    free(labels);
    return s == RT_OK ? 0 : -1;
}

static void speed_free(meas *m, speed_model *sm)
{
    nn_data_free(m->rt, sm->data);
    nn_model_free(sm->model);
}

static int steps(meas *m, speed_model *sm, int count, int train)
{
    for (int k = 0; k < count; k++) {
        const int first = (k % 2) * sm->batch;
        const rt_status s = train ? nn_train_step(sm->model, sm->data, first, sm->batch, 0.01f, k % 64)
                                  : nn_eval_batch(sm->model, sm->data, first, sm->batch, k % 64);
        if (s != RT_OK) return -1;
    }
    return rt_finish(m->rt) == RT_OK ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds per step: one warm-up step, then repeats of a batch of steps sized to about
 * `target` seconds (at least one step), the median of up to 7 repeats that fit in `budget`
 * seconds (at least one). */
static double time_steps(meas *m, speed_model *sm, int train, double target, double budget)
{
    double t0 = app_now();
    if (steps(m, sm, 1, train) != 0) return -1;
    const double one = app_now() - t0;
    int per = (int)(target / fmax(one, 1e-6));
    if (per < 1) per = 1;
    if (per > 200) per = 200;
    double rep[7];
    int n = 0;
    const double start = app_now();
    /* at least one repeat; more (up to 7) while the budget lasts */
    while (n < 7 && (n == 0 || app_now() - start < budget)) {
        t0 = app_now();
        if (steps(m, sm, per, train) != 0) return -1;
        rep[n++] = (app_now() - t0) / per;
    }
    return median_of(rep, n);
}

/* Device time per kernel group of `count` profiled steps (each its own collection): the median
 * of each group, and their sums (all kernels; the convolutions' two groups). */
static int profile_steps(meas *m, speed_model *sm, int count, bn_speed *sp)
{
    double g[BN_NGROUPS][7];
    if (count > 7) count = 7;
    rt_profile_enable(m->rt, 2);
    int rc = 0;
    for (int k = 0; rc == 0 && k < count; k++) {
        rt_profile_reset(m->rt);
        rt_profile_row rows[256];
        int n = 0;
        rc = steps(m, sm, 1, 1);
        if (rc == 0 && rt_profile_collect(m->rt, rows, 256, &n) != RT_OK) rc = -1;
        for (int j = 0; j < BN_NGROUPS; j++) g[j][k] = 0;
        for (int i = 0; rc == 0 && i < n; i++) g[bn_group_of(rows[i].label)][k] += rows[i].ms;
    }
    rt_profile_enable(m->rt, 0);
    if (rc != 0) return -1;
    sp->kernel_ms = 0;
    for (int j = 0; j < BN_NGROUPS; j++) sp->kernel_ms += sp->group_ms[j] = median_of(g[j], count);
    sp->conv_ms = sp->group_ms[0] + sp->group_ms[1]; /* conv fwd + conv bwd */
    sp->host_timed = (rt_device_params(m->rt)->quirks & RT_QUIRK_NO_EVENT_TIMES) != 0;
    return 0;
}

static int measure_speed(meas *m)
{
    const bn_recipe *r = m->r;
    bn_speed *sp = &m->d->speed;
    const int quick = strcmp(r->mode, "quick") == 0;
    const double target = quick ? 0.5 : 2.0, budget = quick ? 4.0 : 20.0;
    speed_model sm;
    if (speed_setup(m, r->speed_model, r->speed_batch, &sm) != 0) {
        speed_free(m, &sm);
        return fail(m, "setting up the speed model");
    }
    const double fwd = nn_model_forward_flops(sm.model), head = 2.0 * 10 * nn_model_feature_dim(sm.model);
    sp->step_flops = 3.0 * fwd * sm.batch;
    sp->conv_flops = 3.0 * (fwd - head) * sm.batch;
    const double train_s = time_steps(m, &sm, 1, target, budget);
    const double eval_s = train_s > 0 ? time_steps(m, &sm, 0, target, budget) : -1;
    /* several profiled steps where a step is short, one where it is not */
    const int nprof = train_s < 1.0 ? (quick ? 3 : 5) : 1;
    const int prof = eval_s > 0 ? profile_steps(m, &sm, nprof, sp) : -1;
    speed_free(m, &sm);
    if (train_s < 0 || eval_s < 0 || prof != 0) return fail(m, "timing the training step");
    sp->step_ms = 1e3 * train_s;
    sp->train_ips = sm.batch / train_s;
    sp->eval_ips = sm.batch / eval_s;
    sp->resnet_train_ips = NAN;
    /* resnet18 does ~25x cnn5's work per image: only where its step would take under 5 s */
    if (!quick && train_s * 25 < 5.0) {
        if (speed_setup(m, "resnet18", r->speed_batch, &sm) != 0) {
            speed_free(m, &sm);
            return fail(m, "setting up resnet18");
        }
        const double t = time_steps(m, &sm, 1, target, budget);
        speed_free(m, &sm);
        if (t < 0) return fail(m, "timing resnet18");
        sp->resnet_train_ips = sm.batch / t;
    }
    return 0;
}

/* ---- probes and build ---- */

static int measure_probes(meas *m)
{
    const double target = strcmp(m->r->mode, "quick") == 0 ? 0.2 : 0.5;
    rt_probe_result f, b;
    if (rt_probe_fma(m->rt, target, &f) != RT_OK) return fail(m, "the FMA probe");
    if (rt_probe_bandwidth(m->rt, target, &b) != RT_OK) return fail(m, "the bandwidth probe");
    m->d->fma_gflops = f.rate, m->d->bandwidth_gbs = b.rate;
    m->d->probe_host_timed = f.host_timed || b.host_timed;
    return 0;
}

static void describe(rt_ctx *rt, bn_device *d)
{
    const rt_device_info *i = rt_device(rt);
    snprintf(d->name, sizeof d->name, "%s", i->name);
    snprintf(d->platform, sizeof d->platform, "%s", i->platform);
    snprintf(d->driver, sizeof d->driver, "%s", i->driver);
    snprintf(d->type, sizeof d->type, "%s", i->type);
    app_cpu_model(d->cpu_model, sizeof d->cpu_model);
}

static void not_measured(bn_device *d)
{
    d->fma_gflops = d->bandwidth_gbs = d->self_max_rel = NAN;
    d->build_cold_s = d->build_cached_s = NAN;
    bn_speed *s = &d->speed;
    s->train_ips = s->eval_ips = s->step_ms = s->resnet_train_ips = NAN;
    s->kernel_ms = s->conv_ms = s->step_flops = s->conv_flops = NAN;
    for (int g = 0; g < BN_NGROUPS; g++) s->group_ms[g] = NAN;
}

int bn_measure_main(const char *part, const char *device, const char *json, const bn_recipe *r)
{
    char err[RT_ERRLEN];
    const double t0 = app_now();
    rt_options ro = {.device_spec = device};
    meas m = {.r = r};
    bn_device *d = calloc(1, sizeof *d);
    if (!d) return 1;
    m.d = d;
    not_measured(d);
    int rc = 0;
    if (rt_open(&m.rt, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        free(d);
        return 1;
    }
    describe(m.rt, d);
    if (strcmp(part, "build") == 0) {
        if (rt_build_all(m.rt) != RT_OK) rc = fail(&m, "building the kernel programs");
        /* opening the device and building every program: what a user waits for */
        d->build_cold_s = app_now() - t0;
        const rt_build_stats bs = rt_get_build_stats(m.rt);
        printf("build: %.2f s (%d programs compiled, %d from gammacl's cache)\n", d->build_cold_s,
               bs.compiled, bs.cached);
    } else {
        rc = measure_probes(&m);
        if (rc == 0) rc = measure_trace(&m);
        if (rc == 0) rc = measure_speed(&m);
        if (rc == 0)
            printf("%s: FMA %.1f GFLOP/s, bandwidth %.1f GB/s, %s %.0f img/s training, %.0f evaluating\n",
                   d->name, d->fma_gflops, d->bandwidth_gbs, r->speed_model, d->speed.train_ips,
                   d->speed.eval_ips);
    }
    rt_close(m.rt);
    if (rc == 0 && bn_write_device_json(json, d, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        rc = 1;
    }
    free(d);
    return rc;
}
