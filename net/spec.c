/* net/spec.c — the model spec language: parsing, links between layers, shape inference.
 *
 * One layer per line; '#' starts a comment; words are separated by blanks:
 *     [label:] op [arguments] [< from]
 * The input of a layer is the previous line's output, or the layer labelled `from`. Ops:
 *     conv OUT [k=3] [s=1] [p=k/2]   convolution, no bias (a batch norm follows)
 *     bn                             batch normalization
 *     relu
 *     maxpool [k=2]                  window = stride = k
 *     gap                            global average pool (to a C x 1 x 1 feature)
 *     add LABEL                      residual: this input + the output of LABEL
 *     linear OUT                     fully connected on a C x 1 x 1 input, no bias
 * The last layer's output is the feature fed to the normalized classifier; it must be C x 1 x 1.
 * Errors name the line and what is wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

#define MAX_WORDS 16
#define MAX_LINE 512

static const nn_layer_ops *const layer_table[] = {
    &nn_layer_conv, &nn_layer_bn, &nn_layer_relu, &nn_layer_maxpool,
    &nn_layer_gap,  &nn_layer_add, &nn_layer_linear,
};

static const nn_layer_ops *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof layer_table / sizeof layer_table[0]; i++)
        if (strcmp(layer_table[i]->name, name) == 0) return layer_table[i];
    return NULL;
}

static int valid_label(const char *s)
{
    if (!*s || strlen(s) >= NN_LABEL || !(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

static void known_ops(char *out, size_t len)
{
    size_t off = 0;
    for (size_t i = 0; i < sizeof layer_table / sizeof layer_table[0] && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "", layer_table[i]->usage);
}

/* Splits one line into words; returns the count or -1 if the line is too long. */
static int split(char *line, char **words)
{
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_WORDS) return -1;
        words[n++] = w;
    }
    return n;
}

static int parse_line(char *text, int lineno, nn_node *node, char *err, size_t errlen)
{
    char *hash = strchr(text, '#');
    if (hash) *hash = 0;
    char *w[MAX_WORDS];
    int n = split(text, w);
    if (n < 0) {
        snprintf(err, errlen, "model spec line %d: too many words", lineno);
        return -1;
    }
    if (n == 0) return 0;
    memset(node, 0, sizeof *node);
    node->line = lineno;
    int first = 0;
    size_t l0 = strlen(w[0]);
    if (l0 > 1 && w[0][l0 - 1] == ':') {
        w[0][l0 - 1] = 0;
        if (!valid_label(w[0])) {
            snprintf(err, errlen, "model spec line %d: bad label '%s' (letters, digits, _; at most %d)",
                     lineno, w[0], NN_LABEL - 1);
            return -1;
        }
        snprintf(node->label, sizeof node->label, "%s", w[0]);
        first = 1;
    }
    if (first >= n) {
        snprintf(err, errlen, "model spec line %d: a label without a layer", lineno);
        return -1;
    }
    if (n - first >= 2 && strcmp(w[n - 2], "<") == 0) {
        if (!valid_label(w[n - 1])) {
            snprintf(err, errlen, "model spec line %d: bad input label '%s'", lineno, w[n - 1]);
            return -1;
        }
        snprintf(node->from, sizeof node->from, "%s", w[n - 1]);
        n -= 2;
    }
    node->ops = find_op(w[first]);
    if (!node->ops) {
        char ops[512];
        known_ops(ops, sizeof ops);
        snprintf(err, errlen, "model spec line %d: unknown layer '%.40s' (known: %s)", lineno,
                 w[first], ops);
        return -1;
    }
    char sub[400];
    if (node->ops->parse(node, n - first - 1, w + first + 1, sub, sizeof sub) != 0) {
        snprintf(err, errlen, "model spec line %d (%s): %s; usage: %s", lineno, node->ops->name, sub,
                 node->ops->usage);
        return -1;
    }
    return 1;
}

int nn_spec_parse(const char *spec, nn_node *nodes, int *count, char *err, size_t errlen)
{
    *count = 0;
    if (!spec) {
        snprintf(err, errlen, "no model spec");
        return -1;
    }
    int lineno = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        char line[MAX_LINE];
        if (len >= sizeof line) {
            snprintf(err, errlen, "model spec line %d: longer than %d characters", lineno, MAX_LINE - 1);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        if (*count == NN_MAX_NODES) {
            snprintf(err, errlen, "model spec: more than %d layers", NN_MAX_NODES);
            return -1;
        }
        int r = parse_line(line, lineno, &nodes[*count], err, errlen);
        if (r < 0) return -1;
        *count += r;
        p = end ? end + 1 : p + len;
    }
    if (*count == 0) {
        snprintf(err, errlen, "model spec: no layers");
        return -1;
    }
    return 0;
}

static int find_label(const nn_node *nodes, int before, const char *label)
{
    for (int i = before - 1; i >= 0; i--)
        if (strcmp(nodes[i].label, label) == 0) return i;
    return -2;
}

int nn_spec_resolve(nn_node *nodes, int count, nn_shape in, int need_vector, char *err,
                    size_t errlen)
{
    for (int i = 0; i < count; i++) {
        nn_node *n = &nodes[i];
        for (int j = 0; j < i; j++)
            if (n->label[0] && strcmp(nodes[j].label, n->label) == 0) {
                snprintf(err, errlen, "model spec line %d: label '%s' already used on line %d",
                         n->line, n->label, nodes[j].line);
                return -1;
            }
        n->in = i - 1;
        if (n->from[0] && (n->in = find_label(nodes, i, n->from)) < -1) {
            snprintf(err, errlen, "model spec line %d: no earlier layer is labelled '%s'", n->line,
                     n->from);
            return -1;
        }
        n->in2 = -2;
        if (n->ref[0] && (n->in2 = find_label(nodes, i, n->ref)) < -1) {
            snprintf(err, errlen, "model spec line %d: no earlier layer is labelled '%s'", n->line,
                     n->ref);
            return -1;
        }
        n->in_shape = n->in < 0 ? in : nodes[n->in].out;
        nn_shape s2 = n->in2 >= 0 ? nodes[n->in2].out : in;
        char sub[300];
        if (n->ops->shape(n, &n->in_shape, n->in2 >= -1 ? &s2 : NULL, sub, sizeof sub) != 0) {
            snprintf(err, errlen, "model spec line %d (%s, input %dx%dx%d): %s", n->line,
                     n->ops->name, n->in_shape.c, n->in_shape.h, n->in_shape.w, sub);
            return -1;
        }
        if ((long)n->out.c * n->out.h * n->out.w > (1L << 24)) {
            snprintf(err, errlen, "model spec line %d: output %dx%dx%d is too large per sample",
                     n->line, n->out.c, n->out.h, n->out.w);
            return -1;
        }
        if (n->in >= 0) nodes[n->in].consumers++;
        if (n->in2 >= 0) nodes[n->in2].consumers++;
    }
    for (int i = 0; i < count - 1; i++)
        if (nodes[i].consumers == 0) {
            snprintf(err, errlen, "model spec line %d: the output of this %s layer is never used",
                     nodes[i].line, nodes[i].ops->name);
            return -1;
        }
    const nn_node *last = &nodes[count - 1];
    if (need_vector && (last->out.h != 1 || last->out.w != 1)) {
        snprintf(err, errlen,
                 "model spec line %d: the last layer must give a vector feature (C x 1 x 1), not "
                 "%dx%dx%d; end with gap or linear", last->line, last->out.c, last->out.h, last->out.w);
        return -1;
    }
    return 0;
}

int nn_spec_check(const char *spec, int in_c, int in_h, int in_w, char *err, size_t errlen)
{
    nn_node *nodes = calloc(NN_MAX_NODES, sizeof *nodes);
    if (!nodes) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int count = 0;
    nn_shape in = {in_c, in_h, in_w};
    int rc = nn_spec_parse(spec, nodes, &count, err, errlen);
    if (rc == 0) rc = nn_spec_resolve(nodes, count, in, 1, err, errlen);
    free(nodes);
    return rc;
}

/* ---- argument parsing shared by the layers ---- */

static int parse_int(const char *s, long lo, long hi, int *out)
{
    if (!*s) return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int nn_spec_args(int argc, char **argv, int npos, const char *const *keys, int nkeys, int *vals,
                 int lo, int hi, char *err, size_t errlen)
{
    int pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            if (pos >= npos) {
                snprintf(err, errlen, "unexpected argument '%.40s'", argv[i]);
                return -1;
            }
            if (parse_int(argv[i], lo, hi, &vals[pos]) != 0) {
                snprintf(err, errlen, "'%.40s' is not a whole number in [%d, %d]", argv[i], lo, hi);
                return -1;
            }
            pos++;
            continue;
        }
        int k = 0;
        while (k < nkeys && (strncmp(argv[i], keys[k], (size_t)(eq - argv[i])) != 0 ||
                             keys[k][eq - argv[i]] != 0))
            k++;
        if (k == nkeys) {
            snprintf(err, errlen, "unknown option '%.40s'", argv[i]);
            return -1;
        }
        if (parse_int(eq + 1, lo, hi, &vals[npos + k]) != 0) {
            snprintf(err, errlen, "'%.40s' needs a whole number in [%d, %d]", argv[i], lo, hi);
            return -1;
        }
    }
    if (pos < npos) {
        snprintf(err, errlen, "missing argument");
        return -1;
    }
    return 0;
}
