/* apps/report/chart_internal.h — what the parts of the chart writer share, not part of its API
 * (chart.h): the panel frame with its axes, which chart_axes.c fits, ticks, maps and draws, the
 * checks, layout, drawing, palette and text helpers of chart.c (whose figures chart_write.c writes
 * to files), and the bar panels of chart_bars.c. */
#ifndef GAMMACL_CHART_INTERNAL_H
#define GAMMACL_CHART_INTERNAL_H

#include "chart.h"

#include <cairo.h>

#define CHART_MAX_TICKS 64
#define CHART_LEGEND_ROW 17     /* one row of a legend */
#define CHART_LABEL_LINE 13     /* one line of a category label under bars */

typedef struct rgb { double r, g, b; } rgb;

typedef struct rect { double l, t, r, b; } rect;

typedef struct axis {
    int log, pow2;              /* log scale; ticks at the powers of two */
    double lo, hi;              /* visible range, in log10 units on a log axis */
    double step;                /* > 0: ticks are multiples of step (labels with fixed decimals) */
    int expo;                   /* log ticks labelled 1e-4 style (some are too small or large) */
    double tick[CHART_MAX_TICKS];
    int nticks;
} axis;

/* one panel: its cell in the figure, the plot rectangle inside it and the two axes; bar panels: the
 * lines their category labels may take; where the x axis title goes (the top of its capitals) */
typedef struct frame {
    rect cell, plot;
    axis x, y;
    int has_data, label_lines;
    double xlabel_y;
} frame;

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

/* writes the message into err (when there is room) and returns -1 */
__attribute__((format(printf, 3, 4))) int chart_fail(char *err, size_t errlen, const char *fmt, ...);
/* s fits its field of cap bytes and is UTF-8; where ("base: panel 2") and name start the message */
int chart_check_text(const char *s, size_t cap, const char *where, const char *name, char *err, size_t errlen);
/* palette entry index (cycles) */
rgb chart_color(int index);
/* s, cut at a character boundary and ended with an ellipsis when it is wider than maxw */
void chart_fit_text(cairo_t *cr, const char *s, double maxw, char *out, size_t cap);
void chart_ink(cairo_t *cr, double grey);
void chart_set_font(cairo_t *cr, double size, int bold);
double chart_text_w(cairo_t *cr, const char *s);
/* text anchored at (x, y): ax 0/0.5/1 = left/centre/right; ay 0/0.5/1 = capital top/middle/baseline */
void chart_text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay);

/* the figure's size and where its panels go */
typedef struct chart_layout {
    int w, h, pw, ph, cols;
    int top[APP_CHART_MAX_PANELS];   /* y of each panel's cell */
} chart_layout;

/* f's fields are usable; base starts the message */
int chart_check_figure(const char *base, const app_figure *f, char *err, size_t errlen);
void chart_compute_layout(const app_figure *f, chart_layout *L);
/* the whole figure, on white, onto s (L->w x L->h) */
cairo_status_t chart_draw_figure(cairo_surface_t *s, const app_figure *f, const chart_layout *L);

/* ---- chart_bars.c (panels with bars != 0) ---- */

/* the bar fields of p (the series' own fields are checked by chart.c); where starts the message */
int chart_bars_check(const char *where, const app_panel *p, char *err, size_t errlen);
/* the most lines a category label takes when wrapped into slot pixels (1..4) */
int chart_bars_label_lines(cairo_t *cr, const app_panel *p, double slot);
/* the pixels that value labels need above the bars when a category is slot pixels wide */
double chart_bars_value_room(cairo_t *cr, const app_panel *p, double slot);
/* the bars and their value labels (inside the plot), then the category labels under it */
void chart_bars_draw(cairo_t *cr, const frame *fr, const app_panel *p);
void chart_bars_labels(cairo_t *cr, const frame *fr, const app_panel *p);
/* how much of the bars box b (a legend's) would cover */
int chart_bars_crowding(const frame *fr, const app_panel *p, const rect *b);

#endif
