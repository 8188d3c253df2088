/* mtm.h — mtm-train: multi-task masking (MtM, arXiv:2407.14668) for
 * population spiking data. Each section names the file that defines it:
 *   data.c    sessions: loading and checking a bundle
 *   mask.c    the masking schemes
 *   model.c   the NDT1-style model
 *   settings.c the model's and the training's settings; checkpoint config
 *   eval.c    the metrics; `mtm-train eval`
 *   train.c   the training loop on lib's training run; `mtm-train train`
 *   main.c    the command line only
 */
#ifndef MTM_H
#define MTM_H

#include "axon.h"

/* Masking schemes. The first four are MtM's tasks, each with its own
 * prompt token; temporal is the single-task baseline (its own prompt). */
enum mtm_scheme { MTM_NEURON, MTM_CAUSAL, MTM_INTRA, MTM_INTER, MTM_TEMPORAL, MTM_NSCHEMES };
extern const char *const mtm_scheme_names[MTM_NSCHEMES + 1];
#define MTM_MASK_MTM MTM_NSCHEMES /* --mask mtm: one of the four per batch */

/* ---- sessions (data.c) ---- */
struct mtm_session {
	char *path, *name;          /* file, and its basename without extension */
	int trials, T, N;
	const float *counts;        /* (trials, T, N) spike counts */
	const float *rates;         /* (trials, T, N) true rates or NULL */
	int32_t *region;            /* (N) region index 0..nregions-1 */
	int nregions;
	int32_t *choice;            /* (trials) 0/1 or NULL */
	const float *wheel;         /* (trials, T) or NULL */
	int32_t *train, *test;      /* trial indices of the two splits */
	int ntrain, ntest;
	float *mean_count;          /* (N) over training trials */
	struct ax_bundle bundle;    /* mapped (ax_bundle_map): counts, rates, wheel */
};
/* Maps and validates a session bundle; bad input is AX_ERR_FORMAT (or the
 * reader's status) with "FILE: what". Free s even on failure. */
enum ax_status mtm_session_load(struct mtm_session *s, const char *path);
void mtm_session_free(struct mtm_session *s);

/* ---- masking (mask.c) ----
 * One trial's masks for scheme s over (T, N): keep[t*N+n] 1 where the input
 * count is kept, 0 where it is zeroed; target 1 where the loss is counted.
 *   neuron    neurons masked with p 0.3 (whole rows of time); targets = them
 *   temporal  time bins masked with p 0.3 (all neurons); targets = them
 *   causal    time bins masked with p 0.6; targets = them (the model adds
 *             a causal attention mask)
 *   inter     every neuron of one random region; targets = that region
 *   intra     every neuron outside a random target region zeroed; inside
 *             it neurons masked with p 0.3; targets = those neurons only
 * At least one target is always drawn (one random eligible neuron or bin
 * is forced when the coin flips left none). Returns the number of targets. */
int mtm_mask_draw(enum mtm_scheme s, struct ax_rng *r, int T, int N, const int32_t *region,
		  int nregions, float *keep, float *target);
/* The causal scheme with --forward-window W: the last W bins (of T) masked,
 * all neurons, and nothing else; they are the targets. Returns W * N. */
int mtm_mask_forward(int T, int N, int window, float *keep, float *target);

/* ---- model (model.c) ---- */
struct mtm_config {
	int D, layers, heads, hidden, T;
	float dropout;
	int nsessions;
	int *neurons;               /* (nsessions) */
};
struct mtm_model {
	struct mtm_config cfg;
	struct ax_params params;
	struct ax_arena arena;      /* long-lived: params, grads, optimiser */
	struct ax_nn_linear *stitch, *readout;   /* per session */
	struct ax_nn_mlp embed;     /* Linear -> softsign -> Linear */
	struct ax_tensor *pos;      /* (T, D) */
	struct ax_nn_embedding prompt, session;
	struct ax_nn_block *blocks;
	struct ax_nn_layernorm ln_f;
	uint8_t *causal_mask;       /* (T+2, T+2) */
};
/* settings.c: the model settings ("mtm.dim", ...; ax_settings.h), shared by
 * the flags and the checkpoint; the neurons per session are the list
 * "mtm.neurons". */
extern const struct ax_setting mtm_model_settings[];
extern const int mtm_n_model_settings;
/* What single ranges cannot say (dim a multiple of heads); NULL if fine. */
const char *mtm_config_check(const struct mtm_config *c);
/* Checkpoints: the model's settings and neuron list into b; back from b
 * (c->neurons malloc'd), range-checked as the flags are. */
void mtm_put_config(struct ax_bundle *b, const struct mtm_config *c);
enum ax_status mtm_get_config(const struct ax_bundle *b, struct mtm_config *c);
/* Parameters are registered core first (shared across sessions), then the
 * per-session stitchers, session embeddings and read-outs. */
void mtm_model_init(struct mtm_model *m, const struct mtm_config *cfg, uint64_t seed);
void mtm_model_free(struct mtm_model *m);
/* 1 if the parameter is per-session (not copied by --init). */
int mtm_param_is_session(const char *name);
/* x (B, T, N_s) masked counts -> log rates (B, T, N_s). The prompt token
 * is `prompt`'s embedding; the causal prompt also switches on the causal
 * attention mask. features, if not NULL, receives the encoder output
 * (B, T, D) after the final LayerNorm. */
struct ax_tensor *mtm_forward(struct ax_tape *t, const struct mtm_model *m, int session,
			      struct ax_tensor *x, enum mtm_scheme prompt, struct ax_rng *drop,
			      struct ax_tensor **features);

/* ---- evaluation (eval.c) ---- */
enum mtm_metric { MET_COSMOOTH, MET_FORWARD, MET_INTER, MET_INTRA, MET_CHOICE, MET_WHEEL,
		  MET_N };
extern const char *const mtm_metric_names[MET_N];
struct mtm_eval_result {
	double value[MET_N], oracle[MET_N];   /* NAN where not available */
};
/* All metrics on one session's test trials (behaviour: 5-fold CV over all
 * trials). trained is the scheme the model was trained with (MTM_MASK_MTM
 * for MtM): it decides the prompts (an MtM model's forward prediction
 * uses forward_prompt, MTM_CAUSAL by default). predict, if not NULL, receives the
 * co-smoothing rates (ntest, T, N). */
void mtm_evaluate(const struct mtm_model *m, int sidx, const struct mtm_session *s, int trained,
		  enum mtm_scheme forward_prompt, struct mtm_eval_result *res, float *predict);
/* Per-neuron bits/spike averaged over neurons with spikes: entries
 * (trials in idx, bins [t0, t1)) of counts vs pred. pred is (nidx, T, N)
 * when pred_by_idx, else laid out like counts (all trials). */
double mtm_mean_bps(const struct mtm_session *s, const int32_t *idx, int nidx, int t0, int t1,
		    const float *pred, int pred_by_idx);

/* ---- the command (main.c, train.c, eval.c) ---- */
extern const char *const mtm_mask_names[];
/* Training settings ("mtm.steps", ...; settings.c), also fixed by a checkpoint. */
struct mtm_train_cfg {
	int mask;                   /* enum mtm_scheme or MTM_MASK_MTM */
	long steps;
	int batch;
	double lr, weight_decay, warmup;
	uint64_t seed;
	double causal_share;        /* MtM: probability of the causal scheme (0.25) */
	int forward_window;         /* causal scheme: the last W bins (0: bins p 0.6) */
};
extern const struct ax_setting mtm_train_settings[];
extern const int mtm_n_train_settings;
/* settings.c: the training settings from a checkpoint; the causal share and
 * forward window, added later, take their defaults where absent. */
enum ax_status mtm_get_train_settings(const struct ax_bundle *b, struct mtm_train_cfg *c);
struct mtm_opts {
	struct ax_cli cli;          /* common options (checkpoint, run, seed), SESSION files */
	struct mtm_config model;    /* --dim ... (hidden 0: 2 * dim) */
	struct mtm_train_cfg train;
	const char *init, *predict_out;
	enum mtm_scheme forward_prompt;   /* eval --forward-prompt */
};
enum { MTM_SUB_TRAIN, MTM_SUB_EVAL };
/* data.c: n sessions from files into *out (all with the same bins); on
 * failure none is left allocated. */
enum ax_status mtm_sessions_load(char **paths, int n, struct mtm_session **out);
void mtm_sessions_free(struct mtm_session *s, int n);
/* data.c: the sessions match the model's stitchers one to one, in order
 * (at most nsessions of them). */
enum ax_status mtm_sessions_fit(const struct mtm_config *c, const struct mtm_session *s, int n,
				const char *ckpt);
/* settings.c: an mtm-train checkpoint opened and its model config read. */
enum ax_status mtm_checkpoint_open(const char *path, struct ax_bundle *b, struct mtm_config *c);
int mtm_cmd_train(struct mtm_opts *o);
int mtm_cmd_eval(struct mtm_opts *o);

#endif
