/* net/checkpoint.c — the checkpoint format (layout in checkpoint.h): encoding, parsing, CRC-32,
 * look-ups and freeing; checkpoint_io.c puts it in files.
 *
 * Every field is encoded byte by byte, little-endian, so a file is the same on every host. The
 * encoder streams into a stream it is given, and refuses beforehand what the parser would refuse.
 * The parser checks each declared length against the bytes that remain before it allocates
 * anything, then the CRC-32, then that nothing follows the CRC; on failure the output struct is
 * left zeroed. This file needs nothing else from net/: the checkpoint fuzz target links it alone.
 */
#include "checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint_internal.h"

static const uint8_t nn_ckpt_magic[8] = {'G', 'A', 'M', 'M', 'A', 'C', 'K', 'P'};

#define NN_CKPT_NAME_MAX 63                   /* longest tensor name, in bytes */
#define NN_CKPT_HEADER_BYTES 44               /* magic through step */
#define NN_CKPT_MIN_TENSOR_BYTES 11           /* u16 name length, 1 name byte, u64 count */

/* ---- messages ------------------------------------------------------------------------------ */

int nn_ckpt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies a tensor name for a message, replacing anything unprintable so the message stays one
 * line. */
static void nn_ckpt_printable(const char *name, size_t len, char out[NN_CKPT_NAME_MAX + 1])
{
    if (len > NN_CKPT_NAME_MAX) len = NN_CKPT_NAME_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        out[i] = (ch >= 0x20 && ch < 0x7f && ch != '\'') ? (char)ch : '?';
    }
    out[len] = '\0';
}

/* ---- little-endian encoding ---------------------------------------------------------------- */

static void nn_ckpt_put_le(uint8_t *out, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t nn_ckpt_get_le(const uint8_t *in, int nbytes)
{
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++) v |= (uint64_t)in[i] << (8 * i);
    return v;
}

static uint32_t nn_ckpt_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float nn_ckpt_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t nn_ckpt_f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double nn_ckpt_bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* zlib's crc32 takes a 32-bit length, so long buffers go in pieces. */
static uint32_t nn_ckpt_crc(uint32_t crc, const uint8_t *bytes, size_t len)
{
    uLong c = crc;
    while (len > 0) {
        uInt piece = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, bytes, piece);
        bytes += piece;
        len -= piece;
    }
    return (uint32_t)c;
}

/* ---- checks shared by the writer and the reader -------------------------------------------- */

static int nn_ckpt_compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a name held by two tensors (sorting pointers, so n log n). Returns 0 if all differ, 1 and
 * the name in dup if not, -1 if out of memory. */
static int nn_ckpt_find_duplicate(const nn_ckpt_tensor *t, int n, const char **dup)
{
    if (n < 2) return 0;
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) return -1;
    for (int i = 0; i < n; i++) names[i] = t[i].name;
    qsort(names, (size_t)n, sizeof *names, nn_ckpt_compare_names);
    int found = 0;
    for (int i = 1; i < n && !found; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            *dup = names[i];
            found = 1;
        }
    }
    free(names);
    return found;
}

/* ---- encoder ------------------------------------------------------------------------------- */

typedef struct nn_ckpt_out {
    FILE *f;
    uint32_t crc;  /* over every byte written so far */
    int error;     /* errno of the first failed write, 0 if none */
} nn_ckpt_out;

static void nn_ckpt_out_bytes(nn_ckpt_out *o, const void *bytes, size_t n)
{
    if (o->error || n == 0) return;
    errno = 0;
    if (fwrite(bytes, 1, n, o->f) != n) {
        o->error = errno ? errno : EIO;
        return;
    }
    o->crc = nn_ckpt_crc(o->crc, bytes, n);
}

static void nn_ckpt_out_le(nn_ckpt_out *o, uint64_t v, int nbytes)
{
    uint8_t b[8];
    nn_ckpt_put_le(b, v, nbytes);
    nn_ckpt_out_bytes(o, b, (size_t)nbytes);
}

static void nn_ckpt_out_floats(nn_ckpt_out *o, const float *data, uint64_t count)
{
    uint8_t chunk[4096];
    uint64_t done = 0;
    while (done < count && !o->error) {
        size_t n = 0;
        for (; n < sizeof chunk / 4 && done < count; n++, done++)
            nn_ckpt_put_le(chunk + 4 * n, nn_ckpt_f32_bits(data[done]), 4);
        nn_ckpt_out_bytes(o, chunk, 4 * n);
    }
}

static void nn_ckpt_out_text(nn_ckpt_out *o, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    nn_ckpt_out_le(o, len, 4);
    nn_ckpt_out_bytes(o, text, len);
}

/* Writes the whole file body and the trailing CRC. */
static void nn_ckpt_out_all(nn_ckpt_out *o, const nn_ckpt *c)
{
    nn_ckpt_out_bytes(o, nn_ckpt_magic, sizeof nn_ckpt_magic);
    nn_ckpt_out_le(o, NN_CKPT_VERSION, 4);
    nn_ckpt_out_le(o, (uint32_t)c->loss, 4);
    nn_ckpt_out_le(o, nn_ckpt_f64_bits(c->gamma), 8);
    nn_ckpt_out_le(o, c->seed, 8);
    nn_ckpt_out_le(o, (uint32_t)c->epoch, 4);
    nn_ckpt_out_le(o, (uint64_t)c->step, 8);
    nn_ckpt_out_text(o, c->spec);
    nn_ckpt_out_text(o, c->meta);
    nn_ckpt_out_le(o, (uint32_t)c->ntensors, 4);
    for (int i = 0; i < c->ntensors; i++) {
        const nn_ckpt_tensor *t = &c->tensors[i];
        size_t len = strlen(t->name);
        nn_ckpt_out_le(o, len, 2);
        nn_ckpt_out_bytes(o, t->name, len);
        nn_ckpt_out_le(o, t->count, 8);
        nn_ckpt_out_floats(o, t->data, t->count);
    }
    nn_ckpt_out_le(o, o->crc, 4);
}

int nn_ckpt_encode(FILE *f, const nn_ckpt *c)
{
    nn_ckpt_out o = {.f = f};
    nn_ckpt_out_all(&o, c);
    return o.error;
}

static int nn_ckpt_check_tensor(const char *path, const nn_ckpt_tensor *t, int i, uint64_t *bytes,
                                char *err, size_t errlen)
{
    const char *nul = memchr(t->name, '\0', sizeof t->name);
    if (!nul || nul == t->name)
        return nn_ckpt_fail(err, errlen,
                            "cannot write checkpoint %s: tensor #%d has %s name; names must be 1 "
                            "to %d bytes", path, i, nul ? "an empty" : "an unterminated",
                            NN_CKPT_NAME_MAX);
    if (t->count > 0 && !t->data)
        return nn_ckpt_fail(err, errlen,
                            "cannot write checkpoint %s: tensor '%s' has %llu elements but no data",
                            path, t->name, (unsigned long long)t->count);
    uint64_t fixed = 2 + (uint64_t)(nul - t->name) + 8; /* *bytes never exceeds the limit */
    if (fixed > NN_CKPT_MAX_BYTES - *bytes || t->count > (NN_CKPT_MAX_BYTES - *bytes - fixed) / 4)
        return nn_ckpt_fail(err, errlen,
                            "cannot write checkpoint %s: tensor '%s' (%llu elements) takes the "
                            "file above the 4 GiB limit", path, t->name,
                            (unsigned long long)t->count);
    *bytes += fixed + 4 * t->count;
    return 0;
}

/* Refuses what the reader would refuse, so every file written can be read back. */
int nn_ckpt_check_input(const char *path, const nn_ckpt *c, char *err, size_t errlen)
{
    if (!c)
        return nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: no checkpoint given", path);
    size_t spec_len = c->spec ? strlen(c->spec) : 0, meta_len = c->meta ? strlen(c->meta) : 0;
    if (c->ntensors < 0 || (c->ntensors > 0 && !c->tensors))
        return nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: invalid tensor list (%d)",
                            path, c->ntensors);
    uint64_t bytes = NN_CKPT_HEADER_BYTES + 12 + (uint64_t)spec_len + meta_len + 4;
    if (bytes > NN_CKPT_MAX_BYTES) /* also keeps both lengths within their u32 fields */
        return nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: the spec and metadata take "
                            "it above the 4 GiB limit", path);
    for (int i = 0; i < c->ntensors; i++)
        if (nn_ckpt_check_tensor(path, &c->tensors[i], i, &bytes, err, errlen)) return -1;
    const char *dup = NULL;
    int d = nn_ckpt_find_duplicate(c->tensors, c->ntensors, &dup);
    if (d < 0) return nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: out of memory", path);
    if (d > 0)
        return nn_ckpt_fail(err, errlen,
                            "cannot write checkpoint %s: two tensors are named '%s'; names must be "
                            "unique", path, dup);
    return 0;
}

/* ---- parser -------------------------------------------------------------------------------- */

typedef struct nn_ckpt_in {
    const uint8_t *bytes;
    size_t len;
    size_t pos;
    const char *label; /* "checkpoint <path>" for messages */
    char *err;
    size_t errlen;
} nn_ckpt_in;

static size_t nn_ckpt_left(const nn_ckpt_in *in) { return in->len - in->pos; }

static int nn_ckpt_corrupt(nn_ckpt_in *in, const char *what)
{
    return nn_ckpt_fail(in->err, in->errlen,
                        "%s is corrupt at byte %zu (%s): use the previous checkpoint or retrain",
                        in->label, in->pos, what);
}

static int nn_ckpt_short(nn_ckpt_in *in, uint64_t need, const char *what)
{
    return nn_ckpt_fail(in->err, in->errlen,
                        "%s is truncated at byte %zu (%s needs %llu bytes, %zu remain): the file "
                        "is incomplete or damaged; use the previous checkpoint or retrain",
                        in->label, in->pos, what, (unsigned long long)need, nn_ckpt_left(in));
}

/* For a declared element or tensor count that cannot fit in the bytes left (checked by division
 * before any multiplication, so a forged count cannot overflow). */
static int nn_ckpt_overlong(nn_ckpt_in *in, const char *what, uint64_t count, const char *unit)
{
    return nn_ckpt_fail(in->err, in->errlen,
                        "%s is truncated at byte %zu (%s declares %llu %s, only %zu bytes "
                        "remain): the file is incomplete or damaged; use the previous checkpoint "
                        "or retrain", in->label, in->pos, what, (unsigned long long)count, unit,
                        nn_ckpt_left(in));
}

/* Returns the next n bytes and moves past them, or NULL (with a message) if fewer remain. */
static const uint8_t *nn_ckpt_take(nn_ckpt_in *in, uint64_t n, const char *what)
{
    if (n > nn_ckpt_left(in)) {
        nn_ckpt_short(in, n, what);
        return NULL;
    }
    const uint8_t *p = in->bytes + in->pos;
    in->pos += (size_t)n;
    return p;
}

static int nn_ckpt_take_le(nn_ckpt_in *in, int nbytes, const char *what, uint64_t *v)
{
    const uint8_t *p = nn_ckpt_take(in, (uint64_t)nbytes, what);
    if (!p) return -1;
    *v = nn_ckpt_get_le(p, nbytes);
    return 0;
}

static int nn_ckpt_parse_magic(nn_ckpt_in *in)
{
    size_t n = in->len < sizeof nn_ckpt_magic ? in->len : sizeof nn_ckpt_magic;
    if (memcmp(in->bytes, nn_ckpt_magic, n) != 0)
        return nn_ckpt_fail(in->err, in->errlen,
                            "%s is not a gammacl checkpoint (it does not start with GAMMACKP): "
                            "check the path", in->label);
    return nn_ckpt_take(in, sizeof nn_ckpt_magic, "magic") ? 0 : -1;
}

static int nn_ckpt_parse_version(nn_ckpt_in *in, nn_ckpt *c)
{
    uint64_t v;
    if (nn_ckpt_take_le(in, 4, "format version", &v)) return -1;
    if (v > NN_CKPT_VERSION)
        return nn_ckpt_fail(in->err, in->errlen,
                            "%s was written by a newer gammacl (format %llu, this build reads %d): "
                            "upgrade gammacl to load it", in->label, (unsigned long long)v,
                            NN_CKPT_VERSION);
    if (v == 0) {
        in->pos -= 4;
        return nn_ckpt_corrupt(in, "format version 0 does not exist");
    }
    c->version = (uint32_t)v;
    return 0;
}

static int nn_ckpt_parse_header(nn_ckpt_in *in, nn_ckpt *c)
{
    uint64_t loss, gamma, seed, epoch, step;
    if (nn_ckpt_parse_magic(in) || nn_ckpt_parse_version(in, c)) return -1;
    if (nn_ckpt_take_le(in, 4, "loss", &loss) || nn_ckpt_take_le(in, 8, "gamma", &gamma) ||
        nn_ckpt_take_le(in, 8, "seed", &seed) || nn_ckpt_take_le(in, 4, "epoch", &epoch) ||
        nn_ckpt_take_le(in, 8, "step", &step))
        return -1;
    c->loss = (int32_t)(uint32_t)loss;
    c->gamma = nn_ckpt_bits_f64(gamma);
    c->seed = seed;
    c->epoch = (int32_t)(uint32_t)epoch;
    c->step = (int64_t)step;
    return 0;
}

/* Reads a u32 length and that many bytes of text (no NUL allowed) into a new string. */
static int nn_ckpt_parse_text(nn_ckpt_in *in, const char *what, char **out)
{
    uint64_t len;
    if (nn_ckpt_take_le(in, 4, what, &len)) return -1;
    const uint8_t *p = nn_ckpt_take(in, len, what);
    if (!p) return -1;
    if (memchr(p, '\0', (size_t)len)) {
        in->pos -= (size_t)len;
        char why[80];
        snprintf(why, sizeof why, "the %s contains a NUL byte", what);
        return nn_ckpt_corrupt(in, why);
    }
    *out = malloc((size_t)len + 1);
    if (!*out)
        return nn_ckpt_fail(in->err, in->errlen, "out of memory reading %s (%s, %llu bytes)",
                            in->label, what, (unsigned long long)len);
    memcpy(*out, p, (size_t)len);
    (*out)[len] = '\0';
    return 0;
}

static int nn_ckpt_parse_name(nn_ckpt_in *in, int index, nn_ckpt_tensor *t)
{
    char what[64];
    snprintf(what, sizeof what, "name of tensor #%d", index);
    uint64_t len;
    if (nn_ckpt_take_le(in, 2, what, &len)) return -1;
    if (len == 0 || len > NN_CKPT_NAME_MAX) {
        in->pos -= 2;
        char why[96];
        snprintf(why, sizeof why, "tensor #%d has a name of %llu bytes; names are 1 to %d bytes",
                 index, (unsigned long long)len, NN_CKPT_NAME_MAX);
        return nn_ckpt_corrupt(in, why);
    }
    const uint8_t *p = nn_ckpt_take(in, len, what);
    if (!p) return -1;
    if (memchr(p, '\0', (size_t)len)) {
        in->pos -= (size_t)len;
        snprintf(what, sizeof what, "the name of tensor #%d contains a NUL byte", index);
        return nn_ckpt_corrupt(in, what);
    }
    memcpy(t->name, p, (size_t)len);
    t->name[len] = '\0';
    return 0;
}

static int nn_ckpt_parse_data(nn_ckpt_in *in, nn_ckpt_tensor *t)
{
    char shown[NN_CKPT_NAME_MAX + 1], what[NN_CKPT_NAME_MAX + 32];
    nn_ckpt_printable(t->name, strlen(t->name), shown);
    snprintf(what, sizeof what, "tensor '%s'", shown);
    uint64_t count;
    if (nn_ckpt_take_le(in, 8, what, &count)) return -1;
    if (count > nn_ckpt_left(in) / 4) return nn_ckpt_overlong(in, what, count, "floats");
    const uint8_t *p = nn_ckpt_take(in, count * 4, what);
    if (!p) return -1;
    t->count = count;
    if (count == 0) return 0;
    t->data = malloc((size_t)count * sizeof *t->data);
    if (!t->data)
        return nn_ckpt_fail(in->err, in->errlen, "out of memory reading %s (%s, %llu floats)",
                            in->label, what, (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++)
        t->data[i] = nn_ckpt_bits_f32((uint32_t)nn_ckpt_get_le(p + 4 * i, 4));
    return 0;
}

static int nn_ckpt_parse_tensors(nn_ckpt_in *in, nn_ckpt *c)
{
    uint64_t n;
    if (nn_ckpt_take_le(in, 4, "tensor count", &n)) return -1;
    if (n > nn_ckpt_left(in) / NN_CKPT_MIN_TENSOR_BYTES || n > INT_MAX)
        return nn_ckpt_overlong(in, "the tensor table", n, "tensors");
    if (n == 0) return 0;
    c->tensors = calloc((size_t)n, sizeof *c->tensors);
    if (!c->tensors)
        return nn_ckpt_fail(in->err, in->errlen, "out of memory reading %s (%llu tensors)",
                            in->label, (unsigned long long)n);
    c->ntensors = (int)n;
    for (int i = 0; i < c->ntensors; i++)
        if (nn_ckpt_parse_name(in, i, &c->tensors[i]) || nn_ckpt_parse_data(in, &c->tensors[i]))
            return -1;
    return 0;
}

static int nn_ckpt_parse_trailer(nn_ckpt_in *in)
{
    size_t body = in->pos;
    uint64_t stored;
    if (nn_ckpt_take_le(in, 4, "checksum", &stored)) return -1;
    uint32_t computed = nn_ckpt_crc((uint32_t)crc32(0, Z_NULL, 0), in->bytes, body);
    if (stored != computed)
        return nn_ckpt_fail(in->err, in->errlen,
                            "%s: checksum mismatch: the file is corrupt (stored %08llx, computed "
                            "%08lx); use the previous checkpoint or retrain", in->label,
                            (unsigned long long)stored, (unsigned long)computed);
    if (in->pos != in->len)
        return nn_ckpt_fail(in->err, in->errlen,
                            "%s has %zu unexpected bytes after the checksum at byte %zu: the file "
                            "is corrupt or was appended to; use the previous checkpoint or retrain",
                            in->label, nn_ckpt_left(in), in->pos);
    return 0;
}

static int nn_ckpt_check_unique(nn_ckpt_in *in, const nn_ckpt *c)
{
    const char *dup = NULL;
    int d = nn_ckpt_find_duplicate(c->tensors, c->ntensors, &dup);
    if (d < 0) return nn_ckpt_fail(in->err, in->errlen, "out of memory reading %s", in->label);
    if (d == 0) return 0;
    char shown[NN_CKPT_NAME_MAX + 1];
    nn_ckpt_printable(dup, strlen(dup), shown);
    return nn_ckpt_fail(in->err, in->errlen,
                        "%s holds two tensors named '%s': the file is corrupt; use the previous "
                        "checkpoint or retrain", in->label, shown);
}

static int nn_ckpt_parse_all(nn_ckpt_in *in, nn_ckpt *c)
{
    if ((uint64_t)in->len > NN_CKPT_MAX_BYTES)
        return nn_ckpt_fail(in->err, in->errlen,
                            "%s is %zu bytes, above the 4 GiB limit: it is not a gammacl "
                            "checkpoint; check the path", in->label, in->len);
    if (nn_ckpt_parse_header(in, c) || nn_ckpt_parse_text(in, "model spec", &c->spec) ||
        nn_ckpt_parse_text(in, "metadata", &c->meta) || nn_ckpt_parse_tensors(in, c) ||
        nn_ckpt_parse_trailer(in) || nn_ckpt_check_unique(in, c))
        return -1;
    return 0;
}

/* Parses into a local struct and hands it over only when everything checked out, so c is zeroed
 * on every failure. */
int nn_ckpt_parse_labelled(const uint8_t *bytes, size_t len, const char *label, nn_ckpt *c,
                           char *err, size_t errlen)
{
    if (!c) return nn_ckpt_fail(err, errlen, "cannot read %s: no checkpoint to fill", label);
    memset(c, 0, sizeof *c);
    if (!bytes && len > 0) return nn_ckpt_fail(err, errlen, "cannot read %s: no bytes", label);
    const uint8_t none[1] = {0};
    nn_ckpt_in in = {.bytes = bytes ? bytes : none, .len = len, .label = label, .err = err,
                     .errlen = errlen};
    nn_ckpt parsed = {0};
    if (nn_ckpt_parse_all(&in, &parsed)) {
        nn_ckpt_free(&parsed);
        return -1;
    }
    *c = parsed;
    return 0;
}

int nn_ckpt_parse(const uint8_t *bytes, size_t len, nn_ckpt *c, char *err, size_t errlen)
{
    return nn_ckpt_parse_labelled(bytes, len, "checkpoint (in memory)", c, err, errlen);
}

/* ---- access -------------------------------------------------------------------------------- */

void nn_ckpt_free(nn_ckpt *c)
{
    if (!c) return;
    free(c->spec);
    free(c->meta);
    if (c->tensors)
        for (int i = 0; i < c->ntensors; i++) free(c->tensors[i].data);
    free(c->tensors);
    memset(c, 0, sizeof *c);
}

const char *nn_ckpt_meta_get(const nn_ckpt *c, const char *key, char *out, size_t outlen)
{
    if (!c || !c->meta || !key || !*key || strpbrk(key, "=\n") || !out || outlen == 0) return NULL;
    size_t klen = strlen(key);
    for (const char *line = c->meta; *line;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if ((size_t)(end - line) > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *value = line + klen + 1;
            size_t n = (size_t)(end - value);
            if (n >= outlen) n = outlen - 1;
            memcpy(out, value, n);
            out[n] = '\0';
            return out;
        }
        line = *end ? end + 1 : end;
    }
    return NULL;
}

const nn_ckpt_tensor *nn_ckpt_find(const nn_ckpt *c, const char *name)
{
    if (!c || !c->tensors || !name) return NULL;
    for (int i = 0; i < c->ntensors; i++)
        if (strcmp(c->tensors[i].name, name) == 0) return &c->tensors[i];
    return NULL;
}
