/* apps/sweep/sweep.h — `gammacl sweep`: the gamma study as a grid of ordinary training runs.
 *
 * A sweep is a folder: DIR/sweep.json (the grid, the training options every cell shares,
 * provenance), DIR/cells/<name>/ (one `gammacl train` run folder per cell, plus the cell's
 * eval.json from `gammacl eval`, and its log), and what is made from the finished cells:
 * DIR/sweep.csv, DIR/summary.csv, DIR/plots/ and DIR/report.md. The sweep never trains itself: it
 * starts `gammacl train` and `gammacl eval` as child processes (one per device at a time) and
 * reads their folders, so a cell is exactly what a user would get by hand.
 *
 * Files: sweep_grid.c (lists, cells, names), sweep_state.c (sweep.json, what a cell folder
 * holds), sweep_exec.c (set-up, devices, shards, outputs), sweep_cells.c (children, cell locks,
 * signals, progress), sweep_ranks.c (cells handed out over MPI ranks), sweep_table.c (sweep.csv,
 * summary.csv), sweep_plots.c (the charts), sweep_report.c (report.md).
 */
#ifndef GAMMACL_SWEEP_H
#define GAMMACL_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#define SW_MAX_VALUES 64
#define SW_MAX_BIAS 8
#define SW_MAX_DEVICES 16
#define SW_ERRLEN 1024

typedef struct sw_grid {
    double gammas[SW_MAX_VALUES];
    int ngammas;
    int losses[2];             /* 0 CE, 1 BCE */
    int nlosses;
    uint64_t seeds[SW_MAX_VALUES];
    int nseeds;
    char bias_inits[SW_MAX_BIAS][32]; /* zero | theory | a number; BCE cells only */
    int nbias;
    double rhos[SW_MAX_VALUES];       /* long-tailed: --imbalance per cell (none: the set as it is) */
    int nrhos;
    uint64_t splits[SW_MAX_VALUES];   /* open set: seeds of the random known/unknown class splits */
    int nsplits;
    int known_count;                  /* open set: known classes per split */
    int classes;                      /* open set: the data set's classes the splits draw from */
} sw_grid;

/* what the command line gave */
typedef struct sw_opts {
    char out[1024];
    sw_grid grid;
    int given_gammas, given_losses, given_seeds, given_bias, given_rhos, given_splits;
    int known_count;           /* --known-count (0: not given) */
    char **train_args;         /* the training options every cell shares ("--key", "value", ...) */
    int ntrain_args;
    char devices[512];         /* SPEC,SPEC or all ("" = the default device) */
    int fail_fast, retry_failed;
    double cell_timeout;       /* --cell-timeout: seconds a cell's training or evaluation process
                                  may run before it is stopped and recorded as failed (0: none) */
    int collect;               /* only rebuild the tables, plots and report from finished cells */
    int no_eval;               /* cells are done when trained: no `gammacl eval` (no robustness) */
    int shard, shards;         /* --shard I/N: only the cells k with k mod N == I - 1 (0: all) */
} sw_opts;

typedef struct sw_cell {
    char name[96];             /* e.g. ce-g16-s1, bce-g16-s1-theory */
    int loss;
    double gamma;
    uint64_t seed;
    char bias_init[32];        /* "zero" for CE cells (their bias is not trained) */
    double rho;                /* --imbalance of the cell; 0: none */
    uint64_t split;            /* the open-set split's seed; 0: not an open-set cell */
    char known[256];           /* --known of the cell (its split's known classes), or "" */
} sw_cell;

typedef enum {
    SW_TODO,                   /* nothing usable in its folder: train from the start */
    SW_RESUME,                 /* a checkpoint of an unfinished run: train --resume */
    SW_EVAL,                   /* trained, but no valid eval.json: evaluate */
    SW_DONE,                   /* trained and evaluated, every file checked */
    SW_FAILED,                 /* a recorded failure (failed.json) */
} sw_state;

/* ---- sweep_grid.c ---- */
/* Parses one grid list into g; which: "gammas", "losses", "seeds", "bias-init", "rhos" or
 * "splits". */
int sw_parse_list(const char *which, const char *value, sw_grid *g, char *err, size_t errlen);
/* The cells of a grid, seed-major (every gamma gets its first seed before any gets a second),
 * then split, rho, gamma, loss; CE cells are not repeated over bias inits. An open-set grid
 * (splits) needs g->classes and g->known_count. *out is malloc'd. */
int sw_cells(const sw_grid *g, sw_cell **out, int *count);
/* e.g. ce-g16-s1, bce-g16-s1-theory, ce-g16-s1-rho100, bce-g4-s2-zero-split3 */
void sw_cell_name(const sw_cell *c, char *out, size_t len);
/* Adds to `into` the values of `add` it lacks (a sweep only grows); fails, naming what is
 * missing, when add lacks a value of into in a dimension that was given. */
int sw_grid_merge(sw_grid *into, const sw_grid *add, const sw_opts *given, char *err, size_t errlen);
/* "0.5,1,2" style text of a list */
void sw_format_gammas(const sw_grid *g, char *out, size_t len);

/* ---- sweep_state.c ---- */
/* DIR/sweep.json: reads (0; 1 when absent) and writes (atomically). */
int sw_read_sweep_json(const char *dir, sw_grid *g, char ***args, int *nargs, char *err, size_t errlen);
int sw_write_sweep_json(const char *dir, const sw_grid *g, char *const *args, int nargs,
                        const char *devices, char *err, size_t errlen);
/* What the cell's folder holds, checked (files parsed, checkpoint CRC, epochs). reason gets why
 * a folder is not done (for the log), or the recorded failure. */
sw_state sw_cell_state(const char *celldir, int epochs, int retry_failed, char *reason, size_t len);
/* failed.json: the stage ("train" or "eval"), exit status and reason. */
int sw_record_failure(const char *celldir, const char *stage, int status, const char *reason);

/* ---- sweep_exec.c ---- */
/* Runs the sweep; returns the exit code. */
int sw_run(sw_opts *o);
/* "1m05s" style */
void sw_format_duration(double seconds, char *out, size_t len);

/* ---- sweep_table.c, sweep_plots.c, sweep_report.c: made from the cell folders ---- */
typedef struct sw_result sw_result;
/* Reads the figures of the cells whose state (as the sweep checked it) is done and writes
 * sweep.csv and summary.csv. *res gets the results for the plots and the report (free with
 * sw_results_free). */
int sw_write_tables(const char *dir, const sw_cell *cells, const sw_state *state, int n, int epochs,
                    sw_result **res, char *err, size_t errlen);
void sw_results_free(sw_result *res, int n);
/* Writes the PNG and SVG charts into DIR/plots/ and prints each path. */
int sw_write_plots(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                   const char *title, char *err, size_t errlen);
/* Writes DIR/report.md: the summary table and the plots. */
int sw_write_report(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                    const char *title, char *err, size_t errlen);

#endif
