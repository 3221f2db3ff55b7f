/* tests/sweep/test_grid.c — the sweep's grid on the host: list parsing with its errors (bad
 * lists, duplicate values, gamma <= 0, bad bias inits, imbalance ratios below 1), seeds and
 * open-set splits as a count or a list, the cells a grid makes (their names, imbalance and known
 * classes), and how a rerun may grow a grid but never shrink it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static int checks, failures;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        printf("FAIL: %s\n", what);
    }
}

/* the list must be refused with a message containing `needle` */
static void refused(const char *which, const char *value, const char *needle)
{
    sw_grid g;
    memset(&g, 0, sizeof g);
    char err[SW_ERRLEN] = "", what[300];
    const int rc = sw_parse_list(which, value, &g, err, sizeof err);
    snprintf(what, sizeof what, "--%s '%s' refused mentioning '%s' (got rc %d: %s)", which, value, needle, rc, err);
    check(rc != 0 && strstr(err, needle) != NULL, what);
}

static void parsing(void)
{
    refused("gammas", "", "empty");
    refused("gammas", "1,,2", "empty item");
    refused("gammas", "1,2,", "empty item");
    refused("gammas", "0,1", "not a number in (0");
    refused("gammas", "-1", "not a number in (0");
    refused("gammas", "1,abc", "'abc'");
    refused("gammas", "nan", "'nan'");
    refused("gammas", "2,2", "listed twice");
    refused("gammas", "2,2.0", "same gamma");
    refused("losses", "ce,mse", "'mse'");
    refused("losses", "ce,ce", "listed twice");
    refused("seeds", "0", "count in [1");
    refused("seeds", "-3", "count in [1");
    refused("seeds", "1,x", "'x'");
    refused("seeds", "4,4", "listed twice");
    refused("bias-init", "zero,maybe", "'maybe'");
    refused("bias-init", "theory,theory", "listed twice");
    refused("nonsense", "1", "unknown grid list");
    refused("rhos", "0.5", "imbalance ratio");
    refused("rhos", "10,x", "'x'");
    refused("rhos", "10,1e1", "same ratio");
    refused("splits", "0", "count in [1");
    refused("splits", "3,0", "positive");
    refused("splits", "2,2", "listed twice");

    sw_grid g;
    memset(&g, 0, sizeof g);
    char err[SW_ERRLEN];
    check(sw_parse_list("gammas", "0.5,1,64", &g, err, sizeof err) == 0 && g.ngammas == 3 &&
          g.gammas[0] == 0.5 && g.gammas[2] == 64, "gammas 0.5,1,64");
    check(sw_parse_list("seeds", "3", &g, err, sizeof err) == 0 && g.nseeds == 3 && g.seeds[0] == 1 &&
          g.seeds[2] == 3, "--seeds 3 means seeds 1, 2, 3");
    check(sw_parse_list("seeds", "7,11", &g, err, sizeof err) == 0 && g.nseeds == 2 && g.seeds[1] == 11,
          "--seeds 7,11 is a list");
    check(sw_parse_list("losses", "bce", &g, err, sizeof err) == 0 && g.nlosses == 1 && g.losses[0] == 1,
          "losses bce");
    check(sw_parse_list("bias-init", "zero,theory,-2.5", &g, err, sizeof err) == 0 && g.nbias == 3,
          "bias inits zero,theory,-2.5");
    check(sw_parse_list("rhos", "10,100", &g, err, sizeof err) == 0 && g.nrhos == 2 && g.rhos[1] == 100,
          "rhos 10,100");
    check(sw_parse_list("splits", "5", &g, err, sizeof err) == 0 && g.nsplits == 5 && g.splits[4] == 5,
          "--splits 5 means splits 1..5");
}

static void naming(void)
{
    char name[96];
    sw_cell_name(&(sw_cell){.loss = 0, .gamma = 0.5, .seed = 1, .bias_init = "zero"}, name, sizeof name);
    check(strcmp(name, "ce-g0.5-s1") == 0, "CE cell name");
    sw_cell_name(&(sw_cell){.loss = 1, .gamma = 16, .seed = 3, .bias_init = "theory"}, name, sizeof name);
    check(strcmp(name, "bce-g16-s3-theory") == 0, "BCE theory cell name");
    sw_cell_name(&(sw_cell){.loss = 1, .gamma = 2, .seed = 2, .bias_init = "-2.5"}, name, sizeof name);
    check(strcmp(name, "bce-g2-s2-b-2.5") == 0, "BCE numeric bias cell name");
    sw_cell_name(&(sw_cell){.loss = 0, .gamma = 16, .seed = 1, .bias_init = "zero", .rho = 100}, name, sizeof name);
    check(strcmp(name, "ce-g16-s1-rho100") == 0, "long-tailed cell name");
    sw_cell_name(&(sw_cell){.loss = 1, .gamma = 4, .seed = 2, .bias_init = "zero", .split = 3}, name, sizeof name);
    check(strcmp(name, "bce-g4-s2-zero-split3") == 0, "open-set cell name");

    sw_grid g;
    memset(&g, 0, sizeof g);
    char err[SW_ERRLEN];
    sw_parse_list("gammas", "1,16", &g, err, sizeof err);
    sw_parse_list("losses", "ce,bce", &g, err, sizeof err);
    sw_parse_list("seeds", "2", &g, err, sizeof err);
    sw_parse_list("bias-init", "zero,theory", &g, err, sizeof err);
    sw_cell *c;
    int n;
    check(sw_cells(&g, &c, &n) == 0, "cells of a grid");
    /* CE is not repeated over bias inits: 2 seeds x 2 gammas x (1 CE + 2 BCE) */
    check(n == 12, "12 cells: CE once, BCE once per bias init");
    check(strcmp(c[0].name, "ce-g1-s1") == 0 && strcmp(c[1].name, "bce-g1-s1-zero") == 0 &&
          strcmp(c[2].name, "bce-g1-s1-theory") == 0 && strcmp(c[3].name, "ce-g16-s1") == 0,
          "seed-major order: every gamma gets its first seed first");
    check(c[6].seed == 2, "the second seed follows");
    int distinct = 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) distinct &= strcmp(c[i].name, c[j].name) != 0;
    check(distinct, "cell names are distinct");
    free(c);
}

/* long-tailed and open-set axes: every (rho, split) for every gamma and loss; each split's known
 * classes: known_count distinct ids of 0..classes-1, ascending, the same for a split every time,
 * and not all splits alike */
static void task_axes(void)
{
    sw_grid g;
    memset(&g, 0, sizeof g);
    char err[SW_ERRLEN];
    sw_parse_list("gammas", "4,16", &g, err, sizeof err);
    sw_parse_list("losses", "ce,bce", &g, err, sizeof err);
    sw_parse_list("seeds", "1", &g, err, sizeof err);
    sw_parse_list("bias-init", "zero", &g, err, sizeof err);
    sw_parse_list("rhos", "10,100", &g, err, sizeof err);
    sw_cell *c;
    int n;
    check(sw_cells(&g, &c, &n) == 0 && n == 8, "2 rhos x 2 gammas x 2 losses: 8 cells");
    check(c[0].rho == 10 && c[4].rho == 100 && c[0].split == 0 && !c[0].known[0], "cells carry their rho");
    check(strcmp(c[5].name, "bce-g4-s1-zero-rho100") == 0, "rho-major within a seed");
    free(c);

    g.nrhos = 0;
    sw_parse_list("splits", "5", &g, err, sizeof err);
    check(sw_cells(&g, &c, &n) != 0, "splits without the class count are refused");
    g.classes = 10, g.known_count = 6;
    check(sw_cells(&g, &c, &n) == 0 && n == 20, "5 splits x 2 gammas x 2 losses: 20 cells");
    int ok = 1, differ = 0;
    for (int i = 0; i < n; i++) {
        int ids[16], k = 0, seen[10] = {0};
        for (const char *p = c[i].known; *p && k < 16; p += strcspn(p, ","), p += *p == ',') ids[k++] = atoi(p);
        ok &= k == 6;
        for (int j = 0; j < k; j++) {
            ok &= ids[j] >= 0 && ids[j] < 10 && !seen[ids[j]] && (j == 0 || ids[j] > ids[j - 1]);
            if (ids[j] >= 0 && ids[j] < 10) seen[ids[j]] = 1;
        }
        ok &= c[i].split == (uint64_t)(i / 4 + 1);
        if (i % 4) ok &= strcmp(c[i].known, c[i - i % 4].known) == 0; /* one split, one class set */
        differ |= strcmp(c[i].known, c[0].known) != 0;
    }
    check(ok, "each split: 6 distinct ascending known classes of 10, the same in all its cells");
    check(differ, "the splits draw different class sets");
    sw_cell *again;
    int m;
    check(sw_cells(&g, &again, &m) == 0 && m == n && strcmp(again[7].known, c[7].known) == 0,
          "a split's classes are the same every time");
    free(again);
    free(c);
}

static void growing(void)
{
    sw_grid old, add;
    memset(&old, 0, sizeof old);
    char err[SW_ERRLEN] = "";
    sw_parse_list("gammas", "1,4", &old, err, sizeof err);
    sw_parse_list("losses", "ce", &old, err, sizeof err);
    sw_parse_list("seeds", "2", &old, err, sizeof err);
    sw_parse_list("bias-init", "zero", &old, err, sizeof err);

    sw_opts given;
    memset(&given, 0, sizeof given);
    memset(&add, 0, sizeof add);
    given.given_gammas = 1;
    sw_parse_list("gammas", "1,4,16", &add, err, sizeof err);
    sw_grid g = old;
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) == 0 && g.ngammas == 3 && g.gammas[2] == 16,
          "adding a gamma grows the grid");
    given.given_gammas = 0, given.given_seeds = 1;
    sw_parse_list("seeds", "3", &add, err, sizeof err);
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) == 0 && g.nseeds == 3 && g.seeds[2] == 3,
          "--seeds 3 after 2 adds seed 3");
    given.given_seeds = 0, given.given_gammas = 1;
    sw_parse_list("gammas", "1,16", &add, err, sizeof err);
    g = old;
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) != 0 && strstr(err, "gamma 4") != NULL,
          "dropping gamma 4 is refused, naming it");
    given.given_gammas = 0, given.given_losses = 1;
    sw_parse_list("losses", "bce", &add, err, sizeof err);
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) != 0 && strstr(err, "ce") != NULL,
          "replacing ce by bce is refused");
    memset(&given, 0, sizeof given);
    g = old;
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) == 0 && g.ngammas == 2 && g.nlosses == 1,
          "nothing given: the grid stays");
    given.given_rhos = 1;
    sw_parse_list("rhos", "10", &add, err, sizeof err);
    check(sw_grid_merge(&g, &add, &given, err, sizeof err) != 0 && strstr(err, "no --rhos") != NULL,
          "rhos cannot be added to a sweep of the set as it is");
    sw_grid lt = old;
    sw_parse_list("rhos", "10,100", &lt, err, sizeof err);
    sw_parse_list("rhos", "10,50,100", &add, err, sizeof err);
    check(sw_grid_merge(&lt, &add, &given, err, sizeof err) == 0 && lt.nrhos == 3 && lt.rhos[2] == 50,
          "adding a rho grows the grid");
    sw_parse_list("rhos", "50", &add, err, sizeof err);
    check(sw_grid_merge(&lt, &add, &given, err, sizeof err) != 0 && strstr(err, "ratio 10") != NULL,
          "dropping rho 10 is refused, naming it");
    memset(&given, 0, sizeof given);
    given.given_splits = 1;
    sw_grid os = old;
    sw_parse_list("splits", "3", &os, err, sizeof err);
    os.classes = 10, os.known_count = 6;
    sw_parse_list("splits", "5", &add, err, sizeof err);
    check(sw_grid_merge(&os, &add, &given, err, sizeof err) == 0 && os.nsplits == 5, "--splits 5 after 3 adds 4, 5");
    given.known_count = 4;
    check(sw_grid_merge(&os, &add, &given, err, sizeof err) != 0 && strstr(err, "6 known") != NULL,
          "another --known-count is refused");
}

int main(void)
{
    parsing();
    task_axes();
    naming();
    growing();
    printf("%d checks, %d failed\n", checks, failures);
    return failures != 0;
}
