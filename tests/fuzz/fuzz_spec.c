/* tests/fuzz/fuzz_spec.c — libFuzzer target for the model spec parser (net/spec.c), host only.
 *
 * Input: three bytes choosing the input shape (channels 1 + b0 % 8, height 1 + b1, width 1 + b2),
 * then the spec text. nn_spec_check must either reject it with a one-line message, or accept it;
 * an accepted spec is parsed and resolved again through the internal API and every layer must
 * then have a positive output shape within the per-sample limit, every layer but the last must be
 * used, and the last must give a vector (C x 1 x 1). Any broken promise aborts so the fuzzer
 * reports it; memory errors are the sanitizers' business.
 * Seeds: tests/fuzz/corpus/spec (written by tests/fuzz/make_corpus_text.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const char *spec, nn_shape in)
{
    static nn_node nodes[NN_MAX_NODES];
    int count = 0;
    char err[1024] = "";
    memset(nodes, 0, sizeof nodes);
    if (nn_spec_parse(spec, nodes, &count, err, sizeof err) != 0) abort();
    if (nn_spec_resolve(nodes, count, in, 1, err, sizeof err) != 0) abort();
    if (count < 1 || count > NN_MAX_NODES) abort();
    for (int i = 0; i < count; i++) {
        const nn_node *n = &nodes[i];
        if (n->out.c < 1 || n->out.h < 1 || n->out.w < 1) abort();
        if ((long)n->out.c * n->out.h * n->out.w > (1L << 24)) abort();
        if (n->in < -1 || n->in >= i || n->in2 < -2 || n->in2 >= i) abort();
        if (i < count - 1 && n->consumers < 1) abort();
    }
    if (nodes[count - 1].out.h != 1 || nodes[count - 1].out.w != 1) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > (1u << 20)) return 0;
    nn_shape in = {1 + data[0] % 8, 1 + data[1], 1 + data[2]};
    char *spec = malloc(size - 3 + 1);
    if (!spec) return 0;
    memcpy(spec, data + 3, size - 3);
    spec[size - 3] = '\0';
    char err[1024];
    memset(err, 0x55, sizeof err); /* a message must be written, not left over */
    err[sizeof err - 1] = '\0';
    int rc = nn_spec_check(spec, in.c, in.h, in.w, err, sizeof err);
    if (rc == 0) {
        check_accepted(spec, in);
    } else {
        if (rc != -1) abort();
        if (err[0] == '\0' || err[0] == 0x55 || strchr(err, '\n')) abort();
    }
    free(spec);
    return 0;
}
