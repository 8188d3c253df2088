/* plot_png.c — PNG output through libpng, written atomically (ax_outfile). */
#include "ax_plot.h"
#include "ax_io.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

/* libpng reports errors by longjmp; keep its message for the error detail. */
struct png_err {
	jmp_buf jb;
	char msg[200];
};

static void on_png_error(png_structp png, png_const_charp msg)
{
	struct png_err *e = png_get_error_ptr(png);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
	longjmp(e->jb, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

enum ax_status ax_canvas_write_png(const struct ax_canvas *c, FILE *f, double dpi)
{
	/* volatile: modified between setjmp and a possible longjmp */
	struct png_err err;
	err.msg[0] = 0;
	png_structp volatile png =
		png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_png_error, on_png_warning);
	if (!png)
		return ax_error_set(AX_ERR_NOMEM, "png: cannot create writer");
	png_infop volatile info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct((png_structpp)&png, NULL);
		return ax_error_set(AX_ERR_NOMEM, "png: cannot create writer");
	}
	if (setjmp(err.jb)) {
		png_destroy_write_struct((png_structpp)&png, (png_infopp)&info);
		return ax_error_set(AX_ERR_IO, "png: %s", err.msg);
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (dpi > 0) {
		png_uint_32 ppm = (png_uint_32)(dpi / 0.0254 + 0.5);
		png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	}
	png_write_info(png, info);
	for (int y = 0; y < c->h; y++)
		png_write_row(png, c->px + (size_t)y * c->w * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct((png_structpp)&png, (png_infopp)&info);
	if (fflush(f) || ferror(f))
		return ax_error_set(AX_ERR_IO, "png: write failed: %s", strerror(errno));
	return AX_OK;
}

enum ax_status ax_figure_save_png(const struct ax_figure *fig, const char *path)
{
	/* temp file beside the target, then rename: never a truncated PNG */
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
	if (st)
		return st;
	st = ax_canvas_write_png(&fig->canvas, o.f, fig->dpi);
	if (st) {
		char d[512];
		snprintf(d, sizeof d, "%s", ax_error_detail());
		ax_outfile_abort(&o);
		return ax_error_set(st, "%s: %s", path, d);
	}
	return ax_outfile_commit(&o);
}
