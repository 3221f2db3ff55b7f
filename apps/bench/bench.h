/* apps/bench/bench.h — `gammacl bench`: the same science, agreement, convergence and speed
 * measured on every OpenCL device, side by side.
 *
 * A bench is a folder: DIR/devices/<id>/ holds, per device, two ordinary sweeps run by
 * `gammacl sweep` (science/: the gamma grid; convergence/: seeds of one fixed recipe) and
 * measure.json (peak probes, the seeded loss trace, speed and per-kernel times, program build
 * times), written by a child `gammacl bench --measure`. What is made from them: DIR/bench.json
 * (every figure, and what --compare reads back), DIR/bench.csv, DIR/plots/ and a table on stdout.
 *
 * Files: bench.c (the command, the children), bench_measure.c (the measuring child),
 * bench_collect.c (figures from the sweeps), bench_json.c (bench.json and --compare),
 * bench_derive.c (target, t-tests, agreement, spread), bench_output.c (table, bench.csv),
 * bench_charts.c (plots), bench_stats.c (Welch t-test, agreement of traces, epochs to a target).
 */
#ifndef GAMMACL_BENCH_H
#define GAMMACL_BENCH_H

#include <stddef.h>

#include "bench_stats.h"

#define BN_MAX_DEVICES 16
#define BN_MAX_CELLS 16          /* science grid: gammas x losses */
#define BN_MAX_SEEDS 8           /* convergence seeds */
#define BN_MAX_EPOCHS 32
#define BN_MAX_STEPS 100         /* agreement trace */
#define BN_NGROUPS 7             /* kernel groups of the per-kernel bar */
#define BN_ERRLEN 1024

/* What a bench runs; quick and full differ only in sizes. Two bench.json files can be
 * compared when their recipes are equal. */
typedef struct bn_recipe {
    char mode[8];                /* "quick" or "full" */
    char science_model[16];      /* the model of the science, convergence and trace runs */
    double gammas[8];
    int ngammas;
    int science_train, science_test, science_epochs, batch;
    int conv_seeds, conv_epochs, conv_loss;   /* convergence: seeds of one recipe */
    double conv_gamma;
    int trace_steps, trace_batch;
    char speed_model[16];        /* cnn5 */
    int speed_batch;
} bn_recipe;

typedef struct bn_cell {
    int loss;                    /* 0 CE, 1 BCE */
    double gamma;
    double rate, excess, test_acc; /* rate: -d ln E_t / d epoch of the trained loss (training
                                      subset); excess: final L - L* of the trained loss */
} bn_cell;

typedef struct bn_speed {
    double train_ips, eval_ips, step_ms;   /* median img/s and ms per training step */
    double resnet_train_ips;               /* NaN when not measured */
    double group_ms[BN_NGROUPS];           /* device time per kernel group in one step */
    double kernel_ms, conv_ms;             /* all kernels, convolution kernels */
    double step_flops, conv_flops;         /* per training step */
    int host_timed;                        /* per-kernel times from the host clock */
} bn_speed;

typedef struct bn_device {
    char id[64];                 /* short name: folder and chart label (pocl, rusticl, ...) */
    char spec[32];               /* P:D on the machine that ran it */
    char name[160], platform[128], driver[128], type[8];
    char host[128], cpu_model[160], origin[256]; /* origin: "this run" or the --compare file */
    char kernel_params[96];        /* which kernel parameters ran (`gammacl tune`); "" if not known */
    int ncells;
    bn_cell cells[BN_MAX_CELLS];
    int nsteps;                  /* agreement trace: per-step batch CE and BCE (training CE) */
    double trace_ce[BN_MAX_STEPS], trace_bce[BN_MAX_STEPS];
    int bit_reproducible;        /* a second run on the device gave the same trace bit for bit */
    double self_max_rel;         /* largest relative difference between its own two runs */
    int nseeds, nepochs;         /* convergence: test accuracy per seed per epoch (0..nepochs) */
    double conv_acc[BN_MAX_SEEDS][BN_MAX_EPOCHS + 1];
    double fma_gflops, bandwidth_gbs;
    int probe_host_timed;
    double build_cold_s, build_cached_s;
    bn_speed speed;
    /* derived by bn_derive, against the first device */
    int epochs_to[BN_MAX_SEEDS]; /* epochs to the target per seed (nepochs + 1: not reached) */
    int reached;                 /* seeds that reached it */
    bs_welch welch;              /* H1: this device needs more epochs than the first */
    bs_agreement agree_ce, agree_bce; /* trace against the first device's */
} bn_device;

typedef struct bn_bench {
    bn_recipe recipe;
    bn_device dev[BN_MAX_DEVICES];
    int ndev;
    double target_acc;           /* convergence target (from the reference device's mean curve) */
    int target_given;            /* 1: --target-acc */
    /* derived: the largest difference between devices per science cell of the first device */
    double spread[BN_MAX_CELLS][3]; /* rate, excess, test accuracy: max - min over devices */
    int spread_n[BN_MAX_CELLS];  /* devices with that cell */
} bn_bench;

/* the kernel groups of the per-kernel bar, in drawing order */
const char *bn_group_name(int g);
/* The group of a profiling label ("conv2 bwd:im2col" -> conv bwd). */
int bn_group_of(const char *label);

/* ---- bench.c ---- */
void bn_recipe_for(int quick, bn_recipe *r);

/* ---- bench_derive.c ---- */
/* The target (unless given), epochs to it, the t-tests and the agreement against the first
 * device, and the spread of each science figure over devices. */
void bn_derive(bn_bench *b);

/* ---- bench_measure.c: the child that measures one device ---- */
/* `gammacl bench --measure PART --device SPEC --json FILE --mode quick|full`. PART: "all"
 * (probes, trace, speed) or "build" (program build time only). Returns the exit code. */
int bn_measure_main(const char *part, const char *device, const char *json, const bn_recipe *r);

/* ---- bench_collect.c ---- */
/* The science cells of DIR/devices/<id>/science/sweep.csv and the convergence curves of
 * .../convergence/cells/<cell>/metrics.csv into d. */
int bn_collect_sweeps(const char *devdir, const bn_recipe *r, bn_device *d, char *err, size_t errlen);

/* ---- bench_json.c ---- */
/* The recipe as JSON text (DIR/recipe.json; malloc'd, NULL when out of memory). */
char *bn_recipe_text(const bn_recipe *r);
/* build.cold_s of a build child's JSON */
int bn_read_build(const char *path, double *seconds, char *err, size_t errlen);
/* measure.json of the measuring child into d (probes, trace, speed, build). */
int bn_read_measure(const char *path, bn_device *d, char *err, size_t errlen);
int bn_write_device_json(const char *path, const bn_device *d, char *err, size_t errlen);
int bn_write_bench_json(const char *path, const bn_bench *b, char *err, size_t errlen);
/* Appends the devices of a bench.json made elsewhere; refuses a file of another recipe. */
int bn_read_bench_json(const char *path, bn_bench *b, char *err, size_t errlen);

/* ---- bench_output.c ---- */
/* The table on stdout (after bn_derive). */
void bn_print_table(const bn_bench *b);
int bn_write_csv(const char *path, const bn_bench *b, char *err, size_t errlen);

/* ---- bench_charts.c ---- */
int bn_write_charts(const char *dir, const bn_bench *b, char *err, size_t errlen);

#endif
