/* tests/layers/test_probe.c — nn_probe_batch and nn_probe_class_weights (net/probe.h) against a
 * double reference, on every device.
 *
 * A conv-bn-relu-maxpool-conv-bn-relu-gap model on 2x8x8 inputs, K = 5, gamma 4, in a CE and a
 * BCE run (nonzero bias), with random parameters, non-trivial running statistics and momentum
 * left by an earlier training step. Checks:
 *   the normalized features and cosines against the double reference forward in eval mode, the
 *   cosines against the returned features and normalized class weights, the class weights
 *   themselves, and the batch's CE and BCE sums in the statistics slot against the returned
 *   cosines and the reference;
 *   the input gradient against the reference's analytic gradient of the mean trained loss, the
 *   reference's own finite differences, and central differences (step 1e-2) of the device's mean
 *   loss computed in double from the probe's cosines — at input elements where the reference
 *   shows no ReLU kink or pooling tie within the step;
 *   in eval mode samples are independent: each one probed alone gives the batch's cosines and
 *   features, and N times its share of the batch's mean-loss gradient;
 *   parameters, running statistics, momentum and bias are bit-for-bit unchanged by the probes;
 *   errors: n = 0, n above the model's batch, a slot not reserved, a label out of range, and dx
 *   on a model made without input_grad.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"
#include "probe.h"

#define C_IN 2
#define H_IN 8
#define W_IN 8
#define K_CLS 5
#define NB 6                   /* the batch probed (= the model's batch) */
#define GAMMA 4.0
#define FD_REF_EPS 1e-6        /* double-precision differences of the reference */
#define FD_DEV_EPS 1e-2        /* fp32 differences of the device's loss */
#define FD_COUNT 20
#define FD_DEV_TOL 3e-3        /* device differences vs device dx, relative to |dx| + max |dx| */

static const char *const SPEC = "conv 4 k=3\nbn\nrelu\nmaxpool\nconv 6 k=3\nbn\nrelu\ngap\n";

static double softplus(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }

/* CE and BCE of one sample from its cosines, in double */
static void losses(const float *c, int y, int K, double gamma, double b, double *ce, double *bce)
{
    double zmax = 0;
    for (int k = 0; k < K; k++)
        if (k != y) zmax = fmax(zmax, gamma * ((double)c[k] - c[y]));
    double s = exp(-zmax);
    *bce = softplus(b - gamma * c[y]);
    for (int k = 0; k < K; k++) {
        if (k == y) continue;
        s += exp(gamma * ((double)c[k] - c[y]) - zmax);
        *bce += softplus(gamma * c[k] - b);
    }
    *ce = zmax + log(s);
}

/* the mean trained loss of n samples from their cosines (n x K) */
static double mean_loss(const float *cos, const int32_t *labels, int n, int bce, double b)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double ce, be;
        losses(cos + (size_t)i * K_CLS, labels[i], K_CLS, GAMMA, b, &ce, &be);
        sum += bce ? be : ce;
    }
    return sum / n;
}

/* C x n x HW (the reference's layout, the device's) -> n x C x HW, for doubles */
static void to_host_layout(const double *src, double *dst, int n)
{
    const size_t hw = (size_t)H_IN * W_IN;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C_IN; c++)
            memcpy(dst + ((size_t)i * C_IN + c) * hw, src + ((size_t)c * n + i) * hw, hw * sizeof *dst);
}

/* the reference's mean trained loss for its current input; fills dh (d x N) when not NULL */
static ref_head_result ref_eval(ref_net *net, const double *w, double b, const int32_t *labels,
                                int bce, double *dh)
{
    ref_forward(net, 0);
    const int d = ref_last(net)->shape.c;
    return ref_head(ref_last(net)->y, w, b, labels, NB, d, K_CLS, GAMMA, bce, dh, NULL, NULL);
}

/* every exported tensor (parameters, running statistics, momentum, bias) equal bit for bit */
static void check_state_same(th *t, const nn_ckpt *a, const nn_ckpt *b, const char *what)
{
    if (!th_check(t, a->ntensors == b->ntensors, "%s: %d tensors, then %d", what, a->ntensors,
                  b->ntensors))
        return;
    for (int i = 0; i < a->ntensors; i++) {
        const nn_ckpt_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        th_check(t, strcmp(x->name, y->name) == 0 && x->count == y->count &&
                        memcmp(x->data, y->data, x->count * sizeof(float)) == 0,
                 "%s: tensor %s changed", what, x->name);
    }
}

static int expect_fail(th *t, rt_status s, const char *needle, const char *what)
{
    const char *msg = rt_error(t->rt);
    return th_check(t, s != RT_OK && msg && strstr(msg, needle) != NULL,
                    "%s: status %d, message '%s' (want a failure mentioning '%s')", what, (int)s,
                    s == RT_OK ? "" : msg, needle);
}

static void probe_case(th *t, int bce, uint64_t seed)
{
    char what[160], buf[256];
    snprintf(what, sizeof what, "probe %s gamma=%g", bce ? "BCE" : "CE", GAMMA);
    th_rng r = {seed};
    ref_net net;
    ref_net_init(&net, C_IN, H_IN, W_IN, NB);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 4, 3, 1, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_MAXPOOL, NULL, REF_PREV, 2, 0, 0, 0);
    ref_add(&net, REF_CONV, NULL, REF_PREV, 6, 3, 1, 1);
    ref_add(&net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(&net, REF_GAP, NULL, REF_PREV, 0, 0, 0, 0);
    char err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);   /* inputs, weights, BN scale, shift and running statistics */
    const int d = ref_last(&net)->shape.c;
    const size_t nx = ref_input_size(&net), per = nx / NB, nw = (size_t)K_CLS * d;

    nn_config cfg = {.spec = SPEC, .in_c = C_IN, .in_h = H_IN, .in_w = W_IN, .classes = K_CLS,
                     .max_batch = NB, .loss = bce ? NN_LOSS_BCE : NN_LOSS_CE, .gamma = (float)GAMMA,
                     .bias_init = 1.75f, .seed = seed, .momentum = 0.9f, .weight_decay = 5e-4f,
                     .input_grad = 1};
    nn_model *m = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what)) goto out_net;
    th_ok(t, nn_stats_reserve(m, 3), "reserve statistics");

    /* a training step first, so that momentum is nonzero, then the reference's parameters */
    {
        float *xw = malloc(nx * sizeof *xw), *rw = malloc((size_t)d * NB * sizeof *rw);
        th_fill_uniform(&r, xw, nx, -2, 2);
        th_fill_uniform(&r, rw, (size_t)d * NB, -1, 1);
        th_ok(t, nn_test_forward(m, xw, NB, 1), "warm-up forward");
        th_ok(t, nn_test_backward(m, rw, NB), "warm-up backward");
        th_ok(t, nn_test_sgd(m, 0.05f), "warm-up step");
        free(xw), free(rw);
    }
    ref_param ps[32];
    const int np = ref_params(&net, ps, 32);
    for (int i = 0; i < np; i++) lt_write(t, m, ps[i].name, NB, ps[i].v, ps[i].n);
    double *w = malloc(nw * sizeof *w);
    for (size_t i = 0; i < nw; i++) w[i] = (float)(2 * th_uniform(&r) - 1);
    lt_write(t, m, "head.w", NB, w, nw);
    float bf = 0;
    th_ok(t, nn_model_bias(m, &bf), "read the bias");
    const double b = bf;
    int32_t labels[NB];
    for (int i = 0; i < NB; i++) labels[i] = (int32_t)(th_uniform(&r) * K_CLS) % K_CLS;

    nn_ckpt before = {0}, after = {0};
    th_ok(t, nn_model_export(m, &before), "export the state before");
    {   /* the state really is non-trivial: momentum nonzero, running statistics not 0 / 1 */
        const nn_ckpt_tensor *mom = nn_ckpt_find(&before, "conv1.w.momentum");
        const nn_ckpt_tensor *rv = nn_ckpt_find(&before, "bn2.running_var");
        th_check(t, mom && mom->data[0] != 0 && rv && rv->data[0] != 1.0f,
                 "%s: momentum or running statistics trivial", what);
    }

    /* ---- the batch ---- */
    double *xh = malloc(nx * sizeof *xh);
    to_host_layout(net.x, xh, NB);
    float *x = lt_to_float(xh, nx);
    float *hn = malloc((size_t)NB * d * sizeof *hn), *cos = malloc((size_t)NB * K_CLS * sizeof *cos);
    float *dx = malloc(nx * sizeof *dx);
    nn_probe_out po = {hn, cos, dx};
    snprintf(buf, sizeof buf, "%s: probe the batch", what);
    th_ok(t, nn_probe_batch(m, x, labels, NB, 1, &po), buf);

    /* reference forward, head and input gradient */
    double *dh = malloc((size_t)d * NB * sizeof *dh);
    const ref_head_result ref = ref_eval(&net, w, b, labels, bce, dh);
    ref_backward(&net, dh);
    double *dx_ref = malloc(nx * sizeof *dx_ref);
    to_host_layout(net.dx, dx_ref, NB);
    const double *h = ref_last(&net)->y;
    double *hn_ref = malloc((size_t)NB * d * sizeof *hn_ref);
    double *wn_ref = malloc(nw * sizeof *wn_ref);
    double *cos_ref = malloc((size_t)NB * K_CLS * sizeof *cos_ref);
    double *cos_dev = malloc((size_t)NB * K_CLS * sizeof *cos_dev);
    for (int k = 0; k < K_CLS; k++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += w[(size_t)k * d + j] * w[(size_t)k * d + j];
        for (int j = 0; j < d; j++) wn_ref[(size_t)k * d + j] = w[(size_t)k * d + j] / sqrt(s);
    }
    for (int i = 0; i < NB; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += h[(size_t)j * NB + i] * h[(size_t)j * NB + i];
        for (int j = 0; j < d; j++) hn_ref[(size_t)i * d + j] = h[(size_t)j * NB + i] / sqrt(s);
    }

    /* class weights */
    float *wraw = malloc(nw * sizeof *wraw), *wnorm = malloc(nw * sizeof *wnorm);
    th_ok(t, nn_probe_class_weights(m, wraw, wnorm), "class weights");
    int raw_same = 1;
    for (size_t i = 0; i < nw; i++) raw_same &= wraw[i] == (float)w[i];
    th_check(t, raw_same, "%s: raw class weights differ from those written", what);
    snprintf(buf, sizeof buf, "%s: normalized class weights", what);
    lt_close(t, wnorm, wn_ref, nw, 1e-6, 0, buf);
    float *wnorm_only = malloc(nw * sizeof *wnorm_only);
    th_ok(t, nn_probe_class_weights(m, NULL, wnorm_only), "normalized class weights alone");
    th_check(t, memcmp(wnorm_only, wnorm, nw * sizeof *wnorm) == 0,
             "%s: normalized weights differ when raw is not asked for", what);

    for (int i = 0; i < NB; i++)
        for (int k = 0; k < K_CLS; k++) {
            double s = 0, sd = 0;
            for (int j = 0; j < d; j++) {
                s += hn_ref[(size_t)i * d + j] * wn_ref[(size_t)k * d + j];
                sd += (double)hn[(size_t)i * d + j] * wnorm[(size_t)k * d + j];
            }
            cos_ref[(size_t)i * K_CLS + k] = s;
            cos_dev[(size_t)i * K_CLS + k] = sd;
        }
    snprintf(buf, sizeof buf, "%s: normalized features vs reference", what);
    lt_close(t, hn, hn_ref, (size_t)NB * d, 1e-5, 0, buf);
    snprintf(buf, sizeof buf, "%s: cosines vs reference", what);
    lt_close(t, cos, cos_ref, (size_t)NB * K_CLS, 1e-5, 1, buf);
    snprintf(buf, sizeof buf, "%s: cosines vs <returned features, normalized weights>", what);
    lt_close(t, cos, cos_dev, (size_t)NB * K_CLS, 1e-6, 1, buf);

    /* the statistics slot against the returned cosines (tight) and the reference */
    nn_stats st;
    th_ok(t, nn_stats_sum(m, 1, 1, &st), "statistics");
    double ce_sum = 0, bce_sum = 0;
    for (int i = 0; i < NB; i++) {
        double ce, be;
        losses(cos + (size_t)i * K_CLS, labels[i], K_CLS, GAMMA, b, &ce, &be);
        ce_sum += ce, bce_sum += be;
    }
    th_check(t, fabs(st.ce - ce_sum) <= 2e-5 * fabs(ce_sum) + 1e-6 * NB,
             "%s: CE sum %.9g, from the cosines %.9g", what, st.ce, ce_sum);
    th_check(t, fabs(st.bce - bce_sum) <= 2e-5 * fabs(bce_sum) + 1e-6 * NB,
             "%s: BCE sum %.9g, from the cosines %.9g (b = %g)", what, st.bce, bce_sum, b);
    th_check(t, fabs(st.ce - ref.ce_sum) <= 1e-4 * fabs(ref.ce_sum) + 1e-5 * NB,
             "%s: CE sum %.9g, reference %.9g", what, st.ce, ref.ce_sum);
    th_check(t, fabs(st.bce - ref.bce_sum) <= 1e-4 * fabs(ref.bce_sum) + 1e-5 * NB,
             "%s: BCE sum %.9g, reference %.9g", what, st.bce, ref.bce_sum);
    th_check(t, st.count == NB && st.first_bad == -1, "%s: count %g, first bad %d", what, st.count,
             st.first_bad);

    /* ---- the input gradient ---- */
    double dx_max = 0;
    for (size_t i = 0; i < nx; i++) dx_max = fmax(dx_max, fabs(dx_ref[i]));
    th_check(t, dx_max > 0, "%s: the reference input gradient is zero", what);
    snprintf(buf, sizeof buf, "%s: dx vs the reference's analytic gradient", what);
    lt_close(t, dx, dx_ref, nx, 1e-4, dx_max, buf);

    /* differences at elements where the reference is smooth over the device step */
    size_t idx[FD_COUNT];
    double fd_ref[FD_COUNT], an_ref[FD_COUNT], fd_dev[FD_COUNT];
    float dx_pick[FD_COUNT];
    int got = 0, tries = 0;
    float *cos_fd = malloc((size_t)NB * K_CLS * sizeof *cos_fd);
    nn_probe_out pf = {NULL, cos_fd, NULL};
    while (got < FD_COUNT && tries++ < 400) {
        const size_t e = (size_t)(th_uniform(&r) * (double)nx) % nx;
        int dup = 0;
        for (int j = 0; j < got; j++) dup |= idx[j] == e;
        if (dup) continue;
        /* the element in the device layout of the reference */
        const size_t i = e / per, rest = e % per, c = rest / ((size_t)H_IN * W_IN);
        const size_t p = rest % ((size_t)H_IN * W_IN);
        double *v = &net.x[(c * NB + i) * H_IN * W_IN + p];
        const double keep = *v;
        /* the device's step, exactly as the fp32 inputs carry it */
        const float up = (float)(keep + FD_DEV_EPS), down = (float)(keep - FD_DEV_EPS);
        *v = up;
        const double lu = ref_eval(&net, w, b, labels, bce, NULL).loss;
        *v = down;
        const double ld = ref_eval(&net, w, b, labels, bce, NULL).loss;
        const double coarse = (lu - ld) / ((double)up - down);
        *v = keep + FD_REF_EPS;
        const double fu = ref_eval(&net, w, b, labels, bce, NULL).loss;
        *v = keep - FD_REF_EPS;
        const double fdn = ref_eval(&net, w, b, labels, bce, NULL).loss;
        *v = keep;
        const double fine = (fu - fdn) / (2 * FD_REF_EPS);
        /* a kink or a pooling tie inside the step: the coarse difference strays */
        if (fabs(coarse - fine) > 2e-3 * (fabs(fine) + dx_max)) continue;
        x[e] = up;
        th_ok(t, nn_probe_batch(m, x, labels, NB, 2, &pf), "probe +step");
        const double du = mean_loss(cos_fd, labels, NB, bce, b);
        x[e] = down;
        th_ok(t, nn_probe_batch(m, x, labels, NB, 2, &pf), "probe -step");
        const double dd = mean_loss(cos_fd, labels, NB, bce, b);
        x[e] = (float)keep;
        idx[got] = e, fd_ref[got] = fine, an_ref[got] = dx_ref[e], dx_pick[got] = dx[e];
        fd_dev[got] = (du - dd) / ((double)up - down);
        got++;
    }
    ref_eval(&net, w, b, labels, bce, NULL);
    th_check(t, got == FD_COUNT, "%s: only %d smooth elements for differences", what, got);
    snprintf(buf, sizeof buf, "%s: reference dx vs its finite differences", what);
    lt_close_d(t, an_ref, fd_ref, (size_t)got, 1e-6, dx_max, buf);
    snprintf(buf, sizeof buf, "%s: dx vs the reference's finite differences", what);
    lt_close(t, dx_pick, fd_ref, (size_t)got, 1e-4, dx_max, buf);
    {
        double worst = 0;
        int bad = 0;
        for (int j = 0; j < got; j++) {
            const double e = fabs(dx_pick[j] - fd_dev[j]) / (FD_DEV_TOL * (fabs(dx_pick[j]) + dx_max));
            bad += !(e <= 1);
            worst = fmax(worst, e);
        }
        if (getenv("GAMMACL_TEST_VERBOSE"))
            printf("  %s: dx vs fp32 differences of the device loss (step %g): worst %.3g of the "
                   "tolerance %g (%d elements tried for %d)\n", what, FD_DEV_EPS, worst, FD_DEV_TOL,
                   tries, got);
        th_check(t, bad == 0, "%s: dx vs fp32 differences of the device loss: %d of %d out of "
                 "tolerance, worst %.3g of it", what, bad, got, worst);
    }

    /* ---- samples are independent ---- */
    float *hn1 = malloc((size_t)d * sizeof *hn1), *cos1 = malloc(K_CLS * sizeof *cos1);
    float *dx1 = malloc(per * sizeof *dx1);
    double worst_cos = 0, worst_hn = 0, worst_dx = 0;
    for (int i = 0; i < NB; i++) {
        nn_probe_out p1 = {hn1, cos1, dx1};
        snprintf(buf, sizeof buf, "%s: probe sample %d alone", what, i);
        if (!th_ok(t, nn_probe_batch(m, x + (size_t)i * per, &labels[i], 1, 0, &p1), buf)) break;
        for (int k = 0; k < K_CLS; k++)
            worst_cos = fmax(worst_cos, fabs(cos1[k] - cos[(size_t)i * K_CLS + k]));
        for (int j = 0; j < d; j++) worst_hn = fmax(worst_hn, fabs(hn1[j] - hn[(size_t)i * d + j]));
        /* alone, the mean is over one sample: N times the batch's share */
        for (size_t j = 0; j < per; j++)
            worst_dx = fmax(worst_dx, fabs(dx1[j] - NB * (double)dx[(size_t)i * per + j]));
    }
    th_check(t, worst_cos <= 1e-5, "%s: cosines alone vs in the batch differ by %.3g", what, worst_cos);
    th_check(t, worst_hn <= 1e-5, "%s: features alone vs in the batch differ by %.3g", what, worst_hn);
    th_check(t, worst_dx <= 1e-4 * NB * dx_max, "%s: dx alone vs N x batch share differ by %.3g "
             "(max |N dx| %.3g)", what, worst_dx, NB * dx_max);
    if (getenv("GAMMACL_TEST_VERBOSE"))
        printf("  %s: alone vs batch: cos %.3g, hn %.3g, dx %.3g\n", what, worst_cos, worst_hn,
               worst_dx / (NB * dx_max));

    /* ---- no state changed ---- */
    th_ok(t, nn_model_export(m, &after), "export the state after");
    check_state_same(t, &before, &after, what);

    /* ---- errors ---- */
    snprintf(buf, sizeof buf, "%s: n = 0", what);
    expect_fail(t, nn_probe_batch(m, x, labels, 0, 0, &po), "probe batch", buf);
    snprintf(buf, sizeof buf, "%s: n above the batch", what);
    expect_fail(t, nn_probe_batch(m, x, labels, NB + 1, 0, &po), "probe batch", buf);
    snprintf(buf, sizeof buf, "%s: slot not reserved", what);
    expect_fail(t, nn_probe_batch(m, x, labels, NB, 3, &po), "slot", buf);
    {
        int32_t bad_labels[NB];
        memcpy(bad_labels, labels, sizeof bad_labels);
        bad_labels[2] = K_CLS;
        snprintf(buf, sizeof buf, "%s: label out of range", what);
        expect_fail(t, nn_probe_batch(m, x, bad_labels, NB, 0, &po), "label", buf);
    }
    nn_model *m0 = NULL;
    nn_config cfg0 = cfg;
    cfg0.input_grad = 0;
    if (th_ok(t, nn_model_create(t->rt, &cfg0, &m0), "model without input_grad")) {
        snprintf(buf, sizeof buf, "%s: dx without input_grad", what);
        expect_fail(t, nn_probe_batch(m0, x, labels, NB, 0, &po), "input_grad", buf);
        nn_probe_out pc = {NULL, cos_fd, NULL};
        snprintf(buf, sizeof buf, "%s: cosines without input_grad", what);
        th_ok(t, nn_probe_batch(m0, x, labels, NB, 0, &pc), buf);
        nn_model_free(m0);
    }

    nn_ckpt_free(&before), nn_ckpt_free(&after);
    free(w), free(xh), free(x), free(hn), free(cos), free(dx), free(dh), free(dx_ref);
    free(hn_ref), free(wn_ref), free(cos_ref), free(cos_dev), free(wraw), free(wnorm);
    free(wnorm_only), free(cos_fd), free(hn1), free(cos1), free(dx1);
    nn_model_free(m);
out_net:
    ref_net_free(&net);
}

static void body(th *t)
{
    probe_case(t, 0, 301);
    probe_case(t, 1, 302);
}

int main(void) { return th_run("layers/probe", body, 0); }
