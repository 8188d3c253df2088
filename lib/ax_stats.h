/* ax_stats.h — small statistics for evaluating neural-data models:
 * Poisson bits per spike, ridge and logistic regression (decoders), R^2,
 * mean and standard deviation.
 *
 * Everything works on caller-owned row-major arrays: X (n, d) samples by
 * features. Accumulation is in double; the functions allocate their own
 * small scratch (d x d) with malloc and free it before returning.
 */
#ifndef AX_STATS_H
#define AX_STATS_H

#include "ax_base.h"

/* Poisson log-likelihood difference in bits per spike, Neural Latents
 * Benchmark definition:
 *   bps = (NLL(null) - NLL(pred)) / (spikes * ln 2),
 *   NLL(r) = sum_i r_i - n_i log r_i   (log n! cancels),
 * over n entries with counts `count`, predicted rates `rate` (spikes per bin,
 * same units as the counts) and one constant null rate (the mean count).
 * stride steps between successive entries (1 = contiguous). Rates are
 * floored at 1e-9. Returns NAN when the entries hold no spike. */
double ax_bits_per_spike(size_t n, size_t stride, const float *count, const float *rate);

/* Ridge regression with an unpenalised intercept: minimises
 *   |y - X w - b|^2 + lambda |w|^2.
 * Features are centred internally. w (d), *b out. Returns AX_ERR_NUMERIC if
 * the system is singular (lambda 0 and collinear X). */
enum ax_status ax_ridge_fit(int n, int d, const float *X, const float *y, double lambda,
			    float *w, float *b);

/* L2-regularised logistic regression, y in {0, 1}, by Newton's method
 * (iterations at most `iters`, stopping when the step is tiny): minimises
 *   sum -log p(y | x) + lambda/2 |w|^2   (intercept unpenalised). */
enum ax_status ax_logreg_fit(int n, int d, const float *X, const float *y, double lambda,
			     int iters, float *w, float *b);

/* Mean and population standard deviation (divided by n) of n values, in
 * double; n > 0. */
void ax_mean_sd(size_t n, const float *x, double *mean, double *sd);

/* Coefficient of determination 1 - SS_res / SS_tot of pred against y. */
double ax_r2(size_t n, const float *y, const float *pred);

/* Solve A x = rhs for a symmetric positive definite A (d, d) in place by
 * Cholesky: only A's lower triangle is read (the upper need not be filled),
 * and it is overwritten with the factor; x replaces rhs. AX_ERR_NUMERIC if
 * A is not positive definite. */
enum ax_status ax_cholesky_solve(int d, double *A, double *rhs);

#endif
