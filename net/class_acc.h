/* net/class_acc.h — per-class accuracy of evaluation passes and the many-, medium- and few-shot
 * groups of a long-tailed training set (science.md §6: CIFAR-100-LT's 100 and 20 of n_max 500,
 * scaled to the set's own largest class).
 *
 * Device counters: between nn_class_counts_begin and nn_class_counts_end, every nn_eval_batch adds,
 * per class k, its samples of label k and how many of them the model predicted right (the first
 * arg max of the cosines: the "correct" of the batch statistics, so the counts sum to nn_stats's
 * correct and count). One work-item per class runs through the batch in sample order and adds
 * whole numbers to its own two int32 counters: exact, and the same on every device.
 *
 * Host: the groups by training images per class, n_max the largest class count:
 *   many   n > n_max / 5        medium  otherwise        few   n < n_max / 25
 * and a group's accuracy is over the test samples of its classes (correct / count summed over
 * them; NaN when the group has no test sample).
 */
#ifndef GAMMACL_CLASS_ACC_H
#define GAMMACL_CLASS_ACC_H

#include <stdint.h>

#include "net.h"

/* Zeroes the K per-class counters of m and starts counting evaluation batches. */
rt_status nn_class_counts_begin(nn_model *m);
/* As nn_class_counts_begin, and every nn_eval_batch until nn_class_counts_end also records its
 * samples' predictions (the first arg max of the cosines, the decision the counters count) on
 * the device; nn_class_counts_end reads them into pred, batch after batch in the order they ran
 * (no wait before then). More than capacity of them is an error. */
rt_status nn_class_counts_begin_pred(nn_model *m, int32_t *pred, int capacity);
/* Stops counting, waits for the queue and reads the counters: correct[k] (predicted k, label k)
 * and count[k] (label k), K each. */
rt_status nn_class_counts_end(nn_model *m, int32_t *correct, int32_t *count);

enum { NN_SHOT_MANY = 0, NN_SHOT_MEDIUM = 1, NN_SHOT_FEW = 2, NN_SHOTS = 3 };
extern const char *const nn_shot_names[NN_SHOTS]; /* "many", "medium", "few" */

typedef struct nn_shot_groups {
    int n_max;                 /* training samples of the largest class */
    double many_above, few_below; /* n_max / 5 and n_max / 25 */
    int classes[NN_SHOTS];     /* classes in each group */
    long correct[NN_SHOTS], count[NN_SHOTS]; /* test samples of the group's classes, and right */
    double acc[NN_SHOTS];      /* correct / count, NaN when count is 0 */
} nn_shot_groups;

/* counts[k] = the number of labels[i] == k (labels in [0, K)) */
void nn_class_sizes(const int32_t *labels, int n, int K, int *counts);
/* acc[k] = correct[k] / count[k], NaN where count[k] is 0 */
void nn_class_accuracy(const int32_t *correct, const int32_t *count, int K, double *acc);
/* The group (NN_SHOT_*) of a class with n training samples under g's thresholds. */
int nn_shot_group(const nn_shot_groups *g, int n);
/* Groups the K classes by their training counts and sums the test figures per group. */
void nn_shot_groups_compute(const int *train_counts, const int32_t *correct, const int32_t *count,
                            int K, nn_shot_groups *g);

#endif
