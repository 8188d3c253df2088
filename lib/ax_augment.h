/* ax_augment.h — random image augmentation for self-supervised training:
 * random resized crop (bilinear), horizontal flip, brightness/contrast
 * jitter, as torchvision's RandomResizedCrop, RandomHorizontalFlip and
 * RandomApply(ColorJitter(brightness, contrast), p) on grey images.
 *
 * Every image draws from its own stream, ax_rng_split(base, key), so a
 * batch's result depends on the seed and the keys only: not on the thread
 * count, the batch's order or which rank computes it. The batch loop runs
 * in parallel. Images are (C, H, W) planes, values in [0, 1]; the output
 * has the input's size.
 */
#ifndef AX_AUGMENT_H
#define AX_AUGMENT_H

#include "ax_rng.h"

struct ax_augment {
	float scale_lo, scale_hi;   /* crop area as a fraction of the image (0.08, 1) */
	float ratio_lo, ratio_hi;   /* crop aspect w/h, drawn log-uniformly (3/4, 4/3) */
	float p_flip;               /* horizontal flip (0.5) */
	float p_jitter;             /* brightness and contrast jitter applied (0.8) */
	float brightness, contrast; /* factors ~ U[1 - b, 1 + b], U[1 - c, 1 + c] (0.4, 0.4) */
};
void ax_augment_default(struct ax_augment *a);

/* What one image draws: the crop box (top, left, height, width in pixels),
 * flip, and the jitter factors (1 when not applied). */
struct ax_augment_draw {
	int top, left, h, w;
	int flip, jitter;
	float brightness, contrast;
};
/* torchvision's RandomResizedCrop.get_params (10 tries, then the central
 * crop of the clamped ratio), then flip, then jitter, from r. */
void ax_augment_draw(const struct ax_augment *a, int H, int W, struct ax_rng *r,
		     struct ax_augment_draw *d);
/* Apply d to src (C, H, W) into dst (C, H, W): the box resized bilinearly
 * (align_corners=False, as torchvision on tensors without antialias),
 * flipped, then brightness (x * b) and contrast ((x - m) * c + m, m the
 * image's mean grey level), each clamped to [0, 1]. */
void ax_augment_apply(const struct ax_augment_draw *d, int C, int H, int W, const float *src,
		      float *dst);
/* A batch: image i of src (N, C, H, W) bytes (0..255, divided by 255) or
 * floats, drawn from ax_rng_split(base, keys[i]), into dst (N, C, H, W). */
void ax_augment_batch_u8(const struct ax_augment *a, const struct ax_rng *base,
			 const uint64_t *keys, int N, int C, int H, int W, const uint8_t *src,
			 float *dst);
void ax_augment_batch(const struct ax_augment *a, const struct ax_rng *base, const uint64_t *keys,
		      int N, int C, int H, int W, const float *src, float *dst);

#endif
