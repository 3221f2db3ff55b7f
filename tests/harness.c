/* tests/harness.c — see harness.h: device loop, checks, tolerances, test data. */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int th_check(th *t, int cond, const char *fmt, ...)
{
    t->checks++;
    if (cond) return 1;
    t->failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL [%s | %s] ", t->suite, t->config);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

int th_ok(th *t, rt_status s, const char *what)
{
    return th_check(t, s == RT_OK, "%s: %s", what, s == RT_OK ? "" : rt_error(t->rt));
}

int th_close(th *t, const float *got, const double *ref, size_t n, double rtol, double atol,
             const char *what)
{
    size_t worst = 0, bad = 0;
    double worst_ex = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - ref[i]), tol = atol + rtol * fabs(ref[i]);
        double ex = isfinite(got[i]) ? err / tol : INFINITY;
        if (!(ex <= 1.0)) bad++;
        if (!(ex <= worst_ex)) worst_ex = ex, worst = i;
    }
    return th_check(t, bad == 0,
                    "%s: %zu of %zu elements out of tolerance; worst [%zu] got %.9g want %.9g "
                    "(rtol %g atol %g)",
                    what, bad, n, worst, n ? got[worst] : 0.0, n ? ref[worst] : 0.0, rtol, atol);
}

double th_uniform(th_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

double th_normal(th_rng *r)
{
    double u = th_uniform(r), v = th_uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

void th_fill_uniform(th_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)th_uniform(r);
}

rt_buf *th_upload(th *t, const float *x, size_t n)
{
    rt_buf *b = NULL;
    if (!th_ok(t, rt_alloc(t->rt, n * sizeof(float), &b), "alloc")) return NULL;
    th_ok(t, rt_write(t->rt, b, 0, x, n * sizeof(float)), "write");
    return b;
}

rt_buf *th_zeros(th *t, size_t n)
{
    rt_buf *b = NULL;
    if (!th_ok(t, rt_alloc(t->rt, n * sizeof(float), &b), "alloc")) return NULL;
    th_ok(t, rt_fill_zero(t->rt, b, 0, n * sizeof(float)), "fill");
    return b;
}

float *th_download(th *t, const rt_buf *b, size_t n)
{
    float *x = calloc(n ? n : 1, sizeof *x);
    if (b) th_ok(t, rt_read(t->rt, b, 0, x, n * sizeof(float)), "read");
    return x;
}

/* Runs body on device `index` with a forced device-table row (NULL: its own). *cpu_style gets
 * the style of the row that ran. */
static int run_one(const char *suite, th_body body, int index, const char *row, int *failures,
                   int *cpu_style)
{
    char err[RT_ERRLEN], spec[16];
    snprintf(spec, sizeof spec, "%d", index);
    rt_options o = {.device_spec = spec, .param_row = row};
    rt_ctx *ctx = NULL;
    if (rt_open(&ctx, &o, err, sizeof err) != RT_OK) {
        fprintf(stderr, "FAIL [%s] cannot open device %d: %s\n", suite, index, err);
        (*failures)++;
        return 0;
    }
    char config[300];
    snprintf(config, sizeof config, "%s / %s", rt_device(ctx)->name, rt_device_params(ctx)->row);
    if (cpu_style) *cpu_style = rt_device_params(ctx)->cpu_style;
    th t = {.suite = suite, .config = config, .rt = ctx};
    body(&t);
    rt_status s = rt_finish(ctx);
    if (s != RT_OK) th_check(&t, 0, "queue: %s", rt_error(ctx));
    printf("%-24s %-60s %4d checks, %d failed\n", suite, config, t.checks, t.failures);
    *failures += t.failures;
    rt_close(ctx);
    return t.checks;
}

int th_run(const char *suite, th_body body, int styles)
{
    rt_device_info *list = NULL;
    int n = 0;
    char err[RT_ERRLEN];
    if (rt_list_devices(&list, &n, err, sizeof err) != RT_OK || n == 0) {
        fprintf(stderr, "FAIL [%s] no OpenCL device: %s\n", suite, err);
        free(list);
        return 1;
    }
    const char *only = getenv("GAMMACL_DEVICE");
    int pick = -1;
    if (only && *only && rt_pick_device(list, n, only, &pick, err, sizeof err) != RT_OK) {
        fprintf(stderr, "FAIL [%s] %s\n", suite, err);
        free(list);
        return 1;
    }
    int failures = 0, checks = 0, first = 1;
    /* the opposite kernel style runs on the first device tested; on every device with
     * GAMMACL_TEST_ALL_STYLES=1 (compiling the other style's kernels is slow on some drivers:
     * ~3 minutes on a cold rusticl for kernels the first device already covers) */
    const char *all = getenv("GAMMACL_TEST_ALL_STYLES");
    const int every = all && *all && strcmp(all, "0") != 0;
    for (int i = 0; i < n; i++) {
        if (pick >= 0 && i != pick) continue;
        int cpu_style = 0;
        checks += run_one(suite, body, i, NULL, &failures, &cpu_style);
        if (styles && (first || every))
            checks += run_one(suite, body, i, cpu_style ? "gpu-own" : "cpu", &failures, NULL);
        first = 0;
    }
    free(list);
    if (checks == 0) {
        fprintf(stderr, "FAIL [%s] no check ran\n", suite);
        return 1;
    }
    return failures ? 1 : 0;
}

int th_tunable(th *t)
{
    if (rt_tune_applies(t->rt)) return 1;
    const rt_tune_table *tt = rt_tune_get(t->rt);
    int clean = tt->shipped == 0 && tt->tuned == 0;
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++) clean &= tt->from[k][c] == 0;
    th_check(t, clean, "a device without tunable kernels took tuned parameters");
    return 0;
}
