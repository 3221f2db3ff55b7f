/* net/probe.h — running a trained model on inputs the host supplies: what robustness studies
 * need (disturbed inputs, features read back, gradients with respect to the input image).
 *
 * Everything runs in evaluation mode (batch norm uses its running statistics), so each sample's
 * result depends on that sample alone. Host arrays use the data sets' layout: x is n x C x H x W,
 * already standardized (the model's input, as the gather kernel would make it).
 */
#ifndef GAMMACL_PROBE_H
#define GAMMACL_PROBE_H

#include "net.h"

typedef struct nn_probe_out {
    float *hn;                 /* n x d: the normalized feature the classifier reads (or NULL) */
    float *cos;                /* n x K: cosines c_ik = <hn_i, wn_k> (or NULL) */
    float *dx;                 /* n x C x H x W: gradient of the batch's mean trained loss (CE,
                                  or BCE at the model's bias) with respect to x (or NULL; needs
                                  a model made with cfg.input_grad = 1) */
} nn_probe_out;

/* Runs samples x (n <= the model's batch) with their labels (each in [0, K)); fills what out
 * asks for. Losses and accuracy of the batch go to statistics slot `slot` (reserved by the
 * caller). No parameter changes, no optimizer state changes (asking for dx overwrites the
 * parameter-gradient buffers, which the next training step recomputes before using). */
rt_status nn_probe_batch(nn_model *m, const float *x, const int32_t *labels, int n, int slot,
                         nn_probe_out *out);
/* The class weights, K x d: raw (or NULL) and L2-normalized as the head uses them (or NULL). */
rt_status nn_probe_class_weights(nn_model *m, float *raw, float *normalized);

#endif
