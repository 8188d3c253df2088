/* data.c — the data of the paper's experiments: correlated regression
 * inputs, synthetic weight changes of known geometry, Fashion-MNIST. */
#include "md_geom.h"

#include <math.h>
#include <string.h>

void mdg_fft_table(int M, double *tw)
{
	for (int k = 0; k < M / 2; k++) {
		tw[2 * k] = cos(-2 * M_PI * k / M);
		tw[2 * k + 1] = sin(-2 * M_PI * k / M);
	}
}

void mdg_fft(int M, const double *tw, double *re, double *im)
{
	for (int i = 1, j = 0; i < M; i++) {  /* bit-reversal permutation */
		int bit = M >> 1;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
		if (i < j) {
			double t = re[i]; re[i] = re[j]; re[j] = t;
			t = im[i]; im[i] = im[j]; im[j] = t;
		}
	}
	/* Butterflies block by block, so memory is walked in order. */
	for (int len = 2; len <= M; len <<= 1) {
		int half = len / 2, stride = M / len;
		for (int s = 0; s < M; s += len) {
			double *ar = re + s, *ai = im + s, *br = ar + half, *bi = ai + half;
			for (int k = 0; k < half; k++) {
				double wr = tw[2 * k * stride], wi = tw[2 * k * stride + 1];
				double xr = br[k] * wr - bi[k] * wi, xi = br[k] * wi + bi[k] * wr;
				br[k] = ar[k] - xr;
				bi[k] = ai[k] - xi;
				ar[k] += xr;
				ai[k] += xi;
			}
		}
	}
}

enum ax_status mdg_corr_rows(int D, double q, int n, struct ax_rng *r, float *x)
{
	int M = 2;
	while (M < 2 * (D - 1))
		M *= 2;
	double *lam = ax_xmalloc((size_t)M * sizeof *lam), *im = ax_xcalloc((size_t)M, sizeof *im);
	double *tw = ax_xmalloc((size_t)M * sizeof *tw);
	mdg_fft_table(M, tw);
	for (int j = 0; j < M; j++) {  /* first row of the circulant */
		int lag = AX_MIN(j, M - j);
		lam[j] = (lag % 2 ? -1.0 : 1.0) / pow(1.0 + lag, q);
	}
	mdg_fft(M, tw, lam, im);
	for (int j = 0; j < M; j++) {
		if (lam[j] < -1e-9 * M) {
			double bad = lam[j];
			free(lam);
			free(im);
			free(tw);
			return ax_error_set(AX_ERR_NUMERIC, "correlation with q = %g does not embed "
					    "in a positive circulant (eigenvalue %g)", q, bad);
		}
		lam[j] = sqrt(AX_MAX(lam[j], 0.0) / M);
	}
	double *re = ax_xmalloc((size_t)M * sizeof *re);
	for (int row = 0; row < n; row += 2) {
		for (int j = 0; j < M; j++) {
			re[j] = lam[j] * ax_rng_normal(r);
			im[j] = lam[j] * ax_rng_normal(r);
		}
		mdg_fft(M, tw, re, im);
		for (int j = 0; j < D; j++) {
			x[(size_t)row * D + j] = (float)re[j];
			if (row + 1 < n)
				x[(size_t)(row + 1) * D + j] = (float)im[j];
		}
	}
	free(re);
	free(im);
	free(lam);
	free(tw);
	return AX_OK;
}

enum ax_status mdg_regress_make(struct mdg_regress *t, int D, int N, double q, uint64_t seed)
{
	struct ax_rng root, rx, ru, ry;
	ax_rng_seed(&root, seed);
	rx = ax_rng_split(&root, 1);
	ru = ax_rng_split(&root, 2);
	ry = ax_rng_split(&root, 3);
	t->D = D;
	t->N = N;
	t->X = ax_xmalloc((size_t)N * D * sizeof *t->X);
	t->y = ax_xmalloc((size_t)N * sizeof *t->y);
	enum ax_status st = mdg_corr_rows(D, q, N, &rx, t->X);
	if (st) {
		mdg_regress_free(t);
		return st;
	}
	for (size_t i = 0; i < (size_t)N * D; i++)
		t->X[i] += ax_rng_uniform(&ru) - 0.5f;
	for (int i = 0; i < N; i++)
		t->y[i] = ax_rng_bernoulli(&ry, 0.5f) ? 1.0f : -1.0f;
	return AX_OK;
}

void mdg_regress_free(struct mdg_regress *t)
{
	free(t->X);
	free(t->y);
	memset(t, 0, sizeof *t);
}

void mdg_synth(const struct mdg_synth *s, struct ax_potential pot, uint64_t seed, float *w0,
	       float *w1)
{
	struct ax_rng root, rw, rs, rx;
	ax_rng_seed(&root, seed);
	rw = ax_rng_split(&root, 1);
	rs = ax_rng_split(&root, 2);
	rx = ax_rng_split(&root, 3);
	double typical = 1.0 / sqrt((double)s->D);
	double step = s->scale * fabs(ax_potential_grad(pot, typical));
	for (int i = 0; i < s->D; i++) {
		double w;
		if (s->init == MDG_INIT_GAUSS) {
			w = typical * ax_rng_normal(&rw);
		} else {
			double sign = ax_rng_bernoulli(&rs, 0.5f) ? 1.0 : -1.0;
			w = sign * exp(log(typical) + s->sigma * ax_rng_normal(&rw));
		}
		double z = ax_potential_grad(pot, w) + step * ax_rng_normal(&rx);
		w0[i] = (float)w;
		w1[i] = (float)ax_potential_inverse(pot, z, w < 0 ? -1.0 : 1.0);
	}
}

enum ax_status mdg_images_load(const char *dir, int train, int max_n, struct mdg_images *im)
{
	struct ax_array xa = { 0 }, ya = { 0 };
	memset(im, 0, sizeof *im);
	enum ax_status st = ax_idx_load_labelled(dir, train ? "train" : "t10k", 28, 10, max_n,
						 &xa, &ya);
	if (!st) {
		im->n = (int)xa.shape[0];
		im->x = ax_xmalloc((size_t)im->n * 784 * sizeof *im->x);
		im->y = ax_xmalloc((size_t)im->n * sizeof *im->y);
		const uint8_t *px = xa.data, *lb = ya.data;
		for (size_t i = 0; i < (size_t)im->n * 784; i++)
			im->x[i] = px[i] / 255.0f;
		for (int i = 0; i < im->n; i++)
			im->y[i] = lb[i];
	}
	ax_array_free(&xa);
	ax_array_free(&ya);
	return st;
}

void mdg_images_free(struct mdg_images *im)
{
	free(im->x);
	free(im->y);
	memset(im, 0, sizeof *im);
}
