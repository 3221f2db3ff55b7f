/* apps/report/provenance.h — where a result came from: gammacl's version and commit, the host,
 * its CPU model and operating system, as a JSON object for summary.json and sweep.json. */
#ifndef GAMMACL_PROVENANCE_H
#define GAMMACL_PROVENANCE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The CPU's model name, family and model (rt_host_cpu; "unknown" when the system does not say). */
void app_cpu_model(char *out, size_t len);
/* {"version", "commit", "host", "cpu_model", "os"}; NULL when out of memory. */
cJSON *app_provenance_json(void);

#endif
