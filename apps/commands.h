/* apps/commands.h — the subcommands of the gammacl program; each lives in apps/cmd_<name>.c.
 *
 * Every command takes argc/argv without the program name (argv[0] is the command's name) and
 * returns the process exit code: 0 success, 1 a failure at run time, 2 bad usage or bad input,
 * 130/143 interrupted by SIGINT/SIGTERM.
 */
#ifndef GAMMACL_COMMANDS_H
#define GAMMACL_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_theory(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
