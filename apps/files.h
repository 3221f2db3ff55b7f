/* apps/files.h — small file-system helpers for the commands: folders, whole-file reads, and
 * atomic writes (temporary file, fsync, rename, fsync of the folder). */
#ifndef GAMMACL_FILES_H
#define GAMMACL_FILES_H

#include <stddef.h>

/* mkdir -p */
int app_make_dirs(const char *path, char *err, size_t errlen);
/* Reads a whole text file of at most max_bytes (NUL-terminated, no NUL bytes inside). */
int app_read_text_file(const char *path, size_t max_bytes, char **out, char *err, size_t errlen);
/* Replaces path with data atomically. */
int app_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
