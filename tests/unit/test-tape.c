/* test-tape.c — autograd: every op against central finite differences,
 * plus no-grad mode, detach, gradient accumulation. */
#include "testutil.h"
#include "ax_math.h"

#include <math.h>
#include <string.h>

static struct ax_arena arena;

static int setup(void **state)
{
	ax_arena_init(&arena, 0);
	return 0;
}

static int teardown(void **state)
{
	ax_arena_free(&arena);
	return 0;
}

/* A fresh tape on its own arena, for tests that compute values directly. */
static int tape_new(void **state)
{
	static struct ax_arena step;
	static struct ax_tape tape;
	ax_arena_init(&step, 0);
	ax_tape_init(&tape, &step);
	*state = &tape;
	return 0;
}

static int tape_free(void **state)
{
	struct ax_tape *t = *state;
	struct ax_arena *step = t->arena;
	ax_tape_free(t);
	ax_arena_free(step);
	return 0;
}

#define GC(fn, ins, ctx, what) \
	tu_gradcheck(fn, ins, (int)AX_COUNTOF(ins), ctx, 1e-2f, 2e-3, 2e-2, 64, what)

/* ---- elementwise with broadcasting ---- */
static struct ax_tensor *f_binops(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *a = in[0], *b = in[1], *c = in[2];
	struct ax_tensor *x = ax_add(t, a, b);          /* (2,3,4) + (3,1) */
	x = ax_mul(t, x, c);                            /* * (4) */
	x = ax_sub(t, x, ax_mul(t, b, b));
	return ax_div(t, x, ax_add_scalar(t, ax_square(t, c), 1.0f));
}

static void test_binops(void **state)
{
	struct ax_tensor *in[] = {
		tu_leaf(&arena, 3, (int[]){ 2, 3, 4 }, 1, 1.0f),
		tu_leaf(&arena, 2, (int[]){ 3, 1 }, 2, 1.0f),
		tu_leaf(&arena, 1, (int[]){ 4 }, 3, 1.0f),
	};
	GC(f_binops, in, NULL, "binops");
}

static void test_broadcast_values(void **state)
{
	struct ax_tape *t = *state;
	float av[] = { 1, 2, 3, 4, 5, 6 }, bv[] = { 10, 20 };
	struct ax_tensor *a = ax_const(t, 2, (int[]){ 2, 3 }, av);
	struct ax_tensor *b = ax_const(t, 2, (int[]){ 2, 1 }, bv);
	struct ax_tensor *c = ax_add(t, a, b);
	float want[] = { 11, 12, 13, 24, 25, 26 };
	tu_assert_close(c->data, want, 6, 0, 0, "column broadcast");
}

/* ---- unary ---- */
struct unary_ctx {
	enum ax_unary kind;
};

static struct ax_tensor *f_unary(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	return ax_unary(t, ((struct unary_ctx *)ctx)->kind, in[0]);
}

static void test_unary(void **state)
{
	static const struct {
		enum ax_unary k;
		const char *name;
		int positive;
	} ks[] = {
		{ AX_NEG, "neg", 0 }, { AX_EXP, "exp", 0 }, { AX_LOG, "log", 1 },
		{ AX_SQRT, "sqrt", 1 }, { AX_SQUARE, "square", 0 }, { AX_TANH, "tanh", 0 },
		{ AX_SIGMOID, "sigmoid", 0 }, { AX_RELU, "relu", 0 }, { AX_GELU, "gelu", 0 },
		{ AX_GELU_TANH, "gelu_tanh", 0 }, { AX_SILU, "silu", 0 },
		{ AX_SOFTSIGN, "softsign", 0 }, { AX_SOFTPLUS, "softplus", 0 }, { AX_ABS, "abs", 0 },
	};
	for (size_t i = 0; i < AX_COUNTOF(ks); i++) {
		struct ax_tensor *x = tu_leaf(&arena, 2, (int[]){ 3, 5 }, 10 + i, 1.0f);
		for (size_t j = 0; j < x->size; j++) {
			if (ks[i].positive)
				x->data[j] = fabsf(x->data[j]) + 0.5f;
			else if (fabsf(x->data[j]) < 0.05f) /* keep clear of kinks */
				x->data[j] = 0.3f;
		}
		struct unary_ctx c = { ks[i].k };
		struct ax_tensor *in[] = { x };
		GC(f_unary, in, &c, ks[i].name);
	}
}

static void test_unary_values(void **state)
{
	struct ax_tape *t = *state;
	float xv[] = { -1.0f, 0.5f, 2.0f };
	struct ax_tensor *x = ax_const(t, 1, (int[]){ 3 }, xv);
	/* torch.nn.functional.gelu / silu / softplus / softsign reference values */
	float gelu[] = { -0.15865525f, 0.34573123f, 1.95449972f };
	float silu[] = { -0.26894142f, 0.31122968f, 1.76159416f };
	float softplus[] = { 0.31326169f, 0.97407699f, 2.12692801f };
	float softsign[] = { -0.5f, 0.33333334f, 0.66666669f };
	tu_assert_close(ax_gelu(t, x)->data, gelu, 3, 1e-6, 1e-6, "gelu");
	tu_assert_close(ax_silu(t, x)->data, silu, 3, 1e-6, 1e-6, "silu");
	tu_assert_close(ax_softplus(t, x)->data, softplus, 3, 1e-6, 1e-6, "softplus");
	tu_assert_close(ax_softsign(t, x)->data, softsign, 3, 1e-6, 1e-6, "softsign");
}

/* ---- reductions and shapes ---- */
static struct ax_tensor *f_reduce(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *x = in[0];
	struct ax_tensor *s = ax_sum(t, x, 1);        /* (2,4) */
	struct ax_tensor *m = ax_mean(t, x, -1);      /* (2,3) */
	struct ax_tensor *mx = ax_max(t, x, 0);       /* (3,4) */
	struct ax_tensor *parts[] = { ax_reshape(t, s, 1, (int[]){ -1 }),
				      ax_reshape(t, m, 1, (int[]){ -1 }),
				      ax_reshape(t, mx, 1, (int[]){ -1 }),
				      ax_mean_all(t, x) };
	return ax_concat(t, parts, 4, 0);
}

static void test_reduce(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 3, 4 }, 20, 1.0f) };
	GC(f_reduce, in, NULL, "reductions");
}

static struct ax_tensor *f_shapes(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *x = in[0];                               /* (2,3,4) */
	struct ax_tensor *p = ax_permute(t, x, (int[]){ 2, 0, 1 }); /* (4,2,3) */
	struct ax_tensor *s = ax_slice(t, p, 2, 1, 2);             /* (4,2,2) */
	struct ax_tensor *tr = ax_transpose(t, s, 0, 2);           /* (2,2,4) */
	struct ax_tensor *parts[] = { tr, ax_slice(t, x, 1, 0, 2) }; /* + (2,2,4) */
	return ax_concat(t, parts, 2, 1);                          /* (2,4,4) */
}

static void test_shapes(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 3, 4 }, 21, 1.0f) };
	GC(f_shapes, in, NULL, "permute/slice/concat");
}

static void test_permute_values(void **state)
{
	struct ax_tape *t = *state;
	float xv[6] = { 0, 1, 2, 3, 4, 5 };
	struct ax_tensor *x = ax_const(t, 2, (int[]){ 2, 3 }, xv);
	struct ax_tensor *y = ax_transpose(t, x, 0, 1);
	float want[] = { 0, 3, 1, 4, 2, 5 };
	assert_int_equal(y->shape[0], 3);
	tu_assert_close(y->data, want, 6, 0, 0, "transpose");
}

/* ---- indexing ---- */
static const int32_t ids[] = { 3, 0, 3, 1, 4, 2 };

static struct ax_tensor *f_index(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *emb = ax_embedding(t, in[0], ids, 2, (int[]){ 2, 3 }); /* (2,3,4) */
	struct ax_tensor *flat = ax_reshape(t, emb, 2, (int[]){ 6, 4 });
	static const int32_t pick[] = { 5, 1, 1 };
	struct ax_tensor *g = ax_gather_rows(t, flat, pick, 3);                  /* (3,4) */
	g = ax_mul(t, g, in[1]);
	return ax_scatter_add_rows(t, flat, g, pick);
}

static void test_index(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 2, (int[]){ 5, 4 }, 30, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 3, 4 }, 31, 1.0f) };
	GC(f_index, in, NULL, "embedding/gather/scatter");
}

/* ---- products ---- */
static struct ax_tensor *f_matmul(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *a = in[0], *b = in[1], *w = in[2], *bias = in[3];
	struct ax_tensor *y = ax_matmul(t, a, b, 0, 0);      /* (2,3,4)x(4,5) */
	struct ax_tensor *z = ax_matmul(t, b, b, 1, 0);      /* (5,4)x(4,5) */
	struct ax_tensor *u = ax_matmul(t, y, z, 0, 1);      /* (2,3,5)x(5,5)^T */
	struct ax_tensor *l = ax_linear(t, u, w, bias);      /* -> (2,3,6) */
	struct ax_tensor *bm = ax_bmm(t, l, l, 0, 1);        /* (2,3,3) */
	struct ax_tensor *bm2 = ax_bmm(t, l, l, 1, 0);       /* (2,6,6) */
	struct ax_tensor *parts[] = { ax_reshape(t, bm, 1, (int[]){ -1 }),
				      ax_reshape(t, bm2, 1, (int[]){ -1 }) };
	return ax_concat(t, parts, 2, 0);
}

static void test_matmul(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 3, 4 }, 40, 0.5f),
				   tu_leaf(&arena, 2, (int[]){ 4, 5 }, 41, 0.5f),
				   tu_leaf(&arena, 2, (int[]){ 6, 5 }, 42, 0.5f),
				   tu_leaf(&arena, 1, (int[]){ 6 }, 43, 0.5f) };
	GC(f_matmul, in, NULL, "matmul/bmm/linear");
}

/* ---- normalisation, softmax, dropout off ---- */
static struct ax_tensor *f_norms(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *x = in[0], *g = in[1], *b = in[2];
	struct ax_tensor *y = ax_layernorm(t, x, g, b, 1e-5f);
	struct ax_tensor *z = ax_rmsnorm(t, x, g, 1e-6f);
	struct ax_tensor *s = ax_softmax(t, ax_add(t, y, z));
	return ax_add(t, s, ax_log_softmax(t, x));
}

static void test_norms(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 2, (int[]){ 4, 6 }, 50, 1.0f),
				   tu_leaf(&arena, 1, (int[]){ 6 }, 51, 1.0f),
				   tu_leaf(&arena, 1, (int[]){ 6 }, 52, 1.0f) };
	GC(f_norms, in, NULL, "layernorm/rmsnorm/softmax");
}

/* ---- losses ---- */
static const int32_t xent_targets[] = { 2, -1, 0, 4 };

static struct ax_tensor *f_losses(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *x = in[0], *y = in[1], *z = in[2];   /* (4,5) each */
	struct ax_tensor *w = ax_const(t, 2, x->shape, NULL);
	for (size_t i = 0; i < w->size; i++)
		w->data[i] = (float)(i % 3 != 0);
	struct ax_tensor *counts = ax_const(t, 2, x->shape, NULL);
	for (size_t i = 0; i < counts->size; i++)
		counts->data[i] = (float)(i % 4);
	struct ax_tensor *targets01 = ax_const(t, 2, x->shape, NULL);
	for (size_t i = 0; i < targets01->size; i++)
		targets01->data[i] = (float)(i % 2);
	struct ax_tensor *parts[] = {
		ax_cross_entropy(t, x, xent_targets, 0.1f, -1),
		ax_poisson_nll(t, x, counts, w),
		ax_gaussian_nll(t, x, y, z),
		ax_mse(t, x, z),
		ax_bce_logits(t, y, targets01, w),
		ax_kl_diag_gauss(t, x, y, z, ax_scale(t, y, 0.5f)),
		ax_kl_diag_gauss(t, z, x, NULL, NULL),
	};
	return ax_concat(t, parts, (int)AX_COUNTOF(parts), 0);
}

static void test_losses(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 2, (int[]){ 4, 5 }, 60, 0.7f),
				   tu_leaf(&arena, 2, (int[]){ 4, 5 }, 61, 0.7f),
				   tu_leaf(&arena, 2, (int[]){ 4, 5 }, 62, 0.7f) };
	GC(f_losses, in, NULL, "losses");
}

static void test_loss_values(void **state)
{
	struct ax_tape *t = *state;
	float lv[] = { 1, 2, 3, 1, 1, 1 };
	struct ax_tensor *x = ax_const(t, 2, (int[]){ 2, 3 }, lv);
	int32_t tg[] = { 2, 0 };
	/* torch: F.cross_entropy(x, [2, 0]) = mean(0.40760596, 1.09861229) */
	float want = 0.75310913f;
	tu_assert_close(ax_cross_entropy(t, x, tg, 0, -1)->data, &want, 1, 1e-6, 1e-6, "xent");
	/* with label_smoothing=0.2: torch gives 0.85310918 */
	want = 0.85310918f;
	tu_assert_close(ax_cross_entropy(t, x, tg, 0.2f, -1)->data, &want, 1, 1e-6, 1e-6,
			"xent smoothing");
}

/* ---- fused sequence / image ops through the tape ---- */
static struct ax_tensor *f_attention(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_attn_desc d = { .H = 2, .causal = 1, .rope = 1 };
	return ax_attention(t, in[0], in[1], in[2], &d);
}

static void test_attention(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 5, 8 }, 70, 0.7f),
				   tu_leaf(&arena, 3, (int[]){ 2, 5, 8 }, 71, 0.7f),
				   tu_leaf(&arena, 3, (int[]){ 2, 5, 8 }, 72, 0.7f) };
	GC(f_attention, in, NULL, "attention op");
}

static struct ax_tensor *f_conv(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *y = ax_conv2d(t, in[0], in[1], in[2], 1, 1); /* (2,3,6,6) */
	struct ax_tensor *parts[] = { ax_reshape(t, ax_maxpool2d(t, y, 2, 2), 1, (int[]){ -1 }),
				      ax_reshape(t, ax_avgpool2d(t, y, 3, 3), 1, (int[]){ -1 }) };
	return ax_concat(t, parts, 2, 0);
}

static void test_conv(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 4, (int[]){ 2, 2, 6, 6 }, 80, 1.0f),
				   tu_leaf(&arena, 4, (int[]){ 3, 2, 3, 3 }, 81, 0.5f),
				   tu_leaf(&arena, 1, (int[]){ 3 }, 82, 0.5f) };
	GC(f_conv, in, NULL, "conv2d/pools");
}

static struct ax_tensor *f_recurrent(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *a = ax_sigmoid(t, in[0]);
	struct ax_tensor *h = ax_scan(t, a, in[1], in[2]);                 /* (2,6,3) */
	return ax_gru(t, h, in[2], in[3], in[4], in[5], in[6]);          /* H = 3 */
}

static void test_recurrent(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 6, 3 }, 90, 1.0f),
				   tu_leaf(&arena, 3, (int[]){ 2, 6, 3 }, 91, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 2, 3 }, 92, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 9, 3 }, 93, 0.5f),
				   tu_leaf(&arena, 2, (int[]){ 9, 3 }, 94, 0.5f),
				   tu_leaf(&arena, 1, (int[]){ 9 }, 95, 0.5f),
				   tu_leaf(&arena, 1, (int[]){ 9 }, 96, 0.5f) };
	GC(f_recurrent, in, NULL, "scan/gru ops");
}

/* GRU without biases (the kernel takes NULL for zero), with and without h0. */
static struct ax_tensor *f_gru_nobias(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *parts[] = {
		ax_reshape(t, ax_gru(t, in[0], NULL, in[2], in[3], NULL, NULL), 1, (int[]){ -1 }),
		ax_reshape(t, ax_gru(t, in[0], in[1], in[2], in[3], NULL, NULL), 1, (int[]){ -1 }) };
	return ax_concat(t, parts, 2, 0);
}

static void test_gru_no_bias(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 3, (int[]){ 2, 4, 3 }, 97, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 2, 2 }, 98, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 6, 3 }, 99, 0.5f),
				   tu_leaf(&arena, 2, (int[]){ 6, 2 }, 100, 0.5f) };
	GC(f_gru_nobias, in, NULL, "gru op without biases");
	/* the same values as zero biases */
	struct ax_tape *t = *state;
	struct ax_tensor *zi = tu_leaf(&arena, 1, (int[]){ 6 }, 1, 0.0f);
	struct ax_tensor *zh = tu_leaf(&arena, 1, (int[]){ 6 }, 2, 0.0f);
	memset(zi->data, 0, 6 * sizeof(float));
	memset(zh->data, 0, 6 * sizeof(float));
	struct ax_tensor *a = ax_gru(t, in[0], in[1], in[2], in[3], NULL, NULL);
	struct ax_tensor *b = ax_gru(t, in[0], in[1], in[2], in[3], zi, zh);
	assert_int_equal(a->size, 16);
	assert_memory_equal(a->data, b->data, a->size * sizeof(float));
}

/* ---- tape behaviour ---- */
static void test_no_grad_and_detach(void **state)
{
	struct ax_tape *t = *state;
	struct ax_tensor *w = tu_leaf(&arena, 1, (int[]){ 3 }, 100, 1.0f);
	memset(w->grad, 0, 3 * sizeof(float));
	ax_no_grad_begin(t);
	struct ax_tensor *y = ax_square(t, w);
	ax_no_grad_end(t);
	assert_int_equal(t->n, 0);
	assert_false(y->requires_grad);
	/* Through detach the gradient stops: d/dw sum(w * detach(w)) = detach(w). */
	struct ax_tensor *l = ax_sum_all(t, ax_mul(t, w, ax_detach(t, w)));
	ax_tape_backward(t, l, 1.0f);
	tu_assert_close(w->grad, w->data, 3, 1e-6, 0, "detach");
}

static void test_accumulation(void **state)
{
	struct ax_arena s;
	struct ax_tape t;
	ax_arena_init(&s, 1024); /* small chunks: exercise growth */
	ax_tape_init(&t, &s);
	struct ax_tensor *w = tu_leaf(&arena, 1, (int[]){ 4 }, 101, 1.0f);
	memset(w->grad, 0, 4 * sizeof(float));
	for (int step = 0; step < 3; step++) {
		ax_tape_reset(&t);
		ax_tape_backward(&t, ax_sum_all(&t, ax_scale(&t, w, 2.0f)), 1.0f);
	}
	float want[] = { 6, 6, 6, 6 };
	tu_assert_close(w->grad, want, 4, 0, 0, "accumulated grads");
	/* The arena reuses its chunks: peak stays bounded across resets. */
	size_t peak = s.peak;
	for (int step = 0; step < 10; step++) {
		ax_tape_reset(&t);
		ax_tape_backward(&t, ax_sum_all(&t, ax_scale(&t, w, 2.0f)), 1.0f);
	}
	assert_int_equal(s.peak, peak);
	ax_tape_free(&t);
	ax_arena_free(&s);
}

/* Backward gives an op its input's gradient unzeroed when the op is that
 * gradient's first writer and writes it whole (ax_opdef.writes_whole). Each
 * graph below runs twice per mode: with those buffers full of NaN
 * (poison_fresh), and with every buffer zeroed (plain_grads). Every leaf's
 * gradient must be finite, carry some signal, and have the same bits in both
 * modes and both steps. In each graph some tensor is first written by a
 * writes-whole op and then added to by another (the later op's backward
 * runs first), and some by an op that broadcasts. A gradient check of the
 * second graph catches an op that assigns where it should add. */

// conv -> batchnorm -> maxpool -> relu, with scale and square side branches
static struct ax_tensor *conv_graph(struct ax_tape *t, struct ax_tensor **p, void *ctx)
{
	struct ax_tensor *x = ax_scale(t, p[0], 1.5f);
	struct ax_tensor *h = ax_conv2d(t, x, p[1], NULL, 1, 1);
	struct ax_tensor *side = ax_sum_all(t, ax_square(t, ax_scale(t, h, 0.5f)));
	struct ax_tensor *y = ax_relu(t, ax_maxpool2d(t, ax_batchnorm(t, h, p[2], p[3], NULL, NULL,
								    0.1f, 1e-5f),
						     2, 2));
	return ax_add(t, ax_sum_all(t, ax_square(t, y)), side);
}

// an MLP residual block: linear -> gelu -> linear, a broadcast gate, the
// residual add and reshapes; x feeds the layernorm and the residual, and x0
// the reshape and a product recorded last (so the reshape adds to it)
static struct ax_tensor *mlp_graph(struct ax_tape *t, struct ax_tensor **p, void *ctx)
{
	struct ax_tensor *x0 = ax_scale(t, p[0], 1.0f);
	struct ax_tensor *x = ax_reshape(t, x0, 2, (int[]){ 6, 8 });
	struct ax_tensor *h = ax_layernorm(t, x, p[3], NULL, 1e-5f);
	h = ax_linear(t, ax_gelu(t, ax_linear(t, h, p[1], NULL)), p[2], NULL);
	struct ax_tensor *y = ax_add(t, x, ax_mul(t, h, p[3]));
	y = ax_sub(t, ax_tanh(t, y), ax_mul(t, y, y));
	y = ax_sum_all(t, ax_square(t, ax_reshape(t, y, 1, (int[]){ 48 })));
	return ax_add(t, y, ax_sum_all(t, ax_mul(t, x0, x0)));
}

static void check_fresh_grads(tu_forward_fn graph, struct ax_tensor **leaves, int n_leaves)
{
	float *first[4] = { 0 };
	for (int run = 0; run < 4; run++) {
		struct ax_arena s;
		struct ax_tape t;
		ax_arena_init(&s, 0);
		ax_tape_init(&t, &s);
		t.poison_fresh = run < 2;
		t.plain_grads = run >= 2;
		for (int i = 0; i < n_leaves; i++)
			memset(leaves[i]->grad, 0, leaves[i]->size * sizeof(float));
		ax_tape_backward(&t, graph(&t, leaves, NULL), 1.0f);
		for (int i = 0; i < n_leaves; i++) {
			if (run == 0) {
				first[i] = malloc(leaves[i]->size * sizeof(float));
				memcpy(first[i], leaves[i]->grad, leaves[i]->size * sizeof(float));
			} else
				assert_memory_equal(first[i], leaves[i]->grad, leaves[i]->size * sizeof(float));
		}
		ax_tape_free(&t);
		ax_arena_free(&s);
	}
	for (int i = 0; i < n_leaves; i++) {
		int nonzero = 0; // some gradient flows to every leaf (channels relu zeroes have none)
		for (size_t j = 0; j < leaves[i]->size; j++) {
			assert_true(isfinite(first[i][j]));
			nonzero |= first[i][j] != 0.0f;
		}
		assert_true(nonzero);
		free(first[i]);
	}
}

static void test_fresh_grads(void **state)
{
	(void)state;
	struct ax_tensor *conv[] = {
		tu_leaf(&arena, 4, (int[]){ 2, 3, 6, 6 }, 111, 1.0f),
		tu_leaf(&arena, 4, (int[]){ 4, 3, 3, 3 }, 112, 0.3f),
		tu_leaf(&arena, 1, (int[]){ 4 }, 113, 1.0f),
		tu_leaf(&arena, 1, (int[]){ 4 }, 114, 1.0f),
	};
	check_fresh_grads(conv_graph, conv, 4);
	struct ax_tensor *mlp[] = {
		tu_leaf(&arena, 3, (int[]){ 2, 3, 8 }, 115, 1.0f),
		tu_leaf(&arena, 2, (int[]){ 16, 8 }, 116, 0.4f),
		tu_leaf(&arena, 2, (int[]){ 8, 16 }, 117, 0.3f),
		tu_leaf(&arena, 1, (int[]){ 8 }, 118, 1.0f),
	};
	check_fresh_grads(mlp_graph, mlp, 4);
	// and the fresh path's gradients are the right ones
	tu_gradcheck(mlp_graph, mlp, 4, NULL, 1e-2f, 2e-3, 2e-2, 64, "fresh mlp graph");
}

/* Backward lends an output's gradient buffer from just before its first
 * consumer's backward until its own is done: a chain of 16 ops holds two
 * at a time, not 16, and afterwards only the leaf's gradient remains. */
static void test_grad_pool(void **state)
{
	struct ax_tape *t = *state;
	enum { N = 1024, DEPTH = 16 };
	struct ax_tensor *x = tu_leaf(&arena, 1, (int[]){ N }, 102, 1.0f);
	memset(x->grad, 0, N * sizeof(float));
	struct ax_tensor *h[DEPTH], *y = x;
	for (int i = 0; i < DEPTH; i++)
		y = h[i] = ax_tanh(t, y);
	struct ax_tensor *l = ax_sum_all(t, y);
	size_t before = t->arena->used;
	ax_tape_backward(t, l, 1.0f);
	size_t grad_bytes = t->arena->used - before;
	assert_true(grad_bytes <= 3 * N * sizeof(float));
	for (int i = 0; i < DEPTH; i++)
		assert_null(h[i]->grad);
	/* d/dx of tanh^16(x), by the chain rule on the saved outputs */
	float want[N];
	for (int j = 0; j < N; j++) {
		double d = 1;
		for (int i = 0; i < DEPTH; i++)
			d *= 1 - (double)h[i]->data[j] * h[i]->data[j];
		want[j] = (float)d;
	}
	tu_assert_close(x->grad, want, N, 1e-5, 1e-5, "chain through lent buffers");
}

/* concat records only xs[0]; the others' gradients come through
 * ax_tape_grad, also when they are outputs of other ops. */
static struct ax_tensor *f_concat_outputs(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct ax_tensor *parts[] = { in[0], ax_tanh(t, in[1]), ax_square(t, in[1]) };
	return ax_concat(t, parts, 3, 1);
}

static void test_concat_outputs(void **state)
{
	struct ax_tensor *in[] = { tu_leaf(&arena, 2, (int[]){ 2, 3 }, 103, 1.0f),
				   tu_leaf(&arena, 2, (int[]){ 2, 2 }, 104, 1.0f) };
	GC(f_concat_outputs, in, NULL, "concat of op outputs");
}

static void test_arena(void **state)
{
	struct ax_arena a;
	ax_arena_init(&a, 256);
	char *p1 = ax_arena_alloc(&a, 100);
	char *p2 = ax_arena_alloc(&a, 1000); /* bigger than a chunk */
	char *p3 = ax_arena_alloc(&a, 10);
	assert_true(((uintptr_t)p1 & 63) == 0 && ((uintptr_t)p2 & 63) == 0 &&
		    ((uintptr_t)p3 & 63) == 0);
	memset(p2, 1, 1000);
	memset(p1, 2, 100);
	assert_int_equal(p2[999], 1);
	/* The step took three chunks; the first reset keeps them, and the same
	 * allocations again land where they were (no memory given back). */
	ax_arena_reset(&a);
	assert_ptr_equal(ax_arena_alloc(&a, 100), p1);
	assert_ptr_equal(ax_arena_alloc(&a, 1000), p2);
	assert_ptr_equal(ax_arena_alloc(&a, 10), p3);
	/* A step that still needs a new chunk (2000 fits in none): after it,
	 * one chunk of the high-water mark, its allocations one after another. */
	ax_arena_reset(&a);
	ax_arena_alloc(&a, 100);
	ax_arena_alloc(&a, 2000);
	ax_arena_reset(&a);
	char *q1 = ax_arena_alloc(&a, 100), *q2 = ax_arena_alloc(&a, 2000);
	char *q3 = ax_arena_alloc(&a, 10);
	assert_ptr_equal(q2, q1 + 128);
	assert_ptr_equal(q3, q2 + 2048);
	ax_arena_reset(&a);
	assert_ptr_equal(ax_arena_alloc(&a, 100), q1);  /* one chunk: reused as it is */
	ax_arena_free(&a);
}

/* Dropout in training: each element kept with probability 1-p and scaled by
 * 1/(1-p); the gradient goes through the same mask. Identity otherwise. */
static void test_dropout(void **state)
{
	struct ax_tape *t = *state;
	struct ax_rng rng;
	ax_rng_seed(&rng, 5);
	struct ax_tensor *x = tu_leaf(t->arena, 1, (int[]){ 20000 }, 6, 1.0f);
	t->training = 1;
	struct ax_tensor *y = ax_dropout(t, x, 0.25f, &rng);
	ax_tape_backward(t, ax_sum_all(t, y), 1.0f);
	size_t kept = 0;
	for (size_t i = 0; i < x->size; i++) {
		if (y->data[i] == 0.0f) {
			assert_true(x->grad[i] == 0.0f);
			continue;
		}
		kept++;
		assert_float_equal(y->data[i], x->data[i] / 0.75f, 1e-6);
		assert_float_equal(x->grad[i], 1.0f / 0.75f, 1e-6);
	}
	assert_float_equal((double)kept / x->size, 0.75, 0.015);  /* ~5 standard errors */
	t->training = 0;
	assert_ptr_equal(ax_dropout(t, x, 0.25f, &rng), x);
}

/* The vectorisable exp/erf used by the elementwise ops, against libm. */
static void test_fast_math(void **state)
{
	double worst_exp = 0, worst_erf = 0;
	for (float x = -87.0f; x < 88.0f; x += 0.00731f) {
		double e = exp((double)x);
		worst_exp = fmax(worst_exp, fabs(ax_expf(x) - e) / e);
	}
	for (float x = -8.0f; x < 8.0f; x += 0.000377f)
		worst_erf = fmax(worst_erf, fabs(ax_erff(x) - erf((double)x)));
	assert_true(worst_exp < 4e-7);  /* ~3 ulp */
	assert_true(worst_erf < 6e-7);
	assert_true(ax_expf(-200.0f) < 1e-37f && ax_expf(200.0f) > 1e38f); /* clamped, finite */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_fast_math),
		cmocka_unit_test_setup_teardown(test_dropout, tape_new, tape_free),
		cmocka_unit_test(test_binops),
		cmocka_unit_test_setup_teardown(test_broadcast_values, tape_new, tape_free),
		cmocka_unit_test(test_unary),
		cmocka_unit_test_setup_teardown(test_unary_values, tape_new, tape_free),
		cmocka_unit_test(test_reduce),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test_setup_teardown(test_permute_values, tape_new, tape_free),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_norms),
		cmocka_unit_test(test_losses),
		cmocka_unit_test_setup_teardown(test_loss_values, tape_new, tape_free),
		cmocka_unit_test(test_attention),
		cmocka_unit_test(test_conv),
		cmocka_unit_test(test_recurrent),
		cmocka_unit_test_setup_teardown(test_gru_no_bias, tape_new, tape_free),
		cmocka_unit_test_setup_teardown(test_no_grad_and_detach, tape_new, tape_free),
		cmocka_unit_test(test_accumulation),
		cmocka_unit_test(test_fresh_grads),
		cmocka_unit_test_setup_teardown(test_grad_pool, tape_new, tape_free),
		cmocka_unit_test(test_concat_outputs),
	};
	return cmocka_run_group_tests_name("tape", tests, setup, teardown);
}
