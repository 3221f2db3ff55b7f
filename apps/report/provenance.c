/* apps/report/provenance.c — see provenance.h. */
#include "provenance.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "rt.h"
#include "version.h"

void app_cpu_model(char *out, size_t len)
{
    rt_host_cpu(out, len);
    if (!*out) snprintf(out, len, "unknown");
}

cJSON *app_provenance_json(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char host[256] = "unknown", cpu[256];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = 0;
    app_cpu_model(cpu, sizeof cpu);
    struct utsname u;
    char os[400] = "unknown";
    if (uname(&u) == 0) snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    cJSON_AddStringToObject(o, "version", GAMMACL_VERSION);
    cJSON_AddStringToObject(o, "commit", GAMMACL_COMMIT);
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddStringToObject(o, "cpu_model", cpu);
    cJSON_AddStringToObject(o, "os", os);
    return o;
}
