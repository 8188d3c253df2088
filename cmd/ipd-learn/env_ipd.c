/* env_ipd.c — the iterated prisoner's dilemma, vectorised over lanes.
 * A lane's state is the last joint action from seat 0's side (0 = start);
 * each seat observes it one-hot from its own side. */
#include "ipd_learn.h"

#include <string.h>

int ipd_joint_state(int mine, int theirs)
{
	return 1 + 2 * mine + theirs;
}

// CD <-> DC; start, CC and DD look the same from both sides.
int ipd_swap_state(int s)
{
	return s == 2 ? 3 : s == 3 ? 2 : s;
}

void ipd_observe(const int *state, int n, int seat, float *obs)
{
	memset(obs, 0, (size_t)n * IPD_OBS * sizeof *obs);
	for (int i = 0; i < n; i++)
		obs[(size_t)i * IPD_OBS + (seat ? ipd_swap_state(state[i]) : state[i])] = 1.0f;
}

void ipd_step(struct ipd_env *e, const int *a0, const int *a1, float *r0, float *r1,
	      struct ipd_env_counts *counts, const int *group)
{
	for (int i = 0; i < e->n; i++) {
		struct ipd_env_counts *c = &counts[group ? group[i] : 0];
		r0[i] = e->payoff[a0[i]][a1[i]];
		r1[i] = e->payoff[a1[i]][a0[i]];
		e->ipd_state[i] = ipd_joint_state(a0[i], a1[i]);
		c->reward[0] += r0[i];
		c->reward[1] += r1[i];
		c->coop[0] += a0[i] == 0;
		c->coop[1] += a1[i] == 0;
		c->steps++;
	}
}
