/* tests/reliability/ckpt_tool.c — reads and edits checkpoints for the reliability tests.
 *
 *   ckpt_tool info FILE                   prints "epoch E step S tensors N" and the tensor names
 *   ckpt_tool set-meta FILE KEY VALUE     rewrites the run option KEY (e.g. lr) in the metadata
 *   ckpt_tool poison FILE TENSOR nan|inf  sets the first element of TENSOR to NaN or +Inf
 *   ckpt_tool tensors-equal A B           exit 0 when both hold the same tensors, bit for bit
 *
 * The edits go through nn_ckpt_read / nn_ckpt_write, so the result is a valid checkpoint (right
 * CRC) whose run turns bad on purpose: the tests use it to force a non-finite loss in a chosen
 * epoch. Exit status: 0 done, 1 the checkpoint could not be read or written, 2 bad usage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

static int read_ckpt(const char *path, nn_ckpt *c)
{
    char err[1024];
    if (nn_ckpt_read(path, c, err, sizeof err) != 0) {
        fprintf(stderr, "ckpt_tool: %s\n", err);
        return 1;
    }
    return 0;
}

static int write_ckpt(const char *path, nn_ckpt *c)
{
    char err[1024];
    int rc = nn_ckpt_write(path, c, err, sizeof err);
    if (rc != 0) fprintf(stderr, "ckpt_tool: %s\n", err);
    nn_ckpt_free(c);
    return rc ? 1 : 0;
}

static int info(const char *path)
{
    nn_ckpt c;
    if (read_ckpt(path, &c)) return 1;
    printf("epoch %d step %lld tensors %d\n", (int)c.epoch, (long long)c.step, c.ntensors);
    for (int i = 0; i < c.ntensors; i++) printf("%s %llu\n", c.tensors[i].name,
                                                (unsigned long long)c.tensors[i].count);
    nn_ckpt_free(&c);
    return 0;
}

/* Replaces the line "KEY=..." of the metadata (or appends one). */
static int set_meta(const char *path, const char *key, const char *value)
{
    nn_ckpt c;
    if (read_ckpt(path, &c)) return 1;
    size_t klen = strlen(key), cap = strlen(c.meta) + klen + strlen(value) + 4;
    char *out = malloc(cap);
    if (!out) {
        nn_ckpt_free(&c);
        fprintf(stderr, "ckpt_tool: out of memory\n");
        return 1;
    }
    size_t off = 0;
    int found = 0;
    for (const char *line = c.meta; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            off += (size_t)snprintf(out + off, cap - off, "%s=%s\n", key, value);
            found = 1;
        } else {
            memcpy(out + off, line, len);
            off += len;
            out[off++] = '\n';
        }
        line = end ? end + 1 : line + len;
    }
    if (!found) off += (size_t)snprintf(out + off, cap - off, "%s=%s\n", key, value);
    out[off] = '\0';
    free(c.meta);
    c.meta = out;
    return write_ckpt(path, &c);
}

static int poison(const char *path, const char *name, const char *what)
{
    nn_ckpt c;
    if (read_ckpt(path, &c)) return 1;
    nn_ckpt_tensor *t = NULL;
    for (int i = 0; i < c.ntensors && !t; i++)
        if (strcmp(c.tensors[i].name, name) == 0) t = &c.tensors[i];
    if (!t || t->count == 0) {
        fprintf(stderr, "ckpt_tool: %s has no tensor '%s'\n", path, name);
        nn_ckpt_free(&c);
        return 1;
    }
    t->data[0] = strcmp(what, "inf") == 0 ? INFINITY : NAN;
    return write_ckpt(path, &c);
}

static int tensors_equal(const char *a_path, const char *b_path)
{
    nn_ckpt a, b;
    if (read_ckpt(a_path, &a)) return 1;
    if (read_ckpt(b_path, &b)) {
        nn_ckpt_free(&a);
        return 1;
    }
    int same = a.ntensors == b.ntensors && a.epoch == b.epoch && a.step == b.step;
    for (int i = 0; same && i < a.ntensors; i++) {
        const nn_ckpt_tensor *t = &a.tensors[i], *u = nn_ckpt_find(&b, t->name);
        if (!u || u->count != t->count || memcmp(u->data, t->data, 4 * t->count) != 0) {
            printf("tensor %s differs\n", t->name);
            same = 0;
        }
    }
    if (!same) printf("%s and %s differ\n", a_path, b_path);
    nn_ckpt_free(&a);
    nn_ckpt_free(&b);
    return same ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "info") == 0) return info(argv[2]);
    if (argc == 5 && strcmp(argv[1], "set-meta") == 0) return set_meta(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "poison") == 0 &&
        (strcmp(argv[4], "nan") == 0 || strcmp(argv[4], "inf") == 0))
        return poison(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "tensors-equal") == 0) return tensors_equal(argv[2], argv[3]);
    fprintf(stderr, "usage: ckpt_tool info FILE | set-meta FILE KEY VALUE | "
                    "poison FILE TENSOR nan|inf | tensors-equal A B\n");
    return 2;
}
