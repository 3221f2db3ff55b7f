/* apps/run/run_parallel.c — data-parallel training (`mpirun -np N gammacl train --data-parallel`).
 *
 * Every rank holds the whole data set and the same model, and walks the same epoch order (drawn
 * from the seed and the epoch). Global batch [first, first + n) is split into N contiguous parts,
 * n/N samples each and one more for the first n mod N ranks; each rank runs forward and backward
 * on its part, scales its gradients (the mean over its part) by n_r / n, and one MPI_Allreduce
 * over a single fused buffer — every gradient, then DP_FLAGS floats: SIGINT seen, SIGTERM seen,
 * step failed — gives every rank the gradient of the global batch mean and the job's decision
 * to stop, taken at the same step everywhere. Then every rank takes the same SGD step, so the
 * parameters (and the shared BCE bias) stay identical: checked at every epoch end by a digest.
 * Batch-norm statistics are per rank (as PyTorch's DistributedDataParallel without SyncBN): each
 * rank normalizes with its part's statistics and keeps its own running averages; rank 0's are the
 * ones evaluated and saved. A rank whose part is empty (n < N) adds zeros.
 *
 * Rank 0 alone takes the folder's lock, writes metrics.csv, class_acc.csv, summary.json, hist/
 * and the checkpoints, evaluates and prints; the others wait for it at the next collective call.
 * Failures that every rank learns of (the step's flag, app_dp_agree) end the run cleanly on all
 * ranks; any other (r->dp_known = 0) ends the job with MPI_Abort, so no rank waits forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rank_device.h"
#include "run_internal.h"

enum { FLAG_SIGINT, FLAG_SIGTERM, FLAG_FAILED, DP_FLAGS };

/* a failure on this rank alone, between collective calls: the job cannot go on together */
static int comm_failed(run *r, const char *err)
{
    fprintf(stderr, "gammacl train: rank %d of %d: %s\n", r->rank, r->ranks, err);
    r->dp_known = 0;
    return 1;
}

int app_dp_join(run *r, int asked)
{
    app_train_opts *o = r->o;
    const int saved = o->resume[0] ? o->data_parallel : 0; /* the checkpoint's rank count; 0: plain */
    r->rank = 0, r->ranks = 1;
    if (!asked && !saved) return 0;
    char was[1400] = "";
    if (saved)
        snprintf(was, sizeof was, "the run in %s was trained data-parallel over %d rank%s; ", o->resume, saved,
                 saved == 1 ? "" : "s");
    if (!app_comm_available()) {
        fprintf(stderr, "gammacl train: %s--data-parallel needs gammacl built with MPI, and this one was built "
                "without it (install Open MPI or MPICH and its development files, then reconfigure with "
                "meson setup --reconfigure -Dmpi=enabled)\n", was);
        return 2;
    }
    if (!app_comm_launched()) {
        if (saved)
            fprintf(stderr, "gammacl train: --resume: %sthis is a single process (no MPI launcher started it): "
                    "resume it with the same count: mpirun -np %d gammacl train --resume %s\n", was, saved,
                    o->resume);
        else
            fprintf(stderr, "gammacl train: --data-parallel trains as the ranks of an MPI job: start it with an MPI "
                    "launcher, e.g. mpirun -np 2 gammacl train ... --data-parallel\n");
        return 2;
    }
    char err[1024];
    if (app_comm_open(&r->comm, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl train: --data-parallel: %s\n", err);
        return 2;
    }
    r->rank = app_comm_rank(r->comm), r->ranks = app_comm_size(r->comm);
    if (o->resume[0] && (saved ? saved : 1) != r->ranks) {
        /* every rank read the same checkpoint and refuses alike: the job ends as if plain */
        if (r->rank == 0 && saved)
            fprintf(stderr, "gammacl train: --resume: %sthis job has %d: resume it with the same count (mpirun -np "
                    "%d gammacl train --resume %s)\n", was, r->ranks, saved, o->resume);
        else if (r->rank == 0)
            fprintf(stderr, "gammacl train: --resume: the run in %s was trained by one process (without "
                    "--data-parallel), and this job has %d ranks: resume it as it ran, without the MPI launcher "
                    "and --data-parallel\n", o->resume, r->ranks);
        app_comm_close(r->comm, 0);
        r->comm = NULL, r->rank = 0, r->ranks = 1;
        return 2;
    }
    o->data_parallel = r->ranks;
    return 0;
}

int app_dp_open_device(run *r)
{
    if (!r->comm) return app_setup_device("train", r->o, &r->rt);
    app_train_opts d = *r->o;
    char name[512], err[1024];
    if (!d.device[0] && app_rank_device(app_comm_local_rank(r->comm), NULL, d.device, sizeof d.device, name,
                                        sizeof name, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl train: rank %d of %d: %s\n", r->rank, r->ranks, err);
        return 2;
    }
    printf("rank %d of %d: ", r->rank, r->ranks); /* the line app_setup_device prints follows */
    const int rc = app_setup_device("train", &d, &r->rt);
    if (rc) printf("no device\n");
    return rc;
}

int app_dp_setup(run *r)
{
    if (!r->comm) return 0;
    r->dp_grads = nn_grad_count(r->model);
    r->dp_buf = malloc((r->dp_grads + DP_FLAGS) * sizeof *r->dp_buf);
    return r->dp_buf ? 0 : app_run_fail("", "out of memory");
}

int app_dp_agree(run *r, int rc, int *sig)
{
    if (!r->comm) return rc;
    char err[1024];
    float f[DP_FLAGS] = {sig && *sig == 130, sig && *sig == 143, 0};
    uint64_t lo, hi;
    if (app_comm_sum_f32(r->comm, f, DP_FLAGS, err, sizeof err) != 0 ||
        app_comm_minmax_u64(r->comm, (uint64_t)rc, &lo, &hi, err, sizeof err) != 0)
        return comm_failed(r, err);
    if (sig) *sig = f[FLAG_SIGTERM] > 0 ? 143 : f[FLAG_SIGINT] > 0 ? 130 : 0;
    if (hi || (sig && *sig)) r->dp_known = 1; /* the run ends on every rank */
    return (int)hi;
}

int app_dp_grads(run *r, int first, int n, int slot)
{
    /* this rank's contiguous part of the batch */
    const int N = r->ranks, base = n / N, extra = n % N;
    const int part = base + (r->rank < extra), off = r->rank * base + (r->rank < extra ? r->rank : extra);
    if (part == 0) {
        static const float none[4] = {0, 0, 0, 0};
        memset(r->dp_buf, 0, r->dp_grads * sizeof *r->dp_buf);
        if (nn_stats_restore(r->model, slot, 1, none) == RT_OK) return 0;
        return app_run_fail("training step", rt_error(r->rt));
    }
    if (nn_train_grads(r->model, r->dtrain, first + off, part, slot) != RT_OK ||
        nn_grads_read(r->model, r->dp_buf) != RT_OK)
        return app_run_fail("training step", rt_error(r->rt));
    /* the part's mean gradient times n_r / n: the ranks' sum is the global batch's mean */
    const float scale = (float)part / (float)n;
    if (part != n)
        for (size_t i = 0; i < r->dp_grads; i++) r->dp_buf[i] *= scale;
    return 0;
}

int app_dp_reduce(run *r, int failed, int sig, float lr, int epoch, int step, int *stop)
{
    float *flags = r->dp_buf + r->dp_grads;
    flags[FLAG_SIGINT] = sig == 130, flags[FLAG_SIGTERM] = sig == 143, flags[FLAG_FAILED] = failed != 0;
    char err[1024];
    if (app_comm_sum_f32(r->comm, r->dp_buf, r->dp_grads + DP_FLAGS, err, sizeof err) != 0)
        return comm_failed(r, err);
    *stop = flags[FLAG_SIGTERM] > 0 ? 143 : flags[FLAG_SIGINT] > 0 ? 130 : 0;
    if (flags[FLAG_FAILED] > 0) {
        r->dp_known = 1;
        if (!failed && r->rank == 0)
            fprintf(stderr, "gammacl train: %d other rank%s failed at epoch %d, step %d (see %s message above); "
                    "the run stopped\n", (int)flags[FLAG_FAILED], flags[FLAG_FAILED] > 1 ? "s" : "", epoch + 1,
                    step + 1, flags[FLAG_FAILED] > 1 ? "their" : "its");
        return 1;
    }
    if (nn_grads_write(r->model, r->dp_buf) != RT_OK || nn_sgd_step(r->model, lr) != RT_OK) {
        r->dp_known = 0;
        return app_run_fail("training step", rt_error(r->rt));
    }
    return 0;
}

int app_dp_sum_stats(run *r, int first, int count)
{
    if (!r->comm || count == 0) return 0;
    float *h = malloc((size_t)count * 4 * sizeof *h);
    char err[1024];
    if (!h) snprintf(err, sizeof err, "out of memory");
    else if (nn_stats_raw(r->model, first, count, h) != RT_OK) snprintf(err, sizeof err, "%s", rt_error(r->rt));
    else if (app_comm_sum_f32(r->comm, h, (size_t)count * 4, err, sizeof err) == 0 &&
             nn_stats_restore(r->model, first, count, h) == RT_OK) {
        free(h);
        return 0;
    } else if (!err[0]) snprintf(err, sizeof err, "%s", rt_error(r->rt));
    free(h);
    return comm_failed(r, err);
}

int app_dp_epoch_end(run *r, int epoch)
{
    if (!r->comm) return 0;
    if (app_dp_sum_stats(r, 0, r->steps) != 0) return 1;
    uint64_t d = 0, lo, hi;
    char err[1024];
    if (nn_params_digest(r->model, &d) != RT_OK) return comm_failed(r, rt_error(r->rt));
    if (app_comm_minmax_u64(r->comm, d, &lo, &hi, err, sizeof err) != 0) return comm_failed(r, err);
    if (lo == hi) return 0;
    r->dp_known = 1;
    if (r->rank == 0)
        fprintf(stderr, "gammacl train: the ranks' parameters differ after epoch %d (digests %016llx to %016llx), "
                "though every rank took the same averaged steps: a device computes differently from the others "
                "(run every rank on the same kind of device) or a rank's memory is damaged. The run stopped "
                "before writing epoch %d's checkpoint\n", epoch + 1, (unsigned long long)lo,
                (unsigned long long)hi, epoch + 1);
    return 1;
}

void app_dp_release(run *r, int rc)
{
    free(r->dp_buf);
    r->dp_buf = NULL;
    if (r->comm) {
        fflush(stdout), fflush(stderr);
        app_comm_close(r->comm, rc && !r->dp_known ? rc : 0);
    }
    r->comm = NULL;
}
