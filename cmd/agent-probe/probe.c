/* probe.c — what the probes measure: attention by memory offset, the effect
 * of edited observations, activation patching and attention rollout.
 *
 * Attention: for each layer, head and query step t of each episode, the
 * weight on key step t - o is added to offset o (o < K); dividing by the
 * number of queries gives rows that sum to 1. Shares: o < 4 is "last 4";
 * older keys at a step where the cue was in view are "cue", at a step that
 * chopped a tree "trees".
 *
 * Patching: the clean run is a set of expert episodes, the corrupted run
 * the same observations with the cue's colour swapped. The metric at the
 * decision steps (all wood held, the cue out of view) is
 *   m = logit(the clean cue's door direction) - logit(the other direction),
 * averaged over those steps and episodes. Patching head h of layer l at
 * step t in the corrupted run with its clean output gives m_p; the
 * normalised effect is (m_p - m_corrupted) / (m_clean - m_corrupted), and 0
 * when the two runs agree (|m_clean - m_corrupted| < 1e-6, e.g. a run
 * against itself). Patching the residual stream (block l's input at step t,
 * every episode) the same way says where the cue's information sits. Rollout (Abnar & Zuidema): per layer the head-mean
 * weights A, with the residual 0.5 A + 0.5 I, multiplied over layers; the
 * decision steps' rows, averaged, say how much each step reaches them. */
#include "ap.h"

#include <math.h>
#include <string.h>

static int ap_window(const struct ap_model *m)
{
	return AX_MIN(m->cfg.memory, AP_TMAX);
}

void ap_attention_summary(const struct ap_model *m, const struct ap_episodes *ep,
			  const float *probs, struct ap_attn_summary *s)
{
	int L = m->cfg.layers, H = m->cfg.heads, K = ap_window(m), T = AP_TMAX;
	s->by_offset = ax_xcalloc((size_t)L * H * K, sizeof(float));
	s->last4 = ax_xcalloc((size_t)L * H, sizeof(float));
	s->cue = ax_xcalloc((size_t)L * H, sizeof(float));
	s->trees = ax_xcalloc((size_t)L * H, sizeof(float));
	s->time_offset = ax_xcalloc((size_t)T * K, sizeof(float));
	double *acc = ax_xcalloc((size_t)L * H * (K + 3), sizeof(double));
	double *tacc = ax_xcalloc((size_t)T * K, sizeof(double)), *tn = ax_xcalloc(T, sizeof(double));
	long queries = 0;
	for (int i = 0; i < ep->n; i++) {
		const uint8_t *cue = ep->cue_seen + (size_t)i * T, *tree = ep->tree_hit + (size_t)i * T;
		queries += ep->len[i];
		for (int lh = 0; lh < L * H; lh++)
			for (int t = 0; t < ep->len[i]; t++) {
				const float *row = probs + (((size_t)i * L * H + lh) * T + t) * T;
				double *a = acc + (size_t)lh * (K + 3);
				for (int o = 0; o < K && o <= t; o++) {
					double p = row[t - o];
					a[o] += p;
					if (o < 4)
						a[K] += p;
					else if (cue[t - o])
						a[K + 1] += p;
					else if (tree[t - o])
						a[K + 2] += p;
					tacc[(size_t)t * K + o] += p;
				}
				tn[t] += 1;
			}
	}
	for (int lh = 0; lh < L * H; lh++) {
		const double *a = acc + (size_t)lh * (K + 3);
		double q = AX_MAX(queries, 1);
		for (int o = 0; o < K; o++)
			s->by_offset[(size_t)lh * K + o] = (float)(a[o] / q);
		s->last4[lh] = (float)(a[K] / q);
		s->cue[lh] = (float)(a[K + 1] / q);
		s->trees[lh] = (float)(a[K + 2] / q);
	}
	for (int t = 0; t < T; t++)
		for (int o = 0; o < K; o++)
			s->time_offset[(size_t)t * K + o] =
				tn[t] > 0 && o <= t ? (float)(tacc[(size_t)t * K + o] / tn[t]) : NAN;
	free(acc), free(tacc), free(tn);
}

void ap_attn_summary_free(struct ap_attn_summary *s)
{
	free(s->by_offset), free(s->last4), free(s->cue), free(s->trees), free(s->time_offset);
	memset(s, 0, sizeof *s);
}

/* Logits of whole episodes (n, AP_TMAX, AP_NACT), malloc'd. */
static float *ap_logits(const struct ap_model *m, int n, const float *obs,
			const struct ap_probe *probe)
{
	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	ax_no_grad_begin(&tape);
	struct ax_tensor *l = ap_model_forward(&tape, m, n, AP_TMAX, obs, probe);
	float *out = ax_xmalloc(l->size * sizeof(float));
	memcpy(out, l->data, l->size * sizeof(float));
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	return out;
}

static void ap_softmax(const float *l, double *p)
{
	double mx = l[0], z = 0;
	for (int a = 1; a < AP_NACT; a++)
		mx = AX_MAX(mx, l[a]);
	for (int a = 0; a < AP_NACT; a++)
		z += p[a] = exp(l[a] - mx);
	for (int a = 0; a < AP_NACT; a++)
		p[a] /= z;
}

void ap_intervene(const struct ap_model *m, const struct ap_episodes *ep, struct ap_effect *e)
{
	float *le = ap_logits(m, ep->n, ep->obs, NULL), *lp = ap_logits(m, ep->n, ep->obs_plain, NULL);
	double kl = 0, dl = 0, dl_adj = 0, pa = 0;
	long steps = 0, adj = 0;
	for (int i = 0; i < ep->n; i++)
		for (int t = 0; t < ep->len[i]; t++) {
			size_t at = (size_t)i * AP_TMAX + t;
			const float *xe = le + at * AP_NACT, *xp = lp + at * AP_NACT;
			double pe[AP_NACT], pp[AP_NACT];
			ap_softmax(xe, pe), ap_softmax(xp, pp);
			for (int a = 0; a < AP_NACT; a++)
				kl += pp[a] * (log(pp[a] + 1e-30) - log(pe[a] + 1e-30));
			double d = (double)xe[AP_ATTACK] - xp[AP_ATTACK];
			dl += d, steps++;
			if (ep->odd_adj[at])
				dl_adj += d, pa += pe[AP_ATTACK], adj++;
		}
	e->kl = steps ? kl / steps : 0;
	e->dlogit_attack = adj ? dl_adj / adj : steps ? dl / steps : 0;
	e->attack_prob = adj ? pa / adj : 0;
	e->success = ap_success_rate(ep);
	e->attack_rate = ap_odd_attack_rate(ep);
	free(le), free(lp);
}

void ap_ablate(const struct ap_model *m, uint64_t seed, int n, int edits, double *rows)
{
	int LH = m->cfg.layers * m->cfg.heads;
	float *gain = ax_xmalloc((size_t)LH * sizeof(float));
	for (int k = -1; k < LH; k++) {
		for (int j = 0; j < LH; j++)
			gain[j] = j == k ? 0.0f : 1.0f;
		struct ap_episodes ep;
		ap_rollout(m, seed, n, 0, 0, gain, &ep);
		rows[(k + 1) * 2] = ap_success_rate(&ep);
		ap_episodes_free(&ep);
		ap_rollout(m, seed, n, edits, 0, gain, &ep);
		rows[(k + 1) * 2 + 1] = ap_odd_attack_rate(&ep);
		ap_episodes_free(&ep);
	}
	free(gain);
}
