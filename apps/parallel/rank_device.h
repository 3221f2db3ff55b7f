/* apps/parallel/rank_device.h — which OpenCL device a rank of an MPI job runs on: one device per
 * rank, by the rank's place on its machine (node-local rank), so that `mpirun -np 4` on a box of
 * four GPUs puts one rank on each. */
#ifndef GAMMACL_RANK_DEVICE_H
#define GAMMACL_RANK_DEVICE_H

#include <stddef.h>

/* The device of node-local rank `local_rank` as a "P:D" spec in out:
 *  - `given` a list SPEC,SPEC,.. (any spec of `gammacl devices`): entry local_rank mod its length;
 *  - else GAMMACL_DEVICE when set: that device, for every rank;
 *  - else the devices of the default device's platform, local_rank mod their count.
 * name gets "device (platform)". Returns 0, or 2 with err (a spec that matches no device). */
int app_rank_device(int local_rank, const char *given, char *out, size_t len, char *name, size_t namelen,
                    char *err, size_t errlen);

#endif
