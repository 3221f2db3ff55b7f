/* apps/data/pngdir.c — PNG tree reader: a folder with one sub-folder per class (sorted by name:
 * the first is class 0), each holding .png images (sorted by name). Images are decoded with libpng
 * into 8-bit gray or RGB (palettes and low bit depths expanded, 16-bit stripped, alpha dropped) and
 * must all share one size and channel count. The class folder names are kept as class names; with
 * a limit only the first images of the list are read and decoded.
 */
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PNG_SIGNATURE_BYTES 8
#define PNG_MAX_FILE_BYTES ((size_t)64 << 20)
#define PNG_MAX_CHUNK_BYTES ((png_alloc_size_t)8 << 20)
#define PNG_MAX_CACHED_CHUNKS 1000

/* ---- Decoding one PNG from memory ---- */

/* State shared with the libpng callbacks. It lives in the caller of the function that calls
 * setjmp, so its fields keep their values across a longjmp. */
typedef struct png_job {
    const uint8_t *bytes;
    size_t len, pos;
    char msg[256];
    png_uint_32 width, height;
    int channels;
    uint8_t *interleaved; /* height rows of width * channels bytes */
    png_bytep *rows;
} png_job;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* benign problems (a bad ancillary chunk, say) are not worth a message */
}

static void read_from_memory(png_structp png, png_bytep data, size_t n)
{
    png_job *job = png_get_io_ptr(png);
    if (n > job->len - job->pos)
        png_error(png, "the file is truncated");
    memcpy(data, job->bytes + job->pos, n);
    job->pos += n;
}

static void set_limits(png_structp png)
{
#ifdef PNG_SET_USER_LIMITS_SUPPORTED
    png_set_user_limits(png, APP_PNG_MAX_SIDE, APP_PNG_MAX_SIDE);
#endif
#ifdef PNG_SET_CHUNK_MALLOC_LIMIT_SUPPORTED
    png_set_chunk_malloc_max(png, PNG_MAX_CHUNK_BYTES);
#endif
#ifdef PNG_SET_CHUNK_CACHE_LIMIT_SUPPORTED
    png_set_chunk_cache_max(png, PNG_MAX_CACHED_CHUNKS);
#endif
}

/* Reads the header and sets up the 8-bit gray/RGB transforms; errors longjmp. */
static void read_header(png_structp png, png_infop info, png_job *job)
{
    png_read_info(png, info);
    job->width = png_get_image_width(png, info);
    job->height = png_get_image_height(png, info);
    if (job->width == 0 || job->height == 0 || job->width > APP_PNG_MAX_SIDE ||
        job->height > APP_PNG_MAX_SIDE)
        png_error(png, "image size out of range");
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    job->channels = png_get_channels(png, info);
    if ((job->channels != 1 && job->channels != 3) ||
        png_get_rowbytes(png, info) != (size_t)job->width * (size_t)job->channels)
        png_error(png, "unexpected pixel format after conversion");
}

/* Decodes job->bytes into job->interleaved. Returns 0 or 1 (job->msg says why); the caller frees
 * job->interleaved and job->rows either way. */
static int decode_with_libpng(png_job *job)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, on_png_error,
                                             on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        snprintf(job->msg, sizeof job->msg, "out of memory starting libpng");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, job, read_from_memory);
    set_limits(png);
    read_header(png, info, job);
    size_t stride = (size_t)job->width * (size_t)job->channels;
    job->interleaved = malloc(stride * job->height);
    job->rows = malloc(job->height * sizeof *job->rows);
    if (!job->interleaved || !job->rows)
        png_error(png, "out of memory for the pixels");
    for (png_uint_32 y = 0; y < job->height; y++)
        job->rows[y] = job->interleaved + y * stride;
    png_read_image(png, job->rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/* Interleaved (y, x, c) to planar (c, y, x), the data set layout. */
static void to_planes(const uint8_t *in, uint8_t *out, int channels, size_t plane)
{
    for (int c = 0; c < channels; c++)
        for (size_t i = 0; i < plane; i++)
            out[(size_t)c * plane + i] = in[i * (size_t)channels + (size_t)c];
}

/* Refuses a header that declares more than APP_PNG_MAX_SIDE pixels a side, with a clearer message
 * than libpng's; libpng checks the same limit again (and everything else) while decoding. */
static int check_declared_size(const uint8_t *bytes, size_t len, char *err, size_t errlen)
{
    if (len < 24 || memcmp(bytes + 12, "IHDR", 4) != 0)
        return 0;
    uint32_t w = png_get_uint_32(bytes + 16), h = png_get_uint_32(bytes + 20);
    if (w <= APP_PNG_MAX_SIDE && h <= APP_PNG_MAX_SIDE)
        return 0;
    app_data_error(err, errlen, "image size %ux%u in the header exceeds the %dx%d limit", w, h,
                   APP_PNG_MAX_SIDE, APP_PNG_MAX_SIDE);
    return 1;
}

int app_png_decode(const uint8_t *bytes, size_t len, int *channels, int *height, int *width,
                   uint8_t **pixels, char *err, size_t errlen)
{
    *pixels = NULL;
    if (len < PNG_SIGNATURE_BYTES || png_sig_cmp(bytes, 0, PNG_SIGNATURE_BYTES) != 0) {
        app_data_error(err, errlen, "not a PNG file (bad signature)");
        return 1;
    }
    if (check_declared_size(bytes, len, err, errlen))
        return 1;
    png_job job;
    memset(&job, 0, sizeof job);
    job.bytes = bytes;
    job.len = len;
    int rc = decode_with_libpng(&job);
    free(job.rows);
    size_t plane = (size_t)job.width * job.height;
    uint8_t *planar = rc ? NULL : malloc(plane * (size_t)job.channels);
    if (rc || !planar) {
        free(job.interleaved);
        app_data_error(err, errlen, "damaged PNG: %s", rc ? job.msg : "out of memory");
        return 1;
    }
    to_planes(job.interleaved, planar, job.channels, plane);
    free(job.interleaved);
    *channels = job.channels;
    *height = (int)job.height;
    *width = (int)job.width;
    *pixels = planar;
    return 0;
}

/* ---- Listing the tree ---- */

typedef struct name_list {
    char **names;
    size_t count, cap;
} name_list;

static void free_names(name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int add_name(name_list *l, const char *name)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **bigger = realloc(l->names, cap * sizeof *bigger);
        if (!bigger)
            return 1;
        l->names = bigger;
        l->cap = cap;
    }
    l->names[l->count] = strdup(name);
    if (!l->names[l->count])
        return 1;
    l->count++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_png_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".png") == 0;
}

/* Does dir/name match what is wanted (a sub-folder, or a regular .png file)? */
static int entry_wanted(const char *dir, const char *name, int want_dirs)
{
    if (name[0] == '.' || (!want_dirs && !has_png_suffix(name)))
        return 0;
    char *path = app_path_join(dir, name);
    struct stat st;
    int ok = path && stat(path, &st) == 0 && (want_dirs ? S_ISDIR(st.st_mode)
                                                        : S_ISREG(st.st_mode));
    free(path);
    return ok;
}

/* Lists the sub-folders (want_dirs) or the .png files of dir, sorted by name. */
static int list_dir(const char *dir, int want_dirs, name_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        app_data_error(err, errlen, "cannot open folder %s: %s", dir, strerror(errno));
        return 1;
    }
    int failed = 0;
    struct dirent *e;
    while (!failed && (e = readdir(d)) != NULL)
        if (entry_wanted(dir, e->d_name, want_dirs))
            failed = add_name(out, e->d_name);
    closedir(d);
    if (failed) {
        free_names(out);
        app_data_error(err, errlen, "out of memory listing %s", dir);
        return 1;
    }
    if (out->count > 1)
        qsort(out->names, out->count, sizeof *out->names, compare_names);
    return 0;
}

/* One image to load: its path and class. */
typedef struct sample_ref {
    char *path;
    int label;
} sample_ref;

typedef struct sample_list {
    sample_ref *items;
    size_t count;
    int classes;
    char **class_names; /* the class folder names, one block (see app_dataset) */
} sample_list;

static void free_samples(sample_list *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i].path);
    free(s->items);
    free(s->class_names);
    memset(s, 0, sizeof *s);
}

/* Keeps the first n images of the list (n <= 0 or n >= count: all). */
static void keep_first(sample_list *s, int n)
{
    if (n <= 0 || (size_t)n >= s->count)
        return;
    for (size_t i = (size_t)n; i < s->count; i++)
        free(s->items[i].path);
    s->count = (size_t)n;
}

/* The names of l in one malloc'd block: the pointers, then the strings (NULL when out of memory). */
static char **names_block(const name_list *l)
{
    size_t bytes = l->count * sizeof(char *);
    for (size_t i = 0; i < l->count; i++)
        bytes += strlen(l->names[i]) + 1;
    char **block = malloc(bytes ? bytes : 1);
    if (!block)
        return NULL;
    char *text = (char *)(block + l->count);
    for (size_t i = 0; i < l->count; i++) {
        size_t n = strlen(l->names[i]) + 1;
        block[i] = memcpy(text, l->names[i], n);
        text += n;
    }
    return block;
}

/* Adds the images of one class folder to s. */
static int add_class(sample_list *s, const char *class_dir, int label, char *err, size_t errlen)
{
    name_list files;
    if (list_dir(class_dir, 0, &files, err, errlen))
        return 1;
    if (files.count == 0) {
        app_data_error(err, errlen, "class folder %s holds no .png files (every class needs at "
                       "least one image; remove the folder or add images)", class_dir);
        return 1;
    }
    int failed = files.count > (size_t)INT_MAX - s->count;
    sample_ref *bigger = failed ? NULL : realloc(s->items, (s->count + files.count) * sizeof *bigger);
    if (bigger)
        s->items = bigger;
    for (size_t i = 0; bigger && i < files.count; i++) {
        char *path = app_path_join(class_dir, files.names[i]);
        if (!path) {
            failed = 1;
            break;
        }
        s->items[s->count++] = (sample_ref){path, label};
    }
    free_names(&files);
    if (failed || !bigger) {
        app_data_error(err, errlen, "too many images, or out of memory, listing %s", class_dir);
        return 1;
    }
    return 0;
}

/* Lists every image of the tree with its class. */
static int list_samples(const char *dir, sample_list *s, char *err, size_t errlen)
{
    name_list classes;
    memset(s, 0, sizeof *s);
    if (list_dir(dir, 1, &classes, err, errlen))
        return 1;
    if (classes.count == 0 || classes.count > INT_MAX) {
        app_data_error(err, errlen, "%s holds no class sub-folders: expected one folder of .png "
                       "images per class", dir);
        free_names(&classes);
        return 1;
    }
    int rc = 0;
    for (size_t c = 0; !rc && c < classes.count; c++) {
        char *class_dir = app_path_join(dir, classes.names[c]);
        rc = class_dir ? add_class(s, class_dir, (int)c, err, errlen) : 1;
        if (!class_dir)
            app_data_error(err, errlen, "out of memory");
        free(class_dir);
    }
    s->classes = (int)classes.count;
    s->class_names = rc ? NULL : names_block(&classes);
    if (!rc && !s->class_names) {
        app_data_error(err, errlen, "out of memory listing %s", dir);
        rc = 1;
    }
    free_names(&classes);
    if (rc)
        free_samples(s);
    return rc;
}

/* ---- Loading ---- */

static int load_png_file(const char *path, int *channels, int *height, int *width,
                         uint8_t **pixels, char *err, size_t errlen)
{
    uint8_t *bytes;
    size_t len;
    char msg[APP_ERRLEN];
    if (app_read_file(path, PNG_MAX_FILE_BYTES, &bytes, &len, err, errlen))
        return 1;
    int rc = app_png_decode(bytes, len, channels, height, width, pixels, msg, sizeof msg);
    free(bytes);
    if (rc)
        app_data_error(err, errlen, "%s: %s (replace or remove the file)", path, msg);
    return rc;
}

/* Sizes out from the first image and allocates the arrays. */
static int allocate_for(app_dataset *out, const sample_list *s, int channels, int height,
                        int width, char *err, size_t errlen)
{
    size_t sample = (size_t)channels * (size_t)height * (size_t)width, total;
    if (app_size_mul(sample, s->count, &total)) {
        app_data_error(err, errlen, "%zu images of %dx%dx%d do not fit in memory", s->count,
                       channels, height, width);
        return 1;
    }
    out->pixels = malloc(total);
    out->labels = malloc(s->count * sizeof *out->labels);
    if (!out->pixels || !out->labels) {
        app_data_error(err, errlen, "out of memory for %zu images of %dx%dx%d", s->count,
                       channels, height, width);
        return 1;
    }
    out->channels = channels;
    out->height = height;
    out->width = width;
    return 0;
}

/* Decodes image i of the list into out, checking it has the shape of the first one. */
static int load_sample(app_dataset *out, const sample_list *s, size_t i, char *err, size_t errlen)
{
    int channels, height, width;
    uint8_t *pixels;
    const char *path = s->items[i].path;
    if (load_png_file(path, &channels, &height, &width, &pixels, err, errlen))
        return 1;
    if (i == 0 && allocate_for(out, s, channels, height, width, err, errlen)) {
        free(pixels);
        return 1;
    }
    if (channels != out->channels || height != out->height || width != out->width) {
        app_data_error(err, errlen, "%s: %dx%d with %d channel(s), but %s is %dx%d with %d; all "
                       "images must share one size and color type (convert them first)", path,
                       width, height, channels, s->items[0].path, out->width, out->height,
                       out->channels);
        free(pixels);
        return 1;
    }
    size_t sample = (size_t)channels * (size_t)height * (size_t)width;
    memcpy(out->pixels + i * sample, pixels, sample);
    out->labels[i] = s->items[i].label;
    free(pixels);
    return 0;
}

/* The last component of dir, for the data set name. */
static void folder_name(const char *dir, char *out, size_t outlen)
{
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    snprintf(out, outlen, "%.*s", (int)(end - start), dir + start);
}

int app_pngdir_load(const char *dir, app_dataset *out, char *err, size_t errlen)
{
    return app_pngdir_load_first(dir, 0, out, err, errlen);
}

int app_pngdir_load_first(const char *dir, int limit, app_dataset *out, char *err, size_t errlen)
{
    sample_list s;
    memset(out, 0, sizeof *out);
    if (list_samples(dir, &s, err, errlen))
        return 1;
    keep_first(&s, limit);
    int rc = 0;
    for (size_t i = 0; !rc && i < s.count; i++)
        rc = load_sample(out, &s, i, err, errlen);
    if (rc) {
        app_dataset_free(out);
    } else {
        out->count = (int)s.count;
        out->classes = s.classes;
        out->class_names = s.class_names;
        s.class_names = NULL;
        folder_name(dir, out->name, sizeof out->name);
    }
    free_samples(&s);
    return rc;
}
