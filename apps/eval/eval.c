/* apps/eval/eval.c — the evaluation of eval.h: the model back from its checkpoint, the clean
 * test set, and each disturbance, batch by batch through net/probe.h. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "run.h"

/* ---- seeded normals: one stream per (seed, condition, sample) ---- */

typedef struct ev_rng { uint64_t s; } ev_rng;

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static ev_rng stream(uint64_t seed, int cond, int sample)
{
    return (ev_rng){mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)cond << 40) ^ (uint64_t)sample)};
}

static double uniform01(ev_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return ((double)(mix(r->s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(ev_rng *r)
{
    const double u = uniform01(r), v = uniform01(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- helpers ---- */

static int argmax(const float *c, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (c[k] > c[best]) best = k;
    return best;
}

static float clip255(double v) { return (float)(v < 0 ? 0 : v > 255 ? 255 : v); }

typedef struct ev_ctx {
    const ev_opts *o;
    app_trained t;
    ev_result *r;
    int px, plane, C, K, d, B;
    float *raw, *x, *cos, *dx;   /* one batch: raw pixels, model input, cosines, gradient */
} ev_ctx;

static void standardize(const ev_ctx *e, const float *raw, float *x, int n)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < e->C; c++) {
            const float mu = e->t.mean[c], inv = 1.0f / e->t.std[c];
            const size_t off = (size_t)i * e->px + (size_t)c * e->plane;
            for (int p = 0; p < e->plane; p++) x[off + p] = (raw[off + p] - mu) * inv;
        }
}

/* runs batch x; counts correct and flipped predictions against the clean ones into cond */
static int probe_count(ev_ctx *e, int first, int n, ev_condition *cond)
{
    nn_probe_out out = {.cos = e->cos};
    if (nn_probe_batch(e->t.model, e->x, e->r->labels + first, n, 0, &out) != RT_OK) return -1;
    for (int i = 0; i < n; i++) {
        const int p = argmax(e->cos + (size_t)i * e->K, e->K);
        cond->correct += p == e->r->labels[first + i];
        cond->flips += p != e->r->pred[first + i];
    }
    return 0;
}

static int clean_batch(ev_ctx *e, int first, int n)
{
    ev_result *r = e->r;
    const uint8_t *src = e->t.test.pixels + (size_t)first * e->px;
    for (size_t j = 0; j < (size_t)n * e->px; j++) e->raw[j] = src[j];
    standardize(e, e->raw, e->x, n);
    nn_probe_out out = {.hn = r->hn + (size_t)first * e->d, .cos = r->cos + (size_t)first * e->K,
                        .dx = e->o->nfgsm ? e->dx : NULL};
    if (nn_probe_batch(e->t.model, e->x, r->labels + first, n, 0, &out) != RT_OK) return -1;
    for (int i = 0; i < n; i++) r->pred[first + i] = argmax(out.cos + (size_t)i * e->K, e->K);
    return 0;
}

static int input_noise_batch(ev_ctx *e, int first, int n, int level, ev_condition *cond)
{
    const double sigma = e->o->noise[level];
    for (int i = 0; i < n; i++) {
        ev_rng g = stream(e->o->seed, level, first + i);
        const uint8_t *src = e->t.test.pixels + (size_t)(first + i) * e->px;
        float *dst = e->raw + (size_t)i * e->px;
        for (int j = 0; j < e->px; j++) dst[j] = clip255(src[j] + sigma * normal(&g));
    }
    standardize(e, e->raw, e->x, n);
    return probe_count(e, first, n, cond);
}

static int fgsm_batch(ev_ctx *e, int first, int n, int level, ev_condition *cond)
{
    const double eps = e->o->fgsm[level];
    for (size_t j = 0; j < (size_t)n * e->px; j++) {
        const double v = e->t.test.pixels[(size_t)first * e->px + j];
        const float g = e->dx[j];
        e->raw[j] = clip255(v + (g > 0 ? eps : g < 0 ? -eps : 0));
    }
    standardize(e, e->raw, e->x, n);
    return probe_count(e, first, n, cond);
}

/* feature noise on the host: hn + sigma z, renormalized, cosines with the normalized weights */
static int feature_noise(ev_ctx *e, int level, ev_condition *cond, const int *host_pred)
{
    const double sigma = e->o->feature[level] / sqrt((double)e->d); /* z ~ N(0, I/d) */
    const ev_result *r = e->r;
    double *v = malloc((size_t)e->d * sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < r->count; i++) {
        ev_rng g = stream(e->o->seed, 1000 + level, i);
        double norm = 0;
        for (int j = 0; j < e->d; j++) {
            v[j] = r->hn[(size_t)i * e->d + j] + sigma * normal(&g);
            norm += v[j] * v[j];
        }
        norm = sqrt(norm);
        int best = 0;
        double bestc = -INFINITY;
        for (int k = 0; k < e->K; k++) {
            double c = 0;
            for (int j = 0; j < e->d; j++) c += v[j] * r->wn[(size_t)k * e->d + j];
            c /= norm > 0 ? norm : 1;
            if (c > bestc) bestc = c, best = k;
        }
        cond->correct += best == r->labels[i];
        cond->flips += best != host_pred[i];
    }
    free(v);
    return 0;
}

/* weight noise on the host: one draw of all K normalized class weights, wn_k + sigma z_k
 * renormalized, against every clean unit feature; EV_WEIGHT_DRAWS draws a level */
static int weight_noise(ev_ctx *e, int level, ev_condition *cond, const int *host_pred)
{
    const double sigma = e->o->weight[level] / sqrt((double)e->d); /* z ~ N(0, I/d) */
    const ev_result *r = e->r;
    double *w = malloc((size_t)e->K * e->d * sizeof *w);
    if (!w) return -1;
    for (int t = 0; t < EV_WEIGHT_DRAWS; t++) {
        ev_rng g = stream(e->o->seed, 2000 + level, t);
        for (int k = 0; k < e->K; k++) {
            double *wk = w + (size_t)k * e->d, norm = 0;
            for (int j = 0; j < e->d; j++) {
                wk[j] = r->wn[(size_t)k * e->d + j] + sigma * normal(&g);
                norm += wk[j] * wk[j];
            }
            norm = sqrt(norm);
            /* sigma 0 keeps the stored weights, as host_predictions reads them: nothing flips */
            for (int j = 0; sigma > 0 && j < e->d; j++) wk[j] /= norm > 0 ? norm : 1;
        }
        for (int i = 0; i < r->count; i++) {
            int best = 0;
            double bestc = -INFINITY;
            for (int k = 0; k < e->K; k++) {
                double c = 0;
                for (int j = 0; j < e->d; j++) c += (double)r->hn[(size_t)i * e->d + j] * w[(size_t)k * e->d + j];
                if (c > bestc) bestc = c, best = k;
            }
            cond->correct += best == r->labels[i];
            cond->flips += best != host_pred[i];
        }
        cond->trials += r->count;
    }
    free(w);
    return 0;
}

/* the clean prediction computed as feature_noise computes, so that sigma 0 flips nothing */
static int *host_predictions(const ev_ctx *e)
{
    const ev_result *r = e->r;
    int *p = malloc((size_t)r->count * sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < r->count; i++) {
        double norm = 0, bestc = -INFINITY;
        for (int j = 0; j < e->d; j++) norm += (double)r->hn[(size_t)i * e->d + j] * r->hn[(size_t)i * e->d + j];
        norm = sqrt(norm);
        p[i] = 0;
        for (int k = 0; k < e->K; k++) {
            double c = 0;
            for (int j = 0; j < e->d; j++) c += (double)r->hn[(size_t)i * e->d + j] * r->wn[(size_t)k * e->d + j];
            c /= norm > 0 ? norm : 1;
            if (c > bestc) bestc = c, p[i] = k;
        }
    }
    return p;
}

static void add_condition(ev_result *r, const char *kind, const char *unit, double level)
{
    ev_condition *c = &r->cond[r->ncond++];
    memset(c, 0, sizeof *c);
    c->kind = kind, c->unit = unit, c->level = level;
    snprintf(c->name, sizeof c->name, "%s_%g", kind, level);
}

static int allocate(ev_ctx *e)
{
    ev_result *r = e->r;
    const size_t N = (size_t)r->count;
    r->hn = malloc(N * e->d * sizeof *r->hn);
    r->cos = malloc(N * e->K * sizeof *r->cos);
    r->w = malloc((size_t)e->K * e->d * sizeof *r->w);
    r->wn = malloc((size_t)e->K * e->d * sizeof *r->wn);
    r->labels = malloc(N * sizeof *r->labels);
    r->pred = malloc(N * sizeof *r->pred);
    e->raw = malloc((size_t)e->B * e->px * sizeof *e->raw);
    e->x = malloc((size_t)e->B * e->px * sizeof *e->x);
    e->cos = malloc((size_t)e->B * e->K * sizeof *e->cos);
    e->dx = malloc((size_t)e->B * e->px * sizeof *e->dx);
    if (!r->hn || !r->cos || !r->w || !r->wn || !r->labels || !r->pred || !e->raw || !e->x || !e->cos || !e->dx)
        return -1;
    memcpy(r->labels, e->t.test.labels, N * sizeof *r->labels);
    return 0;
}

static int evaluate(ev_ctx *e)
{
    const ev_opts *o = e->o;
    ev_result *r = e->r;
    for (int i = 0; i < o->nnoise; i++) add_condition(r, "input_noise", "pixel levels (/255)", o->noise[i]);
    for (int i = 0; i < o->nfeature; i++) add_condition(r, "feature_noise", "sigma on the unit feature", o->feature[i]);
    for (int i = 0; i < o->nweight; i++) add_condition(r, "weight_noise", "sigma on each unit class weight", o->weight[i]);
    for (int i = 0; i < o->nfgsm; i++) add_condition(r, "fgsm", "pixel levels (/255)", o->fgsm[i]);
    ev_condition *noise = r->cond, *feat = r->cond + o->nnoise, *wnoise = feat + o->nfeature;
    ev_condition *fgsm = wnoise + o->nweight;
    long clean = 0, small = 0;
    for (int first = 0; first < r->count; first += e->B) {
        const int n = r->count - first < e->B ? r->count - first : e->B;
        if (clean_batch(e, first, n) != 0) return -1;
        for (int l = 0; l < o->nnoise; l++)
            if (input_noise_batch(e, first, n, l, &noise[l]) != 0) return -1;
        for (int l = 0; l < o->nfgsm; l++)
            if (fgsm_batch(e, first, n, l, &fgsm[l]) != 0) return -1;
    }
    for (int i = 0; i < r->count; i++) {
        const float *c = r->cos + (size_t)i * e->K;
        const int y = r->labels[i];
        float other = -INFINITY;
        for (int k = 0; k < e->K; k++)
            if (k != y && c[k] > other) other = c[k];
        clean += r->pred[i] == y;
        small += (double)c[y] - other < o->margin;
    }
    r->clean_acc = (double)clean / r->count;
    r->small_margin = (double)small / r->count;
    const int host = o->nfeature || o->nweight;
    int *hp = host ? host_predictions(e) : NULL;
    if (host && !hp) return -2;
    for (int l = 0; l < o->nfeature; l++)
        if (feature_noise(e, l, &feat[l], hp) != 0) return free(hp), -2;
    for (int l = 0; l < o->nweight; l++)
        if (weight_noise(e, l, &wnoise[l], hp) != 0) return free(hp), -2;
    free(hp);
    for (int c = 0; c < r->ncond; c++) {
        ev_condition *k = &r->cond[c];
        const double n = k->trials ? (double)k->trials : (double)r->count;
        k->acc = (double)k->correct / n;
        k->flip_rate = (double)k->flips / n;
    }
    return 0;
}

/* a --known run: the scores of the known test set and of the other classes' test images */
static int open_set(ev_ctx *e, double bias)
{
    ev_result *r = e->r;
    app_dataset u;
    if (app_setup_unknown("eval", &e->t.o, &u) != 0) return -3;
    double *ks = malloc((size_t)r->count * EV_SCORES * sizeof *ks);
    double *us = malloc((size_t)(u.count ? u.count : 1) * EV_SCORES * sizeof *us);
    int32_t *zeros = calloc((size_t)e->B, sizeof *zeros); /* unknowns have no class of the model */
    int rc = ks && us && zeros ? 0 : -2;
    for (int i = 0; rc == 0 && i < r->count; i++)
        ev_open_scores(r->cos + (size_t)i * e->K, e->K, r->gamma, bias, r->loss, ks + (size_t)i * EV_SCORES);
    for (int first = 0; rc == 0 && first < u.count; first += e->B) {
        const int n = u.count - first < e->B ? u.count - first : e->B;
        const uint8_t *src = u.pixels + (size_t)first * e->px;
        for (size_t j = 0; j < (size_t)n * e->px; j++) e->raw[j] = src[j];
        standardize(e, e->raw, e->x, n);
        nn_probe_out out = {.cos = e->cos};
        if (nn_probe_batch(e->t.model, e->x, zeros, n, 0, &out) != RT_OK) rc = -1;
        for (int i = 0; rc == 0 && i < n; i++)
            ev_open_scores(e->cos + (size_t)i * e->K, e->K, r->gamma, bias, r->loss,
                           us + (size_t)(first + i) * EV_SCORES);
    }
    if (rc == 0 && ev_open_figures(r, ks, us, u.count) != 0) rc = -2;
    free(ks), free(us), free(zeros);
    app_dataset_free(&u);
    return rc;
}

int ev_run(const ev_opts *o, ev_result *r, char *device_name, size_t len)
{
    memset(r, 0, sizeof *r);
    ev_ctx e = {.o = o, .r = r};
    char ckpt[1300];
    if (o->run[0]) snprintf(ckpt, sizeof ckpt, "%s/model.ckpt", o->run);
    else snprintf(ckpt, sizeof ckpt, "%s", o->ckpt);
    int rc = app_run_load("eval", ckpt, o->device, o->data, o->batch, o->nfgsm > 0, &e.t);
    if (rc) return rc;
    const rt_device_info *di = rt_device(e.t.rt);
    snprintf(device_name, len, "%s (%s)", di->name, di->platform);
    e.C = e.t.test.channels, e.plane = e.t.test.height * e.t.test.width, e.px = e.C * e.plane;
    e.K = e.t.test.classes, e.d = nn_model_feature_dim(e.t.model), e.B = o->batch;
    r->count = e.t.test.count, r->classes = e.K, r->dim = e.d, r->epoch = e.t.epoch;
    r->loss = e.t.o.loss, r->gamma = e.t.o.gamma;
    float b = 0;
    printf("evaluating %s (epoch %d, %s, gamma %g) on %d test images: clean, %d input-noise, %d "
           "feature-noise, %d weight-noise and %d FGSM levels\n", ckpt, e.t.epoch, r->loss ? "BCE" : "CE",
           r->gamma, r->count, o->nnoise, o->nfeature, o->nweight, o->nfgsm);
    fflush(stdout);
    rc = 1;
    if (allocate(&e) != 0) fprintf(stderr, "gammacl eval: out of memory\n");
    else if (nn_stats_reserve(e.t.model, 1) != RT_OK || nn_model_bias(e.t.model, &b) != RT_OK ||
             nn_probe_class_weights(e.t.model, r->w, r->wn) != RT_OK)
        fprintf(stderr, "gammacl eval: %s\n", rt_error(e.t.rt));
    else {
        /* -1: a device error, -2: out of host memory, -3: reported already */
        int erc = evaluate(&e);
        if (erc == 0) {
            r->class_acc = malloc((size_t)e.K * sizeof *r->class_acc);
            r->train_counts = malloc((size_t)e.K * sizeof *r->train_counts);
            if (!r->class_acc || !r->train_counts ||
                ev_class_figures(r, e.t.train.labels, e.t.train.count, e.t.o.imbalance > 0) != 0)
                erc = -2;
        }
        if (erc == 0 && e.t.o.known[0] && !o->data[0]) erc = open_set(&e, b);
        if (erc == -1) fprintf(stderr, "gammacl eval: %s\n", rt_error(e.t.rt));
        else if (erc == -2) fprintf(stderr, "gammacl eval: out of host memory\n");
        else if (erc == 0) rc = 0;
    }
    r->bias = b;
    free(e.raw), free(e.x), free(e.cos), free(e.dx);
    app_run_unload(&e.t);
    return rc;
}

void ev_result_free(ev_result *r)
{
    free(r->hn), free(r->cos), free(r->w), free(r->wn), free(r->labels), free(r->pred);
    free(r->class_acc), free(r->train_counts);
    memset(r, 0, sizeof *r);
}
