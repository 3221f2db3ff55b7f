/* tests/fuzz/fuzz_idx.c — libFuzzer target for the IDX reader. The first two bytes (big-endian)
 * choose where the rest splits into an image file and a label file; a part that starts with the
 * gzip signature is decompressed first (with a small cap), as app_idx_load would. Besides memory
 * errors, any broken promise of the API (a failure without a message or with arrays left behind,
 * a success with an inconsistent shape or a label out of range) aborts.
 */
#include "dataset.h"

#include <stdlib.h>

#define FUZZ_GUNZIP_CAP ((size_t)1 << 20)

/* Decompresses part when it is gzip data; *owned is the buffer to free (NULL when unchanged). */
static int maybe_gunzip(const uint8_t **part, size_t *len, uint8_t **owned)
{
    char err[APP_ERRLEN] = "";
    *owned = NULL;
    if (*len < 2 || (*part)[0] != 0x1f || (*part)[1] != 0x8b)
        return 0;
    size_t out_len = 0;
    if (app_gunzip(*part, *len, FUZZ_GUNZIP_CAP, owned, &out_len, err, sizeof err)) {
        if (err[0] == '\0' || *owned != NULL)
            abort();
        return 1;
    }
    if (out_len > FUZZ_GUNZIP_CAP)
        abort();
    *part = *owned;
    *len = out_len;
    return 0;
}

static void check_success(const app_dataset *d, size_t images_len)
{
    if (d->count < 1 || d->channels != 1 || d->height < 1 || d->width < 1 || d->classes != 10 ||
        !d->pixels || !d->labels)
        abort();
    if ((size_t)d->count * (size_t)d->height * (size_t)d->width != images_len - 16)
        abort();
    for (int i = 0; i < d->count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= d->classes)
            abort();
}

static void check_failure(const app_dataset *d, const char *err)
{
    if (err[0] == '\0' || d->pixels || d->labels || d->count != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t rest = size - 2;
    size_t split = ((size_t)data[0] << 8 | data[1]) % (rest + 1);
    const uint8_t *images = data + 2, *labels = data + 2 + split;
    size_t images_len = split, labels_len = rest - split;
    uint8_t *own_images = NULL, *own_labels = NULL;
    if (maybe_gunzip(&images, &images_len, &own_images) == 0 &&
        maybe_gunzip(&labels, &labels_len, &own_labels) == 0) {
        app_dataset d;
        char err[APP_ERRLEN] = "";
        if (app_idx_parse(images, images_len, labels, labels_len, &d, err, sizeof err) == 0) {
            check_success(&d, images_len);
            app_dataset_free(&d);
        } else {
            check_failure(&d, err);
        }
    }
    free(own_images);
    free(own_labels);
    return 0;
}
