/* tests/layers/ref.c — see ref.h: the double-precision reference network and head. */
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {"conv", "bn", "relu", "maxpool", "gap", "add", "linear"};

void ref_net_init(ref_net *net, int c, int h, int w, int batch)
{
    memset(net, 0, sizeof *net);
    net->in = (ref_shape){c, h, w};
    net->batch = batch;
}

int ref_add(ref_net *net, ref_op op, const char *label, int from, int a, int b, int c, int d)
{
    if (net->n == REF_MAX_NODES) return -1;
    ref_node *n = &net->nodes[net->n];
    memset(n, 0, sizeof *n);
    n->op = op;
    snprintf(n->label, sizeof n->label, "%s", label ? label : "");
    n->from = from;
    n->second = -1;
    switch (op) {
    case REF_CONV: n->out = a, n->k = b, n->s = c, n->p = d; break;
    case REF_LINEAR: n->out = a; break;
    case REF_MAXPOOL: n->k = a; break;
    case REF_ADD: n->second = a; break;
    default: break;
    }
    return net->n++;
}

static double *zeros(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

static size_t per_sample(ref_shape s) { return (size_t)s.c * s.h * s.w; }

size_t ref_node_size(const ref_net *net, int i)
{
    return per_sample(net->nodes[i].shape) * (size_t)net->batch;
}

size_t ref_input_size(const ref_net *net) { return per_sample(net->in) * (size_t)net->batch; }

const ref_node *ref_last(const ref_net *net) { return &net->nodes[net->n - 1]; }

/* The engine's automatic label: op name + 1 + the number of earlier nodes with the same op; a
 * clash with any explicit label gives "layer<position>". */
static void auto_name(ref_net *net, int i)
{
    ref_node *n = &net->nodes[i];
    if (n->label[0]) {
        snprintf(n->name, sizeof n->name, "%s", n->label);
        return;
    }
    int same = 1;
    for (int j = 0; j < i; j++) same += net->nodes[j].op == n->op;
    snprintf(n->name, sizeof n->name, "%s%d", op_names[n->op], same);
    for (int j = 0; j < net->n; j++)
        if (strcmp(net->nodes[j].label, n->name) == 0) {
            snprintf(n->name, sizeof n->name, "layer%d", i + 1);
            break;
        }
}

int ref_net_finish(ref_net *net, char *err, size_t errlen)
{
    for (int i = 0; i < net->n; i++) {
        ref_node *n = &net->nodes[i];
        if (n->from == REF_PREV) n->from = i - 1;
        n->in = n->from < 0 ? net->in : net->nodes[n->from].shape;
        const ref_shape in = n->in;
        switch (n->op) {
        case REF_CONV:
            n->shape = (ref_shape){n->out, (in.h + 2 * n->p - n->k) / n->s + 1,
                                   (in.w + 2 * n->p - n->k) / n->s + 1};
            n->w = zeros((size_t)n->out * in.c * n->k * n->k);
            n->gw = zeros((size_t)n->out * in.c * n->k * n->k);
            break;
        case REF_LINEAR:
            if (in.h != 1 || in.w != 1) {
                snprintf(err, errlen, "node %d: linear needs a vector input", i);
                return -1;
            }
            n->shape = (ref_shape){n->out, 1, 1};
            n->w = zeros((size_t)n->out * in.c);
            n->gw = zeros((size_t)n->out * in.c);
            break;
        case REF_BN:
            n->shape = in;
            n->gamma = zeros((size_t)in.c), n->beta = zeros((size_t)in.c);
            n->rmean = zeros((size_t)in.c), n->rvar = zeros((size_t)in.c);
            n->ggamma = zeros((size_t)in.c), n->gbeta = zeros((size_t)in.c);
            n->mean = zeros((size_t)in.c), n->var = zeros((size_t)in.c);
            for (int c = 0; c < in.c; c++) n->gamma[c] = 1, n->rvar[c] = 1;
            break;
        case REF_MAXPOOL: n->shape = (ref_shape){in.c, in.h / n->k, in.w / n->k}; break;
        case REF_GAP: n->shape = (ref_shape){in.c, 1, 1}; break;
        case REF_ADD: {
            if (n->second < 0 || n->second >= i) {
                snprintf(err, errlen, "node %d: add needs an earlier node", i);
                return -1;
            }
            const ref_shape o = net->nodes[n->second].shape;
            if (o.c != in.c || o.h != in.h || o.w != in.w) {
                snprintf(err, errlen, "node %d: add of different shapes", i);
                return -1;
            }
            n->shape = in;
            break;
        }
        case REF_RELU: n->shape = in; break;
        }
        if (n->shape.h < 1 || n->shape.w < 1) {
            snprintf(err, errlen, "node %d: empty output", i);
            return -1;
        }
        n->y = zeros(ref_node_size(net, i));
        n->dy = zeros(ref_node_size(net, i));
    }
    for (int i = 0; i < net->n; i++) auto_name(net, i);
    net->x = zeros(ref_input_size(net));
    net->dx = zeros(ref_input_size(net));
    return 0;
}

void ref_net_free(ref_net *net)
{
    for (int i = 0; i < net->n; i++) {
        ref_node *n = &net->nodes[i];
        double *bufs[] = {n->w, n->gw, n->gamma, n->beta, n->rmean, n->rvar, n->ggamma,
                          n->gbeta, n->mean, n->var, n->y, n->dy};
        for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++) free(bufs[j]);
    }
    free(net->x);
    free(net->dx);
    net->n = 0;
}

void ref_net_spec(const ref_net *net, char *out, size_t len)
{
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < net->n && off < len; i++) {
        const ref_node *n = &net->nodes[i];
        char args[64] = "";
        switch (n->op) {
        case REF_CONV: snprintf(args, sizeof args, " %d k=%d s=%d p=%d", n->out, n->k, n->s, n->p); break;
        case REF_LINEAR: snprintf(args, sizeof args, " %d", n->out); break;
        case REF_MAXPOOL: snprintf(args, sizeof args, " k=%d", n->k); break;
        case REF_ADD: snprintf(args, sizeof args, " %s", net->nodes[n->second].label); break;
        default: break;
        }
        char from[48] = "";
        if (n->from != i - 1) snprintf(from, sizeof from, " < %s", net->nodes[n->from].label);
        off += (size_t)snprintf(out + off, len - off, "%s%s%s%s%s\n", n->label, n->label[0] ? ": " : "",
                                op_names[n->op], args, from);
    }
}

int ref_params(ref_net *net, ref_param *out, int max)
{
    int k = 0;
    for (int i = 0; i < net->n; i++) {
        ref_node *n = &net->nodes[i];
        const size_t c = (size_t)n->in.c;
        if ((n->op == REF_CONV || n->op == REF_LINEAR) && k < max) {
            out[k] = (ref_param){.v = n->w, .g = n->gw,
                                 .n = (size_t)n->out * c * (n->op == REF_CONV ? n->k * n->k : 1)};
            snprintf(out[k++].name, sizeof out->name, "%s.w", n->name);
        }
        if (n->op == REF_BN) {
            const char *sfx[] = {"gamma", "beta", "running_mean", "running_var"};
            double *v[] = {n->gamma, n->beta, n->rmean, n->rvar};
            double *g[] = {n->ggamma, n->gbeta, NULL, NULL};
            for (int j = 0; j < 4 && k < max; j++) {
                out[k] = (ref_param){.v = v[j], .g = g[j], .n = c};
                snprintf(out[k++].name, sizeof out->name, "%s.%s", n->name, sfx[j]);
            }
        }
    }
    return k;
}

/* ---- forward ---- */

static const double *input_of(const ref_net *net, int from)
{
    return from < 0 ? net->x : net->nodes[from].y;
}

static double *grad_of(ref_net *net, int from)
{
    return from < 0 ? net->dx : net->nodes[from].dy;
}

static void conv_fwd(const ref_net *net, const ref_node *n, const double *x, double *y)
{
    const int N = net->batch, C = n->in.c, H = n->in.h, W = n->in.w, K = n->k;
    const int OH = n->shape.h, OW = n->shape.w;
    for (int co = 0; co < n->out; co++)
        for (int b = 0; b < N; b++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double s = 0;
                    for (int ci = 0; ci < C; ci++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                const int ih = oh * n->s - n->p + kh, iw = ow * n->s - n->p + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += n->w[(size_t)co * C * K * K + (ci * K + kh) * K + kw] *
                                     x[(((size_t)ci * N + b) * H + ih) * W + iw];
                            }
                    y[(((size_t)co * N + b) * OH + oh) * OW + ow] = s;
                }
}

static void conv_bwd(const ref_net *net, ref_node *n, const double *x, double *dx)
{
    const int N = net->batch, C = n->in.c, H = n->in.h, W = n->in.w, K = n->k;
    const int OH = n->shape.h, OW = n->shape.w;
    memset(n->gw, 0, (size_t)n->out * C * K * K * sizeof(double));
    for (int co = 0; co < n->out; co++)
        for (int b = 0; b < N; b++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    const double g = n->dy[(((size_t)co * N + b) * OH + oh) * OW + ow];
                    for (int ci = 0; ci < C; ci++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                const int ih = oh * n->s - n->p + kh, iw = ow * n->s - n->p + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const size_t wi = (size_t)co * C * K * K + (ci * K + kh) * K + kw;
                                const size_t xi = (((size_t)ci * N + b) * H + ih) * W + iw;
                                n->gw[wi] += g * x[xi];
                                dx[xi] += g * n->w[wi];
                            }
                }
}

static void linear_fwd(const ref_net *net, const ref_node *n, const double *x, double *y)
{
    const int N = net->batch, I = n->in.c;
    for (int o = 0; o < n->out; o++)
        for (int b = 0; b < N; b++) {
            double s = 0;
            for (int i = 0; i < I; i++) s += n->w[(size_t)o * I + i] * x[(size_t)i * N + b];
            y[(size_t)o * N + b] = s;
        }
}

static void linear_bwd(const ref_net *net, ref_node *n, const double *x, double *dx)
{
    const int N = net->batch, I = n->in.c;
    for (int o = 0; o < n->out; o++)
        for (int i = 0; i < I; i++) {
            double s = 0;
            for (int b = 0; b < N; b++) {
                s += n->dy[(size_t)o * N + b] * x[(size_t)i * N + b];
                dx[(size_t)i * N + b] += n->dy[(size_t)o * N + b] * n->w[(size_t)o * I + i];
            }
            n->gw[(size_t)o * I + i] = s;
        }
}

static void bn_fwd(const ref_net *net, ref_node *n, const double *x, double *y, int train)
{
    const size_t M = (size_t)net->batch * n->in.h * n->in.w;
    for (int c = 0; c < n->in.c; c++) {
        const double *xc = x + c * M;
        double mean = n->rmean[c], var = n->rvar[c];
        if (train) {
            double s = 0, ss = 0;
            for (size_t i = 0; i < M; i++) s += xc[i];
            mean = s / (double)M;
            for (size_t i = 0; i < M; i++) ss += (xc[i] - mean) * (xc[i] - mean);
            var = ss / (double)M;
        }
        n->mean[c] = mean, n->var[c] = var;
        const double inv = 1.0 / sqrt(var + REF_BN_EPS);
        for (size_t i = 0; i < M; i++) y[c * M + i] = n->gamma[c] * (xc[i] - mean) * inv + n->beta[c];
    }
}

static void bn_bwd(const ref_net *net, ref_node *n, const double *x, double *dx, int train)
{
    const size_t M = (size_t)net->batch * n->in.h * n->in.w;
    for (int c = 0; c < n->in.c; c++) {
        const double inv = 1.0 / sqrt(n->var[c] + REF_BN_EPS);
        const double *xc = x + c * M, *gc = n->dy + c * M;
        double sg = 0, sgx = 0;
        for (size_t i = 0; i < M; i++) {
            sg += gc[i];
            sgx += gc[i] * (xc[i] - n->mean[c]) * inv;
        }
        n->gbeta[c] = sg, n->ggamma[c] = sgx;
        for (size_t i = 0; i < M; i++) {
            const double xhat = (xc[i] - n->mean[c]) * inv;
            dx[c * M + i] += train ? n->gamma[c] * inv * (gc[i] - sg / (double)M - xhat * sgx / (double)M)
                                   : n->gamma[c] * inv * gc[i];
        }
    }
}

/* index of the first maximum of a window in row-major order, as an offset into the plane */
static size_t window_argmax(const double *plane, int W, int oh, int ow, int K)
{
    size_t best = (size_t)(oh * K) * W + ow * K;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            const size_t i = (size_t)(oh * K + a) * W + ow * K + b;
            if (plane[i] > plane[best]) best = i;
        }
    return best;
}

static void maxpool(const ref_net *net, const ref_node *n, const double *x, double *y, double *dx)
{
    const int H = n->in.h, W = n->in.w, OH = n->shape.h, OW = n->shape.w;
    for (int pl = 0; pl < n->in.c * net->batch; pl++) {
        const double *xp = x + (size_t)pl * H * W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                const size_t i = window_argmax(xp, W, oh, ow, n->k), o = ((size_t)pl * OH + oh) * OW + ow;
                if (y) y[o] = xp[i];
                if (dx) dx[(size_t)pl * H * W + i] += n->dy[o];
            }
    }
}

void ref_forward(ref_net *net, int train)
{
    net->train = train;
    for (int i = 0; i < net->n; i++) {
        ref_node *n = &net->nodes[i];
        const double *x = input_of(net, n->from);
        const size_t cnt = ref_node_size(net, i);
        switch (n->op) {
        case REF_CONV: conv_fwd(net, n, x, n->y); break;
        case REF_LINEAR: linear_fwd(net, n, x, n->y); break;
        case REF_BN: bn_fwd(net, n, x, n->y, train); break;
        case REF_RELU:
            for (size_t j = 0; j < cnt; j++) n->y[j] = x[j] > 0 ? x[j] : 0;
            break;
        case REF_MAXPOOL: maxpool(net, n, x, n->y, NULL); break;
        case REF_GAP: {
            const size_t hw = (size_t)n->in.h * n->in.w;
            for (size_t pl = 0; pl < cnt; pl++) {
                double s = 0;
                for (size_t j = 0; j < hw; j++) s += x[pl * hw + j];
                n->y[pl] = s / (double)hw;
            }
            break;
        }
        case REF_ADD: {
            const double *x2 = net->nodes[n->second].y;
            for (size_t j = 0; j < cnt; j++) n->y[j] = x[j] + x2[j];
            break;
        }
        }
    }
}

void ref_bn_running_after(const ref_net *net, int node, double *mean, double *var)
{
    const ref_node *n = &net->nodes[node];
    const double M = (double)net->batch * n->in.h * n->in.w;
    for (int c = 0; c < n->in.c; c++) {
        mean[c] = (1 - REF_BN_MOMENTUM) * n->rmean[c] + REF_BN_MOMENTUM * n->mean[c];
        var[c] = (1 - REF_BN_MOMENTUM) * n->rvar[c] + REF_BN_MOMENTUM * n->var[c] * M / (M - 1);
    }
}

void ref_backward(ref_net *net, const double *r)
{
    for (int i = 0; i < net->n; i++) memset(net->nodes[i].dy, 0, ref_node_size(net, i) * sizeof(double));
    memset(net->dx, 0, ref_input_size(net) * sizeof(double));
    memcpy(net->nodes[net->n - 1].dy, r, ref_node_size(net, net->n - 1) * sizeof(double));
    for (int i = net->n - 1; i >= 0; i--) {
        ref_node *n = &net->nodes[i];
        const double *x = input_of(net, n->from);
        double *dx = grad_of(net, n->from);
        const size_t cnt = ref_node_size(net, i);
        switch (n->op) {
        case REF_CONV: conv_bwd(net, n, x, dx); break;
        case REF_LINEAR: linear_bwd(net, n, x, dx); break;
        case REF_BN: bn_bwd(net, n, x, dx, net->train); break;
        case REF_RELU:
            for (size_t j = 0; j < cnt; j++) dx[j] += x[j] > 0 ? n->dy[j] : 0;
            break;
        case REF_MAXPOOL: maxpool(net, n, x, NULL, dx); break;
        case REF_GAP: {
            const size_t hw = (size_t)n->in.h * n->in.w;
            for (size_t pl = 0; pl < cnt; pl++)
                for (size_t j = 0; j < hw; j++) dx[pl * hw + j] += n->dy[pl] / (double)hw;
            break;
        }
        case REF_ADD: {
            double *dx2 = grad_of(net, n->second);
            for (size_t j = 0; j < cnt; j++) dx[j] += n->dy[j], dx2[j] += n->dy[j];
            break;
        }
        }
    }
}

double ref_loss(const ref_net *net, const double *r)
{
    const double *y = net->nodes[net->n - 1].y;
    double s = 0;
    for (size_t j = 0; j < ref_node_size(net, net->n - 1); j++) s += r[j] * y[j];
    return s;
}

/* ---- head ---- */

static double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

ref_head_result ref_head(const double *h, const double *w, double b, const int32_t *labels, int N,
                         int d, int K, double gamma, int train_bce, double *dh, double *dw,
                         double *db)
{
    ref_head_result res = {0};
    double *hn = zeros((size_t)d * N), *hnorm = zeros((size_t)N);
    double *wn = zeros((size_t)K * d), *wnorm = zeros((size_t)K);
    double *cs = zeros((size_t)K), *dc = zeros((size_t)N * K), *g = zeros((size_t)d);
    for (int n = 0; n < N; n++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += h[(size_t)j * N + n] * h[(size_t)j * N + n];
        hnorm[n] = sqrt(s);
        for (int j = 0; j < d; j++) hn[(size_t)j * N + n] = h[(size_t)j * N + n] / hnorm[n];
    }
    for (int k = 0; k < K; k++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += w[(size_t)k * d + j] * w[(size_t)k * d + j];
        wnorm[k] = sqrt(s);
        for (int j = 0; j < d; j++) wn[(size_t)k * d + j] = w[(size_t)k * d + j] / wnorm[k];
    }
    double dbias = 0;
    for (int n = 0; n < N; n++) {
        const int y = labels[n];
        int arg = 0;
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += hn[(size_t)j * N + n] * wn[(size_t)k * d + j];
            cs[k] = s;
            if (s > cs[arg]) arg = k;
        }
        res.correct += arg == y;
        /* CE = log(1 + sum_{k != y} exp(gamma (c_k - c_y))), in a shifted form */
        double zmax = 0;
        for (int k = 0; k < K; k++)
            if (k != y) zmax = fmax(zmax, gamma * (cs[k] - cs[y]));
        double s = exp(-zmax);
        for (int k = 0; k < K; k++)
            if (k != y) s += exp(gamma * (cs[k] - cs[y]) - zmax);
        const double ce = zmax + log(s);
        double bce = softplus(b - gamma * cs[y]);
        for (int k = 0; k < K; k++)
            if (k != y) bce += softplus(gamma * cs[k] - b);
        res.ce_sum += ce;
        res.bce_sum += bce;
        /* gradient of the trained per-sample loss with respect to the cosines, / N */
        for (int k = 0; k < K; k++) {
            double g;
            if (train_bce)
                g = k == y ? -gamma * sigmoid(b - gamma * cs[y]) : gamma * sigmoid(gamma * cs[k] - b);
            else {
                const double p = exp(gamma * (cs[k] - cs[y]) - zmax) / s; /* softmax p_k */
                g = k == y ? gamma * (p - 1) : gamma * p;
            }
            dc[(size_t)n * K + k] = g / N;
        }
        if (train_bce) {
            dbias += sigmoid(b - gamma * cs[y]);
            for (int k = 0; k < K; k++)
                if (k != y) dbias -= sigmoid(gamma * cs[k] - b);
        }
    }
    res.loss = (train_bce ? res.bce_sum : res.ce_sum) / N;
    if (db) *db = train_bce ? dbias / N : 0;
    /* through cos = <hn, wn> and both normalizations: d/dx (x/|x|) applied to g is (g - xn (xn.g))/|x| */
    if (dh)
        for (int n = 0; n < N; n++) {
            double dot = 0;
            for (int j = 0; j < d; j++) {
                g[j] = 0;
                for (int k = 0; k < K; k++) g[j] += dc[(size_t)n * K + k] * wn[(size_t)k * d + j];
                dot += g[j] * hn[(size_t)j * N + n];
            }
            for (int j = 0; j < d; j++)
                dh[(size_t)j * N + n] = (g[j] - hn[(size_t)j * N + n] * dot) / hnorm[n];
        }
    if (dw)
        for (int k = 0; k < K; k++) {
            double dot = 0;
            for (int j = 0; j < d; j++) {
                g[j] = 0;
                for (int n = 0; n < N; n++) g[j] += dc[(size_t)n * K + k] * hn[(size_t)j * N + n];
                dot += g[j] * wn[(size_t)k * d + j];
            }
            for (int j = 0; j < d; j++)
                dw[(size_t)k * d + j] = (g[j] - wn[(size_t)k * d + j] * dot) / wnorm[k];
        }
    free(hn), free(hnorm), free(wn), free(wnorm), free(cs), free(dc), free(g);
    return res;
}
