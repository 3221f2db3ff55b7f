/* tests/fuzz/fuzz_cifar.c — libFuzzer target for the CIFAR binary reader. The lowest bit of the
 * first byte chooses CIFAR-100 (two label bytes per record) over CIFAR-10; the rest is the batch.
 * Besides memory errors, any broken promise of the API (a failure without a message or with
 * arrays left behind, a success with a wrong count or a label out of range) aborts.
 */
#include "dataset.h"

#include <stdlib.h>

static void check_success(const app_dataset *d, size_t len, int cifar100)
{
    size_t record = (cifar100 ? 2u : 1u) + 3072u;
    if (d->count < 1 || (size_t)d->count * record != len || d->channels != 3 || d->height != 32 ||
        d->width != 32 || d->classes != (cifar100 ? 100 : 10) || !d->pixels || !d->labels)
        abort();
    for (int i = 0; i < d->count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= d->classes)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int cifar100 = data[0] & 1;
    app_dataset d;
    char err[APP_ERRLEN] = "";
    if (app_cifar_parse(data + 1, size - 1, cifar100, &d, err, sizeof err) == 0) {
        check_success(&d, size - 1, cifar100);
        app_dataset_free(&d);
    } else if (err[0] == '\0' || d.pixels || d.labels || d.count != 0) {
        abort();
    }
    return 0;
}
