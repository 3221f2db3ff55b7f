/* net/models/builtin.h — the model specs shipped inside the binary (generated from the .spec files). */
#ifndef GAMMACL_BUILTIN_MODELS_H
#define GAMMACL_BUILTIN_MODELS_H

typedef struct nn_builtin_spec { const char *name; const char *text; } nn_builtin_spec;
extern const nn_builtin_spec nn_builtin_specs[];
extern const int nn_builtin_spec_count;

#endif
