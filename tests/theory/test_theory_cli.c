/* tests/theory/test_theory_cli.c — runs the built `gammacl theory` command (its path is argv[1])
 * and checks exit codes and output: bad input exits 2 with a message on stderr and nothing on
 * stdout; --help, the table and the CSV succeed, and the CSV carries the closed forms exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "theory.h"

enum { OUTPUT_MAX = 1 << 16 };

typedef struct {
    int status; /* exit code, or -1 when the command did not exit normally */
    char out[OUTPUT_MAX], err[OUTPUT_MAX];
} run_result;

/* Reads the whole of f (from its start) into buf as a string. */
static void slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
}

/* Runs `program theory ARGS...` (args ends with NULL) capturing stdout and stderr. */
static int run_theory(const char *program, const char *const *args, run_result *r)
{
    const char *argv[32] = {program, "theory"};
    int argc = 2;
    while (args[argc - 2] && argc < 31) argv[argc] = args[argc - 2], argc++;
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        execv(program, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    fclose(out);
    fclose(err);
    return 0;
}

/* Joins args into one line for messages. */
static const char *describe(const char *const *args, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; args[i]; i++) {
        strncat(buf, "'", cap - strlen(buf) - 1);
        strncat(buf, args[i], cap - strlen(buf) - 1);
        strncat(buf, "' ", cap - strlen(buf) - 1);
    }
    return buf;
}

static void test_rejects(check_tally *t, const char *program, run_result *r)
{
    static const char *const cases[][4] = {
        {"--classes", "1", NULL},        {"--classes", "0", NULL},
        {"--classes", "-3", NULL},       {"--classes", "100001", NULL},
        {"--classes", "2.5", NULL},      {"--classes", "abc", NULL},
        {"--classes", "", NULL},         {"--classes", "10x", NULL},
        {"--classes", " 10", NULL},      {"--classes", "99999999999999999999", NULL},
        {"--classes", NULL},             {"--gammas", NULL},
        {"--gammas", "1,,2", NULL},      {"--gammas", "abc", NULL},
        {"--gammas", "-1", NULL},        {"--gammas", "0", NULL},
        {"--gammas", "nan", NULL},       {"--gammas", "inf", NULL},
        {"--gammas", "", NULL},          {"--gammas", "1,", NULL},
        {"--gammas", ",1", NULL},        {"--gammas", "1, 2", NULL},
        {"--gammas", "1e999", NULL},     {"--gammas", "0x10", NULL},
        {"--gammas", "1;2", NULL},       {"--gammas", "2e", NULL},
        {"--gammas", "1e-400", NULL},    {"--gammas", "1,2,nan", NULL},
        {"--gammas=", NULL},             {"--frobnicate", NULL},
        {"--classe", "3", NULL},         {"extra", NULL},
        {"--csv", "--gammas", "1,-2", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[256];
        describe(cases[i], what, sizeof what);
        if (!check_that(t, run_theory(program, cases[i], r) == 0, "could not run %s", what))
            continue;
        check_that(t, r->status == 2, "theory %s: exit %d, want 2", what, r->status);
        check_that(t, r->out[0] == '\0', "theory %s: printed on stdout: %.80s", what, r->out);
        check_that(t, strncmp(r->err, "gammacl theory: ", 16) == 0 && strchr(r->err, '\n') != NULL,
                   "theory %s: no clear message on stderr (got '%.80s')", what, r->err);
    }
}

static void test_help_and_table(check_tally *t, const char *program, run_result *r)
{
    static const char *const help[] = {"--help", NULL};
    if (run_theory(program, help, r) == 0) {
        check_that(t, r->status == 0 && strstr(r->out, "usage: gammacl theory") != NULL,
                   "--help: exit %d, output '%.80s'", r->status, r->out);
    }
    static const char *const table[] = {"--classes", "10", NULL};
    if (!check_that(t, run_theory(program, table, r) == 0, "could not run the table")) return;
    check_that(t, r->status == 0 && r->err[0] == '\0', "table: exit %d, stderr '%.80s'",
               r->status, r->err);
    check_that(t, strstr(r->out, "K = 10 classes; critical gamma (b* = gamma) = 2.549892") != NULL,
               "table: header line missing K or the critical gamma:\n%s", r->out);
    /* The default gammas give 8 rows after the two header lines; the last one is gamma 64. */
    int lines = 0;
    for (const char *p = r->out; *p; p++) lines += *p == '\n';
    check_that(t, lines == 10, "table: %d lines, want 10", lines);
    const char *row64 = strstr(r->out, "\n       64 ");
    check_that(t, row64 && strstr(row64, "1.1778e-30") && strstr(row64, "29.5431") &&
                      strstr(row64, "2.1705e-15") && strstr(row64, "34.457") &&
                      strstr(row64, "-36.654"),
               "table: row gamma=64 wrong or missing:\n%s", r->out);
}

/* Parses one CSV data row of at most max numbers. Returns the count, or -1 on junk. */
static int parse_csv_row(const char *line, double *v, int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || n == max) return -1;
        v[n++] = x;
        if (*end != ',') return *end == '\n' || *end == '\0' ? n : -1;
        p = end + 1;
    }
}

static void test_csv(check_tally *t, const char *program, run_result *r)
{
    static const char *const args[] = {"--csv", "--classes=10", "--gammas", "1,2,4,8,16,32,64,1000",
                                       NULL};
    static const double gammas[] = {1, 2, 4, 8, 16, 32, 64, 1000};
    if (!check_that(t, run_theory(program, args, r) == 0, "could not run --csv")) return;
    check_that(t, r->status == 0 && r->err[0] == '\0', "csv: exit %d, stderr '%.80s'", r->status,
               r->err);
    const char *header = "K,gamma,ce_min,bce_bias,threshold,bce_min,pos_logit,neg_logit,"
                         "ce_grad_bound,critical_gamma\n";
    if (!check_that(t, strncmp(r->out, header, strlen(header)) == 0,
                    "csv: header row wrong: %.120s", r->out))
        return;
    const char *line = r->out + strlen(header);
    size_t rows = 0;
    for (; *line && rows < sizeof gammas / sizeof gammas[0]; rows++) {
        double v[10], g = gammas[rows];
        int K = 10;
        if (!check_that(t, parse_csv_row(line, v, 10) == 10, "csv: bad row '%.120s'", line)) return;
        double b = nn_theory_bce_bias(g, K);
        double want[10] = {K, g, nn_theory_ce_min(g, K), b, b / g, nn_theory_bce_min(g, K),
                           g - b, -g / (K - 1) - b, nn_theory_ce_grad_bound(g, K, 10.0 / 9.0),
                           nn_theory_critical_gamma(K)};
        for (int j = 0; j < 10; j++)
            check_that(t, v[j] == want[j], "csv row gamma=%g field %d: %.17g, want %.17g", g, j,
                       v[j], want[j]);
        line = strchr(line, '\n');
        if (!line) break;
        line++;
    }
    check_that(t, rows == sizeof gammas / sizeof gammas[0] && line && *line == '\0',
               "csv: %zu data rows, want %zu and nothing after them", rows,
               sizeof gammas / sizeof gammas[0]);
}

int main(int argc, char **argv)
{
    check_tally t = {0, 0};
    if (argc != 2) {
        fprintf(stderr, "usage: test_theory_cli PATH-TO-GAMMACL\n");
        return 2;
    }
    run_result *r = malloc(sizeof *r);
    if (!r) return 1;
    test_rejects(&t, argv[1], r);
    test_help_and_table(&t, argv[1], r);
    test_csv(&t, argv[1], r);
    free(r);
    return check_summary(&t, "theory command");
}
