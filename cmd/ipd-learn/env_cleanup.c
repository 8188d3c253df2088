/* env_cleanup.c — CleanUp-lite, the brief's rules exactly, one lane at a time.
 *
 * Grid IPD_CL_W x IPD_CL_H (5 wide, 4 high); column 0 is the orchard, column IPD_CL_W-1
 * the river. Each step, in order:
 *   1. dirt appears on a uniformly drawn river cell without dirt, w.p. 0.35;
 *   2. an apple appears on a uniformly drawn orchard cell without an apple,
 *      w.p. 1 - min(1, P/3), P the dirt count after step 1;
 *   3. agents that are not frozen move (walls block) in a random order; an
 *      agent ends its move on a cell: an apple there is harvested (+1), dirt
 *      there is cleaned;
 *   4. each agent that was not frozen and chose zap hits its co-player w.p.
 *      0.9 if the co-player is within Manhattan distance 2; a hit freezes it
 *      for the next 5 steps (a frozen agent's actions are ignored; being hit
 *      again restarts the count).
 * Start: both agents on uniformly random cells (may coincide), no apples,
 * dirt on 3 random river cells. Both agents may share a cell. */
#include "ipd_learn.h"

#include <string.h>

int ipd_cleanup_distance(int c0, int c1)
{
	int dx = c0 % IPD_CL_W - c1 % IPD_CL_W, dy = c0 / IPD_CL_W - c1 / IPD_CL_W;
	return (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
}

// Index of a uniformly drawn zero among flags[0..n), or -1 if none.
static int draw_free(const unsigned char *flags, int n, struct ax_rng *r)
{
	int free_rows[IPD_CL_H], nfree = 0;
	for (int i = 0; i < n; i++)
		if (!flags[i])
			free_rows[nfree++] = i;
	return nfree ? free_rows[ax_rng_below(r, (uint32_t)nfree)] : -1;
}

void ipd_cleanup_reset_lane(struct ipd_cleanup_lane *l, struct ax_rng *r)
{
	memset(l, 0, sizeof *l);
	for (int p = 0; p < 2; p++)
		l->pos[p] = (int)ax_rng_below(r, IPD_CL_CELLS);
	for (int k = 0; k < IPD_CL_START_DIRT; k++)
		l->dirt[draw_free(l->dirt, IPD_CL_H, r)] = 1;
}

static int moved(int cell, int action)
{
	int x = cell % IPD_CL_W, y = cell / IPD_CL_W;
	switch (action) {
	case IPD_CL_UP: y = y > 0 ? y - 1 : y; break;
	case IPD_CL_DOWN: y = y < IPD_CL_H - 1 ? y + 1 : y; break;
	case IPD_CL_LEFT: x = x > 0 ? x - 1 : x; break;
	case IPD_CL_RIGHT: x = x < IPD_CL_W - 1 ? x + 1 : x; break;
	default: break;
	}
	return y * IPD_CL_W + x;
}

void ipd_cleanup_step_lane(struct ipd_cleanup_lane *l, struct ax_rng *r, const int a[2], float rew[2],
		       struct ipd_env_counts *c)
{
	int dirt_count = 0;
	if (ax_rng_uniform(r) < IPD_CL_DIRT_P) {
		int row = draw_free(l->dirt, IPD_CL_H, r);
		if (row >= 0)
			l->dirt[row] = 1;
	}
	for (int y = 0; y < IPD_CL_H; y++)
		dirt_count += l->dirt[y];
	float apple_p = 1.0f - AX_MIN(1.0f, (float)dirt_count / 3.0f);
	if (ax_rng_uniform(r) < apple_p) {
		int row = draw_free(l->apple, IPD_CL_H, r);
		if (row >= 0)
			l->apple[row] = 1;
	}

	int active[2] = { l->frozen[0] == 0, l->frozen[1] == 0 };
	int first = (int)ax_rng_below(r, 2);
	rew[0] = rew[1] = 0.0f;
	for (int k = 0; k < 2; k++) {
		int p = k ? 1 - first : first;
		if (!active[p]) {
			l->frozen[p]--;
			continue;
		}
		int cell = moved(l->pos[p], a[p]);
		l->pos[p] = cell;
		int x = cell % IPD_CL_W, y = cell / IPD_CL_W;
		if (x == 0 && l->apple[y]) {
			l->apple[y] = 0;
			rew[p] += 1.0f;
			c->apples[p] += 1;
		}
		if (x == IPD_CL_W - 1 && l->dirt[y]) {
			l->dirt[y] = 0;
			c->cleaned[p] += 1;
		}
	}

	int hit[2] = { 0, 0 };
	for (int p = 0; p < 2; p++) {
		if (!active[p] || a[p] != IPD_CL_ZAP)
			continue;
		c->zaps[p] += 1;
		if (ipd_cleanup_distance(l->pos[0], l->pos[1]) <= IPD_CL_ZAP_RANGE &&
		    ax_rng_uniform(r) < IPD_CL_ZAP_P)
			hit[1 - p] = 1;
	}
	for (int p = 0; p < 2; p++)
		if (hit[p]) {
			l->frozen[p] = IPD_CL_FREEZE;
			c->zap_hits[1 - p] += 1;
		}
	c->reward[0] += rew[0];
	c->reward[1] += rew[1];
}

void ipd_cleanup_observe_lane(const struct ipd_cleanup_lane *l, int seat, float *obs)
{
	int other = 1 - seat;
	memset(obs, 0, IPD_CL_OBS * sizeof *obs);
	obs[l->pos[seat]] = 1.0f;
	obs[IPD_CL_CELLS + l->pos[other]] = 1.0f;
	float *apple = obs + 2 * IPD_CL_CELLS, *dirt = apple + IPD_CL_H, *flags = dirt + IPD_CL_H;
	for (int y = 0; y < IPD_CL_H; y++) {
		apple[y] = l->apple[y];
		dirt[y] = l->dirt[y];
	}
	flags[0] = l->frozen[seat] > 0;
	flags[1] = l->frozen[other] > 0;
	flags[2] = 1.0f;
}
