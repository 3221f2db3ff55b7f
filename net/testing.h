/* net/testing.h — hooks for tests and bench: drive a model's layers or its head directly, and
 * read or write any tensor by name. Not used by training.
 *
 * Tensor names: a parameter ("conv1.w", "bn1.gamma", "bn1.running_mean", "head.w", "head.b"),
 * its gradient ("conv1.w.grad"), a layer's output or output gradient ("relu2.y", "relu2.dy"),
 * "x" (the input batch), "x.grad" (its gradient; needs cfg.input_grad), "cos" (N x K cosines),
 * "dcos" (their gradient). Activations use the layout C x N x H x W of the current batch.
 */
#ifndef GAMMACL_TESTING_H
#define GAMMACL_TESTING_H

#include "net.h"

/* Uploads x (C x N x H x W) and runs every layer forward. */
rt_status nn_test_forward(nn_model *m, const float *x, int batch, int train);
/* Sets the last layer's output gradient and runs every layer backward (no optimizer step). */
rt_status nn_test_backward(nn_model *m, const float *dy_last, int batch);
/* Sets the feature (the last layer's output, d x N) and labels, runs the head forward (both
 * losses into statistics slot 0) and, with want_grad, its backward: then "<last>.dy" holds the
 * feature gradient and "head.w.grad", "head.b.grad" the head's. */
rt_status nn_test_head(nn_model *m, const float *feature, const int32_t *labels, int batch,
                       int want_grad);
/* Gathers batch [first, first + n) of d's current order as a training step (augment 1, with d's
 * augmentation) or an evaluation (0) does, and reads it back: x (C x N x H x W), labels (n). */
rt_status nn_test_gather(nn_model *m, nn_data *d, int first, int n, int augment, float *x,
                         int32_t *labels);
/* One optimizer step at learning rate lr over the current gradients: in one launch over the
 * packed tensors, or (each = 1) a launch per tensor, the way a model too large to pack steps. */
rt_status nn_test_sgd(nn_model *m, float lr);
rt_status nn_test_sgd_each(nn_model *m, float lr);
/* 1 when the trainable tensors are packed into one buffer each (one SGD launch steps them) */
int nn_test_packed(const nn_model *m);
/* Number of floats of a named tensor for this batch (0 if unknown). */
size_t nn_test_size(nn_model *m, const char *name, int batch);
rt_status nn_test_read(nn_model *m, const char *name, int batch, float *out);
rt_status nn_test_write(nn_model *m, const char *name, int batch, const float *in);
/* 0 for a layer output the model never stores (a batch norm that computes the max-pool after
 * it, net/model.c), 1 for any other tensor that exists, -1 for a name that names none */
int nn_test_stored(nn_model *m, const char *name);
/* How many layers write their output straight into a convolution's padded input (net/model.c;
 * which convolutions get their dy padded by the layer after them depends on the tuning too) */
int nn_test_lent_outputs(const nn_model *m);
/* The label of the last layer (its ".y" is the feature). */
const char *nn_test_last_label(const nn_model *m);

#endif
