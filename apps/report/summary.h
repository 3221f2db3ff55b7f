/* apps/report/summary.h — the figures of an epoch (a metrics.csv row: one table in summary.c
 * names every column) and summary.json. */
#ifndef GAMMACL_SUMMARY_H
#define GAMMACL_SUMMARY_H

#include <stddef.h>

#include "metrics.h"
#include "net.h"
#include "run.h"

/* The feature metrics of an evaluated epoch (net/metrics.h) and what is derived from them. */
typedef struct app_epoch_metrics {
    int present;               /* 0: not evaluated this epoch (its cells stay empty) */
    double seconds;            /* metric evaluation time, without the test pass every epoch runs */
    nn_split_metrics train, test; /* the training subset and the test set, evaluation mode */
    double ce_star, bce_star;  /* L*_CE and L*_BCE at b* (net/theory.h) */
    /* excess loss L_t - L* and E_t = (L_t - L*)/(L_0 - L*), L_0 from the epoch-0 evaluation */
    double train_ce_excess, train_ce_E, train_bce_excess, train_bce_E;
    double test_ce_excess, test_ce_E, test_bce_excess, test_bce_E;
} app_epoch_metrics;

typedef struct app_epoch_row {
    int epoch;
    int trained;               /* 0: the evaluation before training (epoch 0): no training columns */
    double seconds, lr;
    double train_ce, train_bce, train_acc;
    double test_ce, test_bce, test_acc;
    double bias, b_star, img_per_s;
    app_epoch_metrics met;
} app_epoch_row;

/* The convergence fit over the evaluated epochs (nn_convergence_fit). */
typedef struct app_fit {
    double slope;              /* of ln E_t per epoch (NaN: fewer than two usable points) */
    int epochs_to;             /* first epoch with E_t < 1e-2, -1: not reached */
} app_fit;

typedef struct app_convergence {
    int evaluated;             /* evaluated epochs, epoch 0 included */
    app_fit train_ce, train_bce, test_ce, test_bce;
    double metrics_seconds, epoch_seconds; /* sums over the epochs this process trained */
} app_convergence;

/* The header line of metrics.csv (no newline). */
void app_csv_header(char *out, size_t len);
/* One CSV line (no newline) in the column order of metrics.csv; cells that do not apply (the
 * training columns of epoch 0, the metrics of an epoch without evaluation, NaN) are empty. */
void app_format_row(const app_epoch_row *row, char *out, size_t len);
/* Writes OUT/summary.json atomically: arguments, device, driver, versions, final figures, the
 * last evaluated epoch's metrics (NULL: none) and the convergence fit.
 * finished = 1 at the end of the run. Returns 0 or 1 (after printing the error). */
int app_write_summary(const app_train_opts *o, rt_ctx *rt, nn_model *m, const app_epoch_row *last,
                      const app_epoch_row *last_metrics, const app_convergence *conv,
                      double train_seconds, double train_images, int finished);

#endif
