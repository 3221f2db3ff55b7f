/* tests/theory/check.h — a tiny pass/fail tally shared by the host-only theory tests. */
#ifndef GAMMACL_TESTS_THEORY_CHECK_H
#define GAMMACL_TESTS_THEORY_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

typedef struct {
    int run;
    int failed;
} check_tally;

/* Records one check; prints a line describing it when it fails. Returns ok. */
static inline int check_that(check_tally *t, int ok, const char *fmt, ...)
{
    t->run++;
    if (!ok) {
        va_list ap;
        t->failed++;
        fputs("FAIL: ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
    }
    return ok;
}

/* |got - want| <= rel * |want| (NaN never passes). */
static inline int check_rel(check_tally *t, double got, double want, double rel, const char *what)
{
    double err = fabs(got - want);
    return check_that(t, err <= rel * fabs(want), "%s: got %.17g, want %.17g (rel err %.3g > %.3g)",
                      what, got, want, want != 0.0 ? err / fabs(want) : err, rel);
}

/* |got - want| <= tol (NaN never passes). */
static inline int check_abs(check_tally *t, double got, double want, double tol, const char *what)
{
    double err = fabs(got - want);
    return check_that(t, err <= tol, "%s: got %.17g, want %.17g (abs err %.3g > %.3g)", what, got,
                      want, err, tol);
}

/* Prints the one-line summary; returns the process exit code. */
static inline int check_summary(const check_tally *t, const char *name)
{
    printf("%s: %d checks, %d failed\n", name, t->run, t->failed);
    return t->failed == 0 && t->run > 0 ? 0 : 1;
}

#endif
