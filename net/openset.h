/* net/openset.h — open-set recognition figures on the host (science.md §6): AUROC of telling
 * known from unknown samples by a score, and OSCR. Pure double-precision host code, no device.
 *
 * Scores are compared as doubles; a NaN score counts as the lowest score (and equal to any other
 * NaN). Both functions return NaN when either side is empty, or when out of memory.
 */
#ifndef GAMMACL_OPENSET_H
#define GAMMACL_OPENSET_H

/* AUROC of telling known from unknown samples by a score (higher = more known): the exact
 * rank statistic P(s_known > s_unknown) + 0.5 P(equal), in O((n+m) log(n+m)); NaN when either
 * side is empty. */
double nn_auroc(const double *known, int n, const double *unknown, int m);

/* OSCR (Dhamija et al. 2018): the area under the curve of correct classification rate (known
 * samples correctly classified AND scored above the threshold, over all known) against false
 * positive rate (unknown samples scored above the threshold, over all unknown), as the threshold
 * sweeps the scores; ties handled consistently with nn_auroc (a tied block moves both rates at
 * once, trapezoid). correct[i] is 1 when known sample i is classified right. NaN when a side is empty. */
double nn_oscr(const double *known, const int *correct, int n, const double *unknown, int m);

#endif
