/* tests/data/test_cifar.c — CIFAR-10 / CIFAR-100 binary reader: synthetic batches round trip
 * (five training batches joined in order, the test batch, CIFAR-100's fine labels), and bad input
 * (truncated records, empty files, labels out of range, missing batches).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIXELS 3072

/* count records; record r has label (first + r) % classes and pixels derived from first + r. */
static uint8_t *make_batch(int cifar100, int count, int first, size_t *len)
{
    size_t head = cifar100 ? 2 : 1, record = head + PIXELS;
    uint8_t *b = malloc(record * (size_t)count);
    for (int r = 0; r < count; r++) {
        uint8_t *p = b + record * (size_t)r;
        int id = first + r;
        if (cifar100) {
            p[0] = (uint8_t)(id % 20);
            p[1] = (uint8_t)(id % 100);
        } else {
            p[0] = (uint8_t)(id % 10);
        }
        for (int i = 0; i < PIXELS; i++)
            p[head + (size_t)i] = (uint8_t)(id * 3 + i);
    }
    *len = record * (size_t)count;
    return b;
}

static void write_batch(test_ctx *t, const char *rel, int cifar100, int count, int first)
{
    size_t len;
    uint8_t *b = make_batch(cifar100, count, first, &len);
    char path[1024];
    write_bytes(tmp_path(t, rel, path), b, len);
    free(b);
}

static int sample_matches(const app_dataset *d, int index, int id, int classes)
{
    const uint8_t *p = d->pixels + (size_t)index * PIXELS;
    for (int i = 0; i < PIXELS; i++)
        if (p[i] != (uint8_t)(id * 3 + i))
            return 0;
    return d->labels[index] == id % classes;
}

static void check_set(test_ctx *t, const app_dataset *d, int count, int classes, const char *what)
{
    CHECK(t, d->count == count && d->channels == 3 && d->height == 32 && d->width == 32 &&
                 d->classes == classes,
          "%s: shape %d x %dx%dx%d, %d classes", what, d->count, d->channels, d->height, d->width,
          d->classes);
    int same = d->count == count;
    for (int i = 0; same && i < count; i++)
        same = sample_matches(d, i, i, classes);
    CHECK(t, same, "%s: samples differ from what was written", what);
}

static void test_round_trips(test_ctx *t)
{
    make_dir(t, "c10");
    char rel[64], dir[1024], err[APP_ERRLEN] = "";
    for (int b = 1; b <= 5; b++) {
        snprintf(rel, sizeof rel, "c10/data_batch_%d.bin", b);
        write_batch(t, rel, 0, 3, (b - 1) * 3);
    }
    write_batch(t, "c10/test_batch.bin", 0, 4, 0);
    app_dataset d;
    int rc = app_cifar_load(tmp_path(t, "c10", dir), 0, 1, &d, err, sizeof err);
    CHECK(t, rc == 0, "cifar10 train: %s", err);
    check_set(t, &d, 15, 10, "cifar10 train (5 batches in order)");
    CHECK(t, strcmp(d.name, "cifar10/train") == 0, "cifar10 name %s", d.name);
    app_dataset_free(&d);
    rc = app_cifar_load(dir, 0, 0, &d, err, sizeof err);
    CHECK(t, rc == 0, "cifar10 test: %s", err);
    check_set(t, &d, 4, 10, "cifar10 test");
    app_dataset_free(&d);

    make_dir(t, "c100");
    write_batch(t, "c100/train.bin", 1, 120, 0);
    write_batch(t, "c100/test.bin", 1, 7, 0);
    rc = app_cifar_load(tmp_path(t, "c100", dir), 1, 1, &d, err, sizeof err);
    CHECK(t, rc == 0, "cifar100 train: %s", err);
    check_set(t, &d, 120, 100, "cifar100 train (fine labels)");
    app_dataset_free(&d);
    rc = app_cifar_load(dir, 1, 0, &d, err, sizeof err);
    CHECK(t, rc == 0, "cifar100 test: %s", err);
    check_set(t, &d, 7, 100, "cifar100 test");
    app_dataset_free(&d);
}

static void expect_parse_error(test_ctx *t, const uint8_t *b, size_t len, int cifar100,
                               const char *want, const char *what)
{
    app_dataset d;
    char err[APP_ERRLEN] = "";
    int rc = app_cifar_parse(b, len, cifar100, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    CHECK(t, d.pixels == NULL, "%s: pixels left allocated", what);
    if (rc == 0)
        app_dataset_free(&d);
}

static void test_bad_input(test_ctx *t)
{
    size_t len;
    uint8_t *b = make_batch(0, 3, 0, &len);
    expect_parse_error(t, b, 0, 0, "empty", "empty batch");
    expect_parse_error(t, b, 1, 0, "not a multiple of the 3073-byte", "one byte");
    expect_parse_error(t, b, len - 1, 0, "2 whole records and 3072 extra bytes", "last byte cut");
    expect_parse_error(t, b, 3073 + 100, 0, "1 whole records and 100 extra", "cut mid-record");
    expect_parse_error(t, b, len, 1, "not a multiple of the 3074-byte", "CIFAR-10 read as 100");
    b[3073 * 2] = 10;
    expect_parse_error(t, b, len, 0, "record 2: label 10 is out of range (0..9)", "label 10");
    free(b);

    b = make_batch(1, 4, 0, &len);
    b[3074 * 3 + 1] = 100;
    expect_parse_error(t, b, len, 1, "record 3: label 100 is out of range (0..99)",
                       "fine label 100");
    b[3074 * 3 + 1] = 5;
    b[3074 * 1] = 20;
    expect_parse_error(t, b, len, 1, "record 1: coarse label 20", "coarse label 20");
    free(b);

    make_dir(t, "c10-broken");
    write_batch(t, "c10-broken/data_batch_1.bin", 0, 2, 0);
    write_batch(t, "c10-broken/data_batch_2.bin", 0, 2, 2);
    char dir[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_cifar_load(tmp_path(t, "c10-broken", dir), 0, 1, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "data_batch_3.bin", "missing third batch");
    EXPECT_ERROR(t, rc, err, "binary version", "missing batch hint");

    b = make_batch(0, 2, 4, &len);
    char path[1024];
    write_bytes(tmp_path(t, "c10-broken/data_batch_3.bin", path), b, len - 10);
    free(b);
    err[0] = '\0';
    rc = app_cifar_load(dir, 0, 1, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "data_batch_3.bin: length", "truncated third batch");
    err[0] = '\0';
    rc = app_cifar_load(dir, 1, 0, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "test.bin", "missing cifar100 test.bin");
}

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-cifar"))
        return 1;
    test_round_trips(&t);
    test_bad_input(&t);
    return test_end(&t);
}
