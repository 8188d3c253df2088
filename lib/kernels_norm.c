/* kernels_norm.c — layernorm and rmsnorm over the last dim, forward/backward.
 *
 * Rows are independent, so the row loops run in parallel. The parameter
 * gradients (dgamma, dbeta) are sums over rows: each thread owns a block of
 * columns and sums its rows in order, so the result does not depend on the
 * thread count. Row sums are ax_math.h's fixed-order lane sums, so they
 * vectorise and stay the same on every target.
 */
#include "ax_kernels.h"
#include "ax_math.h"

#include <math.h>

#define COLBLOCK 64
// parallelise only when there is enough work to amortise the fork/join
#define PAR_MIN 32768

// x, y (N, C); gamma (C); beta (C) or NULL; mean, rstd (N)
void ax_layernorm_forward(int N, int C, const float *x, const float *gamma, const float *beta,
			  float eps, float *y, float *mean, float *rstd)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *xr = x + (size_t)n * C;
		float *yr = y + (size_t)n * C;
		float m = ax_sumf(C, xr) / C;
		float v = ax_sqdevf(C, xr, m) / C; // two-pass variance: no cancellation
		float s = 1.0f / sqrtf(v + eps);
		if (beta)
			for (int i = 0; i < C; i++) // [vec]
				yr[i] = (xr[i] - m) * s * gamma[i] + beta[i];
		else
			for (int i = 0; i < C; i++) // [vec]
				yr[i] = (xr[i] - m) * s * gamma[i];
		mean[n] = m;
		rstd[n] = s;
	}
}

// *gsum = sum g, *gxsum = sum g * xhat over one row, g = dy * gamma, in
// ax_math.h's lanes (element i into lane i % AX_LANES).
static void grad_sums(int C, const float *x, const float *dy, const float *gamma, float m,
		      float s, float *gsum, float *gxsum)
{
	ax_v8 g[2], ga[2] = { { 0 } }, gxa[2] = { { 0 } }, xv[2], dv[2], gm[2];
	int i = 0;
	for (; i < C; i += AX_LANES) {
		if (i + AX_LANES <= C)
			for (int h = 0; h < 2; h++) {
				dv[h] = ax_v8_load(dy + i + 8 * h);
				gm[h] = ax_v8_load(gamma + i + 8 * h);
				xv[h] = ax_v8_load(x + i + 8 * h);
			}
		else {
			ax_v8_tail(dy + i, C - i, 0, &dv[0], &dv[1]);
			ax_v8_tail(gamma + i, C - i, 0, &gm[0], &gm[1]);
			ax_v8_tail(x + i, C - i, m, &xv[0], &xv[1]);
		}
		for (int h = 0; h < 2; h++) {
			g[h] = dv[h] * gm[h];
			ga[h] += g[h];
			gxa[h] += g[h] * (xv[h] - m) * s;
		}
	}
	*gsum = ax_v8_total(&ga[0], &ga[1]);
	*gxsum = ax_v8_total(&gxa[0], &gxa[1]);
}

// Backward of both norms, xhat = (x - mean) * rstd, g = dy * gamma:
//   dx += rstd * (g - mean(g) - xhat * mean(g * xhat));
//   dgamma += sum_n dy * xhat; dbeta += sum_n dy.
// mean == NULL is RMSNorm: xhat = x * rstd and no mean(g) term (the
// subtractions of 0 this leaves are exact, so the bits are RMSNorm's own).
static void norm_backward(int N, int C, const float *x, const float *gamma, const float *mean,
			  const float *rstd, const float *dy, float *dx, float *dgamma,
			  float *dbeta, int assign_dx)
{
	if (dx) {
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
		for (int n = 0; n < N; n++) {
			const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
			float *dxr = dx + (size_t)n * C;
			float m = mean ? mean[n] : 0.0f, s = rstd[n];
			float gsum, gxsum;
			grad_sums(C, xr, dyr, gamma, m, s, &gsum, &gxsum);
			gsum = mean ? gsum / C : 0.0f;
			gxsum /= C;
			for (int i = 0; i < C; i++) { // [vec]
				float xhat = (xr[i] - m) * s;
				dxr[i] = (assign_dx ? 0.0f : dxr[i]) +
					 s * (dyr[i] * gamma[i] - gsum - xhat * gxsum);
			}
		}
	}
	if (dgamma || dbeta) {
		int nblk = (C + COLBLOCK - 1) / COLBLOCK;
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
		for (int blk = 0; blk < nblk; blk++) {
			int c0 = blk * COLBLOCK, c1 = AX_MIN(C, c0 + COLBLOCK);
			for (int n = 0; n < N; n++) {
				const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
				float m = mean ? mean[n] : 0.0f, s = rstd[n];
				for (int i = c0; i < c1; i++) { // [vec]
					if (dgamma)
						dgamma[i] += dyr[i] * (xr[i] - m) * s;
					if (dbeta)
						dbeta[i] += dyr[i];
				}
			}
		}
	}
}

void ax_layernorm_backward(int N, int C, const float *x, const float *gamma, const float *mean,
			   const float *rstd, const float *dy, float *dx, float *dgamma,
			   float *dbeta, int assign_dx)
{
	norm_backward(N, C, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, assign_dx);
}

// y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps); x, y (N, C); rstd (N)
void ax_rmsnorm_forward(int N, int C, const float *x, const float *gamma, float eps, float *y,
			float *rstd)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *xr = x + (size_t)n * C;
		float *yr = y + (size_t)n * C;
		float ss = ax_dotf(C, xr, xr);
		float s = 1.0f / sqrtf(ss / C + eps);
		for (int i = 0; i < C; i++) // [vec]
			yr[i] = xr[i] * s * gamma[i];
		rstd[n] = s;
	}
}

void ax_rmsnorm_backward(int N, int C, const float *x, const float *gamma, const float *rstd,
			 const float *dy, float *dx, float *dgamma, int assign_dx)
{
	norm_backward(N, C, x, gamma, NULL, rstd, dy, dx, dgamma, NULL, assign_dx);
}

/* ---- batch normalisation over (B, C, S): per channel c, statistics over
 * the B*S values x[b, c, s] (S = H*W for images, 1 for (B, C) rows).
 * Images (S > 1): channels are independent and run in parallel; a channel
 * sums each of its B contiguous runs of S values in ax_math.h's float lanes
 * and adds the B run sums in double. Rows (S = 1): a block of BN_BLOCK
 * channels at a time, the sums over rows in double, channel by channel in
 * the rows' order (the loop over channels vectorises). Either way the order
 * is fixed by the code, so results do not depend on the thread count. */
#define BN_BLOCK 64

static void bn_finish(double sum, double sq, long M, float eps, float *mean, float *rstd,
		      float *var_unbiased)
{
	*mean = (float)(sum / M);
	*rstd = (float)(1.0 / sqrt(sq / M + eps));
	if (var_unbiased)
		*var_unbiased = M > 1 ? (float)(sq / (M - 1)) : 0.0f;
}

// rows x (B, C): the statistics of channels [c0, c0 + n), n <= BN_BLOCK
static void bn_stats_rows(int B, int C, int c0, int n, const float *x, float eps, float *mean,
			  float *rstd, float *var_unbiased)
{
	double sum[BN_BLOCK] = { 0 }, sq[BN_BLOCK] = { 0 }, m[BN_BLOCK];
	for (int b = 0; b < B; b++) {
		const float *xr = x + (size_t)b * C + c0;
		for (int i = 0; i < n; i++) // [vec]
			sum[i] += xr[i];
	}
	for (int i = 0; i < n; i++)
		m[i] = sum[i] / B;
	for (int b = 0; b < B; b++) {
		const float *xr = x + (size_t)b * C + c0;
		for (int i = 0; i < n; i++) // [vec]
			sq[i] += (xr[i] - m[i]) * (xr[i] - m[i]);
	}
	for (int i = 0; i < n; i++)
		bn_finish(sum[i], sq[i], B, eps, mean + c0 + i, rstd + c0 + i,
			  var_unbiased ? var_unbiased + c0 + i : NULL);
}

// Training: mean and biased variance of each channel; var_unbiased (C) or
// NULL receives the unbiased variance (for running statistics).
void ax_batchnorm_stats(int B, int C, int S, const float *x, float eps, float *mean, float *rstd,
			float *var_unbiased)
{
	long M = (long)B * S;
	if (S == 1) {
#pragma omp parallel for schedule(static) if (M * C > PAR_MIN)
		for (int c0 = 0; c0 < C; c0 += BN_BLOCK)
			bn_stats_rows(B, C, c0, AX_MIN(BN_BLOCK, C - c0), x, eps, mean, rstd,
				      var_unbiased);
		return;
	}
#pragma omp parallel for schedule(static) if (M * C > PAR_MIN)
	for (int c = 0; c < C; c++) {
		double sum = 0, sq = 0;
		for (int b = 0; b < B; b++)
			sum += ax_sumf(S, x + ((size_t)b * C + c) * S);
		float m = (float)(sum / M);
		for (int b = 0; b < B; b++)
			sq += ax_sqdevf(S, x + ((size_t)b * C + c) * S, m);
		bn_finish(sum, sq, M, eps, mean + c, rstd + c, var_unbiased ? var_unbiased + c : NULL);
	}
}

// y = (x - mean) * rstd * gamma + beta; gamma, beta (C) or NULL (1, 0)
void ax_batchnorm_forward(int B, int C, int S, const float *x, const float *mean,
			  const float *rstd, const float *gamma, const float *beta, float *y)
{
#pragma omp parallel for schedule(static) if ((long)B * C * S > PAR_MIN)
	for (int bc = 0; bc < B * C; bc++) {
		int c = bc % C;
		float a = rstd[c] * (gamma ? gamma[c] : 1.0f), m = mean[c], o = beta ? beta[c] : 0.0f;
		const float *xr = x + (size_t)bc * S;
		float *yr = y + (size_t)bc * S;
		for (int s = 0; s < S; s++) // [vec]
			yr[s] = (xr[s] - m) * a + o;
	}
}

// rows x, dy, dx (B, C): backward of channels [c0, c0 + n), n <= BN_BLOCK
static void bn_backward_rows(int B, int C, int c0, int n, int training, const float *x,
			     const float *mean, const float *rstd, const float *gamma,
			     const float *dy, float *dx, float *dgamma, float *dbeta, int assign_dx)
{
	double gs[BN_BLOCK] = { 0 }, gxs[BN_BLOCK] = { 0 };
	float m[BN_BLOCK], r[BN_BLOCK], a[BN_BLOCK], mg[BN_BLOCK], mgx[BN_BLOCK];
	for (int i = 0; i < n; i++)
		m[i] = mean[c0 + i], r[i] = rstd[c0 + i];
	for (int b = 0; b < B; b++) {
		const float *xr = x + (size_t)b * C + c0, *dyr = dy + (size_t)b * C + c0;
		for (int i = 0; i < n; i++) { // [vec]
			gs[i] += dyr[i];
			gxs[i] += (double)dyr[i] * ((xr[i] - m[i]) * r[i]);
		}
	}
	for (int i = 0; i < n; i++) {
		if (dgamma)
			dgamma[c0 + i] += (float)gxs[i];
		if (dbeta)
			dbeta[c0 + i] += (float)gs[i];
		a[i] = r[i] * (gamma ? gamma[c0 + i] : 1.0f);
		mg[i] = training ? (float)(gs[i] / B) : 0.0f;
		mgx[i] = training ? (float)(gxs[i] / B) : 0.0f;
	}
	for (int b = 0; dx && b < B; b++) {
		const float *xr = x + (size_t)b * C + c0, *dyr = dy + (size_t)b * C + c0;
		float *dxr = dx + (size_t)b * C + c0;
		for (int i = 0; i < n; i++) // [vec]
			dxr[i] = (assign_dx ? 0.0f : dxr[i]) +
				 a[i] * (dyr[i] - mg[i] - (xr[i] - m[i]) * r[i] * mgx[i]);
	}
}

// Backward, accumulating. training: mean and rstd were the batch's (dx has
// the terms through the statistics); otherwise they were constants (running
// statistics): dx = gamma * rstd * dy. dx, dgamma, dbeta may be NULL.
// The sums over a channel's values go as the statistics' do.
void ax_batchnorm_backward(int B, int C, int S, int training, const float *x, const float *mean,
			   const float *rstd, const float *gamma, const float *dy, float *dx,
			   float *dgamma, float *dbeta, int assign_dx)
{
	long M = (long)B * S;
	if (S == 1) {
#pragma omp parallel for schedule(static) if (M * C > PAR_MIN)
		for (int c0 = 0; c0 < C; c0 += BN_BLOCK)
			bn_backward_rows(B, C, c0, AX_MIN(BN_BLOCK, C - c0), training, x, mean,
					 rstd, gamma, dy, dx, dgamma, dbeta, assign_dx);
		return;
	}
#pragma omp parallel for schedule(static) if (M * C > PAR_MIN)
	for (int c = 0; c < C; c++) {
		double gs = 0, gxs = 0;
		float m = mean[c], r = rstd[c];
		for (int b = 0; b < B; b++) {
			size_t at = ((size_t)b * C + c) * S;
			float s, d;
			ax_sum_dotdevf(S, dy + at, x + at, m, &s, &d);
			gs += s;
			gxs += d;
		}
		gxs *= r;
		if (dgamma)
			dgamma[c] += (float)gxs;
		if (dbeta)
			dbeta[c] += (float)gs;
		if (!dx)
			continue;
		float a = r * (gamma ? gamma[c] : 1.0f);
		float mg = training ? (float)(gs / M) : 0.0f, mgx = training ? (float)(gxs / M) : 0.0f;
		for (int b = 0; b < B; b++) {
			size_t at = ((size_t)b * C + c) * S;
			const float *xr = x + at, *dyr = dy + at;
			float *dxr = dx + at;
			for (int s = 0; s < S; s++) // [vec]
				dxr[s] = (assign_dx ? 0.0f : dxr[s]) +
					 a * (dyr[s] - mg - (xr[s] - m) * r * mgx);
		}
	}
}
