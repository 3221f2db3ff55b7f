/* apps/cmd_tune.c — `gammacl tune`: measure the tunable CPU kernels' parameter sets on this device
 * and keep the fastest of each shape class (runtime/tune.c stores them; every later run on the
 * device uses them).
 *
 * Per kernel and class: the default parameters first, then every other candidate of the search
 * space; each is checked against a double reference on a small problem before it is timed (the
 * fastest of --reps runs on each of the class's shapes, summed). A time budget bounds the search:
 * where it runs out, the best so far is kept and the rest is reported as not measured.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "rt.h"
#include "tune.h"

#define MAX_CANDIDATES 128

typedef struct tune_opts {
    const char *device, *json;
    double budget;
    int reps, save, only[RT_TUNE_KERNELS], any_only;
} tune_opts;

#define MAX_SHAPES 8

typedef struct cand_result {
    rt_tune_choice c;
    double gflops;             /* over the class's shapes */
    double shape_gflops[MAX_SHAPES];
    int state;                 /* 1 ok, 0 wrong, -1 not measured */
} cand_result;

typedef struct class_result {
    int measured, rejected, skipped, best_index;
    rt_tune_choice def, best;
    double def_gflops, best_gflops;
    cand_result cands[MAX_CANDIDATES];
    int ncands;
    tune_shape shapes[MAX_SHAPES]; /* the class's shapes that run its kernel on this device */
    int nshapes;
} class_result;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gammacl tune [--device SPEC] [--budget SECONDS] [--reps N] [--kernels LIST]\n"
            "                    [--json FILE] [--no-save]\n\n"
            "Measures the parameter sets of gammacl's CPU kernels on this device (register block\n"
            "rows x vector lanes, and the local size or cache slice) for each shape class of cnn5\n"
            "and resnet18 (the layers that run each kernel on this device: not those it runs as\n"
            "Winograd), checks each against a double-precision reference before timing it, and\n"
            "keeps the fastest. The winners are written next to the kernel cache, keyed by device,\n"
            "driver, CPU and kernel source; every later run on the device uses them. Devices that run\n"
            "GPU-style kernels have nothing to tune.\n\n"
            "  --device SPEC     index, P:D or part of a name (default: GAMMACL_DEVICE, else the first)\n"
            "  --budget SECONDS  stop measuring after this long and keep the best so far (default 120)\n"
            "  --reps N          timed runs per candidate and shape, the fastest counts (default 3)\n"
            "  --kernels LIST    only these of conv_fwd,conv_wgrad,gemm_nn,gemm_tn (default all)\n"
            "  --json FILE       every candidate's figures as JSON (bench/baselines/ keeps these)\n"
            "  --no-save         measure and report, but do not write the tuning file\n"
            "GAMMACL_TUNING=defaults or =shipped makes other commands ignore the file (comparisons).\n");
}

static int parse_kernels(const char *text, tune_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    int any = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < RT_TUNE_KERNELS && strcmp(t, rt_tune_kernel_name((rt_tune_kernel)k)) != 0) k++;
        if (k == RT_TUNE_KERNELS) {
            fprintf(stderr, "gammacl tune: --kernels: unknown kernel '%s' (conv_fwd, conv_wgrad, gemm_nn, gemm_tn)\n", t);
            return 0;
        }
        o->only[k] = any = 1;
    }
    if (!any) fprintf(stderr, "gammacl tune: --kernels needs at least one kernel name\n");
    o->any_only = any;
    return any;
}

static int parse_args(int argc, char **argv, tune_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-save")) {
            o->save = 0;
        } else if (!strcmp(a, "--device") || !strcmp(a, "--budget") || !strcmp(a, "--reps") ||
                   !strcmp(a, "--json") || !strcmp(a, "--kernels")) {
            if (!has_value) {
                fprintf(stderr, "gammacl tune: %s needs a value (try --help)\n", a);
                return 2;
            }
            const char *v = argv[++i];
            char *end = NULL;
            if (!strcmp(a, "--device")) o->device = v;
            else if (!strcmp(a, "--json")) o->json = v;
            else if (!strcmp(a, "--kernels")) {
                if (!parse_kernels(v, o)) return 2;
            } else if (!strcmp(a, "--budget")) {
                o->budget = strtod(v, &end);
                if (end == v || *end || !(o->budget > 0) || o->budget > 86400) {
                    fprintf(stderr, "gammacl tune: --budget '%s' is not a number of seconds in (0, 86400]\n", v);
                    return 2;
                }
            } else {
                long r = strtol(v, &end, 10);
                if (end == v || *end || r < 1 || r > 100) {
                    fprintf(stderr, "gammacl tune: --reps '%s' is not a whole number from 1 to 100\n", v);
                    return 2;
                }
                o->reps = (int)r;
            }
        } else {
            fprintf(stderr, "gammacl tune: unknown option '%s' (try --help)\n", a);
            return 2;
        }
    }
    return -1;
}

static void format_choice(rt_tune_choice c, char *out, size_t len)
{
    if (c.mr == 0) snprintf(out, len, "dy-transposed");
    else snprintf(out, len, "%dx%dx%d/%d", c.mr, c.nv, c.vw, c.ls);
}

/* Times one candidate over the class's shapes: GFLOP/s, 0 if its result is wrong, -1 on failure. */
static double measure(rt_ctx *ctx, rt_tune_kernel k, int cls, rt_tune_choice c, tune_case **cases,
                      const tune_shape *shapes, int n, int reps, double *worst, double *per_shape)
{
    rt_tune_set(ctx, k, cls, c);
    double secs = 0, flops = 0;
    *worst = 0;
    for (int i = 0; i < n; i++) {
        double err;
        const int ok = tune_check(ctx, cases[i], &err);
        if (ok < 0) return -1;
        if (err > *worst) *worst = err;
        if (!ok) return 0;
    }
    for (int i = 0; i < n; i++) {
        const double t = tune_time(ctx, cases[i], reps);
        if (t < 0) return -1;
        secs += t;
        flops += tune_flops(&shapes[i]);
        per_shape[i] = tune_flops(&shapes[i]) / t * 1e-9;
    }
    return flops / secs * 1e-9;
}

static int is_gemm_kernel(rt_tune_kernel k) { return k == RT_TUNE_GEMM_NN || k == RT_TUNE_GEMM_TN; }

static void put_choice(cJSON *o, const char *key, rt_tune_choice c, double gflops)
{
    cJSON *x = cJSON_AddObjectToObject(o, key);
    cJSON_AddNumberToObject(x, "mr", c.mr);
    cJSON_AddNumberToObject(x, "nv", c.nv);
    cJSON_AddNumberToObject(x, "vw", c.vw);
    cJSON_AddNumberToObject(x, "ls", c.ls);
    if (gflops > 0) cJSON_AddNumberToObject(x, "gflops", gflops);
    else cJSON_AddNullToObject(x, "gflops");
}

static int write_json(const char *path, const rt_device_info *dev, double peak,
                      class_result res[RT_TUNE_KERNELS][RT_TUNE_CLASSES], double seconds)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", dev->name);
    cJSON_AddStringToObject(root, "platform", dev->platform);
    cJSON_AddStringToObject(root, "driver", dev->driver);
    cJSON_AddStringToObject(root, "cpu", dev->cpu_model);
    cJSON_AddNumberToObject(root, "fma_peak_gflops", peak);
    cJSON_AddNumberToObject(root, "seconds", seconds);
    cJSON *arr = cJSON_AddArrayToObject(root, "classes");
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++) {
            const class_result *r = &res[k][c];
            if (!r->ncands) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kernel", rt_tune_kernel_name((rt_tune_kernel)k));
            cJSON_AddStringToObject(o, "class", rt_tune_class_name(c));
            const tune_shape *sh = r->shapes;
            const int n = r->nshapes;
            cJSON *shapes = cJSON_AddArrayToObject(o, "shapes");
            for (int i = 0; i < n; i++) {
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "what", sh[i].what);
                cJSON_AddNumberToObject(x, "batch", is_gemm_kernel((rt_tune_kernel)k) ? 0 : sh[i].batch);
                cJSON_AddNumberToObject(x, "default_gflops", r->cands[0].shape_gflops[i]);
                cJSON_AddNumberToObject(x, "best_gflops", r->cands[r->best_index].shape_gflops[i]);
                cJSON_AddItemToArray(shapes, x);
            }
            put_choice(o, "default", r->def, r->def_gflops);
            put_choice(o, "best", r->best, r->best_gflops);
            cJSON *cands = cJSON_AddArrayToObject(o, "candidates");
            for (int i = 0; i < r->ncands; i++) {
                cJSON *x = cJSON_CreateObject();
                put_choice(x, "params", r->cands[i].c, r->cands[i].gflops);
                cJSON_AddStringToObject(x, "result", r->cands[i].state > 0 ? "ok" : r->cands[i].state == 0 ? "wrong" : "not measured");
                cJSON_AddItemToArray(cands, x);
            }
            cJSON_AddItemToArray(arr, o);
        }
    char *text = cJSON_Print(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = fclose(f) == 0 && ok;
    free(text);
    cJSON_Delete(root);
    if (!ok) fprintf(stderr, "gammacl tune: cannot write %s\n", path);
    return ok;
}

/* Searches one class; returns 0, or 1 on a runtime failure. */
static int tune_class(rt_ctx *ctx, const tune_opts *o, rt_tune_kernel k, int cls, double deadline,
                      class_result *r)
{
    const tune_shape *shapes = r->shapes;
    const int n = r->nshapes;
    tune_case *cases[MAX_SHAPES] = {0};
    for (int i = 0; i < n; i++)
        if (tune_case_open(ctx, &shapes[i], &cases[i]) != RT_OK) {
            fprintf(stderr, "gammacl tune: %s\n", rt_error(ctx));
            for (int j = 0; j < i; j++) tune_case_close(ctx, cases[j]);
            return 1;
        }
    rt_tune_choice all[MAX_CANDIDATES];
    const int nc = rt_tune_space(k, all, MAX_CANDIDATES);
    r->def = r->best = rt_tune_default(k, cls);
    /* the default first, so that a budget that runs out still has a baseline */
    r->cands[r->ncands++] = (cand_result){.c = r->def, .state = -1};
    for (int i = 0; i < nc; i++)
        if (memcmp(&all[i], &r->def, sizeof r->def) != 0) r->cands[r->ncands++] = (cand_result){.c = all[i], .state = -1};
    int failed = 0;
    for (int i = 0; i < r->ncands && !failed; i++) {
        if (i > 0 && now_s() > deadline) {
            r->skipped = r->ncands - i;
            break;
        }
        cand_result *c = &r->cands[i];
        double worst;
        const double g = measure(ctx, k, cls, c->c, cases, shapes, n, o->reps, &worst, c->shape_gflops);
        if (g < 0) {
            fprintf(stderr, "gammacl tune: %s\n", rt_error(ctx));
            failed = 1;
            break;
        }
        r->measured++;
        if (g == 0) {
            c->state = 0;
            r->rejected++;
            fprintf(stderr, "gammacl tune: %s %s mr=%d nv=%d vw=%d ls=%d gives wrong results (error %.3g x its tolerance): not used\n",
                    rt_tune_kernel_name(k), rt_tune_class_name(cls), c->c.mr, c->c.nv, c->c.vw, c->c.ls, worst);
            continue;
        }
        c->state = 1;
        c->gflops = g;
    }
    /* a second look at the four fastest and the default, since a noisy moment only ever slows
     * a run down: each keeps the best of its two measurements */
    int top[5] = {0}, ntop = 1;
    for (int pass = 0; pass < 4 && !failed; pass++) {
        int pick = -1;
        for (int i = 1; i < r->ncands; i++) {
            int taken = 0;
            for (int j = 0; j < ntop; j++) taken |= top[j] == i;
            if (!taken && r->cands[i].state > 0 && (pick < 0 || r->cands[i].gflops > r->cands[pick].gflops)) pick = i;
        }
        if (pick >= 0) top[ntop++] = pick;
    }
    for (int j = 0; j < ntop && !failed && now_s() <= deadline + 10; j++) {
        cand_result *c = &r->cands[top[j]];
        if (c->state <= 0) continue;
        double worst, per[MAX_SHAPES];
        const double g = measure(ctx, k, cls, c->c, cases, shapes, n, o->reps, &worst, per);
        if (g < 0) {
            fprintf(stderr, "gammacl tune: %s\n", rt_error(ctx));
            failed = 1;
        } else if (g > c->gflops) {
            c->gflops = g;
            memcpy(c->shape_gflops, per, sizeof per);
        }
    }
    r->best_gflops = 0;
    for (int i = 0; i < r->ncands; i++)
        if (r->cands[i].state > 0 && r->cands[i].gflops > r->best_gflops)
            r->best_gflops = r->cands[i].gflops, r->best = r->cands[i].c, r->best_index = i;
    r->def_gflops = r->cands[0].state > 0 ? r->cands[0].gflops : 0;
    for (int i = 0; i < n; i++) tune_case_close(ctx, cases[i]);
    if (!failed && r->best_gflops > 0) rt_tune_set(ctx, k, cls, r->best);
    return failed;
}

int cmd_tune(int argc, char **argv)
{
    tune_opts o = {.budget = 120, .reps = 3, .save = 1};
    const int prc = parse_args(argc, argv, &o);
    if (prc >= 0) return prc;
    rt_options ro = {.device_spec = o.device};
    rt_ctx *ctx = NULL;
    char err[RT_ERRLEN];
    if (rt_open(&ctx, &ro, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl tune: %s\n", err);
        return 1;
    }
    const rt_device_info *dev = rt_device(ctx);
    if (!rt_tune_applies(ctx)) {
        printf("gammacl tune: %s (%s) runs GPU-style kernels (device row '%s'): nothing to tune\n", dev->name,
               dev->platform, rt_device_params(ctx)->row);
        rt_close(ctx);
        return 0;
    }
    const double t0 = now_s();
    rt_probe_result peak = {0};
    if (rt_probe_fma(ctx, 0.2, &peak) != RT_OK) {
        fprintf(stderr, "gammacl tune: the FMA probe failed: %s\n", rt_error(ctx));
        rt_close(ctx);
        return 1;
    }
    printf("gammacl tune: %s (%s, driver %s)\n  CPU %s; FP32 FMA peak %.0f GFLOP/s (probe); budget %.0f s\n",
           dev->name, dev->platform, dev->driver, *dev->cpu_model ? dev->cpu_model : "?", peak.rate, o.budget);
    printf("%-10s %-7s %-6s %-12s %8s   %-12s %8s %6s %6s\n", "kernel", "class", "shapes", "default", "GFLOP/s",
           "best", "GFLOP/s", "gain", "peak");
    fflush(stdout);
    class_result(*res)[RT_TUNE_CLASSES] = calloc(RT_TUNE_KERNELS, sizeof *res); /* ~1 MB: not on the stack */
    if (!res) {
        fprintf(stderr, "gammacl tune: out of host memory\n");
        rt_close(ctx);
        return 1;
    }
    const double deadline = t0 + o.budget;
    int failed = 0, skipped = 0, measured = 0;
    double gflops[RT_TUNE_KERNELS][RT_TUNE_CLASSES] = {{0}};
    for (int k = 0; k < RT_TUNE_KERNELS && !failed; k++) {
        if (o.any_only && !o.only[k]) continue;
        for (int c = 0; c < RT_TUNE_CLASSES && !failed; c++) {
            class_result *r = &res[k][c];
            r->nshapes = tune_shapes(ctx, (rt_tune_kernel)k, c, r->shapes, MAX_SHAPES);
            if (r->nshapes > MAX_SHAPES) {
                fprintf(stderr, "gammacl tune: %d shapes in class %s (at most %d)\n", r->nshapes,
                        rt_tune_class_name(c), MAX_SHAPES);
                failed = 1;
                break;
            }
            const tune_shape *sh = r->shapes;
            const int n = r->nshapes;
            if (!n) continue;
            failed = tune_class(ctx, &o, (rt_tune_kernel)k, c, deadline, r);
            if (failed) break;
            measured++;
            skipped += r->skipped;
            gflops[k][c] = r->best_gflops;
            char d[32], b[32];
            format_choice(r->def, d, sizeof d);
            format_choice(r->best, b, sizeof b);
            printf("%-10s %-7s %-6d %-12s %8.1f   %-12s %8.1f %5.2fx %5.0f%%%s\n", rt_tune_kernel_name((rt_tune_kernel)k),
                   rt_tune_class_name(c), n, d, r->def_gflops, b, r->best_gflops,
                   r->def_gflops > 0 ? r->best_gflops / r->def_gflops : 0, 100 * r->best_gflops / peak.rate,
                   r->skipped ? " (budget: partly measured)" : "");
            if (r->best_gflops > 0)
                for (int i = 0; i < n; i++)
                    printf("    %-30s %8.1f %23.1f\n", sh[i].what, r->cands[0].shape_gflops[i],
                           r->cands[r->best_index].shape_gflops[i]);
            fflush(stdout);
        }
    }
    const double secs = now_s() - t0;
    int rc = failed;
    if (!failed) {
        printf("(params: rows x vectors x lanes / local size; conv_wgrad: channels x 1 x lanes / slice KB,\n"
               " or dy-transposed: the kernel with lanes over 16 output channels)\n");
        if (!measured)
            printf("no layer runs these kernels on this device (its convolutions take Winograd or\n"
                   "im2col + GEMM there): nothing to tune\n");
        printf("%.0f s", secs);
        if (skipped) printf("; the budget ran out with %d candidates not measured (--budget)", skipped);
        printf("\n");
        if (o.json && !write_json(o.json, dev, peak.rate, res, secs)) rc = 1;
        if (o.save) {
            char path[1200];
            rt_tune_path(ctx, path, sizeof path);
            if (rt_tune_save(ctx, gflops) != RT_OK) {
                fprintf(stderr, "gammacl tune: %s\n", rt_error(ctx));
                rc = 1;
            } else {
                printf("written to %s; runs on this device use it from now on\n", path);
            }
        }
    }
    free(res);
    rt_close(ctx);
    return rc;
}
