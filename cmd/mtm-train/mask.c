/* mask.c — the masking schemes of MtM (see mtm.h for the rules). */
#include "mtm.h"

#include <string.h>

const char *const mtm_scheme_names[MTM_NSCHEMES + 1] = {
	"neuron", "causal", "intra", "inter", "temporal", NULL,
};

/* Whole neuron columns: keep = 0 and target = 1 on every bin of neuron n. */
static void mask_neuron(int T, int N, int n, float *keep, float *target)
{
	for (int t = 0; t < T; t++) {
		keep[(size_t)t * N + n] = 0;
		target[(size_t)t * N + n] = 1;
	}
}

static void mask_bin(int N, int t, float *keep, float *target)
{
	for (int n = 0; n < N; n++) {
		keep[(size_t)t * N + n] = 0;
		target[(size_t)t * N + n] = 1;
	}
}

int mtm_mask_forward(int T, int N, int window, float *keep, float *target)
{
	for (size_t i = 0; i < (size_t)T * N; i++)
		keep[i] = 1, target[i] = 0;
	for (int t = T - window; t < T; t++)
		mask_bin(N, t, keep, target);
	return window * N;
}

int mtm_mask_draw(enum mtm_scheme s, struct ax_rng *r, int T, int N, const int32_t *region,
		  int nregions, float *keep, float *target)
{
	size_t TN = (size_t)T * N;
	for (size_t i = 0; i < TN; i++)
		keep[i] = 1, target[i] = 0;
	int hits = 0;
	switch (s) {
	case MTM_NEURON:
		for (int n = 0; n < N; n++)
			if (ax_rng_uniform(r) < 0.3f)
				mask_neuron(T, N, n, keep, target), hits++;
		if (!hits)
			mask_neuron(T, N, (int)ax_rng_below(r, N), keep, target), hits = 1;
		return hits * T;
	case MTM_TEMPORAL:
	case MTM_CAUSAL: {
		float p = s == MTM_CAUSAL ? 0.6f : 0.3f;
		for (int t = 0; t < T; t++)
			if (ax_rng_uniform(r) < p)
				mask_bin(N, t, keep, target), hits++;
		if (!hits)
			mask_bin(N, (int)ax_rng_below(r, T), keep, target), hits = 1;
		return hits * N;
	}
	case MTM_INTER: {
		int target_region = (int)ax_rng_below(r, nregions);
		for (int n = 0; n < N; n++)
			if (region[n] == target_region)
				mask_neuron(T, N, n, keep, target), hits++;
		return hits * T;
	}
	case MTM_INTRA: {
		int target_region = (int)ax_rng_below(r, nregions), inside = 0;
		for (int n = 0; n < N; n++) {
			if (region[n] != target_region) {
				for (int t = 0; t < T; t++)
					keep[(size_t)t * N + n] = 0;
				continue;
			}
			inside++;
			if (ax_rng_uniform(r) < 0.3f)
				mask_neuron(T, N, n, keep, target), hits++;
		}
		if (!hits && inside) { /* force the k-th neuron of the region */
			int k = (int)ax_rng_below(r, inside);
			for (int n = 0; n < N; n++)
				if (region[n] == target_region && k-- == 0)
					mask_neuron(T, N, n, keep, target), hits = 1;
		}
		return hits * T;
	}
	default:
		AX_ASSERT(0 && "unknown masking scheme");
	}
	return 0;
}
