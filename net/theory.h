/* net/theory.h — closed forms of the CE and BCE minima in normalized space (science.md §2-§3).
 *
 * Balanced classes, K classes, features and class weights on the unit sphere, scale gamma > 0.
 * At the minimum every feature sits on its class weight and the weights form a simplex ETF
 * (cosines -1/(K-1)). BCE uses one shared bias b subtracted from every logit: s = gamma*cos - b.
 * Plain C in double precision; no device.
 */
#ifndef GAMMACL_THEORY_H
#define GAMMACL_THEORY_H

/* L*_CE = log(1 + (K-1) exp(-gamma K/(K-1))), computed without cancellation for large gamma. */
double nn_theory_ce_min(double gamma, int K);
/* The BCE loss at the ETF for a given shared bias b: softplus(b - gamma) + (K-1) softplus(-gamma/(K-1) - b). */
double nn_theory_bce_at(double gamma, int K, double b);
/* The optimal shared bias b*(gamma, K) (closed form of science.md §2). */
double nn_theory_bce_bias(double gamma, int K);
/* L*_BCE = nn_theory_bce_at(gamma, K, b*). */
double nn_theory_bce_min(double gamma, int K);
/* The critical gamma where b*(gamma) = gamma (below it the optimal positive logit is negative). */
double nn_theory_critical_gamma(int K);
/* Upper bounds on ||dL/dc|| for one sample classified with cosine margin delta = c_y - max c_k:
 * CE: 2 gamma (K-1) e^{-gamma delta};  BCE (threshold t = b/gamma, positive cosine c_y, largest
 * negative cosine c_n): gamma (e^{-gamma (c_y - t)} + (K-1) e^{gamma (c_n - t)}). */
double nn_theory_ce_grad_bound(double gamma, int K, double delta);
double nn_theory_bce_grad_bound(double gamma, int K, double b, double c_pos, double c_neg);

/* Leading-order asymptotic forms of the minima (science.md §2), for checks and reports.
 * Small gamma:  L*_CE ~ log K - gamma,  b* -> log(K-1),
 *               L*_BCE ~ log K + (K-1) log(K/(K-1)) - gamma.
 * Large gamma:  L*_CE ~ (K-1) e^{-gamma K/(K-1)},  b* ~ gamma (K-2)/(2(K-1)) + log(K-1)/2,
 *               L*_BCE ~ 2 sqrt(K-1) e^{-gamma K/(2(K-1))}. */
double nn_theory_ce_min_small(double gamma, int K);
double nn_theory_ce_min_large(double gamma, int K);
double nn_theory_bce_bias_small(double gamma, int K);
double nn_theory_bce_bias_large(double gamma, int K);
double nn_theory_bce_min_small(double gamma, int K);
double nn_theory_bce_min_large(double gamma, int K);

/* Every function returns NaN for K < 2 or a gamma that is negative, infinite or NaN (gamma = 0
 * gives the limits above). The critical gamma is 0 for K = 2, where b* = 0 for every gamma. */

#endif
