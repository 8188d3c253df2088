/* plot.c — raster canvas primitives (anti-aliased by coverage), palettes,
 * colour maps, nice ticks, histogram helpers. */
#include "ax_plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum ax_status ax_canvas_init(struct ax_canvas *c, int w, int h, uint32_t bg)
{
	memset(c, 0, sizeof *c);
	size_t n;
	if (w <= 0 || h <= 0 || ax_mul_size((size_t)w, (size_t)h, &n) || ax_mul_size(n, 3, &n))
		return ax_error_set(AX_ERR_ARG, "canvas size %dx%d is not valid", w, h);
	c->px = malloc(n);
	if (!c->px)
		return ax_error_set(AX_ERR_NOMEM, "canvas %dx%d: out of memory", w, h);
	c->w = w;
	c->h = h;
	for (size_t i = 0; i < n; i += 3) {
		c->px[i] = bg >> 16 & 255;
		c->px[i + 1] = bg >> 8 & 255;
		c->px[i + 2] = bg & 255;
	}
	ax_canvas_clip(c, 0, 0, w, h);
	return AX_OK;
}

void ax_canvas_free(struct ax_canvas *c)
{
	free(c->px);
	memset(c, 0, sizeof *c);
}

uint32_t ax_canvas_get(const struct ax_canvas *c, int x, int y)
{
	AX_ASSERT(x >= 0 && y >= 0 && x < c->w && y < c->h && "pixel outside the canvas");
	const uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

void ax_canvas_clip(struct ax_canvas *c, int x0, int y0, int x1, int y1)
{
	c->cx0 = AX_MAX(0, x0);
	c->cy0 = AX_MAX(0, y0);
	c->cx1 = AX_MIN(c->w, x1);
	c->cy1 = AX_MIN(c->h, y1);
}

void ax_canvas_blend(struct ax_canvas *c, int x, int y, uint32_t color, double alpha)
{
	if (x < c->cx0 || y < c->cy0 || x >= c->cx1 || y >= c->cy1 || !(alpha > 0))
		return;
	if (alpha > 1)
		alpha = 1;
	uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
	for (int k = 0; k < 3; k++) {
		double src = color >> (16 - 8 * k) & 255;
		p[k] = (uint8_t)lround(p[k] + (src - p[k]) * alpha);
	}
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void ax_canvas_rect(struct ax_canvas *c, double x0, double y0, double x1, double y1,
		    uint32_t color, double alpha)
{
	if (x0 > x1) { double t = x0; x0 = x1; x1 = t; }
	if (y0 > y1) { double t = y0; y0 = y1; y1 = t; }
	if (!(x1 > x0) || !(y1 > y0))
		return;
	int i0 = (int)fmax(floor(x0), c->cx0), i1 = (int)fmin(ceil(x1), c->cx1);
	int j0 = (int)fmax(floor(y0), c->cy0), j1 = (int)fmin(ceil(y1), c->cy1);
	for (int j = j0; j < j1; j++) {
		double cy = fmin(y1, j + 1) - fmax(y0, j);
		for (int i = i0; i < i1; i++) {
			double cx = fmin(x1, i + 1) - fmax(x0, i);
			ax_canvas_blend(c, i, j, color, alpha * cx * cy);
		}
	}
}

/* A coverage mask over a pixel box, so overlapping pieces of one shape
 * (polyline joints, polygon sub-scanlines) are blended into the canvas once. */
struct mask {
	int x0, y0, w, h;
	float *m;  /* (h, w) coverage in [0, 1] */
};

static int mask_init(struct mask *k, const struct ax_canvas *c, double x0, double y0,
		     double x1, double y1)
{
	int i0 = (int)fmax(floor(x0), c->cx0), i1 = (int)fmin(ceil(x1), c->cx1);
	int j0 = (int)fmax(floor(y0), c->cy0), j1 = (int)fmin(ceil(y1), c->cy1);
	k->m = NULL;
	if (i1 <= i0 || j1 <= j0)
		return 0;
	k->x0 = i0;
	k->y0 = j0;
	k->w = i1 - i0;
	k->h = j1 - j0;
	k->m = ax_xcalloc((size_t)k->w * k->h, sizeof *k->m);
	return 1;
}

static void mask_apply(struct ax_canvas *c, struct mask *k, uint32_t color, double alpha)
{
	for (int j = 0; j < k->h; j++)
		for (int i = 0; i < k->w; i++) {
			float v = k->m[(size_t)j * k->w + i];
			if (v > 0)
				ax_canvas_blend(c, k->x0 + i, k->y0 + j, color, alpha * fmin(v, 1));
		}
	free(k->m);
	k->m = NULL;
}

/* Coverage of a width-w segment: 1 within w/2 of it, falling linearly to 0
 * over one pixel, which is the usual box-filter approximation. */
static void mask_segment(struct mask *k, double x0, double y0, double x1, double y1, double w)
{
	double r = w / 2 + 0.5;
	int i0 = (int)floor(fmin(x0, x1) - r), i1 = (int)ceil(fmax(x0, x1) + r);
	int j0 = (int)floor(fmin(y0, y1) - r), j1 = (int)ceil(fmax(y0, y1) + r);
	i0 = AX_MAX(i0, k->x0);
	j0 = AX_MAX(j0, k->y0);
	i1 = AX_MIN(i1, k->x0 + k->w);
	j1 = AX_MIN(j1, k->y0 + k->h);
	double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
	for (int j = j0; j < j1; j++)
		for (int i = i0; i < i1; i++) {
			double px = i + 0.5 - x0, py = j + 0.5 - y0;
			double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
			t = clamp01(t);
			double ex = px - t * dx, ey = py - t * dy;
			double cov = clamp01(r - sqrt(ex * ex + ey * ey));
			float *m = &k->m[(size_t)(j - k->y0) * k->w + (i - k->x0)];
			if (cov > *m)
				*m = (float)cov;
		}
}

void ax_canvas_line(struct ax_canvas *c, double x0, double y0, double x1, double y1,
		    double w, uint32_t color, double alpha)
{
	double xy[4] = {x0, y0, x1, y1};
	ax_canvas_polyline(c, xy, 2, w, color, alpha);
}

void ax_canvas_polyline(struct ax_canvas *c, const double *xy, int n, double w,
			uint32_t color, double alpha)
{
	double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
	for (int i = 0; i < n; i++) {
		double x = xy[2 * i], y = xy[2 * i + 1];
		if (!isfinite(x) || !isfinite(y))
			continue;
		bx0 = fmin(bx0, x); bx1 = fmax(bx1, x);
		by0 = fmin(by0, y); by1 = fmax(by1, y);
	}
	if (!(bx1 >= bx0))
		return;
	double r = w / 2 + 1;
	struct mask k;
	if (!mask_init(&k, c, bx0 - r, by0 - r, bx1 + r, by1 + r))
		return;
	int have = 0;
	for (int i = 0; i < n; i++) {
		double x = xy[2 * i], y = xy[2 * i + 1];
		if (!isfinite(x) || !isfinite(y)) {
			have = 0;
			continue;
		}
		if (have)
			mask_segment(&k, xy[2 * i - 2], xy[2 * i - 1], x, y, w);
		else if (i + 1 >= n || !isfinite(xy[2 * i + 2]) || !isfinite(xy[2 * i + 3]))
			mask_segment(&k, x, y, x, y, w); /* isolated point: a dot */
		have = 1;
	}
	mask_apply(c, &k, color, alpha);
}

void ax_canvas_polygon(struct ax_canvas *c, const double *xy, int n, uint32_t color,
		       double alpha)
{
	enum { SUB = 5 };  /* sub-scanlines per pixel row; x coverage is exact */
	double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
	for (int i = 0; i < n; i++) {
		if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
			return;
		bx0 = fmin(bx0, xy[2 * i]); bx1 = fmax(bx1, xy[2 * i]);
		by0 = fmin(by0, xy[2 * i + 1]); by1 = fmax(by1, xy[2 * i + 1]);
	}
	struct mask k;
	if (n < 3 || !mask_init(&k, c, bx0, by0, bx1, by1))
		return;
	double *xs = ax_xmalloc((size_t)n * sizeof *xs);
	for (int j = k.y0; j < k.y0 + k.h; j++)
		for (int s = 0; s < SUB; s++) {
			double y = j + (s + 0.5) / SUB;
			int m = 0;
			for (int e = 0; e < n; e++) {
				double ax = xy[2 * e], ay = xy[2 * e + 1];
				double bx = xy[2 * ((e + 1) % n)], by = xy[2 * ((e + 1) % n) + 1];
				if ((ay <= y) == (by <= y))
					continue;
				xs[m++] = ax + (y - ay) * (bx - ax) / (by - ay);
			}
			/* insertion sort: m is small */
			for (int a = 1; a < m; a++)
				for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
					double t = xs[b]; xs[b] = xs[b - 1]; xs[b - 1] = t;
				}
			for (int a = 0; a + 1 < m; a += 2) {
				double xa = fmax(xs[a], k.x0), xb = fmin(xs[a + 1], k.x0 + k.w);
				for (int i = (int)floor(xa); i < xb; i++) {
					double cov = fmin(xb, i + 1) - fmax(xa, i);
					if (cov > 0)
						k.m[(size_t)(j - k.y0) * k.w + (i - k.x0)] +=
							(float)(cov / SUB);
				}
			}
		}
	free(xs);
	mask_apply(c, &k, color, alpha);
}

void ax_canvas_circle(struct ax_canvas *c, double cx, double cy, double r, uint32_t color,
		      double alpha)
{
	int i0 = (int)floor(cx - r - 1), i1 = (int)ceil(cx + r + 1);
	int j0 = (int)floor(cy - r - 1), j1 = (int)ceil(cy + r + 1);
	for (int j = j0; j < j1; j++)
		for (int i = i0; i < i1; i++) {
			double d = hypot(i + 0.5 - cx, j + 0.5 - cy);
			ax_canvas_blend(c, i, j, color, alpha * clamp01(r + 0.5 - d));
		}
}

/* ---- colours ---- */

uint32_t ax_plot_color(int i)
{
	/* Okabe & Ito (2008), ordered so the first few contrast most on white;
	 * yellow (0xF0E442) is left out: it is unreadable as a thin line. */
	static const uint32_t pal[] = {0x0072B2, 0xD55E00, 0x009E73, 0xE69F00,
				       0x56B4E9, 0xCC79A7, 0x000000};
	if (i < 0)
		i = -i;
	return pal[i % (int)AX_COUNTOF(pal)];
}

static uint32_t lerp_table(const uint32_t *tab, int n, double t)
{
	double f = clamp01(t) * (n - 1);
	int i = (int)f;
	if (i >= n - 1)
		return tab[n - 1];
	f -= i;
	uint32_t out = 0;
	for (int k = 16; k >= 0; k -= 8) {
		double a = tab[i] >> k & 255, b = tab[i + 1] >> k & 255;
		out |= (uint32_t)lround(a + (b - a) * f) << k;
	}
	return out;
}

uint32_t ax_cmap_color(enum ax_cmap m, double t)
{
	/* viridis sampled at 0, 0.1, ..., 1 (perceptually uniform, colour-blind safe) */
	static const uint32_t viridis[] = {0x440154, 0x482475, 0x414487, 0x355F8D,
					   0x2A788E, 0x21918C, 0x22A884, 0x44BF70,
					   0x7AD151, 0xBDDF26, 0xFDE725};
	/* Paul Tol's BuRd diverging scheme */
	static const uint32_t burd[] = {0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
					0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B};
	static const uint32_t gray[] = {0x000000, 0xFFFFFF};
	if (isnan(t))
		return 0xD0D0D0;
	switch (m) {
	case AX_CMAP_GRAY: return lerp_table(gray, 2, t);
	case AX_CMAP_DIVERGING: return lerp_table(burd, AX_COUNTOF(burd), t);
	case AX_CMAP_VIRIDIS: break;
	}
	return lerp_table(viridis, AX_COUNTOF(viridis), t);
}

/* ---- ticks ---- */

static double nice_step(double raw)
{
	double mag = pow(10, floor(log10(raw))), norm = raw / mag;
	return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

int ax_nice_ticks(double lo, double hi, int target, double *ticks, int max, double *step)
{
	if (target < 1)
		target = 1;
	if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
		*step = 0;
		if (max > 0 && isfinite(lo)) {
			ticks[0] = lo;
			return 1;
		}
		return 0;
	}
	double st = nice_step((hi - lo) / target);
	*step = st;
	int n = 0;
	double eps = st * 1e-9;
	for (double k = ceil((lo - eps) / st); n < max; k++) {
		double v = k * st;
		if (v > hi + eps)
			break;
		ticks[n++] = fabs(v) < eps ? 0 : v;
	}
	return n;
}

int ax_log_ticks(double lo, double hi, int target, double *ticks, int max, double *step)
{
	AX_ASSERT(lo > 0 && "log ticks need a positive range");
	double l0 = log10(lo), l1 = log10(hi);
	double eps = 1e-9;
	int d0 = (int)ceil(l0 - eps), d1 = (int)floor(l1 + eps);
	int ndec = d1 - d0 + 1;
	*step = 0;
	if (ndec >= 2) {
		int every = 1;
		while ((ndec - 1) / every > AX_MAX(target, 1))  /* intervals, not ticks */
			every++;
		int n = 0;
		for (int d = d0; d <= d1 && n < max; d++)
			if ((d - d0) % every == 0)
				ticks[n++] = pow(10, d);
		if (n >= 3 || every > 1)
			return n;
	}
	/* few decades: 1, 2, 5 in each */
	int n = 0;
	static const double mult[] = {1, 2, 5};
	for (int d = (int)floor(l0) ; d <= (int)ceil(l1) && n < max; d++)
		for (int k = 0; k < 3 && n < max; k++) {
			double v = mult[k] * pow(10, d);
			if (v >= lo * (1 - eps) && v <= hi * (1 + eps))
				ticks[n++] = v;
		}
	if (n >= 3)
		return n;
	return ax_nice_ticks(lo, hi, target, ticks, max, step);  /* under a decade */
}

/* "1e-05" -> "1e-5", "1e+06" -> "1e6" */
static void tidy_exponent(char *s)
{
	char *e = strchr(s, 'e');
	if (!e)
		return;
	char *p = e + 1, *w = e + 1;
	if (*p == '+')
		p++;
	else if (*p == '-')
		*w++ = *p++;
	while (*p == '0' && p[1])
		p++;
	memmove(w, p, strlen(p) + 1);
}

void ax_tick_label(double v, double step, char *buf, size_t n)
{
	if (step > 0 && fabs(v) < step * 1e-6)
		v = 0;
	double a = fabs(v);
	if (step <= 0) {
		snprintf(buf, n, "%.6g", v);
	} else if (a != 0 && (a >= 1e6 || a < 1e-4 || step < 1e-4)) {
		/* scientific: enough mantissa digits to tell ticks apart */
		int ex = (int)floor(log10(a));
		int dec = AX_MAX(0, (int)ceil(ex - log10(step) - 1e-9));
		snprintf(buf, n, "%.*e", AX_MIN(dec, 6), v);
		/* drop a trailing ".0..." in the mantissa */
		char *dot = strchr(buf, '.'), *e = strchr(buf, 'e');
		if (dot && e) {
			char *z = e;
			while (z > dot + 1 && z[-1] == '0')
				z--;
			if (z == dot + 1)
				z = dot;
			memmove(z, e, strlen(e) + 1);
		}
	} else {
		int dec = AX_MAX(0, (int)ceil(-log10(step) - 1e-9));
		snprintf(buf, n, "%.*f", AX_MIN(dec, 10), v);
	}
	tidy_exponent(buf);
}

/* ---- histograms ---- */

void ax_hist_edges(double lo, double hi, int nbins, int logscale, double *edges)
{
	AX_ASSERT(nbins > 0 && "need at least one bin");
	AX_ASSERT((!logscale || lo > 0) && "log bins need lo > 0");
	for (int i = 0; i <= nbins; i++) {
		double f = (double)i / nbins;
		edges[i] = logscale ? pow(10, log10(lo) + f * (log10(hi) - log10(lo)))
				    : lo + f * (hi - lo);
	}
	edges[0] = lo;       /* exact ends despite rounding */
	edges[nbins] = hi;
}

size_t ax_histogram(const double *v, size_t n, const double *edges, int nbins, double *counts)
{
	size_t outside = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (!isfinite(x))
			continue;
		if (x < edges[0] || x > edges[nbins]) {
			outside++;
			continue;
		}
		/* binary search: last edge <= x */
		int a = 0, b = nbins;
		while (b - a > 1) {
			int m = (a + b) / 2;
			if (edges[m] <= x)
				a = m;
			else
				b = m;
		}
		counts[a] += 1;
	}
	return outside;
}
