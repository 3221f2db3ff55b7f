/* tests/data/testutil.h — helpers for the data reader tests: check counters, expected-error
 * checks, a temporary folder removed at the end, and writers for plain, gzip and PNG files.
 */
#ifndef GAMMACL_TEST_DATA_UTIL_H
#define GAMMACL_TEST_DATA_UTIL_H

#include "dataset.h"

#include <png.h>
#include <stddef.h>
#include <stdint.h>

typedef struct test_ctx {
    const char *suite;
    int checks, failures;
    char tmp[512]; /* the temporary folder of this run */
} test_ctx;

void check_at(test_ctx *t, int ok, const char *file, int line, const char *fmt, ...)
    APP_PRINTF_LIKE(5, 6);
#define CHECK(t, cond, ...) check_at((t), (cond) != 0, __FILE__, __LINE__, __VA_ARGS__)

/* A reader call must have failed with a non-empty message containing want. */
void expect_error_at(test_ctx *t, int rc, const char *err, const char *want, const char *what,
                     const char *file, int line);
#define EXPECT_ERROR(t, rc, err, want, what) \
    expect_error_at((t), (rc), (err), (want), (what), __FILE__, __LINE__)

/* Creates the temporary folder (returns non-zero on failure); test_end removes it, prints the
 * one-line summary and returns the exit status. */
int test_begin(test_ctx *t, const char *suite);
int test_end(test_ctx *t);

/* t->tmp/rel into out, which must hold 1024 bytes; returns out. */
const char *tmp_path(const test_ctx *t, const char *rel, char *out);
int make_dir(const test_ctx *t, const char *rel);

int write_bytes(const char *path, const void *bytes, size_t len);
/* gzip-compresses bytes into a new malloc'd buffer (NULL on failure). */
uint8_t *gzip_bytes(const uint8_t *bytes, size_t len, size_t *out_len);
int write_gzip(const char *path, const uint8_t *bytes, size_t len);
/* A whole file in a new malloc'd buffer (NULL on failure). */
uint8_t *slurp(const char *path, size_t *len);

/* A PNG from packed rows (row_bytes each, in the file's own format); palette and trns may be
 * NULL. */
typedef struct png_spec {
    int width, height, color_type, bit_depth, interlace;
    const png_color *palette;
    int palette_len;
    const png_byte *trns;
    int trns_len;
} png_spec;
int write_png(const char *path, const png_spec *s, const uint8_t *rows, size_t row_bytes);

/* The test pattern value of channel c at (y, x), and an 8-bit PNG of it with 1 (gray), 2 (gray +
 * alpha), 3 (RGB) or 4 (RGBA) channels. */
uint8_t pattern(int seed, int c, int y, int x);
int write_pattern_png(const char *path, int width, int height, int channels, int seed);

#endif
