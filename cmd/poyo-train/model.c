/* model.c — POYO: a PerceiverIO over spike tokens (arXiv:2310.16046).
 *
 *   x_j   = UnitEmb(unit_j) + TypeEmb(type_j)                 spike tokens at t_j
 *   z_l   = LatentEmb(l mod K)                                 at (l div K + 1/2) 0.125 s
 *   z     = z + CrossAttn(LN(z), LN(x))   rotary on q, k, v at the times, the
 *                                          output turned back by the latent times
 *   z     = z + FFN(z)                    FFN(h) = W2 (a * gelu(g)), [a g] = W1 LN(h)
 *   depth x:  z = z + SelfAttn(LN(z)) (rotary on q, k, v);  z = z + FFN(z)
 *   y_q   = SessionEmb(session)                                at each behaviour time
 *   y     = y + CrossAttn(LN(y), LN(z))   rotary on q, k only
 *   y     = y + FFN(y);   v_hat = Readout(y)  (B, Q, 2)
 * Rotary: ax_attn_desc's continuous-time rotary (ax_kernels.h), POYO's
 * frequencies (t_min 1e-4 s, t_max 4 s, half of each head's dims).
 * Key padding masks the padded tokens. Names follow POYO's state dict where
 * the library's layers allow (attention: .attn.q/.k/.v/.o).
 */
#include "poyo.h"

#include <math.h>
#include <string.h>

#define EMB_STD 0.02f

static void ffn_init(struct poyo_ffn *f, struct ax_params *p, struct ax_rng *r,
		     const char *name, int C)
{
	char sub[256];
	snprintf(sub, sizeof sub, "%s.net.0", name);
	ax_nn_layernorm_init(&f->ln, p, sub, C);
	snprintf(sub, sizeof sub, "%s.net.1", name);
	ax_nn_linear_init(&f->fc1, p, r, sub, C, 8 * C, 1);
	snprintf(sub, sizeof sub, "%s.net.3", name);
	ax_nn_linear_init(&f->fc2, p, r, sub, 4 * C, C, 1);
}

static void attn_init(struct poyo_attn *a, struct ax_params *p, struct ax_rng *r,
		      const char *name, int C, int heads)
{
	char sub[256];
	snprintf(sub, sizeof sub, "%s.norm", name);
	ax_nn_layernorm_init(&a->norm, p, sub, C);
	snprintf(sub, sizeof sub, "%s.context_norm", name);
	ax_nn_layernorm_init(&a->context_norm, p, sub, C);
	snprintf(sub, sizeof sub, "%s.attn", name);
	ax_nn_attention_init(&a->attn, p, r, sub, C, C, heads);
}

static void emb_init(struct ax_nn_embedding *e, struct ax_params *p, struct ax_rng *r,
		     const char *name, int V, int C)
{
	ax_nn_embedding_init(e, p, r, name, V, C);
	ax_init_normal(e->w, r, EMB_STD);
}

void poyo_model_init(struct poyo_model *m, const struct poyo_config *cfg, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	m->cfg.units = ax_xmalloc((size_t)cfg->nsessions * sizeof(int));
	memcpy(m->cfg.units, cfg->units, (size_t)cfg->nsessions * sizeof(int));
	m->offsets = ax_xmalloc((size_t)cfg->nsessions * sizeof(int));
	int total = 0;
	for (int s = 0; s < cfg->nsessions; s++)
		m->offsets[s] = total, total += cfg->units[s];
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed ^ 0x706f796fULL);
	int C = cfg->dim;
	struct ax_params *p = &m->params;
	r = ax_rng_split(&root, 1);   /* the shared core, one stream */
	emb_init(&m->token_type_emb, p, &r, "token_type_emb", 3, C);
	emb_init(&m->latent_emb, p, &r, "latent_emb", cfg->latents, C);
	attn_init(&m->enc_atn, p, &r, "enc_atn", C, cfg->cross_heads);
	ffn_init(&m->enc_ffn, p, &r, "enc_ffn", C);
	m->proc_atn = ax_xcalloc((size_t)AX_MAX(1, cfg->depth), sizeof *m->proc_atn);
	m->proc_ffn = ax_xcalloc((size_t)AX_MAX(1, cfg->depth), sizeof *m->proc_ffn);
	for (int l = 0; l < cfg->depth; l++) {
		char name[64];
		snprintf(name, sizeof name, "proc_layers.%d.0", l);
		attn_init(&m->proc_atn[l], p, &r, name, C, cfg->self_heads);
		snprintf(name, sizeof name, "proc_layers.%d.1", l);
		ffn_init(&m->proc_ffn[l], p, &r, name, C);
	}
	attn_init(&m->dec_atn, p, &r, "dec_atn", C, cfg->cross_heads);
	ffn_init(&m->dec_ffn, p, &r, "dec_ffn", C);
	ax_nn_linear_init(&m->readout, p, &r, "readout", C, 2, 1);
	/* Per-session tables last, each row from its own stream, so a session's
	 * rows do not depend on how many sessions come after it. */
	m->unit_emb.w = ax_param(p, 2, (int[]){ total, C }, "unit_emb.weight");
	m->session_emb.w = ax_param(p, 2, (int[]){ cfg->nsessions, C }, "session_emb.weight");
	for (int s = 0; s < cfg->nsessions; s++) {
		r = ax_rng_split(&root, 100 + (uint64_t)s);
		for (size_t i = 0; i < (size_t)cfg->units[s] * C; i++)
			m->unit_emb.w->data[(size_t)m->offsets[s] * C + i] = EMB_STD * ax_rng_normal(&r);
		for (int c = 0; c < C; c++)
			m->session_emb.w->data[(size_t)s * C + c] = EMB_STD * ax_rng_normal(&r);
	}
}

void poyo_model_free(struct poyo_model *m)
{
	free(m->cfg.units), free(m->offsets), free(m->proc_atn), free(m->proc_ffn);
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
	memset(m, 0, sizeof *m);
}

void poyo_rows_like_pretrained(struct ax_tensor *w, int n0)
{
	int C = w->shape[1], n = w->shape[0];
	if (n0 == 0)
		return;
	double *mean = ax_xcalloc((size_t)C, sizeof *mean), dsq = 0;
	for (int r = 0; r < n0; r++)
		for (int c = 0; c < C; c++)
			mean[c] += w->data[(size_t)r * C + c];
	for (int c = 0; c < C; c++)
		mean[c] /= n0;
	for (int r = 0; r < n0; r++)
		for (int c = 0; c < C; c++) {
			double d = w->data[(size_t)r * C + c] - mean[c];
			dsq += d * d;
		}
	double sd = sqrt(dsq / ((double)n0 * C));
	for (int r = n0; r < n; r++)
		for (int c = 0; c < C; c++) {
			float *x = &w->data[(size_t)r * C + c];
			*x = (float)(mean[c] + *x / EMB_STD * sd);
		}
	free(mean);
}

int poyo_param_is_embedding(const char *name)
{
	return !strcmp(name, "unit_emb.weight") || !strcmp(name, "session_emb.weight");
}

static struct ax_tensor *ffn(struct ax_tape *t, const struct poyo_ffn *f, struct ax_tensor *x,
			     float p, struct ax_rng *drop)
{
	struct ax_tensor *h = ax_nn_linear(t, &f->fc1, ax_nn_layernorm(t, &f->ln, x));
	int ax = h->ndim - 1, H = h->shape[ax] / 2;
	struct ax_tensor *g = ax_gelu(t, ax_slice(t, h, ax, H, H));
	h = ax_nn_linear(t, &f->fc2, ax_mul(t, ax_slice(t, h, ax, 0, H), g));
	return ax_dropout(t, h, p, drop);
}

static struct ax_tensor *attn(struct ax_tape *t, const struct poyo_attn *a, struct ax_tensor *x,
			      struct ax_tensor *ctx, const struct ax_attn_desc *d)
{
	return ax_nn_attention(t, &a->attn, ax_nn_layernorm(t, &a->norm, x),
			       ax_nn_layernorm(t, &a->context_norm, ctx), d);
}

/* Latents (B, L, C) and their times (B, L). */
static struct ax_tensor *latents(struct ax_tape *t, const struct poyo_model *m, int B,
				 float **ltime)
{
	int K = m->cfg.latents, L = K * POYO_STEPS;
	int32_t *ids = ax_tape_ints(t, (size_t)B * L);
	float *tm = ax_arena_alloc(t->arena, (size_t)B * L * sizeof(float));
	for (int i = 0; i < B * L; i++) {
		ids[i] = (i % L) % K;
		tm[i] = (float)(((i % L) / K + 0.5) * POYO_WINDOW / POYO_STEPS);
	}
	*ltime = tm;
	return ax_embedding(t, m->latent_emb.w, ids, 2, (int[]){ B, L });
}

struct ax_tensor *poyo_forward(struct ax_tape *t, const struct poyo_model *m,
			       const struct poyo_batch *b, struct ax_rng *drop)
{
	int B = b->B, shapeT[2] = { B, b->T }, shapeQ[2] = { B, b->Q };
	float p = m->cfg.dropout, *ltime;
	struct ax_tensor *x = ax_add(t, ax_embedding(t, m->unit_emb.w, b->unit, 2, shapeT),
				     ax_embedding(t, m->token_type_emb.w, b->type, 2, shapeT));
	struct ax_tensor *z = latents(t, m, B, &ltime);
	struct ax_attn_desc enc = { .rope = 1, .rope_v = 1, .rope_out = 1, .qtime = ltime,
				    .ktime = b->time, .key_pad = b->pad };
	z = ax_add(t, z, attn(t, &m->enc_atn, z, x, &enc));
	z = ax_add(t, z, ffn(t, &m->enc_ffn, z, p, drop));
	struct ax_attn_desc self = { .rope = 1, .rope_v = 1, .rope_out = 1, .qtime = ltime,
				     .ktime = ltime };
	for (int l = 0; l < m->cfg.depth; l++) {
		z = ax_add(t, z, attn(t, &m->proc_atn[l], z, z, &self));
		z = ax_add(t, z, ffn(t, &m->proc_ffn[l], z, p, drop));
	}
	int32_t *sid = ax_tape_ints(t, (size_t)B * b->Q);
	for (int i = 0; i < B * b->Q; i++)
		sid[i] = b->session[i / b->Q];
	struct ax_tensor *y = ax_embedding(t, m->session_emb.w, sid, 2, shapeQ);
	struct ax_attn_desc dec = { .rope = 1, .qtime = b->qtime, .ktime = ltime };
	y = ax_add(t, y, attn(t, &m->dec_atn, y, z, &dec));
	y = ax_add(t, y, ffn(t, &m->dec_ffn, y, p, drop));
	return ax_nn_linear(t, &m->readout, y);
}
