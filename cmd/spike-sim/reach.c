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

/* Units: log rate = log(base) + kappa (v . pref) / vmax + gamma |v| / vmax. */
struct reach_units {
	int U;
	float *pref, *base, *kappa, *gamma;
	double *pref_x, *pref_y;
};

static void reach_units_draw(const struct spike_opts *o, const struct reach_animal *an,
			     struct ax_rng *r, struct reach_units *un)
{
	int U = un->U = o->units;
	un->pref = spike_floats(U), un->base = spike_floats(U);
	un->kappa = spike_floats(U), un->gamma = spike_floats(U);
	un->pref_x = ax_xmalloc((size_t)U * sizeof *un->pref_x);
	un->pref_y = ax_xmalloc((size_t)U * sizeof *un->pref_y);
	for (int u = 0; u < U; u++) {
		un->pref[u] = (float)(2 * M_PI * ax_rng_uniform(r));
		un->base[u] = (float)(o->baseline * an->rate * exp(0.5 * ax_rng_normal(r)));
		un->kappa[u] = (float)an->gain_lo + 1.2f * ax_rng_uniform(r);
		un->gamma[u] = (float)an->speed_max * ax_rng_uniform(r);
		un->pref_x[u] = cos(un->pref[u]), un->pref_y[u] = sin(un->pref[u]);
	}
}

static void reach_units_free(struct reach_units *un)
{
	free(un->pref), free(un->base), free(un->kappa), free(un->gamma);
	free(un->pref_x), free(un->pref_y);
}

/* A session's trials and spikes, as saved (spike-sim(1)). */
struct reach_trials {
	int M, S_per;    /* trials, hand samples per trial (100 Hz) */
	float *vel, *vel_t, *t_start, *t_end, *angle;
	int32_t *target;
	size_t nspk, cap;
	float *spk_t;
	int32_t *spk_u;
};

static void reach_trials_alloc(struct reach_trials *tr, int M)
{
	tr->M = M;
	tr->S_per = (int)lround(REACH_TRIAL * 100);
	size_t S = (size_t)M * tr->S_per;
	tr->vel = spike_floats(S * 2), tr->vel_t = spike_floats(S);
	tr->t_start = spike_floats(M), tr->t_end = spike_floats(M), tr->angle = spike_floats(M);
	tr->target = spike_ints(M);
	tr->nspk = 0, tr->cap = 1 << 16;
	tr->spk_t = ax_xmalloc(tr->cap * sizeof *tr->spk_t);
	tr->spk_u = ax_xmalloc(tr->cap * sizeof *tr->spk_u);
}

static void reach_trials_free(struct reach_trials *tr)
{
	free(tr->vel), free(tr->vel_t), free(tr->t_start), free(tr->t_end), free(tr->angle);
	free(tr->target), free(tr->spk_t), free(tr->spk_u);
}

static void reach_spike(struct reach_trials *tr, double t, int u)
{
	if (tr->nspk == tr->cap) {
		tr->cap *= 2;
		tr->spk_t = ax_xrealloc(tr->spk_t, tr->cap * sizeof *tr->spk_t);
		tr->spk_u = ax_xrealloc(tr->spk_u, tr->cap * sizeof *tr->spk_u);
	}
	tr->spk_t[tr->nspk] = (float)t;
	tr->spk_u[tr->nspk++] = u;
}

/* Trial m: its target, reach and hand velocity at 100 Hz, then spikes by
 * thinning at 1 ms: Bernoulli(rate * 1 ms) per unit and step. */
static void reach_trial(const struct reach_units *un, struct ax_rng *r, int m,
			struct reach_trials *tr)
{
	const double vmax = REACH_DIST / 0.6 * 30.0 / 16.0; /* peak speed of the fastest reach */
	double t0 = m * REACH_TRIAL;
	tr->target[m] = (int)ax_rng_below(r, 8);
	tr->angle[m] = (float)(tr->target[m] * M_PI / 4 + 0.087 * ax_rng_normal(r));
	double dur = 0.6 + 0.4 * ax_rng_uniform(r);
	tr->t_start[m] = (float)t0;
	tr->t_end[m] = (float)(t0 + REACH_TRIAL);
	for (int s = 0; s < tr->S_per; s++) {
		double vx, vy, tt = s * 0.01;
		reach_velocity(tt, dur, tr->angle[m], &vx, &vy);
		size_t k = (size_t)m * tr->S_per + s;
		tr->vel_t[k] = (float)(t0 + tt);
		tr->vel[2 * k] = (float)vx, tr->vel[2 * k + 1] = (float)vy;
	}
	int ms_per = (int)lround(REACH_TRIAL * 1000);
	for (int ms = 0; ms < ms_per; ms++) {
		double vx, vy;
		reach_velocity(ms * 1e-3, dur, tr->angle[m], &vx, &vy);
		double sp = sqrt(vx * vx + vy * vy);
		for (int u = 0; u < un->U; u++) {
			double proj = vx * un->pref_x[u] + vy * un->pref_y[u];
			double rate = un->base[u] *
				      exp((un->kappa[u] * proj + un->gamma[u] * sp) / vmax);
			if (ax_rng_uniform_double(r) < rate * 1e-3)
				reach_spike(tr, t0 + ms * 1e-3, u);
		}
	}
}

static enum ax_status reach_save(const struct spike_opts *o, int session,
				 const struct reach_units *un, const struct reach_trials *tr,
				 const char *path)
{
	int M = tr->M, U = un->U, S = M * tr->S_per;
	struct ax_bundle b;
	ax_bundle_init(&b);
	int64_t sK[1] = { (int64_t)tr->nspk }, sM[1] = { M }, sU[1] = { U }, sS[1] = { S };
	ax_bundle_add_f32(&b, "spike_times", 1, sK, tr->spk_t);
	ax_bundle_add(&b, "spike_units", AX_I32, 1, sK, tr->spk_u);
	ax_bundle_add_f32(&b, "hand_t", 1, sS, tr->vel_t);
	ax_bundle_add_f32(&b, "hand_vel", 2, (int64_t[]){ S, 2 }, tr->vel);
	ax_bundle_add_f32(&b, "trial_start", 1, sM, tr->t_start);
	ax_bundle_add_f32(&b, "trial_end", 1, sM, tr->t_end);
	ax_bundle_add(&b, "target", AX_I32, 1, sM, tr->target);
	ax_bundle_add_f32(&b, "target_angle", 1, sM, tr->angle);
	ax_bundle_add_f32(&b, "unit_pref_dir", 1, sU, un->pref);
	ax_bundle_add_f32(&b, "unit_baseline", 1, sU, un->base);
	ax_bundle_add_f32(&b, "unit_gain", 1, sU, un->kappa);
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
	return st;
}

enum ax_status spike_reach_session(const struct spike_opts *o, int session, const char *path)
{
	struct ax_rng root, r;
	ax_rng_seed(&root, o->seed);
	struct reach_animal an = reach_animal(&root, o->animal);
	r = ax_rng_split(&root, an.stream + 1000 + (uint64_t)session);
	struct reach_units un;
	reach_units_draw(o, &an, &r, &un);
	struct reach_trials tr;
	reach_trials_alloc(&tr, o->trials);
	for (int m = 0; m < o->trials; m++)
		reach_trial(&un, &r, m, &tr);
	enum ax_status st = reach_save(o, session, &un, &tr, path);
	reach_units_free(&un);
	reach_trials_free(&tr);
	return st;
}
