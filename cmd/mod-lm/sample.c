/* sample.c — token-by-token inference with one KV cache per block.
 *
 * The same arithmetic as the tape forward (model.c), one token at a time on
 * raw kernels: no tape, no allocation per token. A routed block decides
 * causally whether the new token enters it (router logit > 0, predictor
 * logit > 0, or a coin of probability `capacity` for the random-routing
 * control). A token that does not enter skips the block's compute and adds
 * nothing to its cache, so later tokens attend only to earlier routed ones.
 */
#include "mod.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

struct kv_cache {
	float *k, *v;    /* (ctx, C), keys already rotated when rotary */
	int n;
};

struct mod_infer {
	const struct mod_model *m;
	enum mod_router router;
	struct ax_rng rng;
	int pos;                         /* position of the next token */
	struct kv_cache *cache;          /* per layer */
	float *x, *h, *q, *k, *v, *att, *a, *x1, *hid, *f, *scores, *rope;
	long visits, computed;
};

struct mod_infer *mod_infer_new(const struct mod_model *m, enum mod_router router, uint64_t seed)
{
	const struct mod_config *c = &m->cfg;
	int C = c->dim, H = c->hidden > C ? c->hidden : C;
	struct mod_infer *s = ax_xcalloc(1, sizeof *s);
	s->m = m;
	s->router = m->cfg.route == MOD_ROUTE_RANDOM ? MOD_ROUTER_RANDOM : router;
	ax_rng_seed(&s->rng, seed);
	s->cache = ax_xcalloc((size_t)c->layers, sizeof *s->cache);
	for (int l = 0; l < c->layers; l++) {
		s->cache[l].k = ax_xmalloc((size_t)c->ctx * C * sizeof(float));
		s->cache[l].v = ax_xmalloc((size_t)c->ctx * C * sizeof(float));
	}
	float **bufs[] = { &s->x, &s->h, &s->q, &s->k, &s->v, &s->att, &s->a, &s->x1, &s->f };
	for (size_t i = 0; i < AX_COUNTOF(bufs); i++)
		*bufs[i] = ax_xmalloc((size_t)C * sizeof(float));
	s->hid = ax_xmalloc((size_t)H * sizeof(float));
	s->scores = ax_xmalloc((size_t)c->ctx * sizeof(float));
	s->rope = ax_xmalloc((size_t)C * sizeof(float));
	return s;
}

void mod_infer_free(struct mod_infer *s)
{
	if (!s)
		return;
	for (int l = 0; l < s->m->cfg.layers; l++) {
		free(s->cache[l].k);
		free(s->cache[l].v);
	}
	free(s->cache);
	float *bufs[] = { s->x, s->h, s->q, s->k, s->v, s->att, s->a, s->x1, s->f, s->hid,
			  s->scores, s->rope };
	for (size_t i = 0; i < AX_COUNTOF(bufs); i++)
		free(bufs[i]);
	free(s);
}

void mod_infer_reset(struct mod_infer *s)
{
	s->pos = 0;
	for (int l = 0; l < s->m->cfg.layers; l++)
		s->cache[l].n = 0;
}

void mod_infer_counts(const struct mod_infer *s, long *visits, long *computed)
{
	*visits = s->visits;
	*computed = s->computed;
}

/* y (out) = W (out, in) x + b */
static void linear(const struct ax_nn_linear *l, const float *x, float *y)
{
	int out = l->w->shape[0], in = l->w->shape[1];
	cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, l->w->data, in, x, 1, 0.0f, y, 1);
	if (l->b)
		for (int i = 0; i < out; i++)
			y[i] += l->b->data[i];
}

static void layernorm(const struct ax_nn_layernorm *ln, int C, const float *x, float *y)
{
	float mean, rstd;
	ax_layernorm_forward(1, C, x, ln->w->data, ln->b->data, ln->eps, y, &mean, &rstd);
}

/* Rotary angles of one position, as the attention kernel computes them. */
static void rope_rotate(float *x, const float *tab, int H, int D)
{
	for (int h = 0; h < H; h++)
		for (int i = 0; i < D; i += 2) {
			float *p = x + h * D + i, x0 = p[0], x1 = p[1], co = tab[i], si = tab[i + 1];
			p[0] = x0 * co - x1 * si;
			p[1] = x0 * si + x1 * co;
		}
}

/* Whether the token with residual x enters routed block b; r gets the
 * router logit (the multiplier of the block's output). */
static int route_decision(struct mod_infer *s, const struct mod_block *b, const float *x,
			  float *r)
{
	int C = s->m->cfg.dim;
	*r = 1.0f;
	if (b->has_router)
		*r = cblas_sdot(C, b->router.w->data, 1, x, 1);
	switch (s->router) {
	case MOD_ROUTER_RANDOM:
		return ax_rng_bernoulli(&s->rng, (float)s->m->cfg.capacity);
	case MOD_ROUTER_PREDICTOR:
		if (b->has_predictor) {
			const struct ax_nn_linear *l0 = &b->predictor.layers[0], *l1 = &b->predictor.layers[1];
			float p;
			linear(l0, x, s->hid);
			for (int i = 0; i < C / 2; i++)
				s->hid[i] = s->hid[i] / (1.0f + expf(-s->hid[i]));   /* SiLU */
			linear(l1, s->hid, &p);
			return p > 0;
		}
		/* no predictor: use the router's own threshold */
		return *r > 0;
	case MOD_ROUTER_AUX:
	case MOD_ROUTER_TOPK:
		return *r > 0;
	}
	return 1;
}

int mod_infer_step(struct mod_infer *s, int token, float *logits)
{
	const struct mod_model *m = s->m;
	const struct mod_config *c = &m->cfg;
	int C = c->dim, NH = c->heads, D = C / NH, p = s->pos;
	if (p >= c->ctx)
		return -1;
	float *x = s->x;
	memcpy(x, m->tok.w->data + (size_t)token * C, C * sizeof(float));
	if (c->pos == MOD_POS_LEARNED)
		for (int i = 0; i < C; i++)
			x[i] += m->pos.w->data[(size_t)p * C + i];
	else
		for (int i = 0; i < D / 2; i++) {
			double a = p * pow(10000.0, -2.0 * i / D);
			s->rope[2 * i] = (float)cos(a);
			s->rope[2 * i + 1] = (float)sin(a);
		}
	float scale = 1.0f / sqrtf((float)D);

	for (int l = 0; l < c->layers; l++) {
		const struct mod_block *b = &m->blocks[l];
		const struct ax_nn_block *blk = &b->blk;
		float r = 1.0f;
		if (b->routed) {
			s->visits++;
			if (!route_decision(s, b, x, &r))
				continue;
			s->computed++;
		}
		struct kv_cache *kv = &s->cache[l];
		layernorm(&blk->ln1, C, x, s->h);
		linear(&blk->attn.q, s->h, s->q);
		float *kr = kv->k + (size_t)kv->n * C, *vr = kv->v + (size_t)kv->n * C;
		linear(&blk->attn.k, s->h, kr);
		linear(&blk->attn.v, s->h, vr);
		if (c->pos == MOD_POS_ROPE) {
			rope_rotate(s->q, s->rope, NH, D);
			rope_rotate(kr, s->rope, NH, D);
		}
		int n = ++kv->n;
		for (int h = 0; h < NH; h++) {
			const float *qh = s->q + h * D;
			float mx = -INFINITY, sum = 0;
			for (int j = 0; j < n; j++) {
				float d = 0;
				const float *kj = kv->k + (size_t)j * C + h * D;
				for (int i = 0; i < D; i++)
					d += qh[i] * kj[i];
				s->scores[j] = d * scale;
				mx = s->scores[j] > mx ? s->scores[j] : mx;
			}
			for (int j = 0; j < n; j++)
				sum += s->scores[j] = expf(s->scores[j] - mx);
			float *oh = s->att + h * D;
			memset(oh, 0, D * sizeof(float));
			for (int j = 0; j < n; j++) {
				float w = s->scores[j] / sum;
				const float *vj = kv->v + (size_t)j * C + h * D;
				for (int i = 0; i < D; i++)
					oh[i] += w * vj[i];
			}
		}
		linear(&blk->attn.o, s->att, s->a);
		for (int i = 0; i < C; i++)
			s->x1[i] = x[i] + s->a[i];
		layernorm(&blk->ln2, C, s->x1, s->h);
		linear(&blk->fc1, s->h, s->hid);
		for (int i = 0; i < c->hidden; i++)
			s->hid[i] = 0.5f * s->hid[i] * (1.0f + erff(s->hid[i] * (float)M_SQRT1_2));
		linear(&blk->fc2, s->hid, s->f);
		for (int i = 0; i < C; i++)
			x[i] += (s->a[i] + s->f[i]) * r;   /* x + r * f (r = 1 if dense) */
	}
	layernorm(&m->ln_f, C, x, s->h);
	linear(&m->head, s->h, logits);
	s->pos++;
	return 0;
}

/* ---- `mod-lm sample` ---- */
/* The next byte: greedy at temperature 0, else drawn from softmax(logits / T)
 * over the top_k most likely bytes (all if 0; ties at the k-th value stay). */
static int sample_next(struct ax_rng *rng, float *logits, double temperature, int top_k)
{
	if (temperature <= 0) {
		int best = 0;
		for (int i = 1; i < MOD_VOCAB; i++)
			if (logits[i] > logits[best])
				best = i;
		return best;
	}
	if (top_k > 0 && top_k < MOD_VOCAB) {
		int32_t idx[MOD_VOCAB];
		ax_topk_rows(1, MOD_VOCAB, top_k, logits, idx);
		float cut = INFINITY;   /* the k-th largest logit */
		for (int j = 0; j < top_k; j++)
			cut = fminf(cut, logits[idx[j]]);
		for (int i = 0; i < MOD_VOCAB; i++)
			if (logits[i] < cut)
				logits[i] = -INFINITY;
	}
	return ax_rng_categorical_logits(rng, logits, MOD_VOCAB, (float)temperature);
}

int mod_cmd_sample(struct mod_opts *o)
{
	if (o->cli.nfiles)
		ax_usage_error("sample: unexpected argument '%s'", o->cli.files[0]);
	if (!o->model)
		ax_usage_error("a checkpoint is needed: -m FILE");
	struct mod_model m;
	enum ax_status st = mod_load(o->model, &m, NULL);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	const struct mod_config *c = &m.cfg;
	enum mod_router router = c->predictor ? MOD_ROUTER_PREDICTOR : MOD_ROUTER_AUX;
	if (ax_cli_seen(&o->cli, MOD_OPT_ROUTER)) {
		router = o->router;
		if (router == MOD_ROUTER_TOPK)
			ax_usage_error("--router topk looks at future tokens; sampling needs aux or predictor");
		if (router == MOD_ROUTER_PREDICTOR && !c->predictor && c->capacity < 1)
			ax_usage_error("--router predictor: this model was trained without --predictor");
	}
	size_t plen = strlen(o->prompt);
	if (plen == 0)
		ax_usage_error("--prompt: empty");
	struct mod_infer *inf = mod_infer_new(&m, router, o->cli.common.seed);
	struct ax_rng rng;
	ax_rng_seed(&rng, o->cli.common.seed);
	/* history: prompt + generated, for re-filling the cache when it is full */
	size_t cap = plen + (size_t)o->length + 1;
	uint8_t *hist = ax_xmalloc_for(cap, "the text (--prompt and --length)");
	memcpy(hist, o->prompt, plen);
	size_t n = plen, start = plen > (size_t)c->ctx ? plen - (size_t)c->ctx : 0;
	float logits[MOD_VOCAB];
	fwrite(o->prompt, 1, plen, stdout);
	double t0 = ax_now();
	for (size_t i = start; i < n; i++)
		mod_infer_step(inf, hist[i], logits);
	double t1 = ax_now();
	for (long g = 0; g < o->length; g++) {
		int next = sample_next(&rng, logits, o->temperature, o->top_k);
		hist[n++] = (uint8_t)next;
		putchar(next);
		if (mod_infer_step(inf, next, logits) < 0) {
			/* Context full: keep the last half and rebuild the caches. */
			mod_infer_reset(inf);
			for (size_t i = n - (size_t)c->ctx / 2; i < n; i++)
				mod_infer_step(inf, hist[i], logits);
		}
	}
	double t2 = ax_now();
	if (fflush(stdout) || ferror(stdout))
		ax_die(AX_EXIT_FAIL, "cannot write the sample");
	long visits, computed;
	mod_infer_counts(inf, &visits, &computed);
	if (!o->cli.common.quiet)
		fprintf(stderr, "mod-lm: prompt %zu bytes in %.3f s; generated %ld bytes in %.3f s: "
			"%.1f tokens/s; routed blocks computed %.1f%% of visits\n",
			n - (size_t)o->length - start, t1 - t0, o->length, t2 - t1,
			o->length / (t2 - t1), visits ? 100.0 * computed / visits : 100.0);
	free(hist);
	mod_infer_free(inf);
	mod_model_free(&m);
	return 0;
}

