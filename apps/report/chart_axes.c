/* apps/report/chart_axes.c — the axes of a chart panel (see chart_internal.h): the visible ranges
 * fitted to the data (bar panels: one slot a category along x, y from the bars' base, room for the
 * category labels and for what goes above the bars), "nice" linear, 1-2-5, power-of-ten and
 * power-of-two ticks and their labels, the plot rectangle left inside a cell for them, the mapping
 * from values to pixels, and the drawing of grid lines, tick marks and tick labels. */
#include "chart_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranges and ticks ---- */

typedef struct span { double lo, hi; int any; } span;

int chart_ok_value(double v, int log) { return isfinite(v) && (!log || v > 0); }
static double tf(double v, int log) { return log ? log10(v) : v; }

int chart_point_ok(const app_panel *p, const app_series *s, int i)
{
    return chart_ok_value(s->x[i], p->logx) && chart_ok_value(s->y[i], p->logy);
}

static void grow(span *s, double v)
{
    if (!isfinite(v)) return;
    if (!s->any) s->lo = s->hi = v, s->any = 1;
    else s->lo = fmin(s->lo, v), s->hi = fmax(s->hi, v);
}

static void data_spans(const app_panel *p, span *sx, span *sy)
{
    for (int k = 0; k < p->nseries; k++) {
        const app_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            if (!chart_point_ok(p, s, i)) continue;
            grow(sx, tf(s->x[i], p->logx));
            grow(sy, tf(s->y[i], p->logy));
            const double e = s->yerr ? fabs(s->yerr[i]) : NAN;
            if (!isfinite(e)) continue;
            if (chart_ok_value(s->y[i] + e, p->logy)) grow(sy, tf(s->y[i] + e, p->logy));
            if (chart_ok_value(s->y[i] - e, p->logy)) grow(sy, tf(s->y[i] - e, p->logy));
        }
    }
}

/* bar panels: the bars' tops (stacked: their sums), and 0, where linear bars start */
static void bar_span(const app_panel *p, span *sy)
{
    for (int i = 0; i < p->ncats; i++) {
        double sum = 0;
        for (int k = 0; k < p->nseries; k++) {
            const double v = p->series[k].y[i];
            if (!chart_ok_value(v, p->logy)) continue;
            if (p->bars == 2) sum += fmax(v, 0);
            else grow(sy, tf(v, p->logy));
        }
        if (sum > 0) grow(sy, sum);
    }
    if (sy->any && !p->logy) grow(sy, 0);
}

/* every x of the points (the series with markers; a line without markers, such as a theory curve
 * on a fine grid, follows them) is a power of two, from 1/1024 to 2^20 (beyond, powers of ten
 * read better); with no marked series, every x of every series */
static int all_pow2(const app_panel *p)
{
    int marked = 0;
    for (int k = 0; k < p->nseries; k++) marked |= p->series[k].marker != 0;
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; (p->series[k].marker || !marked) && i < p->series[k].n; i++) {
            const double x = p->series[k].x[i];
            int e;
            if (chart_point_ok(p, &p->series[k], i) && (frexp(x, &e) != 0.5 || e < -9 || e > 21)) return 0;
        }
    return 1;
}

/* the span, widened when it is a single value, plus pad of its length on both sides */
static void fit_axis(axis *a, span s, double pad)
{
    double lo = s.lo, hi = s.hi;
    if (hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi))) {
        const double d = a->log ? 0.5 : lo == 0 ? 1 : fabs(lo) * 0.1;
        lo -= d, hi += d;
    }
    a->lo = lo - pad * (hi - lo), a->hi = hi + pad * (hi - lo);
}

static double nice_step(double range, double target)
{
    const double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void add_tick(axis *a, double v)
{
    if (a->nticks < CHART_MAX_TICKS) a->tick[a->nticks++] = v;
}

static void linear_ticks(axis *a, double lo, double hi, double target)
{
    const double step = nice_step(hi - lo, target);
    a->nticks = 0, a->step = step;
    if (!isfinite(step) || step <= 0) return;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9 && a->nticks < CHART_MAX_TICKS; k++)
        add_tick(a, fabs(k * step) < step * 1e-9 ? 0 : k * step);
    if (a->nticks < 3 && target < 20) linear_ticks(a, lo, hi, target * 1.6); /* too few: a finer step */
}

/* log axis: powers of two, or of ten (every few when many), or 1-2-5 over two decades or less */
static void log_ticks(axis *a, double target)
{
    const double unit = a->pow2 ? log10(2) : 1;
    const int e0 = (int)ceil(a->lo / unit - 1e-9), e1 = (int)floor(a->hi / unit + 1e-9);
    if (a->pow2 || e1 - e0 >= 2) {
        const int every = 1 + (e1 - e0) / (int)fmax(1, a->pow2 ? 2 * target : target);
        for (int e = e0; e <= e1; e++)
            if (e % every == 0) add_tick(a, pow(a->pow2 ? 2 : 10, e));
        return;
    }
    for (int e = e0 - 1; e <= e1; e++)
        for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
            const double v = m * pow(10, e);
            if (log10(v) >= a->lo && log10(v) <= a->hi) add_tick(a, v);
        }
    if (a->nticks < 3) linear_ticks(a, pow(10, a->lo), pow(10, a->hi), target);
}

static void make_ticks(axis *a, double target)
{
    a->nticks = 0, a->step = 0;
    if (a->log) log_ticks(a, target);
    else linear_ticks(a, a->lo, a->hi, target);
    for (int i = 0; i < a->nticks && a->log; i++)
        a->expo |= a->tick[i] < 0.01 * (1 - 1e-9) || a->tick[i] > 1000 * (1 + 1e-9);
}

/* %g without the padded exponent: 2e-5, 1.5e6 */
static void compact_g(double v, char *buf, size_t n)
{
    char tmp[48], *e;
    snprintf(tmp, sizeof tmp, "%.6g", v);
    if ((e = strchr(tmp, 'e'))) *e = 0, snprintf(buf, n, "%se%ld", tmp, strtol(e + 1, NULL, 10));
    else snprintf(buf, n, "%s", tmp);
}

static void format_tick(const axis *a, double v, char *buf, size_t n)
{
    if (a->step > 0) {
        const double big = fmax(fabs(a->tick[0]), fabs(a->tick[a->nticks - 1]));
        if (a->step >= 1e-4 && big < 1e6)
            snprintf(buf, n, "%.*f", a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9), v);
        else compact_g(v, buf, n);
    } else if (a->pow2) {
        snprintf(buf, n, "%.6g", v);
    } else {
        const int k = (int)floor(log10(v) + 1e-9);
        const double m = round(v / pow(10, k));
        if (!a->expo || (k == 0 && m == 1)) snprintf(buf, n, "%g", m * pow(10, k));
        else if (m == 1) snprintf(buf, n, "1e%d", k);
        else snprintf(buf, n, "%.0fe%d", m, k);
    }
}

static double widest_tick(cairo_t *cr, const axis *a)
{
    double w = 0;
    char s[48];
    for (int i = 0; i < a->nticks; i++)
        format_tick(a, a->tick[i], s, sizeof s), w = fmax(w, chart_text_w(cr, s));
    return w;
}

static double clamp_px(double v) { return fmax(-1e5, fmin(1e5, v)); }

double chart_px(const frame *fr, double x)
{
    const axis *a = &fr->x;
    return clamp_px(fr->plot.l + (tf(x, a->log) - a->lo) / (a->hi - a->lo) * (fr->plot.r - fr->plot.l));
}

double chart_py(const frame *fr, double y)
{
    const axis *a = &fr->y;
    return clamp_px(fr->plot.b - (tf(y, a->log) - a->lo) / (a->hi - a->lo) * (fr->plot.b - fr->plot.t));
}

/* the left edge of the plot: room for the y axis title and the widest y tick label */
static double left_edge(cairo_t *cr, const app_panel *p, const frame *fr)
{
    return fr->cell.l + 8 + (p->ylabel[0] ? 18 : 0) + fmax(24, widest_tick(cr, &fr->y)) + 8;
}

/* legend 1 inside a bar panel goes over the bars: its height, with its margins */
static double inside_legend_h(const app_panel *p)
{
    int n = 0;
    for (int i = 0; i < p->nseries; i++) n += p->series[i].label[0] != 0;
    for (int i = 0; i < p->nrefs; i++) n += p->refs[i].label[0] != 0;
    return p->legend == 1 && n > 0 ? n * CHART_LEGEND_ROW + 8 + 12 : 0;
}

/* the plot's bottom and the x axis title under category labels of that many lines */
static void label_room(frame *fr, int lines, double below)
{
    fr->plot.b = fr->cell.b - 7 - lines * CHART_LABEL_LINE - below;
    fr->xlabel_y = fr->plot.b + 7 + lines * CHART_LABEL_LINE + 6;
}

/* bar panels: x has a slot a category (no ticks); y starts at 0 (linear) or at the power of ten
 * below the least bar (log); the plot leaves room under it for the category labels, wrapped to
 * their slots, and, unless y is fixed, above the bars for value labels and an inside legend */
static void setup_bars(cairo_t *cr, const app_panel *p, frame *fr, span sy)
{
    rect *pl = &fr->plot;
    axis *y = &fr->y;
    const double below = p->xlabel[0] ? 26 : 10;
    fr->x.lo = -0.5, fr->x.hi = p->ncats - 0.5;
    if (fr->has_data && p->fix_y) {
        y->lo = tf(p->ymin, p->logy), y->hi = tf(p->ymax, p->logy);
    } else if (fr->has_data) {
        fit_axis(y, sy, 0.05);
        if (p->logy) y->lo = floor(sy.lo - 0.15);
        else if (sy.lo >= 0) y->lo = 0;
        else if (sy.hi <= 0) y->hi = 0;
    }
    label_room(fr, 2, below); /* a first guess */
    chart_set_font(cr, 11, 0);
    if (fr->has_data) make_ticks(y, fmax(3, (pl->b - pl->t) / 48));
    const double left = left_edge(cr, p, fr);
    pl->l = left, pl->r = fr->cell.r - 16;
    if (!fr->has_data) return;
    const double slot = (pl->r - pl->l) / p->ncats;
    fr->label_lines = chart_bars_label_lines(cr, p, slot);
    label_room(fr, fr->label_lines, below);
    const double h = pl->b - pl->t, values = p->fix_y ? 0 : chart_bars_value_room(cr, p, slot);
    double top = p->fix_y ? 0 : values + inside_legend_h(p), bottom = !p->logy && sy.lo < 0 ? values : 0;
    if (top + bottom > 0.5 * h) {
        const double f = 0.5 * h / (top + bottom); /* once: both shrink by the same factor */
        top *= f, bottom *= f;
    }
    const double unit = (y->hi - y->lo) / (h - top - bottom); /* per pixel */
    y->lo -= bottom * unit, y->hi += top * unit;
    chart_set_font(cr, 11, 0);
    y->expo = 0;
    make_ticks(y, fmax(3, h / 48));
    pl->l = fmax(left, left_edge(cr, p, fr));
    fr->has_data = isfinite(y->hi - y->lo);
}

/* axis ranges and ticks, then the plot rectangle inside the cell, wide enough for the labels */
void chart_setup_frame(cairo_t *cr, const app_panel *p, rect cell, frame *fr)
{
    memset(fr, 0, sizeof *fr);
    fr->cell = cell, fr->x.log = p->logx, fr->y.log = p->logy;
    span sx = {0}, sy = {0};
    if (p->bars) bar_span(p, &sy);
    else data_spans(p, &sx, &sy);
    fr->has_data = p->bars ? sy.any : sx.any;
    for (int i = 0; i < p->nrefs && fr->has_data; i++) {
        const app_ref_line *r = &p->refs[i];
        if (chart_ok_value(r->value, r->vertical ? p->logx : p->logy))
            grow(r->vertical ? &sx : &sy, tf(r->value, r->vertical ? p->logx : p->logy));
    }
    rect *pl = &fr->plot;
    pl->t = cell.t + (p->title[0] ? 32 : 14);
    pl->b = cell.b - (p->xlabel[0] ? 46 : 30);
    fr->xlabel_y = pl->b + 26;
    if (p->bars) {
        setup_bars(cr, p, fr, sy);
        return;
    }
    if (fr->has_data) {
        fr->x.pow2 = p->logx && all_pow2(p);
        fit_axis(&fr->x, sx, 0.04);
        if (p->fix_y) fr->y.lo = tf(p->ymin, p->logy), fr->y.hi = tf(p->ymax, p->logy);
        else fit_axis(&fr->y, sy, 0.06);
        fr->has_data = isfinite(fr->x.hi - fr->x.lo) && isfinite(fr->y.hi - fr->y.lo);
    }
    chart_set_font(cr, 11, 0);
    if (fr->has_data) make_ticks(&fr->y, fmax(3, (pl->b - pl->t) / 48));
    pl->l = left_edge(cr, p, fr);
    pl->r = cell.r - 16;
    if (!fr->has_data) return;
    make_ticks(&fr->x, fmax(3, (pl->r - pl->l) / 72));
    if (fr->x.nticks > 0) {
        char s[48];
        format_tick(&fr->x, fr->x.tick[fr->x.nticks - 1], s, sizeof s);
        pl->r = cell.r - fmax(16, chart_text_w(cr, s) / 2 + 6);
    }
}

/* ---- drawing the axes ---- */

/* grid lines, tick marks and tick labels of both axes (before the data, which go over them) */
void chart_draw_axes(cairo_t *cr, const frame *fr)
{
    const rect *r = &fr->plot;
    char s[48];
    chart_set_font(cr, 11, 0);
    cairo_set_line_width(cr, 1);
    cairo_set_dash(cr, NULL, 0, 0);
    for (int i = 0; i < fr->x.nticks; i++) {
        const double x = floor(chart_px(fr, fr->x.tick[i])) + 0.5;
        chart_ink(cr, 0.9), cairo_move_to(cr, x, r->t), cairo_line_to(cr, x, r->b), cairo_stroke(cr);
        chart_ink(cr, 0.25), cairo_move_to(cr, x, r->b), cairo_line_to(cr, x, r->b + 4), cairo_stroke(cr);
        format_tick(&fr->x, fr->x.tick[i], s, sizeof s);
        chart_text_at(cr, s, x, r->b + 7, 0.5, 0);
    }
    for (int i = 0; i < fr->y.nticks; i++) {
        const double y = floor(chart_py(fr, fr->y.tick[i])) + 0.5;
        chart_ink(cr, 0.9), cairo_move_to(cr, r->l, y), cairo_line_to(cr, r->r, y), cairo_stroke(cr);
        chart_ink(cr, 0.25), cairo_move_to(cr, r->l - 4, y), cairo_line_to(cr, r->l, y), cairo_stroke(cr);
        format_tick(&fr->y, fr->y.tick[i], s, sizeof s);
        chart_text_at(cr, s, r->l - 7, y, 1, 0.5);
    }
}
