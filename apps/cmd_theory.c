/* apps/cmd_theory.c — `gammacl theory`: prints the closed-form CE and BCE minima, the optimal
 * shared BCE bias, the optimal logits and the CE gradient bound at the ETF margin for K classes
 * and a list of scales gamma, as an aligned table or as CSV.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "theory.h"

#define CMD_THEORY_MAX_CLASSES 100000
#define CMD_THEORY_MAX_GAMMA 1e6
#define CMD_THEORY_DEFAULT_GAMMAS "0.5,1,2,4,8,16,32,64"

typedef struct {
    int classes;
    double *gammas;
    size_t n_gammas;
    int csv;
} cmd_theory_options;

/* One row of the table: every quantity derived for one gamma. */
typedef struct {
    double gamma, ce_min, bias, threshold, bce_min, pos_logit, neg_logit, ce_grad_bound;
} cmd_theory_row;

static void cmd_theory_usage(FILE *f)
{
    fprintf(f,
            "usage: gammacl theory [--classes K] [--gammas G1,G2,...] [--csv]\n\n"
            "Closed-form minima of the CE and BCE losses with features and class weights on the\n"
            "unit sphere (logits gamma*cos - b), reached at the simplex ETF.\n\n"
            "options:\n"
            "  --classes K     number of classes, an integer in [2, %d] (default 10)\n"
            "  --gammas LIST   comma-separated scales, each a positive number <= %g\n"
            "                  (default %s)\n"
            "  --csv           print CSV with a header row instead of a table (full precision;\n"
            "                  K and the critical gamma repeat on every row)\n"
            "  --help          print this help\n\n"
            "columns: gamma; L*_CE; optimal shared bias b*; threshold t = b*/gamma; L*_BCE;\n"
            "positive logit gamma-b*; negative logit -gamma/(K-1)-b*; bound 2 gamma (K-1)\n"
            "e^{-gamma K/(K-1)} on the CE gradient w.r.t. the cosines at the ETF margin K/(K-1).\n",
            CMD_THEORY_MAX_CLASSES, CMD_THEORY_MAX_GAMMA, CMD_THEORY_DEFAULT_GAMMAS);
}

/* Parses K: decimal digits only, within [2, CMD_THEORY_MAX_CLASSES]. Returns 0 on success. */
static int cmd_parse_classes(const char *text, int *out)
{
    if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text)) {
        fprintf(stderr, "gammacl theory: --classes expects a whole number, got '%s'\n", text);
        return -1;
    }
    errno = 0;
    long k = strtol(text, NULL, 10);
    if (errno == ERANGE || k < 2 || k > CMD_THEORY_MAX_CLASSES) {
        fprintf(stderr, "gammacl theory: --classes must be between 2 and %d, got '%s'\n",
                CMD_THEORY_MAX_CLASSES, text);
        return -1;
    }
    *out = (int)k;
    return 0;
}

/* Parses one gamma of the list, [start, start+len): a plain decimal number (digits, '.', an
 * exponent), positive, finite and at most CMD_THEORY_MAX_GAMMA. Returns 0 on success. */
static int cmd_parse_gamma(const char *start, size_t len, double *out)
{
    char token[64];
    if (len == 0) {
        fprintf(stderr, "gammacl theory: --gammas has an empty entry (use e.g. 0.5,1,2)\n");
        return -1;
    }
    if (len >= sizeof token) {
        fprintf(stderr, "gammacl theory: --gammas entry '%.*s...' is too long\n", 20, start);
        return -1;
    }
    memcpy(token, start, len);
    token[len] = '\0';
    char *end = NULL;
    errno = 0;
    double g = strtod(token, &end);
    if (strspn(token, "0123456789.eE+-") != len || end != token + len) {
        fprintf(stderr, "gammacl theory: --gammas entry '%s' is not a decimal number\n", token);
        return -1;
    }
    if (errno == ERANGE || !(g > 0.0) || g > CMD_THEORY_MAX_GAMMA) {
        fprintf(stderr, "gammacl theory: --gammas entry '%s' must be a positive number no greater "
                        "than %g\n", token, CMD_THEORY_MAX_GAMMA);
        return -1;
    }
    *out = g;
    return 0;
}

/* Parses a comma-separated list of gammas into a new array. Returns 0 on success. */
static int cmd_parse_gammas(const char *text, double **out, size_t *count)
{
    size_t n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    double *g = malloc(n * sizeof *g);
    if (!g) {
        fprintf(stderr, "gammacl theory: out of memory\n");
        return -1;
    }
    const char *start = text;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(start, ",");
        if (cmd_parse_gamma(start, len, &g[i]) != 0) {
            free(g);
            return -1;
        }
        start += len + 1;
    }
    free(*out);
    *out = g;
    *count = n;
    return 0;
}

/* The value of option `name` at argv[*i]: "--name=V" or "--name V" (advancing *i).
 * Returns NULL when argv[*i] is not that option; sets *missing when its value is absent. */
static const char *cmd_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, len) != 0) return NULL;
    if (arg[len] == '=') return arg + len + 1;
    if (arg[len] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

typedef enum { CMD_THEORY_RUN, CMD_THEORY_HELP, CMD_THEORY_BAD_USAGE } cmd_theory_parsed;

/* Fills `opt` from the command line (argv[0] is the command's name). */
static cmd_theory_parsed cmd_theory_parse(int argc, char **argv, cmd_theory_options *opt)
{
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_theory_usage(stdout);
            return CMD_THEORY_HELP;
        } else if (strcmp(argv[i], "--csv") == 0) {
            opt->csv = 1;
        } else if ((v = cmd_option_value(argc, argv, &i, "--classes", &missing)) != NULL) {
            if (cmd_parse_classes(v, &opt->classes) != 0) return CMD_THEORY_BAD_USAGE;
        } else if ((v = cmd_option_value(argc, argv, &i, "--gammas", &missing)) != NULL) {
            if (cmd_parse_gammas(v, &opt->gammas, &opt->n_gammas) != 0) return CMD_THEORY_BAD_USAGE;
        } else if (missing) {
            fprintf(stderr, "gammacl theory: %s needs a value\n", argv[i]);
            return CMD_THEORY_BAD_USAGE;
        } else {
            fprintf(stderr, "gammacl theory: unknown argument '%s' (see gammacl theory --help)\n", argv[i]);
            return CMD_THEORY_BAD_USAGE;
        }
    }
    return CMD_THEORY_RUN;
}

static cmd_theory_row cmd_theory_compute(double gamma, int K)
{
    cmd_theory_row r;
    r.gamma = gamma;
    r.ce_min = nn_theory_ce_min(gamma, K);
    r.bias = nn_theory_bce_bias(gamma, K);
    r.threshold = r.bias / gamma;
    r.bce_min = nn_theory_bce_min(gamma, K);
    r.pos_logit = gamma - r.bias;
    r.neg_logit = -gamma / (double)(K - 1) - r.bias;
    r.ce_grad_bound = nn_theory_ce_grad_bound(gamma, K, (double)K / (double)(K - 1));
    return r;
}

/* Prints v with `decimals` fixed decimals in `width` columns, or in scientific notation once it
 * is too large for that (the threshold t grows without bound as gamma -> 0). */
static void cmd_print_fixed(int width, int decimals, double v)
{
    if (fabs(v) < 1e5) printf("%*.*f", width, decimals, v);
    else printf("%*.*e", width, decimals > 2 ? decimals - 2 : 0, v);
}

static void cmd_theory_print_table(const cmd_theory_options *opt, double gamma_c)
{
    printf("K = %d classes; critical gamma (b* = gamma) = %.6f; CE gradient bound taken at the "
           "ETF margin K/(K-1) = %.4f\n",
           opt->classes, gamma_c, (double)opt->classes / (double)(opt->classes - 1));
    printf("%9s  %11s  %9s  %8s  %11s  %10s  %10s  %13s\n", "gamma", "L*_CE", "b*",
           "t=b*/g", "L*_BCE", "pos logit", "neg logit", "CE grad bound");
    for (size_t i = 0; i < opt->n_gammas; i++) {
        cmd_theory_row r = cmd_theory_compute(opt->gammas[i], opt->classes);
        printf("%9g  %11.4e  ", r.gamma, r.ce_min);
        cmd_print_fixed(9, 4, r.bias);
        printf("  ");
        cmd_print_fixed(8, 3, r.threshold);
        printf("  %11.4e  ", r.bce_min);
        cmd_print_fixed(10, 3, r.pos_logit);
        printf("  ");
        cmd_print_fixed(10, 3, r.neg_logit);
        printf("  %13.4e\n", r.ce_grad_bound);
    }
}

/* CSV keeps full double precision; K and the critical gamma repeat on every row so that each
 * row stands alone. */
static void cmd_theory_print_csv(const cmd_theory_options *opt, double gamma_c)
{
    printf("K,gamma,ce_min,bce_bias,threshold,bce_min,pos_logit,neg_logit,ce_grad_bound,"
           "critical_gamma\n");
    for (size_t i = 0; i < opt->n_gammas; i++) {
        cmd_theory_row r = cmd_theory_compute(opt->gammas[i], opt->classes);
        printf("%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", opt->classes,
               r.gamma, r.ce_min, r.bias, r.threshold, r.bce_min, r.pos_logit, r.neg_logit,
               r.ce_grad_bound, gamma_c);
    }
}

/* Prints the table or the CSV; returns 0, or 1 when standard output could not be written. */
static int cmd_theory_print(const cmd_theory_options *opt)
{
    double gamma_c = nn_theory_critical_gamma(opt->classes);
    if (opt->csv) cmd_theory_print_csv(opt, gamma_c);
    else cmd_theory_print_table(opt, gamma_c);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gammacl theory: could not write the output\n");
        return 1;
    }
    return 0;
}

int cmd_theory(int argc, char **argv)
{
    cmd_theory_options opt = {10, NULL, 0, 0};
    if (cmd_parse_gammas(CMD_THEORY_DEFAULT_GAMMAS, &opt.gammas, &opt.n_gammas) != 0) return 1;
    int rc;
    switch (cmd_theory_parse(argc, argv, &opt)) {
    case CMD_THEORY_RUN: rc = cmd_theory_print(&opt); break;
    case CMD_THEORY_HELP: rc = 0; break;
    default: rc = 2; break;
    }
    free(opt.gammas);
    return rc;
}
