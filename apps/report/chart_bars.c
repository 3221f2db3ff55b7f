/* apps/report/chart_bars.c — the bar panels of the chart writer (see chart.h): their checks, the bars
 * (grouped side by side, or stacked), value labels above grouped bars or inside stacked segments,
 * the category labels under the plot, wrapped and cut to their slots, and how much of a legend box
 * would hide bars. The axes of a bar panel are fitted in chart_axes.c. */
#include "chart_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_LINES 4             /* of one category label */
#define LINE_CAP 192
#define LABEL_FONT 11
#define VALUE_FONT 10
#define BREAK_AFTER "-/_,"     /* where a label too wide for its slot may be wrapped */

enum { NO_VALUES, LEVEL_VALUES, UPRIGHT_VALUES }; /* how grouped bars' value labels are written */

typedef struct label {
    char line[MAX_LINES][LINE_CAP];
    int later[MAX_LINES];       /* the line belongs to a part after the first '\n' */
    int n;
} label;

/* ---- checks ---- */

int chart_bars_check(const char *where, const app_panel *p, char *err, size_t errlen)
{
    if (p->bars < 0 || p->bars > 2) return chart_fail(err, errlen, "%s: bars %d is not 0, 1 or 2", where, p->bars);
    if (!p->bars) return 0;
    if (p->ncats < 1 || p->ncats > APP_CHART_MAX_CATS)
        return chart_fail(err, errlen, "%s: %d bar categories (1..%d allowed)", where, p->ncats, APP_CHART_MAX_CATS);
    if (p->logx) return chart_fail(err, errlen, "%s: a bar panel has categories along x, not a log axis", where);
    if (p->bars == 2 && p->logy) return chart_fail(err, errlen, "%s: stacked bars need a linear y axis", where);
    for (int i = 0; i < p->ncats; i++) {
        char name[48];
        snprintf(name, sizeof name, "category label %d", i + 1);
        if (chart_check_text(p->categories[i], sizeof p->categories[i], where, name, err, errlen)) return -1;
    }
    for (int i = 0; i < p->nrefs; i++)
        if (p->refs[i].vertical)
            return chart_fail(err, errlen, "%s: reference line %d is vertical; bar panels take horizontal ones only",
                              where, i + 1);
    for (int k = 0; k < p->nseries; k++) {
        const app_series *s = &p->series[k];
        if (s->n != p->ncats)
            return chart_fail(err, errlen, "%s series %d: %d values for %d bar categories (n must be ncats)", where,
                              k + 1, s->n, p->ncats);
        for (int i = 0; i < s->n && p->bars == 2; i++)
            if (s->y[i] < 0)
                return chart_fail(err, errlen, "%s series %d: stacked bars take no negative values (%g in "
                                  "category %d)", where, k + 1, s->y[i], i + 1);
    }
    return 0;
}

/* ---- category labels ---- */

/* s[0..n) without trailing spaces, into out */
static void copy_trimmed(const char *s, size_t n, char *out, size_t cap)
{
    while (n > 0 && s[n - 1] == ' ') n--;
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

static int in_word(char c) { return isalnum((unsigned char)c) || (unsigned char)c >= 0x80; }

/* the length of the longest head of s[0..len) no wider than w that ends after a space, else after
 * another break (BREAK_AFTER), else inside a word with a hyphen added (*hyphen = 1), else at a
 * character boundary; one character at least */
static size_t head_that_fits(cairo_t *cr, const char *s, size_t len, double w, int *hyphen)
{
    size_t at_space = 0, at_break = 0, at_hyphen = 0, at_char = 0;
    for (size_t n = 1; n <= len; n++) {
        if (n < len && ((unsigned char)s[n] & 0xC0) == 0x80) continue; /* inside a character */
        char head[LINE_CAP + 1];
        copy_trimmed(s, n, head, LINE_CAP);
        if (at_char > 0 && chart_text_w(cr, head) > w) break;
        at_char = n;
        if (s[n - 1] == ' ') at_space = n;
        else if (strchr(BREAK_AFTER, s[n - 1])) at_break = n;
        else if (n >= 2 && n < len && in_word(s[n - 1]) && in_word(s[n]))
            at_hyphen = chart_text_w(cr, strcat(head, "-")) <= w ? n : at_hyphen;
    }
    *hyphen = !at_space && !at_break && at_hyphen;
    return at_space ? at_space : at_break ? at_break : at_hyphen ? at_hyphen : at_char;
}

/* category label s in lines no wider than w, maxl at most: each '\n' starts a part on a new line,
 * a part too wide is wrapped, and a line that has to hold the rest when it is too wide is cut with
 * an ellipsis (each later part keeps a line of its own while there are lines left) */
static void wrap_label(cairo_t *cr, const char *s, double w, int maxl, label *L)
{
    int parts = 1;
    for (const char *c = s; *c; c++) parts += *c == '\n';
    L->n = 0;
    for (int j = 0; j < parts && L->n < maxl; j++) {
        const size_t len = strcspn(s, "\n");
        const char *t = s;
        size_t left = len;
        const int later = parts - j - 1, room = maxl - L->n - later;
        for (int allow = room > 1 ? room : 1; left > 0 && allow > 0; allow--) {
            char rest[LINE_CAP];
            copy_trimmed(t, left, rest, sizeof rest);
            L->later[L->n] = j > 0;
            if (allow == 1 || chart_text_w(cr, rest) <= w) {
                chart_fit_text(cr, rest, w, L->line[L->n++], LINE_CAP);
                break;
            }
            int hyphen;
            const size_t head = head_that_fits(cr, t, left, w, &hyphen);
            copy_trimmed(t, head, L->line[L->n], LINE_CAP - 1);
            if (hyphen) strcat(L->line[L->n], "-");
            L->n++;
            for (t += head, left -= head; left > 0 && *t == ' '; t++, left--) {}
        }
        s += len + (s[len] == '\n');
    }
}

int chart_bars_label_lines(cairo_t *cr, const app_panel *p, double slot)
{
    int most = 1;
    chart_set_font(cr, LABEL_FONT, 0);
    for (int i = 0; i < p->ncats; i++) {
        label L;
        wrap_label(cr, p->categories[i], slot - 6, MAX_LINES, &L);
        most = L.n > most ? L.n : most;
    }
    return most;
}

void chart_bars_labels(cairo_t *cr, const frame *fr, const app_panel *p)
{
    const rect *r = &fr->plot;
    chart_set_font(cr, LABEL_FONT, 0);
    for (int i = 0; i < p->ncats; i++) {
        label L;
        wrap_label(cr, p->categories[i], (r->r - r->l) / p->ncats - 6, fr->label_lines, &L);
        for (int j = 0; j < L.n; j++) {
            chart_ink(cr, L.later[j] ? 0.4 : 0.1);
            chart_text_at(cr, L.line[j], chart_px(fr, i), r->b + 7 + j * CHART_LABEL_LINE, 0.5, 0);
        }
    }
}

/* ---- bars ---- */

static double bar_width(const app_panel *p, double slot)
{
    return p->bars == 2 ? fmin(0.6 * slot, 96) : fmin(0.8 * slot / fmax(1, p->nseries), 72);
}

/* the rectangle of series k's bar (or segment) in category i, on whole pixels; 0: no bar */
static int bar_rect(const frame *fr, const app_panel *p, int k, int i, rect *out)
{
    const double v = p->series[k].y[i], w = bar_width(p, (fr->plot.r - fr->plot.l) / p->ncats);
    if (!chart_ok_value(v, p->logy) || (p->bars == 2 && v <= 0)) return 0;
    double x = chart_px(fr, i), base, top;
    if (p->bars == 2) {
        double under = 0;
        for (int j = 0; j < k; j++) {
            const double u = p->series[j].y[i];
            under += chart_ok_value(u, 0) && u > 0 ? u : 0;
        }
        base = chart_py(fr, under), top = chart_py(fr, under + v);
    } else {
        x += (k - (p->nseries - 1) / 2.0) * w;
        base = p->logy ? fr->plot.b : chart_py(fr, 0), top = chart_py(fr, v);
    }
    *out = (rect){round(x - w / 2), round(fmin(base, top)), round(x + w / 2), round(fmax(base, top))};
    return 1;
}

/* 912, 45, 4.6, 0.12, 1.23e6 */
static void value_text(double v, char *buf, size_t n)
{
    const double a = fabs(v);
    if (a >= 1e6 || (a > 0 && a < 0.01)) {
        const int e = (int)floor(log10(a));
        snprintf(buf, n, "%.3ge%d", v / pow(10, e), e);
    } else {
        snprintf(buf, n, a >= 10 ? "%.0f" : "%.2g", v);
    }
}

/* grouped bars' value labels: level when the widest fits a bar, else upright, or none when the bars
 * are too thin even for that; *widest is the widest label */
static int value_mode(cairo_t *cr, const app_panel *p, double slot, double *widest)
{
    *widest = 0;
    if (p->bars != 1 || !p->value_labels) return NO_VALUES;
    chart_set_font(cr, VALUE_FONT, 0);
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->series[k].n; i++) {
            char t[48];
            if (!chart_ok_value(p->series[k].y[i], p->logy)) continue;
            value_text(p->series[k].y[i], t, sizeof t);
            *widest = fmax(*widest, chart_text_w(cr, t));
        }
    const double w = bar_width(p, slot);
    return *widest <= w - 2 ? LEVEL_VALUES : w >= 9 ? UPRIGHT_VALUES : NO_VALUES;
}

double chart_bars_value_room(cairo_t *cr, const app_panel *p, double slot)
{
    double widest;
    const int mode = value_mode(cr, p, slot, &widest);
    return mode == LEVEL_VALUES ? 14 : mode == UPRIGHT_VALUES ? widest + 6 : 0;
}

/* bar r's value: above it (below a negative bar), level or turned upright */
static void value_above(cairo_t *cr, const rect *r, double v, int mode)
{
    char t[48];
    const int down = v < 0;
    const double x = (r->l + r->r) / 2, y = down ? r->b + 4 : r->t - 4;
    value_text(v, t, sizeof t);
    chart_ink(cr, 0.2);
    if (mode == LEVEL_VALUES) {
        chart_text_at(cr, t, x, y, 0.5, down ? 0 : 1);
        return;
    }
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -M_PI / 2);
    chart_text_at(cr, t, 0, 0, down, 0.5);
    cairo_restore(cr);
}

/* a stacked segment's value, centred in it when it has room, dark or white as its colour needs */
static void value_inside(cairo_t *cr, const rect *r, double v, rgb c)
{
    char t[48];
    value_text(v, t, sizeof t);
    if (r->b - r->t < 13 || chart_text_w(cr, t) > r->r - r->l - 4) return;
    chart_ink(cr, 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b > 0.5 ? 0.1 : 1);
    chart_text_at(cr, t, (r->l + r->r) / 2, (r->t + r->b) / 2, 0.5, 0.5);
}

void chart_bars_draw(cairo_t *cr, const frame *fr, const app_panel *p)
{
    double widest;
    const int mode = value_mode(cr, p, (fr->plot.r - fr->plot.l) / p->ncats, &widest);
    chart_set_font(cr, VALUE_FONT, 0);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, 1);
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->ncats; i++) {
            rect r;
            if (!bar_rect(fr, p, k, i, &r)) continue;
            const rgb c = chart_color(p->series[k].color);
            cairo_new_path(cr);
            cairo_rectangle(cr, r.l, r.t, r.r - r.l, r.b - r.t);
            cairo_set_source_rgb(cr, c.r, c.g, c.b);
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_stroke(cr);
            if (p->bars == 2 && p->value_labels) value_inside(cr, &r, p->series[k].y[i], c);
            if (mode != NO_VALUES) value_above(cr, &r, p->series[k].y[i], mode);
        }
    if (!p->logy && fr->y.lo < 0 && fr->y.hi > 0) { /* the base line of bars on both sides of 0 */
        const double y = floor(chart_py(fr, 0)) + 0.5;
        chart_ink(cr, 0.25);
        cairo_move_to(cr, fr->plot.l, y), cairo_line_to(cr, fr->plot.r, y), cairo_stroke(cr);
    }
}

int chart_bars_crowding(const frame *fr, const app_panel *p, const rect *b)
{
    int hits = 0;
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->ncats; i++) {
            rect r;
            if (!bar_rect(fr, p, k, i, &r)) continue;
            r.t -= p->bars == 1 && p->value_labels ? 14 : 0;
            const double w = fmin(r.r, b->r + 4) - fmax(r.l, b->l - 4);
            const double h = fmin(r.b, b->b + 4) - fmax(r.t, b->t - 4);
            if (w > 0 && h > 0) hits += 1 + (int)(w * h / 64);
        }
    return hits;
}
