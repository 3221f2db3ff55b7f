/* tests/data/testutil.c — helpers shared by the data reader tests (see testutil.h). */
#include "testutil.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

void check_at(test_ctx *t, int ok, const char *file, int line, const char *fmt, ...)
{
    t->checks++;
    if (ok)
        return;
    t->failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void expect_error_at(test_ctx *t, int rc, const char *err, const char *want, const char *what,
                     const char *file, int line)
{
    check_at(t, rc != 0, file, line, "%s: expected failure, got success", what);
    check_at(t, err[0] != '\0', file, line, "%s: empty error message", what);
    check_at(t, strstr(err, want) != NULL, file, line, "%s: message lacks \"%s\": %s", what, want,
             err);
    if (getenv("GAMMACL_TEST_VERBOSE"))
        printf("  %s -> %s\n", what, err);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int test_begin(test_ctx *t, const char *suite)
{
    memset(t, 0, sizeof *t);
    t->suite = suite;
    const char *base = getenv("TMPDIR");
    snprintf(t->tmp, sizeof t->tmp, "%s/gammacl-%s-XXXXXX", base && *base ? base : "/tmp", suite);
    if (!mkdtemp(t->tmp)) {
        fprintf(stderr, "FAIL cannot create a temporary folder %s\n", t->tmp);
        return 1;
    }
    return 0;
}

int test_end(test_ctx *t)
{
    nftw(t->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%s: %d checks, %d failures\n", t->suite, t->checks, t->failures);
    return t->failures ? 1 : 0;
}

/* tmp/rel into out (a buffer of 1024 bytes). */
const char *tmp_path(const test_ctx *t, const char *rel, char *out)
{
    snprintf(out, 1024, "%s/%s", t->tmp, rel);
    return out;
}

int make_dir(const test_ctx *t, const char *rel)
{
    char path[1024];
    return mkdir(tmp_path(t, rel, path), 0755);
}

int write_bytes(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    size_t n = len ? fwrite(bytes, 1, len, f) : 0;
    return (fclose(f) != 0 || n != len) ? 1 : 0;
}

/* gzip-compresses bytes into a new malloc'd buffer. */
uint8_t *gzip_bytes(const uint8_t *bytes, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)bytes;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = out ? deflate(&zs, Z_FINISH) : Z_MEM_ERROR;
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

int write_gzip(const char *path, const uint8_t *bytes, size_t len)
{
    size_t gz_len;
    uint8_t *gz = gzip_bytes(bytes, len, &gz_len);
    int rc = gz ? write_bytes(path, gz, gz_len) : 1;
    free(gz);
    return rc;
}

/* Reads a whole small file written by a test. */
uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *bytes = NULL;
    char err[APP_ERRLEN];
    if (app_read_file(path, (size_t)1 << 28, &bytes, len, err, sizeof err))
        return NULL;
    return bytes;
}

int write_png(const char *path, const png_spec *s, const uint8_t *rows, size_t row_bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return 1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->bit_depth,
                 s->color_type, s->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->palette)
        png_set_PLTE(png, info, s->palette, s->palette_len);
    if (s->trns)
        png_set_tRNS(png, info, s->trns, s->trns_len, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < s->height; y++)
            png_write_row(png, rows + (size_t)y * row_bytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) != 0;
}

/* An 8-bit gray or RGB(A) PNG whose pixel (c, y, x) is pattern(seed, c, y, x). */
uint8_t pattern(int seed, int c, int y, int x)
{
    return (uint8_t)(seed * 31 + c * 71 + y * 13 + x * 5);
}

int write_pattern_png(const char *path, int width, int height, int channels, int seed)
{
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    size_t row_bytes = (size_t)width * (size_t)channels;
    uint8_t *rows = malloc(row_bytes * (size_t)height);
    if (!rows)
        return 1;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                rows[(size_t)y * row_bytes + (size_t)x * channels + c] = pattern(seed, c, y, x);
    png_spec s = {width, height, types[channels], 8, PNG_INTERLACE_NONE, NULL, 0, NULL, 0};
    int rc = write_png(path, &s, rows, row_bytes);
    free(rows);
    return rc;
}

