/* apps/sweep/sweep_seeds.c — prediction stability across seeds (science.md §5): for each finished
 * cell, the share of test samples on which its final predictions (the cell's
 * test_predictions.csv, written by `gammacl train`) differ from another seed's at the same
 * point (loss, gamma, bias init, rho) and open-set split, averaged over those other seeds:
 * sweep.csv's seed_disagreement, whose mean and standard deviation summary.csv carries as for
 * every column. Empty for a cell without another seed, or whose file is missing or damaged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "sweep_results.h"

/* the prediction column of DIR/test_predictions.csv ("sample,label,prediction", samples in
 * order); the count, or -1 */
static int read_predictions(const char *dir, int **out)
{
    char path[1400], err[256], *text = NULL;
    snprintf(path, sizeof path, "%s/test_predictions.csv", dir);
    *out = NULL;
    if (app_read_text_file(path, 256u << 20, &text, err, sizeof err) != 0) return -1;
    const char *p = strchr(text, '\n');
    if (!p || strncmp(text, "sample,label,prediction\n", 24) != 0) return free(text), -1;
    int n = 0, cap = 0, *v = NULL, ok = 1;
    for (p++; ok && *p; n++) {
        int sample, label, pred, used = 0;
        if (sscanf(p, "%d,%d,%d%n", &sample, &label, &pred, &used) != 3 || p[used] != '\n' ||
            sample != n || pred < 0) {
            ok = 0;
            break;
        }
        if (n == cap) {
            int *w = realloc(v, (size_t)(cap = cap ? 2 * cap : 1024) * sizeof *w);
            if (!w) { ok = 0; break; }
            v = w;
        }
        v[n] = pred;
        p += used + 1;
    }
    free(text);
    if (!ok || n == 0) return free(v), -1;
    *out = v;
    return n;
}

static int same_point(const sw_cell *a, const sw_cell *b)
{
    return a->loss == b->loss && a->gamma == b->gamma && strcmp(a->bias_init, b->bias_init) == 0 &&
           a->rho == b->rho && a->split == b->split && a->seed != b->seed;
}

void sw_seed_disagreement(const char *dir, const sw_cell *cells, sw_result *res, int n, int col)
{
    if (col < 0) return;
    int **pred = calloc((size_t)(n ? n : 1), sizeof *pred), *count = calloc((size_t)(n ? n : 1), sizeof *count);
    for (int c = 0; pred && count && c < n; c++) {
        char cdir[1300];
        snprintf(cdir, sizeof cdir, "%s/cells/%s", dir, cells[c].name);
        count[c] = res[c].state == SW_DONE ? read_predictions(cdir, &pred[c]) : -1;
    }
    for (int c = 0; c < n; c++) {
        if (res[c].state != SW_DONE) continue;
        res[c].v[col] = NAN;
        if (!pred || !count || count[c] < 0) continue;
        double sum = 0;
        int others = 0;
        for (int o = 0; o < n; o++) {
            if (o == c || count[o] != count[c] || !same_point(&cells[c], &cells[o])) continue;
            long differ = 0;
            for (int i = 0; i < count[c]; i++) differ += pred[c][i] != pred[o][i];
            sum += (double)differ / count[c];
            others++;
        }
        if (others) res[c].v[col] = sum / others;
    }
    for (int c = 0; pred && c < n; c++) free(pred[c]);
    free(pred), free(count);
}
