/* tests/report/test_npz.c — the .npz writer: an archive of known arrays is taken apart here byte by
 * byte (zip end record, central directory, local headers, CRC-32 of the inflated members, .npy
 * headers and data), bad input must be refused with a message, nothing may be left behind when an
 * archive is thrown away, and, where Python with NumPy is installed, check_npz.py (argv[1]) must
 * load the archive with numpy.load and find the same arrays. */
#include "npz.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define PYTHON "/usr/bin/python3"

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fputc('\n', stderr);                                                                \
            (*fails)++;                                                                         \
        }                                                                                       \
    } while (0)

/* ---- the arrays written (check_npz.py computes the same values) ---- */

typedef struct array {
    const char *name;
    app_npy_type type;
    int ndim;
    size_t dims[8];
    const void *data;
    size_t count;
    int method;                 /* expected zip method, -1: either */
} array;

enum { N_GRID = 15, N_COUNTS = 7, N_CUBE = 24, N_BIG = 12000, N_ZEROS = 10000, N_NOISE = 65536 };

typedef struct sample {
    float grid[N_GRID];
    int32_t counts[N_COUNTS];
    double ratio;
    double cube[N_CUBE];
    float *big;
    int32_t *noise;
    int32_t seven;
    char long_name[101];
    array arrays[9];
    int n;
} sample;

static int make_sample(sample *s)
{
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 5; c++) s->grid[r * 5 + c] = (float)(r * 10 + c) + 0.5f;
    const int32_t counts[N_COUNTS] = {INT32_MIN, -1, 0, 1, 42, INT32_MAX, 123456789};
    memcpy(s->counts, counts, sizeof counts);
    s->ratio = 3.141592653589793;
    for (int i = 0; i < N_CUBE; i++) s->cube[i] = i * 0.5 - 3.0;
    s->big = malloc(N_BIG * sizeof *s->big);
    s->noise = malloc(N_NOISE * sizeof *s->noise);
    if (!s->big || !s->noise) return -1;
    for (int i = 0; i < N_BIG; i++) s->big[i] = i < N_ZEROS ? 0.0f : (float)((i - N_ZEROS) % 17) * 0.25f;
    uint32_t x = 2463534242u; /* xorshift32: incompressible, so this member is stored */
    for (int i = 0; i < N_NOISE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(&s->noise[i], &x, 4);
    }
    s->seven = 7;
    s->long_name[0] = 'L';
    for (int i = 0; i < 99; i++) s->long_name[1 + i] = (char)('0' + i % 10);
    s->long_name[100] = '\0';
    array a[] = {
        {"grid", APP_NPY_F32, 2, {3, 5}, s->grid, N_GRID, -1},
        {"counts", APP_NPY_I32, 1, {N_COUNTS}, s->counts, N_COUNTS, -1},
        {"ratio", APP_NPY_F64, 0, {0}, &s->ratio, 1, -1},
        {"cube", APP_NPY_F64, 3, {2, 3, 4}, s->cube, N_CUBE, -1},
        {"big", APP_NPY_F32, 1, {N_BIG}, s->big, N_BIG, 8},
        {"empty", APP_NPY_F32, 2, {0, 4}, NULL, 0, -1},
        {"noise", APP_NPY_I32, 1, {N_NOISE}, s->noise, N_NOISE, 0},
        {s->long_name, APP_NPY_I32, 0, {0}, &s->seven, 1, -1},
    };
    s->n = (int)(sizeof a / sizeof a[0]);
    memcpy(s->arrays, a, sizeof a);
    return 0;
}

/* ---- writing ---- */

/* Each refused add must return -1 and name the archive in its message. */
static void refuse(app_npz *z, const char *path, const char *what, const char *name, app_npy_type t,
                   int ndim, const size_t *dims, const void *data, int *fails)
{
    char err[512] = "";
    int rc = app_npz_add(z, name, t, ndim, dims, data, err, sizeof err);
    CHECK(rc == -1, "%s: accepted (rc %d)", what, rc);
    CHECK(err[0] != '\0', "%s: no message", what);
    CHECK(strstr(err, path) != NULL, "%s: message does not name %s: %s", what, path, err);
}

static void bad_adds(app_npz *z, const char *path, int *fails)
{
    size_t d3[] = {3}, d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float v[4] = {0};
    char name101[102];
    memset(name101, 'a', 101);
    name101[101] = '\0';
    refuse(z, path, "NULL name", NULL, APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "empty name", "", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "name with '-'", "bad-name", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "name with '.'", "bad.npy", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "name with ' '", "has space", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "name with '/'", "dir/x", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "non-ASCII name", "caf\xc3\xa9", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "101-character name", name101, APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "duplicate name", "grid", APP_NPY_F32, 1, d3, v, fails);
    refuse(z, path, "ndim 9", "nine", APP_NPY_F32, 9, d9, v, fails);
    refuse(z, path, "ndim -1", "neg", APP_NPY_F32, -1, d3, v, fails);
    refuse(z, path, "dims NULL", "nodims", APP_NPY_F32, 2, NULL, v, fails);
    refuse(z, path, "unknown type", "type7", (app_npy_type)7, 1, d3, v, fails);
    size_t over[] = {SIZE_MAX, 3};
    refuse(z, path, "element count overflow", "over", APP_NPY_F32, 2, over, v, fails);
    size_t bytes_over[] = {SIZE_MAX / 4 + 1};
    refuse(z, path, "byte size overflow", "bytes", APP_NPY_F32, 1, bytes_over, v, fails);
    /* 4 GiB of float32: past the zip32 limit (the data are never read: the size is refused first) */
    size_t huge[] = {(size_t)1 << 30};
    refuse(z, path, "4 GiB member", "huge", APP_NPY_F32, 1, huge, v, fails);
    refuse(z, path, "NULL data for 3 elements", "nodata", APP_NPY_F32, 1, d3, NULL, fails);
    char err[256] = "";
    CHECK(app_npz_add(NULL, "x", APP_NPY_F32, 1, d3, v, err, sizeof err) == -1 && err[0],
          "add to a NULL archive");
}

static int write_sample(const char *path, const sample *s, int *fails)
{
    char err[512] = "";
    app_npz *z = NULL;
    if (app_npz_open(path, &z, err, sizeof err) != 0) {
        CHECK(0, "open %s: %s", path, err);
        return -1;
    }
    for (int i = 0; i < s->n; i++) {
        const array *a = &s->arrays[i];
        err[0] = '\0';
        int rc = app_npz_add(z, a->name, a->type, a->ndim, a->dims, a->data, err, sizeof err);
        CHECK(rc == 0, "add %s: %s", a->name, err);
        if (i == 0) bad_adds(z, path, fails); /* refused adds leave the archive usable */
    }
    err[0] = '\0';
    int rc = app_npz_close(z, 1, err, sizeof err);
    CHECK(rc == 0, "close %s: %s", path, err);
    return rc;
}

/* ---- reading the archive back ---- */

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        unsigned char *nb = realloc(buf, cap *= 2);
        if (!nb) { free(buf); buf = NULL; }
        else buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Raw inflate of exactly usize bytes. */
static unsigned char *inflate_member(const unsigned char *in, size_t clen, size_t usize)
{
    unsigned char *out = malloc(usize ? usize : 1);
    if (!out) return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK) { free(out); return NULL; }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)clen;
    zs.next_out = out;
    zs.avail_out = (uInt)usize;
    int rc = inflate(&zs, Z_FINISH);
    int ok = rc == Z_STREAM_END && zs.total_out == usize && zs.avail_in == 0;
    inflateEnd(&zs);
    if (!ok) { free(out); return NULL; }
    return out;
}

typedef struct npy_header {
    char descr[16];
    int fortran;                /* -1 if missing */
    int ndim;                   /* -1 if missing */
    size_t dims[16];
} npy_header;

static const char *skip_spaces(const char *p)
{
    while (*p == ' ') p++;
    return p;
}

/* Parses the .npy header dict: keys in any order, string, boolean or integer-tuple values. */
static int parse_dict(const char *p, npy_header *h)
{
    h->descr[0] = '\0';
    h->fortran = -1;
    h->ndim = -1;
    p = skip_spaces(p);
    if (*p++ != '{') return -1;
    for (;;) {
        p = skip_spaces(p);
        if (*p == '}') { p++; break; }
        if (*p++ != '\'') return -1;
        const char *k = p;
        while (*p && *p != '\'') p++;
        if (*p != '\'') return -1;
        size_t klen = (size_t)(p - k);
        p = skip_spaces(p + 1);
        if (*p++ != ':') return -1;
        p = skip_spaces(p);
        if (klen == 5 && strncmp(k, "descr", 5) == 0) {
            if (*p++ != '\'') return -1;
            size_t n = 0;
            while (*p && *p != '\'' && n + 1 < sizeof h->descr) h->descr[n++] = *p++;
            h->descr[n] = '\0';
            if (*p++ != '\'') return -1;
        } else if (klen == 13 && strncmp(k, "fortran_order", 13) == 0) {
            if (strncmp(p, "False", 5) == 0) { h->fortran = 0; p += 5; }
            else if (strncmp(p, "True", 4) == 0) { h->fortran = 1; p += 4; }
            else return -1;
        } else if (klen == 5 && strncmp(k, "shape", 5) == 0) {
            if (*p++ != '(') return -1;
            h->ndim = 0;
            int commas = 0;
            for (;;) {
                p = skip_spaces(p);
                if (*p == ')') { p++; break; }
                if (*p < '0' || *p > '9' || h->ndim == 16) return -1;
                char *end;
                h->dims[h->ndim++] = (size_t)strtoull(p, &end, 10);
                p = skip_spaces(end);
                if (*p == ',') { p++; commas++; }
                else if (*p != ')') return -1;
            }
            if (h->ndim == 1 && commas != 1) return -1; /* (n) is not a tuple in Python */
        } else {
            return -1;
        }
        p = skip_spaces(p);
        if (*p == ',') p++;
        else if (*p != '}') return -1;
    }
    p = skip_spaces(p);
    return *p == '\n' && p[1] == '\0' ? 0 : -1;
}

static void check_npy(const unsigned char *npy, size_t len, const array *a, int *fails)
{
    const char *n = a->name;
    if (len < 10 || memcmp(npy, "\x93NUMPY", 6) != 0) {
        CHECK(0, "%s: no .npy magic", n);
        return;
    }
    CHECK(npy[6] == 1 && npy[7] == 0, "%s: version %u.%u, not 1.0", n, npy[6], npy[7]);
    size_t hlen = get16(npy + 8), pre = 10 + hlen;
    CHECK(pre % 64 == 0, "%s: preamble of %zu bytes is not a multiple of 64", n, pre);
    if (pre > len) {
        CHECK(0, "%s: header past the end", n);
        return;
    }
    CHECK(npy[pre - 1] == '\n', "%s: header does not end with a newline", n);
    char dict[70000];
    memcpy(dict, npy + 10, hlen);
    dict[hlen] = '\0';
    npy_header h;
    if (parse_dict(dict, &h) != 0) {
        CHECK(0, "%s: header does not parse: %s", n, dict);
        return;
    }
    const char *descr = a->type == APP_NPY_F32 ? "<f4" : a->type == APP_NPY_F64 ? "<f8" : "<i4";
    size_t esize = a->type == APP_NPY_F64 ? 8 : 4;
    CHECK(strcmp(h.descr, descr) == 0, "%s: descr '%s', wanted '%s'", n, h.descr, descr);
    CHECK(h.fortran == 0, "%s: fortran_order is not False", n);
    CHECK(h.ndim == a->ndim, "%s: %d dimensions, wanted %d", n, h.ndim, a->ndim);
    for (int d = 0; d < a->ndim && d < h.ndim; d++)
        CHECK(h.dims[d] == a->dims[d], "%s: dimension %d is %zu, wanted %zu", n, d, h.dims[d], a->dims[d]);
    CHECK(len - pre == a->count * esize, "%s: %zu data bytes, wanted %zu", n, len - pre, a->count * esize);
    if (len - pre != a->count * esize) return;
    const unsigned char *src = a->data, *got = npy + pre;
    size_t bad = 0;
    for (size_t i = 0; i < a->count; i++) {
        int same;
        if (esize == 4) {
            uint32_t want;
            memcpy(&want, src + 4 * i, 4);
            same = get32(got + 4 * i) == want;
        } else {
            uint64_t want;
            memcpy(&want, src + 8 * i, 8);
            same = get64(got + 8 * i) == want;
        }
        if (!same && bad++ == 0) CHECK(0, "%s: element %zu differs", n, i);
    }
    CHECK(bad == 0, "%s: %zu elements differ", n, bad);
}

/* Takes the archive apart: end record, central directory, local headers, members. */
static void check_archive(const char *path, const array *want, int nwant, int *fails)
{
    size_t len = 0;
    unsigned char *zip = slurp(path, &len);
    if (!zip) {
        CHECK(0, "cannot read %s: %s", path, strerror(errno));
        return;
    }
    /* the end record: the last signature within the final 22 + 65535 bytes */
    long eocd = -1;
    for (long p = (long)len - 22; p >= 0 && p >= (long)len - 22 - 65535; p--)
        if (get32(zip + p) == 0x06054b50u) { eocd = p; break; }
    if (eocd < 0) {
        CHECK(0, "%s: no end-of-central-directory record", path);
        free(zip);
        return;
    }
    const unsigned char *e = zip + eocd;
    CHECK((size_t)eocd + 22 + get16(e + 20) == len, "end record comment does not reach the end");
    CHECK(get16(e + 4) == 0 && get16(e + 6) == 0, "multi-disk archive");
    unsigned count = get16(e + 10);
    CHECK(get16(e + 8) == count, "member counts disagree");
    CHECK(count == (unsigned)nwant, "%u members, wanted %d", count, nwant);
    uint32_t cd_size = get32(e + 12), cd_off = get32(e + 16);
    CHECK((uint64_t)cd_off + cd_size == (uint64_t)eocd, "central directory does not end at the end record");
    if ((uint64_t)cd_off + cd_size > (uint64_t)eocd) {
        free(zip);
        return;
    }
    size_t p = cd_off, next_local = 0;
    for (unsigned i = 0; i < count; i++) {
        if (p + 46 > (size_t)eocd || get32(zip + p) != 0x02014b50u) {
            CHECK(0, "central entry %u: bad signature or truncated", i);
            break;
        }
        const unsigned char *c = zip + p;
        unsigned method = get16(c + 10), nlen = get16(c + 28), xlen = get16(c + 30), clen = get16(c + 32);
        uint32_t crc = get32(c + 16), csize = get32(c + 20), usize = get32(c + 24), lho = get32(c + 42);
        char name[300];
        snprintf(name, sizeof name, "%.*s", (int)nlen, (const char *)(c + 46));
        p += 46 + nlen + xlen + clen;
        const array *a = i < (unsigned)nwant ? &want[i] : NULL;
        char wanted[300];
        snprintf(wanted, sizeof wanted, "%s.npy", a ? a->name : "?");
        CHECK(a && strcmp(name, wanted) == 0, "member %u is '%s', wanted '%s'", i, name, wanted);
        CHECK(get16(c + 6) <= 20, "%s: needs zip version %u", name, get16(c + 6));
        CHECK(get16(c + 8) == 0, "%s: flags %#x", name, get16(c + 8));
        CHECK(method == 0 || method == 8, "%s: method %u", name, method);
        CHECK(method != 0 || csize == usize, "%s: stored with csize %u != usize %u", name, csize, usize);
        CHECK(method != 8 || csize < usize, "%s: deflated to %u bytes from %u", name, csize, usize);
        if (a && a->method >= 0)
            CHECK((int)method == a->method, "%s: method %u, wanted %d", name, method, a->method);
        CHECK(lho == next_local, "%s: local header at %u, wanted %zu (members back to back)", name, lho,
              next_local);
        /* the local header must repeat the central entry */
        if ((size_t)lho + 30 > cd_off || get32(zip + lho) != 0x04034b50u) {
            CHECK(0, "%s: no local header at %u", name, lho);
            continue;
        }
        const unsigned char *l = zip + lho;
        CHECK(get16(l + 6) == 0 && get16(l + 8) == method && get32(l + 14) == crc &&
              get32(l + 18) == csize && get32(l + 22) == usize && get16(l + 26) == nlen &&
              memcmp(l + 30, c + 46, nlen) == 0,
              "%s: local header disagrees with the central directory", name);
        size_t data = (size_t)lho + 30 + get16(l + 26) + get16(l + 28);
        if (data + csize > cd_off) {
            CHECK(0, "%s: data run into the central directory", name);
            continue;
        }
        next_local = data + csize;
        unsigned char *npy = method == 8 ? inflate_member(zip + data, csize, usize) : NULL;
        const unsigned char *body = method == 8 ? npy : zip + data;
        if (!body) {
            CHECK(0, "%s: does not inflate to %u bytes", name, usize);
            continue;
        }
        CHECK((uint32_t)crc32(crc32(0L, Z_NULL, 0), body, usize) == crc, "%s: CRC-32 mismatch", name);
        if (a) check_npy(body, usize, a, fails);
        free(npy);
    }
    CHECK(p == (size_t)eocd, "central directory size disagrees with its entries");
    CHECK(next_local == cd_off, "bytes between the last member and the central directory");
    free(zip);
}

/* ---- the other cases ---- */

static void check_open_errors(const char *dir, int *fails)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/missing/out.npz", dir);
    int dummy = 0;
    app_npz *z = (app_npz *)(void *)&dummy; /* open must reset it to NULL */
    CHECK(app_npz_open(path, &z, err, sizeof err) == -1, "open in a missing directory succeeded");
    CHECK(z == NULL, "failed open left a handle");
    CHECK(strstr(err, path) != NULL, "open error does not name the path: %s", err);
    CHECK(strstr(err, strerror(ENOENT)) != NULL, "open error does not say why: %s", err);
    err[0] = '\0';
    CHECK(app_npz_open(NULL, &z, err, sizeof err) == -1 && err[0], "open of NULL path");
    CHECK(app_npz_close(NULL, 0, err, sizeof err) == 0, "discarding NULL fails");
    err[0] = '\0';
    CHECK(app_npz_close(NULL, 1, err, sizeof err) == -1 && err[0], "committing NULL succeeds");
}

static void check_discard(const char *dir, const sample *s, int *fails)
{
    char path[4096], tmp[4200], err[512] = "";
    snprintf(path, sizeof path, "%s/discard.npz", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    app_npz *z = NULL;
    if (app_npz_open(path, &z, err, sizeof err) != 0) {
        CHECK(0, "open %s: %s", path, err);
        return;
    }
    CHECK(file_exists(tmp), "no temporary file %s while writing", tmp);
    CHECK(!file_exists(path), "%s exists before close", path);
    const array *a = &s->arrays[0];
    CHECK(app_npz_add(z, a->name, a->type, a->ndim, a->dims, a->data, err, sizeof err) == 0, "add: %s", err);
    CHECK(app_npz_close(z, 0, err, sizeof err) == 0, "discard: %s", err);
    CHECK(!file_exists(path), "discarded archive %s exists", path);
    CHECK(!file_exists(tmp), "discarded archive left %s", tmp);
}

/* A commit that cannot rename (the target is a directory) fails and removes the temporary file. */
static void check_rename_error(const char *dir, const sample *s, int *fails)
{
    char path[4096], tmp[4200], err[512] = "";
    snprintf(path, sizeof path, "%s/adir.npz", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (mkdir(path, 0700) != 0) {
        CHECK(0, "mkdir %s: %s", path, strerror(errno));
        return;
    }
    app_npz *z = NULL;
    if (app_npz_open(path, &z, err, sizeof err) != 0) {
        CHECK(0, "open %s: %s", path, err);
        rmdir(path);
        return;
    }
    const array *a = &s->arrays[2];
    CHECK(app_npz_add(z, a->name, a->type, a->ndim, a->dims, a->data, err, sizeof err) == 0, "add: %s", err);
    err[0] = '\0';
    CHECK(app_npz_close(z, 1, err, sizeof err) == -1, "commit onto a directory succeeded");
    CHECK(strstr(err, path) != NULL, "rename error does not name the path: %s", err);
    CHECK(!file_exists(tmp), "failed commit left %s", tmp);
    CHECK(rmdir(path) == 0, "rmdir %s: %s", path, strerror(errno));
}

static void check_empty_archive(const char *dir, int *fails)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/none.npz", dir);
    app_npz *z = NULL;
    CHECK(app_npz_open(path, &z, err, sizeof err) == 0, "open %s: %s", path, err);
    if (!z) return;
    CHECK(app_npz_close(z, 1, err, sizeof err) == 0, "close %s: %s", path, err);
    size_t len = 0;
    unsigned char *zip = slurp(path, &len);
    CHECK(zip && len == 22 && get32(zip) == 0x06054b50u && get16(zip + 10) == 0,
          "an archive without members is not a bare end record (%zu bytes)", len);
    free(zip);
    remove(path);
}

static int same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* Runs argv; returns its exit status, or -1 if it could not run or died. */
static int run(char *const argv[], int quiet)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (quiet) {
            FILE *null = fopen("/dev/null", "w");
            if (null) {
                dup2(fileno(null), 1);
                dup2(fileno(null), 2);
            }
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s check_npz.py\n", argv[0]);
        return 2;
    }
    int nfails = 0, *fails = &nfails;
    sample s;
    memset(&s, 0, sizeof s);
    if (make_sample(&s) != 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    const char *base = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/test_npz.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot create a directory like %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char path[4200], again[4200];
    snprintf(path, sizeof path, "%s/sample.npz", dir);
    snprintf(again, sizeof again, "%s/again.npz", dir);

    if (write_sample(path, &s, fails) == 0) {
        check_archive(path, s.arrays, s.n, fails);
        if (write_sample(again, &s, fails) == 0)
            CHECK(same_file(path, again), "the same arrays gave different archives");
    }
    check_open_errors(dir, fails);
    check_discard(dir, &s, fails);
    check_rename_error(dir, &s, fails);
    check_empty_archive(dir, fails);

    if (file_exists(path)) {
        char *probe[] = {PYTHON, "-c", "import numpy", NULL};
        if (run(probe, 1) != 0) {
            printf("note: %s with NumPy is not available; numpy.load check skipped\n", PYTHON);
        } else {
            char *check[] = {PYTHON, argv[1], path, NULL};
            int rc = run(check, 0);
            CHECK(rc == 0, "%s %s %s exited with %d", PYTHON, argv[1], path, rc);
            if (rc == 0) printf("numpy.load check passed\n");
        }
    }

    remove(path);
    remove(again);
    /* anything else left behind (a temporary file) makes rmdir fail */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                CHECK(0, "left behind: %s/%s", dir, de->d_name);
        closedir(d);
    }
    CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));

    free(s.big);
    free(s.noise);
    if (nfails) {
        fprintf(stderr, "%d check(s) failed\n", nfails);
        return 1;
    }
    printf("npz: all checks passed\n");
    return 0;
}
