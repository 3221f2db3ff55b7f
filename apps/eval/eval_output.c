/* apps/eval/eval_output.c — what `gammacl eval` gives back: a table on stdout, eval.json (with
 * provenance) and, on request, a NumPy .npz of the test set's features, cosines, labels,
 * predictions and the class weights. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "files.h"
#include "npz.h"
#include "provenance.h"
#include "summary.h"

void ev_print(const ev_opts *o, const ev_result *r)
{
    printf("  %-22s %9s %9s\n", "condition", "accuracy", "flip rate");
    printf("  %-22s %8.2f%% %9s\n", "clean", 100 * r->clean_acc, "-");
    for (int c = 0; c < r->ncond; c++)
        printf("  %-22s %8.2f%% %8.2f%%\n", r->cond[c].name, 100 * r->cond[c].acc, 100 * r->cond[c].flip_rate);
    printf("  margin below %g: %.2f%% of test samples\n", o->margin, 100 * r->small_margin);
    if (r->long_tail && r->class_acc) {
        char line[512];
        app_shots_line(&r->shots, line, sizeof line);
        printf("  %s\n", line);
    }
    if (r->open_set) {
        printf("  open set: %d known test images (closed-set accuracy %.2f%%), %d unknown\n", r->count,
               100 * r->clean_acc, r->unknown_count);
        for (int s = 0; s < EV_SCORES; s++)
            printf("  %-22s AUROC %.4f  OSCR %.4f\n", ev_score_names[s], r->auroc[s], r->oscr[s]);
    }
}

int ev_write_json(const char *path, const ev_opts *o, const ev_result *r, const char *device,
                  char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *prov = app_provenance_json();
    if (prov) cJSON_AddItemToObject(j, "provenance", prov);
    cJSON_AddStringToObject(j, "checkpoint", o->run[0] ? o->run : o->ckpt);
    cJSON_AddStringToObject(j, "test_data", o->data[0] ? o->data : "the run's");
    cJSON_AddStringToObject(j, "device", device);
    cJSON_AddNumberToObject(j, "epoch", r->epoch);
    cJSON_AddStringToObject(j, "loss", r->loss ? "bce" : "ce");
    cJSON_AddNumberToObject(j, "gamma", r->gamma);
    cJSON_AddNumberToObject(j, "bias", r->bias);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "test_count", r->count);
    cJSON_AddNumberToObject(j, "classes", r->classes);
    cJSON_AddNumberToObject(j, "clean_acc", r->clean_acc);
    cJSON_AddNumberToObject(j, "margin_threshold", o->margin);
    cJSON_AddNumberToObject(j, "frac_margin_below_0.05", r->small_margin);
    char notes[512];
    snprintf(notes, sizeof notes, "input noise and FGSM act on raw pixels (0..255) before "
             "standardization and are clipped to [0, 255]; feature noise is added to the unit feature, "
             "which is then renormalized; weight noise to each unit class weight, renormalized, in %d "
             "draws of the classifier against every clean feature (its figures over all draws); flip "
             "rate: predictions that differ from the clean ones", EV_WEIGHT_DRAWS);
    cJSON_AddStringToObject(j, "notes", notes);
    cJSON_AddNumberToObject(j, "weight_noise_draws", EV_WEIGHT_DRAWS);
    if (r->class_acc && r->train_counts) {
        cJSON *pc = cJSON_AddArrayToObject(j, "per_class");
        for (int k = 0; pc && k < r->classes; k++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "class", k);
            cJSON_AddNumberToObject(c, "train_count", r->train_counts[k]);
            if (isfinite(r->class_acc[k])) cJSON_AddNumberToObject(c, "acc", r->class_acc[k]);
            else cJSON_AddNullToObject(c, "acc");
            cJSON_AddItemToArray(pc, c);
        }
    }
    if (r->long_tail) cJSON_AddItemToObject(j, "long_tail", app_shots_json(&r->shots));
    if (r->open_set) {
        cJSON *os = cJSON_AddObjectToObject(j, "open_set");
        cJSON_AddNumberToObject(os, "known_count", r->count);
        cJSON_AddNumberToObject(os, "unknown_count", r->unknown_count);
        cJSON_AddNumberToObject(os, "closed_set_acc", r->clean_acc);
        for (int s = 0; os && s < EV_SCORES; s++) {
            cJSON *x = cJSON_AddObjectToObject(os, ev_score_names[s]);
            if (isfinite(r->auroc[s])) cJSON_AddNumberToObject(x, "auroc", r->auroc[s]);
            else cJSON_AddNullToObject(x, "auroc");
            if (isfinite(r->oscr[s])) cJSON_AddNumberToObject(x, "oscr", r->oscr[s]);
            else cJSON_AddNullToObject(x, "oscr");
        }
    }
    cJSON *list = cJSON_AddArrayToObject(j, "conditions");
    for (int c = 0; c < r->ncond; c++) {
        const ev_condition *k = &r->cond[c];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", k->name);
        cJSON_AddStringToObject(e, "kind", k->kind);
        cJSON_AddNumberToObject(e, "level", k->level);
        cJSON_AddStringToObject(e, "unit", k->unit);
        cJSON_AddNumberToObject(e, "acc", k->acc);
        cJSON_AddNumberToObject(e, "flip_rate", k->flip_rate);
        cJSON_AddItemToArray(list, e);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const int rc = app_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int ev_write_npz(const char *path, const ev_result *r, char *err, size_t errlen)
{
    app_npz *z;
    if (app_npz_open(path, &z, err, errlen) != 0) return -1;
    const size_t N = (size_t)r->count, K = (size_t)r->classes, d = (size_t)r->dim;
    const size_t nd[2] = {N, d}, nk[2] = {N, K}, kd[2] = {K, d}, n1[1] = {N};
    const double gamma = r->gamma, bias = r->bias;
    int rc = app_npz_add(z, "features", APP_NPY_F32, 2, nd, r->hn, err, errlen);
    if (!rc) rc = app_npz_add(z, "cosines", APP_NPY_F32, 2, nk, r->cos, err, errlen);
    if (!rc) rc = app_npz_add(z, "labels", APP_NPY_I32, 1, n1, r->labels, err, errlen);
    if (!rc) rc = app_npz_add(z, "predictions", APP_NPY_I32, 1, n1, r->pred, err, errlen);
    if (!rc) rc = app_npz_add(z, "class_weights", APP_NPY_F32, 2, kd, r->w, err, errlen);
    if (!rc) rc = app_npz_add(z, "class_weights_normalized", APP_NPY_F32, 2, kd, r->wn, err, errlen);
    if (!rc) rc = app_npz_add(z, "gamma", APP_NPY_F64, 0, n1, &gamma, err, errlen);
    if (!rc) rc = app_npz_add(z, "bias", APP_NPY_F64, 0, n1, &bias, err, errlen);
    char cerr[512];
    if (app_npz_close(z, rc == 0, cerr, sizeof cerr) != 0 && rc == 0) {
        snprintf(err, errlen, "%s", cerr);
        rc = -1;
    }
    return rc;
}
