/* apps/child.c — see child.h. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

int app_self_exe(char *out, size_t len)
{
    if (len < 2) return -1;
    const ssize_t n = readlink("/proc/self/exe", out, len - 1);
    /* readlink does not say when it truncated: a path that fills the buffer may have been cut */
    if (n <= 0 || (size_t)n >= len - 1) return -1;
    out[n] = 0;
    return 0;
}

pid_t app_spawn(char *const argv[], char *const envp[], const char *log)
{
    const pid_t parent = getpid();
    const int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* this very program, even when its file was replaced (a rebuild) since it started */
        execve("/proc/self/exe", argv, envp ? envp : environ);
        _exit(127);
    }
    const int saved = errno;
    close(fd);
    errno = saved;
    return pid;
}
