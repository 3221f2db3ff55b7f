/* apps/run/run_classes.c — per-class test accuracy of a run's test passes (net/class_acc.h): the
 * training counts per class, the device counters read after each test pass, the many-, medium-
 * and few-shot columns of metrics.csv (long-tailed runs only), class_acc.csv (a row per
 * metrics.csv row, every run), and the shot-group line at the end of a long-tailed run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "run_internal.h"

int app_run_classes_setup(run *r)
{
    app_class_figures *cf = &r->cls;
    const size_t K = (size_t)r->classes;
    cf->classes = r->classes;
    cf->long_tail = r->o->imbalance > 0;
    cf->epoch = -1;
    cf->train_counts = malloc(K * sizeof *cf->train_counts);
    cf->correct = calloc(K, sizeof *cf->correct);
    cf->count = calloc(K, sizeof *cf->count);
    cf->acc = malloc(K * sizeof *cf->acc);
    if (!cf->train_counts || !cf->correct || !cf->count || !cf->acc) return app_run_fail("", "out of memory");
    nn_class_sizes(r->train.labels, r->train.count, r->classes, cf->train_counts);
    return 0;
}

void app_run_classes_free(run *r)
{
    app_csv_close(&r->class_csv);
    free(r->cls.train_counts), free(r->cls.correct), free(r->cls.count), free(r->cls.acc);
}

rt_status app_run_classes_read(run *r)
{
    app_class_figures *cf = &r->cls;
    rt_status s = nn_class_counts_end(r->model, cf->correct, cf->count);
    if (s != RT_OK) return s;
    nn_class_accuracy(cf->correct, cf->count, cf->classes, cf->acc);
    nn_shot_groups_compute(cf->train_counts, cf->correct, cf->count, cf->classes, &cf->shots);
    return RT_OK;
}

int app_run_classes_open(run *r, int keep_rows, char *err, size_t errlen)
{
    char path[1200];
    const size_t len = 16 + 16 * (size_t)r->classes;
    char *header = malloc(len);
    if (!header) return snprintf(err, errlen, "out of memory"), -1;
    snprintf(path, sizeof path, "%s/class_acc.csv", r->o->out);
    app_class_csv_header(r->classes, header, len);
    const int rc = app_csv_open(&r->class_csv, path, header, keep_rows, err, errlen);
    free(header);
    return rc;
}

int app_run_classes_write(run *r, app_epoch_row *row)
{
    app_class_figures *cf = &r->cls;
    cf->epoch = row->epoch;
    for (int s = 0; s < NN_SHOTS; s++) row->test_acc_shot[s] = cf->long_tail ? cf->shots.acc[s] : NAN;
    char err[1024];
    const size_t len = 16 + 12 * (size_t)cf->classes;
    char *line = malloc(len);
    if (!line) return app_run_fail("", "out of memory");
    app_format_class_row(row->epoch, cf, line, len);
    const int rc = app_csv_row(&r->class_csv, line, err, sizeof err);
    free(line);
    return rc ? app_run_fail("", err) : 0;
}

void app_run_classes_print(const run *r)
{
    if (!r->cls.long_tail || r->cls.epoch < 0) return;
    char line[512];
    app_shots_line(&r->cls.shots, line, sizeof line);
    printf("%s (test, epoch %d)\n", line, r->cls.epoch);
}
