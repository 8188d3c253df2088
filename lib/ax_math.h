/* ax_math.h — branch-free float exp, erf and tanh, and fixed-order
 * reductions, for elementwise and row-wise kernels (internal to lib/: the
 * kernels, the tape's ops; not part of axon.h).
 *
 * glibc's expf/erff/tanhf are accurate but scalar calls (GCC vectorises libm
 * calls only under -ffast-math, which axon never uses). These are plain
 * arithmetic whose clamps and sign tests are selects, so the loops over them
 * vectorise at -O3 (the build's -fno-trapping-math lets GCC if-convert them;
 * `make vec-report` shows any hot loop that still does not vectorise).
 * tests/unit/test-tape.c checks them against libm over their range.
 */
#ifndef AX_MATH_H
#define AX_MATH_H

#include "ax_base.h"

#include <math.h>
#include <string.h>

/* x's bits mapped to an int32 that orders as the floats do (NaN aside), and
 * back: a float clamp done as integer MIN/MAX. */
static inline int32_t ax_float_key(float x)
{
	union { float f; int32_t i; } u = { .f = x };
	return u.i ^ ((u.i >> 31) & 0x7fffffff);
}

static inline float ax_key_float(int32_t k)
{
	union { float f; int32_t i; } u = { .i = k ^ ((k >> 31) & 0x7fffffff) };
	return u.f;
}

/* Cephes-style range reduction and polynomial: relative error < 4e-7 (~3 ulp).
 * Inputs are clamped to [-87.3, 88] (exp of a huge negative is ~1e-38, not 0;
 * of a huge positive ~1.7e38, not inf); NaN stays NaN.
 * The clamp is integer MIN/MAX on the float's ordered bits, not float
 * selects: from a float select GCC derives a path where x is the constant
 * bound and, once vectorised, computes that path in every lane too, e.g.
 * silu's x / (1 + exp(88)): denormal results that cost ~100 cycles each. */
static inline float ax_expf(float x0)
{
	int32_t k = ax_float_key(x0), lo = ax_float_key(-87.3f), hi = ax_float_key(88.0f);
	k = k < lo ? lo : k;
	k = k > hi ? hi : k;
	float x = ax_key_float(k);
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
	float y = p * s.f;
	return x0 != x0 ? x0 : y;
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

/* tanh from one exp: odd Taylor series near 0 (where 1 - e^-2a cancels),
 * (1 - e^-2a) / (1 + e^-2a) elsewhere. Relative error < 3e-7. */
static inline float ax_tanhf(float x)
{
	float a = x < 0 ? -x : x, x2 = x * x;
	float e = ax_expf(-2.0f * a);
	float big = (1.0f - e) / (1.0f + e);
	big = x < 0 ? -big : big;
	float small = x + x * x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315)));
	return a < 0.0625f ? small : big;
}

/* ---- reductions in a fixed order that vectorises ----
 * A serial float sum cannot be vectorised without reassociating it, which
 * only -ffast-math allows. These keep AX_LANES partial sums in a GCC vector
 * (element i goes to lane i % AX_LANES), then add the lanes pairwise. The
 * order is fixed by this code, not by the machine's vector width (GCC splits
 * or keeps the 16-float vector as the target allows), so a result is the same
 * on every x86-64 target and thread count; it differs from a serial sum only
 * by rounding. Loads go through memcpy: no alignment is assumed. */
#define AX_LANES 16
/* GCC warns, wherever a helper below is inlined, that passing a 64-byte
 * vector by value changes the ABI on targets without AVX-512; they are static
 * inline, never called across an ABI boundary. (In every file that includes
 * this internal header.) */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float ax_vf __attribute__((vector_size(AX_LANES * sizeof(float))));
typedef double ax_vd __attribute__((vector_size(AX_LANES * sizeof(double))));
typedef int32_t ax_vi __attribute__((vector_size(AX_LANES * sizeof(int32_t))));

static inline ax_vf ax_vload(const float *x)
{
	ax_vf v;
	memcpy(&v, x, sizeof v);
	return v;
}

/* The first n < AX_LANES elements of x, fill in the other lanes. */
static inline ax_vf ax_vload_part(const float *x, size_t n, float fill)
{
	ax_vf v;
	for (int l = 0; l < AX_LANES; l++)
		v[l] = (size_t)l < n ? x[l] : fill;
	return v;
}

static inline float ax_vtotal(ax_vf v)
{
	for (int w = AX_LANES / 2; w > 0; w /= 2)
		for (int l = 0; l < w; l++)
			v[l] += v[l + w];
	return v[0];
}

static inline double ax_vtotal_d(ax_vd v)
{
	for (int w = AX_LANES / 2; w > 0; w /= 2)
		for (int l = 0; l < w; l++)
			v[l] += v[l + w];
	return v[0];
}

/* acc += x[0..n) into lanes i % AX_LANES, in double (n a multiple of
 * AX_LANES except at the very end of a sum). */
static inline void ax_vacc_d(ax_vd *acc, const float *x, size_t n)
{
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES)
		*acc += __builtin_convertvector(ax_vload(x + i), ax_vd);
	if (i < n)
		*acc += __builtin_convertvector(ax_vload_part(x + i, n - i, 0.0f), ax_vd);
}

/* sum x[i] */
static inline float ax_sumf(size_t n, const float *x)
{
	ax_vf acc = { 0 };
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES)
		acc += ax_vload(x + i);
	if (i < n)
		acc += ax_vload_part(x + i, n - i, 0.0f);
	return ax_vtotal(acc);
}

/* sum a[i] * b[i] */
static inline float ax_dotf(size_t n, const float *a, const float *b)
{
	ax_vf acc = { 0 };
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES)
		acc += ax_vload(a + i) * ax_vload(b + i);
	if (i < n)
		acc += ax_vload_part(a + i, n - i, 0.0f) * ax_vload_part(b + i, n - i, 0.0f);
	return ax_vtotal(acc);
}

/* sum (x[i] - c)^2 */
static inline float ax_sqdevf(size_t n, const float *x, float c)
{
	ax_vf acc = { 0 };
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		ax_vf d = ax_vload(x + i) - c;
		acc += d * d;
	}
	if (i < n) {
		ax_vf d = ax_vload_part(x + i, n - i, c) - c;
		acc += d * d;
	}
	return ax_vtotal(acc);
}

/* lane-wise a > b ? a : b (NaN in a is skipped, as in a serial max) */
static inline ax_vf ax_vmax(ax_vf a, ax_vf b)
{
	ax_vi m = a > b;
	return (ax_vf)(((ax_vi)a & m) | ((ax_vi)b & ~m));
}

/* max x[i] (-inf for n == 0); exact in any order. */
static inline float ax_maxf(size_t n, const float *x)
{
	ax_vf acc = ax_vload_part(x, 0, -INFINITY);
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES)
		acc = ax_vmax(ax_vload(x + i), acc);
	if (i < n)
		acc = ax_vmax(ax_vload_part(x + i, n - i, -INFINITY), acc);
	float m = acc[0];
	for (int l = 1; l < AX_LANES; l++)
		m = acc[l] > m ? acc[l] : m;
	return m;
}

#endif
