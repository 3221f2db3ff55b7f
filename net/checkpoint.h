/* net/checkpoint.h — the versioned, checksummed checkpoint file format.
 *
 * A checkpoint holds everything needed to continue a run bit for bit: the model spec text, the
 * loss, gamma, seed, completed epochs and optimizer steps, free-form run metadata, and named
 * float32 tensors (parameters, batch-norm running statistics, momentum buffers, the bias).
 * Layout (all integers and floats little-endian):
 *   magic "GAMMACKP" | u32 format version | i32 loss | f64 gamma | u64 seed | i32 epoch | i64 step
 *   | u32 spec length | spec bytes | u32 meta length | meta bytes | u32 tensor count
 *   | per tensor: u16 name length, name bytes, u64 element count, count * f32
 *   | u32 CRC-32 (zlib) of every byte before it.
 * Writing is atomic: a temporary file in the same folder, fsync, rename over the target, fsync of
 * the folder. Reading validates every length against the bytes present before allocating, so a
 * truncated or forged file gives a clear error, never a crash or a huge allocation.
 */
#ifndef GAMMACL_CHECKPOINT_H
#define GAMMACL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define NN_CKPT_VERSION 1

typedef struct nn_ckpt_tensor {
    char name[64];
    uint64_t count;
    float *data;
} nn_ckpt_tensor;

typedef struct nn_ckpt {
    uint32_t version;          /* set by the reader; the writer always writes NN_CKPT_VERSION */
    int32_t loss;              /* 0 CE, 1 BCE */
    double gamma;
    uint64_t seed;
    int32_t epoch;             /* completed epochs */
    int64_t step;              /* optimizer steps taken */
    char *spec;                /* model spec text, NUL-terminated */
    char *meta;                /* "key=value\n" lines, NUL-terminated */
    nn_ckpt_tensor *tensors;
    int ntensors;
} nn_ckpt;

int nn_ckpt_write(const char *path, const nn_ckpt *c, char *err, size_t errlen);
int nn_ckpt_read(const char *path, nn_ckpt *c, char *err, size_t errlen);
/* Parses a whole checkpoint from memory (the reader and the fuzz target use it). */
int nn_ckpt_parse(const uint8_t *bytes, size_t len, nn_ckpt *c, char *err, size_t errlen);
void nn_ckpt_free(nn_ckpt *c);
/* The value of "key=value" in meta (copied into out), or NULL if the key is absent. */
const char *nn_ckpt_meta_get(const nn_ckpt *c, const char *key, char *out, size_t outlen);
const nn_ckpt_tensor *nn_ckpt_find(const nn_ckpt *c, const char *name);

#endif
