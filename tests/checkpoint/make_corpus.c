/* tests/checkpoint/make_corpus.c — writes the seed corpus for the checkpoint fuzz target.
 *
 * Usage: ckpt_corpus <folder>   (the corpus lives in tests/fuzz/corpus/checkpoint)
 * Valid files come from nn_ckpt_write; broken ones are edits of them: cut short, a flipped byte,
 * forged lengths and a newer version (with the CRC fixed up so the structural checks are reached),
 * duplicate names, trailing bytes, a wrong magic.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"

#define HEADER_BYTES 44 /* magic through step; the spec length follows */

typedef struct blob {
    uint8_t *b;
    size_t len;
} blob;

static int save(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return -1;
    }
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static int load(const char *path, blob *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    out->b = malloc((size_t)n + 1);
    out->len = out->b ? fread(out->b, 1, (size_t)n, f) : 0;
    fclose(f);
    return (out->b && out->len == (size_t)n) ? 0 : -1;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void fix_crc(uint8_t *p, size_t n)
{
    put_le(p + n - 4, crc32(crc32(0, NULL, 0), p, (uInt)(n - 4)), 4);
}

/* Writes c through the real writer into dir/name and loads the bytes back. */
static int write_valid(const char *dir, const char *name, const nn_ckpt *c, blob *out)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nn_ckpt_write(path, c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return load(path, out);
}

/* Saves a copy of v with one little-endian field replaced and the CRC fixed. */
static int save_forged(const char *dir, const char *name, const blob *v, size_t at, uint64_t value,
                       int width)
{
    uint8_t *p = malloc(v->len);
    memcpy(p, v->b, v->len);
    put_le(p + at, value, width);
    fix_crc(p, v->len);
    int rc = save(dir, name, p, v->len);
    free(p);
    return rc;
}

static int save_broken(const char *dir, const blob *v)
{
    size_t tensors_at = HEADER_BYTES + 4 + get_le(v->b + HEADER_BYTES, 4);
    tensors_at += 4 + get_le(v->b + tensors_at, 4); /* past the metadata: the tensor count */
    size_t first_count = tensors_at + 4 + 2 + get_le(v->b + tensors_at + 4, 2);
    int rc = 0;
    rc |= save(dir, "bad_truncated_header", v->b, 30);
    rc |= save(dir, "bad_truncated_tensor", v->b, v->len - 20); /* in the data of conv1.b */
    rc |= save(dir, "bad_truncated_crc", v->b, v->len - 2);
    rc |= save_forged(dir, "bad_magic", v, 0, 'X', 1);
    rc |= save_forged(dir, "bad_newer_version", v, 8, 2, 4);
    rc |= save_forged(dir, "bad_huge_spec_length", v, HEADER_BYTES, 0xffffffffu, 4);
    rc |= save_forged(dir, "bad_huge_tensor_count", v, tensors_at, 0xffffffffu, 4);
    rc |= save_forged(dir, "bad_wrapping_element_count", v, first_count, 1ull << 62, 8);
    rc |= save_forged(dir, "bad_long_name", v, tensors_at + 4, 64, 2);
    uint8_t *p = malloc(v->len + 3);
    memcpy(p, v->b, v->len);
    p[v->len - 1] ^= 0x40;
    rc |= save(dir, "bad_crc", p, v->len);
    p[v->len - 1] ^= 0x40;
    memcpy(p + v->len, "xyz", 3);
    rc |= save(dir, "bad_trailing_bytes", p, v->len + 3);
    free(p);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    float w[12] = {0.5f, -1.25f, 3.0f, 0.0f, -0.0f, 1e-40f, 2.5f, 7.0f, -8.5f, 1e30f, -1e-3f, 4.0f};
    float b[3] = {0.1f, 0.2f, 0.3f};
    nn_ckpt_tensor two[3] = {{.name = "conv1.w", .count = 12, .data = w},
                             {.name = "conv1.b", .count = 3, .data = b},
                             {.name = "empty", .count = 0, .data = NULL}};
    nn_ckpt tiny = {.spec = "", .meta = ""};
    nn_ckpt small = {.loss = 1, .gamma = 0.75, .seed = 42, .epoch = 3, .step = 1200,
                     .spec = "input 1x4x4\nconv 3 2x2\nfc 2\n", .meta = "run=seed\nlr=0.1\n",
                     .tensors = two, .ntensors = 3};
    nn_ckpt_tensor dup[2] = {{.name = "same", .count = 1, .data = w},
                             {.name = "samf", .count = 1, .data = b}};
    nn_ckpt pair = {.spec = "fc 1", .meta = "k=v", .tensors = dup, .ntensors = 2};
    blob vt = {0}, vs = {0}, vp = {0};
    int rc = write_valid(dir, "valid_tiny", &tiny, &vt) |
             write_valid(dir, "valid_small", &small, &vs) |
             write_valid(dir, "valid_pair", &pair, &vp);
    if (rc == 0) {
        rc |= save_broken(dir, &vs);
        vp.b[vp.len - 4 - 4 - 8 - 1] = 'e'; /* "samf" -> "same": crc, float, count before it */
        fix_crc(vp.b, vp.len);
        rc |= save(dir, "bad_duplicate_names", vp.b, vp.len);
    }
    free(vt.b);
    free(vs.b);
    free(vp.b);
    return rc ? 1 : 0;
}
