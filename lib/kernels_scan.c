/* kernels_scan.c — elementwise linear recurrence h_t = a_t * h_{t-1} + b_t.
 * a, b, h, dh (B, T, D); h0 (B, D) or NULL. Each (b, d) lane is an independent
 * sequential recurrence: lanes run in parallel over b, vectorised over d. */
#include "ax_kernels.h"

#define LANES 64 // d-block carried in registers/stack during the reverse scan

void ax_scan_forward(int B, int T, int D, const float *a, const float *b, const float *h0,
		     float *h)
{
#pragma omp parallel for schedule(static) if ((long)B * T * D > 32768)
	for (int bi = 0; bi < B; bi++) {
		size_t o = (size_t)bi * T * D;
		const float *prev = h0 ? h0 + (size_t)bi * D : NULL;
		for (int t = 0; t < T; t++) {
			const float *at = a + o + (size_t)t * D, *bt = b + o + (size_t)t * D;
			float *ht = h + o + (size_t)t * D;
			if (prev)
				for (int d = 0; d < D; d++)
					ht[d] = at[d] * prev[d] + bt[d];
			else
				for (int d = 0; d < D; d++)
					ht[d] = bt[d];
			prev = ht;
		}
	}
}

// g_t = dh_t + a_{t+1} g_{t+1};  da_t += g_t h_{t-1};  db_t += g_t;  dh0 += a_0 g_0
void ax_scan_backward(int B, int T, int D, const float *a, const float *h0, const float *h,
		      const float *dh, float *da, float *db, float *dh0)
{
	int nblk = (D + LANES - 1) / LANES;
#pragma omp parallel for schedule(static) if ((long)B * T * D > 32768)
	for (int job = 0; job < B * nblk; job++) {
		int bi = job / nblk, d0 = job % nblk * LANES, n = AX_MIN(D, d0 + LANES) - d0;
		size_t o = (size_t)bi * T * D + d0;
		float g[LANES];
		for (int d = 0; d < n; d++)
			g[d] = 0.0f;
		for (int t = T - 1; t >= 0; t--) {
			const float *dht = dh + o + (size_t)t * D;
			const float *anext = t + 1 < T ? a + o + (size_t)(t + 1) * D : NULL;
			for (int d = 0; d < n; d++)
				g[d] = anext ? dht[d] + anext[d] * g[d] : dht[d];
			if (db)
				for (int d = 0; d < n; d++)
					db[o + (size_t)t * D + d] += g[d];
			if (da) {
				const float *hp = t > 0 ? h + o + (size_t)(t - 1) * D
						: h0 ? h0 + (size_t)bi * D + d0 : NULL;
				if (hp)
					for (int d = 0; d < n; d++)
						da[o + (size_t)t * D + d] += g[d] * hp[d];
			}
		}
		if (dh0)
			for (int d = 0; d < n; d++)
				dh0[(size_t)bi * D + d0 + d] += a[o + d] * g[d];
	}
}
