/* apps/eval/eval_tasks.c — the long-tailed and open-set figures of `gammacl eval`: per-class
 * test accuracy and its many-, medium- and few-shot groups (science.md §6: CIFAR-100-LT's 100 and
 * 20 of n_max 500, scaled to the run's own largest class), and the open-set scores of a sample
 * (max cosine, max logit, and the logarithms of max sigmoid and max softmax: the same ranks) whose
 * AUROC and OSCR tell known from unknown. */
#include <math.h>
#include <stdlib.h>

#include "eval.h"
#include "openset.h"

const char *const ev_score_names[EV_SCORES] = {"max_cosine", "max_logit", "max_sigmoid", "max_softmax"};

int ev_class_figures(ev_result *r, const int32_t *train_labels, int train_count, int long_tail)
{
    const int K = r->classes;
    int32_t *right = calloc((size_t)K, sizeof *right), *all = calloc((size_t)K, sizeof *all);
    if (!right || !all || !r->class_acc || !r->train_counts) {
        free(right), free(all);
        return -1;
    }
    for (int i = 0; i < r->count; i++) {
        all[r->labels[i]]++;
        right[r->labels[i]] += r->pred[i] == r->labels[i];
    }
    /* the grouping of `gammacl train`'s summary.json and metrics.csv (net/class_acc.h) */
    nn_class_sizes(train_labels, train_count, K, r->train_counts);
    nn_class_accuracy(right, all, K, r->class_acc);
    r->long_tail = long_tail;
    nn_shot_groups_compute(r->train_counts, right, all, K, &r->shots);
    free(right), free(all);
    return 0;
}

void ev_open_scores(const float *cos, int K, double gamma, double bias, int bce, double score[EV_SCORES])
{
    double m = -INFINITY;
    for (int k = 0; k < K; k++) m = fmax(m, cos[k]);
    const double logit = gamma * m - (bce ? bias : 0);
    double z = 0;
    for (int k = 0; k < K; k++) z += exp(gamma * (cos[k] - m));
    /* the logarithms of the sigmoid and the softmax: the same order, without saturating at 1
     * (1 / (1 + e^-x) is exactly 1.0 in double past x ~ 37, which would tie the confident ones) */
    score[0] = m;
    score[1] = logit;
    score[2] = logit > 0 ? -log1p(exp(-logit)) : logit - log1p(exp(logit));
    score[3] = -log(z); /* z = sum_k e^(gamma (c_k - m)) >= 1, its top term exactly 1 */
}

int ev_open_figures(ev_result *r, const double *known_scores, const double *unknown_scores, int unknown)
{
    double *k = malloc((size_t)r->count * sizeof *k), *u = malloc((size_t)(unknown ? unknown : 1) * sizeof *u);
    int *correct = malloc((size_t)r->count * sizeof *correct);
    if (!k || !u || !correct) {
        free(k), free(u), free(correct);
        return -1;
    }
    for (int i = 0; i < r->count; i++) correct[i] = r->pred[i] == r->labels[i];
    r->open_set = 1, r->unknown_count = unknown;
    for (int s = 0; s < EV_SCORES; s++) {
        for (int i = 0; i < r->count; i++) k[i] = known_scores[(size_t)i * EV_SCORES + s];
        for (int i = 0; i < unknown; i++) u[i] = unknown_scores[(size_t)i * EV_SCORES + s];
        r->auroc[s] = nn_auroc(k, r->count, u, unknown);
        r->oscr[s] = nn_oscr(k, correct, r->count, u, unknown);
    }
    free(k), free(u), free(correct);
    return 0;
}
