/* tests/fuzz/fuzz_png.c — libFuzzer target for the PNG decoder: the input is one PNG file.
 * Besides memory errors, any broken promise of the API (a failure without a message or with
 * pixels returned, a success with a channel count or size out of range) aborts.
 */
#include "dataset.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int channels = 0, height = 0, width = 0;
    uint8_t *pixels = NULL;
    char err[APP_ERRLEN] = "";
    if (app_png_decode(data, size, &channels, &height, &width, &pixels, err, sizeof err) != 0) {
        if (err[0] == '\0' || pixels)
            abort();
        return 0;
    }
    if ((channels != 1 && channels != 3) || height < 1 || width < 1 ||
        height > APP_PNG_MAX_SIDE || width > APP_PNG_MAX_SIDE || !pixels)
        abort();
    /* Touch every byte so that a wrong size shows up as an out-of-bounds read. */
    size_t n = (size_t)channels * (size_t)height * (size_t)width;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= pixels[i];
    (void)sink;
    free(pixels);
    return 0;
}
