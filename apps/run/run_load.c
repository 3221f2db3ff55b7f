/* apps/run/run_load.c — a trained model back from its checkpoint, with the data it was trained
 * on (for the standardization) and a test set, on a device: what `gammacl eval` evaluates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

int app_run_load(const char *cmd, const char *ckpt, const char *device, const char *data,
                 int max_batch, int input_grad, app_trained *t)
{
    memset(t, 0, sizeof *t);
    nn_ckpt c = {0};
    char err[1024];
    if (nn_ckpt_read(ckpt, &c, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl %s: %s\n", cmd, err);
        return 2;
    }
    app_train_defaults(&t->o);
    if (app_train_opts_from_meta(c.meta, &t->o, err, sizeof err) != 0) {
        fprintf(stderr, "gammacl %s: %s: %s\n", cmd, ckpt, err);
        nn_ckpt_free(&c);
        return 2;
    }
    t->epoch = c.epoch;
    snprintf(t->o.device, sizeof t->o.device, "%s", device ? device : "");
    int rc = app_setup_data(cmd, &t->o, &t->train, &t->test, t->mean, t->std);
    if (!rc && data && data[0]) {
        /* another test set: the run's standardization, its own samples */
        app_dataset other = {0};
        if (app_dataset_open_test_set(data, t->o.test_limit, &other, err, sizeof err) != 0) {
            fprintf(stderr, "gammacl %s: %s\n", cmd, err);
            rc = 2;
        } else if (other.channels != t->train.channels || other.height != t->train.height ||
                   other.width != t->train.width || other.classes != t->train.classes) {
            fprintf(stderr, "gammacl %s: the test set of '%s' (%dx%dx%d, %d classes) does not fit the "
                    "model (%dx%dx%d, %d classes)\n", cmd, data, other.channels, other.height,
                    other.width, other.classes, t->train.channels, t->train.height, t->train.width,
                    t->train.classes);
            app_dataset_free(&other);
            rc = 2;
        } else {
            app_dataset_free(&t->test);
            t->test = other;
        }
    }
    if (!rc) rc = app_setup_spec(cmd, &t->o, &t->train, &t->spec);
    if (!rc && strcmp(c.spec, t->spec) != 0) {
        fprintf(stderr, "gammacl %s: the model spec stored in %s differs from '%s' now\n", cmd, ckpt,
                t->o.model);
        rc = 2;
    }
    if (!rc) rc = app_setup_device(cmd, &t->o, &t->rt);
    if (!rc) rc = app_setup_model(cmd, &t->o, t->rt, t->spec, &t->train, max_batch, input_grad, &t->model);
    if (!rc && nn_model_import(t->model, &c) != RT_OK) {
        fprintf(stderr, "gammacl %s: %s: %s\n", cmd, ckpt, rt_error(t->rt));
        rc = 2;
    }
    nn_ckpt_free(&c);
    if (rc) app_run_unload(t);
    return rc;
}

void app_run_unload(app_trained *t)
{
    nn_model_free(t->model);
    rt_close(t->rt);
    free(t->spec);
    app_dataset_free(&t->train);
    app_dataset_free(&t->test);
    memset(t, 0, sizeof *t);
}
