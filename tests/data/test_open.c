/* tests/data/test_open.c — app_dataset_open: known names looked up under GAMMACL_DATA, folders
 * holding IDX files, CIFAR batches or PNG trees (with or without train/ and test/), data set
 * names, the messages for missing data, and app_dataset_limit.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-open"))
        return 1;
    test_known_names(&t);
    test_paths(&t);
    test_limit(&t);
    return test_end(&t);
}
