/* test-plot.c — canvas primitives, font, ticks, histograms, figure layout,
 * and rendered figures read back from PNG with libpng. */
#include "testutil.h"
#include "ax_plot.h"

#include <math.h>
#include <png.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHITE 0xFFFFFFu

/* A PNG read back as RGB8 (h, w, 3). */
struct img {
	int w, h;
	uint8_t *px;
};

static struct img read_png(const char *path)
{
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&im, path));
	im.format = PNG_FORMAT_RGB;
	struct img out = {(int)im.width, (int)im.height, malloc(PNG_IMAGE_SIZE(im))};
	assert_non_null(out.px);
	assert_true(png_image_finish_read(&im, NULL, out.px, 0, NULL));
	return out;
}

/* AXON_PLOT_KEEP=DIR keeps a copy of each rendered PNG for looking at. */
static void keep(const char *path, const char *name)
{
	const char *dir = getenv("AXON_PLOT_KEEP");
	if (!dir)
		return;
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s/%s'", path, dir, name);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not keep %s\n", path);
}

/* Save a finished figure as name under the scratch folder and read it back. */
static struct img save_and_read(const struct ax_figure *f, const char *name)
{
	const char *p = tu_path(name);
	assert_int_equal(ax_figure_save_png(f, p), AX_OK);
	keep(p, name);
	return read_png(p);
}

static uint32_t img_get(const struct img *m, int x, int y)
{
	assert_true(x >= 0 && y >= 0 && x < m->w && y < m->h);
	const uint8_t *p = m->px + ((size_t)y * m->w + x) * 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Pixels in [x0, x1) x [y0, y1) that are not white / that are dark text. */
static int count_non_bg(const struct img *m, double x0, double y0, double x1, double y1)
{
	int n = 0;
	for (int y = (int)AX_MAX(0, y0); y < (int)AX_MIN(m->h, y1); y++)
		for (int x = (int)AX_MAX(0, x0); x < (int)AX_MIN(m->w, x1); x++)
			n += img_get(m, x, y) != WHITE;
	return n;
}

static int count_dark(const struct img *m, double x0, double y0, double x1, double y1)
{
	int n = 0;
	for (int y = (int)AX_MAX(0, y0); y < (int)AX_MIN(m->h, y1); y++)
		for (int x = (int)AX_MAX(0, x0); x < (int)AX_MIN(m->w, x1); x++)
			n += (img_get(m, x, y) & 0xFF) < 0x60 && (img_get(m, x, y) >> 16) < 0x60;
	return n;
}

/* Is some pixel within r of (x, y) exactly colour c? */
static int has_color_near(const struct img *m, double x, double y, int r, uint32_t c)
{
	for (int dy = -r; dy <= r; dy++)
		for (int dx = -r; dx <= r; dx++) {
			int X = (int)floor(x) + dx, Y = (int)floor(y) + dy;
			if (X >= 0 && Y >= 0 && X < m->w && Y < m->h && img_get(m, X, Y) == c)
				return 1;
		}
	return 0;
}

/* ---- font ---- */

static void test_font_glyphs(void **state)
{
	(void)state;
	for (int ch = 33; ch < 127; ch++) {
		const uint8_t *g = ax_font_glyph(ch);
		int bits = 0;
		for (int r = 0; r < 9; r++) {
			assert_true(g[r] < 32);
			bits += __builtin_popcount(g[r]);
		}
		assert_true(bits > 0);
	}
	for (int r = 0; r < 9; r++)
		assert_int_equal(ax_font_glyph(' ')[r], 0);
	/* glyphs that look alike must still differ */
	const char *pairs[] = {"0O", "1l", "1I", "5S", "8B", "-_", ".,", "e^"};
	for (size_t k = 0; k < AX_COUNTOF(pairs); k++)
		assert_memory_not_equal(ax_font_glyph(pairs[k][0]), ax_font_glyph(pairs[k][1]), 9);
	/* descenders only on letters that have them */
	assert_true(ax_font_glyph('g')[7] && ax_font_glyph('y')[8] && ax_font_glyph('p')[7]);
	assert_int_equal(ax_font_glyph('a')[7] | ax_font_glyph('A')[8], 0);
	assert_ptr_equal(ax_font_glyph(200), ax_font_glyph('?'));
	assert_int_equal(ax_text_width("", 2), 0);
	assert_int_equal(ax_text_width("ab", 1), 11);
	assert_int_equal(ax_text_width("ab", 3), 33);
	assert_int_equal(ax_text_height(2), 18);
}

static void test_text_draws(void **state)
{
	(void)state;
	struct ax_canvas c;
	assert_int_equal(ax_canvas_init(&c, 60, 60, WHITE), AX_OK);
	ax_canvas_text(&c, 10, 10, "I", 2, 0x000000, AX_LEFT, AX_TOP, 0);
	/* 'I' top bar: glyph row 0 is .###. -> columns 1..3 at scale 2 -> x 12..17 */
	assert_int_equal(ax_canvas_get(&c, 12, 10), 0x000000);
	assert_int_equal(ax_canvas_get(&c, 17, 11), 0x000000);
	assert_int_equal(ax_canvas_get(&c, 10, 10), WHITE);
	assert_int_equal(ax_canvas_get(&c, 18, 10), WHITE);
	/* rotated: the string reads upwards; its box is 18 wide, 10 tall here */
	ax_canvas_text(&c, 40, 50, "-", 2, 0x000000, AX_LEFT, AX_BOTTOM, 1);
	/* '-' is row 3, columns 0..4 -> a vertical bar at x 40+6..40+7, y 41..50 */
	assert_int_equal(ax_canvas_get(&c, 46, 45), 0x000000);
	assert_int_equal(ax_canvas_get(&c, 47, 41), 0x000000);
	assert_int_equal(ax_canvas_get(&c, 44, 45), WHITE);
	ax_canvas_free(&c);
}

/* ---- canvas ---- */

static void test_canvas_primitives(void **state)
{
	(void)state;
	struct ax_canvas c;
	assert_int_equal(ax_canvas_init(&c, 100, 80, WHITE), AX_OK);
	assert_int_not_equal(ax_canvas_init(&(struct ax_canvas){0}, 0, 5, WHITE), AX_OK);
	/* horizontal width-2 line centred on y = 20: rows 19 and 20 fully covered */
	ax_canvas_line(&c, 10, 20, 60, 20, 2, 0x0000FF, 1);
	assert_int_equal(ax_canvas_get(&c, 30, 19), 0x0000FF);
	assert_int_equal(ax_canvas_get(&c, 30, 20), 0x0000FF);
	assert_int_equal(ax_canvas_get(&c, 30, 22), WHITE);
	assert_int_equal(ax_canvas_get(&c, 70, 20), WHITE);
	/* diagonal: anti-aliased, so some partial pixels next to it */
	ax_canvas_line(&c, 10, 40, 60, 70, 1.5, 0x000000, 1);
	int partial = 0;
	for (int x = 10; x < 60; x++)
		for (int y = 38; y < 75; y++) {
			uint32_t v = ax_canvas_get(&c, x, y);
			partial += v != WHITE && v != 0;
		}
	assert_true(partial > 20);
	/* rect with half-covered edge pixels */
	ax_canvas_rect(&c, 70.5, 5, 80, 10, 0x000000, 1);
	assert_int_equal(ax_canvas_get(&c, 75, 7), 0);
	uint32_t half = ax_canvas_get(&c, 70, 7);
	assert_true((half & 0xFF) > 0x70 && (half & 0xFF) < 0x90);
	/* polygon: a triangle, interior full, outside untouched */
	double tri[] = {70, 30, 95, 30, 70, 55};
	ax_canvas_polygon(&c, tri, 3, 0x00FF00, 1);
	assert_int_equal(ax_canvas_get(&c, 73, 33), 0x00FF00);
	assert_int_equal(ax_canvas_get(&c, 92, 52), WHITE);
	/* alpha blends with what is below */
	ax_canvas_rect(&c, 0, 70, 10, 80, 0x000000, 0.5);
	uint32_t g = ax_canvas_get(&c, 5, 75);
	assert_true((g & 0xFF) >= 0x7F && (g & 0xFF) <= 0x80);
	/* clipping */
	ax_canvas_clip(&c, 0, 0, 50, 80);
	ax_canvas_circle(&c, 55, 60, 8, 0xFF0000, 1);
	assert_int_equal(ax_canvas_get(&c, 55, 60), WHITE);
	assert_int_equal(ax_canvas_get(&c, 49, 60), 0xFF0000);
	ax_canvas_free(&c);
}

/* ---- ticks ---- */

static void test_nice_ticks(void **state)
{
	(void)state;
	double t[64], step;
	int n = ax_nice_ticks(0, 1, 5, t, 64, &step);
	assert_int_equal(n, 6);
	assert_true(fabs(step - 0.2) < 1e-12);
	assert_true(t[0] == 0 && fabs(t[5] - 1) < 1e-12);
	n = ax_nice_ticks(0, 97, 5, t, 64, &step);
	assert_true(step == 20 && n == 5 && t[4] == 80);
	n = ax_nice_ticks(-3.3, 7.1, 5, t, 64, &step);
	assert_true(step == 2 && t[0] == -2 && t[n - 1] == 6);
	n = ax_nice_ticks(1e-6, 5e-6, 4, t, 64, &step);
	assert_true(fabs(step - 1e-6) < 1e-18 && n == 5);
	/* every tick lies inside the range and on a 1-2-5 step */
	for (double hi = 0.013; hi < 1e7; hi *= 3.7) {
		n = ax_nice_ticks(-hi / 3, hi, 6, t, 64, &step);
		assert_true(n >= 2 && n <= 13);
		double m = step / pow(10, floor(log10(step) + 1e-9));
		assert_true(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9);
		for (int i = 0; i < n; i++)
			assert_true(t[i] >= -hi / 3 - 1e-9 * hi && t[i] <= hi * (1 + 1e-9));
	}
	n = ax_log_ticks(1, 1e4, 6, t, 64, &step);
	assert_int_equal(n, 5);
	assert_true(step == 0 && t[0] == 1 && fabs(t[4] - 1e4) < 1e-8);
	n = ax_log_ticks(1e-3, 1e9, 5, t, 64, &step);
	assert_true(n <= 7 && n >= 3);
	n = ax_log_ticks(100, 2e4, 1, t, 64, &step);  /* every other decade */
	assert_int_equal(n, 2);
	assert_true(t[0] == 100 && fabs(t[1] - 1e4) < 1e-8);
	n = ax_log_ticks(2, 30, 6, t, 64, &step);  /* 2 5 10 20 */
	assert_int_equal(n, 4);
	assert_true(t[0] == 2 && t[1] == 5 && t[2] == 10 && t[3] == 20);
}

static void test_tick_labels(void **state)
{
	(void)state;
	char b[64];
	ax_tick_label(0.2, 0.2, b, sizeof b);
	assert_string_equal(b, "0.2");
	ax_tick_label(40, 20, b, sizeof b);
	assert_string_equal(b, "40");
	ax_tick_label(-1e-17, 0.5, b, sizeof b);
	assert_string_equal(b, "0.0");
	ax_tick_label(0.25, 0.05, b, sizeof b);
	assert_string_equal(b, "0.25");
	ax_tick_label(3e-5, 1e-5, b, sizeof b);
	assert_string_equal(b, "3e-5");
	ax_tick_label(2.5e6, 5e5, b, sizeof b);
	assert_string_equal(b, "2.5e6");
	ax_tick_label(1e-3, 0, b, sizeof b);
	assert_string_equal(b, "0.001");
	ax_tick_label(1e7, 0, b, sizeof b);
	assert_string_equal(b, "1e7");
}

/* ---- histograms ---- */

static void test_histogram(void **state)
{
	(void)state;
	double e[5];
	ax_hist_edges(0, 4, 4, 0, e);
	assert_true(e[0] == 0 && e[1] == 1 && e[4] == 4);
	double v[] = {0, 0.5, 1, 1.5, 2.9, 3.999, 4, -1, 5, NAN, INFINITY};
	double cnt[4] = {0};
	size_t out = ax_histogram(v, AX_COUNTOF(v), e, 4, cnt);
	assert_int_equal(out, 2);
	assert_true(cnt[0] == 2 && cnt[1] == 2 && cnt[2] == 1 && cnt[3] == 2);
	ax_hist_edges(1, 1000, 3, 1, e);
	assert_true(fabs(e[1] - 10) < 1e-9 && fabs(e[2] - 100) < 1e-9 && e[3] == 1000);
	double w[] = {1, 5, 10, 99, 100, 1000, 0.5};
	double c2[3] = {0};
	assert_int_equal(ax_histogram(w, AX_COUNTOF(w), e, 3, c2), 1);
	assert_true(c2[0] == 2 && c2[1] == 2 && c2[2] == 2);
}

/* ---- figures ---- */

static void test_figure_line_png(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 480, 360, 100, 1, 1), AX_OK);
	ax_figure_set_title(&f, "Loss");
	struct ax_axes *a = ax_figure_axes(&f, 0);
	ax_axes_set_labels(a, NULL, "step", "loss");
	double x[11], y[11], y2[11];
	for (int i = 0; i <= 10; i++) {
		x[i] = i * 10;
		y[i] = 100 * exp(-i / 2.0);   /* a loss curve: falls fast, then flat */
		y2[i] = 20;
	}
	ax_axes_include(a, x, y, 11);
	ax_axes_include(a, x, y2, 11);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	/* the plot area sits inside the image with room for labels */
	assert_true(a->px > 30 && a->py > 20 && a->px + a->pw < 480 && a->py + a->ph < 330);
	assert_true(a->x0 < 0 && a->x1 > 100 && a->y0 < 0 && a->y1 > 100);
	assert_true(a->nxt >= 3 && a->nyt >= 3);
	uint32_t c0 = ax_plot_color(0), c1 = ax_plot_color(1);
	ax_axes_line(a, x, y, 11, c0, f.lw, "model");
	ax_axes_line(a, x, y2, 11, c1, f.lw, "baseline");
	ax_figure_finish(&f);
	struct img m = save_and_read(&f, "line.png");
	assert_int_equal(m.w, 480);
	assert_int_equal(m.h, 360);
	/* known points of both series land on their pixels */
	for (int i = 1; i < 10; i++) {
		assert_true(has_color_near(&m, ax_axes_xpx(a, x[i]), ax_axes_ypx(a, y[i]), 1, c0));
		assert_true(has_color_near(&m, ax_axes_xpx(a, x[i]), ax_axes_ypx(a, 20), 1, c1));
	}
	/* a mid-point of a segment too (the line is continuous) */
	assert_true(has_color_near(&m, ax_axes_xpx(a, 55), ax_axes_ypx(a, (y[5] + y[6]) / 2), 2, c0));
	/* nothing of series 0 far from it: y = 60 at x = 60 is empty */
	assert_false(has_color_near(&m, ax_axes_xpx(a, 60), ax_axes_ypx(a, 60), 3, c0));
	/* the legend is drawn, inside the plot area, clear of the curves' pixels */
	assert_true(a->legw > 0);
	assert_true(a->legx >= a->px && a->legx + a->legw <= a->px + a->pw);
	assert_true(count_dark(&m, a->legx, a->legy, a->legx + a->legw, a->legy + a->legh) > 40);
	assert_true(count_non_bg(&m, a->legx, a->legy, a->legx + a->legw, a->legy + a->legh) > 100);
	/* the falling curve fills the upper left, so the legend goes upper right */
	assert_true(a->legx + a->legw > a->px + 0.9 * a->pw && a->legy < a->py + a->ph / 2);
	/* labels: x label below the tick labels, y label left of them, title on top */
	assert_true(count_dark(&m, a->px, a->py + a->ph + 20, a->px + a->pw, 360) > 20);
	assert_true(count_dark(&m, 0, a->py, 20, a->py + a->ph) > 20);
	assert_true(count_dark(&m, 0, 0, 480, a->py - 2) > 30);
	/* tick labels: dark pixels left of every y tick */
	for (int i = 0; i < a->nyt; i++) {
		double ty = ax_axes_ypx(a, a->yt[i]);
		assert_true(count_dark(&m, a->px - 60, ty - 6, a->px - 4, ty + 6) > 5);
	}
	/* the corners of the image stay background: margins exist */
	assert_int_equal(img_get(&m, 1, 1), WHITE);
	assert_int_equal(img_get(&m, 478, 358), WHITE);
	free(m.px);
	ax_figure_free(&f);
}

static void test_log_axes_and_panels(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 800, 400, 100, 1, 2), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0), *b = ax_figure_axes(&f, 1);
	ax_axes_set_log(a, 1, 1);
	double x[] = {1, 10, 100, 1000, -5, 0}, y[] = {1e-3, 1e-2, 1e-1, 1, 3, 4};
	ax_axes_include(a, x, y, 6);   /* -5 and 0 ignored on the log x axis */
	assert_true(a->dxmin == 1 && a->dxmax == 1000);
	ax_axes_include(b, x, y, 4);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	/* panels side by side without overlap */
	assert_true(a->px + a->pw < b->px);
	/* log mapping: 10 halfway between 1 and 100 */
	double mid = (ax_axes_xpx(a, 1) + ax_axes_xpx(a, 100)) / 2;
	assert_true(fabs(ax_axes_xpx(a, 10) - mid) < 1e-6);
	assert_true(isnan(ax_axes_xpx(a, 0)));
	/* decade ticks */
	assert_true(a->xstep == 0);
	assert_int_equal(a->nxt, 4);
	assert_true(a->xt[0] == 1 && a->xt[3] == 1000);
	ax_figure_free(&f);

	/* a narrow log axis over three decades labels every other one rather
	 * than letting "1000" and "10000" run together */
	assert_int_equal(ax_figure_init(&f, 220, 300, 100, 1, 1), AX_OK);
	a = ax_figure_axes(&f, 0);
	ax_axes_set_log(a, 1, 0);
	double xd[] = {100, 20000}, yd[] = {0, 1};
	ax_axes_include(a, xd, yd, 2);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	assert_int_equal(a->nxt, 2);
	assert_true(a->xt[0] == 100 && fabs(a->xt[1] - 1e4) < 1e-8);
	assert_true(ax_axes_xpx(a, a->xt[1]) - ax_axes_xpx(a, a->xt[0]) > ax_text_width("10000", f.scale));
	ax_figure_free(&f);
}

static void test_heatmap_png(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0);
	float v[6] = {0, 1, 2, 3, 4, NAN};   /* (2, 3) */
	a->yinvert = a->xint = a->yint = 1;
	a->pad = 0;
	ax_axes_set_xlim(a, -0.5, 2.5);
	ax_axes_set_ylim(a, -0.5, 1.5);
	ax_axes_set_colorbar(a, 0, 4, AX_CMAP_VIRIDIS, "weight");
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	ax_axes_heatmap(a, v, 2, 3);
	ax_figure_finish(&f);
	struct img m = save_and_read(&f, "heat.png");
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++) {
			float val = v[i * 3 + j];
			uint32_t want = isnan(val) ? 0xD0D0D0 : ax_cmap_color(AX_CMAP_VIRIDIS, val / 4);
			uint32_t got = img_get(&m, (int)ax_axes_xpx(a, j), (int)ax_axes_ypx(a, i));
			assert_int_equal(got, want);
		}
	/* row 0 is at the top */
	assert_true(ax_axes_ypx(a, 0) < ax_axes_ypx(a, 1));
	/* the colour bar right of the plot: top is the max colour */
	int bx = (int)(a->px + a->pw + f.scale * 9 * 1.5);
	uint32_t top = img_get(&m, bx, (int)a->py + 1), want = ax_cmap_color(AX_CMAP_VIRIDIS, 1);
	for (int k = 0; k < 24; k += 8)
		assert_true(abs((int)(top >> k & 255) - (int)(want >> k & 255)) < 8);
	assert_true(count_dark(&m, a->px + a->pw + 40, a->py, 400, a->py + a->ph) > 30);
	free(m.px);
	ax_figure_free(&f);
}

static void test_errors(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 0, 1), AX_ERR_ARG);
	assert_int_equal(ax_figure_init(&f, 400, 300, 1, 1, 1), AX_ERR_ARG);
	/* no data */
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	assert_int_equal(ax_figure_layout(&f), AX_ERR_ARG);
	assert_non_null(strstr(ax_error_detail(), "no finite"));
	/* only non-positive values on a log axis */
	struct ax_axes *a = ax_figure_axes(&f, 0);
	ax_axes_set_log(a, 0, 1);
	double x[] = {1, 2}, y[] = {0, -1};
	ax_axes_include(a, x, y, 2);
	assert_int_equal(ax_figure_layout(&f), AX_ERR_ARG);
	assert_non_null(strstr(ax_error_detail(), "positive"));
	ax_figure_free(&f);
	/* too small for its labels */
	assert_int_equal(ax_figure_init(&f, 60, 50, 200, 1, 1), AX_OK);
	ax_axes_include(ax_figure_axes(&f, 0), x, x, 2);
	assert_int_equal(ax_figure_layout(&f), AX_ERR_ARG);
	assert_non_null(strstr(ax_error_detail(), "too small"));
	/* unwritable output: an error */
	assert_int_equal(ax_figure_save_png(&f, tu_path("no/such/dir/x.png")), AX_ERR_IO);
	/* the temp file is made, but the rename onto a non-empty folder fails:
	 * an error, and no temp file left behind */
	char dir[512], tmp[600];
	snprintf(dir, sizeof dir, "%s", tu_path("full"));
	assert_int_equal(mkdir(dir, 0777), 0);
	tu_write_file("full/x", "x", 1);
	assert_int_equal(ax_figure_save_png(&f, dir), AX_ERR_IO);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
	ax_figure_free(&f);
}

/* A grid cell marked blank needs no data and stays white. */
static void test_blank_cell(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 600, 300, 100, 1, 2), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0), *b = ax_figure_axes(&f, 1);
	double x[] = {0, 1, 2}, y[] = {1, 3, 2};
	ax_axes_include(a, x, y, 3);
	assert_int_equal(ax_figure_layout(&f), AX_ERR_ARG);   /* panel 2 has no data */
	b->blank = 1;
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	ax_axes_line(a, x, y, 3, ax_plot_color(0), f.lw, NULL);
	ax_figure_finish(&f);
	assert_true(a->px + a->pw < 300);   /* the used panel keeps its own cell */
	struct img m = save_and_read(&f, "blank.png");
	assert_true(count_non_bg(&m, 0, 0, 300, 300) > 500);
	assert_int_equal(count_non_bg(&m, 300, 0, 600, 300), 0);
	free(m.px);
	ax_figure_free(&f);
}

static void test_bars_categories(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0);
	char *names[] = {"adam", "sgd", "lamb"};
	ax_axes_set_categories(a, names, 3);
	a->yzero = 1;
	double y[] = {0.5, 0.9, 0.7};
	ax_axes_include(a, NULL, y, 3);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	assert_true(a->y0 == 0);          /* bars start at zero */
	assert_false(a->catrot);          /* short names fit side by side */
	for (int k = 0; k < 3; k++)
		ax_axes_rect(a, k - 0.3, 0, k + 0.3, y[k], ax_plot_color(0), 1);
	ax_figure_finish(&f);
	struct img m = save_and_read(&f, "bar.png");
	for (int k = 0; k < 3; k++) {
		double cx = ax_axes_xpx(a, k);
		assert_int_equal(img_get(&m, (int)cx, (int)ax_axes_ypx(a, y[k] / 2)), ax_plot_color(0));
		assert_int_not_equal(img_get(&m, (int)cx, (int)ax_axes_ypx(a, y[k]) - 3),
				     ax_plot_color(0));
		/* category label under each bar */
		assert_true(count_dark(&m, cx - 20, a->py + a->ph + 4, cx + 20, a->py + a->ph + 30) > 10);
	}
	free(m.px);
	ax_figure_free(&f);
}

/* The value axis of bars: from 0, or near the data when 0 would leave over
 * four fifths of it empty; counts (AX_ZERO_KEEP) always from 0. */
static double value_axis_start(int zero, const double *y, int n)
{
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0);
	a->yzero = zero;
	ax_axes_include(a, NULL, y, (size_t)n);
	ax_axes_set_xlim(a, 0, 1);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	double y0 = a->y0;
	ax_figure_free(&f);
	return y0;
}

static void test_value_axis_start(void **state)
{
	(void)state;
	double far[] = {3.912, 3.874, 4.010}, near[] = {0.6, 0.9}, edge[] = {4, 5}, one[] = {3.9};
	double y0 = value_axis_start(AX_ZERO_NEAR, far, 3);
	assert_true(y0 > 3.86 && y0 < 3.874);
	assert_true(value_axis_start(AX_ZERO_KEEP, far, 3) == 0);
	assert_true(value_axis_start(AX_ZERO_NEAR, near, 2) == 0);
	assert_true(value_axis_start(AX_ZERO_NEAR, edge, 2) == 0);   /* 4 = 4 x spread: keeps 0 */
	assert_true(value_axis_start(AX_ZERO_NEAR, one, 1) == 0);    /* nothing to compare */
	assert_true(value_axis_start(AX_ZERO_NONE, near, 2) > 0.5);
}

/* Log axes over the whole double range keep normal, finite limits; a
 * linear range wider than a double is an error, not a crash. */
static void test_extreme_ranges(void **state)
{
	(void)state;
	struct ax_figure f;
	double y[] = {1e-300, 1e308, 5}, x[] = {-1e308, 1e308}, tiny[] = {1e-320, 1e-319};
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0);
	ax_axes_set_log(a, 0, 1);
	ax_axes_include(a, NULL, y, 3);
	ax_axes_set_xlim(a, 0, 1);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	assert_true(a->y0 >= 2.2250738585072014e-308 && a->y0 <= 1e-300);
	assert_true(isfinite(a->y1) && a->y1 >= 1e308);
	assert_true(a->nyt >= 2);
	ax_figure_free(&f);
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	a = ax_figure_axes(&f, 0);
	ax_axes_set_log(a, 0, 1);
	ax_axes_include(a, NULL, tiny, 2);   /* subnormal: below the axis, which stays sane */
	ax_axes_set_xlim(a, 0, 1);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	assert_true(a->y1 > a->y0 && a->y0 > 0);
	ax_figure_free(&f);
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	a = ax_figure_axes(&f, 0);
	ax_axes_include(a, x, NULL, 2);
	ax_axes_set_ylim(a, 0, 1);
	assert_int_equal(ax_figure_layout(&f), AX_ERR_ARG);
	assert_non_null(strstr(ax_error_detail(), "too wide a range"));
	ax_figure_free(&f);
}

/* Histogram bins: filled where counts are positive, outlined along the
 * tops; an empty bin is neither filled nor topped. */
static void test_bins(void **state)
{
	(void)state;
	struct ax_figure f;
	assert_int_equal(ax_figure_init(&f, 400, 300, 100, 1, 1), AX_OK);
	struct ax_axes *a = ax_figure_axes(&f, 0);
	double lo[] = {0, 1, 2}, hi[] = {1, 2, 3}, y[] = {4, 0, 2};
	a->yzero = AX_ZERO_KEEP;
	ax_axes_include(a, lo, y, 3);
	ax_axes_include(a, hi, NULL, 3);
	assert_int_equal(ax_figure_layout(&f), AX_OK);
	ax_axes_bins(a, lo, hi, y, 3, 0x0072B2, 1);
	ax_axes_bins_outline(a, lo, hi, y, 3, 0xD55E00, 2);
	ax_figure_finish(&f);
	struct img m = save_and_read(&f, "bins.png");
	assert_int_equal(img_get(&m, (int)ax_axes_xpx(a, 0.5), (int)ax_axes_ypx(a, 2)), 0x0072B2);
	assert_int_equal(img_get(&m, (int)ax_axes_xpx(a, 2.5), (int)ax_axes_ypx(a, 1)), 0x0072B2);
	assert_int_not_equal(img_get(&m, (int)ax_axes_xpx(a, 1.5), (int)ax_axes_ypx(a, 1)),
			     0x0072B2);
	assert_int_equal(img_get(&m, (int)ax_axes_xpx(a, 0.5), (int)ax_axes_ypx(a, 4)), 0xD55E00);
	assert_int_equal(img_get(&m, (int)ax_axes_xpx(a, 2.5), (int)ax_axes_ypx(a, 2)), 0xD55E00);
	free(m.px);
	ax_figure_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_font_glyphs),
		cmocka_unit_test(test_text_draws),
		cmocka_unit_test(test_canvas_primitives),
		cmocka_unit_test(test_nice_ticks),
		cmocka_unit_test(test_tick_labels),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_figure_line_png),
		cmocka_unit_test(test_log_axes_and_panels),
		cmocka_unit_test(test_heatmap_png),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_blank_cell),
		cmocka_unit_test(test_bars_categories),
		cmocka_unit_test(test_value_axis_start),
		cmocka_unit_test(test_extreme_ranges),
		cmocka_unit_test(test_bins),
	};
	return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
