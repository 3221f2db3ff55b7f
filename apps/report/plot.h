/* apps/report/plot.h — the score histograms of an evaluated epoch as a PNG (drawn with cairo).
 *
 * One panel per data set: the distribution of positive cosines c_{i,y_i} and of negative cosines
 * c_{ik} (k != y_i), each as the fraction of its own values per bin of the cosine axis [-1, 1],
 * on a logarithmic scale; vertical lines mark thresholds (b/gamma, b* / gamma, the best uniform
 * threshold), with a legend, axes, ticks and labels.
 */
#ifndef GAMMACL_PLOT_H
#define GAMMACL_PLOT_H

#include <stddef.h>
#include <stdint.h>

#define APP_PLOT_MAX_PANELS 2
#define APP_PLOT_MAX_LINES 3

typedef struct app_hist_panel {
    char title[128];
    const int32_t *pos, *neg;  /* counts per bin; bins cover [-1, 1] evenly */
    int bins;
    double lines[APP_PLOT_MAX_LINES]; /* threshold positions (NaN: none), styles as in the figure */
} app_hist_panel;

typedef struct app_hist_figure {
    char title[256];
    app_hist_panel panels[APP_PLOT_MAX_PANELS];
    int npanels;
    char line_labels[APP_PLOT_MAX_LINES][64]; /* legend text per threshold line ("" = unused) */
} app_hist_figure;

/* Draws the figure and writes it atomically to path. Returns 0, or -1 with a message. */
int app_plot_histograms(const char *path, const app_hist_figure *f, char *err, size_t errlen);

/* Releases cairo's and fontconfig's process-wide caches (call once, when plotting is over), so
 * leak checkers see a clean exit. */
void app_plot_shutdown(void);

#endif
