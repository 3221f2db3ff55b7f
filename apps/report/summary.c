/* apps/report/summary.c — metrics rows and summary.json (written with cJSON, atomically). */
#include "summary.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

void app_format_row(const app_epoch_row *r, char *out, size_t len)
{
    snprintf(out, len, "%d,%.3f,%.9g,%.9g,%.9g,%.6f,%.9g,%.9g,%.6f,%.9g,%.9g,%.1f", r->epoch,
             r->seconds, r->lr, r->train_ce, r->train_bce, r->train_acc, r->test_ce, r->test_bce,
             r->test_acc, r->bias, r->b_star, r->img_per_s);
}

static cJSON *device_json(rt_ctx *rt)
{
    const rt_device_info *d = rt_device(rt);
    const rt_params *p = rt_device_params(rt);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform);
    cJSON_AddStringToObject(o, "platform_version", d->platform_version);
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddStringToObject(o, "type", d->type);
    cJSON_AddStringToObject(o, "driver", d->driver);
    cJSON_AddStringToObject(o, "opencl_c", d->clc_version);
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
    cJSON_AddStringToObject(o, "device_table_row", p->row);
    cJSON_AddStringToObject(o, "gemm", rt_gemm_path_name(p->gemm));
    cJSON_AddStringToObject(o, "build_options", rt_build_options(rt));
    return o;
}

static cJSON *args_json(const app_train_opts *o)
{
    cJSON *a = cJSON_CreateObject();
    char *meta = app_train_opts_to_meta(o);
    for (char *line = meta; line && *line;) {
        char *nl = strchr(line, '\n'), *eq = strchr(line, '=');
        if (nl) *nl = 0;
        if (eq) {
            *eq = 0;
            cJSON_AddStringToObject(a, line, eq + 1);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(meta);
    cJSON_AddStringToObject(a, "device", o->device);
    cJSON_AddStringToObject(a, "out", o->out);
    return a;
}

int app_write_summary(const app_train_opts *o, rt_ctx *rt, nn_model *m, const app_epoch_row *last,
                      double train_seconds, double train_images, int finished)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "gammacl_version", GAMMACL_VERSION);
    cJSON_AddItemToObject(root, "arguments", args_json(o));
    cJSON_AddItemToObject(root, "device", device_json(rt));
    cJSON *v = cJSON_AddObjectToObject(root, "versions");
    cJSON_AddStringToObject(v, "clblast", rt_clblast_version());
    cJSON_AddStringToObject(v, "opencl_platform", rt_device(rt)->platform_version);
    cJSON_AddStringToObject(v, "device_version", rt_device(rt)->version);
    cJSON_AddBoolToObject(root, "fast_math", o->fast_math);
    cJSON_AddBoolToObject(root, "finished", finished);
    cJSON_AddNumberToObject(root, "parameters", (double)nn_model_param_count(m));
    cJSON *f = cJSON_AddObjectToObject(root, "final");
    cJSON_AddNumberToObject(f, "epoch", last->epoch);
    cJSON_AddNumberToObject(f, "train_ce", last->train_ce);
    cJSON_AddNumberToObject(f, "train_bce", last->train_bce);
    cJSON_AddNumberToObject(f, "train_acc", last->train_acc);
    cJSON_AddNumberToObject(f, "test_ce", last->test_ce);
    cJSON_AddNumberToObject(f, "test_bce", last->test_bce);
    cJSON_AddNumberToObject(f, "test_acc", last->test_acc);
    cJSON_AddNumberToObject(f, "bias", last->bias);
    cJSON_AddNumberToObject(f, "b_star", last->b_star);
    cJSON_AddNumberToObject(f, "train_seconds_this_process", train_seconds);
    cJSON_AddNumberToObject(f, "train_img_per_s", train_seconds > 0 ? train_images / train_seconds : 0);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    int rc = text ? app_write_file_atomic(path, text, strlen(text), err, sizeof err) : -1;
    if (rc != 0) fprintf(stderr, "gammacl train: %s\n", text ? err : "out of memory");
    free(text);
    return rc ? 1 : 0;
}
