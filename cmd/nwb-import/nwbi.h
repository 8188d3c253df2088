/* nwbi.h — nwb-import: an NWB 2.x recording into the session bundles the
 * spike tools read. Each section names the file that defines it:
 *   units.c   the units kept (--units-where), their regions and spikes
 *   trials.c  the trials kept and the fields mapped from their columns (--trial)
 *   layout.c  the two layouts: reach (spike times, as spike-sim reach writes)
 *             and binned (counts, as spike-sim ibl writes), behaviour
 *             resampling, provenance metadata
 *   main.c    the command line only
 * Reading NWB itself is lib's (ax_nwb.h). Layouts in nwb-import(1).
 */
#ifndef NWBI_H
#define NWBI_H

#include "ax_cli.h"
#include "ax_io.h"
#include "ax_nwb.h"

enum { NWBI_REACH, NWBI_BINNED };

struct nwbi_opts {
	const char *in, *out, *behavior, *align, *args;
	int layout, quiet;
	double rate;              /* reach: behaviour samples per second */
	double win_a, win_b, bin; /* binned: window around the align time, bin width (s) */
	char **where;             /* --units-where COLUMN=VALUE */
	int nwhere;
	char **fields;            /* --trial NAME=COLUMN[:FROM=TO,...] */
	int nfields;
};

/* ---- units.c ---- */
struct nwbi_units {
	int n;                    /* units kept */
	size_t total;             /* units in the file */
	int64_t *id;              /* (n) NWB ids */
	int32_t *region;          /* (n) index into region_names */
	char *region_names;       /* "CA1,DG,PO": the regions of the kept units, sorted */
	const char *region_source;
	double *times;            /* every kept spike, unit after unit, in order */
	size_t *start;            /* (n + 1) unit u's spikes: times[start[u] .. start[u+1]) */
	size_t unobserved;        /* spikes dropped outside their unit's obs_intervals */
	double *obs;              /* kept units' observed intervals (pairs), or NULL */
	size_t *obs_start;        /* (n + 1) like start, over pairs of obs */
};
enum ax_status nwbi_units_load(const struct ax_nwb *f, const struct nwbi_opts *o,
			       struct nwbi_units *u);
void nwbi_units_free(struct nwbi_units *u);
/* 1 if [a, b) lies inside one observed interval of unit u (always 1 without obs_intervals). */
int nwbi_units_observed(const struct nwbi_units *u, int unit, double a, double b);

/* ---- trials.c ---- */
struct nwbi_field {
	char *name;               /* bundle array name */
	const char *spec;         /* the --trial text */
	double *v;                /* (kept trials) */
	char *names;              /* text column without a map: "a,b,c", code = index */
};
struct nwbi_trials {
	int n;                    /* trials kept */
	size_t total;
	double *start, *stop, *align;  /* (n) align NULL without --align */
	struct nwbi_field *fields;
	int nfields;
	size_t dropped;           /* by a map's "drop" or a missing align time */
};
/* AX_ERR_ARG for a --trial or --align the file cannot satisfy. */
enum ax_status nwbi_trials_load(const struct ax_nwb *f, const struct nwbi_opts *o,
				struct nwbi_trials *t);
void nwbi_trials_free(struct nwbi_trials *t);

/* ---- layout.c ---- */
/* The bundle of o->layout in b (initialised here; the caller saves and frees it). */
enum ax_status nwbi_bundle(const struct ax_nwb *f, const struct nwbi_opts *o, struct ax_bundle *b);

#endif
