/* augment.c — random resized crop, flip and jitter (ax_augment.h). */
#include "ax_augment.h"
#include "ax_base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ax_augment_default(struct ax_augment *a)
{
	*a = (struct ax_augment){ .scale_lo = 0.08f, .scale_hi = 1.0f, .ratio_lo = 3.0f / 4.0f,
				  .ratio_hi = 4.0f / 3.0f, .p_flip = 0.5f, .p_jitter = 0.8f,
				  .brightness = 0.4f, .contrast = 0.4f };
}

static float uniform_in(struct ax_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * ax_rng_uniform(r);
}

void ax_augment_draw(const struct ax_augment *a, int H, int W, struct ax_rng *r,
		     struct ax_augment_draw *d)
{
	double area = (double)H * W, llo = log(a->ratio_lo), lhi = log(a->ratio_hi);
	int found = 0;
	for (int k = 0; k < 10 && !found; k++) {
		double target = area * uniform_in(r, a->scale_lo, a->scale_hi);
		double ratio = exp(llo + (lhi - llo) * ax_rng_uniform_double(r));
		int w = (int)lround(sqrt(target * ratio)), h = (int)lround(sqrt(target / ratio));
		if (w > 0 && w <= W && h > 0 && h <= H) {
			d->h = h, d->w = w;
			d->top = (int)ax_rng_below(r, (uint32_t)(H - h + 1));
			d->left = (int)ax_rng_below(r, (uint32_t)(W - w + 1));
			found = 1;
		}
	}
	if (!found) { /* the central crop, its ratio clamped into the range */
		double in_ratio = (double)W / H;
		d->w = W, d->h = H;
		if (in_ratio < a->ratio_lo)
			d->h = (int)lround(W / a->ratio_lo);
		else if (in_ratio > a->ratio_hi)
			d->w = (int)lround(H * a->ratio_hi);
		d->top = (H - d->h) / 2, d->left = (W - d->w) / 2;
	}
	d->flip = ax_rng_uniform(r) < a->p_flip;
	d->jitter = ax_rng_uniform(r) < a->p_jitter;
	d->brightness = d->contrast = 1.0f;
	if (d->jitter) {
		d->brightness = uniform_in(r, 1.0f - a->brightness, 1.0f + a->brightness);
		d->contrast = uniform_in(r, 1.0f - a->contrast, 1.0f + a->contrast);
	}
}

/* Source index and weight of output position o for a resize of n to m
 * (align_corners=False, as torch's upsample_bilinear2d). */
static void source_index(int o, int n, int m, int *i0, int *i1, float *frac)
{
	float s = ((float)n / (float)m) * ((float)o + 0.5f) - 0.5f;
	if (s < 0.0f)
		s = 0.0f;
	int i = (int)s;
	*i0 = i;
	*i1 = i + (i < n - 1);
	*frac = s - (float)i;
}

static float clamp01(float v)
{
	return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

void ax_augment_apply(const struct ax_augment_draw *d, int C, int H, int W, const float *src,
		      float *dst)
{
	for (int c = 0; c < C; c++) {
		const float *s = src + (size_t)c * H * W;
		float *o = dst + (size_t)c * H * W;
		for (int y = 0; y < H; y++) {
			int y0, y1, x0, x1;
			float fy, fx;
			source_index(y, d->h, H, &y0, &y1, &fy);
			const float *r0 = s + (size_t)(d->top + y0) * W + d->left;
			const float *r1 = s + (size_t)(d->top + y1) * W + d->left;
			for (int x = 0; x < W; x++) {
				source_index(x, d->w, W, &x0, &x1, &fx);
				float top = r0[x0] + (r0[x1] - r0[x0]) * fx;
				float bot = r1[x0] + (r1[x1] - r1[x0]) * fx;
				o[(size_t)y * W + (d->flip ? W - 1 - x : x)] = top + (bot - top) * fy;
			}
		}
	}
	if (!d->jitter)
		return;
	size_t n = (size_t)C * H * W;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		dst[i] = clamp01(dst[i] * d->brightness);
		sum += dst[i];
	}
	float m = (float)(sum / (double)n);
	for (size_t i = 0; i < n; i++)
		dst[i] = clamp01((dst[i] - m) * d->contrast + m);
}

/* One batch loop for both source types: bytes are scaled into a scratch
 * image per iteration. */
static void batch(const struct ax_augment *a, const struct ax_rng *base, const uint64_t *keys,
		  int N, int C, int H, int W, const uint8_t *src8, const float *srcf, float *dst)
{
	size_t n = (size_t)C * H * W;
#pragma omp parallel
	{
		float *tmp = src8 ? ax_xmalloc(n * sizeof(float)) : NULL;
#pragma omp for schedule(static)
		for (int i = 0; i < N; i++) {
			struct ax_rng r = ax_rng_split(base, keys[i]);
			struct ax_augment_draw d;
			ax_augment_draw(a, H, W, &r, &d);
			const float *s = srcf ? srcf + (size_t)i * n : tmp;
			if (src8)
				for (size_t k = 0; k < n; k++)
					tmp[k] = src8[(size_t)i * n + k] / 255.0f;
			ax_augment_apply(&d, C, H, W, s, dst + (size_t)i * n);
		}
		free(tmp);
	}
}

void ax_augment_batch_u8(const struct ax_augment *a, const struct ax_rng *base,
			 const uint64_t *keys, int N, int C, int H, int W, const uint8_t *src,
			 float *dst)
{
	batch(a, base, keys, N, C, H, W, src, NULL, dst);
}

void ax_augment_batch(const struct ax_augment *a, const struct ax_rng *base, const uint64_t *keys,
		      int N, int C, int H, int W, const float *src, float *dst)
{
	batch(a, base, keys, N, C, H, W, NULL, src, dst);
}
