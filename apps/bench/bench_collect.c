/* apps/bench/bench_collect.c — the bench's science and convergence figures, read from the two
 * sweeps it ran on a device: science/sweep.csv (a row per cell: convergence rate, excess loss,
 * test accuracy) and convergence/sweep.csv with each cell's metrics.csv (test accuracy per
 * epoch). Only the sweeps' documented outputs are read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "files.h"

#define MAX_FIELDS 160
#define MAX_TABLE_BYTES (8u << 20)

/* Splits one CSV line in place (fields may be quoted, "" inside quotes is a quote). */
static int split_csv(char *line, char **field, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return -1;
        char *out = p;
        field[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') *out++ = '"', p += 2;
                else if (*p == '"') { p++; break; }
                else *out++ = *p++;
            }
        } else {
            while (*p && *p != ',') *out++ = *p++;
        }
        if (*p != ',' && *p) return -1;
        const int end = !*p;
        *out = 0;
        if (end) return n;
        p++;
    }
}

typedef struct table {
    char *text;
    char **lines;
    int nlines;                /* data lines after the header */
    char *head[MAX_FIELDS];
    int ncols;
} table;

static void table_free(table *t)
{
    free(t->text);
    free(t->lines);
}

static int table_load(const char *path, table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (app_read_text_file(path, MAX_TABLE_BYTES, &t->text, err, errlen) != 0) return -1;
    int cap = 1;
    for (const char *c = t->text; *c; c++) cap += *c == '\n';
    t->lines = malloc((size_t)cap * sizeof *t->lines);
    if (!t->lines) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char *save = NULL, *line = strtok_r(t->text, "\n", &save);
    if (!line || (t->ncols = split_csv(line, t->head, MAX_FIELDS)) < 1) {
        snprintf(err, errlen, "%s: no header line", path);
        return -1;
    }
    while ((line = strtok_r(NULL, "\n", &save))) t->lines[t->nlines++] = line;
    return 0;
}

static int col(const table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->head[i], name) == 0) return i;
    return -1;
}

static double num(const char *s)
{
    if (!*s) return NAN;
    char *end;
    const double v = strtod(s, &end);
    return *end ? NAN : v;
}

/* the rows of a sweep table as fields; returns the field count of the row or -1 */
static int row(const table *t, int i, char **f, const char *path, char *err, size_t errlen)
{
    const int n = split_csv(t->lines[i], f, MAX_FIELDS);
    if (n != t->ncols) {
        snprintf(err, errlen, "%s: row %d has %d fields, the header %d", path, i + 2, n, t->ncols);
        return -1;
    }
    return n;
}

static int read_science(const char *devdir, bn_device *d, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/science/sweep.csv", devdir);
    table t;
    if (table_load(path, &t, err, errlen) != 0) return table_free(&t), -1;
    const int c_status = col(&t, "status"), c_loss = col(&t, "loss"), c_gamma = col(&t, "gamma"),
              c_acc = col(&t, "test_acc");
    const int c_rate[2] = {col(&t, "rate_train_ce"), col(&t, "rate_train_bce")};
    const int c_exc[2] = {col(&t, "train_ce_excess"), col(&t, "train_bce_excess")};
    if (c_status < 0 || c_loss < 0 || c_gamma < 0 || c_acc < 0 || c_rate[0] < 0 || c_rate[1] < 0 ||
        c_exc[0] < 0 || c_exc[1] < 0) {
        snprintf(err, errlen, "%s: a column the bench needs is missing", path);
        return table_free(&t), -1;
    }
    d->ncells = 0;
    for (int i = 0; i < t.nlines; i++) {
        char *f[MAX_FIELDS];
        if (row(&t, i, f, path, err, errlen) < 0) return table_free(&t), -1;
        if (strcmp(f[c_status], "done") != 0 || d->ncells == BN_MAX_CELLS) continue;
        bn_cell *c = &d->cells[d->ncells++];
        c->loss = strcmp(f[c_loss], "bce") == 0;
        c->gamma = num(f[c_gamma]);
        c->rate = -num(f[c_rate[c->loss]]); /* the table holds d ln E_t / d epoch */
        c->excess = num(f[c_exc[c->loss]]);
        c->test_acc = num(f[c_acc]);
    }
    table_free(&t);
    return 0;
}

/* test accuracy per epoch (0..epochs) of one run folder's metrics.csv */
static int read_curve(const char *rundir, int epochs, double *acc, char *err, size_t errlen)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/metrics.csv", rundir);
    table t;
    if (table_load(path, &t, err, errlen) != 0) return table_free(&t), -1;
    const int c_epoch = col(&t, "epoch"), c_acc = col(&t, "test_acc");
    for (int e = 0; e <= epochs; e++) acc[e] = NAN;
    int rc = c_epoch < 0 || c_acc < 0 ? -1 : 0;
    if (rc) snprintf(err, errlen, "%s: no epoch or test_acc column", path);
    for (int i = 0; rc == 0 && i < t.nlines; i++) {
        char *f[MAX_FIELDS];
        if (row(&t, i, f, path, err, errlen) < 0) rc = -1;
        else {
            const double e = num(f[c_epoch]);
            if (e >= 0 && e <= epochs && e == floor(e)) acc[(int)e] = num(f[c_acc]);
        }
    }
    for (int e = 0; rc == 0 && e <= epochs; e++)
        if (isnan(acc[e])) {
            snprintf(err, errlen, "%s: no test accuracy for epoch %d", path, e);
            rc = -1;
        }
    table_free(&t);
    return rc;
}

static int read_convergence(const char *devdir, const bn_recipe *r, bn_device *d, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/convergence/sweep.csv", devdir);
    table t;
    if (table_load(path, &t, err, errlen) != 0) return table_free(&t), -1;
    const int c_cell = col(&t, "cell"), c_status = col(&t, "status");
    if (c_cell < 0 || c_status < 0) {
        snprintf(err, errlen, "%s: no cell or status column", path);
        return table_free(&t), -1;
    }
    d->nseeds = 0, d->nepochs = r->conv_epochs;
    for (int i = 0; i < t.nlines && d->nseeds < BN_MAX_SEEDS; i++) {
        char *f[MAX_FIELDS], rundir[1300];
        if (row(&t, i, f, path, err, errlen) < 0) return table_free(&t), -1;
        if (strcmp(f[c_status], "done") != 0) continue;
        snprintf(rundir, sizeof rundir, "%s/convergence/cells/%s", devdir, f[c_cell]);
        if (read_curve(rundir, r->conv_epochs, d->conv_acc[d->nseeds], err, errlen) != 0)
            return table_free(&t), -1;
        d->nseeds++;
    }
    table_free(&t);
    return 0;
}

int bn_collect_sweeps(const char *devdir, const bn_recipe *r, bn_device *d, char *err, size_t errlen)
{
    if (read_science(devdir, d, err, errlen) != 0) return -1;
    return read_convergence(devdir, r, d, err, errlen);
}
