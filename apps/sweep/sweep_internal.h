/* apps/sweep/sweep_internal.h — what the parts of a running sweep share: the sweep's state, its
 * device slots, and the calls between sweep_exec.c (set-up, outputs), sweep_cells.c (the cells
 * as child processes, their locks) and sweep_ranks.c (cells handed out over MPI ranks). */
#ifndef GAMMACL_SWEEP_INTERNAL_H
#define GAMMACL_SWEEP_INTERNAL_H

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

#include "comm.h"
#include "progress.h"
#include "run.h"
#include "sweep.h"

typedef struct device_slot {
    char spec[32];             /* P:D, given to the children */
    char name[160];
    pid_t pid;                 /* running child, 0 when free */
    int cell;                  /* the cell it runs */
    int stage;                 /* 0 train, 1 eval */
    double t0;                 /* when the child started */
    double stopped_at;         /* when it ran past --cell-timeout (0: not yet) */
    int timeout_sent;          /* the timeout sent it SIGTERM (not sent while the sweep stops:
                                  it has its stop signal already) */
    int killed;                /* SIGKILL sent: it did not end within the grace period */
} device_slot;

/* what a worker rank tells rank 0 of the cell it was given */
enum { SW_RESULT_NONE = -1, SW_RESULT_DONE = 0, SW_RESULT_FAILED = 1, SW_RESULT_ELSEWHERE = 2,
       SW_RESULT_STOPPED = 3 };

typedef struct sweep {
    sw_opts *o;
    sw_grid grid;
    char **args;               /* the shared training options (sweep.json's) */
    int nargs;
    app_train_opts train;      /* what they resolve to */
    sw_cell *cells;
    int ncells;
    sw_state *state;
    double *started;           /* wall time a cell's work began in this process */
    int *lock;                 /* the cell's lock (DIR/locks/<name>) while this process runs it, or -1 */
    unsigned char *elsewhere;  /* another process (shard, rank, sweep) held the cell's lock */
    device_slot dev[SW_MAX_DEVICES];
    int ndev;
    char exe[PATH_MAX];
    int done, failed, todo_total, finished_here;
    double work_seconds;       /* summed over cells finished in this process */
    double t_start;
    int stopping;
    int passed_on;             /* --fail-fast has sent SIGTERM to the running cells */
    volatile sig_atomic_t *signal_seen;
    volatile sig_atomic_t *signal_count; /* SIGINT/SIGTERM received so far */
    int signals_passed;        /* of them, those passed on to the running cells */

    /* MPI: rank 0 hands cells to the other ranks; every rank runs one device */
    app_comm *comm;
    int rank, ranks;
    int *assigned;             /* rank 0: the rank running each cell, or -1 */
    double *assigned_at;
    int workers_left;          /* rank 0: ranks not yet told that no cell is left */
    int asked;                 /* worker: a request waits for rank 0's answer */
    int last_cell, last_result; /* worker: what the next request reports */
    int no_more;               /* worker: rank 0 said no cell is left */
    int job;                   /* rank 0's pid: names this job's rank locks */
    int rank_lock;             /* DIR/locks/rank-<job>-<rank>, held while this rank lives */
    unsigned char *rank_state; /* rank 0: per rank, 0 working, 1 told to end, 2 gone (died) */
    double last_check;         /* when the ranks' locks were last looked at */
    int stop_sent;             /* rank 0: the working ranks were told to stop */
    int mpi_broken;            /* an MPI call failed: the job cannot go on together */
} sweep;

/* 1 when cell c is this process's to run (its shard's, or every cell without --shard) */
int sw_mine(const sweep *s, int c);

/* ---- sweep_cells.c ---- */
/* Runs the cells (of this process, or those rank 0 hands out) until none is left or a stop. */
void sw_run_cells(sweep *s);
/* The figures of cell c from its folder, for a progress line: test accuracy and rate. */
void sw_report_done(sweep *s, int c, const char *where, double seconds);
/* The next cell to run here: not done, failed, busy, assigned or another process's; -1: none. */
int sw_next_cell(const sweep *s);
/* Reads cell c's state from its folder again (another process may have changed it); retry: a
 * recorded failure is dropped, to run the cell again (only for a cell this process is about to
 * run: another process's record is its own). reason (may be NULL) gets why it is not done. */
void sw_reclassify(sweep *s, int c, int retry, char *reason, size_t len);

/* ---- sweep_ranks.c ---- */
/* Rank 0: answers the requests that wait (a worker's finished cell, then its next one). */
void sw_serve_ranks(sweep *s);
/* A worker: the next cell from rank 0 (-1: none yet or none left; see s->no_more). */
int sw_ask_rank0(sweep *s);
/* A worker: its slot ended cell c with result r (SW_RESULT_*), for the next request. */
void sw_worker_result(sweep *s, int c, int result);
/* Rank 0: 1 while some worker has not yet been told that no cell is left. */
int sw_ranks_busy(const sweep *s);
/* Takes this rank's lock (DIR/locks/rank-<job>-<rank>), which it holds while it lives: a rank
 * whose lock is free has died, so that under a launcher that lets a job outlive a rank (Open MPI's
 * --enable-recovery) rank 0 resumes a dead rank's cell and a worker stops when rank 0 is gone.
 * 0, or -1 with err. */
int sw_rank_lock(sweep *s, char *err, size_t errlen);
/* Releases it (and, rank 0, the locks its dead ranks left). */
void sw_rank_unlock(sweep *s);
/* Rank 0, stopping (a signal, --fail-fast): tells every working rank to stop its cell too. A
 * worker: 1 when rank 0 said so. */
void sw_stop_ranks(sweep *s);
int sw_stop_asked(sweep *s);

#endif
