/* apps/report/npz.c — NumPy .npz writer (see npz.h): each array becomes a version 1.0 .npy member
 * of a zip archive, deflated with zlib (or stored when deflate does not make it smaller). Every
 * member is built in memory first, so its local header carries the real sizes and CRC-32; all
 * integers of both formats are written little-endian byte by byte. */
#include "npz.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define NAME_MAX_LEN 100
#define NDIM_MAX 8
#define ZIP_LIMIT 0xFFFFFFFFu   /* sizes and offsets must stay below: the zip64 marker */
#define ZIP_MAX_MEMBERS 0xFFFEu /* 0xFFFF in the member counts is the zip64 marker too */
#define LOCAL_HEADER 30
#define CENTRAL_HEADER 46
#define END_RECORD 22
#define VERSION_NEEDED 20        /* 2.0: deflate */
#define VERSION_MADE_BY 0x0314u  /* Unix, 2.0: external attributes hold a file mode */
#define FILE_MODE 0100644u       /* a regular file, rw-r--r-- */
#define DOS_TIME 0u              /* 00:00:00 */
#define DOS_DATE 0x0021u         /* 1980-01-01: a fixed stamp keeps the output reproducible */

typedef struct member {
    char name[NAME_MAX_LEN + 5]; /* name.npy */
    uint32_t crc, csize, usize, offset;
    unsigned method;             /* 0 stored, 8 deflated */
} member;

struct app_npz {
    FILE *f;
    char *path, *tmp;
    uint64_t offset;             /* bytes written so far: where the next member goes */
    uint64_t central;            /* size the central directory will have */
    member *m;
    size_t n, cap;
    int failed;                  /* a write failed: the archive can only be thrown away */
    char why[256];               /* what failed */
};

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)((v >> 8) & 0xFF);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xFF);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xFF);
}

/* Writes n bytes; on failure marks the archive failed and says why. */
static int write_all(app_npz *z, const void *buf, size_t n, char *err, size_t errlen)
{
    if (n == 0) return 0;
    errno = 0;
    if (fwrite(buf, 1, n, z->f) != n) {
        snprintf(z->why, sizeof z->why, "cannot write %s: %s", z->tmp,
                 errno ? strerror(errno) : "write error");
        z->failed = 1;
        say(err, errlen, "%s", z->why);
        return -1;
    }
    z->offset += n;
    return 0;
}

int app_npz_open(const char *path, app_npz **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (!path || !*path || !out) {
        say(err, errlen, ".npz export: no output path given");
        return -1;
    }
    app_npz *z = calloc(1, sizeof *z);
    size_t plen = strlen(path), tlen = plen + 32;
    if (z) {
        z->path = malloc(plen + 1);
        z->tmp = malloc(tlen);
    }
    if (!z || !z->path || !z->tmp) {
        say(err, errlen, "%s: out of memory", path);
        if (z) { free(z->path); free(z->tmp); }
        free(z);
        return -1;
    }
    memcpy(z->path, path, plen + 1);
    snprintf(z->tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    z->f = fopen(z->tmp, "wb");
    if (!z->f) {
        say(err, errlen, "cannot create %s: %s", z->tmp, strerror(errno));
        free(z->path);
        free(z->tmp);
        free(z);
        return -1;
    }
    *out = z;
    return 0;
}

static int check_name(const app_npz *z, const char *name, char *err, size_t errlen)
{
    if (!name || !*name) {
        say(err, errlen, "%s: an array needs a non-empty name", z->path);
        return -1;
    }
    size_t len = strlen(name);
    if (len > NAME_MAX_LEN) {
        say(err, errlen, "%s: array name '%.40s...' is %zu characters long (at most %d)", z->path,
            name, len, NAME_MAX_LEN);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            say(err, errlen, "%s: array name '%s' may only hold letters, digits and '_' "
                "(character %zu is not one)", z->path, name, i + 1);
            return -1;
        }
    }
    for (size_t i = 0; i < z->n; i++) {
        if (strncmp(z->m[i].name, name, len) == 0 && strcmp(z->m[i].name + len, ".npy") == 0) {
            say(err, errlen, "%s: there is already an array named '%s'", z->path, name);
            return -1;
        }
    }
    return 0;
}

/* Writes the .npy preamble (magic, version, header length, header dict, padding) into hdr, which
 * has room for 512 bytes; returns its length, a multiple of 64. */
static size_t npy_preamble(unsigned char *hdr, const char *descr, int ndim, const size_t *dims)
{
    char dict[448];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim; d++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%zu", d ? ", " : "", dims[d]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t total = 10 + (size_t)n + 1; /* the dict ends with '\n' */
    total = (total + 63) / 64 * 64;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    put16(hdr + 8, (unsigned)(total - 10));
    memcpy(hdr + 10, dict, (size_t)n);
    memset(hdr + 10 + n, ' ', total - 10 - (size_t)n - 1);
    hdr[total - 1] = '\n';
    return total;
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* Raw-deflates in[0..n) into out[0..cap); returns the compressed size, 0 if it does not fit in
 * cap bytes (then the member is stored), or -1 if zlib fails. */
static long long deflate_into(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t in_left = n, out_left = cap;
    s.next_in = (Bytef *)(uintptr_t)in; /* zlib reads next_in only */
    s.next_out = out;
    long long result = -1;
    for (;;) {
        if (s.avail_in == 0 && in_left > 0) {
            s.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in_left -= s.avail_in;
        }
        if (s.avail_out == 0 && out_left > 0) {
            s.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
            out_left -= s.avail_out;
        }
        int rc = deflate(&s, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            result = (long long)(cap - out_left - s.avail_out);
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) break;
        if (s.avail_out == 0 && out_left == 0) { result = 0; break; } /* no smaller than stored */
        if (rc == Z_BUF_ERROR) break; /* no progress with room on both sides: should not happen */
    }
    deflateEnd(&s);
    return result;
}

int app_npz_add(app_npz *z, const char *name, app_npy_type t, int ndim, const size_t *dims,
                const void *data, char *err, size_t errlen)
{
    if (!z) {
        say(err, errlen, ".npz export: no archive open");
        return -1;
    }
    if (z->failed) {
        say(err, errlen, "%s", z->why);
        return -1;
    }
    if (check_name(z, name, err, errlen) != 0) return -1;
    const char *descr;
    size_t esize;
    switch (t) {
    case APP_NPY_F32: descr = "<f4"; esize = 4; break;
    case APP_NPY_F64: descr = "<f8"; esize = 8; break;
    case APP_NPY_I32: descr = "<i4"; esize = 4; break;
    default:
        say(err, errlen, "%s: array '%s' has an unknown element type (%d)", z->path, name, (int)t);
        return -1;
    }
    if (ndim < 0 || ndim > NDIM_MAX) {
        say(err, errlen, "%s: array '%s' has %d dimensions (0 to %d allowed)", z->path, name, ndim,
            NDIM_MAX);
        return -1;
    }
    if (ndim > 0 && !dims) {
        say(err, errlen, "%s: array '%s' has %d dimensions but no sizes", z->path, name, ndim);
        return -1;
    }
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] != 0 && count > SIZE_MAX / dims[d]) {
            say(err, errlen, "%s: array '%s' is too large (its element count overflows)", z->path, name);
            return -1;
        }
        count *= dims[d];
    }
    if (count > SIZE_MAX / esize) {
        say(err, errlen, "%s: array '%s' is too large (its byte size overflows)", z->path, name);
        return -1;
    }
    unsigned char hdr[512];
    size_t hlen = npy_preamble(hdr, descr, ndim, dims);
    size_t nbytes = count * esize;
    if (nbytes >= ZIP_LIMIT - hlen) {
        say(err, errlen, "%s: array '%s' (%zu bytes) is too large for a zip archive without zip64 "
            "(under 4 GiB per member)", z->path, name, nbytes);
        return -1;
    }
    if (z->n >= ZIP_MAX_MEMBERS) {
        say(err, errlen, "%s: cannot add '%s': a zip archive without zip64 holds at most %u members",
            z->path, name, ZIP_MAX_MEMBERS);
        return -1;
    }
    if (count > 0 && !data) {
        say(err, errlen, "%s: array '%s' has %zu elements but no data", z->path, name, count);
        return -1;
    }
    if (z->n == z->cap) {
        size_t cap = z->cap ? 2 * z->cap : 16;
        member *nm = realloc(z->m, cap * sizeof *nm);
        if (!nm) {
            say(err, errlen, "%s: out of memory adding '%s'", z->path, name);
            return -1;
        }
        z->m = nm;
        z->cap = cap;
    }

    /* the whole .npy file, then its deflated form */
    size_t usize = hlen + nbytes;
    unsigned char *npy = malloc(usize), *packed = malloc(usize - 1);
    if (!npy || !packed) {
        free(npy);
        free(packed);
        say(err, errlen, "%s: out of memory adding '%s' (%zu bytes)", z->path, name, usize);
        return -1;
    }
    memcpy(npy, hdr, hlen);
    const unsigned char *src = data;
    unsigned char *dst = npy + hlen;
    if (esize == 4) {
        for (size_t i = 0; i < count; i++) {
            uint32_t v;
            memcpy(&v, src + 4 * i, 4);
            put32(dst + 4 * i, v);
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            uint64_t v;
            memcpy(&v, src + 8 * i, 8);
            put64(dst + 8 * i, v);
        }
    }
    uint32_t crc = crc_of(npy, usize);
    long long csize = deflate_into(npy, usize, packed, usize - 1);
    if (csize < 0) {
        free(npy);
        free(packed);
        say(err, errlen, "%s: cannot compress '%s' (zlib failed)", z->path, name);
        return -1;
    }
    unsigned method = csize > 0 ? 8 : 0;
    const unsigned char *body = method ? packed : npy;
    size_t blen = method ? (size_t)csize : usize;

    member *m = &z->m[z->n];
    snprintf(m->name, sizeof m->name, "%s.npy", name);
    size_t nlen = strlen(m->name);
    /* everything that would follow this member must still fit: its central entry and the end */
    uint64_t end = z->offset + LOCAL_HEADER + nlen + blen + z->central + CENTRAL_HEADER + nlen + END_RECORD;
    if (end >= ZIP_LIMIT) {
        free(npy);
        free(packed);
        say(err, errlen, "%s: cannot add '%s': the archive would reach 4 GiB, the zip limit "
            "without zip64", z->path, name);
        return -1;
    }
    m->crc = crc;
    m->csize = (uint32_t)blen;
    m->usize = (uint32_t)usize;
    m->offset = (uint32_t)z->offset;
    m->method = method;

    unsigned char lh[LOCAL_HEADER];
    put32(lh, 0x04034b50u);
    put16(lh + 4, VERSION_NEEDED);
    put16(lh + 6, 0);            /* flags: sizes and CRC are in this header */
    put16(lh + 8, method);
    put16(lh + 10, DOS_TIME);
    put16(lh + 12, DOS_DATE);
    put32(lh + 14, m->crc);
    put32(lh + 18, m->csize);
    put32(lh + 22, m->usize);
    put16(lh + 26, (unsigned)nlen);
    put16(lh + 28, 0);           /* no extra field */
    int rc = write_all(z, lh, sizeof lh, err, errlen);
    if (rc == 0) rc = write_all(z, m->name, nlen, err, errlen);
    if (rc == 0) rc = write_all(z, body, blen, err, errlen);
    free(npy);
    free(packed);
    if (rc != 0) return -1;
    z->central += CENTRAL_HEADER + nlen;
    z->n++;
    return 0;
}

/* Central directory and end record. */
static int write_directory(app_npz *z, char *err, size_t errlen)
{
    uint64_t start = z->offset;
    for (size_t i = 0; i < z->n; i++) {
        const member *m = &z->m[i];
        size_t nlen = strlen(m->name);
        unsigned char ch[CENTRAL_HEADER];
        put32(ch, 0x02014b50u);
        put16(ch + 4, VERSION_MADE_BY);
        put16(ch + 6, VERSION_NEEDED);
        put16(ch + 8, 0);
        put16(ch + 10, m->method);
        put16(ch + 12, DOS_TIME);
        put16(ch + 14, DOS_DATE);
        put32(ch + 16, m->crc);
        put32(ch + 20, m->csize);
        put32(ch + 24, m->usize);
        put16(ch + 28, (unsigned)nlen);
        put16(ch + 30, 0);       /* extra field */
        put16(ch + 32, 0);       /* comment */
        put16(ch + 34, 0);       /* disk */
        put16(ch + 36, 0);       /* internal attributes */
        put32(ch + 38, (uint32_t)FILE_MODE << 16);
        put32(ch + 42, m->offset);
        if (write_all(z, ch, sizeof ch, err, errlen) != 0) return -1;
        if (write_all(z, m->name, nlen, err, errlen) != 0) return -1;
    }
    uint64_t size = z->offset - start;
    if (start >= ZIP_LIMIT || size >= ZIP_LIMIT || z->offset + END_RECORD >= ZIP_LIMIT) {
        say(err, errlen, "%s: the archive would reach 4 GiB, the zip limit without zip64", z->path);
        return -1;
    }
    unsigned char end[END_RECORD];
    put32(end, 0x06054b50u);
    put16(end + 4, 0);           /* this disk */
    put16(end + 6, 0);           /* disk of the central directory */
    put16(end + 8, (unsigned)z->n);
    put16(end + 10, (unsigned)z->n);
    put32(end + 12, (uint32_t)size);
    put32(end + 16, (uint32_t)start);
    put16(end + 20, 0);          /* no comment */
    return write_all(z, end, sizeof end, err, errlen);
}

static void release(app_npz *z)
{
    free(z->m);
    free(z->path);
    free(z->tmp);
    free(z);
}

int app_npz_close(app_npz *z, int commit, char *err, size_t errlen)
{
    if (!z) {
        if (!commit) return 0;
        say(err, errlen, ".npz export: no archive open");
        return -1;
    }
    if (!commit || z->failed) {
        /* thrown away, or a write failed: nothing may be left behind */
        fclose(z->f);
        int rc = 0;
        if (remove(z->tmp) != 0 && errno != ENOENT) {
            say(err, errlen, "cannot remove %s: %s", z->tmp, strerror(errno));
            rc = -1;
        }
        if (z->failed && commit) {
            say(err, errlen, "%s not written: %s", z->path, z->why);
            rc = -1;
        }
        release(z);
        return rc;
    }
    int rc = write_directory(z, err, errlen);
    if (rc == 0 && fflush(z->f) != 0) {
        say(err, errlen, "cannot write %s: %s", z->tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && fsync(fileno(z->f)) != 0) {
        say(err, errlen, "cannot sync %s to disk: %s", z->tmp, strerror(errno));
        rc = -1;
    }
    if (fclose(z->f) != 0 && rc == 0) {
        say(err, errlen, "cannot write %s: %s", z->tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(z->tmp, z->path) != 0) {
        say(err, errlen, "cannot rename %s to %s: %s", z->tmp, z->path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) remove(z->tmp);
    release(z);
    return rc;
}
