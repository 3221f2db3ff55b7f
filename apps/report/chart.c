/* apps/report/chart.c — line charts for the study's figures (see chart.h): the figure's layout, its
 * checks, panels with error bars, reference lines and legends, drawn with cairo into a PNG and an
 * SVG of the same size (written by chart_write.c). The axes
 * (ranges, ticks and their labels, value-to-pixel mapping) are in chart_axes.c, the bars of bar
 * panels and their category labels in chart_bars.c. */
#include "chart_internal.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans"
#define DEFAULT_W 480
#define DEFAULT_H 360
#define MAX_ENTRIES (APP_CHART_MAX_SERIES + APP_CHART_MAX_REFS)
#define SAMPLE_W 26.0           /* the line sample in a legend entry */
#define ENTRY_GAP 18.0          /* between entries on one legend row */
#define PATH_CAP 4096
#define ELLIPSIS "\xe2\x80\xa6"

/* Okabe-Ito first, then three darker colours from Paul Tol's palettes; all readable on white:
 * 0 blue, 1 vermillion, 2 bluish green, 3 reddish purple, 4 orange, 5 sky blue, 6 black, 7 wine,
 * 8 olive, 9 indigo */
static const rgb PALETTE[10] = {
    {0.000, 0.447, 0.698}, {0.835, 0.369, 0.000}, {0.000, 0.620, 0.451}, {0.800, 0.475, 0.655},
    {0.902, 0.624, 0.000}, {0.337, 0.706, 0.914}, {0.000, 0.000, 0.000}, {0.533, 0.133, 0.333},
    {0.600, 0.600, 0.200}, {0.200, 0.133, 0.533}};
static const rgb GREY = {0.45, 0.45, 0.45};
enum { SOLID, DASHED, DOTTED };      /* line styles; reference line i is drawn in style DOTTED + i */

typedef struct entry { const char *text; rgb color; int dash, marker, line, box; } entry;

int chart_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen > 0) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- checking the figure before anything is drawn ---- */

static int utf8_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                    : (*p & 0xF8) == 0xF0 ? 3 : -1;  /* continuation bytes that follow */
        if (n < 0 || *p == 0xC0 || *p == 0xC1 || *p > 0xF4) return 0;
        p++;
        for (int k = 0; k < n; k++, p++)
            if ((*p & 0xC0) != 0x80) return 0;
    }
    return 1;
}

/* where: "base: panel 2" and the like, to start each message */
int chart_check_text(const char *s, size_t cap, const char *where, const char *name, char *err, size_t errlen)
{
    if (!memchr(s, 0, cap))
        return chart_fail(err, errlen, "%s: %s is longer than its field (no terminating NUL)", where, name);
    if (!utf8_ok(s)) return chart_fail(err, errlen, "%s: %s is not valid UTF-8", where, name);
    return 0;
}

static int check_series(const char *panel, int si, const app_series *s, int bars, char *err, size_t errlen)
{
    char where[PATH_CAP + 64];
    snprintf(where, sizeof where, "%s series %d", panel, si + 1);
    if (s->n < 0) return chart_fail(err, errlen, "%s: n = %d points", where, s->n);
    if (s->n > 0 && ((!s->x && !bars) || !s->y))
        return chart_fail(err, errlen, "%s: %d points but no %s values", where, s->n, bars ? "y" : "x or y");
    if (s->marker < 0 || s->marker > 4) return chart_fail(err, errlen, "%s: marker %d is not 0..4", where, s->marker);
    return chart_check_text(s->label, sizeof s->label, where, "the label", err, errlen);
}

static int check_panel(const char *base, int pi, const app_panel *p, char *err, size_t errlen)
{
    char where[PATH_CAP + 32];
    snprintf(where, sizeof where, "%s: panel %d", base, pi + 1);
    if (p->nseries < 0 || p->nseries > APP_CHART_MAX_SERIES)
        return chart_fail(err, errlen, "%s: %d series (0..%d allowed)", where, p->nseries, APP_CHART_MAX_SERIES);
    if (p->nrefs < 0 || p->nrefs > APP_CHART_MAX_REFS)
        return chart_fail(err, errlen, "%s: %d reference lines (0..%d allowed)", where, p->nrefs, APP_CHART_MAX_REFS);
    if (p->legend < 0 || p->legend > 2)
        return chart_fail(err, errlen, "%s: legend %d is not 0, 1 or 2", where, p->legend);
    if (p->fix_y && !(isfinite(p->ymin) && isfinite(p->ymax) && p->ymin < p->ymax && (!p->logy || p->ymin > 0)))
        return chart_fail(err, errlen, "%s: the fixed y range [%g, %g] is empty%s", where, p->ymin, p->ymax,
                    p->logy ? " or not positive on its log axis" : "");
    if (chart_check_text(p->title, sizeof p->title, where, "the title", err, errlen) ||
        chart_check_text(p->xlabel, sizeof p->xlabel, where, "the x label", err, errlen) ||
        chart_check_text(p->ylabel, sizeof p->ylabel, where, "the y label", err, errlen))
        return -1;
    for (int i = 0; i < p->nrefs; i++) {
        char name[48];
        snprintf(name, sizeof name, "the label of reference line %d", i + 1);
        if (chart_check_text(p->refs[i].label, sizeof p->refs[i].label, where, name, err, errlen)) return -1;
    }
    for (int i = 0; i < p->nseries; i++)
        if (check_series(where, i, &p->series[i], p->bars, err, errlen)) return -1;
    return chart_bars_check(where, p, err, errlen);
}

int chart_check_figure(const char *base, const app_figure *f, char *err, size_t errlen)
{
    if (f->npanels < 1 || f->npanels > APP_CHART_MAX_PANELS)
        return chart_fail(err, errlen, "%s: %d panels (1..%d allowed)", base, f->npanels, APP_CHART_MAX_PANELS);
    if (f->cols < 0) return chart_fail(err, errlen, "%s: cols = %d is negative", base, f->cols);
    if (f->panel_width != 0 && (f->panel_width < 160 || f->panel_width > 4000))
        return chart_fail(err, errlen, "%s: panel width %d is not 160..4000 pixels", base, f->panel_width);
    if (f->panel_height != 0 && (f->panel_height < 120 || f->panel_height > 4000))
        return chart_fail(err, errlen, "%s: panel height %d is not 120..4000 pixels", base, f->panel_height);
    if (chart_check_text(f->title, sizeof f->title, base, "the figure title", err, errlen) ||
        chart_check_text(f->note, sizeof f->note, base, "the figure note", err, errlen))
        return -1;
    for (int i = 0; i < f->npanels; i++)
        if (check_panel(base, i, &f->panels[i], err, errlen)) return -1;
    return 0;
}

/* ---- text and styles ---- */

rgb chart_color(int index) { return PALETTE[((index % 10) + 10) % 10]; }
static void set_rgb(cairo_t *cr, rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }
void chart_ink(cairo_t *cr, double grey) { cairo_set_source_rgb(cr, grey, grey, grey); }

void chart_set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double chart_text_w(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* text anchored at (x, y): ax 0/0.5/1 = left/centre/right; ay 0/0.5/1 = capital top/middle/baseline */
void chart_text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t cap;
    cairo_text_extents(cr, "H", &cap);
    cairo_move_to(cr, x - ax * chart_text_w(cr, s), y + (1 - ay) * cap.height);
    cairo_show_text(cr, s);
}

/* s, cut at a character boundary and ended with an ellipsis when it is wider than maxw */
void chart_fit_text(cairo_t *cr, const char *s, double maxw, char *out, size_t cap)
{
    char tmp[512];
    size_t n = strlen(s);
    if (n < sizeof tmp && chart_text_w(cr, s) <= maxw) {
        snprintf(out, cap, "%s", s);
        return;
    }
    if (n > sizeof tmp - 4) n = sizeof tmp - 4;
    for (;; n--) {
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        size_t k = n;
        while (k > 0 && s[k - 1] == ' ') k--;
        memcpy(tmp, s, k);
        memcpy(tmp + k, ELLIPSIS, sizeof ELLIPSIS);
        if (n == 0 || chart_text_w(cr, tmp) <= maxw) break;
    }
    snprintf(out, cap, "%s", tmp);
}

/* s centred on x, capitals' top at y, cut to maxw */
static void centred(cairo_t *cr, const char *s, double x, double y, double maxw)
{
    char t[320];
    chart_fit_text(cr, s, maxw, t, sizeof t);
    chart_text_at(cr, t, x, y, 0.5, 0);
}

static void set_stroke(cairo_t *cr, rgb c, int style, double width)
{
    static const double PATTERN[6][6] = {{0}, {6, 3.5}, {1.6, 3}, {1.6, 3, 6, 3}, {0.8, 1.8},
                                         {8, 3, 1.6, 3, 1.6, 3}};
    static const int LENGTH[6] = {0, 2, 2, 4, 2, 6};
    style = style < 0 || style > 5 ? SOLID : style;
    set_rgb(cr, c);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_dash(cr, PATTERN[style], LENGTH[style], 0);
}

/* 1 circle, 2 square, 3 triangle, 4 diamond: filled, with a thin white outline */
static void draw_marker(cairo_t *cr, int kind, double x, double y, rgb c)
{
    static const double TRIANGLE[3][2] = {{0, -1.25}, {1.1, 0.7}, {-1.1, 0.7}};
    static const double DIAMOND[4][2] = {{0, -1.3}, {1.05, 0}, {0, 1.3}, {-1.05, 0}};
    const double r = 3.6;
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr); /* text leaves a current point behind */
    if (kind == 1) cairo_new_sub_path(cr), cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    else if (kind == 2) cairo_rectangle(cr, x - 0.9 * r, y - 0.9 * r, 1.8 * r, 1.8 * r);
    else if (kind == 3)
        for (int i = 0; i < 3; i++) cairo_line_to(cr, x + TRIANGLE[i][0] * r, y + TRIANGLE[i][1] * r);
    else if (kind == 4)
        for (int i = 0; i < 4; i++) cairo_line_to(cr, x + DIAMOND[i][0] * r, y + DIAMOND[i][1] * r);
    else return;
    cairo_close_path(cr);
    set_rgb(cr, c);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
}

/* ---- drawing one panel ---- */

static void draw_refs(cairo_t *cr, const frame *fr, const app_panel *p)
{
    for (int i = 0; i < p->nrefs; i++) {
        const app_ref_line *ref = &p->refs[i];
        if (!chart_ok_value(ref->value, ref->vertical ? p->logx : p->logy)) continue;
        set_stroke(cr, GREY, DOTTED + i, 1.3);
        const double at = ref->vertical ? chart_px(fr, ref->value) : chart_py(fr, ref->value);
        if (ref->vertical) cairo_move_to(cr, at, fr->plot.t), cairo_line_to(cr, at, fr->plot.b);
        else cairo_move_to(cr, fr->plot.l, at), cairo_line_to(cr, fr->plot.r, at);
        cairo_stroke(cr);
    }
}

static int isolated(const app_panel *p, const app_series *s, int i)
{
    return (i == 0 || !chart_point_ok(p, s, i - 1)) && (i == s->n - 1 || !chart_point_ok(p, s, i + 1));
}

/* the line (broken at left-out points; a lone point becomes a dot) and the error bars */
static void draw_series(cairo_t *cr, const frame *fr, const app_panel *p, const app_series *s)
{
    const rgb c = chart_color(s->color);
    set_stroke(cr, c, s->dashed ? DASHED : SOLID, 1.8);
    for (int i = 0, pen = 0; i < s->n && !s->no_line; i++) {
        if (!chart_point_ok(p, s, i)) {
            pen = 0;
            continue;
        }
        const double x = chart_px(fr, s->x[i]), y = chart_py(fr, s->y[i]);
        if (pen) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y);
        if (!s->marker && isolated(p, s, i)) cairo_new_sub_path(cr), cairo_arc(cr, x, y, 1.6, 0, 2 * M_PI);
        pen = 1;
    }
    cairo_stroke(cr);
    set_stroke(cr, c, SOLID, 1.1);
    for (int i = 0; i < s->n && s->yerr; i++) {
        const double e = fabs(s->yerr[i]), y = s->y[i];
        if (!chart_point_ok(p, s, i) || !isfinite(e) || e == 0) continue;
        const double x = chart_px(fr, s->x[i]), top = chart_py(fr, y + e);
        const double bottom = chart_ok_value(y - e, p->logy) ? chart_py(fr, y - e) : fr->plot.b + 10;
        cairo_move_to(cr, x, top), cairo_line_to(cr, x, bottom);
        cairo_move_to(cr, x - 3, top), cairo_line_to(cr, x + 3, top);
        if (bottom <= fr->plot.b) cairo_move_to(cr, x - 3, bottom), cairo_line_to(cr, x + 3, bottom);
    }
    cairo_stroke(cr);
}

static int legend_entries(const app_panel *p, entry *e)
{
    int n = 0;
    for (int i = 0; i < p->nseries; i++) {
        const app_series *s = &p->series[i];
        if (s->label[0])
            e[n++] = (entry){s->label, chart_color(s->color), s->dashed ? DASHED : SOLID, p->bars ? 0 : s->marker,
                             !s->no_line && !p->bars, p->bars != 0};
    }
    for (int i = 0; i < p->nrefs; i++)
        if (p->refs[i].label[0]) e[n++] = (entry){p->refs[i].label, GREY, DOTTED + i, 0, 1, 0};
    return n;
}

static void draw_sample(cairo_t *cr, const entry *e, double x, double y)
{
    if (e->box) cairo_rectangle(cr, x + 6, y - 5.5, SAMPLE_W - 12, 11), set_rgb(cr, e->color), cairo_fill(cr);
    if (e->line) {
        set_stroke(cr, e->color, e->dash, e->dash >= DOTTED ? 1.3 : 1.8);
        cairo_move_to(cr, x, y), cairo_line_to(cr, x + SAMPLE_W, y), cairo_stroke(cr);
    }
    if (e->marker) draw_marker(cr, e->marker, x + SAMPLE_W / 2, y, e->color);
}

static int near_box(const rect *b, double x, double y)
{
    return x >= b->l - 4 && x <= b->r + 4 && y >= b->t - 4 && y <= b->b + 4;
}

/* how many points, error bar ends, samples along lines and along reference lines fall in (or next
 * to) box b */
static int crowding(const frame *fr, const app_panel *p, const rect *b)
{
    const rect *pl = &fr->plot;
    int hits = p->bars ? chart_bars_crowding(fr, p, b) : 0;
    for (int k = 0; k < p->nseries && !p->bars; k++) {
        const app_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            if (!chart_point_ok(p, s, i)) continue;
            const double x = chart_px(fr, s->x[i]), y = chart_py(fr, s->y[i]);
            const double e = s->yerr ? fabs(s->yerr[i]) : NAN;
            hits += near_box(b, x, y) + (isfinite(e) && near_box(b, x, chart_py(fr, s->y[i] + e)));
            hits += isfinite(e) && chart_ok_value(s->y[i] - e, p->logy) &&
                    near_box(b, x, chart_py(fr, s->y[i] - e));
            if (i == 0 || s->no_line || !chart_point_ok(p, s, i - 1)) continue;
            const double x0 = chart_px(fr, s->x[i - 1]), y0 = chart_py(fr, s->y[i - 1]);
            for (int j = 1; j < 8; j++) hits += near_box(b, x0 + (x - x0) * j / 8, y0 + (y - y0) * j / 8);
        }
    }
    for (int i = 0; i < p->nrefs; i++) {
        const app_ref_line *r = &p->refs[i];
        if (!chart_ok_value(r->value, r->vertical ? p->logx : p->logy)) continue;
        for (int j = 0; j <= 16; j++) {
            const double x = r->vertical ? chart_px(fr, r->value) : pl->l + (pl->r - pl->l) * j / 16;
            const double y = r->vertical ? pl->t + (pl->b - pl->t) * j / 16 : chart_py(fr, r->value);
            hits += near_box(b, x, y);
        }
    }
    return hits;
}

/* legend 1: a box in the corner of the plot with the fewest data in it */
static void legend_inside(cairo_t *cr, const frame *fr, const app_panel *p, const entry *e, int n)
{
    char text[MAX_ENTRIES][160];
    double tw = 0;
    const rect *pl = &fr->plot;
    chart_set_font(cr, 11, 0);
    for (int i = 0; i < n; i++) {
        chart_fit_text(cr, e[i].text, (pl->r - pl->l) * 0.6, text[i], sizeof text[i]);
        tw = fmax(tw, chart_text_w(cr, text[i]));
    }
    const double w = 8 + SAMPLE_W + 6 + tw + 8, h = n * CHART_LEGEND_ROW + 8;
    rect best = {0};
    int fewest = -1;
    for (int c = 0; c < 4; c++) { /* top right, top left, bottom right, bottom left */
        const double l = c % 2 ? pl->l + 8 : pl->r - 8 - w, t = c < 2 ? pl->t + 8 : pl->b - 8 - h;
        const rect b = {l, t, l + w, t + h};
        const int hits = crowding(fr, p, &b);
        if (fewest < 0 || hits < fewest) fewest = hits, best = b;
    }
    cairo_rectangle(cr, best.l, best.t, w, h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_fill_preserve(cr);
    set_stroke(cr, (rgb){0.75, 0.75, 0.75}, SOLID, 0.8);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        const double y = best.t + 4 + CHART_LEGEND_ROW * (i + 0.5);
        draw_sample(cr, &e[i], best.l + 8, y);
        chart_ink(cr, 0.1);
        chart_text_at(cr, text[i], best.l + 8 + SAMPLE_W + 6, y, 0, 0.5);
    }
}

/* places legend entries in rows no wider than avail: x offsets, row numbers, row widths; returns
 * the number of rows (the text is truncated as it will be drawn) */
static int flow(cairo_t *cr, const entry *e, int n, double avail, double *xoff, int *row, double *roww)
{
    int rows = 0;
    double x = 0;
    chart_set_font(cr, 11, 0);
    for (int i = 0; i < n; i++) {
        char t[160];
        chart_fit_text(cr, e[i].text, avail - SAMPLE_W - 6, t, sizeof t);
        const double w = SAMPLE_W + 6 + chart_text_w(cr, t);
        if (rows > 0 && x + ENTRY_GAP + w <= avail) {
            x += ENTRY_GAP;
        } else { /* a new row */
            if (rows > 0) roww[rows - 1] = x;
            rows++, x = 0;
        }
        xoff[i] = x, row[i] = rows - 1, x += w;
    }
    if (rows > 0) roww[rows - 1] = x;
    return rows;
}

static int below_height(cairo_t *cr, const app_panel *p, int pw)
{
    entry e[MAX_ENTRIES];
    double xoff[MAX_ENTRIES], roww[MAX_ENTRIES];
    int row[MAX_ENTRIES];
    const int rows = p->legend == 2 ? flow(cr, e, legend_entries(p, e), pw - 40, xoff, row, roww) : 0;
    return rows > 0 ? rows * CHART_LEGEND_ROW + 12 : 0;
}

/* legend 2: rows of entries centred under the panel */
static void legend_below(cairo_t *cr, const frame *fr, const entry *e, int n)
{
    double xoff[MAX_ENTRIES], roww[MAX_ENTRIES];
    int row[MAX_ENTRIES];
    const double avail = fr->cell.r - fr->cell.l - 40, mid = (fr->cell.l + fr->cell.r) / 2;
    flow(cr, e, n, avail, xoff, row, roww);
    for (int i = 0; i < n; i++) {
        char t[160];
        const double x = mid - roww[row[i]] / 2 + xoff[i], y = fr->cell.b + 4 + CHART_LEGEND_ROW * (row[i] + 0.5);
        draw_sample(cr, &e[i], x, y);
        chart_set_font(cr, 11, 0);
        chart_fit_text(cr, e[i].text, avail - SAMPLE_W - 6, t, sizeof t);
        chart_ink(cr, 0.1);
        chart_text_at(cr, t, x + SAMPLE_W + 6, y, 0, 0.5);
    }
}

static void draw_titles(cairo_t *cr, const frame *fr, const app_panel *p)
{
    const rect *r = &fr->plot;
    const double mid = (r->l + r->r) / 2;
    chart_set_font(cr, 13, 1), chart_ink(cr, 0.1);
    centred(cr, p->title, mid, fr->cell.t + 10, 2 * fmin(mid - fr->cell.l, fr->cell.r - mid) - 12);
    chart_set_font(cr, 12, 0);
    centred(cr, p->xlabel, mid, fr->xlabel_y, r->r - r->l);
    cairo_save(cr);
    cairo_translate(cr, fr->cell.l + 8, (r->t + r->b) / 2);
    cairo_rotate(cr, -M_PI / 2);
    centred(cr, p->ylabel, 0, 0, r->b - r->t);
    cairo_restore(cr);
}

static void draw_panel(cairo_t *cr, const app_panel *p, rect cell)
{
    frame fr;
    chart_setup_frame(cr, p, cell, &fr);
    const rect *r = &fr.plot;
    if (fr.has_data) {
        chart_draw_axes(cr, &fr);
        cairo_save(cr);
        cairo_rectangle(cr, r->l, r->t, r->r - r->l, r->b - r->t);
        cairo_clip(cr);
        if (p->bars) chart_bars_draw(cr, &fr, p);
        draw_refs(cr, &fr, p);
        for (int i = 0; i < p->nseries && !p->bars; i++) draw_series(cr, &fr, p, &p->series[i]);
        for (int k = 0; k < p->nseries && !p->bars; k++) {
            const app_series *s = &p->series[k];
            for (int i = 0; i < s->n; i++)
                if (chart_point_ok(p, s, i))
                    draw_marker(cr, s->marker, chart_px(&fr, s->x[i]), chart_py(&fr, s->y[i]), chart_color(s->color));
        }
        cairo_restore(cr);
        if (p->bars) chart_bars_labels(cr, &fr, p);
    } else {
        chart_set_font(cr, 13, 0), chart_ink(cr, 0.55);
        chart_text_at(cr, "no data", (r->l + r->r) / 2, (r->t + r->b) / 2, 0.5, 0.5);
    }
    set_stroke(cr, (rgb){0.25, 0.25, 0.25}, SOLID, 1);
    cairo_rectangle(cr, floor(r->l) + 0.5, floor(r->t) + 0.5, floor(r->r) - floor(r->l),
                    floor(r->b) - floor(r->t));
    cairo_stroke(cr);
    draw_titles(cr, &fr, p);
    entry e[MAX_ENTRIES];
    const int n = legend_entries(p, e);
    if (n > 0 && fr.has_data && p->legend == 1) legend_inside(cr, &fr, p, e, n);
    if (n > 0 && p->legend == 2) legend_below(cr, &fr, e, n);
}

/* ---- the figure ---- */

static int header_height(const app_figure *f)
{
    const int h = 10 + (f->title[0] ? 24 : 0) + (f->note[0] ? 18 : 0);
    return h > 10 ? h + 2 : 0;
}

static void draw_header(cairo_t *cr, const app_figure *f, int w)
{
    chart_set_font(cr, 16, 1), chart_ink(cr, 0.05);
    centred(cr, f->title, w / 2.0, 10, w - 20);
    chart_set_font(cr, 12, 0), chart_ink(cr, 0.35);
    centred(cr, f->note, w / 2.0, f->title[0] ? 34 : 10, w - 20);
}

/* same text metrics on every surface, so that the layout measured once holds for both files */
static void prepare(cairo_t *cr)
{
    cairo_font_options_t *o = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, o);
    cairo_font_options_destroy(o);
}

void chart_compute_layout(const app_figure *f, chart_layout *L)
{
    L->pw = f->panel_width > 0 ? f->panel_width : DEFAULT_W;
    L->ph = f->panel_height > 0 ? f->panel_height : DEFAULT_H;
    L->cols = f->cols <= 0 || f->cols > f->npanels ? f->npanels : f->cols;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    prepare(cr);
    int y = header_height(f);
    for (int first = 0; first < f->npanels; first += L->cols) {
        int extra = 0;
        for (int i = first; i < f->npanels && i < first + L->cols; i++) {
            const int h = below_height(cr, &f->panels[i], L->pw);
            extra = h > extra ? h : extra;
            L->top[i] = y;
        }
        y += L->ph + extra;
    }
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    L->w = L->cols * L->pw, L->h = y;
}

cairo_status_t chart_draw_figure(cairo_surface_t *s, const app_figure *f, const chart_layout *L)
{
    cairo_t *cr = cairo_create(s);
    prepare(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw_header(cr, f, L->w);
    for (int i = 0; i < f->npanels; i++) {
        const double l = (i % L->cols) * L->pw;
        draw_panel(cr, &f->panels[i], (rect){l, L->top[i], l + L->pw, L->top[i] + L->ph});
    }
    const cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    return st;
}
