/* apps/bench/bench_output.c — the bench's table on stdout and DIR/bench.csv (one figure per row:
 * device, section, figure, loss, gamma, value), both from the same derived bench. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "files.h"
#include "text.h"

static const char *loss_name(int loss) { return loss ? "bce" : "ce"; }

static double frac(double flops, double ms, double gflops)
{
    return flops / (ms * 1e-3) / 1e9 / gflops;
}

static void print_devices(const bn_bench *b)
{
    printf("\n== devices (the first is the reference)\n");
    printf("%-10s %-58s %-16s %s\n", "id", "device (platform)", "driver", "measured on");
    for (int i = 0; i < b->ndev; i++) {
        const bn_device *d = &b->dev[i];
        char dev[200];
        snprintf(dev, sizeof dev, "%s (%s)", d->name, d->platform);
        printf("%-10s %-58.58s %-16.16s %s, %s%s%s%s%s\n", d->id, dev, d->driver, d->host, d->cpu_model,
               *d->kernel_params ? "; kernel parameters: " : "", d->kernel_params,
               strcmp(d->origin, "this run") ? "; from " : "", strcmp(d->origin, "this run") ? d->origin : "");
    }
}

static void print_limit(const bn_bench *b)
{
    printf("\n== speed and the limit (%s, batch %d; %% of the device's own measured FMA peak)\n",
           b->recipe.speed_model, b->recipe.speed_batch);
    printf("%-10s %9s %7s %10s %10s %9s %10s %6s %6s %9s %8s %10s\n", "id", "FMA GF/s", "GB/s",
           "train im/s", "eval im/s", "ms/step", "conv GF/s", "conv%", "step%", "build(s)", "cached", "resnet18");
    for (int i = 0; i < b->ndev; i++) {
        const bn_device *d = &b->dev[i];
        const bn_speed *s = &d->speed;
        const double conv_gf = s->conv_flops / (s->conv_ms * 1e-3) / 1e9;
        printf("%-10s %9.1f %7.1f %10.0f %10.0f %9.1f %10.1f %5.1f%% %5.1f%% %9.2f %8.2f %10.0f\n", d->id,
               d->fma_gflops, d->bandwidth_gbs, s->train_ips, s->eval_ips, s->step_ms, conv_gf,
               100 * frac(s->conv_flops, s->conv_ms, d->fma_gflops),
               100 * frac(s->step_flops, s->step_ms, d->fma_gflops), d->build_cold_s, d->build_cached_s,
               s->resnet_train_ips);
    }
    printf("(conv%%: the convolution kernels' FLOP rate by their device time%s; step%%: the whole step's by\n"
           " the wall clock; resnet18: training img/s where it fits in time, nan where not run)\n",
           b->ndev && b->dev[0].speed.host_timed ? ", host-timed where events are broken" : "");
}

static void print_science(const bn_bench *b)
{
    const bn_recipe *r = &b->recipe;
    printf("\n== science (%s, %d training images, %d epochs, batch %d): rate -d ln E_t/d epoch | excess "
           "L - L* | test acc\n", r->science_model, r->science_train, r->science_epochs, r->batch);
    printf("%-4s %6s", "loss", "gamma");
    for (int i = 0; i < b->ndev; i++) printf(" | %-23.23s", b->dev[i].id);
    printf(" | %s\n", "largest difference between devices");
    const bn_device *ref = &b->dev[0];
    /* the reference's cells, then the grid's cells it has not (failed there, e.g. a NaN stop) */
    for (int c = 0; c < ref->ncells + 2 * r->ngammas; c++) {
        int loss, missing = c >= ref->ncells;
        double gamma;
        if (!missing) {
            loss = ref->cells[c].loss, gamma = ref->cells[c].gamma;
        } else {
            loss = (c - ref->ncells) / r->ngammas, gamma = r->gammas[(c - ref->ncells) % r->ngammas];
            for (int k = 0; k < ref->ncells; k++) missing &= !(ref->cells[k].loss == loss && ref->cells[k].gamma == gamma);
            if (!missing) continue;
        }
        printf("%-4s %6g", loss_name(loss), gamma);
        for (int i = 0; i < b->ndev; i++) {
            const bn_cell *x = NULL;
            for (int k = 0; k < b->dev[i].ncells; k++)
                if (b->dev[i].cells[k].loss == loss && b->dev[i].cells[k].gamma == gamma) x = &b->dev[i].cells[k];
            if (x) printf(" | %7.4f %7.4f %6.2f%%", x->rate, x->excess, 100 * x->test_acc);
            else printf(" | %-23s", "(not run or failed)");
        }
        if (missing) printf(" | -\n");
        else printf(" | %.2g %.2g %.2f pt\n", b->spread[c][0], b->spread[c][1], 100 * b->spread[c][2]);
    }
}

static void print_agreement(const bn_bench *b)
{
    printf("\n== agreement (%d seeded steps of %s, batch %d, CE training; against %s)\n", b->recipe.trace_steps,
           b->recipe.science_model, b->recipe.trace_batch, b->ndev ? b->dev[0].id : "-");
    printf("%-10s %14s %6s %14s %14s %16s\n", "id", "max rel CE", "step", "max rel BCE", "last step CE",
           "bit-reproducible");
    for (int i = 0; i < b->ndev; i++) {
        const bn_device *d = &b->dev[i];
        printf("%-10s %14.3g %6d %14.3g %14.8f %16s\n", d->id, d->agree_ce.max_rel, d->agree_ce.at_step + 1,
               d->agree_bce.max_rel, d->nsteps ? d->trace_ce[d->nsteps - 1] : NAN,
               d->bit_reproducible ? "yes" : "no");
    }
}

static void print_convergence(const bn_bench *b)
{
    const bn_recipe *r = &b->recipe;
    printf("\n== convergence, epochs to a target (%s gamma %g, %d seeds, %d epochs; target test acc %.2f%%%s)\n",
           loss_name(r->conv_loss), r->conv_gamma, r->conv_seeds, r->conv_epochs, 100 * b->target_acc,
           b->target_given ? ", given" : ", 80% of the reference's rise");
    printf("%-10s %-20s %12s %8s %-32s\n", "id", "epochs per seed", "mean +- sd", "reached", "verdict (one-sided Welch)");
    for (int i = 0; i < b->ndev; i++) {
        const bn_device *d = &b->dev[i];
        char seeds[64] = "";
        for (int s = 0; s < d->nseeds; s++)
            snprintf(seeds + strlen(seeds), sizeof seeds - strlen(seeds), "%s%d", s ? "," : "", d->epochs_to[s]);
        char verdict[64];
        if (i == 0) snprintf(verdict, sizeof verdict, "reference");
        else if (!d->welch.testable) snprintf(verdict, sizeof verdict, "untestable (n < 2)");
        /* a one-sided test that does not reject is no evidence of a difference, not equivalence */
        else snprintf(verdict, sizeof verdict, "%s (p = %.3g)", d->welch.slower ? "slower" : "no evidence slower",
                      d->welch.p);
        printf("%-10s %-20s %6.2f +- %-4.2f %4d/%-3d %-32s\n", d->id, seeds, d->welch.mean_dev, d->welch.sd_dev,
               d->reached, d->nseeds, verdict);
    }
}

void bn_print_table(const bn_bench *b)
{
    if (b->ndev == 0) return;
    print_devices(b);
    print_limit(b);
    print_science(b);
    print_agreement(b);
    print_convergence(b);
}

/* ---- bench.csv ---- */

static void row(app_text *t, const bn_device *d, const char *section, const char *figure, const char *loss,
                double gamma, double v)
{
    if (strpbrk(d->id, ",\"\n\r")) {
        app_text_put(t, "\"");
        for (const char *p = d->id; *p; p++) app_text_put(t, *p == '"' ? "\"\"" : "%c", *p);
        app_text_put(t, "\"");
    } else {
        app_text_put(t, "%s", d->id);
    }
    app_text_put(t, ",%s,%s,%s,", section, figure, loss);
    if (isfinite(gamma)) app_text_put(t, "%g", gamma);
    if (isfinite(v)) app_text_put(t, ",%.9g\n", v);
    else app_text_put(t, ",\n");
}

int bn_write_csv(const char *path, const bn_bench *b, char *err, size_t errlen)
{
    app_text t = {0};
    app_text_put(&t, "device,section,figure,loss,gamma,value\n");
    for (int i = 0; i < b->ndev; i++) {
        const bn_device *d = &b->dev[i];
        const bn_speed *s = &d->speed;
        row(&t, d, "limit", "fma_gflops", "", NAN, d->fma_gflops);
        row(&t, d, "limit", "bandwidth_gbs", "", NAN, d->bandwidth_gbs);
        row(&t, d, "limit", "conv_fraction_of_fma_peak", "", NAN, frac(s->conv_flops, s->conv_ms, d->fma_gflops));
        row(&t, d, "limit", "step_fraction_of_fma_peak", "", NAN, frac(s->step_flops, s->step_ms, d->fma_gflops));
        row(&t, d, "speed", "train_img_per_s", "", NAN, s->train_ips);
        row(&t, d, "speed", "eval_img_per_s", "", NAN, s->eval_ips);
        row(&t, d, "speed", "ms_per_step", "", NAN, s->step_ms);
        row(&t, d, "speed", "resnet18_train_img_per_s", "", NAN, s->resnet_train_ips);
        row(&t, d, "speed", "build_cold_s", "", NAN, d->build_cold_s);
        row(&t, d, "speed", "build_cached_s", "", NAN, d->build_cached_s);
        for (int g = 0; g < BN_NGROUPS; g++) {
            char fig[64];
            snprintf(fig, sizeof fig, "kernel_ms:%s", bn_group_name(g));
            row(&t, d, "speed", fig, "", NAN, s->group_ms[g]);
        }
        for (int c = 0; c < d->ncells; c++) {
            const bn_cell *x = &d->cells[c];
            row(&t, d, "science", "rate", loss_name(x->loss), x->gamma, x->rate);
            row(&t, d, "science", "excess", loss_name(x->loss), x->gamma, x->excess);
            row(&t, d, "science", "test_acc", loss_name(x->loss), x->gamma, x->test_acc);
        }
        row(&t, d, "agreement", "max_rel_ce", "", NAN, d->agree_ce.max_rel);
        row(&t, d, "agreement", "max_rel_bce", "", NAN, d->agree_bce.max_rel);
        row(&t, d, "agreement", "bit_reproducible", "", NAN, d->bit_reproducible);
        for (int s2 = 0; s2 < d->nseeds; s2++) {
            char fig[64];
            snprintf(fig, sizeof fig, "epochs_to_target:seed%d", s2 + 1);
            row(&t, d, "convergence", fig, loss_name(b->recipe.conv_loss), b->recipe.conv_gamma, d->epochs_to[s2]);
        }
        row(&t, d, "convergence", "target_acc", "", NAN, b->target_acc);
        row(&t, d, "convergence", "welch_p_slower", "", NAN, i ? d->welch.p : NAN);
    }
    for (int c = 0; b->ndev && c < b->dev[0].ncells; c++) {
        const bn_cell *x = &b->dev[0].cells[c];
        static const char *const fig[3] = {"spread_rate", "spread_excess", "spread_test_acc"};
        for (int f = 0; f < 3; f++) {
            app_text_put(&t, "all,science,%s,%s,%g,", fig[f], loss_name(x->loss), x->gamma);
            if (isfinite(b->spread[c][f])) app_text_put(&t, "%.9g", b->spread[c][f]);
            app_text_put(&t, "\n");
        }
    }
    int rc = -1;
    if (t.failed) snprintf(err, errlen, "%s: out of memory", path);
    else rc = app_write_file_atomic(path, t.s, t.len, err, errlen);
    free(t.s);
    return rc;
}
