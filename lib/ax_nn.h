/* ax_nn.h — parameters with names, initialisers, and layers built from ops.
 *
 * A parameter is a tensor in the long-lived arena with a zeroed gradient
 * and a name that follows the PyTorch reference model's state-dict names
 * ("blocks.0.attn.q.weight"), so checkpoints load in Python as they are.
 * Layers are plain structs of parameter pointers; *_init registers them,
 * the forward functions take the tape. Initialisers follow PyTorch's
 * defaults unless a command chooses otherwise.
 */
#ifndef AX_NN_H
#define AX_NN_H

#include "ax_io.h"
#include "ax_rng.h"
#include "ax_tape.h"

struct ax_params {
	struct ax_arena *arena;      /* long-lived: values, gradients, names */
	int n, cap;
	struct ax_tensor **list;     /* registration order = checkpoint order */
};

void ax_params_init(struct ax_params *p, struct ax_arena *long_arena);
void ax_params_free(struct ax_params *p);   /* the list only; the arena owns tensors */
/* Zeroed parameter with gradient; name is copied (printf-style). */
struct ax_tensor *ax_param(struct ax_params *p, int ndim, const int *shape, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct ax_tensor *ax_params_find(const struct ax_params *p, const char *name);
void ax_params_zero_grad(struct ax_params *p);
size_t ax_params_count(const struct ax_params *p);   /* total elements */
/* Add every parameter to a bundle under its name (prefix "" or e.g. "model."). */
void ax_params_to_bundle(const struct ax_params *p, struct ax_bundle *b, const char *prefix);
/* Copy values from a bundle; every parameter must be there with its shape. */
enum ax_status ax_params_from_bundle(struct ax_params *p, const struct ax_bundle *b,
				     const char *prefix);
/* The same for the parameters whose name `skip` rejects (returns 0) — e.g.
 * fine-tuning that keeps a checkpoint's shared core but not its per-session
 * layers. skip NULL loads them all. */
enum ax_status ax_params_from_bundle_except(struct ax_params *p, const struct ax_bundle *b,
					    const char *prefix, int (*skip)(const char *name));

/* Initialisers. */
void ax_init_uniform(struct ax_tensor *t, struct ax_rng *r, float bound);   /* U(-b, b) */
void ax_init_normal(struct ax_tensor *t, struct ax_rng *r, float std);
/* PyTorch nn.Linear/Conv default: U(+-1/sqrt(fan_in)) for weight and bias. */
void ax_init_fan_in(struct ax_tensor *t, struct ax_rng *r, int fan_in);

/* ---- layers ---- */
struct ax_nn_linear {
	struct ax_tensor *w, *b;     /* (out, in), (out) or NULL */
};
void ax_nn_linear_init(struct ax_nn_linear *l, struct ax_params *p, struct ax_rng *r,
		       const char *name, int in, int out, int bias);
struct ax_tensor *ax_nn_linear(struct ax_tape *t, const struct ax_nn_linear *l, struct ax_tensor *x);

#define AX_MLP_MAX_LAYERS 8
/* Linear layers with an activation between them (none after the last).
 * Names: <name>.<i>.weight for i = 0, 2, 4, ... as in nn.Sequential. */
struct ax_nn_mlp {
	int n;
	enum ax_unary act;
	struct ax_nn_linear layers[AX_MLP_MAX_LAYERS];
};
/* sizes[0] = in, sizes[nsizes-1] = out. */
void ax_nn_mlp_init(struct ax_nn_mlp *m, struct ax_params *p, struct ax_rng *r, const char *name,
		    const int *sizes, int nsizes, enum ax_unary act);
struct ax_tensor *ax_nn_mlp(struct ax_tape *t, const struct ax_nn_mlp *m, struct ax_tensor *x);

struct ax_nn_embedding {
	struct ax_tensor *w;         /* (V, C), N(0, 1) as nn.Embedding */
};
void ax_nn_embedding_init(struct ax_nn_embedding *e, struct ax_params *p, struct ax_rng *r,
			  const char *name, int V, int C);

struct ax_nn_layernorm {
	struct ax_tensor *w, *b;     /* (C): ones, zeros */
	float eps;
};
void ax_nn_layernorm_init(struct ax_nn_layernorm *l, struct ax_params *p, const char *name, int C);
struct ax_tensor *ax_nn_layernorm(struct ax_tape *t, const struct ax_nn_layernorm *l, struct ax_tensor *x);

/* Multi-head attention with separate q, k, v, o projections (names
 * <name>.q, .k, .v, .o), so the same layer does self- and cross-attention. */
struct ax_nn_attention {
	struct ax_nn_linear q, k, v, o;
	int heads;
};
void ax_nn_attention_init(struct ax_nn_attention *a, struct ax_params *p, struct ax_rng *r,
			  const char *name, int C, int kv_in, int heads);
/* x (B, Tq, C) attends to ctx (B, Tk, kv_in) (ctx = x for self-attention);
 * opts carries masks/rope (its sizes are filled in). */
struct ax_tensor *ax_nn_attention(struct ax_tape *t, const struct ax_nn_attention *a,
				  struct ax_tensor *x, struct ax_tensor *ctx,
				  const struct ax_attn_desc *opts);

/* Pre-LN transformer block:
 *   x = x + drop(attn(ln1(x)));  x = x + drop(fc2(gelu(fc1(ln2(x)))))
 * Names: <name>.ln1, .attn, .ln2, .mlp.fc1, .mlp.fc2. */
struct ax_nn_block {
	struct ax_nn_layernorm ln1, ln2;
	struct ax_nn_attention attn;
	struct ax_nn_linear fc1, fc2;
	float dropout;
};
void ax_nn_block_init(struct ax_nn_block *b, struct ax_params *p, struct ax_rng *r,
		      const char *name, int C, int heads, int hidden);
/* Residual branch f(x) without the skip, when a caller (e.g. Mixture-of-
 * Depths) needs to scale it: returns attn and MLP increments applied in
 * sequence, i.e. block(x) - x. */
struct ax_tensor *ax_nn_block_delta(struct ax_tape *t, const struct ax_nn_block *b,
				    struct ax_tensor *x, const struct ax_attn_desc *opts,
				    struct ax_rng *rng);
struct ax_tensor *ax_nn_block(struct ax_tape *t, const struct ax_nn_block *b, struct ax_tensor *x,
			      const struct ax_attn_desc *opts, struct ax_rng *rng);

/* Batch normalisation layer, nn.BatchNorm1d/2d names: <name>.weight (ones),
 * <name>.bias (zeros) are parameters; <name>.running_mean (zeros),
 * <name>.running_var (ones) and <name>.num_batches_tracked are buffers in
 * the long-lived arena, saved and loaded with the functions below (they are
 * not parameters: no gradient, no optimiser). momentum 0.1, eps 1e-5. */
struct ax_nn_batchnorm {
	struct ax_tensor *w, *b;     /* (C) */
	float *running_mean, *running_var;  /* (C) */
	int64_t num_batches;         /* batches that updated the running statistics */
	int C;
	float momentum, eps;
	const char *name;
};
void ax_nn_batchnorm_init(struct ax_nn_batchnorm *bn, struct ax_params *p, const char *name, int C);
/* x (B, C) or (B, C, H, W). In training (t->training) by the batch's
 * statistics, updating the running ones if track; else by the running ones. */
struct ax_tensor *ax_nn_batchnorm(struct ax_tape *t, struct ax_nn_batchnorm *bn, struct ax_tensor *x,
				  int track);
/* The buffers into / from a checkpoint (prefix "" or "model."); reading
 * checks dtypes and shapes. */
void ax_nn_batchnorm_to_bundle(const struct ax_nn_batchnorm *bn, struct ax_bundle *b,
			       const char *prefix);
enum ax_status ax_nn_batchnorm_from_bundle(struct ax_nn_batchnorm *bn, const struct ax_bundle *b,
					   const char *prefix);

/* GRU layer, nn.GRU names: <name>.weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0. */
struct ax_nn_gru {
	struct ax_tensor *w_ih, *w_hh, *b_ih, *b_hh;
	int hidden;
};
void ax_nn_gru_init(struct ax_nn_gru *g, struct ax_params *p, struct ax_rng *r, const char *name,
		    int in, int hidden);
/* x (B, T, I), h0 (B, H) or NULL -> (B, T, H). */
struct ax_tensor *ax_nn_gru(struct ax_tape *t, const struct ax_nn_gru *g, struct ax_tensor *x,
			    struct ax_tensor *h0);

#endif
