/* tests/layers/test_augment.c — train-time augmentation in the device gather (kernels/data.cl
 * gather_batch_augment) against a CPU reference built on the host draw nn_augment_draw, bit for
 * bit, on every device:
 *   - crop,flip, crop and flip alone, on 3x32x32 colour images and on a 1x9x11 set (H != W);
 *   - the same (seed, epoch) gives the same batch again; another seed or epoch another batch;
 *   - the augmented batch differs from the plain one, and over one batch both flips and shifts
 *     occur; a shifted sample holds exactly the padding pixels its shift implies, each the
 *     standardized raw 0 (the pixels themselves are never 0 here);
 *   - nn_train_step trains on the augmented batch, nn_eval_batch evaluates the plain one;
 *   - the draw covers every shift in [-4, 4] and flips about half the samples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "net.h"
#include "testing.h"

#define COUNT 40
#define FIRST 7
#define BATCH 24
#define K 4

typedef struct set {
    int c, h, w;
    uint8_t *px;
    int32_t labels[COUNT], order[COUNT];
    float mean[3], std[3];
} set;

/* the gather as net.h documents it: batch [first, first + n) of the order, C x N x H x W */
static void reference(const set *s, int first, int n, unsigned flags, uint64_t seed, uint64_t epoch,
                      float *x, int32_t *labels)
{
    const uint64_t key = nn_augment_key(seed, epoch);
    const int H = s->h, W = s->w;
    for (int i = 0; i < n; i++) {
        const int idx = s->order[first + i];
        int dx = 0, dy = 0, flip = 0;
        nn_augment_draw(key, first + i, flags, &dx, &dy, &flip);
        labels[i] = s->labels[idx];
        for (int c = 0; c < s->c; c++) {
            const float inv = 1.0f / s->std[c], pad = (0.0f - s->mean[c]) * inv;
            const uint8_t *src = s->px + ((size_t)idx * s->c + c) * H * W;
            float *dst = x + ((size_t)c * n + i) * H * W;
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    const int sy = y + dy, sx = (flip ? W - 1 - xx : xx) + dx;
                    dst[y * W + xx] = sy >= 0 && sy < H && sx >= 0 && sx < W
                                          ? ((float)src[sy * W + sx] - s->mean[c]) * inv
                                          : pad;
                }
        }
    }
}

/* 1 when a and b hold the same bits; otherwise names the first difference */
static int same(th *t, const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a) != 0)
            return th_check(t, 0, "%s: element %zu is %.9g, want %.9g", what, i, a[i], b[i]);
    return th_check(t, 1, "%s", what);
}

static int differs(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) != 0; }

static void make_set(set *s, int c, int h, int w, uint64_t seed)
{
    s->c = c, s->h = h, s->w = w;
    s->px = malloc((size_t)COUNT * c * h * w);
    th_rng r = {seed};
    for (size_t i = 0; i < (size_t)COUNT * c * h * w; i++) s->px[i] = (uint8_t)(1 + th_uniform(&r) * 255);
    for (int i = 0; i < COUNT; i++) s->labels[i] = (int32_t)(th_uniform(&r) * K) % K;
    for (int i = 0; i < c; i++) s->mean[i] = 100.25f + 13.5f * (float)i, s->std[i] = 60.0f + 7.0f * (float)i;
    nn_shuffle(seed, 3, s->order, COUNT);
}

/* padding pixels a sample with shift (dx, dy) must hold, of H x W */
static int pad_count(int dx, int dy, int H, int W)
{
    const int ax = abs(dx), ay = abs(dy);
    return ay * W + ax * H - ax * ay;
}

static void shape_case(th *t, int c, int h, int w)
{
    char what[160], label[64];
    snprintf(label, sizeof label, "%dx%dx%d", c, h, w);
    set s;
    make_set(&s, c, h, w, 21 + (uint64_t)h);
    nn_config cfg = {.spec = "conv 2 k=3\ngap\nlinear 3", .in_c = c, .in_h = h, .in_w = w, .classes = K,
                     .max_batch = BATCH, .loss = NN_LOSS_CE, .gamma = 4, .seed = 1, .momentum = 0.9f};
    nn_model *m = NULL;
    nn_data *d = NULL;
    const size_t nx = (size_t)c * BATCH * h * w;
    float *got = malloc(nx * sizeof *got), *want = malloc(nx * sizeof *want);
    float *again = malloc(nx * sizeof *again), *plain = malloc(nx * sizeof *plain);
    int32_t gl[BATCH], wl[BATCH];
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), label) ||
        !th_ok(t, nn_data_upload(t->rt, s.px, s.labels, COUNT, c, h, w, s.mean, s.std, &d), label) ||
        !th_ok(t, nn_data_set_order(t->rt, d, s.order), label) || !th_ok(t, nn_stats_reserve(m, 2), label))
        goto done;

    /* the plain gather, with no augmentation set and with it asked off */
    reference(&s, FIRST, BATCH, 0, 0, 0, plain, wl);
    snprintf(what, sizeof what, "%s: plain gather", label);
    if (th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, got, gl), what)) same(t, got, plain, nx, what);

    static const unsigned modes[] = {NN_AUGMENT_CROP | NN_AUGMENT_FLIP, NN_AUGMENT_CROP, NN_AUGMENT_FLIP};
    static const char *const names[] = {"crop,flip", "crop", "flip"};
    for (int k = 0; k < 3; k++) {
        nn_data_set_augment(d, modes[k], 5, 2);
        reference(&s, FIRST, BATCH, modes[k], 5, 2, want, wl);
        snprintf(what, sizeof what, "%s %s: device gather equals the CPU reference bit for bit", label,
                 names[k]);
        if (!th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, got, gl), what)) goto done;
        same(t, got, want, nx, what);
        th_check(t, memcmp(gl, wl, sizeof gl) == 0, "%s %s: labels", label, names[k]);
        th_check(t, differs(got, plain, nx), "%s %s: the batch differs from the plain gather", label,
                 names[k]);
        snprintf(what, sizeof what, "%s %s: an evaluation gather is not augmented", label, names[k]);
        if (th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 0, again, gl), what)) same(t, again, plain, nx, what);
    }

    /* reproducible for (seed, epoch), different for another seed or epoch */
    nn_data_set_augment(d, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, 5, 2);
    th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, got, gl), "gather");
    nn_data_set_augment(d, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, 9, 2);
    th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, again, gl), "gather");
    th_check(t, differs(got, again, nx), "%s: another seed gives another batch", label);
    nn_data_set_augment(d, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, 5, 3);
    th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, again, gl), "gather");
    th_check(t, differs(got, again, nx), "%s: another epoch gives another batch", label);
    nn_data_set_augment(d, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, 5, 2);
    snprintf(what, sizeof what, "%s: the same seed and epoch give the same batch again", label);
    if (th_ok(t, nn_test_gather(m, d, FIRST, BATCH, 1, again, gl), what)) same(t, again, got, nx, what);

    /* over the batch: flips and shifts occur; padding is the standardized raw 0, exactly where due */
    const uint64_t key = nn_augment_key(5, 2);
    int flips = 0, shifts = 0, pad_ok = 1;
    for (int i = 0; i < BATCH; i++) {
        int dx, dy, flip;
        nn_augment_draw(key, FIRST + i, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, &dx, &dy, &flip);
        flips += flip, shifts += dx || dy;
        for (int ch = 0; ch < c; ch++) {
            const float pad = (0.0f - s.mean[ch]) * (1.0f / s.std[ch]);
            const float *p = got + ((size_t)ch * BATCH + i) * h * w;
            int n = 0;
            for (int j = 0; j < h * w; j++) n += memcmp(&p[j], &pad, sizeof pad) == 0;
            if (n != pad_count(dx, dy, h, w)) {
                pad_ok = th_check(t, 0, "%s: sample %d (dx %d, dy %d) channel %d has %d padding pixels, "
                                  "want %d", label, i, dx, dy, ch, n, pad_count(dx, dy, h, w));
            }
        }
    }
    th_check(t, flips > 0 && flips < BATCH, "%s: %d of %d samples flipped", label, flips, BATCH);
    th_check(t, shifts > 0, "%s: %d of %d samples shifted", label, shifts, BATCH);
    th_check(t, pad_ok, "%s: shifted samples hold their padding, the standardized raw 0", label);

    /* a training step trains on the augmented batch, an evaluation on the plain one */
    snprintf(what, sizeof what, "%s: nn_train_step's input is the augmented batch", label);
    if (th_ok(t, nn_train_step(m, d, FIRST, BATCH, 0.01f, 0), what) &&
        th_ok(t, nn_test_read(m, "x", BATCH, again), what))
        same(t, again, got, nx, what);
    snprintf(what, sizeof what, "%s: nn_eval_batch's input is the plain batch", label);
    if (th_ok(t, nn_eval_batch(m, d, FIRST, BATCH, 1), what) && th_ok(t, nn_test_read(m, "x", BATCH, again), what))
        same(t, again, plain, nx, what);
done:
    nn_data_free(t->rt, d);
    nn_model_free(m);
    free(got), free(want), free(again), free(plain), free(s.px);
}

/* host only: every shift value occurs, about half the samples flip, flags off draw nothing */
static void draw_stats(th *t)
{
    int seen[9] = {0}, seen_y[9] = {0}, flips = 0, none = 1;
    const int n = 9000;
    const uint64_t key = nn_augment_key(1, 0);
    for (int p = 0; p < n; p++) {
        int dx, dy, flip;
        nn_augment_draw(key, p, NN_AUGMENT_CROP | NN_AUGMENT_FLIP, &dx, &dy, &flip);
        if (dx < -4 || dx > 4 || dy < -4 || dy > 4) {
            th_check(t, 0, "shift (%d, %d) outside [-4, 4]", dx, dy);
            return;
        }
        seen[dx + 4]++, seen_y[dy + 4]++, flips += flip;
        nn_augment_draw(key, p, 0, &dx, &dy, &flip);
        none &= dx == 0 && dy == 0 && flip == 0;
    }
    int spread = 1;
    for (int i = 0; i < 9; i++) spread &= seen[i] > n / 9 * 8 / 10 && seen_y[i] > n / 9 * 8 / 10;
    th_check(t, spread, "every shift in [-4, 4] is drawn about 1/9 of the time");
    th_check(t, flips > n * 45 / 100 && flips < n * 55 / 100, "%d of %d samples flipped", flips, n);
    th_check(t, none, "no flags: no shift, no flip");
}

static void body(th *t)
{
    draw_stats(t);
    shape_case(t, 3, 32, 32);
    shape_case(t, 1, 9, 11);
}

int main(void) { return th_run("layers/augment", body, 0); }
