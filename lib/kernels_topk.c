/* kernels_topk.c — per-row top-k selection (no gradient). */
#include "ax_kernels.h"

// "a ranks below b": smaller value, or equal value and larger index
static inline int worse(const float *x, int32_t a, int32_t b)
{
	return x[a] < x[b] || (x[a] == x[b] && a > b);
}

// min-heap on "worse" in h[0..n): the root is the weakest selected index
static void sift_down(const float *x, int32_t *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && worse(x, h[l], h[m]))
			m = l;
		if (r < n && worse(x, h[r], h[m]))
			m = r;
		if (m == i)
			return;
		int32_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(const float *x, int32_t *h, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!worse(x, h[i], h[p]))
			return;
		int32_t t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static void sort_ascending(int32_t *v, int n)
{
	// Shell sort: in place, no scratch, fast for the k of token routing
	static const int gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	for (size_t g = 0; g < AX_COUNTOF(gaps); g++) {
		int gap = gaps[g];
		for (int i = gap; i < n; i++) {
			int32_t t = v[i];
			int j = i;
			for (; j >= gap && v[j - gap] > t; j -= gap)
				v[j] = v[j - gap];
			v[j] = t;
		}
	}
}

// x (N, C) -> idx (N, k): the k largest of each row (ties to the lower index),
// listed in ascending index order. O(C log k) per row with a heap kept in idx.
// NaNs compare as neither larger nor smaller: keep them out of x.
void ax_topk_rows(int N, int C, int k, const float *x, int32_t *idx)
{
	AX_ASSERT(k >= 0 && k <= C && "topk: k must be in [0, C]");
	if (k == 0)
		return;
#pragma omp parallel for schedule(static) if ((long)N * C > 32768)
	for (int n = 0; n < N; n++) {
		const float *xr = x + (size_t)n * C;
		int32_t *h = idx + (size_t)n * k;
		for (int j = 0; j < k; j++) {
			h[j] = j;
			sift_up(xr, h, j);
		}
		for (int j = k; j < C; j++)
			if (worse(xr, h[0], j)) { // j beats the weakest: replace it
				h[0] = j;
				sift_down(xr, h, k, 0);
			}
		sort_ascending(h, k);
	}
}
