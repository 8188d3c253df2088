/* trials.c — the trials table: start and stop times, the align time, and
 * the per-trial fields mapped from its columns by --trial
 * NAME=COLUMN[:FROM=TO,...]. FROM is a number, "nan", a text value or "*"
 * (anything not listed); TO is a number or "drop" (the trial is left out).
 * Values no entry matches pass through (numbers) or are an error (text);
 * a text column without a map is coded 0, 1, ... in the sorted order of
 * its distinct values. */
#include "nwbi.h"

#include <math.h>
#include <string.h>

#define TRIALS "/intervals/trials"

enum { MAP_MAX = 64 };
struct map_entry {
	char from[128];
	double from_num;   /* NAN unless from is a number ("nan" is NAN too) */
	int wild, drop;
	double to;
};
struct map {
	char name[128], column[128];
	int n;
	struct map_entry e[MAP_MAX];
};

static enum ax_status map_parse(const char *spec, struct map *m)
{
	memset(m, 0, sizeof *m);
	const char *eq = strchr(spec, '='), *colon = strchr(spec, ':');
	size_t nlen = eq ? (size_t)(eq - spec) : 0, clen = eq ? (colon ? (size_t)(colon - eq - 1) : strlen(eq + 1)) : 0;
	if (!eq || !nlen || !clen || nlen >= sizeof m->name || clen >= sizeof m->column ||
	    (colon && colon < eq))
		return ax_error_set(AX_ERR_ARG, "--trial %s: not NAME=COLUMN[:FROM=TO,...]", spec);
	memcpy(m->name, spec, nlen);
	memcpy(m->column, eq + 1, clen);
	for (const char *p = colon ? colon + 1 : NULL; p && *p; m->n++) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *to = memchr(p, '=', (size_t)(end - p));
		struct map_entry *e = &m->e[m->n];
		if (m->n == MAP_MAX || !to || to == p || to + 1 == end || (size_t)(to - p) >= sizeof e->from)
			return ax_error_set(AX_ERR_ARG, "--trial %s: '%.*s' is not FROM=TO (at most %d)",
					    spec, (int)(end - p), p, MAP_MAX);
		memcpy(e->from, p, (size_t)(to - p));
		char *stop, tobuf[64];
		e->wild = !strcmp(e->from, "*");
		e->from_num = strtod(e->from, &stop);
		if (*stop || stop == e->from)
			e->from_num = NAN;
		snprintf(tobuf, sizeof tobuf, "%.*s", (int)(end - to - 1), to + 1);
		e->drop = !strcmp(tobuf, "drop");
		e->to = strtod(tobuf, &stop);
		if (!e->drop && (*stop || stop == tobuf || !isfinite(e->to)))
			return ax_error_set(AX_ERR_ARG, "--trial %s: '%s' is not a number or 'drop'",
					    spec, tobuf);
		p = comma ? comma + 1 : end;
	}
	return AX_OK;
}

/* The entry matching row r of c (the wildcard last), or NULL. */
static const struct map_entry *map_find(const struct map *m, const struct ax_nwb_column *c, size_t r)
{
	const struct map_entry *wild = NULL;
	for (int i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		if (e->wild)
			wild = e;
		else if (c->str ? !strcmp(c->str[r], e->from)
				: (isnan(c->num[r]) ? !strcmp(e->from, "nan")
						    : fabs(c->num[r] - e->from_num) <= 1e-6 * fmax(1, fabs(e->from_num))))
			return e;
	}
	return wild;
}

/* Field fl's value for every row (keep[r] = 0 where the map drops it). */
static enum ax_status field_values(const struct ax_nwb *f, size_t rows, const char *spec,
				   struct nwbi_field *fl, double *v, int *keep)
{
	struct map m;
	struct ax_nwb_column c;
	enum ax_status st = map_parse(spec, &m);
	if (st)
		return st;
	if ((st = ax_nwb_column_load(f, TRIALS, m.column, rows, &c)))
		return ax_error_prefix(st, "--trial");
	fl->name = ax_xstrdup(m.name);
	fl->spec = spec;
	if (c.str && !m.n)
		ax_nwb_text_codes(c.str, c.n, v, &fl->names);
	for (size_t r = 0; r < rows && !st && !(c.str && !m.n); r++) {
		const struct map_entry *e = map_find(&m, &c, r);
		if (e && e->drop)
			keep[r] = 0;
		else if (e)
			v[r] = e->to;
		else if (c.num)
			v[r] = c.num[r];
		else
			st = ax_error_set(AX_ERR_ARG, "--trial %s: trial %zu's '%s' is not in the map "
					  "(add %s=N, %s=drop or *=N)", spec, r, c.str[r], c.str[r], c.str[r]);
	}
	ax_nwb_column_free(&c);
	return st;
}

/* A numeric column of the trials table into *out (malloc'd, rows values). */
static enum ax_status times_column(const struct ax_nwb *f, const char *name, size_t rows, double **out)
{
	struct ax_nwb_column c;
	enum ax_status st = ax_nwb_column_load(f, TRIALS, name, rows, &c);
	if (!st && !c.num)
		st = ax_error_set(AX_ERR_ARG, "%s: %s/%s: text, not times", ax_nwb_path(f), TRIALS, name);
	*out = st ? NULL : c.num;
	c.num = NULL;
	ax_nwb_column_free(&c);
	return st;
}

/* Keep the rows with keep[r] of a rows-long column, in place. */
static void compact(double *v, const int *keep, size_t rows)
{
	for (size_t r = 0, k = 0; v && r < rows; r++)
		if (keep[r])
			v[k++] = v[r];
}

enum ax_status nwbi_trials_load(const struct ax_nwb *f, const struct nwbi_opts *o,
				struct nwbi_trials *t)
{
	memset(t, 0, sizeof *t);
	struct ax_nwb_dataset d;
	if (!ax_nwb_exists(f, TRIALS))
		return ax_error_set(AX_ERR_NOTFOUND, "%s: %s: no such group (the file has no trials "
				    "table)", ax_nwb_path(f), TRIALS);
	enum ax_status st = ax_nwb_dataset_info(f, TRIALS "/start_time", &d);
	if (st)
		return st;
	size_t rows = d.ndim ? (size_t)d.shape[0] : 1;
	t->total = rows;
	int *keep = ax_xmalloc((rows ? rows : 1) * sizeof *keep);
	for (size_t r = 0; r < rows; r++)
		keep[r] = 1;
	if (!(st = times_column(f, "start_time", rows, &t->start)) &&
	    !(st = times_column(f, "stop_time", rows, &t->stop)) && o->align &&
	    !(st = times_column(f, o->align, rows, &t->align)))
		for (size_t r = 0; r < rows; r++)
			keep[r] &= isfinite(t->align[r]);
	t->fields = ax_xcalloc((size_t)o->nfields + 1, sizeof *t->fields);
	for (int i = 0; i < o->nfields && !st; i++, t->nfields++) {
		t->fields[i].v = ax_xcalloc(rows ? rows : 1, sizeof(double));
		st = field_values(f, rows, o->fields[i], &t->fields[i], t->fields[i].v, keep);
	}
	for (size_t r = 0; r < rows && !st; r++)
		t->n += keep[r];
	t->dropped = rows - (size_t)t->n;
	compact(t->start, keep, rows), compact(t->stop, keep, rows), compact(t->align, keep, rows);
	for (int i = 0; i < t->nfields; i++)
		compact(t->fields[i].v, keep, rows);
	free(keep);
	if (!st && !t->n)
		st = ax_error_set(AX_ERR_ARG, "%s: no trial left (maps with 'drop', or no %s time)",
				  o->in, o->align ? o->align : "start");
	return st;
}

void nwbi_trials_free(struct nwbi_trials *t)
{
	free(t->start), free(t->stop), free(t->align);
	for (int i = 0; i < t->nfields; i++)
		free(t->fields[i].name), free(t->fields[i].v), free(t->fields[i].names);
	free(t->fields);
	memset(t, 0, sizeof *t);
}
