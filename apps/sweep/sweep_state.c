/* apps/sweep/sweep_state.c — what is on disk: DIR/sweep.json (grid, shared training options,
 * provenance) and the state of each cell's folder, checked rather than assumed: a cell is done
 * only when its checkpoint reads back (CRC) at the last epoch, its summary.json says finished,
 * its metrics.csv has every epoch and its eval.json parses. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "files.h"
#include "provenance.h"
#include "run.h"
#include "sweep.h"

/* ---- sweep.json ---- */

static cJSON *read_json(const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    if (app_read_text_file(path, 64u << 20, &text, err, errlen) != 0) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) snprintf(err, errlen, "%s is not valid JSON", path);
    return j;
}

static int json_number_array(const cJSON *a, double *out, int max)
{
    if (!cJSON_IsArray(a)) return -1;
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || n == max) return -1;
        out[n++] = e->valuedouble;
    }
    return n;
}

int sw_read_sweep_json(const char *dir, sw_grid *g, char ***args, int *nargs, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return 1;
    cJSON *j = read_json(path, err, errlen);
    if (!j) return -1;
    memset(g, 0, sizeof *g);
    *args = NULL;
    *nargs = 0;
    int rc = -1;
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(j, "grid");
    double v[SW_MAX_VALUES];
    int n;
    if (!cJSON_IsObject(grid)) goto bad;
    if ((n = json_number_array(cJSON_GetObjectItemCaseSensitive(grid, "gammas"), v, SW_MAX_VALUES)) < 1) goto bad;
    for (int i = 0; i < n; i++) {
        if (!(v[i] > 0)) goto bad;
        g->gammas[i] = v[i];
    }
    g->ngammas = n;
    if ((n = json_number_array(cJSON_GetObjectItemCaseSensitive(grid, "seeds"), v, SW_MAX_VALUES)) < 1) goto bad;
    for (int i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] > 9007199254740992.0) goto bad;
        g->seeds[i] = (uint64_t)v[i];
    }
    g->nseeds = n;
    const cJSON *e, *losses = cJSON_GetObjectItemCaseSensitive(grid, "losses");
    if (!cJSON_IsArray(losses)) goto bad;
    cJSON_ArrayForEach(e, losses) {
        if (!cJSON_IsString(e) || g->nlosses == 2 || (strcmp(e->valuestring, "ce") && strcmp(e->valuestring, "bce"))) goto bad;
        g->losses[g->nlosses++] = strcmp(e->valuestring, "bce") == 0;
    }
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(grid, "bias_inits");
    if (!cJSON_IsArray(bias)) goto bad;
    cJSON_ArrayForEach(e, bias) {
        if (!cJSON_IsString(e) || g->nbias == SW_MAX_BIAS || strlen(e->valuestring) >= 32) goto bad;
        snprintf(g->bias_inits[g->nbias++], 32, "%s", e->valuestring);
    }
    if (g->nlosses < 1 || g->nbias < 1) goto bad;
    /* the long-tailed and open-set axes (absent in sweeps without them) */
    const cJSON *rhos = cJSON_GetObjectItemCaseSensitive(grid, "rhos");
    if (rhos) {
        if ((n = json_number_array(rhos, v, SW_MAX_VALUES)) < 1) goto bad;
        for (int i = 0; i < n; i++) {
            if (!(v[i] >= 1 && v[i] <= 1e6)) goto bad;
            g->rhos[i] = v[i];
        }
        g->nrhos = n;
    }
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(grid, "splits");
    if (splits) {
        if ((n = json_number_array(splits, v, SW_MAX_VALUES)) < 1) goto bad;
        for (int i = 0; i < n; i++) {
            if (!(v[i] >= 1 && v[i] <= 9007199254740992.0)) goto bad;
            g->splits[i] = (uint64_t)v[i];
        }
        g->nsplits = n;
        const cJSON *kc = cJSON_GetObjectItemCaseSensitive(grid, "known_count");
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(grid, "classes");
        if (!cJSON_IsNumber(kc) || !cJSON_IsNumber(cl) || !(cl->valuedouble >= 3 && cl->valuedouble <= 256) ||
            !(kc->valuedouble >= 2 && kc->valuedouble < cl->valuedouble))
            goto bad;
        g->known_count = (int)kc->valuedouble, g->classes = (int)cl->valuedouble;
    }
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(j, "train_args");
    if (!cJSON_IsArray(ta)) goto bad;
    const int na = cJSON_GetArraySize(ta);
    *args = calloc((size_t)na + 1, sizeof **args);
    if (!*args) goto bad;
    cJSON_ArrayForEach(e, ta) {
        if (!cJSON_IsString(e) || !((*args)[*nargs] = strdup(e->valuestring))) goto bad;
        (*nargs)++;
    }
    rc = 0;
bad:
    if (rc != 0) {
        snprintf(err, errlen, "%s is damaged or not a sweep's (its grid or train_args cannot be read)", path);
        for (int i = 0; *args && i < *nargs; i++) free((*args)[i]);
        free(*args);
        *args = NULL;
        *nargs = 0;
    }
    cJSON_Delete(j);
    return rc;
}

/* every training option a cell runs with (the shared ones resolved over the defaults; the grid
 * sets loss, gamma, seed and bias init per cell, and imbalance or the known classes with its
 * long-tailed or open-set axes) */
static cJSON *resolved_options(const sw_grid *g, char *const *args, int nargs)
{
    cJSON *o = cJSON_CreateObject();
    char err[SW_ERRLEN];
    app_train_opts t;
    char *meta = app_train_parse_list(args, nargs, &t, err, sizeof err) == 0 ? app_train_opts_to_meta(&t) : NULL;
    for (char *line = meta, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const int per_cell = (g->nrhos && strcmp(line, "imbalance") == 0) || (g->nsplits && strcmp(line, "known") == 0);
        if (strcmp(line, "loss") && strcmp(line, "gamma") && strcmp(line, "seed") && strcmp(line, "bias-init") &&
            !per_cell)
            cJSON_AddStringToObject(o, line, eq + 1);
    }
    free(meta);
    return o;
}

int sw_write_sweep_json(const char *dir, const sw_grid *g, char *const *args, int nargs,
                        const char *devices, char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *prov = app_provenance_json();
    if (prov) cJSON_AddItemToObject(j, "provenance", prov);
    cJSON *grid = cJSON_AddObjectToObject(j, "grid");
    cJSON *a = cJSON_AddArrayToObject(grid, "gammas");
    for (int i = 0; i < g->ngammas; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(g->gammas[i]));
    a = cJSON_AddArrayToObject(grid, "losses");
    for (int i = 0; i < g->nlosses; i++) cJSON_AddItemToArray(a, cJSON_CreateString(g->losses[i] ? "bce" : "ce"));
    a = cJSON_AddArrayToObject(grid, "seeds");
    for (int i = 0; i < g->nseeds; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)g->seeds[i]));
    a = cJSON_AddArrayToObject(grid, "bias_inits");
    for (int i = 0; i < g->nbias; i++) cJSON_AddItemToArray(a, cJSON_CreateString(g->bias_inits[i]));
    if (g->nrhos) {
        a = cJSON_AddArrayToObject(grid, "rhos");
        for (int i = 0; i < g->nrhos; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(g->rhos[i]));
    }
    if (g->nsplits) {
        a = cJSON_AddArrayToObject(grid, "splits");
        for (int i = 0; i < g->nsplits; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)g->splits[i]));
        cJSON_AddNumberToObject(grid, "known_count", g->known_count);
        cJSON_AddNumberToObject(grid, "classes", g->classes);
    }
    a = cJSON_AddArrayToObject(j, "train_args");
    for (int i = 0; i < nargs; i++) cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
    cJSON_AddItemToObject(j, "options", resolved_options(g, args, nargs));
    cJSON_AddStringToObject(j, "devices", devices);
    char when[64];
    const time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON_AddStringToObject(j, "updated", when);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    const int rc = app_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

/* ---- a cell's folder ---- */

static int exists(const char *dir, const char *name)
{
    char path[1400];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* data rows of metrics.csv, -1 when it cannot be read */
static int csv_rows(const char *dir)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int lines = 0, c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') lines++;
        last = c;
    }
    fclose(f);
    return last == '\n' ? lines - 1 : -1;
}

static sw_state recorded_failure(const char *celldir, int retry, char *reason, size_t len)
{
    char path[1400], err[SW_ERRLEN];
    snprintf(path, sizeof path, "%s/failed.json", celldir);
    if (retry) {
        remove(path);
        return SW_TODO;
    }
    cJSON *j = read_json(path, err, sizeof err);
    const cJSON *r = j ? cJSON_GetObjectItemCaseSensitive(j, "reason") : NULL;
    snprintf(reason, len, "%s", cJSON_IsString(r) ? r->valuestring : "failed (failed.json is unreadable)");
    cJSON_Delete(j);
    return SW_FAILED;
}

sw_state sw_cell_state(const char *celldir, int epochs, int retry_failed, char *reason, size_t len)
{
    reason[0] = 0;
    if (exists(celldir, "failed.json")) {
        const sw_state s = recorded_failure(celldir, retry_failed, reason, len);
        if (s == SW_FAILED) return s;
    }
    char path[1400], err[SW_ERRLEN];
    snprintf(path, sizeof path, "%s/model.ckpt", celldir);
    nn_ckpt c = {0};
    if (!exists(celldir, "model.ckpt")) {
        snprintf(reason, len, "no checkpoint yet");
        return SW_TODO;
    }
    if (nn_ckpt_read(path, &c, err, sizeof err) != 0) {
        snprintf(reason, len, "checkpoint unusable (%s)", err);
        return SW_TODO;
    }
    const int epoch = c.epoch;
    nn_ckpt_free(&c);
    if (epoch > epochs) {
        snprintf(reason, len, "its checkpoint has %d epochs, the sweep %d", epoch, epochs);
        return SW_TODO;
    }
    if (epoch < epochs) {
        snprintf(reason, len, "interrupted after epoch %d", epoch);
        return SW_RESUME;
    }
    snprintf(path, sizeof path, "%s/summary.json", celldir);
    cJSON *s = read_json(path, err, sizeof err);
    const cJSON *fin = s ? cJSON_GetObjectItemCaseSensitive(s, "finished") : NULL;
    const cJSON *fe = s ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "final"), "epoch") : NULL;
    const int finished = cJSON_IsTrue(fin) && cJSON_IsNumber(fe) && fe->valueint == epochs;
    cJSON_Delete(s);
    if (!finished || csv_rows(celldir) < epochs) {
        snprintf(reason, len, "summary.json or metrics.csv incomplete");
        return SW_TODO;
    }
    snprintf(path, sizeof path, "%s/eval.json", celldir);
    cJSON *e = exists(celldir, "eval.json") ? read_json(path, err, sizeof err) : NULL;
    const int evaluated = e && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "conditions"));
    cJSON_Delete(e);
    if (!evaluated) {
        snprintf(reason, len, "trained, not evaluated");
        return SW_EVAL;
    }
    return SW_DONE;
}

int sw_record_failure(const char *celldir, const char *stage, int status, const char *reason)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "stage", stage);
    cJSON_AddNumberToObject(j, "exit_status", status);
    cJSON_AddStringToObject(j, "reason", reason);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    char path[1400], err[SW_ERRLEN];
    snprintf(path, sizeof path, "%s/failed.json", celldir);
    const int rc = text ? app_write_file_atomic(path, text, strlen(text), err, sizeof err) : -1;
    free(text);
    return rc;
}
