/* ax_plot.h — PNG figures: a raster canvas with anti-aliased primitives and
 * a built-in bitmap font, a figure/axes layer (panels, nice ticks, log axes,
 * legends, colour bars), histogram helpers, and PNG output via libpng.
 *
 * Coordinates are pixels as doubles: pixel (i, j) covers [i, i+1) x [j, j+1),
 * its centre is (i + 0.5, j + 0.5); y grows downwards. Colours are 0xRRGGBB,
 * alpha in [0, 1]. Ownership: a canvas owns its pixels (ax_canvas_free); a
 * figure owns its canvas, axes and every string given to it (copies), freed
 * by ax_figure_free. Nothing here prints or exits.
 *
 * Use: ax_figure_init -> per axes: labels, log flags, ax_axes_include (data
 * range) or fixed limits (or blank, for an unused grid cell) ->
 * ax_figure_layout (places panels, draws frames, grid, ticks, labels) ->
 * ax_axes_line/scatter/band/rect/heatmap -> ax_figure_finish (legends,
 * frames on top) -> ax_figure_save_png.
 */
#ifndef AX_PLOT_H
#define AX_PLOT_H

#include "ax_base.h"

/* ---- canvas ---- */
struct ax_canvas {
	int w, h;
	uint8_t *px;          /* (h, w, 3) RGB8, row 0 at the top */
	int cx0, cy0, cx1, cy1; /* clip rectangle, pixels [cx0, cx1) x [cy0, cy1) */
};

enum ax_status ax_canvas_init(struct ax_canvas *c, int w, int h, uint32_t bg);
void ax_canvas_free(struct ax_canvas *c);
uint32_t ax_canvas_get(const struct ax_canvas *c, int x, int y);  /* 0xRRGGBB */
/* Restrict drawing to [x0, x1) x [y0, y1) (clamped to the canvas); reset
 * with ax_canvas_clip(c, 0, 0, c->w, c->h). */
void ax_canvas_clip(struct ax_canvas *c, int x0, int y0, int x1, int y1);
/* Blend colour into one pixel with weight alpha. */
void ax_canvas_blend(struct ax_canvas *c, int x, int y, uint32_t color, double alpha);
/* Filled rectangle [x0, x1) x [y0, y1); partial edge pixels get fractional coverage. */
void ax_canvas_rect(struct ax_canvas *c, double x0, double y0, double x1, double y1,
		    uint32_t color, double alpha);
/* Anti-aliased line of width w (coverage from the distance to the segment). */
void ax_canvas_line(struct ax_canvas *c, double x0, double y0, double x1, double y1,
		    double w, uint32_t color, double alpha);
/* Polyline through n points xy (n, 2); a NaN coordinate breaks the line.
 * Coverage is the max over segments, so joints are not blended twice. */
void ax_canvas_polyline(struct ax_canvas *c, const double *xy, int n, double w,
			uint32_t color, double alpha);
/* Filled polygon (even-odd), anti-aliased; xy is (n, 2). */
void ax_canvas_polygon(struct ax_canvas *c, const double *xy, int n, uint32_t color,
		       double alpha);
/* Filled disc of radius r. */
void ax_canvas_circle(struct ax_canvas *c, double cx, double cy, double r, uint32_t color,
		      double alpha);

/* ---- text: 5x7 bitmap font (plus 2 descender rows) in a 6x10 cell, ASCII 32..126,
 * scaled by an integer factor; other bytes draw as '?' ---- */
enum { AX_FONT_W = 6, AX_FONT_H = 10 };  /* cell size at scale 1, spacing included */
enum ax_halign { AX_LEFT, AX_CENTER, AX_RIGHT };
enum ax_valign { AX_TOP, AX_MIDDLE, AX_BOTTOM };
int ax_text_width(const char *s, int scale);   /* pixels, without the trailing gap */
int ax_text_height(int scale);                 /* pixels: 9 * scale (cap + descender) */
/* Draw s anchored at (x, y) by the box alignment. rot90: rotate 90 degrees
 * counter-clockwise (reads bottom to top; the box is then height x width). */
void ax_canvas_text(struct ax_canvas *c, double x, double y, const char *s, int scale,
		    uint32_t color, enum ax_halign ha, enum ax_valign va, int rot90);
/* The 9 rows of a glyph, 5 bits each, bit 4 = leftmost column (tests, fuzz). */
const uint8_t *ax_font_glyph(int ch);

/* ---- colours ---- */
/* Okabe-Ito colour-blind-safe palette (7 colours, cycled; yellow left out);
 * black is last. */
uint32_t ax_plot_color(int i);
#define AX_PLOT_FG 0x222222   /* text, frames, ticks, error bars */
enum ax_cmap { AX_CMAP_VIRIDIS, AX_CMAP_GRAY, AX_CMAP_DIVERGING };
/* Colour of t in [0, 1] (clamped; NaN gives light grey). Diverging: Tol's
 * blue-white-red, white at 0.5. */
uint32_t ax_cmap_color(enum ax_cmap m, double t);

/* ---- ticks ---- */
/* 1-2-5 ticks covering [lo, hi] inside it, about `target` of them; writes at
 * most max to ticks, returns the count and the step in *step. */
int ax_nice_ticks(double lo, double hi, int target, double *ticks, int max, double *step);
/* Ticks of a log10 axis on [lo, hi] (lo > 0): decades (every k-th if many),
 * with 2 and 5 added when there are few decades. *step is 0 for decade-style
 * labels or the linear step used when the range is under one decade. */
int ax_log_ticks(double lo, double hi, int target, double *ticks, int max, double *step);
/* Label for tick v given the tick step (decimals follow the step; "1e-5"
 * style for very large/small values). step 0: shortest exact form. */
void ax_tick_label(double v, double step, char *buf, size_t n);

/* ---- histograms ---- */
/* nbins+1 edges from lo to hi, evenly spaced, or in log space if logscale (lo > 0). */
void ax_hist_edges(double lo, double hi, int nbins, int logscale, double *edges);
/* Adds to counts[nbins] the values of v falling in [edges[0], edges[nbins]]
 * (bins half-open except the last, which includes its right edge). Returns
 * how many finite values fell outside; non-finite values are not counted. */
size_t ax_histogram(const double *v, size_t n, const double *edges, int nbins, double *counts);

/* ---- figure and axes ---- */
#define AX_PLOT_MAX_TICKS 64
enum ax_legend_kind { AX_LEG_LINE, AX_LEG_MARKER, AX_LEG_BOX };

/* Where a value axis of non-negative data starts (ax_axes xzero, yzero):
 * AX_ZERO_KEEP at 0 (counts); AX_ZERO_NEAR at 0 unless that would leave
 * more than four fifths of the axis empty (min > 4 * (max - min)), then
 * near the data (bars of values far from zero, such as 3.87 to 4.01, whose
 * differences an axis from 0 would hide). */
enum ax_zero { AX_ZERO_NONE, AX_ZERO_KEEP, AX_ZERO_NEAR };

struct ax_legend_entry {
	char *label;
	uint32_t color;
	enum ax_legend_kind kind;
};

struct ax_axes {
	/* ---- set by the caller before layout (prefer the setter functions) ---- */
	char *title, *xlabel, *ylabel;
	int logx, logy;
	int yinvert;            /* y grows downwards (heatmap rows) */
	int xzero, yzero;       /* enum ax_zero: 0 in the axis range for non-negative data */
	int xint, yint;         /* ticks at whole numbers only (array indices) */
	double pad;             /* autoscale margin as a fraction of the range (0.04) */
	double dxmin, dxmax, dymin, dymax; /* data range from ax_axes_include */
	double fxmin, fxmax, fymin, fymax; /* fixed limits, NaN = automatic */
	int ncat;               /* categorical x axis: labels at x = 0..ncat-1 */
	char **cats;
	int colorbar;           /* colour bar on the right for heatmaps */
	double cmin, cmax;
	enum ax_cmap cmap;
	char *clabel;
	int blank;              /* an unused grid cell: layout and finish leave it empty */
	/* ---- set by ax_figure_layout ---- */
	double px, py, pw, ph;  /* plot area: left, top, width, height (pixels) */
	double x0, x1, y0, y1;  /* final axis limits (data units) */
	int nxt, nyt;
	double xt[AX_PLOT_MAX_TICKS], yt[AX_PLOT_MAX_TICKS], xstep, ystep;
	int catrot;             /* categorical labels drawn rotated */
	int catchars;           /* rotated labels cut to this many characters (0: whole) */
	/* ---- filled while drawing ---- */
	int nleg;
	struct ax_legend_entry *leg;
	uint16_t occ[16][16];   /* how much data was drawn in each cell of the plot area */
	struct ax_figure *fig;
	int legout;             /* legend right of the plot area (entries added before layout) */
	double legx, legy, legw, legh; /* legend box chosen by finish (pixels; w=0: none) */
	double legcost;         /* how much drawn data the legend box covers (0: none) */
};

struct ax_figure {
	struct ax_canvas canvas;
	double dpi;
	int scale;              /* text scale for tick labels (2 at 100 dpi) */
	double lw;              /* data line width, pixels */
	int rows, cols, n;
	struct ax_axes *axes;   /* n = rows * cols, row-major */
	char *title;
};

/* w x h pixels; dpi sets text and line sizes (text ~9 pt); rows x cols panels. */
enum ax_status ax_figure_init(struct ax_figure *f, int w, int h, double dpi, int rows,
			      int cols);
void ax_figure_free(struct ax_figure *f);
void ax_figure_set_title(struct ax_figure *f, const char *title);
struct ax_axes *ax_figure_axes(struct ax_figure *f, int i);

void ax_axes_set_labels(struct ax_axes *a, const char *title, const char *xlabel,
			const char *ylabel);   /* NULL leaves a label unset */
void ax_axes_set_log(struct ax_axes *a, int logx, int logy);
void ax_axes_set_xlim(struct ax_axes *a, double lo, double hi);  /* NaN: automatic */
void ax_axes_set_ylim(struct ax_axes *a, double lo, double hi);
/* Widen the data range by the finite points of x, y (n each; either may be
 * NULL to leave that axis alone). Non-positive values are ignored on a log axis,
 * so set log flags first. */
void ax_axes_include(struct ax_axes *a, const double *x, const double *y, size_t n);
void ax_axes_set_categories(struct ax_axes *a, char *const *names, int n);
void ax_axes_set_colorbar(struct ax_axes *a, double vmin, double vmax, enum ax_cmap m,
			  const char *label);

/* Places every panel (but blank ones), clears the canvas and draws frames,
 * grid, ticks, tick labels, axis labels, titles and colour bars. AX_ERR_ARG if
 * a panel has no data range or the figure is too small for its panels. */
enum ax_status ax_figure_layout(struct ax_figure *f);

/* Data -> pixel (valid after layout). Log axes map log10(v); v <= 0 gives NaN. */
double ax_axes_xpx(const struct ax_axes *a, double x);
double ax_axes_ypx(const struct ax_axes *a, double y);

/* Drawing into a panel (after layout), clipped to its plot area. Non-finite
 * points (and non-positive ones on log axes) are skipped; a line breaks there.
 * label != NULL adds a legend entry. */
void ax_axes_line(struct ax_axes *a, const double *x, const double *y, size_t n,
		  uint32_t color, double width, const char *label);
void ax_axes_scatter(struct ax_axes *a, const double *x, const double *y, size_t n,
		     uint32_t color, double radius, const char *label);
/* Filled band between lo and hi over x (n points), e.g. an interquartile range. */
void ax_axes_band(struct ax_axes *a, const double *x, const double *lo, const double *hi,
		  size_t n, uint32_t color, double alpha);
/* Rectangle in data units (bars, histogram bins); a bound outside a log axis
 * (<= 0) is clamped to the axis edge. */
void ax_axes_rect(struct ax_axes *a, double x0, double y0, double x1, double y1,
		  uint32_t color, double alpha);
/* Histogram bins: bin b covers [lo[b], hi[b]) up to y[b] from the value
 * axis's base (0, or its lower limit on a log axis); empty bins are not
 * filled. The outline is one step line along the bin tops, down to the base
 * at both ends (empty bins drop to the base on a log axis). Fill every
 * series first, then outline them, so no fill hides an outline. */
void ax_axes_bins(struct ax_axes *a, const double *lo, const double *hi, const double *y,
		  size_t n, uint32_t color, double alpha);
void ax_axes_bins_outline(struct ax_axes *a, const double *lo, const double *hi,
			  const double *y, size_t n, uint32_t color, double width);
/* Vertical error bar at x from lo to hi with caps half_w pixels wide. */
void ax_axes_errbar(struct ax_axes *a, double x, double lo, double hi, double half_w,
		    uint32_t color);
/* (rows, cols) values, row-major; cell (i, j) covers x in [j-0.5, j+0.5],
 * y in [i-0.5, i+0.5] (set limits so, with yinvert for row 0 at the top);
 * colours from the colour bar settings; NaN cells are light grey. */
void ax_axes_heatmap(struct ax_axes *a, const float *v, int rows, int cols);
void ax_axes_legend_add(struct ax_axes *a, const char *label, uint32_t color,
			enum ax_legend_kind kind);

/* Legends (placed in the plot-area corner covering the least drawn data, or
 * outside with legout) and frames on top of the data. A caller can check
 * legcost and draw again with legout when the legend hides data. */
void ax_figure_finish(struct ax_figure *f);

/* ---- PNG ---- */
/* 8-bit RGB PNG with a pHYs chunk for dpi (0: none). */
enum ax_status ax_canvas_write_png(const struct ax_canvas *c, FILE *f, double dpi);
/* Atomic: writes "<path>.tmp.<pid>", then renames; "-" is stdout. */
enum ax_status ax_figure_save_png(const struct ax_figure *f, const char *path);

#endif
