/* tests/checkpoint/test_checkpoint.c — tests for net/checkpoint.c: round trip, the exact byte
 * layout, atomic writes, truncated, bit-flipped and forged files, and the accessors.
 *
 * Usage: test_checkpoint <case>; each case is a separate meson test. Files go to a fresh folder
 * under $TMPDIR (or /tmp) that is removed at the end. The test keeps its own encoder of the
 * layout so it can check the writer byte for byte and forge files the writer would never make.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"

#define MAX_TENSORS 8
#define ERR_LEN 512

typedef struct tctx {
    int failures;
    int checks;
    char dir[256];
} tctx;

static int check_at(tctx *t, int ok, const char *what, const char *detail, const char *file,
                    int line)
{
    t->checks++;
    if (!ok) {
        t->failures++;
        if (t->failures <= 30)
            fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what, detail ? " -- " : "",
                    detail ? detail : "");
    }
    return ok;
}

#define CHECK(t, cond) check_at((t), !!(cond), #cond, NULL, __FILE__, __LINE__)
#define CHECK_MSG(t, cond, detail) check_at((t), !!(cond), #cond, (detail), __FILE__, __LINE__)

/* ---- an independent encoder of the documented layout ---------------------------------------- */

typedef struct tbuf {
    uint8_t *b;
    size_t len, cap;
} tbuf;

static void tb_bytes(tbuf *tb, const void *p, size_t n)
{
    if (tb->len + n > tb->cap) {
        size_t cap = tb->cap ? tb->cap : 256;
        while (cap < tb->len + n) cap *= 2;
        tb->b = realloc(tb->b, cap);
        if (!tb->b) abort();
        tb->cap = cap;
    }
    if (n) memcpy(tb->b + tb->len, p, n);
    tb->len += n;
}

static void tb_le(tbuf *tb, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    tb_bytes(tb, b, (size_t)n);
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc32(0, NULL, 0), p, (uInt)n);
}

static void put_le_at(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the trailing CRC so only the structural checks can reject a forged file. */
static void refix_crc(uint8_t *p, size_t len) { put_le_at(p + len - 4, crc_of(p, len - 4), 4); }

/* Where each field landed in an encoding, for forging. */
typedef struct layout {
    size_t version_at, spec_len_at, meta_len_at, meta_at, count_at;
    size_t name_len_at[MAX_TENSORS], count_of_at[MAX_TENSORS], data_at[MAX_TENSORS];
} layout;

static void encode(const nn_ckpt *c, tbuf *tb, layout *lo)
{
    uint64_t u;
    tb_bytes(tb, "GAMMACKP", 8);
    lo->version_at = tb->len;
    tb_le(tb, 1, 4);
    tb_le(tb, (uint32_t)c->loss, 4);
    memcpy(&u, &c->gamma, 8);
    tb_le(tb, u, 8);
    tb_le(tb, c->seed, 8);
    tb_le(tb, (uint32_t)c->epoch, 4);
    tb_le(tb, (uint64_t)c->step, 8);
    lo->spec_len_at = tb->len;
    tb_le(tb, strlen(c->spec), 4);
    tb_bytes(tb, c->spec, strlen(c->spec));
    lo->meta_len_at = tb->len;
    tb_le(tb, strlen(c->meta), 4);
    lo->meta_at = tb->len;
    tb_bytes(tb, c->meta, strlen(c->meta));
    lo->count_at = tb->len;
    tb_le(tb, (uint32_t)c->ntensors, 4);
    for (int i = 0; i < c->ntensors; i++) {
        const nn_ckpt_tensor *t = &c->tensors[i];
        lo->name_len_at[i] = tb->len;
        tb_le(tb, strlen(t->name), 2);
        tb_bytes(tb, t->name, strlen(t->name));
        lo->count_of_at[i] = tb->len;
        tb_le(tb, t->count, 8);
        lo->data_at[i] = tb->len;
        for (uint64_t k = 0; k < t->count; k++) {
            uint32_t bits;
            memcpy(&bits, &t->data[k], 4);
            tb_le(tb, bits, 4);
        }
    }
    tb_le(tb, crc_of(tb->b, tb->len), 4);
}

/* ---- sample checkpoints ------------------------------------------------------------------- */

static char *dup_text(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (!d) abort();
    return strcpy(d, s);
}

static void add_tensor(nn_ckpt *c, const char *name, uint64_t count, uint32_t seed)
{
    nn_ckpt_tensor *t = &c->tensors[c->ntensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->count = count;
    t->data = count ? malloc(count * sizeof(float)) : NULL;
    for (uint64_t k = 0; k < count; k++) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t bits = seed;
        memcpy(&t->data[k], &bits, 4); /* every bit pattern, NaN payloads included */
    }
}

/* Small: a few hundred bytes, so every byte can be truncated and flipped quickly. */
static void sample_small(nn_ckpt *c)
{
    memset(c, 0, sizeof *c);
    c->loss = 1;
    c->gamma = 0.8125;
    c->seed = 0x0123456789abcdefull;
    c->epoch = 7;
    c->step = 4242;
    c->spec = dup_text("input 3x32x32\nconv 16 3x3\nbn\nrelu\nfc 10\n");
    c->meta = dup_text("run=small\nlr=0.05\nnote=a=b\n");
    c->tensors = calloc(MAX_TENSORS, sizeof *c->tensors);
    add_tensor(c, "conv1.w", 24, 1);
    add_tensor(c, "bn1.mean", 4, 2);
    add_tensor(c, "empty", 0, 3);
    add_tensor(c, "aa", 2, 4);
    add_tensor(c, "ab", 2, 5);
    char longest[64];
    memset(longest, 'n', 63); /* the longest name allowed */
    longest[63] = '\0';
    add_tensor(c, longest, 3, 6);
    c->tensors[0].data[0] = NAN;
    c->tensors[0].data[1] = INFINITY;
    c->tensors[0].data[2] = -INFINITY;
    c->tensors[0].data[3] = -0.0f;
    c->tensors[0].data[4] = 1e-45f; /* subnormal */
}

/* Large: a long spec and tens of thousands of floats. */
static void sample_large(nn_ckpt *c)
{
    memset(c, 0, sizeof *c);
    c->loss = 0;
    c->gamma = -1.0 / 3.0;
    c->seed = UINT64_MAX;
    c->epoch = -1;
    c->step = INT64_MIN;
    size_t n = 20000;
    c->spec = malloc(n + 1);
    for (size_t i = 0; i < n; i++) c->spec[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
    c->spec[n] = '\0';
    c->meta = dup_text("run=large\ndataset=cifar10\nlr=0.1\nbatch=128\nlast=no newline");
    c->tensors = calloc(MAX_TENSORS, sizeof *c->tensors);
    add_tensor(c, "fc.w", 30000, 11);
    add_tensor(c, "empty", 0, 12);
    add_tensor(c, "fc.b", 10, 13);
    add_tensor(c, "momentum.fc.w", 30000, 14);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void path_in(const tctx *t, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", t->dir, name);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    tbuf tb = {0};
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) tb_bytes(&tb, chunk, n);
    fclose(f);
    *len = tb.len;
    return tb.b ? tb.b : malloc(1);
}

static int write_all(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static int is_zeroed(const nn_ckpt *c)
{
    return !c->spec && !c->meta && !c->tensors && c->ntensors == 0 && c->version == 0;
}

static int same_bits(const float *a, const float *b, uint64_t n)
{
    return n == 0 || (a && b && memcmp(a, b, n * sizeof(float)) == 0);
}

static void check_equal(tctx *t, const nn_ckpt *want, const nn_ckpt *got)
{
    CHECK(t, got->version == NN_CKPT_VERSION);
    CHECK(t, got->loss == want->loss);
    CHECK(t, memcmp(&got->gamma, &want->gamma, sizeof got->gamma) == 0);
    CHECK(t, got->seed == want->seed);
    CHECK(t, got->epoch == want->epoch);
    CHECK(t, got->step == want->step);
    CHECK(t, got->spec && strcmp(got->spec, want->spec) == 0);
    CHECK(t, got->meta && strcmp(got->meta, want->meta) == 0);
    if (!CHECK(t, got->ntensors == want->ntensors)) return;
    for (int i = 0; i < want->ntensors; i++) {
        const nn_ckpt_tensor *a = &want->tensors[i], *b = &got->tensors[i];
        CHECK_MSG(t, strcmp(a->name, b->name) == 0, a->name);
        CHECK_MSG(t, a->count == b->count, a->name);
        if (a->count == b->count) CHECK_MSG(t, same_bits(a->data, b->data, a->count), a->name);
    }
}

static int count_entries(const char *dir, const char *containing)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, containing))
            n++;
    closedir(d);
    return n;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            chmod(sub, 0700);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Parses a private copy of exactly len bytes, so any read past the end is caught by sanitizers
 * and valgrind. Returns the parser's result; c is left for the caller to check and free. */
static int parse_copy(const uint8_t *p, size_t len, nn_ckpt *c, char *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, p, len);
    err[0] = '\0';
    memset(c, 0x5a, sizeof *c); /* the parser must zero it itself */
    int rc = nn_ckpt_parse(copy, len, c, err, ERR_LEN);
    free(copy);
    return rc;
}

/* Expects a clean rejection whose message contains want (if given) and no sign of a huge
 * allocation. */
static void expect_reject(tctx *t, const uint8_t *p, size_t len, const char *want, const char *what)
{
    nn_ckpt c;
    char err[ERR_LEN];
    int rc = parse_copy(p, len, &c, err);
    char detail[ERR_LEN + 128];
    snprintf(detail, sizeof detail, "%s: rc %d, message '%s'", what, rc, err);
    CHECK_MSG(t, rc != 0, detail);
    CHECK_MSG(t, err[0] != '\0' && !strchr(err, '\n'), detail);
    CHECK_MSG(t, is_zeroed(&c), detail);
    CHECK_MSG(t, !strstr(err, "out of memory"), detail);
    if (want) CHECK_MSG(t, strstr(err, want) != NULL, detail);
    if (rc == 0) nn_ckpt_free(&c);
}

static void encode_sample(void (*make)(nn_ckpt *), tbuf *tb, layout *lo)
{
    nn_ckpt c;
    make(&c);
    encode(&c, tb, lo);
    nn_ckpt_free(&c);
}

/* ---- cases -------------------------------------------------------------------------------- */

static void test_roundtrip(tctx *t)
{
    void (*makers[2])(nn_ckpt *) = {sample_small, sample_large};
    for (int m = 0; m < 2; m++) {
        nn_ckpt want, got, mem;
        makers[m](&want);
        char path[512], err[ERR_LEN] = "";
        path_in(t, m ? "large.ckpt" : "small.ckpt", path, sizeof path);
        CHECK_MSG(t, nn_ckpt_write(path, &want, err, sizeof err) == 0, err);
        CHECK_MSG(t, nn_ckpt_read(path, &got, err, sizeof err) == 0, err);
        check_equal(t, &want, &got);
        size_t len = 0;
        uint8_t *bytes = read_all(path, &len);
        CHECK(t, bytes != NULL);
        CHECK_MSG(t, bytes && nn_ckpt_parse(bytes, len, &mem, err, sizeof err) == 0, err);
        check_equal(t, &want, &mem);
        /* writing what was read gives the same bytes */
        char again[512];
        path_in(t, "again.ckpt", again, sizeof again);
        CHECK_MSG(t, nn_ckpt_write(again, &got, err, sizeof err) == 0, err);
        size_t len2 = 0;
        uint8_t *bytes2 = read_all(again, &len2);
        CHECK(t, bytes && bytes2 && len == len2 && memcmp(bytes, bytes2, len) == 0);
        free(bytes);
        free(bytes2);
        nn_ckpt_free(&want);
        nn_ckpt_free(&got);
        nn_ckpt_free(&mem);
    }
}

/* The writer's bytes equal an independent encoding, and a hand-written file pins the layout. */
static void test_layout(tctx *t)
{
    static const uint8_t golden_body[] = {
        'G', 'A', 'M', 'M', 'A', 'C', 'K', 'P', 1, 0, 0, 0, /* magic, version 1 */
        1, 0, 0, 0,                                         /* loss 1 */
        0, 0, 0, 0, 0, 0, 0, 0x40,                          /* gamma 2.0 */
        8, 7, 6, 5, 4, 3, 2, 1,                             /* seed */
        3, 0, 0, 0,                                         /* epoch 3 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* step -1 */
        2, 0, 0, 0, 'a', 'b',                               /* spec "ab" */
        4, 0, 0, 0, 'k', '=', 'v', '\n',                    /* meta "k=v\n" */
        1, 0, 0, 0,                                         /* one tensor */
        1, 0, 'w', 2, 0, 0, 0, 0, 0, 0, 0,                  /* "w", 2 floats */
        0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0,                    /* 1.0f, -2.0f */
    };
    nn_ckpt_tensor w = {.name = "w", .count = 2, .data = (float[]){1.0f, -2.0f}};
    nn_ckpt c = {.loss = 1, .gamma = 2.0, .seed = 0x0102030405060708ull, .epoch = 3, .step = -1,
                 .spec = "ab", .meta = "k=v\n", .tensors = &w, .ntensors = 1};
    char path[512], err[ERR_LEN] = "";
    path_in(t, "golden.ckpt", path, sizeof path);
    CHECK_MSG(t, nn_ckpt_write(path, &c, err, sizeof err) == 0, err);
    size_t len = 0;
    uint8_t *bytes = read_all(path, &len);
    CHECK(t, bytes && len == sizeof golden_body + 4);
    if (bytes && len == sizeof golden_body + 4) {
        CHECK(t, memcmp(bytes, golden_body, sizeof golden_body) == 0);
        uint32_t crc = crc_of(golden_body, sizeof golden_body);
        uint8_t trailer[4];
        put_le_at(trailer, crc, 4);
        CHECK(t, memcmp(bytes + sizeof golden_body, trailer, 4) == 0);
    }
    free(bytes);

    nn_ckpt big;
    sample_large(&big);
    tbuf tb = {0};
    layout lo;
    encode(&big, &tb, &lo);
    path_in(t, "large.ckpt", path, sizeof path);
    CHECK_MSG(t, nn_ckpt_write(path, &big, err, sizeof err) == 0, err);
    bytes = read_all(path, &len);
    CHECK(t, bytes && len == tb.len && memcmp(bytes, tb.b, len) == 0);
    free(bytes);
    free(tb.b);
    nn_ckpt_free(&big);
}

static void check_no_temps(tctx *t, const char *dir)
{
    int n = count_entries(dir, ".tmp");
    CHECK_MSG(t, n == 0, dir);
}

static void check_reads_as(tctx *t, const char *path, void (*make)(nn_ckpt *))
{
    nn_ckpt want, got;
    char err[ERR_LEN] = "";
    make(&want);
    CHECK_MSG(t, nn_ckpt_read(path, &got, err, sizeof err) == 0, err);
    check_equal(t, &want, &got);
    tbuf tb = {0};
    layout lo;
    encode(&want, &tb, &lo);
    struct stat st;
    CHECK(t, stat(path, &st) == 0 && (size_t)st.st_size == tb.len);
    free(tb.b);
    nn_ckpt_free(&want);
    nn_ckpt_free(&got);
}

/* Writes a large checkpoint under a small file-size limit in a child, as if the disk filled up. */
static int write_with_full_disk(const char *path)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {.rlim_cur = 8192, .rlim_max = 8192};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(3);
        nn_ckpt big;
        sample_large(&big);
        char err[ERR_LEN] = "";
        int rc = nn_ckpt_write(path, &big, err, sizeof err);
        nn_ckpt_free(&big);
        int named = strstr(err, path) && strstr(err, strerror(EFBIG));
        if (!named) fprintf(stderr, "full-disk message: %s\n", err);
        _exit(rc == 0 ? 1 : named ? 0 : 2);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A folder that does not exist: a clean failure naming the path and the reason, nothing made. */
static void atomic_missing_folder(tctx *t, const nn_ckpt *small)
{
    char missing[512], err[ERR_LEN] = "";
    path_in(t, "no/such/folder/x.ckpt", missing, sizeof missing);
    CHECK(t, nn_ckpt_write(missing, small, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, missing) && strstr(err, strerror(ENOENT)), err);
    CHECK(t, access(missing, F_OK) != 0);
}

/* Overwriting replaces the file fully; a write that fails half way leaves the old one intact. */
static void atomic_overwrite(tctx *t, const nn_ckpt *small, const nn_ckpt *large)
{
    char path[512], err[ERR_LEN] = "";
    path_in(t, "run.ckpt", path, sizeof path);
    CHECK_MSG(t, nn_ckpt_write(path, large, err, sizeof err) == 0, err);
    check_reads_as(t, path, sample_large);
    CHECK_MSG(t, nn_ckpt_write(path, small, err, sizeof err) == 0, err);
    check_reads_as(t, path, sample_small);
    check_no_temps(t, t->dir);
    CHECK(t, count_entries(t->dir, "") == 1);

    int child = write_with_full_disk(path);
    CHECK_MSG(t, child == 0, "the write under a file-size limit must fail with EFBIG");
    check_reads_as(t, path, sample_small);
    check_no_temps(t, t->dir);
}

/* The rename fails (the target is a folder): the temporary file is removed. */
static void atomic_rename_fails(tctx *t, const nn_ckpt *small)
{
    char folder[512], err[ERR_LEN] = "";
    path_in(t, "afolder", folder, sizeof folder);
    CHECK(t, mkdir(folder, 0700) == 0);
    CHECK(t, nn_ckpt_write(folder, small, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, folder) != NULL, err);
    struct stat st;
    CHECK(t, stat(folder, &st) == 0 && S_ISDIR(st.st_mode));
    check_no_temps(t, t->dir);
}

/* A folder without write permission. Root ignores permissions, so the write runs in a child that
 * drops to an unprivileged user when needed. */
static void atomic_no_permission(tctx *t, const nn_ckpt *small)
{
    char ro[512], target[600];
    path_in(t, "readonly", ro, sizeof ro);
    snprintf(target, sizeof target, "%s/x.ckpt", ro);
    CHECK(t, mkdir(ro, 0500) == 0);
    CHECK(t, chmod(t->dir, 0711) == 0); /* so the unprivileged user reaches the read-only folder */
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
        char err[ERR_LEN] = "";
        int rc = nn_ckpt_write(target, small, err, sizeof err);
        int named = strstr(err, target) && strstr(err, strerror(EACCES));
        if (!named) fprintf(stderr, "permission message: %s\n", err);
        _exit(rc != 0 && named ? 0 : 1);
    }
    int status = -1;
    CHECK(t, pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        fprintf(stderr, "note: cannot drop privileges; permission case not checked\n");
    else
        CHECK(t, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(t, count_entries(ro, "") == 0);
}

/* Input the reader would refuse is refused before any file is made. */
static void atomic_bad_input(tctx *t, nn_ckpt *small)
{
    char bad[512], err[ERR_LEN] = "";
    nn_ckpt_tensor *ab = &small->tensors[4];
    path_in(t, "bad.ckpt", bad, sizeof bad);
    snprintf(ab->name, sizeof ab->name, "aa"); /* duplicate */
    CHECK(t, nn_ckpt_write(bad, small, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, "aa") != NULL, err);
    ab->name[0] = '\0'; /* empty */
    CHECK(t, nn_ckpt_write(bad, small, err, sizeof err) != 0);
    memset(ab->name, 'x', sizeof ab->name); /* unterminated */
    CHECK(t, nn_ckpt_write(bad, small, err, sizeof err) != 0);
    snprintf(ab->name, sizeof ab->name, "ab");
    float *keep = ab->data;
    ab->data = NULL; /* count 2 without data */
    CHECK(t, nn_ckpt_write(bad, small, err, sizeof err) != 0);
    ab->count = 1ull << 30; /* 4 GiB of floats: refused before the data is touched */
    ab->data = keep;
    CHECK(t, nn_ckpt_write(bad, small, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, "4 GiB") != NULL, err);
    ab->count = 2;
    CHECK(t, access(bad, F_OK) != 0);
    CHECK_MSG(t, nn_ckpt_write(bad, small, err, sizeof err) == 0, err); /* repaired: fine */
    check_no_temps(t, t->dir);
}

static void test_atomic(tctx *t)
{
    nn_ckpt small, large;
    sample_small(&small);
    sample_large(&large);
    atomic_missing_folder(t, &small);
    atomic_overwrite(t, &small, &large);
    atomic_rename_fails(t, &small);
    atomic_no_permission(t, &small);
    atomic_bad_input(t, &small);
    nn_ckpt_free(&small);
    nn_ckpt_free(&large);
}

static void test_truncation(tctx *t)
{
    tbuf tb = {0};
    layout lo;
    encode_sample(sample_small, &tb, &lo);
    nn_ckpt c;
    char err[ERR_LEN];
    CHECK_MSG(t, parse_copy(tb.b, tb.len, &c, err) == 0, err); /* the whole file is fine */
    nn_ckpt_free(&c);
    for (size_t len = 0; len < tb.len; len++) {
        char what[64];
        snprintf(what, sizeof what, "cut to %zu of %zu bytes", len, tb.len);
        expect_reject(t, tb.b, len, "truncated", what);
    }
    /* the same through files, on a sample of lengths: the message names the file */
    char path[512];
    path_in(t, "cut.ckpt", path, sizeof path);
    for (size_t len = 0; len < tb.len; len += 7) {
        CHECK(t, write_all(path, tb.b, len) == 0);
        err[0] = '\0';
        CHECK(t, nn_ckpt_read(path, &c, err, sizeof err) != 0);
        CHECK_MSG(t, strstr(err, path) && strstr(err, "truncated"), err);
        CHECK(t, is_zeroed(&c));
        nn_ckpt_free(&c);
    }
    free(tb.b);
}

static int in_tensor_data(const layout *lo, const nn_ckpt *c, size_t pos)
{
    for (int i = 0; i < c->ntensors; i++)
        if (pos >= lo->data_at[i] && pos < lo->data_at[i] + 4 * c->tensors[i].count) return 1;
    return 0;
}

static void test_flips(tctx *t)
{
    nn_ckpt src;
    sample_small(&src);
    tbuf tb = {0};
    layout lo;
    encode(&src, &tb, &lo);
    static const uint8_t masks[] = {0x01, 0x10, 0x80, 0xff};
    uint8_t *copy = malloc(tb.len);
    for (size_t pos = 0; pos < tb.len; pos++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, tb.b, tb.len);
            copy[pos] ^= masks[m];
            char what[64];
            snprintf(what, sizeof what, "byte %zu ^ 0x%02x", pos, masks[m]);
            expect_reject(t, copy, tb.len,
                          in_tensor_data(&lo, &src, pos) ? "checksum mismatch" : NULL, what);
        }
    }
    free(copy);
    free(tb.b);
    nn_ckpt_free(&src);
}

/* One forged field: the CRC is fixed afterwards, so the structural checks must catch it; the
 * message must contain want and, where given, name the byte where the bad field was found (which
 * shows the length was checked there, before anything was allocated for it). */
typedef struct forge {
    const char *what;
    size_t at;
    uint64_t value;
    int width;
    const char *want;
    size_t report_at; /* 0: not checked */
} forge;

static void test_forged(tctx *t)
{
    nn_ckpt src;
    sample_small(&src);
    tbuf tb = {0};
    layout lo;
    encode(&src, &tb, &lo);
    nn_ckpt c;
    char err[ERR_LEN];
    /* control: refixing the CRC of an untouched file keeps it valid */
    refix_crc(tb.b, tb.len);
    CHECK_MSG(t, parse_copy(tb.b, tb.len, &c, err) == 0, err);
    nn_ckpt_free(&c);

    const char *names_rule = "names are 1 to 63 bytes";
    size_t after_count0 = lo.count_of_at[0] + 8;
    const forge forges[] = {
        {"huge spec length", lo.spec_len_at, 0xffffffffu, 4, "truncated", lo.spec_len_at + 4},
        {"huge meta length", lo.meta_len_at, 0xffffffffu, 4, "truncated", lo.meta_len_at + 4},
        {"spec length one too many", lo.spec_len_at, strlen(src.spec) + 1, 4, NULL, 0},
        {"huge tensor count", lo.count_at, 0xffffffffu, 4, "truncated", lo.count_at + 4},
        {"tensor count 2^31", lo.count_at, 0x80000000u, 4, "truncated", lo.count_at + 4},
        {"tensor count 2^31-1", lo.count_at, 0x7fffffffu, 4, "truncated", lo.count_at + 4},
        {"tensor count 10^6", lo.count_at, 1000000, 4, "truncated", lo.count_at + 4},
        {"tensor count one too many", lo.count_at, (uint64_t)src.ntensors + 1, 4, NULL, 0},
        {"element count 2^62 (x4 wraps to 0)", lo.count_of_at[0], 1ull << 62, 8, "truncated",
         after_count0},
        {"element count 2^62+1 (x4 wraps to 4)", lo.count_of_at[0], (1ull << 62) + 1, 8,
         "truncated", after_count0},
        {"element count 2^30 (4 GiB)", lo.count_of_at[0], 1ull << 30, 8, "truncated", after_count0},
        {"element count one past the end", lo.count_of_at[0], (tb.len - after_count0) / 4 + 1, 8,
         "truncated", after_count0},
        {"element count max", lo.count_of_at[1], UINT64_MAX, 8, "truncated", lo.count_of_at[1] + 8},
        {"element count 2^32", lo.count_of_at[2], 1ull << 32, 8, "truncated",
         lo.count_of_at[2] + 8},
        {"name length 0xffff", lo.name_len_at[0], 0xffff, 2, names_rule, lo.name_len_at[0]},
        {"name length 0", lo.name_len_at[0], 0, 2, names_rule, lo.name_len_at[0]},
        {"name length 64", lo.name_len_at[0], 64, 2, names_rule, lo.name_len_at[0]},
        {"name with a NUL", lo.name_len_at[0] + 3, 0, 1, "NUL", lo.name_len_at[0] + 2},
        {"spec with a NUL", lo.spec_len_at + 6, 0, 1, "NUL", lo.spec_len_at + 4},
        {"meta with a NUL", lo.meta_at + 2, 0, 1, "NUL", lo.meta_at},
        {"wrong magic", 7, 'Q', 1, "not a gammacl checkpoint", 0},
        {"newer version", lo.version_at, 2, 4,
         "written by a newer gammacl (format 2, this build reads 1)", 0},
        {"far newer version", lo.version_at, 0xffffffffu, 4, "format 4294967295", 0},
        {"version 0", lo.version_at, 0, 4, "version 0", lo.version_at},
        {"duplicate names", lo.name_len_at[4] + 2 + 1, 'a', 1, "two tensors named 'aa'", 0},
    };
    uint8_t *copy = malloc(tb.len);
    for (size_t i = 0; i < sizeof forges / sizeof forges[0]; i++) {
        const forge *f = &forges[i];
        memcpy(copy, tb.b, tb.len);
        put_le_at(copy + f->at, f->value, f->width);
        refix_crc(copy, tb.len);
        expect_reject(t, copy, tb.len, f->want, f->what);
        if (f->report_at) {
            char at[48];
            snprintf(at, sizeof at, "at byte %zu ", f->report_at);
            expect_reject(t, copy, tb.len, at, f->what);
        }
    }
    free(copy);

    /* trailing bytes after a valid CRC */
    static const size_t extra[] = {1, 3, 4, 100};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        uint8_t *longer = calloc(tb.len + extra[i], 1);
        memcpy(longer, tb.b, tb.len);
        expect_reject(t, longer, tb.len + extra[i], "after the checksum", "trailing bytes");
        free(longer);
    }
    uint8_t *twice = malloc(2 * tb.len);
    memcpy(twice, tb.b, tb.len);
    memcpy(twice + tb.len, tb.b, tb.len);
    expect_reject(t, twice, 2 * tb.len, "after the checksum", "file appended to itself");
    free(twice);
    /* a stale CRC */
    tb.b[tb.len - 1] ^= 1;
    expect_reject(t, tb.b, tb.len, "checksum mismatch: the file is corrupt", "bad CRC");
    free(tb.b);
    nn_ckpt_free(&src);
}

static void test_read_errors(tctx *t)
{
    nn_ckpt c;
    char path[512], err[ERR_LEN] = "";
    path_in(t, "absent.ckpt", path, sizeof path);
    CHECK(t, nn_ckpt_read(path, &c, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, path) && strstr(err, strerror(ENOENT)), err);
    CHECK(t, is_zeroed(&c));
    nn_ckpt_free(&c);

    CHECK(t, nn_ckpt_read(t->dir, &c, err, sizeof err) != 0); /* a folder */
    CHECK_MSG(t, strstr(err, t->dir) != NULL, err);
    nn_ckpt_free(&c);

    path_in(t, "empty.ckpt", path, sizeof path);
    CHECK(t, write_all(path, (const uint8_t *)"", 0) == 0);
    CHECK(t, nn_ckpt_read(path, &c, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, "truncated") != NULL, err);
    nn_ckpt_free(&c);

    path_in(t, "text.ckpt", path, sizeof path);
    CHECK(t, write_all(path, (const uint8_t *)"hello, world\n", 13) == 0);
    CHECK(t, nn_ckpt_read(path, &c, err, sizeof err) != 0);
    CHECK_MSG(t, strstr(err, "not a gammacl checkpoint") != NULL, err);
    nn_ckpt_free(&c);

    /* a sparse 1 TiB file is refused from its size, before any allocation (reading it would
     * run out of memory) */
    path_in(t, "huge.ckpt", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0 && ftruncate(fd, (off_t)1 << 40) == 0) {
        close(fd);
        CHECK(t, nn_ckpt_read(path, &c, err, sizeof err) != 0);
        CHECK_MSG(t, strstr(err, path) && strstr(err, "4 GiB") && !strstr(err, "memory"), err);
        nn_ckpt_free(&c);
    } else {
        if (fd >= 0) close(fd);
        fprintf(stderr, "note: no sparse 1 TiB file here; size cap not checked\n");
    }
    unlink(path);
}

static void test_access(tctx *t)
{
    nn_ckpt zero = {0};
    nn_ckpt_free(&zero); /* safe on a zeroed struct */
    nn_ckpt_free(&zero); /* and twice */
    nn_ckpt_free(NULL);
    char out[32];
    CHECK(t, nn_ckpt_meta_get(&zero, "lr", out, sizeof out) == NULL);
    CHECK(t, nn_ckpt_find(&zero, "w") == NULL);

    nn_ckpt c = {.meta = "lr=0.05\nxrun=no\nrun=abc\nnote=a=b\nempty=\nlr=second\nlast=end"};
    CHECK(t, nn_ckpt_meta_get(&c, "lr", out, sizeof out) == out && strcmp(out, "0.05") == 0);
    CHECK(t, nn_ckpt_meta_get(&c, "run", out, sizeof out) && strcmp(out, "abc") == 0);
    CHECK(t, nn_ckpt_meta_get(&c, "note", out, sizeof out) && strcmp(out, "a=b") == 0);
    CHECK(t, nn_ckpt_meta_get(&c, "empty", out, sizeof out) && strcmp(out, "") == 0);
    CHECK(t, nn_ckpt_meta_get(&c, "last", out, sizeof out) && strcmp(out, "end") == 0);
    CHECK(t, nn_ckpt_meta_get(&c, "l", out, sizeof out) == NULL);   /* prefix of a key */
    CHECK(t, nn_ckpt_meta_get(&c, "un", out, sizeof out) == NULL);  /* not at line start */
    CHECK(t, nn_ckpt_meta_get(&c, "lr=0.05", out, sizeof out) == NULL);
    CHECK(t, nn_ckpt_meta_get(&c, "missing", out, sizeof out) == NULL);
    char tiny[3];
    CHECK(t, nn_ckpt_meta_get(&c, "run", tiny, sizeof tiny) && strcmp(tiny, "ab") == 0);

    nn_ckpt s;
    sample_small(&s);
    const nn_ckpt_tensor *f = nn_ckpt_find(&s, "bn1.mean");
    CHECK(t, f == &s.tensors[1]);
    CHECK(t, nn_ckpt_find(&s, "bn1") == NULL);
    CHECK(t, nn_ckpt_find(&s, "empty") == &s.tensors[2]);
    nn_ckpt_free(&s);
    CHECK(t, is_zeroed(&s));

    /* an empty buffer and a NULL buffer are rejected, not crashed on */
    char err[ERR_LEN] = "";
    CHECK(t, nn_ckpt_parse(NULL, 0, &s, err, sizeof err) != 0 && err[0]);
    CHECK(t, nn_ckpt_parse(NULL, 10, &s, err, sizeof err) != 0);
    CHECK(t, is_zeroed(&s));
    /* a tiny but valid checkpoint with nothing in it */
    nn_ckpt bare = {.spec = "", .meta = ""};
    tbuf tb = {0};
    layout lo;
    encode(&bare, &tb, &lo);
    CHECK_MSG(t, nn_ckpt_parse(tb.b, tb.len, &s, err, sizeof err) == 0, err);
    CHECK(t, s.spec && !s.spec[0] && s.meta && !s.meta[0] && s.ntensors == 0);
    nn_ckpt_free(&s);
    free(tb.b);
}

/* ---- main --------------------------------------------------------------------------------- */

typedef struct tcase {
    const char *name;
    void (*run)(tctx *);
} tcase;

static const tcase cases[] = {
    {"roundtrip", test_roundtrip},     {"layout", test_layout}, {"atomic", test_atomic},
    {"truncation", test_truncation},   {"flips", test_flips},   {"forged", test_forged},
    {"read_errors", test_read_errors}, {"access", test_access},
};

static int make_dir(tctx *t)
{
    const char *base = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/gammacl-ckpt-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(t->dir) ? 0 : -1;
}

int main(int argc, char **argv)
{
    int ran = 0, failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        tctx t = {0};
        if (make_dir(&t) != 0) {
            fprintf(stderr, "cannot make a scratch folder: %s\n", strerror(errno));
            return 1;
        }
        cases[i].run(&t);
        remove_tree(t.dir);
        printf("%-12s %d checks, %d failed\n", cases[i].name, t.checks, t.failures);
        failures += t.failures;
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "unknown case '%s'\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return failures ? 1 : 0;
}
