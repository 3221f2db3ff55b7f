/* apps/sweep/sweep_exec.c — running a sweep: the grid from the command line and sweep.json, the
 * state of every cell, and the cells as child processes (`gammacl train`, then `gammacl eval`),
 * one per device at a time, with progress, failures recorded, and signals passed on.
 *
 * Children are started with fork + exec of this same program; each dies with the sweep
 * (PR_SET_PDEATHSIG), so a SIGKILL of the sweep loses at most the unfinished epochs of the cells
 * that ran (their checkpoints are written at every epoch end). SIGINT/SIGTERM reach the children
 * (a terminal's Ctrl-C reaches the whole process group; the sweep passes SIGTERM on): each one
 * stops after its step with a checkpoint, and a rerun resumes it.
 */
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
#include "progress.h"
#include "rt.h"
#include "run.h"
#include "sweep.h"

/* The stop request of SIGINT/SIGTERM. A signal handler cannot be given a context, so this is
 * the sweep process's one piece of global mutable state (as in a training run). */
static volatile sig_atomic_t sweep_signal;

static void on_signal(int sig) { sweep_signal = sig; }

typedef struct device_slot {
    char spec[32];             /* P:D, given to the children */
    char name[160];
    pid_t pid;                 /* running child, 0 when free */
    int cell;                  /* the cell it runs */
    int stage;                 /* 0 train, 1 eval */
    double t0;
} device_slot;

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
    device_slot dev[SW_MAX_DEVICES];
    int ndev;
    char exe[PATH_MAX];
    int done, failed, todo_total, finished_here;
    double work_seconds;       /* summed over cells finished in this process */
    double t_start;
    int stopping;
    int passed_on;             /* --fail-fast has sent SIGTERM to the running cells */
} sweep;

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
        if (sw_grid_merge(&s->grid, &o->grid, o, err, errlen) != 0) return 2;
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

/* ---- children ---- */

static void cell_dir(const sweep *s, int c, char *out, size_t len)
{
    snprintf(out, len, "%s/cells/%s", s->o->out, s->cells[c].name);
}

static double now(void) { return app_now(); }

static int start_cell(sweep *s, int slot, int c)
{
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
        return -1;
    }
    d->pid = pid, d->cell = c, d->stage = s->state[c] == SW_EVAL, d->t0 = now();
    if (s->started[c] == 0) s->started[c] = d->t0;
    if (s->state[c] != SW_EVAL) {
        printf("  start %-24s on device %s%s\n", cell->name, d->spec,
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

static void format_duration(double s, char *out, size_t len)
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

static void report_done(sweep *s, int c, const device_slot *d)
{
    char dir[1200], took[32], eta[32] = "?";
    cell_dir(s, c, dir, sizeof dir);
    double acc, slope;
    cell_figures(dir, s->cells[c].loss, &acc, &slope);
    const double t = now() - s->started[c];
    s->work_seconds += t;
    s->finished_here++;
    s->done++;
    const int left = s->todo_total - s->done - s->failed;
    format_duration(t, took, sizeof took);
    if (s->finished_here > 0) format_duration(s->work_seconds / s->finished_here * left / s->ndev, eta, sizeof eta);
    printf("[%d/%d] %-24s device %-5s %7s  test acc %6.2f%%  rate %8.4f ln E/epoch  | ETA %s\n",
           s->done + s->failed, s->todo_total, s->cells[c].name, d->spec, took, 100 * acc, slope, eta);
    fflush(stdout);
}

static void record_failure(sweep *s, int c, int stage, int status)
{
    char dir[1200], reason[1024];
    cell_dir(s, c, dir, sizeof dir);
    if (WIFSIGNALED(status)) snprintf(reason, sizeof reason, "killed by signal %d", WTERMSIG(status));
    else failure_reason(dir, reason, sizeof reason);
    sw_record_failure(dir, stage ? "eval" : "train", WIFEXITED(status) ? WEXITSTATUS(status) : -1, reason);
    s->state[c] = SW_FAILED;
    s->failed++;
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
    if (code == 130 || code == 143 || (s->stopping && WIFSIGNALED(status))) {
        s->state[c] = SW_RESUME; /* stopped with a checkpoint; the rerun checks it again */
        return;
    }
    if (code != 0) {
        record_failure(s, c, stage, status);
        if (s->o->fail_fast) s->stopping = 1;
        return;
    }
    if (stage == 0 && !s->o->no_eval) {
        /* evaluated where it trained: another device would sum in another order */
        s->state[c] = SW_EVAL;
        if (!s->stopping && start_cell(s, slot, c) != 0) s->state[c] = SW_FAILED, s->failed++;
        return;
    }
    s->state[c] = SW_DONE;
    report_done(s, c, d);
}

static int next_cell(const sweep *s)
{
    for (int c = 0; c < s->ncells; c++) {
        if (s->state[c] == SW_DONE || s->state[c] == SW_FAILED) continue;
        int busy = 0;
        for (int k = 0; k < s->ndev; k++)
            if (s->dev[k].pid && s->dev[k].cell == c) busy = 1;
        if (!busy) return c;
    }
    return -1;
}

static void pass_on(sweep *s, int sig)
{
    for (int k = 0; k < s->ndev; k++)
        if (s->dev[k].pid) kill(s->dev[k].pid, sig);
}

static void run_cells(sweep *s)
{
    for (;;) {
        if (sweep_signal && !s->stopping) {
            s->stopping = 1;
            printf("gammacl sweep: stopping: every running cell writes a checkpoint; rerun "
                   "`gammacl sweep --out %s` to continue\n", s->o->out);
            fflush(stdout);
            pass_on(s, sweep_signal == SIGINT ? SIGINT : SIGTERM);
        }
        if (s->stopping && !sweep_signal && !s->passed_on) {
            /* --fail-fast: the other running cells stop with a checkpoint */
            pass_on(s, SIGTERM);
            s->passed_on = 1;
        }
        int running = 0;
        for (int k = 0; k < s->ndev; k++) {
            device_slot *d = &s->dev[k];
            if (!d->pid && !s->stopping) {
                const int c = next_cell(s);
                if (c >= 0 && start_cell(s, k, c) != 0) s->state[c] = SW_FAILED, s->failed++;
            }
            running += d->pid != 0;
        }
        if (!running) break;
        int status;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (int k = 0; k < s->ndev; k++)
                if (s->dev[k].pid == pid) child_ended(s, k, status);
            continue;
        }
        if (pid < 0 && errno != EINTR && errno != ECHILD) break;
        const struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* ---- the sweep ---- */

static void classify(sweep *s)
{
    for (int c = 0; c < s->ncells; c++) {
        char dir[1200], reason[1024];
        cell_dir(s, c, dir, sizeof dir);
        s->state[c] = sw_cell_state(dir, s->train.epochs, s->o->retry_failed, reason, sizeof reason);
        if (s->state[c] == SW_EVAL && s->o->no_eval) s->state[c] = SW_DONE;
        if (s->state[c] == SW_DONE) s->done++;
        else if (s->state[c] == SW_FAILED) s->failed++;
    }
    s->todo_total = s->ncells;
}

static int write_outputs(sweep *s)
{
    char err[SW_ERRLEN], title[600], data[200];
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
}

int sw_run(sw_opts *o)
{
    sweep s = {.o = o, .t_start = now()};
    char err[SW_ERRLEN] = "", cells[1300];
    int rc = resolve_grid(&s, err, sizeof err);
    if (rc == 0) rc = resolve_devices(&s, err, sizeof err);
    if (rc == 0 && app_self_exe(s.exe, sizeof s.exe) != 0)
        snprintf(err, sizeof err, "cannot find this program's own path"), rc = 1;
    snprintf(cells, sizeof cells, "%s/cells", o->out);
    if (rc == 0 && app_make_dirs(cells, err, sizeof err) != 0) rc = 2;
    const int lock = rc == 0 ? app_lock_dir(o->out, "gammacl sweep", err, sizeof err) : -1;
    if (rc == 0 && lock < 0) rc = 2;
    if (rc == 0 && sw_write_sweep_json(o->out, &s.grid, s.args, s.nargs, o->devices, err, sizeof err) != 0) rc = 1;
    if (rc == 0 && sw_cells(&s.grid, &s.cells, &s.ncells) != 0)
        snprintf(err, sizeof err, "cannot make the grid's cells (out of memory, or open-set splits of %d known of "
                 "%d classes)", s.grid.known_count, s.grid.classes), rc = 1;
    if (rc == 0) {
        s.state = calloc((size_t)s.ncells, sizeof *s.state);
        s.started = calloc((size_t)s.ncells, sizeof *s.started);
        if (!s.state || !s.started) snprintf(err, sizeof err, "out of memory"), rc = 1;
    }
    if (rc != 0) {
        fprintf(stderr, "gammacl sweep: %s\n", err);
        if (lock >= 0) close(lock);
        release(&s);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    classify(&s);
    char gl[400];
    sw_format_gammas(&s.grid, gl, sizeof gl);
    char tasks[160] = "";
    if (s.grid.nrhos) snprintf(tasks, sizeof tasks, "; %d imbalance ratio%s", s.grid.nrhos, s.grid.nrhos > 1 ? "s" : "");
    if (s.grid.nsplits)
        snprintf(tasks + strlen(tasks), sizeof tasks - strlen(tasks), "; %d open-set split%s of %d known of %d "
                 "classes", s.grid.nsplits, s.grid.nsplits > 1 ? "s" : "", s.grid.known_count, s.grid.classes);
    printf("sweep %s: %d cells (gammas %s; %d loss%s; %d seed%s; BCE bias init x%d%s), %d epochs each; "
           "%d done, %d failed before; on %d device%s\n", o->out, s.ncells, gl, s.grid.nlosses,
           s.grid.nlosses > 1 ? "es" : "", s.grid.nseeds, s.grid.nseeds > 1 ? "s" : "", s.grid.nbias, tasks,
           s.train.epochs, s.done, s.failed, s.ndev, s.ndev > 1 ? "s" : "");
    for (int k = 0; k < s.ndev; k++) printf("  device %s: %s\n", s.dev[k].spec, s.dev[k].name);
    fflush(stdout);
    if (!o->collect) run_cells(&s);
    rc = write_outputs(&s) ? 1 : 0;
    char took[32];
    format_duration(now() - s.t_start, took, sizeof took);
    printf("%d of %d cells done, %d failed, in %s\n", s.done, s.ncells, s.failed, took);
    if (sweep_signal > 0) rc = 128 + sweep_signal;
    else if (s.failed) rc = rc ? rc : 1;
    else if (s.done < s.ncells) rc = rc ? rc : 1;
    close(lock);
    release(&s);
    return rc;
}
