/* apps/tune/tune_shapes.c — the shapes `gammacl tune` measures, as data.
 *
 * Each class gets the layers of cnn5 (28x28 input, batch 128) and resnet18 (32x32x3 input) whose
 * register-blocked dimension falls in it. The input gradient of a stride-1 convolution runs the
 * forward kernel with the channel counts swapped, so those appear as forward shapes too. cnn5's
 * shapes are timed at its training batch, 128: the batch sets the strides between output planes
 * and whether a layer's input stays in cache, and a winner at batch 32 (whose input fits) was no
 * faster than the default at batch 128. resnet18's are timed at batch 32, to stay within the
 * tuner's budget. The GEMMs are cnn5's convolutions as
 * im2col GEMMs (the table of bench_step), and the split-K class is their weight gradients; with
 * resnet18's convolutions that run as im2col GEMMs on the CPU (its stride-2 3x3 ones onto 8x8 and
 * 4x4 maps, its strided 1x1 shortcuts: forward and input gradient, and the weight gradients long
 * enough to split), at batch 32 like its other shapes (one at 128, where it takes the split). Only what runs the kernel on the device is measured, so that the winners are chosen
 * on the layers that use them: a convolution that the device runs as Winograd (runtime/conv_wino.c:
 * on the CPU rows, every "same" 3x3 one with 8+ channels whose blocks fit) is left out of the
 * direct kernels' classes there (on PoCL they keep the first layers, 1 and 3 input channels,
 * and resnet18's first stride-2 layer), and a convolution's GEMM where that pass runs in the fused
 * kernels or as Winograd (on PoCL cnn5's; resnet18's strided and 1x1 ones stay).
 */
#include "tune.h"

#define CONV(K, WHAT, CIN, H, COUT, KS, S, P, B) \
    {K, WHAT, {CIN, H, H, COUT, KS, S, P}, B, 0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0, 0}, 0}
/* a convolution's GEMM: its pass (FWD, DX, DW) of the layer CIN x H x H -> COUT, KS x KS / S, at B images */
#define GEMM(K, WHAT, TA, TB, M, N, KK, PASS, CIN, H, COUT, KS, S, P, B) \
    {K, WHAT, {0, 0, 0, 0, 0, 0, 0}, B, TA, TB, M, N, KK, {CIN, H, H, COUT, KS, S, P}, RT_CONV_PASS_##PASS}

static const tune_shape fwd32[] = {
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv2", 32, 28, 32, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv3 dx", 64, 14, 32, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv1", 1, 28, 32, 3, 1, 1, 128),
};
static const tune_shape fwd64[] = {
    CONV(RT_TUNE_CONV_FWD, "resnet18 conv1", 3, 32, 64, 3, 1, 1, 32),
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv4", 64, 14, 64, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv3", 32, 14, 64, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv5 dx", 128, 7, 64, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "resnet18 layer1", 64, 32, 64, 3, 1, 1, 32),
};
static const tune_shape fwd128[] = {
    CONV(RT_TUNE_CONV_FWD, "cnn5 conv5", 64, 7, 128, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_FWD, "resnet18 layer2", 128, 16, 128, 3, 1, 1, 32),
    CONV(RT_TUNE_CONV_FWD, "resnet18 layer2 down", 64, 32, 128, 3, 2, 1, 32),
};
static const tune_shape fwd_big[] = {
    CONV(RT_TUNE_CONV_FWD, "resnet18 layer3", 256, 8, 256, 3, 1, 1, 32),
    CONV(RT_TUNE_CONV_FWD, "resnet18 layer4", 512, 4, 512, 3, 1, 1, 32),
};
static const tune_shape wg32[] = {
    CONV(RT_TUNE_CONV_WGRAD, "cnn5 conv1", 1, 28, 32, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_WGRAD, "cnn5 conv2", 32, 28, 32, 3, 1, 1, 128),
};
static const tune_shape wg64[] = {
    CONV(RT_TUNE_CONV_WGRAD, "resnet18 conv1", 3, 32, 64, 3, 1, 1, 32),
    CONV(RT_TUNE_CONV_WGRAD, "cnn5 conv4", 64, 14, 64, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_WGRAD, "cnn5 conv3", 32, 14, 64, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_WGRAD, "resnet18 layer1", 64, 32, 64, 3, 1, 1, 32),
};
static const tune_shape wg128[] = {
    CONV(RT_TUNE_CONV_WGRAD, "cnn5 conv5", 64, 7, 128, 3, 1, 1, 128),
    CONV(RT_TUNE_CONV_WGRAD, "resnet18 layer2", 128, 16, 128, 3, 1, 1, 32),
};
static const tune_shape wg_big[] = {
    CONV(RT_TUNE_CONV_WGRAD, "resnet18 layer3", 256, 8, 256, 3, 1, 1, 32),
    CONV(RT_TUNE_CONV_WGRAD, "resnet18 layer4", 512, 4, 512, 3, 1, 1, 32),
};
static const tune_shape nn32[] = {
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv2 fwd", 0, 0, 32, 100352, 288, FWD, 32, 28, 32, 3, 1, 1, 128),
};
static const tune_shape nn64[] = {
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv3 fwd", 0, 0, 64, 25088, 288, FWD, 32, 14, 64, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv4 fwd", 0, 0, 64, 25088, 576, FWD, 64, 14, 64, 3, 1, 1, 128),
};
static const tune_shape nn128[] = {
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv5 fwd", 0, 0, 128, 6272, 576, FWD, 64, 7, 128, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer2 shortcut fwd", 0, 0, 128, 8192, 64, FWD, 64, 32, 128, 1, 2, 0, 32),
};
static const tune_shape nn_big[] = {
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer3 down fwd", 0, 0, 256, 2048, 1152, FWD, 128, 16, 256, 3, 2, 1, 32),
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer4 down fwd", 0, 0, 512, 512, 2304, FWD, 256, 8, 512, 3, 2, 1, 32),
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer3 shortcut fwd", 0, 0, 256, 2048, 128, FWD, 128, 16, 256, 1, 2, 0, 32),
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer4 shortcut fwd", 0, 0, 512, 512, 256, FWD, 256, 8, 512, 1, 2, 0, 32),
};
static const tune_shape tn64[] = {
    GEMM(RT_TUNE_GEMM_TN, "resnet18 layer2 shortcut dx", 1, 0, 64, 8192, 128, DX, 64, 32, 128, 1, 2, 0, 32),
};
static const tune_shape tn128[] = {
    GEMM(RT_TUNE_GEMM_TN, "resnet18 layer3 shortcut dx", 1, 0, 128, 2048, 256, DX, 128, 16, 256, 1, 2, 0, 32),
};
static const tune_shape nn_split[] = {
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv2 dW", 0, 1, 32, 288, 100352, DW, 32, 28, 32, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv4 dW", 0, 1, 64, 576, 25088, DW, 64, 14, 64, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_NN, "cnn5 conv5 dW", 0, 1, 128, 576, 6272, DW, 64, 7, 128, 3, 1, 1, 128),
    /* resnet18's strided layers' weight gradients that take the split (K >= 4096): its layer-2
     * shortcut at the tuner's batch of 32, its layer-3 downsampling at the training batch of 128 */
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer2 shortcut dW", 0, 1, 128, 64, 8192, DW, 64, 32, 128, 1, 2, 0, 32),
    GEMM(RT_TUNE_GEMM_NN, "resnet18 layer3 down dW", 0, 1, 256, 1152, 8192, DW, 128, 16, 256, 3, 2, 1, 128),
};
static const tune_shape tn_big[] = {
    GEMM(RT_TUNE_GEMM_TN, "resnet18 layer3 down dcol", 1, 0, 1152, 2048, 256, DX, 128, 16, 256, 3, 2, 1, 32),
    GEMM(RT_TUNE_GEMM_TN, "resnet18 layer4 down dcol", 1, 0, 2304, 512, 512, DX, 256, 8, 512, 3, 2, 1, 32),
    GEMM(RT_TUNE_GEMM_TN, "cnn5 conv2 dcol", 1, 0, 288, 100352, 32, DX, 32, 28, 32, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_TN, "cnn5 conv4 dcol", 1, 0, 576, 25088, 64, DX, 64, 14, 64, 3, 1, 1, 128),
    GEMM(RT_TUNE_GEMM_TN, "cnn5 conv5 dcol", 1, 0, 576, 6272, 128, DX, 64, 7, 128, 3, 1, 1, 128),
};

#define N_OF(a) (int)(sizeof a / sizeof a[0])

/* whether the device runs the shape through its kernel: a convolution's pass (forward, or weight
 * gradient) if it runs in the fused direct kernels there, a convolution's GEMM if that pass of
 * the layer runs as a GEMM there, a GEMM of no layer always */
static int runs_here(rt_ctx *ctx, const tune_shape *s)
{
    const int gemm = s->kernel == RT_TUNE_GEMM_NN || s->kernel == RT_TUNE_GEMM_TN;
    if (gemm && s->layer.cin == 0) return 1;
    rt_conv *c = NULL;
    if (rt_conv_create(ctx, gemm ? &s->layer : &s->conv, s->batch, &c) != RT_OK) return 1; /* measuring it says more */
    const int pass = gemm ? s->pass : s->kernel == RT_TUNE_CONV_FWD ? RT_CONV_PASS_FWD : RT_CONV_PASS_DW;
    const int how = rt_conv_pass_runs(ctx, c, s->batch, pass);
    rt_conv_free(ctx, c);
    return how == (gemm ? RT_CONV_RUNS_GEMM : RT_CONV_RUNS_FUSED);
}

static int class_shapes(rt_tune_kernel k, int cls, const tune_shape **out)
{
    static const struct { rt_tune_kernel k; int cls; const tune_shape *s; int n; } table[] = {
        {RT_TUNE_CONV_FWD, 1, fwd32, N_OF(fwd32)},        {RT_TUNE_CONV_FWD, 2, fwd64, N_OF(fwd64)},
        {RT_TUNE_CONV_FWD, 3, fwd128, N_OF(fwd128)},      {RT_TUNE_CONV_FWD, 4, fwd_big, N_OF(fwd_big)},
        {RT_TUNE_CONV_WGRAD, 1, wg32, N_OF(wg32)},        {RT_TUNE_CONV_WGRAD, 2, wg64, N_OF(wg64)},
        {RT_TUNE_CONV_WGRAD, 3, wg128, N_OF(wg128)},      {RT_TUNE_CONV_WGRAD, 4, wg_big, N_OF(wg_big)},
        {RT_TUNE_GEMM_NN, 1, nn32, N_OF(nn32)},           {RT_TUNE_GEMM_NN, 2, nn64, N_OF(nn64)},
        {RT_TUNE_GEMM_NN, 3, nn128, N_OF(nn128)},         {RT_TUNE_GEMM_NN, 4, nn_big, N_OF(nn_big)},
        {RT_TUNE_GEMM_NN, RT_TUNE_SPLIT_K, nn_split, N_OF(nn_split)},
        {RT_TUNE_GEMM_TN, 2, tn64, N_OF(tn64)},           {RT_TUNE_GEMM_TN, 3, tn128, N_OF(tn128)},
        {RT_TUNE_GEMM_TN, 4, tn_big, N_OF(tn_big)},
    };
    for (int i = 0; i < N_OF(table); i++)
        if (table[i].k == k && table[i].cls == cls) {
            *out = table[i].s;
            return table[i].n;
        }
    *out = NULL;
    return 0;
}

int tune_shapes(rt_ctx *ctx, rt_tune_kernel k, int cls, tune_shape *out, int cap)
{
    const tune_shape *all;
    const int n = class_shapes(k, cls, &all);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (runs_here(ctx, &all[i])) {
            if (kept < cap) out[kept] = all[i];
            kept++;
        }
    return kept;
}

double tune_flops(const tune_shape *s)
{
    if (s->kernel == RT_TUNE_GEMM_NN || s->kernel == RT_TUNE_GEMM_TN) return 2.0 * s->m * s->n * (double)s->k;
    int oh, ow;
    rt_conv_out_size(&s->conv, &oh, &ow);
    const rt_conv_desc *d = &s->conv;
    return 2.0 * d->cout * d->cin * d->k * d->k * (double)s->batch * oh * ow;
}
