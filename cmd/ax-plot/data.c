/* data.c — ax-plot's data: reading the inputs (the CSV and NPY parts are
 * csv.c and npy.c), series and panels, histogram bins, heatmap colour
 * limits. */
#include "ax_cli.h"
#include "plot.h"

#include <math.h>
#include <string.h>

/* Split "a,b,c" into a NULL-terminated list of fresh strings. */
char **axp_split_commas(const char *s, int *n)
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

void axp_free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
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

void axp_series_free(struct axp_series *s)
{
	free(s->label); free(s->x); free(s->y); free(s->lo); free(s->hi);
}

enum ax_status axp_new_panel(struct axp_plot *p, struct axp_panel **out)
{
	*out = NULL;
	if (p->npanels >= AXP_MAX_PANELS)
		return ax_error_set(AX_ERR_ARG, "too many panels (max %d)", AXP_MAX_PANELS);
	*out = &p->panels[p->npanels++];
	memset(*out, 0, sizeof **out);
	return AX_OK;
}


/* ---- reading ---- */

static enum ax_status read_one(struct axp_plot *p, const char *path, int nin)
{
	const char *shown = strcmp(path, "-") ? path : "stdin";
	struct ax_reader *r;
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return ax_error_prefix(st, "cannot read input");
	int this_npy = p->o.format == AXP_F_NPY || (p->o.format == AXP_F_AUTO && axp_is_npy(r));
	if (p->npy >= 0 && this_npy != p->npy)
		st = ax_error_set(AX_ERR_ARG, "inputs mix CSV and NPY");
	else if ((p->npy = this_npy))
		st = axp_load_npy(r, shown, &p->as);
	else if (nin > 1)
		st = ax_error_set(AX_ERR_ARG, "give one CSV input (several NPY inputs are fine)");
	else if ((st = ax_table_read(r, &p->tab)))
		st = ax_error_prefix(st, "bad CSV input");
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
		o->kind = p->npy && axp_squeeze(&p->as.a[0], sh) == 2 ? AXP_HEATMAP : AXP_LINE;
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
	return p->npy ? axp_npy_panels(p) : axp_csv_panels(p);
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
			return ax_error_prefix(AX_ERR_NOMEM, "heatmap");
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
			axp_series_free(&pn->s[k]);
		free(pn->s); free(pn->xlabel); free(pn->ylabel); free(pn->title);
		axp_free_list(pn->cats, pn->ncat);
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
