/* tests/layers/ref.h — double-precision reference implementations of the engine's layers and head.
 *
 * A reference network mirrors one model spec: a list of nodes in spec order, each reading the
 * previous node, a named earlier node ("< label") or the model input, with the same layout as the
 * device (activations C x N x H x W, conv weights [Cout][Cin*k*k], linear weights [OUT][IN]). It
 * runs forward (BN in train or eval mode, without touching running statistics), backward for the
 * loss sum(r * y_last) (analytic gradients of the input and of every parameter), writes the spec
 * text the engine parses, and names its tensors as the engine does. The head reference computes
 * normalized cosines, the CE and BCE batch sums, accuracy and the gradients of the trained mean loss.
 * Everything is plain straightforward loops in double precision: slow, obvious, and independent of
 * the engine's code.
 */
#ifndef GAMMACL_TEST_REF_H
#define GAMMACL_TEST_REF_H

#include <stddef.h>
#include <stdint.h>

#define REF_MAX_NODES 24
#define REF_PREV (-2)          /* "from": the previous node (the default) */
#define REF_INPUT (-1)         /* the model input */
#define REF_BN_EPS 1e-5
#define REF_BN_MOMENTUM 0.1

typedef enum { REF_CONV, REF_BN, REF_RELU, REF_MAXPOOL, REF_GAP, REF_ADD, REF_LINEAR } ref_op;

typedef struct ref_shape { int c, h, w; } ref_shape;

typedef struct ref_node {
    ref_op op;
    char label[32];            /* label written in the spec ("" = none) */
    char name[32];             /* the engine's name: the label, or op + running index */
    int from;                  /* input node, REF_INPUT, or REF_PREV before ref_net_finish */
    int second;                /* add: the node it adds */
    int out, k, s, p;          /* conv: OUT, k, s, p; linear: OUT; maxpool: k */
    ref_shape in, shape;       /* input and output shape per sample */
    double *w, *gw;            /* conv / linear weights and their gradient */
    double *gamma, *beta, *rmean, *rvar, *ggamma, *gbeta;  /* bn */
    double *mean, *var;        /* bn: statistics used by the last forward (batch or running) */
    double *y, *dy;            /* output and its gradient, N samples */
} ref_node;

typedef struct ref_net {
    ref_shape in;
    int batch;
    int n;
    int train;                 /* mode of the last forward */
    ref_node nodes[REF_MAX_NODES];
    double *x, *dx;
} ref_net;

/* Building: ref_net_init, then one ref_add per spec line, then ref_net_finish (shapes, names,
 * buffers; returns 0, or -1 with a message for a shape the engine would reject). */
void ref_net_init(ref_net *net, int c, int h, int w, int batch);
/* Appends a node. label may be NULL; from is REF_PREV, REF_INPUT or a node index; a..d are the
 * op's numbers (conv: out, k, s, p; linear: out; maxpool: k; add: the index of the added node). */
int ref_add(ref_net *net, ref_op op, const char *label, int from, int a, int b, int c, int d);
int ref_net_finish(ref_net *net, char *err, size_t errlen);
void ref_net_free(ref_net *net);
/* The spec text for the engine. */
void ref_net_spec(const ref_net *net, char *out, size_t len);
size_t ref_node_size(const ref_net *net, int i);     /* floats of node i's output for the batch */
size_t ref_input_size(const ref_net *net);
const ref_node *ref_last(const ref_net *net);

/* Every parameter tensor of the net under the engine's name: value, gradient (NULL for running
 * statistics), count. Returns how many were written (at most max). */
typedef struct ref_param {
    char name[48];
    double *v, *g;
    size_t n;
} ref_param;
int ref_params(ref_net *net, ref_param *out, int max);

/* Forward in train (batch statistics) or eval mode (running statistics); never updates the
 * running statistics. Reads net->x. */
void ref_forward(ref_net *net, int train);
/* The running statistics that one training forward of the engine leaves, from the last train-mode
 * forward: mean' = 0.9 mean + 0.1 batch mean, var' = 0.9 var + 0.1 unbiased batch variance. */
void ref_bn_running_after(const ref_net *net, int node, double *mean, double *var);
/* Gradients of sum(r * y_last) for the mode of the last forward: every node's dy, net->dx and
 * every parameter gradient (overwritten, not accumulated). */
void ref_backward(ref_net *net, const double *r);
/* sum(r * y_last) after ref_forward. */
double ref_loss(const ref_net *net, const double *r);

/* ---- head ---- */
typedef struct ref_head_result {
    double ce_sum, bce_sum;    /* sums over the batch */
    int correct;               /* first arg max of the cosines equals the label */
    double loss;               /* mean of the trained loss */
} ref_head_result;

/* h: d x N features (column n = sample n), w: K x d class weights, shared bias b. train_bce
 * selects the trained loss; gradients of its batch mean go to dh (d x N), dw (K x d), db when
 * those are not NULL. */
ref_head_result ref_head(const double *h, const double *w, double b, const int32_t *labels, int N,
                         int d, int K, double gamma, int train_bce, double *dh, double *dw,
                         double *db);

#endif
