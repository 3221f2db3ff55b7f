/* tests/layers/test_elementwise.c — ReLU and the residual add against a double reference and
 * finite differences of it, on every device and kernel style.
 *
 * ReLU on random inputs and on inputs with exact zeros (gradient 0 there). The add through the
 * spec's labels: `add LABEL` after a 3x3 convolution (col2im accumulating into a node read twice),
 * after a pointwise convolution (the GEMM accumulating), a node added to itself, and a layer whose
 * input is chosen with `< label` so one node feeds three readers.
 */
#include <stdio.h>

#include "lt.h"

static int finish(th *t, ref_net *net, th_rng *r)
{
    char err[128];
    if (!th_check(t, ref_net_finish(net, err, sizeof err) == 0, "%s", err)) return 0;
    lt_randomize(net, r);
    return 1;
}

static void relu_case(th *t, int c, int h, int w, int batch, int zeros, uint64_t seed)
{
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c, h, w, batch);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    if (!finish(t, &net, &r)) return;
    if (zeros)
        for (size_t i = 0; i < ref_input_size(&net); i += 3) net.x[i] = 0;
    char what[120];
    snprintf(what, sizeof what, "relu C=%d %dx%d N=%d%s", c, h, w, batch, zeros ? " with zeros" : "");
    const lt_opts o = {.skip_fd_dx = zeros};
    lt_check_net(t, &net, 1, &o, what);
    ref_net_free(&net);
}

/* kind 0: a: relu, conv C k=3, add a;  1: the same with a pointwise conv;  2: a: relu, add a;
 * 3: a: conv C, r: relu, conv C < a, add r */
static void add_case(th *t, int kind, int c, int h, int w, int batch, uint64_t seed)
{
    static const char *const names[] = {"relu, conv 3x3, add", "relu, conv 1x1, add",
                                        "relu, add itself", "conv, relu, conv < label, add"};
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, c, h, w, batch);
    if (kind == 3) {
        const int a = ref_add(&net, REF_CONV, "a", REF_PREV, c, 3, 1, 1);
        const int rl = ref_add(&net, REF_RELU, "r", REF_PREV, 0, 0, 0, 0);
        ref_add(&net, REF_CONV, NULL, a, c, 3, 1, 1);
        ref_add(&net, REF_ADD, NULL, REF_PREV, rl, 0, 0, 0);
    } else {
        const int a = ref_add(&net, REF_RELU, "a", REF_PREV, 0, 0, 0, 0);
        if (kind < 2) ref_add(&net, REF_CONV, NULL, REF_PREV, c, kind ? 1 : 3, 1, kind ? 0 : 1);
        ref_add(&net, REF_ADD, NULL, REF_PREV, a, 0, 0, 0);
    }
    if (!finish(t, &net, &r)) return;
    char what[120];
    snprintf(what, sizeof what, "add (%s) C=%d %dx%d N=%d", names[kind], c, h, w, batch);
    lt_check_net(t, &net, 1, NULL, what);
    ref_net_free(&net);
}

static void body(th *t)
{
    relu_case(t, 4, 7, 5, 3, 0, 1);
    relu_case(t, 6, 9, 8, 2, 1, 2);
    add_case(t, 0, 4, 7, 6, 3, 3);
    add_case(t, 1, 5, 6, 9, 2, 4);
    add_case(t, 2, 3, 5, 5, 4, 5);
    add_case(t, 3, 4, 8, 7, 2, 6);
}

int main(void) { return th_run("layers/elementwise", body, 1); }
