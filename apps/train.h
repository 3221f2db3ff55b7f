/* apps/train.h — the options of a training run and the run itself (apps/train.c).
 *
 * The options are parsed from the command line (cmd_train.c), saved into every checkpoint as
 * "key=value" lines, and read back from there by --resume, so a resumed run is the same run.
 */
#ifndef GAMMACL_TRAIN_H
#define GAMMACL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum { APP_LR_COSINE = 0, APP_LR_STEP = 1 } app_lr_schedule;

typedef struct app_train_opts {
    char data[512];         /* fashion-mnist, cifar10, cifar100 or a path */
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
    int fast_math;
    char device[128];
    char out[1024];
    int progress;           /* 1 on, 0 off */
    char resume[1024];      /* a run folder to continue, or "" */
} app_train_opts;

void app_train_defaults(app_train_opts *o);
/* Parses `gammacl train` arguments; returns 0, or 2 with a message in err (1 for --help, printed). */
int app_train_parse(int argc, char **argv, app_train_opts *o, char *err, size_t errlen);
/* Writes the options as "key=value\n" lines (the checkpoint's meta); returns a malloc'd string. */
char *app_train_opts_to_meta(const app_train_opts *o);
/* Reads options back from meta lines (for --resume). */
int app_train_opts_from_meta(const char *meta, app_train_opts *o, char *err, size_t errlen);
/* The initial shared bias from --bias-init for gamma and K. */
int app_bias_init_value(const app_train_opts *o, int classes, float *b, char *err, size_t errlen);

/* Runs (or resumes) training; returns the process exit code. */
int app_train_run(app_train_opts *o);

#endif
