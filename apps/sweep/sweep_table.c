/* apps/sweep/sweep_table.c — a sweep's tables: every cell's figures read from its folder
 * (summary.json, metrics.csv, eval.json), DIR/sweep.csv (one row per cell) and DIR/summary.csv
 * (mean, standard deviation and n over seeds and open-set splits per loss, gamma, bias init and
 * imbalance ratio). One column table
 * drives both files, the plots and the report. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "text.h"
#include "sweep_results.h"

typedef struct col {
    const char *name;
    char src;                  /* S: summary.json path, E: eval.json key, P: eval.json path,
                                  C: eval condition.field, X: across cells (sweep_seeds.c) */
    const char *path;
} col;

#define SPLIT(x) {"train_" #x, 'S', "metrics.train." #x}, {"test_" #x, 'S', "metrics.test." #x}
#define COND(x) {"acc_" #x, 'C', #x ".acc"}, {"flip_" #x, 'C', #x ".flip_rate"}
#define SHOT(x) {"acc_" #x "_shot", 'P', "long_tail." #x ".acc"}
#define OPEN(x) {"auroc_" #x, 'P', "open_set." #x ".auroc"}, {"oscr_" #x, 'P', "open_set." #x ".oscr"}

static const col COLS[] = {
    {"train_ce", 'S', "final.train_ce"}, {"train_bce", 'S', "final.train_bce"},
    {"train_acc", 'S', "final.train_acc"}, {"test_ce", 'S', "final.test_ce"},
    {"test_bce", 'S', "final.test_bce"}, {"test_acc", 'S', "final.test_acc"},
    {"bias", 'S', "final.bias"}, {"b_star", 'S', "final.b_star"},
    {"rate_train_ce", 'S', "convergence.train.ce.slope_log_E_per_epoch"},
    {"rate_train_bce", 'S', "convergence.train.bce.slope_log_E_per_epoch"},
    {"rate_test_ce", 'S', "convergence.test.ce.slope_log_E_per_epoch"},
    {"rate_test_bce", 'S', "convergence.test.bce.slope_log_E_per_epoch"},
    {"epochs_to_train_ce", 'S', "convergence.train.ce.epochs_to_E_below_1e-2"},
    {"epochs_to_train_bce", 'S', "convergence.train.bce.epochs_to_E_below_1e-2"},
    {"epochs_to_test_ce", 'S', "convergence.test.ce.epochs_to_E_below_1e-2"},
    {"epochs_to_test_bce", 'S', "convergence.test.bce.epochs_to_E_below_1e-2"},
    {"train_ce_excess", 'S', "metrics.train_ce_excess"}, {"train_bce_excess", 'S', "metrics.train_bce_excess"},
    {"test_ce_excess", 'S', "metrics.test_ce_excess"}, {"test_bce_excess", 'S', "metrics.test_bce_excess"},
    {"train_ce_E", 'S', "metrics.train_ce_E"}, {"train_bce_E", 'S', "metrics.train_bce_E"},
    {"test_ce_E", 'S', "metrics.test_ce_E"}, {"test_bce_E", 'S', "metrics.test_bce_E"},
    {"nc2_equinorm_w", 'S', "metrics.nc2_equinorm_w"}, {"nc2_etf_w", 'S', "metrics.nc2_etf_w"},
    SPLIT(compact), SPLIT(sep_min_deg), SPLIT(sep_mean_deg), SPLIT(nc1), SPLIT(nc2_equinorm_h),
    SPLIT(nc2_etf_h), SPLIT(nc3), SPLIT(nc4), SPLIT(margin_min), SPLIT(margin_p5),
    SPLIT(margin_median), SPLIT(margin_mean), SPLIT(gap), SPLIT(uacc), SPLIT(uacc_threshold),
    SPLIT(uacc_at_bias), SPLIT(pos_mean), SPLIT(neg_max), SPLIT(grad_ce), SPLIT(grad_bce),
    {"classes", 'E', "classes"}, {"clean_acc", 'E', "clean_acc"}, {"frac_margin_below_0.05", 'E', "frac_margin_below_0.05"},
    COND(input_noise_1), COND(input_noise_2), COND(input_noise_4), COND(input_noise_8),
    COND(feature_noise_0.01), COND(feature_noise_0.02), COND(feature_noise_0.05),
    COND(feature_noise_0.1), COND(weight_noise_0.01), COND(weight_noise_0.02),
    COND(weight_noise_0.05), COND(weight_noise_0.1), COND(fgsm_1), COND(fgsm_2),
    {"test_flip_prev", 'S', "final.test_flip_prev"}, {"seed_disagreement", 'X', ""},
    SHOT(many), SHOT(medium), SHOT(few), {"many_shot_above", 'P', "long_tail.many_above"},
    {"few_shot_below", 'P', "long_tail.few_below"}, {"closed_set_acc", 'P', "open_set.closed_set_acc"},
    OPEN(max_cosine), OPEN(max_logit), OPEN(max_sigmoid), OPEN(max_softmax),
};
#define NCOLS ((int)(sizeof COLS / sizeof COLS[0]))

int sw_ncols(void) { return NCOLS; }
const char *sw_col_name(int i) { return i >= 0 && i < NCOLS ? COLS[i].name : ""; }

int sw_col_index(const char *name)
{
    for (int i = 0; i < NCOLS; i++)
        if (strcmp(COLS[i].name, name) == 0) return i;
    return -1;
}

/* ---- reading a cell ---- */

static cJSON *load_json(const char *dir, const char *file)
{
    char path[1400], err[256], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (app_read_text_file(path, 64u << 20, &text, err, sizeof err) != 0) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* a dotted path into an object ("a.b.c"); names may contain '-' but not '.' */
static const cJSON *at_path(const cJSON *j, const char *path)
{
    char key[128];
    while (j && *path) {
        const size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        j = cJSON_GetObjectItemCaseSensitive(j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static const cJSON *condition(const cJSON *eval, const char *name, size_t len)
{
    const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(eval, "conditions");
    cJSON_ArrayForEach(e, list) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(nm) && strlen(nm->valuestring) == len && strncmp(nm->valuestring, name, len) == 0)
            return e;
    }
    return NULL;
}

static double number(const cJSON *j) { return cJSON_IsNumber(j) ? j->valuedouble : NAN; }

static double column_value(const col *c, const cJSON *sum, const cJSON *eval)
{
    if (c->src == 'S') return number(at_path(sum, c->path));
    if (c->src == 'E') return number(cJSON_GetObjectItemCaseSensitive(eval, c->path));
    if (c->src == 'P') return number(at_path(eval, c->path));
    if (c->src == 'X') return NAN;
    const char *dot = strrchr(c->path, '.');
    const cJSON *e = condition(eval, c->path, (size_t)(dot - c->path));
    return number(cJSON_GetObjectItemCaseSensitive(e, dot + 1));
}

/* the E_t curves and the summed epoch seconds of metrics.csv */
static int read_curves(const char *dir, sw_result *r)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    static const char *const want[] = {"epoch", "seconds", "train_ce_E", "train_bce_E", "test_ce_E", "test_bce_E"};
    int idx[6] = {-1, -1, -1, -1, -1, -1}, cap = 0;
    char line[16384];
    if (!fgets(line, sizeof line, f)) return fclose(f), -1;
    int k = 0;
    for (char *save = NULL, *t = strtok_r(line, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save), k++)
        for (int w = 0; w < 6; w++)
            if (strcmp(t, want[w]) == 0) idx[w] = k;
    for (int w = 0; w < 6; w++)
        if (idx[w] < 0) return fclose(f), -1;
    while (fgets(line, sizeof line, f)) {
        double v[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
        int field = 0;
        for (char *p = line;; field++) {
            const size_t n = strcspn(p, ",\n");
            for (int w = 0; w < 6; w++)
                if (idx[w] == field && n > 0) v[w] = strtod(p, NULL);
            if (p[n] != ',') break;
            p += n + 1;
        }
        if (isfinite(v[1])) r->seconds += v[1];
        if (!isfinite(v[2])) continue; /* no metrics at this epoch */
        if (r->ne == cap) {
            cap = cap ? 2 * cap : 16;
            int *e = realloc(r->e_epoch, (size_t)cap * sizeof *e);
            if (e) r->e_epoch = e;
            for (int j = 0; j < 4; j++) {
                double *d = realloc(r->e[j], (size_t)cap * sizeof *d);
                if (d) r->e[j] = d;
                if (!d) e = NULL;
            }
            if (!e) return fclose(f), -1;
        }
        r->e_epoch[r->ne] = (int)v[0];
        for (int j = 0; j < 4; j++) r->e[j][r->ne] = v[2 + j];
        r->ne++;
    }
    fclose(f);
    return 0;
}

/* loss: the cell's (1 BCE); a CE run trains no bias (summary.json's final.bias is the b* its BCE
 * figures are measured at), so its learned-bias column stays empty */
static void read_cell(const char *dir, int loss, sw_result *r)
{
    for (int i = 0; i < NCOLS; i++) r->v[i] = NAN;
    cJSON *sum = load_json(dir, "summary.json"), *eval = load_json(dir, "eval.json");
    /* no eval.json: a sweep run with --no-eval (robustness columns empty) */
    if (sum && read_curves(dir, r) == 0) {
        for (int i = 0; i < NCOLS; i++)
            r->v[i] = !loss && strcmp(COLS[i].name, "bias") == 0 ? NAN : column_value(&COLS[i], sum, eval);
        const cJSON *name = at_path(sum, "device.name"), *plat = at_path(sum, "device.platform");
        snprintf(r->device, sizeof r->device, "%s (%s)", cJSON_IsString(name) ? name->valuestring : "?",
                 cJSON_IsString(plat) ? plat->valuestring : "?");
    } else {
        r->state = SW_TODO;
    }
    cJSON_Delete(sum);
    cJSON_Delete(eval);
}

/* ---- groups ---- */

static int bias_rank(const sw_cell *cells, int n, const char *bias)
{
    int rank = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= strcmp(cells[j].bias_init, cells[i].bias_init) == 0;
        if (seen) continue;
        if (strcmp(cells[i].bias_init, bias) == 0) return rank;
        rank++;
    }
    return rank;
}

int sw_groups(const sw_cell *cells, const sw_result *res, int n, sw_group **out, int *count)
{
    sw_group *g = calloc((size_t)(n ? n : 1), sizeof *g);
    int ng = 0;
    if (!g) return -1;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < ng && !(g[k].loss == cells[i].loss && g[k].gamma == cells[i].gamma &&
                           g[k].rho == cells[i].rho && strcmp(g[k].bias, cells[i].bias_init) == 0)) k++;
        if (k == ng) {
            g[ng].loss = cells[i].loss, g[ng].gamma = cells[i].gamma, g[ng].rho = cells[i].rho;
            snprintf(g[ng].bias, sizeof g[ng].bias, "%s", cells[i].bias_init);
            g[ng].members = calloc((size_t)n, sizeof(int));
            if (!g[ng].members) return sw_groups_free(g, ng), -1;
            ng++;
        }
        if (res[i].state == SW_DONE) g[k].members[g[k].n++] = i;
        else if (res[i].state == SW_FAILED) g[k].nfailed++;
    }
    /* order: loss, bias init (grid order), rho, gamma */
    for (int i = 1; i < ng; i++)
        for (int j = i; j > 0; j--) {
            sw_group *a = &g[j - 1], *b = &g[j];
            const int ra = bias_rank(cells, n, a->bias), rb = bias_rank(cells, n, b->bias);
            const int after = a->loss != b->loss ? a->loss > b->loss : ra != rb ? ra > rb
                              : a->rho != b->rho ? a->rho > b->rho : a->gamma > b->gamma;
            if (!after) break;
            sw_group t = *a;
            *a = *b, *b = t;
        }
    *out = g;
    *count = ng;
    return 0;
}

void sw_groups_free(sw_group *g, int count)
{
    for (int i = 0; g && i < count; i++) free(g[i].members);
    free(g);
}

void sw_group_stat(const sw_group *g, const sw_result *res, int col, double *mean, double *std, int *used)
{
    double s = 0, ss = 0;
    int n = 0;
    for (int i = 0; i < g->n; i++) {
        const double v = res[g->members[i]].v[col];
        if (isfinite(v)) s += v, n++;
    }
    *mean = n ? s / n : NAN;
    for (int i = 0; i < g->n; i++) {
        const double v = res[g->members[i]].v[col];
        if (isfinite(v)) ss += (v - *mean) * (v - *mean);
    }
    *std = n > 1 ? sqrt(ss / (n - 1)) : NAN;
    *used = n;
}

/* ---- the files ---- */

static void put_number(app_text *t, double v)
{
    if (isfinite(v)) app_text_put(t, ",%.9g", v);
    else app_text_put(t, ",");
}

/* a CSV cell: quoted when it holds a comma, quote or newline */
static void put_field(app_text *t, const char *s)
{
    if (!strpbrk(s, ",\"\n")) { app_text_put(t, ",%s", s); return; }
    app_text_put(t, ",\"");
    for (const char *p = s; *p; p++) app_text_put(t, *p == '"' ? "\"\"" : *p == '\n' ? " " : "%c", *p);
    app_text_put(t, "\"");
}

static const char *state_name(sw_state s)
{
    return s == SW_DONE ? "done" : s == SW_FAILED ? "failed" : "pending";
}

static int save(const char *dir, const char *file, app_text *t, char *err, size_t errlen)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (t->failed || !t->s) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(t->s);
        return -1;
    }
    const int rc = app_write_file_atomic(path, t->s, t->len, err, errlen);
    free(t->s);
    return rc;
}

static int write_sweep_csv(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                           char *err, size_t errlen)
{
    app_text t = {0};
    app_text_put(&t, "cell,status,loss,gamma,seed,bias_init,rho,split,known,device,seconds");
    for (int i = 0; i < NCOLS; i++) app_text_put(&t, ",%s", COLS[i].name);
    app_text_put(&t, ",reason\n");
    for (int c = 0; c < n; c++) {
        const sw_result *r = &res[c];
        app_text_put(&t, "%s,%s,%s,%.17g,%llu,%s", cells[c].name, state_name(r->state), cells[c].loss ? "bce" : "ce",
            cells[c].gamma, (unsigned long long)cells[c].seed, cells[c].loss ? cells[c].bias_init : "");
        put_number(&t, cells[c].rho > 0 ? cells[c].rho : NAN);
        put_number(&t, cells[c].split > 0 ? (double)cells[c].split : NAN);
        put_field(&t, cells[c].known[0] ? cells[c].known : "");
        put_field(&t, r->state == SW_DONE ? r->device : "");
        put_number(&t, r->state == SW_DONE ? r->seconds : NAN);
        for (int i = 0; i < NCOLS; i++) put_number(&t, r->state == SW_DONE ? r->v[i] : NAN);
        put_field(&t, r->state == SW_FAILED ? r->reason : "");
        app_text_put(&t, "\n");
    }
    return save(dir, "sweep.csv", &t, err, errlen);
}

static int write_summary_csv(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                             char *err, size_t errlen)
{
    sw_group *g;
    int ng;
    if (sw_groups(cells, res, n, &g, &ng) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    app_text t = {0};
    app_text_put(&t, "loss,gamma,bias_init,rho,n,n_failed");
    for (int i = 0; i < NCOLS; i++) {
        app_text_put(&t, ",%s_mean,%s_std", COLS[i].name, COLS[i].name);
        if (strncmp(COLS[i].name, "epochs_to_", 10) == 0) app_text_put(&t, ",%s_reached", COLS[i].name);
    }
    app_text_put(&t, "\n");
    for (int k = 0; k < ng; k++) {
        app_text_put(&t, "%s,%.17g,%s", g[k].loss ? "bce" : "ce", g[k].gamma, g[k].loss ? g[k].bias : "");
        put_number(&t, g[k].rho > 0 ? g[k].rho : NAN);
        app_text_put(&t, ",%d,%d", g[k].n, g[k].nfailed);
        for (int i = 0; i < NCOLS; i++) {
            double mean, std;
            int used;
            sw_group_stat(&g[k], res, i, &mean, &std, &used);
            put_number(&t, mean);
            put_number(&t, std);
            if (strncmp(COLS[i].name, "epochs_to_", 10) == 0) app_text_put(&t, ",%d", used);
        }
        app_text_put(&t, "\n");
    }
    sw_groups_free(g, ng);
    return save(dir, "summary.csv", &t, err, errlen);
}

int sw_write_tables(const char *dir, const sw_cell *cells, const sw_state *state, int n, int epochs,
                    sw_result **out, char *err, size_t errlen)
{
    sw_result *res = calloc((size_t)(n ? n : 1), sizeof *res);
    *out = res;
    if (!res) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int c = 0; c < n; c++) {
        char cdir[1300];
        snprintf(cdir, sizeof cdir, "%s/cells/%s", dir, cells[c].name);
        res[c].v = calloc((size_t)NCOLS, sizeof *res[c].v);
        if (!res[c].v) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        /* the states the sweep checked (reading every checkpoint again would repeat that) */
        res[c].state = state[c];
        if (state[c] == SW_FAILED) /* its failed.json holds the reason */
            sw_cell_state(cdir, epochs, 0, res[c].reason, sizeof res[c].reason);
        if (state[c] == SW_DONE) read_cell(cdir, cells[c].loss, &res[c]);
        else
            for (int i = 0; i < NCOLS; i++) res[c].v[i] = NAN;
    }
    sw_seed_disagreement(dir, cells, res, n, sw_col_index("seed_disagreement"));
    if (write_sweep_csv(dir, cells, res, n, err, errlen) != 0) return -1;
    return write_summary_csv(dir, cells, res, n, err, errlen);
}

void sw_results_free(sw_result *res, int n)
{
    for (int c = 0; res && c < n; c++) {
        free(res[c].v);
        free(res[c].e_epoch);
        for (int j = 0; j < 4; j++) free(res[c].e[j]);
    }
    free(res);
}
