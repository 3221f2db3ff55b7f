/* net/nn_internal.h — the model graph, parameters and the layer interface inside net/.
 *
 * A model is a list of nodes in spec order; node i reads node `in` (and `in2` for add), -1 being
 * the model input. Each layer kind is one file in net/layers/ exporting an nn_layer_ops: how to
 * parse its spec line, infer its output shape, set up parameters, and run forward and backward.
 * Adding a layer touches that file, its kernels, the table in spec.c and its test — nothing else.
 */
#ifndef GAMMACL_NN_INTERNAL_H
#define GAMMACL_NN_INTERNAL_H

#include "net.h"

#define NN_MAX_NODES 256
#define NN_MAX_PARAMS 512
#define NN_LABEL 32

typedef struct nn_shape { int c, h, w; } nn_shape;

typedef struct nn_model nn_model;
typedef struct nn_node nn_node;

typedef struct nn_layer_ops {
    const char *name;
    const char *usage;
    /* argv: the words after the op name (no label, no "< from"); fills n->arg / n->ref */
    int (*parse)(nn_node *n, int argc, char **argv, char *err, size_t errlen);
    /* sets n->out from the input shape(s); rejects shapes it cannot handle */
    int (*shape)(nn_node *n, const nn_shape *in, const nn_shape *in2, char *err, size_t errlen);
    rt_status (*setup)(nn_model *m, nn_node *n);
    rt_status (*forward)(nn_model *m, nn_node *n, int batch, int train);
    rt_status (*backward)(nn_model *m, nn_node *n, int batch);
    void (*release)(nn_model *m, nn_node *n);   /* optional: frees what setup made besides params */
} nn_layer_ops;

struct nn_node {
    const nn_layer_ops *ops;
    char label[NN_LABEL];
    char ref[NN_LABEL];        /* add: the label of the second input */
    char from[NN_LABEL];       /* "< label": input other than the previous node */
    int line;                  /* spec line, for messages */
    int in, in2;               /* input node indexes; -1 = model input */
    int arg[4];                /* op arguments (conv: out, k, stride, pad; pool: k; linear: out) */
    nn_shape in_shape, out;
    rt_buf *y, *dy;            /* output and its gradient, sized for the largest batch */
    rt_plane_layout ylay;      /* where y's values lie: dense, or in the padded input of the
                                  convolution that reads it (y_lent: that buffer, not the node's) */
    rt_plane_layout dylay;     /* where dy's: dense, or (a convolution's) in its padded dy */
    int y_lent, dy_lent;
    rt_buf *aux[4];            /* state kept from forward to backward (batch-norm mean, invstd) */
    void *plan;                /* a layer's runtime object (convolutions: rt_conv) */
    int fused;                 /* bn: applies the next ReLU; relu: done by the bn before it;
                                  maxpool: its forward pass done by the bn before it */
    int pool;                  /* bn: the 2x2 max-pool node it computes (then it stores no y), or 0 */
    int train_mode;            /* the mode of the last forward pass (batch norm's backward) */
    int param[4];              /* indexes into the model's parameters, -1 if none */
    int consumers;
};

typedef struct nn_param {
    char name[48];
    size_t count;
    int trainable;             /* 0: state (running statistics) — saved, never stepped */
    int decay;                 /* weight decay applies */
    rt_buf *value, *grad, *mom;
} nn_param;

struct nn_model {
    rt_ctx *rt;
    nn_config cfg;
    char *spec;
    nn_node nodes[NN_MAX_NODES];
    int nnodes;
    nn_param params[NN_MAX_PARAMS];
    int nparams;
    nn_shape in;
    int max_batch, feature_dim;
    rt_buf *x;                 /* input batch, C x N x H x W */
    rt_buf *dx;                /* its gradient (only with cfg.input_grad) */
    int dx_written;
    rt_buf *labels;            /* int32 [N] */
    /* head */
    int head_w, head_b;        /* parameter indexes: class weights K x d, shared bias */
    rt_buf *hn, *hnorm, *wn, *wnorm, *cosv, *dcos, *dhn, *dwn, *sample;
    rt_buf *stats;
    int stat_slots;
    rt_buf *class_counts;      /* int32 [2K]: per class, samples and correct (class_acc.c) */
    int class_counts_on;       /* nn_eval_batch adds to them (nn_class_counts_begin .. _end) */
    int32_t *pred_out;         /* and its predictions go here at _end (nn_class_counts_begin_pred) */
    int pred_cap, pred_n;      /* room in pred_out, predictions written */
    rt_buf *pred;              /* int32 [pred_cap]: the pass's predictions on the device */
    rt_buf *bad;               /* int [2 x nparams]: first step that made / found a tensor non-finite */
    long long steps_done;      /* optimizer steps taken (the step id the SGD kernel records) */
    rt_buf *packed[3];         /* the trainable tensors' values, gradients, momenta (sgd.c), or NULL */
    rt_buf *sgd_table;         /* int [5 x sgd_tensors]: where each lies (kernels/sgd.cl) */
    int sgd_tensors, sgd_chunks;
    unsigned char dy_written[NN_MAX_NODES];
};

/* sgd.c: moves the trainable tensors into one buffer each of values, gradients and momenta
 * (views at aligned offsets), so that nn_sgd_step steps them all in one launch; a model too large
 * for one buffer keeps its tensors apart and is stepped tensor by tensor */
rt_status nn_sgd_pack(nn_model *m);
void nn_sgd_unpack_free(nn_model *m);
/* nn_sgd_step, with each = 1 stepping tensor by tensor even when they are packed (tests) */
rt_status nn_sgd_step_as(nn_model *m, float lr, int each);

/* the layers, one file each in net/layers */
extern const nn_layer_ops nn_layer_conv, nn_layer_bn, nn_layer_relu, nn_layer_maxpool,
    nn_layer_gap, nn_layer_add, nn_layer_linear;

/* spec.c: parses the text into m->nodes (ops, labels, arguments, input links) */
int nn_spec_parse(const char *spec, nn_node *nodes, int *count, char *err, size_t errlen);
/* shapes.c-like step inside spec.c: resolves links and infers shapes; sets consumers */
int nn_spec_resolve(nn_node *nodes, int count, nn_shape in, int need_vector, char *err,
                    size_t errlen);

/* Parses a layer's words: npos positional whole numbers, then key=value options (keys[i] fills
 * vals[npos + i]; callers preset defaults). Every number must lie in [lo, hi]. */
int nn_spec_args(int argc, char **argv, int npos, const char *const *keys, int nkeys, int *vals,
                 int lo, int hi, char *err, size_t errlen);

/* model.c helpers for layers */
rt_status nn_param_add(nn_model *m, const char *name, size_t count, int trainable, int decay,
                       int *index);
/* Fills a parameter uniformly in [-bound, bound] from the model's seed (one stream per parameter). */
rt_status nn_param_init_uniform(nn_model *m, int index, float bound);
const rt_buf *nn_input_y(nn_model *m, const nn_node *n, int which); /* which: 0 = in, 1 = in2 */
/* The buffer a layer writes its input gradient into, and whether to add to it (a node read by
 * several layers gets the sum of their gradients). Returns NULL when no gradient is needed. */
rt_buf *nn_dx_target(nn_model *m, const nn_node *n, int which, int *acc);
/* the floats from the start of n's y that hold its values for `batch` (with the padding between
 * them when y lies in a convolution's padded input) */
size_t nn_y_span(const nn_node *n, int batch);
/* the layout of the gradient nn_dx_target gives n for input `which` */
rt_plane_layout nn_dx_layout(const nn_model *m, const nn_node *n, int which);
/* a layout of H x W planes as kernel arguments: H, W, plane stride, row pitch, offset (Y_ARGS) */
#define NN_LAYOUT_ARGS(h, w, lay)                                                             \
    RT_I32(h), RT_I32(w), RT_I32((lay).plane), RT_I32((lay).pitch), RT_I32((lay).offset)
#define NN_Y_ARGS(n) NN_LAYOUT_ARGS((n)->out.h, (n)->out.w, (n)->ylay)
#define NN_DX_ARGS(m, n) NN_LAYOUT_ARGS((n)->in_shape.h, (n)->in_shape.w, nn_dx_layout((m), (n), 0))
rt_status nn_kernel(nn_model *m, const char *program, const char *name, rt_kernel **k);
/* work-items for an element-wise launch over n values */
size_t nn_items(const nn_model *m, size_t n);
rt_status nn_launch_elems(nn_model *m, rt_kernel *k, size_t n, unsigned nargs, const rt_arg *args);
#define NN_ELEMS(m, k, n, ...)                                                                 \
    nn_launch_elems((m), (k), (n), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg),           \
                    (rt_arg[]){__VA_ARGS__})
/* per-channel launch: dimension 1 = channel, dimension 0 = chunks of a channel's M values */
rt_status nn_launch_channels(nn_model *m, rt_kernel *k, int channels, size_t M, unsigned nargs,
                             const rt_arg *args);
#define NN_CHANNELS(m, k, C, M, ...)                                                           \
    nn_launch_channels((m), (k), (C), (M), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg),   \
                       (rt_arg[]){__VA_ARGS__})
/* rows x planes launch (dimension 0: a row of a plane, 1: the plane), groups sized for PoCL */
rt_status nn_launch_rows(nn_model *m, rt_kernel *k, int rows, int planes, unsigned nargs,
                         const rt_arg *args);
#define NN_ROWS(m, k, rows, planes, ...)                                                        \
    nn_launch_rows((m), (k), (rows), (planes), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg), \
                   (rt_arg[]){__VA_ARGS__})
/* one launch over `count` independent items with a small local size */
rt_status nn_launch_items(nn_model *m, rt_kernel *k, size_t count, unsigned nargs,
                          const rt_arg *args);
#define NN_ITEMS(m, k, count, ...)                                                             \
    nn_launch_items((m), (k), (count), sizeof((rt_arg[]){__VA_ARGS__}) / sizeof(rt_arg),       \
                    (rt_arg[]){__VA_ARGS__})

/* fuse.c: before the layers' setup, marks the ReLUs and 2x2 max-pools that batch norms compute
 * (n->fused, bn->pool); after it, lends convolutions' padded buffers to the layers around them
 * (y_lent, dy_lent and the layouts) */
void nn_fuse_layers(nn_model *m);
rt_status nn_lend_padded_buffers(nn_model *m);

/* model.c: the node passes of a step (the head and the data path are separate) */
rt_status nn_forward_nodes(nn_model *m, int batch, int train);
rt_status nn_backward_nodes(nn_model *m, int batch);

/* rng.c: deterministic initialization */
void nn_fill_uniform(uint64_t seed, uint64_t stream, float *x, size_t n, float lo, float hi);

/* data.c: writes batch [first, first + n) of the current order into m->x and m->labels, with
 * d's augmentation when augment is 1 (training steps) */
rt_status nn_data_gather(nn_model *m, nn_data *d, int first, int n, int augment);

/* class_acc.c: adds the head's current batch of n samples to the per-class counters */
rt_status nn_class_counts_add(nn_model *m, int n);

/* head.c */
rt_status nn_head_setup(nn_model *m);
rt_status nn_head_forward(nn_model *m, int batch, int want_grad, int slot);
rt_status nn_head_backward(nn_model *m, int batch);

#endif
