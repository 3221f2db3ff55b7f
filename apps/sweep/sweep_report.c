/* apps/sweep/sweep_report.c — DIR/report.md: one page with what the sweep ran, a summary table
 * per loss, bias init, imbalance ratio and gamma (mean ± standard deviation over seeds and
 * open-set splits, and n), the long-tailed and open-set tables where the cells have those
 * figures, the failed cells, and the plots. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_results.h"

static void cell(FILE *f, const sw_group *g, const sw_result *res, const char *col, double scale,
                 int digits)
{
    double mean, sd;
    int used;
    const int c = sw_col_index(col);
    if (c < 0) {
        fprintf(f, " |");
        return;
    }
    sw_group_stat(g, res, c, &mean, &sd, &used);
    if (!used) fprintf(f, " – |");
    else if (used > 1 && isfinite(sd)) fprintf(f, " %.*f ± %.*f |", digits, scale * mean, digits, fabs(scale) * sd);
    else fprintf(f, " %.*f |", digits, scale * mean);
}

static const char *kind(const sw_group *g, char *buf, size_t len)
{
    if (!g->loss) snprintf(buf, len, "CE");
    else if (strcmp(g->bias, "zero") == 0) snprintf(buf, len, "BCE, b0 = 0");
    else if (strcmp(g->bias, "theory") == 0) snprintf(buf, len, "BCE, b0 = b*");
    else snprintf(buf, len, "BCE, b0 = %s", g->bias);
    const size_t n = strlen(buf);
    if (g->rho > 0 && n < len) snprintf(buf + n, len - n, ", rho %g", g->rho);
    return buf;
}

/* some finished cell has a value in column col */
static int any_value(const sw_result *res, int n, const char *col)
{
    const int c = sw_col_index(col);
    for (int i = 0; c >= 0 && i < n; i++)
        if (res[i].state == SW_DONE && isfinite(res[i].v[c])) return 1;
    return 0;
}

/* a table of columns (name, heading, scale, digits) per group */
typedef struct report_col { const char *col, *head; double scale; int digits; } report_col;

static void task_table(FILE *f, const sw_group *g, int ng, const sw_result *res, const char *title,
                       const char *intro, const report_col *cols, int ncols)
{
    fprintf(f, "\n## %s\n\n%s\n\n| loss | gamma | n |", title, intro);
    for (int i = 0; i < ncols; i++) fprintf(f, " %s |", cols[i].head);
    fprintf(f, "\n|---|---:|---:|");
    for (int i = 0; i < ncols; i++) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int k = 0; k < ng; k++) {
        char buf[96];
        fprintf(f, "| %s | %g | %d%s |", kind(&g[k], buf, sizeof buf), g[k].gamma, g[k].n,
                g[k].nfailed ? " (+failed)" : "");
        for (int i = 0; i < ncols; i++) cell(f, &g[k], res, cols[i].col, cols[i].scale, cols[i].digits);
        fprintf(f, "\n");
    }
}

static const report_col LT_COLS[] = {
    {"test_acc", "overall", 100, 2}, {"acc_many_shot", "many-shot", 100, 2},
    {"acc_medium_shot", "medium-shot", 100, 2}, {"acc_few_shot", "few-shot", 100, 2},
};
static const report_col OS_COLS[] = {
    {"closed_set_acc", "closed-set acc", 100, 2}, {"auroc_max_cosine", "AUROC max cos", 1, 4},
    {"auroc_max_sigmoid", "AUROC max sigmoid", 1, 4}, {"auroc_max_softmax", "AUROC max softmax", 1, 4},
    {"oscr_max_cosine", "OSCR max cos", 1, 4}, {"oscr_max_sigmoid", "OSCR max sigmoid", 1, 4},
};

int sw_write_report(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                    const char *title, char *err, size_t errlen)
{
    sw_group *g;
    int ng;
    if (sw_groups(cells, res, n, &g, &ng) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[1300], tmp[1400];
    snprintf(path, sizeof path, "%s/report.md", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s", tmp);
        sw_groups_free(g, ng);
        return -1;
    }
    int done = 0, failed = 0;
    for (int i = 0; i < n; i++) done += res[i].state == SW_DONE, failed += res[i].state == SW_FAILED;
    fprintf(f, "# Gamma sweep: %s\n\n", title);
    fprintf(f, "%d cells: %d done, %d failed, %d not finished. Each cell is a `gammacl train` run in "
            "`cells/<name>/`, evaluated by `gammacl eval` (`eval.json`). Every figure is the mean ± "
            "one standard deviation over the seeds that finished (n). Full tables: `sweep.csv` (one "
            "row per cell), `summary.csv` (every figure per point).\n\n", n, done, failed, n - done - failed);
    fprintf(f, "Columns: test accuracy (%%); rate = −d ln E_t/d epoch of the trained loss on the training "
            "subset; compactness, smallest class-mean angle (degrees) and NC1 on the test set; uniform "
            "accuracy (one threshold for every sample); accuracy under input noise 8/255 and FGSM 1/255, "
            "flip rate under feature noise 0.05 (%%); test predictions the last epoch changed (%%); samples "
            "with cosine margin < 0.05 (%%); BCE's learned bias b (CE trains none: –) and the optimum b*.\n\n");
    fprintf(f, "| loss | gamma | n | test acc | rate | compact | min angle | NC1 | uniform acc | acc noise 8 | "
            "acc FGSM 1 | flips feat 0.05 | flips last epoch | margin < 0.05 | b | b* |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < ng; k++) {
        char buf[96];
        fprintf(f, "| %s | %g | %d%s |", kind(&g[k], buf, sizeof buf), g[k].gamma, g[k].n,
                g[k].nfailed ? " (+failed)" : "");
        cell(f, &g[k], res, "test_acc", 100, 2);
        cell(f, &g[k], res, g[k].loss ? "rate_train_bce" : "rate_train_ce", -1, 3);
        cell(f, &g[k], res, "test_compact", 1, 3);
        cell(f, &g[k], res, "test_sep_min_deg", 1, 1);
        cell(f, &g[k], res, "test_nc1", 1, 2);
        cell(f, &g[k], res, "test_uacc", 1, 3);
        cell(f, &g[k], res, "acc_input_noise_8", 100, 2);
        cell(f, &g[k], res, "acc_fgsm_1", 100, 2);
        cell(f, &g[k], res, "flip_feature_noise_0.05", 100, 2);
        cell(f, &g[k], res, "test_flip_prev", 100, 2);
        cell(f, &g[k], res, "frac_margin_below_0.05", 100, 1);
        cell(f, &g[k], res, "bias", 1, 2); /* empty for CE: it trains none (sweep_table.c) */
        cell(f, &g[k], res, "b_star", 1, 2);
        fprintf(f, "\n");
    }
    const int lt = any_value(res, n, "acc_many_shot"), os = any_value(res, n, "auroc_max_cosine");
    const int st = any_value(res, n, "test_flip_prev") || any_value(res, n, "seed_disagreement");
    if (lt)
        task_table(f, g, ng, res, "Long-tailed", "Test accuracy (%) on the balanced test set, overall and by the "
                   "training images of a class (`gammacl eval`: many-shot > n_max/5, few-shot < n_max/25).",
                   LT_COLS, (int)(sizeof LT_COLS / sizeof LT_COLS[0]));
    if (os)
        task_table(f, g, ng, res, "Open set", "Known classes' test accuracy (%), and how well each score tells "
                   "the known classes' test images from the other classes' (AUROC; OSCR: correct and known "
                   "against unknown).", OS_COLS, (int)(sizeof OS_COLS / sizeof OS_COLS[0]));
    if (failed) {
        fprintf(f, "\n## Failed cells\n\n");
        for (int i = 0; i < n; i++)
            if (res[i].state == SW_FAILED) fprintf(f, "- `%s`: %s\n", cells[i].name, res[i].reason);
    }
    static const char *const plots[][2] = {
        {"convergence_rate", "Convergence rate vs gamma"}, {"excess_loss", "Normalized excess loss E_t vs epoch"},
        {"geometry", "Feature geometry vs gamma"}, {"robustness", "Robustness vs gamma"},
        {"bias", "BCE's learned bias vs b*"}, {"long_tail", "Long-tailed: accuracy by shot group vs gamma"},
        {"open_set", "Open set: AUROC and OSCR vs gamma"},
        {"stability", "Prediction stability vs gamma"}};
    fprintf(f, "\n## Plots\n\n");
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++)
        if ((i != 5 || lt) && (i != 6 || os) && (i != 7 || st))
            fprintf(f, "### %s\n\n![%s](plots/%s.png)\n\n", plots[i][1], plots[i][1], plots[i][0]);
    sw_groups_free(g, ng);
    const int bad = ferror(f) | (fflush(f) != 0);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s", path);
        remove(tmp);
        return -1;
    }
    return 0;
}
