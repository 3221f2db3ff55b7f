/* apps/run/run.h — a training run, the one entry point every command uses to train or to load
 * what a run trained: options in, a run folder (metrics.csv, class_acc.csv, summary.json,
 * model.ckpt, hist/) and its figures out.
 *
 * The options are parsed from the command line (run_opts.c), saved into every checkpoint as
 * "key=value" lines, and read back from there by --resume, so a resumed run is the same run.
 * `gammacl train` is app_train_run; `gammacl eval` loads a finished run with app_run_load; a
 * sweep runs `gammacl train` per cell and reads each folder's figures from summary.json.
 */
#ifndef GAMMACL_RUN_H
#define GAMMACL_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "net.h"

typedef enum { APP_LR_COSINE = 0, APP_LR_STEP = 1 } app_lr_schedule;

typedef struct app_train_opts {
    char data[512];         /* fashion-mnist, cifar10, cifar100 or a path */
    char test_data[512];    /* a separate test set (a name or a path), or "": data's test split */
    char model[512];        /* cnn5, resnet18 or a .spec file */
    int loss;               /* 0 CE, 1 BCE */
    double gamma;
    int epochs, batch;
    double lr, momentum, wd;
    app_lr_schedule schedule;
    int milestones[16], nmilestones; /* step schedule: epochs where lr *= lr_decay */
    double lr_decay;
    uint64_t seed;
    int train_limit, test_limit;
    int metrics_every;      /* feature metrics every N epochs (and epoch 0 and the last); 0 never */
    int metrics_train_limit; /* training samples the metrics use (the first N); 0 all */
    char bias_init[64];     /* zero | theory | a number */
    double imbalance;       /* long-tailed: rho = n_max / n_min (0: the set as it is) */
    char class_order[512];  /* --imbalance's class order, most to fewest ("" = 0..K-1) */
    char known[512];        /* open set: the classes trained on ("" = all) */
    int augment;            /* --augment: NN_AUGMENT_* flags of training batches (0: none) */
    int fast_math;
    int data_parallel;      /* --data-parallel: 0 off; 1 asked for; while running (and in the
                               checkpoint's meta, data-parallel=N) the job's rank count N */
    char device[128];
    char out[1024];
    int progress;           /* 1 on, 0 off */
    char resume[1024];      /* a run folder to continue, or "" */
} app_train_opts;

void app_train_defaults(app_train_opts *o);
/* Parses `gammacl train` arguments; returns 0, or 2 with a message in err (1 for --help, printed). */
int app_train_parse(int argc, char **argv, app_train_opts *o, char *err, size_t errlen);
/* The same for a list of options alone (no command name before them), as a sweep stores them. */
int app_train_parse_list(char *const *args, int nargs, app_train_opts *o, char *err, size_t errlen);
/* 1 when option NAME (no leading --) takes a value, 0 for a flag, -1 when there is no such option. */
int app_train_option_takes_value(const char *name);
/* Writes the options as "key=value\n" lines (the checkpoint's meta); returns a malloc'd string. */
char *app_train_opts_to_meta(const app_train_opts *o);
/* Reads options back from meta lines (for --resume). */
int app_train_opts_from_meta(const char *meta, app_train_opts *o, char *err, size_t errlen);
/* 0 when --augment can apply to images of h x w (a crop needs 9 x 9 at least: 2 x 4 pixels of
 * padding plus one), else -1 with the reason in err. */
int app_augment_check(const app_train_opts *o, int h, int w, char *err, size_t errlen);
/* The initial shared bias from --bias-init for gamma and K. */
int app_bias_init_value(const app_train_opts *o, int classes, float *b, char *err, size_t errlen);

/* Runs (or resumes) training; returns the process exit code. */
int app_train_run(app_train_opts *o);

/* ---- what a run stands on (run_setup.c); cmd names the command in messages ---- */
/* Opens the training and test sets (the test set of --test-data when given, checked to fit the
 * training set: shape, classes, class names; with the limits; --known keeps those classes, relabeled
 * 0..n-1 in the list's order; --imbalance then subsamples the training set, seeded by --seed) and
 * their per-channel mean and std. */
int app_setup_data(const char *cmd, const app_train_opts *o, app_dataset *train, app_dataset *test,
                   float mean[8], float std[8]);
/* The open-set unknowns of a --known run: the test samples (of --test-data when given, within
 * --test-limit) of the other classes, with their original labels. */
int app_setup_unknown(const char *cmd, const app_train_opts *o, app_dataset *unknown);
/* The model spec text (built-in or a file), checked against the input shape. */
int app_setup_spec(const char *cmd, const app_train_opts *o, const app_dataset *train, char **spec);
/* Opens the device of o->device and prints which one it is. */
int app_setup_device(const char *cmd, const app_train_opts *o, rt_ctx **rt);
/* Builds the model for the data's shape and classes (batch max_batch; input_grad: also the
 * gradient with respect to the input). */
int app_setup_model(const char *cmd, const app_train_opts *o, rt_ctx *rt, const char *spec,
                    const app_dataset *train, int max_batch, int input_grad, nn_model **model);

/* ---- a trained model back from its checkpoint (run_load.c) ---- */
typedef struct app_trained {
    app_train_opts o;          /* the run's own options, from the checkpoint */
    int epoch;                 /* epochs the checkpoint has finished */
    app_dataset train, test;   /* test: the run's test set, or the one asked for */
    float mean[8], std[8];     /* the standardization of the run's training set */
    char *spec;
    rt_ctx *rt;
    nn_model *model;
} app_trained;

/* Loads ckpt (a model.ckpt file) onto device (""/NULL: the default), with the run's data, or
 * the test set of `data` when given (same shape and classes). Returns 0, or 1/2 after a message. */
int app_run_load(const char *cmd, const char *ckpt, const char *device, const char *data,
                 int max_batch, int input_grad, app_trained *t);
void app_run_unload(app_trained *t);

#endif /* GAMMACL_RUN_H */
