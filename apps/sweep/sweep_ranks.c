/* apps/sweep/sweep_ranks.c — a sweep over the ranks of an MPI job (`mpirun -np N gammacl sweep`):
 * rank 0 hands the cells out one at a time, as ranks ask, so a slow device takes fewer; every
 * rank runs its cells on its own device as child processes, exactly as a sweep of one process
 * does, and tells rank 0 how each ended when it asks for the next; rank 0 alone prints the
 * progress and writes the tables, plots and report.
 *
 * Messages are two ints: a request (tag REQUEST: the cell the rank was given last and how it
 * ended, or -1 at first), the answer (tag ASSIGN: a cell, or -1 when none is left), and a
 * stopping rank's last word (tag GOODBYE: its last cell's end; no answer). Everything a cell
 * leaves is in its folder, so a rank that dies takes only its unfinished epochs with it.
 *
 * A rank's death: Open MPI ends the whole job by default (each running cell keeps its last
 * checkpoint; a rerun resumes them). Under --enable-recovery the others go on: every rank holds
 * a lock file while it lives, rank 0 looks at the locks of the ranks it waits for once a second,
 * and a dead rank's cell goes back to the queue (it resumes from its checkpoint); a worker whose
 * rank 0 died ends after its cell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"

#include "sweep_internal.h"

enum { TAG_REQUEST = 11, TAG_ASSIGN = 12, TAG_GOODBYE = 13, TAG_STOP = 14 };

/* an MPI call failed: this rank stops waiting for the others and ends the job */
static void mpi_failed(sweep *s, const char *err)
{
    fprintf(stderr, "gammacl sweep (rank %d): %s\n", s->rank, err);
    s->stopping = 1, s->mpi_broken = 1;
    s->workers_left = 0, s->no_more = 1;
}

/* rank 0: how cell c ended on rank `from` */
static void take_result(sweep *s, int from, int c, int result)
{
    if (c < 0 || c >= s->ncells) return;
    s->assigned[c] = -1;
    char where[32];
    snprintf(where, sizeof where, "rank %d", from);
    char reason[1024] = "";
    sw_reclassify(s, c, 0, reason, sizeof reason); /* what the worker left in the cell's folder */
    if (result == SW_RESULT_STOPPED) return;
    if (result == SW_RESULT_ELSEWHERE) {
        s->elsewhere[c] = s->state[c] != SW_DONE && s->state[c] != SW_FAILED;
        return;
    }
    if (result == SW_RESULT_DONE) {
        /* the worker saw it end well; this host's view of a shared folder may lag behind */
        if (s->state[c] != SW_DONE) {
            if (sw_mine(s, c)) s->done++, s->failed -= s->state[c] == SW_FAILED;
            s->state[c] = SW_DONE;
        }
        sw_report_done(s, c, where, app_now() - s->assigned_at[c]);
    } else if (result == SW_RESULT_FAILED) {
        if (s->state[c] != SW_FAILED) s->state[c] = SW_FAILED, s->failed++;
        printf("[%d/%d] %-24s FAILED on %s: %s\n", s->done + s->failed, s->todo_total, s->cells[c].name, where,
               reason[0] ? reason : "see its failed.json and log.txt");
        fflush(stdout);
        if (s->o->fail_fast) s->stopping = 1;
    }
}

static void rank_lock_path(const sweep *s, int rank, char *out, size_t len)
{
    snprintf(out, len, "%s/locks/rank-%d-%d", s->o->out, s->job, rank);
}

int sw_rank_lock(sweep *s, char *err, size_t errlen)
{
    char path[1300];
    rank_lock_path(s, s->rank, path, sizeof path);
    s->rank_lock = app_lock_file(path, APP_LOCK_TRY, NULL, err, errlen);
    return s->rank_lock >= 0 ? 0 : -1;
}

void sw_rank_unlock(sweep *s)
{
    char path[1300];
    if (s->rank_lock < 0) return;
    rank_lock_path(s, s->rank, path, sizeof path);
    unlink(path);
    close(s->rank_lock);
    s->rank_lock = -1;
    for (int r = 1; s->rank == 0 && s->rank_state && r < s->ranks; r++)
        if (s->rank_state[r] == 2) rank_lock_path(s, r, path, sizeof path), unlink(path);
}

/* 0 when rank r's process has ended (its lock is free), 1 while it lives (or cannot be told) */
static int rank_alive(const sweep *s, int r)
{
    char path[1300], err[256];
    rank_lock_path(s, r, path, sizeof path);
    const int fd = app_lock_file(path, APP_LOCK_TRY, NULL, err, sizeof err);
    if (fd >= 0) close(fd);
    return fd < 0;
}

/* rank 0: a rank no longer holds its lock: its cell goes back to the queue */
static void check_ranks(sweep *s)
{
    const double t = app_now();
    if (t - s->last_check < 1.0) return;
    s->last_check = t;
    for (int r = 1; r < s->ranks; r++) {
        if (s->rank_state[r] != 0 || rank_alive(s, r)) continue;
        s->rank_state[r] = 2;
        s->workers_left--;
        app_comm_peer_lost(s->comm);
        printf("gammacl sweep: rank %d has ended (its process is gone); its cell goes to the other ranks\n", r);
        for (int c = 0; c < s->ncells; c++)
            if (s->assigned[c] == r) {
                s->assigned[c] = -1;
                sw_reclassify(s, c, 0, NULL, 0);
                printf("  %s %s\n", s->cells[c].name, s->state[c] == SW_RESUME ? "will resume from its checkpoint"
                       : s->state[c] == SW_DONE ? "was finished" : "will start again (no checkpoint yet)");
            }
        fflush(stdout);
    }
}

void sw_serve_ranks(sweep *s)
{
    char err[512];
    int from, v[2];
    for (;;) {
        const int got = app_comm_poll2(s->comm, TAG_GOODBYE, &from, v, err, sizeof err);
        if (got < 0) return mpi_failed(s, err);
        if (!got) break;
        if (s->rank_state[from] != 0) continue;
        take_result(s, from, v[0], v[1]);
        s->workers_left--;
        s->rank_state[from] = 1;
        for (int c = 0; c < s->ncells; c++) /* nothing more runs there */
            if (s->assigned[c] == from) s->assigned[c] = -1;
    }
    for (;;) {
        const int got = app_comm_poll2(s->comm, TAG_REQUEST, &from, v, err, sizeof err);
        if (got < 0) return mpi_failed(s, err);
        if (!got) break;
        if (s->rank_state[from] != 0) continue; /* sent before it died */
        take_result(s, from, v[0], v[1]);
        const int c = s->stopping ? -1 : sw_next_cell(s);
        if (c >= 0) s->assigned[c] = from, s->assigned_at[c] = app_now();
        else s->workers_left--, s->rank_state[from] = 1;
        const int answer[2] = {c, 0};
        if (app_comm_send2(s->comm, from, TAG_ASSIGN, answer, err, sizeof err) != 0) return mpi_failed(s, err);
    }
    check_ranks(s);
}

void sw_stop_ranks(sweep *s)
{
    char err[512];
    if (s->stop_sent || s->mpi_broken) return;
    s->stop_sent = 1;
    const int v[2] = {0, 0};
    for (int r = 1; r < s->ranks; r++)
        if (s->rank_state[r] == 0 && app_comm_send2(s->comm, r, TAG_STOP, v, err, sizeof err) != 0)
            return mpi_failed(s, err);
}

int sw_stop_asked(sweep *s)
{
    char err[512];
    int from, v[2];
    const int got = app_comm_poll2(s->comm, TAG_STOP, &from, v, err, sizeof err);
    if (got < 0) mpi_failed(s, err);
    return got != 0;
}

int sw_ranks_busy(const sweep *s)
{
    return s->workers_left > 0;
}

void sw_worker_result(sweep *s, int c, int result)
{
    s->last_cell = c, s->last_result = result;
}

int sw_ask_rank0(sweep *s)
{
    char err[512];
    if (s->no_more) return -1;
    int from, v[2];
    if (s->stopping) {
        /* the request in flight is answered first; then a last word, which gets no answer */
        int report[2] = {s->last_cell, s->last_result};
        if (s->asked) {
            const int got = app_comm_poll2(s->comm, TAG_ASSIGN, &from, v, err, sizeof err);
            if (got < 0) mpi_failed(s, err), s->no_more = 1;
            if (got <= 0) return -1;
            s->asked = 0;
            if (v[0] < 0) {
                s->no_more = 1;
                return -1;
            }
            report[0] = v[0], report[1] = SW_RESULT_STOPPED; /* given, never started */
        }
        s->no_more = 1;
        if (app_comm_send2(s->comm, 0, TAG_GOODBYE, report, err, sizeof err) != 0) mpi_failed(s, err);
        return -1;
    }
    const int report[2] = {s->last_cell, s->last_result};
    if (!s->asked) {
        if (app_comm_send2(s->comm, 0, TAG_REQUEST, report, err, sizeof err) != 0) {
            mpi_failed(s, err);
            return -1;
        }
        s->asked = 1;
        s->last_cell = -1, s->last_result = SW_RESULT_NONE;
    }
    const int got = app_comm_poll2(s->comm, TAG_ASSIGN, &from, v, err, sizeof err);
    if (got < 0) {
        mpi_failed(s, err);
        return -1;
    }
    if (!got) {
        const double t = app_now();
        if (t - s->last_check >= 1.0) {
            s->last_check = t;
            if (!rank_alive(s, 0)) {
                printf("gammacl sweep: rank %d: rank 0 has ended (its process is gone); this rank stops. "
                       "Rerun the sweep to finish it\n", s->rank);
                fflush(stdout);
                app_comm_peer_lost(s->comm);
                s->no_more = 1;
            }
        }
        return -1;
    }
    s->asked = 0;
    if (v[0] < 0 || v[0] >= s->ncells) {
        s->no_more = 1;
        return -1;
    }
    return v[0];
}
