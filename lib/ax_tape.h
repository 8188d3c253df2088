/* ax_tape.h — reverse-mode autograd: the tape and the differentiable ops.
 *
 * Every op runs its forward at once, allocates its output in the tape's
 * arena (the per-step arena) and, when an input requires a gradient and the
 * tape is not in no-grad mode, records a node {op, inputs, output, saved}.
 * ax_tape_backward() seeds the scalar loss with 1 and walks the nodes in
 * reverse, each backward adding (+=) into its inputs' gradients. A recorded
 * output's gradient is a zeroed buffer (or, for a first consumer whose op
 * writes it whole, an unzeroed one: see ax_opdef.writes_whole) that exists
 * only from just before its first consumer's backward until its own node's
 * backward is done; then it goes back to a pool that later (earlier-recorded)
 * gradients reuse, so a step holds about one layer's gradients at a time,
 * not all of them.
 * After backward, only leaves' gradients (parameters, and tensors given a
 * buffer with ax_tensor_require_grad) are readable. Parameter gradients live in the long-lived
 * arena and accumulate across backward calls until zeroed
 * (ax_params_zero_grad), which gives gradient accumulation for free.
 * ax_tape_reset() forgets the nodes and resets the arena: call it once per step.
 *
 * Shapes are checked with AX_ASSERT (a wrong shape is a programmer error).
 * Model code writes only the forward pass with ordinary C control flow.
 */
#ifndef AX_TAPE_H
#define AX_TAPE_H

#include "ax_kernels.h"
#include "ax_tensor.h"

struct ax_tape;
struct ax_tape_node;
struct ax_rng;

/* What an op kind is: its name (profile), backward name and function. */
struct ax_opdef {
	const char *name, *bwd_name;
	void (*backward)(struct ax_tape_node *n);
	/* bit k: given in[k]'s gradient uninitialised (node's fresh bit k), the
	 * backward writes all of it, as 0 + value (the bits of adding to zeros),
	 * so the tape need not zero it first: a pass over memory saved */
	unsigned writes_whole;
};

struct ax_tape_node {
	const struct ax_opdef *op;
	struct ax_tensor *out;
	struct ax_tensor *in[4];
	void *saved;              /* op-specific, in the tape's arena */
	int iarg[8];
	float farg[4];
	double flops;             /* forward flops (profile) */
	struct ax_arena *arena;   /* the tape's arena, for backward scratch */
	struct ax_tape *tape;
	unsigned fresh;           /* bit k: in[k]'s gradient is uninitialised (see writes_whole) */
};

struct ax_grad_block;

struct ax_tape {
	struct ax_arena *arena;   /* per-step: activations, saved data, gradients */
	struct ax_tape_node *nodes;
	int n, cap;               /* the node array persists across resets */
	struct ax_grad_block *blocks; /* backward's gradient buffers (pool) */
	int n_blocks, cap_blocks;
	int no_grad;              /* > 0: record nothing (evaluation, sampling) */
	int training;             /* dropout active */
	int poison_fresh;         /* tests: unzeroed gradient buffers start as NaN */
	int plain_grads;          /* tests: zero every gradient buffer, writes_whole unused */
};

void ax_tape_init(struct ax_tape *t, struct ax_arena *step_arena);
void ax_tape_free(struct ax_tape *t);     /* frees the node array, not the arena */
void ax_tape_reset(struct ax_tape *t);    /* forget nodes, reset the arena */
/* Backpropagate from a one-element loss (its gradient seeded with `seed`,
 * usually 1), once per forward: the gradient buffers come from the step
 * arena, which only ax_tape_reset reclaims. */
void ax_tape_backward(struct ax_tape *t, struct ax_tensor *loss, float seed);
/* Nested no-grad sections. */
static inline void ax_no_grad_begin(struct ax_tape *t) { t->no_grad++; }
static inline void ax_no_grad_end(struct ax_tape *t) { t->no_grad--; }

/* For op implementations (lib/ops_*.c) and custom ops in a command:
 * a fresh output, and the node recorded for it (NULL when nothing needs a
 * gradient, in which case the op skips saving). */
struct ax_tensor *ax_op_output(struct ax_tape *t, int ndim, const int *shape);
struct ax_tape_node *ax_op_record(struct ax_tape *t, const struct ax_opdef *op,
				  struct ax_tensor *out, struct ax_tensor *in0,
				  struct ax_tensor *in1, struct ax_tensor *in2,
				  struct ax_tensor *in3);
/* In a backward: x's gradient buffer, made (zeroed) if it has none yet, or
 * NULL when x needs no gradient. The tape gives in[0..3] theirs before the
 * backward runs; an op whose backward writes the gradient of a tensor kept
 * elsewhere (in saved) gets that buffer here. */
float *ax_tape_grad(struct ax_tape_node *n, struct ax_tensor *x);
/* Profile hooks around a forward: double t0 = ax_op_clock(); ...;
 * ax_op_done(op, t0, flops). Cheap when AX_PROFILE is off. */
double ax_op_clock(void);
void ax_op_done(const struct ax_opdef *op, double t0, double flops);

/* A constant (no-grad) tensor in the tape's arena, copying data if given. */
struct ax_tensor *ax_const(struct ax_tape *t, int ndim, const int *shape, const float *data);
/* Same data, cut off from the graph (stop-gradient). */
struct ax_tensor *ax_detach(struct ax_tape *t, struct ax_tensor *x);

/* ---- elementwise, with numpy broadcasting (shapes aligned on the right) ---- */
struct ax_tensor *ax_add(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b);
struct ax_tensor *ax_sub(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b);
struct ax_tensor *ax_mul(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b);
struct ax_tensor *ax_div(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b);
/* y = x * s + c */
struct ax_tensor *ax_affine(struct ax_tape *t, struct ax_tensor *x, float s, float c);
static inline struct ax_tensor *ax_scale(struct ax_tape *t, struct ax_tensor *x, float s)
{
	return ax_affine(t, x, s, 0.0f);
}
static inline struct ax_tensor *ax_add_scalar(struct ax_tape *t, struct ax_tensor *x, float c)
{
	return ax_affine(t, x, 1.0f, c);
}

enum ax_unary {
	AX_NEG, AX_EXP, AX_LOG, AX_SQRT, AX_SQUARE, AX_TANH, AX_SIGMOID, AX_RELU,
	AX_GELU,      /* exact, x * Phi(x) (erf), as torch.nn.GELU() */
	AX_GELU_TANH, /* tanh approximation, as GELU(approximate='tanh') */
	AX_SILU, AX_SOFTSIGN, AX_SOFTPLUS, AX_ABS,
};
struct ax_tensor *ax_unary(struct ax_tape *t, enum ax_unary kind, struct ax_tensor *x);
#define AX_UNARY_FN(fn, kind) \
	static inline struct ax_tensor *fn(struct ax_tape *t, struct ax_tensor *x) { return ax_unary(t, kind, x); }
AX_UNARY_FN(ax_neg, AX_NEG)
AX_UNARY_FN(ax_exp, AX_EXP)
AX_UNARY_FN(ax_log, AX_LOG)
AX_UNARY_FN(ax_sqrt, AX_SQRT)
AX_UNARY_FN(ax_square, AX_SQUARE)
AX_UNARY_FN(ax_tanh, AX_TANH)
AX_UNARY_FN(ax_sigmoid, AX_SIGMOID)
AX_UNARY_FN(ax_relu, AX_RELU)
AX_UNARY_FN(ax_gelu, AX_GELU)
AX_UNARY_FN(ax_silu, AX_SILU)
AX_UNARY_FN(ax_softsign, AX_SOFTSIGN)
AX_UNARY_FN(ax_softplus, AX_SOFTPLUS)
AX_UNARY_FN(ax_abs, AX_ABS)
#undef AX_UNARY_FN

/* ---- reductions: over one axis (removed from the shape; a 1-D input gives
 * shape (1)), or over everything (shape (1)) ---- */
struct ax_tensor *ax_sum(struct ax_tape *t, struct ax_tensor *x, int axis);
struct ax_tensor *ax_mean(struct ax_tape *t, struct ax_tensor *x, int axis);
struct ax_tensor *ax_max(struct ax_tape *t, struct ax_tensor *x, int axis); /* grad to first argmax */
struct ax_tensor *ax_sum_all(struct ax_tape *t, struct ax_tensor *x);
struct ax_tensor *ax_mean_all(struct ax_tape *t, struct ax_tensor *x);

/* ---- shapes ---- */
/* Same data, new shape (one entry may be -1). No copy. */
struct ax_tensor *ax_reshape(struct ax_tape *t, struct ax_tensor *x, int ndim, const int *shape);
/* out dim i = x dim perm[i] (copies). */
struct ax_tensor *ax_permute(struct ax_tape *t, struct ax_tensor *x, const int *perm);
struct ax_tensor *ax_transpose(struct ax_tape *t, struct ax_tensor *x, int d0, int d1);
/* n tensors equal except along axis. */
struct ax_tensor *ax_concat(struct ax_tape *t, struct ax_tensor **xs, int n, int axis);
/* x[..., start:start+len, ...] along axis. */
struct ax_tensor *ax_slice(struct ax_tape *t, struct ax_tensor *x, int axis, int start, int len);

/* ---- indexing ---- */
/* Rows of w (V, C) for n ids -> (out_shape..., C): out_ndim dims of ids, C appended. */
struct ax_tensor *ax_embedding(struct ax_tape *t, struct ax_tensor *w, const int32_t *ids,
			       int ids_ndim, const int *ids_shape);
/* x (N, C) rows idx[0..M) -> (M, C). */
struct ax_tensor *ax_gather_rows(struct ax_tape *t, struct ax_tensor *x, const int32_t *idx, int M);
/* base (N, C) + src (M, C) added at rows idx -> (N, C) (repeats add up). */
struct ax_tensor *ax_scatter_add_rows(struct ax_tape *t, struct ax_tensor *base,
				      struct ax_tensor *src, const int32_t *idx);
/* ids/idx arrays must stay valid until backward: put them in the tape's arena. */
int32_t *ax_tape_ints(struct ax_tape *t, size_t n);

/* ---- products ---- */
/* a (M, K) or (K, M) if ta; b (K, N) or (N, K) if tb. With ta == 0, a may have
 * more dims: its leading dims are flattened into M and kept in the output. */
struct ax_tensor *ax_matmul(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b, int ta, int tb);
/* Batched: a (Bt, M, K), b (Bt, K, N), transposes per matrix. */
struct ax_tensor *ax_bmm(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b, int ta, int tb);
/* x (..., in) w (out, in) bias (out) or NULL -> (..., out); PyTorch layout. */
struct ax_tensor *ax_linear(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *w,
			    struct ax_tensor *bias);

/* ---- normalisation, softmax ---- */
struct ax_tensor *ax_layernorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma,
			       struct ax_tensor *beta, float eps);
struct ax_tensor *ax_rmsnorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma, float eps);
/* Batch normalisation of x (B, C) or (B, C, H, W), per channel over the
 * batch (and positions), as torch's BatchNorm1d/2d; gamma, beta (C) or NULL
 * (affine=False). With t->training: by the batch's mean and biased variance,
 * and running_mean/var (C, or NULL: not tracked) move toward the batch's
 * mean and unbiased variance by momentum, as torch does (it counts the
 * batches; the caller may). Otherwise by running_mean/var (required). */
struct ax_tensor *ax_batchnorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma,
			       struct ax_tensor *beta, float *running_mean, float *running_var,
			       float momentum, float eps);
struct ax_tensor *ax_softmax(struct ax_tape *t, struct ax_tensor *x);      /* last axis */
struct ax_tensor *ax_log_softmax(struct ax_tape *t, struct ax_tensor *x);  /* last axis */
/* Dropout with probability p when t->training (inverted scaling), else identity. */
struct ax_tensor *ax_dropout(struct ax_tape *t, struct ax_tensor *x, float p, struct ax_rng *rng);

/* ---- losses: each returns a one-element tensor ---- */
/* logits (..., V), targets one per row; label smoothing s; rows with target
 * == ignore_index are skipped; mean over counted rows. */
struct ax_tensor *ax_cross_entropy(struct ax_tape *t, struct ax_tensor *logits,
				   const int32_t *targets, float smoothing, int32_t ignore_index);
/* Poisson NLL with log-rate input, exp(x) - y*x (as torch PoissonNLLLoss(
 * log_input=True, full=False)); weight (same shape, e.g. a 0/1 mask) or NULL;
 * mean over sum(weight) (or over all elements). */
struct ax_tensor *ax_poisson_nll(struct ax_tape *t, struct ax_tensor *log_rate,
				 struct ax_tensor *target, struct ax_tensor *weight);
/* 0.5 * (logvar + (y - mu)^2 / exp(logvar)), mean over elements. */
struct ax_tensor *ax_gaussian_nll(struct ax_tape *t, struct ax_tensor *mu, struct ax_tensor *logvar,
				  struct ax_tensor *target);
struct ax_tensor *ax_mse(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *target);
/* max(x,0) - x*y + log(1 + exp(-|x|)), optionally weighted; mean over elements. */
struct ax_tensor *ax_bce_logits(struct ax_tape *t, struct ax_tensor *logits,
				struct ax_tensor *target, struct ax_tensor *weight);
/* KL(N(mu1, e^lv1) || N(mu2, e^lv2)) summed over the last axis, mean over rows;
 * mu2/lv2 NULL means the standard normal. */
struct ax_tensor *ax_kl_diag_gauss(struct ax_tape *t, struct ax_tensor *mu1, struct ax_tensor *lv1,
				   struct ax_tensor *mu2, struct ax_tensor *lv2);

/* ---- fused sequence and image ops (see ax_kernels.h for semantics) ---- */
/* q (B, Tq, H*D), k, v (B, Tk, H*D) -> (B, Tq, H*D). d's sizes are filled in
 * from the shapes and d->H; its mask/position arrays must stay valid until
 * backward (ax_tape_ints / the tape's arena). */
struct ax_tensor *ax_attention(struct ax_tape *t, struct ax_tensor *q, struct ax_tensor *k,
			       struct ax_tensor *v, const struct ax_attn_desc *d);
/* The attention probabilities (B, H, Tq, Tk) that ax_attention(q, k, v, d)
 * uses, bit for bit: each row sums to 1 over the keys a query may see and is
 * 0 elsewhere (all 0 for a query that sees none). A constant (no gradient),
 * for probes; it runs the attention forward again. */
struct ax_tensor *ax_attention_probs(struct ax_tape *t, struct ax_tensor *q,
				     struct ax_tensor *k, const struct ax_attn_desc *d);
/* x (B, Cin, H, W), w (Cout, Cin, KH, KW), bias or NULL. */
struct ax_tensor *ax_conv2d(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *w,
			    struct ax_tensor *bias, int stride, int pad);
struct ax_tensor *ax_maxpool2d(struct ax_tape *t, struct ax_tensor *x, int k, int s);
struct ax_tensor *ax_avgpool2d(struct ax_tape *t, struct ax_tensor *x, int k, int s);
/* h_t = a_t * h_{t-1} + b_t; a, b (B, T, D), h0 (B, D) or NULL. */
struct ax_tensor *ax_scan(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b,
			  struct ax_tensor *h0);
/* x (B, T, I), h0 (B, H) or NULL -> all hidden states (B, T, H); w_ih (3H, I),
 * w_hh (3H, H); b_ih, b_hh (3H) or NULL (no bias). */
struct ax_tensor *ax_gru(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *h0,
			 struct ax_tensor *w_ih, struct ax_tensor *w_hh, struct ax_tensor *b_ih,
			 struct ax_tensor *b_hh);

#endif
