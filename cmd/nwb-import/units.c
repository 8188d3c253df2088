/* units.c — the units kept (--units-where), their brain regions and their
 * spikes inside the observed intervals. */
#include "nwbi.h"

#include <math.h>
#include <string.h>

#define ELECTRODES "/general/extracellular_ephys/electrodes"

/* 1 if row r of column c equals the text v (as text, or as a number). */
static int cell_equals(const struct ax_nwb_column *c, size_t r, const char *v, double num)
{
	if (c->str)
		return !strcmp(c->str[r], v);
	return c->num[r] == num || fabs(c->num[r] - num) <= 1e-9 * fabs(num);
}

/* keep[r] &= the --units-where tests. */
static enum ax_status units_where(const struct ax_nwb *f, const struct nwbi_opts *o, size_t rows,
				  int *keep)
{
	for (int w = 0; w < o->nwhere; w++) {
		char col[256];
		const char *eq = strchr(o->where[w], '=');
		snprintf(col, sizeof col, "%.*s", (int)(eq - o->where[w]), o->where[w]);
		struct ax_nwb_column c;
		enum ax_status st = ax_nwb_column_load(f, "/units", col, rows, &c);
		if (st)
			return ax_error_prefix(st, "--units-where");
		char *end;
		double num = strtod(eq + 1, &end);
		if (!c.str && (end == eq + 1 || *end)) {
			ax_nwb_column_free(&c);
			return ax_error_set(AX_ERR_ARG, "--units-where %s: /units/%s holds numbers, not text",
					    o->where[w], col);
		}
		for (size_t r = 0; r < rows; r++)
			keep[r] &= cell_equals(&c, r, eq + 1, num);
		ax_nwb_column_free(&c);
	}
	return AX_OK;
}

/* Each unit's first electrode's location (electrodes table row, through
 * /units/electrodes, ragged or one per unit). */
static enum ax_status electrode_locations(const struct ax_nwb *f, size_t rows, char **out)
{
	struct ax_nwb_dataset ids;
	struct ax_nwb_column loc;
	struct ax_nwb_ragged r = { 0 };
	enum ax_status st = ax_nwb_dataset_info(f, ELECTRODES "/id", &ids);
	if (st || (st = ax_nwb_column_load(f, ELECTRODES, "location", (size_t)ids.shape[0], &loc)))
		return st;
	if (!loc.str) {
		ax_nwb_column_free(&loc);
		return ax_error_set(AX_ERR_FORMAT, "%s: %s/location: numbers, not region names",
				    ax_nwb_path(f), ELECTRODES);
	}
	if (ax_nwb_exists(f, "/units/electrodes_index")) {
		st = ax_nwb_ragged_load(f, "/units", "electrodes", &r);
	} else if (!(st = ax_nwb_read(f, "/units/electrodes", &r.values))) {
		r.rows = ax_array_count(&r.values);
		r.end = ax_xmalloc((r.rows ? r.rows : 1) * sizeof *r.end);
		for (size_t i = 0; i < r.rows; i++)
			r.end[i] = (int64_t)i + 1;
	}
	if (!st && r.rows != rows)
		st = ax_error_set(AX_ERR_FORMAT, "%s: /units/electrodes: %zu rows for %zu units",
				  ax_nwb_path(f), r.rows, rows);
	for (size_t i = 0; i < rows && !st; i++) {
		int64_t k = i ? r.end[i - 1] : 0;
		double e = k < r.end[i] ? ax_array_get(&r.values, (size_t)k) : -1;
		if (k < r.end[i] && (e < 0 || e >= (double)loc.n || e != floor(e)))
			st = ax_error_set(AX_ERR_FORMAT, "%s: /units/electrodes: value %lld (unit %zu) is "
					  "not a row of %s (%zu rows)", ax_nwb_path(f), (long long)k, i,
					  ELECTRODES, loc.n);
		else
			out[i] = ax_xstrdup(e >= 0 ? loc.str[(size_t)e] : "unknown");
	}
	ax_nwb_ragged_free(&r);
	ax_nwb_column_free(&loc);
	return st;
}

/* Region name of every unit in the file (out: rows strings). */
static enum ax_status unit_locations(const struct ax_nwb *f, size_t rows, char **out,
				     const char **source)
{
	static const char *const cols[] = { "location", "brain_area" };
	for (int i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof path, "/units/%s", cols[i]);
		if (!ax_nwb_exists(f, path))
			continue;
		struct ax_nwb_column c;
		enum ax_status st = ax_nwb_column_load(f, "/units", cols[i], rows, &c);
		if (!st && !c.str)
			st = ax_error_set(AX_ERR_FORMAT, "%s: %s: numbers, not region names",
					  ax_nwb_path(f), path);
		for (size_t r = 0; r < rows && !st; r++)
			out[r] = ax_xstrdup(c.str[r]);
		ax_nwb_column_free(&c);
		*source = i ? "/units/brain_area" : "/units/location";
		return st;
	}
	if (ax_nwb_exists(f, "/units/electrodes")) {
		*source = ELECTRODES "/location";
		return electrode_locations(f, rows, out);
	}
	*source = "none";
	for (size_t r = 0; r < rows; r++)
		out[r] = ax_xstrdup("unknown");
	return AX_OK;
}

/* Regions of the kept units: indices into their sorted distinct names. */
static void number_regions(struct nwbi_units *u, char **loc, const size_t *rows)
{
	char **kept = ax_xmalloc((size_t)u->n * sizeof *kept);
	double *code = ax_xmalloc((size_t)u->n * sizeof *code);
	for (int i = 0; i < u->n; i++)
		kept[i] = loc[rows[i]];
	ax_nwb_text_codes(kept, (size_t)u->n, code, &u->region_names);
	u->region = ax_xmalloc((size_t)u->n * sizeof *u->region);
	for (int i = 0; i < u->n; i++)
		u->region[i] = (int32_t)code[i];
	free(kept), free(code);
}

int nwbi_units_observed(const struct nwbi_units *u, int unit, double a, double b)
{
	if (!u->obs)
		return 1;
	for (size_t k = u->obs_start[unit]; k < u->obs_start[unit + 1]; k++)
		if (u->obs[2 * k] <= a && b <= u->obs[2 * k + 1])
			return 1;
	return 0;
}

/* Kept units' spikes (dropping those outside their observed intervals). */
static void copy_spikes(struct nwbi_units *u, const struct ax_nwb_units *all, const size_t *rows)
{
	u->times = ax_xmalloc((all->nspikes ? all->nspikes : 1) * sizeof *u->times);
	u->start = ax_xcalloc((size_t)u->n + 1, sizeof *u->start);
	size_t k = 0;
	for (int i = 0; i < u->n; i++) {
		size_t r = rows[i];
		for (int64_t s = r ? all->end[r - 1] : 0; s < all->end[r]; s++) {
			double t = all->times[s];
			if (nwbi_units_observed(u, i, t, t))
				u->times[k++] = t;
			else
				u->unobserved++;
		}
		u->start[i + 1] = k;
	}
}

/* Observed intervals of the kept units, if the file has them. */
static enum ax_status copy_obs(const struct ax_nwb *f, struct nwbi_units *u, const size_t *rows)
{
	if (!ax_nwb_exists(f, "/units/obs_intervals"))
		return AX_OK;
	struct ax_nwb_ragged r;
	enum ax_status st = ax_nwb_ragged_load(f, "/units", "obs_intervals", &r);
	if (st)
		return st;
	if (r.values.ndim != 2 || r.values.shape[1] != 2 || r.rows != u->total) {
		ax_nwb_ragged_free(&r);
		return ax_error_set(AX_ERR_FORMAT, "%s: /units/obs_intervals: not one list of "
				    "(start, stop) pairs per unit", ax_nwb_path(f));
	}
	size_t pairs = (size_t)r.values.shape[0], k = 0;
	u->obs = ax_xmalloc(2 * (pairs ? pairs : 1) * sizeof *u->obs);
	u->obs_start = ax_xcalloc((size_t)u->n + 1, sizeof *u->obs_start);
	for (int i = 0; i < u->n; i++) {
		for (int64_t p = rows[i] ? r.end[rows[i] - 1] : 0; p < r.end[rows[i]]; p++, k++) {
			u->obs[2 * k] = ax_array_get(&r.values, 2 * (size_t)p);
			u->obs[2 * k + 1] = ax_array_get(&r.values, 2 * (size_t)p + 1);
		}
		u->obs_start[i + 1] = k;
	}
	ax_nwb_ragged_free(&r);
	return AX_OK;
}

enum ax_status nwbi_units_load(const struct ax_nwb *f, const struct nwbi_opts *o,
			       struct nwbi_units *u)
{
	memset(u, 0, sizeof *u);
	struct ax_nwb_units all;
	enum ax_status st = ax_nwb_units_load(f, &all);
	if (st)
		return st;
	u->total = all.n;
	int *keep = ax_xmalloc((all.n ? all.n : 1) * sizeof *keep);
	char **loc = ax_xcalloc(all.n ? all.n : 1, sizeof *loc);
	size_t *rows = ax_xmalloc((all.n ? all.n : 1) * sizeof *rows);
	for (size_t r = 0; r < all.n; r++)
		keep[r] = 1;
	if (!(st = units_where(f, o, all.n, keep)))
		st = unit_locations(f, all.n, loc, &u->region_source);
	for (size_t r = 0; r < all.n && !st; r++)
		if (keep[r])
			rows[u->n++] = r;
	if (!st && !u->n)
		st = ax_error_set(AX_ERR_ARG, "%s: no unit left after --units-where", o->in);
	if (!st) {
		u->id = ax_xmalloc((size_t)u->n * sizeof *u->id);
		for (int i = 0; i < u->n; i++)
			u->id[i] = all.id[rows[i]];
		number_regions(u, loc, rows);
		if (!(st = copy_obs(f, u, rows)))
			copy_spikes(u, &all, rows);
	}
	ax_nwb_names_free(loc, (int)all.n);
	free(keep), free(rows);
	ax_nwb_units_free(&all);
	return st;
}

void nwbi_units_free(struct nwbi_units *u)
{
	free(u->id), free(u->region), free(u->region_names), free(u->times), free(u->start);
	free(u->obs), free(u->obs_start);
	memset(u, 0, sizeof *u);
}
