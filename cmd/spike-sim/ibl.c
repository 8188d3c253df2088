/* ibl.c — IBL-like binned sessions: multi-region coupled latent dynamics,
 * Poisson counts, behaviour and true rates (layout in spike-sim(1)). */
#include "spike.h"
#include "ax_stats.h"

#include <math.h>
#include <string.h>

/* Region names of the IBL repeated-site recordings, then R5, R6, ... */
static const char *const region_names[] = { "PO", "LP", "DG", "CA1", "VISa" };

void spike_ibl_world_make(struct spike_ibl_world *w, const struct spike_opts *o)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	r = ax_rng_split(&root, 0);
	int R = o->regions, K = o->latents, Q = o->rank;
	w->R = R, w->K = K, w->rank = Q;
	w->alpha = (float)(20.0 / o->tau);   /* 20 ms bins */
	w->W = spike_floats((size_t)R * K * K);
	w->U = spike_floats((size_t)R * R * K * Q);
	w->V = spike_floats((size_t)R * R * K * Q);
	w->stim_in = spike_floats(K);
	w->block_in = spike_floats(K);
	w->choice_w = spike_floats((size_t)R * K);
	w->wheel_v = spike_floats((size_t)R * K);
	ax_rng_fill_normal(&r, w->W, (size_t)R * K * K, 0, (float)(o->gain / sqrt(K)));
	float cs = (float)sqrt(o->coupling / sqrt((double)K * Q));
	ax_rng_fill_normal(&r, w->U, (size_t)R * R * K * Q, 0, cs);
	ax_rng_fill_normal(&r, w->V, (size_t)R * R * K * Q, 0, cs);
	ax_rng_fill_normal(&r, w->stim_in, K, 0, 1.0f);
	ax_rng_fill_normal(&r, w->block_in, K, 0, 0.5f);
	ax_rng_fill_normal(&r, w->choice_w, (size_t)R * K, 0, 1.0f);
	ax_rng_fill_normal(&r, w->wheel_v, (size_t)R * K, 0, 1.0f / (float)sqrt(R * K));
}

void spike_ibl_world_free(struct spike_ibl_world *w)
{
	free(w->W), free(w->U), free(w->V), free(w->stim_in), free(w->block_in);
	free(w->choice_w), free(w->wheel_v);
}

/* One trial of latents z (T, R*K). Stimulus of signed contrast `stim` in bins
 * [T/5, 2T/5); `block_sign` +-1 a constant drive; 50 steps of burn-in from a
 * random state so every trial starts on the attractor. */
static void ibl_trial_latents(const struct spike_ibl_world *w, struct ax_rng *r, int T, float stim,
			      float block_sign, float *z)
{
	enum { BURN = 50 };
	int R = w->R, K = w->K, Q = w->rank, RK = R * K;
	const float alpha = w->alpha, noise = 0.3f * sqrtf(w->alpha);
	float x[16 * 64], zt[16 * 64], drive[16 * 64], proj[16]; /* zt = tanh(x) */
	for (int i = 0; i < RK; i++) {
		x[i] = 0.8f * ax_rng_normal(r);
		zt[i] = tanhf(x[i]);
	}
	for (int step = -BURN; step < T; step++) {
		for (int a = 0; a < R; a++) {
			float *d = drive + a * K;
			const float *Wa = w->W + (size_t)a * K * K;
			for (int i = 0; i < K; i++) {
				float s = 0;
				for (int j = 0; j < K; j++)
					s += Wa[i * K + j] * zt[a * K + j];
				d[i] = s;
			}
			for (int b = 0; b < R; b++) {
				if (b == a)
					continue;
				const float *U = w->U + ((size_t)a * R + b) * K * Q;
				const float *V = w->V + ((size_t)a * R + b) * K * Q;
				for (int q = 0; q < Q; q++) {
					proj[q] = 0;
					for (int j = 0; j < K; j++)
						proj[q] += V[j * Q + q] * zt[b * K + j];
				}
				for (int i = 0; i < K; i++)
					for (int q = 0; q < Q; q++)
						d[i] += U[i * Q + q] * proj[q];
			}
		}
		if (step >= T / 5 && step < 2 * T / 5)
			for (int i = 0; i < K; i++)
				drive[i] += 2.0f * stim * w->stim_in[i];
		for (int i = 0; i < K; i++)
			drive[(R - 1) * K + i] += block_sign * w->block_in[i];
		for (int i = 0; i < RK; i++) {
			x[i] += alpha * (drive[i] - x[i]) + noise * ax_rng_normal(r);
			zt[i] = tanhf(x[i]);
		}
		if (step >= 0)
			memcpy(z + (size_t)step * RK, zt, (size_t)RK * sizeof *zt);
	}
}

const char *const spike_wheel_names[] = { "softplus", "abs", NULL };

/* Wheel speed from the projections p = v . z_t (M, T), in place, smoothed
 * over bins (s <- 0.7 s + 0.3 x) within each trial:
 *   softplus  x = softplus((p - mean) / sd), mean and sd over the session's
 *             trials and bins: monotone in v . z, so a linear read-out of
 *             the log rates (linear in z) recovers most of it
 *   abs       x = 4 |p| (before the "wheel" metadata key): invisible to a
 *             linear read-out wherever v . z takes both signs. */
static void ibl_wheel_speed(enum spike_wheel kind, int M, int T, float *wheel)
{
	double mu, sd;
	ax_mean_sd((size_t)M * T, wheel, &mu, &sd);
	sd += 1e-6;
	for (int m = 0; m < M; m++) {
		float sm = 0, *wm = wheel + (size_t)m * T;
		for (int t = 0; t < T; t++) {
			if (kind == SPIKE_WHEEL_ABS) {   /* the old arithmetic, bit for bit */
				sm = 0.7f * sm + 0.3f * fabsf(wm[t]);
				wm[t] = 4.0f * sm;
			} else {
				double u = (wm[t] - mu) / sd;
				sm = 0.7f * sm + 0.3f * (float)(u > 30 ? u : log1p(exp(u)));
				wm[t] = sm;
			}
		}
	}
}

/* A session's neurons: region, loadings on its region's latents (N, K),
 * baseline log rate; fast-factor loadings F (N, SPIKE_FAST_RANK). */
struct ibl_neurons {
	int N;
	int32_t *regions;
	float *C, *bias, *F;
};

/* Regions present: each with probability 0.8, at least two; then each
 * present region's neurons. */
static void ibl_neurons_draw(const struct spike_opts *o, int R, int K, struct ax_rng *r,
			     struct ibl_neurons *nr)
{
	int present[16], npresent = 0;
	for (int a = 0; a < R; a++)
		npresent += present[a] = ax_rng_uniform(r) < 0.8f;
	for (int a = 0; a < R && npresent < AX_MIN(2, R); a++)
		if (!present[a])
			present[a] = 1, npresent++;
	int count_of[16], N = 0;
	for (int a = 0; a < R; a++) {
		count_of[a] = present[a] ? (int)lround(o->neurons * (0.75 + 0.5 * ax_rng_uniform(r))) : 0;
		if (present[a] && count_of[a] < 1)
			count_of[a] = 1;
		N += count_of[a];
	}
	nr->N = N;
	nr->regions = spike_ints(N);
	nr->C = spike_floats((size_t)N * K);
	nr->bias = spike_floats(N);
	nr->F = spike_floats((size_t)N * SPIKE_FAST_RANK);
	for (int a = 0, n = 0; a < R; a++)
		for (int i = 0; i < count_of[a]; i++, n++) {
			nr->regions[n] = a;
			ax_rng_fill_normal(r, nr->C + (size_t)n * K, K, 0, 1.0f / sqrtf((float)K));
			nr->bias[n] = logf((float)(o->baseline * 0.02)) + 0.5f * ax_rng_normal(r);
		}
}

static void ibl_neurons_free(struct ibl_neurons *nr)
{
	free(nr->regions), free(nr->C), free(nr->bias), free(nr->F);
}

/* A session's trials, as saved (spike-sim(1)): M trials of T bins. */
struct ibl_trials {
	int M, T;
	float *latents, *rates, *counts, *wheel, *contrast;
	float *late;   /* choice read-out over the trial's last 30% */
	int32_t *choice, *block, *stim_side;
};

static void ibl_trials_alloc(struct ibl_trials *tr, int M, int T, int N, int RK)
{
	size_t MTN = (size_t)M * T * N;
	tr->M = M, tr->T = T;
	tr->latents = spike_floats((size_t)M * T * RK);
	tr->rates = spike_floats(MTN), tr->counts = spike_floats(MTN);
	tr->wheel = spike_floats((size_t)M * T), tr->late = spike_floats(M);
	tr->contrast = spike_floats(M);
	tr->choice = spike_ints(M), tr->block = spike_ints(M), tr->stim_side = spike_ints(M);
}

static void ibl_trials_free(struct ibl_trials *tr)
{
	free(tr->latents), free(tr->rates), free(tr->counts), free(tr->wheel), free(tr->late);
	free(tr->contrast), free(tr->choice), free(tr->block), free(tr->stim_side);
}

/* Trial m's rates and Poisson counts from its latents z (T, R*K) and the
 * fast factors eps (T, R, SPIKE_FAST_RANK): each neuron reads its own
 * region's. */
static void ibl_trial_counts(const struct spike_ibl_world *w, const struct ibl_neurons *nr,
			     const float *z, const float *eps, struct ax_rng *r, int m,
			     struct ibl_trials *tr)
{
	int R = w->R, K = w->K, RK = R * K, T = tr->T, N = nr->N;
	const float log_lo = logf(1e-4f), log_hi = logf(200.0f * 0.02f);
	for (int t = 0; t < T; t++)
		for (int n = 0; n < N; n++) {
			const float *zr = z + (size_t)t * RK + nr->regions[n] * K;
			const float *er = eps + ((size_t)t * R + nr->regions[n]) * SPIKE_FAST_RANK;
			float lr = nr->bias[n];
			for (int j = 0; j < K; j++)
				lr += nr->C[(size_t)n * K + j] * zr[j];
			for (int j = 0; j < SPIKE_FAST_RANK; j++)
				lr += nr->F[(size_t)n * SPIKE_FAST_RANK + j] * er[j];
			lr = lr < log_lo ? log_lo : lr > log_hi ? log_hi : lr;
			size_t e = ((size_t)m * T + t) * N + n;
			tr->rates[e] = expf(lr);
			tr->counts[e] = (float)ax_rng_poisson(r, tr->rates[e]);
		}
}

/* Behaviour of trial m: the wheel projection v . z_t of every bin (made a
 * speed once the session's trials are all drawn) and the mean of w . z over
 * the last 30% of the trial, for the choice. */
static void ibl_trial_readouts(const struct spike_ibl_world *w, const float *z, int m,
			       struct ibl_trials *tr)
{
	int RK = w->R * w->K, T = tr->T;
	float acc = 0;
	for (int t = 0; t < T; t++) {
		float p = 0, c = 0;
		for (int i = 0; i < RK; i++) {
			p += w->wheel_v[i] * z[(size_t)t * RK + i];
			c += w->choice_w[i] * z[(size_t)t * RK + i];
		}
		tr->wheel[(size_t)m * T + t] = p;
		if (t >= T - 3 * T / 10)
			acc += c;
	}
	tr->late[m] = acc / (float)(3 * T / 10 > 0 ? 3 * T / 10 : 1);
}

/* Choice = Bernoulli(sigmoid(3 * standardised late projection)): the
 * read-out is scaled per session so choices are neither coin flips nor
 * deterministic whatever the dynamics' amplitude. */
static void ibl_choices(struct ax_rng *r, struct ibl_trials *tr)
{
	int M = tr->M;
	double mu, sd;
	ax_mean_sd((size_t)M, tr->late, &mu, &sd);
	sd += 1e-6;
	for (int m = 0; m < M; m++)
		tr->choice[m] = ax_rng_uniform(r) < 1.0 / (1.0 + exp(-3.0 * (tr->late[m] - mu) / sd));
}

static enum ax_status ibl_save(const struct spike_opts *o, int session, int R, int RK,
			       const struct ibl_neurons *nr, const struct ibl_trials *tr,
			       const char *path)
{
	int M = tr->M, T = tr->T, N = nr->N;
	struct ax_bundle b;
	ax_bundle_init(&b);
	int64_t s3[3] = { M, T, N }, sN[1] = { N }, sM[1] = { M }, sMT[2] = { M, T };
	ax_bundle_add_f32(&b, "counts", 3, s3, tr->counts);
	ax_bundle_add_f32(&b, "rates", 3, s3, tr->rates);
	ax_bundle_add(&b, "regions", AX_I32, 1, sN, nr->regions);
	ax_bundle_add(&b, "choice", AX_I32, 1, sM, tr->choice);
	ax_bundle_add_f32(&b, "wheel", 2, sMT, tr->wheel);
	ax_bundle_add(&b, "block", AX_I32, 1, sM, tr->block);
	ax_bundle_add(&b, "stimulus_side", AX_I32, 1, sM, tr->stim_side);
	ax_bundle_add_f32(&b, "contrast", 1, sM, tr->contrast);
	ax_bundle_add_f32(&b, "latents", 3, (int64_t[]){ M, T, RK }, tr->latents);
	char names[16 * 8] = "", buf[64];
	for (int a = 0; a < R; a++) {
		if (a < (int)AX_COUNTOF(region_names))
			snprintf(buf, sizeof buf, "%s%s", a ? "," : "", region_names[a]);
		else
			snprintf(buf, sizeof buf, "%sR%d", a ? "," : "", a);
		strcat(names, buf);
	}
	ax_bundle_set_meta(&b, "axon.kind", "spike-sim.ibl");
	ax_bundle_set_meta(&b, "region_names", names);
	ax_bundle_set_meta(&b, "bin_size", "0.02");
	ax_bundle_set_meta(&b, "wheel", spike_wheel_names[o->wheel]);
	snprintf(buf, sizeof buf, "%d", session);
	ax_bundle_set_meta(&b, "session", buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
	ax_bundle_set_meta(&b, "seed", buf);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	return st;
}

enum ax_status spike_ibl_session(const struct spike_ibl_world *w, const struct spike_opts *o, int session,
			const char *path)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	r = ax_rng_split(&root, 1000 + (uint64_t)session);
	int R = w->R, K = w->K, RK = R * K, T = o->bins, M = o->trials;
	struct ibl_neurons nr;
	ibl_neurons_draw(o, R, K, &r, &nr);

	/* Fast shared fluctuations: their own streams, so --fast 0 leaves every
	 * other draw as it was. Loadings give each neuron's fast term std X. */
	struct ax_rng fast_r = ax_rng_split(&root, 2000 + (uint64_t)session);
	float *eps = spike_floats((size_t)T * R * SPIKE_FAST_RANK);
	if (o->fast > 0)
		ax_rng_fill_normal(&fast_r, nr.F, (size_t)nr.N * SPIKE_FAST_RANK, 0,
				   (float)(o->fast / sqrt(SPIKE_FAST_RANK)));

	struct ibl_trials tr;
	ibl_trials_alloc(&tr, M, T, nr.N, RK);
	/* Block prior: 0 = left-biased (p(right) 0.2), 1 = right-biased (0.8),
	 * switching after 21 to 80 trials (uniform), like IBL's task. */
	int cur_block = ax_rng_below(&r, 2), left_in_block = 20 + (int)ax_rng_below(&r, 60);
	static const float contrasts[] = { 0.0625f, 0.125f, 0.25f, 1.0f };
	for (int m = 0; m < M; m++) {
		if (left_in_block-- <= 0)
			cur_block ^= 1, left_in_block = 20 + (int)ax_rng_below(&r, 60);
		tr.block[m] = cur_block;
		tr.stim_side[m] = ax_rng_uniform(&r) < (cur_block ? 0.8f : 0.2f);
		tr.contrast[m] = contrasts[ax_rng_below(&r, 4)];
		float stim = (tr.stim_side[m] ? 1.0f : -1.0f) * tr.contrast[m];
		float *z = tr.latents + (size_t)m * T * RK;
		ibl_trial_latents(w, &r, T, stim, cur_block ? 1.0f : -1.0f, z);
		if (o->fast > 0)
			ax_rng_fill_normal(&fast_r, eps, (size_t)T * R * SPIKE_FAST_RANK, 0, 1.0f);
		ibl_trial_counts(w, &nr, z, eps, &r, m, &tr);
		ibl_trial_readouts(w, z, m, &tr);
	}
	ibl_wheel_speed(o->wheel, M, T, tr.wheel);
	ibl_choices(&r, &tr);
	enum ax_status st = ibl_save(o, session, R, RK, &nr, &tr, path);
	ibl_neurons_free(&nr);
	ibl_trials_free(&tr);
	free(eps);
	return st;
}
