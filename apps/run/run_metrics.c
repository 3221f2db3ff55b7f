/* apps/run/run_metrics.c — the feature metrics of a run (net/metrics.h) at its evaluated epochs:
 * the training-subset and test-set passes, E_t against the epoch-0 losses, the convergence fit,
 * the score histograms (hist/epoch_NNN.png), metrics.csv rows, and the loss history that the
 * checkpoint carries so a resumed run keeps its E_t.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "plot.h"
#include "theory.h"
#include "run_internal.h"

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

void app_run_history_free(history *h) { free(h->epoch), free(h->loss); }

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
    if (history_add(&r->hist, epoch, loss) != 0) return app_run_fail("", "out of memory");
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
    if (app_make_dirs(dir, err, sizeof err) != 0) return app_run_fail("histograms", err);
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
    if (app_plot_histograms(path, &f, err, sizeof err) != 0) return app_run_fail("histograms", err);
    return 0;
}

/* Feature metrics of the training subset and the test set (whose pass also gives the test
 * losses, as evaluate() would), E_t, the histograms. met->seconds leaves out the test pass. */
int app_run_metrics(run *r, int epoch, double bias, app_epoch_metrics *met, nn_stats *test)
{
    const double t0 = app_now();
    nn_model *m = r->model;
    rt_status s = nn_data_set_order(r->rt, r->dtrain, NULL);
    if (s == RT_OK)
        s = nn_metrics_collect(m, r->mws, r->dtrain, r->mtrain_count, r->o->batch, r->steps + r->test_batches);
    if (s == RT_OK) s = nn_metrics_compute(m, r->mws, &met->train);
    const double t1 = app_now();
    if (s == RT_OK) s = app_run_classes_begin(r);
    if (s == RT_OK) s = nn_metrics_collect(m, r->mws, r->dtest, r->test.count, r->o->batch, r->steps);
    if (s == RT_OK) s = rt_finish(r->rt);
    const double t2 = app_now();
    if (s == RT_OK) s = nn_stats_sum(m, r->steps, r->test_batches, test);
    if (s == RT_OK) s = app_run_classes_read(r);
    if (s == RT_OK) s = nn_metrics_compute(m, r->mws, &met->test);
    if (s != RT_OK) return app_run_fail("metrics", rt_error(r->rt));
    met->present = 1;
    if (derive_convergence(r, epoch, met) != 0 || plot_epoch(r, epoch, met, bias) != 0) return 1;
    met->seconds = app_now() - t0 - (t2 - t1);
    return 0;
}

int app_run_metrics_due(const run *r, int epochs_done)
{
    const int every = r->o->metrics_every;
    return every > 0 && (epochs_done == 0 || epochs_done % every == 0 || epochs_done == r->o->epochs);
}

void app_run_print_metrics(const app_epoch_metrics *met)
{
    const nn_split_metrics *a = &met->train, *b = &met->test;
    printf("  metrics %.1fs (train %d | test %d): compact %.4f | %.4f  sep min %.2f | %.2f deg  "
           "NC1 %.4g | %.4g  margin p5 %.4f | %.4f  gap %.4f | %.4f  uacc %.4f | %.4f\n"
           "  E_t CE %.4g BCE %.4g (train)  |dL/dh| CE %.4g BCE %.4g (train)\n",
           met->seconds, a->count, b->count, a->compact, b->compact, a->sep_min_deg, b->sep_min_deg,
           a->nc1, b->nc1, a->margin_p5, b->margin_p5, a->gap, b->gap, a->uacc, b->uacc,
           met->train_ce_E, met->train_bce_E, a->grad_ce, a->grad_bce);
}

int app_run_write_row(run *r, app_epoch_row *row)
{
    char line[CSV_LINE], err[1024];
    /* class_acc.csv first: it also completes the row's shot-group cells */
    if (app_run_classes_write(r, row) != 0) return 1;
    app_format_row(row, line, sizeof line);
    if (app_csv_row(&r->csv, line, err, sizeof err) != 0) return app_run_fail("", err);
    if (row->met.present) r->last_metrics = *row;
    return 0;
}

/* Epoch 0: the model before training, so that E_t has its L_0. */
int app_run_evaluate_untrained(run *r)
{
    const double t0 = app_now();
    float bias = 0;
    if (nn_model_bias(r->model, &bias) != RT_OK) return app_run_fail("", rt_error(r->rt));
    app_epoch_row row = {.epoch = 0, .bias = bias, .b_star = nn_theory_bce_bias(r->o->gamma, r->classes)};
    nn_stats te;
    if (app_run_metrics(r, 0, bias, &row.met, &te) != 0) return 1;
    row.test_ce = te.ce / te.count, row.test_bce = te.bce / te.count, row.test_acc = te.correct / te.count;
    row.seconds = app_now() - t0;
    if (app_run_write_row(r, &row) != 0) return 1;
    r->last = row;
    printf("epoch 0/%d  %.1fs  (before training)  test CE %.4f BCE %.4f acc %.2f%%  b %.3f (b* %.3f)\n",
           r->o->epochs, row.seconds, row.test_ce, row.test_bce, 100 * row.test_acc, row.bias, row.b_star);
    app_run_print_metrics(&row.met);
    fflush(stdout);
    return app_write_summary(r->o, r->rt, r->model, &r->last, &r->last_metrics, &r->conv, &r->cls,
                             r->train_seconds, r->train_images, 0);
}

/* The metrics history as "run.metrics_history": per evaluated epoch the epoch and the four losses,
 * each as a pair of floats (hi, lo) with hi + lo = the double to ~48 bits. */
#define HISTORY_VALUES 10
int app_run_history_save(const run *r, nn_ckpt *c)
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
    return app_ckpt_add_tensor(c, "run.metrics_history", h, (size_t)r->hist.n * HISTORY_VALUES);
}

int app_run_history_restore(run *r, const nn_ckpt *c)
{
    const nn_ckpt_tensor *t = nn_ckpt_find(c, "run.metrics_history");
    if (!t) return 0; /* E_t is then left empty: the run has no L_0 */
    if (t->count % HISTORY_VALUES != 0) return app_run_fail("--resume", "the checkpoint's metrics history is damaged");
    for (uint64_t i = 0; i < t->count / HISTORY_VALUES; i++) {
        double v[5];
        for (int j = 0; j < 5; j++)
            v[j] = (double)t->data[i * HISTORY_VALUES + 2 * j] + (double)t->data[i * HISTORY_VALUES + 2 * j + 1];
        if (history_add(&r->hist, (int)v[0], v + 1) != 0) return app_run_fail("", "out of memory");
    }
    fit_convergence(r);
    return 0;
}
