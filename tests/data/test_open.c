/* tests/data/test_open.c — app_dataset_open: known names looked up under GAMMACL_DATA, folders
 * holding IDX files, CIFAR batches or PNG trees (with or without train/ and test/), data set
 * names, the messages for missing data, and app_dataset_limit (which must release what it drops);
 * a separate test set (app_dataset_open_test_set: test split, else the whole folder, or one CIFAR
 * batch file), class names of PNG trees and the check that a test set fits a training set.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Writes a tiny IDX pair (count 2x3 images, labels i % 10) as <dir>/<prefix>-*-idx?-ubyte[.gz]. */
static void write_idx(test_ctx *t, const char *dir, const char *prefix, int count, int gz)
{
    uint8_t images[16 + 64 * 6], labels[8 + 64];
    static const uint8_t image_head[] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3};
    static const uint8_t label_head[] = {0, 0, 8, 1, 0, 0, 0, 0};
    memcpy(images, image_head, 16);
    memcpy(labels, label_head, 8);
    images[7] = labels[7] = (uint8_t)count;
    for (int i = 0; i < count * 6; i++)
        images[16 + i] = (uint8_t)i;
    for (int i = 0; i < count; i++)
        labels[8 + i] = (uint8_t)(i % 10);
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    tmp_path(t, rel, path);
    if (gz)
        write_gzip(path, images, 16 + (size_t)count * 6);
    else
        write_bytes(path, images, 16 + (size_t)count * 6);
    snprintf(rel, sizeof rel, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    tmp_path(t, rel, path);
    if (gz)
        write_gzip(path, labels, 8 + (size_t)count);
    else
        write_bytes(path, labels, 8 + (size_t)count);
}

static void expect_open(test_ctx *t, const char *spec, int train, int count, int classes,
                        const char *name)
{
    char err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_dataset_open(spec, train, &d, err, sizeof err);
    CHECK(t, rc == 0, "open %s (%s): %s", spec, train ? "train" : "test", err);
    if (rc)
        return;
    CHECK(t, d.count == count && d.classes == classes, "open %s: %d samples, %d classes; expected "
          "%d, %d", spec, d.count, d.classes, count, classes);
    CHECK(t, strcmp(d.name, name) == 0, "open %s: name \"%s\", expected \"%s\"", spec, d.name,
          name);
    app_dataset_free(&d);
}

static void expect_open_error(test_ctx *t, const char *spec, int train, const char *want,
                              const char *what)
{
    char err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_dataset_open(spec, train, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    if (rc == 0)
        app_dataset_free(&d);
}

static void write_cifar10(test_ctx *t, const char *dir)
{
    uint8_t record[3073] = {3};
    char rel[256], path[1024];
    for (int b = 1; b <= 5; b++) {
        snprintf(rel, sizeof rel, "%s/data_batch_%d.bin", dir, b);
        write_bytes(tmp_path(t, rel, path), record, sizeof record);
    }
    snprintf(rel, sizeof rel, "%s/test_batch.bin", dir);
    write_bytes(tmp_path(t, rel, path), record, sizeof record);
}

static void test_known_names(test_ctx *t)
{
    char root[1024], path[1024];
    setenv("GAMMACL_DATA", tmp_path(t, "root", root), 1);
    make_dir(t, "root");
    make_dir(t, "root/fashion-mnist");
    write_idx(t, "root/fashion-mnist", "train", 12, 1);
    write_idx(t, "root/fashion-mnist", "t10k", 5, 0);
    expect_open(t, "fashion-mnist", 1, 12, 10, "fashion-mnist/train");
    expect_open(t, "fashion-mnist", 0, 5, 10, "fashion-mnist/test");

    expect_open_error(t, "mnist", 1, "root/mnist", "mnist missing: path tried");
    expect_open_error(t, "mnist", 1, "GAMMACL_DATA", "mnist missing: how to get it");
    make_dir(t, "root/mnist");
    write_idx(t, "root/mnist", "train", 4, 0);
    expect_open_error(t, "mnist", 0, "t10k-images-idx3-ubyte.gz", "mnist test missing");
    remove(tmp_path(t, "root/mnist/train-labels-idx1-ubyte", path));
    expect_open_error(t, "mnist", 1, "no train-labels-idx1-ubyte", "mnist label file missing");

    make_dir(t, "root/cifar-10-batches-bin");
    write_cifar10(t, "root/cifar-10-batches-bin");
    expect_open(t, "cifar10", 1, 5, 10, "cifar10/train");
    expect_open(t, "cifar10", 0, 1, 10, "cifar10/test");
    expect_open_error(t, "cifar100", 1, "cifar-100-binary", "cifar100 missing");

    /* a GAMMACL_DATA without the set falls back to the standard folder; found nowhere, the
     * message names the Debian package and both folders */
    setenv("GAMMACL_DATA", tmp_path(t, "nowhere", path), 1);
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist", &st) == 0)
        expect_open(t, "fashion-mnist", 0, 10000, 10, "fashion-mnist/test");
    else
        expect_open_error(t, "fashion-mnist", 1, "dataset-fashion-mnist",
                          "fashion-mnist missing: Debian package named");
    expect_open_error(t, "cifar100", 1, "nowhere/cifar100", "cifar100 missing: GAMMACL_DATA's folder tried");
    expect_open_error(t, "cifar100", 1, "/usr/share/datasets/cifar100", "cifar100 missing: the standard folder tried");
    unsetenv("GAMMACL_DATA");
}

static void test_paths(test_ctx *t)
{
    char path[1024];
    make_dir(t, "myidx");
    write_idx(t, "myidx", "train", 7, 0);
    write_idx(t, "myidx", "t10k", 3, 1);
    expect_open(t, tmp_path(t, "myidx", path), 1, 7, 10, "myidx/train");
    expect_open(t, tmp_path(t, "myidx/", path), 0, 3, 10, "myidx/test");

    make_dir(t, "trainonly");
    write_idx(t, "trainonly", "train", 2, 0);
    expect_open_error(t, tmp_path(t, "trainonly", path), 0, "not for the test split",
                      "IDX folder without the test split");

    make_dir(t, "myc10");
    write_cifar10(t, "myc10");
    expect_open(t, tmp_path(t, "myc10", path), 1, 5, 10, "myc10/train");

    make_dir(t, "split");
    make_dir(t, "split/train");
    make_dir(t, "split/test");
    make_dir(t, "split/train/a");
    make_dir(t, "split/train/b");
    make_dir(t, "split/test/a");
    write_pattern_png(tmp_path(t, "split/train/a/1.png", path), 4, 4, 3, 0);
    write_pattern_png(tmp_path(t, "split/train/b/1.png", path), 4, 4, 3, 1);
    write_pattern_png(tmp_path(t, "split/train/b/2.png", path), 4, 4, 3, 2);
    write_pattern_png(tmp_path(t, "split/test/a/1.png", path), 4, 4, 3, 3);
    expect_open(t, tmp_path(t, "split", path), 1, 3, 2, "split/train");
    expect_open(t, tmp_path(t, "split", path), 0, 1, 1, "split/test");

    expect_open(t, tmp_path(t, "split/train", path), 1, 3, 2, "train/train");
    expect_open_error(t, tmp_path(t, "split/train", path), 0, "no test split",
                      "flat PNG tree has no test split");
    expect_open_error(t, tmp_path(t, "nothing-here", path), 1, "unknown data set",
                      "neither a name nor a folder");
    expect_open_error(t, "", 1, "no data set given", "empty spec");
    make_dir(t, "empty");
    expect_open_error(t, tmp_path(t, "empty", path), 1, "no class sub-folders", "empty folder");
}

static void test_limit(test_ctx *t)
{
    char path[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_dataset_open(tmp_path(t, "myidx", path), 1, &d, err, sizeof err);
    CHECK(t, rc == 0, "open for limit: %s", err);
    if (rc)
        return;
    app_dataset_limit(&d, 0);
    CHECK(t, d.count == 7, "limit 0 keeps everything: %d", d.count);
    app_dataset_limit(&d, 100);
    CHECK(t, d.count == 7, "limit above count keeps everything: %d", d.count);
    app_dataset_limit(&d, 4);
    CHECK(t, d.count == 4 && d.labels[3] == 3 && d.pixels[3 * 6] == 18, "limit 4: count %d",
          d.count);
    app_dataset_free(&d);
    CHECK(t, d.count == 0 && d.pixels == NULL && d.labels == NULL, "free zeroes the struct");
}

/* A synthetic set of n 28x28 gray samples, labels i % 10, in fresh malloc'd blocks. */
static int make_synthetic(app_dataset *d, int n)
{
    memset(d, 0, sizeof *d);
    d->channels = 1, d->height = 28, d->width = 28, d->classes = 10;
    d->pixels = malloc((size_t)n * 784);
    d->labels = malloc((size_t)n * sizeof *d->labels);
    if (!d->pixels || !d->labels) {
        app_dataset_free(d);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        memset(d->pixels + (size_t)i * 784, i & 0xff, 784);
        d->labels[i] = i % 10;
    }
    d->count = n;
    return 0;
}

static void test_limit_releases(test_ctx *t)
{
    app_dataset d;
    if (make_synthetic(&d, 4000)) {
        CHECK(t, 0, "out of memory for the synthetic set");
        return;
    }
    app_dataset_limit(&d, 10);
    CHECK(t, d.count == 10 && d.pixels[9 * 784] == 9 && d.labels[9] == 9,
          "limit 10 of 4000 keeps the first 10: count %d", d.count);
#ifdef __GLIBC__
    /* the 3 MB of pixels shrink to about the 7840 bytes kept (whole pages for an mmapped block) */
    size_t pixels = malloc_usable_size(d.pixels), labels = malloc_usable_size(d.labels);
    CHECK(t, pixels < 10 * 784 + 8192, "limit releases the pixels: %zu bytes still held for %d",
          pixels, 10 * 784);
    CHECK(t, labels < 10 * sizeof(int32_t) + 64, "limit releases the labels: %zu bytes held",
          labels);
#endif
    app_dataset_free(&d);
}

/* A PNG tree <rel>/<class>/<i>.png of n[k] 4x4 RGB images per class names[k]. */
static void write_tree(test_ctx *t, const char *rel, const char *const *names, const int *n,
                       int classes, int side)
{
    char sub[256], path[1024];
    make_dir(t, rel);
    for (int k = 0; k < classes; k++) {
        snprintf(sub, sizeof sub, "%s/%s", rel, names[k]);
        make_dir(t, sub);
        for (int i = 0; i < n[k]; i++) {
            snprintf(sub, sizeof sub, "%s/%s/%d.png", rel, names[k], i);
            write_pattern_png(tmp_path(t, sub, path), side, side, 3, k * 10 + i);
        }
    }
}

static void test_png_first(test_ctx *t)
{
    static const char *const abc[] = {"a", "b", "c"};
    static const int n[] = {2, 2, 1};
    char path[1024], err[APP_ERRLEN] = "";
    write_tree(t, "first", abc, n, 3, 4);
    /* a damaged image past the limit is never decoded */
    write_bytes(tmp_path(t, "first/b/1.png", path), "\x89PNG\r\n\x1a\nbroken", 14);
    app_dataset d;
    int rc = app_dataset_open_first(tmp_path(t, "first", path), 1, 3, &d, err, sizeof err);
    CHECK(t, rc == 0 && d.count == 3 && d.classes == 3, "first 3 of a PNG tree: rc %d, %d "
          "samples, %d classes: %s", rc, d.count, d.classes, err);
    CHECK(t, rc == 0 && d.labels[0] == 0 && d.labels[2] == 1, "first 3 keep the tree's order");
    CHECK(t, rc == 0 && d.class_names && strcmp(d.class_names[0], "a") == 0 &&
          strcmp(d.class_names[2], "c") == 0, "a PNG tree keeps its class folder names");
    if (rc == 0) {
        /* the names follow --known's relabelling */
        static const int known[] = {2, 0};
        rc = app_dataset_split_classes(&d, known, 2, NULL, err, sizeof err);
        CHECK(t, rc == 0 && d.classes == 2 && strcmp(d.class_names[0], "c") == 0 &&
              strcmp(d.class_names[1], "a") == 0, "split classes 2,0 keeps the names c, a: %s",
              err);
        app_dataset_free(&d);
    }
    expect_open_error(t, tmp_path(t, "first", path), 1, "first/b/1.png: damaged PNG",
                      "without a limit the damaged image is read");
}

static void expect_test_set(test_ctx *t, const char *rel, int limit, int count, const char *name)
{
    char path[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_dataset_open_test_set(tmp_path(t, rel, path), limit, &d, err, sizeof err);
    CHECK(t, rc == 0, "test set %s: %s", rel, err);
    if (rc)
        return;
    CHECK(t, d.count == count && strcmp(d.name, name) == 0, "test set %s: %d samples named "
          "\"%s\", expected %d named \"%s\"", rel, d.count, d.name, count, name);
    app_dataset_free(&d);
}

static void expect_test_set_error(test_ctx *t, const char *rel, const char *want,
                                  const char *what)
{
    char path[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_dataset_open_test_set(tmp_path(t, rel, path), 0, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    if (rc == 0)
        app_dataset_free(&d);
}

static void test_test_sets(test_ctx *t)
{
    expect_test_set(t, "split", 0, 1, "split/test");
    expect_test_set(t, "split/train", 0, 3, "train");
    expect_test_set(t, "split/train", 2, 2, "train");
    expect_test_set(t, "myidx", 0, 3, "myidx/test");
    expect_test_set(t, "trainonly", 0, 2, "trainonly");
    expect_test_set(t, "myc10", 0, 1, "myc10/test");
    expect_test_set(t, "myc10/data_batch_2.bin", 0, 1, "data_batch_2.bin");
    char path[1024];
    remove(tmp_path(t, "myc10/test_batch.bin", path));
    expect_test_set(t, "myc10", 0, 5, "myc10");
    expect_test_set_error(t, "myidx/train-labels-idx1-ubyte", "or one CIFAR batch file",
                          "a file that is not a CIFAR batch");
    write_bytes(tmp_path(t, "short.bin", path), "\003abc", 4);
    expect_test_set_error(t, "short.bin", "truncated", "a truncated CIFAR batch file");
    expect_test_set_error(t, "nothing-here", "unknown data set", "a missing test set");
}

/* check_match of two opened data sets must fail with want in its message (NULL: must pass). */
static void expect_match(test_ctx *t, const char *train_rel, const char *test_rel,
                         const char *want)
{
    char path[1024], err[APP_ERRLEN] = "";
    app_dataset a, b;
    int rc = app_dataset_open_test_set(tmp_path(t, train_rel, path), 0, &a, err, sizeof err);
    rc = rc ? rc : app_dataset_open_test_set(tmp_path(t, test_rel, path), 0, &b, err, sizeof err);
    CHECK(t, rc == 0, "open %s and %s: %s", train_rel, test_rel, err);
    if (rc) {
        app_dataset_free(&a);
        return;
    }
    rc = app_dataset_check_match(&a, &b, err, sizeof err);
    if (want)
        EXPECT_ERROR(t, rc, err, want, test_rel);
    else
        CHECK(t, rc == 0, "%s fits %s: %s", test_rel, train_rel, err);
    app_dataset_free(&a);
    app_dataset_free(&b);
}

static void test_match(test_ctx *t)
{
    static const char *const cat_dog[] = {"cat", "dog"}, *const dog_kat[] = {"dog", "kat"};
    static const int n[] = {1, 2};
    write_tree(t, "pets", cat_dog, n, 2, 4);
    write_tree(t, "pets2", cat_dog, n, 2, 4);
    write_tree(t, "pets-kat", dog_kat, n, 2, 4);
    write_tree(t, "pets-big", cat_dog, n, 2, 5);
    expect_match(t, "pets", "pets2", NULL);
    expect_match(t, "pets", "pets-kat", "test set classes differ from the training set's: 'cat' "
                 "only in training, 'kat' only in test");
    expect_match(t, "pets", "pets-big", "test set images are 3x5x5 (channels x height x width), "
                 "the training set's 3x4x4");
    expect_match(t, "split/train", "split/test", "'b' only in training");
    expect_match(t, "myidx", "myc10", "test set images are 3x32x32");
    make_dir(t, "pets-idx");
    write_idx(t, "pets-idx", "t10k", 3, 0);
    expect_match(t, "myidx", "pets-idx", NULL);
}

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-open"))
        return 1;
    test_known_names(&t);
    test_paths(&t);
    test_limit(&t);
    test_limit_releases(&t);
    test_png_first(&t);
    test_test_sets(&t);
    test_match(&t);
    return test_end(&t);
}
