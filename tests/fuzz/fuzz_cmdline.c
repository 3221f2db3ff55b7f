/* tests/fuzz/fuzz_cmdline.c — libFuzzer target for `gammacl train`'s option parsing
 * (apps/run/run_opts.c), host only: the command line, and the key=value options that checkpoints
 * store and --resume reads back (untrusted: they come from a file).
 *
 * The lowest bit of the first byte picks the mode:
 *   0  the rest is a command line, arguments separated by NUL bytes, given to app_train_parse;
 *   1  the rest is checkpoint metadata given to app_train_opts_from_meta over the defaults.
 * Either way a rejection must come with a message; accepted options must lie in their
 * documented ranges (epochs, batch, lr, milestones increasing, a step schedule with milestones,
 * NUL-terminated strings, an output folder), and must survive the trip through a checkpoint:
 * to_meta, from_meta over the defaults, to_meta again gives the same text (that is what makes a
 * resumed run the same run). Any broken promise aborts so the fuzzer reports it.
 * Run with -close_fd_mask=1: --help prints the usage on stdout.
 * Seeds: tests/fuzz/corpus/cmdline (written by tests/fuzz/make_corpus_text.py).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

/* A string option holding a newline cannot be stored as one key=value line: a known bug, shown
 * by the reliability test opts_meta_newline, that this target finds within seconds when built
 * with -DFUZZ_STRICT_META. Until it is fixed the round trip is checked for every other value. */
static int has_newline(const app_train_opts *o)
{
#ifdef FUZZ_STRICT_META
    (void)o;
    return 0;
#else
    return strchr(o->data, '\n') || strchr(o->model, '\n') || strchr(o->bias_init, '\n');
#endif
}

static void check_options(const app_train_opts *o)
{
    if (!terminated(o->data, sizeof o->data) || !terminated(o->model, sizeof o->model) ||
        !terminated(o->bias_init, sizeof o->bias_init) || !terminated(o->device, sizeof o->device) ||
        !terminated(o->out, sizeof o->out) || !terminated(o->resume, sizeof o->resume))
        abort();
    if (o->epochs < 1 || o->epochs > 100000 || o->batch < 1 || o->batch > 65536) abort();
    if (!(o->gamma >= 1e-6 && o->gamma <= 1e4) || !(o->lr >= 1e-12 && o->lr <= 1e9)) abort();
    if (!(o->momentum >= 0 && o->momentum < 1) || !(o->wd >= 0 && o->wd <= 1)) abort();
    if (!(o->lr_decay > 0 && o->lr_decay <= 1)) abort();
    if (o->train_limit < 0 || o->test_limit < 0 || (o->loss != 0 && o->loss != 1)) abort();
    if (o->nmilestones < 0 || o->nmilestones > 16) abort();
    for (int i = 1; i < o->nmilestones; i++)
        if (o->milestones[i] <= o->milestones[i - 1]) abort();
    if (o->schedule != APP_LR_COSINE && o->schedule != APP_LR_STEP) abort();
}

static void check_round_trip(const app_train_opts *o)
{
    if (has_newline(o)) return;
    char *meta = app_train_opts_to_meta(o);
    if (!meta) return;
    app_train_opts back;
    app_train_defaults(&back);
    char err[1024] = "";
    if (app_train_opts_from_meta(meta, &back, err, sizeof err) != 0) abort();
    char *again = app_train_opts_to_meta(&back);
    if (!again || strcmp(meta, again) != 0) abort();
    free(meta);
    free(again);
}

/* A rejection must say why. Messages quote the offending argument, which on a command line may
 * itself hold a newline; metadata is split at newlines, so its messages are always one line. */
static void check_message(const char *err, int one_line)
{
    if (err[0] == '\0' || (one_line && strchr(err, '\n'))) abort();
}

static void fuzz_command_line(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "train";
    for (size_t i = 0; size > 0 && i <= size && argc <= MAX_ARGS; i += strlen(text + i) + 1)
        argv[argc++] = text + i;
    argv[argc] = NULL;
    app_train_opts o;
    char err[1024] = "";
    int rc = app_train_parse(argc, argv, &o, err, sizeof err);
    if (rc == 0) {
        check_options(&o);
        if (!o.out[0] && !o.resume[0]) abort();
        check_round_trip(&o);
    } else if (rc == 2) {
        check_message(err, 0);
    } else if (rc != 1) {
        abort();
    }
    free(text);
}

static void fuzz_meta(const uint8_t *data, size_t size)
{
    char *meta = malloc(size + 1);
    if (!meta) return;
    memcpy(meta, data, size);
    meta[size] = '\0';
    app_train_opts o;
    app_train_defaults(&o);
    char err[1024] = "";
    if (app_train_opts_from_meta(meta, &o, err, sizeof err) == 0) {
        check_options(&o);
        check_round_trip(&o);
    } else {
        check_message(err, 1);
    }
    free(meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    if (data[0] & 1) fuzz_meta(data + 1, size - 1);
    else fuzz_command_line(data + 1, size - 1);
    return 0;
}
