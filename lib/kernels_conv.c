/* kernels_conv.c — 2-D convolution (im2col + sgemm) and max/avg pooling, NCHW.
 *
 * Convolution works one image at a time through a column buffer
 *   col (Cin*KH*KW, OH*OW), row (c, kh, kw), column (oh, ow)
 * so y_b (Cout, OH*OW) = w (Cout, Cin*KH*KW) @ col, one sgemm per image.
 * Images are processed in order (dw sums over them), the products use
 * OpenBLAS threads.
 */
#include "ax_kernels.h"

#include <math.h>
#include <string.h>

int ax_conv_out_h(const struct ax_conv_desc *c)
{
	return (c->H + 2 * c->pad - c->KH) / c->stride + 1;
}

int ax_conv_out_w(const struct ax_conv_desc *c)
{
	return (c->W + 2 * c->pad - c->KW) / c->stride + 1;
}

size_t ax_conv_work_size(const struct ax_conv_desc *c)
{
	return (size_t)c->Cin * c->KH * c->KW * ax_conv_out_h(c) * ax_conv_out_w(c);
}

// x (Cin, H, W) of one image -> col (Cin*KH*KW, OH*OW); zero outside the image
static void im2col(const struct ax_conv_desc *c, int OH, int OW, const float *x, float *col)
{
	int KH = c->KH, KW = c->KW, H = c->H, W = c->W, s = c->stride, p = c->pad;
#pragma omp parallel for schedule(static) if ((long)c->Cin * KH * KW * OH * OW > 32768)
	for (int r = 0; r < c->Cin * KH * KW; r++) {
		int ci = r / (KH * KW), kh = r / KW % KH, kw = r % KW;
		const float *xc = x + (size_t)ci * H * W;
		float *o = col + (size_t)r * OH * OW;
		for (int oh = 0; oh < OH; oh++) {
			int ih = oh * s - p + kh;
			for (int ow = 0; ow < OW; ow++) {
				int iw = ow * s - p + kw;
				o[oh * OW + ow] = (ih >= 0 && ih < H && iw >= 0 && iw < W)
							  ? xc[ih * W + iw]
							  : 0.0f;
			}
		}
	}
}

// dx (Cin, H, W) += col2im(dcol). Parallel over input channels: each channel's
// rows of dcol scatter only into that channel, in a fixed order.
static void col2im_add(const struct ax_conv_desc *c, int OH, int OW, const float *dcol,
		       float *dx)
{
	int KH = c->KH, KW = c->KW, H = c->H, W = c->W, s = c->stride, p = c->pad;
#pragma omp parallel for schedule(static) if ((long)c->Cin * KH * KW * OH * OW > 32768)
	for (int ci = 0; ci < c->Cin; ci++) {
		float *xc = dx + (size_t)ci * H * W;
		for (int kh = 0; kh < KH; kh++)
			for (int kw = 0; kw < KW; kw++) {
				const float *g = dcol + ((size_t)(ci * KH + kh) * KW + kw) * OH * OW;
				for (int oh = 0; oh < OH; oh++) {
					int ih = oh * s - p + kh;
					if (ih < 0 || ih >= H)
						continue;
					for (int ow = 0; ow < OW; ow++) {
						int iw = ow * s - p + kw;
						if (iw >= 0 && iw < W)
							xc[ih * W + iw] += g[oh * OW + ow];
					}
				}
			}
	}
}

void ax_conv2d_forward(const struct ax_conv_desc *c, const float *x, const float *w,
		       const float *bias, float *y, float *work)
{
	int OH = ax_conv_out_h(c), OW = ax_conv_out_w(c), OHW = OH * OW;
	int K = c->Cin * c->KH * c->KW;
	AX_ASSERT(OH > 0 && OW > 0 && c->stride > 0 && "conv2d: bad geometry");
	for (int b = 0; b < c->B; b++) {
		const float *xb = x + (size_t)b * c->Cin * c->H * c->W;
		float *yb = y + (size_t)b * c->Cout * OHW;
		// 1x1, stride 1, no pad: x already is the column matrix
		const float *col = xb;
		if (!(c->KH == 1 && c->KW == 1 && c->stride == 1 && c->pad == 0)) {
			im2col(c, OH, OW, xb, work);
			col = work;
		}
		if (bias)
			for (int o = 0; o < c->Cout; o++)
				for (int i = 0; i < OHW; i++)
					yb[(size_t)o * OHW + i] = bias[o];
		// y_b (Cout, OHW) (+)= w (Cout, K) @ col (K, OHW)
		ax_sgemm(0, 0, c->Cout, OHW, K, 1.0f, w, col, bias ? 1.0f : 0.0f, yb);
	}
}

void ax_conv2d_backward(const struct ax_conv_desc *c, const float *x, const float *w,
			const float *dy, float *dx, float *dw, float *dbias, float *work)
{
	int OH = ax_conv_out_h(c), OW = ax_conv_out_w(c), OHW = OH * OW;
	int K = c->Cin * c->KH * c->KW;
	int direct = c->KH == 1 && c->KW == 1 && c->stride == 1 && c->pad == 0;
	for (int b = 0; b < c->B; b++) {
		const float *xb = x + (size_t)b * c->Cin * c->H * c->W;
		const float *dyb = dy + (size_t)b * c->Cout * OHW;
		if (dbias)
			for (int o = 0; o < c->Cout; o++) {
				float s = 0.0f;
				for (int i = 0; i < OHW; i++)
					s += dyb[(size_t)o * OHW + i];
				dbias[o] += s;
			}
		if (dw) {
			// dw (Cout, K) += dy_b (Cout, OHW) @ col^T
			const float *col = xb;
			if (!direct) {
				im2col(c, OH, OW, xb, work);
				col = work;
			}
			ax_sgemm(0, 1, c->Cout, K, OHW, 1.0f, dyb, col, 1.0f, dw);
		}
		if (dx) {
			float *dxb = dx + (size_t)b * c->Cin * c->H * c->W;
			// dcol (K, OHW) = w^T (K, Cout) @ dy_b; direct: add straight into dx
			if (direct) {
				ax_sgemm(1, 0, K, OHW, c->Cout, 1.0f, w, dyb, 1.0f, dxb);
			} else {
				ax_sgemm(1, 0, K, OHW, c->Cout, 1.0f, w, dyb, 0.0f, work);
				col2im_add(c, OH, OW, work, dxb);
			}
		}
	}
}

// x (B, C, H, W) -> y (B, C, OH, OW), OH = (H - k)/s + 1. argmax holds the
// winning position within the input plane (ih * W + iw); ties go to the first.
void ax_maxpool2d_forward(int B, int C, int H, int W, int k, int s, const float *x, float *y,
			  int32_t *argmax)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	AX_ASSERT(OH > 0 && OW > 0 && s > 0 && "maxpool: bad geometry");
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		const float *xp = x + (size_t)bc * H * W;
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++) {
				int best = (oh * s) * W + ow * s;
				float mx = xp[best];
				for (int i = 0; i < k; i++)
					for (int j = 0; j < k; j++) {
						int at = (oh * s + i) * W + ow * s + j;
						if (xp[at] > mx || (isnan(xp[at]) && !isnan(mx))) {
							mx = xp[at];
							best = at;
						}
					}
				size_t o = ((size_t)bc * OH + oh) * OW + ow;
				y[o] = mx;
				if (argmax)
					argmax[o] = best;
			}
	}
}

void ax_maxpool2d_backward(int B, int C, int H, int W, int k, int s, const int32_t *argmax,
			   const float *dy, float *dx)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		float *dxp = dx + (size_t)bc * H * W;
		const float *g = dy + (size_t)bc * OH * OW;
		const int32_t *am = argmax + (size_t)bc * OH * OW;
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
			   float *dx)
{
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	float inv = 1.0f / (k * k);
#pragma omp parallel for schedule(static) if ((long)B * C * H * W > 32768)
	for (int bc = 0; bc < B * C; bc++) {
		float *dxp = dx + (size_t)bc * H * W;
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++) {
				float g = dy[((size_t)bc * OH + oh) * OW + ow] * inv;
				for (int i = 0; i < k; i++)
					for (int j = 0; j < k; j++)
						dxp[(oh * s + i) * W + ow * s + j] += g;
			}
	}
}
