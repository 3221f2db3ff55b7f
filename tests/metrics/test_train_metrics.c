/* tests/metrics/test_train_metrics.c — `gammacl train` (its path is argv[1]) writes the feature
 * metrics: on a small synthetic IDX data set (4 classes of 8x8 images, a bright quadrant per class)
 * and a small model spec,
 *   --metrics-every 2, 3 epochs: metrics.csv keeps the original 12 columns first, has the epoch-0
 *     row (training cells empty, E_t = 1), metric cells in epochs 0, 2 and 3 only (3 is the last),
 *     every row as many cells as the header; hist/epoch_NNN.png exactly for those epochs (PNG
 *     files); summary.json has the metrics and the convergence fit;
 *   --resume: a run stopped by SIGINT at its first step (the signal is pending before it starts)
 *     exits 130 after the epoch-0 row; resumed, its metrics.csv equals the uninterrupted run's in
 *     every cell but the timings (so keep_rows counted the epoch-0 row and L_0 came back from the
 *     checkpoint);
 *   --metrics-every 0: no epoch-0 row, empty metric cells, no histograms, no "metrics" in summary.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { TRAIN_N = 160, TEST_N = 48, SIDE = 8, CLASSES = 4, MAX_CELLS = 256, MAX_ROWS = 16 };

static int checks, failures;

static int check(int ok, const char *fmt, ...)
{
    checks++;
    if (ok) return 1;
    failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL [metrics/train] ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

/* ---- files ---- */

static void put_be32(FILE *f, unsigned v)
{
    const unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* IDX images and labels of n samples: class y has its quadrant y bright, the rest noise */
static int write_idx(const char *dir, const char *prefix, int n, unsigned seed)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *fi = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fl = fopen(path, "wb");
    if (!fi || !fl) return -1;
    put_be32(fi, 0x803), put_be32(fi, (unsigned)n), put_be32(fi, SIDE), put_be32(fi, SIDE);
    put_be32(fl, 0x801), put_be32(fl, (unsigned)n);
    for (int i = 0; i < n; i++) {
        const int y = i % CLASSES;
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++) {
                seed = seed * 1103515245u + 12345u;
                const int quadrant = (r >= SIDE / 2) * 2 + (c >= SIDE / 2);
                const int v = (int)((seed >> 16) % 80) + (quadrant == y ? 150 : 0);
                fputc(v, fi);
            }
        fputc(y, fl);
    }
    fclose(fi);
    fclose(fl);
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int exists(const char *dir, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct stat st;
    return stat(path, &st) == 0;
}

static int is_png(const char *dir, const char *rel)
{
    char path[1200];
    unsigned char sig[8] = {0};
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    const size_t n = fread(sig, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
}

static char *read_all(const char *dir, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = 0;
    else if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* ---- metrics.csv ---- */

typedef struct table {
    int rows, cols;
    char *cell[MAX_ROWS + 1][MAX_CELLS]; /* row 0 is the header */
    int ncells[MAX_ROWS + 1];
    char *text;
} table;

static int load_csv(const char *dir, table *t)
{
    memset(t, 0, sizeof *t);
    t->text = read_all(dir, "metrics.csv");
    if (!t->text) return -1;
    int row = 0;
    for (char *line = t->text; *line && row <= MAX_ROWS; row++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        int n = 0;
        for (char *p = line;; n++) {
            char *comma = strchr(p, ',');
            if (n < MAX_CELLS) t->cell[row][n] = p;
            if (!comma) break;
            *comma = 0;
            p = comma + 1;
        }
        t->ncells[row] = n + 1;
        if (!nl) { row++; break; }
        line = nl + 1;
    }
    t->rows = row - 1;
    t->cols = t->ncells[0];
    return 0;
}

static int column(const table *t, const char *name)
{
    for (int c = 0; c < t->cols; c++)
        if (strcmp(t->cell[0][c], name) == 0) return c;
    return -1;
}

static const char *cell(const table *t, int row, const char *name)
{
    const int c = column(t, name);
    return c >= 0 && c < t->ncells[row] ? t->cell[row][c] : NULL;
}

/* ---- running gammacl ---- */

typedef struct setup { const char *program; char data[1024], spec[1024], tmp[1024]; } setup;

/* Runs gammacl train with the common options, out, and extra arguments (NULL-terminated);
 * with interrupt, SIGINT is already pending when the program starts. Returns the exit code. */
static int run_train(const setup *s, const char *out, int interrupt, const char *const *extra)
{
    const char *argv[40] = {s->program, "train", "--data", s->data, "--model", s->spec,
                            "--epochs", "3", "--batch", "32", "--lr", "0.05", "--gamma", "8",
                            "--metrics-train-limit", "70", "--progress", "0", "--out", out};
    int argc = 20;
    for (int i = 0; extra && extra[i] && argc < 38; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        if (!interrupt) sigprocmask(SIG_SETMASK, &old, NULL);
        else if (!freopen("/dev/null", "w", stderr)) _exit(127);
        execv(s->program, (char *const *)argv);
        _exit(127);
    }
    if (pid > 0 && interrupt) kill(pid, SIGINT);
    int status = 0;
    const int waited = pid > 0 && waitpid(pid, &status, 0) == pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return waited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *const BASE_COLUMNS[] = {"epoch", "seconds", "lr", "train_ce", "train_bce",
                                           "train_acc", "test_ce", "test_bce", "test_acc",
                                           "bias", "b_star", "img_per_s"};
static const char *const TRAINED_ONLY[] = {"lr", "train_ce", "train_bce", "train_acc", "img_per_s"};
static const char *const SOME_METRICS[] = {"metrics_seconds", "ce_star", "bce_star", "train_eval_ce",
                                           "train_ce_E", "train_bce_E", "test_ce_E", "nc2_etf_w",
                                           "train_compact", "train_nc1", "test_nc4", "train_uacc",
                                           "test_margin_p5", "train_grad_ce", "test_grad_bce",
                                           "train_sep_min_deg", "test_gap"};

static void check_every_two(const setup *s)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/every2", s->tmp);
    const char *extra[] = {"--metrics-every", "2", NULL};
    if (!check(run_train(s, out, 0, extra) == 0, "gammacl train --metrics-every 2 failed")) return;
    table t;
    if (!check(load_csv(out, &t) == 0, "no metrics.csv in %s", out)) return;
    for (int c = 0; c < 12; c++)
        check(c < t.cols && strcmp(t.cell[0][c], BASE_COLUMNS[c]) == 0, "column %d is '%s', want '%s'",
              c, c < t.cols ? t.cell[0][c] : "", BASE_COLUMNS[c]);
    check(t.rows == 4, "%d data rows, want 4 (epochs 0..3)", t.rows);
    for (int r = 1; r <= t.rows; r++) {
        check(t.ncells[r] == t.cols, "row %d has %d cells, the header %d", r, t.ncells[r], t.cols);
        check(atoi(t.cell[r][0]) == r - 1, "row %d is epoch %s, want %d", r, t.cell[r][0], r - 1);
    }
    for (size_t i = 0; i < sizeof SOME_METRICS / sizeof *SOME_METRICS; i++) {
        const char *name = SOME_METRICS[i];
        check(column(&t, name) >= 0, "no column %s", name);
        for (int r = 1; r <= t.rows && column(&t, name) >= 0; r++) {
            const int evaluated = r != 2; /* epochs 0, 2 and 3 (the last) */
            const char *v = cell(&t, r, name);
            check(v && (evaluated ? v[0] != 0 : v[0] == 0), "epoch %d: %s is '%s', want %s", r - 1, name,
                  v ? v : "(none)", evaluated ? "a value" : "empty");
        }
    }
    for (size_t i = 0; i < sizeof TRAINED_ONLY / sizeof *TRAINED_ONLY; i++) {
        const char *v0 = cell(&t, 1, TRAINED_ONLY[i]), *v1 = cell(&t, 2, TRAINED_ONLY[i]);
        check(v0 && !v0[0] && v1 && v1[0], "%s: epoch 0 '%s' (want empty), epoch 1 '%s' (want a value)",
              TRAINED_ONLY[i], v0 ? v0 : "(none)", v1 ? v1 : "(none)");
    }
    check(t.rows >= 1 && cell(&t, 1, "train_ce_E") && atof(cell(&t, 1, "train_ce_E")) == 1.0,
          "epoch 0: train_ce_E is '%s', want 1", t.rows >= 1 ? cell(&t, 1, "train_ce_E") : "");
    check(t.rows >= 4 && cell(&t, 4, "test_bce_E") && atof(cell(&t, 4, "test_bce_E")) < 1.0,
          "epoch 3: test_bce_E '%s' should have dropped below 1", t.rows >= 4 ? cell(&t, 4, "test_bce_E") : "");
    check(t.rows >= 4 && atoi(cell(&t, 4, "train_n")) == 70, "train_n is '%s', want 70 (--metrics-train-limit)",
          t.rows >= 4 ? cell(&t, 4, "train_n") : "");
    const char *pngs[] = {"hist/epoch_000.png", "hist/epoch_002.png", "hist/epoch_003.png"};
    for (int i = 0; i < 3; i++) check(is_png(out, pngs[i]), "%s is missing or not a PNG", pngs[i]);
    check(!exists(out, "hist/epoch_001.png"), "hist/epoch_001.png written for an epoch without metrics");
    char *json = read_all(out, "summary.json");
    const char *keys[] = {"\"convergence\"", "\"slope_log_E_per_epoch\"", "\"epochs_to_E_below_1e-2\"",
                          "\"metrics\"", "\"nc1\"", "\"metrics_share_of_epoch_time\"", "\"uacc\""};
    for (int i = 0; i < 7; i++) check(json && strstr(json, keys[i]), "summary.json lacks %s", keys[i]);
    free(json);
    free(t.text);
}

/* every cell but the timings */
static void compare_runs(const table *a, const table *b)
{
    check(a->rows == b->rows && a->cols == b->cols, "resumed run: %d rows x %d columns, uninterrupted "
          "%d x %d", b->rows, b->cols, a->rows, a->cols);
    for (int r = 0; r <= a->rows && r <= b->rows; r++)
        for (int c = 0; c < a->cols && c < b->cols; c++) {
            const char *name = a->cell[0][c];
            if (!strcmp(name, "seconds") || !strcmp(name, "img_per_s") || !strcmp(name, "metrics_seconds"))
                continue;
            check(c < a->ncells[r] && c < b->ncells[r] && strcmp(a->cell[r][c], b->cell[r][c]) == 0,
                  "resumed run differs in row %d, %s: '%s' vs '%s'", r, name,
                  c < b->ncells[r] ? b->cell[r][c] : "", c < a->ncells[r] ? a->cell[r][c] : "");
        }
}

static void check_resume(const setup *s)
{
    char whole[1100], cut[1100];
    snprintf(whole, sizeof whole, "%s/whole", s->tmp);
    snprintf(cut, sizeof cut, "%s/cut", s->tmp);
    if (!check(run_train(s, whole, 0, NULL) == 0, "uninterrupted run failed")) return;
    check(run_train(s, cut, 1, NULL) == 130, "a run with SIGINT pending should stop with 130");
    table t;
    if (check(load_csv(cut, &t) == 0, "the stopped run has no metrics.csv"))
        check(t.rows == 1, "the stopped run has %d rows, want the epoch-0 row only", t.rows);
    free(t.text);
    const char *argv_resume[] = {s->program, "train", "--resume", cut, "--progress", "0", NULL};
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execv(s->program, (char *const *)argv_resume);
        _exit(127);
    }
    int status = 0;
    check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "gammacl train --resume failed");
    table a, b;
    if (check(load_csv(whole, &a) == 0 && load_csv(cut, &b) == 0, "metrics.csv missing")) compare_runs(&a, &b);
    free(a.text), free(b.text);
}

static void check_never(const setup *s)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/never", s->tmp);
    const char *extra[] = {"--metrics-every", "0", "--epochs", "1", NULL};
    if (!check(run_train(s, out, 0, extra) == 0, "gammacl train --metrics-every 0 failed")) return;
    table t;
    if (!check(load_csv(out, &t) == 0, "no metrics.csv")) return;
    check(t.rows == 1 && atoi(t.cell[1][0]) == 1, "--metrics-every 0: %d rows (want one, epoch 1)", t.rows);
    const char *v = t.rows >= 1 ? cell(&t, 1, "train_nc1") : NULL;
    check(v && !v[0], "--metrics-every 0: train_nc1 is '%s', want empty", v ? v : "(none)");
    check(!exists(out, "hist"), "--metrics-every 0 wrote histograms");
    char *json = read_all(out, "summary.json");
    check(json && !strstr(json, "\"metrics\""), "--metrics-every 0: summary.json has metrics");
    free(json);
    free(t.text);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-GAMMACL\n", argv[0]);
        return 2;
    }
    setup s = {.program = argv[1]};
    snprintf(s.tmp, sizeof s.tmp, "%s/gammacl-metrics-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s.tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(s.data, sizeof s.data, "%s/data", s.tmp);
    snprintf(s.spec, sizeof s.spec, "%s/small.spec", s.tmp);
    mkdir(s.data, 0755);
    FILE *f = fopen(s.spec, "w");
    if (f) fputs("conv 8 k=3\nbn\nrelu\nmaxpool k=2\nconv 16 k=3\nbn\nrelu\ngap\n", f), fclose(f);
    if (!f || write_idx(s.data, "train", TRAIN_N, 7) != 0 || write_idx(s.data, "t10k", TEST_N, 8) != 0) {
        fprintf(stderr, "cannot write the test data under %s\n", s.tmp);
        return 1;
    }
    check_every_two(&s);
    check_resume(&s);
    check_never(&s);
    nftw(s.tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%-24s %4d checks, %d failed\n", "metrics/train", checks, failures);
    return failures ? 1 : 0;
}
