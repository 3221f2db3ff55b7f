/* tests/layers/test_step.c — one whole training step (nn_train_step) and one evaluation batch
 * (nn_eval_batch) against the double reference, on every device and kernel style.
 *
 * A small uint8 data set is uploaded with per-channel mean and std; a permuted order is set and a
 * batch taken from the middle of it. The step must gather and standardize exactly those samples
 * ("x"), run conv-bn-relu-maxpool-conv-bn-relu-gap-linear in train mode, the normalized head with
 * both losses (statistics slot: CE and BCE sums, correct count, sample count), back-propagate the
 * trained loss and take an SGD step (momentum, weight decay on conv/linear/head weights only):
 * every parameter's update, the BN running statistics and, in a BCE run, the bias update are
 * compared with the reference. Then an evaluation batch with the updated model (running
 * statistics) must give the reference's CE, BCE and accuracy. CE and BCE runs, gamma 4.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"

#define COUNT 11
#define C 2
#define H 7
#define W 7
#define K 3
#define FEAT 6                 /* the feature dimension: the last linear layer's output */
#define FIRST 3
#define BATCH 5
#define EVAL_BATCH 6
#define LR 0.1f
#define MOMENTUM 0.9f
#define DECAY 0.01f

typedef struct data {
    uint8_t px[COUNT * C * H * W];
    int32_t labels[COUNT];
    float mean[C], std[C];
    int32_t order[COUNT];
} data;

/* the standardized batch [first, first + n) of the order, C x N x H x W, as the device computes it */
static void gather(const data *d, int first, int n, double *x, int32_t *labels)
{
    for (int i = 0; i < n; i++) {
        const int idx = d->order[first + i];
        labels[i] = d->labels[idx];
        for (int c = 0; c < C; c++) {
            const float inv = 1.0f / d->std[c];
            for (int p = 0; p < H * W; p++)
                x[((size_t)c * n + i) * H * W + p] =
                    ((float)d->px[((size_t)idx * C + c) * H * W + p] - d->mean[c]) * inv;
        }
    }
}

static void build(ref_net *net, int n)
{
    ref_net_init(net, C, H, W, n);
    ref_add(net, REF_CONV, NULL, REF_PREV, 4, 3, 1, 1);
    ref_add(net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(net, REF_MAXPOOL, NULL, REF_PREV, 2, 0, 0, 0);
    ref_add(net, REF_CONV, NULL, REF_PREV, 5, 3, 2, 1);
    ref_add(net, REF_BN, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(net, REF_RELU, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(net, REF_GAP, NULL, REF_PREV, 0, 0, 0, 0);
    ref_add(net, REF_LINEAR, NULL, REF_PREV, FEAT, 0, 0, 0);
}

static void check_stats(th *t, nn_model *m, int slot, const ref_head_result *ref, int n, const char *what)
{
    nn_stats st;
    if (!th_ok(t, nn_stats_sum(m, slot, 1, &st), "statistics")) return;
    th_check(t, fabs(st.ce - ref->ce_sum) <= 2e-5 * fabs(ref->ce_sum) + 1e-6 * n,
             "%s: CE sum %.9g, want %.9g", what, st.ce, ref->ce_sum);
    th_check(t, fabs(st.bce - ref->bce_sum) <= 2e-5 * fabs(ref->bce_sum) + 1e-6 * n,
             "%s: BCE sum %.9g, want %.9g", what, st.bce, ref->bce_sum);
    th_check(t, st.correct == ref->correct && st.count == n, "%s: %g of %g correct, want %d of %d",
             what, st.correct, st.count, ref->correct, n);
}

static void step_case(th *t, nn_loss loss, uint64_t seed)
{
    const int bce = loss == NN_LOSS_BCE;
    char what[96], buf[200];
    snprintf(what, sizeof what, "train step (%s)", bce ? "BCE" : "CE");
    th_rng r = {seed};
    data *d = calloc(1, sizeof *d);
    for (size_t i = 0; i < sizeof d->px; i++) d->px[i] = (uint8_t)(th_uniform(&r) * 256);
    for (int i = 0; i < COUNT; i++) d->labels[i] = (int32_t)(th_uniform(&r) * K) % K;
    d->mean[0] = 110.5f, d->mean[1] = 131.25f, d->std[0] = 61.0f, d->std[1] = 80.0f;
    nn_shuffle(seed, 5, d->order, COUNT);

    ref_net net;
    build(&net, BATCH);
    char spec[1024], err[128];
    if (!th_check(t, ref_net_finish(&net, err, sizeof err) == 0, "%s", err)) return;
    lt_randomize(&net, &r);
    ref_net_spec(&net, spec, sizeof spec);
    nn_config cfg = {.spec = spec, .in_c = C, .in_h = H, .in_w = W, .classes = K, .max_batch = 8,
                     .loss = loss, .gamma = 4.0f, .bias_init = 1.25f, .seed = seed,
                     .momentum = MOMENTUM, .weight_decay = DECAY};
    nn_model *m = NULL;
    nn_data *dd = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what) ||
        !th_ok(t, nn_data_upload(t->rt, d->px, d->labels, COUNT, C, H, W, d->mean, d->std, &dd), what) ||
        !th_ok(t, nn_stats_reserve(m, 2), what))
        goto done;
    ref_param ps[32];
    const int np = ref_params(&net, ps, 32);
    for (int i = 0; i < np; i++) lt_write(t, m, ps[i].name, BATCH, ps[i].v, ps[i].n);
    const int dfeat = FEAT;
    double hw[K * FEAT], b = 0;
    for (int i = 0; i < K * dfeat; i++) hw[i] = (float)(2 * th_uniform(&r) - 1);
    lt_write(t, m, "head.w", BATCH, hw, (size_t)K * dfeat);
    float bf = 0;
    th_ok(t, nn_model_bias(m, &bf), "bias");
    b = bf;

    /* the step */
    th_ok(t, nn_data_set_order(t->rt, dd, d->order), "order");
    th_ok(t, nn_train_step(m, dd, FIRST, BATCH, LR, 0), what);
    int32_t labels[BATCH];
    gather(d, FIRST, BATCH, net.x, labels);
    float *x = lt_read(t, m, "x", BATCH, ref_input_size(&net));
    snprintf(buf, sizeof buf, "%s: gathered and standardized batch", what);
    if (x) lt_close(t, x, net.x, ref_input_size(&net), 1e-6, 0, buf);
    free(x);

    ref_forward(&net, 1);
    const size_t nf = ref_node_size(&net, net.n - 1);
    double *dh = malloc(nf * sizeof *dh), dw[K * FEAT], db = 0;
    const ref_head_result ref = ref_head(ref_last(&net)->y, hw, b, labels, BATCH, dfeat, K, 4.0, bce,
                                         dh, dw, &db);
    check_stats(t, m, 0, &ref, BATCH, what);
    ref_backward(&net, dh);

    /* SGD from zero momentum: m = g + wd p, p -= lr m */
    for (int i = 0; i < np; i++) {
        const int decay = strstr(ps[i].name, ".w") != NULL;
        double *want = malloc(ps[i].n * sizeof *want), *delta = malloc(ps[i].n * sizeof *delta);
        float *got = lt_read(t, m, ps[i].name, BATCH, ps[i].n);
        if (ps[i].g) {
            for (size_t j = 0; j < ps[i].n; j++) {
                delta[j] = -(double)LR * (ps[i].g[j] + (decay ? (double)DECAY * ps[i].v[j] : 0.0));
                want[j] = ps[i].v[j] + delta[j];
            }
        } else {
            /* running statistics: the update of one training forward */
            const int node = (int)(strchr(ps[i].name, '.') - ps[i].name);
            int k = 0;
            while (k < net.n && strncmp(net.nodes[k].name, ps[i].name, (size_t)node) != 0) k++;
            double *mean = malloc(ps[i].n * sizeof *mean), *var = malloc(ps[i].n * sizeof *var);
            ref_bn_running_after(&net, k, mean, var);
            memcpy(want, strstr(ps[i].name, "mean") ? mean : var, ps[i].n * sizeof *want);
            for (size_t j = 0; j < ps[i].n; j++) delta[j] = want[j] - ps[i].v[j];
            free(mean), free(var);
        }
        if (got) {
            /* compare the update itself: got - old vs the reference's update */
            float *gd = malloc(ps[i].n * sizeof *gd);
            for (size_t j = 0; j < ps[i].n; j++) gd[j] = (float)((double)got[j] - ps[i].v[j]);
            snprintf(buf, sizeof buf, "%s: update of %s", what, ps[i].name);
            lt_close(t, gd, delta, ps[i].n, 1e-4, 0, buf);
            free(gd);
        }
        for (size_t j = 0; j < ps[i].n; j++) ps[i].v[j] = got ? got[j] : want[j];
        free(want), free(delta), free(got);
    }
    double dhw[K * FEAT];
    for (int i = 0; i < K * dfeat; i++) dhw[i] = -(double)LR * (dw[i] + (double)DECAY * hw[i]);
    float *gw = lt_read(t, m, "head.w", BATCH, (size_t)K * dfeat);
    if (gw) {
        float gd[K * FEAT];
        for (int i = 0; i < K * dfeat; i++) gd[i] = (float)((double)gw[i] - hw[i]), hw[i] = gw[i];
        snprintf(buf, sizeof buf, "%s: update of head.w", what);
        lt_close(t, gd, dhw, (size_t)K * dfeat, 1e-4, 0, buf);
    }
    free(gw);
    float b1 = 0;
    th_ok(t, nn_model_bias(m, &b1), "bias");
    const double bwant = bce ? b - (double)LR * db : b;
    th_check(t, fabs(b1 - bwant) <= 1e-4 * fabs(b - bwant) + 1e-6 * fabs(b),
             "%s: bias after the step %.9g, want %.9g (before %.9g)", what, b1, bwant, b);

    /* an evaluation batch with the updated model: the first samples of the order */
    ref_net ev;
    build(&ev, EVAL_BATCH);
    if (th_check(t, ref_net_finish(&ev, err, sizeof err) == 0, "%s", err)) {
        ref_param pe[32];
        ref_params(&ev, pe, 32);
        for (int i = 0; i < np; i++) memcpy(pe[i].v, ps[i].v, ps[i].n * sizeof(double));
        int32_t el[EVAL_BATCH];
        gather(d, 0, EVAL_BATCH, ev.x, el);
        ref_forward(&ev, 0);
        const ref_head_result er = ref_head(ref_last(&ev)->y, hw, b1, el, EVAL_BATCH, dfeat, K, 4.0, bce,
                                            NULL, NULL, NULL);
        th_ok(t, nn_eval_batch(m, dd, 0, EVAL_BATCH, 1), "eval batch");
        snprintf(buf, sizeof buf, "%s, then an eval batch", what);
        check_stats(t, m, 1, &er, EVAL_BATCH, buf);
        ref_net_free(&ev);
    }
    free(dh);
done:
    nn_data_free(t->rt, dd);
    nn_model_free(m);
    ref_net_free(&net);
    free(d);
}

static void body(th *t)
{
    step_case(t, NN_LOSS_CE, 31);
    step_case(t, NN_LOSS_BCE, 32);
}

int main(void) { return th_run("layers/step", body, 1); }
