/* tests/reliability/test_opts_meta.c — a resumed run must be the same run: the options a
 * checkpoint stores (app_train_opts_to_meta) must come back exactly (app_train_opts_from_meta).
 *
 *   test_opts_meta roundtrip   every run option set away from its default survives the trip
 *   test_opts_meta newline     a --data or --model value holding a newline is either refused
 *                              by the parser or survives the trip (found by fuzz_cmdline)
 *   test_opts_meta data_parallel  --data-parallel is a flag (a value other than 0 or 1 is refused:
 *                              the launcher sets the count); a run's rank count is stored as
 *                              data-parallel=N and comes back; a plain run's meta has no such line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static int failures;

static void check(int cond, const char *what)
{
    printf("%s: %s\n", cond ? "ok" : "FAIL", what);
    if (!cond) failures++;
}

/* parses argv, stores, restores over the defaults; returns 1 when it all comes back the same */
static int round_trip(int argc, char **argv, app_train_opts *before, app_train_opts *after)
{
    char err[1024] = "";
    if (app_train_parse(argc, argv, before, err, sizeof err) != 0) {
        printf("  parse failed: %s\n", err);
        return -1;
    }
    char *meta = app_train_opts_to_meta(before);
    app_train_defaults(after);
    int ok = meta && app_train_opts_from_meta(meta, after, err, sizeof err) == 0;
    char *again = ok ? app_train_opts_to_meta(after) : NULL;
    ok = ok && again && strcmp(meta, again) == 0;
    if (!ok) printf("  stored:\n%s  restored:\n%s", meta ? meta : "(null)\n", again ? again : "(null)\n");
    free(meta);
    free(again);
    return ok;
}

static void test_roundtrip(void)
{
    char *argv[] = {"train", "--data", "/data/some set", "--test-data", "/data/its test",
                    "--model", "my=model.spec", "--loss", "bce",
                    "--gamma", "0.1", "--epochs", "7", "--batch", "33", "--lr", "0.30000000000000004",
                    "--momentum", "0.5", "--wd", "1e-7", "--lr-schedule", "step", "--milestones",
                    "2,3,5", "--lr-decay", "0.25", "--seed", "18446744073709551615",
                    "--train-limit", "100", "--test-limit", "50", "--bias-init", "-2.5",
                    "--fast-math", "--augment", "flip,crop", "--data-parallel", "--out", "x"};
    app_train_opts a, b;
    int ok = round_trip((int)(sizeof argv / sizeof argv[0]), argv, &a, &b);
    check(ok == 1, "every run option survives to_meta / from_meta");
    check(ok == 1 && strcmp(a.data, b.data) == 0 && strcmp(a.test_data, b.test_data) == 0 &&
              strcmp(a.model, b.model) == 0 &&
              a.loss == b.loss && a.gamma == b.gamma && a.epochs == b.epochs && a.batch == b.batch &&
              a.lr == b.lr && a.momentum == b.momentum && a.wd == b.wd &&
              a.schedule == b.schedule && a.nmilestones == b.nmilestones &&
              memcmp(a.milestones, b.milestones, sizeof a.milestones) == 0 &&
              a.lr_decay == b.lr_decay && a.seed == b.seed && a.train_limit == b.train_limit &&
              a.test_limit == b.test_limit && strcmp(a.bias_init, b.bias_init) == 0 &&
              a.fast_math == b.fast_math && a.augment == b.augment && a.data_parallel == b.data_parallel &&
              a.data_parallel == 1 &&
              a.augment == (NN_AUGMENT_CROP | NN_AUGMENT_FLIP),
          "the restored fields equal the parsed ones exactly");
}

static void test_newline(void)
{
    char *argv[] = {"train", "--data", "runs/a\nb", "--model", "m\nloss=bce", "--out", "x"};
    app_train_opts a, b;
    int ok = round_trip((int)(sizeof argv / sizeof argv[0]), argv, &a, &b);
    check(ok != 0, "a value with a newline is refused, or comes back unchanged");
    if (ok == 1) check(strcmp(a.data, b.data) == 0 && strcmp(a.model, b.model) == 0 && a.loss == b.loss,
                       "data, model and loss come back unchanged");
}

static void test_data_parallel(void)
{
    char *plain[] = {"train", "--out", "x"}, *dp[] = {"train", "--data-parallel", "--out", "x"},
         *bad[] = {"train", "--data-parallel=2"};
    app_train_opts a, b;
    char err[1024] = "";
    check(app_train_option_takes_value("data-parallel") == 0, "--data-parallel is a flag (takes no value)");
    check(app_train_parse(2, bad, &a, err, sizeof err) == 2 && strstr(err, "mpirun -np N"),
          "--data-parallel=2 is refused, naming the launcher");
    check(round_trip(3, plain, &a, &b) == 1 && a.data_parallel == 0 && b.data_parallel == 0,
          "a plain run: data_parallel 0 both ways");
    char *meta = app_train_opts_to_meta(&a);
    check(meta && !strstr(meta, "data-parallel"), "a plain run's meta has no data-parallel line");
    free(meta);
    check(round_trip(4, dp, &a, &b) == 1 && a.data_parallel == 1 && b.data_parallel == 1,
          "--data-parallel: 1, and back");
    a.data_parallel = 4; /* a run of 4 ranks stores its count */
    meta = app_train_opts_to_meta(&a);
    app_train_defaults(&b);
    check(meta && strstr(meta, "\ndata-parallel=4\n") && app_train_opts_from_meta(meta, &b, err, sizeof err) == 0 &&
              b.data_parallel == 4, "a run of 4 ranks stores data-parallel=4, and reads it back");
    free(meta);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_opts_meta roundtrip|newline|data_parallel\n");
        return 2;
    }
    if (strcmp(argv[1], "roundtrip") == 0) test_roundtrip();
    else if (strcmp(argv[1], "newline") == 0) test_newline();
    else if (strcmp(argv[1], "data_parallel") == 0) test_data_parallel();
    else {
        fprintf(stderr, "unknown case '%s'\n", argv[1]);
        return 2;
    }
    return failures ? 1 : 0;
}
