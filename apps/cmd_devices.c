/* apps/cmd_devices.c — `gammacl devices`: one line per OpenCL device, or JSON for scripts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

static int print_json(const rt_device_info *list, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const rt_device_info *d = &list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddNumberToObject(o, "platform_index", d->platform_index);
        cJSON_AddNumberToObject(o, "device_index", d->device_index);
        cJSON_AddStringToObject(o, "platform", d->platform);
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "vendor", d->vendor);
        cJSON_AddStringToObject(o, "type", d->type);
        cJSON_AddStringToObject(o, "driver", d->driver);
        cJSON_AddStringToObject(o, "version", d->version);
        cJSON_AddStringToObject(o, "opencl_c", d->clc_version);
        cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
        cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem);
        cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc);
        cJSON_AddBoolToObject(o, "fp64", d->fp64);
        if (*d->cpu_model) cJSON_AddStringToObject(o, "cpu", d->cpu_model);
        char tuning[1400];
        rt_tune_describe(d, tuning, sizeof tuning);
        cJSON_AddStringToObject(o, "tuning", tuning);
        cJSON_AddItemToArray(arr, o);
    }
    char *s = cJSON_Print(arr);
    int ok = s && puts(s) >= 0;
    free(s);
    cJSON_Delete(arr);
    return ok ? 0 : 1;
}

int cmd_devices(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gammacl devices [--json]\n\n"
                   "Lists every OpenCL device: index (platform:device), platform, name, vendor, type,\n"
                   "driver version, OpenCL C version, compute units, global memory, largest buffer,\n"
                   "fp64 support, and the state of its kernel parameters (`gammacl tune`). Use the index,\n"
                   "P:D, or part of a name with --device or GAMMACL_DEVICE.\n");
            return 0;
        } else {
            fprintf(stderr, "gammacl devices: unknown option '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    rt_device_info *list = NULL;
    int n = 0;
    char err[RT_ERRLEN];
    if (rt_list_devices(&list, &n, err, sizeof err) != RT_OK) {
        fprintf(stderr, "gammacl devices: %s\n", err);
        free(list);
        return 1;
    }
    int rc = 0;
    if (json) rc = print_json(list, n);
    else
        for (int i = 0; i < n; i++) {
            char line[1024];
            char tuning[1400];
            rt_format_device(&list[i], line, sizeof line);
            rt_tune_describe(&list[i], tuning, sizeof tuning);
            printf("%s\n    kernel parameters: %s\n", line, tuning);
        }
    free(list);
    return rc;
}
