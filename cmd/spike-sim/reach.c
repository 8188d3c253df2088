/* reach.c — centre-out reaching sessions: cosine-tuned units, spike times
 * at 1 ms, hand velocity (layout in spike-sim(1)). */
#include "spike.h"

#include <math.h>
#include <string.h>

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

/* The unit statistics of an "animal": animal 0 is the default law; animal
 * a > 0 draws, from its own stream, a baseline-rate factor exp(0.4 N(0,1)),
 * a direction-gain range [lo, lo + 1.2] with lo in [0.4, 1.2], and a speed
 * gain up to [0.2, 0.8], and its sessions' units and trials come from
 * streams of their own (session k of animal a differs from session k of
 * animal 0). */
struct reach_animal {
	double rate, gain_lo, speed_max;
	uint64_t stream;
};

static struct reach_animal reach_animal(const struct ax_rng *root, int animal)
{
	struct reach_animal a = { 1.0, 0.8, 0.5, 0 };
	if (animal > 0) {
		struct ax_rng r = ax_rng_split(root, 500000 + (uint64_t)animal);
		a.rate = exp(0.4 * ax_rng_normal(&r));
		a.gain_lo = 0.4 + 0.8 * ax_rng_uniform(&r);
		a.speed_max = 0.2 + 0.6 * ax_rng_uniform(&r);
		a.stream = 1000000 * (uint64_t)animal;
	}
	return a;
}

enum ax_status spike_reach_session(const struct spike_opts *o, int session, const char *path)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	struct reach_animal an = reach_animal(&root, o->animal);
	r = ax_rng_split(&root, an.stream + 1000 + (uint64_t)session);
	int M = o->trials, U = o->units;
	const double vmax = REACH_DIST / 0.6 * 30.0 / 16.0; /* peak speed of the fastest reach */

	/* Units: log rate = log(base) + kappa (v . pref) / vmax + gamma |v| / vmax. */
	float *pref = spike_floats(U), *base = spike_floats(U), *kappa = spike_floats(U), *gamma_ = spike_floats(U);
	double *pref_x = ax_xmalloc((size_t)U * sizeof *pref_x);
	double *pref_y = ax_xmalloc((size_t)U * sizeof *pref_y);
	for (int u = 0; u < U; u++) {
		pref[u] = (float)(2 * M_PI * ax_rng_uniform(&r));
		base[u] = (float)(o->baseline * an.rate * exp(0.5 * ax_rng_normal(&r)));
		kappa[u] = (float)an.gain_lo + 1.2f * ax_rng_uniform(&r);
		gamma_[u] = (float)an.speed_max * ax_rng_uniform(&r);
		pref_x[u] = cos(pref[u]), pref_y[u] = sin(pref[u]);
	}
	int S_per = (int)lround(REACH_TRIAL * 100), S = M * S_per;
	float *vel = spike_floats((size_t)S * 2), *vel_t = spike_floats(S);
	float *t_start = spike_floats(M), *t_end = spike_floats(M), *angle = spike_floats(M);
	int32_t *target = spike_ints(M);
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
	if (o->animal > 0) { /* animal 0 bundles stay as they were */
		snprintf(buf, sizeof buf, "%d", o->animal);
		ax_bundle_set_meta(&b, "animal", buf);
	}
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	free(pref), free(base), free(kappa), free(gamma_), free(pref_x), free(pref_y);
	free(vel), free(vel_t);
	free(t_start), free(t_end), free(angle), free(target), free(spk_t), free(spk_u);
	return st;
}

