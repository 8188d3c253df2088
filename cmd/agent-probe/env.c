/* env.c — the gridworld: a cue to remember, trees to chop, two doors.
 *
 * An 11x9 room (walls around, inner x 1..9, y 1..7, y down). The agent
 * starts at (5,7) on a cue tile, red or blue, which it can see from rows 5
 * to 7 only. Two trees stand in row 2 (a
 * brown trunk at (x,2) under green leaves at (x,1)), x drawn from 1..9 at
 * least two apart. Actions: up, down, left, right, attack. Trunks, leaves
 * and walls block moves. Attack hits the first object (trunk, look-alike,
 * control) next to the agent in the order up, left, right, down: a tree
 * falls (trunk and leaves vanish) and gives one wood (+0.1). Doors at (0,3)
 * (left) and (10,3) (right) open once all the wood is held; stepping into
 * the door the cue named ends the episode with success (+1), into the other
 * with failure. After AP_TMAX steps the episode ends. The agent sees the
 * 5x5 cells around itself (outside the room reads as wall) and its wood.
 *
 * Edits: lookalike turns tree 0's trunk into a villager (brown, with a face,
 * under the same green leaves); control turns it into a purple block with
 * no leaves; neither gives wood (so one tree is needed) and hits on them
 * are counted. nocue hides the cue, movecue puts it at (5,4), swapcue shows
 * the other colour (the door to take stays the one first drawn). */
#include "ap.h"

#include <stdlib.h>
#include <string.h>

enum { AP_CELL_FLOOR, AP_CELL_WALL, AP_CELL_DOOR, AP_CELL_TREE, AP_CELL_LEAVES,
       AP_CELL_ODD };

static int ap_tree_at(const struct ap_env *e, int x, int y, int *which)
{
	for (int i = 0; i < AP_TREES; i++)
		if (!e->chopped[i] && e->tree_x[i] == x && (y == 1 || y == 2)) {
			*which = i;
			return 1;
		}
	return 0;
}

/* What stands at (x, y), from the dynamics' point of view. */
static int ap_cell(const struct ap_env *e, int x, int y, int *which)
{
	if (x < 0 || y < 0 || x >= AP_W || y >= AP_H)
		return AP_CELL_WALL;
	if (y == 3 && (x == 0 || x == AP_W - 1))
		return AP_CELL_DOOR;
	if (x == 0 || y == 0 || x == AP_W - 1 || y == AP_H - 1)
		return AP_CELL_WALL;
	int i;
	if (!ap_tree_at(e, x, y, &i))
		return AP_CELL_FLOOR;
	*which = i;
	int odd = i == 0 && (e->edits & AP_EDIT_OBJECT);
	if (y == 2)
		return odd ? AP_CELL_ODD : AP_CELL_TREE;
	return odd && (e->edits & AP_EDIT_CONTROL) ? AP_CELL_FLOOR : AP_CELL_LEAVES;
}

void ap_env_reset(struct ap_env *e, struct ax_rng *r, int edits)
{
	memset(e, 0, sizeof *e);
	e->ax = 5, e->ay = AP_H - 2;
	e->cue = (int)ax_rng_below(r, 2);
	e->cue_x = 5, e->cue_y = (edits & AP_EDIT_MOVECUE) ? 4 : AP_H - 2;
	e->tree_x[0] = 1 + (int)ax_rng_below(r, 9);
	do
		e->tree_x[1] = 1 + (int)ax_rng_below(r, 9);
	while (abs(e->tree_x[1] - e->tree_x[0]) < 2);
	e->edits = edits;
	e->need = (edits & AP_EDIT_OBJECT) ? AP_TREES - 1 : AP_TREES;
}

static const int ap_dx[4] = { 0, 0, -1, 1 }, ap_dy[4] = { -1, 1, 0, 0 };

/* The object attack would hit: its cell kind (0 none) and tree index. */
static int ap_attack_target(const struct ap_env *e, int *which)
{
	static const int order[4] = { AP_UP, AP_LEFT, AP_RIGHT, AP_DOWN };
	for (int k = 0; k < 4; k++) {
		int c = ap_cell(e, e->ax + ap_dx[order[k]], e->ay + ap_dy[order[k]], which);
		if (c == AP_CELL_TREE || c == AP_CELL_ODD)
			return c;
	}
	return 0;
}

float ap_env_step(struct ap_env *e, int action)
{
	AX_ASSERT(!e->done && action >= 0 && action < AP_NACT);
	float reward = 0;
	e->tree_hit = 0;
	if (action == AP_ATTACK) {
		int i, c = ap_attack_target(e, &i);
		if (c == AP_CELL_TREE) {
			e->chopped[i] = 1, e->wood++, e->tree_hit = 1;
			reward = 0.1f;
		} else if (c == AP_CELL_ODD) {
			e->odd_hits++;
		}
	} else {
		int x = e->ax + ap_dx[action], y = e->ay + ap_dy[action], i;
		int c = ap_cell(e, x, y, &i);
		if (c == AP_CELL_FLOOR) {
			e->ax = x, e->ay = y;
		} else if (c == AP_CELL_DOOR && e->wood >= e->need) {
			e->ax = x, e->ay = y, e->done = 1;
			e->success = (x == 0) == (e->cue == 0);
			reward = e->success ? 1.0f : 0.0f;
		}
	}
	if (++e->t >= AP_TMAX)
		e->done = 1;
	return reward;
}

int ap_env_cue_visible(const struct ap_env *e)
{
	return !(e->edits & AP_EDIT_NOCUE) && abs(e->cue_x - e->ax) <= AP_VIEW / 2 &&
	       abs(e->cue_y - e->ay) <= AP_VIEW / 2;
}

void ap_env_observe(const struct ap_env *e, int rendered_edits, float *obs)
{
	struct ap_env v = *e;    /* the world as drawn */
	v.edits = e->edits & rendered_edits;
	memset(obs, 0, AP_OBS * sizeof *obs);
	int cue = e->cue ^ !!(v.edits & AP_EDIT_SWAPCUE);
	int show_cue = !(v.edits & AP_EDIT_NOCUE);
	int cx = e->cue_x, cy = (v.edits & AP_EDIT_MOVECUE) ? 4 : AP_H - 2;
	for (int dy = 0; dy < AP_VIEW; dy++)
		for (int dx = 0; dx < AP_VIEW; dx++) {
			int x = e->ax + dx - AP_VIEW / 2, y = e->ay + dy - AP_VIEW / 2, i;
			float *o = obs + (dy * AP_VIEW + dx) * AP_CH;
			switch (ap_cell(&v, x, y, &i)) {
			case AP_CELL_WALL: o[AP_C_WALL] = 1; break;
			case AP_CELL_DOOR: o[AP_C_DOOR] = 1; break;
			case AP_CELL_TREE: o[AP_C_BROWN] = 1; break;
			case AP_CELL_LEAVES: o[AP_C_GREEN] = 1; break;
			case AP_CELL_ODD:
				if (v.edits & AP_EDIT_LOOKALIKE)
					o[AP_C_BROWN] = 1, o[AP_C_FACE] = 1;
				else
					o[AP_C_PURPLE] = 1;
				break;
			default: break;
			}
			if (show_cue && x == cx && y == cy)
				o[cue ? AP_C_BLUE : AP_C_RED] = 1;
		}
	obs[AP_VIEW * AP_VIEW * AP_CH + AX_MIN(e->wood, AP_TREES)] = 1;
}

int ap_env_odd_adjacent(const struct ap_env *e)
{
	int i;
	return ap_attack_target(e, &i) == AP_CELL_ODD;
}

/* Breadth-first distances to the target cells over cells the agent may
 * enter (floor, and open doors when they are the target). */
static void ap_distances(const struct ap_env *e, const uint8_t *target, int *dist)
{
	int queue[AP_W * AP_H], head = 0, tail = 0;
	for (int k = 0; k < AP_W * AP_H; k++) {
		dist[k] = target[k] ? 0 : -1;
		if (target[k])
			queue[tail++] = k;
	}
	while (head < tail) {
		int k = queue[head++], x = k % AP_W, y = k / AP_W;
		for (int a = 0; a < 4; a++) {
			int nx = x + ap_dx[a], ny = y + ap_dy[a], i;
			if (nx < 0 || ny < 0 || nx >= AP_W || ny >= AP_H)
				continue;
			int nk = ny * AP_W + nx;
			if (dist[nk] < 0 && ap_cell(e, nx, ny, &i) == AP_CELL_FLOOR) {
				dist[nk] = dist[k] + 1;
				queue[tail++] = nk;
			}
		}
	}
}

int ap_env_expert(const struct ap_env *e)
{
	uint8_t target[AP_W * AP_H] = { 0 };
	int dist[AP_W * AP_H], i;
	if (e->wood < e->need) {
		if (ap_attack_target(e, &i) == AP_CELL_TREE)
			return AP_ATTACK;
		for (int k = 0; k < AP_TREES; k++) {
			if (e->chopped[k] || (k == 0 && (e->edits & AP_EDIT_OBJECT)))
				continue;
			int x = e->tree_x[k];
			const int sx[3] = { x, x - 1, x + 1 }, sy[3] = { 3, 2, 2 };
			for (int s = 0; s < 3; s++)
				if (ap_cell(e, sx[s], sy[s], &i) == AP_CELL_FLOOR)
					target[sy[s] * AP_W + sx[s]] = 1;
		}
	} else {
		target[3 * AP_W + (e->cue == 0 ? 0 : AP_W - 1)] = 1;
	}
	ap_distances(e, target, dist);
	int best = AP_UP, bestd = 1 << 30;
	for (int a = 0; a < 4; a++) {
		int d = dist[(e->ay + ap_dy[a]) * AP_W + e->ax + ap_dx[a]];
		if (d >= 0 && d < bestd)
			best = a, bestd = d;
	}
	return best;
}

enum ax_status ap_edit_parse(const char *spec, int *edits)
{
	static const char *const names[] = { "lookalike", "control", "nocue", "movecue",
					     "swapcue" };
	*edits = 0;
	if (!*spec)
		return ax_error_set(AX_ERR_ARG, "an empty edit (lookalike, control, nocue, "
				    "movecue, swapcue or 'none')");
	if (!strcmp(spec, "none"))
		return AX_OK;
	const char *p = spec;
	while (*p) {
		size_t n = strcspn(p, ",");
		int k = 0;
		while (k < 5 && !(strlen(names[k]) == n && !strncmp(p, names[k], n)))
			k++;
		if (k == 5)
			return ax_error_set(AX_ERR_ARG, "'%.*s' is not an edit (lookalike, control, "
					    "nocue, movecue, swapcue or 'none')", (int)n, p);
		*edits |= 1 << k;
		p += n;
		if (*p == ',' && !*++p)
			return ax_error_set(AX_ERR_ARG, "'%s' ends with a comma", spec);
	}
	if ((*edits & AP_EDIT_OBJECT) == AP_EDIT_OBJECT)
		return ax_error_set(AX_ERR_ARG, "lookalike and control both replace tree 0; "
				    "choose one");
	if ((*edits & AP_EDIT_NOCUE) && (*edits & (AP_EDIT_MOVECUE | AP_EDIT_SWAPCUE)))
		return ax_error_set(AX_ERR_ARG, "nocue hides the cue; it cannot also be moved "
				    "or swapped");
	return AX_OK;
}
