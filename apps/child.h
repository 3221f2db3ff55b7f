/* apps/child.h — starting gammacl itself as a child process (a sweep's cells, a bench's sweeps
 * and measurements), so that each piece of work is exactly what a user would get by hand and a
 * crashing driver costs one child, not the whole run. */
#ifndef GAMMACL_CHILD_H
#define GAMMACL_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* The running program's own path (/proc/self/exe); 0, or -1 when the system does not say or the
 * path does not fit in len - 1 bytes (readlink would cut it silently). */
int app_self_exe(char *out, size_t len);

/* Starts this program itself, through /proc/self/exe (so a long run keeps running its own
 * version even if the file is rebuilt meanwhile), with argv (envp NULL: this process's
 * environment), its stdout and stderr appended to log. The child dies with its parent
 * (PR_SET_PDEATHSIG) and starts with no signal blocked. Returns its pid, or -1 with errno set. */
pid_t app_spawn(char *const argv[], char *const envp[], const char *log);

#endif
