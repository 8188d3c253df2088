/* npy.c — ax-plot's NPY input: arrays and streams of arrays into heatmap
 * panels or series. */
#include "ax_cli.h"
#include "plot.h"

#include <math.h>
#include <string.h>

/* ---- NPY arrays ---- */

/* Does the stream start with the NPY magic? Looks without consuming, so a
 * pipe can be sniffed and then read by the right parser. */
int axp_is_npy(struct ax_reader *r)
{
	char magic[6];
	size_t got;
	return ax_reader_peek(r, magic, 6, &got) == AX_OK && got == 6 &&
	       !memcmp(magic, AX_NPY_MAGIC, 6);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

enum ax_status axp_load_npy(struct ax_reader *r, const char *shown, struct axp_arrays *as)
{
	int first = as->n;
	for (;;) {
		struct ax_array a;
		enum ax_status st = ax_npy_read(r, &a);
		if (st == AX_ERR_EOF)
			break;
		if (st)
			return ax_error_prefix(st, "bad NPY input");
		if (as->n >= 4096) {
			ax_array_free(&a);
			return ax_error_set(AX_ERR_FORMAT, "%s: too many arrays (max 4096)", shown);
		}
		as->a = ax_xrealloc(as->a, (size_t)(as->n + 1) * sizeof *as->a);
		as->label = ax_xrealloc(as->label, (size_t)(as->n + 1) * sizeof *as->label);
		as->a[as->n] = a;
		char buf[512];
		snprintf(buf, sizeof buf, "%s[%d]", base_name(shown), as->n - first);
		as->label[as->n++] = ax_xstrdup(buf);
	}
	if (as->n == first)
		return ax_error_set(AX_ERR_FORMAT, "%s: no arrays in the input", shown);
	if (as->n == first + 1) {  /* a lone array is named by its file */
		free(as->label[first]);
		as->label[first] = ax_xstrdup(base_name(shown));
	}
	return AX_OK;
}

/* Drop size-1 dimensions: (1, T, M) plots like (T, M). */
int axp_squeeze(const struct ax_array *a, int64_t *shape)
{
	int n = 0;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != 1)
			shape[n++] = a->shape[d];
	return n;
}

void axp_heat_shape(const struct ax_array *a, int *rows, int *cols)
{
	int64_t sh[AX_ARRAY_MAX_DIMS];
	if (axp_squeeze(a, sh) < 2) {   /* a (1, n) array stays as it is */
		sh[0] = a->shape[0];
		sh[1] = a->shape[1];
	}
	*rows = (int)sh[0];
	*cols = (int)sh[1];
}

static enum ax_status npy_heat_panels(struct axp_plot *p)
{
	const struct axp_arrays *as = &p->as;
	for (int i = 0; i < as->n; i++) {
		int64_t sh[AX_ARRAY_MAX_DIMS];
		if (axp_squeeze(&as->a[i], sh) != 2 && !(as->a[i].ndim == 2)) {
			char shp[128];
			ax_shape_fmt(shp, sizeof shp, as->a[i].ndim, as->a[i].shape);
			return ax_error_set(AX_ERR_FORMAT, "%s: a heatmap needs a 2-D array, got shape %s",
					    as->label[i], shp);
		}
		struct axp_panel *pn;
		enum ax_status st = axp_new_panel(p, &pn);
		if (st)
			return st;
		pn->heat = &as->a[i];
		pn->title = as->n > 1 ? ax_xstrdup(as->label[i]) : NULL;
		pn->xlabel = p->o.xlabel ? ax_xstrdup(p->o.xlabel) : NULL;
		pn->ylabel = p->o.ylabel ? ax_xstrdup(p->o.ylabel) : NULL;
	}
	return AX_OK;
}

/* line, bar: a 1-D array is one series over the index; (n, k) is k series. */
static enum ax_status npy_columns(const struct axp_plot *p, struct axp_panel *pn,
				  const struct ax_array *a, const char *label, size_t *bad)
{
	const struct axp_opts *o = &p->o;
	int64_t sh[AX_ARRAY_MAX_DIMS];
	int nd = axp_squeeze(a, sh);
	char shp[128];
	ax_shape_fmt(shp, sizeof shp, a->ndim, a->shape);
	if (nd > 2 || (o->kind == AXP_BAR && nd > 1))
		return ax_error_set(AX_ERR_FORMAT, "%s: --kind %s needs a 1-D%s array, got shape %s",
				    label, axp_kind_names[o->kind], o->kind == AXP_LINE ? " or 2-D" : "",
				    shp);
	size_t rows = nd ? (size_t)sh[0] : 1, k = nd == 2 ? (size_t)sh[1] : 1;
	if (k > AXP_MAX_SERIES)
		return ax_error_set(AX_ERR_FORMAT, "%s: %zu columns is too many series (max %d)",
				    label, k, AXP_MAX_SERIES);
	for (size_t j = 0; j < k; j++) {
		char name[512];
		if (k > 1)
			snprintf(name, sizeof name, "%s col %zu", label, j);
		else
			snprintf(name, sizeof name, "%s", label);
		struct axp_series *s = axp_series_add(pn, name, pn->ns);
		size_t cap = 0;
		for (size_t r = 0; r < rows; r++) {
			double v = ax_array_get(a, r * k + j);
			if (!isfinite(v) || (o->logy && v <= 0) ||
			    (o->logx && r == 0 && o->kind == AXP_LINE)) {
				(*bad)++;
				continue;
			}
			axp_series_push(s, &cap, (double)r, v, 0, 0, 0);
		}
	}
	if (o->kind == AXP_BAR && !pn->ncat) {
		pn->ncat = (int)rows;
		pn->cats = ax_xcalloc(rows ? rows : 1, sizeof *pn->cats);
		for (size_t r = 0; r < rows; r++) {
			char b[32];
			snprintf(b, sizeof b, "%zu", r);
			pn->cats[r] = ax_xstrdup(b);
		}
	}
	return AX_OK;
}

/* One array's series: every value (hist), columns (line, bar), or x, y pairs (scatter). */
static enum ax_status npy_series(const struct axp_plot *p, struct axp_panel *pn, int i)
{
	const struct ax_array *a = &p->as.a[i];
	const char *label = p->as.label[i];
	enum axp_kind kind = p->o.kind;
	size_t cnt = ax_array_count(a), cap = 0, bad = 0;
	if (kind == AXP_HIST) {
		struct axp_series *s = axp_series_add(pn, label, i);
		for (size_t k = 0; k < cnt; k++) {
			double v = ax_array_get(a, k);
			if (!isfinite(v))
				bad++;
			else
				axp_series_push(s, &cap, v, v, 0, 0, 0);
		}
	} else if (kind == AXP_LINE || kind == AXP_BAR) {
		enum ax_status st = npy_columns(p, pn, a, label, &bad);
		if (st)
			return st;
	} else {
		int64_t sh[AX_ARRAY_MAX_DIMS];
		if (axp_squeeze(a, sh) != 2 || sh[1] != 2) {
			char shp[128];
			ax_shape_fmt(shp, sizeof shp, a->ndim, a->shape);
			return ax_error_set(AX_ERR_FORMAT, "%s: --kind scatter needs an (n, 2) array of "
					    "x, y pairs, got shape %s", label, shp);
		}
		struct axp_series *s = axp_series_add(pn, label, i);
		for (size_t r = 0; r < (size_t)sh[0]; r++) {
			double x = ax_array_get(a, 2 * r), y = ax_array_get(a, 2 * r + 1);
			if (!isfinite(x) || !isfinite(y))
				bad++;
			else
				axp_series_push(s, &cap, x, y, 0, 0, 0);
		}
	}
	if (bad)
		ax_warn("warning: %s: %zu non-finite%s values skipped", label, bad,
			p->o.logx || p->o.logy ? " or non-positive" : "");
	return AX_OK;
}

enum ax_status axp_npy_panels(struct axp_plot *p)
{
	const struct axp_opts *o = &p->o;
	if (o->kind == AXP_HEATMAP)
		return npy_heat_panels(p);
	struct axp_panel *pn;
	enum ax_status st = axp_new_panel(p, &pn);
	if (st)
		return st;
	pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->kind == AXP_HIST ? "value" : "index");
	pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->kind == AXP_HIST ?
				(o->density ? "density" : "count") : "value");
	for (int i = 0; i < p->as.n && !st; i++)
		st = npy_series(p, pn, i);
	return st;
}
