/* ax_rng.h — seeded, splittable random numbers (xoshiro256**).
 *
 * The whole state is the struct, so it can be copied, saved in a checkpoint
 * and restored for bit-exact resumes. ax_rng_split() derives an independent
 * child stream from a parent and a stream id without advancing the parent,
 * so e.g. each data-loader worker or environment lane gets its own stream
 * whatever the thread count.
 */
#ifndef AX_RNG_H
#define AX_RNG_H

#include "ax_base.h"

struct ax_rng {
	uint64_t s[4];
};

void ax_rng_seed(struct ax_rng *r, uint64_t seed);
struct ax_rng ax_rng_split(const struct ax_rng *parent, uint64_t stream);
uint64_t ax_rng_u64(struct ax_rng *r);
/* Uniform in [0, 1) with 24 random bits (float) / 53 (double). */
float ax_rng_uniform(struct ax_rng *r);
double ax_rng_uniform_double(struct ax_rng *r);
/* Uniform integer in [0, n), unbiased. */
uint32_t ax_rng_below(struct ax_rng *r, uint32_t n);
float ax_rng_normal(struct ax_rng *r);              /* N(0, 1) */
int ax_rng_bernoulli(struct ax_rng *r, float p);
/* Index drawn with probability p[i] / sum(p); p >= 0, not all zero. */
int ax_rng_categorical(struct ax_rng *r, const float *p, int n);
/* Index drawn from softmax(logits / temperature). */
int ax_rng_categorical_logits(struct ax_rng *r, const float *logits, int n, float temperature);
/* Poisson(lambda), lambda >= 0 (inversion below 10, PTRS above). */
int ax_rng_poisson(struct ax_rng *r, double lambda);
/* Fill x with uniform [lo,hi) / normal(mean, std). */
void ax_rng_fill_uniform(struct ax_rng *r, float *x, size_t n, float lo, float hi);
void ax_rng_fill_normal(struct ax_rng *r, float *x, size_t n, float mean, float std);
/* Dropout multipliers: keep[i] = 0 where ax_rng_uniform(r) < p (the same
 * draws, one per element), else scale. One loop here so the generator
 * inlines: dropout's hot path. */
void ax_rng_fill_keep(struct ax_rng *r, float *keep, size_t n, float p, float scale);
/* Random permutation of 0..n-1 (Fisher-Yates). */
void ax_rng_permutation(struct ax_rng *r, int32_t *out, int n);
void ax_rng_shuffle(struct ax_rng *r, int32_t *x, int n);
/* A uniform random sample of k of the n elements into x[0..k), in random
 * order (the first k steps of a forward Fisher-Yates shuffle: x[i] swaps
 * with x[i + below(n - i)]); k draws, x[k..n) keeps the rest. */
void ax_rng_shuffle_head(struct ax_rng *r, int32_t *x, int n, int k);

#endif
