/* rollout.c — the policy acting in the world: episodes side by side, each
 * step one forward over every live episode's memory. Episode i draws its
 * world from stream i of the seed and its actions from stream 1000000 + i,
 * so an episode does not depend on how many run beside it. */
#include "ap.h"

#include <string.h>

static void ap_episodes_alloc(struct ap_episodes *ep, int n, int L, int H)
{
	size_t S = (size_t)n * AP_TMAX;
	ep->n = n, ep->L = L, ep->H = H;
	ep->obs = ax_xcalloc(S * AP_OBS, sizeof(float));
	ep->obs_plain = ax_xcalloc(S * AP_OBS, sizeof(float));
	ep->act = ax_xmalloc(S * sizeof(int32_t));
	for (size_t k = 0; k < S; k++)
		ep->act[k] = -1;
	ep->rew = ax_xcalloc(S, sizeof(float));
	ep->len = ax_xcalloc((size_t)n, sizeof(int32_t));
	ep->cue_seen = ax_xcalloc(S, 1);
	ep->tree_hit = ax_xcalloc(S, 1);
	ep->odd_adj = ax_xcalloc(S, 1);
	ep->success = ax_xcalloc((size_t)n, sizeof(int32_t));
	ep->odd_hits = ax_xcalloc((size_t)n, sizeof(int32_t));
}

void ap_episodes_free(struct ap_episodes *ep)
{
	free(ep->obs), free(ep->obs_plain), free(ep->act), free(ep->rew), free(ep->len);
	free(ep->cue_seen), free(ep->tree_hit), free(ep->odd_adj), free(ep->success);
	free(ep->odd_hits);
	memset(ep, 0, sizeof *ep);
}

static void ap_record_obs(const struct ap_env *e, struct ap_episodes *ep, int i)
{
	size_t at = (size_t)i * AP_TMAX + e->t;
	ap_env_observe(e, e->edits, ep->obs + at * AP_OBS);
	ap_env_observe(e, 0, ep->obs_plain + at * AP_OBS);
	ep->cue_seen[at] = (uint8_t)ap_env_cue_visible(e);
	ep->odd_adj[at] = (uint8_t)ap_env_odd_adjacent(e);
}

static int ap_pick(const float *logits, float temperature, struct ax_rng *r)
{
	if (temperature > 0)
		return ax_rng_categorical_logits(r, logits, AP_NACT, temperature);
	int best = 0;
	for (int a = 1; a < AP_NACT; a++)
		if (logits[a] > logits[best])
			best = a;
	return best;
}

void ap_rollout(const struct ap_model *m, uint64_t seed, int n, int edits, float temperature,
		const float *head_gain, struct ap_episodes *ep)
{
	ap_episodes_alloc(ep, n, m->cfg.layers, m->cfg.heads);
	struct ap_env *env = ax_xcalloc((size_t)n, sizeof *env);
	struct ax_rng *arng = ax_xcalloc((size_t)n, sizeof *arng), root;
	int *live = ax_xmalloc((size_t)n * sizeof(int));
	float *buf = ax_xmalloc((size_t)n * AP_TMAX * AP_OBS * sizeof(float));
	ax_rng_seed(&root, seed);
	for (int i = 0; i < n; i++) {
		struct ax_rng w = ax_rng_split(&root, (uint64_t)i);
		arng[i] = ax_rng_split(&root, 1000000 + (uint64_t)i);
		ap_env_reset(&env[i], &w, edits);
		ap_record_obs(&env[i], ep, i);
	}
	struct ap_probe probe = { .head_gain = head_gain };
	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	ax_no_grad_begin(&tape);
	for (int t = 0; t < AP_TMAX; t++) {
		int nl = 0;
		for (int i = 0; i < n; i++)
			if (!env[i].done)
				live[nl++] = i;
		if (!nl)
			break;
		size_t row = (size_t)(t + 1) * AP_OBS;
		for (int j = 0; j < nl; j++)
			memcpy(buf + j * row, ep->obs + (size_t)live[j] * AP_TMAX * AP_OBS,
			       row * sizeof(float));
		struct ax_tensor *logits = ap_model_forward(&tape, m, nl, t + 1, buf,
							    head_gain ? &probe : NULL);
		for (int j = 0; j < nl; j++) {
			int i = live[j];
			size_t at = (size_t)i * AP_TMAX + t;
			int a = ap_pick(logits->data + ((size_t)j * (t + 1) + t) * AP_NACT,
					temperature, &arng[i]);
			ep->act[at] = a;
			ep->rew[at] = ap_env_step(&env[i], a);
			ep->tree_hit[at] = (uint8_t)env[i].tree_hit;
			if (!env[i].done)
				ap_record_obs(&env[i], ep, i);
		}
		ax_tape_reset(&tape);
	}
	for (int i = 0; i < n; i++) {
		ep->len[i] = env[i].t;
		ep->success[i] = env[i].success;
		ep->odd_hits[i] = env[i].odd_hits;
	}
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	free(env), free(arng), free(live), free(buf);
}

double ap_success_rate(const struct ap_episodes *ep)
{
	long s = 0;
	for (int i = 0; i < ep->n; i++)
		s += ep->success[i];
	return ep->n ? (double)s / ep->n : 0;
}

double ap_odd_attack_rate(const struct ap_episodes *ep)
{
	long s = 0;
	for (int i = 0; i < ep->n; i++)
		s += ep->odd_hits[i] > 0;
	return ep->n ? (double)s / ep->n : 0;
}

float *ap_episode_attention(const struct ap_model *m, const struct ap_episodes *ep)
{
	int n = ep->n, L = m->cfg.layers, H = m->cfg.heads, T = AP_TMAX;
	size_t per = (size_t)H * T * T;
	float *probs = ax_xmalloc((size_t)L * n * per * sizeof(float));
	float *out = ax_xmalloc((size_t)n * L * per * sizeof(float));
	struct ap_probe probe = { .probs = probs };
	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	ax_no_grad_begin(&tape);
	ap_model_forward(&tape, m, n, T, ep->obs, &probe);
	for (int l = 0; l < L; l++)   /* (L, n, ...) -> (n, L, ...) */
		for (int i = 0; i < n; i++)
			memcpy(out + ((size_t)i * L + l) * per, probs + ((size_t)l * n + i) * per,
			       per * sizeof(float));
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	free(probs);
	return out;
}
