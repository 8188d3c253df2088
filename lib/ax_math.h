/* ax_math.h — branch-free float erf for elementwise kernels.
 *
 * glibc's erff/expf are accurate but scalar (GCC vectorises libm calls only
 * under -ffast-math, which axon never uses). ax_erff is plain arithmetic
 * over ax_expf (ax_kernels.h), so loops over it vectorise at -O3:
 * Abramowitz & Stegun 7.1.26, absolute error < 6e-7 in float.
 * tests/unit/test-tape.c checks both against libm over their range.
 */
#ifndef AX_MATH_H
#define AX_MATH_H

#include "ax_kernels.h"

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
