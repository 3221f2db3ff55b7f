/* apps/data/subset.c — subsets of a data set for the long-tailed and open-set protocols
 * (science.md §6): the exponential long-tailed profile and a seeded subsample to it, the split
 * into known classes (relabelled) and unknown ones, and the parser for "0,1,2" class lists.
 */
#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small deterministic generator (splitmix64), one stream per (seed, class) ---- */

typedef struct subset_rng {
    uint64_t state;
} subset_rng;

static uint64_t rng_next(subset_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static subset_rng rng_for_class(uint64_t seed, int class_id)
{
    subset_rng r = {seed};
    uint64_t key = rng_next(&r) ^ ((uint64_t)(unsigned)class_id * 0xD1B54A32D192ED03ull);
    r.state = key;
    (void)rng_next(&r);
    return r;
}

/* Uniform in [0, bound), bound >= 1, without modulo bias. */
static uint64_t rng_below(subset_rng *r, uint64_t bound)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return x % bound;
}

/* ---- shared checks and the in-place compaction ---- */

static size_t sample_bytes(const app_dataset *d)
{
    return (size_t)d->channels * (size_t)d->height * (size_t)d->width;
}

/* d must be a loaded data set whose labels all lie in 0..classes-1. */
static int check_dataset(const app_dataset *d, const char *what, char *err, size_t errlen)
{
    if (!d || d->count < 0 || d->classes < 1 || (d->count > 0 && (!d->pixels || !d->labels))) {
        app_data_error(err, errlen, "%s: no data set loaded", what);
        return -1;
    }
    for (int i = 0; i < d->count; i++) {
        if (d->labels[i] < 0 || d->labels[i] >= d->classes) {
            app_data_error(err, errlen, "%s: sample %d of %s has label %d outside 0..%d", what, i,
                           d->name, (int)d->labels[i], d->classes - 1);
            return -1;
        }
    }
    return 0;
}

/* ids[0..n) must be distinct class ids in 0..classes-1; seen is scratch of `classes` bytes. */
static int check_class_ids(const int *ids, int n, int classes, unsigned char *seen, const char *what,
                           char *err, size_t errlen)
{
    memset(seen, 0, (size_t)classes);
    for (int k = 0; k < n; k++) {
        if (ids[k] < 0 || ids[k] >= classes) {
            app_data_error(err, errlen, "%s: class id %d (entry %d) is outside 0..%d", what,
                           ids[k], k + 1, classes - 1);
            return -1;
        }
        if (seen[ids[k]]) {
            app_data_error(err, errlen, "%s: class id %d is repeated (entry %d)", what, ids[k],
                           k + 1);
            return -1;
        }
        seen[ids[k]] = 1;
    }
    return 0;
}

/* Keeps the samples i with new_label[i] >= 0, in their order, with that label; shrinks the arrays
 * to what is kept (a failed shrink keeps the larger block, which is harmless). */
static void compact(app_dataset *d, const int32_t *new_label)
{
    const size_t sb = sample_bytes(d);
    int kept = 0;
    for (int i = 0; i < d->count; i++) {
        if (new_label[i] < 0)
            continue;
        if (kept != i)
            memmove(d->pixels + (size_t)kept * sb, d->pixels + (size_t)i * sb, sb);
        d->labels[kept++] = new_label[i];
    }
    d->count = kept;
    if (kept == 0) {
        free(d->pixels);
        free(d->labels);
        d->pixels = NULL;
        d->labels = NULL;
        return;
    }
    uint8_t *p = sb > 0 ? realloc(d->pixels, (size_t)kept * sb) : NULL;
    if (p)
        d->pixels = p;
    int32_t *l = realloc(d->labels, (size_t)kept * sizeof *l);
    if (l)
        d->labels = l;
}

/* ---- the long-tailed profile ---- */

void app_lt_counts(int n_max, int classes, double rho, int *counts)
{
    if (!counts || classes < 1)
        return;
    if (classes == 1) {
        counts[0] = n_max;
        return;
    }
    for (int k = 0; k < classes; k++) {
        double v = round((double)n_max * pow(rho, -(double)k / (double)(classes - 1)));
        counts[k] = v < 1.0 ? 1 : (v > (double)INT_MAX ? INT_MAX : (int)v);
    }
}

/* Marks, for every class c, want[c] of its sizes[c] samples (a seeded shuffle of its indices) in
 * keep (their class id; -1 for the others). idx (count ints) and start (classes ints) are scratch. */
static void choose_samples(const app_dataset *d, const int *sizes, const int *want, uint64_t seed,
                           int *idx, int *start, int32_t *keep)
{
    int at = 0;
    for (int c = 0; c < d->classes; c++) {
        start[c] = at;
        at += sizes[c];
    }
    for (int i = 0; i < d->count; i++) {
        keep[i] = -1;
        idx[start[d->labels[i]]++] = i;
    }
    for (int c = 0; c < d->classes; c++) {
        const int n = sizes[c];
        int *mine = idx + start[c] - n; /* start[c] now points past class c's indices */
        subset_rng r = rng_for_class(seed, c);
        /* a partial Fisher-Yates shuffle: the first want[c] places are a uniform sample */
        for (int j = 0; j < want[c] && j < n - 1; j++) {
            int pick = j + (int)rng_below(&r, (uint64_t)(n - j));
            int tmp = mine[j];
            mine[j] = mine[pick];
            mine[pick] = tmp;
        }
        for (int j = 0; j < want[c] && j < n; j++)
            keep[mine[j]] = c;
    }
}

int app_dataset_imbalance(app_dataset *d, double rho, const int *class_order, int norder,
                          uint64_t seed, int *counts_out, char *err, size_t errlen)
{
    static const char what[] = "long-tailed subset";
    if (check_dataset(d, what, err, errlen) != 0)
        return -1;
    if (!isfinite(rho) || rho < 1.0) {
        app_data_error(err, errlen, "%s: the imbalance ratio must be a finite number >= 1, got %g",
                       what, rho);
        return -1;
    }
    const int K = d->classes;
    if (class_order && norder != K) {
        app_data_error(err, errlen, "%s: the class order lists %d classes, %s has %d", what,
                       norder, d->name, K);
        return -1;
    }
    int *sizes = calloc((size_t)K * 4, sizeof *sizes);
    int32_t *keep = malloc((size_t)(d->count > 0 ? d->count : 1) * sizeof *keep);
    int *idx = malloc((size_t)(d->count > 0 ? d->count : 1) * sizeof *idx);
    int rc = -1;
    if (!sizes || !keep || !idx) {
        app_data_error(err, errlen, "%s: out of memory for %d samples", what, d->count);
        goto done;
    }
    int *profile = sizes + K, *want = sizes + 2 * K, *start = sizes + 3 * K;
    if (class_order
        && check_class_ids(class_order, norder, K, (unsigned char *)want, what, err, errlen) != 0)
        goto done;
    for (int i = 0; i < d->count; i++)
        sizes[d->labels[i]]++;
    int n_max = INT_MAX;
    for (int c = 0; c < K; c++) {
        if (sizes[c] == 0) {
            app_data_error(err, errlen, "%s: class %d of %s has no samples", what, c, d->name);
            goto done;
        }
        if (sizes[c] < n_max)
            n_max = sizes[c];
    }
    app_lt_counts(n_max, K, rho, profile);
    for (int k = 0; k < K; k++)
        want[class_order ? class_order[k] : k] = profile[k];
    choose_samples(d, sizes, want, seed, idx, start, keep);
    compact(d, keep);
    if (counts_out)
        memcpy(counts_out, want, (size_t)K * sizeof *want);
    rc = 0;
done:
    free(sizes);
    free(keep);
    free(idx);
    return rc;
}

/* ---- known / unknown classes ---- */

/* Copies the samples with new_label[i] < 0 of d into a new data set *out (original labels). */
static int extract_unknown(const app_dataset *d, const int32_t *new_label, app_dataset *out,
                           char *err, size_t errlen)
{
    const size_t sb = sample_bytes(d);
    app_dataset u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%.55s-unknown", d->name);
    u.channels = d->channels;
    u.height = d->height;
    u.width = d->width;
    u.classes = d->classes;
    for (int i = 0; i < d->count; i++)
        u.count += new_label[i] < 0;
    if (u.count > 0) {
        u.labels = malloc((size_t)u.count * sizeof *u.labels);
        u.pixels = sb > 0 ? malloc((size_t)u.count * sb) : NULL;
        if (!u.labels || (sb > 0 && !u.pixels)) {
            app_data_error(err, errlen, "split classes: out of memory for %d unknown samples",
                           u.count);
            app_dataset_free(&u);
            return -1;
        }
    }
    int j = 0;
    for (int i = 0; i < d->count; i++) {
        if (new_label[i] >= 0)
            continue;
        if (sb > 0)
            memcpy(u.pixels + (size_t)j * sb, d->pixels + (size_t)i * sb, sb);
        u.labels[j++] = d->labels[i];
    }
    *out = u;
    return 0;
}

/* The names of the known classes, in their new order (the block keeps every string); without
 * memory for the reordering the names are dropped. */
static void keep_class_names(app_dataset *d, const int *known, int n)
{
    if (!d->class_names)
        return;
    char **kept = malloc((size_t)n * sizeof *kept);
    for (int k = 0; kept && k < n; k++)
        kept[k] = d->class_names[known[k]];
    if (kept)
        memcpy(d->class_names, kept, (size_t)n * sizeof *kept);
    else {
        free(d->class_names);
        d->class_names = NULL;
    }
    free(kept);
}

int app_dataset_split_classes(app_dataset *d, const int *known, int n, app_dataset *unknown,
                              char *err, size_t errlen)
{
    static const char what[] = "split classes";
    if (check_dataset(d, what, err, errlen) != 0)
        return -1;
    if (!known) {
        app_data_error(err, errlen, "%s: no list of known classes given", what);
        return -1;
    }
    if (n < 2 || n >= d->classes) {
        app_data_error(err, errlen,
                       "%s: the known classes must number 2..%d (fewer than the %d of %s), got %d",
                       what, d->classes - 1, d->classes, d->name, n);
        return -1;
    }
    const int K = d->classes;
    int32_t *class_map = malloc((size_t)K * sizeof *class_map);
    int32_t *new_label = malloc((size_t)(d->count > 0 ? d->count : 1) * sizeof *new_label);
    int rc = -1;
    if (!class_map || !new_label) {
        app_data_error(err, errlen, "%s: out of memory for %d samples", what, d->count);
        goto done;
    }
    if (check_class_ids(known, n, K, (unsigned char *)class_map, what, err, errlen) != 0)
        goto done;
    for (int c = 0; c < K; c++)
        class_map[c] = -1;
    for (int k = 0; k < n; k++)
        class_map[known[k]] = k;
    for (int i = 0; i < d->count; i++)
        new_label[i] = class_map[d->labels[i]];
    if (unknown && extract_unknown(d, new_label, unknown, err, errlen) != 0)
        goto done;
    compact(d, new_label);
    d->classes = n;
    keep_class_names(d, known, n);
    rc = 0;
done:
    free(class_map);
    free(new_label);
    return rc;
}

/* ---- "0,1,2" ---- */

void app_open_split(int classes, int known, uint64_t split, int *ids)
{
    int perm[256];
    subset_rng r = rng_for_class(split, -1); /* a stream of its own, apart from the classes' */
    const int K = classes < 256 ? classes : 256;
    for (int k = 0; k < K; k++) perm[k] = k;
    for (int k = K - 1; k > 0; k--) { /* Fisher-Yates */
        const int j = (int)rng_below(&r, (uint64_t)k + 1), t = perm[k];
        perm[k] = perm[j], perm[j] = t;
    }
    for (int i = 1; i < known; i++) /* the first `known`, sorted */
        for (int j = i; j > 0 && perm[j - 1] > perm[j]; j--) {
            const int t = perm[j];
            perm[j] = perm[j - 1], perm[j - 1] = t;
        }
    for (int i = 0; i < known && i < K; i++) ids[i] = perm[i];
}

int app_parse_class_list(const char *text, int *ids, int max, char *err, size_t errlen)
{
    if (!text || !ids || max < 1) {
        app_data_error(err, errlen, "class list: nothing to parse");
        return -1;
    }
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0') {
        app_data_error(err, errlen, "class list is empty");
        return -1;
    }
    int count = 0;
    for (int item = 1;; item++) {
        const char *start = p;
        while (isspace((unsigned char)*start))
            start++;
        const char *end = start;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > start && isspace((unsigned char)last[-1]))
            last--;
        int len = (int)(last - start);
        if (len == 0) {
            app_data_error(err, errlen, "class list \"%s\": item %d is empty", text, item);
            return -1;
        }
        char *stop;
        errno = 0;
        long v = strtol(start, &stop, 10);
        if (stop != last || !isdigit((unsigned char)*start) || errno == ERANGE || v > INT_MAX) {
            if (*start == '-' && stop == last && errno != ERANGE)
                app_data_error(err, errlen, "class list \"%s\": item %d (\"%.*s\") is negative",
                               text, item, len, start);
            else
                app_data_error(err, errlen,
                               "class list \"%s\": item %d (\"%.*s\") is not a class id (a "
                               "whole number 0..%d)",
                               text, item, len, start, INT_MAX);
            return -1;
        }
        if (count == max) {
            app_data_error(err, errlen, "class list \"%s\" has more than %d item%s", text, max,
                           max == 1 ? "" : "s");
            return -1;
        }
        ids[count++] = (int)v;
        if (*end == '\0')
            return count;
        p = end + 1;
    }
}
