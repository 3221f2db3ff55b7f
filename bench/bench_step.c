/* bench/bench_step.c — times cnn5 (or another model) training steps on each OpenCL device:
 * images per second (median of repeats), device time per layer from profiling events, and the
 * GEMMs of the step against OpenBLAS SGEMM at the same shapes.
 *
 * usage: bench_step [--device SPEC] [--model NAME] [--batch N] [--steps N] [--repeats R]
 *                   [--no-layers] [--no-gemm] [--json FILE]
 * Without --device every device is measured. Synthetic uint8 data of the model's input shape
 * (1x28x28 for cnn5, 3x32x32 for resnet18); the step is the real training step.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "rt.h"

typedef struct bench_opts {
    const char *device, *model, *json;
    int batch, steps, repeats, layers, gemm, by_kernel;
} bench_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct { int c, h, w; } shape3;

static shape3 model_input(const char *model)
{
    return strcmp(model, "resnet18") == 0 ? (shape3){3, 32, 32} : (shape3){1, 28, 28};
}

static int make_model(rt_ctx *rt, const bench_opts *o, nn_model **m, nn_data **d, int nsamples)
{
    const char *spec = nn_builtin_model(o->model);
    if (!spec) {
        fprintf(stderr, "bench_step: unknown model '%s'\n", o->model);
        return -1;
    }
    shape3 in = model_input(o->model);
    nn_config cfg = {.spec = spec, .in_c = in.c, .in_h = in.h, .in_w = in.w, .classes = 10,
                     .max_batch = o->batch, .loss = NN_LOSS_CE, .gamma = 16, .seed = 1,
                     .momentum = 0.9f, .weight_decay = 5e-4f};
    if (nn_model_create(rt, &cfg, m) != RT_OK) return -1;
    const size_t px = (size_t)nsamples * in.c * in.h * in.w;
    uint8_t *pixels = malloc(px);
    int32_t *labels = malloc((size_t)nsamples * sizeof *labels);
    if (!pixels || !labels) return -1;
    uint64_t z = 12345;
    for (size_t i = 0; i < px; i++) z = z * 6364136223846793005ull + 1442695040888963407ull, pixels[i] = (uint8_t)(z >> 56);
    for (int i = 0; i < nsamples; i++) labels[i] = i % 10;
    float mean[3] = {127, 127, 127}, std[3] = {74, 74, 74};
    rt_status s = nn_data_upload(rt, pixels, labels, nsamples, in.c, in.h, in.w, mean, std, d);
    free(pixels);
    free(labels);
    if (s == RT_OK) s = nn_stats_reserve(*m, o->steps + 4);
    return s == RT_OK ? 0 : -1;
}

/* img/s of `steps` training steps, median over repeats */
static int time_steps(rt_ctx *rt, nn_model *m, nn_data *d, const bench_opts *o, double *ips,
                      double *ms_step)
{
    double *r = calloc((size_t)o->repeats, sizeof *r);
    for (int w = 0; w < 2; w++)
        if (nn_train_step(m, d, 0, o->batch, 0.01f, 0) != RT_OK) return -1;
    if (rt_finish(rt) != RT_OK) return -1;
    for (int k = 0; k < o->repeats; k++) {
        const double t0 = now_s();
        for (int s = 0; s < o->steps; s++)
            if (nn_train_step(m, d, (s % 2) * o->batch, o->batch, 0.01f, s) != RT_OK) return -1;
        if (rt_finish(rt) != RT_OK) return -1;
        r[k] = (now_s() - t0) / o->steps;
    }
    *ms_step = 1e3 * median(r, o->repeats);
    *ips = o->batch / (*ms_step / 1e3);
    free(r);
    return 0;
}

typedef struct { char label[48]; double ms; int launches; } layer_row;
/* rows of the per-layer (or per-kernel) table: resnet18 by kernel has ~300 */
enum { MAX_ROWS = 1024 };

static int profile_layers(rt_ctx *rt, nn_model *m, nn_data *d, const bench_opts *o, layer_row *rows,
                          int *nrows, double *total)
{
    rt_profile_enable(rt, o->by_kernel ? 2 : 1);
    rt_profile_reset(rt);
    const int steps = o->steps < 3 ? o->steps : 3;
    for (int s = 0; s < steps; s++)
        if (nn_train_step(m, d, 0, o->batch, 0.01f, s) != RT_OK) return -1;
    rt_profile_row *pr = malloc(MAX_ROWS * sizeof *pr);
    int n = 0;
    if (!pr) return -1;
    if (rt_profile_collect(rt, pr, MAX_ROWS, &n) != RT_OK) return free(pr), -1;
    rt_profile_enable(rt, 0);
    if (n == MAX_ROWS) fprintf(stderr, "bench_step: more than %d profile rows, the table is cut\n", MAX_ROWS);
    *total = 0;
    *nrows = 0;
    for (int i = 0; i < n; i++) {
        if (pr[i].launches == 0) continue;
        snprintf(rows[*nrows].label, sizeof rows[0].label, "%s", pr[i].label);
        rows[*nrows].ms = pr[i].ms / steps;
        rows[*nrows].launches = pr[i].launches / steps;
        *total += rows[*nrows].ms;
        (*nrows)++;
    }
    free(pr);
    return 0;
}

/* ---- GEMM against OpenBLAS at the conv shapes of the model ---- */

typedef struct { const char *what; int ta, tb, m, n, k; } gemm_shape;

static int cnn5_gemms(int batch, gemm_shape *g)
{
    /* (Cin, Cout, H) of cnn5's 3x3 convolutions; conv1 (Cin 1) is tiny and left out */
    static const int conv[][3] = {{32, 32, 28}, {32, 64, 14}, {64, 64, 14}, {64, 128, 7}};
    int n = 0;
    for (int i = 0; i < 4; i++) {
        const int kk = conv[i][0] * 9, co = conv[i][1], p = batch * conv[i][2] * conv[i][2];
        g[n++] = (gemm_shape){"fwd NN", 0, 0, co, p, kk};
        g[n++] = (gemm_shape){"bwd-data TN", 1, 0, kk, p, co};
        g[n++] = (gemm_shape){"bwd-weight NT", 0, 1, co, kk, p};
    }
    return n;
}

/* small values in [-0.5, 0.5) from a fixed sequence */
static void fill_values(float *v, size_t n, unsigned seed)
{
    unsigned x = 2463534242u * seed + 1u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
    }
}

typedef struct gemm_bufs { rt_buf *a, *b, *c; float *ha, *hb, *hc; } gemm_bufs;

static int gemm_setup(rt_ctx *rt, const gemm_shape *s, gemm_bufs *g)
{
    const size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
    if (rt_alloc(rt, na * 4, &g->a) || rt_alloc(rt, nb * 4, &g->b) || rt_alloc(rt, nc * 4, &g->c)) return -1;
    g->ha = malloc(na * 4), g->hb = malloc(nb * 4), g->hc = malloc(nc * 4);
    if (!g->ha || !g->hb || !g->hc) return -1;
    /* the same values on both sides, every page written: untouched calloc pages all map the
     * kernel's one zero page, which would let OpenBLAS read its operands from L1 */
    fill_values(g->ha, na, 1), fill_values(g->hb, nb, 2);
    memset(g->hc, 0, nc * 4);
    return rt_write(rt, g->a, 0, g->ha, na * 4) == RT_OK && rt_write(rt, g->b, 0, g->hb, nb * 4) == RT_OK
               ? 0 : -1;
}

static void gemm_release(rt_ctx *rt, gemm_bufs *g)
{
    rt_free(rt, g->a), rt_free(rt, g->b), rt_free(rt, g->c);
    free(g->ha), free(g->hb), free(g->hc);
}

static double time_gemm_device(rt_ctx *rt, const gemm_shape *s, gemm_bufs *b)
{
    rt_gemm_args g = {s->ta, s->tb, s->m, s->n, s->k, 1.0f, 0.0f, b->a, 0, s->ta ? s->m : s->k,
                      b->b, 0, s->tb ? s->k : s->n, b->c, 0, s->n};
    const double t0 = now_s();
    if (rt_gemm(rt, &g) != RT_OK || rt_finish(rt) != RT_OK) return -1;
    return now_s() - t0;
}

static double time_gemm_openblas(const gemm_shape *s, gemm_bufs *b)
{
    const double t0 = now_s();
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                s->m, s->n, s->k, 1.0f, b->ha, s->ta ? s->m : s->k, b->hb, s->tb ? s->k : s->n, 0.0f,
                b->hc, s->n);
    return now_s() - t0;
}

/* pairs a GEMM shape is timed in: the machines this runs on are shared, and one slow moment
 * on either side moves a 7-pair median by up to 2x */
#define GEMM_PAIRS 15

/* device and OpenBLAS in turn, reps times after a warm-up: medians and the median pair ratio */
static int compare_gemm(rt_ctx *rt, const gemm_shape *s, int reps, double *dev, double *ob, double *ratio)
{
    gemm_bufs b = {0};
    double td[GEMM_PAIRS], tb[GEMM_PAIRS], r[GEMM_PAIRS];
    if (gemm_setup(rt, s, &b) != 0) return -1;
    for (int i = -1; i < reps; i++) {
        const double d = time_gemm_device(rt, s, &b), o = time_gemm_openblas(s, &b);
        if (d < 0) return -1;
        if (i >= 0) td[i] = d, tb[i] = o, r[i] = o / d;
    }
    gemm_release(rt, &b);
    *dev = median(td, reps), *ob = median(tb, reps), *ratio = median(r, reps);
    return 0;
}

static void usage(void)
{
    printf("usage: bench_step [--device SPEC] [--model cnn5|resnet18] [--batch N] [--steps N]\n"
           "                  [--repeats R] [--no-layers] [--no-gemm] [--by-kernel] [--json FILE]\n");
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.model = "cnn5", .batch = 128, .steps = 5, .repeats = 5, .layers = 1, .gemm = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-layers")) o->layers = 0;
        else if (!strcmp(a, "--no-gemm")) o->gemm = 0;
        else if (!strcmp(a, "--by-kernel")) o->by_kernel = 1;
        else if (!strcmp(a, "--help")) { usage(); exit(0); }
        else if (v && !strcmp(a, "--device")) o->device = v, i++;
        else if (v && !strcmp(a, "--model")) o->model = v, i++;
        else if (v && !strcmp(a, "--json")) o->json = v, i++;
        else if (v && !strcmp(a, "--batch")) o->batch = atoi(v), i++;
        else if (v && !strcmp(a, "--steps")) o->steps = atoi(v), i++;
        else if (v && !strcmp(a, "--repeats")) o->repeats = atoi(v), i++;
        else { fprintf(stderr, "bench_step: bad argument '%s'\n", a); usage(); return -1; }
    }
    if (o->batch < 1 || o->steps < 1 || o->repeats < 1 || o->repeats > 16) {
        fprintf(stderr, "bench_step: batch, steps >= 1 and 1 <= repeats <= 16\n");
        return -1;
    }
    return 0;
}

static int bench_device(const bench_opts *o, int index, FILE *json, int first)
{
    char spec[16], err[RT_ERRLEN];
    snprintf(spec, sizeof spec, "%d", index);
    rt_options ro = {.device_spec = spec};
    rt_ctx *rt;
    if (rt_open(&rt, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "bench_step: %s\n", err);
        return -1;
    }
    const rt_device_info *dev = rt_device(rt);
    nn_model *m = NULL;
    nn_data *d = NULL;
    if (make_model(rt, o, &m, &d, 2 * o->batch) != 0) {
        fprintf(stderr, "bench_step: %s\n", rt_error(rt));
        return -1;
    }
    double ips = 0, ms = 0, total = 0;
    layer_row *rows = malloc(MAX_ROWS * sizeof *rows);
    int nrows = 0;
    if (!rows) {
        fprintf(stderr, "bench_step: out of host memory\n");
        return -1;
    }
    if (time_steps(rt, m, d, o, &ips, &ms) != 0 ||
        (o->layers && profile_layers(rt, m, d, o, rows, &nrows, &total) != 0)) {
        fprintf(stderr, "bench_step: %s\n", rt_error(rt));
        return -1;
    }
    printf("\n== %s (%s, driver %s) — %s, batch %d, GEMM %s\n", dev->name, dev->platform, dev->driver,
           o->model, o->batch, rt_gemm_path_name(rt_device_params(rt)->gemm));
    printf("training step: %.1f ms  (%.0f img/s, median of %d x %d steps)\n", ms, ips, o->repeats, o->steps);
    const rt_build_stats bs = rt_get_build_stats(rt);
    printf("kernel programs: %d compiled, %d from gammacl's cache, %.2f s building or loading\n",
           bs.compiled, bs.cached, bs.seconds);
    if (json)
        fprintf(json, "%s{\"device\": \"%s\", \"platform\": \"%s\", \"driver\": \"%s\", \"model\": \"%s\", "
                "\"batch\": %d, \"ms_per_step\": %.3f, \"img_per_s\": %.1f, \"build_s\": %.3f, \"layers\": [",
                first ? "" : ",\n", dev->name, dev->platform, dev->driver, o->model, o->batch, ms, ips,
                bs.seconds);
    if (o->layers) {
        printf("%-44s %9s %6s %8s\n", "layer", "ms/step", "share", "launches");
        for (int i = 0; i < nrows; i++) {
            printf("%-44s %9.2f %5.1f%% %8d\n", rows[i].label, rows[i].ms, 100 * rows[i].ms / total,
                   rows[i].launches);
            if (json) fprintf(json, "%s{\"label\": \"%s\", \"ms\": %.3f}", i ? ", " : "", rows[i].label, rows[i].ms);
        }
        printf("%-44s %9.2f  (device time; the wall step above includes launch gaps)\n", "sum", total);
    }
    if (json) fprintf(json, "], \"openblas_core\": \"%s\", \"gemm\": [", openblas_get_corename());
    if (o->gemm && strcmp(o->model, "cnn5") == 0) {
        gemm_shape g[16];
        const int n = cnn5_gemms(o->batch, g);
        const char *forced = getenv("OPENBLAS_CORETYPE");
        printf("OpenBLAS %s kernels%s\n", openblas_get_corename(),
               forced && *forced ? " (forced by OPENBLAS_CORETYPE: unset it for OpenBLAS's own choice)" : "");
        printf("%-14s %5s %7s %6s %10s %10s %6s\n", "GEMM", "M", "N", "K", "device GF/s", "OpenBLAS",
               "ratio");
        double sum_dev = 0, sum_ob = 0;
        for (int i = 0; i < n; i++) {
            const double flop = 2.0 * g[i].m * g[i].n * g[i].k;
            double td, tb, ratio;
            if (compare_gemm(rt, &g[i], GEMM_PAIRS, &td, &tb, &ratio) != 0) {
                fprintf(stderr, "bench_step: %s\n", rt_error(rt));
                return -1;
            }
            sum_dev += td, sum_ob += tb;
            printf("%-14s %5d %7d %6d %10.1f %10.1f %6.2f\n", g[i].what, g[i].m, g[i].n, g[i].k,
                   flop / td / 1e9, flop / tb / 1e9, ratio);
            if (json)
                fprintf(json, "%s{\"what\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"gflops\": %.2f, "
                        "\"openblas_gflops\": %.2f, \"ratio\": %.3f}", i ? ", " : "", g[i].what, g[i].m,
                        g[i].n, g[i].k, flop / td / 1e9, flop / tb / 1e9, ratio);
        }
        printf("all 12 GEMMs: device %.1f ms, OpenBLAS %.1f ms, ratio %.2f (ratios: median of %d "
               "interleaved pairs)\n", 1e3 * sum_dev, 1e3 * sum_ob, sum_ob / sum_dev, GEMM_PAIRS);
    }
    if (json) fprintf(json, "]}");
    free(rows);
    nn_data_free(rt, d);
    nn_model_free(m);
    rt_close(rt);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (parse(argc, argv, &o) != 0) return 2;
    rt_device_info *list = NULL;
    int n = 0;
    char err[RT_ERRLEN];
    if (rt_list_devices(&list, &n, err, sizeof err) != RT_OK) {
        fprintf(stderr, "bench_step: %s\n", err);
        return 1;
    }
    int pick = -1;
    if (o.device && rt_pick_device(list, n, o.device, &pick, err, sizeof err) != RT_OK) {
        fprintf(stderr, "bench_step: %s\n", err);
        return 2;
    }
    FILE *json = o.json ? fopen(o.json, "w") : NULL;
    if (o.json && !json) {
        perror(o.json);
        return 1;
    }
    if (json) fprintf(json, "[\n");
    int rc = 0, first = 1;
    for (int i = 0; i < n; i++) {
        if (pick >= 0 && i != pick) continue;
        if (bench_device(&o, i, json, first) != 0) rc = 1;
        first = 0;
    }
    if (json) fprintf(json, "\n]\n"), fclose(json);
    free(list);
    return rc;
}
