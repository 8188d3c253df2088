/* model.c — the NDT1-style MtM model.
 *
 *   tokens  = [prompt, session, embed(stitch_s(x_t)) + pos_t  for t < T]
 *   h       = LayerNorm(blocks(tokens))          (pre-LN transformer)
 *   lograte = readout_s(h[2:])                   (B, T, N_s)
 *
 * Parameter names follow scripts/ref/mtm_train.py's state dict. */
#include "mtm.h"

#include <string.h>

void mtm_model_init(struct mtm_model *m, const struct mtm_config *cfg, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	m->cfg.neurons = ax_xmalloc((size_t)cfg->nsessions * sizeof(int));
	memcpy(m->cfg.neurons, cfg->neurons, (size_t)cfg->nsessions * sizeof(int));
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed);
	r = ax_rng_split(&root, 1);
	int D = cfg->D, T = cfg->T, S = cfg->nsessions;

	/* Core, shared by every session. */
	ax_nn_mlp_init(&m->embed, &m->params, &r, "embed", (int[]){ D, D, D }, 3, AX_SOFTSIGN);
	m->pos = ax_param(&m->params, 2, (int[]){ T, D }, "pos_embed");
	ax_init_normal(m->pos, &r, 0.02f);
	ax_nn_embedding_init(&m->prompt, &m->params, &r, "prompt_embed", MTM_NSCHEMES, D);
	ax_init_normal(m->prompt.w, &r, 0.02f);
	m->blocks = ax_xcalloc((size_t)cfg->layers, sizeof *m->blocks);
	for (int l = 0; l < cfg->layers; l++) {
		char name[32];
		snprintf(name, sizeof name, "blocks.%d", l);
		ax_nn_block_init(&m->blocks[l], &m->params, &r, name, D, cfg->heads, cfg->hidden);
		m->blocks[l].dropout = cfg->dropout;
	}
	ax_nn_layernorm_init(&m->ln_f, &m->params, "ln_f", D);

	/* Per session: its own stream, so session k's initial weights do not
	 * depend on how many sessions come before it in a fine-tuning run. */
	ax_nn_embedding_init(&m->session, &m->params, &r, "session_embed", S, D);
	ax_init_normal(m->session.w, &r, 0.02f);
	m->stitch = ax_xcalloc((size_t)S, sizeof *m->stitch);
	m->readout = ax_xcalloc((size_t)S, sizeof *m->readout);
	for (int s = 0; s < S; s++) {
		struct ax_rng rs = ax_rng_split(&root, 100 + (uint64_t)s);
		char name[32];
		snprintf(name, sizeof name, "stitchers.%d", s);
		ax_nn_linear_init(&m->stitch[s], &m->params, &rs, name, cfg->neurons[s], D, 1);
		snprintf(name, sizeof name, "readouts.%d", s);
		ax_nn_linear_init(&m->readout[s], &m->params, &rs, name, D, cfg->neurons[s], 1);
	}

	/* Causal mask over [prompt, session, bins]: the two leading tokens see
	 * each other only; bin t sees them and bins <= t. */
	int L = T + 2;
	m->causal_mask = ax_xcalloc((size_t)L * L, 1);
	for (int i = 0; i < L; i++)
		for (int j = 0; j < L; j++)
			m->causal_mask[(size_t)i * L + j] = j < 2 || (i >= 2 && j <= i);
}

void mtm_model_free(struct mtm_model *m)
{
	free(m->cfg.neurons), free(m->blocks), free(m->stitch), free(m->readout);
	free(m->causal_mask);
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

int mtm_param_is_session(const char *name)
{
	return !strncmp(name, "stitchers.", 10) || !strncmp(name, "readouts.", 9) ||
	       !strncmp(name, "session_embed.", 14);
}

struct ax_tensor *mtm_forward(struct ax_tape *t, const struct mtm_model *m, int session,
			      struct ax_tensor *x, enum mtm_scheme prompt, struct ax_rng *drop,
			      struct ax_tensor **features)
{
	int B = x->shape[0], T = m->cfg.T;
	AX_ASSERT(x->ndim == 3 && x->shape[1] == T && x->shape[2] == m->cfg.neurons[session] &&
		  "mtm_forward: x is (B, T, N_session)");
	struct ax_tensor *h = ax_nn_linear(t, &m->stitch[session], x);
	h = ax_add(t, ax_nn_mlp(t, &m->embed, h), m->pos);

	int32_t *ids = ax_tape_ints(t, 2 * (size_t)B);
	for (int b = 0; b < B; b++)
		ids[b] = prompt, ids[B + b] = session;
	struct ax_tensor *parts[3] = {
		ax_embedding(t, m->prompt.w, ids, 2, (int[]){ B, 1 }),
		ax_embedding(t, m->session.w, ids + B, 2, (int[]){ B, 1 }),
		h,
	};
	h = ax_concat(t, parts, 3, 1); /* (B, T+2, D) */

	struct ax_attn_desc attn = { 0 };
	if (prompt == MTM_CAUSAL)
		attn.mask = m->causal_mask;
	for (int l = 0; l < m->cfg.layers; l++)
		h = ax_nn_block(t, &m->blocks[l], h, &attn, drop);
	h = ax_nn_layernorm(t, &m->ln_f, ax_slice(t, h, 1, 2, T));
	if (features)
		*features = h;
	return ax_nn_linear(t, &m->readout[session], h);
}
