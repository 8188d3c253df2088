/* rng.c — xoshiro256** (Blackman & Vigna) seeded through splitmix64. */
#include "ax_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ax_rng_seed(struct ax_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

struct ax_rng ax_rng_split(const struct ax_rng *parent, uint64_t stream)
{
	/* Hash the parent state with the stream id; the parent is untouched. */
	uint64_t x = parent->s[0] ^ rotl(parent->s[1], 17) ^ rotl(parent->s[2], 31) ^
		     rotl(parent->s[3], 47);
	x ^= splitmix64(&stream);
	struct ax_rng r;
	ax_rng_seed(&r, x);
	return r;
}

uint64_t ax_rng_u64(struct ax_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float ax_rng_uniform(struct ax_rng *r) { return (ax_rng_u64(r) >> 40) * 0x1.0p-24f; }

double ax_rng_uniform_double(struct ax_rng *r) { return (ax_rng_u64(r) >> 11) * 0x1.0p-53; }

void ax_rng_fill_keep(struct ax_rng *r, float *keep, size_t n, float p, float scale)
{
	for (size_t i = 0; i < n; i++)
		keep[i] = ax_rng_uniform(r) < p ? 0.0f : scale;
}

uint32_t ax_rng_below(struct ax_rng *r, uint32_t n)
{
	AX_ASSERT(n > 0 && "empty range");
	/* Lemire's multiply-shift with rejection of the biased sliver. */
	uint64_t m = (ax_rng_u64(r) >> 32) * n;
	uint32_t lo = (uint32_t)m;
	if (lo < n) {
		uint32_t thresh = (uint32_t)(-n) % n;
		while (lo < thresh) {
			m = (ax_rng_u64(r) >> 32) * n;
			lo = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

float ax_rng_normal(struct ax_rng *r)
{
	/* Box-Muller, one value per call so the state alone defines the stream. */
	double u1 = 1.0 - ax_rng_uniform_double(r), u2 = ax_rng_uniform_double(r);
	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

int ax_rng_bernoulli(struct ax_rng *r, float p) { return ax_rng_uniform(r) < p; }

int ax_rng_categorical(struct ax_rng *r, const float *p, int n)
{
	double total = 0;
	for (int i = 0; i < n; i++)
		total += p[i];
	AX_ASSERT(total > 0 && "categorical needs positive mass");
	double u = ax_rng_uniform_double(r) * total, acc = 0;
	int last = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] <= 0)
			continue;
		acc += p[i];
		last = i;
		if (u < acc)
			return i;
	}
	return last;
}

int ax_rng_categorical_logits(struct ax_rng *r, const float *logits, int n, float temperature)
{
	double mx = -INFINITY, total = 0;
	for (int i = 0; i < n; i++)
		if (logits[i] > mx)
			mx = logits[i];
	for (int i = 0; i < n; i++)
		total += exp((logits[i] - mx) / temperature);
	double u = ax_rng_uniform_double(r) * total, acc = 0;
	for (int i = 0; i < n; i++) {
		acc += exp((logits[i] - mx) / temperature);
		if (u < acc)
			return i;
	}
	return n - 1;
}

/* Hormann's PTRS (transformed rejection with squeeze), for lambda >= 10. */
static int poisson_ptrs(struct ax_rng *r, double lam)
{
	double slam = sqrt(lam), loglam = log(lam);
	double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
	double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
	for (;;) {
		double u = ax_rng_uniform_double(r) - 0.5, v = ax_rng_uniform_double(r);
		double us = 0.5 - fabs(u);
		double k = floor((2 * a / us + b) * u + lam + 0.43);
		if (us >= 0.07 && v <= vr)
			return (int)k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
		    -lam + k * loglam - lgamma(k + 1))
			return (int)k;
	}
}

int ax_rng_poisson(struct ax_rng *r, double lambda)
{
	AX_ASSERT(lambda >= 0 && "poisson rate must be non-negative");
	if (lambda >= 10)
		return poisson_ptrs(r, lambda);
	/* Inversion: walk the CDF. */
	double u = ax_rng_uniform_double(r), p = exp(-lambda), cdf = p;
	int k = 0;
	while (u > cdf && k < 1000) {
		k++;
		p *= lambda / k;
		cdf += p;
	}
	return k;
}

void ax_rng_fill_uniform(struct ax_rng *r, float *x, size_t n, float lo, float hi)
{
	for (size_t i = 0; i < n; i++)
		x[i] = lo + (hi - lo) * ax_rng_uniform(r);
}

void ax_rng_fill_normal(struct ax_rng *r, float *x, size_t n, float mean, float std)
{
	for (size_t i = 0; i < n; i++)
		x[i] = mean + std * ax_rng_normal(r);
}

void ax_rng_permutation(struct ax_rng *r, int32_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = i;
	ax_rng_shuffle(r, out, n);
}

void ax_rng_shuffle(struct ax_rng *r, int32_t *x, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)ax_rng_below(r, (uint32_t)i + 1);
		int32_t tmp = x[i];
		x[i] = x[j];
		x[j] = tmp;
	}
}

void ax_rng_shuffle_head(struct ax_rng *r, int32_t *x, int n, int k)
{
	AX_ASSERT(k >= 0 && k <= n && "sample size within the array");
	for (int i = 0; i < k; i++) {
		int j = i + (int)ax_rng_below(r, (uint32_t)(n - i));
		int32_t tmp = x[i];
		x[i] = x[j];
		x[j] = tmp;
	}
}
