/* data.c — ax-plot's data: reading CSV and NPY inputs, turning columns and
 * arrays into panels of series, histogram bins, heatmap colour limits. */
#include "ax_cli.h"
#include "plot.h"

#include <math.h>
#include <string.h>

/* Prefix the current detail with what (the status may change too). */
static enum ax_status with_context(enum ax_status st, const char *what)
{
	char d[512];
	const char *cur = ax_error_detail();
	snprintf(d, sizeof d, "%s", cur && *cur ? cur : ax_strerror(st));
	return ax_error_set(st, "%s: %s", what, d);
}

/* Split "a,b,c" into a NULL-terminated list of fresh strings. */
static char **split_commas(const char *s, int *n)
{
	char *copy = ax_xstrdup(s), *save = NULL;
	char **v = NULL;
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		v = ax_xrealloc(v, (size_t)(*n + 2) * sizeof *v);
		v[(*n)++] = ax_xstrdup(tok);
	}
	free(copy);
	if (!v)
		v = ax_xcalloc(1, sizeof *v);
	v[*n] = NULL;
	return v;
}

static void free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

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

/* ---- series and panels ---- */

struct axp_series *axp_series_add(struct axp_panel *pn, const char *label, int color)
{
	pn->s = ax_xrealloc(pn->s, (size_t)(pn->ns + 1) * sizeof *pn->s);
	struct axp_series *s = &pn->s[pn->ns++];
	memset(s, 0, sizeof *s);
	s->label = ax_xstrdup(label);
	s->color = color;
	return s;
}

void axp_series_push(struct axp_series *s, size_t *cap, double x, double y, double lo,
		     double hi, int band)
{
	if (s->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		s->x = ax_xrealloc(s->x, *cap * sizeof *s->x);
		s->y = ax_xrealloc(s->y, *cap * sizeof *s->y);
		if (band) {
			s->lo = ax_xrealloc(s->lo, *cap * sizeof *s->lo);
			s->hi = ax_xrealloc(s->hi, *cap * sizeof *s->hi);
		}
	}
	s->x[s->n] = x;
	s->y[s->n] = y;
	if (band) {
		s->lo[s->n] = lo;
		s->hi[s->n] = hi;
	}
	s->n++;
}

static void series_free(struct axp_series *s)
{
	free(s->label); free(s->x); free(s->y); free(s->lo); free(s->hi);
}

static enum ax_status new_panel(struct axp_plot *p, struct axp_panel **out)
{
	*out = NULL;
	if (p->npanels >= AXP_MAX_PANELS)
		return ax_error_set(AX_ERR_ARG, "too many panels (max %d)", AXP_MAX_PANELS);
	*out = &p->panels[p->npanels++];
	memset(*out, 0, sizeof **out);
	return AX_OK;
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
		char **b = split_commas(o->band, &nb);
		st = nb != 2 ? ax_error_set(AX_ERR_ARG, "--band: expected LOW,HIGH, got '%s'", o->band)
		     : column(tab, b[0], "band", &w->lc);
		if (!st)
			st = column(tab, b[1], "band", &w->hc);
		free_list(b, nb);
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
		series_free(s);
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
		if ((st = new_panel(p, &pn)))
			return st;
		char **cols = split_commas(panel_spec(p, w, pi), &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->x ? o->x : "row");
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->ny ? o->yspec[pi] : "");
		if (nc == 0)
			st = ax_error_set(AX_ERR_ARG, "-y: empty column list");
		else if (o->band && nc != 1)
			st = ax_error_set(AX_ERR_ARG, "--band needs a single -y column per panel");
		else
			st = fill_panel(p, w, pn, cols, nc, &(struct fill){xy_series, "y", xc, NULL});
		free_list(cols, nc);
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
		if ((st = new_panel(p, &pn)))
			break;
		char **cols = split_commas(o->ny ? o->yspec[pi] : o->x ? o->x : w->ydef, &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : nc == 1 ? cols[0] : "value");
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->density ? "density" : "count");
		st = fill_panel(p, w, pn, cols, nc, &(struct fill){column_series, "histogram", -1, NULL});
		free_list(cols, nc);
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
		if ((st = new_panel(p, &pn)))
			break;
		char **cols = split_commas(panel_spec(p, w, pi), &nc);
		pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->x);
		pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->ny ? o->yspec[pi] : "");
		pn->ncat = ncat;
		pn->cats = ax_xcalloc((size_t)(ncat ? ncat : 1), sizeof *pn->cats);
		for (int k = 0; k < ncat; k++)
			pn->cats[k] = ax_xstrdup(cats[k]);
		st = fill_panel(p, w, pn, cols, nc, &(struct fill){bar_series, "y", -1, cidx});
		free_list(cols, nc);
	}
	free(cats);
	free(cidx);
	return st;
}

/* ---- NPY arrays ---- */

/* Does the stream start with the NPY magic? Looks without consuming, so a
 * pipe can be sniffed and then read by the right parser. */
static int is_npy(struct ax_reader *r)
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

static enum ax_status load_npy(struct ax_reader *r, const char *shown, struct axp_arrays *as)
{
	int first = as->n;
	for (;;) {
		struct ax_array a;
		enum ax_status st = ax_npy_read(r, &a);
		if (st == AX_ERR_EOF)
			break;
		if (st)
			return with_context(st, "bad NPY input");
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
static int squeeze(const struct ax_array *a, int64_t *shape)
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
	if (squeeze(a, sh) < 2) {   /* a (1, n) array stays as it is */
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
		if (squeeze(&as->a[i], sh) != 2 && !(as->a[i].ndim == 2)) {
			char shp[128];
			ax_shape_fmt(shp, sizeof shp, as->a[i].ndim, as->a[i].shape);
			return ax_error_set(AX_ERR_FORMAT, "%s: a heatmap needs a 2-D array, got shape %s",
					    as->label[i], shp);
		}
		struct axp_panel *pn;
		enum ax_status st = new_panel(p, &pn);
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
	int nd = squeeze(a, sh);
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
		if (squeeze(a, sh) != 2 || sh[1] != 2) {
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

static enum ax_status npy_panels(struct axp_plot *p)
{
	const struct axp_opts *o = &p->o;
	if (o->kind == AXP_HEATMAP)
		return npy_heat_panels(p);
	struct axp_panel *pn;
	enum ax_status st = new_panel(p, &pn);
	if (st)
		return st;
	pn->xlabel = ax_xstrdup(o->xlabel ? o->xlabel : o->kind == AXP_HIST ? "value" : "index");
	pn->ylabel = ax_xstrdup(o->ylabel ? o->ylabel : o->kind == AXP_HIST ?
				(o->density ? "density" : "count") : "value");
	for (int i = 0; i < p->as.n && !st; i++)
		st = npy_series(p, pn, i);
	return st;
}

/* ---- reading ---- */

static enum ax_status read_one(struct axp_plot *p, const char *path, int nin)
{
	const char *shown = strcmp(path, "-") ? path : "stdin";
	struct ax_reader *r;
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return with_context(st, "cannot read input");
	int this_npy = p->o.format == AXP_F_NPY || (p->o.format == AXP_F_AUTO && is_npy(r));
	if (p->npy >= 0 && this_npy != p->npy)
		st = ax_error_set(AX_ERR_ARG, "inputs mix CSV and NPY");
	else if ((p->npy = this_npy))
		st = load_npy(r, shown, &p->as);
	else if (nin > 1)
		st = ax_error_set(AX_ERR_ARG, "give one CSV input (several NPY inputs are fine)");
	else if ((st = ax_table_read(r, &p->tab)))
		st = with_context(st, "bad CSV input");
	else if (p->tab.nrows == 0)
		st = ax_error_set(AX_ERR_FORMAT, "%s: no data rows after the header", shown);
	ax_reader_close(r);
	return st;
}

enum ax_status axp_read_inputs(struct axp_plot *p, const char *const *inputs)
{
	static const char *const dash[] = {"-", NULL};
	struct axp_opts *o = &p->o;
	if (!inputs[0])
		inputs = dash;
	int nin = 0, read_stdin = 0;
	while (inputs[nin])
		nin++;
	p->npy = -1;
	for (int i = 0; i < nin; i++) {
		if (!strcmp(inputs[i], "-") && read_stdin++)
			return ax_error_set(AX_ERR_ARG, "standard input ('-') can be read only once");
		enum ax_status st = read_one(p, inputs[i], nin);
		if (st)
			return st;
	}
	if (o->kind == AXP_AUTO) {
		int64_t sh[AX_ARRAY_MAX_DIMS];
		o->kind = p->npy && squeeze(&p->as.a[0], sh) == 2 ? AXP_HEATMAP : AXP_LINE;
	}
	if (!p->npy && o->kind == AXP_HEATMAP)
		return ax_error_set(AX_ERR_ARG, "--kind heatmap needs a 2-D NPY array; the input is CSV");
	if (p->npy && (o->x || o->ny || o->group || o->spread || o->band))
		return ax_error_set(AX_ERR_ARG, "-x, -y, --group, --spread and --band select CSV "
				    "columns; the input is NPY");
	if (o->kind == AXP_HEATMAP && (o->logx || o->logy))
		return ax_error_set(AX_ERR_ARG, "--logx/--logy do not apply to heatmaps");
	return AX_OK;
}

enum ax_status axp_build_panels(struct axp_plot *p)
{
	if (p->npy)
		return npy_panels(p);
	struct rows w = {0};   /* freed however far the panels got */
	enum ax_status st = p->o.kind == AXP_LINE || p->o.kind == AXP_SCATTER ? csv_xy(p, &w)
			  : p->o.kind == AXP_HIST ? csv_hist(p, &w) : csv_bar(p, &w);
	rows_free(&w);
	return st;
}

/* ---- histograms ---- */

/* Drops non-positive values for log-spaced bins; the range of what is left. */
static size_t hist_range(const struct axp_plot *p, struct axp_panel *pn, double *lo, double *hi)
{
	size_t total = 0;
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int k = 0; k < pn->ns; k++) {
		struct axp_series *s = &pn->s[k];
		size_t m = 0, nonpos = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (p->o.logx && s->x[i] <= 0) {
				nonpos++;
				continue;
			}
			s->x[m++] = s->x[i];
			*lo = fmin(*lo, s->x[m - 1]);
			*hi = fmax(*hi, s->x[m - 1]);
		}
		if (nonpos)
			ax_warn("warning: %s: %zu non-positive values left out of log-spaced bins",
				s->label, nonpos);
		s->n = m;
		total += m;
	}
	return total;
}

/* Histogram of each series of a panel over shared bins; replaces its x/y
 * by bin centres and counts (lo/hi hold the bin edges). */
static enum ax_status bin_panel(const struct axp_plot *p, struct axp_panel *pn, int pi)
{
	const struct axp_opts *o = &p->o;
	double lo, hi;
	size_t total = hist_range(p, pn, &lo, &hi);
	if (total == 0)
		return ax_error_set(AX_ERR_FORMAT, "panel %d: nothing to draw: no finite%s values",
				    pi + 1, o->logx ? " positive" : "");
	if (lo == hi) {  /* one distinct value: a unit-wide bin around it */
		double d = o->logx ? lo * 0.5 : (lo == 0 ? 0.5 : fabs(lo) * 0.05);
		lo -= d;
		hi += d;
	}
	int nb = o->bins;
	if (!nb) {
		size_t per = total / (size_t)pn->ns;
		nb = (int)fmin(60, fmax(5, ceil(sqrt((double)per))));
	}
	double *edges = ax_xmalloc((size_t)(nb + 1) * sizeof *edges);
	ax_hist_edges(lo, hi, nb, o->logx, edges);
	for (int k = 0; k < pn->ns; k++) {
		struct axp_series *s = &pn->s[k];
		double *cnt = ax_xcalloc((size_t)nb, sizeof *cnt);
		ax_histogram(s->x, s->n, edges, nb, cnt);
		size_t n = s->n;
		free(s->x); free(s->y); free(s->lo); free(s->hi);
		s->x = ax_xmalloc((size_t)nb * sizeof *s->x);
		s->y = cnt;
		s->lo = ax_xmalloc((size_t)nb * sizeof *s->lo);
		s->hi = ax_xmalloc((size_t)nb * sizeof *s->hi);
		for (int b = 0; b < nb; b++) {
			s->lo[b] = edges[b];
			s->hi[b] = edges[b + 1];
			s->x[b] = (edges[b] + edges[b + 1]) / 2;
			if (o->print_counts)
				printf("%d,%s,%.9g,%.9g,%.0f\n", pi + 1, s->label, edges[b],
				       edges[b + 1], cnt[b]);
			if (o->density && n)
				cnt[b] /= n * (edges[b + 1] - edges[b]);
		}
		s->n = (size_t)nb;
	}
	free(edges);
	return AX_OK;
}

enum ax_status axp_bin_panels(struct axp_plot *p)
{
	if (p->o.print_counts && p->o.kind != AXP_HIST)
		return ax_error_set(AX_ERR_ARG, "--print-counts applies to histograms (--kind hist)");
	if (p->o.print_counts)
		printf("panel,series,lo,hi,count\n");
	enum ax_status st = AX_OK;
	for (int i = 0; p->o.kind == AXP_HIST && i < p->npanels && !st; i++)
		st = bin_panel(p, &p->panels[i], i);
	return st;
}

/* ---- heatmap colours ---- */

enum ax_status axp_heat_limits(struct axp_plot *p)
{
	const struct axp_opts *o = &p->o;
	p->vmin = o->vmin;
	p->vmax = o->vmax;
	if (o->kind != AXP_HEATMAP)
		return AX_OK;
	double lo = INFINITY, hi = -INFINITY;
	size_t bad = 0;
	for (int i = 0; i < p->as.n; i++) {
		if (ax_array_to_f32(&p->as.a[i]) != AX_OK)
			return with_context(AX_ERR_NOMEM, "heatmap");
		const float *v = p->as.a[i].data;
		for (size_t k = 0; k < ax_array_count(&p->as.a[i]); k++) {
			if (!isfinite(v[k])) {
				bad++;
				continue;
			}
			lo = fmin(lo, v[k]);
			hi = fmax(hi, v[k]);
		}
	}
	if (bad)
		ax_warn("warning: %zu non-finite values drawn grey", bad);
	if (!isfinite(lo))
		return ax_error_set(AX_ERR_FORMAT, "nothing to draw: the array has no finite values");
	double m = fmax(fabs(lo), fabs(hi));
	if (isnan(p->vmin))
		p->vmin = o->cmap == AX_CMAP_DIVERGING && isnan(o->vmax) ? -m : lo;
	if (isnan(p->vmax))
		p->vmax = o->cmap == AX_CMAP_DIVERGING && isnan(o->vmin) ? m : hi;
	if (!(p->vmax > p->vmin)) {  /* constant array */
		p->vmin -= 0.5;
		p->vmax += 0.5;
	}
	return AX_OK;
}

void axp_free(struct axp_plot *p)
{
	for (int i = 0; i < p->npanels; i++) {
		struct axp_panel *pn = &p->panels[i];
		for (int k = 0; k < pn->ns; k++)
			series_free(&pn->s[k]);
		free(pn->s); free(pn->xlabel); free(pn->ylabel); free(pn->title);
		free_list(pn->cats, pn->ncat);
	}
	p->npanels = 0;
	ax_table_free(&p->tab);
	for (int i = 0; i < p->as.n; i++) {
		ax_array_free(&p->as.a[i]);
		free(p->as.label[i]);
	}
	free(p->as.a);
	free(p->as.label);
	memset(&p->as, 0, sizeof p->as);
}
