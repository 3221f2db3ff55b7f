/* apps/run/run_opts.c — the options of a training run: one table drives parsing, validation, --help, and
 * the key=value lines stored in checkpoints (so --resume restores exactly the same run). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "theory.h"
#include "run.h"

/* K_RANKS: a flag on the command line; in the meta the rank count, and no line when off (so a
 * plain run's meta is what it always was) */
typedef enum { K_STR, K_INT, K_DBL, K_U64, K_LOSS, K_SCHED, K_LIST, K_FLAG, K_AUG, K_RANKS } kind;

typedef struct {
    const char *name;
    kind k;
    size_t off, size;
    double lo, hi;
    const char *arg, *help;
} option;

#define O(field) offsetof(app_train_opts, field), sizeof(((app_train_opts *)0)->field)

static const option options[] = {
    {"data", K_STR, O(data), 0, 0, "NAME|PATH", "fashion-mnist (default), cifar10, cifar100, or a folder"},
    {"test-data", K_STR, O(test_data), 0, 0, "NAME|PATH",
     "a separate test set: its test split, else all of it (default: --data's test split)"},
    {"model", K_STR, O(model), 0, 0, "NAME|FILE", "cnn5 (default), resnet18, or a model spec file"},
    {"loss", K_LOSS, O(loss), 0, 0, "ce|bce", "the loss to train (both are always logged; default ce)"},
    {"gamma", K_DBL, O(gamma), 1e-6, 1e4, "G", "scale of the cosine logits (default 16)"},
    {"epochs", K_INT, O(epochs), 1, 100000, "N", "epochs (default 3)"},
    {"batch", K_INT, O(batch), 1, 65536, "N", "batch size (default 128)"},
    {"lr", K_DBL, O(lr), 1e-12, 1e9, "LR", "initial learning rate (default 0.1)"},
    {"momentum", K_DBL, O(momentum), 0, 0.999999, "M", "SGD momentum (default 0.9)"},
    {"wd", K_DBL, O(wd), 0, 1, "WD", "weight decay on conv, linear and classifier weights (default 5e-4)"},
    {"lr-schedule", K_SCHED, O(schedule), 0, 0, "cosine|step",
     "cosine: decayed every step to 0 over the run (default); step: see --milestones"},
    {"milestones", K_LIST, O(milestones), 1, 100000, "E1,E2,..", "step schedule: epochs where lr *= --lr-decay"},
    {"lr-decay", K_DBL, O(lr_decay), 1e-9, 1, "F", "step schedule factor (default 0.2)"},
    {"seed", K_U64, O(seed), 0, 0, "S", "seed of initialization and data order (default 1)"},
    {"train-limit", K_INT, O(train_limit), 0, 1e9, "N", "use only the first N training samples"},
    {"test-limit", K_INT, O(test_limit), 0, 1e9, "N", "use only the first N test samples"},
    {"imbalance", K_DBL, O(imbalance), 0, 1e6, "RHO",
     "long-tailed training set: class k keeps n_max * RHO^(-k/(K-1)) samples (default 0: as it is)"},
    {"class-order", K_STR, O(class_order), 0, 0, "ID,ID,..",
     "--imbalance: the classes from most to fewest samples (default 0,1,..,K-1)"},
    {"known", K_STR, O(known), 0, 0, "ID,ID,..",
     "open set: train on these classes only; `gammacl eval` adds the others' test images as unknown"},
    {"augment", K_AUG, O(augment), 0, 0, "crop,flip|none",
     "training batches only: crop (shift <= 4 px, raw-0 padding; images >= 9x9), flip (p 1/2); "
     "seeded (default none)"},
    {"metrics-every", K_INT, O(metrics_every), 0, 1e6, "N",
     "feature metrics every N epochs, before training and after the last (default 1; 0 never)"},
    {"metrics-train-limit", K_INT, O(metrics_train_limit), 0, 1e9, "N",
     "the metrics' training set: the first N training samples (default 10000; 0 all)"},
    {"bias-init", K_STR, O(bias_init), 0, 0, "zero|theory|B",
     "BCE's initial shared bias: 0, b*(gamma, K), or a number (default zero)"},
    {"fast-math", K_FLAG, O(fast_math), 0, 0, NULL,
     "compile kernels with -cl-fast-relaxed-math (recorded in summary.json)"},
    {"data-parallel", K_RANKS, O(data_parallel), 0, 1e6, NULL,
     "train as the ranks of mpirun -np N (a build with MPI): 1/N of every batch each, gradients "
     "averaged every step, batch-norm statistics per rank"},
    {"device", K_STR, O(device), 0, 0, "SPEC", "index, P:D, or part of a device name (or GAMMACL_DEVICE)"},
    {"out", K_STR, O(out), 0, 0, "DIR", "output folder (default runs/MODEL-LOSS-gGAMMA-sSEED)"},
    {"progress", K_INT, O(progress), 0, 1, "0|1", "progress display on stderr (default 1)"},
    {"resume", K_STR, O(resume), 0, 0, "DIR", "continue the interrupted run in DIR from its checkpoint"},
};
#define NOPTS (sizeof options / sizeof options[0])

/* options that describe the run itself, stored in checkpoints (not device, out, progress, resume) */
static int is_run_option(const option *o)
{
    return strcmp(o->name, "device") && strcmp(o->name, "out") && strcmp(o->name, "progress") &&
           strcmp(o->name, "resume");
}

void app_train_defaults(app_train_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->data, sizeof o->data, "fashion-mnist");
    snprintf(o->model, sizeof o->model, "cnn5");
    o->gamma = 16;
    o->epochs = 3;
    o->batch = 128;
    o->lr = 0.1;
    o->momentum = 0.9;
    o->wd = 5e-4;
    o->lr_decay = 0.2;
    o->seed = 1;
    o->metrics_every = 1;
    o->metrics_train_limit = 10000;
    snprintf(o->bias_init, sizeof o->bias_init, "zero");
    o->progress = 1;
}

static void usage(void)
{
    printf("usage: gammacl train [OPTIONS]\n\n"
           "Trains a normalized-feature network (logits gamma*cos, or gamma*cos - b for BCE) and\n"
           "writes OUT/metrics.csv (a row per epoch, both losses, feature metrics), OUT/class_acc.csv\n"
           "(per-class test accuracy), OUT/summary.json, OUT/hist/epoch_NNN.png and OUT/model.ckpt\n"
           "(updated at every epoch end). Ctrl-C stops after the current step with a checkpoint\n"
           "(a second Ctrl-C quits at once, keeping the last finished epoch's); --resume OUT continues.\n"
           "\noptions:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        printf("  %-28s %s\n", left, options[i].help);
    }
}

static int parse_list(const char *v, int *dst, int max, int *count, double lo, double hi)
{
    *count = 0;
    const char *p = v;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < lo || x > hi || *count == max) return -1;
        if (*count > 0 && x <= dst[*count - 1]) return -1; /* increasing */
        dst[(*count)++] = (int)x;
        if (*end == 0) break;
        if (*end != ',' || end[1] == 0) return -1;
        p = end + 1;
    }
    return *count > 0 ? 0 : -1;
}

/* --augment: "" or "none" (off), or a comma list of crop and flip */
static int parse_augment(const char *v, int *flags, char *err, size_t errlen)
{
    int f = 0;
    if (strcmp(v, "none") != 0)
        for (const char *p = v; *p;) {
            const size_t n = strcspn(p, ",");
            if (n == 4 && strncmp(p, "crop", 4) == 0) f |= NN_AUGMENT_CROP;
            else if (n == 4 && strncmp(p, "flip", 4) == 0) f |= NN_AUGMENT_FLIP;
            else {
                snprintf(err, errlen, "--augment: '%.*s' is not an augmentation (expected crop, flip, "
                         "both as crop,flip, or none)", n > 60 ? 60 : (int)n, p);
                return -1;
            }
            p += n;
            if (*p == ',' && !*++p) {
                snprintf(err, errlen, "--augment: '%.60s' ends with a comma", v);
                return -1;
            }
        }
    *flags = f;
    return 0;
}

static int set_value(const option *opt, const char *v, app_train_opts *o, char *err, size_t errlen)
{
    char *field = (char *)o + opt->off, *end;
    errno = 0;
    switch (opt->k) {
    case K_STR:
        if (strlen(v) >= opt->size || !*v) break;
        for (const char *c = v; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                snprintf(err, errlen, "--%s: control characters (newline, tab, ...) are not allowed",
                         opt->name);
                return -1;
            }
        snprintf(field, opt->size, "%s", v);
        return 0;
    case K_INT:
    case K_RANKS: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || errno || x < opt->lo || x > opt->hi) break;
        *(int *)field = (int)x;
        return 0;
    }
    case K_DBL: {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || x < opt->lo || x > opt->hi) break;
        *(double *)field = x;
        return 0;
    }
    case K_U64: {
        if (*v == '-') break;
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno) break;
        *(uint64_t *)field = (uint64_t)x;
        return 0;
    }
    case K_LOSS:
        if (strcmp(v, "ce") && strcmp(v, "bce")) break;
        *(int *)field = strcmp(v, "bce") == 0;
        return 0;
    case K_SCHED:
        if (strcmp(v, "cosine") && strcmp(v, "step")) break;
        *(app_lr_schedule *)field = strcmp(v, "step") == 0 ? APP_LR_STEP : APP_LR_COSINE;
        return 0;
    case K_LIST:
        if (parse_list(v, o->milestones, 16, &o->nmilestones, opt->lo, opt->hi) != 0) break;
        return 0;
    case K_FLAG:
        if (strcmp(v, "1") && strcmp(v, "0")) break;
        *(int *)field = v[0] == '1';
        return 0;
    case K_AUG:
        return parse_augment(v, (int *)field, err, errlen);
    }
    if (opt->k == K_INT || opt->k == K_DBL || opt->k == K_RANKS)
        snprintf(err, errlen, "--%s: '%.60s' is not a number in [%g, %g]", opt->name, v, opt->lo, opt->hi);
    else
        snprintf(err, errlen, "--%s: '%.60s' is not valid (expected %s)", opt->name, v,
                 opt->arg ? opt->arg : "0 or 1");
    return -1;
}

static const option *find(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0) return &options[i];
    return NULL;
}

int app_train_option_takes_value(const char *name)
{
    const option *opt = find(name, strlen(name));
    return opt ? opt->k != K_FLAG && opt->k != K_RANKS : -1;
}

int app_train_parse(int argc, char **argv, app_train_opts *o, char *err, size_t errlen)
{
    app_train_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%.60s' (options start with --; try --help)", a);
            return 2;
        }
        const char *eq = strchr(a + 2, '=');
        const option *opt = find(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (!opt) {
            snprintf(err, errlen, "unknown option '%.60s' (try --help)", a);
            return 2;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && (opt->k == K_FLAG || opt->k == K_RANKS)) v = "1";
        if (opt->k == K_RANKS && strcmp(v, "0") && strcmp(v, "1")) {
            snprintf(err, errlen, "--%s is a flag: the rank count comes from the launcher (mpirun -np N)",
                     opt->name);
            return 2;
        }
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value (%s)", opt->name, opt->arg);
                return 2;
            }
            v = argv[++i];
        }
        if (set_value(opt, v, o, err, errlen) != 0) return 2;
    }
    float b;
    if (app_bias_init_value(o, 10, &b, err, errlen) != 0) return 2;
    if (o->imbalance != 0 && o->imbalance < 1) {
        snprintf(err, errlen, "--imbalance: RHO = n_max / n_min must be at least 1 (got %g)", o->imbalance);
        return 2;
    }
    if (o->class_order[0] && o->imbalance == 0) {
        snprintf(err, errlen, "--class-order is the order of --imbalance; give --imbalance RHO too");
        return 2;
    }
    int ids[256];
    char why[APP_ERRLEN];
    for (int k = 0; k < 2; k++) {
        const char *list = k ? o->class_order : o->known;
        if (list[0] && app_parse_class_list(list, ids, 256, why, sizeof why) < 0) {
            snprintf(err, errlen, "--%s: %s", k ? "class-order" : "known", why);
            return 2;
        }
    }
    if (o->schedule == APP_LR_STEP && o->nmilestones == 0) {
        snprintf(err, errlen, "--lr-schedule step needs --milestones E1,E2,..");
        return 2;
    }
    if (!o->out[0] && !o->resume[0]) {
        char name[400];
        snprintf(name, sizeof name, "%.200s-%s-g%g-s%llu", o->model, o->loss ? "bce" : "ce", o->gamma,
                 (unsigned long long)o->seed);
        for (char *p = name; *p; p++)
            if (*p == '/') *p = '_';
        snprintf(o->out, sizeof o->out, "runs/%s", name);
    }
    return 0;
}

int app_train_parse_list(char *const *args, int nargs, app_train_opts *o, char *err, size_t errlen)
{
    char **argv = calloc((size_t)nargs + 2, sizeof *argv);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    argv[0] = "train";
    for (int i = 0; i < nargs; i++) argv[i + 1] = args[i];
    const int rc = app_train_parse(nargs + 1, argv, o, err, errlen);
    free(argv);
    return rc;
}

int app_augment_check(const app_train_opts *o, int h, int w, char *err, size_t errlen)
{
    const int least = 2 * NN_AUGMENT_PAD + 1;
    if ((o->augment & NN_AUGMENT_CROP) && (h < least || w < least)) {
        snprintf(err, errlen, "--augment crop shifts images by up to %d pixels and needs images of "
                 "%dx%d or more; these are %dx%d (use --augment flip or none)", NN_AUGMENT_PAD, least,
                 least, h, w);
        return -1;
    }
    return 0;
}

int app_bias_init_value(const app_train_opts *o, int classes, float *b, char *err, size_t errlen)
{
    if (strcmp(o->bias_init, "zero") == 0) *b = 0.0f;
    else if (strcmp(o->bias_init, "theory") == 0) *b = (float)nn_theory_bce_bias(o->gamma, classes);
    else {
        char *end;
        errno = 0;
        double v = strtod(o->bias_init, &end);
        if (end == o->bias_init || *end || errno || !isfinite(v) || fabs(v) > 1e6) {
            snprintf(err, errlen, "--bias-init: '%.60s' is not zero, theory or a number", o->bias_init);
            return -1;
        }
        *b = (float)v;
    }
    return 0;
}

static void format_value(const option *opt, const app_train_opts *o, char *out, size_t len)
{
    const char *field = (const char *)o + opt->off;
    switch (opt->k) {
    case K_STR: snprintf(out, len, "%s", field); break;
    case K_INT: case K_FLAG: case K_RANKS: snprintf(out, len, "%d", *(const int *)field); break;
    case K_DBL: snprintf(out, len, "%.17g", *(const double *)field); break;
    case K_U64: snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case K_LOSS: snprintf(out, len, "%s", *(const int *)field ? "bce" : "ce"); break;
    case K_SCHED: snprintf(out, len, "%s", o->schedule == APP_LR_STEP ? "step" : "cosine"); break;
    case K_AUG: {
        const int f = *(const int *)field;
        snprintf(out, len, "%s", f == (NN_AUGMENT_CROP | NN_AUGMENT_FLIP) ? "crop,flip"
                                 : f == NN_AUGMENT_CROP                   ? "crop"
                                 : f == NN_AUGMENT_FLIP                   ? "flip"
                                                                          : "none");
        break;
    }
    case K_LIST: {
        size_t off = 0;
        out[0] = 0;
        for (int i = 0; i < o->nmilestones && off < len; i++)
            off += (size_t)snprintf(out + off, len - off, "%s%d", i ? "," : "", o->milestones[i]);
        break;
    }
    }
}

char *app_train_opts_to_meta(const app_train_opts *o)
{
    size_t cap = 8192, off = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        if (!is_run_option(&options[i])) continue;
        char v[1100];
        format_value(&options[i], o, v, sizeof v);
        if ((options[i].k == K_LIST || options[i].k == K_STR) && !v[0]) continue;
        if (options[i].k == K_RANKS && !*(const int *)((const char *)o + options[i].off)) continue;
        off += (size_t)snprintf(s + off, cap - off, "%s=%s\n", options[i].name, v);
    }
    return s;
}

int app_train_opts_from_meta(const char *meta, app_train_opts *o, char *err, size_t errlen)
{
    for (const char *p = meta; p && *p;) {
        const char *nl = strchr(p, '\n'), *eq = strchr(p, '=');
        const size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (eq && eq < p + len) {
            const option *opt = find(p, (size_t)(eq - p));
            char v[1100];
            snprintf(v, sizeof v, "%.*s", (int)(len - (size_t)(eq - p) - 1), eq + 1);
            if (opt && is_run_option(opt) && set_value(opt, v, o, err, errlen) != 0) return -1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}
