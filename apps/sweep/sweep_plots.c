/* apps/sweep/sweep_plots.c — the sweep's charts (apps/report/chart.h), PNG and SVG in DIR/plots/:
 *   convergence_rate  -d ln E_t / d epoch of the trained loss vs gamma (training subset, test set)
 *   excess_loss       E_t vs epoch, one curve per gamma, one panel per loss (and BCE bias init)
 *   geometry          compactness, class-mean angles (ETF drawn), NC1, uniform accuracy, small
 *                     margins vs gamma
 *   robustness        accuracy and flip rate under each disturbance vs gamma, per loss
 *   bias              BCE's learned bias b against the optimal b*(gamma, K)
 *   long_tail         (--rhos or --imbalance sweeps) accuracy overall and by shot group vs gamma
 *   open_set          (--known or --splits sweeps) AUROC and OSCR of three scores, closed-set
 *                     accuracy vs gamma
 * Points are means over seeds (and open-set splits) with one standard deviation as error bars;
 * notes say how many cells each point rests on; each imbalance ratio is a line of its own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "files.h"
#include "sweep_results.h"
#include "theory.h"

#define MAXG SW_MAX_VALUES

/* one line of a panel: a loss (and BCE bias init) over the gammas */
typedef struct line {
    int loss;
    char bias[32];
    double x[MAXG], y[MAXG], err[MAXG];
    int n;
} line;

typedef struct plot_ctx {
    const char *dir, *title;
    const sw_cell *cells;
    const sw_result *res;
    int ncells;
    sw_group *g;
    int ng;
    int kinds;                 /* distinct (loss, bias, rho) lines */
    int loss_of[8];
    char bias_of[8][32];
    double rho_of[8];          /* 0: no --rhos axis */
    int nmin, nmax;            /* seeds per point */
    int classes;
    char note[256];
} plot_ctx;

/* the distinct BCE bias inits among the kinds (0: no BCE line) */
static int bce_kinds(const plot_ctx *p)
{
    int n = 0;
    for (int k = 0; k < p->kinds; k++) {
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= p->loss_of[j] && strcmp(p->bias_of[j], p->bias_of[k]) == 0;
        n += p->loss_of[k] && !seen;
    }
    return n;
}

/* the legend text of kind k: the loss, BCE's bias init where the sweep has several, the rho */
static void kind_label(const plot_ctx *p, int k, char *out, size_t len)
{
    const char *bias = p->bias_of[k];
    if (!p->loss_of[k]) snprintf(out, len, "CE");
    else if (bce_kinds(p) < 2 && strcmp(bias, "zero") == 0) snprintf(out, len, "BCE");
    else if (strcmp(bias, "zero") == 0) snprintf(out, len, "BCE, b0 = 0");
    else if (strcmp(bias, "theory") == 0) snprintf(out, len, "BCE, b0 = b*");
    else snprintf(out, len, "BCE, b0 = %s", bias);
    const size_t n = strlen(out);
    if (p->rho_of[k] > 0 && n < len) snprintf(out + n, len - n, ", rho %g", p->rho_of[k]);
}

/* group g is on kind k's line */
static int in_kind(const plot_ctx *p, int k, const sw_group *g)
{
    return g->loss == p->loss_of[k] && g->rho == p->rho_of[k] && strcmp(g->bias, p->bias_of[k]) == 0;
}

/* the mean and sd of column col over the seeds of each gamma, for kind k */
static void collect(const plot_ctx *p, int k, int col, double scale, line *l)
{
    memset(l, 0, sizeof *l);
    l->loss = p->loss_of[k];
    snprintf(l->bias, sizeof l->bias, "%s", p->bias_of[k]);
    for (int i = 0; i < p->ng && l->n < MAXG; i++) {
        const sw_group *g = &p->g[i];
        if (!in_kind(p, k, g)) continue;
        double mean, sd;
        int used;
        sw_group_stat(g, p->res, col, &mean, &sd, &used);
        l->x[l->n] = g->gamma;
        l->y[l->n] = used ? scale * mean : NAN;
        l->err[l->n] = used > 1 ? fabs(scale) * sd : 0;
        l->n++;
    }
}

static void add_series(app_panel *pan, const line *l, const char *label, int color, int marker, int dashed)
{
    if (pan->nseries == APP_CHART_MAX_SERIES) return;
    app_series *s = &pan->series[pan->nseries++];
    memset(s, 0, sizeof *s);
    snprintf(s->label, sizeof s->label, "%s", label);
    s->n = l->n, s->x = l->x, s->y = l->y, s->yerr = l->err;
    s->color = color, s->marker = marker, s->dashed = dashed;
}

static void panel_setup(app_panel *pan, const char *title, const char *ylabel, int logy)
{
    memset(pan, 0, sizeof *pan);
    snprintf(pan->title, sizeof pan->title, "%s", title);
    snprintf(pan->xlabel, sizeof pan->xlabel, "scale factor gamma (log scale)");
    snprintf(pan->ylabel, sizeof pan->ylabel, "%s", ylabel);
    pan->logx = 1, pan->logy = logy, pan->legend = 1;
}

static void figure_setup(app_figure *f, const plot_ctx *p, const char *what, int cols)
{
    memset(f, 0, sizeof *f);
    snprintf(f->title, sizeof f->title, "%s — %s", what, p->title);
    snprintf(f->note, sizeof f->note, "%s", p->note);
    f->cols = cols;
}

static int save(const plot_ctx *p, const char *name, const app_figure *f, char *err, size_t errlen)
{
    char base[1300];
    snprintf(base, sizeof base, "%s/plots/%s", p->dir, name);
    if (app_chart_write(base, f, err, errlen) != 0) return -1;
    printf("plot: %s.png (and .svg)\n", base);
    return 0;
}

/* a panel with one series per kind for column col (by loss: CE's and BCE's own column) */
static void kind_panel(const plot_ctx *p, app_panel *pan, line *lines, const char *ce_col,
                       const char *bce_col, double scale)
{
    for (int k = 0; k < p->kinds; k++) {
        char label[96];
        kind_label(p, k, label, sizeof label);
        collect(p, k, sw_col_index(p->loss_of[k] ? bce_col : ce_col), scale, &lines[k]);
        add_series(pan, &lines[k], label, k, 1 + k % 4, p->loss_of[k] && strcmp(p->bias_of[k], "zero"));
    }
}

static int plot_convergence(const plot_ctx *p, char *err, size_t errlen)
{
    app_figure f;
    figure_setup(&f, p, "Convergence rate vs gamma", 2);
    f.npanels = 2;
    line lines[2][8];
    panel_setup(&f.panels[0], "training subset (trained loss)", "rate -d ln E_t / d epoch (1/epoch)", 0);
    panel_setup(&f.panels[1], "test set (trained loss)", "rate -d ln E_t / d epoch (1/epoch)", 0);
    kind_panel(p, &f.panels[0], lines[0], "rate_train_ce", "rate_train_bce", -1);
    kind_panel(p, &f.panels[1], lines[1], "rate_test_ce", "rate_test_bce", -1);
    return save(p, "convergence_rate", &f, err, errlen);
}

/* a panel per column, one line per kind */
typedef struct column_panel { const char *title, *ylabel, *col; int logy; } column_panel;

static const column_panel GEOMETRY[] = {
    {"intra-class compactness", "mean cos(h_i, class mean)", "test_compact", 0},
    {"smallest angle between class means", "angle (degrees)", "test_sep_min_deg", 0},
    {"mean angle between class means", "angle (degrees)", "test_sep_mean_deg", 0},
    {"NC1 within/between variability", "NC1 (log scale)", "test_nc1", 1},
    {"uniform accuracy (one threshold)", "fraction of samples", "test_uacc", 0},
    {"samples with cosine margin < 0.05", "fraction of samples", "frac_margin_below_0.05", 0},
};

static const column_panel LONG_TAIL[] = {
    {"all classes (balanced test set)", "test accuracy", "test_acc", 0},
    {"many-shot classes", "test accuracy", "acc_many_shot", 0},
    {"medium-shot classes", "test accuracy", "acc_medium_shot", 0},
    {"few-shot classes", "test accuracy", "acc_few_shot", 0},
};

static const column_panel OPEN_SET[] = {
    {"AUROC, score max cosine", "AUROC known vs unknown", "auroc_max_cosine", 0},
    {"AUROC, score max sigmoid", "AUROC known vs unknown", "auroc_max_sigmoid", 0},
    {"AUROC, score max softmax", "AUROC known vs unknown", "auroc_max_softmax", 0},
    {"OSCR, score max cosine", "OSCR", "oscr_max_cosine", 0},
    {"OSCR, score max sigmoid", "OSCR", "oscr_max_sigmoid", 0},
    {"closed-set accuracy (known classes)", "test accuracy", "closed_set_acc", 0},
};

/* figure `name` with a panel per entry of table (cols across); the simplex ETF's angle drawn on
 * angle panels */
static int plot_columns(const plot_ctx *p, const char *name, const char *what, const column_panel *table,
                        int n, int cols, char *err, size_t errlen)
{
    app_figure f;
    figure_setup(&f, p, what, cols);
    f.npanels = n;
    line (*lines)[8] = calloc((size_t)n, sizeof *lines);
    if (!lines) return snprintf(err, errlen, "out of memory"), -1;
    for (int i = 0; i < n; i++) {
        panel_setup(&f.panels[i], table[i].title, table[i].ylabel, table[i].logy);
        kind_panel(p, &f.panels[i], lines[i], table[i].col, table[i].col, 1);
        if (p->classes > 1 && strstr(table[i].col, "sep_")) {
            app_ref_line *r = &f.panels[i].refs[f.panels[i].nrefs++];
            r->value = acos(-1.0 / (p->classes - 1)) * 180 / M_PI;
            snprintf(r->label, sizeof r->label, "simplex ETF (%.2f deg)", r->value);
        }
    }
    const int rc = save(p, name, &f, err, errlen);
    free(lines);
    return rc;
}

/* some finished cell has a value in column col */
static int has_column(const plot_ctx *p, const char *col)
{
    const int c = sw_col_index(col);
    for (int i = 0; c >= 0 && i < p->ncells; i++)
        if (p->res[i].state == SW_DONE && isfinite(p->res[i].v[c])) return 1;
    return 0;
}

static const struct { const char *col, *label; } DISTURB[] = {
    {"clean_acc", "clean"}, {"input_noise_4", "input noise 4/255"}, {"input_noise_8", "input noise 8/255"},
    {"feature_noise_0.05", "feature noise 0.05"}, {"feature_noise_0.1", "feature noise 0.1"},
    {"weight_noise_0.1", "weight noise 0.1"},
    {"fgsm_1", "FGSM 1/255"}, {"fgsm_2", "FGSM 2/255"},
};
#define NDISTURB ((int)(sizeof DISTURB / sizeof DISTURB[0]))

/* accuracy and flip rate panels of up to 3 kinds per figure: robustness.png, then robustness_2.png
 * for kinds 4 to 6, ... */
static int plot_robustness(const plot_ctx *p, char *err, size_t errlen)
{
    line (*lines)[8][NDISTURB] = calloc(2, sizeof *lines);
    if (!lines) return snprintf(err, errlen, "out of memory"), -1;
    int rc = 0;
    for (int first = 0; rc == 0 && first < p->kinds; first += 3) {
        const int shown = p->kinds - first < 3 ? p->kinds - first : 3;
        app_figure f;
        figure_setup(&f, p, "Robustness vs gamma (test set)", shown);
        for (int j = 0; j < shown; j++) {
            const int k = first + j;
            char label[96], title[160];
            kind_label(p, k, label, sizeof label);
            for (int which = 0; which < 2; which++) {
                app_panel *pan = &f.panels[which * shown + j];
                snprintf(title, sizeof title, "%s: %s", label, which ? "flip rate" : "accuracy");
                panel_setup(pan, title, which ? "fraction of predictions changed" : "test accuracy", 0);
                pan->legend = 2;
                for (int d = which; d < NDISTURB; d++) {
                    char col[64];
                    snprintf(col, sizeof col, "%s%s", d == 0 ? "" : which ? "flip_" : "acc_", DISTURB[d].col);
                    collect(p, k, sw_col_index(col), 1, &lines[which][k][d]);
                    add_series(pan, &lines[which][k][d], DISTURB[d].label, d, 1 + d % 4, d > 2);
                }
            }
        }
        f.npanels = 2 * shown;
        char name[32];
        if (first == 0) snprintf(name, sizeof name, "robustness");
        else snprintf(name, sizeof name, "robustness_%d", first / 3 + 1);
        rc = save(p, name, &f, err, errlen);
    }
    free(lines);
    return rc;
}

/* prediction stability: the share of test predictions that the last epoch changed (training's
 * test passes before and after it), a line per kind, and dashed, the share on which two seeds'
 * final models disagree (sweep_seeds.c) where a point has several seeds */
static int plot_stability(const plot_ctx *p, char *err, size_t errlen)
{
    const int seeds = has_column(p, "seed_disagreement");
    if (!has_column(p, "test_flip_prev") && !seeds) return 0;
    app_figure f;
    figure_setup(&f, p, "Prediction stability vs gamma", 1);
    f.npanels = 1;
    f.panel_width = 900, f.panel_height = 480; /* one panel: room for the figure's title */
    panel_setup(&f.panels[0], seeds ? "test predictions changed by the last epoch (solid) and differing "
                "between seeds (dashed)" : "test predictions changed by the last epoch",
                "fraction of test predictions", 0);
    line *lines = calloc(16, sizeof *lines);
    if (!lines) return snprintf(err, errlen, "out of memory"), -1;
    for (int k = 0; k < p->kinds && k < 8; k++) {
        char label[96], label2[128];
        kind_label(p, k, label, sizeof label);
        collect(p, k, sw_col_index("test_flip_prev"), 1, &lines[k]);
        add_series(&f.panels[0], &lines[k], label, k, 1 + k % 4, 0);
        if (!seeds) continue;
        snprintf(label2, sizeof label2, "%s, across seeds", label);
        collect(p, k, sw_col_index("seed_disagreement"), 1, &lines[8 + k]);
        add_series(&f.panels[0], &lines[8 + k], label2, k, 1 + k % 4, 1);
    }
    const int rc = save(p, "stability", &f, err, errlen);
    free(lines);
    return rc;
}

static int plot_bias(const plot_ctx *p, char *err, size_t errlen)
{
    if (!bce_kinds(p)) return 0;
    app_figure f;
    figure_setup(&f, p, "BCE's learned bias vs the optimum", 1);
    f.npanels = 1;
    f.panel_width = 900, f.panel_height = 480; /* one panel: room for the figure's title */
    app_panel *pan = &f.panels[0];
    panel_setup(pan, "shared bias b after training", "bias b", 0);
    line *lines = calloc(9, sizeof *lines);
    if (!lines) return snprintf(err, errlen, "out of memory"), -1;
    line *th = &lines[8];
    for (int k = 0; k < p->kinds; k++) {
        if (!p->loss_of[k]) continue;
        char label[96];
        kind_label(p, k, label, sizeof label);
        collect(p, k, sw_col_index("bias"), 1, &lines[k]);
        add_series(pan, &lines[k], label, k, 1 + k % 4, strcmp(p->bias_of[k], "zero") != 0);
    }
    /* b*(gamma, K) on a fine grid between the sweep's gammas */
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < p->ng; i++) lo = fmin(lo, p->g[i].gamma), hi = fmax(hi, p->g[i].gamma);
    for (int i = 0; i < MAXG && p->classes > 1 && lo < INFINITY; i++) {
        th->x[i] = lo * pow(hi / lo, i / (double)(MAXG - 1));
        th->y[i] = nn_theory_bce_bias(th->x[i], p->classes);
        th->n = i + 1;
    }
    if (th->n) {
        char label[96];
        snprintf(label, sizeof label, "optimal b*(gamma, K = %d)", p->classes);
        add_series(pan, th, label, 6, 0, 1);
        pan->series[pan->nseries - 1].yerr = NULL;
    }
    const int rc = save(p, "bias", &f, err, errlen);
    free(lines);
    return rc;
}

static int plot_excess(const plot_ctx *p, char *err, size_t errlen)
{
    app_figure f;
    figure_setup(&f, p, "Excess loss E_t vs epoch", p->kinds < 3 ? p->kinds : 3);
    f.npanels = p->kinds < APP_CHART_MAX_PANELS ? p->kinds : APP_CHART_MAX_PANELS;
    double (*ex)[MAXG][256] = calloc(APP_CHART_MAX_PANELS, sizeof *ex);
    double (*ey)[MAXG][256] = calloc(APP_CHART_MAX_PANELS, sizeof *ey);
    if (!ex || !ey) return free(ex), free(ey), snprintf(err, errlen, "out of memory"), -1;
    for (int k = 0; k < f.npanels; k++) {
        char label[96];
        kind_label(p, k, label, sizeof label);
        app_panel *pan = &f.panels[k];
        panel_setup(pan, label, "E_t = (L_t - L*)/(L_0 - L*) (log scale)", 1);
        snprintf(pan->xlabel, sizeof pan->xlabel, "epoch");
        pan->logx = 0;
        pan->legend = 2;
        /* what E_t is goes into the note: the title keeps the sweep's description whole */
        if (p->nmin == p->nmax)
            snprintf(f.note, sizeof f.note, "the trained loss on the training subset, normalized to 1 at "
                     "epoch 0; each curve: mean over the %d seed%s of its gamma", p->nmax, p->nmax > 1 ? "s" : "");
        else
            snprintf(f.note, sizeof f.note, "the trained loss on the training subset, normalized to 1 at "
                     "epoch 0; each curve: mean over the seeds of its gamma (%d to %d)", p->nmin, p->nmax);
        int gi = 0;
        for (int i = 0; i < p->ng && gi < MAXG && gi < APP_CHART_MAX_SERIES; i++) {
            const sw_group *g = &p->g[i];
            if (!in_kind(p, k, g) || g->n == 0) continue;
            /* mean over seeds at each evaluated epoch (the seeds share their epochs) */
            const sw_result *r0 = &p->res[g->members[0]];
            const int ne = r0->ne < 256 ? r0->ne : 256, series = p->loss_of[k] ? 1 : 0;
            for (int e = 0; e < ne; e++) {
                double s = 0;
                int n = 0;
                for (int m = 0; m < g->n; m++) {
                    const sw_result *r = &p->res[g->members[m]];
                    if (e < r->ne && isfinite(r->e[series][e])) s += r->e[series][e], n++;
                }
                ex[k][gi][e] = r0->e_epoch[e];
                ey[k][gi][e] = n ? s / n : NAN;
            }
            app_series *sr = &pan->series[pan->nseries++];
            memset(sr, 0, sizeof *sr);
            snprintf(sr->label, sizeof sr->label, "gamma %g", g->gamma);
            sr->n = ne, sr->x = ex[k][gi], sr->y = ey[k][gi];
            sr->color = gi, sr->marker = 1 + gi % 4;
            gi++;
        }
    }
    const int rc = save(p, "excess_loss", &f, err, errlen);
    free(ex), free(ey);
    return rc;
}

int sw_write_plots(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                   const char *title, char *err, size_t errlen)
{
    plot_ctx p = {.dir = dir, .title = title, .cells = cells, .res = res, .ncells = n};
    if (sw_groups(cells, res, n, &p.g, &p.ng) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p.nmin = 1 << 30;
    const int kcol = sw_col_index("classes");
    for (int i = 0; i < p.ng; i++) {
        int k = 0;
        while (k < p.kinds && !in_kind(&p, k, &p.g[i])) k++;
        if (k == p.kinds && k < 8) {
            p.loss_of[k] = p.g[i].loss, p.rho_of[k] = p.g[i].rho;
            snprintf(p.bias_of[k], 32, "%s", p.g[i].bias);
            p.kinds++;
        }
        if (p.g[i].n > 0 && p.g[i].n < p.nmin) p.nmin = p.g[i].n;
        if (p.g[i].n > p.nmax) p.nmax = p.g[i].n;
        for (int m = 0; m < p.g[i].n; m++) {
            const double K = res[p.g[i].members[m]].v[kcol];
            if (isfinite(K)) p.classes = (int)K;
        }
    }
    int rc = 0;
    if (p.nmax == 0) {
        printf("plots: no finished cell yet\n");
    } else {
        int splits = 0;
        for (int i = 0; i < n; i++) splits |= cells[i].split > 0;
        const char *unit = splits ? "cell" : "seed", *units = splits ? "cells (seeds x open-set splits)" : "seeds";
        if (p.nmin == p.nmax) snprintf(p.note, sizeof p.note, "mean over %d %s per point; error bars: one "
                                       "standard deviation", p.nmax, p.nmax > 1 ? units : unit);
        else snprintf(p.note, sizeof p.note, "mean over %d to %d %s per point (failed or unfinished cells left "
                      "out: summary.csv says which); error bars: one standard deviation", p.nmin, p.nmax, units);
        int empty = 0;
        for (int i = 0; i < p.ng; i++) empty += p.g[i].n == 0;
        if (empty) {
            const size_t len = strlen(p.note);
            snprintf(p.note + len, sizeof p.note - len, "; %d point%s without a finished cell not drawn", empty,
                     empty > 1 ? "s" : "");
        }
        char plots[1300];
        snprintf(plots, sizeof plots, "%s/plots", dir);
        rc = app_make_dirs(plots, err, errlen);
        if (!rc) rc = plot_convergence(&p, err, errlen);
        if (!rc) rc = plot_excess(&p, err, errlen);
        if (!rc) rc = plot_columns(&p, "geometry", "Feature geometry vs gamma (test set)", GEOMETRY,
                                   (int)(sizeof GEOMETRY / sizeof GEOMETRY[0]), 3, err, errlen);
        if (!rc && has_column(&p, "acc_many_shot"))
            rc = plot_columns(&p, "long_tail", "Long-tailed: accuracy by shot group vs gamma", LONG_TAIL, 4, 2,
                              err, errlen);
        if (!rc && has_column(&p, "auroc_max_cosine"))
            rc = plot_columns(&p, "open_set", "Open set: known vs unknown vs gamma", OPEN_SET, 6, 3, err, errlen);
        if (!rc) rc = plot_robustness(&p, err, errlen);
        if (!rc) rc = plot_bias(&p, err, errlen);
        if (!rc) rc = plot_stability(&p, err, errlen);
    }
    sw_groups_free(p.g, p.ng);
    return rc;
}
