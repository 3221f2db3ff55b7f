/* net/checkpoint_io.c — checkpoint files on disk: the atomic write and the whole-file read (the
 * format itself is checkpoint.c).
 *
 * The writer streams into a uniquely named temporary file next to the target, syncs it, renames it
 * over the target and syncs the folder; on any failure the temporary file is removed and the old
 * target stays as it was. The reader takes regular files within the size limit only, reads them
 * whole and hands the bytes to the parser.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_internal.h"

#define NN_CKPT_TEMP_TRIES 100

/* ---- writer -------------------------------------------------------------------------------- */

/* Creates "<path>.tmp.<pid>.<n>" exclusively; returns the open stream and the name in tmp. */
static FILE *nn_ckpt_open_temp(const char *path, char *tmp, size_t tmplen, int *error)
{
    for (int n = 0; n < NN_CKPT_TEMP_TRIES; n++) {
        snprintf(tmp, tmplen, "%s.tmp.%ld.%d", path, (long)getpid(), n);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        FILE *f = fdopen(fd, "wb");
        if (f) return f;
        *error = errno;
        close(fd);
        unlink(tmp);
        return NULL;
    }
    *error = errno;
    return NULL;
}

/* Flushes the stream and the file to disk and closes it; returns 0 or an errno. */
static int nn_ckpt_close_synced(FILE *f, int error)
{
    if (!error && fflush(f) != 0) error = errno ? errno : EIO;
    if (!error && fsync(fileno(f)) != 0) error = errno;
    if (fclose(f) != 0 && !error) error = errno ? errno : EIO;
    return error;
}

/* Syncs the folder holding path so the rename survives a power loss; returns 0 or an errno. */
static int nn_ckpt_sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 1;
    char *dir = malloc(len + 2);
    if (!dir) return ENOMEM;
    if (!slash) strcpy(dir, ".");
    else if (len == 0) strcpy(dir, "/");
    else {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int error = 0;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0) error = errno;
    else {
        if (fsync(fd) != 0 && errno != EINVAL) error = errno;
        close(fd);
    }
    free(dir);
    return error;
}

int nn_ckpt_write(const char *path, const nn_ckpt *c, char *err, size_t errlen)
{
    if (!path || !*path)
        return nn_ckpt_fail(err, errlen, "cannot write a checkpoint: no path given");
    if (nn_ckpt_check_input(path, c, err, errlen)) return -1;
    size_t tmplen = strlen(path) + 48;
    char *tmp = malloc(tmplen);
    if (!tmp) return nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: out of memory", path);
    int error = 0;
    FILE *f = nn_ckpt_open_temp(path, tmp, tmplen, &error);
    if (!f) {
        nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: cannot create %s: %s; check that "
                     "the folder exists and is writable", path, tmp, strerror(error));
        free(tmp);
        return -1;
    }
    error = nn_ckpt_close_synced(f, nn_ckpt_encode(f, c));
    if (!error && rename(tmp, path) != 0) error = errno;
    if (error) {
        unlink(tmp);
        nn_ckpt_fail(err, errlen, "cannot write checkpoint %s: %s; the previous file, if any, is "
                     "unchanged (check free disk space and permissions)", path, strerror(error));
        free(tmp);
        return -1;
    }
    free(tmp);
    error = nn_ckpt_sync_folder(path);
    if (error)
        return nn_ckpt_fail(err, errlen, "checkpoint %s was written but its folder could not be "
                            "synced: %s; it may not survive a power loss", path, strerror(error));
    return 0;
}

/* ---- reader -------------------------------------------------------------------------------- */

/* Reads the whole file into a new buffer; returns 0 or -1 with a message. */
static int nn_ckpt_slurp(const char *path, FILE *f, uint8_t **out, size_t *outlen, char *err,
                         size_t errlen)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return nn_ckpt_fail(err, errlen, "cannot read checkpoint %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return nn_ckpt_fail(err, errlen, "cannot read checkpoint %s: it is not a regular file",
                            path);
    if ((uint64_t)st.st_size > NN_CKPT_MAX_BYTES || (uint64_t)st.st_size >= SIZE_MAX)
        return nn_ckpt_fail(err, errlen,
                            "checkpoint %s is %llu bytes, above the 4 GiB limit: it is not a "
                            "gammacl checkpoint; check the path", path,
                            (unsigned long long)st.st_size);
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (!buf)
        return nn_ckpt_fail(err, errlen, "out of memory reading checkpoint %s (%zu bytes)", path,
                            size);
    errno = 0;
    size_t got = fread(buf, 1, size + 1, f);
    if (ferror(f) || got != size) {
        int e = errno;
        free(buf);
        if (ferror(f))
            return nn_ckpt_fail(err, errlen, "cannot read checkpoint %s: %s", path,
                                strerror(e ? e : EIO));
        return nn_ckpt_fail(err, errlen,
                            "checkpoint %s changed size while being read: is a run still writing "
                            "it? try again", path);
    }
    *out = buf;
    *outlen = size;
    return 0;
}

int nn_ckpt_read(const char *path, nn_ckpt *c, char *err, size_t errlen)
{
    if (c) memset(c, 0, sizeof *c);
    if (!path || !*path)
        return nn_ckpt_fail(err, errlen, "cannot read a checkpoint: no path given");
    if (!c) return nn_ckpt_fail(err, errlen, "cannot read checkpoint %s: nothing to fill", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return nn_ckpt_fail(err, errlen, "cannot open checkpoint %s: %s", path, strerror(errno));
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = nn_ckpt_slurp(path, f, &bytes, &len, err, errlen);
    fclose(f);
    if (rc) return rc;
    size_t labellen = strlen(path) + 16;
    char *label = malloc(labellen);
    if (!label) {
        free(bytes);
        return nn_ckpt_fail(err, errlen, "out of memory reading checkpoint %s", path);
    }
    snprintf(label, labellen, "checkpoint %s", path);
    rc = nn_ckpt_parse_labelled(bytes, len, label, c, err, errlen);
    free(label);
    free(bytes);
    return rc;
}
