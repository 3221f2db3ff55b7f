/* apps/sweep/sweep_grid.c — the grid of a sweep: its lists (gammas, losses, seeds, bias inits,
 * and for the long-tailed and open-set studies imbalance ratios and class splits), the cells they
 * make and the cells' folder names, and how a rerun may grow a grid. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "sweep.h"

/* Splits v at commas into at most max items of at most itemlen chars; no empty items. */
static int split(const char *which, const char *v, char items[][32], int max, char *err, size_t errlen)
{
    int n = 0;
    const char *p = v;
    if (!*v) {
        snprintf(err, errlen, "--%s: empty list", which);
        return -1;
    }
    for (;;) {
        const char *c = strchr(p, ',');
        const size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0) {
            snprintf(err, errlen, "--%s '%.80s': an empty item (two commas, or one at an end)", which, v);
            return -1;
        }
        if (len >= 32 || n == max) {
            snprintf(err, errlen, "--%s '%.80s': %s", which, v,
                     n == max ? "too many values" : "an item is too long");
            return -1;
        }
        memcpy(items[n], p, len);
        items[n][len] = 0;
        n++;
        if (!c) break;
        p = c + 1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(items[i], items[j]) == 0) {
                snprintf(err, errlen, "--%s '%.80s': '%s' is listed twice", which, v, items[i]);
                return -1;
            }
    return n;
}

/* a list of distinct numbers in [lo, hi] (lo itself excluded when open); what names one in
 * messages ("gamma"), range how the range reads */
typedef struct number_list { const char *which, *what, *range; double lo, hi; int open; } number_list;

static int parse_numbers(const number_list *k, const char *v, double *out, int *count, char *err, size_t errlen)
{
    char items[SW_MAX_VALUES][32];
    const int n = split(k->which, v, items, SW_MAX_VALUES, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        const double x = strtod(items[i], &end);
        if (end == items[i] || *end || errno || !isfinite(x) || x < k->lo || (k->open && x == k->lo) || x > k->hi) {
            snprintf(err, errlen, "--%s: '%s' is not %s", k->which, items[i], k->range);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (out[j] == x) {
                snprintf(err, errlen, "--%s: %s and %s are the same %s", k->which, items[j], items[i], k->what);
                return -1;
            }
        out[i] = x;
    }
    *count = n;
    return 0;
}

static const number_list GAMMAS = {"gammas", "gamma", "a number in (0, 10000]", 0, 1e4, 1};
static const number_list RHOS = {"rhos", "ratio", "an imbalance ratio n_max / n_min in [1, 1e6]", 1, 1e6, 0};

static int parse_losses(const char *v, sw_grid *g, char *err, size_t errlen)
{
    char items[2][32];
    const int n = split("losses", v, items, 2, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i], "ce") && strcmp(items[i], "bce")) {
            snprintf(err, errlen, "--losses: '%s' is not ce or bce", items[i]);
            return -1;
        }
        g->losses[i] = strcmp(items[i], "bce") == 0;
    }
    g->nlosses = n;
    return 0;
}

static int parse_u64(const char *s, uint64_t *x)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+' || !*s) return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return -1;
    *x = (uint64_t)v;
    return 0;
}

/* "N": 1..N; "A,B,...": those values (which: "seeds" or "splits") */
static int parse_counted(const char *which, const char *v, uint64_t *out, int *count, char *err, size_t errlen)
{
    const char *what = strcmp(which, "seeds") == 0 ? "seed" : "split";
    if (!strchr(v, ',')) {
        uint64_t n;
        if (parse_u64(v, &n) != 0 || n < 1 || n > SW_MAX_VALUES) {
            snprintf(err, errlen, "--%s: '%.60s' is neither a count in [1, %d] nor a list of %ss "
                     "(S1,S2,...)", which, v, SW_MAX_VALUES, what);
            return -1;
        }
        for (uint64_t i = 0; i < n; i++) out[i] = i + 1;
        *count = (int)n;
        return 0;
    }
    char items[SW_MAX_VALUES][32];
    const int n = split(which, v, items, SW_MAX_VALUES, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++)
        if (parse_u64(items[i], &out[i]) != 0 || (out[i] == 0 && what[1] == 'p')) {
            snprintf(err, errlen, "--%s: '%s' is not a %s whole number", which, items[i],
                     what[1] == 'p' ? "positive" : "non-negative");
            return -1;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (out[i] == out[j]) {
                snprintf(err, errlen, "--%s: %s %llu is listed twice", which, what, (unsigned long long)out[i]);
                return -1;
            }
    *count = n;
    return 0;
}

static int parse_bias(const char *v, sw_grid *g, char *err, size_t errlen)
{
    char items[SW_MAX_BIAS][32];
    const int n = split("bias-init", v, items, SW_MAX_BIAS, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i], "zero") && strcmp(items[i], "theory")) {
            char *end;
            errno = 0;
            const double b = strtod(items[i], &end);
            if (end == items[i] || *end || errno || !isfinite(b) || fabs(b) > 1e6) {
                snprintf(err, errlen, "--bias-init: '%s' is not zero, theory or a number", items[i]);
                return -1;
            }
        }
        snprintf(g->bias_inits[i], sizeof g->bias_inits[i], "%s", items[i]);
    }
    g->nbias = n;
    return 0;
}

int sw_parse_list(const char *which, const char *value, sw_grid *g, char *err, size_t errlen)
{
    if (strcmp(which, "gammas") == 0) return parse_numbers(&GAMMAS, value, g->gammas, &g->ngammas, err, errlen);
    if (strcmp(which, "losses") == 0) return parse_losses(value, g, err, errlen);
    if (strcmp(which, "seeds") == 0) return parse_counted(which, value, g->seeds, &g->nseeds, err, errlen);
    if (strcmp(which, "splits") == 0) return parse_counted(which, value, g->splits, &g->nsplits, err, errlen);
    if (strcmp(which, "rhos") == 0) return parse_numbers(&RHOS, value, g->rhos, &g->nrhos, err, errlen);
    if (strcmp(which, "bias-init") == 0) return parse_bias(value, g, err, errlen);
    snprintf(err, errlen, "unknown grid list '%s'", which);
    return -1;
}

void sw_cell_name(const sw_cell *c, char *out, size_t len)
{
    const int word = strcmp(c->bias_init, "zero") == 0 || strcmp(c->bias_init, "theory") == 0;
    int n = snprintf(out, len, "%s-g%g-s%llu", c->loss ? "bce" : "ce", c->gamma, (unsigned long long)c->seed);
    if (c->loss && n >= 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "-%s%s", word ? "" : "b", c->bias_init);
    if (c->rho > 0 && n >= 0 && (size_t)n < len) n += snprintf(out + n, len - (size_t)n, "-rho%g", c->rho);
    if (c->split > 0 && n >= 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "-split%llu", (unsigned long long)c->split);
}

/* "3,5,8" of a split's known classes */
static void known_list(const sw_grid *g, uint64_t split, char *out, size_t len)
{
    int ids[256];
    app_open_split(g->classes, g->known_count, split, ids);
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < g->known_count && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%d", i ? "," : "", ids[i]);
}

int sw_cells(const sw_grid *g, sw_cell **out, int *count)
{
    const int nb = g->nbias > 0 ? g->nbias : 1, nr = g->nrhos > 0 ? g->nrhos : 1;
    const int np = g->nsplits > 0 ? g->nsplits : 1;
    if (g->nsplits > 0 && !(g->classes >= 2 && g->classes <= 256 && g->known_count >= 1 &&
                            g->known_count < g->classes))
        return -1;
    const size_t cap = (size_t)g->nseeds * np * nr * g->ngammas * g->nlosses * nb;
    sw_cell *c = calloc(cap ? cap : 1, sizeof *c);
    if (!c) return -1;
    int n = 0;
    for (int s = 0; s < g->nseeds; s++)
        for (int p = 0; p < np; p++)
            for (int r = 0; r < nr; r++)
                for (int i = 0; i < g->ngammas; i++)
                    for (int l = 0; l < g->nlosses; l++)
                        for (int b = 0; b < (g->losses[l] ? nb : 1); b++) {
                            sw_cell *e = &c[n++];
                            e->loss = g->losses[l];
                            e->gamma = g->gammas[i];
                            e->seed = g->seeds[s];
                            e->rho = g->nrhos > 0 ? g->rhos[r] : 0;
                            e->split = g->nsplits > 0 ? g->splits[p] : 0;
                            if (e->split) known_list(g, e->split, e->known, sizeof e->known);
                            snprintf(e->bias_init, sizeof e->bias_init, "%s",
                                     e->loss && g->nbias > 0 ? g->bias_inits[b] : "zero");
                            sw_cell_name(e, e->name, sizeof e->name);
                        }
    *out = c;
    *count = n;
    return 0;
}

void sw_format_gammas(const sw_grid *g, char *out, size_t len)
{
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < g->ngammas && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%g", i ? "," : "", g->gammas[i]);
}

/* ---- growing a grid ---- */

static int has_double(const double *v, int n, double x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static int has_u64(const uint64_t *v, int n, uint64_t x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static int has_int(const int *v, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static int has_bias(const sw_grid *g, const char *x)
{
    for (int i = 0; i < g->nbias; i++)
        if (strcmp(g->bias_inits[i], x) == 0) return 1;
    return 0;
}

#define DROPPED(what, fmt, val)                                                                  \
    do {                                                                                         \
        snprintf(err, errlen, "--%s leaves out " fmt " of the sweep's grid (sweep.json); a sweep "  \
                 "only grows: list every value it has and add new ones, or use another --out",     \
                 what, val);                                                                     \
        return -1;                                                                               \
    } while (0)

int sw_grid_merge(sw_grid *into, const sw_grid *add, const sw_opts *given, char *err, size_t errlen)
{
    if (given->given_gammas)
        for (int i = 0; i < into->ngammas; i++)
            if (!has_double(add->gammas, add->ngammas, into->gammas[i])) DROPPED("gammas", "gamma %g", into->gammas[i]);
    if (given->given_losses)
        for (int i = 0; i < into->nlosses; i++)
            if (!has_int(add->losses, add->nlosses, into->losses[i]))
                DROPPED("losses", "%s", into->losses[i] ? "bce" : "ce");
    if (given->given_seeds)
        for (int i = 0; i < into->nseeds; i++)
            if (!has_u64(add->seeds, add->nseeds, into->seeds[i]))
                DROPPED("seeds", "seed %llu", (unsigned long long)into->seeds[i]);
    if (given->given_bias)
        for (int i = 0; i < into->nbias; i++)
            if (!has_bias(add, into->bias_inits[i]))
                DROPPED("bias-init", "'%s'", into->bias_inits[i]);
    /* a grid without rhos (splits) has one implicit value, the set as it is (all classes) */
    if (given->given_rhos && into->nrhos == 0) DROPPED("rhos", "%s", "the set as it is (it has no --rhos)");
    if (given->given_rhos)
        for (int i = 0; i < into->nrhos; i++)
            if (!has_double(add->rhos, add->nrhos, into->rhos[i])) DROPPED("rhos", "ratio %g", into->rhos[i]);
    if (given->given_splits && into->nsplits == 0) DROPPED("splits", "%s", "the closed set (it has no --splits)");
    if (given->given_splits)
        for (int i = 0; i < into->nsplits; i++)
            if (!has_u64(add->splits, add->nsplits, into->splits[i]))
                DROPPED("splits", "split %llu", (unsigned long long)into->splits[i]);
    if (given->known_count && into->nsplits && given->known_count != into->known_count) {
        snprintf(err, errlen, "--known-count %d: the sweep's splits have %d known classes (sweep.json); "
                 "use another --out", given->known_count, into->known_count);
        return -1;
    }
    if (given->given_gammas)
        for (int i = 0; i < add->ngammas && into->ngammas < SW_MAX_VALUES; i++)
            if (!has_double(into->gammas, into->ngammas, add->gammas[i]))
                into->gammas[into->ngammas++] = add->gammas[i];
    if (given->given_losses)
        for (int i = 0; i < add->nlosses && into->nlosses < 2; i++)
            if (!has_int(into->losses, into->nlosses, add->losses[i]))
                into->losses[into->nlosses++] = add->losses[i];
    if (given->given_seeds)
        for (int i = 0; i < add->nseeds && into->nseeds < SW_MAX_VALUES; i++)
            if (!has_u64(into->seeds, into->nseeds, add->seeds[i])) into->seeds[into->nseeds++] = add->seeds[i];
    if (given->given_bias)
        for (int i = 0; i < add->nbias && into->nbias < SW_MAX_BIAS; i++)
            if (!has_bias(into, add->bias_inits[i]))
                snprintf(into->bias_inits[into->nbias++], 32, "%s", add->bias_inits[i]);
    if (given->given_rhos)
        for (int i = 0; i < add->nrhos && into->nrhos < SW_MAX_VALUES; i++)
            if (!has_double(into->rhos, into->nrhos, add->rhos[i])) into->rhos[into->nrhos++] = add->rhos[i];
    if (given->given_splits)
        for (int i = 0; i < add->nsplits && into->nsplits < SW_MAX_VALUES; i++)
            if (!has_u64(into->splits, into->nsplits, add->splits[i])) into->splits[into->nsplits++] = add->splits[i];
    return 0;
}
