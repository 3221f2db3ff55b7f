/* tests/layers/test_linear.c — the fully connected layer against a double reference and finite
 * differences of it, on every device and kernel style: on a C x 1 x 1 input, after global average
 * pooling, and in a small vector MLP (linear, bn on N values per channel, relu, linear).
 */
#include <stdio.h>

#include "lt.h"

static void body(th *t)
{
    static const struct { int c, h, w, batch, out, kind; } cases[] = {
        {5, 1, 1, 3, 7, 0}, {8, 1, 1, 2, 3, 0}, {6, 6, 7, 4, 5, 1}, {7, 1, 1, 5, 6, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_rng r = {100 + i};
        ref_net net;
        ref_net_init(&net, cases[i].c, cases[i].h, cases[i].w, cases[i].batch);
        if (cases[i].kind == 1) ref_add(&net, REF_GAP, NULL, REF_PREV, 0, 0, 0, 0);
        ref_add(&net, REF_LINEAR, NULL, REF_PREV, cases[i].out, 0, 0, 0);
        if (cases[i].kind == 2) {
            ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
            ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
            ref_add(&net, REF_LINEAR, NULL, REF_PREV, 4, 0, 0, 0);
        }
        char err[128], what[160];
        if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) continue;
        lt_randomize(&net, &r);
        static const char *const kinds[] = {"linear", "gap, linear", "linear, bn, relu, linear"};
        snprintf(what, sizeof what, "%s: %dx%dx%d -> %d, N=%d", kinds[cases[i].kind], cases[i].c,
                 cases[i].h, cases[i].w, cases[i].out, cases[i].batch);
        lt_check_net(t, &net, 1, NULL, what);
        ref_net_free(&net);
    }
}

int main(void) { return th_run("layers/linear", body, 1); }
