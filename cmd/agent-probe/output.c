/* output.c — the probes' files: NPY arrays and heatmap PNGs. */
#include "ap.h"

#include <string.h>

enum ax_status ap_npy_i32(FILE *f, const int32_t *v, int ndim, const int64_t *shape)
{
	struct ax_array a = { .dtype = AX_I32, .ndim = ndim, .data = (void *)v };
	memcpy(a.shape, shape, (size_t)ndim * sizeof *shape);
	return ax_npy_write(f, &a);
}

enum ax_status ap_save_f32(const char *path, const float *v, int ndim, const int64_t *shape)
{
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
	if (st)
		return st;
	if ((st = ax_npy_write_f32(o.f, v, ndim, shape))) {
		ax_outfile_abort(&o);
		return st;
	}
	return ax_outfile_commit(&o);
}

enum ax_status ap_heatmap_png(const char *path, const char *title, const char *xlabel,
			      const char *ylabel, const float *v, int rows, int cols, double lo,
			      double hi)
{
	struct ax_figure f;
	enum ax_status st = ax_figure_init(&f, 720, 480, 100, 1, 1);
	if (st)
		return st;
	struct ax_axes *a = ax_figure_axes(&f, 0);
	ax_axes_set_labels(a, title, xlabel, ylabel);
	a->yinvert = 1, a->xint = 1, a->yint = 1;
	ax_axes_set_xlim(a, -0.5, cols - 0.5);
	ax_axes_set_ylim(a, -0.5, rows - 0.5);
	ax_axes_set_colorbar(a, lo, hi > lo ? hi : lo + 1, AX_CMAP_VIRIDIS, NULL);
	if (!(st = ax_figure_layout(&f))) {
		ax_axes_heatmap(a, v, rows, cols);
		ax_figure_finish(&f);
		st = ax_figure_save_png(&f, path);
	}
	ax_figure_free(&f);
	return st;
}
