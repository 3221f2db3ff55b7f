/* apps/report/summary.c — metrics.csv's columns (one table: header, rows, the metrics part of
 * summary.json), class_acc.csv's rows, summary.json (written with cJSON, atomically), and the
 * shot-group JSON and line that `gammacl eval` shares. */
#include "summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "provenance.h"

/* ---- the columns of metrics.csv: one table drives the header, the rows and summary.json ---- */

typedef enum {
    COL_ALWAYS,                /* every row */
    COL_TRAINED,               /* rows of trained epochs (empty in the epoch-0 row) */
    COL_METRICS,               /* rows of evaluated epochs */
} col_kind;

typedef struct column {
    const char *name;
    col_kind kind;
    size_t off;                /* of a double in app_epoch_row (or, for split columns, an int or
                                  double in nn_split_metrics) */
    const char *fmt;           /* "i" marks an int field */
} column;

#define ROW(f) offsetof(app_epoch_row, f)
#define SPL(f) offsetof(nn_split_metrics, f)

static const column BASE[] = {
    {"seconds", COL_ALWAYS, ROW(seconds), "%.3f"},
    {"lr", COL_TRAINED, ROW(lr), "%.9g"},
    {"train_ce", COL_TRAINED, ROW(train_ce), "%.9g"},
    {"train_bce", COL_TRAINED, ROW(train_bce), "%.9g"},
    {"train_acc", COL_TRAINED, ROW(train_acc), "%.6f"},
    {"test_ce", COL_ALWAYS, ROW(test_ce), "%.9g"},
    {"test_bce", COL_ALWAYS, ROW(test_bce), "%.9g"},
    {"test_acc", COL_ALWAYS, ROW(test_acc), "%.6f"},
    {"bias", COL_ALWAYS, ROW(bias), "%.9g"},
    {"b_star", COL_ALWAYS, ROW(b_star), "%.9g"},
    {"img_per_s", COL_TRAINED, ROW(img_per_s), "%.1f"},
    {"metrics_seconds", COL_METRICS, ROW(met.seconds), "%.3f"},
    {"ce_star", COL_METRICS, ROW(met.ce_star), "%.9g"},
    {"bce_star", COL_METRICS, ROW(met.bce_star), "%.9g"},
    {"train_eval_ce", COL_METRICS, ROW(met.train.ce), "%.9g"},
    {"train_eval_bce", COL_METRICS, ROW(met.train.bce), "%.9g"},
    {"train_eval_acc", COL_METRICS, ROW(met.train.acc), "%.6f"},
    {"train_ce_excess", COL_METRICS, ROW(met.train_ce_excess), "%.9g"},
    {"train_ce_E", COL_METRICS, ROW(met.train_ce_E), "%.9g"},
    {"train_bce_excess", COL_METRICS, ROW(met.train_bce_excess), "%.9g"},
    {"train_bce_E", COL_METRICS, ROW(met.train_bce_E), "%.9g"},
    {"test_ce_excess", COL_METRICS, ROW(met.test_ce_excess), "%.9g"},
    {"test_ce_E", COL_METRICS, ROW(met.test_ce_E), "%.9g"},
    {"test_bce_excess", COL_METRICS, ROW(met.test_bce_excess), "%.9g"},
    {"test_bce_E", COL_METRICS, ROW(met.test_bce_E), "%.9g"},
    {"nc2_equinorm_w", COL_METRICS, ROW(met.train.nc2_equinorm_w), "%.9g"},
    {"nc2_etf_w", COL_METRICS, ROW(met.train.nc2_etf_w), "%.9g"},
};

/* written twice: "train_" + name over the training subset, then "test_" + name */
static const column SPLIT[] = {
    {"n", COL_METRICS, SPL(count), "i"},
    {"grad_ce", COL_METRICS, SPL(grad_ce), "%.9g"},
    {"grad_bce", COL_METRICS, SPL(grad_bce), "%.9g"},
    {"compact", COL_METRICS, SPL(compact), "%.9g"},
    {"pos_min", COL_METRICS, SPL(pos_min), "%.9g"},
    {"pos_p5", COL_METRICS, SPL(pos_p5), "%.9g"},
    {"pos_mean", COL_METRICS, SPL(pos_mean), "%.9g"},
    {"neg_max", COL_METRICS, SPL(neg_max), "%.9g"},
    {"sep_min_deg", COL_METRICS, SPL(sep_min_deg), "%.6f"},
    {"sep_mean_deg", COL_METRICS, SPL(sep_mean_deg), "%.6f"},
    {"nc1", COL_METRICS, SPL(nc1), "%.9g"},
    {"nc2_equinorm_h", COL_METRICS, SPL(nc2_equinorm_h), "%.9g"},
    {"nc2_etf_h", COL_METRICS, SPL(nc2_etf_h), "%.9g"},
    {"nc3", COL_METRICS, SPL(nc3), "%.9g"},
    {"nc4", COL_METRICS, SPL(nc4), "%.6f"},
    {"margin_min", COL_METRICS, SPL(margin_min), "%.9g"},
    {"margin_p5", COL_METRICS, SPL(margin_p5), "%.9g"},
    {"margin_median", COL_METRICS, SPL(margin_median), "%.9g"},
    {"margin_mean", COL_METRICS, SPL(margin_mean), "%.9g"},
    {"gap", COL_METRICS, SPL(gap), "%.9g"},
    {"uacc", COL_METRICS, SPL(uacc), "%.6f"},
    {"uacc_threshold", COL_METRICS, SPL(uacc_threshold), "%.9g"},
    {"uacc_at_bias", COL_METRICS, SPL(uacc_at_bias), "%.6f"},
};

/* after both SPLIT sets, so the columns before them keep their places: the shot groups of a
 * long-tailed run (empty otherwise), then the prediction flips since the previous test pass */
static const column TAIL[] = {
    {"test_acc_many", COL_ALWAYS, ROW(test_acc_shot[NN_SHOT_MANY]), "%.6f"},
    {"test_acc_medium", COL_ALWAYS, ROW(test_acc_shot[NN_SHOT_MEDIUM]), "%.6f"},
    {"test_acc_few", COL_ALWAYS, ROW(test_acc_shot[NN_SHOT_FEW]), "%.6f"},
    {"test_flip_prev", COL_ALWAYS, ROW(test_flip_prev), "%.6f"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static size_t put(char *out, size_t len, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *out, size_t len, size_t off, const char *fmt, ...)
{
    if (off >= len) return off;
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(out + off, len - off, fmt, ap);
    va_end(ap);
    return n > 0 ? off + (size_t)n : off;
}

void app_csv_header(char *out, size_t len)
{
    size_t off = put(out, len, 0, "epoch");
    for (size_t i = 0; i < COUNT(BASE); i++) off = put(out, len, off, ",%s", BASE[i].name);
    for (int split = 0; split < 2; split++)
        for (size_t i = 0; i < COUNT(SPLIT); i++)
            off = put(out, len, off, ",%s_%s", split ? "test" : "train", SPLIT[i].name);
    for (size_t i = 0; i < COUNT(TAIL); i++) off = put(out, len, off, ",%s", TAIL[i].name);
}

static int applies(const column *c, const app_epoch_row *r)
{
    return c->kind == COL_ALWAYS || (c->kind == COL_TRAINED && r->trained) ||
           (c->kind == COL_METRICS && r->met.present);
}

/* one cell: the value at base + c->off, or nothing when it does not apply or is not finite */
static size_t put_cell(char *out, size_t len, size_t off, const column *c, const void *base, int on)
{
    off = put(out, len, off, ",");
    if (!on) return off;
    const char *p = (const char *)base + c->off;
    if (c->fmt[0] == 'i') {
        int v;
        memcpy(&v, p, sizeof v);
        return put(out, len, off, "%d", v);
    }
    double v;
    memcpy(&v, p, sizeof v);
    if (!isfinite(v)) return off;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return put(out, len, off, c->fmt, v);
#pragma GCC diagnostic pop
}

void app_format_row(const app_epoch_row *r, char *out, size_t len)
{
    size_t off = put(out, len, 0, "%d", r->epoch);
    for (size_t i = 0; i < COUNT(BASE); i++) off = put_cell(out, len, off, &BASE[i], r, applies(&BASE[i], r));
    for (int split = 0; split < 2; split++)
        for (size_t i = 0; i < COUNT(SPLIT); i++)
            off = put_cell(out, len, off, &SPLIT[i], split ? &r->met.test : &r->met.train,
                           r->met.present);
    for (size_t i = 0; i < COUNT(TAIL); i++) off = put_cell(out, len, off, &TAIL[i], r, applies(&TAIL[i], r));
}

void app_class_csv_header(int classes, char *out, size_t len)
{
    size_t off = put(out, len, 0, "epoch");
    for (int k = 0; k < classes; k++) off = put(out, len, off, ",acc_class_%d", k);
}

void app_format_class_row(int epoch, const app_class_figures *cf, char *out, size_t len)
{
    size_t off = put(out, len, 0, "%d", epoch);
    for (int k = 0; k < cf->classes; k++) {
        off = put(out, len, off, ",");
        if (isfinite(cf->acc[k])) off = put(out, len, off, "%.6f", cf->acc[k]);
    }
}

static void add_number(cJSON *o, const char *name, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

static void add_column(cJSON *o, const column *c, const void *base, const char *name)
{
    const char *p = (const char *)base + c->off;
    if (c->fmt[0] == 'i') {
        int v;
        memcpy(&v, p, sizeof v);
        cJSON_AddNumberToObject(o, name, v);
        return;
    }
    double v;
    memcpy(&v, p, sizeof v);
    add_number(o, name, v);
}

/* the last evaluated epoch's metrics: the metrics columns, and per data set the split columns */
static cJSON *metrics_json(const app_epoch_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    for (size_t i = 0; i < COUNT(BASE); i++)
        if (BASE[i].kind == COL_METRICS) add_column(o, &BASE[i], r, BASE[i].name);
    for (int split = 0; split < 2; split++) {
        cJSON *s = cJSON_AddObjectToObject(o, split ? "test" : "train");
        const nn_split_metrics *m = split ? &r->met.test : &r->met.train;
        for (size_t i = 0; i < COUNT(SPLIT); i++) add_column(s, &SPLIT[i], m, SPLIT[i].name);
    }
    return o;
}

static cJSON *fit_json(const app_fit *f)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "slope_log_E_per_epoch", f->slope);
    if (f->epochs_to >= 0) cJSON_AddNumberToObject(o, "epochs_to_E_below_1e-2", f->epochs_to);
    else cJSON_AddStringToObject(o, "epochs_to_E_below_1e-2", "not reached");
    return o;
}

static cJSON *convergence_json(const app_convergence *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "evaluated_epochs", c->evaluated);
    cJSON *tr = cJSON_AddObjectToObject(o, "train");
    cJSON_AddItemToObject(tr, "ce", fit_json(&c->train_ce));
    cJSON_AddItemToObject(tr, "bce", fit_json(&c->train_bce));
    cJSON *te = cJSON_AddObjectToObject(o, "test");
    cJSON_AddItemToObject(te, "ce", fit_json(&c->test_ce));
    cJSON_AddItemToObject(te, "bce", fit_json(&c->test_bce));
    cJSON_AddNumberToObject(o, "metrics_seconds_this_process", c->metrics_seconds);
    add_number(o, "metrics_share_of_epoch_time",
               c->epoch_seconds > 0 ? c->metrics_seconds / c->epoch_seconds : NAN);
    return o;
}

cJSON *app_shots_json(const nn_shot_groups *g)
{
    cJSON *lt = cJSON_CreateObject();
    cJSON_AddNumberToObject(lt, "n_max", g->n_max);
    cJSON_AddNumberToObject(lt, "many_above", g->many_above);
    cJSON_AddNumberToObject(lt, "few_below", g->few_below);
    cJSON_AddStringToObject(lt, "groups", "by training images per class: many > n_max/5, few < n_max/25 "
                            "(CIFAR-100-LT's 100 and 20 of 500), medium between; acc over the test "
                            "images of the group's classes");
    for (int s = 0; lt && s < NN_SHOTS; s++) {
        cJSON *x = cJSON_AddObjectToObject(lt, nn_shot_names[s]);
        cJSON_AddNumberToObject(x, "classes", g->classes[s]);
        add_number(x, "acc", g->acc[s]);
    }
    return lt;
}

void app_shots_line(const nn_shot_groups *g, char *out, size_t len)
{
    char acc[NN_SHOTS][16];
    for (int s = 0; s < NN_SHOTS; s++) {
        if (isfinite(g->acc[s])) snprintf(acc[s], sizeof acc[s], "%.2f%%", 100 * g->acc[s]);
        else snprintf(acc[s], sizeof acc[s], "-");
    }
    snprintf(out, len, "long-tailed (n_max %d): many-shot (> %g training images) %s over %d classes, "
             "medium %s over %d, few-shot (< %g) %s over %d", g->n_max, g->many_above, acc[0],
             g->classes[0], acc[1], g->classes[1], g->few_below, acc[2], g->classes[2]);
}

/* per-class accuracy of every run; the shot groups and training counts of a long-tailed one */
static void classes_json(cJSON *root, const app_class_figures *cf)
{
    cJSON *acc = cJSON_AddArrayToObject(root, "class_acc");
    cJSON *n = cJSON_AddArrayToObject(root, "class_test_counts");
    for (int k = 0; acc && n && k < cf->classes; k++) {
        cJSON_AddItemToArray(acc, isfinite(cf->acc[k]) ? cJSON_CreateNumber(cf->acc[k]) : cJSON_CreateNull());
        cJSON_AddItemToArray(n, cJSON_CreateNumber(cf->count[k]));
    }
    if (!cf->long_tail) return;
    cJSON *lt = app_shots_json(&cf->shots);
    cJSON_AddNumberToObject(lt, "epoch", cf->epoch);
    cJSON *tc = cJSON_AddArrayToObject(lt, "train_counts");
    for (int k = 0; tc && k < cf->classes; k++) cJSON_AddItemToArray(tc, cJSON_CreateNumber(cf->train_counts[k]));
    cJSON_AddItemToObject(root, "long_tail", lt);
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
    if (*d->cpu_model) cJSON_AddStringToObject(o, "cpu", d->cpu_model);
    /* which kernel parameters ran: they change the speed, and (the summation split) the last bits */
    const rt_tune_table *t = rt_tune_get(rt);
    cJSON *tu = cJSON_AddObjectToObject(o, "kernel_tuning");
    cJSON_AddBoolToObject(tu, "tunable", rt_tune_applies(rt));
    cJSON_AddNumberToObject(tu, "tuned_entries", t->tuned);
    cJSON_AddNumberToObject(tu, "shipped_entries", t->shipped);
    if (*t->file) cJSON_AddStringToObject(tu, "file", t->file);
    /* the parameter sets that ran: the weight gradient's lanes and slices set its summation
     * order, so a bit-for-bit rerun needs the same ones */
    if (rt_tune_applies(rt)) {
        cJSON *ps = cJSON_AddArrayToObject(tu, "params");
        for (int k = 0; ps && k < RT_TUNE_KERNELS; k++)
            for (int c = 0; c < RT_TUNE_CLASSES; c++) {
                const rt_tune_choice *ch = &t->c[k][c];
                char line[96];
                snprintf(line, sizeof line, "%s %s mr=%d nv=%d vw=%d ls=%d", rt_tune_kernel_name((rt_tune_kernel)k),
                         rt_tune_class_name(c), ch->mr, ch->nv, ch->vw, ch->ls);
                cJSON_AddItemToArray(ps, cJSON_CreateString(line));
            }
    }
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
                      const app_epoch_row *last_metrics, const app_convergence *conv,
                      const app_class_figures *classes, double train_seconds, double train_images,
                      int finished)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "gammacl_version", GAMMACL_VERSION);
    cJSON *prov = app_provenance_json();
    if (prov) cJSON_AddItemToObject(root, "provenance", prov);
    cJSON_AddItemToObject(root, "arguments", args_json(o));
    cJSON_AddItemToObject(root, "device", device_json(rt));
    cJSON *v = cJSON_AddObjectToObject(root, "versions");
    cJSON_AddStringToObject(v, "clblast", rt_clblast_version());
    cJSON_AddStringToObject(v, "opencl_platform", rt_device(rt)->platform_version);
    cJSON_AddStringToObject(v, "device_version", rt_device(rt)->version);
    cJSON_AddBoolToObject(root, "fast_math", o->fast_math);
    /* the ranks that trained it (--data-parallel), 1 for a plain run */
    cJSON_AddNumberToObject(root, "data_parallel", o->data_parallel > 0 ? o->data_parallel : 1);
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
    if (isfinite(last->test_flip_prev)) cJSON_AddNumberToObject(f, "test_flip_prev", last->test_flip_prev);
    else cJSON_AddNullToObject(f, "test_flip_prev");
    cJSON_AddNumberToObject(f, "train_seconds_this_process", train_seconds);
    cJSON_AddNumberToObject(f, "train_img_per_s", train_seconds > 0 ? train_images / train_seconds : 0);
    if (last_metrics && last_metrics->met.present)
        cJSON_AddItemToObject(root, "metrics", metrics_json(last_metrics));
    if (conv) cJSON_AddItemToObject(root, "convergence", convergence_json(conv));
    if (classes && classes->epoch >= 0) classes_json(root, classes);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    int rc = text ? app_write_file_atomic(path, text, strlen(text), err, sizeof err) : -1;
    if (rc != 0) fprintf(stderr, "gammacl train: %s\n", text ? err : "out of memory");
    free(text);
    return rc ? 1 : 0;
}
