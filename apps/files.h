/* apps/files.h — small file-system helpers for the commands: folders, whole-file reads, and
 * atomic writes (temporary file, fsync, rename, fsync of the folder). */
#ifndef GAMMACL_FILES_H
#define GAMMACL_FILES_H

#include <stddef.h>

/* mkdir -p */
int app_make_dirs(const char *path, char *err, size_t errlen);
/* Reads a whole text file of at most max_bytes (NUL-terminated, no NUL bytes inside). */
int app_read_text_file(const char *path, size_t max_bytes, char **out, char *err, size_t errlen);
/* Removes path and everything under it (0 when it is gone or was never there). */
int app_remove_tree(const char *path);
/* Replaces path with data atomically. */
int app_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Takes the advisory lock of folder dir (dir/.lock, flock), so that one process at a time works
 * in a run or sweep folder; the lock ends with its process, however it ends. `what` (the
 * command) is written into the lock file for the message another process gets. Returns the
 * descriptor to keep open, or -1 with a message naming the process that holds the folder. */
int app_lock_dir(const char *dir, const char *what, char *err, size_t errlen);
/* The same with a mode: APP_LOCK_TRY (exclusive, fail at once when held), APP_LOCK_SHARED (with
 * other shared holders, fail at once when held exclusively: a sweep's shards), APP_LOCK_WAIT
 * (exclusive, waits for the holders). */
enum { APP_LOCK_TRY = 0, APP_LOCK_SHARED = 1, APP_LOCK_WAIT = 2 };
int app_lock_dir_mode(const char *dir, int mode, const char *what, char *err, size_t errlen);
/* A lock on file path itself (created when missing) in one of those modes; `what` (may be NULL)
 * is written into it. Returns the open descriptor (close it to release), -2 when another
 * process holds it (err names the holder), or -1 on an error. */
int app_lock_file(const char *path, int mode, const char *what, char *err, size_t errlen);

#endif
