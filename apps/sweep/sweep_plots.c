/* apps/sweep/sweep_plots.c — being written */
#include "sweep_results.h"
int sw_write_plots(const char *dir, const sw_cell *cells, const sw_result *res, int n,
                   const char *title, char *err, size_t errlen)
{ (void)dir, (void)cells, (void)res, (void)n, (void)title, (void)err, (void)errlen; return 0; }
