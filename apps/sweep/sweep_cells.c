/* apps/sweep/sweep_cells.c — the cells of a sweep as child processes (`gammacl train`, then
 * `gammacl eval`), one per device at a time, with progress, failures recorded, signals passed on,
 * and a lock per cell (DIR/locks/<name>) so that several processes (shards, MPI ranks, sweeps on
 * one folder) never run the same cell: a cell whose lock another process holds is left to it, and
 * a cell is read from its folder again once locked, since another process may have finished it.
 *
 * Children are started with fork + exec of this same program; each dies with the sweep
 * (PR_SET_PDEATHSIG), so a SIGKILL of the sweep loses at most the unfinished epochs of the cells
 * that ran (their checkpoints are written at every epoch end). SIGINT/SIGTERM reach the children
 * (a terminal's Ctrl-C reaches the whole process group; the sweep passes SIGTERM on): each one
 * stops after its step with a checkpoint, and a rerun resumes it.
 * --cell-timeout: a child running longer is sent SIGTERM (a training stops with a checkpoint),
 * and SIGKILL if it has not ended a grace period later (a hung driver); the cell is recorded as
 * failed, and --retry-failed continues it from its last checkpoint. A child stuck where not even
 * SIGKILL ends it (uninterruptible sleep in a kernel driver) keeps its device busy.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "files.h"
#include "sweep_internal.h"

static void cell_dir(const sweep *s, int c, char *out, size_t len)
{
    snprintf(out, len, "%s/cells/%s", s->o->out, s->cells[c].name);
}

static void count(sweep *s, int c, int sign)
{
    if (!sw_mine(s, c)) return;
    if (s->state[c] == SW_DONE) s->done += sign;
    else if (s->state[c] == SW_FAILED) s->failed += sign;
}

void sw_reclassify(sweep *s, int c, int retry, char *reason, size_t len)
{
    char dir[1200], why[1024];
    cell_dir(s, c, dir, sizeof dir);
    count(s, c, -1);
    s->state[c] = sw_cell_state(dir, s->train.epochs, retry, reason ? reason : why, reason ? len : sizeof why);
    if (s->state[c] == SW_EVAL && s->o->no_eval) s->state[c] = SW_DONE;
    count(s, c, +1);
}

/* 1: locked by this process; 0: another process holds it; -1: an error (printed) */
static int lock_cell(sweep *s, int c)
{
    char path[1300], err[1600], what[200];
    snprintf(path, sizeof path, "%s/locks/%s", s->o->out, s->cells[c].name);
    snprintf(what, sizeof what, "gammacl sweep%s", s->ranks > 1 ? " (an MPI rank)" : "");
    const int fd = app_lock_file(path, APP_LOCK_TRY, what, err, sizeof err);
    if (fd == -2) return 0;
    if (fd < 0) {
        fprintf(stderr, "gammacl sweep: %s\n", err);
        return -1;
    }
    s->lock[c] = fd;
    return 1;
}

static void unlock_cell(sweep *s, int c)
{
    if (s->lock[c] >= 0) close(s->lock[c]);
    s->lock[c] = -1;
}

/* 0: started; 1: nothing to run (another process has it or finished it); -1: could not start */
static int start_cell(sweep *s, int slot, int c)
{
    if (s->lock[c] < 0) {
        const int got = lock_cell(s, c);
        if (got <= 0) {
            if (got == 0) s->elsewhere[c] = 1;
            return got == 0 ? 1 : -1;
        }
        sw_reclassify(s, c, s->o->retry_failed, NULL, 0);
        if (s->state[c] == SW_DONE || s->state[c] == SW_FAILED) {
            unlock_cell(s, c);
            return 1;
        }
    }
    char dir[1200], log[1300], gamma[32], seed[32], rho[32];
    cell_dir(s, c, dir, sizeof dir);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    const sw_cell *cell = &s->cells[c];
    device_slot *d = &s->dev[slot];
    char *argv[SW_MAX_VALUES + 40];
    int n = 0;
    argv[n++] = s->exe;
    if (s->state[c] == SW_EVAL) {
        argv[n++] = "eval", argv[n++] = "--run", argv[n++] = dir;
        argv[n++] = "--device", argv[n++] = d->spec;
    } else if (s->state[c] == SW_RESUME) {
        argv[n++] = "train", argv[n++] = "--resume", argv[n++] = dir;
        argv[n++] = "--device", argv[n++] = d->spec, argv[n++] = "--progress", argv[n++] = "0";
    } else {
        char err[SW_ERRLEN];
        if (app_remove_tree(dir) != 0 || app_make_dirs(dir, err, sizeof err) != 0) {
            fprintf(stderr, "gammacl sweep: cannot prepare %s\n", dir);
            unlock_cell(s, c);
            return -1;
        }
        snprintf(gamma, sizeof gamma, "%.17g", cell->gamma);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)cell->seed);
        argv[n++] = "train";
        for (int i = 0; i < s->nargs && n < SW_MAX_VALUES + 16; i++) argv[n++] = s->args[i];
        argv[n++] = "--loss", argv[n++] = cell->loss ? "bce" : "ce";
        argv[n++] = "--gamma", argv[n++] = gamma, argv[n++] = "--seed", argv[n++] = seed;
        argv[n++] = "--bias-init", argv[n++] = (char *)cell->bias_init;
        if (cell->rho > 0) snprintf(rho, sizeof rho, "%.17g", cell->rho), argv[n++] = "--imbalance", argv[n++] = rho;
        if (cell->known[0]) argv[n++] = "--known", argv[n++] = (char *)cell->known;
        argv[n++] = "--out", argv[n++] = dir, argv[n++] = "--device", argv[n++] = d->spec;
        argv[n++] = "--progress", argv[n++] = "0";
    }
    argv[n] = NULL;
    const pid_t pid = app_spawn(argv, NULL, log);
    if (pid < 0) {
        fprintf(stderr, "gammacl sweep: cannot start %s: %s\n", cell->name, strerror(errno));
        unlock_cell(s, c);
        return -1;
    }
    d->pid = pid, d->cell = c, d->stage = s->state[c] == SW_EVAL, d->t0 = app_now();
    d->stopped_at = 0, d->timeout_sent = 0, d->killed = 0;
    if (s->started[c] == 0) s->started[c] = d->t0;
    if (s->state[c] != SW_EVAL) {
        char who[32] = "";
        if (s->ranks > 1) snprintf(who, sizeof who, "rank %d, ", s->rank);
        printf("  start %-24s on %sdevice %s%s\n", cell->name, who, d->spec,
               s->state[c] == SW_RESUME ? " (resuming from its checkpoint)" : "");
        fflush(stdout);
    }
    return 0;
}

/* The last line of a child's log that a gammacl command wrote (its error). */
static void failure_reason(const char *dir, char *out, size_t len)
{
    char path[1300], buf[8192];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    snprintf(out, len, "no message (see %s)", path);
    FILE *f = fopen(path, "r");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (strncmp(line, "gammacl ", 8) == 0) snprintf(out, len, "%s", line);
    }
}

void sw_format_duration(double s, char *out, size_t len)
{
    if (!(s >= 0) || s > 1e7) snprintf(out, len, "?");
    else if (s < 60) snprintf(out, len, "%.0fs", s);
    else if (s < 3600) snprintf(out, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* test accuracy and the trained loss's convergence rate, from the cell's summary.json */
static void cell_figures(const char *dir, int loss, double *acc, double *slope)
{
    char path[1300], err[256], *text = NULL;
    *acc = *slope = NAN;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (app_read_text_file(path, 16u << 20, &text, err, sizeof err) != 0) return;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "final"), "test_acc");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "convergence");
    c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "train"), loss ? "bce" : "ce");
    c = cJSON_GetObjectItemCaseSensitive(c, "slope_log_E_per_epoch");
    if (cJSON_IsNumber(a)) *acc = a->valuedouble;
    if (cJSON_IsNumber(c)) *slope = c->valuedouble;
    cJSON_Delete(j);
}

void sw_report_done(sweep *s, int c, const char *where, double t)
{
    char dir[1200], took[32], eta[32] = "?";
    cell_dir(s, c, dir, sizeof dir);
    double acc, slope;
    cell_figures(dir, s->cells[c].loss, &acc, &slope);
    s->work_seconds += t;
    s->finished_here++;
    const int left = s->todo_total - s->done - s->failed;
    const int slots = s->ranks > 1 ? s->ranks : s->ndev;
    sw_format_duration(t, took, sizeof took);
    if (s->finished_here > 0) sw_format_duration(s->work_seconds / s->finished_here * left / slots, eta, sizeof eta);
    printf("[%d/%d] %-24s %-12s %7s  test acc %6.2f%%  rate %8.4f ln E/epoch  | ETA %s\n",
           s->done + s->failed, s->todo_total, s->cells[c].name, where, took, 100 * acc, slope, eta);
    fflush(stdout);
}

/* why: the reason to record, or NULL to take it from the exit status and the cell's log */
static void record_failure(sweep *s, int c, int stage, int status, const char *why)
{
    char dir[1200], reason[1024];
    cell_dir(s, c, dir, sizeof dir);
    if (why) snprintf(reason, sizeof reason, "%s", why);
    else if (WIFSIGNALED(status)) snprintf(reason, sizeof reason, "killed by signal %d", WTERMSIG(status));
    else failure_reason(dir, reason, sizeof reason);
    sw_record_failure(dir, stage ? "eval" : "train", WIFEXITED(status) ? WEXITSTATUS(status) : -1, reason);
    count(s, c, -1);
    s->state[c] = SW_FAILED;
    count(s, c, +1);
    if (s->rank > 0) return; /* rank 0 reports it */
    printf("[%d/%d] %-24s FAILED (%s): %s\n", s->done + s->failed, s->todo_total, s->cells[c].name,
           stage ? "evaluation" : "training", reason);
    fflush(stdout);
}

/* A child ended: the next stage, a finished cell, a failure, or (stopping) an interruption. */
static void child_ended(sweep *s, int slot, int status)
{
    device_slot *d = &s->dev[slot];
    const int c = d->cell, stage = d->stage;
    d->pid = 0;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int result;
    /* past the limit: failed, unless it ended well, or ended on the sweep's own stop signal */
    if ((d->timeout_sent || d->killed) && !(code == 0 && !d->killed)) {
        char why[256], limit[32];
        sw_format_duration(s->o->cell_timeout, limit, sizeof limit);
        snprintf(why, sizeof why, "ran past --cell-timeout %s and was stopped%s", limit,
                 d->killed ? " with SIGKILL (it did not end after SIGTERM: a hung device or driver?)"
                 : stage == 0 ? " (its last checkpoint is kept: --retry-failed continues it)" : "");
        record_failure(s, c, stage, status, why);
        if (s->o->fail_fast) s->stopping = 1;
        result = SW_RESULT_FAILED;
    } else if (code == 130 || code == 143 || (s->stopping && WIFSIGNALED(status))) {
        s->state[c] = SW_RESUME; /* stopped with a checkpoint; the rerun checks it again */
        result = SW_RESULT_STOPPED;
    } else if (code != 0) {
        record_failure(s, c, stage, status, NULL);
        if (s->o->fail_fast) s->stopping = 1;
        result = SW_RESULT_FAILED;
    } else if (stage == 0 && !s->o->no_eval) {
        /* evaluated where it trained: another device would sum in another order */
        s->state[c] = SW_EVAL;
        if (s->stopping) result = SW_RESULT_STOPPED;
        else if (start_cell(s, slot, c) == 0) return;
        else record_failure(s, c, 1, 1 << 8, NULL), result = SW_RESULT_FAILED;
    } else {
        count(s, c, -1);
        s->state[c] = SW_DONE;
        count(s, c, +1);
        if (s->rank == 0) sw_report_done(s, c, s->ranks > 1 ? "rank 0" : d->spec, app_now() - s->started[c]);
        result = SW_RESULT_DONE;
    }
    unlock_cell(s, c);
    if (s->rank > 0) sw_worker_result(s, c, result);
}

int sw_next_cell(const sweep *s)
{
    for (int c = 0; c < s->ncells; c++) {
        if (!sw_mine(s, c) || s->elsewhere[c] || s->state[c] == SW_DONE || s->state[c] == SW_FAILED) continue;
        if (s->assigned && s->assigned[c] >= 0) continue;
        int busy = 0;
        for (int k = 0; k < s->ndev; k++)
            if (s->dev[k].pid && s->dev[k].cell == c) busy = 1;
        if (!busy) return c;
    }
    return -1;
}

/* --cell-timeout: SIGTERM to a child past it, SIGKILL to one still running a grace period later
 * (a tenth of the limit, 10 to 60 s: a training finishes its step, and at an epoch's end its test
 * pass, and writes its checkpoint). A child past it while the sweep stops has its stop signal
 * already: a second one would make it quit without its step, so it only gets the SIGKILL. */
static void enforce_timeout(sweep *s)
{
    const double limit = s->o->cell_timeout, grace = fmin(60.0, fmax(10.0, 0.1 * limit)), now = app_now();
    for (int k = 0; limit > 0 && k < s->ndev; k++) {
        device_slot *d = &s->dev[k];
        if (!d->pid) continue;
        if (d->stopped_at == 0 && now - d->t0 > limit) {
            char took[32];
            sw_format_duration(limit, took, sizeof took);
            printf("  stop  %-24s its %s ran past --cell-timeout %s\n", s->cells[d->cell].name,
                   d->stage ? "evaluation" : "training", took);
            fflush(stdout);
            if (!s->stopping) kill(d->pid, SIGTERM), d->timeout_sent = 1;
            d->stopped_at = now;
        } else if (d->stopped_at > 0 && !d->killed && now - d->stopped_at > grace) {
            kill(d->pid, SIGKILL);
            d->killed = 1;
        }
    }
}

/* the sweep's stop to its running cells (not to one the timeout already stopped: it is on its
 * way out, and a second signal would cost it its step) */
static void pass_on(sweep *s, int sig)
{
    for (int k = 0; k < s->ndev; k++)
        if (s->dev[k].pid && !s->dev[k].timeout_sent) kill(s->dev[k].pid, sig);
}

/* Fills free slots: this process's next cells, or a worker's from rank 0. */
static void fill_slots(sweep *s)
{
    for (int k = 0; k < s->ndev && !s->stopping; k++) {
        while (!s->dev[k].pid && !s->stopping) {
            const int c = s->rank > 0 ? sw_ask_rank0(s) : sw_next_cell(s);
            if (c < 0) break;
            const int r = start_cell(s, k, c);
            if (r < 0) {
                char dir[1200];
                cell_dir(s, c, dir, sizeof dir);
                sw_record_failure(dir, "train", -1, "the sweep could not start the cell's process (its output "
                                  "says why)");
                count(s, c, -1);
                s->state[c] = SW_FAILED;
                count(s, c, +1);
            }
            /* not run here: rank 0 reads what the folder holds */
            if (r != 0 && s->rank > 0) sw_worker_result(s, c, r < 0 ? SW_RESULT_FAILED : SW_RESULT_ELSEWHERE);
        }
    }
}

void sw_run_cells(sweep *s)
{
    for (;;) {
        const int sig = *s->signal_seen;
        if (sig && !s->stopping) {
            s->stopping = 1;
            if (s->rank == 0)
                printf("gammacl sweep: stopping: every running cell writes a checkpoint (another Ctrl-C "
                       "stops them at once); rerun `gammacl sweep --out %s` to continue\n", s->o->out);
            fflush(stdout);
            s->signals_passed = *s->signal_count;
            pass_on(s, sig == SIGINT ? SIGINT : SIGTERM);
        } else if (sig && *s->signal_count > s->signals_passed) {
            /* another signal: passed on too, so that the cells quit at once without their step
             * (under mpirun: rank 0's cells; the others got the stop once) */
            s->signals_passed = *s->signal_count;
            pass_on(s, sig == SIGINT ? SIGINT : SIGTERM);
        }
        if (s->ranks > 1 && s->rank > 0 && !s->stopping && sw_stop_asked(s)) s->stopping = 1;
        if (s->ranks > 1 && s->rank == 0 && s->stopping) sw_stop_ranks(s);
        if (s->stopping && !sig && !s->passed_on) {
            /* --fail-fast: the other running cells stop with a checkpoint */
            pass_on(s, SIGTERM);
            s->passed_on = 1;
        }
        fill_slots(s);
        enforce_timeout(s);
        if (s->ranks > 1 && s->rank == 0) sw_serve_ranks(s);
        int running = 0;
        for (int k = 0; k < s->ndev; k++) running += s->dev[k].pid != 0;
        if (!running) {
            if (s->rank > 0 && s->stopping && !s->no_more) sw_ask_rank0(s); /* says goodbye */
            const int waiting = s->ranks > 1 && (s->rank == 0 ? sw_ranks_busy(s) : !s->no_more);
            if (!waiting) break;
        }
        int status;
        const pid_t pid = running ? waitpid(-1, &status, WNOHANG) : 0;
        if (pid > 0) {
            for (int k = 0; k < s->ndev; k++)
                if (s->dev[k].pid == pid) child_ended(s, k, status);
            continue;
        }
        if (pid < 0 && errno != EINTR && errno != ECHILD) break;
        const struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}
