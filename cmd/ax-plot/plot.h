/* plot.h — ax-plot: PNG figures from CSV metrics or NPY arrays (line,
 * scatter, histogram, heatmap and bar plots, in one or several panels).
 *
 * Data flow: inputs -> panels of series (x, y, optional band) -> a figure of
 * lib/ax_plot.h -> an atomically written PNG. One run's state is one
 * struct axp_plot, passed down; nothing lives at file scope.
 *
 * Helpers return enum ax_status with the detail set (ax_error_set); main.c
 * alone turns a status into a message and an exit code: AX_ERR_ARG is a
 * usage error (exit 2 with a hint to --help), AX_ERR_IO and AX_ERR_NOMEM
 * exit 1, every other status is bad input (exit 2).
 */
#ifndef AXP_PLOT_H
#define AXP_PLOT_H

#include "ax_io.h"
#include "ax_plot.h"

#define AXP_MAX_PANELS 64
#define AXP_MAX_SERIES 64   /* --group values, NPY columns */

enum axp_kind { AXP_LINE, AXP_SCATTER, AXP_HIST, AXP_HEATMAP, AXP_BAR, AXP_AUTO };
enum axp_format { AXP_F_AUTO, AXP_F_CSV, AXP_F_NPY };
extern const char *const axp_kind_names[];

/* The command line (main.c fills it). */
struct axp_opts {
	const char *out;
	enum axp_kind kind;
	const char *x, *group, *spread, *band;
	char *yspec[AXP_MAX_PANELS];
	int ny;
	int bins, logx, logy, density;
	const char *title, *xlabel, *ylabel, *clabel;
	int width, height, rows, cols;
	double dpi, vmin, vmax;
	enum ax_cmap cmap;
	enum axp_format format;
	int print_counts, print_layout;
};

struct axp_series {
	char *label;
	int color;                 /* palette index (ax_plot_color) */
	size_t n;
	double *x, *y, *lo, *hi;   /* n each; lo/hi NULL without a band */
};

struct axp_panel {
	int ns;
	struct axp_series *s;
	char *xlabel, *ylabel, *title;
	int ncat;                  /* bar charts: category labels */
	char **cats;
	const struct ax_array *heat;  /* heatmaps */
};

/* Every array of every NPY input, with a label for legends and titles. */
struct axp_arrays {
	int n;
	struct ax_array *a;
	char **label;
};

struct axp_plot {
	struct axp_opts o;
	int npy;                   /* the inputs are NPY (else one CSV table) */
	struct ax_table tab;
	struct axp_arrays as;
	struct axp_panel panels[AXP_MAX_PANELS];
	int npanels;
	double vmin, vmax;         /* heatmap colour limits, shared by all panels */
};

/* ---- data.c: inputs, panels, histogram bins (with csv.c and npy.c) ---- */
/* Reads every input (NULL-terminated names; none: stdin) into p->tab or p->as
 * and settles p->o.kind when it was automatic. */
enum ax_status axp_read_inputs(struct axp_plot *p, const char *const *inputs);
/* Panels and series from the data and options. */
enum ax_status axp_build_panels(struct axp_plot *p);
/* Histograms: each series' values replaced by its counts over bins shared
 * within a panel (--print-counts: printed as CSV). */
enum ax_status axp_bin_panels(struct axp_plot *p);
/* Heatmaps: the colour limits from the data and --vmin/--vmax. */
enum ax_status axp_heat_limits(struct axp_plot *p);
void axp_free(struct axp_plot *p);

/* series, panels and lists (data.c) */
struct axp_series *axp_series_add(struct axp_panel *pn, const char *label, int color);
void axp_series_push(struct axp_series *s, size_t *cap, double x, double y, double lo,
		     double hi, int band);
void axp_series_free(struct axp_series *s);
/* The next panel of p (zeroed), or AX_ERR_ARG past AXP_MAX_PANELS. */
enum ax_status axp_new_panel(struct axp_plot *p, struct axp_panel **out);
/* "a,b,c" into a NULL-terminated list of fresh strings; freed by axp_free_list. */
char **axp_split_commas(const char *s, int *n);
void axp_free_list(char **v, int n);

/* ---- csv.c: CSV columns into panels ---- */
enum ax_status axp_csv_panels(struct axp_plot *p);

/* ---- npy.c: NPY arrays into panels ---- */
/* Does the stream start with the NPY magic? (peeks, consumes nothing) */
int axp_is_npy(struct ax_reader *r);
/* Every array of the stream appended to as, labelled by file (and index). */
enum ax_status axp_load_npy(struct ax_reader *r, const char *shown, struct axp_arrays *as);
/* Shape without size-1 dimensions into shape; returns its rank. */
int axp_squeeze(const struct ax_array *a, int64_t *shape);
/* Rows and columns of a heatmap array (size-1 dimensions dropped). */
void axp_heat_shape(const struct ax_array *a, int *rows, int *cols);
enum ax_status axp_npy_panels(struct axp_plot *p);

/* ---- layout.c: the figure ---- */
/* Figure size and panel grid, then axes set up, drawn and finished; a legend
 * that would hide data is moved out of its panel and the figure redrawn. */
enum ax_status axp_render(struct axp_plot *p, struct ax_figure *fig);
/* --print-layout: each panel's plot area and limits as CSV on stdout. */
void axp_print_layout(const struct axp_plot *p, const struct ax_figure *fig);

/* ---- draw.c: a panel by kind ---- */
/* Before layout: labels, log flags, data ranges (and the legend entries
 * when the legend sits outside the plot area). */
void axp_setup_axes(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a);
/* After layout: the data (legend: entries for the legend inside the plot area). */
void axp_draw_panel(const struct axp_plot *p, const struct axp_panel *pn, struct ax_axes *a,
		    int legend);

#endif
