/* apps/train.c — a training run: data, device, model, the epoch loop, reports and checkpoints.
 *
 * Each epoch: the order is drawn from (seed, epoch); every step is queued with no read-back (the
 * progress display reads the latest step's loss about twice a second); at the end one read of the
 * step statistics gives train CE, BCE and accuracy, a pass over the test set gives the test
 * figures, and a row goes to metrics.csv (synced), the checkpoint is rewritten atomically, and
 * summary.json is refreshed. SIGINT/SIGTERM are blocked and polled between steps: the run
 * finishes its step, writes a checkpoint (with the epoch's partial statistics) and exits 130/143.
 * A non-finite loss stops the run naming the epoch, the step and the first layer that went bad.
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "dataset.h"
#include "net.h"
#include "progress.h"
#include "files.h"
#include "summary.h"
#include "theory.h"

#define CSV_HEADER                                                                          \
    "epoch,seconds,lr,train_ce,train_bce,train_acc,test_ce,test_bce,test_acc,bias,b_star," \
    "img_per_s"

typedef struct run {
    app_train_opts *o;
    app_dataset train, test;
    float mean[8], std[8];
    char *spec;
    rt_ctx *rt;
    nn_model *model;
    nn_data *dtrain, *dtest;
    int classes, steps, test_batches;
    long long step0;             /* global step at which this process started */
    int start_epoch, start_step; /* resume point (epoch index, step within it) */
    float *partial;              /* resumed epoch's statistics of the steps already done */
    app_csv csv;
    app_progress progress;
    app_epoch_row last;
    double train_seconds, train_images;
} run;

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "gammacl train: %s%s%s\n", what, *what ? ": " : "", msg);
    return 1;
}

/* ---- set-up ---- */

static int load_data(run *r)
{
    char err[APP_ERRLEN];
    if (app_dataset_open(r->o->data, 1, &r->train, err, sizeof err) != 0 ||
        app_dataset_open(r->o->data, 0, &r->test, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl train: %s\n", err);
        return 2;
    }
    app_dataset_limit(&r->train, r->o->train_limit);
    app_dataset_limit(&r->test, r->o->test_limit);
    if (r->train.channels > 8 || r->train.channels != r->test.channels ||
        r->train.height != r->test.height || r->train.width != r->test.width ||
        r->train.classes != r->test.classes) {
        fprintf(stderr, "gammacl train: the training and test sets of '%s' differ in shape\n", r->o->data);
        return 2;
    }
    r->classes = r->train.classes;
    const int C = r->train.channels;
    const size_t hw = (size_t)r->train.height * r->train.width;
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0;
        for (int i = 0; i < r->train.count; i++) {
            const uint8_t *p = r->train.pixels + ((size_t)i * C + c) * hw;
            for (size_t j = 0; j < hw; j++) s += p[j], ss += (double)p[j] * p[j];
        }
        const double n = (double)r->train.count * (double)hw, mu = s / n;
        r->mean[c] = (float)mu;
        r->std[c] = (float)sqrt(fmax(ss / n - mu * mu, 1e-12));
    }
    return 0;
}

static int load_spec(run *r)
{
    const char *builtin = nn_builtin_model(r->o->model);
    char err[1024];
    if (builtin) r->spec = strdup(builtin);
    else if (app_read_text_file(r->o->model, 1 << 20, &r->spec, err, sizeof err) != 0) {
        char names[128];
        nn_builtin_model_names(names, sizeof names);
        fprintf(stderr, "gammacl train: --model '%s' is neither a built-in model (%s) nor a readable "
                        "spec file: %s\n", r->o->model, names, err);
        return 2;
    }
    if (!r->spec) return fail("", "out of memory");
    if (nn_spec_check(r->spec, r->train.channels, r->train.height, r->train.width, err, sizeof err)) {
        fprintf(stderr, "gammacl train: model '%s': %s\n", r->o->model, err);
        return 2;
    }
    return 0;
}

static int open_device(run *r)
{
    char err[RT_ERRLEN];
    rt_options ro = {.device_spec = r->o->device, .fast_math = r->o->fast_math};
    if (rt_open(&r->rt, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl train: %s\n", err);
        return 2;
    }
    const rt_device_info *d = rt_device(r->rt);
    printf("device: %s (%s, driver %s), kernels: %s, GEMM: %s%s\n", d->name, d->platform, d->driver,
           rt_device_params(r->rt)->row, rt_gemm_path_name(rt_device_params(r->rt)->gemm),
           r->o->fast_math ? ", fast math" : "");
    return 0;
}

static int build_model(run *r)
{
    float b0;
    char err[512];
    if (app_bias_init_value(r->o, r->classes, &b0, err, sizeof err) != 0) return fail("", err), 2;
    nn_config cfg = {.spec = r->spec, .in_c = r->train.channels, .in_h = r->train.height,
                     .in_w = r->train.width, .classes = r->classes, .max_batch = r->o->batch,
                     .loss = r->o->loss ? NN_LOSS_BCE : NN_LOSS_CE, .gamma = (float)r->o->gamma,
                     .bias_init = b0, .seed = r->o->seed, .momentum = (float)r->o->momentum,
                     .weight_decay = (float)r->o->wd};
    rt_status s = nn_model_create(r->rt, &cfg, &r->model);
    if (s == RT_OK)
        s = nn_data_upload(r->rt, r->train.pixels, r->train.labels, r->train.count, r->train.channels,
                           r->train.height, r->train.width, r->mean, r->std, &r->dtrain);
    if (s == RT_OK)
        s = nn_data_upload(r->rt, r->test.pixels, r->test.labels, r->test.count, r->test.channels,
                           r->test.height, r->test.width, r->mean, r->std, &r->dtest);
    r->steps = (r->train.count + r->o->batch - 1) / r->o->batch;
    r->test_batches = (r->test.count + r->o->batch - 1) / r->o->batch;
    if (s == RT_OK) s = nn_stats_reserve(r->model, r->steps + r->test_batches);
    if (s != RT_OK) return fail("", rt_error(r->rt));
    return 0;
}

/* ---- checkpoints ---- */

static int save_checkpoint(run *r, int epochs_done, int steps_in_epoch)
{
    nn_ckpt c = {0};
    c.loss = r->o->loss;
    c.gamma = r->o->gamma;
    c.seed = r->o->seed;
    c.epoch = epochs_done;
    c.step = (int64_t)epochs_done * r->steps + steps_in_epoch;
    c.meta = app_train_opts_to_meta(r->o);
    rt_status s = c.meta ? nn_model_export(r->model, &c) : RT_E_ALLOC;
    if (s == RT_OK && steps_in_epoch > 0) {
        /* a mid-epoch stop keeps the statistics of the steps done, so the epoch's row is exact */
        nn_ckpt_tensor *t = realloc(c.tensors, (size_t)(c.ntensors + 1) * sizeof *t);
        float *h = malloc((size_t)steps_in_epoch * 4 * sizeof *h);
        if (t) c.tensors = t;
        if (!t || !h) s = RT_E_ALLOC;
        else {
            nn_ckpt_tensor *e = &c.tensors[c.ntensors++];
            memset(e, 0, sizeof *e);
            snprintf(e->name, sizeof e->name, "run.epoch_stats");
            e->count = (uint64_t)steps_in_epoch * 4;
            e->data = h;
            h = NULL;
            s = nn_stats_raw(r->model, 0, steps_in_epoch, e->data);
        }
        free(h);
    }
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/model.ckpt", r->o->out);
    int rc = 0;
    if (s != RT_OK) rc = fail("checkpoint", s == RT_E_ALLOC ? "out of memory" : rt_error(r->rt));
    else if (nn_ckpt_write(path, &c, err, sizeof err) != 0) rc = fail("checkpoint", err);
    nn_ckpt_free(&c);
    return rc;
}

static int restore_checkpoint(run *r, nn_ckpt *c)
{
    if (strcmp(c->spec, r->spec) != 0)
        return fail("--resume", "the checkpoint's model spec differs from the model's file now");
    rt_status s = nn_model_import(r->model, c);
    if (s != RT_OK) return fail("--resume", rt_error(r->rt));
    r->start_epoch = c->epoch;
    r->start_step = (int)(c->step - (int64_t)c->epoch * r->steps);
    if (r->start_step < 0 || r->start_step >= r->steps || c->epoch > r->o->epochs)
        return fail("--resume", "the checkpoint's step count does not fit this run");
    const nn_ckpt_tensor *t = nn_ckpt_find(c, "run.epoch_stats");
    if (r->start_step > 0) {
        if (!t || t->count != (uint64_t)r->start_step * 4)
            return fail("--resume", "the checkpoint lacks the statistics of its unfinished epoch");
        if (nn_stats_restore(r->model, 0, r->start_step, t->data) != RT_OK)
            return fail("--resume", rt_error(r->rt));
    }
    return 0;
}

/* ---- the epoch loop ---- */

static double lr_at(const run *r, long long step)
{
    const app_train_opts *o = r->o;
    if (o->schedule == APP_LR_COSINE) {
        const double T = (double)o->epochs * r->steps;
        return o->lr * 0.5 * (1.0 + cos(M_PI * (double)step / T));
    }
    const int epoch = (int)(step / r->steps);
    double lr = o->lr;
    for (int i = 0; i < o->nmilestones; i++)
        if (epoch >= o->milestones[i]) lr *= o->lr_decay;
    return lr;
}

/* 130 or 143 when SIGINT or SIGTERM is pending (consumed), else 0 */
static int interrupted(void)
{
    sigset_t pending;
    if (sigpending(&pending) != 0) return 0;
    int sig = 0;
    if (sigismember(&pending, SIGINT)) sig = SIGINT;
    else if (sigismember(&pending, SIGTERM)) sig = SIGTERM;
    if (!sig) return 0;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    int got;
    sigwait(&one, &got);
    return 128 + sig;
}

static int report_nonfinite(run *r, int epoch, int step)
{
    char where[256] = "";
    rt_status s = nn_model_diagnose(r->model, r->dtrain, step * r->o->batch,
                                    r->o->batch < r->train.count - step * r->o->batch
                                        ? r->o->batch : r->train.count - step * r->o->batch,
                                    where, sizeof where);
    fprintf(stderr,
            "gammacl train: the loss became NaN or infinite at epoch %d, step %d (of %d); first "
            "non-finite values: %s. The run stopped; %s/model.ckpt still holds the last good epoch. "
            "Lower --lr (now %g) or --gamma (now %g).\n",
            epoch + 1, step + 1, r->steps, s == RT_OK && where[0] ? where : "(not located)",
            r->o->out, r->o->lr, r->o->gamma);
    return 1;
}

/* Shows progress; returns 1 (after the message) if the loss went non-finite. */
static int show_progress(run *r, int epoch, int step, int n_done)
{
    nn_stats st;
    if (nn_stats_sum(r->model, step, 1, &st) != RT_OK) return 0;
    if (!isfinite(st.ce) || !isfinite(st.bce)) {
        app_progress_clear(&r->progress);
        nn_stats all;
        if (nn_stats_sum(r->model, 0, step + 1, &all) == RT_OK && all.first_bad >= 0) step = all.first_bad;
        return report_nonfinite(r, epoch, step) + 1;
    }
    const double loss = (r->o->loss ? st.bce : st.ce) / st.count;
    app_progress_show(&r->progress, step, n_done, loss, st.correct / st.count);
    return 0;
}

static int evaluate(run *r, nn_stats *test)
{
    for (int b = 0; b < r->test_batches; b++) {
        const int first = b * r->o->batch;
        const int n = r->test.count - first < r->o->batch ? r->test.count - first : r->o->batch;
        if (nn_eval_batch(r->model, r->dtest, first, n, r->steps + b) != RT_OK) return -1;
    }
    return nn_stats_sum(r->model, r->steps, r->test_batches, test) == RT_OK ? 0 : -1;
}

static int finish_epoch(run *r, int epoch, double t0, double train_s, double lr)
{
    nn_stats tr, te;
    if (nn_stats_sum(r->model, 0, r->steps, &tr) != RT_OK) return fail("", rt_error(r->rt));
    if (tr.first_bad >= 0) return report_nonfinite(r, epoch, tr.first_bad);
    if (evaluate(r, &te) != 0) return fail("evaluation", rt_error(r->rt));
    float bias = 0;
    if (nn_model_bias(r->model, &bias) != RT_OK) return fail("", rt_error(r->rt));
    app_epoch_row *row = &r->last;
    *row = (app_epoch_row){
        .epoch = epoch + 1, .seconds = app_now() - t0, .lr = lr, .train_ce = tr.ce / tr.count,
        .train_bce = tr.bce / tr.count, .train_acc = tr.correct / tr.count, .test_ce = te.ce / te.count,
        .test_bce = te.bce / te.count, .test_acc = te.correct / te.count, .bias = bias,
        .b_star = nn_theory_bce_bias(r->o->gamma, r->classes),
        .img_per_s = train_s > 0 ? r->train.count / train_s : 0};
    char line[512], err[1024];
    app_format_row(row, line, sizeof line);
    if (app_csv_row(&r->csv, line, err, sizeof err) != 0) return fail("", err);
    app_progress_clear(&r->progress);
    printf("epoch %d/%d  %.1fs  train CE %.4f BCE %.4f acc %.2f%%  test CE %.4f BCE %.4f acc "
           "%.2f%%  b %.3f (b* %.3f)  %.0f img/s\n",
           row->epoch, r->o->epochs, row->seconds, row->train_ce, row->train_bce,
           100 * row->train_acc, row->test_ce, row->test_bce, 100 * row->test_acc, row->bias,
           row->b_star, row->img_per_s);
    fflush(stdout);
    if (save_checkpoint(r, epoch + 1, 0) != 0) return 1;
    return app_write_summary(r->o, r->rt, r->model, row, r->train_seconds, r->train_images, 0);
}

static int train_epochs(run *r)
{
    int32_t *order = malloc((size_t)r->train.count * sizeof *order);
    if (!order) return fail("", "out of memory");
    int rc = 0;
    for (int epoch = r->start_epoch; epoch < r->o->epochs && rc == 0; epoch++) {
        const double t0 = app_now();
        const int first_step = epoch == r->start_epoch ? r->start_step : 0;
        nn_shuffle(r->o->seed, (uint64_t)epoch, order, r->train.count);
        if (nn_data_set_order(r->rt, r->dtrain, order) != RT_OK) { rc = fail("", rt_error(r->rt)); break; }
        app_progress_epoch(&r->progress, epoch + 1, r->steps);
        double lr = r->o->lr;
        for (int step = first_step; step < r->steps && rc == 0; step++) {
            const int first = step * r->o->batch;
            const int n = r->train.count - first < r->o->batch ? r->train.count - first : r->o->batch;
            lr = lr_at(r, (long long)epoch * r->steps + step);
            if (nn_train_step(r->model, r->dtrain, first, n, (float)lr, step) != RT_OK) {
                rc = fail("training step", rt_error(r->rt));
                break;
            }
            if (app_progress_due(&r->progress, step) && show_progress(r, epoch, step, first + n - first_step * r->o->batch)) {
                rc = 1;
                break;
            }
            const int sig = interrupted();
            if (sig) {
                app_progress_clear(&r->progress);
                if (rt_finish(r->rt) != RT_OK || save_checkpoint(r, epoch, step + 1) != 0) return 1;
                fprintf(stderr, "gammacl train: stopped by %s after epoch %d, step %d; checkpoint "
                        "written. Continue with: gammacl train --resume %s\n",
                        sig == 130 ? "SIGINT" : "SIGTERM", epoch + 1, step + 1, r->o->out);
                free(order);
                return sig;
            }
        }
        if (rc) break;
        if (rt_finish(r->rt) != RT_OK) { rc = fail("", rt_error(r->rt)); break; }
        const double train_s = app_now() - t0;
        r->train_seconds += train_s;
        r->train_images += (double)r->train.count;
        rc = finish_epoch(r, epoch, t0, train_s, lr);
    }
    free(order);
    return rc;
}

/* ---- the run ---- */

static int prepare_output(run *r)
{
    char err[1024];
    if (app_make_dirs(r->o->out, err, sizeof err) != 0) return fail("--out", err), 2;
    char path[1200];
    snprintf(path, sizeof path, "%s/metrics.csv", r->o->out);
    if (app_csv_open(&r->csv, path, CSV_HEADER, r->o->resume[0] ? r->start_epoch : -1, err,
                     sizeof err) != 0)
        return fail("", err);
    return 0;
}

static int resume_options(app_train_opts *o, nn_ckpt *c)
{
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/model.ckpt", o->resume);
    if (nn_ckpt_read(path, c, err, sizeof err) != 0) return fail("--resume", err), 2;
    app_train_opts keep = *o;
    app_train_defaults(o);
    if (app_train_opts_from_meta(c->meta, o, err, sizeof err) != 0) return fail("--resume", err), 2;
    snprintf(o->device, sizeof o->device, "%s", keep.device);
    snprintf(o->out, sizeof o->out, "%s", keep.resume);
    snprintf(o->resume, sizeof o->resume, "%s", keep.resume);
    o->progress = keep.progress;
    if (c->epoch >= o->epochs) {
        fprintf(stderr, "gammacl train: the run in %s already finished its %d epochs\n", o->resume, o->epochs);
        return 2;
    }
    return 0;
}

int app_train_run(app_train_opts *o)
{
    run r = {.o = o};
    nn_ckpt resume = {0};
    int rc = 0;
    if (o->resume[0]) rc = resume_options(o, &resume);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    if (!rc) rc = load_data(&r);
    if (!rc) rc = load_spec(&r);
    if (!rc) rc = open_device(&r);
    if (!rc) rc = build_model(&r);
    if (!rc && o->resume[0]) rc = restore_checkpoint(&r, &resume);
    if (!rc) rc = prepare_output(&r);
    if (!rc) {
        printf("%s on %s: %d train / %d test images of %dx%dx%d, %d classes, %s, gamma %g, %d epochs "
               "of %d steps%s\n", o->model, o->data, r.train.count, r.test.count, r.train.channels,
               r.train.height, r.train.width, r.classes, o->loss ? "BCE" : "CE", o->gamma, o->epochs,
               r.steps, o->resume[0] ? " (resumed)" : "");
        app_progress_init(&r.progress, o->progress, o->epochs);
        rc = train_epochs(&r);
        if (rc == 0) {
            rc = app_write_summary(o, r.rt, r.model, &r.last, r.train_seconds, r.train_images, 1);
            printf("done: %s/metrics.csv, %s/summary.json, %s/model.ckpt\n", o->out, o->out, o->out);
        }
    }
    app_csv_close(&r.csv);
    nn_ckpt_free(&resume);
    nn_data_free(r.rt, r.dtrain);
    nn_data_free(r.rt, r.dtest);
    nn_model_free(r.model);
    rt_close(r.rt);
    free(r.spec);
    app_dataset_free(&r.train);
    app_dataset_free(&r.test);
    return rc;
}
