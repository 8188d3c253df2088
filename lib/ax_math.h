/* ax_math.h — branch-free float exp and erf for elementwise kernels
 * (internal to lib/: the kernels, the tape's unary ops; not part of axon.h).
 *
 * glibc's expf/erff are accurate but scalar calls (GCC vectorises libm calls
 * only under -ffast-math, which axon never uses). These are plain arithmetic,
 * so the loops over them vectorise at -O3.
 * tests/unit/test-tape.c checks both against libm over their range.
 */
#ifndef AX_MATH_H
#define AX_MATH_H

#include "ax_base.h"

/* Cephes-style range reduction and polynomial: relative error < 4e-7 (~3 ulp).
 * Inputs are clamped to [-87.3, 88] (exp of a huge negative is ~1e-38, not 0;
 * of a huge positive ~1.7e38, not inf); NaN stays NaN. */
static inline float ax_expf(float x)
{
	x = x < -87.3f ? -87.3f : x;
	x = x > 88.0f ? 88.0f : x;
	float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round(x/ln2)
	float r = x - n * 0.693359375f + n * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	union { float f; int32_t i; } s = {.i = ((int32_t)n + 127) << 23}; // 2^n
	return p * s.f;
}

/* Abramowitz & Stegun 7.1.26 over ax_expf: absolute error < 6e-7 in float. */
static inline float ax_erff(float x)
{
	float ax = x < 0 ? -x : x;
	float t = 1.0f / (1.0f + 0.3275911f * ax);
	float y = 1.061405429f;
	y = y * t - 1.453152027f;
	y = y * t + 1.421413741f;
	y = y * t - 0.284496736f;
	y = y * t + 0.254829592f;
	y = 1.0f - y * t * ax_expf(-ax * ax);
	return x < 0 ? -y : y;
}

#endif
