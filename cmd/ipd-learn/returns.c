/* returns.c — batch lambda returns (paper Alg. 1) and the estimators' flags.
 *
 * COALA-PG credits an action with its lane's own return to the end of the
 * current inner episode, scaled by 1/B, plus the mean over all B lanes of
 * the return after it (the co-player's learning step depends on every lane).
 * Running Alg. 1 on TD errors (lambda 1, disc gamma*lambda_gae) gives those
 * advantages; running it with both flags off gives ordinary TD(lambda)
 * critic targets. */
#include "ipd_learn.h"

const char *const ipd_estimator_names[] = { "coala", "unaware", "mfos", NULL };

void ipd_estimator_flags(enum ipd_estimator est, int *normalise_current, int *average_future)
{
	*normalise_current = est == IPD_EST_COALA;
	*average_future = est == IPD_EST_COALA || est == IPD_EST_MFOS;
}

void ipd_batch_lambda_returns(int B, int L, int T, const float *r, const float *v_next,
			  float disc, float lambda, int normalise_current, int average_future,
			  float *out)
{
	// acc: per-lane running return; g: the lane-averaged, unnormalised one.
	double g = 0.0;
	for (int b = 0; b < B; b++)
		g += v_next ? v_next[(size_t)b * L + L - 1] : 0.0;
	g /= B;
	float norm = normalise_current ? (float)B : 1.0f;
	for (int b = 0; b < B; b++)
		out[(size_t)b * L + L - 1] = v_next ? v_next[(size_t)b * L + L - 1] : 0.0f;
	// out[:, t+1] holds acc between iterations; out[:, L-1] the initial one.
	for (int t = L - 1; t >= 0; t--) {
		int episode_end = t % T == T - 1;
		double g_next = 0.0;
		for (int b = 0; b < B; b++) {
			size_t i = (size_t)b * L + t;
			float acc = t == L - 1 ? out[i] : out[i + 1];
			if (episode_end && average_future)
				acc = (float)g;
			float v = v_next ? v_next[i] : 0.0f;
			out[i] = r[i] / norm + disc * ((1.0f - lambda) * v + lambda * acc);
			g_next += r[i] + disc * ((1.0f - lambda) * v + lambda * (float)g);
		}
		g = g_next / B;
	}
}
