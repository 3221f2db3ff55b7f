/* apps/report/summary.h — the figures of an epoch (a metrics.csv row: one table in summary.c
 * names every column; a class_acc.csv row), summary.json, and the shot-group figures that
 * summary.json and eval.json share. */
#ifndef GAMMACL_SUMMARY_H
#define GAMMACL_SUMMARY_H

#include <stddef.h>

#include "class_acc.h"
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
    double test_acc_shot[NN_SHOTS]; /* many-, medium-, few-shot test accuracy (NaN: not a
                                       long-tailed run, or a group without classes) */
    double test_flip_prev;     /* test samples predicted otherwise than at the previous test pass
                                  (NaN: the run's first) */
} app_epoch_row;

/* Per-class test accuracy of a run's latest test pass and, for a long-tailed (--imbalance) run,
 * its shot groups (net/class_acc.h). The arrays (K each) belong to the run. */
typedef struct app_class_figures {
    int classes;               /* K (0: not set up) */
    int long_tail;             /* --imbalance: the shot groups apply */
    int epoch;                 /* of the latest test pass, -1: none yet */
    int *train_counts;         /* training samples per class */
    int32_t *correct, *count;  /* the test pass: samples predicted right, samples, per class */
    double *acc;               /* correct / count (NaN: no test sample of the class) */
    nn_shot_groups shots;      /* grouped by train_counts, over the same test pass */
    /* prediction stability: each test sample's prediction at this pass and the one before */
    int32_t *pred, *prev;      /* test count each */
    int prev_valid;            /* prev holds a pass (the checkpoint carries it across a resume) */
    double flip_prev;          /* share of pred != prev (NaN: no pass before) */
} app_class_figures;

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
/* class_acc.csv: "epoch,acc_class_0,..,acc_class_{K-1}" and one row of the figures' test pass
 * (no newline; cells of classes without test samples are empty). The row needs 16 + 12 K bytes. */
void app_class_csv_header(int classes, char *out, size_t len);
void app_format_class_row(int epoch, const app_class_figures *cf, char *out, size_t len);
/* Writes OUT/summary.json atomically: arguments, device, driver, versions, final figures, the
 * last evaluated epoch's metrics (NULL: none), the convergence fit, and the per-class figures of
 * the last test pass (NULL: none; "long_tail" only for a long-tailed run).
 * finished = 1 at the end of the run. Returns 0 or 1 (after printing the error). */
int app_write_summary(const app_train_opts *o, rt_ctx *rt, nn_model *m, const app_epoch_row *last,
                      const app_epoch_row *last_metrics, const app_convergence *conv,
                      const app_class_figures *classes, double train_seconds, double train_images,
                      int finished);

/* The shot groups as a JSON object (eval.json's and summary.json's "long_tail"): n_max,
 * many_above, few_below, a note on the groups, and per group (many, medium, few) its classes and
 * acc (null when the group has no test sample). */
struct cJSON *app_shots_json(const nn_shot_groups *g);
/* One line (no newline) with the groups' accuracies, classes and thresholds. */
void app_shots_line(const nn_shot_groups *g, char *out, size_t len);

#endif
