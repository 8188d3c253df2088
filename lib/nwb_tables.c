/* nwb_tables.c — what NWB builds from datasets: DynamicTable columns,
 * ragged columns (NAME + NAME_index), the units table and TimeSeries. */
#include "ax_nwb.h"

#include <math.h>
#include <string.h>

#define PATH_CAP 1024

/* "TABLE/NAME" into buf (AX_ERR_ARG if it does not fit). */
static enum ax_status join(char *buf, const char *table, const char *name)
{
	if ((size_t)snprintf(buf, PATH_CAP, "%s/%s", table, name) >= PATH_CAP)
		return ax_error_set(AX_ERR_ARG, "%s/%s: path too long", table, name);
	return AX_OK;
}

enum ax_status ax_nwb_column_load(const struct ax_nwb *f, const char *table, const char *name,
				  size_t rows, struct ax_nwb_column *c)
{
	memset(c, 0, sizeof *c);
	char obj[PATH_CAP], idx[PATH_CAP + 8];
	struct ax_nwb_dataset d;
	enum ax_status st = join(obj, table, name);
	if (st || (st = ax_nwb_dataset_info(f, obj, &d)))
		return st;
	snprintf(idx, sizeof idx, "%s_index", obj);
	if (ax_nwb_exists(f, idx))
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: %s: a ragged column (it has %s_index), "
				    "not one value per row", ax_nwb_path(f), obj, name);
	size_t n = d.ndim ? (size_t)d.shape[0] : 1;
	if (d.ndim != 1 && !(d.ndim == 2 && d.shape[1] == 1))
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: %s: %d-dimensional, not one value per row",
				    ax_nwb_path(f), obj, d.ndim);
	if (n != rows)
		return ax_error_set(AX_ERR_FORMAT, "%s: %s: %zu values for a table of %zu rows",
				    ax_nwb_path(f), obj, n, rows);
	if (!strcmp(d.type, "string"))
		return ax_nwb_read_strings(f, obj, &c->str, &c->n);
	struct ax_array a;
	if ((st = ax_nwb_read(f, obj, &a)))
		return st;
	c->n = n;
	c->num = ax_xmalloc((n ? n : 1) * sizeof *c->num);
	for (size_t i = 0; i < n; i++)
		c->num[i] = ax_array_get(&a, i);
	ax_array_free(&a);
	return AX_OK;
}

void ax_nwb_column_free(struct ax_nwb_column *c)
{
	if (c->str)
		ax_nwb_names_free(c->str, (int)c->n);
	free(c->num);
	memset(c, 0, sizeof *c);
}

enum ax_status ax_nwb_ragged_load(const struct ax_nwb *f, const char *table, const char *name,
				  struct ax_nwb_ragged *r)
{
	memset(r, 0, sizeof *r);
	char obj[PATH_CAP], idx[PATH_CAP + 8];
	struct ax_array index;
	enum ax_status st = join(obj, table, name);
	if (st)
		return st;
	snprintf(idx, sizeof idx, "%s_index", obj);
	if ((st = ax_nwb_read(f, obj, &r->values)))
		return st;
	if ((st = ax_nwb_read(f, idx, &index))) {
		ax_nwb_ragged_free(r);
		return st;
	}
	size_t total = r->values.ndim ? (size_t)r->values.shape[0] : 1;
	if (index.dtype != AX_I64 || index.ndim != 1)
		st = ax_error_set(AX_ERR_FORMAT, "%s: %s: not a list of integer offsets", ax_nwb_path(f), idx);
	r->rows = st ? 0 : (size_t)index.shape[0];
	r->end = ax_xmalloc((r->rows ? r->rows : 1) * sizeof *r->end);
	for (size_t i = 0; i < r->rows && !st; i++) {
		int64_t e = ((const int64_t *)index.data)[i], prev = i ? r->end[i - 1] : 0;
		if (e < prev)
			st = ax_error_set(AX_ERR_FORMAT, "%s: %s: offset %zu (%lld) is less than the one "
					  "before (%lld): offsets must not decrease", ax_nwb_path(f),
					  idx, i, (long long)e, (long long)prev);
		else if ((uint64_t)e > total)
			st = ax_error_set(AX_ERR_FORMAT, "%s: %s: offset %zu (%lld) is past the end of "
					  "%s (%zu values)", ax_nwb_path(f), idx, i, (long long)e, obj, total);
		r->end[i] = e;
	}
	ax_array_free(&index);
	if (st)
		ax_nwb_ragged_free(r);
	return st;
}

void ax_nwb_ragged_free(struct ax_nwb_ragged *r)
{
	ax_array_free(&r->values);
	free(r->end);
	memset(r, 0, sizeof *r);
}

/* Spike times finite and in order within each unit. */
static enum ax_status check_spikes(const struct ax_nwb *f, const struct ax_nwb_units *u)
{
	for (size_t i = 0; i < u->n; i++)
		for (int64_t k = i ? u->end[i - 1] : 0; k < u->end[i]; k++) {
			if (!isfinite(u->times[k]))
				return ax_error_set(AX_ERR_FORMAT, "%s: /units/spike_times: value %lld "
						    "(unit %zu) is not finite", ax_nwb_path(f),
						    (long long)k, i);
			if (k > (i ? u->end[i - 1] : 0) && u->times[k] < u->times[k - 1])
				return ax_error_set(AX_ERR_FORMAT, "%s: /units/spike_times: spike times "
						    "out of order within unit %zu (id %lld) at value "
						    "%lld (%.9g after %.9g)", ax_nwb_path(f), i,
						    (long long)u->id[i], (long long)k, u->times[k],
						    u->times[k - 1]);
		}
	return AX_OK;
}

enum ax_status ax_nwb_units_load(const struct ax_nwb *f, struct ax_nwb_units *u)
{
	memset(u, 0, sizeof *u);
	if (!ax_nwb_exists(f, "/units"))
		return ax_error_set(AX_ERR_NOTFOUND, "%s: /units: no such group (the file has no "
				    "units table)", ax_nwb_path(f));
	struct ax_array id;
	struct ax_nwb_ragged r;
	enum ax_status st = ax_nwb_read(f, "/units/id", &id);
	if (st)
		return st;
	if (id.dtype != AX_I64 || id.ndim != 1) {
		ax_array_free(&id);
		return ax_error_set(AX_ERR_FORMAT, "%s: /units/id: not a list of integers", ax_nwb_path(f));
	}
	if ((st = ax_nwb_ragged_load(f, "/units", "spike_times", &r))) {
		ax_array_free(&id);
		return st;
	}
	u->n = (size_t)id.shape[0];
	u->id = id.data;
	u->end = r.end;
	u->nspikes = r.rows ? (size_t)r.end[r.rows - 1] : 0;
	if (r.values.dtype != AX_F64 || r.values.ndim != 1)
		st = ax_error_set(AX_ERR_FORMAT, "%s: /units/spike_times: not a list of times in "
				  "seconds", ax_nwb_path(f));
	else if (r.rows != u->n)
		st = ax_error_set(AX_ERR_FORMAT, "%s: /units/spike_times_index: %zu offsets for %zu "
				  "units (/units/id)", ax_nwb_path(f), r.rows, u->n);
	u->times = r.values.data;
	if (!st)
		st = check_spikes(f, u);
	if (st)
		ax_nwb_units_free(u);
	return st;
}

void ax_nwb_units_free(struct ax_nwb_units *u)
{
	free(u->id), free(u->times), free(u->end);
	memset(u, 0, sizeof *u);
}

/* Sample times of the series at path with n samples into s->t. */
static enum ax_status series_times(const struct ax_nwb *f, const char *path, struct ax_nwb_series *s)
{
	char obj[PATH_CAP];
	struct ax_array a;
	enum ax_status st;
	if ((st = join(obj, path, "timestamps")))
		return st;
	s->t = ax_xmalloc((s->n ? s->n : 1) * sizeof *s->t);
	if (ax_nwb_exists(f, obj)) {
		if ((st = ax_nwb_read(f, obj, &a)))
			return st;
		if (a.ndim != 1 || (size_t)a.shape[0] != s->n)
			st = ax_error_set(AX_ERR_FORMAT, "%s: %s: %lld timestamps for %zu samples of data",
					  ax_nwb_path(f), obj, (long long)(a.ndim ? a.shape[0] : 1), s->n);
		for (size_t i = 0; i < s->n && !st; i++) {
			s->t[i] = ax_array_get(&a, i);
			if (!isfinite(s->t[i]) || (i && s->t[i] < s->t[i - 1]))
				st = ax_error_set(AX_ERR_FORMAT, "%s: %s: timestamp %zu (%.9g) is not "
						  "finite or goes back in time", ax_nwb_path(f), obj, i, s->t[i]);
		}
		ax_array_free(&a);
		return st;
	}
	double rate;
	if ((st = join(obj, path, "starting_time")) || (st = ax_nwb_read(f, obj, &a)))
		return st == AX_ERR_NOTFOUND ? ax_error_set(st, "%s: %s: neither timestamps nor "
							    "starting_time", ax_nwb_path(f), path) : st;
	double t0 = ax_array_count(&a) == 1 ? ax_array_get(&a, 0) : NAN;
	ax_array_free(&a);
	if ((st = ax_nwb_attr_f64(f, obj, "rate", &rate)))
		return st;
	if (!isfinite(t0) || !(rate > 0) || !isfinite(rate))
		return ax_error_set(AX_ERR_FORMAT, "%s: %s: starting_time %g with rate %g Hz is not a "
				    "clock", ax_nwb_path(f), obj, t0, rate);
	for (size_t i = 0; i < s->n; i++)
		s->t[i] = t0 + (double)i / rate;
	return AX_OK;
}

enum ax_status ax_nwb_series_load(const struct ax_nwb *f, const char *path,
				  struct ax_nwb_series *s)
{
	memset(s, 0, sizeof *s);
	char obj[PATH_CAP];
	struct ax_array a;
	enum ax_status st = join(obj, path, "data");
	if (st)
		return st;
	if (!ax_nwb_exists(f, path))
		return ax_error_set(AX_ERR_NOTFOUND, "%s: %s: no such TimeSeries in the file",
				    ax_nwb_path(f), path);
	if ((st = ax_nwb_read(f, obj, &a)))
		return st;
	if (a.ndim < 1 || a.ndim > 2) {
		ax_array_free(&a);
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: %s: %d-dimensional data (a series is "
				    "(samples) or (samples, columns))", ax_nwb_path(f), obj, a.ndim);
	}
	s->n = (size_t)a.shape[0];
	s->dim = a.ndim == 2 ? (size_t)a.shape[1] : 1;
	size_t count = ax_array_count(&a);
	s->data = ax_xmalloc((count ? count : 1) * sizeof *s->data);
	for (size_t i = 0; i < count; i++)
		s->data[i] = ax_array_get(&a, i);
	ax_array_free(&a);
	if ((st = series_times(f, path, s)))
		ax_nwb_series_free(s);
	return st;
}

void ax_nwb_series_free(struct ax_nwb_series *s)
{
	free(s->t), free(s->data);
	memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ax_nwb_text_codes(char *const *v, size_t n, double *code, char **names_out)
{
	char **s = ax_xmalloc((n ? n : 1) * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_str);
	size_t k = 0, len = 1;
	for (size_t i = 0; i < n; i++)
		if (!k || strcmp(s[i], s[k - 1]))
			s[k++] = s[i], len += strlen(s[i]) + 1;
	for (size_t r = 0; r < n; r++)
		code[r] = (double)((char **)bsearch(&v[r], s, k, sizeof *s, cmp_str) - s);
	*names_out = ax_xcalloc(1, len);
	for (size_t i = 0; i < k; i++)
		strcat(strcat(*names_out, i ? "," : ""), s[i]);
	free(s);
}
