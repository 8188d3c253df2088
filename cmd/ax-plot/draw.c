/* draw.c — ax-plot's drawing: the data of one panel, by kind, after layout. */
#include "plot.h"

#include <math.h>

typedef void draw_fn(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		     int legend);

static void draw_line(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		      int legend)
{
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		uint32_t col = ax_plot_color(s->color);
		if (s->lo)
			ax_axes_band(a, s->x, s->lo, s->hi, s->n, col, 0.25);
		ax_axes_line(a, s->x, s->y, s->n, col, a->fig->lw, legend ? s->label : NULL);
	}
}

static void draw_scatter(const struct axp_plot *p, const struct axp_panel *pn,
			 struct ax_axes *a, int legend)
{
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		ax_axes_scatter(a, s->x, s->y, s->n, ax_plot_color(s->color),
				fmax(1.5, 1.5 * a->fig->lw), legend ? s->label : NULL);
	}
}

/* Overlaid histograms: every fill first, so no fill hides another's outline. */
static void draw_hist(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		      int legend)
{
	double alpha = pn->ns > 1 ? 0.35 : 0.6;
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		ax_axes_bins(a, s->lo, s->hi, s->y, s->n, ax_plot_color(s->color), alpha);
	}
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		ax_axes_bins_outline(a, s->lo, s->hi, s->y, s->n, ax_plot_color(s->color),
				     fmax(1, a->fig->lw * 0.75));
		if (legend)
			ax_axes_legend_add(a, s->label, ax_plot_color(s->color), AX_LEG_BOX);
	}
}

/* Bars side by side within each category's slot; error bars from the band. */
static void draw_bar(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		     int legend)
{
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		uint32_t col = ax_plot_color(s->color);
		double slot = 0.8 / pn->ns, x0 = -0.4 + k * slot;
		/* from 0, or from the axis edge nearest 0 when 0 is off the axis */
		double base = p->o.logy ? a->y0 : fmin(fmax(0, a->y0), a->y1);
		for (size_t b = 0; b < s->n; b++) {
			if (!isfinite(s->y[b]))
				continue;
			double l = s->x[b] + x0 + 0.05 * slot, r = s->x[b] + x0 + 0.95 * slot;
			ax_axes_rect(a, l, base, r, s->y[b], col, 1);
			if (s->lo)
				ax_axes_errbar(a, (l + r) / 2, s->lo[b], s->hi[b],
					       fmax(2, (ax_axes_xpx(a, r) - ax_axes_xpx(a, l)) / 4),
					       AX_PLOT_FG);
		}
		if (legend)
			ax_axes_legend_add(a, s->label, col, AX_LEG_BOX);
	}
}

static void draw_heatmap(const struct axp_plot *p, const struct axp_panel *pn,
			 struct ax_axes *a, int legend)
{
	int rows, cols;
	axp_heat_shape(pn->heat, &rows, &cols);
	ax_axes_heatmap(a, pn->heat->data, rows, cols);
}

void axp_draw_panel(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		    int legend)
{
	static draw_fn *const by_kind[] = {
		[AXP_LINE] = draw_line, [AXP_SCATTER] = draw_scatter, [AXP_HIST] = draw_hist,
		[AXP_HEATMAP] = draw_heatmap, [AXP_BAR] = draw_bar,
	};
	by_kind[p->o.kind](p, pn, a, legend);
}
