/* stats.c — bits per spike, ridge and logistic regression, R^2. */
#include "ax_stats.h"

#include <math.h>
#include <string.h>

double ax_bits_per_spike(size_t n, size_t stride, const float *count, const float *rate)
{
	double spikes = 0;
	for (size_t i = 0; i < n; i++)
		spikes += count[i * stride];
	if (spikes <= 0)
		return NAN;
	double null_rate = spikes / (double)n, nll_model = 0, nll_null = 0;
	double log_null = log(null_rate);
	for (size_t i = 0; i < n; i++) {
		double c = count[i * stride], r = rate[i * stride];
		if (!(r > 1e-9))
			r = 1e-9;
		nll_model += r - c * log(r);
		nll_null += null_rate - c * log_null;
	}
	return (nll_null - nll_model) / (spikes * M_LN2);
}

enum ax_status ax_cholesky_solve(int d, double *A, double *rhs)
{
	for (int j = 0; j < d; j++) {
		double s = A[(size_t)j * d + j];
		for (int k = 0; k < j; k++)
			s -= A[(size_t)j * d + k] * A[(size_t)j * d + k];
		if (!(s > 0))
			return ax_error_set(AX_ERR_NUMERIC, "matrix not positive definite at row %d", j);
		double l = sqrt(s);
		A[(size_t)j * d + j] = l;
		for (int i = j + 1; i < d; i++) {
			double t = A[(size_t)i * d + j];
			for (int k = 0; k < j; k++)
				t -= A[(size_t)i * d + k] * A[(size_t)j * d + k];
			A[(size_t)i * d + j] = t / l;
		}
	}
	for (int i = 0; i < d; i++) { /* L z = rhs */
		double t = rhs[i];
		for (int k = 0; k < i; k++)
			t -= A[(size_t)i * d + k] * rhs[k];
		rhs[i] = t / A[(size_t)i * d + i];
	}
	for (int i = d - 1; i >= 0; i--) { /* L^T x = z */
		double t = rhs[i];
		for (int k = i + 1; k < d; k++)
			t -= A[(size_t)k * d + i] * rhs[k];
		rhs[i] = t / A[(size_t)i * d + i];
	}
	return AX_OK;
}

/* The lower triangle (all ax_cholesky_solve reads) of the centred Gram
 * matrix sum (x - mu)(x - mu)^T of the rows of X into G (d, d). */
static void centred_gram(int n, int d, const float *X, const double *mu, double *G)
{
	memset(G, 0, (size_t)d * d * sizeof *G);
	double *row = ax_xmalloc((size_t)d * sizeof *row);
	for (int s = 0; s < n; s++) {
		for (int j = 0; j < d; j++)
			row[j] = X[(size_t)s * d + j] - mu[j];
		for (int i = 0; i < d; i++) {
			double *g = G + (size_t)i * d;
			for (int j = 0; j <= i; j++)
				g[j] += row[i] * row[j];
		}
	}
	free(row);
}

enum ax_status ax_ridge_fit(int n, int d, const float *X, const float *y, double lambda,
			    float *w, float *b)
{
	double *mu = ax_xcalloc((size_t)d, sizeof *mu), ymu = 0;
	double *G = ax_xmalloc((size_t)d * d * sizeof *G), *rhs = ax_xcalloc((size_t)d, sizeof *rhs);
	for (int s = 0; s < n; s++) {
		ymu += y[s];
		for (int j = 0; j < d; j++)
			mu[j] += X[(size_t)s * d + j];
	}
	ymu /= n > 0 ? n : 1;
	for (int j = 0; j < d; j++)
		mu[j] /= n > 0 ? n : 1;
	centred_gram(n, d, X, mu, G);
	for (int s = 0; s < n; s++)
		for (int j = 0; j < d; j++)
			rhs[j] += (X[(size_t)s * d + j] - mu[j]) * (y[s] - ymu);
	for (int j = 0; j < d; j++)
		G[(size_t)j * d + j] += lambda;
	enum ax_status st = ax_cholesky_solve(d, G, rhs);
	double bb = ymu;
	for (int j = 0; j < d; j++) {
		w[j] = st ? 0.0f : (float)rhs[j];
		bb -= (st ? 0.0 : rhs[j]) * mu[j];
	}
	*b = (float)bb;
	free(mu);
	free(G);
	free(rhs);
	return st;
}

enum ax_status ax_logreg_fit(int n, int d, const float *X, const float *y, double lambda,
			     int iters, float *w, float *b)
{
	/* Newton on the augmented vector (w, b); the intercept is the last
	 * coordinate and carries no penalty. */
	int da = d + 1;
	double *theta = ax_xcalloc((size_t)da, sizeof *theta);
	double *H = ax_xmalloc((size_t)da * da * sizeof *H), *g = ax_xmalloc((size_t)da * sizeof *g);
	double *x = ax_xmalloc((size_t)da * sizeof *x);
	enum ax_status st = AX_OK;
	for (int it = 0; it < iters; it++) {
		memset(H, 0, (size_t)da * da * sizeof *H);
		for (int j = 0; j < da; j++)
			g[j] = j < d ? lambda * theta[j] : 0;
		for (int j = 0; j < d; j++)
			H[(size_t)j * da + j] = lambda;
		H[(size_t)da * da - 1] = 1e-9;
		for (int s = 0; s < n; s++) {
			double z = theta[d];
			for (int j = 0; j < d; j++) {
				x[j] = X[(size_t)s * d + j];
				z += theta[j] * x[j];
			}
			x[d] = 1;
			double p = 1 / (1 + exp(-z)), r = p * (1 - p);
			for (int i = 0; i < da; i++) { /* H: lower triangle only */
				g[i] += (p - y[s]) * x[i];
				double a = r * x[i];
				double *h = H + (size_t)i * da;
				for (int j = 0; j <= i; j++)
					h[j] += a * x[j];
			}
		}
		if ((st = ax_cholesky_solve(da, H, g)))
			break;
		double step = 0;
		for (int j = 0; j < da; j++) {
			theta[j] -= g[j];
			step = fmax(step, fabs(g[j]));
		}
		if (step < 1e-7)
			break;
	}
	for (int j = 0; j < d; j++)
		w[j] = (float)theta[j];
	*b = (float)theta[d];
	free(theta);
	free(H);
	free(g);
	free(x);
	return st;
}

void ax_mean_sd(size_t n, const float *x, double *mean, double *sd)
{
	double mu = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		mu += x[i];
	mu /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (x[i] - mu) * (x[i] - mu);
	*mean = mu;
	*sd = sqrt(var / (double)n);
}

double ax_r2(size_t n, const float *y, const float *pred)
{
	double mu = 0, ss_tot = 0, ss_res = 0;
	for (size_t i = 0; i < n; i++)
		mu += y[i];
	mu /= n ? (double)n : 1;
	for (size_t i = 0; i < n; i++) {
		ss_tot += (y[i] - mu) * (y[i] - mu);
		ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
	}
	return ss_tot > 0 ? 1 - ss_res / ss_tot : NAN;
}
