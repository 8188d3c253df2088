/* ax_math.h — branch-free float exp, erf and tanh, fixed-order reductions
 * and the split of elementwise work between threads, for elementwise and
 * row-wise kernels (internal to lib/: the
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
#include <omp.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

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

/* ---- splitting elementwise work between threads ----
 * Inside a parallel region, the current thread's share [*lo, *hi) of n
 * elements: the team splits n in blocks of 64 (whole vectors). Only for work
 * whose every element's result does not depend on the split; worth a team
 * above AX_ELEMENTWISE_PAR_MIN elements. */
#define AX_ELEMENTWISE_PAR_MIN 65536
static inline void ax_thread_span(size_t n, size_t *lo, size_t *hi)
{
	size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
	size_t per = ((n + 63) / 64 + nt - 1) / nt * 64;
	*lo = AX_MIN(n, t * per);
	*hi = AX_MIN(n, *lo + per);
}

/* ---- reductions in a fixed order that vectorises ----
 * A serial float sum cannot be vectorised without reassociating it, which
 * only -ffast-math allows. These keep AX_LANES = 16 partial sums (element i
 * goes to lane i % 16) in two 8-float GCC vectors, lo (lanes 0-7) and hi
 * (8-15), one AVX register each, and finish pairwise: lane l += lane l + w
 * for w = 8, 4, 2, 1. The order is fixed by this code, not by the machine's
 * vector width, so a result is the same on every x86-64 target and thread
 * count; it differs from a serial sum only by rounding. Loads go through
 * memcpy: no alignment is assumed. */
#define AX_LANES 16
/* GCC warns, wherever a helper below is inlined into a build without AVX,
 * that passing a 32-byte vector by value changes the ABI; they are static
 * inline, never called across an ABI boundary. (In every file that includes
 * this internal header.) */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float ax_v8 __attribute__((vector_size(8 * sizeof(float))));
typedef float ax_v4 __attribute__((vector_size(4 * sizeof(float))));
typedef double ax_v4d __attribute__((vector_size(4 * sizeof(double))));
typedef int32_t ax_v8i __attribute__((vector_size(8 * sizeof(int32_t))));

static inline ax_v8 ax_v8_load(const float *x)
{
	ax_v8 v;
	memcpy(&v, x, sizeof v);
	return v;
}

static inline ax_v8 ax_v8_splat(float s)
{
#ifdef __AVX__
	return (ax_v8)_mm256_set1_ps(s); // a broadcast; the loop below sometimes became 5 inserts
#else
	ax_v8 v;
	for (int l = 0; l < 8; l++)
		v[l] = s;
	return v;
#endif
}

static inline void ax_v8_store(float *x, ax_v8 v)
{
	memcpy(x, &v, sizeof v);
}

/* a * b + c, fused where the target has FMA (ISO C mode contracts nothing
 * by itself); with the same build, the same bits every run. */
static inline ax_v8 ax_v8_fma(ax_v8 a, ax_v8 b, ax_v8 c)
{
#ifdef __FMA__
	return (ax_v8)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
	return a * b + c;
#endif
}

#ifdef __AVX512F__
/* 16 floats, one AVX-512 register, for kernels that keep the lane order of
 * their 8-float form (the 3x3 convolution's): each lane does the same
 * operations in the same order either way, so the bits do not depend on
 * the width. */
typedef float ax_v16 __attribute__((vector_size(16 * sizeof(float))));

static inline ax_v16 ax_v16_load(const float *x)
{
	return (ax_v16)_mm512_loadu_ps(x);
}

static inline ax_v16 ax_v16_splat(float s)
{
	return (ax_v16)_mm512_set1_ps(s);
}

static inline void ax_v16_store(float *x, ax_v16 v)
{
	_mm512_storeu_ps(x, (__m512)v);
}

static inline ax_v16 ax_v16_fma(ax_v16 a, ax_v16 b, ax_v16 c)
{
	return (ax_v16)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
}

// lanes 0-7 from lo[0..8), 8-15 from hi[0..8)
static inline ax_v16 ax_v16_pair(const float *lo, const float *hi)
{
	__m256d h = _mm256_loadu_pd((const double *)hi);
	return (ax_v16)_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(lo))), h, 1);
}

// x[0..8) in both halves
static inline ax_v16 ax_v16_twice(const float *x)
{
	return (ax_v16)_mm512_broadcast_f64x4(_mm256_loadu_pd((const double *)x));
}

/* ax_v8_total of each half at once, in lanes 0 and 8: the same additions
 * (x + 0, then lanes 4, 2, 1 apart), in shuffles that stay within halves. */
static inline ax_v16 ax_v16_halves_total(ax_v16 v)
{
	__m512 u = _mm512_add_ps((__m512)v, _mm512_setzero_ps());
	u = _mm512_add_ps(u, _mm512_shuffle_f32x4(u, u, _MM_SHUFFLE(2, 3, 0, 1)));
	u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(1, 0, 3, 2)));
	u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(2, 3, 0, 1)));
	return (ax_v16)u;
}
#endif

/* The first n (0..8) elements of x, fill in the other lanes. With AVX2 one
 * masked load, which reads (and faults on) none of the other lanes; the
 * lane-by-lane loop compiles to scalar loads and branches. Same values. */
static inline ax_v8 ax_v8_load_part(const float *x, size_t n, float fill)
{
#ifdef __AVX2__
	ax_v8i lane = { 0, 1, 2, 3, 4, 5, 6, 7 }, in = lane < (int32_t)n;
	ax_v8 v = (ax_v8)_mm256_maskload_ps(x, (__m256i)in);
	return (ax_v8)((in & (ax_v8i)v) | (~in & (ax_v8i)ax_v8_splat(fill)));
#else
	ax_v8 v;
	for (int l = 0; l < 8; l++)
		v[l] = (size_t)l < n ? x[l] : fill;
	return v;
#endif
}

/* Lanes 0-7 and 8-15 of x[0..n), n < 16, fill beyond. */
static inline void ax_v8_tail(const float *x, size_t n, float fill, ax_v8 *lo, ax_v8 *hi)
{
	*lo = ax_v8_load_part(x, n < 8 ? n : 8, fill);
	*hi = ax_v8_load_part(x + 8, n > 8 ? n - 8 : 0, fill);
}

/* The pairwise finish: (lo + hi), then lanes 4, 2, 1 apart. */
static inline float ax_v8_total(const ax_v8 *lo, const ax_v8 *hi)
{
	ax_v8 v = *lo + *hi;
	for (int w = 4; w > 0; w /= 2)
		for (int l = 0; l < w; l++)
			v[l] += v[l + w];
	return v[0];
}

#ifdef __AVX2__
/* ax_v8_total(&v[j], zero) for j = 0..7 at once, lane j of the result: the
 * same additions (x + 0, then lanes 4, 2, 1 apart), in shuffles across the
 * eight registers instead of within each. */
static inline ax_v8 ax_v8_totals8(const ax_v8 *v)
{
	__m256 z = _mm256_setzero_ps(), s[4], q[2];
	for (int j = 0; j < 4; j++) {
		__m256 a = _mm256_add_ps((__m256)v[2 * j], z), b = _mm256_add_ps((__m256)v[2 * j + 1], z);
		s[j] = _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
	}
	for (int j = 0; j < 2; j++) // lanes l + (l + 2)
		q[j] = _mm256_add_ps(_mm256_shuffle_ps(s[2 * j], s[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
				     _mm256_shuffle_ps(s[2 * j], s[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
	__m256 r = _mm256_add_ps(_mm256_shuffle_ps(q[0], q[1], _MM_SHUFFLE(2, 0, 2, 0)),
				 _mm256_shuffle_ps(q[0], q[1], _MM_SHUFFLE(3, 1, 3, 1)));
	// r holds v0, v2, v4, v6 | v1, v3, v5, v7
	return (ax_v8)_mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}
#endif

/* The same 16 lanes in double: a[0] lanes 0-3 ... a[3] lanes 12-15. */
struct ax_lanes_d {
	ax_v4d a[4];
};

/* acc += x[0..n) into lanes i % 16, in double; n a multiple of 16 except at
 * the very end of a sum. */
static inline void ax_lanes_d_add(struct ax_lanes_d *acc, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i += AX_LANES) {
		float b[AX_LANES];
		for (int l = 0; l < AX_LANES; l++)
			b[l] = i + l < n ? x[i + l] : 0.0f;
		for (int q = 0; q < 4; q++) {
			ax_v4 v;
			memcpy(&v, b + 4 * q, sizeof v);
			acc->a[q] += __builtin_convertvector(v, ax_v4d);
		}
	}
}

static inline double ax_lanes_d_total(const struct ax_lanes_d *acc)
{
	ax_v4d v = (acc->a[0] + acc->a[2]) + (acc->a[1] + acc->a[3]);
	v[0] += v[2];
	v[1] += v[3];
	return v[0] + v[1];
}

/* sum x[i] */
static inline float ax_sumf(size_t n, const float *x)
{
	ax_v8 lo = { 0 }, hi = { 0 }, tl, th;
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		lo += ax_v8_load(x + i);
		hi += ax_v8_load(x + i + 8);
	}
	if (i < n) {
		ax_v8_tail(x + i, n - i, 0.0f, &tl, &th);
		lo += tl;
		hi += th;
	}
	return ax_v8_total(&lo, &hi);
}

/* sum a[i] * b[i] */
static inline float ax_dotf(size_t n, const float *a, const float *b)
{
	ax_v8 lo = { 0 }, hi = { 0 }, al, ah, bl, bh;
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		lo += ax_v8_load(a + i) * ax_v8_load(b + i);
		hi += ax_v8_load(a + i + 8) * ax_v8_load(b + i + 8);
	}
	if (i < n) {
		ax_v8_tail(a + i, n - i, 0.0f, &al, &ah);
		ax_v8_tail(b + i, n - i, 0.0f, &bl, &bh);
		lo += al * bl;
		hi += ah * bh;
	}
	return ax_v8_total(&lo, &hi);
}

/* sum (x[i] - c)^2 */
static inline float ax_sqdevf(size_t n, const float *x, float c)
{
	ax_v8 lo = { 0 }, hi = { 0 }, dl, dh;
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		dl = ax_v8_load(x + i) - c;
		dh = ax_v8_load(x + i + 8) - c;
		lo += dl * dl;
		hi += dh * dh;
	}
	if (i < n) {
		ax_v8_tail(x + i, n - i, c, &dl, &dh);
		dl -= c;
		dh -= c;
		lo += dl * dl;
		hi += dh * dh;
	}
	return ax_v8_total(&lo, &hi);
}

/* sum a[i] and sum a[i] * (x[i] - c) in one pass, each in ax_sumf's lanes */
static inline void ax_sum_dotdevf(size_t n, const float *a, const float *x, float c, float *sum,
				  float *dot)
{
	ax_v8 slo = { 0 }, shi = { 0 }, lo = { 0 }, hi = { 0 }, al, ah, xl, xh;
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		al = ax_v8_load(a + i);
		ah = ax_v8_load(a + i + 8);
		slo += al;
		shi += ah;
		lo += al * (ax_v8_load(x + i) - c);
		hi += ah * (ax_v8_load(x + i + 8) - c);
	}
	if (i < n) {
		ax_v8_tail(a + i, n - i, 0.0f, &al, &ah);
		ax_v8_tail(x + i, n - i, c, &xl, &xh);
		slo += al;
		shi += ah;
		lo += al * (xl - c);
		hi += ah * (xh - c);
	}
	*sum = ax_v8_total(&slo, &shi);
	*dot = ax_v8_total(&lo, &hi);
}

/* *acc = lane-wise v > *acc ? v : *acc (a NaN in v is skipped, as in a
 * serial max); pointers, not vector arguments, keep the ABI out of it. */
static inline void ax_v8_max_into(ax_v8 *acc, const ax_v8 *v)
{
	ax_v8i m = *v > *acc;
	*acc = (ax_v8)(((ax_v8i)*v & m) | ((ax_v8i)*acc & ~m));
}

/* max x[i] (-inf for n == 0); exact in any order. */
static inline float ax_maxf(size_t n, const float *x)
{
	ax_v8 lo = ax_v8_load_part(x, 0, -INFINITY), hi = lo, tl, th;
	size_t i = 0;
	for (; i + AX_LANES <= n; i += AX_LANES) {
		tl = ax_v8_load(x + i);
		th = ax_v8_load(x + i + 8);
		ax_v8_max_into(&lo, &tl);
		ax_v8_max_into(&hi, &th);
	}
	if (i < n) {
		ax_v8_tail(x + i, n - i, -INFINITY, &tl, &th);
		ax_v8_max_into(&lo, &tl);
		ax_v8_max_into(&hi, &th);
	}
	ax_v8_max_into(&lo, &hi);
	float m = lo[0];
	for (int l = 1; l < 8; l++)
		m = lo[l] > m ? lo[l] : m;
	return m;
}

#endif
