/* apps/report/chart.h — line and bar charts for the study's plots (drawn with cairo), as PNG and SVG.
 *
 * A figure is a grid of panels; a panel is a set of series (x, y and optional error bars) over
 * linear or logarithmic axes, with a title, axis titles with units, ticks, reference lines and a
 * legend. Points whose y (or x) is NaN, or not positive on a log axis, are left out, and a line
 * is broken there. Both files are written atomically (temporary file, then rename).
 *
 * A bar panel (bars = 1 grouped, 2 stacked) has categories along x instead of values: series k's
 * y[i] is its bar in category i (n == ncats, x unused and may be NULL; NaN, or not positive on a
 * log axis, = no bar). Grouped bars stand side by side, from 0 or, on a log y axis, from the bottom
 * of the axis; stacked bars pile the series in order from the bottom (values >= 0, linear y only;
 * fix_y 0..100 for shares in percent). Category labels are centred under their bars: a '\n' starts
 * a second line (drawn lighter), and a label too wide for its slot is wrapped, then cut with an
 * ellipsis (4 lines at most). The legend shows filled boxes; legend 1 (inside) gets room above the
 * bars unless fix_y is set, legend 2 (below) suits stacked bars. Reference lines must be
 * horizontal; dashed, marker, no_line and yerr are ignored.
 */
#ifndef GAMMACL_CHART_H
#define GAMMACL_CHART_H

#include <stddef.h>

#define APP_CHART_MAX_PANELS 6
#define APP_CHART_MAX_SERIES 16
#define APP_CHART_MAX_REFS 4
#define APP_CHART_MAX_CATS 16

typedef struct app_series {
    char label[96];            /* legend text ("" = not in the legend) */
    int n;
    const double *x, *y;       /* n points each */
    const double *yerr;        /* NULL, or n half-widths: error bars y +- yerr */
    int color;                 /* palette index (0..9, colour-blind-safe palette), cycles */
    int dashed;                /* 1: dashed line */
    int marker;                /* 0 none, 1 circle, 2 square, 3 triangle, 4 diamond */
    int no_line;               /* 1: markers only */
} app_series;

typedef struct app_ref_line {
    int vertical;              /* 0: horizontal at y = value; 1: vertical at x = value */
    double value;
    char label[96];            /* drawn in the legend as a grey dotted line */
} app_ref_line;

typedef struct app_panel {
    char title[160];
    char xlabel[128], ylabel[128];
    int logx, logy;            /* logarithmic axes (base 10 ticks; powers of 2 on x when all
                                  x are powers of 2, as gammas are) */
    int fix_y;                 /* 1: y range [ymin, ymax]; 0: fitted to the data */
    double ymin, ymax;
    app_series series[APP_CHART_MAX_SERIES];
    int nseries;
    app_ref_line refs[APP_CHART_MAX_REFS];
    int nrefs;
    int legend;                /* 0 none, 1 inside (best corner), 2 below the panel */
    int bars;                  /* 0 lines (default), 1 grouped bars, 2 stacked bars */
    char categories[APP_CHART_MAX_CATS][96]; /* bar panels: category labels ('\n' = second line) */
    int ncats;                 /* bar panels: 1..APP_CHART_MAX_CATS categories */
    int value_labels;          /* bar panels: each grouped bar's value above it; stacked: inside
                                  each segment that has room for it */
} app_panel;

typedef struct app_figure {
    char title[256];           /* over the whole figure */
    char note[256];            /* a smaller line under the title ("" = none) */
    int cols;                  /* panels per row (rows follow); 0 = all in one row */
    int panel_width, panel_height; /* pixels per panel (0: 480 x 360) */
    app_panel panels[APP_CHART_MAX_PANELS];
    int npanels;
} app_figure;

/* The size in pixels the figure will have. */
void app_chart_size(const app_figure *f, int *width, int *height);
/* Draws f into base.png and base.svg (base without extension). Returns 0, or -1 with a message
 * naming the file and the cause. */
int app_chart_write(const char *base, const app_figure *f, char *err, size_t errlen);

#endif
