/* apps/data/cifar.c — CIFAR-10 / CIFAR-100 binary reader. A CIFAR-10 record is 1 label byte and
 * 3072 pixel bytes (3 x 32 x 32, channel-major); a CIFAR-100 record has 2 label bytes (coarse,
 * fine) and the fine label is used. Training data is data_batch_1..5.bin (CIFAR-10) or train.bin
 * (CIFAR-100); test data is test_batch.bin or test.bin.
 */
#include "dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIFAR_CHANNELS 3
#define CIFAR_SIDE 32
#define CIFAR_PIXELS (CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR100_COARSE_CLASSES 20

static size_t label_bytes(int cifar100)
{
    return cifar100 ? 2 : 1;
}

static int class_count(int cifar100)
{
    return cifar100 ? 100 : 10;
}

/* Checks every record's labels; names the first bad record. */
static int check_labels(const uint8_t *bytes, size_t count, int cifar100, char *err, size_t errlen)
{
    size_t record = label_bytes(cifar100) + CIFAR_PIXELS;
    int classes = class_count(cifar100);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *r = bytes + i * record;
        if (cifar100 && r[0] >= CIFAR100_COARSE_CLASSES) {
            app_data_error(err, errlen, "record %zu: coarse label %u is out of range (0..%d)", i,
                           r[0], CIFAR100_COARSE_CLASSES - 1);
            return 1;
        }
        unsigned label = r[label_bytes(cifar100) - 1];
        if (label >= (unsigned)classes) {
            app_data_error(err, errlen, "record %zu: label %u is out of range (0..%d)%s", i,
                           label, classes - 1, cifar100 ? "" : "; is this a CIFAR-100 file?");
            return 1;
        }
    }
    return 0;
}

static int check_length(size_t len, int cifar100, char *err, size_t errlen)
{
    size_t record = label_bytes(cifar100) + CIFAR_PIXELS;
    if (len == 0) {
        app_data_error(err, errlen, "empty file: no CIFAR records");
        return 1;
    }
    if (len % record != 0) {
        app_data_error(err, errlen, "length %zu is not a multiple of the %zu-byte CIFAR-%d record "
                       "(%zu whole records and %zu extra bytes): the file is truncated or not a "
                       "CIFAR-%d binary batch", len, record, class_count(cifar100), len / record,
                       len % record, class_count(cifar100));
        return 1;
    }
    if (len / record > INT_MAX) {
        app_data_error(err, errlen, "%zu records, more than supported", len / record);
        return 1;
    }
    return 0;
}

int app_cifar_parse(const uint8_t *bytes, size_t len, int cifar100, app_dataset *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    cifar100 = cifar100 != 0;
    if (check_length(len, cifar100, err, errlen))
        return 1;
    size_t record = label_bytes(cifar100) + CIFAR_PIXELS;
    size_t count = len / record;
    if (check_labels(bytes, count, cifar100, err, errlen))
        return 1;
    out->pixels = malloc(count * CIFAR_PIXELS);
    out->labels = malloc(count * sizeof *out->labels);
    if (!out->pixels || !out->labels) {
        app_dataset_free(out);
        app_data_error(err, errlen, "out of memory for %zu CIFAR images", count);
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *r = bytes + i * record;
        out->labels[i] = r[label_bytes(cifar100) - 1];
        memcpy(out->pixels + i * CIFAR_PIXELS, r + label_bytes(cifar100), CIFAR_PIXELS);
    }
    out->count = (int)count;
    out->channels = CIFAR_CHANNELS;
    out->height = CIFAR_SIDE;
    out->width = CIFAR_SIDE;
    out->classes = class_count(cifar100);
    snprintf(out->name, sizeof out->name, "cifar%d", out->classes);
    return 0;
}

/* Appends src's samples to dst (which may be empty); src is freed either way. */
static int append_samples(app_dataset *dst, app_dataset *src, char *err, size_t errlen)
{
    if (dst->count == 0) {
        *dst = *src;
        memset(src, 0, sizeof *src);
        return 0;
    }
    int ok = dst->count <= INT_MAX - src->count;
    size_t total = ok ? (size_t)dst->count + (size_t)src->count : 0;
    uint8_t *pixels = ok ? realloc(dst->pixels, total * CIFAR_PIXELS) : NULL;
    if (pixels)
        dst->pixels = pixels;
    int32_t *labels = pixels ? realloc(dst->labels, total * sizeof *labels) : NULL;
    if (labels)
        dst->labels = labels;
    if (!labels) {
        app_dataset_free(src);
        app_data_error(err, errlen, "out of memory joining CIFAR batches");
        return 1;
    }
    memcpy(dst->pixels + (size_t)dst->count * CIFAR_PIXELS, src->pixels,
           (size_t)src->count * CIFAR_PIXELS);
    memcpy(dst->labels + dst->count, src->labels, (size_t)src->count * sizeof *labels);
    dst->count = (int)total;
    app_dataset_free(src);
    return 0;
}

/* Reads and parses one batch file, prefixing any message with its path. */
static int load_batch(const char *path, int cifar100, app_dataset *batch, char *err,
                      size_t errlen)
{
    uint8_t *bytes;
    size_t len;
    char msg[APP_ERRLEN];
    memset(batch, 0, sizeof *batch);
    if (app_read_file(path, APP_DATA_MAX_BYTES, &bytes, &len, msg, sizeof msg)) {
        app_data_error(err, errlen, "%s (expected the CIFAR-%d binary version: %s)", msg,
                       class_count(cifar100),
                       cifar100 ? "train.bin and test.bin"
                                : "data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
        return 1;
    }
    int rc = app_cifar_parse(bytes, len, cifar100, batch, msg, sizeof msg);
    free(bytes);
    if (rc)
        app_data_error(err, errlen, "%s: %s", path, msg);
    return rc;
}

int app_cifar_load_batch(const char *path, int cifar100, app_dataset *out, char *err,
                         size_t errlen)
{
    return load_batch(path, cifar100 != 0, out, err, errlen);
}

/* The batch file names of one split, NULL-terminated. */
static const char *const *batch_names(int cifar100, int train)
{
    static const char *const cifar10_train[] = {"data_batch_1.bin", "data_batch_2.bin",
                                                "data_batch_3.bin", "data_batch_4.bin",
                                                "data_batch_5.bin", NULL};
    static const char *const cifar10_test[] = {"test_batch.bin", NULL};
    static const char *const cifar100_train[] = {"train.bin", NULL};
    static const char *const cifar100_test[] = {"test.bin", NULL};
    if (cifar100)
        return train ? cifar100_train : cifar100_test;
    return train ? cifar10_train : cifar10_test;
}

int app_cifar_load(const char *dir, int cifar100, int train, app_dataset *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    cifar100 = cifar100 != 0;
    const char *const *names = batch_names(cifar100, train);
    for (int i = 0; names[i]; i++) {
        char *path = app_path_join(dir, names[i]);
        app_dataset batch;
        int rc = path ? load_batch(path, cifar100, &batch, err, errlen) : 1;
        if (!path)
            app_data_error(err, errlen, "out of memory");
        free(path);
        if (rc || append_samples(out, &batch, err, errlen)) {
            app_dataset_free(out);
            return 1;
        }
    }
    snprintf(out->name, sizeof out->name, "cifar%d/%s", class_count(cifar100),
             train ? "train" : "test");
    return 0;
}
