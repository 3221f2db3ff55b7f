/* apps/report/csv.c — see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "text.h"

/* How many columns header has past an older header line (its first n characters, no newline):
 * > 0 when header extends it at a column boundary (a later version appended columns), else 0. */
static int added_columns(const char *header, const char *line, size_t n)
{
    if (n == 0 || strlen(header) <= n || strncmp(header, line, n) != 0 || header[n] != ',') return 0;
    int added = 0;
    for (const char *p = header + n; *p; p++) added += *p == ',';
    return added;
}

/* Reads the header and the first keep data lines of path into a new buffer. With upgrade, a file
 * whose header is an older version's (this header less its last columns) is upgraded: the new
 * header, and each kept row with empty cells for the added columns (what a value that does not
 * apply reads). A torn header line counts as no header. */
static char *read_prefix(const char *path, int keep, const char *header, int upgrade, char *err,
                         size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    app_text t = {0};
    size_t line_cap = 0;
    char *line = NULL;
    int lines = 0, added = 0;
    ssize_t got;
    /* lines of any length (class_acc.csv has a cell per class) */
    while (!t.failed && lines <= keep && (got = getline(&line, &line_cap, f)) > 0) {
        const size_t n = (size_t)got;
        if (line[n - 1] != '\n') break; /* a torn last line is dropped */
        if (lines == 0 && !(n == strlen(header) + 1 && strncmp(line, header, n - 1) == 0)) {
            if (!upgrade || (added = added_columns(header, line, n - 1)) == 0) {
                snprintf(err, errlen, "%s has a different header than this run writes; move it away", path);
                free(t.s), free(line);
                fclose(f);
                return NULL;
            }
            app_text_put(&t, "%s\n", header);
        } else if (lines > 0 && added > 0) {
            app_text_put(&t, "%.*s", (int)(n - 1), line); /* the row, then its empty new cells */
            for (int i = 0; i < added; i++) app_text_put(&t, ",");
            app_text_put(&t, "\n");
        } else {
            app_text_put(&t, "%s", line);
        }
        lines++;
    }
    free(line);
    fclose(f);
    if (t.failed) {
        free(t.s);
        snprintf(err, errlen, "out of memory reading %s", path);
        return NULL;
    }
    if (lines < keep + 1) {
        snprintf(err, errlen, "%s has %d epoch rows but the checkpoint is at epoch %d", path,
                 lines > 0 ? lines - 1 : 0, keep);
        free(t.s);
        return NULL;
    }
    return t.s;
}

int app_csv_open(app_csv *c, const char *path, const char *header, int keep_rows, int upgrade,
                 char *err, size_t errlen)
{
    c->f = NULL;
    const char *slash = strrchr(path, '/');
    snprintf(c->name, sizeof c->name, "%s", slash ? slash + 1 : path);
    char *prefix = NULL;
    if (keep_rows >= 0 && !(prefix = read_prefix(path, keep_rows, header, upgrade, err, errlen))) return -1;
    /* the kept rows (or the header) go to a new file that replaces the old one atomically, so a
     * crash in between never loses a finished epoch's row; later rows are appended to it */
    char *text = prefix;
    if (!text && asprintf(&text, "%s\n", header) < 0) text = NULL;
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = app_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    if (rc != 0) return -1;
    c->f = fopen(path, "a");
    if (!c->f) {
        snprintf(err, errlen, "cannot append to %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int app_csv_row(app_csv *c, const char *line, char *err, size_t errlen)
{
    if (fprintf(c->f, "%s\n", line) < 0 || fflush(c->f) != 0 || fsync(fileno(c->f)) != 0) {
        snprintf(err, errlen, "cannot append to %s: %s", c->name, strerror(errno));
        return -1;
    }
    return 0;
}

void app_csv_close(app_csv *c)
{
    if (c->f) fclose(c->f);
    c->f = NULL;
}
