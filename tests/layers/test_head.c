/* tests/layers/test_head.c — the normalized classifier head and the dual loss against a double
 * reference, on every device and kernel style.
 *
 * Random features (some near their class weight, some not) and random class weights, CE and BCE
 * runs, gamma in {0.5, 4, 16, 64}: the batch sums of CE and BCE, the accuracy count and the sample
 * count; the gradients of the trained mean loss with respect to the feature (the last layer's
 * ".dy"), the class weights ("head.w.grad") and, in a BCE run, the shared bias ("head.b.grad"),
 * against the analytic reference and against central finite differences of the reference loss.
 * A CE run has no bias gradient and measures its BCE column at b*(gamma, K).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lt.h"
#include "theory.h"

#define FD_EPS 1e-6

typedef struct head_case {
    int K, d, N;
    double gamma;
    int bce;
} head_case;

static double trained_loss(const double *h, const double *w, double b, const int32_t *labels,
                           const head_case *c)
{
    return ref_head(h, w, b, labels, c->N, c->d, c->K, c->gamma, c->bce, NULL, NULL, NULL).loss;
}

/* central differences of the reference's trained mean loss with respect to every v[i] */
static void head_fd(double *v, size_t n, const double *h, const double *w, const double *b,
                    const int32_t *labels, const head_case *c, double *out)
{
    for (size_t i = 0; i < n; i++) {
        const double keep = v[i];
        v[i] = keep + FD_EPS;
        const double up = trained_loss(h, w, *b, labels, c);
        v[i] = keep - FD_EPS;
        const double down = trained_loss(h, w, *b, labels, c);
        v[i] = keep;
        out[i] = (up - down) / (2 * FD_EPS);
    }
}

static void compare_grad(th *t, nn_model *m, const char *name, int N, double *v, size_t n,
                         const double *analytic, const double *h, const double *w, const double *b,
                         const int32_t *labels, const head_case *c, double tol, const char *what)
{
    char buf[200];
    float *got = lt_read(t, m, name, N, n);
    if (!got) return;
    double *fd = malloc(n * sizeof *fd);
    head_fd(v, n, h, w, b, labels, c, fd);
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(analytic[i]));
    snprintf(buf, sizeof buf, "%s: %s vs reference", what, name);
    lt_close(t, got, analytic, n, tol, scale, buf);
    snprintf(buf, sizeof buf, "%s: %s vs finite differences", what, name);
    lt_close(t, got, fd, n, tol, scale, buf);
    snprintf(buf, sizeof buf, "%s: reference %s vs finite differences", what, name);
    lt_close_d(t, analytic, fd, n, 1e-6, scale, buf);
    free(got), free(fd);
}

static void head_case_run(th *t, const head_case *c, uint64_t seed)
{
    const int K = c->K, d = c->d, N = c->N;
    char spec[32], what[160];
    snprintf(spec, sizeof spec, "linear %d", d);
    snprintf(what, sizeof what, "head %s gamma=%g K=%d d=%d N=%d", c->bce ? "BCE" : "CE", c->gamma,
             K, d, N);
    th_rng r = {seed};
    const double bias_init = (float)(0.4 * c->gamma + th_uniform(&r) - 0.5);
    /* room for more samples than the batch: the head must use the batch's own layout d x N */
    nn_config cfg = {.spec = spec, .in_c = d, .in_h = 1, .in_w = 1, .classes = K, .max_batch = N + 3,
                     .loss = c->bce ? NN_LOSS_BCE : NN_LOSS_CE, .gamma = (float)c->gamma,
                     .bias_init = (float)bias_init, .seed = seed, .momentum = 0.9f};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what)) return;

    double *w = malloc((size_t)K * d * sizeof *w), *h = malloc((size_t)d * N * sizeof *h);
    int32_t *labels = malloc((size_t)N * sizeof *labels);
    for (size_t i = 0; i < (size_t)K * d; i++) w[i] = (float)(2 * th_uniform(&r) - 1);
    for (int n = 0; n < N; n++) {
        labels[n] = (int32_t)(th_uniform(&r) * K) % K;
        const double pull = 2 * th_uniform(&r);
        for (int j = 0; j < d; j++)
            h[(size_t)j * N + n] = (float)(pull * w[(size_t)labels[n] * d + j] + 0.7 * th_normal(&r));
    }
    double b = bias_init;
    if (!c->bce) {
        /* a CE run keeps b at b*(gamma, K) */
        const double bstar = nn_theory_bce_bias(c->gamma, K);
        float got = 0;
        th_ok(t, nn_model_bias(m, &got), "read the bias");
        th_check(t, fabs(got - bstar) <= 1e-6 * fabs(bstar) + 1e-7, "%s: b = %.9g, want b* = %.9g",
                 what, got, bstar);
        b = bstar;
    } else {
        float got = 0;
        th_ok(t, nn_model_bias(m, &got), "read the bias");
        th_check(t, got == (float)bias_init, "%s: b = %.9g, want the initial %.9g", what, got, bias_init);
    }
    lt_write(t, m, "head.w", N, w, (size_t)K * d);
    float *hf = lt_to_float(h, (size_t)d * N);
    th_ok(t, nn_test_head(m, hf, labels, N, 1), what);

    double *dh = malloc((size_t)d * N * sizeof *dh), *dw = malloc((size_t)K * d * sizeof *dw), db = 0;
    const ref_head_result ref = ref_head(h, w, b, labels, N, d, K, c->gamma, c->bce, dh, dw, &db);
    nn_stats st;
    th_ok(t, nn_stats_sum(m, 0, 1, &st), "statistics");
    const double ltol = 2e-5;
    th_check(t, fabs(st.ce - ref.ce_sum) <= ltol * fabs(ref.ce_sum) + 1e-6 * N,
             "%s: CE sum %.9g, want %.9g", what, st.ce, ref.ce_sum);
    th_check(t, fabs(st.bce - ref.bce_sum) <= ltol * fabs(ref.bce_sum) + 1e-6 * N,
             "%s: BCE sum %.9g, want %.9g (b = %.9g)", what, st.bce, ref.bce_sum, b);
    th_check(t, st.correct == ref.correct, "%s: %g correct, want %d", what, st.correct, ref.correct);
    th_check(t, st.count == N, "%s: count %g, want %d", what, st.count, N);
    th_check(t, st.first_bad == -1, "%s: non-finite loss", what);

    char feat[64];
    snprintf(feat, sizeof feat, "%s.dy", nn_test_last_label(m));
    const double gtol = 2e-5;
    compare_grad(t, m, feat, N, h, (size_t)d * N, dh, h, w, &b, labels, c, gtol, what);
    compare_grad(t, m, "head.w.grad", N, w, (size_t)K * d, dw, h, w, &b, labels, c, gtol, what);
    if (c->bce) {
        compare_grad(t, m, "head.b.grad", N, &b, 1, &db, h, w, &b, labels, c, gtol, what);
    } else {
        th_check(t, nn_test_size(m, "head.b.grad", N) == 0, "%s: a CE run has a bias gradient", what);
        float bias = 0;
        th_ok(t, nn_model_bias(m, &bias), "read the bias");
        th_check(t, bias == (float)b, "%s: the CE run's bias moved to %.9g", what, bias);
    }
    free(w), free(h), free(labels), free(hf), free(dh), free(dw);
    nn_model_free(m);
}

static void body(th *t)
{
    static const double gammas[] = {0.5, 4, 16, 64};
    for (int g = 0; g < 4; g++)
        for (int bce = 0; bce < 2; bce++) {
            const head_case c = {g % 2 ? 7 : 3, g % 2 ? 12 : 5, g % 2 ? 9 : 6, gammas[g], bce};
            head_case_run(t, &c, 1000 + (uint64_t)(g * 2 + bce));
        }
}

int main(void) { return th_run("layers/head", body, 1); }
