/* apps/parallel/comm.h — the ranks of an MPI job, for the commands that scale out: a sweep's
 * cells handed out by rank 0, and data-parallel training's gradient average. The only code that
 * talks to MPI. Built without MPI (meson -Dmpi=disabled, or no MPI found) every call works on a
 * job of one rank, and app_comm_open says so when mpirun started the process.
 *
 * A process is a rank of a job only when an MPI launcher started it (mpirun, srun: its
 * environment says so); otherwise it is the one rank of its own job and MPI is never
 * initialized, so a plain `gammacl train` neither needs nor touches an MPI runtime. */
#ifndef GAMMACL_COMM_H
#define GAMMACL_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef struct app_comm app_comm;

/* 1 when an MPI launcher started this process (its environment names a rank). */
int app_comm_launched(void);
/* 1 when this build has MPI. */
int app_comm_available(void);

/* Joins the job (MPI_Init when launched, else a job of one). Returns 0, or -1 with err. */
int app_comm_open(app_comm **c, char *err, size_t errlen);
/* Leaves the job (MPI_Finalize). abort_code != 0: ends every rank of the job with that code
 * (MPI_Abort), for an error that leaves the other ranks waiting. */
void app_comm_close(app_comm *c, int abort_code);

/* Says a rank's process has ended before the job: app_comm_close then skips MPI_Finalize,
 * which would wait on the dead rank. */
void app_comm_peer_lost(app_comm *c);
int app_comm_rank(const app_comm *c);
int app_comm_size(const app_comm *c);
/* The rank among the ranks of this machine (node-local), and how many there are. */
int app_comm_local_rank(const app_comm *c);
int app_comm_local_size(const app_comm *c);

/* Collective calls: every rank must make the same calls in the same order. 0, or -1 with err. */
int app_comm_sum_f32(app_comm *c, float *buf, size_t n, char *err, size_t errlen);
int app_comm_sum_f64(app_comm *c, double *buf, size_t n, char *err, size_t errlen);
/* the smallest and largest of v over the ranks */
int app_comm_minmax_u64(app_comm *c, uint64_t v, uint64_t *min, uint64_t *max, char *err, size_t errlen);
int app_comm_bcast(app_comm *c, void *buf, size_t bytes, int root, char *err, size_t errlen);
int app_comm_barrier(app_comm *c, char *err, size_t errlen);

/* Point to point messages of two ints (the sweep's requests and assignments). */
int app_comm_send2(app_comm *c, int to, int tag, const int v[2], char *err, size_t errlen);
/* 1 when a message with tag waited (its sender in *from, its ints in v), 0 when none did. */
int app_comm_poll2(app_comm *c, int tag, int *from, int v[2], char *err, size_t errlen);
int app_comm_recv2(app_comm *c, int from, int tag, int v[2], char *err, size_t errlen);

#endif
