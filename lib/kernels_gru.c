/* kernels_gru.c — GRU over a whole sequence, PyTorch nn.GRU semantics.
 *
 * x (B, T, I), h0 (B, H) or NULL, w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H)
 * or NULL, hs (B, T, H). Gate order r, z, n.
 *
 * Forward: the input projections of all steps are one sgemm before the loop
 * (written straight into the gate buffer); each step is one sgemm
 * h_{t-1} @ w_hh^T, reading h_{t-1} from hs with row stride T*H, then a fused
 * elementwise pass.
 * Batch rows never interact, so the time loops run with the batch split into
 * one contiguous slice per OpenMP thread, each slice stepping through all T
 * steps on its own (single-threaded sgemms, no barrier per step).
 *   saved: G (B, T, 4H) = [r, z, n, hn] with hn = W_hn h + b_hn, then
 *          gh (B, 3H) forward scratch, then a zero row (H) standing for a
 *          NULL h0.
 * Backward: a reverse loop computes the gate gradients of every step (one
 * sgemm per step carries dh back through w_hh); then dx, dw_ih, dw_hh and
 * the biases are a few large sgemms / column sums over all B*T rows.
 *   work: dGi (B, T, 3H) = d(pre-activations) seen by w_ih / b_ih,
 *         dGh (B, T, 3H) = the same seen by w_hh / b_hh (n part times r),
 *         hp (B, T, H) previous hidden states, carry (B, H), a zero row (H).
 */
#include "ax_kernels.h"
#include "ax_math.h"

#include <math.h>
#include <string.h>

#include <omp.h>

size_t ax_gru_saved_size(int B, int T, int I, int H)
{
	return (size_t)B * T * 4 * H + (size_t)B * 3 * H + H;
}

size_t ax_gru_work_size(int B, int T, int I, int H)
{
	return (size_t)B * T * 7 * H + (size_t)B * H + H;
}

// Branch-free (so the gate loops vectorise) and stable: ax_expf clamps, so
// exp never overflows and a saturated gate is exactly 0 or 1 within rounding.
static inline float sigmoidf(float x)
{
	return 1.0f / (1.0f + ax_expf(-x));
}

// Batch slice [*b0, *b1) of the calling thread.
static void my_rows(int B, int *b0, int *b1)
{
	int nt = omp_get_num_threads(), t = omp_get_thread_num();
	*b0 = (int)((long)B * t / nt);
	*b1 = (int)((long)B * (t + 1) / nt);
}

// The batch's rows split across the OpenMP team (B > 1). With or without a
// team, OpenBLAS runs single-threaded in the region when there are several
// threads: in an inactive region its threads would be a nested team that
// libgomp starts anew on every call.
static int use_team(int B)
{
	return omp_get_max_threads() > 1 && B > 1;
}

static void bias_fill(float *row, const float *bias, int n)
{
	if (bias)
		memcpy(row, bias, (size_t)n * sizeof(float));
	else
		memset(row, 0, (size_t)n * sizeof(float));
}

// One row of one step: g holds [x W_i^T + b_i (3H), -] on entry and
// [r, z, n, hn] on exit; gh = h W_h^T + b_h (3H); hp = h_{t-1} (a zero row
// when there is none: `hp ? hp[j] : 0` in the loop would stop vectorisation).
static void gru_cell(int H, float *restrict g, const float *restrict gh,
		     const float *restrict hp, float *restrict h)
{
	for (int j = 0; j < H; j++) { // [vec]
		float r = sigmoidf(g[j] + gh[j]), z = sigmoidf(g[H + j] + gh[H + j]);
		float hn = gh[2 * H + j];
		float n = ax_tanhf(g[2 * H + j] + r * hn);
		h[j] = n + z * (hp[j] - n);
		g[j] = r, g[H + j] = z, g[2 * H + j] = n, g[3 * H + j] = hn;
	}
}

// Backward of one row of one step: dh = dh_out + c (carried from step t+1);
// gate gradients gi, gh out; c becomes the direct part of dh_{t-1}.
static void gru_cell_back(int H, const float *restrict g, const float *restrict dh_out,
			  const float *restrict hp, float *restrict gi, float *restrict gh,
			  float *restrict c)
{
	for (int j = 0; j < H; j++) { // [vec]
		float r = g[j], z = g[H + j], n = g[2 * H + j], hn = g[3 * H + j];
		float dh = dh_out[j] + c[j];
		// h' = n + z (h - n)
		float dn = dh * (1.0f - z) * (1.0f - n * n);
		float dz = dh * (hp[j] - n) * z * (1.0f - z);
		float dr = dn * hn * r * (1.0f - r);
		gi[j] = dr, gi[H + j] = dz, gi[2 * H + j] = dn;
		gh[j] = dr, gh[H + j] = dz, gh[2 * H + j] = dn * r;
		c[j] = dh * z;
	}
}

void ax_gru_forward(int B, int T, int I, int H, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
		    float *hs, float *saved)
{
	AX_ASSERT(B > 0 && T > 0 && I > 0 && H > 0 && "gru: bad shape");
	int H3 = 3 * H, H4 = 4 * H;
	float *G = saved, *gh = saved + (size_t)B * T * H4, *zrow = gh + (size_t)B * H3;
	memset(zrow, 0, (size_t)H * sizeof(float));
	// G[:, :, 0:3H] = b_ih + x @ w_ih^T   ((B*T, I) x (I, 3H), row stride 4H);
	// biases enter as the beta = 1 term, the way PyTorch's addmm adds them
	for (size_t r = 0; r < (size_t)B * T; r++)
		bias_fill(G + r * H4, b_ih, H3);
	ax_sgemm_ld(0, 1, B * T, H3, I, 1.0f, x, I, w_ih, I, 1.0f, G, H4);
	int team = use_team(B), nt = omp_get_max_threads();
	int prev = nt > 1 ? ax_blas_serial_begin() : 0;
#pragma omp parallel num_threads(nt) if (team)
	{
		int b0, b1;
		my_rows(B, &b0, &b1);
		for (int t = 0; t < T && b1 > b0; t++) {
			const float *hp = t > 0 ? hs + (size_t)b0 * T * H + (size_t)(t - 1) * H
					: h0 ? h0 + (size_t)b0 * H : NULL;
			int ldh = t > 0 ? T * H : H;
			float *ghs = gh + (size_t)b0 * H3;
			// gh (rows, 3H) = b_hh + h_{t-1} @ w_hh^T
			for (int b = b0; b < b1; b++)
				bias_fill(gh + (size_t)b * H3, b_hh, H3);
			if (hp)
				ax_sgemm_ld(0, 1, b1 - b0, H3, H, 1.0f, hp, ldh, w_hh, H, 1.0f, ghs, H3);
			for (int b = b0; b < b1; b++) {
				float *g = G + ((size_t)b * T + t) * H4;
				gru_cell(H, g, gh + (size_t)b * H3, hp ? hp + (size_t)(b - b0) * ldh : zrow,
					 hs + ((size_t)b * T + t) * H);
			}
		}
	}
	if (nt > 1)
		ax_blas_serial_end(prev);
}

void ax_gru_backward(int B, int T, int I, int H, const float *x, const float *h0,
		     const float *w_ih, const float *w_hh, const float *hs, const float *saved,
		     const float *dhs, float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, float *work)
{
	int H3 = 3 * H, H4 = 4 * H;
	size_t BT = (size_t)B * T;
	const float *G = saved;
	float *dGi = work, *dGh = dGi + BT * H3, *hp = dGh + BT * H3, *carry = hp + BT * H;
	float *zrow = carry + (size_t)B * H;
	memset(zrow, 0, (size_t)H * sizeof(float));
	memset(carry, 0, (size_t)B * H * sizeof(float));
	int team = use_team(B), nt = omp_get_max_threads();
	int prev = nt > 1 ? ax_blas_serial_begin() : 0;
#pragma omp parallel num_threads(nt) if (team)
	{
		int b0, b1;
		my_rows(B, &b0, &b1);
		for (int t = T - 1; t >= 0 && b1 > b0; t--) {
			const float *hprev = t > 0 ? hs + (size_t)(t - 1) * H : h0;
			int ldh = t > 0 ? T * H : H;
			for (int b = b0; b < b1; b++) {
				size_t o = (size_t)b * T + t;
				gru_cell_back(H, G + o * H4, dhs + o * H,
					      hprev ? hprev + (size_t)b * ldh : zrow, dGi + o * H3,
					      dGh + o * H3, carry + (size_t)b * H);
			}
			// carry (rows, H) += dGh_t (rows, 3H) @ w_hh (3H, H): dh to h_{t-1}
			if (t > 0 || (dh0 && h0))
				ax_sgemm_ld(0, 0, b1 - b0, H, H3, 1.0f,
					    dGh + (size_t)b0 * T * H3 + (size_t)t * H3, T * H3, w_hh, H,
					    1.0f, carry + (size_t)b0 * H, H);
		}
	}
	if (nt > 1)
		ax_blas_serial_end(prev);
	if (dh0 && h0)
		for (size_t i = 0; i < (size_t)B * H; i++)
			dh0[i] += carry[i];
	// dx (B*T, I) += dGi @ w_ih;  dw_ih (3H, I) += dGi^T @ x
	if (dx)
		ax_sgemm(0, 0, (int)BT, I, H3, 1.0f, dGi, w_ih, 1.0f, dx);
	if (dw_ih)
		ax_sgemm(1, 0, H3, I, (int)BT, 1.0f, dGi, x, 1.0f, dw_ih);
	if (dw_hh) {
		// hp (B, T, H): h_{t-1} for every step (h0 or zeros at t = 0)
		for (int b = 0; b < B; b++) {
			float *row = hp + (size_t)b * T * H;
			if (h0)
				memcpy(row, h0 + (size_t)b * H, (size_t)H * sizeof(float));
			else
				memset(row, 0, (size_t)H * sizeof(float));
			memcpy(row + H, hs + (size_t)b * T * H, (size_t)(T - 1) * H * sizeof(float));
		}
		ax_sgemm(1, 0, H3, H, (int)BT, 1.0f, dGh, hp, 1.0f, dw_hh);
	}
	// bias gradients: column sums in row order
	for (size_t r = 0; r < BT; r++) {
		if (db_ih)
			for (int j = 0; j < H3; j++) // [vec]
				db_ih[j] += dGi[r * H3 + j];
		if (db_hh)
			for (int j = 0; j < H3; j++) // [vec]
				db_hh[j] += dGh[r * H3 + j];
	}
}
