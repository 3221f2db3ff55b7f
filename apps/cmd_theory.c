/* apps/cmd_theory.c — placeholder until its author lands it. */
#include <stdio.h>
#include "commands.h"
int cmd_theory(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "theory: not built yet\n"); return 1; }
