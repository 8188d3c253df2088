/* model.c — the Mixture-of-Depths transformer: parameters, forward pass
 * with top-k / causal routing, analytic FLOPs, settings and checkpoints.
 *
 * A pre-LN decoder-only transformer in which every route_every-th block is
 * "routed": per sequence a router r_i = w . x_i scores each token, the
 * k = max(1, ceil(capacity * S)) highest-scoring tokens (kept in causal order)
 * go through the block's attention + MLP computed over the selected tokens
 * only, and get x_i <- x_i + r_i * f_i; every other token passes through.
 * Block l is routed when capacity < 1 and l % route_every == route_every - 1
 * (so with route_every 2 the first block is dense). Capacity 1 is the dense
 * baseline: no routers at all.
 *
 *   h     = tok_emb[x] + pos_emb            (rotary positions: no pos_emb)
 *   dense:  a = h + attn(ln1 h),  h <- a + mlp(ln2 a)        (f(h) = h_new - h)
 *   routed: r_i = w . h_i,  K = top-k of r in the sequence,
 *           h_i <- h_i + r_i * f(h_K)_i  for i in K  (f over the selected tokens
 *           at their true positions, causal), h_i unchanged otherwise
 *   logits = lm_head(ln_f(h))
 *   loss  = CE(logits, next byte) + aux_weight * BCE(r, 1[i in K])
 *           + BCE(predictor(stopgrad h), 1[i in K])   (--predictor)
 *
 * Parameter names follow scripts/ref/mod_lm.py's state dict. */
#include "mod.h"

#include <math.h>
#include <string.h>

/* k = ceil(capacity * S), at least 1: 12.5% of 128 tokens is exactly 16. The
 * small epsilon keeps 0.125 * 128 from rounding up to 17 should the product
 * land a hair above the integer. */
int mod_capacity_k(const struct mod_config *c, int S)
{
	int k = (int)ceil(c->capacity * S - 1e-9);
	return k < 1 ? 1 : k > S ? S : k;
}

static int mod_is_routed(const struct mod_config *c, int layer)
{
	return c->capacity < 1 && layer % c->route_every == c->route_every - 1;
}

void mod_model_init(struct mod_model *m, const struct mod_config *c, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->cfg = *c;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng rng;
	ax_rng_seed(&rng, seed);
	int C = c->dim;
	/* PyTorch defaults: embeddings N(0, 1), linears U(+-1/sqrt(fan_in)).
	 * With a unit-scale residual stream the router r = w.x starts at O(1),
	 * so routed blocks contribute from the first step. */
	ax_nn_embedding_init(&m->tok, &m->params, &rng, "tok_emb", MOD_VOCAB, C);
	if (c->pos == MOD_POS_LEARNED)
		ax_nn_embedding_init(&m->pos, &m->params, &rng, "pos_emb", c->ctx, C);
	m->blocks = ax_xcalloc((size_t)c->layers, sizeof *m->blocks);
	for (int l = 0; l < c->layers; l++) {
		struct mod_block *b = &m->blocks[l];
		char name[64];
		snprintf(name, sizeof name, "blocks.%d", l);
		ax_nn_block_init(&b->blk, &m->params, &rng, name, C, c->heads, c->hidden);
		b->routed = mod_is_routed(c, l);
		if (b->routed && c->route == MOD_ROUTE_LEARNED) {
			snprintf(name, sizeof name, "blocks.%d.router", l);
			ax_nn_linear_init(&b->router, &m->params, &rng, name, C, 1, 0);
			b->has_router = 1;
			if (c->predictor) {
				snprintf(name, sizeof name, "blocks.%d.predictor", l);
				ax_nn_mlp_init(&b->predictor, &m->params, &rng, name,
					       (int[]){ C, C / 2, 1 }, 3, AX_SILU);
				b->has_predictor = 1;
			}
		}
	}
	ax_nn_layernorm_init(&m->ln_f, &m->params, "ln_f", C);
	ax_nn_linear_init(&m->head, &m->params, &rng, "lm_head", C, MOD_VOCAB, 0);
}

void mod_model_free(struct mod_model *m)
{
	free(m->blocks);
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

static double block_flops(double C, double hidden, double T)
{
	return 2.0 * T * (4.0 * C * C + 2.0 * C * hidden) + 4.0 * T * T * C;
}

double mod_forward_flops(const struct mod_config *c, int S)
{
	double C = c->dim, f = 2.0 * S * C * MOD_VOCAB;   /* lm head */
	for (int l = 0; l < c->layers; l++) {
		if (!mod_is_routed(c, l)) {
			f += block_flops(C, c->hidden, S);
			continue;
		}
		f += block_flops(C, c->hidden, mod_capacity_k(c, S));
		if (c->route == MOD_ROUTE_LEARNED) {
			f += 2.0 * S * C;                              /* router */
			if (c->predictor)
				f += 2.0 * S * (C * C / 2 + C / 2);    /* predictor */
		}
	}
	return f;
}

/* ---- forward ---- */
static struct ax_attn_desc causal_desc(const struct mod_config *c, const int32_t *pos)
{
	struct ax_attn_desc d = { 0 };
	d.causal = 1;
	d.qpos = d.kpos = pos;
	d.rope = c->pos == MOD_POS_ROPE;
	return d;
}

struct ax_tensor *mod_block_dense(struct ax_tape *t, const struct mod_model *m, int layer,
				  struct ax_tensor *x2d, int B, int S)
{
	int C = m->cfg.dim;
	struct ax_attn_desc d = causal_desc(&m->cfg, NULL);
	struct ax_tensor *x = ax_reshape(t, x2d, 3, (int[]){ B, S, C });
	struct ax_tensor *f = ax_nn_block_delta(t, &m->blocks[layer].blk, x, &d, NULL);
	return ax_add(t, x2d, ax_reshape(t, f, 2, (int[]){ B * S, C }));
}

struct ax_tensor *mod_block_routed(struct ax_tape *t, const struct mod_model *m, int layer,
				   struct ax_tensor *x2d, int B, int S, const int32_t *sel, int k,
				   struct ax_tensor *scale)
{
	int C = m->cfg.dim, M = B * k;
	/* The selected tokens' true positions: causal masking and rotary
	 * angles see the original sequence, not the compacted one. */
	int32_t *pos = ax_tape_ints(t, (size_t)M);
	for (int i = 0; i < M; i++)
		pos[i] = sel[i] % S;
	struct ax_attn_desc d = causal_desc(&m->cfg, pos);
	struct ax_tensor *xs = ax_gather_rows(t, x2d, sel, M);
	xs = ax_reshape(t, xs, 3, (int[]){ B, k, C });
	struct ax_tensor *f = ax_nn_block_delta(t, &m->blocks[layer].blk, xs, &d, NULL);
	f = ax_reshape(t, f, 2, (int[]){ M, C });
	if (scale)
		f = ax_mul(t, f, scale);   /* x + r * f: the router is on the gradient path */
	return ax_scatter_add_rows(t, x2d, f, sel);
}

/* Fill sel with the top-k of each row of scores (B, S) as flat row indices. */
static void select_topk(const float *scores, int B, int S, int k, int32_t *sel)
{
	ax_topk_rows(B, S, k, scores, sel);
	for (int b = 0; b < B; b++)
		for (int j = 0; j < k; j++)
			sel[b * k + j] += b * S;
}

/* (BS, 1): 1 at the M selected rows. What the router and the predictor learn
 * to predict (their BCE target), and what their accuracy is measured by. */
static struct ax_tensor *membership(struct ax_tape *t, const int32_t *sel, int M, int BS)
{
	struct ax_tensor *member = ax_tensor_zeros(t->arena, 2, (int[]){ BS, 1 });
	for (int i = 0; i < M; i++)
		member->data[sel[i]] = 1.0f;
	return member;
}

static long count_agree(const float *logits, const float *member, int n)
{
	long hits = 0;
	for (int i = 0; i < n; i++)
		hits += (logits[i] > 0) == (member[i] > 0.5f);
	return hits;
}

void mod_forward(struct ax_tape *t, const struct mod_model *m, const int32_t *tokens, int B,
		 int S, enum mod_router router, struct ax_rng *rng, int want_aux,
		 struct mod_forward_out *out)
{
	const struct mod_config *c = &m->cfg;
	int C = c->dim, BS = B * S;
	AX_ASSERT(S <= c->ctx && c->layers <= 64 && "mod_forward: sequence longer than the context");
	memset(out, 0, sizeof *out);
	if (c->route == MOD_ROUTE_RANDOM)
		router = MOD_ROUTER_RANDOM;
	AX_ASSERT((B == 1 || (router != MOD_ROUTER_AUX && router != MOD_ROUTER_PREDICTOR)) &&
		  "causal routing runs one sequence at a time");

	struct ax_tensor *x = ax_embedding(t, m->tok.w, tokens, 2, (int[]){ B, S });
	if (c->pos == MOD_POS_LEARNED) {
		int32_t *ids = ax_tape_ints(t, (size_t)S);
		for (int s = 0; s < S; s++)
			ids[s] = s;
		x = ax_add(t, x, ax_embedding(t, m->pos.w, ids, 1, (int[]){ S }));
	}
	struct ax_tensor *x2d = ax_reshape(t, x, 2, (int[]){ BS, C });
	struct ax_tensor *aux = NULL, *pred = NULL;
	int nrouted = 0;

	for (int l = 0; l < c->layers; l++) {
		const struct mod_block *blk = &m->blocks[l];
		if (!blk->routed) {
			x2d = mod_block_dense(t, m, l, x2d, B, S);
			continue;
		}
		nrouted++;
		struct ax_tensor *r = blk->has_router ? ax_nn_linear(t, &blk->router, x2d) : NULL;
		struct ax_tensor *p = blk->has_predictor
			? ax_nn_mlp(t, &blk->predictor, ax_detach(t, x2d)) : NULL;
		int32_t *sel = ax_tape_ints(t, (size_t)BS);
		int k = 0;
		switch (router) {
		case MOD_ROUTER_TOPK:
			AX_ASSERT(r && "top-k routing needs a learned router");
			k = mod_capacity_k(c, S);
			select_topk(r->data, B, S, k, sel);
			break;
		case MOD_ROUTER_RANDOM: {
			AX_ASSERT(rng && "random routing needs an rng");
			float *scores = ax_arena_alloc(t->arena, (size_t)BS * sizeof(float));
			ax_rng_fill_uniform(rng, scores, (size_t)BS, 0.0f, 1.0f);
			k = mod_capacity_k(c, S);
			select_topk(scores, B, S, k, sel);
			break;
		}
		case MOD_ROUTER_AUX:
		case MOD_ROUTER_PREDICTOR: {
			const struct ax_tensor *dec = router == MOD_ROUTER_AUX ? r : p;
			AX_ASSERT(dec && "causal routing needs the router / predictor");
			for (int i = 0; i < S; i++)
				if (dec->data[i] > 0)   /* sigmoid > 0.5 */
					sel[k++] = i;
			break;
		}
		}
		int M = B * k;   /* causal rules run with B == 1 */
		out->sel[l] = sel;
		out->nsel[l] = M;
		out->decisions += BS;
		out->selected += M;

		struct ax_tensor *member = r || p ? membership(t, sel, M, BS) : NULL;
		if (r) {
			out->router_hits += count_agree(r->data, member->data, BS);
			if (want_aux) {
				struct ax_tensor *bce = ax_bce_logits(t, r, member, NULL);
				aux = aux ? ax_add(t, aux, bce) : bce;
			}
		}
		if (p) {
			out->pred_hits += count_agree(p->data, member->data, BS);
			if (want_aux) {
				struct ax_tensor *bce = ax_bce_logits(t, p, member, NULL);
				pred = pred ? ax_add(t, pred, bce) : bce;
			}
		}
		if (M == 0)
			continue;   /* a causal router chose nobody: the block is skipped */
		struct ax_tensor *scale = r ? ax_gather_rows(t, r, sel, M) : NULL;
		x2d = mod_block_routed(t, m, l, x2d, B, S, sel, k, scale);
	}
	struct ax_tensor *h = ax_nn_layernorm(t, &m->ln_f, x2d);
	out->logits = ax_reshape(t, ax_nn_linear(t, &m->head, h), 3, (int[]){ B, S, MOD_VOCAB });
	if (aux)
		out->aux_loss = ax_scale(t, aux, 1.0f / nrouted);
	if (pred)
		out->pred_loss = ax_scale(t, pred, 1.0f / nrouted);
}

/* ---- checkpoints ---- */
void mod_put_model(struct ax_bundle *b, const struct mod_model *m)
{
	ax_params_to_bundle(&m->params, b, "");
	ax_ckpt_put_settings(b, mod_model_settings, mod_n_model_settings, &m->cfg);
}

static const char *config_check(const void *c) { return mod_config_check(c); }

enum ax_status mod_load(const char *path, struct mod_model *m, struct ax_bundle *keep)
{
	struct ax_bundle b;
	struct mod_config c = { 0 };
	enum ax_status st = ax_ckpt_open_config(path, MOD_KIND, mod_model_settings,
						mod_n_model_settings, &c, config_check, &b);
	if (st)
		return st;
	mod_model_init(m, &c, 0);
	st = ax_params_from_bundle(&m->params, &b, "");
	if (st)
		mod_model_free(m);
	if (keep && !st)
		*keep = b;
	else
		ax_bundle_free(&b);
	return st;
}
