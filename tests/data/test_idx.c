/* tests/data/test_idx.c — IDX reader: raw and gzip round trips, multi-member gzip, and every kind
 * of bad input (truncation, wrong magic or dims, mismatched counts, bad labels, trailing bytes,
 * damaged or truncated gzip, decompression bombs and headers that claim huge sizes).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 37
#define ROWS 5
#define COLS 7

/* A synthetic image file of count images of rows x cols and a label file, in memory. */
typedef struct idx_pair {
    uint8_t *images, *labels;
    size_t images_len, labels_len;
} idx_pair;

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t pixel_value(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

static idx_pair make_pair(uint32_t count, uint32_t rows, uint32_t cols, uint32_t label_count)
{
    idx_pair p;
    p.images_len = 16 + (size_t)count * rows * cols;
    p.labels_len = 8 + (size_t)label_count;
    p.images = malloc(p.images_len);
    p.labels = malloc(p.labels_len);
    put_be32(p.images, 0x803);
    put_be32(p.images + 4, count);
    put_be32(p.images + 8, rows);
    put_be32(p.images + 12, cols);
    for (size_t i = 16; i < p.images_len; i++)
        p.images[i] = pixel_value(i - 16);
    put_be32(p.labels, 0x801);
    put_be32(p.labels + 4, label_count);
    for (size_t i = 0; i < label_count; i++)
        p.labels[8 + i] = (uint8_t)(i % 10);
    return p;
}

static void free_pair(idx_pair *p)
{
    free(p->images);
    free(p->labels);
}

static void check_contents(test_ctx *t, const app_dataset *d, const char *what)
{
    CHECK(t, d->count == N && d->channels == 1 && d->height == ROWS && d->width == COLS &&
                 d->classes == 10,
          "%s: shape %d x %dx%dx%d, %d classes", what, d->count, d->channels, d->height, d->width,
          d->classes);
    int same = d->pixels && d->labels;
    for (size_t i = 0; same && i < (size_t)N * ROWS * COLS; i++)
        same = d->pixels[i] == pixel_value(i);
    for (int i = 0; same && i < N; i++)
        same = d->labels[i] == i % 10;
    CHECK(t, same, "%s: pixels or labels differ from what was written", what);
}

/* Parses from memory and expects an error mentioning want. */
static void expect_parse_error(test_ctx *t, const idx_pair *p, const char *want, const char *what)
{
    app_dataset d;
    char err[APP_ERRLEN] = "";
    int rc = app_idx_parse(p->images, p->images_len, p->labels, p->labels_len, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    CHECK(t, d.pixels == NULL && d.labels == NULL, "%s: arrays left allocated on failure", what);
    if (rc == 0)
        app_dataset_free(&d);
}

/* Writes the pair to files (gzip or raw), loads them, expects an error mentioning want. */
static void expect_load_error(test_ctx *t, const uint8_t *images, size_t images_len,
                              const uint8_t *labels, size_t labels_len, const char *want,
                              const char *what)
{
    char ip[1024], lp[1024], err[APP_ERRLEN] = "";
    write_bytes(tmp_path(t, "bad-images", ip), images, images_len);
    write_bytes(tmp_path(t, "bad-labels", lp), labels, labels_len);
    app_dataset d;
    int rc = app_idx_load(ip, lp, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    if (rc == 0)
        app_dataset_free(&d);
}

static void test_round_trips(test_ctx *t)
{
    idx_pair p = make_pair(N, ROWS, COLS, N);
    char ip[1024], lp[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_idx_parse(p.images, p.images_len, p.labels, p.labels_len, &d, err, sizeof err);
    CHECK(t, rc == 0, "parse from memory: %s", err);
    check_contents(t, &d, "parse from memory");
    app_dataset_free(&d);

    write_bytes(tmp_path(t, "raw-images", ip), p.images, p.images_len);
    write_bytes(tmp_path(t, "raw-labels", lp), p.labels, p.labels_len);
    rc = app_idx_load(ip, lp, &d, err, sizeof err);
    CHECK(t, rc == 0, "raw files: %s", err);
    check_contents(t, &d, "raw files");
    app_dataset_free(&d);

    write_gzip(tmp_path(t, "gz-images.gz", ip), p.images, p.images_len);
    write_gzip(tmp_path(t, "gz-labels.gz", lp), p.labels, p.labels_len);
    rc = app_idx_load(ip, lp, &d, err, sizeof err);
    CHECK(t, rc == 0, "gzip files: %s", err);
    check_contents(t, &d, "gzip files");
    app_dataset_free(&d);

    /* One gzip member per half of the image file, as `cat a.gz b.gz` makes. */
    size_t half = p.images_len / 2, len_a, len_b;
    uint8_t *a = gzip_bytes(p.images, half, &len_a);
    uint8_t *b = gzip_bytes(p.images + half, p.images_len - half, &len_b);
    uint8_t *both = malloc(len_a + len_b);
    memcpy(both, a, len_a);
    memcpy(both + len_a, b, len_b);
    write_bytes(tmp_path(t, "multi-images.gz", ip), both, len_a + len_b);
    rc = app_idx_load(ip, lp, &d, err, sizeof err);
    CHECK(t, rc == 0, "multi-member gzip: %s", err);
    check_contents(t, &d, "multi-member gzip");
    app_dataset_free(&d);
    free(a);
    free(b);
    free(both);
    free_pair(&p);

    app_dataset zero = {0};
    app_dataset_free(&zero);
    app_dataset_free(NULL);
}

static void test_truncation(test_ctx *t)
{
    idx_pair p = make_pair(N, ROWS, COLS, N);
    static const size_t image_cuts[] = {0, 3, 10, 15, 16, 16 + ROWS * COLS, 16 + N * ROWS * COLS - 1};
    for (size_t i = 0; i < sizeof image_cuts / sizeof image_cuts[0]; i++) {
        idx_pair cut = p;
        cut.images_len = image_cuts[i];
        char what[64];
        snprintf(what, sizeof what, "images cut at %zu", image_cuts[i]);
        const char *want = image_cuts[i] < 4 ? "too short" : image_cuts[i] < 16 ? "truncated header"
                                                                                 : "truncated";
        expect_parse_error(t, &cut, want, what);
    }
    idx_pair cut = p;
    cut.images_len = 16 + ROWS * COLS;
    char err[APP_ERRLEN] = "";
    app_dataset d;
    app_idx_parse(cut.images, cut.images_len, cut.labels, cut.labels_len, &d, err, sizeof err);
    char want[128];
    snprintf(want, sizeof want, "truncated: expected %d bytes of pixels, found %d",
             N * ROWS * COLS, ROWS * COLS);
    CHECK(t, strstr(err, want) != NULL, "truncation message should read \"%s\": %s", want, err);

    static const size_t label_cuts[] = {0, 5, 8, 8 + N - 1};
    for (size_t i = 0; i < sizeof label_cuts / sizeof label_cuts[0]; i++) {
        cut = p;
        cut.labels_len = label_cuts[i];
        char what[64];
        snprintf(what, sizeof what, "labels cut at %zu", label_cuts[i]);
        expect_parse_error(t, &cut, label_cuts[i] < 4 ? "too short" : "truncated", what);
    }
    /* The same through files, so that the message names the file. */
    expect_load_error(t, p.images, 16 + 10, p.labels, p.labels_len, "bad-images: truncated",
                      "truncated image file");
    free_pair(&p);
}

static void test_bad_headers(test_ctx *t)
{
    idx_pair p = make_pair(N, ROWS, COLS, N);
    p.images[3] = 0x02;
    expect_parse_error(t, &p, "2 dimensions", "image file with 2 dims");
    p.images[3] = 0x03;
    p.images[2] = 0x0d;
    expect_parse_error(t, &p, "element type 0x0d", "float IDX");
    p.images[2] = 0x08;
    p.images[0] = 0x50;
    expect_parse_error(t, &p, "not an IDX file", "wrong magic");
    p.images[0] = 0;
    idx_pair swapped = {p.labels, p.images, p.labels_len, p.images_len};
    expect_parse_error(t, &swapped, "swapped", "image and label files swapped");
    put_be32(p.images + 8, 0);
    expect_parse_error(t, &p, "implausible image size", "zero rows");
    put_be32(p.images + 8, 100000);
    expect_parse_error(t, &p, "implausible image size", "huge rows");
    put_be32(p.images + 8, ROWS);
    put_be32(p.images + 4, 0);
    expect_parse_error(t, &p, "no images", "zero images");
    put_be32(p.images + 4, 0x7fffffff);
    expect_parse_error(t, &p, "MiB limit", "header claims 2^31 images");
    put_be32(p.images + 4, 0xffffffff);
    expect_parse_error(t, &p, "more than supported", "header claims 2^32 images");
    put_be32(p.images + 4, N);
    p.labels[3] = 0x02;
    expect_parse_error(t, &p, "2 dimensions", "label file with 2 dims");
    free_pair(&p);
}

static void test_bad_contents(test_ctx *t)
{
    idx_pair p = make_pair(N, ROWS, COLS, N - 1);
    expect_parse_error(t, &p, "but label file holds 36 labels", "count mismatch");
    free_pair(&p);

    p = make_pair(N, ROWS, COLS, N);
    p.labels[8 + 12] = 10;
    p.labels[8 + 20] = 200;
    expect_parse_error(t, &p, "label 10 at index 12 is out of range", "label out of range");
    expect_load_error(t, p.images, p.images_len, p.labels, p.labels_len,
                      "bad-labels: label 10 at index 12", "label out of range in a file");
    p.labels[8 + 12] = 2;
    p.labels[8 + 20] = 0;

    uint8_t *longer = malloc(p.images_len + 5);
    memcpy(longer, p.images, p.images_len);
    memset(longer + p.images_len, 0, 5);
    idx_pair extra = p;
    extra.images = longer;
    extra.images_len += 5;
    expect_parse_error(t, &extra, "5 unexpected bytes", "trailing bytes after the pixels");
    free(longer);

    char err[APP_ERRLEN] = "";
    char ip[1024];
    app_dataset d;
    int rc = app_idx_load(tmp_path(t, "does-not-exist", ip), ip, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "does-not-exist", "missing file");
    err[0] = '\0';
    rc = app_idx_load(t->tmp, t->tmp, &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "is a folder", "folder instead of a file");

    uint8_t *bytes = NULL;
    size_t len = 0;
    write_bytes(tmp_path(t, "big", ip), p.images, p.images_len);
    err[0] = '\0';
    rc = app_read_file(ip, 100, &bytes, &len, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "larger than", "file over the read limit");
    CHECK(t, bytes == NULL, "file over the read limit: buffer returned");
    rc = app_read_file(ip, p.images_len, &bytes, &len, err, sizeof err);
    CHECK(t, rc == 0 && len == p.images_len && memcmp(bytes, p.images, len) == 0,
          "file exactly at the read limit: %s", err);
    free(bytes);
    free_pair(&p);
}

static void test_bad_gzip(test_ctx *t)
{
    idx_pair p = make_pair(N, ROWS, COLS, N);
    size_t gz_len;
    uint8_t *gz = gzip_bytes(p.images, p.images_len, &gz_len);

    expect_load_error(t, gz, gz_len / 2, p.labels, p.labels_len, "gzip stream is truncated",
                      "gzip cut in half");
    expect_load_error(t, gz, 12, p.labels, p.labels_len, "bad-images", "gzip cut in the header");
    expect_load_error(t, gz, gz_len - 3, p.labels, p.labels_len, "truncated",
                      "gzip without its full trailer");

    uint8_t *bad = malloc(gz_len + 4);
    memcpy(bad, gz, gz_len);
    bad[gz_len - 6] ^= 0x55; /* the CRC-32 in the trailer */
    expect_load_error(t, bad, gz_len, p.labels, p.labels_len, "corrupted gzip data",
                      "gzip with a bad CRC");
    memcpy(bad, gz, gz_len);
    bad[gz_len - 1] = 0xff; /* the length in the trailer: claims about 4 GiB */
    expect_load_error(t, bad, gz_len, p.labels, p.labels_len, "corrupted gzip data",
                      "gzip whose trailer claims 4 GiB");
    memcpy(bad, gz, gz_len);
    bad[3] = 0xe0; /* reserved flag bits */
    expect_load_error(t, bad, gz_len, p.labels, p.labels_len, "corrupted gzip data",
                      "gzip with reserved flags");
    memcpy(bad, gz, gz_len);
    memcpy(bad + gz_len, "junk", 4);
    expect_load_error(t, bad, gz_len + 4, p.labels, p.labels_len, "after the end of the gzip",
                      "gzip followed by junk");
    free(bad);
    free(gz);

    /* A header that claims 2^31 - 1 images: refused before inflating anything else. */
    put_be32(p.images + 4, 0x7fffffff);
    gz = gzip_bytes(p.images, p.images_len, &gz_len);
    expect_load_error(t, gz, gz_len, p.labels, p.labels_len, "MiB limit",
                      "gzip IDX header claiming 2^31 images");
    free(gz);
    free_pair(&p);
}

/* Decompression bombs: the output is capped, whether by an explicit cap or by the IDX header. */
static void test_bombs(test_ctx *t)
{
    size_t big = (size_t)16 << 20, gz_len, out_len;
    uint8_t *zeros = calloc(big, 1);
    put_be32(zeros, 0x803);
    put_be32(zeros + 4, 1);
    put_be32(zeros + 8, 28);
    put_be32(zeros + 12, 28);
    uint8_t *gz = gzip_bytes(zeros, big, &gz_len);
    CHECK(t, gz && gz_len < big / 100, "16 MiB of zeros should compress well");

    uint8_t *out = NULL;
    char err[APP_ERRLEN] = "";
    int rc = app_gunzip(gz, gz_len, (size_t)1 << 20, &out, &out_len, err, sizeof err);
    CHECK(t, rc == APP_GUNZIP_TOO_BIG, "bomb past a 1 MiB cap: rc %d", rc);
    EXPECT_ERROR(t, rc, err, "decompression bomb", "bomb past a 1 MiB cap");
    CHECK(t, out == NULL, "bomb: no buffer should be returned");

    rc = app_gunzip(gz, gz_len, big, &out, &out_len, err, sizeof err);
    CHECK(t, rc == 0 && out_len == big, "16 MiB under a 16 MiB cap: rc %d, %zu bytes", rc,
          out_len);
    free(out);
    rc = app_gunzip(gz, gz_len, big - 1, &out, &out_len, err, sizeof err);
    CHECK(t, rc == APP_GUNZIP_TOO_BIG, "16 MiB under a cap one byte short: rc %d", rc);

    /* An IDX header that declares one 28x28 image, followed by 16 MiB: stops after 801 bytes. */
    idx_pair p = make_pair(1, 28, 28, 1);
    expect_load_error(t, gz, gz_len, p.labels, p.labels_len, "decompresses to more than the 800 "
                      "bytes its header declares", "gzip bomb behind a small IDX header");
    free_pair(&p);
    free(gz);
    free(zeros);

    err[0] = '\0';
    rc = app_gunzip((const uint8_t *)"plain", 5, 100, &out, &out_len, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "not gzip", "gunzip of plain bytes");
}

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-idx"))
        return 1;
    test_round_trips(&t);
    test_truncation(&t);
    test_bad_headers(&t);
    test_bad_contents(&t);
    test_bad_gzip(&t);
    test_bombs(&t);
    return test_end(&t);
}
