/* apps/bench/bench_charts.c — the bench's charts (apps/report/chart.h), PNG and SVG in
 * DIR/plots/:
 *   science      convergence rate, final excess loss and test accuracy vs gamma: one colour per
 *                device, solid CE, dashed BCE; curves that lie on each other mean the vendors agree
 *   speed        cnn5 training and evaluation img/s per device (log axis), and the fraction of
 *                each device's measured FMA peak that the convolutions and the whole step reach
 *   kernels      the share of each kernel group in one training step, a stacked bar per device
 *   agreement    the seeded loss traces, and each device's per-step relative difference from the
 *                first device's (log axis) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "chart.h"
#include "files.h"

static int save(const char *dir, const char *name, const app_figure *f, char *err, size_t errlen)
{
    char base[1300];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    if (app_chart_write(base, f, err, errlen) != 0) return -1;
    printf("plot: %s.png (and .svg)\n", base);
    return 0;
}

/* the values of one science figure of device d for one loss, in the order of its gammas */
typedef struct curve { double x[BN_MAX_CELLS], y[BN_MAX_CELLS]; int n; } curve;

static void science_curve(const bn_device *d, int loss, int fig, curve *c)
{
    c->n = 0;
    for (int k = 0; k < d->ncells; k++) {
        const bn_cell *x = &d->cells[k];
        if (x->loss != loss) continue;
        c->x[c->n] = x->gamma;
        c->y[c->n++] = fig == 0 ? x->rate : fig == 1 ? x->excess : 100 * x->test_acc;
    }
}

static int science_chart(const char *dir, const bn_bench *b, char *err, size_t errlen)
{
    static const char *const ylabel[3] = {"rate -d ln E_t / d epoch (1/epoch)", "final excess loss L - L*",
                                          "test accuracy (%)"};
    static const char *const title[3] = {"convergence rate (trained loss)", "excess loss (trained loss)",
                                         "test accuracy"};
    app_figure f = {.cols = 3, .npanels = 3};
    const bn_recipe *r = &b->recipe;
    snprintf(f.title, sizeof f.title, "The same gamma sweep on every device: %s, %d Fashion-MNIST images, "
             "%d epochs", r->science_model, r->science_train, r->science_epochs);
    snprintf(f.note, sizeof f.note, "one colour per device; solid CE, dashed BCE; curves on top of each other "
             "mean the devices agree");
    /* markers differ per device, so curves that lie on each other stay visible */
    curve cs[3][BN_MAX_DEVICES][2];
    for (int p = 0; p < 3; p++) {
        app_panel *pan = &f.panels[p];
        snprintf(pan->title, sizeof pan->title, "%s", title[p]);
        snprintf(pan->xlabel, sizeof pan->xlabel, "gamma (log scale)");
        snprintf(pan->ylabel, sizeof pan->ylabel, "%s", ylabel[p]);
        pan->logx = 1, pan->logy = p == 1, pan->legend = p == 0 ? 2 : 0;
        for (int i = 0; i < b->ndev && pan->nseries < APP_CHART_MAX_SERIES - 1; i++)
            for (int loss = 0; loss < 2; loss++) {
                curve *c = &cs[p][i][loss];
                science_curve(&b->dev[i], loss, p, c);
                if (c->n == 0) continue;
                app_series *s = &pan->series[pan->nseries++];
                snprintf(s->label, sizeof s->label, "%s %s", b->dev[i].id, loss ? "BCE" : "CE");
                s->n = c->n, s->x = c->x, s->y = c->y;
                s->color = i, s->dashed = loss, s->marker = 1 + i % 4;
            }
    }
    return save(dir, "science", &f, err, errlen);
}

static void category(const bn_device *d, const char *second, char *out, size_t len)
{
    snprintf(out, len, "%s\n%s", d->id, second);
}

static void bar_panel(app_panel *pan, const char *title, const char *ylabel, const bn_bench *b)
{
    snprintf(pan->title, sizeof pan->title, "%s", title);
    snprintf(pan->xlabel, sizeof pan->xlabel, "OpenCL device");
    snprintf(pan->ylabel, sizeof pan->ylabel, "%s", ylabel);
    pan->bars = 1, pan->ncats = b->ndev < APP_CHART_MAX_CATS ? b->ndev : APP_CHART_MAX_CATS;
    pan->value_labels = 1, pan->legend = 1;
}

static int speed_chart(const char *dir, const bn_bench *b, char *err, size_t errlen)
{
    app_figure f = {.cols = 2, .npanels = 2, .panel_width = 560, .panel_height = 400};
    const bn_recipe *r = &b->recipe;
    snprintf(f.title, sizeof f.title, "Speed per device, and how close each runs to its own limit");
    snprintf(f.note, sizeof f.note, "%s at batch %d; peak = the device's FP32 FMA rate measured by the bench's "
             "probe kernel", r->speed_model, r->speed_batch);
    app_panel *ips = &f.panels[0], *lim = &f.panels[1];
    bar_panel(ips, "images per second", "images per second (log scale)", b);
    bar_panel(lim, "fraction of the measured FMA peak", "% of the device's FMA peak", b);
    ips->logy = 1;
    double v[5][APP_CHART_MAX_CATS];
    static const char *const label[5] = {"train", "evaluate", "resnet18 train", "convolution kernels",
                                          "whole training step"};
    for (int i = 0; i < ips->ncats; i++) {
        const bn_device *d = &b->dev[i];
        const bn_speed *s = &d->speed;
        char second[64];
        snprintf(second, sizeof second, "%.0f GFLOP/s peak", d->fma_gflops);
        category(d, "", ips->categories[i], sizeof ips->categories[i]);
        ips->categories[i][strlen(ips->categories[i]) - 1] = 0;
        category(d, second, lim->categories[i], sizeof lim->categories[i]);
        v[0][i] = s->train_ips, v[1][i] = s->eval_ips, v[2][i] = s->resnet_train_ips;
        v[3][i] = 100 * s->conv_flops / (s->conv_ms * 1e-3) / 1e9 / d->fma_gflops;
        v[4][i] = 100 * s->step_flops / (s->step_ms * 1e-3) / 1e9 / d->fma_gflops;
    }
    for (int k = 0; k < 5; k++) {
        int any = 0;
        for (int i = 0; i < ips->ncats; i++) any |= isfinite(v[k][i]);
        if (!any) continue;
        app_panel *pan = k < 3 ? ips : lim;
        app_series *s = &pan->series[pan->nseries++];
        snprintf(s->label, sizeof s->label, "%s", label[k]);
        s->n = pan->ncats, s->y = v[k], s->color = k;
    }
    return save(dir, "speed", &f, err, errlen);
}

static int kernel_chart(const char *dir, const bn_bench *b, char *err, size_t errlen)
{
    app_figure f = {.npanels = 1, .panel_width = 120 + 110 * b->ndev, .panel_height = 440};
    if (f.panel_width < 520) f.panel_width = 520;
    snprintf(f.title, sizeof f.title, "Where a training step's device time goes");
    snprintf(f.note, sizeof f.note, "%s, batch %d; share of the summed kernel times", b->recipe.speed_model,
             b->recipe.speed_batch);
    app_panel *pan = &f.panels[0];
    bar_panel(pan, "share of device time per kernel group", "share of the step's device time (%)", b);
    pan->bars = 2, pan->fix_y = 1, pan->ymin = 0, pan->ymax = 100, pan->legend = 2;
    double v[BN_NGROUPS][APP_CHART_MAX_CATS];
    int host_timed = 0;
    for (int i = 0; i < pan->ncats; i++) {
        const bn_speed *s = &b->dev[i].speed;
        char second[64];
        snprintf(second, sizeof second, "%.1f ms/step%s", s->kernel_ms, s->host_timed ? " (host)" : "");
        host_timed |= s->host_timed;
        category(&b->dev[i], second, pan->categories[i], sizeof pan->categories[i]);
        for (int g = 0; g < BN_NGROUPS; g++)
            v[g][i] = s->kernel_ms > 0 ? 100 * s->group_ms[g] / s->kernel_ms : NAN;
    }
    if (host_timed)
        snprintf(f.note, sizeof f.note, "%s, batch %d; (host): timed by the host clock, one launch at a time",
                 b->recipe.speed_model, b->recipe.speed_batch);
    for (int g = 0; g < BN_NGROUPS; g++) {
        app_series *s = &pan->series[pan->nseries++];
        snprintf(s->label, sizeof s->label, "%s", bn_group_name(g));
        s->n = pan->ncats, s->y = v[g], s->color = g;
    }
    return save(dir, "kernels", &f, err, errlen);
}

/* the seeded loss traces, and each device's per-step relative difference from the first's */
static int agreement_chart(const char *dir, const bn_bench *b, char *err, size_t errlen)
{
    app_figure f = {.cols = 2, .npanels = 2};
    snprintf(f.title, sizeof f.title, "Agreement: the same %d seeded steps on every device", b->recipe.trace_steps);
    snprintf(f.note, sizeof f.note, "%s, batch %d, CE training at gamma 16; steps where a device equals %s bit for "
             "bit have no point on the right", b->recipe.science_model, b->recipe.trace_batch, b->dev[0].id);
    app_panel *loss = &f.panels[0], *rel = &f.panels[1];
    snprintf(loss->title, sizeof loss->title, "batch loss per step");
    snprintf(loss->xlabel, sizeof loss->xlabel, "step");
    snprintf(loss->ylabel, sizeof loss->ylabel, "batch mean loss");
    snprintf(rel->title, sizeof rel->title, "relative difference from %s", b->dev[0].id);
    snprintf(rel->xlabel, sizeof rel->xlabel, "step");
    snprintf(rel->ylabel, sizeof rel->ylabel, "|loss - reference| / |reference| (log scale)");
    rel->logy = 1, loss->legend = 1, rel->legend = 1;
    double x[BN_MAX_STEPS], d[BN_MAX_DEVICES][2][BN_MAX_STEPS];
    for (int k = 0; k < BN_MAX_STEPS; k++) x[k] = k + 1;
    for (int i = 0; i < b->ndev && loss->nseries < APP_CHART_MAX_SERIES - 1; i++) {
        const bn_device *dev = &b->dev[i], *ref = &b->dev[0];
        const int n = dev->nsteps < ref->nsteps ? dev->nsteps : ref->nsteps;
        for (int which = 0; which < 2; which++) {
            const double *t = which ? dev->trace_bce : dev->trace_ce, *r = which ? ref->trace_bce : ref->trace_ce;
            for (int k = 0; k < n; k++) d[i][which][k] = bs_rel_diff(r[k], t[k]);
            app_series *s = &loss->series[loss->nseries++];
            snprintf(s->label, sizeof s->label, "%s %s", dev->id, which ? "BCE" : "CE");
            s->n = dev->nsteps, s->x = x, s->y = t, s->color = i, s->dashed = which, s->marker = 1 + i % 4;
            if (i == 0) continue;
            s = &rel->series[rel->nseries++];
            snprintf(s->label, sizeof s->label, "%s %s", dev->id, which ? "BCE" : "CE");
            s->n = n, s->x = x, s->y = d[i][which], s->color = i, s->dashed = which, s->marker = 1 + i % 4;
        }
    }
    return save(dir, "agreement", &f, err, errlen);
}

int bn_write_charts(const char *dir, const bn_bench *b, char *err, size_t errlen)
{
    if (app_make_dirs(dir, err, errlen) != 0) return -1;
    if (b->ndev == 0) return 0;
    if (science_chart(dir, b, err, errlen) != 0 || speed_chart(dir, b, err, errlen) != 0) return -1;
    if (kernel_chart(dir, b, err, errlen) != 0) return -1;
    return agreement_chart(dir, b, err, errlen);
}
