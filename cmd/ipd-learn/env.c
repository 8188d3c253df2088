/* env.c — one interface over the two environments, vectorised over lanes. */
#include "ipd.h"

#include <string.h>

void env_init(struct env *e, enum env_kind kind, int n, const float payoff[2][2])
{
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->n = n;
	memcpy(e->payoff, payoff, sizeof e->payoff);
	if (kind == ENV_IPD) {
		e->obs_dim = IPD_OBS;
		e->n_actions = IPD_ACTIONS;
		e->ipd_state = ax_xcalloc((size_t)n, sizeof *e->ipd_state);
	} else {
		e->obs_dim = CL_OBS;
		e->n_actions = CL_ACTIONS;
		e->cl = ax_xcalloc((size_t)n, sizeof *e->cl);
		e->rng = ax_xcalloc((size_t)n, sizeof *e->rng);
	}
}

void env_free(struct env *e)
{
	free(e->ipd_state);
	free(e->cl);
	free(e->rng);
}

void env_reset(struct env *e, const struct ax_rng *episode_rng)
{
	if (e->kind == ENV_IPD) {
		memset(e->ipd_state, 0, (size_t)e->n * sizeof *e->ipd_state);
		return;
	}
	for (int i = 0; i < e->n; i++) {
		e->rng[i] = ax_rng_split(episode_rng, (uint64_t)i);
		cleanup_reset_lane(&e->cl[i], &e->rng[i]);
	}
}

void env_observe(const struct env *e, int seat, float *obs)
{
	if (e->kind == ENV_IPD) {
		ipd_observe(e->ipd_state, e->n, seat, obs);
		return;
	}
	for (int i = 0; i < e->n; i++)
		cleanup_observe_lane(&e->cl[i], seat, obs + (size_t)i * CL_OBS);
}

void env_step(struct env *e, const int *a0, const int *a1, float *r0, float *r1,
	      struct env_counts *counts, const int *group)
{
	if (e->kind == ENV_IPD) {
		ipd_step(e, a0, a1, r0, r1, counts, group);
		return;
	}
	for (int i = 0; i < e->n; i++) {
		struct env_counts *c = &counts[group ? group[i] : 0];
		float rew[2];
		cleanup_step_lane(&e->cl[i], &e->rng[i], (int[]){ a0[i], a1[i] }, rew, c);
		r0[i] = rew[0];
		r1[i] = rew[1];
		c->steps++;
	}
}
