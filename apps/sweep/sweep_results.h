/* apps/sweep/sweep_results.h — the figures of a sweep's cells as sweep_table.c reads them from
 * the cell folders, and their groups over seeds; shared by the table, plot and report writers. */
#ifndef GAMMACL_SWEEP_RESULTS_H
#define GAMMACL_SWEEP_RESULTS_H

#include "sweep.h"

struct sw_result {
    sw_state state;            /* SW_DONE: every figure read; SW_FAILED: reason */
    char device[160];
    char reason[512];
    double seconds;            /* wall time of the run's epochs (metrics.csv) */
    double *v;                 /* sw_ncols() values, NaN where empty */
    int ne;                    /* evaluated epochs of metrics.csv */
    int *e_epoch;
    double *e[4];              /* E_t per evaluated epoch: train CE, train BCE, test CE, test BCE */
};

/* the numeric columns of sweep.csv after the grid columns */
int sw_ncols(void);
const char *sw_col_name(int i);
int sw_col_index(const char *name); /* -1 when unknown */

/* cells with the same loss, gamma, bias init and imbalance ratio (the seeds and open-set splits
 * of one point) */
typedef struct sw_group {
    int loss;
    double gamma;
    char bias[32];
    double rho;                /* 0: no --rhos axis */
    int n, nfailed;            /* finished and failed seeds */
    int *members;              /* indexes of finished cells */
} sw_group;

/* Groups ordered by loss, bias init (in grid order), rho, gamma (ascending). */
int sw_groups(const sw_cell *cells, const sw_result *res, int n, sw_group **out, int *count);
void sw_groups_free(sw_group *g, int count);
/* mean and sample standard deviation of a column over a group's finished cells (NaN values
 * left out; *used gets how many were used; std is NaN below 2) */
void sw_group_stat(const sw_group *g, const sw_result *res, int col, double *mean, double *std, int *used);

/* sweep_seeds.c: column col of every finished cell, its test predictions' mean disagreement with
 * the other seeds of its point and split (NaN without one) */
void sw_seed_disagreement(const char *dir, const sw_cell *cells, sw_result *res, int n, int col);

#endif
