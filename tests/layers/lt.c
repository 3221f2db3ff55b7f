/* tests/layers/lt.c — see lt.h: reference net against the engine, forward, backward, differences. */
#include "lt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_EPS 1e-6
#define FD_DEFAULT 24
#define FD_SELF_TOL 1e-6       /* reference analytic gradient vs its own finite differences */

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

static void report_worst(const char *what, double worst)
{
    if (getenv("GAMMACL_TEST_VERBOSE"))
        printf("  %-60s worst error %.3g of the tolerance\n", what, worst);
}

int lt_close(th *t, const float *got, const double *want, size_t n, double tol, double scale,
             const char *what)
{
    if (scale <= 0) scale = max_abs(want, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (tol * fabs(want[i]) + tol * scale + 1e-300);
        if (!isfinite(got[i])) e = INFINITY;
        if (e > worst) worst = e;
    }
    report_worst(what, worst);
    return th_close(t, got, want, n, tol, tol * scale, what);
}

int lt_close_d(th *t, const double *got, const double *want, size_t n, double tol, double scale,
               const char *what)
{
    if (scale <= 0) scale = max_abs(want, n);
    size_t worst = 0, bad = 0;
    double wx = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs(got[i] - want[i]) / (tol * fabs(want[i]) + tol * scale + 1e-300);
        if (!(e <= 1)) bad++;
        if (!(e <= wx)) wx = e, worst = i;
    }
    report_worst(what, wx);
    return th_check(t, bad == 0, "%s: %zu of %zu out of tolerance; worst [%zu] got %.12g want %.12g",
                    what, bad, n, worst, n ? got[worst] : 0.0, n ? want[worst] : 0.0);
}

float *lt_read(th *t, nn_model *m, const char *name, int batch, size_t n)
{
    const size_t have = nn_test_size(m, name, batch);
    if (!th_check(t, have == n, "tensor %s has %zu values, want %zu", name, have, n)) return NULL;
    float *v = calloc(n ? n : 1, sizeof *v);
    if (!th_ok(t, nn_test_read(m, name, batch, v), name)) {
        free(v);
        return NULL;
    }
    return v;
}

float *lt_to_float(double *v, size_t n)
{
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i], v[i] = f[i];
    return f;
}

int lt_write(th *t, nn_model *m, const char *name, int batch, const double *v, size_t n)
{
    const size_t have = nn_test_size(m, name, batch);
    if (!th_check(t, have == n, "tensor %s has %zu values, want %zu", name, have, n)) return 0;
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    const int ok = th_ok(t, nn_test_write(m, name, batch, f), name);
    free(f);
    return ok;
}

static void fill(th_rng *r, double *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * th_uniform(r));
}

void lt_randomize(ref_net *net, th_rng *r)
{
    fill(r, net->x, ref_input_size(net), -1, 1);
    for (int i = 0; i < net->n; i++) {
        ref_node *n = &net->nodes[i];
        if (n->op == REF_CONV || n->op == REF_LINEAR) {
            const size_t fan = (size_t)n->in.c * (n->op == REF_CONV ? n->k * n->k : 1);
            const double b = 1.5 / sqrt((double)fan);
            fill(r, n->w, fan * n->out, -b, b);
        } else if (n->op == REF_BN) {
            const size_t c = (size_t)n->in.c;
            fill(r, n->gamma, c, 0.5, 1.5);
            fill(r, n->beta, c, -0.5, 0.5);
            fill(r, n->rmean, c, -0.5, 0.5);
            fill(r, n->rvar, c, 0.5, 2.0);
        }
    }
}

/* The node whose output a node's ".y" and ".dy" hold on the device: itself, or for a batch norm
 * read only by the ReLU right after it, that ReLU (the engine fuses the pair and the two share
 * their buffers). */
static int shown_as(const ref_net *net, int i)
{
    if (net->nodes[i].op != REF_BN || i + 1 >= net->n) return i;
    int readers = 0;
    for (int j = 0; j < net->n; j++) readers += (net->nodes[j].from == i) + (net->nodes[j].second == i);
    const ref_node *next = &net->nodes[i + 1];
    return next->op == REF_RELU && next->from == i && readers == 1 ? i + 1 : i;
}

/* Central differences of sum(r * y_last) of the reference with respect to v[idx[j]]. */
static void finite_differences(ref_net *net, int train, const double *r, double *v, const size_t *idx,
                               size_t count, double *out)
{
    for (size_t j = 0; j < count; j++) {
        const double keep = v[idx[j]];
        v[idx[j]] = keep + FD_EPS;
        ref_forward(net, train);
        const double up = ref_loss(net, r);
        v[idx[j]] = keep - FD_EPS;
        ref_forward(net, train);
        const double down = ref_loss(net, r);
        v[idx[j]] = keep;
        out[j] = (up - down) / (2 * FD_EPS);
    }
    ref_forward(net, train);
}

/* Elements to difference: all of a small tensor, else the first, the last and a random sample. */
static size_t pick(th_rng *r, size_t n, int max, size_t *idx)
{
    if (n <= (size_t)max) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        return n;
    }
    idx[0] = 0, idx[1] = n - 1;
    for (int i = 2; i < max; i++) idx[i] = (size_t)(th_uniform(r) * (double)n) % n;
    return (size_t)max;
}

/* Device gradient and reference analytic gradient vs finite differences of the reference. */
static void fd_check(th *t, ref_net *net, int train, const double *r, th_rng *rng, double *v,
                     const double *analytic, const float *device, size_t n, int max, double tol,
                     const char *what)
{
    size_t *idx = malloc((size_t)max * sizeof *idx);
    const size_t k = pick(rng, n, max, idx);
    double *fd = malloc(k * sizeof *fd), *an = malloc(k * sizeof *an);
    float *dev = malloc(k * sizeof *dev);
    finite_differences(net, train, r, v, idx, k, fd);
    for (size_t j = 0; j < k; j++) an[j] = analytic[idx[j]], dev[j] = device[idx[j]];
    const double scale = max_abs(analytic, n);
    char buf[200];
    snprintf(buf, sizeof buf, "%s: reference gradient vs finite differences", what);
    lt_close_d(t, an, fd, k, FD_SELF_TOL, scale, buf);
    snprintf(buf, sizeof buf, "%s: device gradient vs finite differences", what);
    lt_close(t, dev, fd, k, tol, scale, buf);
    free(idx), free(fd), free(an), free(dev);
}

/* node i is read only by the next node, a 2x2 max-pool (the spec's line order) */
static int pooled_by_next(const ref_net *net, int i)
{
    if (i + 1 >= net->n || net->nodes[i + 1].op != REF_MAXPOOL || net->nodes[i + 1].k != 2 ||
        net->nodes[i + 1].from != i)
        return 0;
    for (int j = 0; j < net->n; j++)
        if (j != i + 1 && (net->nodes[j].from == i || (net->nodes[j].op == REF_ADD && net->nodes[j].second == i)))
            return 0;
    return 1;
}

void lt_check_net(th *t, ref_net *net, int train, const lt_opts *o, const char *what)
{
    const int N = net->batch;
    const double ftol = o && o->fwd_tol > 0 ? o->fwd_tol : 1e-5;
    const double gtol = o && o->grad_tol > 0 ? o->grad_tol : 1e-5;
    const int fd_max = o && o->fd_max ? o->fd_max : FD_DEFAULT;
    const int fd_dx = !(o && o->skip_fd_dx);
    const int spare = o && o->spare_batch > 0 ? o->spare_batch : 0;
    char spec[4096], buf[256];
    ref_net_spec(net, spec, sizeof spec);
    nn_config cfg = {.spec = spec, .in_c = net->in.c, .in_h = net->in.h, .in_w = net->in.w,
                     .classes = 2, .max_batch = N + spare, .loss = NN_LOSS_CE, .gamma = 1.0f, .seed = 11,
                     .momentum = 0.9f, .input_grad = 1, .raw_output = 1};
    nn_model *m = NULL;
    snprintf(buf, sizeof buf, "%s: create model", what);
    if (!th_ok(t, nn_model_create(t->rt, &cfg, &m), buf)) return;
    if (o && o->lent_outputs > 0 && rt_device_params(t->rt)->conv_fused)
        th_check(t, nn_test_lent_outputs(m) == o->lent_outputs,
                 "%s: %d layers write into a convolution's padded input, expected %d", what,
                 nn_test_lent_outputs(m), o->lent_outputs);

    if (spare) { /* a larger batch first, with the engine's own parameters */
        th_rng w = {0xbadc0de};
        const size_t nw = ref_input_size(net) / N * (N + spare);
        const size_t nr = ref_node_size(net, net->n - 1) / N * (N + spare);
        float *xw = malloc(nw * sizeof *xw), *rw = malloc(nr * sizeof *rw);
        th_fill_uniform(&w, xw, nw, -3, 3);
        th_fill_uniform(&w, rw, nr, -3, 3);
        snprintf(buf, sizeof buf, "%s: warm-up at batch %d", what, N + spare);
        th_ok(t, nn_test_forward(m, xw, N + spare, train), buf);
        th_ok(t, nn_test_backward(m, rw, N + spare), buf);
        free(xw), free(rw);
    }
    ref_param ps[64];
    const int np = ref_params(net, ps, 64);
    for (int i = 0; i < np; i++) lt_write(t, m, ps[i].name, N, ps[i].v, ps[i].n);

    /* forward */
    const size_t nx = ref_input_size(net);
    float *xf = lt_to_float(net->x, nx);
    ref_forward(net, train);
    snprintf(buf, sizeof buf, "%s: forward", what);
    th_ok(t, nn_test_forward(m, xf, N, train), buf);
    for (int i = 0; i < net->n; i++) {
        const ref_node *n = &net->nodes[i];
        char name[64];
        snprintf(name, sizeof name, "%s.y", n->name);
        /* a batch norm computing the max-pool after it stores no output (nor its fused ReLU):
         * the pool's is checked; nothing else may go missing */
        const int stored = nn_test_stored(m, name);
        const int pooled_bn =
            (n->op == REF_BN && pooled_by_next(net, i)) ||
            (n->op == REF_BN && i + 1 < net->n && net->nodes[i + 1].op == REF_RELU && pooled_by_next(net, i + 1)) ||
            (n->op == REF_RELU && i > 0 && net->nodes[i - 1].op == REF_BN && pooled_by_next(net, i));
        th_check(t, stored == 1 || (stored == 0 && pooled_bn), "%s: %s is %s", what, name,
                 stored < 0 ? "not a tensor of the model" : "not stored");
        float *y = stored == 1 ? lt_read(t, m, name, N, ref_node_size(net, i)) : NULL;
        snprintf(buf, sizeof buf, "%s: %s (%s mode)", what, name, train ? "train" : "eval");
        if (y) lt_close(t, y, net->nodes[shown_as(net, i)].y, ref_node_size(net, i), ftol, 0, buf);
        free(y);
        if (n->op != REF_BN) continue;
        const size_t c = (size_t)n->in.c;
        double *mean = malloc(c * sizeof *mean), *var = malloc(c * sizeof *var);
        if (train) ref_bn_running_after(net, i, mean, var);
        else memcpy(mean, n->rmean, c * sizeof *mean), memcpy(var, n->rvar, c * sizeof *var);
        snprintf(name, sizeof name, "%s.running_mean", n->name);
        float *rm = lt_read(t, m, name, N, c);
        snprintf(buf, sizeof buf, "%s: %s after a %s forward", what, name, train ? "train" : "eval");
        if (rm) lt_close(t, rm, mean, c, 1e-5, 0, buf);
        snprintf(name, sizeof name, "%s.running_var", n->name);
        float *rv = lt_read(t, m, name, N, c);
        snprintf(buf, sizeof buf, "%s: %s after a %s forward", what, name, train ? "train" : "eval");
        if (rv) lt_close(t, rv, var, c, 1e-5, 0, buf);
        free(mean), free(var), free(rm), free(rv);
    }

    /* backward of sum(r * y_last) */
    th_rng rng = {0x5eed + (uint64_t)nx * 31 + (uint64_t)N};
    const size_t ny = ref_node_size(net, net->n - 1);
    double *r = malloc(ny * sizeof *r);
    fill(&rng, r, ny, -1, 1);
    float *rf = lt_to_float(r, ny);
    ref_backward(net, r);
    snprintf(buf, sizeof buf, "%s: backward", what);
    th_ok(t, nn_test_backward(m, rf, N), buf);
    for (int i = 0; i < net->n - 1; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.dy", net->nodes[i].name);
        float *dy = lt_read(t, m, name, N, ref_node_size(net, i));
        snprintf(buf, sizeof buf, "%s: %s (%s mode)", what, name, train ? "train" : "eval");
        if (dy) lt_close(t, dy, net->nodes[shown_as(net, i)].dy, ref_node_size(net, i), gtol, 0, buf);
        free(dy);
    }
    float *dx = lt_read(t, m, "x.grad", N, nx);
    snprintf(buf, sizeof buf, "%s: x.grad (%s mode)", what, train ? "train" : "eval");
    if (dx) lt_close(t, dx, net->dx, nx, gtol, 0, buf);
    if (dx && fd_max > 0 && fd_dx)
        fd_check(t, net, train, r, &rng, net->x, net->dx, dx, nx, fd_max, gtol, buf);
    free(dx);
    for (int i = 0; i < np; i++) {
        if (!ps[i].g) continue;
        char name[64];
        snprintf(name, sizeof name, "%s.grad", ps[i].name);
        float *g = lt_read(t, m, name, N, ps[i].n);
        snprintf(buf, sizeof buf, "%s: %s (%s mode)", what, name, train ? "train" : "eval");
        if (g) lt_close(t, g, ps[i].g, ps[i].n, gtol, 0, buf);
        if (g && fd_max > 0)
            fd_check(t, net, train, r, &rng, ps[i].v, ps[i].g, g, ps[i].n, fd_max, gtol, buf);
        free(g);
    }
    free(xf), free(r), free(rf);
    nn_model_free(m);
}
