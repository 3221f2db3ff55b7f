/* apps/train.c — a training run: data, device, model, the epoch loop, reports and checkpoints.
 *
 * Each epoch: the order is drawn from (seed, epoch); every step is queued with no read-back (the
 * progress display reads the latest step's loss about twice a second); at the end one read of the
 * step statistics gives train CE, BCE and accuracy, a pass over the test set gives the test
 * figures, and a row goes to metrics.csv (synced), the checkpoint is rewritten atomically, and
 * summary.json is refreshed. Before training (epoch 0) and every --metrics-every epochs (and after
 * the last), the feature metrics of net/metrics.h run over the first --metrics-train-limit training
 * samples and over the test set (that pass also gives the test figures): their columns, E_t
 * against the epoch-0 losses, the convergence fit and hist/epoch_NNN.png. The losses of evaluated
 * epochs travel in the checkpoint, so a resumed run keeps its E_t. SIGINT/SIGTERM are blocked and polled between steps: the run
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
#include "files.h"
#include "metrics.h"
#include "net.h"
#include "plot.h"
#include "progress.h"
#include "summary.h"
#include "theory.h"

#define CSV_LINE 8192
#define E_TARGET 1e-2          /* the convergence threshold of summary.json: E_t < 1e-2 */

/* the evaluated epochs' losses (evaluation mode): E_t and the convergence fit need them all */
typedef struct history {
    int n, cap;
    int *epoch;
    double (*loss)[4];         /* training subset CE, BCE; test set CE, BCE */
} history;

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
    nn_metrics_ws *mws;          /* feature metrics (NULL with --metrics-every 0) */
    int mtrain_count, mtrain_batches;
    history hist;
    app_convergence conv;
    app_epoch_row last_metrics;  /* the last evaluated epoch's row */
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
    const int limit = r->o->metrics_train_limit;
    r->mtrain_count = limit > 0 && limit < r->train.count ? limit : r->train.count;
    r->mtrain_batches = r->o->metrics_every > 0 ? (r->mtrain_count + r->o->batch - 1) / r->o->batch : 0;
    /* statistics slots: the epoch's steps, the test batches, the metrics' training batches */
    if (s == RT_OK) s = nn_stats_reserve(r->model, r->steps + r->test_batches + r->mtrain_batches);
    if (s == RT_OK && r->o->metrics_every > 0)
        s = nn_metrics_ws_create(r->model, r->mtrain_count > r->test.count ? r->mtrain_count : r->test.count,
                                 &r->mws);
    if (s != RT_OK) return fail("", rt_error(r->rt));
    return 0;
}

/* ---- feature metrics, E_t and the convergence fit ---- */

static int history_add(history *h, int epoch, const double loss[4])
{
    if (h->n == h->cap) {
        const int cap = h->cap ? 2 * h->cap : 16;
        int *e = realloc(h->epoch, (size_t)cap * sizeof *e);
        if (e) h->epoch = e;
        double(*l)[4] = realloc(h->loss, (size_t)cap * sizeof *l);
        if (l) h->loss = l;
        if (!e || !l) return -1;
        h->cap = cap;
    }
    h->epoch[h->n] = epoch;
    memcpy(h->loss[h->n], loss, sizeof h->loss[0]);
    h->n++;
    return 0;
}

static void history_free(history *h) { free(h->epoch), free(h->loss); }

/* L*_CE, L*_BCE, L*_CE, L*_BCE: the minima the history's four series converge to */
static void loss_minima(const run *r, double star[4])
{
    star[0] = star[2] = nn_theory_ce_min(r->o->gamma, r->classes);
    star[1] = star[3] = nn_theory_bce_min(r->o->gamma, r->classes);
}

/* E_t of history entry i, series j; NaN without an epoch-0 entry */
static double history_E(const run *r, int i, int j)
{
    const history *h = &r->hist;
    double star[4];
    loss_minima(r, star);
    if (h->n == 0 || h->epoch[0] != 0) return NAN;
    return (h->loss[i][j] - star[j]) / (h->loss[0][j] - star[j]);
}

static void fit_convergence(run *r)
{
    app_fit *fits[4] = {&r->conv.train_ce, &r->conv.train_bce, &r->conv.test_ce, &r->conv.test_bce};
    double *E = malloc((size_t)(r->hist.n ? r->hist.n : 1) * sizeof *E);
    r->conv.evaluated = r->hist.n;
    for (int j = 0; j < 4; j++) {
        for (int i = 0; E && i < r->hist.n; i++) E[i] = history_E(r, i, j);
        if (E) nn_convergence_fit(r->hist.epoch, E, r->hist.n, E_TARGET, &fits[j]->slope, &fits[j]->epochs_to);
        else fits[j]->slope = NAN, fits[j]->epochs_to = -1;
    }
    free(E);
}

/* Records the epoch's evaluation-mode losses; fills L*, the excess losses and E_t. */
static int derive_convergence(run *r, int epoch, app_epoch_metrics *met)
{
    const double loss[4] = {met->train.ce, met->train.bce, met->test.ce, met->test.bce};
    double star[4];
    loss_minima(r, star);
    met->ce_star = star[0], met->bce_star = star[1];
    if (history_add(&r->hist, epoch, loss) != 0) return fail("", "out of memory");
    const int i = r->hist.n - 1;
    double *excess[4] = {&met->train_ce_excess, &met->train_bce_excess, &met->test_ce_excess,
                         &met->test_bce_excess};
    double *E[4] = {&met->train_ce_E, &met->train_bce_E, &met->test_ce_E, &met->test_bce_E};
    for (int j = 0; j < 4; j++) {
        *excess[j] = loss[j] - star[j];
        *E[j] = history_E(r, i, j);
    }
    fit_convergence(r);
    return 0;
}

static int plot_epoch(run *r, int epoch, const app_epoch_metrics *met, double bias)
{
    char dir[1200], path[1300], err[1400];
    snprintf(dir, sizeof dir, "%s/hist", r->o->out);
    snprintf(path, sizeof path, "%s/epoch_%03d.png", dir, epoch);
    if (app_make_dirs(dir, err, sizeof err) != 0) return fail("histograms", err);
    const double g = r->o->gamma, bstar = nn_theory_bce_bias(g, r->classes);
    app_hist_figure f = {.npanels = 2};
    snprintf(f.title, sizeof f.title, "epoch %d: %s, gamma %g, %s on %s", epoch, r->o->loss ? "BCE" : "CE",
             g, r->o->model, r->o->data);
    const nn_split_metrics *sets[2] = {&met->train, &met->test};
    for (int i = 0; i < 2; i++) {
        app_hist_panel *p = &f.panels[i];
        snprintf(p->title, sizeof p->title, "%s %d samples, evaluation mode",
                 i ? "test set:" : "training set: first", sets[i]->count);
        p->pos = sets[i]->hist_pos, p->neg = sets[i]->hist_neg, p->bins = NN_HIST_BINS;
        p->lines[0] = bias / g, p->lines[1] = bstar / g, p->lines[2] = sets[i]->uacc_threshold;
    }
    if (r->o->loss) snprintf(f.line_labels[0], sizeof f.line_labels[0], "b/\u03b3 = %.4f (learned)", bias / g);
    snprintf(f.line_labels[1], sizeof f.line_labels[1], "b*/\u03b3 = %.4f (optimal)", bstar / g);
    snprintf(f.line_labels[2], sizeof f.line_labels[2], "best single threshold");
    if (app_plot_histograms(path, &f, err, sizeof err) != 0) return fail("histograms", err);
    return 0;
}

/* Feature metrics of the training subset and the test set (whose pass also gives the test
 * losses, as evaluate() would), E_t, the histograms. met->seconds leaves out the test pass. */
static int run_metrics(run *r, int epoch, double bias, app_epoch_metrics *met, nn_stats *test)
{
    const double t0 = app_now();
    nn_model *m = r->model;
    rt_status s = nn_data_set_order(r->rt, r->dtrain, NULL);
    if (s == RT_OK)
        s = nn_metrics_collect(m, r->mws, r->dtrain, r->mtrain_count, r->o->batch, r->steps + r->test_batches);
    if (s == RT_OK) s = nn_metrics_compute(m, r->mws, &met->train);
    const double t1 = app_now();
    if (s == RT_OK) s = nn_metrics_collect(m, r->mws, r->dtest, r->test.count, r->o->batch, r->steps);
    if (s == RT_OK) s = rt_finish(r->rt);
    const double t2 = app_now();
    if (s == RT_OK) s = nn_stats_sum(m, r->steps, r->test_batches, test);
    if (s == RT_OK) s = nn_metrics_compute(m, r->mws, &met->test);
    if (s != RT_OK) return fail("metrics", rt_error(r->rt));
    met->present = 1;
    if (derive_convergence(r, epoch, met) != 0 || plot_epoch(r, epoch, met, bias) != 0) return 1;
    met->seconds = app_now() - t0 - (t2 - t1);
    return 0;
}

static int metrics_due(const run *r, int epochs_done)
{
    const int every = r->o->metrics_every;
    return every > 0 && (epochs_done == 0 || epochs_done % every == 0 || epochs_done == r->o->epochs);
}

static void print_metrics(const app_epoch_metrics *met)
{
    const nn_split_metrics *a = &met->train, *b = &met->test;
    printf("  metrics %.1fs (train %d | test %d): compact %.4f | %.4f  sep min %.2f | %.2f deg  "
           "NC1 %.4g | %.4g  margin p5 %.4f | %.4f  gap %.4f | %.4f  uacc %.4f | %.4f\n"
           "  E_t CE %.4g BCE %.4g (train)  |dL/dh| CE %.4g BCE %.4g (train)\n",
           met->seconds, a->count, b->count, a->compact, b->compact, a->sep_min_deg, b->sep_min_deg,
           a->nc1, b->nc1, a->margin_p5, b->margin_p5, a->gap, b->gap, a->uacc, b->uacc,
           met->train_ce_E, met->train_bce_E, a->grad_ce, a->grad_bce);
}

static int write_row(run *r, const app_epoch_row *row)
{
    char line[CSV_LINE], err[1024];
    app_format_row(row, line, sizeof line);
    if (app_csv_row(&r->csv, line, err, sizeof err) != 0) return fail("", err);
    if (row->met.present) r->last_metrics = *row;
    return 0;
}

/* Epoch 0: the model before training, so that E_t has its L_0. */
static int evaluate_untrained(run *r)
{
    const double t0 = app_now();
    float bias = 0;
    if (nn_model_bias(r->model, &bias) != RT_OK) return fail("", rt_error(r->rt));
    app_epoch_row row = {.epoch = 0, .bias = bias, .b_star = nn_theory_bce_bias(r->o->gamma, r->classes)};
    nn_stats te;
    if (run_metrics(r, 0, bias, &row.met, &te) != 0) return 1;
    row.test_ce = te.ce / te.count, row.test_bce = te.bce / te.count, row.test_acc = te.correct / te.count;
    row.seconds = app_now() - t0;
    if (write_row(r, &row) != 0) return 1;
    r->last = row;
    printf("epoch 0/%d  %.1fs  (before training)  test CE %.4f BCE %.4f acc %.2f%%  b %.3f (b* %.3f)\n",
           r->o->epochs, row.seconds, row.test_ce, row.test_bce, 100 * row.test_acc, row.bias, row.b_star);
    print_metrics(&row.met);
    fflush(stdout);
    return app_write_summary(r->o, r->rt, r->model, &r->last, &r->last_metrics, &r->conv,
                             r->train_seconds, r->train_images, 0);
}

/* ---- checkpoints ---- */

/* Appends a tensor of count floats named name to c (which then owns data); -1 if out of memory. */
static int add_tensor(nn_ckpt *c, const char *name, float *data, size_t count)
{
    nn_ckpt_tensor *t = realloc(c->tensors, (size_t)(c->ntensors + 1) * sizeof *t);
    if (!t) {
        free(data);
        return -1;
    }
    c->tensors = t;
    nn_ckpt_tensor *e = &c->tensors[c->ntensors++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->count = count;
    e->data = data;
    return 0;
}

/* The metrics history as "run.metrics_history": per evaluated epoch the epoch and the four losses,
 * each as a pair of floats (hi, lo) with hi + lo = the double to ~48 bits. */
#define HISTORY_VALUES 10
static int save_history(const run *r, nn_ckpt *c)
{
    if (r->hist.n == 0) return 0;
    float *h = malloc((size_t)r->hist.n * HISTORY_VALUES * sizeof *h);
    if (!h) return -1;
    for (int i = 0; i < r->hist.n; i++) {
        const double v[5] = {r->hist.epoch[i], r->hist.loss[i][0], r->hist.loss[i][1],
                             r->hist.loss[i][2], r->hist.loss[i][3]};
        for (int j = 0; j < 5; j++) {
            const float hi = (float)v[j];
            h[i * HISTORY_VALUES + 2 * j] = hi;
            h[i * HISTORY_VALUES + 2 * j + 1] = (float)(v[j] - hi);
        }
    }
    return add_tensor(c, "run.metrics_history", h, (size_t)r->hist.n * HISTORY_VALUES);
}

static int restore_history(run *r, const nn_ckpt *c)
{
    const nn_ckpt_tensor *t = nn_ckpt_find(c, "run.metrics_history");
    if (!t) return 0; /* E_t is then left empty: the run has no L_0 */
    if (t->count % HISTORY_VALUES != 0) return fail("--resume", "the checkpoint's metrics history is damaged");
    for (uint64_t i = 0; i < t->count / HISTORY_VALUES; i++) {
        double v[5];
        for (int j = 0; j < 5; j++)
            v[j] = (double)t->data[i * HISTORY_VALUES + 2 * j] + (double)t->data[i * HISTORY_VALUES + 2 * j + 1];
        if (history_add(&r->hist, (int)v[0], v + 1) != 0) return fail("", "out of memory");
    }
    fit_convergence(r);
    return 0;
}

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
        float *h = malloc((size_t)steps_in_epoch * 4 * sizeof *h);
        if (!h || add_tensor(&c, "run.epoch_stats", h, (size_t)steps_in_epoch * 4) != 0) s = RT_E_ALLOC;
        else s = nn_stats_raw(r->model, 0, steps_in_epoch, h);
    }
    if (s == RT_OK && save_history(r, &c) != 0) s = RT_E_ALLOC;
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
    return restore_history(r, c);
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
    float bias = 0;
    if (nn_model_bias(r->model, &bias) != RT_OK) return fail("", rt_error(r->rt));
    app_epoch_metrics met = {0};
    if (metrics_due(r, epoch + 1)) {
        if (run_metrics(r, epoch + 1, bias, &met, &te) != 0) return 1;
    } else if (evaluate(r, &te) != 0) {
        return fail("evaluation", rt_error(r->rt));
    }
    app_epoch_row *row = &r->last;
    *row = (app_epoch_row){
        .epoch = epoch + 1, .trained = 1, .seconds = app_now() - t0, .lr = lr,
        .train_ce = tr.ce / tr.count, .train_bce = tr.bce / tr.count, .train_acc = tr.correct / tr.count,
        .test_ce = te.ce / te.count, .test_bce = te.bce / te.count, .test_acc = te.correct / te.count,
        .bias = bias, .b_star = nn_theory_bce_bias(r->o->gamma, r->classes),
        .img_per_s = train_s > 0 ? r->train.count / train_s : 0, .met = met};
    r->conv.epoch_seconds += row->seconds;
    r->conv.metrics_seconds += met.present ? met.seconds : 0;
    if (write_row(r, row) != 0) return 1;
    app_progress_clear(&r->progress);
    printf("epoch %d/%d  %.1fs  train CE %.4f BCE %.4f acc %.2f%%  test CE %.4f BCE %.4f acc "
           "%.2f%%  b %.3f (b* %.3f)  %.0f img/s\n",
           row->epoch, r->o->epochs, row->seconds, row->train_ce, row->train_bce,
           100 * row->train_acc, row->test_ce, row->test_bce, 100 * row->test_acc, row->bias,
           row->b_star, row->img_per_s);
    if (met.present) print_metrics(&met);
    fflush(stdout);
    if (save_checkpoint(r, epoch + 1, 0) != 0) return 1;
    return app_write_summary(r->o, r->rt, r->model, row, &r->last_metrics, &r->conv, r->train_seconds,
                             r->train_images, 0);
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
    char path[1200], header[CSV_LINE];
    snprintf(path, sizeof path, "%s/metrics.csv", r->o->out);
    app_csv_header(header, sizeof header);
    /* a resumed run keeps the rows of its finished epochs, and the epoch-0 row when it has one */
    const int keep = r->o->resume[0] ? r->start_epoch + (r->o->metrics_every > 0) : -1;
    if (app_csv_open(&r->csv, path, header, keep, err, sizeof err) != 0) return fail("", err);
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
        if (o->metrics_every > 0 && r.start_epoch == 0 && r.start_step == 0) rc = evaluate_untrained(&r);
        if (rc == 0) rc = train_epochs(&r);
        if (rc == 0) {
            rc = app_write_summary(o, r.rt, r.model, &r.last, &r.last_metrics, &r.conv, r.train_seconds,
                                   r.train_images, 1);
            printf("done: %s/metrics.csv, %s/summary.json, %s/model.ckpt\n", o->out, o->out, o->out);
        }
    }
    app_csv_close(&r.csv);
    nn_ckpt_free(&resume);
    nn_data_free(r.rt, r.dtrain);
    nn_data_free(r.rt, r.dtest);
    nn_metrics_ws_free(r.model, r.mws);
    nn_model_free(r.model);
    history_free(&r.hist);
    rt_close(r.rt);
    free(r.spec);
    app_dataset_free(&r.train);
    app_dataset_free(&r.test);
    return rc;
}
