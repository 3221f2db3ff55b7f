/* apps/run/run_setup.c — what a run stands on: the data sets and their standardization, the
 * model spec, the device and the model. Used by the training loop and by app_run_load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "run.h"

/* --known, then --imbalance (class ids in --class-order are the data set's own) */
static int setup_classes_in(const app_train_opts *o, app_dataset *train, app_dataset *test, int *which,
                            char *err, size_t errlen)
{
    int known[256], order[256], nknown = 0, norder = 0;
    if (o->known[0]) {
        if ((nknown = app_parse_class_list(o->known, known, 256, err, errlen)) < 0) return -1;
        if (app_dataset_split_classes(train, known, nknown, NULL, err, errlen) != 0 ||
            app_dataset_split_classes(test, known, nknown, NULL, err, errlen) != 0)
            return -1;
    }
    if (o->imbalance == 0) return 0;
    *which = 1;
    if (o->class_order[0]) {
        *which = 2;
        if ((norder = app_parse_class_list(o->class_order, order, 256, err, errlen)) < 0) return -1;
        for (int i = 0; i < norder && nknown; i++) {
            int at = -1;
            for (int j = 0; j < nknown; j++)
                if (known[j] == order[i]) at = j;
            if (at < 0) {
                snprintf(err, errlen, "class %d is not among --known %s", order[i], o->known);
                return -1;
            }
            order[i] = at;
        }
    }
    *which = 1;
    return app_dataset_imbalance(train, o->imbalance, norder ? order : NULL, norder, o->seed, NULL, err, errlen);
}

/* the same, its message naming the option */
static int setup_classes(const app_train_opts *o, app_dataset *train, app_dataset *test, char *err, size_t errlen)
{
    char why[APP_ERRLEN];
    int which = 0;
    if (setup_classes_in(o, train, test, &which, why, sizeof why) == 0) return 0;
    static const char *const option[] = {"known", "imbalance", "class-order"};
    snprintf(err, errlen, "--%s: %s", option[which], why);
    return -1;
}

/* The run's test set, its first --test-limit samples: --test-data's when given, else the test
 * split of --data. */
static int open_test_set(const app_train_opts *o, app_dataset *test, char *err, size_t errlen)
{
    char why[APP_ERRLEN];
    if (!o->test_data[0]) return app_dataset_open_first(o->data, 0, o->test_limit, test, err, errlen);
    if (app_dataset_open_test_set(o->test_data, o->test_limit, test, why, sizeof why) == 0) return 0;
    snprintf(err, errlen, "--test-data: %s", why);
    return 1;
}

int app_setup_unknown(const char *cmd, const app_train_opts *o, app_dataset *unknown)
{
    char err[APP_ERRLEN];
    int known[256], n;
    app_dataset test = {0};
    memset(unknown, 0, sizeof *unknown);
    if ((n = app_parse_class_list(o->known, known, 256, err, sizeof err)) < 0 ||
        open_test_set(o, &test, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        return 2;
    }
    const int rc = app_dataset_split_classes(&test, known, n, unknown, err, sizeof err);
    app_dataset_free(&test);
    if (rc != 0) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        return 2;
    }
    return 0;
}

int app_setup_data(const char *cmd, const app_train_opts *o, app_dataset *train, app_dataset *test,
                   float mean[8], float std[8])
{
    char err[APP_ERRLEN], why[APP_ERRLEN];
    memset(train, 0, sizeof *train), memset(test, 0, sizeof *test);
    int bad = app_dataset_open_first(o->data, 1, o->train_limit, train, err, sizeof err) != 0 ||
              open_test_set(o, test, err, sizeof err) != 0;
    if (!bad && app_dataset_check_match(train, test, why, sizeof why) != 0) {
        if (o->test_data[0]) snprintf(err, sizeof err, "--test-data '%s': %s", o->test_data, why);
        else snprintf(err, sizeof err, "the training and test sets of '%s' differ: %s", o->data, why);
        bad = 1;
    }
    if (!bad) bad = setup_classes(o, train, test, err, sizeof err) != 0;
    if (!bad && (train->count == 0 || test->count == 0)) {
        snprintf(err, sizeof err, "no %s images are left of '%s' (--known %s within the first %d)",
                 train->count ? "test" : "training", train->count && o->test_data[0] ? o->test_data : o->data,
                 o->known, train->count ? o->test_limit : o->train_limit);
        bad = 1;
    }
    if (!bad && train->channels > 8) {
        snprintf(err, sizeof err, "the images of '%s' have %d channels, more than the 8 supported", o->data,
                 train->channels);
        bad = 1;
    }
    if (bad) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        app_dataset_free(train), app_dataset_free(test);
        return 2;
    }
    const int C = train->channels;
    const size_t hw = (size_t)train->height * train->width;
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0;
        for (int i = 0; i < train->count; i++) {
            const uint8_t *p = train->pixels + ((size_t)i * C + c) * hw;
            for (size_t j = 0; j < hw; j++) s += p[j], ss += (double)p[j] * p[j];
        }
        const double n = (double)train->count * (double)hw, mu = s / n;
        mean[c] = (float)mu;
        std[c] = (float)sqrt(fmax(ss / n - mu * mu, 1e-12));
    }
    return 0;
}

int app_setup_spec(const char *cmd, const app_train_opts *o, const app_dataset *train, char **spec)
{
    const char *builtin = nn_builtin_model(o->model);
    char err[1024];
    *spec = NULL;
    if (builtin) *spec = strdup(builtin);
    else if (app_read_text_file(o->model, 1 << 20, spec, err, sizeof err) != 0) {
        char names[128];
        nn_builtin_model_names(names, sizeof names);
        fprintf(stderr, "gammacl %s: --model '%s' is neither a built-in model (%s) nor a readable "
                        "spec file: %s\n", cmd, o->model, names, err);
        return 2;
    }
    if (!*spec) {
        fprintf(stderr, "gammacl %s: out of memory\n", cmd);
        return 1;
    }
    if (nn_spec_check(*spec, train->channels, train->height, train->width, err, sizeof err)) {
        fprintf(stderr, "gammacl %s: model '%s': %s\n", cmd, o->model, err);
        return 2;
    }
    return 0;
}

int app_setup_device(const char *cmd, const app_train_opts *o, rt_ctx **rt)
{
    char err[RT_ERRLEN];
    rt_options ro = {.device_spec = o->device, .fast_math = o->fast_math};
    if (rt_open(rt, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        return 2;
    }
    const rt_device_info *d = rt_device(*rt);
    printf("device: %s (%s, driver %s), kernels: %s, GEMM: %s%s\n", d->name, d->platform, d->driver,
           rt_device_params(*rt)->row, rt_gemm_path_name(rt_device_params(*rt)->gemm),
           o->fast_math ? ", fast math" : "");
    const rt_tune_table *t = rt_tune_get(*rt);
    if (rt_tune_applies(*rt) && t->tuned)
        printf("kernel parameters: tuned on this machine (%d entries)\n", t->tuned);
    else if (rt_tune_applies(*rt))
        printf("kernel parameters: %s; `gammacl tune --device %d` (1-2 minutes, once) fits them to this CPU\n",
               t->shipped ? "shipped for this CPU" : "untuned defaults", d->index);
    return 0;
}

int app_setup_model(const char *cmd, const app_train_opts *o, rt_ctx *rt, const char *spec,
                    const app_dataset *train, int max_batch, int input_grad, nn_model **model)
{
    float b0;
    char err[512];
    *model = NULL;
    if (app_bias_init_value(o, train->classes, &b0, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        return 2;
    }
    nn_config cfg = {.spec = spec, .in_c = train->channels, .in_h = train->height,
                     .in_w = train->width, .classes = train->classes, .max_batch = max_batch,
                     .loss = o->loss ? NN_LOSS_BCE : NN_LOSS_CE, .gamma = (float)o->gamma,
                     .bias_init = b0, .seed = o->seed, .momentum = (float)o->momentum,
                     .weight_decay = (float)o->wd, .input_grad = input_grad};
    if (nn_model_create(rt, &cfg, model) != RT_OK) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, rt_error(rt));
        return 1;
    }
    return 0;
}
