/* apps/files.c — see files.h. */
#define _POSIX_C_SOURCE 200809L
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int app_make_dirs(const char *path, char *err, size_t errlen)
{
    char tmp[1200];
    if (!*path || strlen(path) >= sizeof tmp) {
        snprintf(err, errlen, "bad folder name '%.100s'", path);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != 0) continue;
        const char c = *p;
        *p = 0;
        struct stat st;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create folder %s: %s", tmp, strerror(errno));
            return -1;
        }
        if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a folder", tmp);
            return -1;
        }
        if (c == 0) break;
        *p = c;
    }
    return 0;
}

int app_read_text_file(const char *path, size_t max_bytes, char **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(max_bytes + 1);
    size_t n = buf ? fread(buf, 1, max_bytes + 1, f) : 0;
    const int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > max_bytes || memchr(buf, 0, n)) {
        snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" : bad ? "read error" :
                 n > max_bytes ? "file too large" : "not a text file (NUL bytes)");
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *out = buf;
    return 0;
}

int app_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[1300], dir[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w, left -= (size_t)w;
    }
    int e = errno;
    if (left > 0 || fsync(fd) != 0) {
        if (left == 0) e = errno;
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int app_lock_file(const char *path, int mode, const char *what, char *err, size_t errlen)
{
    const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    const int op = mode == APP_LOCK_WAIT ? LOCK_EX : (mode == APP_LOCK_SHARED ? LOCK_SH : LOCK_EX) | LOCK_NB;
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR && mode == APP_LOCK_WAIT) {
    }
    if (rc != 0) {
        const int e = errno;
        char holder[256] = "";
        const ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK) {
            snprintf(err, errlen, "%s is in use by another process (%s)", path, holder[0] ? holder : "unknown");
            return -2;
        }
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return -1;
    }
    if (what) {
        char line[300];
        const int len = snprintf(line, sizeof line, "pid %ld, %s\n", (long)getpid(), what);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
            /* the lock holds; only the note for others is missing */
        }
    }
    return fd;
}

int app_lock_dir_mode(const char *dir, int mode, const char *what, char *err, size_t errlen)
{
    char path[1200], why[1400];
    snprintf(path, sizeof path, "%s/.lock", dir);
    const int fd = app_lock_file(path, mode, what, why, sizeof why);
    if (fd == -2) {
        const char *holder = strstr(why, " is in use by another process (");
        holder = holder ? holder + strlen(" is in use by another process ") : NULL;
        snprintf(err, errlen, "%s is in use by another process %s; wait for it to end, or stop it, before "
                 "working in this folder", dir, holder ? holder : "(unknown)");
        return -1;
    }
    if (fd < 0) snprintf(err, errlen, "%s", why);
    return fd;
}

int app_lock_dir(const char *dir, const char *what, char *err, size_t errlen)
{
    return app_lock_dir_mode(dir, APP_LOCK_TRY, what, err, errlen);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int app_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
