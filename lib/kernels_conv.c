/* kernels_conv.c — 2-D convolution (batched im2col + sgemm; 3x3 with
 * stride 1 and padding 1 directly, see "3x3, stride 1, padding 1" below) and
 * max/avg pooling, NCHW.
 *
 * Convolution works on chunks of nb images through a column panel
 *   col (K, N), K = Cin*KH*KW, N = nb*OH*OW; row (c, kh, kw), column (b, oh, ow)
 * so one sgemm per chunk gives all of its outputs,
 *   ypan (Cout, N) = w (Cout, K) @ col,  scattered to y (nb, Cout, OH*OW).
 * Backward gathers dy into the same panel layout, dypan (Cout, N):
 *   dw (Cout, K) += dypan @ col^T;  dcol (K, N) = w^T @ dypan, col2im'd into dx.
 * nb (ax_conv_desc.chunk, or chosen here) keeps the two panels, (K + Cout) * N
 * floats, near CHUNK_FLOATS: large N for the products even on 7x7 images,
 * while the panels stay in cache. The work buffer holds exactly the two panels.
 * Without a team, chunks run in order (dw sums over them); the products use
 * OpenBLAS threads, the copies run in parallel over (image, channel) planes,
 * each written by one thread. Small panels leave OpenBLAS's threads little to
 * share, so with a team (ax_conv_desc.team) each thread instead takes whole
 * chunks, a fixed static share of them, with panels of its own and a
 * single-threaded sgemm; dw then sums each thread's chunks into a partial of
 * its own and the partials in thread order. Results depend only on the
 * inputs, the chunk, the team and the thread count.
 */
#include "ax_kernels.h"
#include "ax_math.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#define CHUNK_FLOATS (1 << 17)
// parallelise the copies only when there is enough work to amortise the fork/join
#define PAR_MIN 32768

int ax_conv_out_h(const struct ax_conv_desc *c)
{
	return (c->H + 2 * c->pad - c->KH) / c->stride + 1;
}

int ax_conv_out_w(const struct ax_conv_desc *c)
{
	return (c->W + 2 * c->pad - c->KW) / c->stride + 1;
}

// images per panel
static int conv_chunk(const struct ax_conv_desc *c)
{
	long per = (long)(c->Cin * c->KH * c->KW + c->Cout) * ax_conv_out_h(c) * ax_conv_out_w(c);
	long nb = c->chunk > 0 ? c->chunk : CHUNK_FLOATS / per;
	return (int)AX_MAX(1, AX_MIN(nb, c->B));
}

static int conv_team_size(const struct ax_conv_desc *c)
{
	return c->team > 1 ? c->team : 1;
}

// the direct path for 3x3 "same" convolutions, below
static int direct_path(const struct ax_conv_desc *c);
static size_t conv3_work_floats(const struct ax_conv_desc *c);

int ax_conv_team(const struct ax_conv_desc *c)
{
	int nt = omp_get_max_threads(), nb = conv_chunk(c), chunks = (c->B + nb - 1) / nb;
	if (direct_path(c))
		return nt > 1 && !omp_in_parallel() && c->B >= nt ? nt : 1;
	return nt > 1 && !omp_in_parallel() && chunks >= 2 * nt ? nt : 1;
}

// floats of one thread's two panels, col (K, N) and pan (Cout, N)
static size_t panel_floats(const struct ax_conv_desc *c)
{
	return (size_t)(c->Cin * c->KH * c->KW + c->Cout) * conv_chunk(c) * ax_conv_out_h(c) *
	       ax_conv_out_w(c);
}

size_t ax_conv_work_size(const struct ax_conv_desc *c)
{
	if (direct_path(c))
		return conv3_work_floats(c);
	int team = conv_team_size(c);
	size_t dw_part = team > 1 ? (size_t)c->Cout * c->Cin * c->KH * c->KW : 0;
	return (panel_floats(c) + dw_part) * (size_t)team;
}

// The output columns [*lo, *hi) whose input column ow*s - p + kw lies in [0, W).
static void valid_cols(int W, int OW, int s, int p, int kw, int *lo, int *hi)
{
	int a = p - kw, b = W - 1 + p - kw; // need a <= ow*s <= b
	*lo = AX_MIN(OW, a > 0 ? (a + s - 1) / s : 0);
	*hi = AX_MAX(*lo, b < 0 ? 0 : AX_MIN(OW, b / s + 1));
}

// One input plane xc (H, W) -> its KH*KW rows of the panel (OH*OW columns
// each, rows ld apart); zero outside the image.
static void im2col_plane(const struct ax_conv_desc *c, int OH, int OW, const float *xc,
			 float *col, size_t ld)
{
	int s = c->stride, p = c->pad;
	for (int kh = 0; kh < c->KH; kh++)
		for (int kw = 0; kw < c->KW; kw++) {
			float *o = col + (size_t)(kh * c->KW + kw) * ld;
			int lo, hi, off = kw - p;
			valid_cols(c->W, OW, s, p, kw, &lo, &hi);
			for (int oh = 0; oh < OH; oh++, o += OW) {
				int ih = oh * s - p + kh;
				if (ih < 0 || ih >= c->H) {
					memset(o, 0, (size_t)OW * sizeof *o);
					continue;
				}
				const float *xr = xc + (size_t)ih * c->W;
				for (int ow = 0; ow < lo; ow++)
					o[ow] = 0.0f;
				if (s == 1)
					for (int ow = lo; ow < hi; ow++) // [vec]
						o[ow] = xr[ow + off];
				else
					for (int ow = lo; ow < hi; ow++)
						o[ow] = xr[ow * s + off];
				for (int ow = hi; ow < OW; ow++)
					o[ow] = 0.0f;
			}
		}
}

// dxc (H, W) += col2im of one plane's KH*KW rows of dcol (rows ld apart);
// each element sums its terms in (kh, kw, oh, ow) order.
static void col2im_plane(const struct ax_conv_desc *c, int OH, int OW, const float *dcol,
			 size_t ld, float *dxc)
{
	int s = c->stride, p = c->pad;
	for (int kh = 0; kh < c->KH; kh++)
		for (int kw = 0; kw < c->KW; kw++) {
			const float *g = dcol + (size_t)(kh * c->KW + kw) * ld;
			int lo, hi, off = kw - p;
			valid_cols(c->W, OW, s, p, kw, &lo, &hi);
			for (int oh = 0; oh < OH; oh++, g += OW) {
				int ih = oh * s - p + kh;
				if (ih < 0 || ih >= c->H)
					continue;
				float *xr = dxc + (size_t)ih * c->W;
				if (s == 1)
					for (int ow = lo; ow < hi; ow++) // [vec]
						xr[ow + off] += g[ow];
				else
					for (int ow = lo; ow < hi; ow++)
						xr[ow * s + off] += g[ow];
			}
		}
}

/* Stride 1 with the output the size of the input ("same" padding): row
 * (kh, kw) of a plane's panel rows is the plane read at the flat offset
 * d = (kh - p) * W + (kw - p), i.e. one long contiguous copy, not OH short
 * ones. Reads that leave the plane are zeros; in each output row, the
 * columns [0, lo) and [hi, W) read a neighbouring row (they wrapped) and are
 * zeros too. The values are those of the row-by-row path above, bit for bit. */
#define SAME_KEEP 256 // floats col2im_plane_same sets aside per (kh, kw)

static int same_path(const struct ax_conv_desc *c, int OH, int OW)
{
	return c->stride == 1 && OH == c->H && OW == c->W &&
	       (long)c->H * AX_MAX(c->pad, c->KW - 1 - c->pad) <= SAME_KEEP;
}

// The flat range [*i0, *i1) of outputs whose read i + d lies in the plane.
static void same_range(int HW, int d, int *i0, int *i1)
{
	*i0 = AX_MIN(HW, AX_MAX(0, -d));
	*i1 = AX_MAX(*i0, AX_MIN(HW, HW - d));
}

static void im2col_plane_same(const struct ax_conv_desc *c, const float *xc, float *col,
			      size_t ld)
{
	int W = c->W, HW = c->H * W, p = c->pad;
	for (int kh = 0; kh < c->KH; kh++)
		for (int kw = 0; kw < c->KW; kw++) {
			float *o = col + (size_t)(kh * c->KW + kw) * ld;
			int d = (kh - p) * W + (kw - p), i0, i1, lo, hi;
			same_range(HW, d, &i0, &i1);
			valid_cols(W, W, 1, p, kw, &lo, &hi);
			memset(o, 0, (size_t)i0 * sizeof *o);
			for (int i = i0; i < i1; i++) // [vec]
				o[i] = xc[i + d];
			memset(o + i1, 0, (size_t)(HW - i1) * sizeof *o);
			for (float *r = o; r < o + HW; r += W) {
				for (int ow = 0; ow < lo; ow++)
					r[ow] = 0.0f;
				for (int ow = hi; ow < W; ow++)
					r[ow] = 0.0f;
			}
		}
}

// The outputs i in [i0, i1) of the columns [0, lo) and [hi, W) (reads that
// wrapped) into idx; returns how many (at most H * max(p, KW - 1 - p)).
static int wrapped(int W, int HW, int lo, int hi, int i0, int i1, int *idx)
{
	int n = 0;
	for (int r = 0; r < HW; r += W) {
		for (int i = r; i < r + lo; i++)
			if (i >= i0 && i < i1)
				idx[n++] = i;
		for (int i = r + hi; i < r + W; i++)
			if (i >= i0 && i < i1)
				idx[n++] = i;
	}
	return n;
}

// As col2im_plane: one contiguous add per (kh, kw). Each element of dxc gets
// one term of it, so the elements the wrapped reads reach are set aside
// before and put back after, and every element sums in (kh, kw) order.
static void col2im_plane_same(const struct ax_conv_desc *c, const float *dcol, size_t ld,
			      float *dxc)
{
	int W = c->W, HW = c->H * W, p = c->pad, idx[SAME_KEEP];
	float keep[SAME_KEEP];
	for (int kh = 0; kh < c->KH; kh++)
		for (int kw = 0; kw < c->KW; kw++) {
			const float *g = dcol + (size_t)(kh * c->KW + kw) * ld;
			int d = (kh - p) * W + (kw - p), i0, i1, lo, hi;
			same_range(HW, d, &i0, &i1);
			valid_cols(W, W, 1, p, kw, &lo, &hi);
			int n = wrapped(W, HW, lo, hi, i0, i1, idx);
			for (int k = 0; k < n; k++)
				keep[k] = dxc[idx[k] + d];
			for (int i = i0; i < i1; i++) // [vec]
				dxc[i + d] += g[i];
			for (int k = 0; k < n; k++)
				dxc[idx[k] + d] = keep[k];
		}
}

// x (n, Cin, H, W) -> col (K, n*OHW), or with back: dx (n, Cin, H, W) += col2im(col)
static void panel_im2col(const struct ax_conv_desc *c, int n, const float *x, float *col,
			 float *dx, int back)
{
	int OH = ax_conv_out_h(c), OW = ax_conv_out_w(c), KK = c->KH * c->KW;
	size_t ld = (size_t)n * OH * OW, plane = (size_t)c->H * c->W;
	int same = same_path(c, OH, OW);
#pragma omp parallel for schedule(static) if ((long)ld * c->Cin * KK > PAR_MIN)
	for (int bc = 0; bc < n * c->Cin; bc++) {
		int b = bc / c->Cin, ci = bc % c->Cin;
		float *rows = col + (size_t)ci * KK * ld + (size_t)b * OH * OW;
		if (back && same)
			col2im_plane_same(c, rows, ld, dx + (size_t)bc * plane);
		else if (back)
			col2im_plane(c, OH, OW, rows, ld, dx + (size_t)bc * plane);
		else if (same)
			im2col_plane_same(c, x + (size_t)bc * plane, rows, ld);
		else
			im2col_plane(c, OH, OW, x + (size_t)bc * plane, rows, ld);
	}
}

// y (n, Cout, OHW) = pan (Cout, n*OHW) + bias (Cout, or NULL)
static void panel_scatter(int n, int Cout, int OHW, const float *pan, const float *bias,
			  float *y)
{
	size_t ld = (size_t)n * OHW;
#pragma omp parallel for schedule(static) if ((long)ld * Cout > PAR_MIN)
	for (int bo = 0; bo < n * Cout; bo++) {
		int b = bo / Cout, o = bo % Cout;
		const float *pr = pan + (size_t)o * ld + (size_t)b * OHW;
		float *yr = y + (size_t)bo * OHW, bv = bias ? bias[o] : 0.0f;
		for (int i = 0; i < OHW; i++) // [vec]
			yr[i] = pr[i] + bv;
	}
}

// pan (Cout, n*OHW) = dy (n, Cout, OHW), rearranged
static void panel_gather(int n, int Cout, int OHW, const float *dy, float *pan)
{
	size_t ld = (size_t)n * OHW;
	for (int bo = 0; bo < n * Cout; bo++)
		memcpy(pan + (size_t)(bo % Cout) * ld + (size_t)(bo / Cout) * OHW,
		       dy + (size_t)bo * OHW, (size_t)OHW * sizeof *dy);
}

// One chunk of n images from b0 through the panels col, pan: forward.
static void chunk_forward(const struct ax_conv_desc *c, int b0, int n, const float *x,
			  const float *w, const float *bias, float *y, float *col, float *pan)
{
	int OHW = ax_conv_out_h(c) * ax_conv_out_w(c), K = c->Cin * c->KH * c->KW;
	panel_im2col(c, n, x + (size_t)b0 * c->Cin * c->H * c->W, col, NULL, 0);
	// ypan (Cout, N) = w (Cout, K) @ col (K, N)
	ax_sgemm(0, 0, c->Cout, n * OHW, K, 1.0f, w, col, 0.0f, pan);
	panel_scatter(n, c->Cout, OHW, pan, bias, y + (size_t)b0 * c->Cout * OHW);
}

// Backward of one chunk: dw += its share (dw may be NULL), dx of its images.
static void chunk_backward(const struct ax_conv_desc *c, int b0, int n, const float *x,
			   const float *w, const float *dy, float *dx, float *dw, float *col,
			   float *pan)
{
	int OHW = ax_conv_out_h(c) * ax_conv_out_w(c), K = c->Cin * c->KH * c->KW, N = n * OHW;
	size_t xs = (size_t)c->Cin * c->H * c->W, ys = (size_t)c->Cout * OHW;
	panel_gather(n, c->Cout, OHW, dy + b0 * ys, pan);
	if (dw) {
		// dw (Cout, K) += dypan (Cout, N) @ col^T (N, K)
		panel_im2col(c, n, x + b0 * xs, col, NULL, 0);
		ax_sgemm(0, 1, c->Cout, K, N, 1.0f, pan, col, 1.0f, dw);
	}
	if (dx) {
		// dcol (K, N) = w^T (K, Cout) @ dypan (Cout, N), into dx
		ax_sgemm(1, 0, K, N, c->Cout, 1.0f, w, pan, 0.0f, col);
		panel_im2col(c, n, NULL, col, dx + b0 * xs, 1);
	}
}

// dw (nw) += each of the team's partials, stride floats apart, in thread order
static void add_partials(float *dw, size_t nw, const float *part, size_t stride, int team)
{
	for (int t = 0; t < team; t++)
		for (size_t j = 0; j < nw; j++) // [vec]
			dw[j] += part[stride * (size_t)t + j];
}

/* ---- 3x3, stride 1, padding 1: direct ----
 * The commands' convolutions (ssl-train, apical-net) are all of this kind, on
 * small images, where the im2col panel costs as much as its product: nine
 * copies of the input written, read back and packed again by sgemm, and the
 * output scattered. Here each image's planes are copied once into zero-padded
 * planes of width Wp = W + 2, flat, PS floats apart, and every output is a
 * sum of nine reads at fixed flat offsets (kh - 1) * Wp + kw - 1 from its own
 * padded position: plain unaligned vector loads, no masks. The kernel keeps
 * output channels x a block of 32 consecutive padded positions in
 * registers over all input channels and taps: with AVX2 6 channels (fewer
 * in the last pass) x two passes of 16 positions, 12 accumulators of its 16
 * registers; with AVX-512 8 channels x two registers of 16 positions, 16
 * accumulators of its 32. It stores them to a padded output plane and
 * copies out the positions that are real outputs; the others fall on padding (12% of the work on 14x14
 * planes, 23% on 7x7). dx is the same kernel on the padded dy with the
 * weights transposed and the taps reversed; dw sums dy against the shifted
 * padded input over groups of G images. Every sum keeps its order whatever
 * the vector width, so AVX2 and AVX-512 builds give the same bits. Images
 * are independent, so y and dx do not depend on the team; dw sums each
 * thread's images into a partial of its own and the partials in thread
 * order. */
// the kernel's vector: AVX-512's 16 floats or AVX2's 8, the same sums
#ifdef __AVX512F__
typedef ax_v16 c3_vec;
#define C3_VW 16
#define C3_ROWS 8 // output channels per kernel pass
#define c3_load ax_v16_load
#define c3_splat ax_v16_splat
#define c3_fma ax_v16_fma
#define c3_store ax_v16_store
#else
typedef ax_v8 c3_vec;
#define C3_VW 8
#define C3_ROWS 6
#define c3_load ax_v8_load
#define c3_splat ax_v8_splat
#define c3_fma ax_v8_fma
#define c3_store ax_v8_store
#endif
#define C3_BLOCK 32 // padded positions per kernel pass

struct conv3 {
	int H, W, Wp; // image, padded row
	int r0, nblk; // first output's padded position; blocks of C3_BLOCK from there
	int PS;       // floats per padded plane
	int G;        // images per backward group
};

static int direct_path(const struct ax_conv_desc *c)
{
	return c->KH == 3 && c->KW == 3 && c->stride == 1 && c->pad == 1;
}

static struct conv3 conv3_geometry(const struct ax_conv_desc *c)
{
	struct conv3 g = { c->H, c->W, c->W + 2, 0, 0, 0, 0 };
	g.r0 = g.Wp + 1;
	g.nblk = ((c->H - 1) * g.Wp + c->W + C3_BLOCK - 1) / C3_BLOCK;
	// the last block's reads reach Wp + 1 past it
	g.PS = (g.r0 + C3_BLOCK * g.nblk + g.Wp + 1 + 7) / 8 * 8;
	// a group's padded planes near 192 KiB, in L2
	long per = (long)(c->Cin + c->Cout) * g.PS;
	g.G = (int)AX_MAX(1, AX_MIN(8, 49152 / per));
	return g;
}

static int round_rows(int n)
{
	return (n + C3_ROWS - 1) / C3_ROWS * C3_ROWS;
}

static size_t conv3_weights_floats(const struct ax_conv_desc *c)
{
	return (size_t)9 * AX_MAX(round_rows(c->Cout) * c->Cin, round_rows(c->Cin) * c->Cout);
}

// One thread's scratch: a group's padded x and dy planes, one image's padded
// output planes, and its dw partial.
static size_t conv3_thread_floats(const struct ax_conv_desc *c)
{
	struct conv3 g = conv3_geometry(c);
	return ((size_t)g.G * (c->Cin + c->Cout) + round_rows(AX_MAX(c->Cin, c->Cout))) * g.PS +
	       (size_t)c->Cout * c->Cin * 9;
}

/* w (nout, nin, 3, 3) -> p[ob][i][t][r] = w[ob + r][i][t] for the blocks of
 * C3_ROWS rows ob, zero past nout; with transpose, the kernel of dx: w's
 * (Cout, Cin) swapped (nout = Cin, nin = Cout) and the taps reversed. */
static void conv3_pack(const float *w, int nout, int nin, int transpose, float *p)
{
	for (int ob = 0; ob < round_rows(nout); ob += C3_ROWS)
		for (int i = 0; i < nin; i++)
			for (int t = 0; t < 9; t++)
				for (int o = ob; o < ob + C3_ROWS; o++, p++)
					*p = o >= nout ? 0.0f
					     : transpose ? w[((size_t)i * nout + o) * 9 + 8 - t]
							 : w[((size_t)o * nin + i) * 9 + t];
}

// x (nch, H, W) -> the valid positions of nch padded planes (padding stays zero)
static void conv3_pad(const struct conv3 *g, int nch, const float *x, float *xp)
{
	for (int ch = 0; ch < nch; ch++, x += (size_t)g->H * g->W, xp += g->PS)
		for (int h = 0; h < g->H; h++)
			memcpy(xp + g->r0 + (size_t)h * g->Wp, x + (size_t)h * g->W,
			       (size_t)g->W * sizeof *x);
}

/* R (at most C3_ROWS) output channels x two registers of positions over all
 * input channels and taps: at R = 6 with AVX2, 12 FMAs for 8 loads (8 x 8
 * took 9 for 8); at R = 8 with AVX-512, 16 FMAs for 10 loads. */
static inline __attribute__((always_inline)) void
conv3_rows(const float *x, size_t PS, int nin, const int *off, const float *pw, float *o, int R)
{
	c3_vec acc[C3_ROWS][2] = { { { 0 } } };
	for (int i = 0; i < nin; i++, x += PS)
		for (int t = 0; t < 9; t++, pw += C3_ROWS) {
			c3_vec x0 = c3_load(x + off[t]), x1 = c3_load(x + off[t] + C3_VW);
			for (int r = 0; r < R; r++) {
				c3_vec wv = c3_splat(pw[r]);
				acc[r][0] = c3_fma(wv, x0, acc[r][0]);
				acc[r][1] = c3_fma(wv, x1, acc[r][1]);
			}
		}
	for (int r = 0; r < R; r++) {
		c3_store(o + r * PS, acc[r][0]);
		c3_store(o + r * PS + C3_VW, acc[r][1]);
	}
}

/* o[r * PS + 0..C3_BLOCK) for the block's rows (channels) r < rows: the sum
 * over the nin input planes from x and the 9 taps of
 * pw[i][t][r] * x[i * PS + off[t] + 0..C3_BLOCK), input channels in order,
 * taps in order within each, whatever the vector width. */
static inline void conv3_block(const float *x, size_t PS, int nin, const int *off,
			       const float *pw, float *o, int rows)
{
	for (int s = 0; s < C3_BLOCK; s += 2 * C3_VW)
		switch (rows) { // the count a constant in each copy, the loops unrolled
#if C3_ROWS == 8
		case 8: conv3_rows(x + s, PS, nin, off, pw, o + s, 8); break;
		case 7: conv3_rows(x + s, PS, nin, off, pw, o + s, 7); break;
#endif
		case 6: conv3_rows(x + s, PS, nin, off, pw, o + s, 6); break;
		case 5: conv3_rows(x + s, PS, nin, off, pw, o + s, 5); break;
		case 4: conv3_rows(x + s, PS, nin, off, pw, o + s, 4); break;
		case 3: conv3_rows(x + s, PS, nin, off, pw, o + s, 3); break;
		case 2: conv3_rows(x + s, PS, nin, off, pw, o + s, 2); break;
		default: conv3_rows(x + s, PS, nin, off, pw, o + s, 1); break;
		}
}

/* out (nout, H, W) (+)= the 3x3 convolution of in (nin padded planes) with
 * the packed weights p, + bias (or NULL), through the padded planes opad
 * (round_rows(nout) of them). */
static void conv3_image(const struct conv3 *g, int nin, int nout, const float *p,
			const float *in, const float *bias, int add, float *opad, float *out)
{
	int off[9];
	for (int t = 0; t < 9; t++)
		off[t] = (t / 3 - 1) * g->Wp + t % 3 - 1;
	for (int ob = 0; ob < nout; ob += C3_ROWS)
		for (int blk = 0; blk < g->nblk; blk++) {
			int p0 = g->r0 + C3_BLOCK * blk;
			conv3_block(in + p0, g->PS, nin, off, p + (size_t)ob * nin * 9,
				    opad + (size_t)ob * g->PS + p0, AX_MIN(C3_ROWS, nout - ob));
		}
	for (int o = 0; o < nout; o++) {
		const float *src = opad + (size_t)o * g->PS + g->r0;
		float *dst = out + (size_t)o * g->H * g->W, bv = bias ? bias[o] : 0.0f;
		for (int h = 0; h < g->H; h++, src += g->Wp, dst += g->W)
			for (int w = 0; w < g->W; w++) // [vec]
				dst[w] = (add ? dst[w] : 0.0f) + (src[w] + bv);
	}
}

/* part (Cout, Cin, 9) += sum over the group's n images and every position of
 * dy (padded planes, zero off the outputs) times x (padded) at the tap's
 * offset. Each (output channel, input channel, tap) sums in 8 lanes,
 * position p into lane p % 8, images in order, then the lanes pairwise as
 * ax_v8_total does; the group's sum is added to part. Both forms below do
 * exactly these sums, so they give the same bits. */
#ifdef __AVX512F__
/* 4 output channels x the 9 taps per pass over the images: one register
 * holds two channels' lanes (their dy side by side, x the same 8 positions
 * twice), 18 accumulators; each x load feeds two FMAs, each dy pair nine. */
static void conv3_dw_group(const struct conv3 *g, int n, int Cin, int Cout, const float *xg,
			   const float *dyg, float *part)
{
	int np = C3_BLOCK * g->nblk;
	for (int ob = 0; ob < Cout; ob += 4) {
		int rows = AX_MIN(4, Cout - ob);
		for (int c = 0; c < Cin; c++) {
			ax_v16 acc[9][2] = { { { 0 } } };
			for (int i = 0; i < n; i++) {
				const float *x = xg + ((size_t)i * Cin + c) * g->PS + g->r0 - g->Wp - 1;
				const float *d[4];
				for (int r = 0; r < 4; r++) // rows past Cout repeat the last
					d[r] = dyg + ((size_t)i * Cout + ob + AX_MIN(r, rows - 1)) * g->PS +
					       g->r0;
				for (int k = 0; k < np; k += 8) {
					ax_v16 d01 = ax_v16_pair(d[0] + k, d[1] + k);
					ax_v16 d23 = ax_v16_pair(d[2] + k, d[3] + k);
					for (int t = 0; t < 9; t++) {
						ax_v16 xv = ax_v16_twice(x + (t / 3) * g->Wp + t % 3 + k);
						acc[t][0] = ax_v16_fma(d01, xv, acc[t][0]);
						acc[t][1] = ax_v16_fma(d23, xv, acc[t][1]);
					}
				}
			}
			for (int t = 0; t < 9; t++)
				for (int h = 0; h < 2; h++) {
					float tot[16];
					ax_v16_store(tot, ax_v16_halves_total(acc[t][h]));
					for (int r = 2 * h; r < AX_MIN(2 * h + 2, rows); r++)
						part[((size_t)(ob + r) * Cin + c) * 9 + t] += tot[8 * (r - 2 * h)];
				}
		}
	}
}
#else
/* One kernel row kh of 4 output channels per pass: each x load feeds four
 * FMAs, one per channel, 12 accumulators. */
static void conv3_dw_group(const struct conv3 *g, int n, int Cin, int Cout, const float *xg,
			   const float *dyg, float *part)
{
	int np = C3_BLOCK * g->nblk;
	for (int ob = 0; ob < Cout; ob += 4) {
		int rows = AX_MIN(4, Cout - ob);
		for (int c = 0; c < Cin; c++)
			for (int kh = 0; kh < 3; kh++) {
				ax_v8 acc[3][4] = { { { 0 } } };
				for (int i = 0; i < n; i++) {
					const float *x = xg + ((size_t)i * Cin + c) * g->PS + g->r0 +
							 (kh - 1) * g->Wp - 1;
					const float *d[4];
					for (int r = 0; r < 4; r++) // rows past Cout repeat the last
						d[r] = dyg + ((size_t)i * Cout + ob + AX_MIN(r, rows - 1)) * g->PS +
						       g->r0;
					for (int k = 0; k < np; k += 8) {
						ax_v8 dv[4];
						for (int r = 0; r < 4; r++)
							dv[r] = ax_v8_load(d[r] + k);
						for (int kw = 0; kw < 3; kw++) {
							ax_v8 xv = ax_v8_load(x + k + kw);
							for (int r = 0; r < 4; r++)
								acc[kw][r] = ax_v8_fma(dv[r], xv, acc[kw][r]);
						}
					}
				}
				ax_v8 all[16] = { { 0 } };
				float tot[16];
				memcpy(all, acc, sizeof acc); // [kw][r] -> kw * 4 + r
				ax_v8_store(tot, ax_v8_totals8(all));
				ax_v8_store(tot + 8, ax_v8_totals8(all + 8));
				for (int r = 0; r < rows; r++)
					for (int kw = 0; kw < 3; kw++)
						part[((size_t)(ob + r) * Cin + c) * 9 + kh * 3 + kw] +=
							tot[kw * 4 + r];
			}
	}
}
#endif

static size_t conv3_work_floats(const struct ax_conv_desc *c)
{
	return conv3_weights_floats(c) + conv3_thread_floats(c) * (size_t)conv_team_size(c);
}

static void conv3_forward(const struct ax_conv_desc *c, const float *x, const float *w,
			  const float *bias, float *y, float *work)
{
	struct conv3 g = conv3_geometry(c);
	size_t xs = (size_t)c->Cin * c->H * c->W, ys = (size_t)c->Cout * c->H * c->W;
	float *pw = work, *scratch = work + conv3_weights_floats(c);
	conv3_pack(w, c->Cout, c->Cin, 0, pw);
#pragma omp parallel num_threads(conv_team_size(c))
	{
		float *xp = scratch + conv3_thread_floats(c) * (size_t)omp_get_thread_num();
		float *opad = xp + (size_t)g.G * (c->Cin + c->Cout) * g.PS;
		memset(xp, 0, (size_t)c->Cin * g.PS * sizeof *xp);
#pragma omp for schedule(static)
		for (int b = 0; b < c->B; b++) {
			conv3_pad(&g, c->Cin, x + b * xs, xp);
			conv3_image(&g, c->Cin, c->Cout, pw, xp, bias, 0, opad, y + b * ys);
		}
	}
}

static void conv3_backward(const struct ax_conv_desc *c, const float *x, const float *w,
			   const float *dy, float *dx, float *dw, float *work, int assign_dx)
{
	struct conv3 g = conv3_geometry(c);
	int team = conv_team_size(c), groups = (c->B + g.G - 1) / g.G;
	size_t xs = (size_t)c->Cin * c->H * c->W, ys = (size_t)c->Cout * c->H * c->W;
	size_t nw = (size_t)c->Cout * c->Cin * 9, per = conv3_thread_floats(c);
	float *pw = work, *scratch = work + conv3_weights_floats(c);
	if (dx)
		conv3_pack(w, c->Cin, c->Cout, 1, pw);
#pragma omp parallel num_threads(team)
	{
		float *xg = scratch + per * (size_t)omp_get_thread_num();
		float *dyg = xg + (size_t)g.G * c->Cin * g.PS, *opad = dyg + (size_t)g.G * c->Cout * g.PS;
		float *part = xg + per - nw;
		memset(xg, 0, per * sizeof *xg);
#pragma omp for schedule(static)
		for (int grp = 0; grp < groups; grp++) {
			int b0 = grp * g.G, n = AX_MIN(g.G, c->B - b0);
			conv3_pad(&g, n * c->Cout, dy + b0 * ys, dyg);
			if (dw) {
				conv3_pad(&g, n * c->Cin, x + b0 * xs, xg);
				conv3_dw_group(&g, n, c->Cin, c->Cout, xg, dyg, part);
			}
			for (int i = 0; dx && i < n; i++)
				conv3_image(&g, c->Cout, c->Cin, pw, dyg + (size_t)i * c->Cout * g.PS,
					    NULL, !assign_dx, opad, dx + (b0 + i) * xs);
		}
	}
	if (dw)
		add_partials(dw, nw, scratch + per - nw, per, team);
}

void ax_conv2d_forward(const struct ax_conv_desc *c, const float *x, const float *w,
		       const float *bias, float *y, float *work)
{
	int OH = ax_conv_out_h(c), OW = ax_conv_out_w(c);
	int K = c->Cin * c->KH * c->KW, nb = conv_chunk(c), team = conv_team_size(c);
	AX_ASSERT(OH > 0 && OW > 0 && c->stride > 0 && "conv2d: bad geometry");
	if (direct_path(c)) {
		conv3_forward(c, x, w, bias, y, work);
		return;
	}
	size_t per = panel_floats(c), colsize = (size_t)K * nb * OH * OW;
	int chunks = (c->B + nb - 1) / nb;
	if (team <= 1) {
		for (int i = 0; i < chunks; i++)
			chunk_forward(c, i * nb, AX_MIN(nb, c->B - i * nb), x, w, bias, y, work,
				      work + colsize);
		return;
	}
	int prev = ax_blas_serial_begin();
#pragma omp parallel for schedule(static) num_threads(team)
	for (int i = 0; i < chunks; i++) {
		float *col = work + per * (size_t)omp_get_thread_num();
		chunk_forward(c, i * nb, AX_MIN(nb, c->B - i * nb), x, w, bias, y, col,
			      col + colsize);
	}
	ax_blas_serial_end(prev);
}

void ax_conv2d_backward(const struct ax_conv_desc *c, const float *x, const float *w,
			const float *dy, float *dx, float *dw, float *dbias, float *work,
			int assign_dx)
{
	int OH = ax_conv_out_h(c), OW = ax_conv_out_w(c), OHW = OH * OW;
	int K = c->Cin * c->KH * c->KW, nb = conv_chunk(c), team = conv_team_size(c);
	size_t ys = (size_t)c->Cout * OHW;
	for (int b = 0; dbias && b < c->B; b++)
		for (int o = 0; o < c->Cout; o++) {
			const float *g = dy + b * ys + (size_t)o * OHW;
			float s = 0.0f;
			for (int i = 0; i < OHW; i++)
				s += g[i];
			dbias[o] += s;
		}
	if (!dw && !dx)
		return;
	if (direct_path(c)) {
		conv3_backward(c, x, w, dy, dx, dw, work, assign_dx);
		return;
	}
	if (dx && assign_dx) // col2im adds
		memset(dx, 0, (size_t)c->B * c->Cin * c->H * c->W * sizeof *dx);
	size_t per = panel_floats(c), colsize = (size_t)K * nb * OHW, nw = (size_t)c->Cout * K;
	int chunks = (c->B + nb - 1) / nb;
	if (team <= 1) {
		for (int i = 0; i < chunks; i++)
			chunk_backward(c, i * nb, AX_MIN(nb, c->B - i * nb), x, w, dy, dx, dw, work,
				       work + colsize);
		return;
	}
	float *part = work + per * (size_t)team; // (team, Cout, K): each thread's dw
	int prev = ax_blas_serial_begin();
#pragma omp parallel num_threads(team)
	{
		int t = omp_get_thread_num();
		float *col = work + per * (size_t)t, *dwt = dw ? part + nw * (size_t)t : NULL;
		if (dwt)
			memset(dwt, 0, nw * sizeof *dwt);
#pragma omp for schedule(static)
		for (int i = 0; i < chunks; i++)
			chunk_backward(c, i * nb, AX_MIN(nb, c->B - i * nb), x, w, dy, dx, dwt, col,
				       col + colsize);
	}
	ax_blas_serial_end(prev);
	if (dw)
		add_partials(dw, nw, part, nw, team);
}

// The n = OH * OW windows of one plane, 2x2 with stride 2, off[o] the top
// left input of output o. One loop over the whole plane, its loads gathered
// through off, vectorises; loops over rows of 14 or 7 outputs ran scalar, and
// there each comparison was a branch that mispredicted half the time on real
// activations (14 ns per output; now 2-4). Inputs in (i, j) order, selects.
static void maxpool_2x2(int n, int W, const int32_t *restrict off, const float *restrict xp,
			float *restrict y, int32_t *restrict argmax)
{
	for (int o = 0; o < n; o++) { // [vec]
		int32_t at = off[o], best = at;
		float mx = xp[at], v1 = xp[at + 1], v2 = xp[at + W], v3 = xp[at + W + 1];
		/* a _Bool, not the int of `|`: with an int GCC 12 finds no vector
		 * type for the loads */
		_Bool take = v1 > mx || (v1 != v1 && mx == mx);
		mx = take ? v1 : mx;
		best = take ? at + 1 : best;
		take = v2 > mx || (v2 != v2 && mx == mx);
		mx = take ? v2 : mx;
		best = take ? at + W : best;
		take = v3 > mx || (v3 != v3 && mx == mx);
		mx = take ? v3 : mx;
		best = take ? at + W + 1 : best;
		y[o] = mx;
		argmax[o] = best;
	}
}

// x (B, C, H, W) -> y (B, C, OH, OW), OH = (H - k)/s + 1. argmax holds the
// winning position within the input plane (ih * W + iw); ties go to the first.
// 2x2 windows of stride 2 go through maxpool_2x2; others one output row at a
// time, window offset by window offset, so the loop over the row's outputs
// vectorises on long rows. Each output compares its window in (i, j) order.
void ax_maxpool2d_forward(int B, int C, int H, int W, int k, int s, const float *x, float *y,
			  int32_t *argmax)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	AX_ASSERT(OH > 0 && OW > 0 && s > 0 && argmax && "maxpool: bad geometry, or no argmax");
	if (k == 2 && s == 2) {
		int n = OH * OW;
		int32_t small[1024], *off = n <= 1024 ? small : ax_xmalloc((size_t)n * sizeof *off);
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++)
				off[oh * OW + ow] = 2 * oh * W + 2 * ow;
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
		for (int bc = 0; bc < B * C; bc++)
			maxpool_2x2(n, W, off, x + (size_t)bc * H * W, y + (size_t)bc * n,
				    argmax + (size_t)bc * n);
		if (off != small)
			free(off);
		return;
	}
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		const float *xp = x + (size_t)bc * H * W;
		for (int oh = 0; oh < OH; oh++) {
			size_t o = ((size_t)bc * OH + oh) * OW;
			float *mx = y + o;
			int32_t *best = argmax + o;
			const float *x0 = xp + (size_t)oh * s * W;
			for (int ow = 0; ow < OW; ow++) { // [vec]
				mx[ow] = x0[ow * s];
				best[ow] = oh * s * W + ow * s;
			}
			for (int i = 0; i < k; i++)
				for (int j = 0; j < k; j++) {
					const float *xr = x0 + (size_t)i * W + j;
					int32_t at0 = (oh * s + i) * W + j;
					for (int ow = 0; ow < OW; ow++) { // [vec]
						float v = xr[ow * s];
						// bitwise, so even the scalar remainder has no branch
						int take = (v > mx[ow]) | ((v != v) & (mx[ow] == mx[ow]));
						mx[ow] = take ? v : mx[ow];
						best[ow] = take ? at0 + ow * s : best[ow];
					}
				}
		}
	}
}

void ax_maxpool2d_backward(int B, int C, int H, int W, int k, int s, const int32_t *argmax,
			   const float *dy, float *dx, int assign_dx)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		float *dxp = dx + (size_t)bc * H * W;
		const float *g = dy + (size_t)bc * OH * OW;
		const int32_t *am = argmax + (size_t)bc * OH * OW;
		if (assign_dx) // a plane zeroed here is still in cache for the scatter
			memset(dxp, 0, (size_t)H * W * sizeof *dxp);
		for (int o = 0; o < OH * OW; o++)
			dxp[am[o]] += g[o];
	}
}

void ax_avgpool2d_forward(int B, int C, int H, int W, int k, int s, const float *x, float *y)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	AX_ASSERT(OH > 0 && OW > 0 && s > 0 && "avgpool: bad geometry");
	float inv = 1.0f / (k * k);
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		const float *xp = x + (size_t)bc * H * W;
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++) {
				float sum = 0.0f;
				for (int i = 0; i < k; i++)
					for (int j = 0; j < k; j++)
						sum += xp[(oh * s + i) * W + ow * s + j];
				y[((size_t)bc * OH + oh) * OW + ow] = sum * inv;
			}
	}
}

void ax_avgpool2d_backward(int B, int C, int H, int W, int k, int s, const float *dy,
			   float *dx, int assign_dx)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	float inv = 1.0f / (k * k);
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		float *dxp = dx + (size_t)bc * H * W;
		if (assign_dx) // as in max pooling
			memset(dxp, 0, (size_t)H * W * sizeof *dxp);
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++) {
				float g = dy[((size_t)bc * OH + oh) * OW + ow] * inv;
				for (int i = 0; i < k; i++)
					for (int j = 0; j < k; j++)
						dxp[(oh * s + i) * W + ow * s + j] += g;
			}
	}
}
