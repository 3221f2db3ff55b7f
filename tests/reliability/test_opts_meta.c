/* tests/reliability/test_opts_meta.c — a resumed run must be the same run: the options a
 * checkpoint stores (app_train_opts_to_meta) must come back exactly (app_train_opts_from_meta).
 *
 *   test_opts_meta roundtrip   every run option set away from its default survives the trip
 *   test_opts_meta newline     a --data or --model value holding a newline is either refused
 *                              by the parser or survives the trip (found by fuzz_cmdline)
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
                    "--fast-math", "--augment", "flip,crop", "--out", "x"};
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
              a.fast_math == b.fast_math && a.augment == b.augment &&
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_opts_meta roundtrip|newline\n");
        return 2;
    }
    if (strcmp(argv[1], "roundtrip") == 0) test_roundtrip();
    else if (strcmp(argv[1], "newline") == 0) test_newline();
    else {
        fprintf(stderr, "unknown case '%s'\n", argv[1]);
        return 2;
    }
    return failures ? 1 : 0;
}
