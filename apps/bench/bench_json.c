/* apps/bench/bench_json.c — a device's figures as JSON (measure.json of the measuring child, the
 * "devices" of bench.json) and bench.json itself: written here, read back by --compare from
 * other machines. Numbers that were not measured are null; a file of another recipe, version
 * of the format, or with a malformed figure is refused with a message naming the file. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "files.h"
#include "provenance.h"

#define BENCH_FORMAT 1
#define MAX_JSON_BYTES (16u << 20)

/* ---- writing ---- */

static void put_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static void put_array(cJSON *o, const char *key, const double *v, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
}

static cJSON *recipe_json(const bn_recipe *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", r->mode);
    cJSON_AddStringToObject(o, "science_model", r->science_model);
    put_array(o, "gammas", r->gammas, r->ngammas);
    cJSON_AddNumberToObject(o, "science_train", r->science_train);
    cJSON_AddNumberToObject(o, "science_test", r->science_test);
    cJSON_AddNumberToObject(o, "science_epochs", r->science_epochs);
    cJSON_AddNumberToObject(o, "batch", r->batch);
    cJSON_AddNumberToObject(o, "conv_seeds", r->conv_seeds);
    cJSON_AddNumberToObject(o, "conv_epochs", r->conv_epochs);
    cJSON_AddStringToObject(o, "conv_loss", r->conv_loss ? "bce" : "ce");
    cJSON_AddNumberToObject(o, "conv_gamma", r->conv_gamma);
    cJSON_AddNumberToObject(o, "trace_steps", r->trace_steps);
    cJSON_AddNumberToObject(o, "trace_batch", r->trace_batch);
    cJSON_AddStringToObject(o, "speed_model", r->speed_model);
    cJSON_AddNumberToObject(o, "speed_batch", r->speed_batch);
    return o;
}

char *bn_recipe_text(const bn_recipe *r)
{
    cJSON *j = recipe_json(r);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    return text;
}

static cJSON *device_json(const bn_device *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", d->id);
    cJSON_AddStringToObject(o, "spec", d->spec);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform);
    cJSON_AddStringToObject(o, "driver", d->driver);
    cJSON_AddStringToObject(o, "type", d->type);
    cJSON_AddStringToObject(o, "host", d->host);
    cJSON_AddStringToObject(o, "cpu_model", d->cpu_model);
    cJSON_AddStringToObject(o, "kernel_params", d->kernel_params);
    cJSON *p = cJSON_AddObjectToObject(o, "probes");
    put_num(p, "fma_gflops", d->fma_gflops);
    put_num(p, "bandwidth_gbs", d->bandwidth_gbs);
    cJSON_AddBoolToObject(p, "host_timed", d->probe_host_timed);
    cJSON *b = cJSON_AddObjectToObject(o, "build");
    put_num(b, "cold_s", d->build_cold_s);
    put_num(b, "cached_s", d->build_cached_s);
    cJSON *t = cJSON_AddObjectToObject(o, "trace");
    put_array(t, "ce", d->trace_ce, d->nsteps);
    put_array(t, "bce", d->trace_bce, d->nsteps);
    cJSON_AddBoolToObject(t, "bit_reproducible", d->bit_reproducible);
    put_num(t, "self_max_rel", d->self_max_rel);
    const bn_speed *s = &d->speed;
    cJSON *sp = cJSON_AddObjectToObject(o, "speed");
    put_num(sp, "train_img_per_s", s->train_ips);
    put_num(sp, "eval_img_per_s", s->eval_ips);
    put_num(sp, "ms_per_step", s->step_ms);
    put_num(sp, "resnet18_train_img_per_s", s->resnet_train_ips);
    put_num(sp, "kernel_ms", s->kernel_ms);
    put_num(sp, "conv_ms", s->conv_ms);
    put_num(sp, "step_flops", s->step_flops);
    put_num(sp, "conv_flops", s->conv_flops);
    cJSON_AddBoolToObject(sp, "host_timed", s->host_timed);
    cJSON *g = cJSON_AddObjectToObject(sp, "groups_ms");
    for (int i = 0; g && i < BN_NGROUPS; i++) put_num(g, bn_group_name(i), s->group_ms[i]);
    cJSON *sc = cJSON_AddArrayToObject(o, "science");
    for (int i = 0; sc && i < d->ncells; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "loss", d->cells[i].loss ? "bce" : "ce");
        cJSON_AddNumberToObject(c, "gamma", d->cells[i].gamma);
        put_num(c, "rate", d->cells[i].rate);
        put_num(c, "excess", d->cells[i].excess);
        put_num(c, "test_acc", d->cells[i].test_acc);
        cJSON_AddItemToArray(sc, c);
    }
    cJSON *cv = cJSON_AddArrayToObject(o, "convergence_test_acc");
    for (int i = 0; cv && i < d->nseeds; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int e = 0; e <= d->nepochs; e++)
            cJSON_AddItemToArray(row, isfinite(d->conv_acc[i][e]) ? cJSON_CreateNumber(d->conv_acc[i][e])
                                                                   : cJSON_CreateNull());
        cJSON_AddItemToArray(cv, row);
    }
    return o;
}

static int write_json(const char *path, cJSON *j, char *err, size_t errlen)
{
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    const int rc = app_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int bn_write_device_json(const char *path, const bn_device *d, char *err, size_t errlen)
{
    return write_json(path, device_json(d), err, errlen);
}

int bn_write_bench_json(const char *path, const bn_bench *b, char *err, size_t errlen)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "format", BENCH_FORMAT);
    cJSON_AddItemToObject(j, "provenance", app_provenance_json());
    cJSON_AddItemToObject(j, "recipe", recipe_json(&b->recipe));
    put_num(j, "target_acc", b->target_acc);
    cJSON *a = cJSON_AddArrayToObject(j, "devices");
    for (int i = 0; a && i < b->ndev; i++) cJSON_AddItemToArray(a, device_json(&b->dev[i]));
    return write_json(path, j, err, errlen);
}

/* ---- reading ---- */

typedef struct reader {
    const char *path;
    char *err;
    size_t errlen;
    int bad;
} reader;

static const cJSON *item(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static void complain(reader *r, const char *what)
{
    if (!r->bad) snprintf(r->err, r->errlen, "%s: %s", r->path, what);
    r->bad = 1;
}

static double get_num(reader *r, const cJSON *o, const char *key)
{
    const cJSON *v = item(o, key);
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) return v->valuedouble;
    if (!v || cJSON_IsNull(v)) return NAN;
    char what[160];
    snprintf(what, sizeof what, "\"%s\" is not a number", key);
    complain(r, what);
    return NAN;
}

static void get_str(reader *r, const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = item(o, key);
    if (cJSON_IsString(v)) {
        snprintf(out, len, "%s", v->valuestring);
        return;
    }
    out[0] = 0;
    if (v) {
        char what[160];
        snprintf(what, sizeof what, "\"%s\" is not a string", key);
        complain(r, what);
    }
}

static int numbers(reader *r, const cJSON *a, const char *key, double *out, int max)
{
    const cJSON *v;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > max) {
        char what[160];
        snprintf(what, sizeof what, "\"%s\" is not an array of at most %d numbers", key, max);
        complain(r, what);
        return 0;
    }
    int n = 0;
    cJSON_ArrayForEach(v, a) {
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) out[n++] = v->valuedouble;
        else if (cJSON_IsNull(v)) out[n++] = NAN;
        else complain(r, "an array holds something that is not a finite number");
    }
    return n;
}

static int get_array(reader *r, const cJSON *o, const char *key, double *out, int max)
{
    const cJSON *a = item(o, key);
    return a ? numbers(r, a, key, out, max) : 0;
}

static void read_device(reader *r, const cJSON *o, bn_device *d)
{
    if (!cJSON_IsObject(o)) {
        complain(r, "a device entry is not an object");
        return;
    }
    static const char *const sections[] = {"probes", "build", "trace", "speed"};
    for (int i = 0; i < 4; i++)
        if (!cJSON_IsObject(item(o, sections[i]))) {
            char what[96];
            snprintf(what, sizeof what, "a device has no \"%s\" object", sections[i]);
            complain(r, what);
        }
    get_str(r, o, "id", d->id, sizeof d->id);
    get_str(r, o, "spec", d->spec, sizeof d->spec);
    get_str(r, o, "name", d->name, sizeof d->name);
    get_str(r, o, "platform", d->platform, sizeof d->platform);
    get_str(r, o, "driver", d->driver, sizeof d->driver);
    get_str(r, o, "type", d->type, sizeof d->type);
    get_str(r, o, "host", d->host, sizeof d->host);
    get_str(r, o, "cpu_model", d->cpu_model, sizeof d->cpu_model);
    get_str(r, o, "kernel_params", d->kernel_params, sizeof d->kernel_params); /* optional: newer files */
    const cJSON *p = item(o, "probes"), *b = item(o, "build"), *t = item(o, "trace"), *s = item(o, "speed");
    d->fma_gflops = get_num(r, p, "fma_gflops");
    d->bandwidth_gbs = get_num(r, p, "bandwidth_gbs");
    d->probe_host_timed = cJSON_IsTrue(item(p, "host_timed"));
    d->build_cold_s = get_num(r, b, "cold_s");
    d->build_cached_s = get_num(r, b, "cached_s");
    d->nsteps = get_array(r, t, "ce", d->trace_ce, BN_MAX_STEPS);
    if (get_array(r, t, "bce", d->trace_bce, BN_MAX_STEPS) != d->nsteps)
        complain(r, "the trace's CE and BCE have different lengths");
    d->bit_reproducible = cJSON_IsTrue(item(t, "bit_reproducible"));
    d->self_max_rel = get_num(r, t, "self_max_rel");
    bn_speed *sp = &d->speed;
    sp->train_ips = get_num(r, s, "train_img_per_s");
    sp->eval_ips = get_num(r, s, "eval_img_per_s");
    sp->step_ms = get_num(r, s, "ms_per_step");
    sp->resnet_train_ips = get_num(r, s, "resnet18_train_img_per_s");
    sp->kernel_ms = get_num(r, s, "kernel_ms");
    sp->conv_ms = get_num(r, s, "conv_ms");
    sp->step_flops = get_num(r, s, "step_flops");
    sp->conv_flops = get_num(r, s, "conv_flops");
    sp->host_timed = cJSON_IsTrue(item(s, "host_timed"));
    const cJSON *g = item(s, "groups_ms");
    for (int i = 0; i < BN_NGROUPS; i++) sp->group_ms[i] = get_num(r, g, bn_group_name(i));
    const cJSON *sc = item(o, "science"), *c;
    if (sc && (!cJSON_IsArray(sc) || cJSON_GetArraySize(sc) > BN_MAX_CELLS)) complain(r, "\"science\" is malformed");
    d->ncells = 0;
    const cJSON *cells = cJSON_IsArray(sc) ? sc : NULL;
    cJSON_ArrayForEach(c, cells) {
        if (d->ncells >= BN_MAX_CELLS) break;
        bn_cell *x = &d->cells[d->ncells++];
        char loss[8];
        get_str(r, c, "loss", loss, sizeof loss);
        if (strcmp(loss, "ce") != 0 && strcmp(loss, "bce") != 0) complain(r, "a science cell's loss is not ce or bce");
        x->loss = strcmp(loss, "bce") == 0;
        x->gamma = get_num(r, c, "gamma");
        if (!(x->gamma > 0)) complain(r, "a science cell's gamma is not positive");
        x->rate = get_num(r, c, "rate");
        x->excess = get_num(r, c, "excess");
        x->test_acc = get_num(r, c, "test_acc");
    }
    const cJSON *cv = item(o, "convergence_test_acc"), *row;
    if (cv && (!cJSON_IsArray(cv) || cJSON_GetArraySize(cv) > BN_MAX_SEEDS)) complain(r, "\"convergence_test_acc\" is malformed");
    d->nseeds = 0, d->nepochs = 0;
    const cJSON *rows = cJSON_IsArray(cv) ? cv : NULL;
    cJSON_ArrayForEach(row, rows) {
        if (d->nseeds >= BN_MAX_SEEDS) break;
        const int n = numbers(r, row, "convergence_test_acc", d->conv_acc[d->nseeds], BN_MAX_EPOCHS + 1);
        if (n < 2 || (d->nseeds > 0 && n - 1 != d->nepochs))
            complain(r, "the convergence curves are not all of one length (>= 2)");
        d->nepochs = n - 1;
        d->nseeds++;
    }
}

static cJSON *load(const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    if (app_read_text_file(path, MAX_JSON_BYTES, &text, err, errlen) != 0) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j || !cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: not a JSON object (damaged or not a gammacl bench file)", path);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

int bn_read_measure(const char *path, bn_device *d, char *err, size_t errlen)
{
    cJSON *j = load(path, err, errlen);
    if (!j) return -1;
    reader r = {path, err, errlen, 0};
    bn_device tmp = *d;
    read_device(&r, j, &tmp);
    cJSON_Delete(j);
    if (r.bad) return -1;
    if (strcmp(tmp.name, d->name) != 0 || strcmp(tmp.platform, d->platform) != 0) {
        snprintf(err, errlen, "%s was measured on '%s' (%s), not on '%s' (%s): remove that device's folder "
                 "to measure it again", path, tmp.name, tmp.platform, d->name, d->platform);
        return -1;
    }
    /* the measuring child knows the probes, trace, speed and build; the rest stays the bench's */
    d->fma_gflops = tmp.fma_gflops, d->bandwidth_gbs = tmp.bandwidth_gbs;
    d->probe_host_timed = tmp.probe_host_timed;
    d->nsteps = tmp.nsteps;
    memcpy(d->trace_ce, tmp.trace_ce, sizeof d->trace_ce);
    memcpy(d->trace_bce, tmp.trace_bce, sizeof d->trace_bce);
    d->bit_reproducible = tmp.bit_reproducible, d->self_max_rel = tmp.self_max_rel;
    d->speed = tmp.speed;
    return 0;
}

int bn_read_build(const char *path, double *seconds, char *err, size_t errlen)
{
    cJSON *j = load(path, err, errlen);
    if (!j) return -1;
    reader r = {path, err, errlen, 0};
    *seconds = get_num(&r, item(j, "build"), "cold_s");
    cJSON_Delete(j);
    if (!r.bad && !isfinite(*seconds)) complain(&r, "no build time");
    return r.bad ? -1 : 0;
}

/* a figure of a --compare file: missing (NaN) or >= 0; `positive`: > 0 (the table divides by it) */
static void check_range(reader *r, const char *field, double v, int positive)
{
    if (isnan(v) || (positive ? v > 0 : v >= 0)) return;
    char what[160];
    snprintf(what, sizeof what, "\"%s\" is %s (%g)", field, positive ? "not positive" : "negative", v);
    complain(r, what);
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' || c == '.' ||
           c == '_' || c == '-';
}

/* figures of other sizes than the recipe's would be compared silently on a part of them; forged
 * or damaged figures (a negative time, a zero peak, a cell twice) would make a table of nonsense */
static void check_against_recipe(reader *r, const bn_recipe *rec, const bn_device *d)
{
    for (const char *c = d->id; *c; c++)
        if (!id_char(*c)) {
            complain(r, "\"id\" holds a character outside [A-Za-z0-9@._-]");
            break;
        }
    const bn_speed *s = &d->speed;
    /* positive: the table divides by it (the FMA peak, the step's and the convolutions' times) */
    const struct { const char *field; double v; int positive; } figures[] = {
        {"probes.fma_gflops", d->fma_gflops, 1}, {"probes.bandwidth_gbs", d->bandwidth_gbs, 0},
        {"build.cold_s", d->build_cold_s, 0}, {"build.cached_s", d->build_cached_s, 0},
        {"trace.self_max_rel", d->self_max_rel, 0}, {"speed.train_img_per_s", s->train_ips, 0},
        {"speed.eval_img_per_s", s->eval_ips, 0}, {"speed.ms_per_step", s->step_ms, 1},
        {"speed.resnet18_train_img_per_s", s->resnet_train_ips, 0}, {"speed.kernel_ms", s->kernel_ms, 0},
        {"speed.conv_ms", s->conv_ms, 1}, {"speed.step_flops", s->step_flops, 0},
        {"speed.conv_flops", s->conv_flops, 0}};
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        check_range(r, figures[i].field, figures[i].v, figures[i].positive);
    for (int g = 0; g < BN_NGROUPS; g++) {
        char field[64];
        snprintf(field, sizeof field, "speed.groups_ms.%s", bn_group_name(g));
        check_range(r, field, s->group_ms[g], 0);
    }
    for (int c = 0; c < d->ncells; c++)
        for (int k = 0; k < c; k++)
            if (d->cells[k].loss == d->cells[c].loss && d->cells[k].gamma == d->cells[c].gamma)
                complain(r, "\"science\" holds a (loss, gamma) cell twice");
    if (d->nsteps != 0 && d->nsteps != rec->trace_steps) complain(r, "a trace is not of the recipe's length");
    if (d->nseeds > rec->conv_seeds || (d->nseeds && d->nepochs != rec->conv_epochs))
        complain(r, "the convergence curves are not of the recipe's seeds and epochs");
    for (int s = 0; s < d->nseeds; s++)
        for (int e = 0; e <= d->nepochs; e++)
            if (!(d->conv_acc[s][e] >= 0 && d->conv_acc[s][e] <= 1))
                complain(r, "a convergence accuracy is missing or outside [0, 1]");
    for (int c = 0; c < d->ncells; c++) {
        int in = 0;
        for (int g = 0; g < rec->ngammas; g++) in |= d->cells[c].gamma == rec->gammas[g];
        if (!in) complain(r, "\"science\": a cell's gamma is not one of the recipe's");
    }
}

/* two machines may both have a "pocl": the later one becomes "pocl@host" (then "-2", ...) */
static void unique_id(const bn_bench *b, bn_device *d)
{
    char base[64], host[32];
    snprintf(base, sizeof base, "%s", d->id);
    /* the host goes into the id: only id characters, so no cut lands inside a UTF-8 character */
    size_t n = 0;
    for (const char *c = d->host; *c && n < sizeof host - 1; c++)
        if (id_char(*c)) host[n++] = *c;
    host[n] = 0;
    for (int k = 1;; k++) {
        int taken = 0;
        for (int i = 0; i < b->ndev; i++) taken |= strcmp(b->dev[i].id, d->id) == 0;
        if (!taken) return;
        if (k == 1) snprintf(d->id, sizeof d->id, "%.30s@%.30s", base, host[0] ? host : "other");
        else snprintf(d->id, sizeof d->id, "%.30s@%.20s-%d", base, host[0] ? host : "other", k);
    }
}

int bn_read_bench_json(const char *path, bn_bench *b, char *err, size_t errlen)
{
    cJSON *j = load(path, err, errlen);
    if (!j) return -1;
    reader r = {path, err, errlen, 0};
    const cJSON *fmt = item(j, "format"), *rec = item(j, "recipe"), *devs = item(j, "devices"), *o;
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != BENCH_FORMAT || !cJSON_IsObject(rec) || !cJSON_IsArray(devs)) {
        snprintf(err, errlen, "%s: not a bench.json of this gammacl (format %d with \"recipe\" and "
                 "\"devices\")", path, BENCH_FORMAT);
        cJSON_Delete(j);
        return -1;
    }
    /* the same recipe, or the figures do not describe the same runs */
    cJSON *mine = recipe_json(&b->recipe);
    const int same = mine && cJSON_Compare(mine, rec, 1);
    cJSON_Delete(mine);
    if (!same) {
        const cJSON *mode = item(rec, "mode");
        snprintf(err, errlen, "%s was made with another recipe (mode %s) than this bench (mode %s): "
                 "compare benches of the same mode and gammacl version", path,
                 cJSON_IsString(mode) ? mode->valuestring : "?", b->recipe.mode);
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(o, devs) {
        if (b->ndev >= BN_MAX_DEVICES) {
            snprintf(err, errlen, "%s: more than %d devices in all", path, BN_MAX_DEVICES);
            cJSON_Delete(j);
            return -1;
        }
        bn_device *d = &b->dev[b->ndev];
        memset(d, 0, sizeof *d);
        read_device(&r, o, d);
        if (!r.bad && !d->id[0]) complain(&r, "a device has no id");
        if (!r.bad) check_against_recipe(&r, &b->recipe, d);
        if (!r.bad) unique_id(b, d);
        if (r.bad) break;
        snprintf(d->origin, sizeof d->origin, "%s", path);
        b->ndev++;
    }
    cJSON_Delete(j);
    return r.bad ? -1 : 0;
}
