/* tests/fuzz/fuzz_checkpoint.c — libFuzzer target for the checkpoint parser (net/checkpoint.c).
 *
 * Feeds arbitrary bytes to nn_ckpt_parse and frees the result, then does the same with the last
 * four bytes replaced by the right CRC-32, so mutated inputs also get past the checksum to the
 * duplicate-name check and the success path. A parse must either fail with a one-line message and
 * a zeroed struct, or succeed with a struct whose fields hold what the format promises; any other
 * outcome aborts so the fuzzer reports it.
 * Build: clang -fsanitize=fuzzer,address,undefined -g -O1 -Inet tests/fuzz/fuzz_checkpoint.c \
 *        net/checkpoint.c -lz
 * Seeds: tests/fuzz/corpus/checkpoint (written by tests/checkpoint/make_corpus.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ckpt_check_failure(const nn_ckpt *c, const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n')) abort();
    if (c->spec || c->meta || c->tensors || c->ntensors != 0) abort();
}

static void fuzz_ckpt_check_success(const nn_ckpt *c, size_t size)
{
    if (c->version != NN_CKPT_VERSION || !c->spec || !c->meta || c->ntensors < 0) abort();
    uint64_t floats = 0;
    for (int i = 0; i < c->ntensors; i++) {
        const nn_ckpt_tensor *t = &c->tensors[i];
        const char *end = memchr(t->name, '\0', sizeof t->name);
        if (!end || end == t->name) abort();
        if (t->count > 0 && !t->data) abort();
        if (nn_ckpt_find(c, t->name) != t) abort(); /* names are unique */
        floats += t->count;
    }
    if (floats > size / 4) abort();
    char value[32];
    nn_ckpt_meta_get(c, "run", value, sizeof value);
}

static void fuzz_ckpt_parse_one(const uint8_t *data, size_t size)
{
    nn_ckpt c;
    char err[512] = "";
    if (nn_ckpt_parse(data, size, &c, err, sizeof err) == 0) fuzz_ckpt_check_success(&c, size);
    else fuzz_ckpt_check_failure(&c, err);
    nn_ckpt_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ckpt_parse_one(data, size);
    if (size < 4) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), fixed, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    fuzz_ckpt_parse_one(fixed, size);
    free(fixed);
    return 0;
}
