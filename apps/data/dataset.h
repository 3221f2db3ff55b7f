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
    char **class_names;   /* NULL, or class k's name in [k] (PNG trees: the folder names), all in
                             one malloc'd block: free(class_names) frees the strings too */
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
/* One batch file (its path prefixes any message). */
int app_cifar_load_batch(const char *path, int cifar100, app_dataset *out, char *err,
                         size_t errlen);

/* A folder with one sub-folder of PNG images per class (sorted names give class indices); every
 * image must have the same size and channel count (gray, gray+alpha, RGB or RGBA; alpha dropped). */
int app_pngdir_load(const char *dir, app_dataset *out, char *err, size_t errlen);
/* The same, decoding only the first `limit` images in that order (limit <= 0: all); the classes
 * and their names are still every class folder's. */
int app_pngdir_load_first(const char *dir, int limit, app_dataset *out, char *err, size_t errlen);
/* One PNG from memory into 8-bit channels, planar (channels x height x width, the data set
 * layout), in a new malloc'd *pixels; used by app_pngdir_load and the fuzz target. */
int app_png_decode(const uint8_t *bytes, size_t len, int *channels, int *height, int *width,
                   uint8_t **pixels, char *err, size_t errlen);

/* Resolves a --data value: "fashion-mnist", "cifar10", "cifar100" (looked up in GAMMACL_DATA, then
 * the Debian dataset folders), or a path to a folder holding IDX files, CIFAR batches or a PNG
 * tree. train = 1 for the training split, 0 for the test split. */
int app_dataset_open(const char *spec, int train, app_dataset *out, char *err, size_t errlen);
/* The same, keeping only the first `limit` samples (limit <= 0: all); a PNG tree decodes only
 * those, the other readers release what lies past them. */
int app_dataset_open_first(const char *spec, int train, int limit, app_dataset *out, char *err,
                           size_t errlen);
/* A separate test set (--test-data), first `limit` samples: a known name's test split; a folder's
 * test split when it has one (t10k-* IDX pair, CIFAR test batch, PNG test/), else the folder as a
 * whole (its train-* IDX pair, its CIFAR training batches, its PNG train/ or the tree itself); or
 * one CIFAR batch file (*.bin; named train.bin or test.bin: CIFAR-100, else CIFAR-10). */
int app_dataset_open_test_set(const char *spec, int limit, app_dataset *out, char *err,
                              size_t errlen);
/* Returns 0 when test fits train (the same channels, height, width and number of classes, and
 * the same class names where both have names), else 1 with a message naming what differs. */
int app_dataset_check_match(const app_dataset *train, const app_dataset *test, char *err,
                            size_t errlen);

/* Keeps the first n samples (n <= 0 or n >= count: unchanged) and releases the memory of the
 * others (when the smaller block cannot be had, the old one is kept). */
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

/* ---- subsets for long-tailed and open-set protocols (subset.c) ---- */

/* The long-tailed profile n_k = round(n_max * rho^(-k/(K-1))), k = 0..K-1 (k-th class in
 * class order), each at least 1; K = 1 gives n_max. rho >= 1. */
void app_lt_counts(int n_max, int classes, double rho, int *counts);
/* Subsamples d in place to that profile: class_order[k] (a permutation of 0..K-1, or NULL for
 * 0,1,..,K-1) gets counts[k] samples with n_max = the smallest class size of d, chosen by a seeded
 * shuffle of each class's indices (same seed, same subset; the kept samples stay in their
 * original order). counts_out (K ints, may be NULL) receives the per-class sizes kept, indexed by
 * class id. Errors (rho < 1 or not finite, a bad class order: wrong length, repeated or out-of-range
 * ids) return -1 with a message. norder is ignored when class_order is NULL. A class without
 * samples, or a label outside 0..classes-1, is an error too; on any error d is left unchanged. */
int app_dataset_imbalance(app_dataset *d, double rho, const int *class_order, int norder,
                          uint64_t seed, int *counts_out, char *err, size_t errlen);
/* Keeps the samples whose class is in known[0..n) and relabels them 0..n-1 in the list's order
 * (classes becomes n, class names follow); with `unknown` non-NULL, the other samples go there
 * instead of being dropped (its labels keep their original class ids, classes unchanged, no class
 * names), for open-set testing.
 * Errors: n < 2, n >= classes, repeated or out-of-range ids. *unknown is overwritten (not freed
 * first; its name is d's with "-unknown"); on any error d and *unknown are left unchanged. */
int app_dataset_split_classes(app_dataset *d, const int *known, int n, app_dataset *unknown,
                              char *err, size_t errlen);
/* An open-set split: `known` of the classes 0..classes-1 drawn at random for split seed `split`
 * (the same for a seed everywhere), in ascending order, into ids. 1 <= known < classes. */
void app_open_split(int classes, int known, uint64_t split, int *ids);
/* "0,1,2" into ids (max entries); returns the count or -1 with a message naming the bad item.
 * Items are non-negative decimal integers, spaces around them allowed. */
int app_parse_class_list(const char *text, int *ids, int max, char *err, size_t errlen);

#endif
