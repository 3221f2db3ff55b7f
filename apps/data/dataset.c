/* apps/data/dataset.c — data set lifetime, the helpers shared by the readers (messages, overflow-
 * checked sizes, whole-file reads) and app_dataset_open, which turns a --data value into a reader
 * call: a known data set name looked up in GAMMACL_DATA or the Debian dataset folders, or a path;
 * app_dataset_open_test_set for a separate test set (--test-data) and the check that it fits the
 * training set (shape, classes, class names).
 */
#include "dataset.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEBIAN_DATASETS "/usr/share/datasets"
#define READ_CHUNK ((size_t)1 << 16)
#define MAX_TRIED 8

/* ---- Shared helpers ---- */

void app_data_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int app_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 1;
    *out = a * b;
    return 0;
}

char *app_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *path = malloc(dl + (size_t)slash + nl + 1);
    if (!path)
        return NULL;
    memcpy(path, dir, dl);
    if (slash)
        path[dl] = '/';
    memcpy(path + dl + (size_t)slash, name, nl + 1);
    return path;
}

/* First buffer size for a file: its size when it is a regular file, plus one byte so that the end
 * of file is seen without growing; 0 when a regular file is already over the limit. */
static size_t initial_read_size(FILE *f, size_t max_len)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
        return READ_CHUNK;
    if ((unsigned long long)st.st_size > max_len)
        return 0;
    return (size_t)st.st_size + 1;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads f to its end into *buf (capacity *size), growing up to max_len + 1 bytes. */
static int read_stream(FILE *f, size_t max_len, uint8_t **buf, size_t *size, size_t *used)
{
    for (;;) {
        if (*used == *size) {
            if (*size > max_len)
                return 2;
            size_t grown = *size > (max_len + 1) / 2 ? max_len + 1 : *size * 2;
            uint8_t *bigger = realloc(*buf, grown);
            if (!bigger)
                return 3;
            *buf = bigger;
            *size = grown;
        }
        size_t n = fread(*buf + *used, 1, *size - *used, f);
        *used += n;
        if (n == 0)
            return ferror(f) ? 1 : 0;
    }
}

int app_read_file(const char *path, size_t max_len, uint8_t **bytes, size_t *len, char *err,
                  size_t errlen)
{
    *bytes = NULL;
    *len = 0;
    if (max_len > SIZE_MAX / 4)
        max_len = SIZE_MAX / 4;
    if (is_directory(path)) {
        app_data_error(err, errlen, "%s is a folder, expected a file", path);
        return 1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        app_data_error(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return 1;
    }
    size_t size = initial_read_size(f, max_len), used = 0;
    uint8_t *buf = size ? malloc(size) : NULL;
    int rc = size == 0 ? 2 : buf ? read_stream(f, max_len, &buf, &size, &used) : 3;
    fclose(f);
    if (rc == 1)
        app_data_error(err, errlen, "cannot read %s: %s", path, strerror(errno));
    else if (rc == 2)
        app_data_error(err, errlen, "%s is larger than the limit of %zu bytes for one file",
                       path, max_len);
    else if (rc == 3)
        app_data_error(err, errlen, "out of memory reading %s", path);
    if (rc != 0) {
        free(buf);
        return 1;
    }
    *bytes = buf;
    *len = used;
    return 0;
}

/* ---- Data set lifetime ---- */

void app_dataset_free(app_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

void app_dataset_limit(app_dataset *d, int n)
{
    if (!d || n <= 0 || n >= d->count)
        return;
    size_t sample = (size_t)d->channels * (size_t)d->height * (size_t)d->width;
    d->count = n;
    /* n < count, so neither size overflows; a failed shrink keeps the (larger) old block */
    uint8_t *pixels = d->pixels && sample ? realloc(d->pixels, (size_t)n * sample) : NULL;
    if (pixels)
        d->pixels = pixels;
    int32_t *labels = d->labels ? realloc(d->labels, (size_t)n * sizeof *labels) : NULL;
    if (labels)
        d->labels = labels;
}

/* ---- Resolving a --data value ---- */

typedef enum source_kind { SOURCE_IDX, SOURCE_CIFAR10, SOURCE_CIFAR100 } source_kind;

typedef struct known_set {
    const char *name;
    source_kind kind;
    const char *folders[3]; /* names tried under the data root, in order */
    const char *how_to_get;
} known_set;

static const known_set KNOWN_SETS[] = {
    {"fashion-mnist", SOURCE_IDX, {"fashion-mnist", NULL, NULL},
     "install the Debian package dataset-fashion-mnist or set GAMMACL_DATA to a folder holding "
     "fashion-mnist/"},
    {"mnist", SOURCE_IDX, {"mnist", NULL, NULL},
     "set GAMMACL_DATA to a folder holding mnist/ with the four IDX files"},
    {"cifar10", SOURCE_CIFAR10, {"cifar10", "cifar-10-batches-bin", "cifar10/cifar-10-batches-bin"},
     "download the CIFAR-10 binary version and set GAMMACL_DATA to the folder holding "
     "cifar-10-batches-bin/"},
    {"cifar100", SOURCE_CIFAR100, {"cifar100", "cifar-100-binary", "cifar100/cifar-100-binary"},
     "download the CIFAR-100 binary version and set GAMMACL_DATA to the folder holding "
     "cifar-100-binary/"},
};

/* Paths looked at while resolving, for the message when nothing is found. */
typedef struct tried_paths {
    char list[APP_ERRLEN];
} tried_paths;

static void note_tried(tried_paths *t, const char *path)
{
    size_t used = strlen(t->list);
    if (used + 3 >= sizeof t->list)
        return;
    snprintf(t->list + used, sizeof t->list - used, "%s%s", used ? ", " : "", path);
}

/* Writes dir/name into out; returns 1 (with a message) when it does not fit. */
static int join_into(char *out, size_t outlen, const char *dir, const char *name, char *err,
                     size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen) {
        app_data_error(err, errlen, "path too long: %s/%s", dir, name);
        return 1;
    }
    return 0;
}

/* Finds the first existing file among dir/<pattern with prefix>; returns 1 when found. */
static int find_first_file(const char *dir, const char *const *patterns, const char *prefix,
                           char *out, size_t outlen, tried_paths *tried)
{
    for (int i = 0; patterns[i]; i++) {
        char name[128];
        snprintf(name, sizeof name, patterns[i], prefix);
        int n = snprintf(out, outlen, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= outlen)
            continue;
        if (is_file(out))
            return 1;
        if (tried && i == 0)
            note_tried(tried, out);
    }
    return 0;
}

static const char *const IDX_IMAGE_NAMES[] = {"%s-images-idx3-ubyte.gz", "%s-images-idx3-ubyte",
                                              "%s-images.idx3-ubyte", NULL};
static const char *const IDX_LABEL_NAMES[] = {"%s-labels-idx1-ubyte.gz", "%s-labels-idx1-ubyte",
                                              "%s-labels.idx1-ubyte", NULL};

/* Looks for the IDX pair of one split in dir. Returns 0 with both paths when found, -1 when
 * neither file is there, 1 (with a message) when only one of the two is there. */
static int find_idx_pair(const char *dir, int train, char *images, char *labels, size_t pathlen,
                         tried_paths *tried, char *err, size_t errlen)
{
    const char *prefix = train ? "train" : "t10k";
    int have_images = find_first_file(dir, IDX_IMAGE_NAMES, prefix, images, pathlen, tried);
    int have_labels = find_first_file(dir, IDX_LABEL_NAMES, prefix, labels, pathlen, tried);
    if (have_images && have_labels)
        return 0;
    if (!have_images && !have_labels)
        return -1;
    app_data_error(err, errlen, "%s has %s but no %s-%s-idx%d-ubyte[.gz] next to it; both the "
                   "image and the label file of a split are needed", dir,
                   have_images ? images : labels, prefix, have_images ? "labels" : "images",
                   have_images ? 1 : 3);
    return 1;
}

/* Which CIFAR flavour a folder holds, judged by its batch file names: 10, 100, or 0 for none. */
static int cifar_flavour(const char *dir)
{
    static const char *const ten[] = {"data_batch_1.bin", "test_batch.bin"};
    static const char *const hundred[] = {"train.bin", "test.bin"};
    char path[PATH_MAX];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, ten[i]);
        if (is_file(path))
            return 10;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, hundred[i]);
        if (is_file(path))
            return 100;
    }
    return 0;
}

static int has_idx_split(const char *dir, int train)
{
    char images[PATH_MAX], labels[PATH_MAX];
    const char *prefix = train ? "train" : "t10k";
    return find_first_file(dir, IDX_IMAGE_NAMES, prefix, images, sizeof images, NULL) ||
           find_first_file(dir, IDX_LABEL_NAMES, prefix, labels, sizeof labels, NULL);
}

static int load_idx_split(const char *dir, int train, app_dataset *out, tried_paths *tried,
                          char *err, size_t errlen)
{
    char images[PATH_MAX], labels[PATH_MAX];
    int found = find_idx_pair(dir, train, images, labels, sizeof images, tried, err, errlen);
    if (found != 0)
        return found < 0 ? -1 : 1;
    return app_idx_load(images, labels, out, err, errlen) ? 1 : 0;
}

/* Loads a known data set from one candidate folder: 0 loaded, -1 not there, 1 failed. */
static int load_known_from(const known_set *set, const char *dir, int train, app_dataset *out,
                           tried_paths *tried, char *err, size_t errlen)
{
    if (set->kind == SOURCE_IDX)
        return load_idx_split(dir, train, out, tried, err, errlen);
    int flavour = cifar_flavour(dir);
    int want = set->kind == SOURCE_CIFAR100 ? 100 : 10;
    if (flavour != want) {
        note_tried(tried, dir);
        return -1;
    }
    return app_cifar_load(dir, want == 100, train, out, err, errlen) ? 1 : 0;
}

/* GAMMACL_DATA first (when set), then Debian's dataset folders: a GAMMACL_DATA that lacks the set
 * falls back to the standard place; the error lists every folder tried. */
static int open_known(const known_set *set, int train, app_dataset *out, char *err, size_t errlen)
{
    const char *env = getenv("GAMMACL_DATA");
    const char *roots[2] = {env && *env ? env : DEBIAN_DATASETS, DEBIAN_DATASETS};
    const int nroots = env && *env && strcmp(env, DEBIAN_DATASETS) != 0 ? 2 : 1;
    tried_paths tried = {{0}};
    for (int r = 0; r < nroots; r++)
        for (int i = 0; i < 3 && set->folders[i]; i++) {
            char dir[PATH_MAX];
            if (join_into(dir, sizeof dir, roots[r], set->folders[i], err, errlen))
                return 1;
            if (!is_directory(dir)) {
                note_tried(&tried, dir);
                continue;
            }
            int rc = load_known_from(set, dir, train, out, &tried, err, errlen);
            if (rc >= 0)
                return rc;
        }
    app_data_error(err, errlen, "%s %s split not found (tried %s): %s", set->name,
                   train ? "train" : "test", tried.list, set->how_to_get);
    return 1;
}

/* The last component of a path, without trailing slashes, into out ("." and ".." resolved). */
static void base_name(const char *path, char *out, size_t outlen)
{
    char resolved[PATH_MAX];
    if (realpath(path, resolved))
        path = resolved;
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t n = end - start;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, path + start, n);
    out[n] = '\0';
}

/* A PNG tree: <dir>/train and <dir>/test when they exist, else dir itself for training. */
static int open_png_tree(const char *dir, int train, int limit, app_dataset *out, char *err,
                         size_t errlen)
{
    char split[PATH_MAX];
    if (join_into(split, sizeof split, dir, train ? "train" : "test", err, errlen))
        return 1;
    if (is_directory(split))
        return app_pngdir_load_first(split, limit, out, err, errlen);
    if (train)
        return app_pngdir_load_first(dir, limit, out, err, errlen);
    app_data_error(err, errlen, "%s has no test split: %s is missing (a PNG tree with a test "
                   "split holds train/ and test/, each with one folder per class)", dir, split);
    return 1;
}

static int open_path(const char *dir, int train, int limit, app_dataset *out, char *err,
                     size_t errlen)
{
    if (!is_directory(dir)) {
        app_data_error(err, errlen, "unknown data set '%s': not a folder, and not one of "
                       "fashion-mnist, mnist, cifar10, cifar100", dir);
        return 1;
    }
    int rc = load_idx_split(dir, train, out, NULL, err, errlen);
    if (rc >= 0)
        return rc;
    if (has_idx_split(dir, !train)) {
        app_data_error(err, errlen, "%s holds IDX files for the %s split but not for the %s split "
                       "(expected %s-images-idx3-ubyte[.gz] and %s-labels-idx1-ubyte[.gz])", dir,
                       train ? "test" : "train", train ? "train" : "test",
                       train ? "train" : "t10k", train ? "train" : "t10k");
        return 1;
    }
    int flavour = cifar_flavour(dir);
    if (flavour)
        return app_cifar_load(dir, flavour == 100, train, out, err, errlen);
    return open_png_tree(dir, train, limit, out, err, errlen);
}

/* Does the folder hold a test split of its own? Judged in open_path's order: IDX, CIFAR, PNG. */
static int has_test_split(const char *dir)
{
    if (has_idx_split(dir, 0))
        return 1;
    if (has_idx_split(dir, 1))
        return 0;
    int flavour = cifar_flavour(dir);
    char path[PATH_MAX];
    if (flavour) {
        snprintf(path, sizeof path, "%s/%s", dir, flavour == 100 ? "test.bin" : "test_batch.bin");
        return is_file(path);
    }
    snprintf(path, sizeof path, "%s/test", dir);
    return is_directory(path);
}

/* A known data set's split into out, named "<set>/<split>"; -1 when spec names none. */
static int open_known_name(const char *spec, int train, app_dataset *out, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < sizeof KNOWN_SETS / sizeof KNOWN_SETS[0]; i++) {
        if (strcmp(spec, KNOWN_SETS[i].name) != 0)
            continue;
        if (open_known(&KNOWN_SETS[i], train, out, err, errlen))
            return 1;
        snprintf(out->name, sizeof out->name, "%s/%s", KNOWN_SETS[i].name,
                 train ? "train" : "test");
        return 0;
    }
    return -1;
}

static int no_spec(const char *spec, char *err, size_t errlen)
{
    if (spec && *spec)
        return 0;
    app_data_error(err, errlen, "no data set given: name one of fashion-mnist, mnist, cifar10, "
                   "cifar100, or a folder");
    return 1;
}

/* A folder's split into out, named after the folder and `split` ("": the folder's name alone). */
static int open_named_path(const char *dir, int train, int limit, const char *split,
                           app_dataset *out, char *err, size_t errlen)
{
    if (open_path(dir, train, limit, out, err, errlen))
        return 1;
    char base[48];
    base_name(dir, base, sizeof base);
    snprintf(out->name, sizeof out->name, "%s%s%s", base, *split ? "/" : "", split);
    return 0;
}

int app_dataset_open_first(const char *spec, int train, int limit, app_dataset *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (no_spec(spec, err, errlen))
        return 1;
    int rc = open_known_name(spec, train, out, err, errlen);
    if (rc < 0)
        rc = open_named_path(spec, train, limit, train ? "train" : "test", out, err, errlen);
    if (rc == 0)
        app_dataset_limit(out, limit);
    return rc;
}

int app_dataset_open(const char *spec, int train, app_dataset *out, char *err, size_t errlen)
{
    return app_dataset_open_first(spec, train, 0, out, err, errlen);
}

/* One CIFAR batch file; CIFAR-100 names its batches train.bin and test.bin. */
static int open_cifar_file(const char *path, app_dataset *out, char *err, size_t errlen)
{
    char base[48];
    base_name(path, base, sizeof base);
    size_t n = strlen(base);
    if (n < 5 || strcmp(base + n - 4, ".bin") != 0) {
        app_data_error(err, errlen, "%s is a file, but a test set is a data set name, a folder "
                       "(IDX files, CIFAR batches or a PNG tree) or one CIFAR batch file (*.bin)",
                       path);
        return 1;
    }
    int cifar100 = strcmp(base, "train.bin") == 0 || strcmp(base, "test.bin") == 0;
    if (app_cifar_load_batch(path, cifar100, out, err, errlen))
        return 1;
    snprintf(out->name, sizeof out->name, "%s", base);
    return 0;
}

int app_dataset_open_test_set(const char *spec, int limit, app_dataset *out, char *err,
                              size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (no_spec(spec, err, errlen))
        return 1;
    int rc = open_known_name(spec, 0, out, err, errlen);
    if (rc < 0 && is_file(spec)) {
        rc = open_cifar_file(spec, out, err, errlen);
    } else if (rc < 0) {
        const int whole = is_directory(spec) && !has_test_split(spec);
        rc = open_named_path(spec, whole, limit, whole ? "" : "test", out, err, errlen);
    }
    if (rc == 0)
        app_dataset_limit(out, limit);
    return rc;
}

/* ---- Does a test set fit a training set? ---- */

static int find_name(char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* Appends "'name' only in <where>" items of a's names missing from b to msg (at most a few). */
static void add_missing(char *msg, size_t len, const app_dataset *a, const app_dataset *b,
                        const char *where, int *listed)
{
    for (int i = 0; i < a->classes; i++) {
        if (find_name(b->class_names, b->classes, a->class_names[i]) >= 0)
            continue;
        size_t used = strlen(msg);
        if (*listed == 8) {
            snprintf(msg + used, len - used, ", ...");
            (*listed)++;
        }
        if (*listed > 8)
            return;
        snprintf(msg + used, len - used, "%s'%.80s' only in %s", *listed ? ", " : "",
                 a->class_names[i], where);
        (*listed)++;
    }
}

static int check_class_names(const app_dataset *train, const app_dataset *test, char *err,
                             size_t errlen)
{
    char msg[APP_ERRLEN] = "";
    int listed = 0;
    add_missing(msg, sizeof msg, train, test, "training", &listed);
    add_missing(msg, sizeof msg, test, train, "test", &listed);
    if (listed) {
        app_data_error(err, errlen, "test set classes differ from the training set's: %s", msg);
        return 1;
    }
    for (int k = 0; k < train->classes && k < test->classes; k++)
        if (strcmp(train->class_names[k], test->class_names[k]) != 0) {
            app_data_error(err, errlen, "test set class %d is '%.80s', the training set's is "
                           "'%.80s': the same classes in another order", k, test->class_names[k],
                           train->class_names[k]);
            return 1;
        }
    return 0;
}

int app_dataset_check_match(const app_dataset *train, const app_dataset *test, char *err,
                            size_t errlen)
{
    if (train->channels != test->channels || train->height != test->height ||
        train->width != test->width) {
        app_data_error(err, errlen, "test set images are %dx%dx%d (channels x height x width), "
                       "the training set's %dx%dx%d", test->channels, test->height, test->width,
                       train->channels, train->height, train->width);
        return 1;
    }
    if (train->class_names && test->class_names && check_class_names(train, test, err, errlen))
        return 1;
    if (train->classes != test->classes) {
        app_data_error(err, errlen, "test set has %d classes, the training set %d", test->classes,
                       train->classes);
        return 1;
    }
    return 0;
}
