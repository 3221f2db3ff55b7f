/* apps/report/plot.c — see plot.h: histogram panels drawn with cairo into a PNG in memory, then
 * written atomically. */
#include "plot.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

#define PANEL_W 620
#define PANEL_H 534
#define TITLE_H 40
#define MARGIN_L 78
#define MARGIN_R 22
#define MARGIN_T 34
#define MARGIN_B 126            /* axis labels, then the legend below them */

typedef struct rect { double left, right, top, bottom; } rect;
typedef struct rgba { double r, g, b, a; } rgba;

static const rgba POS_COLOR = {0.12, 0.38, 0.78, 1}, NEG_COLOR = {0.90, 0.45, 0.08, 1};
static const rgba LINE_COLOR[APP_PLOT_MAX_LINES] = {{0.75, 0.05, 0.10, 1}, {0.10, 0.55, 0.20, 1},
                                                    {0.20, 0.20, 0.20, 1}};
static const double LINE_DASH[APP_PLOT_MAX_LINES][2] = {{0, 0}, {7, 4}, {2, 3}};

static void set_color(cairo_t *cr, rgba c, double alpha) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a * alpha); }

/* text anchored at (x, y): ax, ay in {0, 0.5, 1} choose left/centre/right and top/middle/baseline */
static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    const double dy = ay == 0 ? -e.y_bearing : ay == 0.5 ? -e.y_bearing - e.height / 2 : 0;
    cairo_move_to(cr, x - ax * e.x_advance, y + dy);
    cairo_show_text(cr, s);
}

static void set_line_style(cairo_t *cr, int i)
{
    set_color(cr, LINE_COLOR[i], 1);
    cairo_set_line_width(cr, 2);
    if (LINE_DASH[i][0] > 0) cairo_set_dash(cr, LINE_DASH[i], 2, 0);
    else cairo_set_dash(cr, NULL, 0, 0);
}

/* fraction of all values per bin; returns the smallest non-zero fraction (1 if none) */
static double fractions(const int32_t *counts, int bins, double *out)
{
    double total = 0, smallest = 1;
    for (int b = 0; b < bins; b++) total += counts[b];
    for (int b = 0; b < bins; b++) {
        out[b] = total > 0 ? counts[b] / total : 0;
        if (out[b] > 0 && out[b] < smallest) smallest = out[b];
    }
    return smallest;
}

static double map_x(const rect *r, double c) { return r->left + (c + 1) / 2 * (r->right - r->left); }

static double map_y(const rect *r, double frac, double lo_decade)
{
    const double t = (log10(frac) - lo_decade) / (0 - lo_decade);
    return r->bottom - fmin(fmax(t, 0), 1) * (r->bottom - r->top);
}

static void draw_axes(cairo_t *cr, const rect *r, double lo_decade)
{
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_font_size(cr, 12);
    for (int i = 0; i <= 8; i++) { /* x ticks every 0.25 */
        const double c = -1 + 0.25 * i, x = map_x(r, c);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.08);
        cairo_move_to(cr, x, r->top), cairo_line_to(cr, x, r->bottom), cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, r->bottom), cairo_line_to(cr, x, r->bottom + 5), cairo_stroke(cr);
        char s[16];
        snprintf(s, sizeof s, "%g", c);
        text_at(cr, s, x, r->bottom + 8, 0.5, 0);
    }
    for (int dec = (int)lo_decade; dec <= 0; dec++) { /* y ticks per decade */
        const double y = map_y(r, pow(10, dec), lo_decade);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.08);
        cairo_move_to(cr, r->left, y), cairo_line_to(cr, r->right, y), cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, r->left - 5, y), cairo_line_to(cr, r->left, y), cairo_stroke(cr);
        char s[16];
        if (dec == 0) snprintf(s, sizeof s, "1");
        else snprintf(s, sizeof s, "1e%d", dec);
        text_at(cr, s, r->left - 8, y, 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.2);
    cairo_rectangle(cr, r->left, r->top, r->right - r->left, r->bottom - r->top);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    text_at(cr, "cosine", (r->left + r->right) / 2, r->bottom + 30, 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, r->left - 52, (r->top + r->bottom) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, "fraction of the scores per bin (log scale)", 0, 0, 0.5, 0.5);
    cairo_restore(cr);
}

/* a histogram as translucent bars with a step outline */
static void draw_bars(cairo_t *cr, const rect *r, const double *frac, int bins, double lo_decade, rgba c)
{
    const double w = (r->right - r->left) / bins;
    set_color(cr, c, 0.35);
    for (int b = 0; b < bins; b++)
        if (frac[b] > 0) {
            const double y = map_y(r, frac[b], lo_decade);
            cairo_rectangle(cr, r->left + b * w, y, w, r->bottom - y);
        }
    cairo_fill(cr);
    set_color(cr, c, 1);
    cairo_set_line_width(cr, 1.4);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_move_to(cr, r->left, r->bottom);
    for (int b = 0; b < bins; b++) {
        const double y = frac[b] > 0 ? map_y(r, frac[b], lo_decade) : r->bottom;
        cairo_line_to(cr, r->left + b * w, y);
        cairo_line_to(cr, r->left + (b + 1) * w, y);
    }
    cairo_line_to(cr, r->right, r->bottom);
    cairo_stroke(cr);
}

static void draw_lines(cairo_t *cr, const rect *r, const app_hist_panel *p, const app_hist_figure *f)
{
    for (int i = 0; i < APP_PLOT_MAX_LINES; i++) {
        if (!f->line_labels[i][0] || !isfinite(p->lines[i])) continue;
        set_line_style(cr, i);
        if (p->lines[i] >= -1 && p->lines[i] <= 1) {
            const double x = map_x(r, p->lines[i]);
            cairo_move_to(cr, x, r->top), cairo_line_to(cr, x, r->bottom), cairo_stroke(cr);
        } else { /* off the axis: an arrow at the edge it lies beyond */
            const double x = p->lines[i] > 1 ? r->right - 3 : r->left + 3, dir = p->lines[i] > 1 ? 1 : -1;
            const double y = r->top + 14 + 12 * i;
            cairo_set_dash(cr, NULL, 0, 0);
            cairo_move_to(cr, x - 12 * dir, y), cairo_line_to(cr, x, y), cairo_stroke(cr);
            cairo_move_to(cr, x, y), cairo_line_to(cr, x - 5 * dir, y - 4), cairo_line_to(cr, x - 5 * dir, y + 4);
            cairo_close_path(cr), cairo_fill(cr);
        }
    }
}

/* the legend, below the axis: the two distributions in the left column, the lines in the right */
static void draw_legend(cairo_t *cr, const rect *r, const app_hist_figure *f)
{
    const char *names[2] = {"positive  c(i, y_i)", "negative  c(i, k), k \xe2\x89\xa0 y_i"};
    const rgba colors[2] = {POS_COLOR, NEG_COLOR};
    const double top = r->bottom + 56, row_h = 18, col2 = r->left + 250;
    cairo_set_font_size(cr, 12);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < 2; i++) {
        const double y = top + i * row_h;
        set_color(cr, colors[i], 0.35);
        cairo_rectangle(cr, r->left, y - 6, 24, 12);
        cairo_fill_preserve(cr);
        set_color(cr, colors[i], 1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, names[i], r->left + 32, y, 0, 0.5);
    }
    double y = top;
    for (int i = 0; i < APP_PLOT_MAX_LINES; i++) {
        if (!f->line_labels[i][0]) continue;
        set_line_style(cr, i);
        cairo_move_to(cr, col2, y), cairo_line_to(cr, col2 + 24, y), cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, f->line_labels[i], col2 + 32, y, 0, 0.5);
        y += row_h;
    }
}

static void draw_panel(cairo_t *cr, const app_hist_figure *f, int i)
{
    const app_hist_panel *p = &f->panels[i];
    const double x0 = i * PANEL_W, y0 = TITLE_H;
    const rect r = {x0 + MARGIN_L, x0 + PANEL_W - MARGIN_R, y0 + MARGIN_T, y0 + PANEL_H - MARGIN_B};
    double *pos = calloc((size_t)p->bins, sizeof *pos), *neg = calloc((size_t)p->bins, sizeof *neg);
    if (!pos || !neg) {
        free(pos), free(neg);
        return;
    }
    const double smallest = fmin(fractions(p->pos, p->bins, pos), fractions(p->neg, p->bins, neg));
    const double lo_decade = fmax(-7, fmin(-2, floor(log10(smallest))));
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 14);
    text_at(cr, p->title, (r.left + r.right) / 2, y0 + 8, 0.5, 0);
    draw_axes(cr, &r, lo_decade);
    cairo_save(cr);
    cairo_rectangle(cr, r.left, r.top, r.right - r.left, r.bottom - r.top);
    cairo_clip(cr);
    draw_bars(cr, &r, neg, p->bins, lo_decade, NEG_COLOR);
    draw_bars(cr, &r, pos, p->bins, lo_decade, POS_COLOR);
    draw_lines(cr, &r, p, f);
    cairo_restore(cr);
    draw_legend(cr, &r, f);
    free(pos), free(neg);
}

typedef struct mem_png { unsigned char *data; size_t len, cap; } mem_png;

static cairo_status_t png_to_memory(void *closure, const unsigned char *data, unsigned int length)
{
    mem_png *m = closure;
    if (m->len + length > m->cap) {
        size_t cap = 2 * (m->len + length);
        unsigned char *nd = realloc(m->data, cap);
        if (!nd) return CAIRO_STATUS_NO_MEMORY;
        m->data = nd, m->cap = cap;
    }
    memcpy(m->data + m->len, data, length);
    m->len += length;
    return CAIRO_STATUS_SUCCESS;
}

int app_plot_histograms(const char *path, const app_hist_figure *f, char *err, size_t errlen)
{
    const int n = f->npanels < 1 ? 1 : f->npanels > APP_PLOT_MAX_PANELS ? APP_PLOT_MAX_PANELS : f->npanels;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, n * PANEL_W, TITLE_H + PANEL_H);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 16);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, f->title, n * PANEL_W / 2.0, 12, 0.5, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    for (int i = 0; i < n; i++) draw_panel(cr, f, i);
    mem_png png = {0};
    cairo_status_t st = cairo_status(cr);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png_stream(s, png_to_memory, &png);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    int rc = 0;
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "drawing %s: %s", path, cairo_status_to_string(st));
        rc = -1;
    } else if (app_write_file_atomic(path, png.data, png.len, err, errlen) != 0) {
        rc = -1;
    }
    free(png.data);
    return rc;
}

void app_plot_shutdown(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
