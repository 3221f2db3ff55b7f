/* tests/report/test_chart.c — the chart writer: figures of every axis kind (log x on powers of two
 * with error bars, kept with an unmarked theory curve beside the points, log y with left-out points, a 2 x 2 grid with legends below, a panel without
 * data, reference lines) and bar panels (grouped on a log y axis with value labels and a long
 * category name, stacked shares in percent with two-line labels, many thin grouped bars with a
 * missing one and negative values) must come out as a PNG whose header states the size
 * app_chart_size gives and whose pixels show the series colours, and as an SVG of the same size;
 * bad input (missing directory, an output name taken by a directory, panel counts, unterminated or
 * invalid text, empty fixed ranges, bar category counts and series lengths) must be refused with a
 * message naming the file or the cause, and no temporary file may be left behind. */
#include "chart.h"
#include "chart_internal.h"

#include <cairo.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fputc('\n', stderr);                                                                \
            (*fails)++;                                                                         \
        }                                                                                       \
    } while (0)

/* palette entries 0 and 1 (Okabe-Ito blue and vermillion), as 0xRRGGBB */
#define BLUE 0x0072B2u
#define VERMILLION 0xD55E00u
#define BLUISH_GREEN 0x009E73u
#define ORANGE 0xE69F00u
#define INDIGO 0x332288u

static const double GAMMA[8] = {0.5, 1, 2, 4, 8, 16, 32, 64};
static const double RATE_CE[8] = {0.02, 0.05, 0.11, 0.19, 0.24, 0.22, 0.15, 0.08};
static const double RATE_BCE[8] = {0.03, 0.07, 0.14, 0.23, 0.27, 0.26, 0.21, 0.17};
static const double ERR[8] = {0.004, 0.006, 0.01, 0.02, 0.015, 0.02, 0.03, 0.01};

/* ---- reading the files back ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) free(buf);
        buf = nb, cap *= 2;
    }
    fclose(fp);
    if (buf) buf[n] = 0, *len = n;
    return buf;
}

/* the PNG signature, then IHDR as the first chunk with the expected width and height */
static void check_png_header(const char *path, int w, int h, int *fails)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t len = 0;
    unsigned char *b = (unsigned char *)read_all(path, &len);
    CHECK(b && len > 33, "%s: missing or too short (%zu bytes)", path, len);
    if (b && len > 33) {
        CHECK(memcmp(b, sig, 8) == 0, "%s: no PNG signature", path);
        CHECK(be32(b + 8) == 13 && memcmp(b + 12, "IHDR", 4) == 0, "%s: the first chunk is not IHDR", path);
        CHECK(be32(b + 16) == (uint32_t)w && be32(b + 20) == (uint32_t)h,
              "%s: IHDR says %ux%u, app_chart_size %dx%d", path, be32(b + 16), be32(b + 20), w, h);
    }
    free(b);
}

static void check_svg(const char *path, int w, int h, int *fails)
{
    size_t len = 0;
    char *s = read_all(path, &len);
    CHECK(s != NULL, "%s: missing", path);
    if (!s) return;
    char wa[32], wb[32], ha[32];
    snprintf(wa, sizeof wa, "width=\"%dpt\"", w);
    snprintf(wb, sizeof wb, "width=\"%d\"", w);
    snprintf(ha, sizeof ha, "height=\"%dpt\"", h);
    CHECK(strncmp(s, "<?xml", 5) == 0, "%s: does not start with <?xml", path);
    const char *svg = strstr(s, "<svg");
    CHECK(svg != NULL, "%s: no <svg element", path);
    CHECK(svg && (strstr(svg, wa) || strstr(svg, wb)), "%s: no %s on the svg element", path, wa);
    CHECK(svg && strstr(svg, ha), "%s: no %s on the svg element", path, ha);
    CHECK(len > 0 && strstr(s, "</svg>"), "%s: not closed with </svg>", path);
    free(s);
}

static int near(uint32_t px, uint32_t want)
{
    for (int sh = 0; sh < 24; sh += 8) {
        const int a = (int)(px >> sh & 255), b = (int)(want >> sh & 255);
        if (abs(a - b) > 2) return 0;
    }
    return 1;
}

/* not blank: several distinct colours, and pixels of each wanted colour */
static void check_pixels(const char *path, const uint32_t *want, int nwant, int *fails)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, "%s: cairo cannot read it back: %s", path,
          cairo_status_to_string(cairo_surface_status(s)));
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return;
    }
    cairo_surface_flush(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    uint32_t seen[32];
    int nseen = 0, found[8] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t px;
            memcpy(&px, data + (size_t)y * stride + 4 * (size_t)x, 4);
            px &= 0xFFFFFFu;
            int known = 0;
            for (int i = 0; i < nseen && !known; i++) known = seen[i] == px;
            if (!known && nseen < 32) seen[nseen++] = px;
            for (int i = 0; i < nwant; i++) found[i] += near(px, want[i]);
        }
    CHECK(nseen >= 8, "%s: only %d distinct colours (blank?)", path, nseen);
    for (int i = 0; i < nwant; i++)
        CHECK(found[i] >= 10, "%s: %d pixels of colour #%06X", path, found[i], want[i]);
    cairo_surface_destroy(s);
}

/* writes f to dir/name, checks both files and that nothing else (no .tmp) is left */
static void write_and_check(const char *dir, const char *name, const app_figure *f, const uint32_t *want,
                            int nwant, int *fails)
{
    char base[512], png[600], svg[600], err[512] = "";
    snprintf(base, sizeof base, "%s/%s", dir, name);
    snprintf(png, sizeof png, "%s.png", base);
    snprintf(svg, sizeof svg, "%s.svg", base);
    int w = 0, h = 0;
    app_chart_size(f, &w, &h);
    CHECK(w > 0 && h > 0, "%s: app_chart_size gives %dx%d", name, w, h);
    const int rc = app_chart_write(base, f, err, sizeof err);
    CHECK(rc == 0, "%s: app_chart_write failed: %s", name, err);
    if (rc != 0) return;
    check_png_header(png, w, h, fails);
    check_svg(svg, w, h, fails);
    check_pixels(png, want, nwant, fails);
}

/* ---- the figures ---- */

static app_series *add_series(app_panel *p, const char *label, int n, const double *x, const double *y, int color)
{
    app_series *s = &p->series[p->nseries++];
    snprintf(s->label, sizeof s->label, "%s", label);
    s->n = n, s->x = x, s->y = y, s->color = color;
    return s;
}

static void gamma_panel(app_panel *p, int legend)
{
    snprintf(p->title, sizeof p->title, "convergence rate vs gamma");
    snprintf(p->xlabel, sizeof p->xlabel, "scale factor gamma (log2)");
    snprintf(p->ylabel, sizeof p->ylabel, "convergence rate (1/epoch)");
    p->logx = 1, p->legend = legend;
    app_series *ce = add_series(p, "CE", 8, GAMMA, RATE_CE, 0);
    ce->yerr = ERR, ce->marker = 1;
    app_series *bce = add_series(p, "BCE", 8, GAMMA, RATE_BCE, 1);
    bce->yerr = ERR, bce->marker = 2, bce->dashed = 1;
}

static void test_log2(const char *dir, int *fails)
{
    app_figure *f = calloc(1, sizeof *f);
    snprintf(f->title, sizeof f->title, "Convergence of CE and BCE");
    snprintf(f->note, sizeof f->note, "mean of 5 seeds, bars: one standard deviation");
    f->npanels = 1;
    gamma_panel(&f->panels[0], 1);
    int w, h;
    app_chart_size(f, &w, &h);
    CHECK(w == 480 && h > 360, "one titled panel: %dx%d, want 480 x more than 360", w, h);
    const uint32_t want[2] = {BLUE, VERMILLION};
    write_and_check(dir, "log2", f, want, 2, fails);
    free(f);
}

/* the x ticks of panel p as chart_setup_frame fits them; 1 if one of them is v */
static int has_x_tick(const app_panel *p, double v, int *pow2)
{
    cairo_surface_t *srf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 480, 360);
    cairo_t *cr = cairo_create(srf);
    frame fr;
    chart_setup_frame(cr, p, (rect){0, 0, 480, 360}, &fr);
    cairo_destroy(cr);
    cairo_surface_destroy(srf);
    *pow2 = fr.x.pow2;
    for (int i = 0; i < fr.x.nticks; i++)
        if (fabs(fr.x.tick[i] - v) < 1e-9 * v) return 1;
    return 0;
}

/* a line without markers (a theory curve on a fine grid) beside the points keeps the powers of
 * two that the points' gammas call for; alone, it gets decimal ticks */
static void test_pow2_with_curve(int *fails)
{
    static double gx[64], gy[64];
    for (int i = 0; i < 64; i++) gx[i] = 0.5 * pow(128.0, i / 63.0), gy[i] = log(gx[i]);
    app_panel *p = calloc(1, sizeof *p);
    gamma_panel(p, 1);
    add_series(p, "theory", 64, gx, gy, 2);
    int pow2 = 0;
    const int t8 = has_x_tick(p, 8, &pow2);
    CHECK(pow2 && t8, "points at powers of two and an unmarked curve: pow2 %d, a tick at 8 %d", pow2, t8);
    memset(p, 0, sizeof *p);
    snprintf(p->title, sizeof p->title, "a curve alone");
    p->logx = 1;
    add_series(p, "theory", 64, gx, gy, 2);
    const int t5 = has_x_tick(p, 5, &pow2);
    CHECK(!pow2 && t5, "an unmarked curve alone: pow2 %d (want 0), a tick at 5 %d (want 1)", pow2, t5);
    free(p);
}

static void test_logy(const char *dir, int *fails)
{
    static const double x[7] = {1, 2, 3, 4, 5, 6, 7};
    const double y[7] = {1e-1, 3e-2, NAN, 2e-3, -1, 0, 4e-5};
    app_figure *f = calloc(1, sizeof *f);
    f->npanels = 1;
    app_panel *p = &f->panels[0];
    snprintf(p->title, sizeof p->title, "loss (log y, one NaN, two values not positive)");
    snprintf(p->ylabel, sizeof p->ylabel, "loss");
    snprintf(p->xlabel, sizeof p->xlabel, "epoch");
    p->logy = 1, p->legend = 1;
    add_series(p, "CE", 7, x, y, 0)->marker = 4;
    int w, h;
    app_chart_size(f, &w, &h);
    CHECK(w == 480 && h == 360, "one panel without figure title: %dx%d, want 480x360", w, h);
    const uint32_t want[1] = {BLUE};
    write_and_check(dir, "logy", f, want, 1, fails);
    free(f);
}

static void test_grid(const char *dir, int *fails)
{
    static const double x[5] = {0, 0.25, 0.5, 0.75, 1}, flat[5] = {3, 3, 3, 3, 3};
    static const double acc[5] = {0.81, 0.86, 0.9, 0.91, 0.915}, acc2[5] = {0.8, 0.84, 0.88, 0.9, 0.92};
    app_figure *f = calloc(1, sizeof *f);
    snprintf(f->title, sizeof f->title, "A 2 x 2 grid with the legends below the panels");
    f->npanels = 4, f->cols = 2;
    gamma_panel(&f->panels[0], 2);
    for (int i = 1; i < 4; i++) {
        app_panel *p = &f->panels[i];
        snprintf(p->title, sizeof p->title, "panel %d", i + 1);
        snprintf(p->xlabel, sizeof p->xlabel, "fraction of the training set");
        snprintf(p->ylabel, sizeof p->ylabel, "accuracy");
        p->legend = 2;
        add_series(p, "CE, a label long enough to need a row of its own in the legend", 5, x, acc, 0)->marker = 3;
        add_series(p, "BCE", 5, x, i == 3 ? flat : acc2, 1)->no_line = i == 2;
        p->series[1].marker = 2;
    }
    int w, h;
    app_chart_size(f, &w, &h);
    CHECK(w == 960 && h > 2 * 360, "2 x 2 grid with legends below: %dx%d, want 960 x more than 720", w, h);
    const uint32_t want[2] = {BLUE, VERMILLION};
    write_and_check(dir, "grid", f, want, 2, fails);
    free(f);
}

static void test_no_data(const char *dir, int *fails)
{
    static const double x[3] = {1, 2, 3};
    const double y[3] = {NAN, NAN, NAN};
    app_figure *f = calloc(1, sizeof *f);
    f->npanels = 2;
    for (int i = 0; i < 2; i++) {
        app_panel *p = &f->panels[i];
        snprintf(p->title, sizeof p->title, i ? "empty series" : "all NaN");
        p->legend = 1 + i, p->logy = i;
        add_series(p, "CE", i ? 0 : 3, x, y, 0);
    }
    write_and_check(dir, "nodata", f, NULL, 0, fails);
    free(f);
}

static void test_refs(const char *dir, int *fails)
{
    static const double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0.5, 0.62, 0.7, 0.74, 0.75, 0.76};
    app_figure *f = calloc(1, sizeof *f);
    f->npanels = 1, f->panel_width = 640, f->panel_height = 400;
    app_panel *p = &f->panels[0];
    snprintf(p->title, sizeof p->title, "test accuracy, with a title far too long to fit in one panel of this "
             "figure, so that it has to end with an ellipsis");
    snprintf(p->xlabel, sizeof p->xlabel, "epoch");
    snprintf(p->ylabel, sizeof p->ylabel, "accuracy");
    p->legend = 1, p->nrefs = 2;
    p->refs[0] = (app_ref_line){0, 0.9, "target 0.9"};   /* above the data: widens the range */
    p->refs[1] = (app_ref_line){1, 3.5, "learning rate drop"};
    add_series(p, "BCE", 6, x, y, 1)->marker = 1;
    int w, h;
    app_chart_size(f, &w, &h);
    CHECK(w == 640 && h == 400, "panel size 640x400: got %dx%d", w, h);
    const uint32_t want[1] = {VERMILLION};
    write_and_check(dir, "refs", f, want, 1, fails);
    free(f);
}

/* ---- bar panels ---- */

static void bar_categories(app_panel *p, int n, const char *const *names)
{
    p->ncats = n;
    for (int i = 0; i < n; i++) snprintf(p->categories[i], sizeof p->categories[i], "%s", names[i]);
}

/* img/s per device, about 100x apart: grouped bars on a log y axis, values on top, legend inside */
static void throughput_panel(app_panel *p)
{
    static const char *const DEV[4] = {"NVIDIA H200", "AMD RX 7900 XTX",
                                       "pthread-skylake-avx512-Intel(R) Xeon(R) Processor (PoCL)",
                                       "llvmpipe\n(rusticl)"};
    static const double TRAIN[4] = {9120, 5230, 91.4, 38}, EVAL[4] = {27400, 15100, 412, 150};
    snprintf(p->title, sizeof p->title, "cnn5 throughput per device");
    snprintf(p->ylabel, sizeof p->ylabel, "images per second (log)");
    snprintf(p->xlabel, sizeof p->xlabel, "OpenCL device");
    p->bars = 1, p->logy = 1, p->value_labels = 1, p->legend = 1;
    bar_categories(p, 4, DEV);
    add_series(p, "cnn5 train", 4, NULL, TRAIN, 0);
    add_series(p, "cnn5 eval", 4, NULL, EVAL, 1);
}

/* per-kernel shares of the step's device time: stacked to 100, legend below */
static void share_panel(app_panel *p)
{
    static const char *const DEV[3] = {"H200\n38 ms/step", "RX 7900 XTX\n61 ms/step", "PoCL\n4120 ms/step"};
    static const char *const GROUP[7] = {"conv fwd", "conv bwd", "batch norm", "pooling", "head + loss",
                                         "optimizer", "other"};
    static const double SHARE[7][3] = {{24, 28.5, 31}, {41, 44, 47.2}, {12, 9, 6.1}, {6, 5, 4.4},
                                       {3, 2.5, 1.3}, {9, 7, 7.5}, {5, 4, 2.5}};
    snprintf(p->title, sizeof p->title, "where a training step's device time goes");
    snprintf(p->ylabel, sizeof p->ylabel, "share of device time (%%)");
    p->bars = 2, p->value_labels = 1, p->legend = 2;
    p->fix_y = 1, p->ymin = 0, p->ymax = 100;
    bar_categories(p, 3, DEV);
    for (int k = 0; k < 7; k++) add_series(p, GROUP[k], 3, NULL, SHARE[k], k);
}

static void test_bars(const char *dir, int *fails)
{
    app_figure *f = calloc(1, sizeof *f);
    snprintf(f->title, sizeof f->title, "gammacl bench");
    f->npanels = 2, f->panel_width = 560, f->panel_height = 400;
    throughput_panel(&f->panels[0]);
    share_panel(&f->panels[1]);
    int w, h;
    app_chart_size(f, &w, &h);
    CHECK(w == 1120 && h > 400, "two bar panels of 560 x 400 and a legend below: %dx%d", w, h);
    const uint32_t want[5] = {BLUE, VERMILLION, BLUISH_GREEN, ORANGE, 0x000000u};
    write_and_check(dir, "bars", f, want, 5, fails);
    /* each alone: the log panel with its legend inside, the stacked one in a narrow cell */
    app_figure *g = calloc(1, sizeof *g);
    g->npanels = 1;
    throughput_panel(&g->panels[0]);
    write_and_check(dir, "bars_log", g, want, 2, fails);
    memset(g, 0, sizeof *g);
    g->npanels = 1, g->panel_width = 300;
    share_panel(&g->panels[0]);
    write_and_check(dir, "bars_stacked", g, want + 2, 2, fails);
    free(g);
    free(f);
}

/* 16 categories of 3 thin bars: long labels cut, a NaN bar left out, negative values below 0 */
static void test_many_bars(const char *dir, int *fails)
{
    double a[16], b[16], c[16];
    app_figure *f = calloc(1, sizeof *f);
    f->npanels = 1, f->panel_width = 720;
    app_panel *p = &f->panels[0];
    snprintf(p->title, sizeof p->title, "change in accuracy per setting");
    snprintf(p->ylabel, sizeof p->ylabel, "points");
    p->bars = 1, p->value_labels = 1, p->legend = 1, p->ncats = 16;
    for (int i = 0; i < 16; i++) {
        snprintf(p->categories[i], sizeof p->categories[i], i % 5 == 2 ? "a setting with a long name %d" : "s%d", i);
        a[i] = 3 + i % 4, b[i] = i == 5 ? NAN : 2.5 - i * 0.4, c[i] = 1.5 * (i % 3);
    }
    add_series(p, "CE", 16, NULL, a, 0);
    add_series(p, "BCE", 16, NULL, b, 1);
    add_series(p, "BCE, bias from theory", 16, NULL, c, 9);
    p->nrefs = 1;
    p->refs[0] = (app_ref_line){0, 4.5, "target"};
    const uint32_t want[3] = {BLUE, VERMILLION, INDIGO};
    write_and_check(dir, "bars_many", f, want, 3, fails);
    free(f);
}

/* ---- bad input ---- */

static void expect_refusal(const char *base, const app_figure *f, const char *needle, const char *what, int *fails)
{
    char err[512] = "";
    const int rc = app_chart_write(base, f, err, sizeof err);
    CHECK(rc == -1, "%s: returned %d, want -1", what, rc);
    CHECK(err[0] && (!needle || strstr(err, needle)), "%s: message \"%s\" does not name \"%s\"", what, err,
          needle ? needle : "anything");
}

/* a figure that would be refused has no size */
static void expect_no_size(const app_figure *f, const char *what, int *fails)
{
    int w = -1, h = -1;
    app_chart_size(f, &w, &h);
    CHECK(w == 0 && h == 0, "app_chart_size of %s: %dx%d, want 0x0", what, w, h);
}

static void test_bad_input(const char *dir, int *fails)
{
    app_figure *f = calloc(1, sizeof *f);
    char base[512];
    f->npanels = 1;
    gamma_panel(&f->panels[0], 1);
    snprintf(base, sizeof base, "%s/no/such/dir/fig", dir);
    expect_refusal(base, f, base, "missing directory", fails);
    /* base.png is a directory: the rename fails, and the temporary file must be gone */
    char blocked[600], tmp[620];
    snprintf(base, sizeof base, "%s/blocked", dir);
    snprintf(blocked, sizeof blocked, "%s.png", base);
    snprintf(tmp, sizeof tmp, "%s.tmp", blocked);
    CHECK(mkdir(blocked, 0700) == 0, "cannot create the directory %s", blocked);
    expect_refusal(base, f, blocked, "output is a directory", fails);
    CHECK(access(tmp, F_OK) != 0, "%s left behind after a failed write", tmp);
    rmdir(blocked);
    snprintf(base, sizeof base, "%s/bad", dir);
    expect_refusal(NULL, f, NULL, "NULL path", fails);
    expect_refusal(base, NULL, base, "NULL figure", fails);
    f->npanels = 0;
    expect_refusal(base, f, "panels", "npanels = 0", fails);
    expect_no_size(f, "0 panels", fails);
    f->npanels = APP_CHART_MAX_PANELS + 1;
    expect_refusal(base, f, "panels", "npanels > max", fails);
    f->npanels = 1;
    f->panels[0].series[0].x = NULL;
    expect_refusal(base, f, "series 1", "NULL x", fails);
    f->panels[0].series[0].x = GAMMA;
    memset(f->panels[0].series[1].label, 'x', sizeof f->panels[0].series[1].label);
    expect_refusal(base, f, "label", "unterminated label", fails);
    snprintf(f->panels[0].series[1].label, sizeof f->panels[0].series[1].label, "bad \xff byte");
    expect_refusal(base, f, "UTF-8", "invalid UTF-8", fails);
    snprintf(f->panels[0].series[1].label, sizeof f->panels[0].series[1].label, "BCE");
    f->panels[0].logy = 1, f->panels[0].fix_y = 1, f->panels[0].ymin = 0, f->panels[0].ymax = 1;
    expect_refusal(base, f, "range", "log y range from 0", fails);
    f->panels[0].logy = 0, f->panels[0].ymin = NAN;
    expect_refusal(base, f, "range", "NaN y range", fails);
    f->panels[0].fix_y = 0, f->panels[0].nseries = APP_CHART_MAX_SERIES + 1;
    expect_refusal(base, f, "series", "too many series", fails);
    f->panels[0].nseries = 2, f->panel_width = -5;
    expect_refusal(base, f, "width", "negative panel width", fails);
    expect_no_size(NULL, "NULL", fails);
    free(f);
}

/* bar panels that must be refused: each a valid panel with one fault */
static void test_bad_bars(const char *dir, int *fails)
{
    static const char *const CASE[][2] = { /* what, and a part the message must hold */
        {"ncats = 0", "categories"}, {"ncats > max", "categories"}, {"n != ncats", "n must be ncats"},
        {"NULL y", "series 2"}, {"bars = 3", "bars 3"}, {"vertical reference line", "vertical"},
        {"invalid UTF-8 category", "category label 3"}, {"unterminated category", "category label 3"},
        {"log x", "log axis"}, {"stacked on a log axis", "linear"}, {"negative stacked value", "negative"}};
    static const double neg[3] = {50, -1, 20};
    app_figure *f = malloc(sizeof *f);
    char base[512], png[600];
    snprintf(base, sizeof base, "%s/badbars", dir);
    snprintf(png, sizeof png, "%s.png", base);
    for (int c = 0; c < (int)(sizeof CASE / sizeof CASE[0]); c++) {
        memset(f, 0, sizeof *f);
        f->npanels = 1;
        app_panel *p = &f->panels[0];
        if (c < 9) throughput_panel(p);
        else share_panel(p);
        switch (c) {
        case 0: p->ncats = 0; break;
        case 1: p->ncats = APP_CHART_MAX_CATS + 1; break;
        case 2: p->ncats = 3; break;
        case 3: p->series[1].y = NULL; break;
        case 4: p->bars = 3; break;
        case 5: p->nrefs = 1, p->refs[0] = (app_ref_line){1, 2, "vertical"}; break;
        case 6: snprintf(p->categories[2], sizeof p->categories[2], "bad \xc3 byte"); break;
        case 7: memset(p->categories[2], 'x', sizeof p->categories[2]); break;
        case 8: p->logx = 1; break;
        case 9: p->logy = 1, p->ymin = 1; break; /* past the check of the fixed range */
        default: p->series[3].y = neg; break;
        }
        expect_refusal(base, f, CASE[c][1], CASE[c][0], fails);
        expect_no_size(f, CASE[c][0], fails);
    }
    CHECK(access(png, F_OK) != 0, "refused bar figures left %s behind", png);
    free(f);
}

/* every file in dir must be one of the expected outputs; they are removed, then dir */
static void clean_up(const char *dir, int *fails)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot list %s", dir);
    if (!d) return;
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        const size_t n = strlen(e->d_name);
        CHECK(n > 4 && (strcmp(e->d_name + n - 4, ".png") == 0 || strcmp(e->d_name + n - 4, ".svg") == 0),
              "left behind: %s/%s", dir, e->d_name);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(remove(path) == 0, "cannot remove %s", path);
        files++;
    }
    closedir(d);
    CHECK(files == 18, "%d files written, want 18 (9 figures x PNG and SVG)", files);
    CHECK(rmdir(dir) == 0, "cannot remove %s", dir);
}

int main(void)
{
    int failures = 0, *fails = &failures;
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/test_chart.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_log2(dir, fails);
    test_pow2_with_curve(fails);
    test_logy(dir, fails);
    test_grid(dir, fails);
    test_no_data(dir, fails);
    test_refs(dir, fails);
    test_bars(dir, fails);
    test_many_bars(dir, fails);
    test_bad_input(dir, fails);
    test_bad_bars(dir, fails);
    clean_up(dir, fails);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("test_chart: all checks passed\n");
    return failures != 0;
}
