/* model.c — the Mixture-of-Depths transformer: parameters, forward pass
 * with top-k / causal routing, analytic FLOPs, checkpoints. */
#include "mod_lm.h"

#include <math.h>
#include <string.h>

const char *mod_config_check(const struct mod_config *c)
{
	if (c->layers < 1 || c->layers > 64)
		return "--layers must be in 1..64";
	if (c->dim < 2 || c->heads < 1 || c->dim % c->heads)
		return "--dim must be a multiple of --heads";
	if (c->pos == MOD_POS_ROPE && (c->dim / c->heads) % 2)
		return "rotary positions need an even head dimension (--dim / --heads)";
	if (c->dim % 2)
		return "--dim must be even (the predictor has dim/2 hidden units)";
	if (c->ctx < 2)
		return "--ctx must be at least 2";
	if (!(c->capacity > 0 && c->capacity <= 1))
		return "--capacity must be in (0, 1]";
	if (c->route_every < 1)
		return "--route-every must be at least 1";
	return NULL;
}

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

/* ---- evaluation over a text ---- */
double mod_eval_text(struct ax_tape *t, const struct mod_model *m, const struct mod_text *text,
		     size_t max_bytes, enum mod_router router, uint64_t seed, double *routed_frac)
{
	size_t n = text->n < max_bytes ? text->n : max_bytes;
	if (n < 2)
		return NAN;
	int S = (int)(n - 1 < (size_t)m->cfg.ctx ? n - 1 : (size_t)m->cfg.ctx);
	size_t nwin = (n - 1) / (size_t)S;
	int causal = router == MOD_ROUTER_AUX || router == MOD_ROUTER_PREDICTOR;
	int maxB = causal ? 1 : 16;
	struct ax_rng rng;
	ax_rng_seed(&rng, seed);
	ax_no_grad_begin(t);
	double sum = 0;
	long decisions = 0, selected = 0;
	for (size_t w = 0; w < nwin; w += (size_t)maxB) {
		int B = (int)(nwin - w < (size_t)maxB ? nwin - w : (size_t)maxB);
		int32_t *in = ax_tape_ints(t, (size_t)B * S), *tg = ax_tape_ints(t, (size_t)B * S);
		for (int b = 0; b < B; b++)
			for (int s = 0; s < S; s++) {
				size_t at = (w + (size_t)b) * S + (size_t)s;
				in[b * S + s] = text->bytes[at];
				tg[b * S + s] = text->bytes[at + 1];
			}
		struct mod_forward_out fo;
		mod_forward(t, m, in, B, S, router, &rng, 0, &fo);
		struct ax_tensor *loss = ax_cross_entropy(t, fo.logits, tg, 0.0f, -1);
		sum += (double)loss->data[0] * B * S;
		decisions += fo.decisions;
		selected += fo.selected;
		ax_tape_reset(t);
	}
	ax_no_grad_end(t);
	if (routed_frac)
		*routed_frac = decisions ? (double)selected / decisions : NAN;
	return sum / ((double)nwin * S);
}

/* ---- checkpoints ---- */
static const char *const pos_names[] = { "learned", "rope", NULL };
static const char *const route_names[] = { "learned", "random", NULL };

enum ax_status mod_save(const char *path, const struct mod_model *m, const struct ax_optim *o,
			const struct mod_train_state *ts)
{
	const struct mod_config *c = &m->cfg;
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_params_to_bundle(&m->params, &b, "");
	ax_bundle_set_meta(&b, "axon.kind", MOD_KIND);
	ax_ckpt_put_long(&b, "mod-lm.layers", c->layers);
	ax_ckpt_put_long(&b, "mod-lm.dim", c->dim);
	ax_ckpt_put_long(&b, "mod-lm.heads", c->heads);
	ax_ckpt_put_long(&b, "mod-lm.ctx", c->ctx);
	ax_ckpt_put_long(&b, "mod-lm.hidden", c->hidden);
	ax_bundle_set_meta(&b, "mod-lm.pos", pos_names[c->pos]);
	ax_ckpt_put_double(&b, "mod-lm.capacity", c->capacity);
	ax_ckpt_put_long(&b, "mod-lm.route_every", c->route_every);
	ax_bundle_set_meta(&b, "mod-lm.route", route_names[c->route]);
	ax_ckpt_put_long(&b, "mod-lm.predictor", c->predictor);
	if (o && ts) {
		ax_optim_to_bundle(o, &b, "");
		ax_ckpt_put_long(&b, "axon.step", ts->step);
		ax_ckpt_put_long(&b, "train.total_steps", ts->total_steps);
		ax_ckpt_put_long(&b, "train.warmup", ts->warmup);
		ax_ckpt_put_double(&b, "train.lr", ts->lr);
		ax_ckpt_put_double(&b, "train.lr_min", ts->lr_min);
		ax_ckpt_put_double(&b, "train.weight_decay", ts->weight_decay);
		ax_ckpt_put_double(&b, "train.clip", ts->clip);
		ax_ckpt_put_double(&b, "train.aux_weight", ts->aux_weight);
		ax_ckpt_put_double(&b, "train.flops_budget", ts->flops_budget);
		ax_ckpt_put_double(&b, "train.val_frac", ts->val_frac);
		ax_ckpt_put_long(&b, "train.batch", ts->batch);
		ax_ckpt_put_long(&b, "train.log_every", ts->log_every);
		ax_ckpt_put_long(&b, "train.val_tokens", ts->val_tokens);
		char seed[32];
		snprintf(seed, sizeof seed, "%llu", (unsigned long long)ts->seed);
		ax_bundle_set_meta(&b, "train.seed", seed);
		ax_ckpt_put_double(&b, "train.flops_done", ts->flops_done);
		ax_ckpt_put_long(&b, "train.tokens_done", ts->tokens_done);
		ax_ckpt_put_long(&b, "train.optim", ts->optim);
	}
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	return st;
}

static enum ax_status get_int(const struct ax_bundle *b, const char *key, int lo, int hi, int *v)
{
	long x;
	enum ax_status st = ax_ckpt_get_long(b, key, &x);
	if (st)
		return st;
	if (x < lo || x > hi)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata '%s' out of range: %ld", key, x);
	*v = (int)x;
	return AX_OK;
}

static enum ax_status get_choice(const struct ax_bundle *b, const char *key,
				 const char *const *names, int *v)
{
	const char *s;
	enum ax_status st = ax_ckpt_get_str(b, key, &s);
	if (st)
		return st;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i])) {
			*v = i;
			return AX_OK;
		}
	return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata '%s' unknown: '%s'", key, s);
}

/* The config in a mod-lm checkpoint bundle (ax_ckpt_load checked its kind);
 * path is for messages. */
static enum ax_status mod_load_config(const struct ax_bundle *b, const char *path,
				      struct mod_config *c)
{
	enum ax_status st;
	int pos = 0, route = 0;
	memset(c, 0, sizeof *c);
	st = get_int(b, "mod-lm.layers", 1, 64, &c->layers);
	if (!st) st = get_int(b, "mod-lm.dim", 1, 1 << 16, &c->dim);
	if (!st) st = get_int(b, "mod-lm.heads", 1, 1 << 16, &c->heads);
	if (!st) st = get_int(b, "mod-lm.ctx", 2, 1 << 20, &c->ctx);
	if (!st) st = get_int(b, "mod-lm.hidden", 1, 1 << 20, &c->hidden);
	if (!st) st = get_choice(b, "mod-lm.pos", pos_names, &pos);
	if (!st) st = ax_ckpt_get_double(b, "mod-lm.capacity", &c->capacity);
	if (!st) st = get_int(b, "mod-lm.route_every", 1, 64, &c->route_every);
	if (!st) st = get_choice(b, "mod-lm.route", route_names, &route);
	if (!st) st = get_int(b, "mod-lm.predictor", 0, 1, &c->predictor);
	if (st)
		return st;
	c->pos = pos;
	c->route = route;
	const char *why = mod_config_check(c);
	if (why)
		return ax_error_set(AX_ERR_FORMAT, "%s: bad model config: %s", path, why);
	return AX_OK;
}

enum ax_status mod_load_train_state(const struct ax_bundle *b, struct mod_train_state *ts)
{
	long optim = 0;
	const char *seed;
	enum ax_status st = ax_ckpt_get_long(b, "axon.step", &ts->step);
	if (!st) st = ax_ckpt_get_long(b, "train.total_steps", &ts->total_steps);
	if (!st) st = ax_ckpt_get_long(b, "train.warmup", &ts->warmup);
	if (!st) st = ax_ckpt_get_double(b, "train.lr", &ts->lr);
	if (!st) st = ax_ckpt_get_double(b, "train.lr_min", &ts->lr_min);
	if (!st) st = ax_ckpt_get_double(b, "train.weight_decay", &ts->weight_decay);
	if (!st) st = ax_ckpt_get_double(b, "train.clip", &ts->clip);
	if (!st) st = ax_ckpt_get_double(b, "train.aux_weight", &ts->aux_weight);
	if (!st) st = ax_ckpt_get_double(b, "train.flops_budget", &ts->flops_budget);
	if (!st) st = ax_ckpt_get_double(b, "train.val_frac", &ts->val_frac);
	if (!st) st = get_int(b, "train.batch", 1, 1 << 20, &ts->batch);
	if (!st) st = get_int(b, "train.log_every", 1, 1 << 30, &ts->log_every);
	if (!st) st = get_int(b, "train.val_tokens", 0, 1 << 30, &ts->val_tokens);
	if (!st) st = ax_ckpt_get_str(b, "train.seed", &seed);
	if (!st) st = ax_ckpt_get_double(b, "train.flops_done", &ts->flops_done);
	if (!st) st = ax_ckpt_get_long(b, "train.tokens_done", &ts->tokens_done);
	if (!st) st = ax_ckpt_get_long(b, "train.optim", &optim);
	if (st)
		return st;
	ts->seed = strtoull(seed, NULL, 10);
	ts->optim = optim == AX_OPTIM_ADAM ? AX_OPTIM_ADAM : AX_OPTIM_ADAMW;
	return AX_OK;
}

enum ax_status mod_load(const char *path, struct mod_model *m, struct ax_bundle *keep)
{
	struct ax_bundle b;
	struct mod_config c;
	enum ax_status st = ax_ckpt_load(path, MOD_KIND, &b);
	if (st)
		return st;
	st = mod_load_config(&b, path, &c);
	if (!st) {
		mod_model_init(m, &c, 0);
		st = ax_params_from_bundle(&m->params, &b, "");
		if (st)
			mod_model_free(m);
	}
	if (keep && !st)
		*keep = b;
	else
		ax_bundle_free(&b);
	return st;
}
