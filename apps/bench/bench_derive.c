/* apps/bench/bench_derive.c — the figures a bench derives from what each device measured: the
 * convergence target and each seed's epochs to it, the Welch t-tests and the trace agreement
 * against the first device (the reference), the spread of every science figure over devices,
 * and the kernel groups of the per-kernel bar. */
#include <math.h>
#include <string.h>

#include "bench.h"

static const char *const groups[BN_NGROUPS] = {"conv fwd", "conv bwd", "batch norm", "pooling",
                                               "head + loss", "optimizer", "other"};

const char *bn_group_name(int g) { return g >= 0 && g < BN_NGROUPS ? groups[g] : "?"; }

/* labels are "<layer> fwd[:kernel]", "<layer> bwd[:kernel]", "head[:kernel]", "sgd[:kernel]",
 * "data[:kernel]"; layers are named after their op (conv3, bn2, maxpool1, gap1, add4, ...) */
int bn_group_of(const char *label)
{
    const int bwd = strstr(label, " bwd") != NULL;
    if (strncmp(label, "conv", 4) == 0) return bwd ? 1 : 0;
    if (strncmp(label, "bn", 2) == 0) return 2;
    if (strstr(label, "pool") || strncmp(label, "gap", 3) == 0) return 3;
    if (strncmp(label, "head", 4) == 0) return 4;
    if (strncmp(label, "sgd", 3) == 0) return 5;
    return 6;
}

static void convergence(bn_bench *b)
{
    const bn_device *ref = &b->dev[0];
    if (!b->target_given) {
        double mean[BN_MAX_EPOCHS + 1];
        b->target_acc = NAN;
        if (ref->nseeds > 0) {
            for (int e = 0; e <= ref->nepochs; e++) {
                mean[e] = 0;
                for (int s = 0; s < ref->nseeds; s++) mean[e] += ref->conv_acc[s][e] / ref->nseeds;
            }
            b->target_acc = bs_knee_target(mean, ref->nepochs, 0.8);
        }
    }
    double ref_epochs[BN_MAX_SEEDS];
    for (int i = 0; i < b->ndev; i++) {
        bn_device *d = &b->dev[i];
        double epochs[BN_MAX_SEEDS];
        d->reached = 0;
        for (int s = 0; s < d->nseeds; s++) {
            d->epochs_to[s] = isfinite(b->target_acc) ? bs_epochs_to(d->conv_acc[s], d->nepochs, b->target_acc)
                                                      : d->nepochs + 1;
            d->reached += d->epochs_to[s] <= d->nepochs;
            epochs[s] = d->epochs_to[s];
        }
        if (i == 0) memcpy(ref_epochs, epochs, sizeof epochs);
        if (bs_welch_slower(ref_epochs, ref->nseeds, epochs, d->nseeds, 0.05, &d->welch) != 0)
            d->welch = (bs_welch){.p = NAN, .t = NAN, .df = NAN, .mean_ref = NAN, .mean_dev = NAN,
                                  .sd_ref = NAN, .sd_dev = NAN};
    }
}

static void agreement(bn_bench *b)
{
    const bn_device *ref = &b->dev[0];
    for (int i = 0; i < b->ndev; i++) {
        bn_device *d = &b->dev[i];
        const int n = d->nsteps < ref->nsteps ? d->nsteps : ref->nsteps;
        bs_trace_agreement(ref->trace_ce, d->trace_ce, n, &d->agree_ce);
        bs_trace_agreement(ref->trace_bce, d->trace_bce, n, &d->agree_bce);
        if (n == 0) d->agree_ce.max_rel = d->agree_bce.max_rel = NAN;
    }
}

static void spread(bn_bench *b)
{
    const bn_device *ref = &b->dev[0];
    for (int c = 0; c < ref->ncells; c++) {
        double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        b->spread_n[c] = 0;
        for (int i = 0; i < b->ndev; i++)
            for (int k = 0; k < b->dev[i].ncells; k++) {
                const bn_cell *x = &b->dev[i].cells[k];
                if (x->loss != ref->cells[c].loss || x->gamma != ref->cells[c].gamma) continue;
                const double v[3] = {x->rate, x->excess, x->test_acc};
                for (int f = 0; f < 3; f++)
                    if (isfinite(v[f])) lo[f] = fmin(lo[f], v[f]), hi[f] = fmax(hi[f], v[f]);
                b->spread_n[c]++;
            }
        for (int f = 0; f < 3; f++) b->spread[c][f] = hi[f] >= lo[f] ? hi[f] - lo[f] : NAN;
    }
}

void bn_derive(bn_bench *b)
{
    if (b->ndev == 0) return;
    convergence(b);
    agreement(b);
    spread(b);
}
