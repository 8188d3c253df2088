/* profile.c — accumulate time and flops per op kind (AX_PROFILE=1). */
#include "ax_profile.h"

#include <string.h>

#define MAX_KINDS 128

struct kind_stat {
	const char *kind;
	long calls;
	double seconds, flops;
};

static struct kind_stat stats[MAX_KINDS];
static int n_stats;
static int enabled = -1;

int ax_profile_enabled(void)
{
	if (enabled < 0) {
		const char *e = getenv("AX_PROFILE");
		enabled = e && *e && strcmp(e, "0") != 0;
	}
	return enabled;
}

void ax_profile_add(const char *kind, double seconds, double flops)
{
	int i;
	for (i = 0; i < n_stats; i++)
		if (stats[i].kind == kind || !strcmp(stats[i].kind, kind))
			break;
	if (i == n_stats) {
		if (n_stats == MAX_KINDS)
			return;
		stats[n_stats++] = (struct kind_stat){ .kind = kind };
	}
	stats[i].calls++;
	stats[i].seconds += seconds;
	stats[i].flops += flops;
}

static int by_time(const void *a, const void *b)
{
	double d = ((const struct kind_stat *)b)->seconds - ((const struct kind_stat *)a)->seconds;
	return (d > 0) - (d < 0);
}

void ax_profile_report(FILE *f)
{
	double total = 0;
	qsort(stats, n_stats, sizeof stats[0], by_time);
	for (int i = 0; i < n_stats; i++)
		total += stats[i].seconds;
	fprintf(f, "%-24s %10s %10s %7s %9s\n", "op", "calls", "seconds", "share", "GFLOP/s");
	for (int i = 0; i < n_stats; i++) {
		const struct kind_stat *s = &stats[i];
		fprintf(f, "%-24s %10ld %10.4f %6.1f%% %9.2f\n", s->kind, s->calls, s->seconds,
			total > 0 ? 100 * s->seconds / total : 0,
			s->seconds > 0 ? s->flops / s->seconds * 1e-9 : 0);
	}
	fprintf(f, "%-24s %10s %10.4f\n", "total", "", total);
}

void ax_profile_reset(void) { n_stats = 0; }
