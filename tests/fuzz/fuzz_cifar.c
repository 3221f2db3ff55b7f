/* tests/fuzz/fuzz_cifar.c — libFuzzer target for the CIFAR binary reader. The lowest bit of the
 * first byte chooses CIFAR-100 (two label bytes per record) over CIFAR-10; the rest is the batch.
 */
#include "dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    app_dataset d;
    char err[APP_ERRLEN];
    if (app_cifar_parse(data + 1, size - 1, data[0] & 1, &d, err, sizeof err) == 0)
        app_dataset_free(&d);
    return 0;
}
