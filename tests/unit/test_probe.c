/* tests/unit/test_probe.c — the peak probes against known operation counts, on every device.
 *
 * The FMA probe's outputs against the same chains computed on the host with fmaf (bit for bit:
 * fma is exactly rounded and the sums run in a fixed order) and its FLOP count; the read probe's
 * partial sums against the host's in the same order and its byte count; then the calibrated
 * probes at a small target time (finite rates; the FMA rate against a run the test times at the
 * same size, which may be slower but not twice as fast as the probe's best); the probes
 * must leave the caller's profiling state alone and refuse bad sizes. Prints the measured rates.
 * Devices without a fused FMA (llvmpipe) run x * a + b, which the driver may fuse or not: either
 * result is accepted there, bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* work-item g's output as rt.h defines it: fmaf, or (fused = 0) a separate multiply and add */
static float fma_ref(int g, int lanes, int iters, int fused)
{
    float s = 0.0f;
    for (int j = 0; j < lanes; j++) {
        float x = (float)(((unsigned)g * 37u + (unsigned)j) & 1023u) * (1.0f / 1024.0f);
        for (int i = 0; i < iters; i++) {
            if (fused) {
                x = fmaf(x, RT_PROBE_FMA_A, RT_PROBE_FMA_B);
            } else {
                volatile float m = x * RT_PROBE_FMA_A; /* rounded: never contracted */
                x = m + RT_PROBE_FMA_B;
            }
        }
        s += x;
    }
    return s;
}

static void fma_case(th *t, size_t items, int iters)
{
    int lanes = 0, fused = 0;
    if (!th_ok(t, rt_probe_fma_shape(t->rt, &lanes, &fused), "rt_probe_fma_shape")) return;
    float *got = calloc(items, sizeof *got);
    double flops = -1, seconds = -1;
    char what[96];
    snprintf(what, sizeof what, "FMA probe, %zu items x %d iterations", items, iters);
    if (th_ok(t, rt_probe_fma_run(t->rt, items, iters, got, &seconds, &flops), what)) {
        size_t bad = 0, first = 0;
        float want_first = 0;
        /* bit for bit; where the device has no fused FMA, the driver may fuse x * a + b or not */
        for (size_t g = 0; g < items; g++) {
            const float want = fma_ref((int)g, lanes, iters, 1);
            const float alt = fused ? want : fma_ref((int)g, lanes, iters, 0);
            if (memcmp(&want, &got[g], sizeof want) != 0 &&
                memcmp(&alt, &got[g], sizeof alt) != 0 && bad++ == 0)
                first = g, want_first = fused ? want : alt;
        }
        th_check(t, bad == 0, "%s: %zu of %zu outputs differ from the host's (%s); first [%zu] got "
                 "%.9g want %.9g", what, bad, items, fused ? "fmaf" : "x * a + b", first,
                 bad ? got[first] : 0.0, want_first);
        th_check(t, flops == (double)items * iters * lanes * 2,
                 "%s: %.0f FLOPs, want %zu x %d x %d x 2", what, flops, items, iters, lanes);
        th_check(t, seconds >= 0 && isfinite(seconds), "%s: time %g s", what, seconds);
    }
    free(got);
}

static void read_case(th *t, size_t blocks, size_t per_item)
{
    size_t lanes = 0;
    int width = 0;
    rt_probe_read_shape(t->rt, &lanes, &width);
    const size_t w = (size_t)width, items = blocks * lanes, floats = w * items * per_item;
    const size_t slice = floats / blocks, vecs = slice / w / lanes;
    th_rng r = {items * 977 + per_item};
    float *x = malloc(floats * sizeof *x), *got = calloc(items, sizeof *got);
    th_fill_uniform(&r, x, floats, -1, 1);
    double bytes = -1, seconds = -1;
    char what[96];
    snprintf(what, sizeof what, "read probe, %zu floats over %zu items", floats, items);
    if (th_ok(t, rt_probe_read_run(t->rt, x, floats, items, got, &seconds, &bytes), what)) {
        size_t bad = 0, first = 0;
        float want_first = 0;
        for (size_t i = 0; i < items; i++) {
            const float *p = x + (i / lanes) * slice + (i % lanes) * w;
            float acc[4][16] = {{0}}, s = 0.0f;
            for (size_t k = 0; k < vecs; k++)
                for (size_t e = 0; e < w; e++) acc[k % 4][e] += p[k * lanes * w + e];
            for (size_t e = 0; e < w; e++) s += ((acc[0][e] + acc[1][e]) + acc[2][e]) + acc[3][e];
            if (memcmp(&s, &got[i], sizeof s) != 0 && bad++ == 0) first = i, want_first = s;
        }
        th_check(t, bad == 0, "%s: %zu of %zu partial sums differ; first [%zu] got %.9g want %.9g",
                 what, bad, items, first, bad ? got[first] : 0.0, want_first);
        th_check(t, bytes == (double)floats * 4, "%s: %.0f bytes, want %zu", what, bytes,
                 floats * 4);
        th_check(t, seconds >= 0 && isfinite(seconds), "%s: time %g s", what, seconds);
    }
    free(x), free(got);
}

static void check_result(th *t, const char *what, rt_status s, const rt_probe_result *r,
                         double unit)
{
    if (!th_ok(t, s, what)) return;
    th_check(t, isfinite(r->rate) && r->rate > 0 && r->seconds > 0 && r->work > 0,
             "%s: rate %g, %g s, work %g", what, r->rate, r->seconds, r->work);
    th_check(t, r->items > 0 && r->iters > 0 && r->runs > 0,
             "%s: %lld items, %lld iterations, %d runs", what, r->items, r->iters, r->runs);
    if (unit > 0 && r->items > 0 && r->iters > 0) {
        /* the FMA probe's rate against a run the test times itself, at the probe's own size (one
         * launch of at most RT_PROBE_FMA_MAX_ITERS): the probe keeps the best of its runs, so a
         * single run may be slower but not twice as fast; and its FLOPs are items x L x 2 each
         * iteration, as the test counts them from the shape */
        const int iters = r->iters < RT_PROBE_FMA_MAX_ITERS ? (int)r->iters : RT_PROBE_FMA_MAX_ITERS;
        double seconds = 0, flops = 0;
        if (th_ok(t, rt_probe_fma_run(t->rt, (size_t)r->items, iters, NULL, &seconds, &flops), "FMA single run")) {
            const double want = (double)r->items * iters * unit, mine = flops / seconds / 1e9;
            th_check(t, flops == want, "%s: a single run counts %.0f FLOPs, want %.0f", what, flops, want);
            th_check(t, seconds > 0 && mine <= 2 * r->rate,
                     "%s: a single run reaches %.3g GFLOP/s, over twice the probe's best %.3g", what, mine, r->rate);
        }
    }
    printf("  %-12s %10.2f %s  (%lld items x %lld, best of %d runs of %.3f s, %s)\n", what, r->rate,
           strstr(what, "read") ? "GB/s    " : "GFLOP/s", r->items, r->iters, r->runs, r->seconds,
           r->host_timed ? "host clock" : "events");
}

static void body(th *t)
{
    size_t lanes = 0;
    int width = 0;
    rt_probe_read_shape(t->rt, &lanes, &width);
    fma_case(t, 64, 100);
    fma_case(t, 3 * lanes + 1, 7); /* a partial last work-group (the kernel guards) */
    fma_case(t, 1, 0);
    read_case(t, 1, 1);
    read_case(t, 2, 7); /* the tail after the 4-way unrolled loop */
    read_case(t, 3, 12);

    /* the probes keep the caller's profiling state, and refuse to swallow pending events */
    rt_profile_enable(t->rt, 1);
    rt_profile_label(t->rt, "mine");
    th_ok(t, rt_probe_fma_run(t->rt, 8, 3, NULL, NULL, NULL), "FMA probe while profiling");
    th_ok(t, rt_probe_read_run(t->rt, NULL, (size_t)width * lanes, lanes, NULL, NULL, NULL),
          "read probe while profiling");
    rt_buf *b = th_zeros(t, 16);
    th_check(t, rt_probe_fma_run(t->rt, 8, 3, NULL, NULL, NULL) == RT_E_ARG,
             "a probe ran over pending profiled launches");
    rt_profile_row rows[8];
    int n = 0;
    if (th_ok(t, rt_profile_collect(t->rt, rows, 8, &n), "collect")) {
        int mine = 0, probe = 0;
        for (int i = 0; i < n; i++) {
            mine += strcmp(rows[i].label, "mine") == 0 && rows[i].launches == 1;
            probe += strcmp(rows[i].label, "probe") == 0;
        }
        th_check(t, mine == 1 && probe == 0,
                 "profile rows after the probes: %d 'mine' with one launch, %d 'probe'", mine,
                 probe);
    }
    rt_profile_enable(t->rt, 0);
    rt_free(t->rt, b);

    rt_probe_result r;
    const double target = 0.05;
    int fma_lanes = 0, fused = 0;
    if (th_ok(t, rt_probe_fma_shape(t->rt, &fma_lanes, &fused), "rt_probe_fma_shape")) {
        const rt_status s = rt_probe_fma(t->rt, target, &r);
        check_result(t, fused ? "FMA rate" : "mul+add rate", s, &r, fma_lanes * 2.0);
        if (s == RT_OK)
            th_check(t, r.fused == fused, "the FMA probe's result says fused %d, its shape %d",
                     r.fused, fused);
    }
    check_result(t, "read rate", rt_probe_bandwidth(t->rt, target, &r), &r, 0); /* no FMA cross-check */
    th_check(t, rt_probe_fma(t->rt, 0, &r) == RT_E_ARG, "a zero target time was accepted");
    th_check(t,
             rt_probe_fma_run(t->rt, 8, RT_PROBE_FMA_MAX_ITERS + 1, NULL, NULL, NULL) == RT_E_ARG,
             "more FMA iterations than one launch may run were accepted");
    th_check(t, rt_probe_read_run(t->rt, NULL, (size_t)width * lanes + 1, lanes, NULL, NULL,
                                  NULL) == RT_E_ARG,
             "a read over a partial vector was accepted");
}

int main(void) { return th_run("probe", body, 0); }
