/* tests/metrics/test_class_acc.c — net/class_acc.c: the per-class counters of evaluation passes
 * on every device against a CPU reference, and the host-side shot groups.
 *
 * Device: a small model (linear, relu, linear) over 61 uploaded samples of K = 7 classes
 * (class 6 has none; about half the samples carry the label the model predicts, so every class
 * present has right and wrong ones), evaluated in batches of 8 (the last one partial) between
 * nn_class_counts_begin and nn_class_counts_end, with a training step in between (which must not
 * count). The reference reads each batch's cosines back ("cos") and counts, per label, the
 * samples and those whose first arg max is the label; the counts must match exactly, and sum to
 * the batch statistics' correct and count. The pass records its predictions too
 * (nn_class_counts_begin_pred): each must be the reference's first arg max, in order, with the
 * training step's batch left out; more samples than the room given is refused. A second begin
 * zeroes the counters; end without begin is refused; an evaluation outside begin .. end adds
 * nothing.
 * Host: nn_class_sizes, nn_class_accuracy (NaN without test samples), nn_shot_group at the
 * boundaries (many > n_max/5, few < n_max/25) and nn_shot_groups_compute's sums and accuracies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_acc.h"
#include "harness.h"
#include "net.h"
#include "testing.h"

enum { N = 61, C = 6, S = 1, K = 7, BATCH = 8, BATCHES = (N + BATCH - 1) / BATCH };

static int first_argmax(const float *c)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (c[k] > c[best]) best = k;
    return best;
}

/* the model's predictions for data d (identity order), by reading the cosines back */
static int predict(th *t, nn_model *m, nn_data *d, int32_t *pred)
{
    float cos[BATCH * K];
    for (int first = 0; first < N; first += BATCH) {
        const int n = N - first < BATCH ? N - first : BATCH;
        if (!th_ok(t, nn_eval_batch(m, d, first, n, 0), "eval batch") ||
            !th_ok(t, nn_test_read(m, "cos", n, cos), "read cos"))
            return -1;
        for (int i = 0; i < n; i++) pred[first + i] = first_argmax(cos + (size_t)i * K);
    }
    return 0;
}

static void device_counts(th *t)
{
    const char *what = "per-class counts";
    th_rng r = {2024};
    uint8_t px[N * C * S * S];
    int32_t labels[N], pred[N];
    for (int i = 0; i < N * C * S * S; i++) px[i] = (uint8_t)(th_uniform(&r) * 256);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)(th_uniform(&r) * (K - 1));
    const float mean[C] = {128, 128, 128, 128, 128, 128}, stdv[C] = {64, 64, 64, 64, 64, 64};
    nn_config cfg = {.spec = "linear 8\nrelu\nlinear 6", .in_c = C, .in_h = S, .in_w = S,
                     .classes = K, .max_batch = BATCH, .loss = NN_LOSS_CE, .gamma = 8, .seed = 5,
                     .momentum = 0.9f};
    nn_model *m = NULL;
    nn_data *d0 = NULL, *d = NULL;
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), what)) return;
    if (!th_ok(t, nn_stats_reserve(m, BATCHES + 2), what) ||
        !th_ok(t, nn_data_upload(t->rt, px, labels, N, C, S, S, mean, stdv, &d0), what) ||
        predict(t, m, d0, pred) != 0)
        goto done;
    /* half the samples get the predicted label (never class 6: it stays empty) */
    for (int i = 0; i < N; i += 2) labels[i] = pred[i] == K - 1 ? 0 : pred[i];
    if (!th_ok(t, nn_data_upload(t->rt, px, labels, N, C, S, S, mean, stdv, &d), what)) goto done;

    th_check(t, nn_class_counts_end(m, (int32_t[K]){0}, (int32_t[K]){0}) != RT_OK,
             "%s: end without begin must be refused", what);
    int32_t ref_right[K] = {0}, ref_all[K] = {0}, right[K], all[K], ref_pred[N], got_pred[N + 1];
    float cos[BATCH * K];
    for (int i = 0; i <= N; i++) got_pred[i] = -1;
    th_ok(t, nn_class_counts_begin_pred(m, got_pred, N), what);
    for (int b = 0; b < BATCHES; b++) {
        const int first = b * BATCH, n = N - first < BATCH ? N - first : BATCH;
        if (!th_ok(t, nn_eval_batch(m, d, first, n, b), "eval batch") ||
            !th_ok(t, nn_test_read(m, "cos", n, cos), "read cos"))
            goto done;
        for (int i = 0; i < n; i++) {
            const int y = labels[first + i];
            ref_all[y]++;
            ref_pred[first + i] = first_argmax(cos + (size_t)i * K);
            ref_right[y] += ref_pred[first + i] == y;
        }
        /* a training step in the middle of the pass is not counted */
        if (b == 3) th_ok(t, nn_train_step(m, d, 0, BATCH, 0.05f, BATCHES), "training step");
    }
    if (!th_ok(t, nn_class_counts_end(m, right, all), what)) goto done;
    nn_stats st;
    th_ok(t, nn_stats_sum(m, 0, BATCHES, &st), "statistics");
    long sum_right = 0, sum_all = 0;
    int mixed = 0;
    for (int k = 0; k < K; k++) {
        th_check(t, right[k] == ref_right[k] && all[k] == ref_all[k],
                 "%s: class %d: %d of %d right, the reference %d of %d", what, k, right[k], all[k],
                 ref_right[k], ref_all[k]);
        sum_right += right[k], sum_all += all[k];
        mixed += ref_right[k] > 0 && ref_right[k] < ref_all[k];
    }
    th_check(t, all[K - 1] == 0, "%s: class %d has no sample but counts %d", what, K - 1, all[K - 1]);
    int pred_ok = got_pred[N] == -1, kinds = 0;
    for (int i = 0; i < N; i++) pred_ok &= got_pred[i] == ref_pred[i];
    for (int k = 0; k < K; k++)
        for (int i = 0; i < N; i++)
            if (ref_pred[i] == k) { kinds++; break; }
    th_check(t, pred_ok, "%s: the recorded predictions differ from the cosines' first arg max", what);
    th_check(t, kinds >= 2, "%s: the model predicts %d class (a weak test)", what, kinds);
    th_ok(t, nn_class_counts_begin_pred(m, got_pred, BATCH - 1), what);
    th_check(t, nn_eval_batch(m, d, 0, BATCH, 0) != RT_OK,
             "%s: a batch of %d with room for %d predictions must be refused", what, BATCH, BATCH - 1);
    th_ok(t, nn_class_counts_end(m, right, all), what);
    th_check(t, mixed >= 3, "%s: only %d classes have both right and wrong samples (a weak test)", what, mixed);
    th_check(t, sum_right == (long)st.correct && sum_all == (long)st.count && sum_all == N,
             "%s: the counts sum to %ld of %ld, the statistics %g of %g (N = %d)", what, sum_right,
             sum_all, st.correct, st.count, N);

    /* begin zeroes; evaluations outside begin .. end add nothing */
    th_ok(t, nn_eval_batch(m, d, 0, BATCH, 0), "eval batch outside");
    th_ok(t, nn_class_counts_begin(m), what);
    th_ok(t, nn_class_counts_end(m, right, all), what);
    int zero = 1;
    for (int k = 0; k < K; k++) zero &= right[k] == 0 && all[k] == 0;
    th_check(t, zero, "%s: a new begin must start from zero", what);
    th_ok(t, nn_eval_batch(m, d, 0, BATCH, 0), "eval batch outside");
    th_ok(t, nn_class_counts_begin(m), what);
    th_ok(t, nn_eval_batch(m, d, 0, BATCH, 0), "eval batch inside");
    th_ok(t, nn_class_counts_end(m, right, all), what);
    long n8 = 0;
    for (int k = 0; k < K; k++) n8 += all[k];
    th_check(t, n8 == BATCH, "%s: one batch of %d inside begin .. end counted %ld samples", what, BATCH, n8);
done:
    nn_data_free(t->rt, d0);
    nn_data_free(t->rt, d);
    nn_model_free(m);
}

static void host_groups(th *t)
{
    /* n_max 500: many > 100, few < 20 */
    const int32_t train_labels[] = {0, 0, 1, 3, 9, -1, 2, 0};
    int sizes[4];
    nn_class_sizes(train_labels, 8, 4, sizes);
    th_check(t, sizes[0] == 3 && sizes[1] == 1 && sizes[2] == 1 && sizes[3] == 1,
             "nn_class_sizes: %d %d %d %d, want 3 1 1 1 (labels outside [0, K) left out)", sizes[0],
             sizes[1], sizes[2], sizes[3]);
    enum { G = 7 };
    const int counts[G] = {500, 101, 100, 20, 19, 0, 250};
    const int32_t right[G] = {9, 4, 3, 2, 1, 0, 0}, all[G] = {10, 10, 10, 10, 10, 10, 0};
    double acc[G];
    nn_class_accuracy(right, all, G, acc);
    th_check(t, acc[0] == 0.9 && acc[4] == 0.1 && acc[5] == 0 && isnan(acc[6]),
             "nn_class_accuracy: %g %g %g %g, want 0.9 0.1 0 NaN", acc[0], acc[4], acc[5], acc[6]);
    nn_shot_groups g;
    nn_shot_groups_compute(counts, right, all, G, &g);
    th_check(t, g.n_max == 500 && g.many_above == 100 && g.few_below == 20,
             "shot thresholds: n_max %d, many > %g, few < %g; want 500, 100, 20", g.n_max, g.many_above,
             g.few_below);
    const int want_group[G] = {NN_SHOT_MANY, NN_SHOT_MANY, NN_SHOT_MEDIUM, NN_SHOT_MEDIUM, NN_SHOT_FEW,
                               NN_SHOT_FEW, NN_SHOT_MANY};
    for (int k = 0; k < G; k++)
        th_check(t, nn_shot_group(&g, counts[k]) == want_group[k], "class with %d training samples: "
                 "group %s, want %s", counts[k], nn_shot_names[nn_shot_group(&g, counts[k])],
                 nn_shot_names[want_group[k]]);
    /* many: classes 0, 1, 6 (13 of 20 test samples); medium: 2, 3 (5 of 20); few: 4, 5 (1 of 20) */
    th_check(t, g.classes[0] == 3 && g.classes[1] == 2 && g.classes[2] == 2,
             "shot classes %d %d %d, want 3 2 2", g.classes[0], g.classes[1], g.classes[2]);
    th_check(t, g.correct[0] == 13 && g.count[0] == 20 && fabs(g.acc[0] - 0.65) < 1e-15 &&
                    fabs(g.acc[1] - 0.25) < 1e-15 && fabs(g.acc[2] - 0.05) < 1e-15,
             "shot accuracies %g %g %g, want 0.65 0.25 0.05", g.acc[0], g.acc[1], g.acc[2]);
    const int32_t none[G] = {0};
    nn_shot_groups_compute(counts, none, none, G, &g);
    th_check(t, isnan(g.acc[0]) && isnan(g.acc[1]) && isnan(g.acc[2]),
             "groups without test samples: acc %g %g %g, want NaN", g.acc[0], g.acc[1], g.acc[2]);
}

static void body(th *t)
{
    device_counts(t);
    host_groups(t);
}

int main(void) { return th_run("metrics/class_acc", body, 0); }
