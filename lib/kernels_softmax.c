/* kernels_softmax.c — row softmax, log-softmax and fused softmax-cross-entropy.
 * All row-wise and stable: the row max is subtracted before exp. exp is
 * ax_expf and row sums are ax_math.h's fixed-order lane sums, so every loop
 * vectorises. */
#include "ax_kernels.h"
#include "ax_math.h"

#include <math.h>
#include <string.h>

#include <omp.h>

#define PAR_MIN 32768

// y = exp(x - max x) over one row of C; returns the sum, *mx = max x.
// The shared first half of softmax, log-softmax and cross-entropy.
static float exp_shifted(int C, const float *x, float *y, float *mx)
{
	float m = ax_maxf(C, x);
	for (int i = 0; i < C; i++) // [vec]
		y[i] = ax_expf(x[i] - m);
	*mx = m;
	return ax_sumf(C, y);
}

// x, y (N, C)
void ax_softmax_forward(int N, int C, const float *x, float *y)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		float *yr = y + (size_t)n * C, mx;
		float inv = 1.0f / exp_shifted(C, x + (size_t)n * C, yr, &mx);
		for (int i = 0; i < C; i++) // [vec]
			yr[i] *= inv;
	}
}

// dx += y * (dy - sum(dy * y))
void ax_softmax_backward(int N, int C, const float *y, const float *dy, float *dx)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *yr = y + (size_t)n * C, *dyr = dy + (size_t)n * C;
		float *dxr = dx + (size_t)n * C;
		float dot = ax_dotf(C, dyr, yr);
		for (int i = 0; i < C; i++) // [vec]
			dxr[i] += yr[i] * (dyr[i] - dot);
	}
}

// y = x - max - log(sum exp(x - max)); y holds the exps meanwhile
void ax_log_softmax_forward(int N, int C, const float *x, float *y)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *xr = x + (size_t)n * C;
		float *yr = y + (size_t)n * C, mx;
		float sum = exp_shifted(C, xr, yr, &mx);
		float lse = mx + logf(sum);
		for (int i = 0; i < C; i++) // [vec]
			yr[i] = xr[i] - lse;
	}
}

// dx += dy - exp(y) * sum(dy)
void ax_log_softmax_backward(int N, int C, const float *y, const float *dy, float *dx)
{
#pragma omp parallel for schedule(static) if ((long)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *yr = y + (size_t)n * C, *dyr = dy + (size_t)n * C;
		float *dxr = dx + (size_t)n * C;
		float sum = ax_sumf(C, dyr);
		for (int i = 0; i < C; i++) // [vec]
			dxr[i] += dyr[i] - ax_expf(yr[i]) * sum;
	}
}

// One row: probs = softmax(logits); returns this row's smoothed loss.
// log p[v] = x[v] - lse, so sum_v log p[v] = sum_v x[v] - V * lse.
static double xent_row(int V, const float *x, int32_t t, float s, float *p)
{
	float mx, sum = exp_shifted(V, x, p, &mx), inv = 1.0f / sum;
	for (int i = 0; i < V; i++) // [vec]
		p[i] *= inv;
	double xsum = s != 0 ? ax_sumf(V, x) : 0.0; // only the smoothing term needs it
	double lse = (double)mx + log((double)sum);
	double nll = lse - x[t];
	double smooth = lse - xsum / V;
	return (1.0 - s) * nll + s * smooth;
}

// logits, probs (N, V); targets (N). The mean is over counted rows; the
// per-row losses are summed in a fixed order per thread chunk, then the
// chunks in thread order, so a given thread count gives a fixed result.
float ax_xent_forward(int N, int V, const float *logits, const int32_t *targets, float smoothing,
		      int32_t ignore_index, float *probs, int *count)
{
	enum { MAXT = 256 };
	double part[MAXT] = {0};
	int cnt[MAXT] = {0};
	int nt = 1;
#pragma omp parallel if ((long)N * V > PAR_MIN)
	{
		int tid = omp_get_thread_num();
		int nth = omp_get_num_threads();
#pragma omp single
		nt = nth;
		if (tid < MAXT) {
			int chunk = (N + AX_MIN(nth, MAXT) - 1) / AX_MIN(nth, MAXT);
			int n0 = tid * chunk, n1 = AX_MIN(N, n0 + chunk);
			for (int n = n0; n < n1; n++) {
				const float *xr = logits + (size_t)n * V;
				float *pr = probs + (size_t)n * V;
				int32_t t = targets[n];
				if (t == ignore_index) {
					memset(pr, 0, (size_t)V * sizeof(float));
					continue;
				}
				AX_ASSERT(t >= 0 && t < V && "xent: target out of range");
				part[tid] += xent_row(V, xr, t, smoothing, pr);
				cnt[tid]++;
			}
		}
	}
	double loss = 0.0;
	int c = 0;
	for (int i = 0; i < AX_MIN(nt, MAXT); i++) {
		loss += part[i];
		c += cnt[i];
	}
	if (count)
		*count = c;
	return c > 0 ? (float)(loss / c) : 0.0f;
}

// dlogits += dloss / count * (p - (1-s) onehot(t) - s/V) on counted rows
void ax_xent_backward(int N, int V, const float *probs, const int32_t *targets, float smoothing,
		      int32_t ignore_index, int count, float dloss, float *dlogits)
{
	if (count <= 0 || !dlogits)
		return;
	float g = dloss / count, off = smoothing / V;
#pragma omp parallel for schedule(static) if ((long)N * V > PAR_MIN)
	for (int n = 0; n < N; n++) {
		int32_t t = targets[n];
		if (t == ignore_index)
			continue;
		const float *pr = probs + (size_t)n * V;
		float *dr = dlogits + (size_t)n * V;
		for (int i = 0; i < V; i++) // [vec]
			dr[i] += g * (pr[i] - off);
		dr[t] -= g * (1.0f - smoothing);
	}
}
