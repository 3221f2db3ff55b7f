/* apps/main.c — the gammacl command: dispatches to a subcommand, prints usage and version. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list every OpenCL device (--json for scripts)"},
    {"train", cmd_train, "train a model with CE or BCE at a scale gamma; logs both losses"},
    {"eval", cmd_eval, "a trained model under small disturbances: accuracy and flip rate; .npz export"},
    {"sweep", cmd_sweep, "the gamma study: a grid of runs (gamma x loss x seed), tables, plots, report"},
    {"bench", cmd_bench, "the vendor bench: the same science, agreement, convergence and speed per device"},
    {"tune", cmd_tune, "measure the CPU kernels' parameter sets on a device and keep the fastest"},
    {"theory", cmd_theory, "closed-form loss minima and optimal bias for K classes and gammas"},
};

static void usage(FILE *f)
{
    fprintf(f, "gammacl %s — train normalized-feature networks with CE and BCE on any OpenCL device\n\n"
               "usage: gammacl COMMAND [OPTIONS]   (gammacl COMMAND --help for its options)\n\n"
               "commands:\n", GAMMACL_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nenvironment:\n"
               "  GAMMACL_DEVICE    device to use: index, P:D, or part of a name (pocl, llvmpipe, nvidia)\n"
               "  GAMMACL_DATA      folder holding the data sets (default: Debian's dataset folders)\n"
               "  GAMMACL_NO_CACHE  1 = do not cache compiled kernels on disk\n"
               "  GAMMACL_CACHE_DIR where compiled kernels and tuning files live (default ~/.cache/gammacl)\n"
               "  GAMMACL_TUNING    defaults or shipped: ignore `gammacl tune`'s file (comparisons)\n");
}

int main(int argc, char **argv)
{
    /* past a file size limit, a write must fail with EFBIG (and be reported) rather than kill
     * the process mid-checkpoint */
    signal(SIGXFSZ, SIG_IGN);
    /* a reader of the output that goes away (`| head`, a closed `| tee`) must not kill a training
     * or a sweep mid-epoch: writes to it fail instead, and the files are written as always */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gammacl %s\n", GAMMACL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "gammacl: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
