/* eval.c — the dual-space test statistic (which potential's geometry
 * explains a weight change?) and weight histograms. */
#include "md_geom.h"

#include <math.h>
#include <string.h>

void mdg_pair_init(struct mdg_pair *pr, size_t n, double *w0, double *w1)
{
	pr->n = n;
	pr->w0 = w0;
	pr->w1 = w1;
	pr->l0 = ax_xmalloc(AX_MAX(n, 1) * sizeof(double));
	pr->l1 = ax_xmalloc(AX_MAX(n, 1) * sizeof(double));
	pr->delta = ax_xmalloc(AX_MAX(n, 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		pr->l0[i] = log(fabs(w0[i]));
		pr->l1[i] = log(fabs(w1[i]));
	}
}

void mdg_pair_free(struct mdg_pair *pr)
{
	free(pr->w0);
	free(pr->w1);
	free(pr->l0);
	free(pr->l1);
	free(pr->delta);
	memset(pr, 0, sizeof *pr);
}

/* Standard normal CDF. */
static double normal_cdf(double x)
{
	return 0.5 * erfc(-x * M_SQRT1_2);
}

/* numpy.linspace(-MDG_XMAX, MDG_XMAX, MDG_GRID)[k]. */
static double grid_point(int k)
{
	if (k == MDG_GRID - 1)
		return MDG_XMAX;
	return -MDG_XMAX + k * (2 * MDG_XMAX / (MDG_GRID - 1));
}

double mdg_cdf_distance(const double *x, size_t n)
{
	if (n < 2)
		return NAN;
	double mean = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	double sd = sqrt(var / (double)n);
	if (!(sd > 0) || !isfinite(sd))
		return NAN;
	/* count[k]: values in (grid[k-1], grid[k]], so F_emp(grid[k]) is the
	 * running sum; values above the last point count nowhere. */
	static const double h = 2 * MDG_XMAX / (MDG_GRID - 1);
	long count[MDG_GRID] = { 0 };
	for (size_t i = 0; i < n; i++) {
		double s = (x[i] - mean) / sd;
		if (!(s <= MDG_XMAX))
			continue;
		int k = s <= -MDG_XMAX ? 0 : (int)ceil((s + MDG_XMAX) / h);
		k = AX_MIN(AX_MAX(k, 0), MDG_GRID - 1);
		while (k > 0 && grid_point(k - 1) >= s)
			k--;
		while (grid_point(k) < s)
			k++;
		count[k]++;
	}
	double dist = 0, prev = 0, below = 0;
	for (int k = 0; k < MDG_GRID; k++) {
		below += (double)count[k];
		double f = fabs(below / (double)n - normal_cdf(grid_point(k)));
		if (k > 0)
			dist += 0.5 * (f + prev) * (grid_point(k) - grid_point(k - 1));
		prev = f;
	}
	return dist;
}

void mdg_score(const struct mdg_pair *pr, struct ax_potential pot, struct mdg_score *out)
{
	const double *w0 = pr->w0, *w1 = pr->w1, *l0 = pr->l0, *l1 = pr->l1;
	int negent = pot.kind == AX_POT_NEGENTROPY, euclid = !negent && pot.p == 2.0;
	double q = pot.p - 1.0, dd = 0, gg = 0;
	size_t m = 0;
	for (size_t i = 0; i < pr->n; i++) {
		double s0 = (w0[i] > 0) - (w0[i] < 0), s1 = (w1[i] > 0) - (w1[i] < 0), g0, g1;
		if (negent) {
			if (s0 == 0 || s0 != s1)
				continue;
			g0 = s0 * (l0[i] + 1.0);
			g1 = s1 * (l1[i] + 1.0);
		} else if (euclid) {
			g0 = w0[i];
			g1 = w1[i];
		} else {  /* sign(w) |w|^q, 0 at w = 0 (exp(-inf) = 0) */
			g0 = s0 * exp(q * l0[i]);
			g1 = s1 * exp(q * l1[i]);
		}
		double d = g1 - g0;
		pr->delta[m++] = d;
		dd += d * d;
		gg += g0 * g0;
	}
	out->invalid = pr->n - m;
	out->distance = mdg_cdf_distance(pr->delta, m);
	out->rel_change = m ? sqrt(dd) / sqrt(gg) : NAN;
}

int mdg_default_candidates(struct ax_potential *c)
{
	int n = 0;
	c[n++] = (struct ax_potential){ AX_POT_NEGENTROPY, 0 };
	for (int k = 11; k <= 30; k++)
		c[n++] = (struct ax_potential){ AX_POT_PNORM, k / 10.0 };
	return n;
}

enum ax_status mdg_parse_candidates(const char *list, struct ax_potential *c, int *n)
{
	char buf[64];
	*n = 0;
	for (const char *s = list;; s++) {
		size_t len = strcspn(s, ",");
		if (len == 0 || len >= sizeof buf)
			return ax_error_set(AX_ERR_ARG, "'%.*s' is not a potential (negentropy, or "
					    "p<P> with 1 < P <= 100, e.g. p2)", (int)AX_MIN(len, 64), s);
		if (*n == MDG_MAX_CANDIDATES)
			return ax_error_set(AX_ERR_ARG, "more than %d candidates", MDG_MAX_CANDIDATES);
		memcpy(buf, s, len);
		buf[len] = 0;
		enum ax_status st = ax_potential_parse(buf, &c[(*n)++]);
		if (st)
			return st;
		s += len;
		if (!*s)
			return AX_OK;
	}
}

int mdg_best(const struct mdg_score *s, int n)
{
	int best = -1;
	for (int i = 0; i < n; i++)
		if (isfinite(s[i].distance) && (best < 0 || s[i].distance < s[best].distance))
			best = i;
	return best;
}

void mdg_histogram(const double *x, size_t n, int bins, double *lo, double *hi, long *counts)
{
	double a = INFINITY, b = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		a = AX_MIN(a, x[i]);
		b = AX_MAX(b, x[i]);
	}
	if (!(a < b)) {  /* empty or a single value: one unit-wide range */
		a = n ? a - 0.5 : 0;
		b = a + 1;
	}
	memset(counts, 0, (size_t)bins * sizeof *counts);
	for (size_t i = 0; i < n; i++) {
		int k = (int)((x[i] - a) / (b - a) * bins);
		counts[AX_MIN(AX_MAX(k, 0), bins - 1)]++;
	}
	*lo = a;
	*hi = b;
}
