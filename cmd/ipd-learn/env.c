/* env.c — one interface over the two environments, vectorised over lanes. */
#include "ipd_learn.h"

#include <string.h>

void ipd_env_init(struct ipd_env *e, enum ipd_env_kind kind, int n, const float payoff[2][2])
{
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->n = n;
	memcpy(e->payoff, payoff, sizeof e->payoff);
	if (kind == IPD_ENV_IPD) {
		e->obs_dim = IPD_OBS;
		e->n_actions = IPD_ACTIONS;
		e->ipd_state = ax_xcalloc((size_t)n, sizeof *e->ipd_state);
	} else {
		e->obs_dim = IPD_CL_OBS;
		e->n_actions = IPD_CL_ACTIONS;
		e->cl = ax_xcalloc((size_t)n, sizeof *e->cl);
		e->rng = ax_xcalloc((size_t)n, sizeof *e->rng);
	}
}

void ipd_env_free(struct ipd_env *e)
{
	free(e->ipd_state);
	free(e->cl);
	free(e->rng);
}

void ipd_env_reset(struct ipd_env *e, const struct ax_rng *episode_rng)
{
	if (e->kind == IPD_ENV_IPD) {
		memset(e->ipd_state, 0, (size_t)e->n * sizeof *e->ipd_state);
		return;
	}
	for (int i = 0; i < e->n; i++) {
		e->rng[i] = ax_rng_split(episode_rng, (uint64_t)i);
		ipd_cleanup_reset_lane(&e->cl[i], &e->rng[i]);
	}
}

void ipd_env_observe(const struct ipd_env *e, int seat, float *obs)
{
	if (e->kind == IPD_ENV_IPD) {
		ipd_observe(e->ipd_state, e->n, seat, obs);
		return;
	}
	for (int i = 0; i < e->n; i++)
		ipd_cleanup_observe_lane(&e->cl[i], seat, obs + (size_t)i * IPD_CL_OBS);
}

void ipd_env_step(struct ipd_env *e, const int *a0, const int *a1, float *r0, float *r1,
	      struct ipd_env_counts *counts, const int *group)
{
	if (e->kind == IPD_ENV_IPD) {
		ipd_step(e, a0, a1, r0, r1, counts, group);
		return;
	}
	for (int i = 0; i < e->n; i++) {
		struct ipd_env_counts *c = &counts[group ? group[i] : 0];
		float rew[2];
		ipd_cleanup_step_lane(&e->cl[i], &e->rng[i], (int[]){ a0[i], a1[i] }, rew, c);
		r0[i] = rew[0];
		r1[i] = rew[1];
		c->steps++;
	}
}
