/* apps/report/npz.h — NumPy .npz files (a zip archive of .npy arrays, deflated with zlib), so
 * that a researcher can load what gammacl computed with numpy.load.
 *
 * Usage: app_npz_open, one app_npz_add per array, app_npz_close (writes the central directory and
 * renames the temporary file into place: a reader never sees half a file).
 */
#ifndef GAMMACL_NPZ_H
#define GAMMACL_NPZ_H

#include <stddef.h>
#include <stdint.h>

typedef enum { APP_NPY_F32, APP_NPY_F64, APP_NPY_I32 } app_npy_type;

typedef struct app_npz app_npz;

int app_npz_open(const char *path, app_npz **out, char *err, size_t errlen);
/* Adds array `name` (stored as name.npy) of type t, C order, shape dims[0..ndim) (ndim 0: a
 * scalar, one value). */
int app_npz_add(app_npz *z, const char *name, app_npy_type t, int ndim, const size_t *dims,
                const void *data, char *err, size_t errlen);
/* Finishes the archive (commit = 1) or throws it away (commit = 0); frees z. */
/* Each function returns 0, or -1 with a message in err. app_npz_add refuses (and leaves the
 * archive as it was) a name that is empty, longer than 100 characters or not made of [A-Za-z0-9_]
 * alone, a name already used, more than 8 dimensions, a size that overflows, and what would take
 * the archive past the zip limits (4 GiB, 65534 members: no zip64). A failed write makes the
 * archive fail: later adds return -1, and app_npz_close removes the temporary file. NULL data is
 * accepted for an array with no elements. */
int app_npz_close(app_npz *z, int commit, char *err, size_t errlen);

#endif
