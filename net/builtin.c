/* net/builtin.c — looking up the model specs embedded at build time from net/models. */
#include <stdio.h>
#include <string.h>

#include "models/builtin.h"
#include "net.h"

const char *nn_builtin_model(const char *name)
{
    for (int i = 0; i < nn_builtin_spec_count; i++)
        if (strcmp(nn_builtin_specs[i].name, name) == 0) return nn_builtin_specs[i].text;
    return NULL;
}

void nn_builtin_model_names(char *out, size_t len)
{
    size_t off = 0;
    out[0] = 0;
    for (int i = 0; i < nn_builtin_spec_count && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "", nn_builtin_specs[i].name);
}
