/* tests/bench/test_bench_stats.c — the bench's statistics on constructed numbers: Student's t
 * tail against closed forms and a numerical integral of the density, Welch's test against a
 * hand-worked case and its degenerate cases, the agreement of traces, epochs to a target, the
 * knee target, the kernel groups, and bn_derive on a constructed two-device bench. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

typedef struct tally {
    int run, failed;
} tally;

/* every test function takes `tally *t`; CHECK records one check in it */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        t->run++;                                                                                  \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            t->failed++;                                                                           \
        }                                                                                          \
    } while (0)

static int close_to(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(1, fabs(b)); }

/* P(T > t) by Simpson's rule over the density, far from the tail formula's code path */
static double t_upper_by_integral(double t, double df)
{
    const double c = exp(lgamma(0.5 * (df + 1)) - lgamma(0.5 * df)) / sqrt(df * M_PI);
    /* substitute x = t + u / (1 - u), u in [0, 1) */
    const int n = 200000;
    double sum = 0;
    for (int i = 0; i <= n; i++) {
        const double u = (double)i / n * (1 - 1e-9);
        const double x = t + u / (1 - u), dx = 1 / ((1 - u) * (1 - u));
        const double f = c * pow(1 + x * x / df, -0.5 * (df + 1)) * dx;
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum * (1 - 1e-9) / n / 3;
}

static void test_t_tail(tally *t)
{
    CHECK(close_to(bs_t_upper(0, 7), 0.5, 1e-12), "P(T > 0) = 0.5");
    CHECK(close_to(bs_t_upper(1, 1), 0.25, 1e-10), "Cauchy: P(T > 1) = 1/4, got %.12g", bs_t_upper(1, 1));
    const double two = 0.5 - 2 / (2 * sqrt(6)); /* df = 2: 1/2 - t / (2 sqrt(t^2 + 2)) */
    CHECK(close_to(bs_t_upper(2, 2), two, 1e-10), "df 2: got %.12g, want %.12g", bs_t_upper(2, 2), two);
    CHECK(close_to(bs_t_upper(2.228138852, 10), 0.025, 1e-6), "table value t(0.975, 10)");
    CHECK(close_to(bs_t_upper(-1.812461123, 10), 0.95, 1e-6), "negative t: the other side");
    const double cases[][2] = {{0.3, 3.5}, {1.7, 6}, {4.899, 6}, {2.5, 1.3}, {0.9, 40}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const double want = t_upper_by_integral(cases[i][0], cases[i][1]), got = bs_t_upper(cases[i][0], cases[i][1]);
        CHECK(close_to(got, want, 1e-6), "t %g df %g: %.10g against the integral's %.10g", cases[i][0],
              cases[i][1], got, want);
    }
    CHECK(isnan(bs_t_upper(1, 0)) && isnan(bs_t_upper(NAN, 3)), "bad df or t gives NaN");
}

static void test_welch(tally *t)
{
    /* means 3.5 and 5.5, both sd sqrt(1/3), n 4: se^2 = 1/6, t = 2 sqrt(6), df = 6 */
    const double ref[] = {3, 3, 4, 4}, slow[] = {5, 5, 6, 6};
    bs_welch w;
    CHECK(bs_welch_slower(ref, 4, slow, 4, 0.05, &w) == 0, "welch runs");
    CHECK(close_to(w.t, 2 * sqrt(6), 1e-12) && close_to(w.df, 6, 1e-12), "t %g df %g", w.t, w.df);
    CHECK(close_to(w.p, bs_t_upper(2 * sqrt(6), 6), 1e-12) && w.p < 0.01 && w.slower, "slower, p %g", w.p);
    /* the other way round: the device is faster, never "slower" */
    CHECK(bs_welch_slower(slow, 4, ref, 4, 0.05, &w) == 0 && w.p > 0.99 && !w.slower, "faster: p %g", w.p);
    /* unequal variances and sizes: df from Welch-Satterthwaite */
    const double a[] = {2, 4, 3}, b[] = {3, 3, 4, 5, 3};
    bs_welch_slower(a, 3, b, 5, 0.05, &w);
    const double va = 1.0 / 3, vb = 0.8 / 5, df = (va + vb) * (va + vb) / (va * va / 2 + vb * vb / 4);
    CHECK(close_to(w.df, df, 1e-12) && close_to(w.t, (3.6 - 3) / sqrt(va + vb), 1e-12), "df %g t %g", w.df, w.t);
    CHECK(!w.slower && w.p > 0.05, "a small difference: no evidence slower (p %g)", w.p);
    /* no spread: identical counts give no evidence slower, a constant extra epoch is slower */
    const double same[] = {3, 3}, more[] = {4, 4};
    CHECK(bs_welch_slower(same, 2, same, 2, 0.05, &w) == 0 && w.p == 1 && !w.slower, "identical: p %g", w.p);
    CHECK(bs_welch_slower(same, 2, more, 2, 0.05, &w) == 0 && w.p == 0 && w.slower, "constant extra epoch");
    /* one value a side cannot be tested */
    CHECK(bs_welch_slower(same, 1, more, 2, 0.05, &w) == 0 && !w.testable && isnan(w.p) && !w.slower, "n = 1");
    CHECK(bs_welch_slower(same, 0, more, 2, 0.05, &w) == -1, "n = 0 refused");
}

static void test_agreement(tally *t)
{
    const double ref[] = {2.0, 1.5, 1.0, 0.5}, dev[] = {2.0, 1.5 * (1 + 1e-3), 1.0 * (1 - 4e-3), 0.5};
    bs_agreement a;
    bs_trace_agreement(ref, dev, 4, &a);
    CHECK(close_to(a.max_rel, 4e-3, 1e-9) && a.at_step == 2 && a.last_rel == 0 && !a.identical,
          "max %g at %d, last %g", a.max_rel, a.at_step, a.last_rel);
    bs_trace_agreement(ref, ref, 4, &a);
    CHECK(a.identical && a.max_rel == 0, "a trace agrees with itself bit for bit");
    const double bad[] = {2.0, NAN, 1.0, 0.5};
    bs_trace_agreement(ref, bad, 4, &a);
    CHECK(isinf(a.max_rel) && a.at_step == 1 && !a.identical, "a NaN on one side is a full disagreement");
    const double zero[] = {0.0, 1.0}, nan0[] = {NAN, 1.0}, both[] = {NAN, 1.0};
    bs_trace_agreement(zero, nan0, 2, &a);
    CHECK(isinf(a.max_rel) && a.at_step == 0, "NaN against an exact 0 is a full disagreement too");
    bs_trace_agreement(both, nan0, 2, &a);
    CHECK(a.max_rel == 0 && a.identical, "NaN on both sides agrees");
    /* a trace that diverges to Inf on one side: Inf / Inf is NaN, which must not read as agreement */
    const double inf1[] = {2.0, INFINITY, 1.0, 0.5};
    bs_trace_agreement(ref, inf1, 4, &a);
    CHECK(isinf(a.max_rel) && a.max_rel > 0 && a.at_step == 1 && !a.identical, "Inf on one side: max %g at %d",
          a.max_rel, a.at_step);
    const double ninf[] = {2.0, -INFINITY, 1.0, 0.5};
    bs_trace_agreement(inf1, ninf, 4, &a);
    CHECK(isinf(a.max_rel) && a.at_step == 1 && !a.identical, "+Inf against -Inf: max %g", a.max_rel);
    bs_trace_agreement(inf1, inf1, 4, &a);
    CHECK(a.max_rel == 0 && a.identical, "the same Inf on both sides agrees");
    const double tail[] = {2.0, 1.5, 1.0, INFINITY};
    bs_trace_agreement(ref, tail, 4, &a);
    CHECK(isinf(a.last_rel) && isinf(a.max_rel) && a.at_step == 3, "Inf at the last step: last %g", a.last_rel);
    /* bs_rel_diff itself, the one the agreement chart draws */
    CHECK(bs_rel_diff(1, 1) == 0 && bs_rel_diff(0, 0) == 0 && bs_rel_diff(NAN, NAN) == 0, "equal: 0");
    CHECK(close_to(bs_rel_diff(1, 0.5), 0.5, 1e-15) && close_to(bs_rel_diff(-2, 2), 2, 1e-15), "finite");
    CHECK(bs_rel_diff(INFINITY, 3) == INFINITY && bs_rel_diff(3, -INFINITY) == INFINITY &&
          bs_rel_diff(NAN, 0) == INFINITY && bs_rel_diff(0, NAN) == INFINITY && bs_rel_diff(0, 1) == 1,
          "one-sided NaN or Inf: Inf");
}

static void test_epochs_and_target(tally *t)
{
    const double acc[] = {0.1, 0.4, 0.7, 0.8, 0.82};
    CHECK(bs_epochs_to(acc, 4, 0.7) == 2, "reached at epoch 2");
    CHECK(bs_epochs_to(acc, 4, 0.9) == 5, "never reached: epochs + 1");
    CHECK(bs_epochs_to(acc, 4, 0.05) == 1, "epoch 0 does not count");
    CHECK(close_to(bs_knee_target(acc, 4, 0.8), 0.1 + 0.8 * 0.72, 1e-12), "knee target");
}

static void test_groups(tally *t)
{
    const char *const labels[] = {"conv2 fwd", "conv2 fwd:im2col", "conv5 bwd:col2im", "bn1 fwd:bn_stats",
                                  "maxpool1 bwd:maxpool2_bwd", "gap1 fwd:gap_fwd", "head:dual_loss",
                                  "sgd:sgd_step", "data:gather_batch", "add3 fwd:add"};
    const int want[] = {0, 0, 1, 2, 3, 3, 4, 5, 6, 6};
    for (int i = 0; i < 10; i++)
        CHECK(bn_group_of(labels[i]) == want[i], "%s: group %d, want %d (%s)", labels[i], bn_group_of(labels[i]),
              want[i], bn_group_name(want[i]));
}

static void test_derive(tally *t)
{
    bn_bench b;
    memset(&b, 0, sizeof b);
    b.ndev = 2;
    for (int i = 0; i < 2; i++) {
        bn_device *d = &b.dev[i];
        d->nsteps = 3;
        for (int k = 0; k < 3; k++) d->trace_ce[k] = 2.0 - 0.5 * k, d->trace_bce[k] = 5.0 - k;
        d->ncells = 2;
        d->cells[0] = (bn_cell){.loss = 0, .gamma = 4, .rate = 0.3 + 0.01 * i, .excess = 1, .test_acc = 0.5};
        d->cells[1] = (bn_cell){.loss = 1, .gamma = 4, .rate = 0.2, .excess = 2 + i, .test_acc = 0.4 - 0.02 * i};
        d->nseeds = 3, d->nepochs = 4;
        for (int s = 0; s < 3; s++)
            for (int e = 0; e <= 4; e++)
                /* the second device reaches every accuracy one epoch later */
                d->conv_acc[s][e] = e - i <= 0 ? 0.1 : 0.1 + 0.2 * (e - i) + 0.001 * s;
    }
    b.dev[1].trace_ce[2] *= 1 + 2e-3;
    bn_derive(&b);
    /* reference curve 0.1, 0.3, 0.5, 0.7, 0.9 (+0.001 s): target 0.1 + 0.8 * 0.801 = 0.7408 */
    CHECK(close_to(b.target_acc, 0.1 + 0.8 * 0.801, 1e-12), "target %g", b.target_acc);
    CHECK(b.dev[0].epochs_to[0] == 4 && b.dev[1].epochs_to[0] == 5 && b.dev[1].reached == 0,
          "epochs %d %d, reached %d", b.dev[0].epochs_to[0], b.dev[1].epochs_to[0], b.dev[1].reached);
    CHECK(b.dev[1].welch.slower && b.dev[1].welch.p == 0, "one epoch later every seed: slower");
    CHECK(b.dev[0].agree_ce.identical && close_to(b.dev[1].agree_ce.max_rel, 2e-3 / (1 + 2e-3), 1e-9) &&
          b.dev[1].agree_ce.at_step == 2 && b.dev[1].agree_bce.identical, "agreement %g", b.dev[1].agree_ce.max_rel);
    CHECK(close_to(b.spread[0][0], 0.01, 1e-12) && b.spread[0][1] == 0 && close_to(b.spread[1][1], 1, 1e-12) &&
          close_to(b.spread[1][2], 0.02, 1e-12) && b.spread_n[0] == 2, "spread %g %g %g", b.spread[0][0],
          b.spread[1][1], b.spread[1][2]);
    b.target_given = 1, b.target_acc = 0.5;
    bn_derive(&b);
    CHECK(b.dev[0].epochs_to[1] == 2 && b.dev[1].epochs_to[1] == 3, "a given target is kept");
}

int main(void)
{
    tally tally_ = {0, 0};
    test_t_tail(&tally_);
    test_welch(&tally_);
    test_agreement(&tally_);
    test_epochs_and_target(&tally_);
    test_groups(&tally_);
    test_derive(&tally_);
    printf("%s (%d of %d checks failed)\n", tally_.failed ? "FAIL" : "ok", tally_.failed, tally_.run);
    return tally_.failed != 0 || tally_.run == 0;
}
