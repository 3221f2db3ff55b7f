/* apps/report/text.h — a growing text buffer for the tables the commands write (sweep.csv,
 * summary.csv, bench.csv): printf-style appends, one failure flag checked once at the end. */
#ifndef GAMMACL_TEXT_H
#define GAMMACL_TEXT_H

#include <stddef.h>

typedef struct app_text {
    char *s;                   /* NUL-terminated; free() it */
    size_t len, cap;
    int failed;                /* an append ran out of memory (or the format failed) */
} app_text;

void app_text_put(app_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
