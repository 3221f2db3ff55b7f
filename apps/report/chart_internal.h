/* apps/report/chart_internal.h — what the two halves of the chart writer share, not part of its API
 * (chart.h): the panel frame with its axes, which chart_axes.c fits, ticks, maps and draws, and the
 * text helpers of chart.c that the axes use for their labels. */
#ifndef GAMMACL_CHART_INTERNAL_H
#define GAMMACL_CHART_INTERNAL_H

#include "chart.h"

#include <cairo.h>

#define CHART_MAX_TICKS 64

typedef struct rect { double l, t, r, b; } rect;

typedef struct axis {
    int log, pow2;              /* log scale; ticks at the powers of two */
    double lo, hi;              /* visible range, in log10 units on a log axis */
    double step;                /* > 0: ticks are multiples of step (labels with fixed decimals) */
    int expo;                   /* log ticks labelled 1e-4 style (some are too small or large) */
    double tick[CHART_MAX_TICKS];
    int nticks;
} axis;

/* one panel: its cell in the figure, the plot rectangle inside it and the two axes */
typedef struct frame { rect cell, plot; axis x, y; int has_data; } frame;

/* ---- chart_axes.c ---- */

/* v can be drawn: finite, and positive on a log axis */
int chart_ok_value(double v, int log);
/* point i of s can be drawn on p's axes */
int chart_point_ok(const app_panel *p, const app_series *s, int i);
/* axis ranges and ticks, then the plot rectangle inside the cell, wide enough for the labels */
void chart_setup_frame(cairo_t *cr, const app_panel *p, rect cell, frame *fr);
/* the pixel of x (y) in the plot, clamped to +-1e5 */
double chart_px(const frame *fr, double x);
double chart_py(const frame *fr, double y);
/* grid lines, tick marks and tick labels of both axes */
void chart_draw_axes(cairo_t *cr, const frame *fr);

/* ---- chart.c ---- */

void chart_ink(cairo_t *cr, double grey);
void chart_set_font(cairo_t *cr, double size, int bold);
double chart_text_w(cairo_t *cr, const char *s);
/* text anchored at (x, y): ax 0/0.5/1 = left/centre/right; ay 0/0.5/1 = capital top/middle/baseline */
void chart_text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay);

#endif
