/* apps/cmd_sweep.c — `gammacl sweep`: parses the grid, the sweep's own options and the training
 * options every cell shares, then runs the sweep (apps/sweep/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run.h"
#include "sweep.h"

static void usage(void)
{
    printf("usage: gammacl sweep --out DIR [--gammas G1,G2,..] [--losses ce,bce] [--seeds N|S1,S2,..]\n"
           "                     [--bias-init zero|theory|B[,..]] [--rhos R1,R2,..]\n"
           "                     [--splits N|S1,S2,.. [--known-count M]] [--devices SPEC,SPEC|all]\n"
           "                     [--shard I/N] [--fail-fast] [--retry-failed] [--cell-timeout T]\n"
           "                     [--no-eval] [--collect]\n"
           "                     [any gammacl train option]\n"
           "       mpirun -np N gammacl sweep --out DIR ...   (rank 0 hands the cells out)\n\n"
           "Runs the gamma study: one ordinary `gammacl train` run per cell (gamma x loss x seed,\n"
           "x bias init for BCE, and x imbalance ratio and x open-set split when given) in\n"
           "DIR/cells/<name>/, then `gammacl eval` on it (robustness under small disturbances; shot\n"
           "groups, AUROC and OSCR), and makes DIR/sweep.csv (a row per cell), DIR/summary.csv (mean,\n"
           "standard deviation and n over seeds and splits), DIR/plots/ (PNG and SVG) and DIR/report.md.\n"
           "`gammacl sweep --out DIR` alone continues a sweep: finished cells are checked and kept,\n"
           "interrupted ones resume from their checkpoint, damaged ones are redone. A rerun may add\n"
           "gammas, losses, seeds or bias inits (only the new cells run); other changes are refused.\n\n"
           "grid (defaults for a new sweep):\n"
           "  --gammas LIST           scales gamma > 0 (default 0.5,1,2,4,8,16,32,64)\n"
           "  --losses LIST           ce, bce or both (default ce,bce)\n"
           "  --seeds N|LIST          N: seeds 1..N; or a list S1,S2,.. (default 1)\n"
           "  --bias-init LIST        BCE's initial bias: zero, theory (b*), numbers (default zero)\n"
           "  --rhos LIST             long-tailed: each cell's --imbalance RHO (n_max / n_min >= 1);\n"
           "                          default: the training set as it is\n"
           "  --splits N|LIST         open set: N (1..N) or the listed seeds of random known/unknown\n"
           "                          class splits; each cell trains with --known <its split's classes>\n"
           "  --known-count M         known classes per split (default 60%% of the classes: 6 of 10)\n\n"
           "running:\n"
           "  --devices SPEC,..|all   devices to spread cells over, one cell per device at a time\n"
           "                          (default: the default device, or GAMMACL_DEVICE)\n"
           "  --fail-fast             stop at the first failed cell (default: record it, go on)\n"
           "  --retry-failed          run again the cells recorded as failed (a stopped training\n"
           "                          continues from its last checkpoint)\n"
           "  --cell-timeout T        stop a cell's training or evaluation that runs longer than T\n"
           "                          (seconds, or with s, m, h: 90m, 2h) and record it as failed:\n"
           "                          SIGTERM (a training writes its checkpoint), then SIGKILL if\n"
           "                          it has not ended T/10 (10 to 60 s) later; default: no limit\n"
           "  --no-eval               a cell is done when trained: no robustness evaluation (its\n"
           "                          columns stay empty; a later rerun without it evaluates)\n"
           "  --collect               run nothing: rebuild the tables, plots and report from the\n"
           "                          cells finished so far\n\n"
           "scale-out (several processes in one DIR, each cell run once: a lock per cell):\n"
           "  --shard I/N             run only shard I of N (I = 1..N): the cells k = 0, 1, .. of the\n"
           "                          grid's order with k mod N = I - 1; one command per task of a job\n"
           "                          array, all with the same grid; each shard rewrites the tables from\n"
           "                          every cell finished so far (the last to end has them all)\n"
           "  under mpirun            rank 0 hands cells out as ranks ask (a slow device takes fewer);\n"
           "                          each rank runs on one device, by its rank on its machine: entry\n"
           "                          (local rank mod count) of --devices, else the default device's\n"
           "                          platform's devices; rank 0 writes the tables, plots and report\n\n"
           "Every other option is a `gammacl train` option applied to every cell (see gammacl train\n"
           "--help), except --gamma, --loss, --seed, --out, --resume, --device and --progress.\n"
           "Ctrl-C or SIGTERM stops every running cell with a checkpoint (a second one, a second or\n"
           "more later, stops them at once, keeping their last finished epoch); rerun to continue.\n");
}

static const char *const grid_lists[] = {"gammas", "losses", "seeds", "bias-init", "rhos", "splits"};
#define NGRID ((int)(sizeof grid_lists / sizeof grid_lists[0]))
static const char *const not_shared[] = {"gamma", "loss", "seed", "out", "resume", "device", "progress",
                                         "data-parallel"};

static int add_arg(sw_opts *o, const char *name, const char *value)
{
    char **a = realloc(o->train_args, (size_t)(o->ntrain_args + 1) * sizeof *a);
    if (!a) return -1;
    o->train_args = a;
    const size_t len = strlen(name) + (value ? strlen(value) : 1) + 4;
    char *s = malloc(len);
    if (!s) return -1;
    snprintf(s, len, "--%s=%s", name, value ? value : "1");
    a[o->ntrain_args++] = s;
    return 0;
}

/* "600", "600s", "90m", "2h" -> seconds (> 0, at most a year); -1 when it is none of these */
static int parse_duration(const char *v, double *out)
{
    char *end;
    const double x = strtod(v, &end);
    const double unit = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;
    if (end == v || unit == 0 || !(x > 0) || x * unit > 366.0 * 86400) return -1;
    *out = x * unit;
    return 0;
}

/* the value of option i (--name=value or --name value); NULL when missing */
static const char *value_of(int argc, char **argv, int *i, const char *eq)
{
    if (eq) return eq + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

static int parse(int argc, char **argv, sw_opts *o, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%.60s' (options start with --; try --help)", a);
            return 2;
        }
        const char *eq = strchr(a, '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
        if (strcmp(name, "fail-fast") == 0 || strcmp(name, "retry-failed") == 0 || strcmp(name, "collect") == 0 ||
            strcmp(name, "no-eval") == 0) {
            *(name[0] == 'f' ? &o->fail_fast : name[0] == 'r' ? &o->retry_failed : name[0] == 'n' ? &o->no_eval
                                                                                    : &o->collect) = 1;
            continue;
        }
        int grid = -1;
        for (int g = 0; g < NGRID; g++)
            if (strcmp(name, grid_lists[g]) == 0) grid = g;
        const int own = grid >= 0 || strcmp(name, "out") == 0 || strcmp(name, "devices") == 0 ||
                        strcmp(name, "known-count") == 0 || strcmp(name, "shard") == 0 ||
                        strcmp(name, "cell-timeout") == 0;
        int takes = own ? 1 : app_train_option_takes_value(name);
        for (size_t k = 0; !own && k < sizeof not_shared / sizeof not_shared[0]; k++)
            if (strcmp(name, not_shared[k]) == 0) {
                snprintf(err, errlen, "--%s cannot be given to a sweep%s", name,
                         strcmp(name, "device") == 0 ? " (use --devices)" :
                         strcmp(name, "data-parallel") == 0 ? " (its cells are separate trainings; run them over "
                                                              "MPI ranks with mpirun gammacl sweep)" :
                         strcmp(name, "out") == 0 || strcmp(name, "resume") == 0 ? "" :
                         " (the grid sets it per cell: --gammas, --losses, --seeds)");
                return 2;
            }
        if (takes < 0) {
            snprintf(err, errlen, "unknown option '%.60s' (try --help)", a);
            return 2;
        }
        const char *v = takes ? value_of(argc, argv, &i, eq) : (eq ? eq + 1 : NULL);
        if (takes && !v) {
            snprintf(err, errlen, "--%s needs a value", name);
            return 2;
        }
        if (grid >= 0) {
            if (sw_parse_list(grid_lists[grid], v, &o->grid, err, errlen) != 0) return 2;
            int *given[NGRID] = {&o->given_gammas, &o->given_losses, &o->given_seeds, &o->given_bias,
                                 &o->given_rhos, &o->given_splits};
            *given[grid] = 1;
        } else if (strcmp(name, "out") == 0) {
            snprintf(o->out, sizeof o->out, "%s", v);
        } else if (strcmp(name, "known-count") == 0) {
            char *end;
            const long m = strtol(v, &end, 10);
            if (end == v || *end || m < 2 || m > 255) {
                snprintf(err, errlen, "--known-count: '%.40s' is not a whole number of classes in [2, 255]", v);
                return 2;
            }
            o->known_count = (int)m;
        } else if (strcmp(name, "shard") == 0) {
            char *end, *end2 = NULL;
            const long i = strtol(v, &end, 10);
            const long n = *end == '/' ? strtol(end + 1, &end2, 10) : 0;
            if (*end != '/' || end == v || end2 == end + 1 || *end2 || n < 1 || n > 100000 || i < 1 || i > n) {
                snprintf(err, errlen, "--shard: '%.40s' is not I/N with 1 <= I <= N (e.g. --shard 2/4; "
                         "with a job array: --shard $((SLURM_ARRAY_TASK_ID))/N)", v);
                return 2;
            }
            o->shard = (int)i, o->shards = (int)n;
        } else if (strcmp(name, "cell-timeout") == 0) {
            if (parse_duration(v, &o->cell_timeout) != 0) {
                snprintf(err, errlen, "--cell-timeout: '%.40s' is not a time above 0 (seconds, or a "
                         "number with s, m or h: 600, 90m, 2h)", v);
                return 2;
            }
        } else if (strcmp(name, "devices") == 0) {
            snprintf(o->devices, sizeof o->devices, "%s", v);
        } else if (add_arg(o, name, v) != 0) {
            snprintf(err, errlen, "out of memory");
            return 2;
        }
    }
    if (!o->out[0]) {
        snprintf(err, errlen, "--out DIR is required (the sweep's folder; try --help)");
        return 2;
    }
    /* the shared options must make a valid training run */
    app_train_opts t;
    return app_train_parse_list(o->train_args, o->ntrain_args, &t, err, errlen) == 0 ? 0 : 2;
}

int cmd_sweep(int argc, char **argv)
{
    sw_opts o;
    memset(&o, 0, sizeof o);
    char err[SW_ERRLEN] = "";
    int rc = parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) usage(), rc = 0; /* --help */
    else if (rc != 0) fprintf(stderr, "gammacl sweep: %s\n", err);
    else rc = sw_run(&o);
    for (int i = 0; i < o.ntrain_args; i++) free(o.train_args[i]);
    free(o.train_args);
    return rc;
}
