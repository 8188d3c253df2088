/* kernels_norm.c — layernorm and rmsnorm over the last dim, forward/backward.
 *
 * Rows are independent, so the row loops run in parallel. The parameter
 * gradients (dgamma, dbeta) are sums over rows: each thread owns a block of
 * columns and sums its rows in order, so the result does not depend on the
 * thread count.
 */
#include "ax_kernels.h"

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
		float m = 0.0f;
		for (int i = 0; i < C; i++)
			m += xr[i];
		m /= C;
		float v = 0.0f; // two-pass variance: no cancellation
		for (int i = 0; i < C; i++) {
			float d = xr[i] - m;
			v += d * d;
		}
		v /= C;
		float s = 1.0f / sqrtf(v + eps);
		for (int i = 0; i < C; i++) {
			float o = (xr[i] - m) * s * gamma[i];
			yr[i] = beta ? o + beta[i] : o;
		}
		mean[n] = m;
		rstd[n] = s;
	}
}

// dx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma;
// dgamma += sum_n dy * xhat; dbeta += sum_n dy
void ax_layernorm_backward(int N, int C, const float *x, const float *gamma, const float *mean,
			   const float *rstd, const float *dy, float *dx, float *dgamma,
			   float *dbeta)
{
	if (dx) {
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
		for (int n = 0; n < N; n++) {
			const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
			float *dxr = dx + (size_t)n * C;
			float m = mean[n], s = rstd[n];
			float gsum = 0.0f, gxsum = 0.0f;
			for (int i = 0; i < C; i++) {
				float g = dyr[i] * gamma[i];
				gsum += g;
				gxsum += g * (xr[i] - m) * s;
			}
			gsum /= C;
			gxsum /= C;
			for (int i = 0; i < C; i++) {
				float xhat = (xr[i] - m) * s;
				dxr[i] += s * (dyr[i] * gamma[i] - gsum - xhat * gxsum);
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
				float m = mean[n], s = rstd[n];
				for (int i = c0; i < c1; i++) {
					if (dgamma)
						dgamma[i] += dyr[i] * (xr[i] - m) * s;
					if (dbeta)
						dbeta[i] += dyr[i];
				}
			}
		}
	}
}

// y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps); x, y (N, C); rstd (N)
void ax_rmsnorm_forward(int N, int C, const float *x, const float *gamma, float eps, float *y,
			float *rstd)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *xr = x + (size_t)n * C;
		float *yr = y + (size_t)n * C;
		float ss = 0.0f;
		for (int i = 0; i < C; i++)
			ss += xr[i] * xr[i];
		float s = 1.0f / sqrtf(ss / C + eps);
		for (int i = 0; i < C; i++)
			yr[i] = xr[i] * s * gamma[i];
		rstd[n] = s;
	}
}

// dx += rstd * (g - xhat * mean(g * xhat)), g = dy * gamma, xhat = x * rstd;
// dgamma += sum_n dy * xhat
void ax_rmsnorm_backward(int N, int C, const float *x, const float *gamma, const float *rstd,
			 const float *dy, float *dx, float *dgamma)
{
	if (dx) {
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
		for (int n = 0; n < N; n++) {
			const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
			float *dxr = dx + (size_t)n * C;
			float s = rstd[n], gx = 0.0f;
			for (int i = 0; i < C; i++)
				gx += dyr[i] * gamma[i] * xr[i] * s;
			gx /= C;
			for (int i = 0; i < C; i++)
				dxr[i] += s * (dyr[i] * gamma[i] - xr[i] * s * gx);
		}
	}
	if (dgamma) {
		int nblk = (C + COLBLOCK - 1) / COLBLOCK;
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
		for (int blk = 0; blk < nblk; blk++) {
			int c0 = blk * COLBLOCK, c1 = AX_MIN(C, c0 + COLBLOCK);
			for (int n = 0; n < N; n++) {
				const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
				float s = rstd[n];
				for (int i = c0; i < c1; i++)
					dgamma[i] += dyr[i] * xr[i] * s;
			}
		}
	}
}
