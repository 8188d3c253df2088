/* ax-plot — PNG figures from CSV metrics or NPY arrays: line, scatter,
 * histogram, heatmap and bar plots, in one or several panels.
 *
 * Data flow: inputs -> panels of series (x, y, optional band) -> a figure
 * from lib/ax_plot.h -> an atomically written PNG. Library calls report
 * through enum ax_status; this file turns them into messages and exit codes.
 */
#include "ax_cli.h"
#include "ax_io.h"
#include "ax_plot.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

enum kind { K_LINE, K_SCATTER, K_HIST, K_HEATMAP, K_BAR, K_AUTO };
static const char *const kind_names[] = {"line", "scatter", "hist", "heatmap", "bar", NULL};
static const char *const cmap_names[] = {"viridis", "gray", "diverging", NULL};
enum format { F_AUTO, F_CSV, F_NPY };
static const char *const format_names[] = {"auto", "csv", "npy", NULL};

#define MAX_PANELS 64

static struct {
	const char *out;
	enum kind kind;
	const char *x, *group, *spread, *band;
	char *yspec[MAX_PANELS];
	int ny;
	int bins, logx, logy, density;
	const char *title, *xlabel, *ylabel, *clabel;
	int width, height, rows, cols;
	double dpi, vmin, vmax;
	enum ax_cmap cmap;
	enum format format;
	int print_counts, print_layout;
} o = {.out = "plot.png", .kind = K_AUTO, .dpi = 100, .vmin = NAN, .vmax = NAN};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "Plot CSV metrics (header row) or NPY arrays to a PNG. FILE '-' or none: stdin.\n"
	       "\n"
	       "  -o, --output FILE      PNG to write (default plot.png; '-' is stdout)\n"
	       "  -k, --kind KIND        line, scatter, hist, heatmap, bar (default: line for\n"
	       "                         CSV and 1-D NPY, heatmap for 2-D NPY)\n"
	       "  -x, --x COL            x column (line, scatter: default the row number;\n"
	       "                         bar: the label column)\n"
	       "  -y, --y COL[,COL...]   y columns drawn together; repeat -y for more panels\n"
	       "                         (default: every numeric column)\n"
	       "  -g, --group COL        one series per value of COL\n"
	       "      --spread COL       COL names runs (e.g. seed): draw the median over runs\n"
	       "                         at each x with an interquartile band\n"
	       "      --band LOW,HIGH    shade between columns LOW and HIGH (bar: error bars)\n"
	       "  -b, --bins N           histogram bins (default: sqrt(n), 5..60)\n"
	       "      --density          histogram as probability density\n"
	       "      --logx, --logy     log10 axes (hist --logx: log-spaced bins)\n"
	       "  -t, --title TEXT       figure title\n"
	       "      --xlabel TEXT, --ylabel TEXT, --clabel TEXT  axis and colour bar labels\n"
	       "  -W, --width PX         image width (default 800, 500 per panel column)\n"
	       "  -H, --height PX        image height (default 600, 420 per panel row)\n"
	       "  -r, --dpi N            dots per inch: scales text and lines (default 100)\n"
	       "  -l, --layout RxC       panel grid (default: side by side up to 3, then square)\n"
	       "      --vmin V, --vmax V heatmap colour limits (default: data range)\n"
	       "      --cmap NAME        heatmap colours: viridis, gray, diverging\n"
	       "  -f, --format FMT       input format: auto, csv, npy (default auto)\n"
	       "      --print-counts     histogram counts as CSV on stdout\n"
	       "      --print-layout     each panel's plot area and limits as CSV on stdout\n"
	       "  -h, --help             this help\n"
	       "      --version          version\n"
	       "\n"
	       "Examples:\n"
	       "  mod-lm train | %s -x step -y loss --logy -o loss.png\n"
	       "  %s -x step -y loss --group estimator --spread seed runs.csv -o cmp.png\n"
	       "  %s -k hist --logx -b 40 weights.npy -o w.png\n"
	       "  %s -k heatmap --xlabel offset --ylabel time attn.npy -o attn.png\n",
	       ax_prog(), ax_prog(), ax_prog(), ax_prog(), ax_prog());
}

/* ---- small helpers ---- */

/* I/O and memory failures exit 1, bad input 2. */
static _Noreturn void die_st(enum ax_status st, const char *what)
{
	ax_die_status(st == AX_ERR_IO || st == AX_ERR_NOMEM ? AX_EXIT_FAIL : AX_EXIT_USAGE, st,
		      what);
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

/* ---- inputs ---- */

/* Does the stream start with the NPY magic? Looks without consuming, so a
 * pipe can be sniffed and then read by the right parser. */
static int is_npy(struct ax_reader *r)
{
	char magic[6];
	size_t got;
	return ax_reader_peek(r, magic, 6, &got) == AX_OK && got == 6 &&
	       !memcmp(magic, AX_NPY_MAGIC, 6);
}

/* Every array of every NPY input, with a label for legends and titles. */
struct arrays {
	int n;
	struct ax_array *a;
	char **label;
};

static void load_npy(struct ax_reader *r, const char *shown, struct arrays *as)
{
	int first = as->n;
	for (;;) {
		struct ax_array a;
		enum ax_status st = ax_npy_read(r, &a);
		if (st == AX_ERR_EOF)
			break;
		if (st)
			die_st(st, "bad NPY input");
		if (as->n >= 4096)
			ax_die(AX_EXIT_USAGE, "%s: too many arrays (max 4096)", shown);
		as->a = ax_xrealloc(as->a, (size_t)(as->n + 1) * sizeof *as->a);
		as->label = ax_xrealloc(as->label, (size_t)(as->n + 1) * sizeof *as->label);
		as->a[as->n] = a;
		char buf[512];
		const char *base = strrchr(shown, '/');
		base = base ? base + 1 : shown;
		snprintf(buf, sizeof buf, "%s[%d]", base, as->n - first);
		as->label[as->n++] = ax_xstrdup(buf);
	}
	if (as->n == first)
		ax_die(AX_EXIT_USAGE, "%s: no arrays in the input", shown);
	if (as->n == first + 1) {  /* a lone array is named by its file */
		const char *base = strrchr(shown, '/');
		free(as->label[first]);
		as->label[first] = ax_xstrdup(base ? base + 1 : shown);
	}
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

/* Rows and columns of a heatmap: the array without its size-1 dimensions,
 * or as it is when that leaves fewer than 2 (a (1, n) array). */
static void heat_shape(const struct ax_array *a, int *rows, int *cols)
{
	int64_t sh[AX_ARRAY_MAX_DIMS];
	if (squeeze(a, sh) < 2) {
		sh[0] = a->shape[0];
		sh[1] = a->shape[1];
	}
	*rows = (int)sh[0];
	*cols = (int)sh[1];
}

/* ---- series and panels ---- */

struct series {
	char *label;
	int color;
	size_t n;
	double *x, *y, *lo, *hi;  /* n each; lo/hi NULL without a band */
};

struct panel {
	int ns;
	struct series *s;
	char *xlabel, *ylabel, *title;
	int ncat;               /* bar charts */
	char **cats;
	const struct ax_array *heat; /* heatmaps */
};

static struct panel panels[MAX_PANELS];
static int npanels;

static struct series *add_series(struct panel *p, const char *label, int color)
{
	p->s = ax_xrealloc(p->s, (size_t)(p->ns + 1) * sizeof *p->s);
	struct series *s = &p->s[p->ns++];
	memset(s, 0, sizeof *s);
	s->label = ax_xstrdup(label);
	s->color = color;
	return s;
}

static void series_push(struct series *s, size_t *cap, double x, double y, double lo, double hi,
			int band)
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

static struct panel *new_panel(void)
{
	if (npanels >= MAX_PANELS)
		ax_usage_error("too many panels (max %d)", MAX_PANELS);
	struct panel *p = &panels[npanels++];
	memset(p, 0, sizeof *p);
	return p;
}

/* ---- CSV ---- */

static struct ax_table tab;

static int column(const char *name, const char *what)
{
	int c = ax_table_col(&tab, name);
	if (c < 0) {
		char list[400] = "";
		for (int i = 0; i < tab.ncols; i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, tab.names[i], sizeof list - strlen(list) - 1);
		}
		ax_die(AX_EXIT_USAGE, "%s column '%s' not found (columns: %s)", what, name, list);
	}
	return c;
}

/* A column whose every non-empty cell is text cannot be plotted. */
static void check_numeric(int c)
{
	int numbers = 0, text = 0;
	for (int r = 0; r < tab.nrows; r++) {
		const char *s = ax_table_str(&tab, r, c);
		double v = ax_table_num(&tab, r, c);
		if (!*s)
			continue;
		if (isnan(v) && strncasecmp(s, "nan", 3) && strncasecmp(s, "-nan", 4))
			text++;
		else
			numbers++;
	}
	if (!numbers)
		ax_die(AX_EXIT_USAGE, "column '%s' has no numbers%s", tab.names[c],
		       text ? " (it holds text)" : "");
}

/* Distinct values of a column in order of first appearance; idx[r] = value index per row. */
static char **distinct(int c, int *n, int *idx)
{
	char **v = NULL;
	*n = 0;
	for (int r = 0; r < tab.nrows; r++) {
		const char *s = ax_table_str(&tab, r, c);
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

/* Rows' group index in gidx (all 0 without --group); returns the group
 * names (NULL without --group) and their count in *ng. */
static char **group_rows(int gc, int *ng, int *gidx)
{
	*ng = 1;
	if (gc < 0) {
		memset(gidx, 0, (size_t)tab.nrows * sizeof *gidx);
		return NULL;
	}
	char **names = distinct(gc, ng, gidx);
	if (*ng > 64)
		ax_die(AX_EXIT_USAGE, "--group %s: %d distinct values (max 64)", o.group, *ng);
	return names;
}

/* --band LOW,HIGH: the two columns (-1 each without --band). */
static void band_columns(int *lc, int *hc)
{
	*lc = *hc = -1;
	if (!o.band)
		return;
	int nb;
	char **b = split_commas(o.band, &nb);
	if (nb != 2)
		ax_usage_error("--band: expected LOW,HIGH, got '%s'", o.band);
	*lc = column(b[0], "band");
	*hc = column(b[1], "band");
	free(b[0]); free(b[1]); free(b);
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

/* Sort a series by x (rows as written otherwise), then, with runs, collapse
 * each x into median and interquartile range over its runs. */
static void sort_and_spread(struct series *s, int spread)
{
	size_t n = s->n;
	double *t = ax_xmalloc((n ? n : 1) * 5 * sizeof *t);  /* (n, 5): x y lo hi row */
	for (size_t i = 0; i < n; i++) {
		t[5 * i] = s->x[i];
		t[5 * i + 1] = s->y[i];
		t[5 * i + 2] = s->lo ? s->lo[i] : 0;
		t[5 * i + 3] = s->hi ? s->hi[i] : 0;
		t[5 * i + 4] = (double)i;
	}
	qsort(t, n, 5 * sizeof *t, by_x_cmp);
	size_t m = 0;
	if (spread) {
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
	} else {
		for (size_t i = 0; i < n; i++, m++) {
			s->x[m] = t[5 * i];
			s->y[m] = t[5 * i + 1];
			if (s->lo) {
				s->lo[m] = t[5 * i + 2];
				s->hi[m] = t[5 * i + 3];
			}
		}
	}
	s->n = m;
	free(t);
}

/* Is name one of the comma-separated names in list (NULL: none)? */
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

/* Columns to plot when no -y is given: every numeric column not otherwise used. */
static char *default_y(int skip_x)
{
	size_t len = 1;
	char *spec = ax_xcalloc(1, 1);
	for (int c = 0; c < tab.ncols; c++) {
		const char *nm = tab.names[c];
		if ((skip_x && o.x && !strcmp(nm, o.x)) || (o.group && !strcmp(nm, o.group)) ||
		    (o.spread && !strcmp(nm, o.spread)) || in_list(o.band, nm))
			continue;
		int ok = 0;
		for (int r = 0; r < tab.nrows && !ok; r++)
			ok = isfinite(ax_table_num(&tab, r, c));
		if (!ok)
			continue;
		len += strlen(nm) + 1;
		spec = ax_xrealloc(spec, len);
		if (*spec)
			strcat(spec, ",");
		strcat(spec, nm);
	}
	if (!*spec)
		ax_die(AX_EXIT_USAGE, "no numeric columns to plot");
	return spec;
}

/* line, scatter: one panel per -y, one series per column (x group value). */
static void csv_xy(void)
{
	int xc = o.x ? column(o.x, "x") : -1;
	if (xc >= 0)
		check_numeric(xc);
	int gc = o.group ? column(o.group, "group") : -1;
	int sc = o.spread ? column(o.spread, "spread") : -1;
	int lc, hc;
	band_columns(&lc, &hc);
	if (o.spread && o.band)
		ax_usage_error("--spread draws its own band; leave out --band");
	int *gidx = ax_xmalloc((size_t)(tab.nrows ? tab.nrows : 1) * sizeof *gidx);
	int *sidx = ax_xmalloc((size_t)(tab.nrows ? tab.nrows : 1) * sizeof *sidx);
	int ng, nruns = 0;
	char **gnames = group_rows(gc, &ng, gidx);
	if (sc >= 0)
		free(distinct(sc, &nruns, sidx));
	char *ydef = o.ny ? NULL : default_y(1);
	int np = o.ny ? o.ny : 1;
	for (int pi = 0; pi < np; pi++) {
		int nc;
		char **cols = split_commas(o.ny ? o.yspec[pi] : ydef, &nc);
		if (nc == 0)
			ax_usage_error("-y: empty column list");
		struct panel *p = new_panel();
		p->xlabel = ax_xstrdup(o.xlabel ? o.xlabel : o.x ? o.x : "row");
		p->ylabel = ax_xstrdup(o.ylabel ? o.ylabel : o.ny ? o.yspec[pi] : "");
		if (o.band && nc != 1)
			ax_usage_error("--band needs a single -y column per panel");
		for (int ci = 0; ci < nc; ci++) {
			int yc = column(cols[ci], "y");
			check_numeric(yc);
			for (int g = 0; g < ng; g++) {
				char label[512];
				series_label(label, sizeof label, cols[ci], nc, gnames ? gnames[g] : NULL);
				struct series *s = add_series(p, label, gc >= 0 ? g : ci);
				size_t cap = 0, bad = 0, nonpos = 0;
				/* runs per group, for the legend */
				char *seen = sc >= 0 ? ax_xcalloc((size_t)nruns + 1, 1) : NULL;
				int runs = 0;
				for (int r = 0; r < tab.nrows; r++) {
					if (gidx[r] != g)
						continue;
					double x = xc >= 0 ? ax_table_num(&tab, r, xc) : r;
					double y = ax_table_num(&tab, r, yc);
					double lo = lc >= 0 ? ax_table_num(&tab, r, lc) : 0;
					double hi = hc >= 0 ? ax_table_num(&tab, r, hc) : 0;
					if (!isfinite(x) || !isfinite(y) || !isfinite(lo) || !isfinite(hi)) {
						bad++;
						continue;
					}
					if ((o.logx && x <= 0) || (o.logy && y <= 0)) {
						nonpos++;
						continue;
					}
					if (seen && !seen[sidx[r]]) {
						seen[sidx[r]] = 1;
						runs++;
					}
					series_push(s, &cap, x, y, lo, hi, lc >= 0);
				}
				free(seen);
				if (bad)
					ax_warn("warning: %s: %zu rows with NaN/inf or empty cells skipped",
						label, bad);
				if (nonpos)
					ax_warn("warning: %s: %zu non-positive values skipped on the log axis",
						label, nonpos);
				if (s->n == 0) {
					ax_warn("warning: %s: no finite values; series left out", label);
					free(s->label);
					p->ns--;
					continue;
				}
				sort_and_spread(s, sc >= 0);
				if (sc >= 0) {
					char l2[600];
					snprintf(l2, sizeof l2, "%s (n=%d)", label, runs);
					free(s->label);
					s->label = ax_xstrdup(l2);
				}
			}
			free(cols[ci]);
		}
		free(cols);
		if (p->ns == 0)
			ax_die(AX_EXIT_USAGE, "panel %d (%s): nothing to draw: no finite values", pi + 1,
			       o.ny ? o.yspec[pi] : ydef);
	}
	free(ydef);
	free(gnames);
	free(gidx);
	free(sidx);
}

/* Values for histograms from one column, rows of group g. */
static struct series *column_series(struct panel *p, int c, const int *gidx, int g,
				    const char *label, int color)
{
	struct series *s = add_series(p, label, color);
	size_t cap = 0, bad = 0;
	for (int r = 0; r < tab.nrows; r++) {
		if (gidx[r] != g)
			continue;
		double v = ax_table_num(&tab, r, c);
		if (!isfinite(v)) {
			bad++;
			continue;
		}
		series_push(s, &cap, v, v, 0, 0, 0);
	}
	if (bad)
		ax_warn("warning: %s: %zu NaN/inf or empty cells skipped", label, bad);
	return s;
}

static void csv_hist(void)
{
	int gc = o.group ? column(o.group, "group") : -1;
	int *gidx = ax_xmalloc((size_t)(tab.nrows ? tab.nrows : 1) * sizeof *gidx);
	int ng;
	char **gnames = group_rows(gc, &ng, gidx);
	char *ydef = !o.ny && !o.x ? default_y(0) : NULL;
	int np = o.ny ? o.ny : 1;
	for (int pi = 0; pi < np; pi++) {
		int nc;
		char **cols = split_commas(o.ny ? o.yspec[pi] : o.x ? o.x : ydef, &nc);
		struct panel *p = new_panel();
		p->xlabel = ax_xstrdup(o.xlabel ? o.xlabel : nc == 1 ? cols[0] : "value");
		p->ylabel = ax_xstrdup(o.ylabel ? o.ylabel : o.density ? "density" : "count");
		for (int ci = 0; ci < nc; ci++) {
			int c = column(cols[ci], "histogram");
			check_numeric(c);
			for (int g = 0; g < ng; g++) {
				char label[512];
				series_label(label, sizeof label, cols[ci], nc, gnames ? gnames[g] : NULL);
				column_series(p, c, gidx, g, label, gc >= 0 ? g : ci);
			}
			free(cols[ci]);
		}
		free(cols);
	}
	free(ydef);
	free(gnames);
	free(gidx);
}

/* bar: categories from -x (text), one bar per category and series; a
 * series per -y column (or per --group value). Several rows for one bar: the mean. */
static void csv_bar(void)
{
	if (!o.x)
		ax_usage_error("--kind bar needs -x COL, the column of bar labels");
	int xc = column(o.x, "label");
	int gc = o.group ? column(o.group, "group") : -1;
	int lc, hc;
	band_columns(&lc, &hc);
	int n = tab.nrows ? tab.nrows : 1;
	int *cidx = ax_xmalloc((size_t)n * sizeof *cidx), *gidx = ax_xmalloc((size_t)n * sizeof *gidx);
	int ncat, ng;
	char **cats = distinct(xc, &ncat, cidx);
	char **gnames = group_rows(gc, &ng, gidx);
	char *ydef = o.ny ? NULL : default_y(1);
	int np = o.ny ? o.ny : 1;
	for (int pi = 0; pi < np; pi++) {
		int nc;
		char **cols = split_commas(o.ny ? o.yspec[pi] : ydef, &nc);
		struct panel *p = new_panel();
		p->xlabel = ax_xstrdup(o.xlabel ? o.xlabel : o.x);
		p->ylabel = ax_xstrdup(o.ylabel ? o.ylabel : o.ny ? o.yspec[pi] : "");
		p->ncat = ncat;
		p->cats = cats;
		for (int ci = 0; ci < nc; ci++) {
			int yc = column(cols[ci], "y");
			check_numeric(yc);
			for (int g = 0; g < ng; g++) {
				char label[512];
				series_label(label, sizeof label, cols[ci], nc, gnames ? gnames[g] : NULL);
				struct series *s = add_series(p, label, gc >= 0 ? g : ci);
				s->n = (size_t)ncat;
				s->x = ax_xcalloc((size_t)ncat, sizeof *s->x);
				s->y = ax_xcalloc((size_t)ncat, sizeof *s->y);
				if (lc >= 0) {
					s->lo = ax_xcalloc((size_t)ncat, sizeof *s->lo);
					s->hi = ax_xcalloc((size_t)ncat, sizeof *s->hi);
				}
				int *cnt = ax_xcalloc((size_t)ncat, sizeof *cnt);
				size_t bad = 0;
				for (int r = 0; r < tab.nrows; r++) {
					if (gidx[r] != g)
						continue;
					double v = ax_table_num(&tab, r, yc);
					double lo = lc >= 0 ? ax_table_num(&tab, r, lc) : 0;
					double hi = hc >= 0 ? ax_table_num(&tab, r, hc) : 0;
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
			free(cols[ci]);
		}
		free(cols);
	}
	free(ydef);
	free(gnames);
	free(cidx);
	free(gidx);
}

/* ---- NPY ---- */

static void npy_panels(struct arrays *as)
{
	char shp[128];
	if (o.kind == K_HEATMAP) {
		for (int i = 0; i < as->n; i++) {
			int64_t sh[AX_ARRAY_MAX_DIMS];
			if (squeeze(&as->a[i], sh) != 2 && !(as->a[i].ndim == 2)) {
				ax_shape_fmt(shp, sizeof shp, as->a[i].ndim, as->a[i].shape);
				ax_die(AX_EXIT_USAGE, "%s: a heatmap needs a 2-D array, got shape %s",
				       as->label[i], shp);
			}
			struct panel *p = new_panel();
			p->heat = &as->a[i];
			p->title = as->n > 1 ? ax_xstrdup(as->label[i]) : NULL;
			p->xlabel = o.xlabel ? ax_xstrdup(o.xlabel) : NULL;
			p->ylabel = o.ylabel ? ax_xstrdup(o.ylabel) : NULL;
		}
		return;
	}
	struct panel *p = new_panel();
	p->xlabel = ax_xstrdup(o.xlabel ? o.xlabel : o.kind == K_HIST ? "value" : "index");
	p->ylabel = ax_xstrdup(o.ylabel ? o.ylabel : o.kind == K_HIST ?
			       (o.density ? "density" : "count") : "value");
	for (int i = 0; i < as->n; i++) {
		const struct ax_array *a = &as->a[i];
		size_t cnt = ax_array_count(a), cap = 0, bad = 0;
		int64_t sh[AX_ARRAY_MAX_DIMS];
		int nd = squeeze(a, sh);
		ax_shape_fmt(shp, sizeof shp, a->ndim, a->shape);
		if (o.kind == K_HIST) {  /* every value of the array */
			struct series *s = add_series(p, as->label[i], i);
			for (size_t k = 0; k < cnt; k++) {
				double v = ax_array_get(a, k);
				if (!isfinite(v))
					bad++;
				else
					series_push(s, &cap, v, v, 0, 0, 0);
			}
		} else if (o.kind == K_LINE || o.kind == K_BAR) {
			/* 1-D: one series over the index; 2-D (n, k): k series */
			if (nd > 2 || (o.kind == K_BAR && nd > 1))
				ax_die(AX_EXIT_USAGE, "%s: --kind %s needs a 1-D%s array, got shape %s",
				       as->label[i], kind_names[o.kind], o.kind == K_LINE ? " or 2-D" : "",
				       shp);
			size_t rows = nd ? (size_t)sh[0] : 1, k = nd == 2 ? (size_t)sh[1] : 1;
			if (k > 64)
				ax_die(AX_EXIT_USAGE, "%s: %zu columns is too many series (max 64)",
				       as->label[i], k);
			for (size_t j = 0; j < k; j++) {
				char label[512];
				if (k > 1)
					snprintf(label, sizeof label, "%s col %zu", as->label[i], j);
				else
					snprintf(label, sizeof label, "%s", as->label[i]);
				struct series *s = add_series(p, label, p->ns);
				cap = 0;
				for (size_t r = 0; r < rows; r++) {
					double v = ax_array_get(a, r * k + j);
					if (!isfinite(v) || (o.logy && v <= 0) ||
					    (o.logx && r == 0 && o.kind == K_LINE)) {
						bad++;
						continue;
					}
					series_push(s, &cap, (double)r, v, 0, 0, 0);
				}
			}
			if (o.kind == K_BAR) {
				p->ncat = (int)rows;
				p->cats = ax_xcalloc(rows ? rows : 1, sizeof *p->cats);
				for (size_t r = 0; r < rows; r++) {
					char b[32];
					snprintf(b, sizeof b, "%zu", r);
					p->cats[r] = ax_xstrdup(b);
				}
			}
		} else { /* scatter: (n, 2) pairs */
			if (nd != 2 || sh[1] != 2)
				ax_die(AX_EXIT_USAGE, "%s: --kind scatter needs an (n, 2) array of x, y "
				       "pairs, got shape %s", as->label[i], shp);
			struct series *s = add_series(p, as->label[i], i);
			for (size_t r = 0; r < (size_t)sh[0]; r++) {
				double x = ax_array_get(a, 2 * r), y = ax_array_get(a, 2 * r + 1);
				if (!isfinite(x) || !isfinite(y))
					bad++;
				else
					series_push(s, &cap, x, y, 0, 0, 0);
			}
		}
		if (bad)
			ax_warn("warning: %s: %zu non-finite%s values skipped", as->label[i], bad,
				o.logx || o.logy ? " or non-positive" : "");
	}
}

/* ---- drawing ---- */

static void parse_layout(const char *s)
{
	char *end;
	long r = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		ax_usage_error("--layout: expected RxC like 2x3, got '%s'", s);
	const char *c = end + 1;
	long cc = strtol(c, &end, 10);
	if (end == c || *end || r < 1 || cc < 1 || r > 16 || cc > 16)
		ax_usage_error("--layout: expected RxC with 1..16 each, got '%s'", s);
	o.rows = (int)r;
	o.cols = (int)cc;
}

/* Histogram of each series of a panel over shared bins; replaces its x/y
 * by bin centres and counts (lo/hi hold the bin edges). */
static void bin_panel(struct panel *p, int pi)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t total = 0;
	for (int k = 0; k < p->ns; k++) {
		struct series *s = &p->s[k];
		size_t m = 0, nonpos = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (o.logx && s->x[i] <= 0) {
				nonpos++;
				continue;
			}
			s->x[m++] = s->x[i];
			lo = fmin(lo, s->x[m - 1]);
			hi = fmax(hi, s->x[m - 1]);
		}
		if (nonpos)
			ax_warn("warning: %s: %zu non-positive values left out of log-spaced bins",
				s->label, nonpos);
		s->n = m;
		total += m;
	}
	if (total == 0)
		ax_die(AX_EXIT_USAGE, "panel %d: nothing to draw: no finite%s values", pi + 1,
		       o.logx ? " positive" : "");
	if (lo == hi) {  /* one distinct value: a unit-wide bin around it */
		double d = o.logx ? lo * 0.5 : (lo == 0 ? 0.5 : fabs(lo) * 0.05);
		lo -= d;
		hi += d;
	}
	int nb = o.bins;
	if (!nb) {
		size_t per = total / (size_t)p->ns;
		nb = (int)fmin(60, fmax(5, ceil(sqrt((double)per))));
	}
	double *edges = ax_xmalloc((size_t)(nb + 1) * sizeof *edges);
	ax_hist_edges(lo, hi, nb, o.logx, edges);
	for (int k = 0; k < p->ns; k++) {
		struct series *s = &p->s[k];
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
			if (o.print_counts)
				printf("%d,%s,%.9g,%.9g,%.0f\n", pi + 1, s->label, edges[b],
				       edges[b + 1], cnt[b]);
			if (o.density && n)
				cnt[b] /= n * (edges[b + 1] - edges[b]);
		}
		s->n = (size_t)nb;
	}
	free(edges);
}

static enum ax_legend_kind legend_kind(void)
{
	return o.kind == K_LINE ? AX_LEG_LINE : o.kind == K_SCATTER ? AX_LEG_MARKER : AX_LEG_BOX;
}

/* pass 0 configures the axes and their ranges (and, for a legend outside
 * the plot, its entries, which layout must know); pass 1 draws. */
static void draw_panel(struct ax_figure *f, struct panel *p, struct ax_axes *a, int pass)
{
	int legend = (p->ns > 1 || o.group) && o.kind != K_HEATMAP;
	if (pass == 0) {
		if (legend && a->legout)
			for (int k = 0; k < p->ns; k++)
				ax_axes_legend_add(a, p->s[k].label, ax_plot_color(p->s[k].color),
						   legend_kind());
		ax_axes_set_labels(a, p->title, p->xlabel && *p->xlabel ? p->xlabel : NULL,
				   p->ylabel && *p->ylabel ? p->ylabel : NULL);
		if (o.kind == K_HEATMAP) {
			int rows, cols;
			heat_shape(p->heat, &rows, &cols);
			a->yinvert = a->xint = a->yint = 1;
			a->pad = 0;
			ax_axes_set_xlim(a, -0.5, cols - 0.5);
			ax_axes_set_ylim(a, -0.5, rows - 0.5);
			return;
		}
		ax_axes_set_log(a, o.logx, o.logy);
		if (p->ncat) {
			ax_axes_set_categories(a, p->cats, p->ncat);
			a->yzero = 1;
		}
		if (o.kind == K_HIST)
			a->yzero = 1;
		for (int k = 0; k < p->ns; k++) {
			struct series *s = &p->s[k];
			if (o.kind == K_HIST) {
				ax_axes_include(a, s->lo, s->y, s->n);
				ax_axes_include(a, s->hi, NULL, s->n);
				if (o.logy) {  /* empty bins are not drawn on a log axis */
					double one = o.density ? NAN : 1;
					ax_axes_include(a, NULL, &one, 1);
				}
			} else {
				ax_axes_include(a, p->ncat ? NULL : s->x, s->y, s->n);
				if (s->lo) {
					ax_axes_include(a, NULL, s->lo, s->n);
					ax_axes_include(a, NULL, s->hi, s->n);
				}
			}
		}
		return;
	}
	double lw = f->lw;
	if (o.kind == K_HEATMAP) {
		int rows, cols;
		heat_shape(p->heat, &rows, &cols);
		ax_axes_heatmap(a, p->heat->data, rows, cols);
		return;
	}
	if (a->legout)
		legend = 0;  /* entries are in already */
	if (o.kind == K_HIST) {
		double alpha = p->ns > 1 ? 0.35 : 0.6;
		double base = o.logy ? a->y0 : 0;
		/* all fills first, so no fill hides another's outline */
		for (int k = 0; k < p->ns; k++) {
			struct series *s = &p->s[k];
			for (size_t b = 0; b < s->n; b++)
				if (s->y[b] > 0)
					ax_axes_rect(a, s->lo[b], base, s->hi[b], s->y[b],
						     ax_plot_color(s->color), alpha);
		}
		/* outlines as step lines down to the base at both ends */
		for (int k = 0; k < p->ns; k++) {
			struct series *s = &p->s[k];
			size_t m = 0;
			double *sx = ax_xmalloc((s->n * 2 + 2) * 2 * sizeof *sx), *sy = sx + s->n * 2 + 2;
			sx[m] = s->lo[0];
			sy[m++] = base;
			for (size_t b = 0; b < s->n; b++) {
				double yb = s->y[b] > 0 || !o.logy ? s->y[b] : base;
				sx[m] = s->lo[b];
				sy[m++] = yb;
				sx[m] = s->hi[b];
				sy[m++] = yb;
			}
			sx[m] = s->hi[s->n - 1];
			sy[m++] = base;
			ax_axes_line(a, sx, sy, m, ax_plot_color(s->color), fmax(1, lw * 0.75), NULL);
			if (legend)
				ax_axes_legend_add(a, s->label, ax_plot_color(s->color), AX_LEG_BOX);
			free(sx);
		}
		return;
	}
	for (int k = 0; k < p->ns; k++) {
		struct series *s = &p->s[k];
		uint32_t col = ax_plot_color(s->color);
		const char *lab = legend ? s->label : NULL;
		switch (o.kind) {
		case K_LINE:
			if (s->lo)
				ax_axes_band(a, s->x, s->lo, s->hi, s->n, col, 0.25);
			ax_axes_line(a, s->x, s->y, s->n, col, lw, lab);
			break;
		case K_SCATTER:
			ax_axes_scatter(a, s->x, s->y, s->n, col, fmax(1.5, 1.5 * lw), lab);
			break;
		case K_BAR: {
			double slot = 0.8 / p->ns, x0 = -0.4 + k * slot;
			for (size_t b = 0; b < s->n; b++) {
				if (!isfinite(s->y[b]))
					continue;
				double l = s->x[b] + x0 + 0.05 * slot, r = s->x[b] + x0 + 0.95 * slot;
				double base = o.logy ? a->y0 : 0;
				ax_axes_rect(a, l, base, r, s->y[b], col, 1);
				if (s->lo)
					ax_axes_errbar(a, (l + r) / 2, s->lo[b], s->hi[b],
						       fmax(2, (ax_axes_xpx(a, r) - ax_axes_xpx(a, l)) / 4),
						       0x222222);
			}
			if (lab)
				ax_axes_legend_add(a, lab, col, AX_LEG_BOX);
			break;
		}
		default:
			break;
		}
	}
}

/* The whole figure; legout: bit i puts panel i's legend outside. */
static void render(struct ax_figure *fig, int w, int h, int rows, int cols, double vmin,
		   double vmax, uint64_t legout)
{
	enum ax_status st = ax_figure_init(fig, w, h, o.dpi, rows, cols);
	if (st)
		die_st(st, "figure");
	if (o.title)
		ax_figure_set_title(fig, o.title);
	for (int i = 0; i < npanels; i++) {
		struct ax_axes *a = ax_figure_axes(fig, i);
		a->legout = (int)(legout >> i & 1);
		draw_panel(fig, &panels[i], a, 0);
		if (o.kind == K_HEATMAP)
			ax_axes_set_colorbar(a, vmin, vmax, o.cmap, o.clabel);
	}
	for (int i = npanels; i < fig->n; i++)  /* grid cells past the last panel */
		ax_figure_axes(fig, i)->blank = 1;
	st = ax_figure_layout(fig);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot draw");
	for (int i = 0; i < npanels; i++)
		draw_panel(fig, &panels[i], ax_figure_axes(fig, i), 1);
	ax_figure_finish(fig);
}

int main(int argc, char **argv)
{
	ax_cli_init(argv[0]);
	enum { O_SPREAD = 256, O_BAND, O_DENSITY, O_LOGX, O_LOGY, O_XLABEL, O_YLABEL, O_CLABEL,
	       O_VMIN, O_VMAX, O_CMAP, O_COUNTS, O_LAYOUTP, O_VERSION };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"kind", required_argument, NULL, 'k'},
		{"x", required_argument, NULL, 'x'}, {"y", required_argument, NULL, 'y'},
		{"group", required_argument, NULL, 'g'}, {"spread", required_argument, NULL, O_SPREAD},
		{"band", required_argument, NULL, O_BAND}, {"bins", required_argument, NULL, 'b'},
		{"density", no_argument, NULL, O_DENSITY}, {"logx", no_argument, NULL, O_LOGX},
		{"logy", no_argument, NULL, O_LOGY}, {"title", required_argument, NULL, 't'},
		{"xlabel", required_argument, NULL, O_XLABEL},
		{"ylabel", required_argument, NULL, O_YLABEL},
		{"clabel", required_argument, NULL, O_CLABEL},
		{"width", required_argument, NULL, 'W'}, {"height", required_argument, NULL, 'H'},
		{"dpi", required_argument, NULL, 'r'}, {"layout", required_argument, NULL, 'l'},
		{"vmin", required_argument, NULL, O_VMIN}, {"vmax", required_argument, NULL, O_VMAX},
		{"cmap", required_argument, NULL, O_CMAP}, {"format", required_argument, NULL, 'f'},
		{"print-counts", no_argument, NULL, O_COUNTS},
		{"print-layout", no_argument, NULL, O_LAYOUTP},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0}};
	int c;
	opterr = 0;  /* our own messages, in the usual form */
	while ((c = getopt_long(argc, argv, ":o:k:x:y:g:b:t:W:H:r:l:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'k': o.kind = (enum kind)ax_parse_choice("--kind", optarg, kind_names); break;
		case 'x': o.x = optarg; break;
		case 'y':
			if (o.ny >= MAX_PANELS)
				ax_usage_error("-y: at most %d panels", MAX_PANELS);
			o.yspec[o.ny++] = optarg;
			break;
		case 'g': o.group = optarg; break;
		case O_SPREAD: o.spread = optarg; break;
		case O_BAND: o.band = optarg; break;
		case 'b': o.bins = (int)ax_parse_long("--bins", optarg, 1, 10000); break;
		case O_DENSITY: o.density = 1; break;
		case O_LOGX: o.logx = 1; break;
		case O_LOGY: o.logy = 1; break;
		case 't': o.title = optarg; break;
		case O_XLABEL: o.xlabel = optarg; break;
		case O_YLABEL: o.ylabel = optarg; break;
		case O_CLABEL: o.clabel = optarg; break;
		case 'W': o.width = (int)ax_parse_long("--width", optarg, 50, 20000); break;
		case 'H': o.height = (int)ax_parse_long("--height", optarg, 50, 20000); break;
		case 'r': o.dpi = ax_parse_double("--dpi", optarg, 25, 1200); break;
		case 'l': parse_layout(optarg); break;
		case O_VMIN: o.vmin = ax_parse_double("--vmin", optarg, -HUGE_VAL, HUGE_VAL); break;
		case O_VMAX: o.vmax = ax_parse_double("--vmax", optarg, -HUGE_VAL, HUGE_VAL); break;
		case O_CMAP: o.cmap = (enum ax_cmap)ax_parse_choice("--cmap", optarg, cmap_names); break;
		case 'f': o.format = (enum format)ax_parse_choice("--format", optarg, format_names); break;
		case O_COUNTS: o.print_counts = 1; break;
		case O_LAYOUTP: o.print_layout = 1; break;
		case 'h': usage(); return AX_EXIT_OK;
		case O_VERSION: ax_print_version(); return AX_EXIT_OK;
		case ':': ax_usage_error("option '%s' needs a value", argv[optind - 1]);
		default: ax_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!strcmp(o.out, "-") && (o.print_counts || o.print_layout))
		ax_usage_error("--print-counts/--print-layout write to stdout; give -o FILE for the PNG");
	if (!(isnan(o.vmin) || isnan(o.vmax) || o.vmin < o.vmax))
		ax_usage_error("--vmin must be below --vmax");
	if (o.spread && o.kind != K_AUTO && o.kind != K_LINE)
		ax_usage_error("--spread applies to line plots");

	/* inputs */
	int nin = argc - optind;
	const char *const dash[] = {"-"};
	const char *const *in = nin ? (const char *const *)argv + optind : dash;
	if (!nin)
		nin = 1;
	int npy = -1, read_stdin = 0;
	struct arrays as = {0};
	for (int i = 0; i < nin; i++) {
		int is_stdin = !strcmp(in[i], "-");
		const char *shown = is_stdin ? "stdin" : in[i];
		if (is_stdin && read_stdin++)
			ax_usage_error("standard input ('-') can be read only once");
		struct ax_reader *r;
		enum ax_status st = ax_reader_open(&r, in[i]);
		if (st)
			die_st(st, "cannot read input");
		int this_npy = o.format == F_NPY || (o.format == F_AUTO && is_npy(r));
		if (npy >= 0 && this_npy != npy)
			ax_usage_error("inputs mix CSV and NPY");
		npy = this_npy;
		if (npy) {
			load_npy(r, shown, &as);
		} else {
			if (nin > 1)
				ax_usage_error("give one CSV input (several NPY inputs are fine)");
			st = ax_table_read(r, &tab);
			if (st)
				die_st(st, "bad CSV input");
			if (tab.nrows == 0)
				ax_die(AX_EXIT_USAGE, "%s: no data rows after the header", shown);
		}
		ax_reader_close(r);
	}
	if (o.kind == K_AUTO) {
		o.kind = K_LINE;
		if (npy) {
			int64_t sh[AX_ARRAY_MAX_DIMS];
			if (squeeze(&as.a[0], sh) == 2)
				o.kind = K_HEATMAP;
		}
	}
	if (!npy && o.kind == K_HEATMAP)
		ax_usage_error("--kind heatmap needs a 2-D NPY array; the input is CSV");
	if (npy && (o.x || o.ny || o.group || o.spread || o.band))
		ax_usage_error("-x, -y, --group, --spread and --band select CSV columns; the input is NPY");
	if (o.kind == K_HEATMAP && (o.logx || o.logy))
		ax_usage_error("--logx/--logy do not apply to heatmaps");

	if (npy)
		npy_panels(&as);
	else if (o.kind == K_LINE || o.kind == K_SCATTER)
		csv_xy();
	else if (o.kind == K_HIST)
		csv_hist();
	else
		csv_bar();

	if (o.print_counts && o.kind != K_HIST)
		ax_usage_error("--print-counts applies to histograms (--kind hist)");
	if (o.print_counts)
		printf("panel,series,lo,hi,count\n");
	if (o.kind == K_HIST)
		for (int i = 0; i < npanels; i++)
			bin_panel(&panels[i], i);

	/* heatmap colour limits: shared by all panels so colours compare */
	double vmin = o.vmin, vmax = o.vmax;
	if (o.kind == K_HEATMAP) {
		double lo = INFINITY, hi = -INFINITY;
		size_t bad = 0;
		for (int i = 0; i < as.n; i++) {
			if (ax_array_to_f32(&as.a[i]) != AX_OK)
				die_st(AX_ERR_NOMEM, "heatmap");
			const float *v = as.a[i].data;
			for (size_t k = 0; k < ax_array_count(&as.a[i]); k++) {
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
			ax_die(AX_EXIT_USAGE, "nothing to draw: the array has no finite values");
		if (isnan(vmin))
			vmin = o.cmap == AX_CMAP_DIVERGING && isnan(vmax) ? -fmax(fabs(lo), fabs(hi)) : lo;
		if (isnan(vmax))
			vmax = o.cmap == AX_CMAP_DIVERGING && isnan(o.vmin) ? fmax(fabs(lo), fabs(hi)) : hi;
		if (!(vmax > vmin)) {  /* constant array */
			vmin -= 0.5;
			vmax += 0.5;
		}
	}

	/* figure */
	int rows = o.rows, cols = o.cols;
	if (!rows) {
		cols = npanels <= 3 ? npanels : (int)ceil(sqrt((double)npanels));
		rows = (npanels + cols - 1) / cols;
	} else if (rows * cols < npanels) {
		ax_usage_error("--layout %dx%d has room for %d panels, but there are %d", rows, cols,
			       rows * cols, npanels);
	}
	double sc = o.dpi / 100;
	int w = o.width ? o.width : (int)lround(sc * (cols == 1 ? 800 : 500 * cols));
	int h = o.height ? o.height : (int)lround(sc * (rows == 1 ? 600 : 420 * rows));
	struct ax_figure fig;
	render(&fig, w, h, rows, cols, vmin, vmax, 0);
	/* a legend that would hide data moves out to the right */
	uint64_t out = 0;
	for (int i = 0; i < npanels; i++)
		if (fig.axes[i].legcost > 2)
			out |= 1ull << i;
	if (out) {
		ax_figure_free(&fig);
		render(&fig, w, h, rows, cols, vmin, vmax, out);
	}
	if (o.print_layout) {
		printf("panel,left,top,width,height,xmin,xmax,ymin,ymax,logx,logy\n");
		for (int i = 0; i < npanels; i++) {
			const struct ax_axes *a = &fig.axes[i];
			printf("%d,%.0f,%.0f,%.0f,%.0f,%.9g,%.9g,%.9g,%.9g,%d,%d\n", i + 1, a->px, a->py,
			       a->pw, a->ph, a->x0, a->x1, a->y0, a->y1, a->logx, a->logy);
		}
	}
	if (fflush(stdout))
		ax_die(AX_EXIT_FAIL, "standard output: write error");
	enum ax_status st = ax_figure_save_png(&fig, o.out);
	if (st)
		die_st(AX_ERR_IO, "cannot write the PNG");
	ax_figure_free(&fig);

	for (int i = 0; i < npanels; i++) {
		struct panel *p = &panels[i];
		for (int k = 0; k < p->ns; k++) {
			struct series *s = &p->s[k];
			free(s->label); free(s->x); free(s->y); free(s->lo); free(s->hi);
		}
		free(p->s); free(p->xlabel); free(p->ylabel); free(p->title);
		if (npy && p->cats) {
			for (int k = 0; k < p->ncat; k++)
				free(p->cats[k]);
			free(p->cats);
		}
	}
	if (!npy) {
		if (panels[0].cats && o.kind == K_BAR)
			free(panels[0].cats);
		ax_table_free(&tab);
	}
	for (int i = 0; i < as.n; i++) {
		ax_array_free(&as.a[i]);
		free(as.label[i]);
	}
	free(as.a);
	free(as.label);
	return AX_EXIT_OK;
}
