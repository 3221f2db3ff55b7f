/* apps/sweep/sweep_exec.c — running a sweep: the grid from the command line and sweep.json, the
 * devices, the state of every cell, the cells (sweep_cells.c; over MPI ranks, sweep_ranks.c), and
 * the tables, plots and report made from whatever cells are finished.
 *
 * Several processes may work in one sweep folder at once: the shards of `--shard I/N` (a job
 * array), the ranks of an MPI job, and any mix of them. They hold the folder's lock shared (a
 * plain sweep holds it alone), make sweep.json and the outputs one at a time (DIR/locks/setup),
 * and never run one cell twice (a lock per cell). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "files.h"
#include "rank_device.h"
#include "rt.h"
#include "sweep_internal.h"

/* The stop request of SIGINT/SIGTERM, and how many came. A signal handler cannot be given a
 * context, so this is the sweep process's one piece of global mutable state (as in a training
 * run). */
static volatile sig_atomic_t sweep_signal, sweep_signal_count;

static void on_signal(int sig)
{
    if (!sweep_signal) sweep_signal = sig;
    sweep_signal_count++;
}

/* ---- the grid and the shared options ---- */

static char *meta_of(char **args, int nargs, char *err, size_t errlen)
{
    app_train_opts t;
    return app_train_parse_list(args, nargs, &t, err, errlen) == 0 ? app_train_opts_to_meta(&t) : NULL;
}

/* The first option whose value differs between two meta texts, as "--key: A here, B in ..." */
static void first_difference(const char *a, const char *b, char *out, size_t len)
{
    for (const char *p = a; p && *p;) {
        const char *nl = strchr(p, '\n');
        const size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[1200];
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        const char *found = strstr(b, line);
        if (!found || (found != b && found[-1] != '\n') || (found[n] != '\n' && found[n] != 0)) {
            char *eq = strchr(line, '=');
            if (eq) *eq = 0;
            const char *other = NULL;
            char key[80];
            snprintf(key, sizeof key, "%s=", line);
            for (const char *q = b; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL)
                if (strncmp(q, key, strlen(key)) == 0) other = q + strlen(key);
            snprintf(out, len, "--%s is %s in the sweep (sweep.json) but %.*s on this command line",
                     line, eq ? eq + 1 : "?", other ? (int)strcspn(other, "\n") : 1, other ? other : "?");
            return;
        }
        p = nl ? nl + 1 : NULL;
    }
    snprintf(out, len, "the training options differ");
}

static void default_grid(sw_grid *g, const sw_opts *o)
{
    static const double gammas[] = {0.5, 1, 2, 4, 8, 16, 32, 64};
    if (!o->given_gammas) {
        g->ngammas = 8;
        memcpy(g->gammas, gammas, sizeof gammas);
    }
    if (!o->given_losses) g->nlosses = 2, g->losses[0] = 0, g->losses[1] = 1;
    if (!o->given_seeds) g->nseeds = 1, g->seeds[0] = 1;
    if (!o->given_bias) g->nbias = 1, snprintf(g->bias_inits[0], 32, "zero");
}

/* The long-tailed and open-set axes set --imbalance and --known per cell; a new open-set sweep
 * reads its data set's class count for the splits and fixes how many classes each one knows. */
static int resolve_tasks(sweep *s, int fresh, char *err, size_t errlen)
{
    const app_train_opts *t = &s->train;
    if (s->grid.nrhos > 0 && t->imbalance != 0) {
        snprintf(err, errlen, "--imbalance is set per cell by --rhos; leave it out");
        return 2;
    }
    if (s->grid.nsplits > 0 && (t->known[0] || t->class_order[0])) {
        snprintf(err, errlen, "--%s cannot be given with --splits (each split draws its own known classes)",
                 t->known[0] ? "known" : "class-order");
        return 2;
    }
    if (s->o->known_count && s->grid.nsplits == 0) {
        snprintf(err, errlen, "--known-count is the known classes of each of --splits; give --splits N too");
        return 2;
    }
    if (!fresh || s->grid.nsplits == 0) return 0;
    app_dataset d;
    if (app_dataset_open(t->data, 1, &d, err, errlen) != 0) return 2;
    const int K = d.classes;
    app_dataset_free(&d);
    const int m = s->o->known_count ? s->o->known_count : (int)lround(0.6 * K); /* 6 of 10 */
    if (K < 3 || K > 256 || m < 2 || m >= K) {
        snprintf(err, errlen, "--known-count %d: an open-set split of '%s' (%d classes) needs 2 to %d known "
                 "classes", m, t->data, K, K - 1);
        return 2;
    }
    s->grid.classes = K, s->grid.known_count = m;
    return 0;
}

static int resolve_grid(sweep *s, char *err, size_t errlen)
{
    sw_opts *o = s->o;
    const int rc = sw_read_sweep_json(o->out, &s->grid, &s->args, &s->nargs, err, errlen);
    if (rc < 0) return 2;
    if (rc == 1) { /* a new sweep */
        s->grid = o->grid;
        default_grid(&s->grid, o);
        s->args = o->train_args, s->nargs = o->ntrain_args;
        o->train_args = NULL, o->ntrain_args = 0;
    } else {
        sw_grid before;
        memcpy(&before, &s->grid, sizeof before);
        if (sw_grid_merge(&s->grid, &o->grid, o, err, errlen) != 0) return 2;
        if (o->shards && memcmp(&before, &s->grid, sizeof before) != 0) {
            /* the shards split the cells by their place in the grid: one that grew it would split
             * them otherwise than the others */
            snprintf(err, errlen, "--shard: this command adds to the grid of %s/sweep.json; every shard must "
                     "be given the same grid (grow it first with `gammacl sweep --out %s --collect` and the new lists: "
                     "that adds the cells and runs none), then start the shards", o->out, o->out);
            return 2;
        }
        if (o->ntrain_args > 0) {
            /* options given again must agree with the sweep's */
            char **both = calloc((size_t)(s->nargs + o->ntrain_args), sizeof *both);
            if (!both) return 2;
            memcpy(both, s->args, (size_t)s->nargs * sizeof *both);
            memcpy(both + s->nargs, o->train_args, (size_t)o->ntrain_args * sizeof *both);
            char *m0 = meta_of(s->args, s->nargs, err, errlen);
            char *m1 = meta_of(both, s->nargs + o->ntrain_args, err, errlen);
            free(both);
            const int same = m0 && m1 && strcmp(m0, m1) == 0;
            if (m0 && m1 && !same) first_difference(m0, m1, err, errlen);
            free(m0), free(m1);
            if (!same) return 2;
        }
    }
    if (app_train_parse_list(s->args, s->nargs, &s->train, err, errlen) != 0) return 2;
    return resolve_tasks(s, rc == 1, err, errlen);
}

/* ---- devices ---- */

static int resolve_devices(sweep *s, char *err, size_t errlen)
{
    rt_device_info *list = NULL;
    int n = 0;
    if (rt_list_devices(&list, &n, err, errlen) != RT_OK) return free(list), 1;
    const char *env = getenv("GAMMACL_DEVICE");
    char specs[512];
    snprintf(specs, sizeof specs, "%s", s->o->devices[0] ? s->o->devices : env ? env : "");
    int picked[SW_MAX_DEVICES], np = 0;
    if (strcmp(specs, "all") == 0) {
        for (int i = 0; i < n && np < SW_MAX_DEVICES; i++) picked[np++] = i;
    } else {
        char *save = NULL, *tok = specs[0] ? strtok_r(specs, ",", &save) : NULL;
        if (!specs[0]) {
            if (rt_pick_device(list, n, "", &picked[np], err, errlen) != RT_OK) return free(list), 2;
            np++;
        }
        for (; tok && np < SW_MAX_DEVICES; tok = strtok_r(NULL, ",", &save)) {
            int k;
            if (rt_pick_device(list, n, tok, &k, err, errlen) != RT_OK) return free(list), 2;
            for (int j = 0; j < np; j++)
                if (picked[j] == k) {
                    snprintf(err, errlen, "--devices: '%s' names device %d twice", tok, k);
                    return free(list), 2;
                }
            picked[np++] = k;
        }
    }
    for (int i = 0; i < np; i++) {
        const rt_device_info *d = &list[picked[i]];
        snprintf(s->dev[i].spec, sizeof s->dev[i].spec, "%d:%d", d->platform_index, d->device_index);
        snprintf(s->dev[i].name, sizeof s->dev[i].name, "%s (%s)", d->name, d->platform);
    }
    s->ndev = np;
    free(list);
    if (np == 0) snprintf(err, errlen, "no OpenCL device to run on");
    return np ? 0 : 1;
}

/* ---- the sweep ---- */

int sw_mine(const sweep *s, int c)
{
    return s->o->shards == 0 || c % s->o->shards == s->o->shard - 1;
}

static void classify(sweep *s)
{
    for (int c = 0; c < s->ncells; c++) {
        char dir[1200], reason[1024];
        snprintf(dir, sizeof dir, "%s/cells/%s", s->o->out, s->cells[c].name);
        /* a failure is dropped for a rerun only by the process that hands the cell out */
        const int retry = s->o->retry_failed && sw_mine(s, c) && s->rank == 0;
        s->state[c] = sw_cell_state(dir, s->train.epochs, retry, reason, sizeof reason);
        if (s->state[c] == SW_EVAL && s->o->no_eval) s->state[c] = SW_DONE;
        if (!sw_mine(s, c)) continue;
        s->todo_total++;
        if (s->state[c] == SW_DONE) s->done++;
        else if (s->state[c] == SW_FAILED) s->failed++;
    }
}

/* The tables, plots and report from every finished cell, this process's or another's, made one
 * process at a time. */
static int write_outputs(sweep *s)
{
    char err[SW_ERRLEN], title[600], data[200], path[1200];
    for (int c = 0; c < s->ncells; c++)
        if (!sw_mine(s, c) || s->elsewhere[c]) sw_reclassify(s, c, 0, NULL, 0);
    snprintf(path, sizeof path, "%s/locks/setup", s->o->out);
    const int lock = app_lock_file(path, APP_LOCK_WAIT, NULL, err, sizeof err);
    if (lock < 0) {
        fprintf(stderr, "gammacl sweep: %s\n", err);
        return 1;
    }
    snprintf(data, sizeof data, "%s", s->train.data);
    snprintf(title, sizeof title, "%s on %s, %d epochs", s->train.model, data, s->train.epochs);
    if (s->train.train_limit)
        snprintf(title + strlen(title), sizeof title - strlen(title), ", %d training images",
                 s->train.train_limit);
    sw_result *res = NULL;
    int rc = sw_write_tables(s->o->out, s->cells, s->state, s->ncells, s->train.epochs, &res, err, sizeof err);
    if (rc == 0) rc = sw_write_plots(s->o->out, s->cells, res, s->ncells, title, err, sizeof err);
    if (rc == 0) rc = sw_write_report(s->o->out, s->cells, res, s->ncells, title, err, sizeof err);
    sw_results_free(res, s->ncells);
    close(lock);
    if (rc != 0) fprintf(stderr, "gammacl sweep: %s\n", err);
    else printf("tables: %s/sweep.csv, %s/summary.csv; report: %s/report.md\n", s->o->out, s->o->out, s->o->out);
    return rc;
}

static void release(sweep *s)
{
    for (int i = 0; i < s->nargs; i++) free(s->args[i]);
    free(s->args);
    free(s->cells);
    free(s->state);
    free(s->started);
    for (int c = 0; s->lock && c < s->ncells; c++)
        if (s->lock[c] >= 0) close(s->lock[c]);
    free(s->lock);
    free(s->elsewhere);
    free(s->assigned);
    free(s->assigned_at);
    free(s->rank_state);
}

/* The grid and sweep.json, made by one process at a time: the first shard or rank to come
 * writes it, the others read it. */
static int set_up(sweep *s, int write, char *err, size_t errlen)
{
    sw_opts *o = s->o;
    char path[1300];
    snprintf(path, sizeof path, "%s/locks", o->out);
    if (app_make_dirs(path, err, errlen) != 0) return 2;
    snprintf(path, sizeof path, "%s/locks/setup", o->out);
    const int lock = app_lock_file(path, APP_LOCK_WAIT, NULL, err, errlen);
    if (lock < 0) return 2;
    int rc = resolve_grid(s, err, errlen);
    if (rc == 0 && write && sw_write_sweep_json(o->out, &s->grid, s->args, s->nargs, o->devices, err, errlen) != 0) rc = 1;
    close(lock);
    return rc;
}

/* A rank's device: one per rank, by its place on its machine. */
static int rank_device(sweep *s, char *err, size_t errlen)
{
    s->ndev = 1;
    return app_rank_device(app_comm_local_rank(s->comm), s->o->devices, s->dev[0].spec, sizeof s->dev[0].spec,
                           s->dev[0].name, sizeof s->dev[0].name, err, errlen);
}

/* Joins the MPI job when a launcher started this process. */
static int join_ranks(sweep *s, char *err, size_t errlen)
{
    s->ranks = 1;
    if (!app_comm_launched()) return 0;
    if (!app_comm_available()) {
        printf("gammacl sweep: started by an MPI launcher, but this gammacl was built without MPI: each "
               "process works on its own; they share %s safely and split its cells through the cell locks\n",
               s->o->out);
        return 0;
    }
    if (app_comm_open(&s->comm, err, errlen) != 0) return 1;
    s->rank = app_comm_rank(s->comm), s->ranks = app_comm_size(s->comm);
    s->workers_left = s->ranks - 1;
    s->last_cell = -1, s->last_result = SW_RESULT_NONE;
    return 0;
}

/* Everything but the run: rank 0 (or the one process) first, then the other ranks. */
static int prepare(sweep *s, int *lock, int *together, char *err, size_t errlen)
{
    sw_opts *o = s->o;
    int rc = join_ranks(s, err, errlen);
    char locks[1300];
    snprintf(locks, sizeof locks, "%s/locks", o->out);
    if (rc == 0 && app_make_dirs(locks, err, errlen) != 0) rc = 2;
    if (rc == 0) {
        /* --collect only reads cells: it may run beside shards and ranks */
        const int shared = o->shards > 0 || s->ranks > 1 || app_comm_launched() || o->collect;
        char what[80];
        snprintf(what, sizeof what, "gammacl sweep%s", shared ? " (a shard or rank)" : "");
        *lock = app_lock_dir_mode(o->out, shared ? APP_LOCK_SHARED : APP_LOCK_TRY, what, err, errlen);
        if (*lock < 0) rc = 2;
    }
    if (s->ranks > 1) {
        /* rank 0 makes sweep.json; the others read it once it is there */
        int status[2] = {rc, (int)getpid()};
        if (s->rank == 0 && rc == 0) s->job = status[1], status[0] = rc = sw_rank_lock(s, err, errlen) ? 2 : 0;
        if (s->rank == 0 && rc == 0) status[0] = rc = set_up(s, 1, err, errlen);
        char merr[256];
        if (app_comm_bcast(s->comm, status, sizeof status, 0, merr, sizeof merr) != 0) {
            snprintf(err, errlen, "%s", merr);
            return 1;
        }
        if (status[0] != 0) {
            /* every rank knows: they all end */
            *together = 1;
            if (s->rank > 0) snprintf(err, errlen, "rank 0 could not set the sweep up (its message says why)");
            return s->rank > 0 ? status[0] : rc;
        }
        s->job = status[1];
        if (s->rank > 0 && rc == 0 && sw_rank_lock(s, err, errlen) != 0) rc = 2;
        if (s->rank > 0 && rc == 0) rc = set_up(s, 0, err, errlen);
    } else if (rc == 0) {
        rc = set_up(s, 1, err, errlen);
    }
    if (rc == 0) rc = s->comm ? rank_device(s, err, errlen) : resolve_devices(s, err, errlen);
    if (rc == 0 && app_self_exe(s->exe, sizeof s->exe) != 0)
        snprintf(err, errlen, "cannot find this program's own path"), rc = 1;
    if (rc == 0 && sw_cells(&s->grid, &s->cells, &s->ncells) != 0)
        snprintf(err, errlen, "cannot make the grid's cells (out of memory, or open-set splits of %d known of "
                 "%d classes)", s->grid.known_count, s->grid.classes), rc = 1;
    if (rc == 0 && o->shards > s->ncells && s->rank == 0)
        printf("gammacl sweep: note: %d shards for %d cells; shards past %d have nothing to run\n", o->shards,
               s->ncells, s->ncells);
    if (rc == 0) {
        const size_t n = (size_t)s->ncells;
        s->state = calloc(n, sizeof *s->state), s->started = calloc(n, sizeof *s->started);
        s->lock = malloc(n * sizeof *s->lock), s->elsewhere = calloc(n, 1);
        s->assigned = malloc(n * sizeof *s->assigned), s->assigned_at = calloc(n, sizeof *s->assigned_at);
        s->rank_state = calloc((size_t)s->ranks, 1);
        if (!s->state || !s->started || !s->lock || !s->elsewhere || !s->assigned || !s->assigned_at ||
            !s->rank_state)
            snprintf(err, errlen, "out of memory"), rc = 1;
        for (size_t c = 0; rc == 0 && c < n; c++) s->lock[c] = -1, s->assigned[c] = -1;
    }
    return rc;
}

static void print_header(const sweep *s)
{
    const sw_opts *o = s->o;
    char gl[400], tasks[160] = "", share[120] = "";
    sw_format_gammas(&s->grid, gl, sizeof gl);
    if (s->grid.nrhos) snprintf(tasks, sizeof tasks, "; %d imbalance ratio%s", s->grid.nrhos, s->grid.nrhos > 1 ? "s" : "");
    if (s->grid.nsplits)
        snprintf(tasks + strlen(tasks), sizeof tasks - strlen(tasks), "; %d open-set split%s of %d known of %d "
                 "classes", s->grid.nsplits, s->grid.nsplits > 1 ? "s" : "", s->grid.known_count, s->grid.classes);
    if (o->shards) snprintf(share, sizeof share, "; shard %d/%d: %d cells", o->shard, o->shards, s->todo_total);

    printf("sweep %s: %d cells (gammas %s; %d loss%s; %d seed%s; BCE bias init x%d%s), %d epochs each; "
           "%d done, %d failed before%s; on %d %s%s\n", o->out, s->ncells, gl, s->grid.nlosses,
           s->grid.nlosses > 1 ? "es" : "", s->grid.nseeds, s->grid.nseeds > 1 ? "s" : "", s->grid.nbias, tasks,
           s->train.epochs, s->done, s->failed, share, s->ranks > 1 ? s->ranks : s->ndev,
           s->ranks > 1 ? "MPI ranks" : "device", s->ranks > 1 ? ", a device each" : s->ndev > 1 ? "s" : "");
    if (s->ranks > 1) printf("  rank 0 runs on device %s: %s\n", s->dev[0].spec, s->dev[0].name);
    else
        for (int k = 0; k < s->ndev; k++) printf("  device %s: %s\n", s->dev[k].spec, s->dev[k].name);
    fflush(stdout);
}

int sw_run(sw_opts *o)
{
    sweep s = {.o = o, .t_start = app_now(), .signal_seen = &sweep_signal, .signal_count = &sweep_signal_count, .rank_lock = -1};
    char err[SW_ERRLEN] = "";
    int lock = -1, together = 0;
    int rc = prepare(&s, &lock, &together, err, sizeof err);
    if (rc != 0) {
        if (s.rank == 0 || !together) fprintf(stderr, "gammacl sweep%s: %s\n", s.ranks > 1 ? " (an MPI rank)" : "", err);
        if (lock >= 0) close(lock);
        sw_rank_unlock(&s);
        release(&s);
        /* an error on one rank alone would leave the others waiting: it ends the job */
        app_comm_close(s.comm, together ? 0 : rc);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    classify(&s);
    if (s.rank == 0) print_header(&s);
    else printf("  rank %d runs on device %s: %s\n", s.rank, s.dev[0].spec, s.dev[0].name), fflush(stdout);
    /* every rank's line before the first cell's */
    if (s.ranks > 1 && app_comm_barrier(s.comm, err, sizeof err) != 0) fprintf(stderr, "gammacl sweep: %s\n", err);
    if (!o->collect) sw_run_cells(&s);
    if (s.rank == 0) rc = write_outputs(&s) ? 1 : 0;
    int left = 0, all_done = 0;
    for (int c = 0; c < s.ncells; c++) {
        if (sw_mine(&s, c) && !s.elsewhere[c] && s.state[c] != SW_DONE && s.state[c] != SW_FAILED) left++;
        all_done += s.state[c] == SW_DONE;
    }
    char took[32];
    sw_format_duration(app_now() - s.t_start, took, sizeof took);
    if (s.rank == 0) {
        if (o->shards)
            printf("shard %d/%d: %d of %d cells done, %d failed, in %s; the sweep: %d of %d cells done\n", o->shard,
                   o->shards, s.done, s.todo_total, s.failed, took, all_done, s.ncells);
        else printf("%d of %d cells done, %d failed, in %s\n", s.done, s.ncells, s.failed, took);
    }
    if (sweep_signal > 0) rc = 128 + sweep_signal;
    else if (s.failed) rc = rc ? rc : 1;
    else if (left) rc = rc ? rc : 1;
    if (s.rank > 0) rc = sweep_signal > 0 ? 128 + sweep_signal : 0; /* rank 0 speaks for the job */
    if (s.mpi_broken) rc = rc ? rc : 1;
    close(lock);
    sw_rank_unlock(&s);
    release(&s);
    /* a broken job: the other ranks may wait on this one; end them all */
    app_comm_close(s.comm, s.mpi_broken ? rc : 0);
    return rc;
}
