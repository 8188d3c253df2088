/* plot_axes.c — figures, panels and axes: layout, ticks, labels, legends,
 * colour bars, and data drawn through the data->pixel transforms. */
#include "ax_plot.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define C_BG 0xFFFFFF
#define C_FG AX_PLOT_FG
#define C_GRID 0xE6E6E6
#define C_NAN 0xD0D0D0

static char *dup_or_null(const char *s) { return s ? ax_xstrdup(s) : NULL; }

enum ax_status ax_figure_init(struct ax_figure *f, int w, int h, double dpi, int rows,
			      int cols)
{
	memset(f, 0, sizeof *f);
	if (rows < 1 || cols < 1 || rows > 64 || cols > 64)
		return ax_error_set(AX_ERR_ARG, "panel layout %dx%d is not valid", rows, cols);
	if (!(dpi >= 10 && dpi <= 2400))
		return ax_error_set(AX_ERR_ARG, "dpi %g is outside [10, 2400]", dpi);
	if (w > 20000 || h > 20000)
		return ax_error_set(AX_ERR_ARG, "image %dx%d is too large (max 20000)", w, h);
	enum ax_status st = ax_canvas_init(&f->canvas, w, h, C_BG);
	if (st)
		return st;
	f->dpi = dpi;
	/* The 7-pixel capitals at scale 2 are ~9 pt at 100 dpi. */
	f->scale = AX_MAX(1, (int)lround(2 * dpi / 100));
	f->lw = fmax(1.0, 2 * dpi / 100);
	f->rows = rows;
	f->cols = cols;
	f->n = rows * cols;
	f->axes = ax_xcalloc((size_t)f->n, sizeof *f->axes);
	for (int i = 0; i < f->n; i++) {
		struct ax_axes *a = &f->axes[i];
		a->fig = f;
		a->pad = 0.04;
		a->dxmin = a->dymin = INFINITY;
		a->dxmax = a->dymax = -INFINITY;
		a->fxmin = a->fxmax = a->fymin = a->fymax = NAN;
		a->cmin = 0;
		a->cmax = 1;
	}
	return AX_OK;
}

void ax_figure_free(struct ax_figure *f)
{
	for (int i = 0; i < f->n; i++) {
		struct ax_axes *a = &f->axes[i];
		free(a->title);
		free(a->xlabel);
		free(a->ylabel);
		free(a->clabel);
		for (int k = 0; k < a->ncat; k++)
			free(a->cats[k]);
		free(a->cats);
		for (int k = 0; k < a->nleg; k++)
			free(a->leg[k].label);
		free(a->leg);
	}
	free(f->axes);
	free(f->title);
	ax_canvas_free(&f->canvas);
	memset(f, 0, sizeof *f);
}

void ax_figure_set_title(struct ax_figure *f, const char *title)
{
	free(f->title);
	f->title = dup_or_null(title);
}

struct ax_axes *ax_figure_axes(struct ax_figure *f, int i)
{
	AX_ASSERT(i >= 0 && i < f->n && "panel index out of range");
	return &f->axes[i];
}

void ax_axes_set_labels(struct ax_axes *a, const char *title, const char *xlabel,
			const char *ylabel)
{
	if (title) { free(a->title); a->title = ax_xstrdup(title); }
	if (xlabel) { free(a->xlabel); a->xlabel = ax_xstrdup(xlabel); }
	if (ylabel) { free(a->ylabel); a->ylabel = ax_xstrdup(ylabel); }
}

void ax_axes_set_log(struct ax_axes *a, int logx, int logy)
{
	a->logx = logx;
	a->logy = logy;
}

void ax_axes_set_xlim(struct ax_axes *a, double lo, double hi) { a->fxmin = lo; a->fxmax = hi; }
void ax_axes_set_ylim(struct ax_axes *a, double lo, double hi) { a->fymin = lo; a->fymax = hi; }

void ax_axes_include(struct ax_axes *a, const double *x, const double *y, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (x) {
			double v = x[i];
			if (isfinite(v) && (!a->logx || v > 0)) {
				a->dxmin = fmin(a->dxmin, v);
				a->dxmax = fmax(a->dxmax, v);
			}
		}
		if (y) {
			double v = y[i];
			if (isfinite(v) && (!a->logy || v > 0)) {
				a->dymin = fmin(a->dymin, v);
				a->dymax = fmax(a->dymax, v);
			}
		}
	}
}

void ax_axes_set_categories(struct ax_axes *a, char *const *names, int n)
{
	for (int k = 0; k < a->ncat; k++)
		free(a->cats[k]);
	free(a->cats);
	a->ncat = n;
	a->cats = ax_xcalloc((size_t)AX_MAX(n, 1), sizeof *a->cats);
	for (int k = 0; k < n; k++)
		a->cats[k] = ax_xstrdup(names[k]);
}

void ax_axes_set_colorbar(struct ax_axes *a, double vmin, double vmax, enum ax_cmap m,
			  const char *label)
{
	a->colorbar = 1;
	a->cmin = vmin;
	a->cmax = vmax;
	a->cmap = m;
	free(a->clabel);
	a->clabel = dup_or_null(label);
}

/* ---- limits and transforms ---- */

/* Final limits of one axis from data range, fixed limits and flags. Works
 * in log10 space for log axes; returns limits in data units. */
static enum ax_status axis_limits(double dmin, double dmax, double fmin_, double fmax_,
				  int logscale, int zero, double pad, double *lo, double *hi,
				  const char *which, int panel)
{
	double a = isnan(fmin_) ? dmin : fmin_, b = isnan(fmax_) ? dmax : fmax_;
	if (!isfinite(a) || !isfinite(b))
		return ax_error_set(AX_ERR_ARG, "panel %d: no finite%s %s values to plot", panel + 1,
				    logscale ? " positive" : "", which);
	if (logscale && (a <= 0 || b <= 0))
		return ax_error_set(AX_ERR_ARG, "panel %d: %s limits must be positive on a log axis",
				    panel + 1, which);
	if (logscale) {
		a = log10(a);
		b = log10(b);
	}
	if (b < a) {
		double t = a; a = b; b = t;
	}
	/* data far from zero (zero would leave over four fifths of the axis empty) */
	int far = zero == AX_ZERO_NEAR && b > a && a > 4 * (b - a);
	if (b == a) { /* a single value: show a unit-ish window around it */
		double d = a == 0 ? 1 : fabs(a) * 0.1;
		if (logscale)
			d = 0.5;
		if (isnan(fmin_)) a -= d;
		if (isnan(fmax_)) b += d;
		if (b == a) b = a + d;
	}
	double span = b - a;
	int keep0 = zero && !far && !logscale && a >= 0 && isnan(fmin_);
	if (isnan(fmin_) && !keep0)
		a -= pad * span;
	if (keep0)
		a = 0;
	if (isnan(fmax_))
		b += pad * span;
	if (logscale) {   /* limits that stay normal doubles: 1e-300 to 1e308 pads past them */
		a = fmax(a, log10(DBL_MIN) + 1e-9);
		b = fmin(b, log10(DBL_MAX) - 1e-9);
		if (b <= a)   /* data all below the smallest normal double */
			b = a + 1;
	} else if (!isfinite(b - a)) {
		return ax_error_set(AX_ERR_ARG, "panel %d: the %s values span too wide a range to "
				    "draw (%g to %g)", panel + 1, which, dmin, dmax);
	}
	*lo = logscale ? pow(10, a) : a;
	*hi = logscale ? pow(10, b) : b;
	return AX_OK;
}

static double tmap(double v, int logscale)
{
	if (logscale)
		return v > 0 ? log10(v) : NAN;
	return v;
}

double ax_axes_xpx(const struct ax_axes *a, double x)
{
	double t0 = tmap(a->x0, a->logx), t1 = tmap(a->x1, a->logx);
	return a->px + (tmap(x, a->logx) - t0) / (t1 - t0) * a->pw;
}

double ax_axes_ypx(const struct ax_axes *a, double y)
{
	double t0 = tmap(a->y0, a->logy), t1 = tmap(a->y1, a->logy);
	double f = (tmap(y, a->logy) - t0) / (t1 - t0);
	return a->yinvert ? a->py + f * a->ph : a->py + a->ph - f * a->ph;
}

/* ---- ticks for one axis ---- */

static int axis_ticks(double lo, double hi, int logscale, int integer, int target, double *t,
		      double *step)
{
	int n = logscale ? ax_log_ticks(lo, hi, target, t, AX_PLOT_MAX_TICKS, step)
			 : ax_nice_ticks(lo, hi, target, t, AX_PLOT_MAX_TICKS, step);
	if (integer && !logscale && *step < 1)
		n = ax_nice_ticks(lo, hi, (int)fmax(1, floor(hi - lo)), t, AX_PLOT_MAX_TICKS, step);
	return n;
}

static int widest_label(const double *t, int n, double step, int scale)
{
	int w = 0;
	char buf[64];
	for (int i = 0; i < n; i++) {
		ax_tick_label(t[i], step, buf, sizeof buf);
		w = AX_MAX(w, ax_text_width(buf, scale));
	}
	return w;
}

/* Minor ticks of a log axis: 2..9 times each decade, when decades are labelled. */
static int log_minor(double lo, double hi, double step, const double *major, int nmajor,
		     double *out, int max)
{
	if (step != 0 || nmajor < 2 || major[1] / major[0] > 10.5)
		return 0;
	int n = 0;
	for (int d = (int)floor(log10(lo)); d <= (int)ceil(log10(hi)) && n < max; d++)
		for (int k = 2; k <= 9 && n < max; k++) {
			double v = k * pow(10, d);
			if (v > lo && v < hi)
				out[n++] = v;
		}
	return n;
}

/* ---- layout ---- */

struct metrics;
static void legend_size(const struct ax_axes *a, const struct metrics *m, double *w, double *h);

struct metrics {
	int s, tl, cw;       /* text scale, text height, char advance */
	double pad, tick;
};

static struct metrics fig_metrics(const struct ax_figure *f)
{
	struct metrics m;
	m.s = f->scale;
	m.tl = ax_text_height(m.s);
	m.cw = AX_FONT_W * m.s;
	m.pad = 0.8 * m.tl;
	m.tick = fmax(3, 0.35 * m.tl);
	return m;
}

static int colorbar_width(const struct ax_axes *a, const struct metrics *m, double ph)
{
	if (!a->colorbar)
		return 0;
	double t[AX_PLOT_MAX_TICKS], st;
	int n = ax_nice_ticks(a->cmin, a->cmax, (int)fmax(2, fmin(8, ph / (3 * m->tl))), t,
			      AX_PLOT_MAX_TICKS, &st);
	int w = m->tl + m->tl + (int)m->tick + m->cw / 2 + widest_label(t, n, st, m->s);
	if (a->clabel)
		w += m->tl / 2 + m->tl;
	return w;
}

static enum ax_status layout_axes(struct ax_figure *f, struct ax_axes *a, int idx, double cx,
				  double cy, double cwid, double chei)
{
	struct metrics m = fig_metrics(f);
	enum ax_status st;
	if (a->ncat > 0) {
		a->x0 = -0.6;
		a->x1 = a->ncat - 0.4;
		a->logx = 0;
	} else if ((st = axis_limits(a->dxmin, a->dxmax, a->fxmin, a->fxmax, a->logx, a->xzero,
				     a->pad, &a->x0, &a->x1, "x", idx)))
		return st;
	if ((st = axis_limits(a->dymin, a->dymax, a->fymin, a->fymax, a->logy, a->yzero, a->pad,
			      &a->y0, &a->y1, "y", idx)))
		return st;

	double top = m.pad + (a->title ? 1.6 * m.tl : 0.5 * m.tl);
	double xlab = a->xlabel ? 1.5 * m.tl : 0;
	double bottom = m.tick + 0.5 * m.tl + m.tl + xlab + m.pad;
	double ph = chei - top - bottom;

	/* categorical labels: rotate when they do not fit side by side */
	int catw = 0;
	for (int k = 0; k < a->ncat; k++)
		catw = AX_MAX(catw, ax_text_width(a->cats[k], m.s));

	/* y ticks first: the left margin depends on their labels */
	int ytarget = (int)fmax(2, fmin(10, ph / (3.0 * m.tl)));
	a->nyt = axis_ticks(a->y0, a->y1, a->logy, a->yint, ytarget, a->yt, &a->ystep);
	int yw = widest_label(a->yt, a->nyt, a->ystep, m.s);
	double left = m.pad + (a->ylabel ? 1.6 * m.tl : 0) + yw + 0.5 * m.cw + m.tick;
	double right = m.pad + m.cw * 2;
	if (a->legout && a->nleg > 0) {
		double lw, lh;
		legend_size(a, &m, &lw, &lh);
		right += m.tl + lw - m.cw;
	}
	double pw0 = cwid - left - right - colorbar_width(a, &m, ph);
	a->catrot = a->ncat > 0 && catw + 2 * m.cw > pw0 / a->ncat;
	a->catchars = 0;
	if (a->catrot) {
		/* rotated labels take at most 30% of the panel height, cut if longer */
		int maxw = (int)(0.3 * chei);
		if (catw > maxw) {
			a->catchars = AX_MAX(3, (maxw + m.s) / m.cw);
			catw = ax_text_width("..", m.s) + a->catchars * m.cw;
		}
		bottom += catw - m.tl;
		ph = chei - top - bottom;
		/* fewer rows of y ticks now: redo them and the left margin */
		ytarget = (int)fmax(2, fmin(10, ph / (3.0 * m.tl)));
		a->nyt = axis_ticks(a->y0, a->y1, a->logy, a->yint, ytarget, a->yt, &a->ystep);
		yw = widest_label(a->yt, a->nyt, a->ystep, m.s);
		double left2 = m.pad + (a->ylabel ? 1.6 * m.tl : 0) + yw + 0.5 * m.cw + m.tick;
		pw0 += left - left2;
		left = left2;
	}
	double pw = pw0;
	if (pw < 20 || ph < 20)
		return ax_error_set(AX_ERR_ARG,
				    "panel %d: the image is too small for its labels (plot area %.0fx%.0f px); "
				    "use a larger --width/--height or a smaller --dpi", idx + 1, pw, ph);

	if (a->ncat > 0) {
		a->nxt = 0;
		a->xstep = 1;
	} else {
		/* x ticks: fewer until neighbouring labels keep 2 characters apart;
		 * a log axis may go down to every other decade (target 1) */
		int target = (int)fmax(2, fmin(12, pw / (6.0 * m.cw))), fewest = a->logx ? 1 : 2;
		double t0 = tmap(a->x0, a->logx), t1 = tmap(a->x1, a->logx);
		for (;;) {
			a->nxt = axis_ticks(a->x0, a->x1, a->logx, a->xint, target, a->xt, &a->xstep);
			int w = widest_label(a->xt, a->nxt, a->xstep, m.s);
			double gap = INFINITY;
			for (int i = 1; i < a->nxt; i++)
				gap = fmin(gap, (tmap(a->xt[i], a->logx) - tmap(a->xt[i - 1], a->logx)) /
							(t1 - t0) * pw);
			if (target <= fewest || gap >= w + 2.0 * m.cw)
				break;
			target--;
		}
	}
	/* pixel-aligned plot area so frame and grid lines are crisp */
	a->px = floor(cx + left);
	a->py = floor(cy + top);
	a->pw = floor(pw);
	a->ph = floor(ph);
	return AX_OK;
}

static void hline(struct ax_canvas *c, double x0, double x1, double y, uint32_t col)
{
	ax_canvas_rect(c, x0, y, x1, y + 1, col, 1);
}

static void vline(struct ax_canvas *c, double x, double y0, double y1, uint32_t col)
{
	ax_canvas_rect(c, x, y0, x + 1, y1, col, 1);
}

static void draw_frame(struct ax_canvas *c, const struct ax_axes *a)
{
	double l = a->px - 1, t = a->py - 1, r = a->px + a->pw, b = a->py + a->ph;
	hline(c, l, r + 1, t, C_FG);
	hline(c, l, r + 1, b, C_FG);
	vline(c, l, t, b + 1, C_FG);
	vline(c, r, t, b + 1, C_FG);
}

static void draw_colorbar(struct ax_figure *f, struct ax_axes *a, const struct metrics *m)
{
	struct ax_canvas *c = &f->canvas;
	double bx = a->px + a->pw + m->tl, bw = m->tl, by = a->py, bh = a->ph;
	for (int j = 0; j < (int)bh; j++) {
		double t = 1 - (j + 0.5) / bh;
		ax_canvas_rect(c, bx, by + j, bx + bw, by + j + 1, ax_cmap_color(a->cmap, t), 1);
	}
	hline(c, bx - 1, bx + bw + 1, by - 1, C_FG);
	hline(c, bx - 1, bx + bw + 1, by + bh, C_FG);
	vline(c, bx - 1, by - 1, by + bh + 1, C_FG);
	vline(c, bx + bw, by - 1, by + bh + 1, C_FG);
	double t[AX_PLOT_MAX_TICKS], st;
	int n = ax_nice_ticks(a->cmin, a->cmax, (int)fmax(2, fmin(8, bh / (3 * m->tl))), t,
			      AX_PLOT_MAX_TICKS, &st);
	char buf[64];
	int w = widest_label(t, n, st, m->s);
	for (int i = 0; i < n && a->cmax > a->cmin; i++) {
		double y = floor(by + bh - (t[i] - a->cmin) / (a->cmax - a->cmin) * bh);
		hline(c, bx + bw, bx + bw + m->tick, y, C_FG);
		ax_tick_label(t[i], st, buf, sizeof buf);
		ax_canvas_text(c, bx + bw + m->tick + m->cw / 2, y + 0.5, buf, m->s, C_FG, AX_LEFT,
			       AX_MIDDLE, 0);
	}
	if (a->clabel)
		ax_canvas_text(c, bx + bw + m->tick + m->cw / 2 + w + m->tl / 2, by + bh / 2,
			       a->clabel, m->s, C_FG, AX_LEFT, AX_MIDDLE, 1);
}

static void draw_axes(struct ax_figure *f, struct ax_axes *a)
{
	struct ax_canvas *c = &f->canvas;
	struct metrics m = fig_metrics(f);
	char buf[64];
	double l = a->px, t = a->py, r = a->px + a->pw, b = a->py + a->ph;
	double minor[256];
	int nmin;

	/* grid: minor log ticks faintly, then major */
	if (!a->colorbar) {
		nmin = a->logx ? log_minor(a->x0, a->x1, a->xstep, a->xt, a->nxt, minor, 256) : 0;
		for (int i = 0; i < nmin; i++)
			vline(c, floor(ax_axes_xpx(a, minor[i])), t, b, 0xF3F3F3);
		nmin = a->logy ? log_minor(a->y0, a->y1, a->ystep, a->yt, a->nyt, minor, 256) : 0;
		for (int i = 0; i < nmin; i++)
			hline(c, l, r, floor(ax_axes_ypx(a, minor[i])), 0xF3F3F3);
		for (int i = 0; i < a->nxt; i++)
			vline(c, floor(ax_axes_xpx(a, a->xt[i])), t, b, C_GRID);
		for (int i = 0; i < a->nyt; i++)
			hline(c, l, r, floor(ax_axes_ypx(a, a->yt[i])), C_GRID);
	}
	/* ticks and their labels */
	double ty = b + 1 + m.tick + 0.5 * m.tl;
	for (int i = 0; i < a->nxt; i++) {
		double x = floor(ax_axes_xpx(a, a->xt[i]));
		vline(c, x, b + 1, b + 1 + m.tick, C_FG);
		ax_tick_label(a->xt[i], a->xstep, buf, sizeof buf);
		ax_canvas_text(c, x + 0.5, ty, buf, m.s, C_FG, AX_CENTER, AX_TOP, 0);
	}
	double bottom_text = ty + m.tl;
	if (a->ncat > 0) {
		int every = 1;
		double slot = a->pw / (a->x1 - a->x0);
		while (a->catrot && every * slot < 1.3 * m.tl)
			every++;
		for (int k = 0; k < a->ncat; k += every) {
			double x = floor(ax_axes_xpx(a, k));
			vline(c, x, b + 1, b + 1 + m.tick, C_FG);
			char cut[256];
			const char *lab = a->cats[k];
			if (a->catchars > 0 && strlen(lab) > (size_t)a->catchars) {
				snprintf(cut, sizeof cut, "%.*s..", a->catchars, lab);
				lab = cut;
			}
			ax_canvas_text(c, x + 0.5, ty, lab, m.s, C_FG, AX_CENTER, AX_TOP, a->catrot);
			if (a->catrot)
				bottom_text = fmax(bottom_text, ty + ax_text_width(lab, m.s));
		}
	}
	int yw = widest_label(a->yt, a->nyt, a->ystep, m.s);
	for (int i = 0; i < a->nyt; i++) {
		double y = floor(ax_axes_ypx(a, a->yt[i]));
		hline(c, l - 1 - m.tick, l - 1, y, C_FG);
		ax_tick_label(a->yt[i], a->ystep, buf, sizeof buf);
		ax_canvas_text(c, l - 1 - m.tick - m.cw / 2, y + 0.5, buf, m.s, C_FG, AX_RIGHT,
			       AX_MIDDLE, 0);
	}
	if (a->xlabel)
		ax_canvas_text(c, (l + r) / 2, bottom_text + 0.5 * m.tl, a->xlabel, m.s, C_FG,
			       AX_CENTER, AX_TOP, 0);
	if (a->ylabel)
		ax_canvas_text(c, l - 1 - m.tick - m.cw / 2 - yw - 0.6 * m.tl, (t + b) / 2,
			       a->ylabel, m.s, C_FG, AX_RIGHT, AX_MIDDLE, 1);
	if (a->title)
		ax_canvas_text(c, (l + r) / 2, t - 0.6 * m.tl, a->title, m.s, C_FG, AX_CENTER,
			       AX_BOTTOM, 0);
	if (a->colorbar)
		draw_colorbar(f, a, &m);
	draw_frame(c, a);
}

enum ax_status ax_figure_layout(struct ax_figure *f)
{
	struct ax_canvas *c = &f->canvas;
	struct metrics m = fig_metrics(f);
	int ts = m.s + 1;  /* figure title one step larger */
	double top = f->title ? m.pad + ax_text_height(ts) : 0;
	double cwid = (double)c->w / f->cols, chei = (c->h - top) / f->rows;
	for (int i = 0; i < f->n; i++) {
		if (f->axes[i].blank)
			continue;
		enum ax_status st = layout_axes(f, &f->axes[i], i, (i % f->cols) * cwid,
						top + (i / f->cols) * chei, cwid, chei);
		if (st)
			return st;
	}
	ax_canvas_clip(c, 0, 0, c->w, c->h);
	memset(c->px, 0xFF, (size_t)c->w * c->h * 3);
	if (f->title)
		ax_canvas_text(c, c->w / 2.0, m.pad, f->title, ts, C_FG, AX_CENTER, AX_TOP, 0);
	for (int i = 0; i < f->n; i++) {
		memset(f->axes[i].occ, 0, sizeof f->axes[i].occ);
		if (!f->axes[i].blank)
			draw_axes(f, &f->axes[i]);
	}
	return AX_OK;
}

/* ---- data ---- */

static void clip_to(struct ax_axes *a)
{
	ax_canvas_clip(&a->fig->canvas, (int)a->px, (int)a->py, (int)(a->px + a->pw),
		       (int)(a->py + a->ph));
}

static void unclip(struct ax_axes *a)
{
	struct ax_canvas *c = &a->fig->canvas;
	ax_canvas_clip(c, 0, 0, c->w, c->h);
}

/* Record that data covers pixel (x, y), for legend placement. */
static void occupy(struct ax_axes *a, double x, double y, int weight)
{
	int i = (int)floor((x - a->px) / a->pw * 16), j = (int)floor((y - a->py) / a->ph * 16);
	if (i < 0 || j < 0 || i >= 16 || j >= 16)
		return;
	a->occ[j][i] = (uint16_t)AX_MIN(65535, a->occ[j][i] + weight);
}

static void occupy_segment(struct ax_axes *a, double x0, double y0, double x1, double y1)
{
	double len = hypot(x1 - x0, y1 - y0), cell = fmin(a->pw, a->ph) / 32;
	int n = (int)fmin(1e5, ceil(len / fmax(cell, 1))) + 1;
	for (int k = 0; k <= n; k++)
		occupy(a, x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n, 1);
}

void ax_axes_line(struct ax_axes *a, const double *x, const double *y, size_t n,
		  uint32_t color, double width, const char *label)
{
	double *xy = ax_xmalloc((n ? n : 1) * 2 * sizeof *xy);
	for (size_t i = 0; i < n; i++) {
		xy[2 * i] = ax_axes_xpx(a, x[i]);
		xy[2 * i + 1] = ax_axes_ypx(a, y[i]);
		if (i > 0 && isfinite(xy[2 * i] + xy[2 * i + 1] + xy[2 * i - 2] + xy[2 * i - 1]))
			occupy_segment(a, xy[2 * i - 2], xy[2 * i - 1], xy[2 * i], xy[2 * i + 1]);
	}
	clip_to(a);
	/* polyline takes an int count; long series go in overlapping pieces */
	for (size_t s = 0; s < n; s += 1 << 20) {
		size_t m = AX_MIN(n - s, (size_t)(1 << 20) + 1);
		ax_canvas_polyline(&a->fig->canvas, xy + 2 * s, (int)m, width, color, 1);
	}
	unclip(a);
	free(xy);
	if (label)
		ax_axes_legend_add(a, label, color, AX_LEG_LINE);
}

void ax_axes_scatter(struct ax_axes *a, const double *x, const double *y, size_t n,
		     uint32_t color, double radius, const char *label)
{
	clip_to(a);
	for (size_t i = 0; i < n; i++) {
		double px = ax_axes_xpx(a, x[i]), py = ax_axes_ypx(a, y[i]);
		if (!isfinite(px) || !isfinite(py))
			continue;
		ax_canvas_circle(&a->fig->canvas, px, py, radius, color, 0.8);
		occupy(a, px, py, 1);
	}
	unclip(a);
	if (label)
		ax_axes_legend_add(a, label, color, AX_LEG_MARKER);
}

void ax_axes_band(struct ax_axes *a, const double *x, const double *lo, const double *hi,
		  size_t n, uint32_t color, double alpha)
{
	double *xy = ax_xmalloc((n ? n : 1) * 4 * sizeof *xy);
	clip_to(a);
	size_t i = 0;
	while (i < n) {
		/* one polygon per run of finite points: along hi, back along lo */
		size_t m = 0, s = i;
		for (; i < n; i++) {
			double X = ax_axes_xpx(a, x[i]), L = ax_axes_ypx(a, lo[i]),
			       H = ax_axes_ypx(a, hi[i]);
			if (!isfinite(X) || !isfinite(L) || !isfinite(H))
				break;
			occupy(a, X, L, 1);
			occupy(a, X, H, 1);
			m++;
		}
		for (size_t k = 0; k < m; k++) {
			double X = ax_axes_xpx(a, x[s + k]);
			xy[2 * k] = X;
			xy[2 * k + 1] = ax_axes_ypx(a, hi[s + k]);
			xy[2 * (2 * m - 1 - k)] = X;
			xy[2 * (2 * m - 1 - k) + 1] = ax_axes_ypx(a, lo[s + k]);
		}
		if (m >= 2 && m <= (size_t)1 << 28)
			ax_canvas_polygon(&a->fig->canvas, xy, (int)(2 * m), color, alpha);
		i++;
	}
	unclip(a);
	free(xy);
}

static double xpx_clamped(const struct ax_axes *a, double x)
{
	double p = ax_axes_xpx(a, x);
	return isnan(p) ? a->px - 1 : p;  /* <= 0 on a log axis: the left edge */
}

static double ypx_clamped(const struct ax_axes *a, double y)
{
	double p = ax_axes_ypx(a, y);
	return isnan(p) ? (a->yinvert ? a->py - 1 : a->py + a->ph + 1) : p;
}

void ax_axes_rect(struct ax_axes *a, double x0, double y0, double x1, double y1,
		  uint32_t color, double alpha)
{
	double X0 = xpx_clamped(a, x0), X1 = xpx_clamped(a, x1);
	double Y0 = ypx_clamped(a, y0), Y1 = ypx_clamped(a, y1);
	if (!isfinite(X0 + X1 + Y0 + Y1))
		return;
	clip_to(a);
	ax_canvas_rect(&a->fig->canvas, X0, Y0, X1, Y1, color, alpha);
	unclip(a);
	double cw = a->pw / 16, ch = a->ph / 16;
	for (double y = fmin(Y0, Y1); y <= fmax(Y0, Y1); y += ch / 2)
		for (double x = fmin(X0, X1); x <= fmax(X0, X1); x += cw / 2)
			occupy(a, x, y, 1);
}

static double bins_base(const struct ax_axes *a) { return a->logy ? a->y0 : 0; }

void ax_axes_bins(struct ax_axes *a, const double *lo, const double *hi, const double *y,
		  size_t n, uint32_t color, double alpha)
{
	for (size_t b = 0; b < n; b++)
		if (y[b] > 0)
			ax_axes_rect(a, lo[b], bins_base(a), hi[b], y[b], color, alpha);
}

void ax_axes_bins_outline(struct ax_axes *a, const double *lo, const double *hi,
			  const double *y, size_t n, uint32_t color, double width)
{
	if (!n)
		return;
	double base = bins_base(a);
	size_t m = 0;
	double *sx = ax_xmalloc((n * 2 + 2) * 2 * sizeof *sx), *sy = sx + n * 2 + 2;
	sx[m] = lo[0];
	sy[m++] = base;
	for (size_t b = 0; b < n; b++) {
		double yb = y[b] > 0 || !a->logy ? y[b] : base;
		sx[m] = lo[b];
		sy[m++] = yb;
		sx[m] = hi[b];
		sy[m++] = yb;
	}
	sx[m] = hi[n - 1];
	sy[m++] = base;
	ax_axes_line(a, sx, sy, m, color, width, NULL);
	free(sx);
}

void ax_axes_errbar(struct ax_axes *a, double x, double lo, double hi, double half_w,
		    uint32_t color)
{
	double X = ax_axes_xpx(a, x), L = ypx_clamped(a, lo), H = ypx_clamped(a, hi);
	if (!isfinite(X + L + H))
		return;
	double w = fmax(1, a->fig->lw * 0.75);
	clip_to(a);
	ax_canvas_line(&a->fig->canvas, X, L, X, H, w, color, 1);
	ax_canvas_line(&a->fig->canvas, X - half_w, L, X + half_w, L, w, color, 1);
	ax_canvas_line(&a->fig->canvas, X - half_w, H, X + half_w, H, w, color, 1);
	unclip(a);
	occupy_segment(a, X, L, X, H);
}

void ax_axes_heatmap(struct ax_axes *a, const float *v, int rows, int cols)
{
	struct ax_canvas *c = &a->fig->canvas;
	double span = a->cmax - a->cmin;
	for (int py = (int)a->py; py < (int)(a->py + a->ph); py++) {
		/* pixel centre -> data y -> row */
		double f = (py + 0.5 - a->py) / a->ph;
		double y = a->yinvert ? a->y0 + f * (a->y1 - a->y0) : a->y1 - f * (a->y1 - a->y0);
		double ri = floor(y + 0.5);
		if (ri < 0 || ri >= rows)
			continue;
		for (int px = (int)a->px; px < (int)(a->px + a->pw); px++) {
			double x = a->x0 + (px + 0.5 - a->px) / a->pw * (a->x1 - a->x0);
			double cj = floor(x + 0.5);
			if (cj < 0 || cj >= cols)
				continue;
			double val = v[(size_t)ri * cols + (size_t)cj];
			double t = span > 0 ? (val - a->cmin) / span : 0.5;
			ax_canvas_blend(c, px, py, isfinite(val) ? ax_cmap_color(a->cmap, t) : C_NAN, 1);
		}
	}
}

void ax_axes_legend_add(struct ax_axes *a, const char *label, uint32_t color,
			enum ax_legend_kind kind)
{
	a->leg = ax_xrealloc(a->leg, (size_t)(a->nleg + 1) * sizeof *a->leg);
	a->leg[a->nleg].label = ax_xstrdup(label);
	a->leg[a->nleg].color = color;
	a->leg[a->nleg].kind = kind;
	a->nleg++;
}

/* Data drawn under a box, from the occupancy grid (fractional cell overlap). */
static double box_cost(const struct ax_axes *a, double x, double y, double w, double h)
{
	double cw = a->pw / 16, ch = a->ph / 16, cost = 0;
	for (int j = 0; j < 16; j++)
		for (int i = 0; i < 16; i++) {
			double ox = fmin(x + w, a->px + (i + 1) * cw) - fmax(x, a->px + i * cw);
			double oy = fmin(y + h, a->py + (j + 1) * ch) - fmax(y, a->py + j * ch);
			if (ox > 0 && oy > 0)
				cost += a->occ[j][i] * (ox * oy) / (cw * ch);
		}
	return cost;
}

static void legend_size(const struct ax_axes *a, const struct metrics *m, double *w, double *h)
{
	int lw = 0;
	for (int k = 0; k < a->nleg; k++)
		lw = AX_MAX(lw, ax_text_width(a->leg[k].label, m->s));
	*w = m->pad + 2.5 * m->tl + 0.6 * m->tl + lw + m->pad;
	*h = a->nleg * 1.5 * m->tl + m->pad;
}

static void draw_legend(struct ax_figure *f, struct ax_axes *a)
{
	struct metrics m = fig_metrics(f);
	struct ax_canvas *c = &f->canvas;
	double row = 1.5 * m.tl, sw = 2.5 * m.tl, w, h;
	legend_size(a, &m, &w, &h);
	double inset = 0.6 * m.tl;
	/* Candidate spots in order of preference: the corners (upper right first),
	 * then the middles of the edges; the one over the least data wins. */
	double l = a->px + inset, r = a->px + a->pw - inset - w, cxm = a->px + (a->pw - w) / 2;
	double t = a->py + inset, b = a->py + a->ph - inset - h, cym = a->py + (a->ph - h) / 2;
	double cand[8][2] = {{r, t}, {l, t}, {r, b}, {l, b}, {cxm, t}, {cxm, b}, {r, cym}, {l, cym}};
	int best = 0;
	double bestc = INFINITY;
	for (int k = 0; k < 8; k++) {
		double cost = box_cost(a, cand[k][0], cand[k][1], w, h);
		if (cost < bestc - 1e-9) {
			bestc = cost;
			best = k;
		}
	}
	a->legcost = bestc;
	if (a->legout) {
		cand[best][0] = a->px + a->pw + m.tl;
		cand[best][1] = a->py;
		a->legcost = 0;
	}
	double x = floor(cand[best][0]), y = floor(cand[best][1]);
	a->legx = x; a->legy = y; a->legw = w; a->legh = h;
	ax_canvas_rect(c, x, y, x + w, y + h, C_BG, 0.85);
	hline(c, x, x + w, y, 0xBBBBBB);
	hline(c, x, x + w, y + h - 1, 0xBBBBBB);
	vline(c, x, y, y + h, 0xBBBBBB);
	vline(c, x + w - 1, y, y + h, 0xBBBBBB);
	for (int k = 0; k < a->nleg; k++) {
		double cy = y + m.pad / 2 + (k + 0.5) * row, sx = x + m.pad;
		const struct ax_legend_entry *e = &a->leg[k];
		switch (e->kind) {
		case AX_LEG_LINE:
			ax_canvas_line(c, sx, cy, sx + sw, cy, f->lw * 1.25, e->color, 1);
			break;
		case AX_LEG_MARKER:
			ax_canvas_circle(c, sx + sw / 2, cy, 0.35 * m.tl, e->color, 0.9);
			break;
		case AX_LEG_BOX:
			ax_canvas_rect(c, sx, cy - 0.4 * m.tl, sx + sw, cy + 0.4 * m.tl, e->color, 0.75);
			break;
		}
		ax_canvas_text(c, sx + sw + 0.6 * m.tl, cy, e->label, m.s, C_FG, AX_LEFT,
			       AX_MIDDLE, 0);
	}
}

void ax_figure_finish(struct ax_figure *f)
{
	for (int i = 0; i < f->n; i++) {
		struct ax_axes *a = &f->axes[i];
		if (a->blank)
			continue;
		draw_frame(&f->canvas, a);
		if (a->nleg > 0)
			draw_legend(f, a);
	}
}
