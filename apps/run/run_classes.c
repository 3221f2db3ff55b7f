/* apps/run/run_classes.c — per-class test accuracy of a run's test passes (net/class_acc.h): the
 * training counts per class, the device counters read after each test pass, the many-, medium-
 * and few-shot columns of metrics.csv (long-tailed runs only), class_acc.csv (a row per
 * metrics.csv row, every run), the shot-group line at the end of a long-tailed run, and the
 * prediction stability of the test set: the share of its samples predicted otherwise than at
 * the previous test pass (metrics.csv's test_flip_prev; science.md §5), whose predictions the
 * checkpoint carries so that a resumed run gives the same column, and DIR/test_predictions.csv
 * (each test sample's label and prediction at the latest pass).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
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
    const size_t N = (size_t)(r->test.count > 0 ? r->test.count : 1);
    cf->pred = malloc(N * sizeof *cf->pred);
    cf->prev = malloc(N * sizeof *cf->prev);
    cf->prev_valid = 0, cf->flip_prev = NAN;
    if (!cf->train_counts || !cf->correct || !cf->count || !cf->acc || !cf->pred || !cf->prev)
        return app_run_fail("", "out of memory");
    nn_class_sizes(r->train.labels, r->train.count, r->classes, cf->train_counts);
    return 0;
}

void app_run_classes_free(run *r)
{
    app_csv_close(&r->class_csv);
    free(r->cls.train_counts), free(r->cls.correct), free(r->cls.count), free(r->cls.acc);
    free(r->cls.pred), free(r->cls.prev);
}

rt_status app_run_classes_begin(run *r)
{
    return nn_class_counts_begin_pred(r->model, r->cls.pred, r->test.count);
}

rt_status app_run_classes_read(run *r)
{
    app_class_figures *cf = &r->cls;
    rt_status s = nn_class_counts_end(r->model, cf->correct, cf->count);
    if (s != RT_OK) return s;
    nn_class_accuracy(cf->correct, cf->count, cf->classes, cf->acc);
    nn_shot_groups_compute(cf->train_counts, cf->correct, cf->count, cf->classes, &cf->shots);
    const int N = r->test.count;
    long flips = 0;
    for (int i = 0; cf->prev_valid && i < N; i++) flips += cf->pred[i] != cf->prev[i];
    cf->flip_prev = cf->prev_valid && N > 0 ? (double)flips / N : NAN;
    memcpy(cf->prev, cf->pred, (size_t)N * sizeof *cf->prev);
    cf->prev_valid = 1;
    return RT_OK;
}

int app_run_classes_save(const run *r, nn_ckpt *c)
{
    const app_class_figures *cf = &r->cls;
    if (!cf->prev_valid) return 0;
    float *h = malloc((size_t)(r->test.count > 0 ? r->test.count : 1) * sizeof *h);
    if (!h) return -1;
    for (int i = 0; i < r->test.count; i++) h[i] = (float)cf->prev[i]; /* class ids: exact */
    return app_ckpt_add_tensor(c, "run.test_predictions", h, (size_t)r->test.count);
}

int app_run_classes_restore(run *r, const nn_ckpt *c)
{
    app_class_figures *cf = &r->cls;
    const nn_ckpt_tensor *t = nn_ckpt_find(c, "run.test_predictions");
    if (!t) return 0; /* a checkpoint of an older version: the next pass has no flips */
    if (t->count != (uint64_t)r->test.count)
        return app_run_fail("--resume", "the checkpoint's test predictions do not fit this run's test set");
    for (int i = 0; i < r->test.count; i++) {
        const float v = t->data[i];
        if (!(v >= 0 && v < cf->classes) || v != (float)(int)v)
            return app_run_fail("--resume", "the checkpoint's test predictions are damaged");
        cf->prev[i] = (int32_t)v;
    }
    cf->prev_valid = 1;
    return 0;
}

int app_run_classes_open(run *r, int keep_rows, char *err, size_t errlen)
{
    char path[1200];
    const size_t len = 16 + 16 * (size_t)r->classes;
    char *header = malloc(len);
    if (!header) return snprintf(err, errlen, "out of memory"), -1;
    snprintf(path, sizeof path, "%s/class_acc.csv", r->o->out);
    app_class_csv_header(r->classes, header, len);
    const int rc = app_csv_open(&r->class_csv, path, header, keep_rows, 0, err, errlen);
    free(header);
    return rc;
}

/* DIR/test_predictions.csv: "sample,label,prediction" of the latest test pass, replaced
 * atomically (a sweep compares its cells' across seeds; a user's confusion matrix) */
static int write_predictions(const run *r)
{
    const app_class_figures *cf = &r->cls;
    const size_t cap = 32 + (size_t)r->test.count * 36;
    char *text = malloc(cap), path[1200], err[1024];
    if (!text) return app_run_fail("", "out of memory");
    size_t off = (size_t)snprintf(text, cap, "sample,label,prediction\n");
    for (int i = 0; i < r->test.count && off < cap; i++)
        off += (size_t)snprintf(text + off, cap - off, "%d,%d,%d\n", i, (int)r->test.labels[i], (int)cf->prev[i]);
    snprintf(path, sizeof path, "%s/test_predictions.csv", r->o->out);
    const int rc = off < cap ? app_write_file_atomic(path, text, off, err, sizeof err) : -1;
    free(text);
    return rc ? app_run_fail("test_predictions.csv", off < cap ? err : "a line too long") : 0;
}

int app_run_classes_write(run *r, app_epoch_row *row)
{
    if (r->cls.prev_valid && write_predictions(r) != 0) return 1;
    app_class_figures *cf = &r->cls;
    cf->epoch = row->epoch;
    for (int s = 0; s < NN_SHOTS; s++) row->test_acc_shot[s] = cf->long_tail ? cf->shots.acc[s] : NAN;
    row->test_flip_prev = cf->flip_prev;
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
