/* tests/fuzz/fuzz_png.c — libFuzzer target for the PNG decoder: the input is one PNG file. */
#include "dataset.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int channels, height, width;
    uint8_t *pixels = NULL;
    char err[APP_ERRLEN];
    if (app_png_decode(data, size, &channels, &height, &width, &pixels, err, sizeof err) == 0) {
        /* Touch every byte so that a wrong size shows up as an out-of-bounds read. */
        size_t n = (size_t)channels * (size_t)height * (size_t)width;
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < n; i++)
            sink ^= pixels[i];
        (void)sink;
    }
    free(pixels);
    return 0;
}
