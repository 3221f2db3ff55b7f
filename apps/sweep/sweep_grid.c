/* apps/sweep/sweep_grid.c — the grid of a sweep: its lists (gammas, losses, seeds, bias inits),
 * the cells they make and the cells' folder names, and how a rerun may grow a grid. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_gammas(const char *v, sw_grid *g, char *err, size_t errlen)
{
    char items[SW_MAX_VALUES][32];
    const int n = split("gammas", v, items, SW_MAX_VALUES, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        const double x = strtod(items[i], &end);
        if (end == items[i] || *end || errno || !isfinite(x) || x <= 0 || x > 1e4) {
            snprintf(err, errlen, "--gammas: '%s' is not a number in (0, 10000]", items[i]);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (g->gammas[j] == x) {
                snprintf(err, errlen, "--gammas: %s and %s are the same gamma", items[j], items[i]);
                return -1;
            }
        g->gammas[i] = x;
    }
    g->ngammas = n;
    return 0;
}

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

/* "N": seeds 1..N; "A,B,...": those seeds */
static int parse_seeds(const char *v, sw_grid *g, char *err, size_t errlen)
{
    if (!strchr(v, ',')) {
        uint64_t n;
        if (parse_u64(v, &n) != 0 || n < 1 || n > SW_MAX_VALUES) {
            snprintf(err, errlen, "--seeds: '%.60s' is neither a count in [1, %d] nor a list of seeds "
                     "(S1,S2,...)", v, SW_MAX_VALUES);
            return -1;
        }
        for (uint64_t i = 0; i < n; i++) g->seeds[i] = i + 1;
        g->nseeds = (int)n;
        return 0;
    }
    char items[SW_MAX_VALUES][32];
    const int n = split("seeds", v, items, SW_MAX_VALUES, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++)
        if (parse_u64(items[i], &g->seeds[i]) != 0) {
            snprintf(err, errlen, "--seeds: '%s' is not a non-negative whole number", items[i]);
            return -1;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (g->seeds[i] == g->seeds[j]) {
                snprintf(err, errlen, "--seeds: seed %llu is listed twice", (unsigned long long)g->seeds[i]);
                return -1;
            }
    g->nseeds = n;
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
    if (strcmp(which, "gammas") == 0) return parse_gammas(value, g, err, errlen);
    if (strcmp(which, "losses") == 0) return parse_losses(value, g, err, errlen);
    if (strcmp(which, "seeds") == 0) return parse_seeds(value, g, err, errlen);
    if (strcmp(which, "bias-init") == 0) return parse_bias(value, g, err, errlen);
    snprintf(err, errlen, "unknown grid list '%s'", which);
    return -1;
}

void sw_cell_name(int loss, double gamma, uint64_t seed, const char *bias, char *out, size_t len)
{
    if (!loss) {
        snprintf(out, len, "ce-g%g-s%llu", gamma, (unsigned long long)seed);
        return;
    }
    const int word = strcmp(bias, "zero") == 0 || strcmp(bias, "theory") == 0;
    snprintf(out, len, "bce-g%g-s%llu-%s%s", gamma, (unsigned long long)seed, word ? "" : "b", bias);
}

int sw_cells(const sw_grid *g, sw_cell **out, int *count)
{
    const int nb = g->nbias > 0 ? g->nbias : 1;
    const size_t cap = (size_t)g->nseeds * g->ngammas * g->nlosses * nb;
    sw_cell *c = calloc(cap ? cap : 1, sizeof *c);
    if (!c) return -1;
    int n = 0;
    for (int s = 0; s < g->nseeds; s++)
        for (int i = 0; i < g->ngammas; i++)
            for (int l = 0; l < g->nlosses; l++)
                for (int b = 0; b < (g->losses[l] ? nb : 1); b++) {
                    sw_cell *e = &c[n++];
                    e->loss = g->losses[l];
                    e->gamma = g->gammas[i];
                    e->seed = g->seeds[s];
                    snprintf(e->bias_init, sizeof e->bias_init, "%s",
                             e->loss && g->nbias > 0 ? g->bias_inits[b] : "zero");
                    sw_cell_name(e->loss, e->gamma, e->seed, e->bias_init, e->name, sizeof e->name);
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
    return 0;
}
