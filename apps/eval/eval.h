/* apps/eval/eval.h — `gammacl eval`: a trained model on the clean test set and under small,
 * seeded disturbances (science.md §5), reporting test accuracy and the flip rate (the fraction of
 * test samples whose predicted class changes from the clean prediction) for each:
 *   input noise    Gaussian, sigma in pixel levels (k/255 of the raw range), added to the raw
 *                  pixels before standardization, clipped to [0, 255];
 *   feature noise  hn + sigma z, z ~ N(0, I/d) (so the noise has length ~sigma), renormalized; cosines with the
 *                  normalized class weights on the host in double precision (the clean
 *                  reference prediction is computed the same way);
 *   weight noise   each normalized class weight wn_k + sigma z_k, z_k ~ N(0, I/d), renormalized:
 *                  the classifier itself disturbed, EV_WEIGHT_DRAWS draws of all K weights, each
 *                  against every clean feature (host, double precision, as feature noise); its
 *                  accuracy and flip rate are over all draws and samples;
 *   FGSM           one step of eps pixel levels along the sign of the gradient of the loss the
 *                  model was trained with (CE, or BCE at its learned bias), clipped to [0, 255];
 * and the fraction of test samples whose cosine margin c_y - max_{k != y} c_k is below 0.05.
 * Noise is drawn per (seed, condition, sample), so results do not depend on the batch size.
 */
#ifndef GAMMACL_EVAL_H
#define GAMMACL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "class_acc.h"

#define EV_MAX_LEVELS 16
#define EV_WEIGHT_DRAWS 8

typedef struct ev_opts {
    char run[1024];            /* a run folder (its model.ckpt; eval.json goes there) */
    char ckpt[1200];           /* or a checkpoint file */
    char data[512];            /* another test set ("" = the run's) */
    char device[128];
    char json[1200];           /* where eval.json goes ("" = RUN/eval.json, or none for --ckpt) */
    char npz[1200];            /* --export FILE.npz ("" = none) */
    double noise[EV_MAX_LEVELS], feature[EV_MAX_LEVELS], weight[EV_MAX_LEVELS], fgsm[EV_MAX_LEVELS];
    int nnoise, nfeature, nweight, nfgsm;
    double margin;             /* the small-margin threshold (0.05) */
    uint64_t seed;
    int batch;
} ev_opts;

typedef struct ev_condition {
    char name[48];             /* input_noise_4, feature_noise_0.05, fgsm_1 */
    const char *kind, *unit;
    double level;
    long correct, flips, trials; /* trials: predictions counted (test samples x draws) */
    double acc, flip_rate;
} ev_condition;

typedef struct ev_result {
    int count, classes, dim, epoch, loss;
    double gamma, bias;
    double clean_acc, small_margin;
    ev_condition cond[4 * EV_MAX_LEVELS];
    int ncond;
    /* kept for the export: n x d features, n x K cosines, labels, clean predictions, K x d weights */
    float *hn, *cos, *w, *wn;
    int32_t *labels, *pred;
    /* per class, and long-tailed groups by training samples: many > n_max/5, few < n_max/25 */
    double *class_acc;         /* K test accuracies */
    int *train_counts;         /* K training samples (the run's training set) */
    int long_tail;             /* the run was trained with --imbalance */
    nn_shot_groups shots;      /* net/class_acc.h: thresholds, classes and accuracy per group */
    /* open set (a --known run): the other classes' test images as unknown */
    int open_set, unknown_count;
    double auroc[4], oscr[4];  /* per score: max cosine, max logit, max sigmoid, max softmax (the
                                  last two ranked by their logarithms) */
} ev_result;

#define EV_SCORES 4
extern const char *const ev_score_names[EV_SCORES];

/* eval.c: loads the model and runs every condition; returns 0 or an exit code after a message. */
int ev_run(const ev_opts *o, ev_result *r, char *device_name, size_t len);
void ev_result_free(ev_result *r);

/* eval_tasks.c: per-class and shot-group accuracy; the open-set scores of one sample's cosines
 * and the AUROC and OSCR of each score (known_scores, unknown_scores: EV_SCORES per sample) */
int ev_class_figures(ev_result *r, const int32_t *train_labels, int train_count, int long_tail);
void ev_open_scores(const float *cos, int K, double gamma, double bias, int bce, double score[EV_SCORES]);
int ev_open_figures(ev_result *r, const double *known_scores, const double *unknown_scores, int unknown);

/* eval_output.c: the table on stdout, eval.json, the .npz export */
void ev_print(const ev_opts *o, const ev_result *r);
int ev_write_json(const char *path, const ev_opts *o, const ev_result *r, const char *device,
                  char *err, size_t errlen);
int ev_write_npz(const char *path, const ev_result *r, char *err, size_t errlen);

#endif
