/* csv.c — ax-plot's CSV input: columns, groups and runs (--spread, --band)
 * into panels of series, for line/scatter, histogram and bar plots. */
#include "ax_cli.h"
#include "plot.h"

#include <math.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile q of sorted v[n], linear between order statistics. */
static double quantile(const double *v, size_t n, double q)
{
	double pos = q * (n - 1);
	size_t i = (size_t)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/* Legend label of column col of nc in a panel, for group gname (NULL: no --group). */
static void series_label(char *buf, size_t n, const char *col, int nc, const char *gname)
{
	if (!gname)
		snprintf(buf, n, "%s", col);
	else if (nc == 1)
		snprintf(buf, n, "%s", gname);
	else
		snprintf(buf, n, "%s %s", col, gname);
}

static int by_x_cmp(const void *a, const void *b)
{
	const double *p = a, *q = b;
	int c = cmp_double(p, q);
	return c ? c : cmp_double(p + 4, q + 4);   /* then by row, for stability */
}

/* Each run of equal x in t (n, 5: x y lo hi row, sorted) collapsed into the
 * median and interquartile range of its y; returns the count. */
static size_t spread_runs(struct axp_series *s, const double *t, size_t n)
{
	size_t m = 0;
	s->lo = ax_xrealloc(s->lo, (n ? n : 1) * sizeof *s->lo);
	s->hi = ax_xrealloc(s->hi, (n ? n : 1) * sizeof *s->hi);
	double *ys = ax_xmalloc((n ? n : 1) * sizeof *ys);
	for (size_t i = 0; i < n;) {
		size_t j = i, k = 0;
		for (; j < n && t[5 * j] == t[5 * i]; j++)
			ys[k++] = t[5 * j + 1];
		qsort(ys, k, sizeof *ys, cmp_double);
		s->x[m] = t[5 * i];
		s->y[m] = quantile(ys, k, 0.5);
		s->lo[m] = quantile(ys, k, 0.25);
		s->hi[m] = quantile(ys, k, 0.75);
		m++;
		i = j;
	}
	free(ys);
	return m;
}

/* Sort a series by x (rows as written otherwise), then, with runs, collapse
 * each x into median and interquartile range over its runs. */
static void sort_and_spread(struct axp_series *s, int spread)
{
	size_t n = s->n;
	double *t = ax_xmalloc((n ? n : 1) * 5 * sizeof *t);
	for (size_t i = 0; i < n; i++) {
		t[5 * i] = s->x[i];
		t[5 * i + 1] = s->y[i];
		t[5 * i + 2] = s->lo ? s->lo[i] : 0;
		t[5 * i + 3] = s->hi ? s->hi[i] : 0;
		t[5 * i + 4] = (double)i;
	}
	qsort(t, n, 5 * sizeof *t, by_x_cmp);
	if (spread) {
		s->n = spread_runs(s, t, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			s->x[i] = t[5 * i];
			s->y[i] = t[5 * i + 1];
			if (s->lo) {
				s->lo[i] = t[5 * i + 2];
				s->hi[i] = t[5 * i + 3];
			}
		}
	}
	free(t);
}

/* ---- CSV columns ---- */

static enum ax_status column(const struct ax_table *tab, const char *name, const char *what,
			     int *c)
{
	*c = ax_table_col(tab, name);
	if (*c >= 0)
		return AX_OK;
	char list[400] = "";
	for (int i = 0; i < tab->ncols; i++) {
		strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
		strncat(list, tab->names[i], sizeof list - strlen(list) - 1);
	}
	return ax_error_set(AX_ERR_NOTFOUND, "%s column '%s' not found (columns: %s)", what, name,
			    list);
}

/* A column whose every non-empty cell is text cannot be plotted. */
static enum ax_status check_numeric(const struct ax_table *tab, int c)
{
	int numbers = 0, text = 0;
	for (int r = 0; r < tab->nrows; r++) {
		const char *s = ax_table_str(tab, r, c);
		double v = ax_table_num(tab, r, c);
		if (!*s)
			continue;
		if (isnan(v) && strncasecmp(s, "nan", 3) && strncasecmp(s, "-nan", 4))
			text++;
		else
			numbers++;
	}
	if (!numbers)
		return ax_error_set(AX_ERR_FORMAT, "column '%s' has no numbers%s", tab->names[c],
				    text ? " (it holds text)" : "");
	return AX_OK;
}

/* A numeric column by name. */
static enum ax_status numeric_column(const struct ax_table *tab, const char *name,
				     const char *what, int *c)
{
	enum ax_status st = column(tab, name, what, c);
	return st ? st : check_numeric(tab, *c);
}

/* Distinct values of a column in order of first appearance; idx[r] = value index per row. */
static char **distinct(const struct ax_table *tab, int c, int *n, int *idx)
{
	char **v = NULL;
	*n = 0;
	for (int r = 0; r < tab->nrows; r++) {
		const char *s = ax_table_str(tab, r, c);
		int k = 0;
		while (k < *n && strcmp(v[k], s))
			k++;
		if (k == *n) {
			v = ax_xrealloc(v, (size_t)(*n + 1) * sizeof *v);
			v[(*n)++] = (char *)s;
		}
		idx[r] = k;
	}
	return v;
}

/* Is name one of the comma-separated names in list? */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

/* The rows of a CSV input sorted into groups (and runs, for --spread). */
struct rows {
	int gc, sc, lc, hc;        /* group, spread, band low/high columns; -1: none */
	int ng, nruns;
	char **gnames;             /* NULL without --group */
	int *gidx, *sidx;          /* per row */
	char *ydef;                /* default -y columns (NULL when -y is given) */
};

static void rows_free(struct rows *w)
{
	free(w->gnames);
	free(w->gidx);
	free(w->sidx);
	free(w->ydef);
}

/* Columns to plot when no -y is given: every numeric column not otherwise used. */
static enum ax_status default_y(const struct axp_plot *p, int skip_x, char **out)
{
	const struct axp_opts *o = &p->o;
	const struct ax_table *tab = &p->tab;
	size_t len = 1;
	char *spec = ax_xcalloc(1, 1);
	for (int c = 0; c < tab->ncols; c++) {
		const char *nm = tab->names[c];
		if ((skip_x && o->x && !strcmp(nm, o->x)) || (o->group && !strcmp(nm, o->group)) ||
		    (o->spread && !strcmp(nm, o->spread)) || (o->band && in_list(o->band, nm)))
			continue;
		int ok = 0;
		for (int r = 0; r < tab->nrows && !ok; r++)
			ok = isfinite(ax_table_num(tab, r, c));
		if (!ok)
			continue;
		len += strlen(nm) + 1;
		spec = ax_xrealloc(spec, len);
		if (*spec)
			strcat(spec, ",");
		strcat(spec, nm);
	}
	*out = spec;
	if (!*spec) {
		free(spec);
		*out = NULL;
		return ax_error_set(AX_ERR_FORMAT, "no numeric columns to plot");
	}
	return AX_OK;
}

/* --group (and --spread, --band) columns, rows sorted into groups. */
static enum ax_status rows_init(const struct axp_plot *p, struct rows *w, int spread, int band)
{
	const struct axp_opts *o = &p->o;
	const struct ax_table *tab = &p->tab;
	enum ax_status st;
	memset(w, 0, sizeof *w);
	w->gc = w->sc = w->lc = w->hc = -1;
	w->ng = 1;
	size_t n = (size_t)(tab->nrows ? tab->nrows : 1);
	w->gidx = ax_xcalloc(n, sizeof *w->gidx);
	w->sidx = ax_xcalloc(n, sizeof *w->sidx);
	if (o->group && (st = column(tab, o->group, "group", &w->gc)))
		return st;
	if (spread && o->spread && (st = column(tab, o->spread, "spread", &w->sc)))
		return st;
	if (band && o->band) {
		int nb;
		char **b = axp_split_commas(o->band, &nb);
		st = nb != 2 ? ax_error_set(AX_ERR_ARG, "--band: expected LOW,HIGH, got '%s'", o->band)
		     : column(tab, b[0], "band", &w->lc);
		if (!st)
			st = column(tab, b[1], "band", &w->hc);
		axp_free_list(b, nb);
		if (st)
			return st;
	}
	if (w->gc >= 0) {
		w->gnames = distinct(tab, w->gc, &w->ng, w->gidx);
		if (w->ng > AXP_MAX_SERIES)
			return ax_error_set(AX_ERR_FORMAT, "--group %s: %d distinct values (max %d)",
					    o->group, w->ng, AXP_MAX_SERIES);
	}
	return AX_OK;
}

/* The -y columns of panel pi (or the default ones). */
static const char *panel_spec(const struct axp_plot *p, const struct rows *w, int pi)
{
	return p->o.ny ? p->o.yspec[pi] : w->ydef;
}

/* How a panel's series are made: one per -y column and group, by fn. */
struct fill;
typedef void series_fn(const struct axp_plot *p, const struct rows *w, struct axp_panel *pn,
		       const struct fill *f, int yc, int g, const char *label, int color);
struct fill {
	series_fn *fn;
	const char *what;          /* the columns' role, for messages */
	int xc;                    /* line, scatter: the x column (-1: the row number) */
	const int *cidx;           /* bar: each row's category */
};

/* One series per column of cols (numeric, found by name) and group. */
static enum ax_status fill_panel(const struct axp_plot *p, const struct rows *w,
				 struct axp_panel *pn, char **cols, int nc, const struct fill *f)
{
	for (int ci = 0; ci < nc; ci++) {
		int yc;
		enum ax_status st = numeric_column(&p->tab, cols[ci], f->what, &yc);
		if (st)
			return st;
		for (int g = 0; g < w->ng; g++) {
			char label[512];
			series_label(label, sizeof label, cols[ci], nc, w->gnames ? w->gnames[g] : NULL);
			f->fn(p, w, pn, f, yc, g, label, w->gc >= 0 ? g : ci);
		}
	}
	return AX_OK;
}

/* One line/scatter series: column yc, rows of group g, sorted (and spread). */
static void xy_series(const struct axp_plot *p, const struct rows *w, struct axp_panel *pn,
		      const struct fill *f, int yc, int g, const char *label, int color)
{
	int xc = f->xc;
	const struct axp_opts *o = &p->o;
	const struct ax_table *tab = &p->tab;
	struct axp_series *s = axp_series_add(pn, label, color);
	size_t cap = 0, bad = 0, nonpos = 0;
	char *seen = w->sc >= 0 ? ax_xcalloc((size_t)w->nruns + 1, 1) : NULL;
	int runs = 0;   /* runs in this group, for the legend */
	for (int r = 0; r < tab->nrows; r++) {
		if (w->gidx[r] != g)
			continue;
		double x = xc >= 0 ? ax_table_num(tab, r, xc) : r;
		double y = ax_table_num(tab, r, yc);
		double lo = w->lc >= 0 ? ax_table_num(tab, r, w->lc) : 0;
		double hi = w->hc >= 0 ? ax_table_num(tab, r, w->hc) : 0;
		if (!isfinite(x) || !isfinite(y) || !isfinite(lo) || !isfinite(hi)) {
			bad++;
			continue;
		}
		if ((o->logx && x <= 0) || (o->logy && y <= 0)) {
			nonpos++;
			continue;
		}
		if (seen && !seen[w->sidx[r]]) {
			seen[w->sidx[r]] = 1;
			runs++;
		}
		axp_series_push(s, &cap, x, y, lo, hi, w->lc >= 0);
	}
	free(seen);
	if (bad)
		ax_warn("warning: %s: %zu rows with NaN/inf or empty cells skipped", label, bad);
	if (nonpos)
		ax_warn("warning: %s: %zu non-positive values skipped on the log axis", label, nonpos);
	if (s->n == 0) {
		ax_warn("warning: %s: no finite values; series left out", label);
		axp_series_free(s);
		pn->ns--;
		return;
	}
	sort_and_spread(s, w->sc >= 0);
	if (w->sc >= 0) {
		char l2[600];
		snprintf(l2, sizeof l2, "%s (n=%d)", label, runs);
		free(s->label);
		s->label = ax_xstrdup(l2);
	}
}

/* line, scatter: one panel per -y, one series per column (x group value). */
static enum ax_status csv_xy(struct axp_plot *p, struct rows *w)
{
	const struct axp_opts *o = &p->o;
	int xc = -1;
	enum ax_status st;
	if (o->x && (st = numeric_column(&p->tab, o->x, "x", &xc)))
		return st;
	if ((st = rows_init(p, w, 1, 1)))
		return st;
	if (o->spread && o->band)
		return ax_error_set(AX_ERR_ARG, "--spread draws its own band; leave out --band");
	if (w->sc >= 0)
		free(distinct(&p->tab, w->sc, &w->nruns, w->sidx));
	if (!o->ny && (st = default_y(p, 1, &w->ydef)))
		return st;
	for (int pi = 0; pi < (o->ny ? o->ny : 1); pi++) {
		int nc;
		struct axp_panel *pn;
		if ((st = axp_new_panel(p, &pn)))
			return st;
		char **cols = axp_split_commas(panel_spec(p, w, pi), &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->x ? o->x : "row");
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->ny ? o->yspec[pi] : "");
		if (nc == 0)
			st = ax_error_set(AX_ERR_ARG, "-y: empty column list");
		else if (o->band && nc != 1)
			st = ax_error_set(AX_ERR_ARG, "--band needs a single -y column per panel");
		else
			st = fill_panel(p, w, pn, cols, nc, &(struct fill){xy_series, "y", xc, NULL});
		axp_free_list(cols, nc);
		if (!st && pn->ns == 0)
			st = ax_error_set(AX_ERR_FORMAT, "panel %d (%s): nothing to draw: no finite values",
					  pi + 1, panel_spec(p, w, pi));
		if (st)
			return st;
	}
	return AX_OK;
}

/* Values for histograms from one column, rows of group g. */
static void column_series(const struct axp_plot *p, const struct rows *w, struct axp_panel *pn,
			  const struct fill *f, int c, int g, const char *label, int color)
{
	const struct ax_table *tab = &p->tab;
	struct axp_series *s = axp_series_add(pn, label, color);
	size_t cap = 0, bad = 0;
	for (int r = 0; r < tab->nrows; r++) {
		if (w->gidx[r] != g)
			continue;
		double v = ax_table_num(tab, r, c);
		if (!isfinite(v)) {
			bad++;
			continue;
		}
		axp_series_push(s, &cap, v, v, 0, 0, 0);
	}
	if (bad)
		ax_warn("warning: %s: %zu NaN/inf or empty cells skipped", label, bad);
}

static enum ax_status csv_hist(struct axp_plot *p, struct rows *w)
{
	const struct axp_opts *o = &p->o;
	enum ax_status st = rows_init(p, w, 0, 0);
	if (!st && !o->ny && !o->x)
		st = default_y(p, 0, &w->ydef);
	for (int pi = 0; !st && pi < (o->ny ? o->ny : 1); pi++) {
		int nc;
		struct axp_panel *pn;
		if ((st = axp_new_panel(p, &pn)))
			break;
		char **cols = axp_split_commas(o->ny ? o->yspec[pi] : o->x ? o->x : w->ydef, &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : nc == 1 ? cols[0] : "value");
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->density ? "density" : "count");
		st = fill_panel(p, w, pn, cols, nc, &(struct fill){column_series, "histogram", -1, NULL});
		axp_free_list(cols, nc);
	}
	return st;
}

/* One bar series: the mean of column yc (and the band) per category, rows of group g. */
static void bar_series(const struct axp_plot *p, const struct rows *w, struct axp_panel *pn,
		       const struct fill *f, int yc, int g, const char *label, int color)
{
	const int *cidx = f->cidx;
	const struct ax_table *tab = &p->tab;
	int ncat = pn->ncat;
	struct axp_series *s = axp_series_add(pn, label, color);
	s->n = (size_t)ncat;
	s->x = ax_xcalloc((size_t)ncat, sizeof *s->x);
	s->y = ax_xcalloc((size_t)ncat, sizeof *s->y);
	if (w->lc >= 0) {
		s->lo = ax_xcalloc((size_t)ncat, sizeof *s->lo);
		s->hi = ax_xcalloc((size_t)ncat, sizeof *s->hi);
	}
	int *cnt = ax_xcalloc((size_t)ncat, sizeof *cnt);
	size_t bad = 0;
	for (int r = 0; r < tab->nrows; r++) {
		if (w->gidx[r] != g)
			continue;
		double v = ax_table_num(tab, r, yc);
		double lo = w->lc >= 0 ? ax_table_num(tab, r, w->lc) : 0;
		double hi = w->hc >= 0 ? ax_table_num(tab, r, w->hc) : 0;
		if (!isfinite(v) || !isfinite(lo) || !isfinite(hi)) {
			bad++;
			continue;
		}
		int k = cidx[r];
		s->y[k] += v;
		if (s->lo) {
			s->lo[k] += lo;
			s->hi[k] += hi;
		}
		cnt[k]++;
	}
	if (bad)
		ax_warn("warning: %s: %zu NaN/inf or empty cells skipped", label, bad);
	for (int k = 0; k < ncat; k++) {
		s->x[k] = k;
		s->y[k] = cnt[k] ? s->y[k] / cnt[k] : NAN;
		if (s->lo) {
			s->lo[k] = cnt[k] ? s->lo[k] / cnt[k] : NAN;
			s->hi[k] = cnt[k] ? s->hi[k] / cnt[k] : NAN;
		}
	}
	free(cnt);
}

/* bar: categories from -x (text), one bar per category and series; a
 * series per -y column (or per --group value). Several rows for one bar: the mean. */
static enum ax_status csv_bar(struct axp_plot *p, struct rows *w)
{
	const struct axp_opts *o = &p->o;
	if (!o->x)
		return ax_error_set(AX_ERR_ARG, "--kind bar needs -x COL, the column of bar labels");
	int xc, ncat;
	enum ax_status st = column(&p->tab, o->x, "label", &xc);
	if (!st)
		st = rows_init(p, w, 0, 1);
	if (st)
		return st;
	int *cidx = ax_xcalloc((size_t)(p->tab.nrows ? p->tab.nrows : 1), sizeof *cidx);
	char **cats = distinct(&p->tab, xc, &ncat, cidx);
	if (!o->ny)
		st = default_y(p, 1, &w->ydef);
	for (int pi = 0; !st && pi < (o->ny ? o->ny : 1); pi++) {
		int nc;
		struct axp_panel *pn;
		if ((st = axp_new_panel(p, &pn)))
			break;
		char **cols = axp_split_commas(panel_spec(p, w, pi), &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->x);
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->ny ? o->yspec[pi] : "");
		pn->ncat = ncat;
		pn->cats = ax_xcalloc((size_t)(ncat ? ncat : 1), sizeof *pn->cats);
		for (int k = 0; k < ncat; k++)
			pn->cats[k] = ax_xstrdup(cats[k]);
		st = fill_panel(p, w, pn, cols, nc, &(struct fill){bar_series, "y", -1, cidx});
		axp_free_list(cols, nc);
	}
	free(cats);
	free(cidx);
	return st;
}

/* Panels and series from the CSV table, by plot kind. */
enum ax_status axp_csv_panels(struct axp_plot *p)
{
	struct rows w = {0};   /* freed however far the panels got */
	enum ax_status st = p->o.kind == AXP_LINE || p->o.kind == AXP_SCATTER ? csv_xy(p, &w)
			  : p->o.kind == AXP_HIST ? csv_hist(p, &w) : csv_bar(p, &w);
	rows_free(&w);
	return st;
}
