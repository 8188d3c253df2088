/* nn.c — parameter registry, initialisers and layers. */
#include "ax_nn.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

void ax_params_init(struct ax_params *p, struct ax_arena *long_arena)
{
	memset(p, 0, sizeof *p);
	p->arena = long_arena;
}

void ax_params_free(struct ax_params *p)
{
	free(p->list);
	p->list = NULL;
	p->n = p->cap = 0;
}

struct ax_tensor *ax_param(struct ax_params *p, int ndim, const int *shape, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	AX_ASSERT(!ax_params_find(p, name) && "parameter names must be unique");
	struct ax_tensor *t = ax_tensor_zeros(p->arena, ndim, shape);
	ax_tensor_require_grad(t, p->arena);
	size_t len = strlen(name) + 1;
	t->name = memcpy(ax_arena_alloc(p->arena, len), name, len);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->list = ax_xrealloc(p->list, p->cap * sizeof *p->list);
	}
	p->list[p->n++] = t;
	return t;
}

struct ax_tensor *ax_params_find(const struct ax_params *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->list[i]->name, name))
			return p->list[i];
	return NULL;
}

void ax_params_zero_grad(struct ax_params *p)
{
	for (int i = 0; i < p->n; i++)
		memset(p->list[i]->grad, 0, p->list[i]->size * sizeof(float));
}

size_t ax_params_count(const struct ax_params *p)
{
	size_t n = 0;
	for (int i = 0; i < p->n; i++)
		n += p->list[i]->size;
	return n;
}

void ax_params_to_bundle(const struct ax_params *p, struct ax_bundle *b, const char *prefix)
{
	for (int i = 0; i < p->n; i++) {
		const struct ax_tensor *t = p->list[i];
		char name[300];
		int64_t shape[AX_MAX_DIMS];
		snprintf(name, sizeof name, "%s%s", prefix, t->name);
		for (int d = 0; d < t->ndim; d++)
			shape[d] = t->shape[d];
		ax_bundle_add_f32(b, name, t->ndim, shape, t->data);
	}
}

enum ax_status ax_params_from_bundle(struct ax_params *p, const struct ax_bundle *b,
				     const char *prefix)
{
	return ax_params_from_bundle_except(p, b, prefix, NULL);
}

enum ax_status ax_params_from_bundle_except(struct ax_params *p, const struct ax_bundle *b,
					    const char *prefix, int (*skip)(const char *name))
{
	for (int i = 0; i < p->n; i++) {
		struct ax_tensor *t = p->list[i];
		if (skip && skip(t->name))
			continue;
		char name[300];
		int64_t shape[AX_MAX_DIMS];
		const struct ax_array *a;
		snprintf(name, sizeof name, "%s%s", prefix, t->name);
		for (int d = 0; d < t->ndim; d++)
			shape[d] = t->shape[d];
		enum ax_status st = ax_bundle_get(b, name, AX_F32, t->ndim, shape, &a);
		if (st)
			return st;
		memcpy(t->data, a->data, t->size * sizeof(float));
	}
	return AX_OK;
}

void ax_init_uniform(struct ax_tensor *t, struct ax_rng *r, float bound)
{
	ax_rng_fill_uniform(r, t->data, t->size, -bound, bound);
}

void ax_init_normal(struct ax_tensor *t, struct ax_rng *r, float std)
{
	ax_rng_fill_normal(r, t->data, t->size, 0.0f, std);
}

void ax_init_fan_in(struct ax_tensor *t, struct ax_rng *r, int fan_in)
{
	ax_init_uniform(t, r, 1.0f / sqrtf((float)fan_in));
}

/* ---- layers ---- */
void ax_nn_linear_init(struct ax_nn_linear *l, struct ax_params *p, struct ax_rng *r,
		       const char *name, int in, int out, int bias)
{
	l->w = ax_param(p, 2, (int[]){ out, in }, "%s.weight", name);
	ax_init_fan_in(l->w, r, in);
	l->b = NULL;
	if (bias) {
		l->b = ax_param(p, 1, (int[]){ out }, "%s.bias", name);
		ax_init_fan_in(l->b, r, in);
	}
}

struct ax_tensor *ax_nn_linear(struct ax_tape *t, const struct ax_nn_linear *l, struct ax_tensor *x)
{
	return ax_linear(t, x, l->w, l->b);
}

void ax_nn_mlp_init(struct ax_nn_mlp *m, struct ax_params *p, struct ax_rng *r, const char *name,
		    const int *sizes, int nsizes, enum ax_unary act)
{
	AX_ASSERT(nsizes >= 2 && nsizes - 1 <= AX_MLP_MAX_LAYERS && "mlp: 1..8 layers");
	m->n = nsizes - 1;
	m->act = act;
	for (int i = 0; i < m->n; i++) {
		char sub[256];
		snprintf(sub, sizeof sub, "%s.%d", name, 2 * i);
		ax_nn_linear_init(&m->layers[i], p, r, sub, sizes[i], sizes[i + 1], 1);
	}
}

struct ax_tensor *ax_nn_mlp(struct ax_tape *t, const struct ax_nn_mlp *m, struct ax_tensor *x)
{
	for (int i = 0; i < m->n; i++) {
		x = ax_nn_linear(t, &m->layers[i], x);
		if (i + 1 < m->n)
			x = ax_unary(t, m->act, x);
	}
	return x;
}

void ax_nn_embedding_init(struct ax_nn_embedding *e, struct ax_params *p, struct ax_rng *r,
			  const char *name, int V, int C)
{
	e->w = ax_param(p, 2, (int[]){ V, C }, "%s.weight", name);
	ax_init_normal(e->w, r, 1.0f);
}

void ax_nn_layernorm_init(struct ax_nn_layernorm *l, struct ax_params *p, const char *name, int C)
{
	l->w = ax_param(p, 1, (int[]){ C }, "%s.weight", name);
	l->b = ax_param(p, 1, (int[]){ C }, "%s.bias", name);
	ax_tensor_fill(l->w, 1.0f);
	l->eps = 1e-5f;
}

struct ax_tensor *ax_nn_layernorm(struct ax_tape *t, const struct ax_nn_layernorm *l, struct ax_tensor *x)
{
	return ax_layernorm(t, x, l->w, l->b, l->eps);
}

void ax_nn_attention_init(struct ax_nn_attention *a, struct ax_params *p, struct ax_rng *r,
			  const char *name, int C, int kv_in, int heads)
{
	char sub[256];
	AX_ASSERT(heads > 0 && C % heads == 0 && "attention: C divisible by heads");
	a->heads = heads;
	snprintf(sub, sizeof sub, "%s.q", name);
	ax_nn_linear_init(&a->q, p, r, sub, C, C, 1);
	snprintf(sub, sizeof sub, "%s.k", name);
	ax_nn_linear_init(&a->k, p, r, sub, kv_in, C, 1);
	snprintf(sub, sizeof sub, "%s.v", name);
	ax_nn_linear_init(&a->v, p, r, sub, kv_in, C, 1);
	snprintf(sub, sizeof sub, "%s.o", name);
	ax_nn_linear_init(&a->o, p, r, sub, C, C, 1);
}

struct ax_tensor *ax_nn_attention(struct ax_tape *t, const struct ax_nn_attention *a,
				  struct ax_tensor *x, struct ax_tensor *ctx,
				  const struct ax_attn_desc *opts)
{
	struct ax_attn_desc d = opts ? *opts : (struct ax_attn_desc){ 0 };
	d.H = a->heads;
	struct ax_tensor *q = ax_nn_linear(t, &a->q, x);
	struct ax_tensor *k = ax_nn_linear(t, &a->k, ctx);
	struct ax_tensor *v = ax_nn_linear(t, &a->v, ctx);
	return ax_nn_linear(t, &a->o, ax_attention(t, q, k, v, &d));
}

void ax_nn_block_init(struct ax_nn_block *b, struct ax_params *p, struct ax_rng *r,
		      const char *name, int C, int heads, int hidden)
{
	char sub[256];
	snprintf(sub, sizeof sub, "%s.ln1", name);
	ax_nn_layernorm_init(&b->ln1, p, sub, C);
	snprintf(sub, sizeof sub, "%s.attn", name);
	ax_nn_attention_init(&b->attn, p, r, sub, C, C, heads);
	snprintf(sub, sizeof sub, "%s.ln2", name);
	ax_nn_layernorm_init(&b->ln2, p, sub, C);
	snprintf(sub, sizeof sub, "%s.mlp.fc1", name);
	ax_nn_linear_init(&b->fc1, p, r, sub, C, hidden, 1);
	snprintf(sub, sizeof sub, "%s.mlp.fc2", name);
	ax_nn_linear_init(&b->fc2, p, r, sub, hidden, C, 1);
	b->dropout = 0;
}

static struct ax_tensor *block_mlp(struct ax_tape *t, const struct ax_nn_block *b,
				   struct ax_tensor *x, struct ax_rng *rng)
{
	struct ax_tensor *h = ax_nn_linear(t, &b->fc1, ax_nn_layernorm(t, &b->ln2, x));
	h = ax_nn_linear(t, &b->fc2, ax_gelu(t, h));
	return ax_dropout(t, h, b->dropout, rng);
}

static struct ax_tensor *block_attn(struct ax_tape *t, const struct ax_nn_block *b,
				    struct ax_tensor *x, const struct ax_attn_desc *opts,
				    struct ax_rng *rng)
{
	struct ax_tensor *h = ax_nn_layernorm(t, &b->ln1, x);
	return ax_dropout(t, ax_nn_attention(t, &b->attn, h, h, opts), b->dropout, rng);
}

struct ax_tensor *ax_nn_block(struct ax_tape *t, const struct ax_nn_block *b, struct ax_tensor *x,
			      const struct ax_attn_desc *opts, struct ax_rng *rng)
{
	x = ax_add(t, x, block_attn(t, b, x, opts, rng));
	return ax_add(t, x, block_mlp(t, b, x, rng));
}

struct ax_tensor *ax_nn_block_delta(struct ax_tape *t, const struct ax_nn_block *b,
				    struct ax_tensor *x, const struct ax_attn_desc *opts,
				    struct ax_rng *rng)
{
	struct ax_tensor *a = block_attn(t, b, x, opts, rng);
	struct ax_tensor *m = block_mlp(t, b, ax_add(t, x, a), rng);
	return ax_add(t, a, m);
}

void ax_nn_gru_init(struct ax_nn_gru *g, struct ax_params *p, struct ax_rng *r, const char *name,
		    int in, int hidden)
{
	g->hidden = hidden;
	g->w_ih = ax_param(p, 2, (int[]){ 3 * hidden, in }, "%s.weight_ih_l0", name);
	g->w_hh = ax_param(p, 2, (int[]){ 3 * hidden, hidden }, "%s.weight_hh_l0", name);
	g->b_ih = ax_param(p, 1, (int[]){ 3 * hidden }, "%s.bias_ih_l0", name);
	g->b_hh = ax_param(p, 1, (int[]){ 3 * hidden }, "%s.bias_hh_l0", name);
	/* nn.GRU: every weight and bias U(+-1/sqrt(hidden)). */
	ax_init_fan_in(g->w_ih, r, hidden);
	ax_init_fan_in(g->w_hh, r, hidden);
	ax_init_fan_in(g->b_ih, r, hidden);
	ax_init_fan_in(g->b_hh, r, hidden);
}

struct ax_tensor *ax_nn_gru(struct ax_tape *t, const struct ax_nn_gru *g, struct ax_tensor *x,
			    struct ax_tensor *h0)
{
	return ax_gru(t, x, h0, g->w_ih, g->w_hh, g->b_ih, g->b_hh);
}

/* ---- batch normalisation ---- */
void ax_nn_batchnorm_init(struct ax_nn_batchnorm *bn, struct ax_params *p, const char *name, int C)
{
	*bn = (struct ax_nn_batchnorm){ .C = C, .momentum = 0.1f, .eps = 1e-5f };
	bn->w = ax_param(p, 1, (int[]){ C }, "%s.weight", name);
	bn->b = ax_param(p, 1, (int[]){ C }, "%s.bias", name);
	for (int c = 0; c < C; c++)
		bn->w->data[c] = 1.0f;
	bn->running_mean = ax_arena_alloc(p->arena, 2 * (size_t)C * sizeof(float));
	bn->running_var = bn->running_mean + C;
	for (int c = 0; c < C; c++)
		bn->running_mean[c] = 0.0f, bn->running_var[c] = 1.0f;
	size_t len = strlen(name) + 1;
	bn->name = memcpy(ax_arena_alloc(p->arena, len), name, len);
}

struct ax_tensor *ax_nn_batchnorm(struct ax_tape *t, struct ax_nn_batchnorm *bn, struct ax_tensor *x,
				  int track)
{
	int update = track && t->training;
	if (update)
		bn->num_batches++;
	return ax_batchnorm(t, x, bn->w, bn->b, update || !t->training ? bn->running_mean : NULL,
			    update || !t->training ? bn->running_var : NULL, bn->momentum, bn->eps);
}

void ax_nn_batchnorm_to_bundle(const struct ax_nn_batchnorm *bn, struct ax_bundle *b,
			       const char *prefix)
{
	char name[300];
	int64_t shape[1] = { bn->C };
	snprintf(name, sizeof name, "%s%s.running_mean", prefix, bn->name);
	ax_bundle_add_f32(b, name, 1, shape, bn->running_mean);
	snprintf(name, sizeof name, "%s%s.running_var", prefix, bn->name);
	ax_bundle_add_f32(b, name, 1, shape, bn->running_var);
	snprintf(name, sizeof name, "%s%s.num_batches_tracked", prefix, bn->name);
	ax_bundle_add(b, name, AX_I64, 0, NULL, &bn->num_batches);
}

enum ax_status ax_nn_batchnorm_from_bundle(struct ax_nn_batchnorm *bn, const struct ax_bundle *b,
					   const char *prefix)
{
	char name[300];
	int64_t shape[1] = { bn->C };
	const struct ax_array *m, *v, *n;
	enum ax_status st;
	snprintf(name, sizeof name, "%s%s.running_mean", prefix, bn->name);
	if ((st = ax_bundle_get(b, name, AX_F32, 1, shape, &m)))
		return st;
	snprintf(name, sizeof name, "%s%s.running_var", prefix, bn->name);
	if ((st = ax_bundle_get(b, name, AX_F32, 1, shape, &v)))
		return st;
	snprintf(name, sizeof name, "%s%s.num_batches_tracked", prefix, bn->name);
	if ((st = ax_bundle_get(b, name, AX_I64, 0, NULL, &n)))
		return st;
	const float *vv = v->data;
	for (int c = 0; c < bn->C; c++)
		if (!(vv[c] >= 0.0f) || !isfinite(vv[c]))
			return ax_error_set(AX_ERR_FORMAT, "%s%s.running_var[%d] = %g is not a variance",
					    prefix, bn->name, c, vv[c]);
	memcpy(bn->running_mean, m->data, (size_t)bn->C * sizeof(float));
	memcpy(bn->running_var, v->data, (size_t)bn->C * sizeof(float));
	memcpy(&bn->num_batches, n->data, sizeof(int64_t));
	return AX_OK;
}
