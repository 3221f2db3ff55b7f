/* tests/layers/test_sgd.c — one and two optimizer steps on known values against PyTorch's SGD:
 *   g' = g + wd * p;  m = momentum * m + g';  p = p - lr * m
 * with weight decay only on convolution, linear and classifier weights (never on batch-norm scale
 * and shift, nor on the shared bias), momentum 0.9 and 0, decay 0 and 0.05. Running statistics and
 * gradients must stay untouched; a CE model's bias is not a parameter and never moves. The first
 * step runs in one launch over the packed tensors, the second a launch per tensor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"

#define MAX_T 16

typedef struct tensor {
    const char *name;
    size_t n;
    int trainable, decay;
    double *v, *g, *m;
} tensor;

static void sgd_case(th *t, nn_loss loss, float momentum, float wd, uint64_t seed)
{
    char what[120];
    snprintf(what, sizeof what, "SGD %s momentum=%g wd=%g", loss == NN_LOSS_BCE ? "BCE" : "CE",
             momentum, wd);
    /* conv1.w holds 2160 floats: more than one chunk (2048) of the CPU rows, so the packed step
     * cuts a tensor into several chunks on every row */
    nn_config cfg = {.spec = "conv 40 k=3\nbn\nrelu\ngap\nlinear 4", .in_c = 6, .in_h = 5, .in_w = 5,
                     .classes = 3, .max_batch = 2, .loss = loss, .gamma = 8.0f, .bias_init = 2.0f,
                     .seed = seed, .momentum = momentum, .weight_decay = wd};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what)) return;
    const int bce = loss == NN_LOSS_BCE;
    tensor ts[] = {
        {"conv1.w", 2160, 1, 1, 0, 0, 0},        {"bn1.gamma", 40, 1, 0, 0, 0, 0},
        {"bn1.beta", 40, 1, 0, 0, 0, 0},         {"bn1.running_mean", 40, 0, 0, 0, 0, 0},
        {"bn1.running_var", 40, 0, 0, 0, 0, 0},  {"linear1.w", 160, 1, 1, 0, 0, 0},
        {"head.w", 12, 1, 1, 0, 0, 0},           {"head.b", 1, bce, 0, 0, 0, 0},
    };
    const int nt = (int)(sizeof ts / sizeof ts[0]);
    th_rng r = {seed};
    for (int i = 0; i < nt; i++) {
        tensor *x = &ts[i];
        x->v = calloc(x->n, sizeof(double)), x->g = calloc(x->n, sizeof(double));
        x->m = calloc(x->n, sizeof(double));
        for (size_t j = 0; j < x->n; j++) {
            x->v[j] = (float)(2 * th_uniform(&r) - 1) + (strstr(x->name, "var") ? 2.0f : 0.0f);
            x->g[j] = (float)(2 * th_uniform(&r) - 1);
            x->m[j] = (float)(2 * th_uniform(&r) - 1);
        }
        char name[64];
        if (!x->trainable && strcmp(x->name, "head.b") == 0) {
            /* CE: the bias stays b*; keep what the model holds */
            float b = 0;
            th_ok(t, nn_model_bias(m, &b), "bias");
            x->v[0] = b;
        } else {
            lt_write(t, m, x->name, 1, x->v, x->n);
        }
        if (!x->trainable) {
            snprintf(name, sizeof name, "%s.grad", x->name);
            th_check(t, nn_test_size(m, name, 1) == 0, "%s: %s has a gradient", what, x->name);
            continue;
        }
        snprintf(name, sizeof name, "%s.grad", x->name);
        lt_write(t, m, name, 1, x->g, x->n);
        snprintf(name, sizeof name, "%s.momentum", x->name);
        lt_write(t, m, name, 1, x->m, x->n);
    }
    th_check(t, nn_test_packed(m), "%s: the trainable tensors are not packed into one buffer", what);
    /* step 1 in one launch over the packed tensors, step 2 a launch per tensor (the path of a
     * model too large to pack): both against the same reference */
    const float lr[2] = {0.1f, 0.03f};
    for (int step = 0; step < 2; step++) {
        char buf[200];
        snprintf(buf, sizeof buf, "%s: step %d (%s)", what, step + 1, step ? "tensor by tensor" : "packed");
        th_ok(t, step ? nn_test_sgd_each(m, lr[step]) : nn_test_sgd(m, lr[step]), buf);
        for (int i = 0; i < nt; i++) {
            tensor *x = &ts[i];
            if (x->trainable)
                for (size_t j = 0; j < x->n; j++) {
                    const double g = x->g[j] + (x->decay ? (double)wd * x->v[j] : 0.0);
                    x->m[j] = (double)momentum * x->m[j] + g;
                    x->v[j] -= (double)lr[step] * x->m[j];
                }
            char name[64];
            float *v = lt_read(t, m, x->name, 1, x->n);
            snprintf(buf, sizeof buf, "%s: step %d: %s", what, step + 1, x->name);
            if (v) {
                if (x->trainable) lt_close(t, v, x->v, x->n, 2e-6, 0, buf);
                else {
                    int same = 1;
                    for (size_t j = 0; j < x->n; j++) same &= v[j] == (float)x->v[j];
                    th_check(t, same, "%s changed (not a trained parameter)", buf);
                }
            }
            free(v);
            if (!x->trainable) continue;
            snprintf(name, sizeof name, "%s.momentum", x->name);
            float *mo = lt_read(t, m, name, 1, x->n);
            snprintf(buf, sizeof buf, "%s: step %d: %s", what, step + 1, name);
            if (mo) lt_close(t, mo, x->m, x->n, 2e-6, 0, buf);
            free(mo);
            snprintf(name, sizeof name, "%s.grad", x->name);
            float *g = lt_read(t, m, name, 1, x->n);
            int same = g != NULL;
            for (size_t j = 0; g && j < x->n; j++) same &= g[j] == (float)x->g[j];
            th_check(t, same, "%s: step %d: %s changed", what, step + 1, name);
            free(g);
        }
    }
    for (int i = 0; i < nt; i++) free(ts[i].v), free(ts[i].g), free(ts[i].m);
    nn_model_free(m);
}

static void body(th *t)
{
    sgd_case(t, NN_LOSS_BCE, 0.9f, 0.0f, 1);
    sgd_case(t, NN_LOSS_BCE, 0.9f, 0.05f, 2);
    sgd_case(t, NN_LOSS_BCE, 0.0f, 0.05f, 3);
    sgd_case(t, NN_LOSS_CE, 0.9f, 0.05f, 4);
}

int main(void) { return th_run("layers/sgd", body, 1); }
