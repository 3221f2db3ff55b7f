/* tests/sweep/test_grid.c — the sweep's grid on the host: list parsing with its errors (bad
 * lists, duplicate values, gamma <= 0, bad bias inits), seeds as a count or a list, the cells a
 * grid makes and their names, and how a rerun may grow a grid but never shrink it. */
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
}

static void naming(void)
{
    char name[96];
    sw_cell_name(0, 0.5, 1, "zero", name, sizeof name);
    check(strcmp(name, "ce-g0.5-s1") == 0, "CE cell name");
    sw_cell_name(1, 16, 3, "theory", name, sizeof name);
    check(strcmp(name, "bce-g16-s3-theory") == 0, "BCE theory cell name");
    sw_cell_name(1, 2, 2, "-2.5", name, sizeof name);
    check(strcmp(name, "bce-g2-s2-b-2.5") == 0, "BCE numeric bias cell name");

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
}

int main(void)
{
    parsing();
    naming();
    growing();
    printf("%d checks, %d failed\n", checks, failures);
    return failures != 0;
}
