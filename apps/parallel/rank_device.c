/* apps/parallel/rank_device.c — see rank_device.h. */
#include "rank_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

int app_rank_device(int local_rank, const char *given, char *out, size_t len, char *name, size_t namelen,
                    char *err, size_t errlen)
{
    rt_device_info *list = NULL;
    int n = 0;
    if (rt_list_devices(&list, &n, err, errlen) != RT_OK) return free(list), 2;
    const char *env = getenv("GAMMACL_DEVICE");
    int picked = -1;
    if (given && given[0]) {
        char specs[512];
        snprintf(specs, sizeof specs, "%s", given);
        int count = 1;
        for (const char *p = specs; *p; p++) count += *p == ',';
        const int want = local_rank % count;
        char *save = NULL, *tok = strtok_r(specs, ",", &save);
        for (int i = 0; tok && i < want; i++) tok = strtok_r(NULL, ",", &save);
        if (!tok || !tok[0]) {
            snprintf(err, errlen, "--devices '%s' has an empty entry", given);
            return free(list), 2;
        }
        if (rt_pick_device(list, n, tok, &picked, err, errlen) != RT_OK) return free(list), 2;
    } else if (env && env[0]) {
        if (rt_pick_device(list, n, env, &picked, err, errlen) != RT_OK) return free(list), 2;
    } else {
        int first;
        if (rt_pick_device(list, n, "", &first, err, errlen) != RT_OK) return free(list), 2;
        int same = 0;
        for (int i = 0; i < n; i++) same += list[i].platform_index == list[first].platform_index;
        int want = local_rank % same;
        for (int i = 0; i < n && picked < 0; i++)
            if (list[i].platform_index == list[first].platform_index && want-- == 0) picked = i;
    }
    snprintf(out, len, "%d:%d", list[picked].platform_index, list[picked].device_index);
    snprintf(name, namelen, "%s (%s)", list[picked].name, list[picked].platform);
    free(list);
    return 0;
}
