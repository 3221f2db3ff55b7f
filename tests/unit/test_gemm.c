/* tests/unit/test_gemm.c — rt_gemm against a double-precision reference, both GEMM paths.
 *
 * Every transpose combination, ragged edges (M not a multiple of the tile, N not of 16), offsets,
 * beta != 0, and the long-K split path used by weight gradients, through gammacl's kernels and
 * through CLBlast, on every device.
 */
#include <stdlib.h>
#include <stdio.h>

#include "harness.h"

static void ref_gemm(int ta, int tb, int m, int n, int k, double alpha, const float *a, int lda,
                     const float *b, int ldb, double beta, const float *c0, int ldc, double *out)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            out[(size_t)i * n + j] = alpha * s + beta * c0[(size_t)i * ldc + j];
        }
}

/* C at offset coff (7, or 16 with rows a multiple of 16 floats apart: what the own GEMM's
 * non-temporal stores need); stream: whether they must run (1), must not (0), or either (-1) */
static void case_at(th *t, rt_gemm_path path, int ta, int tb, int m, int n, int k, float alpha,
                    float beta, int pad, int coff, int stream)
{
    th_rng r = {(uint64_t)(m * 131 + n * 17 + k + ta * 7 + tb * 3)};
    int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t na = (size_t)(ta ? k : m) * lda + 3, nb = (size_t)(tb ? n : k) * ldb + 5,
           nc = (size_t)m * ldc + coff;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4);
    th_fill_uniform(&r, a, na, -1, 1);
    th_fill_uniform(&r, b, nb, -1, 1);
    th_fill_uniform(&r, c, nc, -1, 1);
    double *want = malloc((size_t)m * n * sizeof *want);
    ref_gemm(ta, tb, m, n, k, alpha, a + 3, lda, b + 5, ldb, beta, c + coff, ldc, want);
    rt_buf *da = th_upload(t, a, na), *db = th_upload(t, b, nb), *dc = th_upload(t, c, nc);
    rt_gemm_args g = {ta, tb, m, n, k, alpha, beta, da, 3, lda, db, 5, ldb, dc, (size_t)coff, ldc};
    char what[160];
    snprintf(what, sizeof what, "%s %c%c M=%d N=%d K=%d alpha=%g beta=%g pad=%d C at %d",
             rt_gemm_path_name(path), ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta, pad, coff);
    if (stream >= 0)
        th_check(t, rt_gemm_streams(t->rt, &g) == stream, "%s: non-temporal stores %s", what,
                 stream ? "expected, not used" : "used where they must not be");
    if (th_ok(t, rt_gemm_with(t->rt, path, &g), what)) {
        float *got = th_download(t, dc, nc);
        float *flat = malloc((size_t)m * n * 4);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) flat[(size_t)i * n + j] = got[coff + (size_t)i * ldc + j];
        th_close(t, flat, want, (size_t)m * n, 1e-4, 1e-4 * k, what);
        /* the padding between rows, and what lies before C, must be untouched */
        int kept = 1;
        for (int i = 0; i < coff; i++) kept &= got[i] == c[i];
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc && coff + (size_t)i * ldc + j < nc; j++)
                kept &= got[coff + (size_t)i * ldc + j] == c[coff + (size_t)i * ldc + j];
        th_check(t, kept, "%s: wrote outside C", what);
        free(flat);
        free(got);
    }
    rt_free(t->rt, da), rt_free(t->rt, db), rt_free(t->rt, dc);
    free(a), free(b), free(c), free(want);
}

static void one_case(th *t, rt_gemm_path path, int ta, int tb, int m, int n, int k, float alpha,
                     float beta, int pad)
{
    case_at(t, path, ta, tb, m, n, k, alpha, beta, pad, 7, -1);
}

/* The own GEMM with every product that can stream stored non-temporally, whatever its size: whole
 * rows of vectors, a ragged last vector before row padding, a ragged M, both transposes of A;
 * beta != 0, an unaligned C and a split product, which never stream (on a row without
 * gemm_stream nothing does); then the device's own threshold again, under which these small
 * products do not stream. */
static void streaming_cases(th *t)
{
    const int on = rt_device_params(t->rt)->gemm_stream && rt_device_params(t->rt)->gemm == RT_GEMM_OWN_CPU;
    rt_gemm_force_stream(t->rt, 1);
    case_at(t, RT_GEMM_OWN_CPU, 0, 0, 40, 64, 30, 1.0f, 0.0f, 0, 16, on);
    case_at(t, RT_GEMM_OWN_CPU, 1, 0, 33, 72, 17, 0.5f, 0.0f, 8, 16, on);
    case_at(t, RT_GEMM_OWN_CPU, 0, 1, 9, 100, 21, 1.0f, 0.0f, 12, 32, on);
    case_at(t, RT_GEMM_OWN_CPU, 1, 1, 20, 48, 13, 1.0f, 0.5f, 0, 16, 0);
    case_at(t, RT_GEMM_OWN_CPU, 0, 0, 20, 48, 13, 1.0f, 0.0f, 0, 7, 0);
    case_at(t, RT_GEMM_OWN_CPU, 0, 1, 16, 32, 4096, 1.0f, 0.0f, 0, 16, 0);
    rt_gemm_force_stream(t->rt, 0);
    case_at(t, RT_GEMM_OWN_CPU, 0, 0, 40, 64, 30, 1.0f, 0.0f, 0, 16, 0);
}

#ifndef EVERY_TUNING
static void body(th *t)
{
    static const int shapes[][3] = {{1, 1, 1},   {8, 16, 9},   {13, 37, 29}, {32, 200, 9},
                                    {70, 45, 100}, {128, 33, 64}, {5, 300, 7}};
    const int npaths = rt_device(t->rt)->is_cpu && rt_device_params(t->rt)->gemm == RT_GEMM_OWN_CPU ? 2 : 1;
    for (int p = 0; p < npaths; p++) {
        rt_gemm_path path = p == 0 ? rt_device_params(t->rt)->gemm : RT_GEMM_CLBLAST;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    one_case(t, path, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f,
                             0.0f, s % 2);
        one_case(t, path, 0, 0, 20, 50, 30, 0.5f, 2.0f, 1);
        one_case(t, path, 1, 1, 20, 50, 30, -1.0f, 1.0f, 0);
        /* the weight-gradient shape: long K, transposed B (split along K) */
        one_case(t, path, 0, 1, 32, 72, 9000, 1.0f, 0.0f, 0);
        one_case(t, path, 1, 1, 17, 40, 5000, 1.0f, 1.0f, 0);
        /* long K over a small C: CLBlast's split path (equal slices, divisor of K), every layout,
         * alpha and beta; and a prime K that cannot be split */
        one_case(t, path, 0, 1, 32, 9, 16384, 0.5f, 0.25f, 1);
        one_case(t, path, 0, 0, 7, 20, 12288, 1.0f, 0.0f, 0);
        one_case(t, path, 1, 0, 24, 30, 10240, -1.0f, 1.0f, 1);
        one_case(t, path, 1, 1, 9, 11, 8192, 1.0f, 0.0f, 0);
        one_case(t, path, 0, 1, 5, 6, 8209, 1.0f, 0.5f, 0);
        if (path == RT_GEMM_OWN_CPU) streaming_cases(t);
    }
}

#endif

#ifdef EVERY_TUNING
/* Every parameter set the tuner can choose for the own GEMM's kernels, in every class at once
 * (NN, TN and the split-K pass), on ragged shapes, every transpose, offsets and beta. */
static void every_tuning(th *t)
{
    if (!th_tunable(t)) return;
    rt_tune_choice nn[128], tn[128];
    const int a = rt_tune_space(RT_TUNE_GEMM_NN, nn, 128), b = rt_tune_space(RT_TUNE_GEMM_TN, tn, 128);
    th_check(t, a > 1 && b > 1, "the search space is empty");
    for (int i = 0; i < a || i < b; i++) {
        for (int c = 0; c < RT_TUNE_CLASSES; c++) {
            rt_tune_set(t->rt, RT_TUNE_GEMM_NN, c, nn[i % a]);
            rt_tune_set(t->rt, RT_TUNE_GEMM_TN, c, tn[i % b]);
        }
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) one_case(t, RT_GEMM_OWN_CPU, ta, tb, 29, 37, 19, 1.0f, 0.0f, 1);
        one_case(t, RT_GEMM_OWN_CPU, 0, 0, 20, 50, 30, 0.5f, 2.0f, 1);
        one_case(t, RT_GEMM_OWN_CPU, 0, 1, 32, 72, 9000, 1.0f, 0.0f, 0);
        one_case(t, RT_GEMM_OWN_CPU, 1, 1, 17, 40, 5000, 1.0f, 1.0f, 0);
        streaming_cases(t);
    }
}

int main(void) { return th_run("gemm-every-tuning", every_tuning, 0); }
#else
int main(void) { return th_run("gemm", body, 0); }
#endif
