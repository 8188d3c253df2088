/* spike-sim — simulated neural recordings with known ground truth.
 *
 *   spike-sim ibl    IBL-like binned sessions: multi-region coupled latent
 *                    dynamics, Poisson counts, behaviour, true rates
 *   spike-sim reach  centre-out reaching sessions: cosine-tuned units,
 *                    spike times at 1 ms, hand velocity
 *
 * Both write one safetensors bundle per session into --out DIR
 * (session-000.safetensors, ...). The "world" (dynamics, behaviour read-outs,
 * tuning law) is drawn from --seed and shared by all sessions; each session
 * draws its own neurons and trials from an independent stream split off
 * the seed, so session k is the same whatever --sessions is.
 * The bundle layouts are documented in spike-sim(1).
 */
#include "ax_cli.h"
#include "ax_io.h"
#include "ax_rng.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"Usage: spike-sim ibl   [OPTION]... --out DIR\n"
	"       spike-sim reach [OPTION]... --out DIR\n"
	"Simulate neural recording sessions with known ground truth, one\n"
	"safetensors bundle per session: DIR/session-000.safetensors, ...\n"
	"\n"
	"Common options:\n"
	"  -o, --out DIR          output directory (created if missing)\n"
	"  -n, --sessions N       number of sessions (default 5)\n"
	"  -t, --trials N         trials per session (ibl 300, reach 100)\n"
	"  -s, --seed N           world and session seed (default 42)\n"
	"  -q, --quiet            no progress on stderr\n"
	"  -h, --help             print this help and exit\n"
	"      --version          print the version and exit\n"
	"\n"
	"ibl: 100 bins of 20 ms per trial, counts (trials, 100, N)\n"
	"  -r, --regions N        brain regions (default 4, at most 16)\n"
	"  -u, --neurons N        mean neurons per region per session (default 20)\n"
	"  -k, --latents N        latent dimensions per region (default 8)\n"
	"      --rank N           rank of each cross-region coupling (default 2)\n"
	"      --coupling X       cross-region coupling strength (default 1.5)\n"
	"      --gain X           recurrent gain g of each region (default 1.5)\n"
	"      --tau MS           time constant of the latent dynamics, ms (100)\n"
	"      --baseline HZ      median baseline firing rate (default 8)\n"
	"      --fast X           std of fast shared log-rate fluctuations, white\n"
	"                         from bin to bin, rank %d per region (default %g)\n"
	"      --bins N           bins per trial (default 100)\n"
	"\n"
	"reach: 1.8 s trials, hand velocity at 100 Hz, spikes at 1 ms\n"
	"  -u, --units N          units per session (default 60)\n"
	"      --baseline HZ      median baseline firing rate (default 10)\n"
	"\n"
	"Exit status: 0 on success, 2 on a usage error, 1 if a file could not be written.\n";

enum { OPT_RANK = 256, OPT_COUPLING, OPT_GAIN, OPT_TAU, OPT_BASELINE, OPT_FAST, OPT_BINS, OPT_VERSION };

/* Fast shared variability: FAST_RANK white factors per region and bin. */
enum { FAST_RANK = 2 };
#define FAST_DEFAULT 0.0

struct sim_opts {
	const char *out;
	int sessions, trials, regions, neurons, latents, rank, bins, units, quiet;
	double coupling, gain, tau, baseline, fast;
	uint64_t seed;
};

/* Region names of the IBL repeated-site recordings, then R5, R6, ... */
static const char *const region_names[] = { "PO", "LP", "DG", "CA1", "VISa" };

static void save_or_die(const char *path, const struct ax_bundle *b)
{
	enum ax_status st = ax_bundle_save(path, b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "write");
}

static float *xfloats(size_t n) { return ax_xcalloc(n, sizeof(float)); }
static int32_t *xints(size_t n) { return ax_xcalloc(n, sizeof(int32_t)); }

/* ------------------------------------------------------------------ ibl -- */

/* The world: per-region rate RNNs coupled through low-rank matrices, with a
 * stimulus entering region 0 and the block prior entering the last region;
 * behaviour read-outs from the latents. Latents z = tanh(x). */
struct ibl_world {
	int R, K, rank;
	float alpha;     /* dt / tau of the latent dynamics */
	float *W;        /* (R, K, K) recurrent weights, g * N(0, 1/K) */
	float *U, *V;    /* (R, R, K, rank) coupling r <- s: U_rs V_rs^T z_s */
	float *stim_in;  /* (K) stimulus input direction into region 0 */
	float *block_in; /* (K) block-prior input into region R-1 */
	float *choice_w; /* (R*K) choice read-out */
	float *wheel_v;  /* (R*K) wheel read-out */
};

static void ibl_world_make(struct ibl_world *w, const struct sim_opts *o)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	r = ax_rng_split(&root, 0);
	int R = o->regions, K = o->latents, Q = o->rank;
	w->R = R, w->K = K, w->rank = Q;
	w->alpha = (float)(20.0 / o->tau);   /* 20 ms bins */
	w->W = xfloats((size_t)R * K * K);
	w->U = xfloats((size_t)R * R * K * Q);
	w->V = xfloats((size_t)R * R * K * Q);
	w->stim_in = xfloats(K);
	w->block_in = xfloats(K);
	w->choice_w = xfloats((size_t)R * K);
	w->wheel_v = xfloats((size_t)R * K);
	ax_rng_fill_normal(&r, w->W, (size_t)R * K * K, 0, (float)(o->gain / sqrt(K)));
	float cs = (float)sqrt(o->coupling / sqrt((double)K * Q));
	ax_rng_fill_normal(&r, w->U, (size_t)R * R * K * Q, 0, cs);
	ax_rng_fill_normal(&r, w->V, (size_t)R * R * K * Q, 0, cs);
	ax_rng_fill_normal(&r, w->stim_in, K, 0, 1.0f);
	ax_rng_fill_normal(&r, w->block_in, K, 0, 0.5f);
	ax_rng_fill_normal(&r, w->choice_w, (size_t)R * K, 0, 1.0f);
	ax_rng_fill_normal(&r, w->wheel_v, (size_t)R * K, 0, 1.0f / (float)sqrt(R * K));
}

static void ibl_world_free(struct ibl_world *w)
{
	free(w->W), free(w->U), free(w->V), free(w->stim_in), free(w->block_in);
	free(w->choice_w), free(w->wheel_v);
}

/* One trial of latents z (T, R*K). Stimulus of signed contrast `stim` in bins
 * [T/5, 2T/5); `block_sign` +-1 a constant drive; 50 steps of burn-in from a
 * random state so every trial starts on the attractor. */
static void ibl_trial_latents(const struct ibl_world *w, struct ax_rng *r, int T, float stim,
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

static void ibl_session(const struct ibl_world *w, const struct sim_opts *o, int session,
			const char *path)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	r = ax_rng_split(&root, 1000 + (uint64_t)session);
	int R = w->R, K = w->K, RK = R * K, T = o->bins, M = o->trials;

	/* Regions present: each with probability 0.8, at least two. */
	int present[16], npresent = 0;
	for (int a = 0; a < R; a++)
		npresent += present[a] = ax_rng_uniform(&r) < 0.8f;
	for (int a = 0; a < R && npresent < AX_MIN(2, R); a++)
		if (!present[a])
			present[a] = 1, npresent++;
	int count_of[16], N = 0;
	for (int a = 0; a < R; a++) {
		count_of[a] = present[a] ? (int)lround(o->neurons * (0.75 + 0.5 * ax_rng_uniform(&r))) : 0;
		if (present[a] && count_of[a] < 1)
			count_of[a] = 1;
		N += count_of[a];
	}
	/* Neurons: region label, loading on its region's latents, baseline. */
	int32_t *regions = xints(N);
	float *C = xfloats((size_t)N * K), *bias = xfloats(N);
	for (int a = 0, n = 0; a < R; a++)
		for (int i = 0; i < count_of[a]; i++, n++) {
			regions[n] = a;
			ax_rng_fill_normal(&r, C + (size_t)n * K, K, 0, 1.0f / sqrtf((float)K));
			bias[n] = logf((float)(o->baseline * 0.02)) + 0.5f * ax_rng_normal(&r);
		}

	/* Fast shared fluctuations: their own streams, so --fast 0 leaves every
	 * other draw as it was. Loadings give each neuron's fast term std X. */
	struct ax_rng fast_r = ax_rng_split(&root, 2000 + (uint64_t)session);
	float *F = xfloats((size_t)N * FAST_RANK), *eps = xfloats((size_t)T * R * FAST_RANK);
	if (o->fast > 0)
		ax_rng_fill_normal(&fast_r, F, (size_t)N * FAST_RANK, 0, (float)(o->fast / sqrt(FAST_RANK)));

	size_t TN = (size_t)T * N;
	float *latents = xfloats((size_t)M * T * RK), *rates = xfloats(M * TN);
	float *counts = xfloats(M * TN), *wheel = xfloats((size_t)M * T), *late = xfloats(M);
	int32_t *choice = xints(M), *block = xints(M), *stim_side = xints(M);
	float *contrast = xfloats(M);
	/* Block prior: 0 = left-biased (p(right) 0.2), 1 = right-biased (0.8),
	 * switching after 21 to 80 trials (uniform), like IBL's task. */
	int cur_block = ax_rng_below(&r, 2), left_in_block = 20 + (int)ax_rng_below(&r, 60);
	static const float contrasts[] = { 0.0625f, 0.125f, 0.25f, 1.0f };
	const float log_lo = logf(1e-4f), log_hi = logf(200.0f * 0.02f);
	for (int m = 0; m < M; m++) {
		if (left_in_block-- <= 0)
			cur_block ^= 1, left_in_block = 20 + (int)ax_rng_below(&r, 60);
		block[m] = cur_block;
		stim_side[m] = ax_rng_uniform(&r) < (cur_block ? 0.8f : 0.2f);
		contrast[m] = contrasts[ax_rng_below(&r, 4)];
		float stim = (stim_side[m] ? 1.0f : -1.0f) * contrast[m];
		float *z = latents + (size_t)m * T * RK;
		ibl_trial_latents(w, &r, T, stim, cur_block ? 1.0f : -1.0f, z);
		if (o->fast > 0)
			ax_rng_fill_normal(&fast_r, eps, (size_t)T * R * FAST_RANK, 0, 1.0f);
		/* Rates: each neuron reads its own region's latents and fast factors. */
		for (int t = 0; t < T; t++)
			for (int n = 0; n < N; n++) {
				const float *zr = z + (size_t)t * RK + regions[n] * K;
				const float *er = eps + ((size_t)t * R + regions[n]) * FAST_RANK;
				float lr = bias[n];
				for (int j = 0; j < K; j++)
					lr += C[(size_t)n * K + j] * zr[j];
				for (int j = 0; j < FAST_RANK; j++)
					lr += F[(size_t)n * FAST_RANK + j] * er[j];
				lr = lr < log_lo ? log_lo : lr > log_hi ? log_hi : lr;
				size_t e = (size_t)m * TN + (size_t)t * N + n;
				rates[e] = expf(lr);
				counts[e] = (float)ax_rng_poisson(&r, rates[e]);
			}
		/* Behaviour: wheel speed a smoothed |v . z_t|; choice from the
		 * mean of w . z over the last 30% of the trial. */
		float sm = 0, acc = 0;
		for (int t = 0; t < T; t++) {
			float p = 0, c = 0;
			for (int i = 0; i < RK; i++) {
				p += w->wheel_v[i] * z[(size_t)t * RK + i];
				c += w->choice_w[i] * z[(size_t)t * RK + i];
			}
			sm = 0.7f * sm + 0.3f * fabsf(p);
			wheel[(size_t)m * T + t] = 4.0f * sm;
			if (t >= T - 3 * T / 10)
				acc += c;
		}
		late[m] = acc / (float)(3 * T / 10 > 0 ? 3 * T / 10 : 1);
	}
	/* Choice = Bernoulli(sigmoid(3 * standardised late projection)): the
	 * read-out is scaled per session so choices are neither coin flips nor
	 * deterministic whatever the dynamics' amplitude. */
	double mu = 0, var = 0;
	for (int m = 0; m < M; m++)
		mu += late[m];
	mu /= M;
	for (int m = 0; m < M; m++)
		var += (late[m] - mu) * (late[m] - mu);
	double sd = sqrt(var / M) + 1e-6;
	for (int m = 0; m < M; m++)
		choice[m] = ax_rng_uniform(&r) < 1.0 / (1.0 + exp(-3.0 * (late[m] - mu) / sd));

	struct ax_bundle b;
	ax_bundle_init(&b);
	int64_t s3[3] = { M, T, N }, sN[1] = { N }, sM[1] = { M }, sMT[2] = { M, T };
	ax_bundle_add_f32(&b, "counts", 3, s3, counts);
	ax_bundle_add_f32(&b, "rates", 3, s3, rates);
	ax_bundle_add(&b, "regions", AX_I32, 1, sN, regions);
	ax_bundle_add(&b, "choice", AX_I32, 1, sM, choice);
	ax_bundle_add_f32(&b, "wheel", 2, sMT, wheel);
	ax_bundle_add(&b, "block", AX_I32, 1, sM, block);
	ax_bundle_add(&b, "stimulus_side", AX_I32, 1, sM, stim_side);
	ax_bundle_add_f32(&b, "contrast", 1, sM, contrast);
	ax_bundle_add_f32(&b, "latents", 3, (int64_t[]){ M, T, RK }, latents);
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
	snprintf(buf, sizeof buf, "%d", session);
	ax_bundle_set_meta(&b, "session", buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
	ax_bundle_set_meta(&b, "seed", buf);
	save_or_die(path, &b);
	ax_bundle_free(&b);
	free(regions), free(C), free(bias), free(F), free(eps), free(latents), free(rates), free(counts);
	free(wheel), free(late), free(choice), free(block), free(stim_side), free(contrast);
}

/* ---------------------------------------------------------------- reach -- */

/* Trial timeline (seconds): hold 0.5, reach of duration D in [0.6, 1.0]
 * with a minimum-jerk (bell-shaped) speed profile, then hold to 1.8. */
#define REACH_TRIAL 1.8
#define REACH_HOLD 0.5
#define REACH_DIST 0.1 /* m */

static void reach_velocity(double t, double dur, double angle, double *vx, double *vy)
{
	double u = (t - REACH_HOLD) / dur, speed = 0;
	if (u > 0 && u < 1)
		speed = REACH_DIST / dur * 30 * u * u * (1 - u) * (1 - u);
	*vx = speed * cos(angle);
	*vy = speed * sin(angle);
}

static void reach_session(const struct sim_opts *o, int session, const char *path)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	r = ax_rng_split(&root, 1000 + (uint64_t)session);
	int M = o->trials, U = o->units;
	const double vmax = REACH_DIST / 0.6 * 30.0 / 16.0; /* peak speed of the fastest reach */

	/* Units: log rate = log(base) + kappa (v . pref) / vmax + gamma |v| / vmax. */
	float *pref = xfloats(U), *base = xfloats(U), *kappa = xfloats(U), *gamma_ = xfloats(U);
	double *pref_x = ax_xmalloc((size_t)U * sizeof *pref_x);
	double *pref_y = ax_xmalloc((size_t)U * sizeof *pref_y);
	for (int u = 0; u < U; u++) {
		pref[u] = (float)(2 * M_PI * ax_rng_uniform(&r));
		base[u] = (float)(o->baseline * exp(0.5 * ax_rng_normal(&r)));
		kappa[u] = 0.8f + 1.2f * ax_rng_uniform(&r);
		gamma_[u] = 0.5f * ax_rng_uniform(&r);
		pref_x[u] = cos(pref[u]), pref_y[u] = sin(pref[u]);
	}
	int S_per = (int)lround(REACH_TRIAL * 100), S = M * S_per;
	float *vel = xfloats((size_t)S * 2), *vel_t = xfloats(S);
	float *t_start = xfloats(M), *t_end = xfloats(M), *angle = xfloats(M);
	int32_t *target = xints(M);
	size_t cap = 1 << 16, nspk = 0;
	float *spk_t = ax_xmalloc(cap * sizeof *spk_t);
	int32_t *spk_u = ax_xmalloc(cap * sizeof *spk_u);
	int ms_per = (int)lround(REACH_TRIAL * 1000);
	for (int m = 0; m < M; m++) {
		double t0 = m * REACH_TRIAL;
		target[m] = (int)ax_rng_below(&r, 8);
		angle[m] = (float)(target[m] * M_PI / 4 + 0.087 * ax_rng_normal(&r));
		double dur = 0.6 + 0.4 * ax_rng_uniform(&r);
		t_start[m] = (float)t0;
		t_end[m] = (float)(t0 + REACH_TRIAL);
		for (int s = 0; s < S_per; s++) {
			double vx, vy, tt = s * 0.01;
			reach_velocity(tt, dur, angle[m], &vx, &vy);
			size_t k = (size_t)m * S_per + s;
			vel_t[k] = (float)(t0 + tt);
			vel[2 * k] = (float)vx, vel[2 * k + 1] = (float)vy;
		}
		/* Spikes by thinning at 1 ms: Bernoulli(rate * 1 ms) per step. */
		for (int ms = 0; ms < ms_per; ms++) {
			double vx, vy;
			reach_velocity(ms * 1e-3, dur, angle[m], &vx, &vy);
			double sp = sqrt(vx * vx + vy * vy);
			for (int u = 0; u < U; u++) {
				double proj = vx * pref_x[u] + vy * pref_y[u];
				double rate = base[u] * exp((kappa[u] * proj + gamma_[u] * sp) / vmax);
				if (ax_rng_uniform_double(&r) < rate * 1e-3) {
					if (nspk == cap) {
						cap *= 2;
						spk_t = ax_xrealloc(spk_t, cap * sizeof *spk_t);
						spk_u = ax_xrealloc(spk_u, cap * sizeof *spk_u);
					}
					spk_t[nspk] = (float)(t0 + ms * 1e-3);
					spk_u[nspk++] = u;
				}
			}
		}
	}
	struct ax_bundle b;
	ax_bundle_init(&b);
	int64_t sK[1] = { (int64_t)nspk }, sM[1] = { M }, sU[1] = { U }, sS[1] = { S };
	ax_bundle_add_f32(&b, "spike_times", 1, sK, spk_t);
	ax_bundle_add(&b, "spike_units", AX_I32, 1, sK, spk_u);
	ax_bundle_add_f32(&b, "hand_t", 1, sS, vel_t);
	ax_bundle_add_f32(&b, "hand_vel", 2, (int64_t[]){ S, 2 }, vel);
	ax_bundle_add_f32(&b, "trial_start", 1, sM, t_start);
	ax_bundle_add_f32(&b, "trial_end", 1, sM, t_end);
	ax_bundle_add(&b, "target", AX_I32, 1, sM, target);
	ax_bundle_add_f32(&b, "target_angle", 1, sM, angle);
	ax_bundle_add_f32(&b, "unit_pref_dir", 1, sU, pref);
	ax_bundle_add_f32(&b, "unit_baseline", 1, sU, base);
	ax_bundle_add_f32(&b, "unit_gain", 1, sU, kappa);
	char buf[64];
	ax_bundle_set_meta(&b, "axon.kind", "spike-sim.reach");
	snprintf(buf, sizeof buf, "%d", U);
	ax_bundle_set_meta(&b, "units", buf);
	snprintf(buf, sizeof buf, "%d", session);
	ax_bundle_set_meta(&b, "session", buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
	ax_bundle_set_meta(&b, "seed", buf);
	ax_bundle_set_meta(&b, "hand_rate", "100");
	save_or_die(path, &b);
	ax_bundle_free(&b);
	free(pref), free(base), free(kappa), free(gamma_), free(pref_x), free(pref_y);
	free(vel), free(vel_t);
	free(t_start), free(t_end), free(angle), free(target), free(spk_t), free(spk_u);
}

/* ----------------------------------------------------------------- main -- */

int main(int argc, char **argv)
{
	ax_cli_init("spike-sim");
	static const struct option longopts[] = {
		{ "out", required_argument, 0, 'o' },      { "sessions", required_argument, 0, 'n' },
		{ "trials", required_argument, 0, 't' },   { "seed", required_argument, 0, 's' },
		{ "regions", required_argument, 0, 'r' },  { "neurons", required_argument, 0, 'u' },
		{ "units", required_argument, 0, 'u' },    { "latents", required_argument, 0, 'k' },
		{ "rank", required_argument, 0, OPT_RANK },
		{ "coupling", required_argument, 0, OPT_COUPLING },
		{ "gain", required_argument, 0, OPT_GAIN },
		{ "tau", required_argument, 0, OPT_TAU },
		{ "baseline", required_argument, 0, OPT_BASELINE },
		{ "fast", required_argument, 0, OPT_FAST },
		{ "bins", required_argument, 0, OPT_BINS },
		{ "quiet", no_argument, 0, 'q' },          { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, OPT_VERSION }, { 0, 0, 0, 0 },
	};
	struct sim_opts o = { .sessions = 5, .trials = -1, .regions = 4, .neurons = -1,
			      .latents = 8, .rank = 2, .bins = 100, .coupling = 1.5,
			      .gain = 1.5, .tau = 100, .baseline = -1, .fast = FAST_DEFAULT,
			      .seed = 42 };
	int c;
	while ((c = getopt_long(argc, argv, "o:n:t:s:r:u:k:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'n': o.sessions = (int)ax_parse_long("--sessions", optarg, 1, 10000); break;
		case 't': o.trials = (int)ax_parse_long("--trials", optarg, 1, 1000000); break;
		case 's': o.seed = ax_parse_seed("--seed", optarg); break;
		case 'r': o.regions = (int)ax_parse_long("--regions", optarg, 1, 16); break;
		case 'u': o.neurons = (int)ax_parse_long("--neurons", optarg, 1, 100000); break;
		case 'k': o.latents = (int)ax_parse_long("--latents", optarg, 1, 64); break;
		case OPT_RANK: o.rank = (int)ax_parse_long("--rank", optarg, 1, 16); break;
		case OPT_COUPLING: o.coupling = ax_parse_double("--coupling", optarg, 0, 100); break;
		case OPT_GAIN: o.gain = ax_parse_double("--gain", optarg, 0, 100); break;
		case OPT_TAU: o.tau = ax_parse_double("--tau", optarg, 20, 10000); break;
		case OPT_BASELINE: o.baseline = ax_parse_double("--baseline", optarg, 0.01, 1000); break;
		case OPT_FAST: o.fast = ax_parse_double("--fast", optarg, 0, 10); break;
		case OPT_BINS: o.bins = (int)ax_parse_long("--bins", optarg, 10, 100000); break;
		case 'q': o.quiet = 1; break;
		case 'h': printf(usage_text, FAST_RANK, FAST_DEFAULT); return 0;
		case OPT_VERSION: ax_print_version(); return 0;
		default: ax_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		ax_usage_error("missing sub-command: ibl or reach");
	static const char *const kinds[] = { "ibl", "reach", NULL };
	int kind = ax_parse_choice("sub-command", argv[optind], kinds);
	if (optind + 1 < argc)
		ax_usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (!o.out)
		ax_usage_error("--out DIR is required");
	if (o.rank > o.latents)
		ax_usage_error("--rank %d exceeds --latents %d", o.rank, o.latents);
	if (kind == 0) {
		o.trials = o.trials < 0 ? 300 : o.trials;
		o.neurons = o.neurons < 0 ? 20 : o.neurons;
		o.baseline = o.baseline < 0 ? 8 : o.baseline;
	} else {
		o.trials = o.trials < 0 ? 100 : o.trials;
		o.units = o.neurons < 0 ? 60 : o.neurons;
		o.baseline = o.baseline < 0 ? 10 : o.baseline;
	}
	if (mkdir(o.out, 0777) && errno != EEXIST)
		ax_die(AX_EXIT_FAIL, "%s: %s", o.out, strerror(errno));

	struct ibl_world w = { 0 };
	if (kind == 0)
		ibl_world_make(&w, &o);
	struct ax_progress p;
	ax_progress_begin(&p, "sessions", o.sessions, o.quiet);
	for (int s = 0; s < o.sessions; s++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/session-%03d.safetensors", o.out, s);
		if (kind == 0)
			ibl_session(&w, &o, s, path);
		else
			reach_session(&o, s, path);
		ax_progress_update(&p, s + 1, NULL);
	}
	ax_progress_end(&p);
	if (kind == 0)
		ibl_world_free(&w);
	return 0;
}
