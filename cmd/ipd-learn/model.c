/* model.c — the meta agent and its PPO loss; forward passes only (the tape
 * gives the gradients, the PPO loss op writes its own backward).
 *
 * Meta agent, width W, observation o_t (the environment's one-hot state and
 * a first-step-of-inner-episode flag), a residual gated linear recurrence
 * (Hawk's RG-LRU core) over the whole meta-trajectory:
 *   x_t = embed(o_t)
 *   y_t = rmsnorm(x_t) * norm1
 *   a_t = sigmoid(gate(y_t))
 *   h_t = a_t * h_{t-1} + (1 - a_t) * inp(y_t)           (ax_scan; h_0 = 0)
 *   x_t = x_t + out(h_t)
 *   x_t = x_t + fc2(gelu(fc1(rmsnorm(x_t) * norm2)))
 *   z_t = rmsnorm(x_t) * norm
 *   logits_t = pi(z_t),  value_t = v(z_t)
 * pi and v start at zero (a uniform policy, value 0); gate biases start at
 * logit(a), a spread over [0.9, 0.999]. Parameter names are the PyTorch
 * state-dict names of that module under "agent<i>.": embed, block.gate,
 * block.inp, block.out, block.norm1, block.mlp.fc1, block.mlp.fc2,
 * block.norm2, norm, pi, v (".weight", ".bias").
 *
 * PPO loss over S samples, rho = exp(logp(a) - logp_old):
 *   L = mean_S [ -min(rho A, clip(rho, 1-eps, 1+eps) A)
 *                + value_coef * 0.5 * max((v - R)^2, (v_old + clip(v - v_old, -eps, eps) - R)^2)
 *                - entropy_coef * H(softmax(logits)) ]
 */
#include "ipd_learn.h"

#include <math.h>
#include <string.h>

#define NORM_EPS 1e-6f

static struct ax_tensor *ones_param(struct ax_params *p, int n, const char *name)
{
	struct ax_tensor *t = ax_param(p, 1, (int[]){ n }, "%s", name);
	ax_tensor_fill(t, 1.0f);
	return t;
}

void ipd_meta_init(struct ipd_meta_net *m, struct ax_arena *long_arena, struct ax_rng *r,
		   const char *prefix, int obs_dim, int width, int n_actions, float defect_bias)
{
	int W = width;
	char n[9][96];
	static const char *const parts[9] = { "embed", "block.gate", "block.inp", "block.out",
		"block.mlp.fc1", "block.mlp.fc2", "pi", "v", "" };
	for (int i = 0; i < 9; i++)
		snprintf(n[i], sizeof n[i], "%s%s", prefix, parts[i]);
	char norm1[96], norm2[96], normf[96];
	snprintf(norm1, sizeof norm1, "%sblock.norm1.weight", prefix);
	snprintf(norm2, sizeof norm2, "%sblock.norm2.weight", prefix);
	snprintf(normf, sizeof normf, "%snorm.weight", prefix);
	memset(m, 0, sizeof *m);
	ax_params_init(&m->params, long_arena);
	struct ax_params *p = &m->params;
	ax_nn_linear_init(&m->embed, p, r, n[0], obs_dim, W, 1);
	m->norm1 = ones_param(p, W, norm1);
	ax_nn_linear_init(&m->gate, p, r, n[1], W, W, 1);
	ax_nn_linear_init(&m->inp, p, r, n[2], W, W, 1);
	ax_nn_linear_init(&m->out, p, r, n[3], W, W, 1);
	m->norm2 = ones_param(p, W, norm2);
	ax_nn_linear_init(&m->fc1, p, r, n[4], W, W, 1);
	ax_nn_linear_init(&m->fc2, p, r, n[5], W, W, 1);
	m->normf = ones_param(p, W, normf);
	ax_nn_linear_init(&m->pi, p, r, n[6], W, n_actions, 1);
	ax_nn_linear_init(&m->v, p, r, n[7], W, 1, 1);
	// Zero heads: the agent starts uniform with value 0 (paper). Gates start
	// slow, a = sigmoid(bias) spread over [0.9, 0.999] as in Hawk's RG-LRU,
	// so memory spans the inner episodes from the first iteration.
	ax_tensor_fill(m->pi.w, 0.0f);
	ax_tensor_fill(m->pi.b, 0.0f);
	ax_tensor_fill(m->v.w, 0.0f);
	ax_tensor_fill(m->v.b, 0.0f);
	for (int i = 0; i < W; i++) {
		float a = 0.9f + 0.099f * (float)i / (float)(W > 1 ? W - 1 : 1);
		m->gate.b->data[i] = logf(a / (1.0f - a));
	}
	// Optional start from defection (IPD action 1).
	if (n_actions == IPD_ACTIONS)
		m->pi.b->data[1] = defect_bias;
}

struct ipd_meta_out ipd_meta_forward(struct ax_tape *t, const struct ipd_meta_net *m,
				 struct ax_tensor *obs, struct ax_tensor *h0)
{
	struct ax_tensor *x = ax_nn_linear(t, &m->embed, obs);
	struct ax_tensor *y = ax_rmsnorm(t, x, m->norm1, NORM_EPS);
	struct ax_tensor *a = ax_sigmoid(t, ax_nn_linear(t, &m->gate, y));
	struct ax_tensor *b = ax_mul(t, ax_affine(t, a, -1.0f, 1.0f), ax_nn_linear(t, &m->inp, y));
	struct ax_tensor *h = ax_scan(t, a, b, h0);
	x = ax_add(t, x, ax_nn_linear(t, &m->out, h));
	y = ax_rmsnorm(t, x, m->norm2, NORM_EPS);
	x = ax_add(t, x, ax_nn_linear(t, &m->fc2, ax_gelu(t, ax_nn_linear(t, &m->fc1, y))));
	struct ax_tensor *z = ax_rmsnorm(t, x, m->normf, NORM_EPS);
	return (struct ipd_meta_out){ ax_nn_linear(t, &m->pi, z), ax_nn_linear(t, &m->v, z), h };
}

/* ---- fused PPO loss ---- */

static float clampf(float x, float lo, float hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

// log softmax of row x (n) at index k; probs (n) filled with the softmax,
// by the formula that gave logp_old while acting (train.c).
static float log_softmax_at(const float *x, int n, int k, float *probs)
{
	float mx, s = ax_softmax_row(n, x, probs, &mx);
	return x[k] - mx - logf(s);
}

static float safe_log(float p)
{
	return p > 0.0f ? logf(p) : 0.0f;   /* p log p -> 0 */
}

static float entropy(const float *probs, int n)
{
	float H = 0.0f;
	for (int i = 0; i < n; i++)
		H -= probs[i] * safe_log(probs[i]);
	return H;
}

static void ppo_backward(struct ax_tape_node *n)
{
	struct ax_tensor *logits = n->in[0], *value = n->in[1];
	const struct ipd_ppo_data *d = n->saved;
	int S = (int)ax_tensor_rows(logits), A = ax_tensor_cols(logits);
	float scale = n->out->grad[0] / (float)S, probs[64];
	for (int i = 0; i < S; i++) {
		if (logits->requires_grad) {
			float lp = log_softmax_at(logits->data + (size_t)i * A, A, d->action[i], probs);
			float rho = expf(lp - d->logp_old[i]), adv = d->adv[i];
			float clipped = clampf(rho, 1.0f - d->clip, 1.0f + d->clip);
			// min() takes the unclipped branch: gradient -adv * rho dlogp.
			float *gl = logits->grad + (size_t)i * A;
			if (rho * adv <= clipped * adv) {
				float g = -adv * rho * scale;
				for (int a = 0; a < A; a++)
					gl[a] += g * ((a == d->action[i]) - probs[a]);
			}
			if (d->entropy_coef != 0.0f) {
				// d(-H)/dx_a = p_a (log p_a + H)
				float H = entropy(probs, A);
				for (int a = 0; a < A; a++)
					gl[a] += d->entropy_coef * scale * probs[a] * (safe_log(probs[a]) + H);
			}
		}
		if (value->requires_grad) {
			float v = value->data[i], vo = d->v_old[i], R = d->target[i];
			float dv = clampf(v - vo, -d->clip, d->clip), vc = vo + dv;
			float g = (v - R) * (v - R) >= (vc - R) * (vc - R) ? v - R
				: fabsf(v - vo) < d->clip ? vc - R : 0.0f;
			value->grad[i] += d->value_coef * g * scale;
		}
	}
}
static const struct ax_opdef OP_PPO = { "ppo_loss", "ppo_loss backward", ppo_backward, 0 };

struct ax_tensor *ipd_ppo_loss(struct ax_tape *t, struct ax_tensor *logits, struct ax_tensor *value,
			   const struct ipd_ppo_data *d)
{
	double t0 = ax_op_clock();
	int S = (int)ax_tensor_rows(logits), A = ax_tensor_cols(logits);
	AX_ASSERT(value->size == (size_t)S && A <= 64 && "ipd_ppo_loss: logits (S, A<=64), value (S)");
	float probs[64];
	double pg = 0.0, vl = 0.0, ent = 0.0;
	for (int i = 0; i < S; i++) {
		float lp = log_softmax_at(logits->data + (size_t)i * A, A, d->action[i], probs);
		float rho = expf(lp - d->logp_old[i]), adv = d->adv[i];
		float clipped = clampf(rho, 1.0f - d->clip, 1.0f + d->clip);
		pg -= AX_MIN(rho * adv, clipped * adv);
		if (d->entropy_coef != 0.0f)
			ent += entropy(probs, A);
		float v = value->data[i], vo = d->v_old[i], R = d->target[i];
		float vc = vo + clampf(v - vo, -d->clip, d->clip);
		vl += 0.5 * AX_MAX((v - R) * (v - R), (vc - R) * (vc - R));
	}
	struct ax_tensor *o = ax_op_output(t, 1, (int[]){ 1 });
	o->data[0] = (float)((pg + d->value_coef * vl - d->entropy_coef * ent) / S);
	struct ax_tape_node *n = ax_op_record(t, &OP_PPO, o, logits, value, NULL, NULL);
	if (n) {
		struct ipd_ppo_data *saved = ax_arena_alloc(t->arena, sizeof *saved);
		*saved = *d;
		n->saved = saved;
	}
	ax_op_done(&OP_PPO, t0, 20.0 * S * A);
	return o;
}
