/* net/checkpoint_internal.h — what net/checkpoint.c (the format) lends net/checkpoint_io.c (the
 * files); nothing else includes it.
 */
#ifndef GAMMACL_CHECKPOINT_INTERNAL_H
#define GAMMACL_CHECKPOINT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "checkpoint.h"

#define NN_CKPT_MAX_BYTES ((uint64_t)4 << 30) /* refuse files above 4 GiB */

/* Formats a message into err (if any room) and returns -1. */
int nn_ckpt_fail(char *err, size_t errlen, const char *fmt, ...);
/* Refuses what the reader would refuse, so every file written can be read back; messages name
 * path. Returns 0 or -1. */
int nn_ckpt_check_input(const char *path, const nn_ckpt *c, char *err, size_t errlen);
/* Writes a checked checkpoint to f, body and trailing CRC; returns 0 or the errno of the first
 * failed write (nothing is written after it). */
int nn_ckpt_encode(FILE *f, const nn_ckpt *c);
/* nn_ckpt_parse with label ("checkpoint <path>") naming the bytes in messages. */
int nn_ckpt_parse_labelled(const uint8_t *bytes, size_t len, const char *label, nn_ckpt *c,
                           char *err, size_t errlen);

#endif
