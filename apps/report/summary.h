/* apps/report/summary.h — the figures of an epoch (a metrics.csv row) and summary.json. */
#ifndef GAMMACL_SUMMARY_H
#define GAMMACL_SUMMARY_H

#include <stddef.h>

#include "net.h"
#include "train.h"

typedef struct app_epoch_row {
    int epoch;
    double seconds, lr;
    double train_ce, train_bce, train_acc;
    double test_ce, test_bce, test_acc;
    double bias, b_star, img_per_s;
} app_epoch_row;

/* One CSV line (no newline) in the column order of metrics.csv. */
void app_format_row(const app_epoch_row *row, char *out, size_t len);
/* Writes OUT/summary.json atomically: arguments, device, driver, versions, final figures.
 * finished = 1 at the end of the run. Returns 0 or 1 (after printing the error). */
int app_write_summary(const app_train_opts *o, rt_ctx *rt, nn_model *m, const app_epoch_row *last,
                      double train_seconds, double train_images, int finished);

#endif
