/* tests/data/test_pngdir.c — PNG reader and PNG tree loader: class and file ordering, planar
 * layout, every color type and bit depth converted to 8-bit gray or RGB, and bad input (not a PNG,
 * truncated, bad CRCs, forged huge headers, mixed sizes or channels, empty or missing folders).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define W 6
#define H 4

static void write_rel_png(test_ctx *t, const char *rel, int w, int h, int channels, int seed)
{
    char path[1024];
    CHECK(t, write_pattern_png(tmp_path(t, rel, path), w, h, channels, seed) == 0,
          "cannot write %s", rel);
}

/* Sample i of d holds the 3-channel pattern of seed. */
static int sample_is(const app_dataset *d, int i, int seed)
{
    size_t plane = (size_t)d->height * d->width;
    const uint8_t *p = d->pixels + (size_t)i * plane * d->channels;
    for (int c = 0; c < d->channels; c++)
        for (int y = 0; y < d->height; y++)
            for (int x = 0; x < d->width; x++)
                if (p[(size_t)c * plane + (size_t)y * d->width + x] != pattern(seed, c, y, x))
                    return 0;
    return 1;
}

static void test_tree(test_ctx *t)
{
    make_dir(t, "tree");
    make_dir(t, "tree/cat");
    make_dir(t, "tree/dog");
    make_dir(t, "tree/ant");
    make_dir(t, "tree/.hidden");
    write_rel_png(t, "tree/cat/b.png", W, H, 3, 2);
    write_rel_png(t, "tree/cat/a.png", W, H, 4, 1); /* RGBA: alpha dropped */
    write_rel_png(t, "tree/dog/z.PNG", W, H, 3, 3);
    write_rel_png(t, "tree/ant/x.png", W, H, 3, 0);
    write_rel_png(t, "tree/.hidden/y.png", 3, 3, 1, 0);
    char path[1024], err[APP_ERRLEN] = "";
    write_bytes(tmp_path(t, "tree/cat/notes.txt", path), "not an image", 12);
    write_bytes(tmp_path(t, "tree/readme.png", path), "a file, not a class", 19);

    app_dataset d;
    int rc = app_pngdir_load(tmp_path(t, "tree", path), &d, err, sizeof err);
    CHECK(t, rc == 0, "tree: %s", err);
    if (rc)
        return;
    CHECK(t, d.count == 4 && d.classes == 3 && d.channels == 3 && d.height == H && d.width == W,
          "tree: %d images, %d classes, %dx%dx%d", d.count, d.classes, d.channels, d.height,
          d.width);
    static const int labels[] = {0, 1, 1, 2}, seeds[] = {0, 1, 2, 3};
    for (int i = 0; i < 4 && i < d.count; i++) {
        CHECK(t, d.labels[i] == labels[i], "tree: sample %d has label %d, expected %d", i,
              d.labels[i], labels[i]);
        CHECK(t, sample_is(&d, i, seeds[i]), "tree: sample %d pixels differ (order or layout)", i);
    }
    CHECK(t, strcmp(d.name, "tree") == 0, "tree: name %s", d.name);
    app_dataset_free(&d);
}

/* Decodes a file written from rows and compares with the expected planar pixels. */
static void check_decode(test_ctx *t, const char *rel, const png_spec *s, const uint8_t *rows,
                         size_t row_bytes, int channels, const uint8_t *expect, const char *what)
{
    char path[1024], err[APP_ERRLEN] = "";
    write_png(tmp_path(t, rel, path), s, rows, row_bytes);
    size_t len;
    uint8_t *bytes = slurp(path, &len), *pixels = NULL;
    int c = 0, h = 0, w = 0;
    int rc = bytes ? app_png_decode(bytes, len, &c, &h, &w, &pixels, err, sizeof err) : 1;
    CHECK(t, rc == 0, "%s: %s", what, err);
    CHECK(t, rc || (c == channels && h == s->height && w == s->width), "%s: got %dx%dx%d", what, c,
          h, w);
    CHECK(t, rc || memcmp(pixels, expect, (size_t)channels * s->height * s->width) == 0,
          "%s: pixels differ", what);
    free(pixels);
    free(bytes);
}

static void test_color_types(test_ctx *t)
{
    uint8_t rows[H * W * 8], expect[H * W * 3];
    /* gray + alpha: gray kept */
    for (int i = 0; i < H * W; i++) {
        rows[2 * i] = (uint8_t)(i * 9);
        rows[2 * i + 1] = (uint8_t)(255 - i);
        expect[i] = (uint8_t)(i * 9);
    }
    png_spec s = {W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, NULL, 0, NULL, 0};
    check_decode(t, "ga.png", &s, rows, 2 * W, 1, expect, "gray + alpha");

    /* 1-bit gray: expanded to 0 / 255; a row of 6 pixels packs into one byte. */
    for (int y = 0; y < H; y++) {
        rows[y] = (uint8_t)(y % 2 ? 0xa8 : 0x54); /* 101010.. / 010101.. */
        for (int x = 0; x < W; x++)
            expect[y * W + x] = ((x + y) % 2) ? 255 : 0;
    }
    s = (png_spec){W, H, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, NULL, 0, NULL, 0};
    check_decode(t, "g1.png", &s, rows, 1, 1, expect, "1-bit gray");

    /* 4-bit palette with transparency: RGB from the palette, alpha dropped. */
    png_color palette[16];
    png_byte trns[16];
    for (int i = 0; i < 16; i++) {
        palette[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i), (png_byte)(i * 3)};
        trns[i] = (png_byte)(i * 10);
    }
    const size_t plane = H * W;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x += 2) {
            int a = (x + y * 3) % 16, b = (x + 1 + y * 3) % 16;
            rows[y * 3 + x / 2] = (uint8_t)(a << 4 | b);
        }
        for (int x = 0; x < W; x++) {
            int k = (x + y * 3) % 16;
            expect[y * W + x] = palette[k].red;
            expect[plane + y * W + x] = palette[k].green;
            expect[2 * plane + y * W + x] = palette[k].blue;
        }
    }
    s = (png_spec){W, H, PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_NONE, palette, 16, trns, 16};
    check_decode(t, "p4.png", &s, rows, 3, 3, expect, "4-bit palette with tRNS");

    /* 16-bit RGB: the high byte is kept (low bytes kept small so rounding cannot differ). */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                uint8_t v = pattern(5, c, y, x);
                rows[(y * W + x) * 6 + c * 2] = v;
                rows[(y * W + x) * 6 + c * 2 + 1] = 0x10;
                expect[(size_t)c * plane + y * W + x] = v;
            }
    s = (png_spec){W, H, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, NULL, 0, NULL, 0};
    check_decode(t, "rgb16.png", &s, rows, 6 * W, 3, expect, "16-bit RGB");

    /* Adam7-interlaced RGB. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                rows[(y * W + x) * 3 + c] = pattern(6, c, y, x);
                expect[(size_t)c * plane + y * W + x] = pattern(6, c, y, x);
            }
    s = (png_spec){W, H, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, NULL, 0, NULL, 0};
    check_decode(t, "adam7.png", &s, rows, 3 * W, 3, expect, "interlaced RGB");
}

static void expect_decode_error(test_ctx *t, const uint8_t *bytes, size_t len, const char *want,
                                const char *what)
{
    char err[APP_ERRLEN] = "";
    int c, h, w;
    uint8_t *pixels = NULL;
    int rc = app_png_decode(bytes, len, &c, &h, &w, &pixels, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    CHECK(t, pixels == NULL, "%s: pixels returned on failure", what);
    free(pixels);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Rewrites the IHDR size of a PNG (at bytes 16..23) and fixes its CRC, as a forger would. */
static void forge_size(uint8_t *png, uint32_t width, uint32_t height)
{
    put_be32(png + 16, width);
    put_be32(png + 20, height);
    put_be32(png + 29, (uint32_t)crc32(0, png + 12, 17));
}

static void test_bad_png(test_ctx *t)
{
    char path[1024];
    write_rel_png(t, "good.png", 40, 30, 3, 1);
    size_t len;
    uint8_t *good = slurp(tmp_path(t, "good.png", path), &len);
    if (!good) {
        CHECK(t, 0, "cannot read back good.png");
        return;
    }
    expect_decode_error(t, (const uint8_t *)"GIF89a plus more bytes", 22, "not a PNG",
                        "GIF bytes");
    expect_decode_error(t, good, 0, "not a PNG", "empty");
    const size_t cuts[] = {8, 20, 33, 45, len / 2, len - 13, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "PNG cut at %zu of %zu", cuts[i], len);
        expect_decode_error(t, good, cuts[i], "damaged PNG", what);
    }
    expect_decode_error(t, good, len / 2, "truncated", "truncated PNG message");

    uint8_t *bad = malloc(len);
    memcpy(bad, good, len);
    bad[30] ^= 0x01; /* IHDR CRC */
    expect_decode_error(t, bad, len, "CRC", "bad IHDR CRC");
    memcpy(bad, good, len);
    bad[len - 20] ^= 0x40; /* the IDAT's CRC or data */
    expect_decode_error(t, bad, len, "damaged PNG", "bad IDAT");
    memcpy(bad, good, len);
    forge_size(bad, 100000, 100000);
    expect_decode_error(t, bad, len, "100000x100000 in the header exceeds the 4096x4096 limit",
                        "forged 100000x100000 header");
    forge_size(bad, APP_PNG_MAX_SIDE + 1, 1);
    expect_decode_error(t, bad, len, "exceeds", "forged width just over the limit");
    forge_size(bad, 0x80000000u, 0x80000000u);
    expect_decode_error(t, bad, len, "exceeds", "forged 2^31 x 2^31 header");
    forge_size(bad, 0, 30);
    expect_decode_error(t, bad, len, "damaged PNG", "forged zero width");
    forge_size(bad, 4000, 4000);
    expect_decode_error(t, bad, len, "damaged PNG", "forged 4000x4000 with 30 rows of data");

    /* Through the tree loader the message names the file. */
    make_dir(t, "badtree");
    make_dir(t, "badtree/a");
    write_bytes(tmp_path(t, "badtree/a/broken.png", path), good, len / 2);
    char err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_pngdir_load(tmp_path(t, "badtree", path), &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, "broken.png: damaged PNG", "truncated PNG in a tree");
    free(bad);
    free(good);
}

static void expect_tree_error(test_ctx *t, const char *rel, const char *want, const char *what)
{
    char path[1024], err[APP_ERRLEN] = "";
    app_dataset d;
    int rc = app_pngdir_load(tmp_path(t, rel, path), &d, err, sizeof err);
    EXPECT_ERROR(t, rc, err, want, what);
    CHECK(t, d.pixels == NULL && d.count == 0, "%s: data set not left empty", what);
    if (rc == 0)
        app_dataset_free(&d);
}

static void test_bad_trees(test_ctx *t)
{
    make_dir(t, "mixed");
    make_dir(t, "mixed/a");
    make_dir(t, "mixed/b");
    write_rel_png(t, "mixed/a/1.png", W, H, 3, 0);
    write_rel_png(t, "mixed/b/1.png", W + 1, H, 3, 0);
    expect_tree_error(t, "mixed", "b/1.png: 7x4", "mixed sizes");

    make_dir(t, "mixedc");
    make_dir(t, "mixedc/a");
    write_rel_png(t, "mixedc/a/1.png", W, H, 3, 0);
    write_rel_png(t, "mixedc/a/2.png", W, H, 1, 0);
    expect_tree_error(t, "mixedc", "2.png: 6x4 with 1 channel", "mixed channel counts");

    make_dir(t, "emptyclass");
    make_dir(t, "emptyclass/a");
    make_dir(t, "emptyclass/b");
    write_rel_png(t, "emptyclass/a/1.png", W, H, 3, 0);
    expect_tree_error(t, "emptyclass", "emptyclass/b holds no .png files", "empty class folder");

    make_dir(t, "noclasses");
    write_rel_png(t, "noclasses/loose.png", W, H, 3, 0);
    expect_tree_error(t, "noclasses", "no class sub-folders", "no class folders");
    expect_tree_error(t, "missing", "cannot open folder", "missing folder");
}

int main(void)
{
    test_ctx t;
    if (test_begin(&t, "data-png"))
        return 1;
    test_tree(&t);
    test_color_types(&t);
    test_bad_png(&t);
    test_bad_trees(&t);
    return test_end(&t);
}
