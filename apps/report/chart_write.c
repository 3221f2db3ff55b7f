/* apps/report/chart_write.c — writing a figure (chart.h): its PNG and its SVG, of the same size, each
 * drawn by chart.c into a temporary file that is renamed into place once complete, so a reader never
 * sees half a plot and a failed write leaves no file behind. */
#include "chart_internal.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PATH_CAP 4096

void app_chart_size(const app_figure *f, int *width, int *height)
{
    int w = 0, h = 0;
    char err[8];
    if (f && chart_check_figure("", f, err, sizeof err) == 0) {
        chart_layout L;
        chart_compute_layout(f, &L);
        w = L.w, h = L.h;
    }
    if (width) *width = w;
    if (height) *height = h;
}

typedef struct sink { FILE *fp; int err; } sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
    sink *k = closure;
    if (fwrite(data, 1, len, k->fp) == len) return CAIRO_STATUS_SUCCESS;
    if (!k->err) k->err = errno ? errno : EIO;
    return CAIRO_STATUS_WRITE_ERROR;
}

static cairo_status_t render(const app_figure *f, const chart_layout *L, int svg, sink *k)
{
    cairo_surface_t *s = svg ? cairo_svg_surface_create_for_stream(sink_write, k, L->w, L->h)
                             : cairo_image_surface_create(CAIRO_FORMAT_RGB24, L->w, L->h);
    cairo_status_t st = cairo_surface_status(s);
    if (st == CAIRO_STATUS_SUCCESS) st = chart_draw_figure(s, f, L);
    if (st == CAIRO_STATUS_SUCCESS && !svg) st = cairo_surface_write_to_png_stream(s, sink_write, k);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    return st;
}

/* base.ext via base.ext.tmp, which is removed when anything fails */
static int write_one(const char *base, const char *ext, const app_figure *f, const chart_layout *L, char *err,
                     size_t errlen)
{
    char path[PATH_CAP], tmp[PATH_CAP + 8];
    snprintf(path, sizeof path, "%s.%s", base, ext);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    errno = 0;
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return chart_fail(err, errlen, "%s: cannot create the file: %s", path, strerror(errno));
    sink k = {fp, 0};
    const cairo_status_t st = render(f, L, strcmp(ext, "svg") == 0, &k);
    if (fclose(fp) != 0 && !k.err) k.err = errno ? errno : EIO;
    if (st != CAIRO_STATUS_SUCCESS || k.err) {
        remove(tmp);
        return chart_fail(err, errlen, "%s: %s", path, k.err ? strerror(k.err) : cairo_status_to_string(st));
    }
    if (rename(tmp, path) != 0) {
        const int e = errno;
        remove(tmp);
        return chart_fail(err, errlen, "%s: cannot rename the temporary file into place: %s", path, strerror(e));
    }
    return 0;
}

int app_chart_write(const char *base, const app_figure *f, char *err, size_t errlen)
{
    if (!base || !base[0]) return chart_fail(err, errlen, "chart: no output path given");
    if (strlen(base) + 9 > PATH_CAP) return chart_fail(err, errlen, "%.64s...: the output path is too long", base);
    if (!f) return chart_fail(err, errlen, "%s: no figure given", base);
    if (chart_check_figure(base, f, err, errlen)) return -1;
    chart_layout L;
    chart_compute_layout(f, &L);
    if (write_one(base, "png", f, &L, err, errlen)) return -1;
    return write_one(base, "svg", f, &L, err, errlen);
}