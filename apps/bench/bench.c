/* apps/bench/bench.c — `gammacl bench`: for each device, two sweeps (the science grid and the
 * convergence seeds) run by `gammacl sweep`, a measuring child (`gammacl bench --measure`) and
 * two build-time children (empty caches, then warm ones); then the figures of every device, this
 * machine's and those of --compare files, into bench.json, bench.csv, charts and a table.
 * Everything a device finished is kept in DIR: a rerun continues where it stopped. */
#include <errno.h>
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

#include "bench.h"
#include "child.h"
#include "files.h"
#include "progress.h"
#include "provenance.h"
#include "rt.h"

extern char **environ;

/* The running child and the stop request: a signal handler cannot be given a context, so these
 * are the bench process's one piece of global mutable state (as in a sweep). */
static volatile sig_atomic_t bench_signal;
static volatile sig_atomic_t bench_child; /* a pid_t (an int on Linux), 0 when none runs */

static void on_signal(int sig)
{
    bench_signal = sig;
    if (bench_child > 0) kill(bench_child, sig);
}

void bn_recipe_for(int quick, bn_recipe *r)
{
    *r = (bn_recipe){.gammas = {1, 4, 16, 64}, .ngammas = 4, .conv_loss = 0, .conv_gamma = 8,
                     .batch = 32, .trace_batch = 32, .speed_batch = 128};
    snprintf(r->science_model, sizeof r->science_model, "cnn3");
    snprintf(r->speed_model, sizeof r->speed_model, "cnn5");
    snprintf(r->mode, sizeof r->mode, "%s", quick ? "quick" : "full");
    if (quick) {
        r->science_train = 384, r->science_test = 256, r->science_epochs = 3;
        r->conv_seeds = 2, r->conv_epochs = 4, r->trace_steps = 10;
    } else {
        r->science_train = 2048, r->science_test = 1000, r->science_epochs = 5;
        r->conv_seeds = 5, r->conv_epochs = 6, r->trace_steps = 40;
    }
}

typedef struct bench_opts {
    char out[1024];
    char devices[512];
    int quick;
    const char *compare[BN_MAX_DEVICES];
    int ncompare;
    double target_acc;
    const char *measure, *device, *json, *mode; /* the measuring child */
} bench_opts;

static void usage(void)
{
    printf("usage: gammacl bench --out DIR [--devices all|SPEC,..] [--quick] [--compare FILE.json ..]\n"
           "                     [--target-acc A]\n\n"
           "Measures, on each OpenCL device, the same science and how fast and how close to its own\n"
           "hardware limit gammacl runs there, so that vendors can be compared:\n"
           "  science       a gamma sweep (cnn3 on a Fashion-MNIST subset; gamma 1, 4, 16, 64 x CE, BCE):\n"
           "                convergence rate, final excess loss and test accuracy per gamma, and the\n"
           "                largest disagreement between devices on each\n"
           "  agreement     the loss after the same seeded steps against the first device, and whether\n"
           "                a device repeats itself bit for bit\n"
           "  convergence   seeds of one recipe (CE, gamma 8): epochs to a target test accuracy, and a\n"
           "                one-sided Welch t-test (p = 0.05) of \"slower than the first device\":\n"
           "                \"slower (p = ...)\" or \"no evidence slower (p = ...)\", which is not a\n"
           "                proof of equal speed\n"
           "  speed         cnn5 training and evaluation img/s (and resnet18 where it fits), device\n"
           "                time per kernel group, program build time cold and from the caches\n"
           "  limit         the device's measured FP32 FMA rate and memory bandwidth, and the fraction\n"
           "                the convolutions and the whole step reach\n\n"
           "options:\n"
           "  --out DIR            bench folder; a rerun continues it (default: bench-quick or bench-full)\n"
           "  --devices LIST       all (default) or device specs (index, P:D, part of a name)\n"
           "  --quick              small sizes: minutes, 2 convergence seeds (full: 5)\n"
           "  --compare FILE       add the devices of a bench.json made elsewhere (same mode), repeatable;\n"
           "                       with --devices none only the files are compared\n"
           "  --target-acc A       convergence target (default: 80%% of the first device's mean rise,\n"
           "                       just past the knee of its curve)\n\n"
           "Writes DIR/bench.json, DIR/bench.csv, DIR/plots/ (PNG and SVG) and prints the table.\n"
           "Ctrl-C stops after a checkpoint of the running sweep; rerun the same command to continue.\n");
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.target_acc = NAN};
    snprintf(o->devices, sizeof o->devices, "all");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(); return 1; }
        if (!strcmp(a, "--quick")) { o->quick = 1; continue; }
        if (!v || strncmp(v, "--", 2) == 0) {
            fprintf(stderr, "gammacl bench: %s: %s\n", a,
                    strncmp(a, "--", 2) == 0 ? "needs a value or is unknown (try --help)" : "unexpected argument (try --help)");
            return 2;
        }
        i++;
        if (!strcmp(a, "--out")) snprintf(o->out, sizeof o->out, "%s", v);
        else if (!strcmp(a, "--devices")) snprintf(o->devices, sizeof o->devices, "%s", v);
        else if (!strcmp(a, "--compare")) {
            if (o->ncompare == BN_MAX_DEVICES) {
                fprintf(stderr, "gammacl bench: at most %d --compare files\n", BN_MAX_DEVICES);
                return 2;
            }
            o->compare[o->ncompare++] = v;
        } else if (!strcmp(a, "--target-acc")) {
            char *end;
            o->target_acc = strtod(v, &end);
            if (*end || !(o->target_acc > 0 && o->target_acc < 1)) {
                fprintf(stderr, "gammacl bench: --target-acc takes an accuracy between 0 and 1, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--measure")) o->measure = v;
        else if (!strcmp(a, "--device")) o->device = v;
        else if (!strcmp(a, "--json")) o->json = v;
        else if (!strcmp(a, "--mode")) o->mode = v;
        else {
            fprintf(stderr, "gammacl bench: unknown option '%s' (try --help)\n", a);
            return 2;
        }
    }
    if (!o->out[0]) snprintf(o->out, sizeof o->out, "bench-%s", o->quick ? "quick" : "full");
    return 0;
}

/* ---- children ---- */

typedef struct child_env {
    char **envp;
    int n;
} child_env;

/* the environment with the named variables replaced (value NULL: removed) */
static int env_with(child_env *e, const char *const *names, const char *const *values, int k)
{
    int count = 0;
    while (environ[count]) count++;
    e->envp = calloc((size_t)(count + k + 1), sizeof *e->envp);
    if (!e->envp) return -1;
    e->n = 0;
    for (int i = 0; i < count; i++) {
        int replaced = 0;
        for (int j = 0; j < k; j++) {
            const size_t len = strlen(names[j]);
            if (strncmp(environ[i], names[j], len) == 0 && environ[i][len] == '=') replaced = 1;
        }
        if (!replaced && !(e->envp[e->n++] = strdup(environ[i]))) return -1;
    }
    for (int j = 0; j < k; j++) {
        if (!values[j]) continue;
        const size_t len = strlen(names[j]) + strlen(values[j]) + 2;
        if (!(e->envp[e->n] = malloc(len))) return -1;
        snprintf(e->envp[e->n++], len, "%s=%s", names[j], values[j]);
    }
    return 0;
}

static void env_free(child_env *e)
{
    for (int i = 0; e->envp && i < e->n; i++) free(e->envp[i]);
    free(e->envp);
}

/* Runs this program with argv (output appended to log); returns its exit status, 128 + signal
 * when killed, or -1 when it could not start. limit_s > 0: stopped past that many seconds. */
static int run_child_limited(char **argv, const char *log, char **envp, double limit_s)
{
    const pid_t pid = app_spawn(argv, envp, log);
    if (pid < 0) return -1;
    bench_child = (sig_atomic_t)pid;
    if (bench_signal) kill(pid, bench_signal);
    int status = 0, waited, killed = 0;
    const double t0 = app_now();
    for (;;) {
        waited = (int)waitpid(pid, &status, limit_s > 0 ? WNOHANG : 0);
        if (waited == pid || (waited < 0 && errno != EINTR)) break;
        if (waited == 0 && app_now() - t0 > limit_s + 10 * killed) {
            /* a driver that never returns: SIGTERM, then SIGKILL ten seconds later */
            kill(pid, killed ? SIGKILL : SIGTERM);
            if (!killed) fprintf(stderr, "gammacl bench: %s %s took over %.0f s: stopped\n", argv[1], argv[3], limit_s);
            killed++;
        }
        if (waited == 0) {
            const struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    bench_child = 0;
    if (waited < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* measuring and build children: a hung driver must not hang the bench (a full measurement of a
 * slow CPU driver takes minutes) */
#define CHILD_LIMIT_S 1800.0

static int run_child(char **argv, const char *log, char **envp) { return run_child_limited(argv, log, envp, 0); }

/* the last lines of a log, for a failure message */
static void print_tail(const char *log)
{
    char *text = NULL, err[256];
    if (app_read_text_file(log, 64u << 20, &text, err, sizeof err) != 0) return;
    const char *p = text + strlen(text);
    for (int lines = 0; p > text && lines < 6; p--)
        if (p[-1] == '\n' && p != text + strlen(text)) lines++;
    fprintf(stderr, "  %s:\n%s", log, p);
    free(text);
}

/* ---- devices ---- */

/* A short name for a device's folder and labels, stable whatever --devices picks: the platform's
 * name, and the device's index within its platform where the platform has several. */
static void short_id(const rt_device_info *list, int n, const rt_device_info *d, char *out, size_t len)
{
    static const char *const known[][2] = {{"Portable Computing Language", "pocl"}, {"rusticl", "rusticl"},
                                           {"NVIDIA", "nvidia"}, {"AMD", "amd"}, {"Intel", "intel"},
                                           {"Apple", "apple"}};
    snprintf(out, len, "platform%d", d->platform_index);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strstr(d->platform, known[i][0])) {
            snprintf(out, len, "%s", known[i][1]);
            break;
        }
    int siblings = 0;
    for (int i = 0; i < n; i++) siblings += list[i].platform_index == d->platform_index;
    if (siblings > 1) {
        const size_t l = strlen(out);
        snprintf(out + l, len - l, "-%d", d->device_index);
    }
}

static int pick_devices(const bench_opts *o, bn_bench *b)
{
    if (strcmp(o->devices, "none") == 0) return 0;
    rt_device_info *list = NULL;
    int n = 0;
    char err[RT_ERRLEN];
    if (rt_list_devices(&list, &n, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 1;
    }
    int picked[BN_MAX_DEVICES], np = 0;
    if (strcmp(o->devices, "all") == 0) {
        for (int i = 0; i < n && np < BN_MAX_DEVICES; i++) picked[np++] = i;
    } else {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", o->devices);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int k;
            if (rt_pick_device(list, n, t, &k, err, sizeof err) != RT_OK) {
                fprintf(stderr, "gammacl bench: --devices: %s\n", err);
                free(list);
                return 2;
            }
            int dup = 0;
            for (int j = 0; j < np; j++) dup |= picked[j] == k;
            if (!dup && np < BN_MAX_DEVICES) picked[np++] = k;
        }
    }
    char host[128] = "unknown";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = 0;
    for (int i = 0; i < np; i++) {
        const rt_device_info *info = &list[picked[i]];
        bn_device *d = &b->dev[b->ndev++];
        memset(d, 0, sizeof *d);
        short_id(list, n, info, d->id, sizeof d->id);
        snprintf(d->spec, sizeof d->spec, "%d:%d", info->platform_index, info->device_index);
        snprintf(d->name, sizeof d->name, "%s", info->name);
        snprintf(d->platform, sizeof d->platform, "%s", info->platform);
        snprintf(d->driver, sizeof d->driver, "%s", info->driver);
        snprintf(d->type, sizeof d->type, "%s", info->type);
        snprintf(d->host, sizeof d->host, "%s", host);
        app_cpu_model(d->cpu_model, sizeof d->cpu_model);
        rt_tune_brief(info, d->kernel_params, sizeof d->kernel_params);
        snprintf(d->origin, sizeof d->origin, "this run");
    }
    free(list);
    return 0;
}

/* ---- one device ---- */

typedef struct bench_run {
    const bench_opts *o;
    bn_bench *b;
    double t0;
} bench_run;

static void step_begin(const bench_run *br, const bn_device *d, const char *what)
{
    printf("[%6.0f s] %-8s %s ...\n", app_now() - br->t0, d->id, what);
    fflush(stdout);
}

static int step_end(const bench_run *br, const bn_device *d, const char *what, int status, const char *log)
{
    if (bench_signal) {
        printf("gammacl bench: stopped; rerun the same command to continue (finished work is kept in %s)\n",
               br->o->out);
        return 130;
    }
    if (status != 0) {
        fprintf(stderr, "gammacl bench: %s on %s failed (exit %d)\n", what, d->id, status);
        print_tail(log);
        return 1;
    }
    (void)br;
    return 0;
}

static int run_sweep(const bench_run *br, const bn_device *d, const char *devdir, int convergence)
{
    const bn_recipe *r = &br->b->recipe;
    char out[1300], log[1400], gammas[128] = "", seeds[16], epochs[16], batch[16], train[16], test[16], limit[32];
    /* a cell whose driver hangs is stopped (and counted as failed) as a hung measurement is */
    snprintf(limit, sizeof limit, "%.0f", CHILD_LIMIT_S);
    snprintf(out, sizeof out, "%s/%s", devdir, convergence ? "convergence" : "science");
    snprintf(log, sizeof log, "%s/%s.log", devdir, convergence ? "convergence" : "science");
    if (convergence) snprintf(gammas, sizeof gammas, "%.17g", r->conv_gamma);
    for (int i = 0; !convergence && i < r->ngammas; i++)
        snprintf(gammas + strlen(gammas), sizeof gammas - strlen(gammas), "%s%.17g", i ? "," : "", r->gammas[i]);
    snprintf(seeds, sizeof seeds, "%d", convergence ? r->conv_seeds : 1);
    snprintf(epochs, sizeof epochs, "%d", convergence ? r->conv_epochs : r->science_epochs);
    snprintf(batch, sizeof batch, "%d", r->batch);
    snprintf(train, sizeof train, "%d", r->science_train);
    snprintf(test, sizeof test, "%d", r->science_test);
    char *argv[] = {"gammacl", "sweep", "--out", out, "--devices", (char *)d->spec, "--gammas", gammas,
                    "--losses", convergence ? (r->conv_loss ? "bce" : "ce") : "ce,bce", "--seeds", seeds,
                    "--model", (char *)r->science_model, "--epochs", epochs, "--batch", batch,
                    "--train-limit", train, "--test-limit", test, "--metrics-train-limit", test, "--no-eval",
                    "--cell-timeout", limit, NULL, NULL};
    /* a rerun of the bench gives the cells an earlier run recorded as failed another try */
    char sweep_json[1400], sweep_csv[1400];
    snprintf(sweep_json, sizeof sweep_json, "%s/sweep.json", out);
    snprintf(sweep_csv, sizeof sweep_csv, "%s/sweep.csv", out);
    struct stat st;
    if (stat(sweep_json, &st) == 0) {
        int n = 0;
        while (argv[n]) n++;
        argv[n] = "--retry-failed";
    }
    const char *what = convergence ? "convergence seeds" : "science sweep";
    char line[200];
    snprintf(line, sizeof line, "%s (%s)", what, convergence ? seeds : "8 cells");
    step_begin(br, d, line);
    const time_t started = time(NULL);
    int status = run_child(argv, log, NULL);
    /* exit 1 is a cell that failed (a NaN at gamma 64 is a result, not a broken device): with a
     * sweep.csv this run wrote, the failed cells are left out as not run; signals, exit 2 and up
     * or no fresh sweep.csv fail the device */
    if (status == 1 && !bench_signal && stat(sweep_csv, &st) == 0 && st.st_mtime >= started) {
        fprintf(stderr, "gammacl bench: %s on %s: some cells failed (see %s); they are shown as not run, and a "
                "rerun of the bench tries them again\n", what, d->id, log);
        status = 0;
    }
    return step_end(br, d, what, status, log);
}

static int measure(const bench_run *br, const bn_device *d, const char *devdir)
{
    char json[1300], log[1300];
    snprintf(json, sizeof json, "%s/measure.json", devdir);
    snprintf(log, sizeof log, "%s/measure.log", devdir);
    struct stat st;
    if (stat(json, &st) == 0) return 0; /* written atomically: present means complete */
    char *argv[] = {"gammacl", "bench", "--measure", "all", "--device", (char *)d->spec, "--json", json,
                    "--mode", (char *)br->b->recipe.mode, NULL};
    step_begin(br, d, "peak probes, agreement trace, speed");
    return step_end(br, d, "measuring", run_child_limited(argv, log, NULL, CHILD_LIMIT_S), log);
}

/* build time with empty caches, then from the caches that first build filled */
static int build_times(const bench_run *br, bn_device *d, const char *devdir)
{
    char json[2][1300], log[1300], cache[1300], gcache[1400];
    snprintf(json[0], sizeof json[0], "%s/build-cold.json", devdir);
    snprintf(json[1], sizeof json[1], "%s/build-cached.json", devdir);
    snprintf(log, sizeof log, "%s/build.log", devdir);
    snprintf(cache, sizeof cache, "%s/build-caches", devdir);
    snprintf(gcache, sizeof gcache, "%s/gammacl", cache);
    struct stat st;
    if (stat(json[1], &st) != 0) {
        step_begin(br, d, "program builds, cold and cached");
        char err[BN_ERRLEN];
        /* every cache a driver or gammacl keeps lives under HOME or XDG_CACHE_HOME, unless its
         * own variable moves it: those are dropped so the first build is cold */
        static const char *const names[] = {"HOME", "XDG_CACHE_HOME", "GAMMACL_CACHE_DIR", "GAMMACL_NO_CACHE",
                                            "POCL_CACHE_DIR", "MESA_SHADER_CACHE_DIR", "CUDA_CACHE_PATH"};
        const char *values[] = {cache, cache, gcache, NULL, NULL, NULL, NULL};
        child_env env = {0};
        snprintf(err, sizeof err, "out of memory");
        /* what an interrupted earlier try left would make the "cold" build warm */
        if (app_remove_tree(cache) != 0 || (remove(json[0]) != 0 && errno != ENOENT))
            snprintf(err, sizeof err, "cannot clear %s", cache);
        else if (app_make_dirs(cache, err, sizeof err) == 0 && env_with(&env, names, values, 7) == 0)
            err[0] = 0;
        if (err[0]) {
            fprintf(stderr, "gammacl bench: %s\n", err);
            env_free(&env);
            return 1;
        }
        int rc = 0;
        for (int k = 0; rc == 0 && k < 2; k++) {
            char *argv[] = {"gammacl", "bench", "--measure", "build", "--device", (char *)d->spec,
                            "--json", json[k], "--mode", (char *)br->b->recipe.mode, NULL};
            rc = step_end(br, d, "building the programs", run_child_limited(argv, log, env.envp, CHILD_LIMIT_S), log);
        }
        env_free(&env);
        if (rc != 0) return rc;
        if (app_remove_tree(cache) != 0) fprintf(stderr, "gammacl bench: could not remove %s\n", cache);
    }
    char err[BN_ERRLEN];
    if (bn_read_build(json[0], &d->build_cold_s, err, sizeof err) != 0 ||
        bn_read_build(json[1], &d->build_cached_s, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s (delete it to measure again)\n", err);
        return 1;
    }
    return 0;
}

static int bench_device(const bench_run *br, bn_device *d)
{
    char devdir[1200], err[BN_ERRLEN], json[1300];
    snprintf(devdir, sizeof devdir, "%s/devices/%s", br->o->out, d->id);
    if (app_make_dirs(devdir, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 1;
    }
    int rc = measure(br, d, devdir);
    if (rc == 0) rc = build_times(br, d, devdir);
    if (rc == 0) rc = run_sweep(br, d, devdir, 0);
    if (rc == 0) rc = run_sweep(br, d, devdir, 1);
    if (rc != 0) return rc;
    snprintf(json, sizeof json, "%s/measure.json", devdir);
    if (bn_read_measure(json, d, err, sizeof err) != 0 || bn_collect_sweeps(devdir, &br->b->recipe, d, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 1;
    }
    return 0;
}

/* DIR/recipe.json: a bench folder holds one recipe */
static int check_recipe(const bench_opts *o, const bn_bench *b)
{
    char path[1200], err[BN_ERRLEN], *mine = bn_recipe_text(&b->recipe), *old = NULL;
    snprintf(path, sizeof path, "%s/recipe.json", o->out);
    struct stat st;
    int rc = 0;
    if (!mine) return 1;
    if (stat(path, &st) != 0) {
        if (app_write_file_atomic(path, mine, strlen(mine), err, sizeof err) != 0) {
            fprintf(stderr, "gammacl bench: %s\n", err);
            rc = 1;
        }
    } else if (app_read_text_file(path, 1u << 20, &old, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        rc = 1;
    } else if (strcmp(old, mine) != 0) {
        fprintf(stderr, "gammacl bench: %s holds a bench of another recipe (see %s); use another --out, "
                "or the same mode (%s)\n", o->out, path, o->quick ? "it is not --quick" : "it is --quick");
        rc = 2;
    }
    free(mine);
    free(old);
    return rc;
}

static int bench_main(const bench_opts *op, bn_bench *bp, bn_bench *mine)
{
    const bench_opts o = *op;
    bn_bench *const b = bp;
    int rc = 0;
    if (o.measure) {
        if (!o.device || !o.json || !o.mode || (strcmp(o.mode, "quick") && strcmp(o.mode, "full")) ||
            (strcmp(o.measure, "all") && strcmp(o.measure, "build"))) {
            fprintf(stderr, "gammacl bench: --measure all|build needs --device, --json and --mode quick|full\n");
            return 2;
        }
        bn_recipe_for(strcmp(o.mode, "quick") == 0, &b->recipe);
        return bn_measure_main(o.measure, o.device, o.json, &b->recipe);
    }
    bn_recipe_for(o.quick, &b->recipe);
    b->target_acc = o.target_acc, b->target_given = isfinite(o.target_acc);
    char err[BN_ERRLEN], path[1200];
    /* a --compare file that is refused stops the bench before it writes or measures anything */
    for (int i = 0; i < o.ncompare; i++) {
        bn_bench *scratch = calloc(1, sizeof *scratch);
        if (!scratch) return 1;
        scratch->recipe = b->recipe;
        rc = bn_read_bench_json(o.compare[i], scratch, err, sizeof err);
        free(scratch);
        if (rc != 0) {
            fprintf(stderr, "gammacl bench: --compare: %s\n", err);
            return 2;
        }
    }
    if (app_make_dirs(o.out, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 1;
    }
    const int lock = app_lock_dir(o.out, "gammacl bench", err, sizeof err);
    if (lock < 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 2;
    }
    if ((rc = check_recipe(&o, b)) != 0 || (rc = pick_devices(&o, b)) != 0) return close(lock), rc;
    if (b->ndev == 0 && o.ncompare == 0) {
        fprintf(stderr, "gammacl bench: no device to measure and no --compare file\n");
        return close(lock), 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bench_run br = {.o = &o, .b = b, .t0 = app_now()};
    printf("gammacl bench (%s) into %s: %d device%s here%s\n", b->recipe.mode, o.out, b->ndev,
           b->ndev == 1 ? "" : "s", o.ncompare ? ", and --compare files" : "");
    fflush(stdout);
    /* a device that fails costs itself: the others are measured and tabled, the exit is 1 */
    int failed = 0, kept = 0;
    for (int i = 0; i < b->ndev && rc == 0; i++) {
        const int drc = bench_device(&br, &b->dev[i]);
        if (drc == 130) rc = 130;
        else if (drc != 0) {
            fprintf(stderr, "gammacl bench: %s is left out of the tables (its log is in %s/devices/%s/)\n",
                    b->dev[i].id, o.out, b->dev[i].id);
            failed++;
        } else if (kept != i) b->dev[kept++] = b->dev[i];
        else kept++;
    }
    if (rc == 0) b->ndev = kept;
    /* bench.json holds this machine's devices only, so that --compare files never nest */
    *mine = *b;
    for (int i = 0; rc == 0 && i < o.ncompare; i++)
        if (bn_read_bench_json(o.compare[i], b, err, sizeof err) != 0) {
            fprintf(stderr, "gammacl bench: --compare: %s\n", err);
            rc = 2;
        }
    if (rc != 0) return close(lock), rc;
    bn_derive(b);
    bn_derive(mine);
    snprintf(path, sizeof path, "%s/bench.json", o.out);
    /* a comparison of files alone leaves a bench.json of measured devices as it is */
    rc = mine->ndev ? bn_write_bench_json(path, mine, err, sizeof err) : 0;
    snprintf(path, sizeof path, "%s/bench.csv", o.out);
    if (rc == 0) rc = bn_write_csv(path, b, err, sizeof err);
    snprintf(path, sizeof path, "%s/plots", o.out);
    if (rc == 0) rc = bn_write_charts(path, b, err, sizeof err);
    close(lock);
    if (rc != 0) {
        fprintf(stderr, "gammacl bench: %s\n", err);
        return 1;
    }
    bn_print_table(b);
    /* bench.json is written only when a device of this machine was measured */
    if (mine->ndev) printf("\nbench: %s/bench.json, ", o.out);
    else printf("\nbench: no bench.json (no device of this machine measured), ");
    printf("%s/bench.csv, plots in %s/plots/ (%.0f s)\n", o.out, o.out, app_now() - br.t0);
    if (failed) fprintf(stderr, "gammacl bench: %d device%s failed (above)\n", failed, failed == 1 ? "" : "s");
    return failed ? 1 : 0;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    bn_bench *bp = calloc(2, sizeof *bp); /* this run's and bench.json's */
    if (!bp) return 1;
    rc = bench_main(&o, bp, bp + 1);
    free(bp);
    return rc;
}
