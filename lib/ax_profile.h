/* ax_profile.h — per-op-kind time and GFLOP/s, switched on by AX_PROFILE=1
 * in the environment (every command honours it) and reported at exit. */
#ifndef AX_PROFILE_H
#define AX_PROFILE_H

#include "ax_base.h"

int ax_profile_enabled(void);
/* Record one call: kind name (static string), seconds, floating-point ops. */
void ax_profile_add(const char *kind, double seconds, double flops);
/* Table of kinds sorted by time: calls, seconds, share, GFLOP/s. */
void ax_profile_report(FILE *f);
void ax_profile_reset(void);

#endif
