/* apps/data/dataset.h — data sets in host memory, and the readers that fill them.
 *
 * A data set is uint8 pixels, sample-major with C x H x W inside a sample, plus int32 labels in
 * [0, classes). Readers validate everything (magic numbers, sizes, counts, label ranges, truncated
 * or forged files) and return a clear message instead of crashing; every reader has a parse-from-
 * memory entry point for the fuzz targets.
 */
#ifndef GAMMACL_DATASET_H
#define GAMMACL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define APP_ERRLEN 1024

typedef struct app_dataset {
    char name[64];        /* "fashion-mnist/train", "cifar10/test", a folder name, ... */
    int count, channels, height, width, classes;
    uint8_t *pixels;      /* count * channels * height * width */
    int32_t *labels;      /* count */
} app_dataset;

/* Frees the arrays and zeroes the struct (safe on a zeroed struct). */
void app_dataset_free(app_dataset *d);

/* IDX (MNIST / Fashion-MNIST) image + label files, plain or gzip-compressed (detected by content). */
int app_idx_load(const char *images_path, const char *labels_path, app_dataset *out, char *err,
                 size_t errlen);
/* The same from memory (already decompressed bytes); used by app_idx_load and the fuzz target. */
int app_idx_parse(const uint8_t *images, size_t images_len, const uint8_t *labels,
                  size_t labels_len, app_dataset *out, char *err, size_t errlen);

/* CIFAR-10 / CIFAR-100 binary batches (data_batch_*.bin / test_batch.bin; train.bin / test.bin). */
int app_cifar_load(const char *dir, int cifar100, int train, app_dataset *out, char *err,
                   size_t errlen);
int app_cifar_parse(const uint8_t *bytes, size_t len, int cifar100, app_dataset *out, char *err,
                    size_t errlen);

/* A folder with one sub-folder of PNG images per class (sorted names give class indices); every
 * image must have the same size and channel count (gray, gray+alpha, RGB or RGBA; alpha dropped). */
int app_pngdir_load(const char *dir, app_dataset *out, char *err, size_t errlen);
/* One PNG from memory into 8-bit channels, planar (channels x height x width, the data set
 * layout), in a new malloc'd *pixels; used by app_pngdir_load and the fuzz target. */
int app_png_decode(const uint8_t *bytes, size_t len, int *channels, int *height, int *width,
                   uint8_t **pixels, char *err, size_t errlen);

/* Resolves a --data value: "fashion-mnist", "cifar10", "cifar100" (looked up in GAMMACL_DATA, then
 * the Debian dataset folders), or a path to a folder holding IDX files, CIFAR batches or a PNG
 * tree. train = 1 for the training split, 0 for the test split. */
int app_dataset_open(const char *spec, int train, app_dataset *out, char *err, size_t errlen);

/* Keeps the first n samples (n <= 0 or n >= count: unchanged). */
void app_dataset_limit(app_dataset *d, int n);

/* ---- Helpers shared by the readers (also used by the tests and fuzz targets). ---- */

/* Largest file, or decompressed file, a reader accepts; larger claims are refused up front. */
#define APP_DATA_MAX_BYTES ((size_t)1 << 30)
/* Largest PNG width or height accepted; forged headers beyond it are refused before allocating. */
#define APP_PNG_MAX_SIDE 4096

/* Writes a printf-style message into err (always terminated; err may be NULL or errlen 0). */
#if defined(__GNUC__)
#define APP_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define APP_PRINTF_LIKE(f, a)
#endif
void app_data_error(char *err, size_t errlen, const char *fmt, ...) APP_PRINTF_LIKE(3, 4);

/* Sets *out = a * b and returns 0, or returns 1 when the product does not fit in a size_t. */
int app_size_mul(size_t a, size_t b, size_t *out);

/* Returns a new malloc'd "dir/name" (NULL when out of memory). */
char *app_path_join(const char *dir, const char *name);

/* Reads a whole file (at most max_len bytes, else an error) into a new malloc'd buffer. */
int app_read_file(const char *path, size_t max_len, uint8_t **bytes, size_t *len, char *err,
                  size_t errlen);

/* Decompresses gzip data (one or more members) into a new malloc'd buffer. Returns 0 on success,
 * 1 on damaged or truncated data, APP_GUNZIP_TOO_BIG when the output would exceed cap bytes. */
#define APP_GUNZIP_TOO_BIG 2
int app_gunzip(const uint8_t *in, size_t len, size_t cap, uint8_t **out, size_t *out_len,
               char *err, size_t errlen);

#endif
