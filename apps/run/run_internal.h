/* apps/run/run_internal.h — the state of one training run, shared inside apps/run/ only:
 * run.c (the epoch loop) uses run_setup.c (data, spec, device, model), run_checkpoint.c
 * (checkpoints and --resume), run_metrics.c (feature metrics, E_t, the convergence fit,
 * histograms, metrics.csv rows), run_classes.c (per-class test accuracy, shot groups,
 * class_acc.csv) and run_parallel.c (--data-parallel: the ranks' shares of a batch, the gradient
 * average, the collective decisions); none of those calls back into run.c.
 */
#ifndef GAMMACL_TRAIN_RUN_H
#define GAMMACL_TRAIN_RUN_H

#include <stdio.h>

#include "comm.h"
#include "csv.h"
#include "dataset.h"
#include "metrics.h"
#include "net.h"
#include "progress.h"
#include "summary.h"
#include "run.h"

#define CSV_LINE 8192
#define E_TARGET 1e-2          /* the convergence threshold of summary.json: E_t < 1e-2 */

/* the evaluated epochs' losses (evaluation mode): E_t and the convergence fit need them all */
typedef struct history {
    int n, cap;
    int *epoch;
    double (*loss)[4];         /* training subset CE, BCE; test set CE, BCE */
} history;

typedef struct run {
    app_train_opts *o;
    app_dataset train, test;
    float mean[8], std[8];
    char *spec;
    rt_ctx *rt;
    nn_model *model;
    nn_data *dtrain, *dtest;
    int classes, steps, test_batches;
    long long step0;             /* global step at which this process started */
    int start_epoch, start_step; /* resume point (epoch index, step within it) */
    float *partial;              /* resumed epoch's statistics of the steps already done */
    app_csv csv;
    app_progress progress;
    app_epoch_row last;
    double train_seconds, train_images;
    nn_metrics_ws *mws;          /* feature metrics (NULL with --metrics-every 0) */
    int mtrain_count, mtrain_batches;
    history hist;
    app_convergence conv;
    app_epoch_row last_metrics;  /* the last evaluated epoch's row */
    app_csv class_csv;           /* class_acc.csv: a row per metrics.csv row */
    app_class_figures cls;       /* training counts; the latest test pass per class */
    int wrote_checkpoint;         /* this run has a checkpoint on disk */
    int numeric_fault;            /* stopped by NaN/Inf (resuming as is would repeat it) */
    /* --data-parallel (run_parallel.c); a plain run has comm NULL, rank 0 of 1 */
    app_comm *comm;
    int rank, ranks;              /* rank 0 alone writes the folder, evaluates and prints */
    float *dp_buf;                /* the fused buffer: the gradients, then DP_FLAGS flags */
    size_t dp_grads;              /* gradients in dp_buf */
    int dp_known;                 /* every rank knows that the run ends (no abort needed) */
} run;


/* prints "gammacl train: what: msg" and returns 1 */
static inline int app_run_fail(const char *what, const char *msg)
{
    fprintf(stderr, "gammacl train: %s%s%s\n", what, *what ? ": " : "", msg);
    return 1;
}

/* train_metrics.c */
int app_run_metrics_due(const run *r, int epochs_done);
/* metrics of the training subset and the test set (whose pass also gives the test losses) */
int app_run_metrics(run *r, int epoch, double bias, app_epoch_metrics *met, nn_stats *test);
int app_run_evaluate_untrained(run *r);
void app_run_print_metrics(const app_epoch_metrics *met);
/* Completes the row with the shot groups of the latest test pass (NaN unless long-tailed) and
 * writes it to metrics.csv, and that pass's per-class accuracy to class_acc.csv. */
int app_run_write_row(run *r, app_epoch_row *row);
int app_run_history_save(const run *r, nn_ckpt *c);
int app_run_history_restore(run *r, const nn_ckpt *c);
void app_run_history_free(history *h);

/* run_classes.c: the per-class counters and the predictions go around every test pass
 * (app_run_classes_begin before its first batch, app_run_classes_read after its last); the
 * checkpoint carries the latest pass's predictions (app_run_classes_save, _restore) */
int app_run_classes_setup(run *r);
void app_run_classes_free(run *r);
rt_status app_run_classes_begin(run *r);
rt_status app_run_classes_read(run *r);
int app_run_classes_save(const run *r, nn_ckpt *c);
int app_run_classes_restore(run *r, const nn_ckpt *c);
/* class_acc.csv, keeping keep_rows rows as metrics.csv does (-1: a new file) */
int app_run_classes_open(run *r, int keep_rows, char *err, size_t errlen);
int app_run_classes_write(run *r, app_epoch_row *row);
/* the line with the shot groups at the end of a long-tailed run (nothing otherwise) */
void app_run_classes_print(const run *r);

/* run_parallel.c: --data-parallel. Every function but app_dp_join and app_dp_open_device is a
 * collective call (every rank makes it, in the same order). Each returns 0, or the exit code after
 * a message; a failure that leaves other ranks waiting (r->dp_known = 0) ends the job with
 * MPI_Abort when the run closes its comm. */
/* Joins the job when --data-parallel was asked for (asked: the command line's flag) or the
 * resumed checkpoint's run was data-parallel (o->data_parallel from its meta): refuses a build
 * without MPI, a process not started by an MPI launcher, and a resume with another rank count;
 * then sets r->comm, rank, ranks and o->data_parallel = ranks. */
int app_dp_join(run *r, int asked);
/* The rank's device: --device when given, else app_rank_device by the rank on its machine. */
int app_dp_open_device(run *r);
/* The fused buffer, once the model is built. */
int app_dp_setup(run *r);
/* Every rank's rc and stop signal (130/143, or 0; sig may be NULL) in; the worst rc out, and in
 * *sig the stop that any rank saw (SIGTERM over SIGINT). */
int app_dp_agree(run *r, int rc, int *sig);
/* One data-parallel step of global batch [first, first + n): forward and backward on this rank's
 * part (statistics into slot), the gradients scaled to the global batch mean, then ONE sum over
 * the ranks of the gradients and the flags (failed: this rank's step failed, after its message;
 * sig: its stop request), then the averaged gradients are written back and SGD steps at lr. A
 * failure anywhere stops every rank (returns 1); *stop gets the stop any rank asked for. */
int app_dp_grads(run *r, int first, int n, int slot);
int app_dp_reduce(run *r, int failed, int sig, float lr, int epoch, int step, int *stop);
/* Sums step statistics slots [first, first + count) over the ranks (every rank gets the sums). */
int app_dp_sum_stats(run *r, int first, int count);
/* The end of an epoch's steps: the statistics summed, and every rank's parameters checked equal
 * (a digest's minimum and maximum over the ranks); a mismatch stops the run naming the epoch. */
int app_dp_epoch_end(run *r, int epoch);
/* Leaves the job; rc != 0 that another rank may still wait on (r->dp_known = 0) ends the job with
 * MPI_Abort(rc), so no rank is left hanging. */
void app_dp_release(run *r, int rc);

/* train_checkpoint.c */
int app_ckpt_add_tensor(nn_ckpt *c, const char *name, float *data, size_t count);
int app_run_save_checkpoint(run *r, int epochs_done, int steps_in_epoch);
int app_run_restore_checkpoint(run *r, nn_ckpt *c);
int app_run_resume_options(app_train_opts *o, nn_ckpt *c);
/* Removes the temporary files that writers killed mid-write left in a run folder and its hist/
 * (call while holding the folder's lock: no live writer can own them). */
void app_run_remove_temporaries(const char *dir);
/* refuses to start a new run in a folder that holds one */
int app_run_check_out_dir(const app_train_opts *o);

#endif
