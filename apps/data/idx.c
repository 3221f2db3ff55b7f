/* apps/data/idx.c — IDX reader (MNIST, Fashion-MNIST): u8 image files (magic 0x00000803, dims
 * count x rows x cols) and u8 label files (magic 0x00000801), raw or gzip-compressed, with strict
 * checks of the headers, the payload lengths, the image/label counts and the label range. Also the
 * bounded in-memory gzip decompressor the reader uses.
 */
#include "dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define IDX_U8_TYPE 0x08
#define IDX_CLASSES 10
#define IDX_MAX_SIDE 4096u
/* Deflate cannot expand data by more than about 1032:1; larger claims in a gzip trailer are lies. */
#define DEFLATE_MAX_RATIO 1032

/* ---- gzip ---- */

static int has_gzip_magic(const uint8_t *p, size_t len)
{
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* First output buffer size: the size stored in the gzip trailer when it is plausible, so that a
 * well-formed file decompresses without reallocating; never more than cap + 1. */
static size_t first_output_size(const uint8_t *in, size_t len, size_t cap)
{
    size_t size = 1 << 16;
    if (len >= 18) {
        const uint8_t *t = in + len - 4;
        size_t claimed = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (claimed / DEFLATE_MAX_RATIO <= len)
            size = claimed + 1;
    }
    return size > cap ? cap + 1 : size;
}

typedef struct inflater {
    z_stream zs;
    const uint8_t *in;
    size_t len, pos;  /* input and bytes consumed */
    uint8_t *out;
    size_t size, used; /* output buffer capacity and bytes produced */
} inflater;

/* Grows the output buffer towards limit bytes; returns 1 when out of memory. */
static int grow_output(inflater *z, size_t limit)
{
    size_t grown = z->size > limit / 2 ? limit : z->size * 2;
    uint8_t *bigger = realloc(z->out, grown);
    if (!bigger)
        return 1;
    z->out = bigger;
    z->size = grown;
    return 0;
}

/* One inflate call over whatever input and output room are left. */
static int inflate_step(inflater *z)
{
    size_t in_room = z->len - z->pos, out_room = z->size - z->used;
    uInt in_now = in_room > UINT_MAX ? UINT_MAX : (uInt)in_room;
    uInt out_now = out_room > UINT_MAX ? UINT_MAX : (uInt)out_room;
    z->zs.next_in = (Bytef *)(uintptr_t)(z->in + z->pos);
    z->zs.avail_in = in_now;
    z->zs.next_out = z->out + z->used;
    z->zs.avail_out = out_now;
    int rc = inflate(&z->zs, Z_NO_FLUSH);
    z->pos += in_now - z->zs.avail_in;
    z->used += out_now - z->zs.avail_out;
    return rc;
}

/* After the end of a gzip member: 0 when all input is used, 1 when another member follows (the
 * stream is reset for it), -1 on trailing garbage. */
static int next_member(inflater *z)
{
    if (z->pos == z->len)
        return 0;
    if (!has_gzip_magic(z->in + z->pos, z->len - z->pos))
        return -1;
    return inflateReset(&z->zs) == Z_OK ? 1 : -1;
}

/* The decompression loop. Produces at most limit bytes (cap, or cap + 1 to detect overflow).
 * Returns 0 done, 1 damaged (message written), APP_GUNZIP_TOO_BIG when limit bytes were produced
 * and more remain, and 3 when prefix_only stopped at limit bytes. */
static int run_inflate(inflater *z, size_t limit, int prefix_only, char *err, size_t errlen)
{
    for (;;) {
        if (z->used == z->size) {
            if (z->size >= limit)
                return prefix_only ? 3 : APP_GUNZIP_TOO_BIG;
            if (grow_output(z, limit)) {
                app_data_error(err, errlen, "out of memory decompressing gzip data");
                return 1;
            }
        }
        size_t pos_before = z->pos, used_before = z->used;
        int rc = inflate_step(z);
        if (rc == Z_STREAM_END) {
            int more = next_member(z);
            if (more == 0)
                return 0;
            if (more < 0) {
                app_data_error(err, errlen, "%zu bytes of unexpected data after the end of the "
                               "gzip stream", z->len - z->pos);
                return 1;
            }
            continue;
        }
        if (rc == Z_OK && (z->pos != pos_before || z->used != used_before))
            continue;
        if ((rc == Z_OK || rc == Z_BUF_ERROR) && z->pos == z->len) {
            app_data_error(err, errlen, "gzip stream is truncated after %zu compressed bytes "
                           "(the file was cut short; download it again)", z->len);
            return 1;
        }
        if (rc == Z_BUF_ERROR && z->used == z->size)
            continue;
        app_data_error(err, errlen, "corrupted gzip data at compressed byte %zu: %s", z->pos,
                       z->zs.msg ? z->zs.msg : "inflate failed");
        return 1;
    }
}

/* Decompresses in[0..len) with at most limit output bytes; see run_inflate for the codes. */
static int gunzip_bounded(const uint8_t *in, size_t len, size_t limit, int prefix_only,
                          uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (!has_gzip_magic(in, len)) {
        app_data_error(err, errlen, "not gzip data (no 1f 8b signature)");
        return 1;
    }
    inflater z;
    memset(&z, 0, sizeof z);
    z.in = in;
    z.len = len;
    z.size = prefix_only ? limit : first_output_size(in, len, limit - 1);
    z.out = malloc(z.size ? z.size : 1);
    if (!z.out || inflateInit2(&z.zs, 16 + MAX_WBITS) != Z_OK) {
        free(z.out);
        app_data_error(err, errlen, "out of memory starting gzip decompression");
        return 1;
    }
    int rc = run_inflate(&z, limit, prefix_only, err, errlen);
    inflateEnd(&z.zs);
    if (rc == 0 && !prefix_only && z.used >= limit)
        rc = APP_GUNZIP_TOO_BIG; /* the stream ended exactly one byte past the cap */
    if (rc == 0 || rc == 3) {
        *out = z.out;
        *out_len = z.used;
        return 0;
    }
    free(z.out);
    return rc;
}

int app_gunzip(const uint8_t *in, size_t len, size_t cap, uint8_t **out, size_t *out_len,
               char *err, size_t errlen)
{
    if (cap >= SIZE_MAX / 2)
        cap = SIZE_MAX / 2;
    int rc = gunzip_bounded(in, len, cap + 1, 0, out, out_len, err, errlen);
    if (rc == APP_GUNZIP_TOO_BIG)
        app_data_error(err, errlen, "gzip data decompresses to more than %zu bytes (refused as "
                       "a likely decompression bomb)", cap);
    return rc;
}

/* ---- IDX headers ---- */

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

typedef struct idx_header {
    uint32_t count, rows, cols; /* rows = cols = 1 for labels */
    size_t header_len;          /* 16 for images, 8 for labels */
    size_t payload_len;         /* bytes the header promises after itself */
} idx_header;

static int check_magic(const uint8_t *b, size_t len, int images, const char *what, char *err,
                       size_t errlen)
{
    uint32_t want = images ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
    uint32_t other = images ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC;
    if (len < 4) {
        app_data_error(err, errlen, "%s: only %zu bytes, too short for an IDX header", what, len);
        return 1;
    }
    uint32_t magic = read_be32(b);
    if (magic == want)
        return 0;
    if (magic == other)
        app_data_error(err, errlen, "%s: is an IDX %s file, expected %s (are the image and label "
                       "files swapped?)", what, images ? "label" : "image",
                       images ? "images" : "labels");
    else if (b[0] == 0 && b[1] == 0 && b[2] == IDX_U8_TYPE)
        app_data_error(err, errlen, "%s: IDX file with %u dimensions, expected %d (%s)", what,
                       b[3], images ? 3 : 1, images ? "count, rows, columns" : "count");
    else if (b[0] == 0 && b[1] == 0)
        app_data_error(err, errlen, "%s: IDX element type 0x%02x is not supported, only unsigned "
                       "bytes (0x08)", what, b[2]);
    else
        app_data_error(err, errlen, "%s: not an IDX file (magic 0x%08x, expected 0x%08x)", what,
                       magic, want);
    return 1;
}

static int check_image_dims(const idx_header *h, const char *what, char *err, size_t errlen)
{
    if (h->count == 0) {
        app_data_error(err, errlen, "%s: the header declares no images", what);
        return 1;
    }
    if (h->count > INT_MAX) {
        app_data_error(err, errlen, "%s: the header declares %u images, more than supported",
                       what, h->count);
        return 1;
    }
    if (h->rows == 0 || h->cols == 0 || h->rows > IDX_MAX_SIDE || h->cols > IDX_MAX_SIDE) {
        app_data_error(err, errlen, "%s: implausible image size %ux%u in the header (each side "
                       "must be 1..%u)", what, h->rows, h->cols, IDX_MAX_SIDE);
        return 1;
    }
    return 0;
}

/* Parses and validates an image or label header; sets payload_len from the declared sizes. */
static int parse_header(const uint8_t *b, size_t len, int images, const char *what,
                        idx_header *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (check_magic(b, len, images, what, err, errlen))
        return 1;
    h->header_len = images ? 16 : 8;
    if (len < h->header_len) {
        app_data_error(err, errlen, "%s: truncated header: %zu of %zu bytes", what, len,
                       h->header_len);
        return 1;
    }
    h->count = read_be32(b + 4);
    h->rows = images ? read_be32(b + 8) : 1;
    h->cols = images ? read_be32(b + 12) : 1;
    if (images && check_image_dims(h, what, err, errlen))
        return 1;
    if (!images && h->count > INT_MAX) {
        app_data_error(err, errlen, "%s: the header declares %u labels, more than supported",
                       what, h->count);
        return 1;
    }
    size_t plane = (size_t)h->rows * h->cols;
    if (app_size_mul(plane, h->count, &h->payload_len) ||
        h->payload_len > APP_DATA_MAX_BYTES - h->header_len) {
        app_data_error(err, errlen, "%s: the header declares %u x %u x %u bytes, more than the "
                       "%zu MiB limit (forged or damaged header)", what, h->count, h->rows,
                       h->cols, APP_DATA_MAX_BYTES >> 20);
        return 1;
    }
    return 0;
}

/* The payload must be exactly as long as the header says. */
static int check_payload(const idx_header *h, size_t len, int images, const char *what, char *err,
                         size_t errlen)
{
    size_t found = len - h->header_len;
    const char *unit = images ? "bytes of pixels" : "labels";
    if (found < h->payload_len) {
        app_data_error(err, errlen, "%s: truncated: expected %zu %s, found %zu (download the "
                       "file again)", what, h->payload_len, unit, found);
        return 1;
    }
    if (found > h->payload_len) {
        app_data_error(err, errlen, "%s: %zu unexpected bytes after the %zu %s the header "
                       "declares", what, found - h->payload_len, h->payload_len, unit);
        return 1;
    }
    return 0;
}

static int check_labels(const uint8_t *labels, size_t count, const char *what, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        if (labels[i] >= IDX_CLASSES) {
            app_data_error(err, errlen, "%s: label %u at index %zu is out of range (0..%d)", what,
                           labels[i], i, IDX_CLASSES - 1);
            return 1;
        }
    }
    return 0;
}

/* Validates both files and, when everything holds, copies them into out. */
static int parse_named(const uint8_t *images, size_t images_len, const uint8_t *labels,
                       size_t labels_len, const char *iname, const char *lname, app_dataset *out,
                       char *err, size_t errlen)
{
    idx_header hi, hl;
    memset(out, 0, sizeof *out);
    if (parse_header(images, images_len, 1, iname, &hi, err, errlen) ||
        check_payload(&hi, images_len, 1, iname, err, errlen) ||
        parse_header(labels, labels_len, 0, lname, &hl, err, errlen) ||
        check_payload(&hl, labels_len, 0, lname, err, errlen))
        return 1;
    if (hi.count != hl.count) {
        app_data_error(err, errlen, "%s holds %u images but %s holds %u labels; the two files do "
                       "not belong together", iname, hi.count, lname, hl.count);
        return 1;
    }
    const uint8_t *label_bytes = labels + hl.header_len;
    if (check_labels(label_bytes, hl.count, lname, err, errlen))
        return 1;
    out->pixels = malloc(hi.payload_len);
    out->labels = malloc((size_t)hl.count * sizeof *out->labels);
    if (!out->pixels || !out->labels) {
        app_dataset_free(out);
        app_data_error(err, errlen, "out of memory for %u images of %ux%u", hi.count, hi.rows,
                       hi.cols);
        return 1;
    }
    memcpy(out->pixels, images + hi.header_len, hi.payload_len);
    for (uint32_t i = 0; i < hl.count; i++)
        out->labels[i] = label_bytes[i];
    out->count = (int)hi.count;
    out->channels = 1;
    out->height = (int)hi.rows;
    out->width = (int)hi.cols;
    out->classes = IDX_CLASSES;
    snprintf(out->name, sizeof out->name, "idx");
    return 0;
}

int app_idx_parse(const uint8_t *images, size_t images_len, const uint8_t *labels,
                  size_t labels_len, app_dataset *out, char *err, size_t errlen)
{
    return parse_named(images, images_len, labels, labels_len, "image file", "label file", out,
                       err, errlen);
}

/* ---- Files ---- */

/* Decompresses a gzip IDX file. The header is inflated first, so the full decompression is
 * bounded by the size the header declares (plus one byte to notice extra data): a decompression
 * bomb stops there, and a header that claims more than the limit is refused before inflating. */
static int gunzip_idx(const char *path, const uint8_t *gz, size_t gz_len, int images,
                      uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
    char msg[APP_ERRLEN];
    uint8_t *head;
    size_t head_len;
    idx_header h;
    if (gunzip_bounded(gz, gz_len, images ? 16 : 8, 1, &head, &head_len, msg, sizeof msg)) {
        app_data_error(err, errlen, "%s: %s", path, msg);
        return 1;
    }
    int bad = parse_header(head, head_len, images, path, &h, err, errlen);
    free(head);
    if (bad)
        return 1;
    size_t total = h.header_len + h.payload_len;
    int rc = gunzip_bounded(gz, gz_len, total + 1, 0, out, out_len, msg, sizeof msg);
    if (rc == APP_GUNZIP_TOO_BIG)
        app_data_error(err, errlen, "%s: decompresses to more than the %zu bytes its header "
                       "declares (extra data, or a decompression bomb)", path, total);
    else if (rc)
        app_data_error(err, errlen, "%s: %s", path, msg);
    return rc ? 1 : 0;
}

/* Reads one IDX file, decompressing it when it starts with the gzip signature. */
static int read_idx_file(const char *path, int images, uint8_t **out, size_t *out_len, char *err,
                         size_t errlen)
{
    uint8_t *raw;
    size_t raw_len;
    if (app_read_file(path, APP_DATA_MAX_BYTES, &raw, &raw_len, err, errlen))
        return 1;
    if (!has_gzip_magic(raw, raw_len)) {
        *out = raw;
        *out_len = raw_len;
        return 0;
    }
    int rc = gunzip_idx(path, raw, raw_len, images, out, out_len, err, errlen);
    free(raw);
    return rc;
}

int app_idx_load(const char *images_path, const char *labels_path, app_dataset *out, char *err,
                 size_t errlen)
{
    uint8_t *images = NULL, *labels = NULL;
    size_t images_len = 0, labels_len = 0;
    memset(out, 0, sizeof *out);
    int rc = read_idx_file(images_path, 1, &images, &images_len, err, errlen) ||
             read_idx_file(labels_path, 0, &labels, &labels_len, err, errlen) ||
             parse_named(images, images_len, labels, labels_len, images_path, labels_path, out,
                         err, errlen);
    free(images);
    free(labels);
    return rc;
}
