/* apps/tune/tune_measure.c — one shape's buffers, the check of a candidate against a double
 * reference, and its timing (host clock around the launches and a finish: every driver's).
 *
 * The check runs the shape on a small problem (2 images; a GEMM with 53 columns, or a split-K
 * GEMM with K = 5000, which still takes the split path with a ragged last slice) with inputs
 * uniform in [-1, 1]; the result must match the reference within 1e-5 per term of the reduction
 * plus 1e-4 relative, as the unit tests ask.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "tune.h"

#define CHECK_BATCH 2

/* one problem: device buffers and, for the check, the host inputs and the reference */
typedef struct problem {
    int batch, m, n, k;               /* GEMMs: m, n, k; convolutions: the batch */
    rt_conv *conv;
    rt_buf *a, *b, *c, *d;            /* conv: x, w, y (forward) or dy, dw (weight gradient) */
    size_t na, nb, nc;                /* floats of a, b and of the checked output */
    double *ref;                      /* the checked output in double (check problem only) */
    double tol_terms;                 /* length of the reduction behind each output */
} problem;

struct tune_case {
    const tune_shape *s;
    problem big, small;
};

static int is_gemm(const tune_shape *s) { return s->kernel == RT_TUNE_GEMM_NN || s->kernel == RT_TUNE_GEMM_TN; }

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fill(float *v, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(*state >> 40) / (double)(1ull << 23) - 1.0);
    }
}

/* ---- references (double) ---- */

static double at(const float *x, const rt_conv_desc *d, int nb, int ci, int n, int ih, int iw)
{
    (void)nb;
    if (ih < 0 || ih >= d->h || iw < 0 || iw >= d->w) return 0;
    return x[(((size_t)ci * nb + n) * d->h + ih) * d->w + iw];
}

/* forward y, or (wgrad) dw = sum dy * x */
static void conv_reference(const rt_conv_desc *d, int nb, int wgrad, const float *x, const float *w,
                           const float *dy, double *out)
{
    int oh, ow;
    rt_conv_out_size(d, &oh, &ow);
    const int K = d->k, kk = d->cin * K * K;
    for (int co = 0; co < d->cout; co++)
        for (int n = 0; n < nb; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    const size_t yi = (((size_t)co * nb + n) * oh + i) * ow + j;
                    double acc = 0;
                    for (int ci = 0; ci < d->cin; ci++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                const double xv = at(x, d, nb, ci, n, i * d->stride - d->pad + kh,
                                                     j * d->stride - d->pad + kw);
                                const size_t wi = (size_t)co * kk + (ci * K + kh) * K + kw;
                                if (wgrad) out[wi] += dy[yi] * xv;
                                else acc += w[wi] * xv;
                            }
                    if (!wgrad) out[yi] = acc;
                }
}

static void gemm_reference(const tune_shape *s, int m, int n, int k, const float *a, const float *b, double *c)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int q = 0; q < k; q++) {
                const double av = s->trans_a ? a[(size_t)q * m + i] : a[(size_t)i * k + q];
                const double bv = s->trans_b ? b[(size_t)j * k + q] : b[(size_t)q * n + j];
                acc += av * bv;
            }
            c[(size_t)i * n + j] = acc;
        }
}

/* ---- problems ---- */

static rt_status upload(rt_ctx *ctx, size_t n, uint64_t *state, rt_buf **out, float **keep)
{
    float *h = malloc(n * sizeof(float));
    if (!h) return rt_fail(ctx, RT_E_ALLOC, "out of host memory");
    fill(h, n, state);
    rt_status s = rt_alloc(ctx, n * sizeof(float), out);
    if (s == RT_OK) s = rt_write(ctx, *out, 0, h, n * sizeof(float));
    if (keep && s == RT_OK) *keep = h;
    else free(h);
    return s;
}

static rt_status make_problem(rt_ctx *ctx, const tune_shape *s, int check, problem *p)
{
    uint64_t state = 0x9e3779b97f4a7c15ull ^ (uint64_t)check;
    float *ha = NULL, *hb = NULL, *hd = NULL;
    rt_status st;
    if (is_gemm(s)) {
        p->m = s->m;
        p->n = check && !s->trans_b ? (s->n < 53 ? s->n : 53) : s->n;
        p->k = check && s->trans_b ? (s->k < 5000 ? s->k : 5000) : s->k;
        p->na = (size_t)p->m * p->k, p->nb = (size_t)p->k * p->n, p->nc = (size_t)p->m * p->n;
        p->tol_terms = p->k;
        st = upload(ctx, p->na, &state, &p->a, check ? &ha : NULL);
        if (st == RT_OK) st = upload(ctx, p->nb, &state, &p->b, check ? &hb : NULL);
        if (st == RT_OK) st = rt_alloc(ctx, p->nc * sizeof(float), &p->c);
        if (st == RT_OK && check && !(p->ref = calloc(p->nc, sizeof(double)))) st = rt_fail(ctx, RT_E_ALLOC, "out of host memory");
        if (st == RT_OK && check) gemm_reference(s, p->m, p->n, p->k, ha, hb, p->ref);
    } else {
        const rt_conv_desc *d = &s->conv;
        int oh, ow;
        rt_conv_out_size(d, &oh, &ow);
        p->batch = check ? CHECK_BATCH : s->batch;
        const size_t nx = (size_t)d->cin * p->batch * d->h * d->w, nw = (size_t)d->cout * d->cin * d->k * d->k;
        const size_t ny = (size_t)d->cout * p->batch * oh * ow;
        const int wgrad = s->kernel == RT_TUNE_CONV_WGRAD;
        p->na = nx, p->nb = nw, p->nc = wgrad ? nw : ny;
        p->tol_terms = wgrad ? (double)p->batch * oh * ow : (double)d->cin * d->k * d->k;
        st = rt_conv_create_with(ctx, d, p->batch, RT_CONV_FUSED, &p->conv);
        if (st == RT_OK) st = upload(ctx, nx, &state, &p->a, check ? &ha : NULL);
        if (st == RT_OK) st = upload(ctx, nw, &state, &p->b, check ? &hb : NULL);
        if (st == RT_OK) st = rt_alloc(ctx, p->nc * sizeof(float), &p->c); /* y, or dw */
        if (st == RT_OK && wgrad) {
            /* dy, and a forward pass, which keeps the padded x the weight gradient reads */
            rt_buf *y = NULL;
            st = upload(ctx, ny, &state, &p->d, check ? &hd : NULL);
            if (st == RT_OK) st = rt_alloc(ctx, ny * sizeof(float), &y);
            if (st == RT_OK) st = rt_conv_forward(ctx, p->conv, p->batch, p->a, p->b, y);
            if (st == RT_OK) st = rt_finish(ctx);
            if (y) rt_free(ctx, y);
        }
        if (st == RT_OK && check && !(p->ref = calloc(p->nc, sizeof(double)))) st = rt_fail(ctx, RT_E_ALLOC, "out of host memory");
        if (st == RT_OK && check) conv_reference(d, p->batch, wgrad, ha, hb, hd, p->ref);
    }
    free(ha), free(hb), free(hd);
    return st;
}

static void free_problem(rt_ctx *ctx, problem *p)
{
    if (p->conv) rt_conv_free(ctx, p->conv);
    rt_buf *all[] = {p->a, p->b, p->c, p->d};
    for (int i = 0; i < 4; i++)
        if (all[i]) rt_free(ctx, all[i]);
    free(p->ref);
}

rt_status tune_case_open(rt_ctx *ctx, const tune_shape *s, tune_case **out)
{
    tune_case *c = calloc(1, sizeof *c);
    if (!c) return rt_fail(ctx, RT_E_ALLOC, "out of host memory");
    c->s = s;
    rt_status st = make_problem(ctx, s, 1, &c->small);
    if (st == RT_OK) st = make_problem(ctx, s, 0, &c->big);
    if (st != RT_OK) {
        tune_case_close(ctx, c);
        return rt_wrap(ctx, st, "setting up %s", s->what);
    }
    *out = c;
    return RT_OK;
}

void tune_case_close(rt_ctx *ctx, tune_case *c)
{
    if (!c) return;
    free_problem(ctx, &c->small);
    free_problem(ctx, &c->big);
    free(c);
}

/* one run of the problem (enqueued, not finished) */
static rt_status run(rt_ctx *ctx, const tune_shape *s, problem *p)
{
    if (is_gemm(s)) {
        rt_gemm_args g = {s->trans_a, s->trans_b, p->m, p->n, p->k, 1.0f, 0.0f,
                          p->a, 0, s->trans_a ? p->m : p->k,
                          p->b, 0, s->trans_b ? p->k : p->n, p->c, 0, p->n};
        return rt_gemm_with(ctx, RT_GEMM_OWN_CPU, &g);
    }
    if (s->kernel == RT_TUNE_CONV_WGRAD)
        return rt_conv_backward(ctx, p->conv, p->batch, p->a, p->b, p->d, p->c, NULL, 0);
    return rt_conv_forward(ctx, p->conv, p->batch, p->a, p->b, p->c);
}

int tune_check(rt_ctx *ctx, tune_case *c, double *err)
{
    problem *p = &c->small;
    *err = 0;
    if (run(ctx, c->s, p) != RT_OK || rt_finish(ctx) != RT_OK) return -1;
    float *got = malloc(p->nc * sizeof(float));
    if (!got) {
        rt_fail(ctx, RT_E_ALLOC, "out of host memory");
        return -1;
    }
    if (rt_read(ctx, p->c, 0, got, p->nc * sizeof(float)) != RT_OK) {
        free(got);
        return -1;
    }
    double worst = 0;
    for (size_t i = 0; i < p->nc; i++) {
        const double tol = 1e-5 * p->tol_terms + 1e-4 * fabs(p->ref[i]);
        const double e = fabs((double)got[i] - p->ref[i]) / tol;
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    free(got);
    *err = worst;
    return worst <= 1.0;
}

double tune_time(rt_ctx *ctx, tune_case *c, int reps)
{
    if (run(ctx, c->s, &c->big) != RT_OK || rt_finish(ctx) != RT_OK) return -1;
    double best = -1;
    for (int r = 0; r < reps; r++) {
        const double t0 = now_s();
        if (run(ctx, c->s, &c->big) != RT_OK || rt_finish(ctx) != RT_OK) return -1;
        const double t = now_s() - t0;
        if (best < 0 || t < best) best = t;
    }
    return best;
}
