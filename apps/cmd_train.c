/* apps/cmd_train.c — `gammacl train`: parses the options and runs (or resumes) training. */
#include <stdio.h>

#include "commands.h"
#include "run.h"

int cmd_train(int argc, char **argv)
{
    app_train_opts o;
    char err[1024];
    int rc = app_train_parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) return 0; /* --help */
    if (rc != 0) {
        fprintf(stderr, "gammacl train: %s\n", err);
        return 2;
    }
    return app_train_run(&o);
}
