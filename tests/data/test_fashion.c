/* tests/data/test_fashion.c — the real Fashion-MNIST from the Debian package dataset-fashion-mnist:
 * counts, shape, label histograms, and pixel statistics computed independently from the gzip files
 * (sum of all pixels, first and last labels, one pixel and the pixel sum of the first image).
 * Read from GAMMACL_DATA when it holds fashion-mnist/, else from the package's folder; skipped
 * (exit 77) when neither exists.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEBIAN_FOLDER "/usr/share/datasets/fashion-mnist"

typedef struct expected_split {
    int train, count, per_class;
    unsigned long long pixel_sum, first_image_sum;
    int first_label, last_label, center_pixel; /* center: image 0, row 14, column 14 */
} expected_split;

static void check_split(test_ctx *t, const expected_split *e)
{
    const char *split = e->train ? "train" : "test";
    char err[APP_ERRLEN] = "", name[64];
    app_dataset d;
    int rc = app_dataset_open("fashion-mnist", e->train, &d, err, sizeof err);
    CHECK(t, rc == 0, "fashion-mnist %s: %s", split, err);
    if (rc)
        return;
    snprintf(name, sizeof name, "fashion-mnist/%s", split);
    CHECK(t, strcmp(d.name, name) == 0, "%s: name %s", split, d.name);
    CHECK(t, d.count == e->count && d.channels == 1 && d.height == 28 && d.width == 28 &&
                 d.classes == 10,
          "%s: %d x %dx%dx%d, %d classes", split, d.count, d.channels, d.height, d.width,
          d.classes);
    int histogram[10] = {0};
    for (int i = 0; i < d.count; i++)
        if (d.labels[i] >= 0 && d.labels[i] < 10)
            histogram[d.labels[i]]++;
    for (int c = 0; c < 10; c++)
        CHECK(t, histogram[c] == e->per_class, "%s: class %d has %d samples, expected %d", split,
              c, histogram[c], e->per_class);
    unsigned long long sum = 0, first = 0;
    size_t total = (size_t)d.count * 28 * 28;
    for (size_t i = 0; i < total; i++)
        sum += d.pixels[i];
    for (size_t i = 0; i < 28 * 28; i++)
        first += d.pixels[i];
    CHECK(t, sum == e->pixel_sum, "%s: pixel sum %llu, expected %llu", split, sum, e->pixel_sum);
    CHECK(t, first == e->first_image_sum, "%s: first image sum %llu, expected %llu", split, first,
          e->first_image_sum);
    CHECK(t, d.pixels[14 * 28 + 14] == e->center_pixel, "%s: center pixel %d, expected %d", split,
          d.pixels[14 * 28 + 14], e->center_pixel);
    CHECK(t, d.labels[0] == e->first_label && d.labels[d.count - 1] == e->last_label,
          "%s: first/last labels %d/%d, expected %d/%d", split, d.labels[0],
          d.labels[d.count - 1], e->first_label, e->last_label);
    app_dataset_free(&d);
}

int main(void)
{
    /* the data set where gammacl looks for it: under GAMMACL_DATA when that names a folder with
     * fashion-mnist/ in it, else the Debian package's folder */
    struct stat st;
    char folder[4096];
    const char *root = getenv("GAMMACL_DATA");
    snprintf(folder, sizeof folder, "%s/fashion-mnist", root ? root : "");
    if (!root || !*root || stat(folder, &st) != 0) {
        unsetenv("GAMMACL_DATA");
        snprintf(folder, sizeof folder, "%s", DEBIAN_FOLDER);
    }
    if (stat(folder, &st) != 0) {
        printf("data-fashion: skipped, %s is not installed\n", DEBIAN_FOLDER);
        return 77;
    }
    test_ctx t;
    if (test_begin(&t, "data-fashion"))
        return 1;
    printf("data-fashion: reading %s\n", folder);
    /* Computed once from the gzip files with an independent script (gzip module, plain sums). */
    static const expected_split train = {1, 60000, 6000, 3431114169ULL, 76247ULL, 9, 5, 217};
    static const expected_split test = {0, 10000, 1000, 573469082ULL, 33456ULL, 9, 5, 110};
    check_split(&t, &train);
    check_split(&t, &test);
    return test_end(&t);
}
