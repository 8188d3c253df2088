/* model.c — the policy: a transformer over the last K steps.
 *
 *   x_t      = W_e o_t + b_e + pos_t                       (dim)
 *   for each block l (pre-LN):
 *     a_t    = concat_h sum_{t-K < s <= t} softmax_s(q_t^h . k_s^h / sqrt(D)) v_s^h
 *     x_t   += W_o a_t + b_o                               (band causal mask, window K)
 *     x_t   += fc2(gelu(fc1(LN2(x_t))))
 *   logits_t = W_a LN_f(x_t) + b_a                         (AP_NACT)
 *
 * q, k, v are linear maps of LN1(x). pos is learned per episode step. A probe
 * (struct ap_probe) reads the attention weights and head outputs a^h, scales
 * heads (ablation) or swaps them for another run's (patching).
 * Parameter names follow scripts/ref/agent_probe.py's state dict. */
#include "ap.h"

#include <string.h>

const struct ax_setting ap_settings[] = {
	AX_SETTING_INT("agent_probe.memory", "--memory", struct ap_config, memory, 1, 128),
	AX_SETTING_INT("agent_probe.dim", "--dim", struct ap_config, dim, 4, 512),
	AX_SETTING_INT("agent_probe.layers", "--layers", struct ap_config, layers, 1, 8),
	AX_SETTING_INT("agent_probe.heads", "--heads", struct ap_config, heads, 1, 16),
	AX_SETTING_LONG("agent_probe.steps", "--steps", struct ap_config, steps, 1, 10000000),
	AX_SETTING_INT("agent_probe.batch", "--batch", struct ap_config, batch, 1, 4096),
	AX_SETTING_FLOAT("agent_probe.lr", "--lr", struct ap_config, lr, 0, 1, AX_LO_OPEN),
	AX_SETTING_FLOAT("agent_probe.noise", "--noise", struct ap_config, noise, 0, 1, 0),
	AX_SETTING_INT("agent_probe.eval_episodes", "--eval-episodes", struct ap_config,
		       eval_episodes, 1, 100000),
	AX_SETTING_U64("agent_probe.seed", "--seed", struct ap_config, seed),
};
const int ap_nsettings = (int)AX_COUNTOF(ap_settings);

void ap_config_default(struct ap_config *c)
{
	*c = (struct ap_config){ .memory = 32, .dim = 64, .layers = 2, .heads = 4, .steps = 1500,
				 .batch = 16, .lr = 1e-3f, .noise = 0.2f, .eval_episodes = 64 };
}

void ap_model_init(struct ap_model *m, const struct ap_config *cfg, uint64_t seed)
{
	AX_ASSERT(cfg->dim % cfg->heads == 0 && "dim divisible by heads");
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed);
	r = ax_rng_split(&root, 1);
	int C = cfg->dim;
	ax_nn_linear_init(&m->embed, &m->params, &r, "embed", AP_OBS, C, 1);
	m->pos = ax_param(&m->params, 2, (int[]){ AP_TMAX, C }, "pos");
	ax_init_normal(m->pos, &r, 0.02f);
	m->blocks = ax_xcalloc((size_t)cfg->layers, sizeof *m->blocks);
	for (int l = 0; l < cfg->layers; l++) {
		char name[32];
		snprintf(name, sizeof name, "blocks.%d", l);
		ax_nn_block_init(&m->blocks[l], &m->params, &r, name, C, cfg->heads, 4 * C);
	}
	ax_nn_layernorm_init(&m->ln_f, &m->params, "ln_f", C);
	ax_nn_linear_init(&m->head, &m->params, &r, "head", C, AP_NACT, 1);
}

void ap_model_free(struct ap_model *m)
{
	free(m->blocks);
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

/* What a probe does to layer l's head outputs a (N, T, C), in place. */
static void ap_probe_heads(const struct ap_model *m, const struct ap_probe *p, int l, int N,
			   int T, float *a)
{
	int C = m->cfg.dim, H = m->cfg.heads, D = C / H;
	size_t layer = (size_t)l * N * T * C;
	for (int n = 0; n < N; n++)
		for (int t = 0; t < T; t++)
			for (int h = 0; h < H; h++) {
				size_t at = ((size_t)n * T + t) * C + (size_t)h * D;
				if (p->patch && p->patch[((size_t)l * T + t) * H + h])
					memcpy(a + at, p->patch_src + layer + at, D * sizeof(float));
				if (p->head_gain)
					for (int d = 0; d < D; d++)
						a[at + d] *= p->head_gain[l * H + h];
			}
	if (p->heads_out)
		memcpy(p->heads_out + layer, a, (size_t)N * T * C * sizeof(float));
}

/* What a probe does to block l's input x (N, T, C), in place. */
static void ap_probe_resid(const struct ap_probe *p, int l, int N, int T, int C, float *x)
{
	size_t layer = (size_t)l * N * T * C;
	if (p->resid_patch)
		for (int n = 0; n < N; n++)
			for (int t = 0; t < T; t++)
				if (p->resid_patch[l * T + t]) {
					size_t at = ((size_t)n * T + t) * C;
					memcpy(x + at, p->resid_src + layer + at, C * sizeof(float));
				}
	if (p->resid_out)
		memcpy(p->resid_out + layer, x, (size_t)N * T * C * sizeof(float));
}

static struct ax_tensor *ap_block(struct ax_tape *t, const struct ap_model *m, int l,
				  struct ax_tensor *x, const struct ap_probe *probe)
{
	const struct ax_nn_block *b = &m->blocks[l];
	int N = x->shape[0], T = x->shape[1], H = m->cfg.heads;
	struct ax_attn_desc d = { .H = H, .causal = 1, .window = m->cfg.memory };
	struct ax_tensor *h = ax_nn_layernorm(t, &b->ln1, x);
	struct ax_tensor *q = ax_nn_linear(t, &b->attn.q, h), *k = ax_nn_linear(t, &b->attn.k, h);
	struct ax_tensor *a = ax_attention(t, q, k, ax_nn_linear(t, &b->attn.v, h), &d);
	if (probe) {
		AX_ASSERT(t->no_grad && "probes edit activations: run them without gradients");
		if (probe->probs) {
			struct ax_tensor *p = ax_attention_probs(t, q, k, &d);
			memcpy(probe->probs + (size_t)l * p->size, p->data, p->size * sizeof(float));
		}
		ap_probe_heads(m, probe, l, N, T, a->data);
	}
	x = ax_add(t, x, ax_nn_linear(t, &b->attn.o, a));
	h = ax_nn_linear(t, &b->fc2, ax_gelu(t, ax_nn_linear(t, &b->fc1,
								ax_nn_layernorm(t, &b->ln2, x))));
	return ax_add(t, x, h);
}

struct ax_tensor *ap_model_forward(struct ax_tape *t, const struct ap_model *m, int N, int T,
				   const float *obs, const struct ap_probe *probe)
{
	AX_ASSERT(T >= 1 && T <= AP_TMAX && "at most AP_TMAX steps");
	struct ax_tensor *o = ax_const(t, 3, (int[]){ N, T, AP_OBS }, obs);
	struct ax_tensor *x = ax_add(t, ax_nn_linear(t, &m->embed, o), ax_slice(t, m->pos, 0, 0, T));
	for (int l = 0; l < m->cfg.layers; l++) {
		if (probe)
			ap_probe_resid(probe, l, N, T, m->cfg.dim, x->data);
		x = ap_block(t, m, l, x, probe);
	}
	return ax_nn_linear(t, &m->head, ax_nn_layernorm(t, &m->ln_f, x));
}
