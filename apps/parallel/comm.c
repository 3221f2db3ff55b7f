/* apps/parallel/comm.c — see comm.h: the job's ranks over MPI, or a job of one without it. */
#include "comm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GAMMACL_HAVE_MPI
#include <mpi.h>
#endif

struct app_comm {
    int rank, size, local_rank, local_size;
    int mpi;                   /* MPI_Init was called */
    int peer_lost;             /* a rank's process ended early (app_comm_peer_lost) */
#ifdef GAMMACL_HAVE_MPI
    MPI_Comm world, local;
#endif
};

int app_comm_launched(void)
{
    /* Open MPI's mpirun, PMIx launchers (srun, prterun), and MPICH-style PMI launchers */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int app_comm_available(void)
{
#ifdef GAMMACL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef GAMMACL_HAVE_MPI
/* A failed MPI call as "NAME: the library's words". */
static int mpi_check(int rc, const char *call, char *err, size_t errlen)
{
    if (rc == MPI_SUCCESS) return 0;
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, text, &len);
    snprintf(err, errlen, "%s failed: %s (is every rank of the job still running?)", call, text);
    return -1;
}
#endif

int app_comm_open(app_comm **out, char *err, size_t errlen)
{
    app_comm *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->size = c->local_size = 1;
#ifdef GAMMACL_HAVE_MPI
    if (app_comm_launched()) {
        int provided = 0;
        if (mpi_check(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread", err,
                      errlen) != 0) {
            free(c);
            return -1;
        }
        c->mpi = 1;
        c->world = MPI_COMM_WORLD;
        MPI_Comm_set_errhandler(c->world, MPI_ERRORS_RETURN);
        MPI_Comm_rank(c->world, &c->rank);
        MPI_Comm_size(c->world, &c->size);
        if (mpi_check(MPI_Comm_split_type(c->world, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &c->local),
                      "MPI_Comm_split_type", err, errlen) != 0) {
            MPI_Finalize();
            free(c);
            return -1;
        }
        MPI_Comm_rank(c->local, &c->local_rank);
        MPI_Comm_size(c->local, &c->local_size);
    }
#endif
    *out = c;
    return 0;
}

void app_comm_close(app_comm *c, int abort_code)
{
    if (!c) return;
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) {
        if (abort_code && c->size > 1) MPI_Abort(c->world, abort_code);
        /* MPI_Finalize fences with every rank, a dead one too: under --enable-recovery Open MPI
         * 4.1 can wait there forever (3 of 14 runs of the recovery test hung) once a
         * rank's process is gone, so a job that lost one ends without it */
        if (!c->peer_lost) {
            MPI_Comm_free(&c->local);
            MPI_Finalize();
        }
    }
#else
    (void)abort_code;
#endif
    free(c);
}

void app_comm_peer_lost(app_comm *c)
{
    if (c) c->peer_lost = 1;
}

int app_comm_rank(const app_comm *c) { return c->rank; }
int app_comm_size(const app_comm *c) { return c->size; }
int app_comm_local_rank(const app_comm *c) { return c->local_rank; }
int app_comm_local_size(const app_comm *c) { return c->local_size; }

#ifdef GAMMACL_HAVE_MPI
static int sum_chunks(app_comm *c, void *buf, size_t n, size_t elem, MPI_Datatype t, char *err, size_t errlen)
{
    char *p = buf;
    while (n > 0) {
        const int k = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        if (mpi_check(MPI_Allreduce(MPI_IN_PLACE, p, k, t, MPI_SUM, c->world), "MPI_Allreduce", err, errlen))
            return -1;
        p += (size_t)k * elem, n -= (size_t)k;
    }
    return 0;
}
#endif

int app_comm_sum_f32(app_comm *c, float *buf, size_t n, char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) return sum_chunks(c, buf, n, sizeof *buf, MPI_FLOAT, err, errlen);
#else
    (void)c, (void)buf, (void)n, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_sum_f64(app_comm *c, double *buf, size_t n, char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) return sum_chunks(c, buf, n, sizeof *buf, MPI_DOUBLE, err, errlen);
#else
    (void)c, (void)buf, (void)n, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_minmax_u64(app_comm *c, uint64_t v, uint64_t *min, uint64_t *max, char *err, size_t errlen)
{
    *min = *max = v;
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) {
        unsigned long long in = v, lo = v, hi = v;
        if (mpi_check(MPI_Allreduce(&in, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, c->world), "MPI_Allreduce",
                      err, errlen) ||
            mpi_check(MPI_Allreduce(&in, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, c->world), "MPI_Allreduce",
                      err, errlen))
            return -1;
        *min = lo, *max = hi;
    }
#else
    (void)c, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_bcast(app_comm *c, void *buf, size_t bytes, int root, char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) {
        char *p = buf;
        while (bytes > 0) {
            const int k = bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;
            if (mpi_check(MPI_Bcast(p, k, MPI_BYTE, root, c->world), "MPI_Bcast", err, errlen)) return -1;
            p += k, bytes -= (size_t)k;
        }
    }
#else
    (void)c, (void)buf, (void)bytes, (void)root, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_barrier(app_comm *c, char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) return mpi_check(MPI_Barrier(c->world), "MPI_Barrier", err, errlen);
#else
    (void)c, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_send2(app_comm *c, int to, int tag, const int v[2], char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) return mpi_check(MPI_Send(v, 2, MPI_INT, to, tag, c->world), "MPI_Send", err, errlen);
#else
    (void)c, (void)to, (void)tag, (void)v;
#endif
    snprintf(err, errlen, "no other rank to send to (a job of one)");
    return -1;
}

int app_comm_poll2(app_comm *c, int tag, int *from, int v[2], char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) {
        int flag = 0;
        MPI_Status st;
        if (mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, tag, c->world, &flag, &st), "MPI_Iprobe", err, errlen)) return -1;
        if (!flag) return 0;
        if (mpi_check(MPI_Recv(v, 2, MPI_INT, st.MPI_SOURCE, tag, c->world, MPI_STATUS_IGNORE), "MPI_Recv", err,
                      errlen))
            return -1;
        *from = st.MPI_SOURCE;
        return 1;
    }
#else
    (void)c, (void)tag, (void)from, (void)v, (void)err, (void)errlen;
#endif
    return 0;
}

int app_comm_recv2(app_comm *c, int from, int tag, int v[2], char *err, size_t errlen)
{
#ifdef GAMMACL_HAVE_MPI
    if (c->mpi) return mpi_check(MPI_Recv(v, 2, MPI_INT, from, tag, c->world, MPI_STATUS_IGNORE), "MPI_Recv", err,
                                 errlen);
#else
    (void)c, (void)from, (void)tag, (void)v;
#endif
    snprintf(err, errlen, "no other rank to receive from (a job of one)");
    return -1;
}
