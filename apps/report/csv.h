/* apps/report/csv.h — metrics.csv (and class_acc.csv): one row per epoch, flushed and synced as
 * soon as it is written, so a finished epoch is never lost; on resume the rows after the
 * checkpoint's epoch are dropped. */
#ifndef GAMMACL_CSV_H
#define GAMMACL_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct app_csv { FILE *f; char name[64]; } app_csv;  /* name: the file's, for messages */

/* Creates path with the header line, or (keep_rows >= 0) keeps the header (which must be exactly
 * this one, or with upgrade an older version's: this one less its last columns, which the kept
 * rows then gain as empty cells) and the first keep_rows data rows of an existing file; either is
 * written to a temporary file that replaces the old one atomically, and later rows are appended. */
int app_csv_open(app_csv *c, const char *path, const char *header, int keep_rows, int upgrade,
                 char *err, size_t errlen);
/* Writes one line (no newline in line), then flushes and fsyncs. */
int app_csv_row(app_csv *c, const char *line, char *err, size_t errlen);
void app_csv_close(app_csv *c);

#endif
