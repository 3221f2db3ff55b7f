/* apps/cmd_eval.c — `gammacl eval`: parses the options, evaluates a trained model under small
 * disturbances (apps/eval/), prints the table and writes eval.json and the optional .npz. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "eval.h"

static void usage(void)
{
    printf("usage: gammacl eval --run DIR | --ckpt FILE [--data NAME|PATH] [--device SPEC]\n"
           "                    [--noise default|none|S1,..] [--feature-noise default|none|S1,..]\n"
           "                    [--weight-noise default|none|S1,..] [--fgsm default|none|E1,..]\n"
           "                    [--seed S] [--batch N] [--json FILE] [--export FILE.npz]\n\n"
           "Evaluates a trained model on the clean test set and under small seeded disturbances, and\n"
           "reports test accuracy and flip rate (predictions that change from the clean ones):\n"
           "  --noise           Gaussian input noise, sigma in pixel levels (/255), before\n"
           "                    standardization, clipped to [0, 255] (default 1,2,4,8)\n"
           "  --feature-noise   Gaussian noise on the normalized feature, renormalized\n"
           "                    (default 0.01,0.02,0.05,0.1)\n"
           "  --weight-noise    Gaussian noise on each normalized class weight, renormalized; "
           "%d draws\n"
           "                    of the classifier, each against every test sample (default\n"
           "                    0.01,0.02,0.05,0.1)\n"
           "  --fgsm            one-step FGSM with the trained loss's input gradient, eps in pixel\n"
           "                    levels (/255) (default 1,2)\n"
           "and the fraction of test samples with cosine margin below 0.05.\n"
           "  --run DIR         a run folder: its model.ckpt; writes DIR/eval.json\n"
           "  --ckpt FILE       a checkpoint file (eval.json only with --json)\n"
           "  --data            another test set of the same shape and classes (standardized with\n"
           "                    the run's training set): a folder's test split, else the whole\n"
           "                    folder, or a CIFAR .bin\n"
           "  --seed S          seed of the noise (default 1)\n"
           "  --export FILE.npz test features, cosines, labels, predictions and class weights for\n"
           "                    numpy.load\n", EV_WEIGHT_DRAWS);
}

/* default | none | a list of non-negative numbers */
static int levels(const char *name, const char *v, double *out, int *n, const double *def, int ndef,
                  char *err, size_t errlen)
{
    if (strcmp(v, "default") == 0) {
        memcpy(out, def, (size_t)ndef * sizeof *def);
        *n = ndef;
        return 0;
    }
    *n = 0;
    if (strcmp(v, "none") == 0) return 0;
    for (const char *p = v;;) {
        char *end;
        errno = 0;
        const double x = strtod(p, &end);
        if (end == p || errno || !isfinite(x) || x < 0 || x > 1e4 || *n == EV_MAX_LEVELS ||
            (*end && *end != ',') || (*end == ',' && !end[1])) {
            snprintf(err, errlen, "--%s: '%.60s' is not default, none or a list of numbers >= 0", name, v);
            return -1;
        }
        for (int i = 0; i < *n; i++)
            if (out[i] == x) {
                snprintf(err, errlen, "--%s: %g is listed twice", name, x);
                return -1;
            }
        out[(*n)++] = x;
        if (!*end) return 0;
        p = end + 1;
    }
}

static int parse(int argc, char **argv, ev_opts *o, char *err, size_t errlen)
{
    static const double noise[] = {1, 2, 4, 8}, feature[] = {0.01, 0.02, 0.05, 0.1}, fgsm[] = {1, 2};
    memset(o, 0, sizeof *o);
    memcpy(o->noise, noise, sizeof noise), o->nnoise = 4;
    memcpy(o->feature, feature, sizeof feature), o->nfeature = 4;
    memcpy(o->weight, feature, sizeof feature), o->nweight = 4;
    memcpy(o->fgsm, fgsm, sizeof fgsm), o->nfgsm = 2;
    o->margin = 0.05, o->seed = 1, o->batch = 256;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
        const char *v = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
        static const char *const known[] = {"--run", "--ckpt", "--data", "--device", "--noise",
            "--feature-noise", "--fgsm", "--seed", "--batch", "--json", "--export", "--weight-noise"};
        int k = -1;
        for (int j = 0; j < (int)(sizeof known / sizeof known[0]); j++)
            if (strcmp(name, known[j]) == 0) k = j;
        if (k < 0) {
            snprintf(err, errlen, "unknown option '%.60s' (try --help)", a);
            return 2;
        }
        if (!v || !*v) {
            snprintf(err, errlen, "%s needs a value", name);
            return 2;
        }
        if (!eq) i++;
        char *strs[] = {o->run, o->ckpt, o->data, o->device};
        const size_t lens[] = {sizeof o->run, sizeof o->ckpt, sizeof o->data, sizeof o->device};
        if (k < 4 || k == 9 || k == 10) {
            char *dst = k < 4 ? strs[k] : k == 9 ? o->json : o->npz;
            const size_t len = k < 4 ? lens[k] : k == 9 ? sizeof o->json : sizeof o->npz;
            if (strlen(v) >= len) {
                snprintf(err, errlen, "%s: too long", name);
                return 2;
            }
            snprintf(dst, len, "%s", v);
        } else if (k == 4) {
            if (levels("noise", v, o->noise, &o->nnoise, noise, 4, err, errlen)) return 2;
        } else if (k == 5) {
            if (levels("feature-noise", v, o->feature, &o->nfeature, feature, 4, err, errlen)) return 2;
        } else if (k == 11) {
            if (levels("weight-noise", v, o->weight, &o->nweight, feature, 4, err, errlen)) return 2;
        } else if (k == 6) {
            if (levels("fgsm", v, o->fgsm, &o->nfgsm, fgsm, 2, err, errlen)) return 2;
        } else {
            char *end;
            errno = 0;
            const unsigned long long x = strtoull(v, &end, 10);
            if (*v == '-' || *end || errno || (k == 8 && (x < 1 || x > 65536))) {
                snprintf(err, errlen, "%s: '%.60s' is not %s", name, v,
                         k == 8 ? "a batch size in [1, 65536]" : "a non-negative whole number");
                return 2;
            }
            if (k == 7) o->seed = x;
            else o->batch = (int)x;
        }
    }
    if (!o->run[0] == !o->ckpt[0]) {
        snprintf(err, errlen, "give exactly one of --run DIR and --ckpt FILE (try --help)");
        return 2;
    }
    if (o->run[0] && !o->json[0]) snprintf(o->json, sizeof o->json, "%s/eval.json", o->run);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    ev_opts o;
    char err[1024];
    int rc = parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) {
        usage();
        return 0;
    }
    if (rc) {
        fprintf(stderr, "gammacl eval: %s\n", err);
        return 2;
    }
    ev_result r;
    char device[400];
    rc = ev_run(&o, &r, device, sizeof device);
    if (rc == 0) {
        ev_print(&o, &r);
        if (o.json[0] && ev_write_json(o.json, &o, &r, device, err, sizeof err) != 0) rc = 1;
        else if (o.npz[0] && ev_write_npz(o.npz, &r, err, sizeof err) != 0) rc = 1;
        if (rc) fprintf(stderr, "gammacl eval: %s\n", err);
        else {
            if (o.json[0]) printf("wrote %s\n", o.json);
            if (o.npz[0]) printf("wrote %s\n", o.npz);
        }
    }
    ev_result_free(&r);
    return rc;
}
