/* bench/bench_conv.c — cnn5's (or resnet18's) convolutions, batch 128, through each runtime
 * implementation that applies (im2col, fused rows, pitched, Winograd; stride 2: im2col and the
 * fused kernel, whatever the device table picks), interleaved so that machine noise hits all alike:
 * forward and backward GFLOP/s, medians,
 * by the wall clock and per CPU-second of the process (the driver's worker threads included),
 * which another process on a shared machine disturbs much less.
 *
 * usage: bench_conv [--device SPEC] [--model cnn5|resnet18] [--batch N] [--repeats R] [--path NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rt.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *const usage =
    "usage: bench_conv [--device SPEC] [--model cnn5|resnet18] [--batch N] [--repeats R] [--path NAME]\n"
    "  --path: only one implementation: im2col+gemm, fused rows, fused pitched or winograd\n"
    "  (the strided convolutions run im2col+gemm and their fused kernel whatever it names)\n";

int main(int argc, char **argv)
{
    const char *device = NULL, *model = "cnn5", *path = NULL;
    int batch = 128, repeats = 7;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--help")) return fputs(usage, stdout), 0;
        if (i + 1 >= argc) return fprintf(stderr, "bench_conv: %s needs a value\n%s", argv[i], usage), 2;
        if (!strcmp(argv[i], "--device")) device = argv[i + 1];
        else if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--path")) path = argv[i + 1];
        else return fprintf(stderr, "bench_conv: bad argument '%s'\n%s", argv[i], usage), 2;
    }
    const int resnet = !strcmp(model, "resnet18");
    if (repeats < 1 || repeats > 64 || batch < 1 || (!resnet && strcmp(model, "cnn5"))) {
        fprintf(stderr, "bench_conv: --model cnn5|resnet18, --batch >= 1, --repeats 1..64\n");
        return 2;
    }
    char err[RT_ERRLEN];
    rt_options o = {.device_spec = device};
    rt_ctx *rt;
    if (rt_open(&rt, &o, err, sizeof err) != RT_OK) {
        fprintf(stderr, "bench_conv: %s\n", err);
        return 1;
    }
    printf("%s (%s), batch %d, median of %d\n", rt_device(rt)->name, rt_device(rt)->platform, batch, repeats);
    static const rt_conv_desc cnn5[] = {{1, 28, 28, 32, 3, 1, 1}, {32, 28, 28, 32, 3, 1, 1},
                                        {32, 14, 14, 64, 3, 1, 1}, {64, 14, 14, 64, 3, 1, 1},
                                        {64, 7, 7, 128, 3, 1, 1}};
    /* resnet18 on 32x32x3: each stage's "same" 3x3, its stride-2 3x3 and its 1x1 shortcut */
    static const rt_conv_desc resnet18[] = {
        {3, 32, 32, 64, 3, 1, 1},     {64, 32, 32, 64, 3, 1, 1},    {64, 32, 32, 128, 3, 2, 1},
        {64, 32, 32, 128, 1, 2, 0},   {128, 16, 16, 128, 3, 1, 1},  {128, 16, 16, 256, 3, 2, 1},
        {128, 16, 16, 256, 1, 2, 0},  {256, 8, 8, 256, 3, 1, 1},    {256, 8, 8, 512, 3, 2, 1},
        {256, 8, 8, 512, 1, 2, 0},    {512, 4, 4, 512, 3, 1, 1}};
    const rt_conv_desc *shapes = resnet ? resnet18 : cnn5;
    const size_t nshapes = resnet ? sizeof resnet18 / sizeof resnet18[0] : sizeof cnn5 / sizeof cnn5[0];
    static const int modes[] = {0, RT_CONV_FUSED | RT_CONV_NO_PITCH | RT_CONV_ANY_WIDTH, RT_CONV_FUSED,
                                RT_CONV_FUSED | RT_CONV_WINOGRAD};
    static const char *names[] = {"im2col+gemm", "fused rows", "fused pitched", "winograd"};
    enum { NM = sizeof modes / sizeof modes[0] };
    int only = -1;
    for (int m = 0; path && m < NM; m++)
        if (!strcmp(path, names[m])) only = m;
    if (path && only < 0) return fprintf(stderr, "bench_conv: unknown --path '%s'\n%s", path, usage), 2;
    printf("%-22s %-14s %10s %10s %12s %12s\n", "conv", "path", "fwd GF/s", "bwd GF/s", "fwd GF/cpu-s",
           "bwd GF/cpu-s");
    for (size_t s = 0; s < nshapes; s++) {
        const rt_conv_desc *d = &shapes[s];
        /* the paths that apply: a strided convolution has no pitched layout and so no
         * Winograd, a 1x1 stride-1 one only the plain GEMM */
        const int nm = d->stride > 1 ? 2 : d->k == 1 ? 1 : NM;
        const int skip = only >= 0 && only < nm && d->stride == 1; /* run only --path's */
        int oh, ow;
        rt_conv_out_size(d, &oh, &ow);
        const size_t nx = (size_t)d->cin * batch * d->h * d->w, ny = (size_t)d->cout * batch * oh * ow,
                     nw = (size_t)d->cout * d->cin * d->k * d->k;
        rt_buf *x, *y, *w, *dw, *dx;
        if (rt_alloc(rt, nx * 4, &x) || rt_alloc(rt, ny * 4, &y) || rt_alloc(rt, nw * 4, &w) ||
            rt_alloc(rt, nw * 4, &dw) || rt_alloc(rt, nx * 4, &dx))
            return fprintf(stderr, "%s\n", rt_error(rt)), 1;
        rt_fill_zero(rt, x, 0, nx * 4), rt_fill_zero(rt, y, 0, ny * 4), rt_fill_zero(rt, w, 0, nw * 4);
        rt_conv *c[NM];
        for (int m = 0; m < nm; m++)
            if (rt_conv_create_with(rt, d, batch, modes[m], &c[m]) != RT_OK) return fprintf(stderr, "%s\n", rt_error(rt)), 1;
        double tf[NM][64], tb[NM][64], cf[NM][64], cb[NM][64];
        for (int r = -1; r < repeats; r++)
            for (int m = 0; m < nm; m++) {
                if (skip && m != only) continue;
                double t0 = now_s(), c0 = cpu_s();
                rt_conv_forward(rt, c[m], batch, x, w, y);
                rt_finish(rt);
                double t1 = now_s(), c1 = cpu_s();
                rt_conv_backward(rt, c[m], batch, x, w, y, dw, s ? dx : NULL, 0);
                if (rt_finish(rt) != RT_OK) return fprintf(stderr, "%s\n", rt_error(rt)), 1;
                if (r >= 0)
                    tf[m][r] = t1 - t0, tb[m][r] = now_s() - t1, cf[m][r] = c1 - c0, cb[m][r] = cpu_s() - c1;
            }
        const double flop = 2.0 * ny * d->cin * d->k * d->k;
        for (int m = 0; m < nm; m++) {
            if (skip && m != only) {
                rt_conv_free(rt, c[m]);
                continue;
            }
            qsort(tf[m], (size_t)repeats, sizeof(double), cmp);
            qsort(tb[m], (size_t)repeats, sizeof(double), cmp);
            qsort(cf[m], (size_t)repeats, sizeof(double), cmp);
            qsort(cb[m], (size_t)repeats, sizeof(double), cmp);
            char what[64];
            snprintf(what, sizeof what, "%dx%dx%d->%d%s", d->cin, d->h, d->w, d->cout,
                     d->k == 1 ? " 1x1/2" : d->stride > 1 ? " /2" : "");
            const double fb = (s ? 2 : 1) * flop;
            const int fell_back = (modes[m] & RT_CONV_WINOGRAD) && !rt_conv_winograd(rt, c[m], batch);
            printf("%-22s %-14s %10.1f %10.1f %12.1f %12.1f\n", what,
                   fell_back ? "(direct)" : d->stride > 1 && m ? "fused" : names[m], flop / tf[m][repeats / 2] / 1e9,
                   fb / tb[m][repeats / 2] / 1e9, flop / cf[m][repeats / 2] / 1e9, fb / cb[m][repeats / 2] / 1e9);
            rt_conv_free(rt, c[m]);
        }
        rt_free(rt, x), rt_free(rt, y), rt_free(rt, w), rt_free(rt, dw), rt_free(rt, dx);
    }
    rt_close(rt);
    return 0;
}
