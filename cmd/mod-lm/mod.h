/* mod.h — Mixture-of-Depths byte-level language model (arXiv:2404.02258),
 * the mod-lm command. Each section names the file that defines it:
 *   settings.c the model's and the training's settings and their checks
 *   model.c   parameters, forward pass, FLOPs, checkpoints
 *   data.c    the byte corpus and its held-out split
 *   eval.c    loss over a text; `mod-lm eval`
 *   train.c   the training loop on lib's training run; `mod-lm train`
 *   sample.c  token-by-token inference with KV caches; `mod-lm sample`
 *   main.c    the command line only
 *
 * The model's equations are in model.c's top comment.
 *
 * Parameter names follow scripts/ref/mod_lm.py's state dict.
 */
#ifndef MOD_H
#define MOD_H

#include "axon.h"

#define MOD_VOCAB 256
#define MOD_KIND "mod-lm"

enum mod_pos { MOD_POS_LEARNED, MOD_POS_ROPE };
enum mod_route { MOD_ROUTE_LEARNED, MOD_ROUTE_RANDOM };
/* How a routed block chooses its tokens at evaluation/sampling time.
 * TOPK is the training-time rule (non-causal: it looks at the whole
 * sequence); AUX (sigmoid(r) > 0.5) and PREDICTOR are causal; RANDOM is the
 * control model's rule (top-k on random scores, or Bernoulli(capacity) when
 * sampling). */
enum mod_router { MOD_ROUTER_TOPK, MOD_ROUTER_AUX, MOD_ROUTER_PREDICTOR, MOD_ROUTER_RANDOM };

struct mod_config {
	int layers, dim, heads, ctx, hidden;
	enum mod_pos pos;
	double capacity;        /* (0, 1]; 1 = dense */
	int route_every;
	enum mod_route route;
	int predictor;          /* train the causal MLP predictor */
};

struct mod_block {
	struct ax_nn_block blk;
	int routed;
	struct ax_nn_linear router;      /* learned routing: (1, C), no bias */
	struct ax_nn_mlp predictor;      /* Linear(C, C/2) SiLU Linear(C/2, 1) */
	int has_router, has_predictor;
};

struct mod_model {
	struct mod_config cfg;
	struct ax_arena arena;           /* parameters, gradients, optimiser state */
	struct ax_params params;
	struct ax_nn_embedding tok, pos; /* pos only with learned positions */
	struct mod_block *blocks;
	struct ax_nn_layernorm ln_f;
	struct ax_nn_linear head;        /* (256, C), no bias */
};

/* ---- settings.c (with the training settings, below) ---- */
/* The model settings: one entry per field of struct mod_config, shared by
 * the flags and the checkpoint keys "mod-lm.layers", ... (ax_settings.h). */
extern const struct ax_setting mod_model_settings[];
extern const int mod_n_model_settings;
extern const char *const mod_pos_names[], *const mod_route_names[];
/* Checks what single ranges cannot (dim a multiple of heads, ...); on error
 * returns a message, else NULL. */
const char *mod_config_check(const struct mod_config *c);

/* ---- model.c ---- */
int mod_capacity_k(const struct mod_config *c, int S);   /* tokens per routed block */
void mod_model_init(struct mod_model *m, const struct mod_config *c, uint64_t seed);
void mod_model_free(struct mod_model *m);

/* Analytic FLOPs of one forward pass over a sequence of S tokens: matrix
 * products 2*m*n*k, attention 4*T^2*C (scores and weighted sum, full square),
 * routed blocks at their capacity k, plus routers, predictors and the head.
 * Training counts 3x (backward = 2x forward). */
double mod_forward_flops(const struct mod_config *c, int S);

/* What a forward pass reports besides the logits. */
struct mod_forward_out {
	struct ax_tensor *logits;        /* (B, S, 256) */
	struct ax_tensor *aux_loss;      /* mean BCE(router logits, membership) over routed blocks, or NULL */
	struct ax_tensor *pred_loss;     /* mean BCE(predictor, membership), or NULL */
	long decisions;                  /* routed-block token decisions (B*S per routed block) */
	long selected;                   /* of which selected */
	long router_hits, pred_hits;     /* (r > 0) == membership; (predictor > 0) == membership */
	/* Per layer: selected flat row indices into (B*S) and their count
	 * (routed layers only; in the tape's arena). */
	int32_t *sel[64];
	int nsel[64];
};

/* Forward over tokens (B, S). router: the selection rule for routed blocks;
 * causal rules (AUX, PREDICTOR) need B == 1 (each sequence then routes a
 * variable number of tokens). rng: random routing scores (RANDOM routes or
 * MOD_ROUTE_RANDOM models), may be NULL otherwise. want_aux: build the
 * auxiliary losses (training). */
void mod_forward(struct ax_tape *t, const struct mod_model *m, const int32_t *tokens, int B,
		 int S, enum mod_router router, struct ax_rng *rng, int want_aux,
		 struct mod_forward_out *out);

/* One block, exposed for tests: x2d (B*S, C) -> (B*S, C).
 * Dense: x + f(x). Routed: rows sel[0..B*k) (B groups of k, ascending within
 * each row of S) get x + scale * f over the selected set, causal at their
 * true positions; scale (B*k, 1) or NULL for 1. */
struct ax_tensor *mod_block_dense(struct ax_tape *t, const struct mod_model *m, int layer,
				  struct ax_tensor *x2d, int B, int S);
struct ax_tensor *mod_block_routed(struct ax_tape *t, const struct mod_model *m, int layer,
				   struct ax_tensor *x2d, int B, int S, const int32_t *sel, int k,
				   struct ax_tensor *scale);

/* Checkpoints: a bundle begun with ax_ckpt_begin(kind "mod-lm") with the
 * parameters and the model settings (train.c adds the rest). */
void mod_put_model(struct ax_bundle *b, const struct mod_model *m);
/* Opens a mod-lm checkpoint, checks its settings as the flags are checked,
 * loads config + weights (m initialised here); the bundle is kept in *keep
 * (or freed if keep is NULL). */
enum ax_status mod_load(const char *path, struct mod_model *m, struct ax_bundle *keep);

/* ---- train.c ---- */
/* Training settings (flags and checkpoint keys "train.lr", ...) and state. */
struct mod_train_state {
	long total_steps, warmup;
	double lr, lr_min, weight_decay, clip, aux_weight, flops_budget, val_frac;
	int batch, val_tokens;
	uint64_t seed;
	int optim;                       /* enum ax_optim_kind: adam or adamw */
	double flops_done;               /* cumulative training FLOPs */
	long tokens_done;
};
/* settings.c: the training settings, and the check their ranges cannot
 * say (the optimiser is Adam or AdamW); a message, or NULL. */
extern const struct ax_setting mod_train_settings[];
extern const int mod_n_train_settings;
const char *mod_train_check(const struct mod_train_state *ts);
/* What the command line gave (main.c fills it in). */
struct mod_opts {
	struct ax_cli cli;               /* common options, operands */
	struct mod_config cfg;
	struct mod_train_state ts;
	long length;                     /* sample: bytes */
	double temperature;
	int top_k, router, held_out;
	long max_bytes;
	const char *model, *prompt;
};
enum { MOD_SUB_TRAIN, MOD_SUB_EVAL, MOD_SUB_SAMPLE };
/* Option ids of main.c's table (the ones other files ask ax_cli_seen about
 * and the ones main.c parses itself; settings are parsed by their flag). */
enum {
	MOD_OPT_SETTING, MOD_OPT_WARMUP, MOD_OPT_LR_MIN, MOD_OPT_VAL_FRAC, MOD_OPT_MODEL,
	MOD_OPT_ROUTER, MOD_OPT_HELD_OUT, MOD_OPT_MAX_BYTES, MOD_OPT_PROMPT, MOD_OPT_LENGTH,
	MOD_OPT_TEMPERATURE, MOD_OPT_TOP_K,
};
int mod_cmd_train(struct mod_opts *o);

/* ---- data.c ---- */
struct mod_text {
	const uint8_t *bytes;
	size_t n;
	uint8_t *own;            /* the bytes of several files, copied, or NULL */
	struct ax_input in;      /* one file, mapped (owned by the training split) */
};
/* The default corpus: every plain file in dir without a .dat/.u8 suffix,
 * sorted by name. */
#define MOD_DEFAULT_CORPUS "/usr/share/games/fortunes"
/* Reads files (NULL/0 = the default corpus; "-" = stdin) and splits each
 * file into a training head and a held-out tail of val_frac of its bytes.
 * One file is mapped, not read (ax_input_map): each rank reads only the
 * windows it samples; several are copied into one buffer per split. val
 * borrows train's mapping: free val first or together. On failure returns
 * a status with detail. */
enum ax_status mod_text_load(char **files, int nfiles, double val_frac, struct mod_text *train,
			     struct mod_text *val);
void mod_text_free(struct mod_text *t);

/* ---- eval.c ---- */
extern const char *const mod_router_names[];
/* Mean loss (nats/byte) of text (its first max_bytes bytes) in windows of
 * S+1 bytes, S = min(ctx, n-1), that step by S and share one byte: window w
 * predicts bytes w*S+1 .. w*S+S, so each scored byte is scored once (the
 * last (n-1) mod S bytes are not scored). With the given router rule; routed_frac
 * (may be NULL) gets the fraction of routed-block decisions that selected
 * the token. t: an empty tape, e.g. the trainer's between steps; nothing is
 * recorded on it and it is reset after each batch of windows, so its arena's
 * chunks are reused. */
double mod_eval_text(struct ax_tape *t, const struct mod_model *m, const struct mod_text *text,
		     size_t max_bytes, enum mod_router router, uint64_t seed, double *routed_frac);
int mod_cmd_eval(struct mod_opts *o);

/* ---- sample.c: incremental inference with per-block KV caches ---- */
struct mod_infer;
struct mod_infer *mod_infer_new(const struct mod_model *m, enum mod_router router, uint64_t seed);
void mod_infer_free(struct mod_infer *s);
void mod_infer_reset(struct mod_infer *s);
/* Feeds one token at the next position; logits (256) of the next byte.
 * Routed-out tokens skip the block and add nothing to its cache. Returns
 * -1 when the context is full (call mod_infer_reset and re-feed). */
int mod_infer_step(struct mod_infer *s, int token, float *logits);
/* Routed-block visits and how many computed the block. */
void mod_infer_counts(const struct mod_infer *s, long *visits, long *computed);
int mod_cmd_sample(struct mod_opts *o);

#endif
