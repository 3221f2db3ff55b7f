/* tests/data/test_subset.c — the subsets of apps/data/subset.c on synthetic data sets:
 *   app_lt_counts              K 1, 2, 10, 100 x rho 1, 10, 100 against the formula;
 *   app_dataset_imbalance      per-class sizes, the smallest class as n_max, class order,
 *                              determinism by seed, original order kept, pixels still matching
 *                              their labels, errors leaving the data set unchanged;
 *   app_dataset_split_classes  relabelling, the unknown set's content, errors;
 *   app_parse_class_list       good lists and every kind of bad item.
 * Every synthetic sample's pixels encode its original index and its label, so a kept sample can
 * be traced back to where it came from.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIX 4 /* 1 x 2 x 2 */

/* A data set of K classes; sample i has label labels[i] (or i % K when labels is NULL) and pixels
 * (i & 255, (i >> 8) & 255, label, 0xA5). */
static app_dataset make_set(int count, int K, const int32_t *labels)
{
    app_dataset d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "synthetic");
    d.count = count;
    d.channels = 1;
    d.height = 2;
    d.width = 2;
    d.classes = K;
    d.pixels = malloc((size_t)count * PIX);
    d.labels = malloc((size_t)count * sizeof *d.labels);
    if (!d.pixels || !d.labels) {
        fprintf(stderr, "FAIL out of memory\n");
        exit(1);
    }
    for (int i = 0; i < count; i++) {
        d.labels[i] = labels ? labels[i] : i % K;
        uint8_t *p = d.pixels + (size_t)i * PIX;
        p[0] = (uint8_t)(i & 255);
        p[1] = (uint8_t)((i >> 8) & 255);
        p[2] = (uint8_t)d.labels[i];
        p[3] = 0xA5;
    }
    return d;
}

static int original_index(const app_dataset *d, int i)
{
    const uint8_t *p = d->pixels + (size_t)i * PIX;
    return p[0] | (p[1] << 8);
}

/* Every sample's pixels are intact, its original label is label_of[its label] (identity when
 * label_of is NULL), and original indices increase (the original order is kept). */
static void check_samples(test_ctx *t, const app_dataset *d, const int *label_of, const char *what)
{
    int bad_pix = 0, bad_order = 0, prev = -1;
    for (int i = 0; i < d->count; i++) {
        const uint8_t *p = d->pixels + (size_t)i * PIX;
        int orig = label_of ? label_of[d->labels[i]] : d->labels[i];
        bad_pix += p[2] != orig || p[3] != 0xA5;
        int idx = original_index(d, i);
        bad_order += idx <= prev;
        prev = idx;
    }
    CHECK(t, bad_pix == 0, "%s: %d samples whose pixels do not match their label", what, bad_pix);
    CHECK(t, bad_order == 0, "%s: %d samples out of their original order", what, bad_order);
}

static void class_sizes(const app_dataset *d, int *sizes)
{
    memset(sizes, 0, (size_t)d->classes * sizeof *sizes);
    for (int i = 0; i < d->count; i++)
        sizes[d->labels[i]]++;
}

/* ---- app_lt_counts ---- */

static void lt_counts(test_ctx *t)
{
    const int Ks[] = {2, 10, 100};
    const double rhos[] = {1, 10, 100};
    int counts[100];
    for (size_t a = 0; a < sizeof Ks / sizeof *Ks; a++) {
        for (size_t b = 0; b < sizeof rhos / sizeof *rhos; b++) {
            const int K = Ks[a], n_max = 500;
            const double rho = rhos[b];
            app_lt_counts(n_max, K, rho, counts);
            int bad = 0;
            for (int k = 0; k < K; k++) {
                double want = round(n_max * pow(rho, -(double)k / (K - 1)));
                bad += counts[k] != (want < 1 ? 1 : (int)want);
            }
            CHECK(t, bad == 0, "lt_counts K=%d rho=%g: %d counts off the formula", K, rho, bad);
            CHECK(t, counts[0] == n_max, "lt_counts K=%d rho=%g: head %d, want %d", K, rho,
                  counts[0], n_max);
            CHECK(t, counts[K - 1] == (int)round(n_max / rho),
                  "lt_counts K=%d rho=%g: tail %d, want n_max/rho", K, rho, counts[K - 1]);
        }
    }
    app_lt_counts(7, 1, 100, counts);
    CHECK(t, counts[0] == 7, "lt_counts K=1: %d, want n_max 7", counts[0]);
    app_lt_counts(10, 3, 1000, counts);
    CHECK(t, counts[0] == 10 && counts[1] == 1 && counts[2] == 1,
          "lt_counts floor at 1: %d %d %d, want 10 1 1", counts[0], counts[1], counts[2]);
}

/* ---- app_dataset_imbalance ---- */

static void imbalance_profile(test_ctx *t)
{
    const int K = 10, per = 50;
    const double rho = 10;
    int profile[10], got[10], sizes[10];
    char err[APP_ERRLEN] = "";
    app_lt_counts(per, K, rho, profile);

    app_dataset d = make_set(K * per, K, NULL);
    int rc = app_dataset_imbalance(&d, rho, NULL, 0, 7, got, err, sizeof err);
    CHECK(t, rc == 0, "imbalance: %s", err);
    class_sizes(&d, sizes);
    int total = 0, bad = 0;
    for (int c = 0; c < K; c++) {
        bad += sizes[c] != profile[c] || got[c] != profile[c];
        total += profile[c];
    }
    CHECK(t, bad == 0, "imbalance: %d classes off the profile", bad);
    CHECK(t, d.count == total && d.classes == K, "imbalance: count %d classes %d, want %d %d",
          d.count, d.classes, total, K);
    check_samples(t, &d, NULL, "imbalance");
    app_dataset_free(&d);

    /* reversed order: the most samples in class K-1, the fewest in class 0 */
    int order[10];
    for (int k = 0; k < K; k++)
        order[k] = K - 1 - k;
    d = make_set(K * per, K, NULL);
    rc = app_dataset_imbalance(&d, rho, order, K, 7, got, err, sizeof err);
    CHECK(t, rc == 0, "imbalance reversed: %s", err);
    class_sizes(&d, sizes);
    bad = 0;
    for (int c = 0; c < K; c++)
        bad += sizes[c] != profile[K - 1 - c] || got[c] != sizes[c];
    CHECK(t, bad == 0, "imbalance reversed: %d classes off the reversed profile", bad);
    CHECK(t, sizes[K - 1] == per && sizes[0] == profile[K - 1],
          "imbalance reversed: class K-1 has %d (want %d), class 0 %d (want %d)", sizes[K - 1],
          per, sizes[0], profile[K - 1]);
    check_samples(t, &d, NULL, "imbalance reversed");
    app_dataset_free(&d);

    /* rho = 1 on a balanced set keeps everything */
    d = make_set(K * per, K, NULL);
    rc = app_dataset_imbalance(&d, 1, NULL, 0, 3, NULL, err, sizeof err);
    CHECK(t, rc == 0 && d.count == K * per, "imbalance rho=1: count %d, want %d (%s)", d.count,
          K * per, err);
    check_samples(t, &d, NULL, "imbalance rho=1");
    app_dataset_free(&d);
}

/* Unequal classes (sizes 12, 30, 20): n_max is the smallest, 12. */
static void imbalance_unequal(test_ctx *t)
{
    const int csize[3] = {12, 30, 20};
    int32_t labels[62];
    int at = 0;
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < csize[c]; j++)
            labels[at++] = c;
    /* interleave a little so that classes are not contiguous */
    for (int i = 0; i + 7 < at; i += 5) {
        int32_t tmp = labels[i];
        labels[i] = labels[i + 7];
        labels[i + 7] = tmp;
    }
    char err[APP_ERRLEN] = "";
    int profile[3], sizes[3];
    app_lt_counts(12, 3, 4, profile);
    app_dataset d = make_set(at, 3, labels);
    int rc = app_dataset_imbalance(&d, 4, NULL, 0, 1, NULL, err, sizeof err);
    CHECK(t, rc == 0, "imbalance unequal: %s", err);
    class_sizes(&d, sizes);
    CHECK(t, sizes[0] == profile[0] && sizes[1] == profile[1] && sizes[2] == profile[2],
          "imbalance unequal: sizes %d %d %d, want %d %d %d", sizes[0], sizes[1], sizes[2],
          profile[0], profile[1], profile[2]);
    check_samples(t, &d, NULL, "imbalance unequal");
    app_dataset_free(&d);
}

static int same_set(const app_dataset *a, const app_dataset *b)
{
    return a->count == b->count
           && memcmp(a->labels, b->labels, (size_t)a->count * sizeof *a->labels) == 0
           && memcmp(a->pixels, b->pixels, (size_t)a->count * PIX) == 0;
}

static void imbalance_seeds(test_ctx *t)
{
    const int K = 5, per = 40;
    char err[APP_ERRLEN] = "";
    app_dataset a = make_set(K * per, K, NULL), b = make_set(K * per, K, NULL),
                c = make_set(K * per, K, NULL);
    int ra = app_dataset_imbalance(&a, 8, NULL, 0, 42, NULL, err, sizeof err);
    int rb = app_dataset_imbalance(&b, 8, NULL, 0, 42, NULL, err, sizeof err);
    int rc = app_dataset_imbalance(&c, 8, NULL, 0, 43, NULL, err, sizeof err);
    CHECK(t, ra == 0 && rb == 0 && rc == 0, "imbalance seeds: %s", err);
    CHECK(t, same_set(&a, &b), "imbalance: the same seed gave another subset");
    CHECK(t, a.count == c.count, "imbalance: another seed changed the size %d -> %d", a.count,
          c.count);
    CHECK(t, !same_set(&a, &c), "imbalance: another seed gave the same subset");
    check_samples(t, &c, NULL, "imbalance seed 43");
    app_dataset_free(&a);
    app_dataset_free(&b);
    app_dataset_free(&c);
}

static void imbalance_errors(test_ctx *t)
{
    const int K = 4;
    char err[APP_ERRLEN];
    app_dataset d = make_set(40, K, NULL);
    const double bad_rho[] = {0.5, 0, -3, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_rho / sizeof *bad_rho; i++) {
        err[0] = '\0';
        int rc = app_dataset_imbalance(&d, bad_rho[i], NULL, 0, 1, NULL, err, sizeof err);
        EXPECT_ERROR(t, rc, err, "imbalance ratio", "imbalance bad rho");
    }
    const int short_order[] = {0, 1, 2}, repeated[] = {0, 1, 1, 3}, low[] = {0, 1, -1, 3},
              high[] = {0, 1, 2, 4};
    err[0] = '\0';
    int rc = app_dataset_imbalance(&d, 10, short_order, 3, 1, NULL, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "lists 3 classes", "imbalance short order");
    err[0] = '\0';
    rc = app_dataset_imbalance(&d, 10, repeated, K, 1, NULL, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "repeated", "imbalance repeated order");
    err[0] = '\0';
    rc = app_dataset_imbalance(&d, 10, low, K, 1, NULL, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "outside", "imbalance negative id in order");
    err[0] = '\0';
    rc = app_dataset_imbalance(&d, 10, high, K, 1, NULL, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "outside", "imbalance id K in order");
    CHECK(t, d.count == 40 && d.classes == K, "imbalance errors changed the set (count %d)",
          d.count);
    check_samples(t, &d, NULL, "imbalance after errors");
    app_dataset_free(&d);

    /* a class without samples */
    int32_t labels[6] = {0, 1, 0, 1, 0, 1};
    d = make_set(6, 3, labels);
    err[0] = '\0';
    rc = app_dataset_imbalance(&d, 2, NULL, 0, 1, NULL, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "class 2", "imbalance empty class");
    app_dataset_free(&d);
}

/* ---- app_dataset_split_classes ---- */

static void split_classes(test_ctx *t)
{
    const int K = 5, count = 53;
    char err[APP_ERRLEN] = "";
    app_dataset d = make_set(count, K, NULL), unknown;
    int orig[5];
    class_sizes(&d, orig);
    const int known[] = {3, 1};
    int rc = app_dataset_split_classes(&d, known, 2, &unknown, err, sizeof err);
    CHECK(t, rc == 0, "split: %s", err);
    if (rc != 0) {
        app_dataset_free(&d);
        return;
    }
    int sizes[5];
    class_sizes(&d, sizes);
    CHECK(t, d.classes == 2, "split: classes %d, want 2", d.classes);
    CHECK(t, d.count == orig[3] + orig[1] && sizes[0] == orig[3] && sizes[1] == orig[1],
          "split: known sizes %d %d, want %d %d", sizes[0], sizes[1], orig[3], orig[1]);
    check_samples(t, &d, known, "split known");

    CHECK(t, unknown.classes == K && unknown.count == count - d.count,
          "split: unknown has %d samples of %d classes, want %d of %d", unknown.count,
          unknown.classes, count - d.count, K);
    CHECK(t, unknown.channels == 1 && unknown.height == 2 && unknown.width == 2,
          "split: unknown shape %dx%dx%d", unknown.channels, unknown.height, unknown.width);
    CHECK(t, strstr(unknown.name, "unknown") != NULL, "split: unknown name \"%s\"", unknown.name);
    int stray = 0;
    for (int i = 0; i < unknown.count; i++)
        stray += unknown.labels[i] == 1 || unknown.labels[i] == 3;
    CHECK(t, stray == 0, "split: %d known samples in the unknown set", stray);
    class_sizes(&unknown, sizes);
    CHECK(t, sizes[0] == orig[0] && sizes[2] == orig[2] && sizes[4] == orig[4],
          "split: unknown sizes %d %d %d, want %d %d %d", sizes[0], sizes[2], sizes[4], orig[0],
          orig[2], orig[4]);
    check_samples(t, &unknown, NULL, "split unknown");
    app_dataset_free(&d);
    app_dataset_free(&unknown);

    /* without an unknown set the others are dropped */
    d = make_set(count, K, NULL);
    const int known3[] = {0, 4, 2};
    rc = app_dataset_split_classes(&d, known3, 3, NULL, err, sizeof err);
    CHECK(t, rc == 0 && d.classes == 3 && d.count == orig[0] + orig[4] + orig[2],
          "split without unknown: rc %d classes %d count %d (%s)", rc, d.classes, d.count, err);
    check_samples(t, &d, known3, "split without unknown");
    app_dataset_free(&d);
}

static void split_errors(test_ctx *t)
{
    char err[APP_ERRLEN];
    app_dataset d = make_set(30, 5, NULL), unknown;
    memset(&unknown, 0, sizeof unknown);
    const int one[] = {1}, all[] = {0, 1, 2, 3, 4}, rep[] = {1, 2, 1}, high[] = {0, 5},
              low[] = {-1, 2};
    struct {
        const int *ids;
        int n;
        const char *want, *what;
    } cases[] = {
        {one, 1, "2..4", "split one class"},
        {all, 5, "2..4", "split all classes"},
        {rep, 3, "repeated", "split repeated id"},
        {high, 2, "outside", "split id K"},
        {low, 2, "outside", "split negative id"},
        {NULL, 2, "no list", "split NULL list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = '\0';
        int rc = app_dataset_split_classes(&d, cases[i].ids, cases[i].n, &unknown, err, sizeof err);
        EXPECT_ERROR(t, rc, err, cases[i].want, cases[i].what);
    }
    CHECK(t, d.count == 30 && d.classes == 5 && unknown.count == 0 && !unknown.pixels,
          "split errors changed the sets (count %d, unknown %d)", d.count, unknown.count);
    app_dataset_free(&d);
}

/* ---- app_parse_class_list ---- */

static void parse_list(test_ctx *t)
{
    int ids[4];
    char err[APP_ERRLEN] = "";
    int n = app_parse_class_list("0,1,2", ids, 4, err, sizeof err);
    CHECK(t, n == 3 && ids[0] == 0 && ids[1] == 1 && ids[2] == 2, "parse \"0,1,2\": %d (%s)", n,
          err);
    n = app_parse_class_list(" 7 , 12,3 ", ids, 4, err, sizeof err);
    CHECK(t, n == 3 && ids[0] == 7 && ids[1] == 12 && ids[2] == 3, "parse with spaces: %d (%s)",
          n, err);
    n = app_parse_class_list("9", ids, 1, err, sizeof err);
    CHECK(t, n == 1 && ids[0] == 9, "parse one item: %d (%s)", n, err);

    struct {
        const char *text;
        int max;
        const char *want;
    } bad[] = {
        {"", 4, "empty"},
        {"   ", 4, "empty"},
        {NULL, 4, "nothing"},
        {"1,,2", 4, "item 2 is empty"},
        {",1", 4, "item 1 is empty"},
        {"1,", 4, "item 2 is empty"},
        {"a", 4, "item 1 (\"a\")"},
        {"1,2x", 4, "item 2 (\"2x\")"},
        {"1 2", 4, "item 1 (\"1 2\")"},
        {"+3", 4, "item 1 (\"+3\")"},
        {"99999999999", 4, "item 1 (\"99999999999\")"},
        {"1,2,3,4,5", 4, "more than 4"},
        {"1,2", 1, "more than 1 item"},
        {"0,-1", 4, "item 2 (\"-1\") is negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        n = app_parse_class_list(bad[i].text, ids, bad[i].max, err, sizeof err);
        char what[96];
        snprintf(what, sizeof what, "parse \"%s\"", bad[i].text ? bad[i].text : "(null)");
        EXPECT_ERROR(t, n == -1 ? -1 : 0, err, bad[i].want, what);
    }
}

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-subset") != 0)
        return 1;
    lt_counts(&t);
    imbalance_profile(&t);
    imbalance_unequal(&t);
    imbalance_seeds(&t);
    imbalance_errors(&t);
    split_classes(&t);
    split_errors(&t);
    parse_list(&t);
    return test_end(&t);
}
