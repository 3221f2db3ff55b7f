/* runtime/tune.c — the parameters of the tunable CPU kernels: search space, defaults, the shipped
 * rows, and the per-device tuning file that `gammacl tune` writes and every rt_open reads.
 *
 * File: <kernel cache folder>/tuning-<16 hex>.txt, the hash over the platform, device, driver,
 * host CPU, the prelude and the tunable kernels' source, and the format version; so a new driver,
 * CPU or kernel source never reads an old file. Text, one entry a line:
 *   gammacl-tuning 1
 *   device <name> | driver <version> | cpu <model>      (three lines, for people)
 *   <kernel> <class> mr=<n> nv=<n> vw=<n> ls=<n> [gflops=<x>]
 * Any line that does not parse, or a parameter set outside the search space, makes the whole file
 * count as absent (silently: the kernels run with the shipped or default parameters). Written to
 * a temporary file and renamed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

#define TUNE_FORMAT 1

static const char *kernel_names[RT_TUNE_KERNELS] = {"conv_fwd", "conv_wgrad", "gemm_nn", "gemm_tn"};
static const char *class_names[RT_TUNE_CLASSES] = {"m<=16", "m<=32", "m<=64", "m<=128", "m>128", "split-k"};
/* the programs whose source the parameters belong to */
static const char *tunable_programs[] = {"conv_fwd_cpu", "conv_wgrad_cpu", "gemm"};

const char *rt_tune_kernel_name(rt_tune_kernel k)
{
    return (unsigned)k < RT_TUNE_KERNELS ? kernel_names[k] : "?";
}

const char *rt_tune_class_name(int cls)
{
    return cls >= 0 && cls < RT_TUNE_CLASSES ? class_names[cls] : "?";
}

int rt_tune_class_of(int rows)
{
    return rows <= 16 ? 0 : rows <= 32 ? 1 : rows <= 64 ? 2 : rows <= 128 ? 3 : 4;
}

static int params_tunable(const rt_params *p)
{
    return p->cpu_style && (p->conv_fused || p->gemm == RT_GEMM_OWN_CPU);
}

int rt_tune_applies(const rt_ctx *ctx) { return params_tunable(&ctx->params); }

/* ---- the search space ---- */

static const int mrs[] = {4, 8, 12, 16}, cbs[] = {1, 2, 3}, vws[] = {8, 16}, nvs[] = {1, 2};
static const int local_sizes[] = {1, 4, 16}, slice_kb[] = {256, 512, 1024};

#define COUNT(a) (int)(sizeof a / sizeof a[0])

/* mr x nv vectors of accumulators: at most 16 (AVX-512 has 32 registers; the inputs and the
 * broadcast weights need some) */
int rt_tune_space(rt_tune_kernel k, rt_tune_choice *out, int max)
{
    const int wgrad = k == RT_TUNE_CONV_WGRAD, fwd = !wgrad; /* NV > 1: conv forward and GEMMs */
    const int *m = wgrad ? cbs : mrs, nm = wgrad ? COUNT(cbs) : COUNT(mrs);
    const int *l = wgrad ? slice_kb : local_sizes, nl = wgrad ? COUNT(slice_kb) : COUNT(local_sizes);
    int n = 0;
    for (int v = 0; v < (fwd ? COUNT(nvs) : 1); v++)
        for (int i = 0; i < nm; i++)
            for (int j = 0; j < COUNT(vws); j++)
                for (int q = 0; q < nl; q++) {
                    if (m[i] * nvs[v] > 16) continue;
                    if (n < max) out[n] = (rt_tune_choice){m[i], nvs[v], vws[j], l[q]};
                    n++;
                }
    /* the weight gradient's other algorithm: dy transposed, lanes over 16 output channels */
    if (wgrad) {
        if (n < max) out[n] = (rt_tune_choice){0, 1, 16, 0};
        n++;
    }
    return n < max ? n : max;
}

int rt_tune_valid(rt_tune_kernel k, rt_tune_choice c)
{
    rt_tune_choice all[128];
    const int n = rt_tune_space(k, all, 128);
    for (int i = 0; i < n; i++)
        if (all[i].mr == c.mr && all[i].nv == c.nv && all[i].vw == c.vw && all[i].ls == c.ls) return 1;
    return 0;
}

/* The first design's hand-set values: 8-row blocks of float16, four panels a work-group (one
 * where a launch has few panels); 16-row GEMM blocks for tall products; the weight gradient two
 * channels at a time, slices of images filling 512 KB. */
rt_tune_choice rt_tune_default(rt_tune_kernel k, int cls)
{
    switch (k) {
    case RT_TUNE_CONV_WGRAD: return (rt_tune_choice){2, 1, 16, 512};
    case RT_TUNE_GEMM_NN: return (rt_tune_choice){cls >= 3 && cls != RT_TUNE_SPLIT_K ? 16 : 8, 1, 16, 4};
    case RT_TUNE_GEMM_TN: return (rt_tune_choice){cls >= 2 && cls != RT_TUNE_SPLIT_K ? 16 : 8, 1, 16, 4};
    default: return (rt_tune_choice){8, 1, 16, 4};
    }
}

const rt_tune_table *rt_tune_get(const rt_ctx *ctx) { return &ctx->tune; }

rt_tune_choice rt_tune_choice_for(const rt_ctx *ctx, rt_tune_kernel k, int cls)
{
    return ctx->tune.c[k][cls];
}

void rt_tune_set(rt_ctx *ctx, rt_tune_kernel k, int cls, rt_tune_choice c)
{
    ctx->tune.c[k][cls] = c;
    ctx->tune.from[k][cls] = 2;
}

/* ---- the file ---- */

static uint64_t source_hash(const rt_device_info *dev)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {dev->platform, dev->platform_version, dev->name, dev->driver, dev->version,
                           dev->cpu_model};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) h = rt_hash64(h, parts[i], strlen(parts[i]) + 1);
    for (int i = 0; i < rt_embedded_kernel_count; i++) {
        const char *name = rt_embedded_kernels[i].name;
        int use = strcmp(name, "prelude") == 0;
        for (int j = 0; j < COUNT(tunable_programs); j++) use |= strcmp(name, tunable_programs[j]) == 0;
        if (use) h = rt_hash64(h, rt_embedded_kernels[i].text, strlen(rt_embedded_kernels[i].text) + 1);
    }
    const unsigned fmt = TUNE_FORMAT;
    return rt_hash64(h, &fmt, sizeof fmt);
}

static void path_for(const rt_device_info *dev, const char *cache_dir, char *out, size_t len)
{
    snprintf(out, len, "%s/tuning-%016llx.txt", cache_dir, (unsigned long long)source_hash(dev));
}

void rt_tune_path(const rt_ctx *ctx, char *out, size_t len) { path_for(&ctx->dev, ctx->cache_dir, out, len); }

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

/* Reads the file into t (entries from = 2); 0 and t untouched if it is absent or not valid. */
static int read_file(const char *path, rt_tune_table *t)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    rt_tune_table tmp = *t;
    char line[512];
    int ok = fgets(line, sizeof line, f) && strcmp(line, "gammacl-tuning 1\n") == 0, entries = 0;
    while (ok && fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n')) { ok = 0; break; }
        if (!strncmp(line, "device ", 7) || !strncmp(line, "driver ", 7) || !strncmp(line, "cpu ", 4) ||
            line[0] == '#')
            continue;
        char kn[32], cn[32];
        rt_tune_choice c;
        int used = 0;
        if (sscanf(line, "%31s %31s mr=%d nv=%d vw=%d ls=%d%n", kn, cn, &c.mr, &c.nv, &c.vw, &c.ls, &used) != 6) {
            ok = 0;
            break;
        }
        const char *rest = line + used;
        double gf;
        int more = 0;
        if (sscanf(rest, " gflops=%lf%n", &gf, &more) == 1) rest += more;
        while (*rest == ' ') rest++;
        const int k = find_name(kernel_names, RT_TUNE_KERNELS, kn), cls = find_name(class_names, RT_TUNE_CLASSES, cn);
        if (*rest != '\n' || k < 0 || cls < 0 || !rt_tune_valid((rt_tune_kernel)k, c) ||
            (cls == RT_TUNE_SPLIT_K && k != RT_TUNE_GEMM_NN)) { ok = 0; break; }
        tmp.c[k][cls] = c;
        tmp.from[k][cls] = 2;
        entries++;
    }
    ok = ok && !ferror(f) && entries > 0;
    fclose(f);
    if (!ok) return 0;
    tmp.tuned = 0; /* distinct entries (a repeated line counts once; the last one holds) */
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++) tmp.tuned += tmp.from[k][c] == 2;
    snprintf(tmp.file, sizeof tmp.file, "%s", path);
    *t = tmp;
    return 1;
}

/* defaults, then the shipped rows, then the file (as far as GAMMACL_TUNING allows) */
static void make_table(const rt_device_info *dev, const rt_params *params, const char *cache_dir, rt_tune_table *t)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++) t->c[k][c] = rt_tune_default((rt_tune_kernel)k, c);
    const char *mode = getenv("GAMMACL_TUNING");
    if (!params_tunable(params) || (mode && strcmp(mode, "defaults") == 0)) return;
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++)
            if (rt_tune_shipped(dev, (rt_tune_kernel)k, c, &t->c[k][c])) {
                t->from[k][c] = 1;
                t->shipped++;
            }
    if (mode && strcmp(mode, "shipped") == 0) return;
    char path[1200];
    path_for(dev, cache_dir, path, sizeof path);
    read_file(path, t);
}

void rt_tune_init(rt_ctx *ctx) { make_table(&ctx->dev, &ctx->params, ctx->cache_dir, &ctx->tune); }

/* the table a context on this device would start with, without opening one */
static int table_for(const rt_device_info *dev, rt_params *p, rt_tune_table *t)
{
    rt_params_for(dev, NULL, p);
    char dir[1024];
    rt_default_cache_dir(dir, sizeof dir);
    make_table(dev, p, dir, t);
    return params_tunable(p);
}

void rt_tune_describe(const rt_device_info *dev, char *out, size_t len)
{
    rt_params p;
    rt_tune_table t;
    if (!table_for(dev, &p, &t)) snprintf(out, len, "none to tune (GPU-style kernels, row %s)", p.row);
    else if (t.tuned) snprintf(out, len, "tuned here (%d entries, %s)", t.tuned, t.file);
    else if (t.shipped) snprintf(out, len, "shipped for this CPU (%d entries); `gammacl tune --device %d` fits them here", t.shipped, dev->index);
    else snprintf(out, len, "defaults; `gammacl tune --device %d` fits the kernels to this CPU", dev->index);
}

void rt_tune_brief(const rt_device_info *dev, char *out, size_t len)
{
    rt_params p;
    rt_tune_table t;
    if (!table_for(dev, &p, &t)) snprintf(out, len, "no tunable kernels");
    else if (t.tuned) snprintf(out, len, "tuned here (%d entries)", t.tuned);
    else if (t.shipped) snprintf(out, len, "shipped for this CPU (%d entries)", t.shipped);
    else snprintf(out, len, "untuned defaults");
}

rt_status rt_tune_save(rt_ctx *ctx, const double gflops[RT_TUNE_KERNELS][RT_TUNE_CLASSES])
{
    char path[1200], tmp[1300];
    rt_tune_path(ctx, path, sizeof path);
    if (rt_make_dirs(ctx->cache_dir) != 0)
        return rt_fail(ctx, RT_E_ARG, "cannot make the folder %s for the tuning file: %s (set GAMMACL_CACHE_DIR)",
                       ctx->cache_dir, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return rt_fail(ctx, RT_E_ARG, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "gammacl-tuning %d\ndevice %s\ndriver %s\ncpu %s\n", TUNE_FORMAT, ctx->dev.name,
            ctx->dev.driver, *ctx->dev.cpu_model ? ctx->dev.cpu_model : "-");
    int entries = 0;
    for (int k = 0; k < RT_TUNE_KERNELS; k++)
        for (int c = 0; c < RT_TUNE_CLASSES; c++) {
            if (ctx->tune.from[k][c] != 2) continue;
            const rt_tune_choice *ch = &ctx->tune.c[k][c];
            fprintf(f, "%s %s mr=%d nv=%d vw=%d ls=%d", kernel_names[k], class_names[c], ch->mr, ch->nv, ch->vw, ch->ls);
            if (gflops && gflops[k][c] > 0) fprintf(f, " gflops=%.1f", gflops[k][c]);
            fputc('\n', f);
            entries++;
        }
    const int ok = !ferror(f), closed = fclose(f) == 0;
    if (!entries) {
        unlink(tmp);
        return rt_fail(ctx, RT_E_ARG, "nothing tuned to write to %s", path);
    }
    if (!ok || !closed || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return rt_fail(ctx, RT_E_ARG, "cannot write the tuning file %s: %s (free space, or set GAMMACL_CACHE_DIR)",
                       path, strerror(e));
    }
    snprintf(ctx->tune.file, sizeof ctx->tune.file, "%s", path);
    ctx->tune.tuned = entries;
    return RT_OK;
}

int rt_tune_opts(rt_tune_kernel k, rt_tune_choice c, char *out, size_t len)
{
    if (k == RT_TUNE_CONV_WGRAD && c.mr == 0) c = rt_tune_default(k, 0); /* the other kernel: no variant */
    if (k == RT_TUNE_CONV_WGRAD) return snprintf(out, len, "-DTUNE_CB=%d -DTUNE_VW=%d", c.mr, c.vw);
    return snprintf(out, len, "-DTUNE_MR=%d -DTUNE_NV=%d -DTUNE_VW=%d", c.mr, c.nv, c.vw);
}

rt_status rt_tuned_kernel(rt_ctx *ctx, const char *program, const char *name, rt_tune_kernel k, int cls,
                          const char *extra, rt_tune_choice *c, rt_kernel **out)
{
    char opts[RT_VARIANT_OPTS];
    *c = ctx->tune.c[k][cls];
    const int n = rt_tune_opts(k, *c, opts, sizeof opts);
    if (*extra && n > 0 && (size_t)n < sizeof opts) snprintf(opts + n, sizeof opts - (size_t)n, " %s", extra);
    return rt_kernel_get_variant(ctx, program, name, opts, out);
}

size_t rt_tuned_local(const rt_kernel *k, size_t items, int ls)
{
    const size_t l = items >= (size_t)16 * ls ? (size_t)ls : 1;
    return k->max_wg && l > k->max_wg ? k->max_wg : l;
}
