/* layout.c — ax-plot's figure: panel grid and image size, each panel's axes
 * set up before the library lays them out, the legend moved out of a panel
 * where it would hide data, and --print-layout. */
#include "plot.h"

#include <math.h>
#include <string.h>

static enum ax_legend_kind legend_kind(enum axp_kind k)
{
	return k == AXP_LINE ? AX_LEG_LINE : k == AXP_SCATTER ? AX_LEG_MARKER : AX_LEG_BOX;
}

/* Does the panel get a legend? (Several series, or groups named by --group.) */
static int has_legend(const struct axp_plot *p, const struct axp_panel *pn)
{
	return (pn->ns > 1 || p->o.group) && p->o.kind != AXP_HEATMAP;
}

/* Labels, log flags and data ranges of one panel, before layout (and the
 * legend's entries when it sits outside the plot area: layout sizes it). */
void axp_setup_axes(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a)
{
	const struct axp_opts *o = &p->o;
	if (has_legend(p, pn) && a->legout)
		for (int k = 0; k < pn->ns; k++)
			ax_axes_legend_add(a, pn->s[k].label, ax_plot_color(pn->s[k].color),
					   legend_kind(o->kind));
	ax_axes_set_labels(a, pn->title, pn->xlabel && *pn->xlabel ? pn->xlabel : NULL,
			   pn->ylabel && *pn->ylabel ? pn->ylabel : NULL);
	if (o->kind == AXP_HEATMAP) {
		int rows, cols;
		axp_heat_shape(pn->heat, &rows, &cols);
		a->yinvert = a->xint = a->yint = 1;
		a->pad = 0;
		ax_axes_set_xlim(a, -0.5, cols - 0.5);
		ax_axes_set_ylim(a, -0.5, rows - 0.5);
		ax_axes_set_colorbar(a, p->vmin, p->vmax, o->cmap, o->clabel);
		return;
	}
	ax_axes_set_log(a, o->logx, o->logy);
	if (pn->ncat) {
		ax_axes_set_categories(a, pn->cats, pn->ncat);
		a->yzero = AX_ZERO_NEAR;   /* bars: from 0 unless the values are far from it */
	}
	if (o->kind == AXP_HIST)
		a->yzero = AX_ZERO_KEEP;
	for (int k = 0; k < pn->ns; k++) {
		const struct axp_series *s = &pn->s[k];
		if (o->kind == AXP_HIST) {
			ax_axes_include(a, s->lo, s->y, s->n);
			ax_axes_include(a, s->hi, NULL, s->n);
			if (o->logy) {  /* empty bins are not drawn on a log axis */
				double one = o->density ? NAN : 1;
				ax_axes_include(a, NULL, &one, 1);
			}
		} else {
			ax_axes_include(a, pn->ncat ? NULL : s->x, s->y, s->n);
			if (s->lo) {
				ax_axes_include(a, NULL, s->lo, s->n);
				ax_axes_include(a, NULL, s->hi, s->n);
			}
		}
	}
}

/* Rows and columns of panels: --layout, or side by side up to 3, then square. */
static enum ax_status grid(const struct axp_plot *p, int *rows, int *cols)
{
	int n = p->npanels;
	*rows = p->o.rows;
	*cols = p->o.cols;
	if (!*rows) {
		*cols = n <= 3 ? n : (int)ceil(sqrt((double)n));
		*rows = (n + *cols - 1) / *cols;
	} else if (*rows * *cols < n) {
		return ax_error_set(AX_ERR_ARG, "--layout %dx%d has room for %d panels, but there "
				    "are %d", *rows, *cols, *rows * *cols, n);
	}
	return AX_OK;
}

/* The whole figure; legout: bit i puts panel i's legend outside. */
static enum ax_status draw_figure(const struct axp_plot *p, struct ax_figure *fig, int w, int h,
				  int rows, int cols, uint64_t legout)
{
	enum ax_status st = ax_figure_init(fig, w, h, p->o.dpi, rows, cols);
	if (st)
		return st;
	if (p->o.title)
		ax_figure_set_title(fig, p->o.title);
	for (int i = 0; i < p->npanels; i++) {
		struct ax_axes *a = ax_figure_axes(fig, i);
		a->legout = (int)(legout >> i & 1);
		axp_setup_axes(p, &p->panels[i], a);
	}
	for (int i = p->npanels; i < fig->n; i++)  /* grid cells past the last panel */
		ax_figure_axes(fig, i)->blank = 1;
	if ((st = ax_figure_layout(fig))) {
		char d[512];
		snprintf(d, sizeof d, "%s", ax_error_detail());
		ax_figure_free(fig);
		return ax_error_set(AX_ERR_FORMAT, "cannot draw: %s", d);
	}
	for (int i = 0; i < p->npanels; i++) {
		struct ax_axes *a = ax_figure_axes(fig, i);
		axp_draw_panel(p, &p->panels[i], a, has_legend(p, &p->panels[i]) && !a->legout);
	}
	ax_figure_finish(fig);
	return AX_OK;
}

enum ax_status axp_render(struct axp_plot *p, struct ax_figure *fig)
{
	int rows, cols;
	enum ax_status st = grid(p, &rows, &cols);
	if (st)
		return st;
	double sc = p->o.dpi / 100;
	int w = p->o.width ? p->o.width : (int)lround(sc * (cols == 1 ? 800 : 500 * cols));
	int h = p->o.height ? p->o.height : (int)lround(sc * (rows == 1 ? 600 : 420 * rows));
	if ((st = draw_figure(p, fig, w, h, rows, cols, 0)))
		return st;
	/* a legend that would hide data moves out to the right */
	uint64_t out = 0;
	for (int i = 0; i < p->npanels; i++)
		if (fig->axes[i].legcost > 2)
			out |= 1ull << i;
	if (!out)
		return AX_OK;
	ax_figure_free(fig);
	return draw_figure(p, fig, w, h, rows, cols, out);
}

void axp_print_layout(const struct axp_plot *p, const struct ax_figure *fig)
{
	printf("panel,left,top,width,height,xmin,xmax,ymin,ymax,logx,logy\n");
	for (int i = 0; i < p->npanels; i++) {
		const struct ax_axes *a = &fig->axes[i];
		printf("%d,%.0f,%.0f,%.0f,%.0f,%.9g,%.9g,%.9g,%.9g,%d,%d\n", i + 1, a->px, a->py,
		       a->pw, a->ph, a->x0, a->x1, a->y0, a->y1, a->logx, a->logy);
	}
}
