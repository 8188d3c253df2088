/* poyo.h — poyo-train: spike tokenisation and a PerceiverIO decoder across
 * sessions with few-shot unit identification (POYO, arXiv:2310.16046).
 * Each section names the file that defines it:
 *   data.c     sessions: loading and checking a reach bundle; the split
 *   token.c    windows: spike tokens, latents and behaviour queries
 *   model.c    the model (encoder, processor, decoder)
 *   settings.c the model's and the training's settings; checkpoint config
 *   train.c    `poyo-train train` and `poyo-train finetune`
 *   eval.c     stitched R^2, `poyo-train eval`, `poyo-train baseline`
 *   main.c     the command line only
 */
#ifndef POYO_H
#define POYO_H

#include "axon.h"

#define POYO_KIND "poyo-train"
#define POYO_WINDOW 1.0     /* s, the context window */
#define POYO_STEPS 8        /* latent steps per window (every 0.125 s) */
#define POYO_TEST_FRAC 0.2  /* the last 20% of trials are the test split */

/* ---- sessions (data.c) ---- */
struct poyo_session {
	char *path, *name;          /* file, and its basename without extension */
	int U;                      /* units (metadata "units") */
	size_t K;                   /* spikes */
	const float *spike_t;       /* (K) s, non-decreasing */
	const int32_t *spike_u;     /* (K) in [0, U) */
	int S;                      /* behaviour samples */
	const float *hand_t;        /* (S) s, non-decreasing */
	const float *hand_vel;      /* (S, 2) */
	int M;                      /* trials */
	const float *trial_start, *trial_end;   /* (M) */
	int ntrain;                 /* trials [0, ntrain) train, [ntrain, M) test */
	float *weight;              /* (S) loss weight: POYO_REACH_W in reaches, else 1 */
	struct ax_bundle bundle;    /* holds the arrays (mapped: read-only) */
};
#define POYO_REACH_W 5.0f
/* Loads and validates (AX_ERR_FORMAT "FILE: what" on bad input). Free s
 * even on failure. */
enum ax_status poyo_session_load(struct poyo_session *s, const char *path);
void poyo_session_free(struct poyo_session *s);
enum ax_status poyo_sessions_load(char **paths, int n, struct poyo_session **out);
void poyo_sessions_free(struct poyo_session *s, int n);
/* Index of the first element of the sorted array x (n) that is >= v. */
size_t poyo_lower_bound(const float *x, size_t n, float v);

/* ---- windows and tokens (token.c) ---- */
/* One window: session (index into the loaded sessions), start time t0 (s),
 * and the trial whose behaviour samples it scores. */
struct poyo_window {
	int session;
	double t0;
	int trial;                  /* behaviour samples are taken inside this trial */
};
/* A batch of B windows as the model takes them. Tokens are, per window, in
 * time order: a start token per kept unit at 0, the kept units' spikes, an
 * end token per kept unit at 1 s; times relative to t0; padding to T with
 * pad = 1 (and unit 0, type 0, time 0). Queries: the behaviour samples of
 * the window's trial inside [t0, t0 + 1 s), padded to Q (qmask 0). */
enum { POYO_TOK_SPIKE, POYO_TOK_START, POYO_TOK_END };
struct poyo_batch {
	int B, T, Q;
	int32_t *unit, *type;       /* (B, T) global unit ids (offset + unit), types */
	float *time;                /* (B, T) */
	uint8_t *pad;               /* (B, T) */
	int32_t *session;           /* (B) */
	float *qtime;               /* (B, Q) */
	int32_t *qsample;           /* (B, Q) sample index in its session, -1 padding */
};
/* ss[i] is the model's session first + i; keep[b] (U of the window's
 * session) 1 for the units kept, or keep NULL for all; offsets (the
 * model's sessions) the first global unit id of each. Arrays in the tape's
 * arena (valid until the step's reset). */
void poyo_batch_make(struct ax_tape *t, const struct poyo_session *ss, int first,
		     const struct poyo_window *w, int B, const uint8_t *const *keep,
		     const int *offsets, struct poyo_batch *b);
/* The loss weight of a window's behaviour samples (s is its session). */
double poyo_window_weight(const struct poyo_session *s, const struct poyo_window *w);
/* Unit dropout: keep k ~ Triangular(U/2, U, U) units of U, chosen
 * uniformly; keep (U) 0/1. */
void poyo_unit_dropout(struct ax_rng *r, int U, uint8_t *keep);

/* ---- model (model.c) ---- */
struct poyo_config {
	int dim, depth, cross_heads, self_heads, latents;
	float dropout;
	double vel_scale;           /* targets are velocity / vel_scale */
	int nsessions;
	int *units;                 /* (nsessions) */
};
struct poyo_ffn {               /* pre-LN GEGLU: net.0 LN, net.1 (C, 8C), net.3 (4C, C) */
	struct ax_nn_layernorm ln;
	struct ax_nn_linear fc1, fc2;
};
struct poyo_attn {              /* pre-LN attention (norm on queries, context_norm on keys) */
	struct ax_nn_layernorm norm, context_norm;
	struct ax_nn_attention attn;
};
struct poyo_model {
	struct poyo_config cfg;
	struct ax_params params;
	struct ax_arena arena;      /* long-lived: params, grads, optimiser */
	int *offsets;               /* (nsessions) first global unit id */
	struct ax_nn_embedding unit_emb, session_emb, token_type_emb, latent_emb;
	struct poyo_attn enc_atn, dec_atn;
	struct poyo_ffn enc_ffn, dec_ffn;
	struct poyo_attn *proc_atn;
	struct poyo_ffn *proc_ffn;
	struct ax_nn_linear readout;
};
void poyo_model_init(struct poyo_model *m, const struct poyo_config *cfg, uint64_t seed);
void poyo_model_free(struct poyo_model *m);
/* A new session's rows [n0, rows) of a per-session table w (rows, C), as
 * poyo_model_init drew them (0.02 z, z standard normal), moved to the
 * pretrained rows [0, n0): their mean plus sd z, sd the rows' RMS distance
 * from that mean per value. */
void poyo_rows_like_pretrained(struct ax_tensor *w, int n0);
/* 1 for the per-session tables (unit_emb, session_emb). */
int poyo_param_is_embedding(const char *name);
/* The batch -> predicted (scaled) velocity (B, Q, 2). */
struct ax_tensor *poyo_forward(struct ax_tape *t, const struct poyo_model *m,
			       const struct poyo_batch *b, struct ax_rng *drop);

/* ---- settings and checkpoints (settings.c) ---- */
extern const struct ax_setting poyo_model_settings[];
extern const int poyo_n_model_settings;
const char *poyo_config_check(const struct poyo_config *c);
void poyo_put_config(struct ax_bundle *b, const struct poyo_config *c);
enum ax_status poyo_checkpoint_open(const char *path, struct ax_bundle *b,
				    struct poyo_config *c);
/* A trained model from a checkpoint; ck stays open for the caller (free
 * it); on failure nothing is left allocated. */
enum ax_status poyo_model_load(const char *path, struct poyo_model *m, struct ax_bundle *ck);
struct poyo_train_cfg {
	long steps;
	int batch, trials;          /* trials: training trials per session (0: all) */
	double lr, weight_decay, flat;
	int unit_id, full;          /* finetune: embeddings only; then everything */
	uint64_t seed;
};
extern const struct ax_setting poyo_train_settings[];
extern const int poyo_n_train_settings;

/* ---- evaluation (eval.c) ---- */
/* R^2 of pred against the session's velocity over the samples where
 * pred is finite: r2x, r2y and their mean; *n scored samples. */
void poyo_r2(const struct poyo_session *s, const float *pred, double *r2, double *r2x,
	     double *r2y, int *n);
/* Stitched predictions (S, 2) of the test trials: 1 s windows every 0.5 s
 * inside each trial (and one ending at its end), each sample the mean of
 * every window that holds it; NaN elsewhere. sidx: the model's session. */
void poyo_predict(const struct poyo_model *m, const struct poyo_session *s, int sidx,
		  float *pred);

/* ---- the command ---- */
enum { POYO_SUB_TRAIN, POYO_SUB_FINETUNE, POYO_SUB_EVAL, POYO_SUB_BASELINE };
struct poyo_opts {
	struct ax_cli cli;
	struct poyo_config model;
	struct poyo_train_cfg train;
	const char *model_path, *predict_out;
	int lags;                   /* baseline */
	double bin;
};
int poyo_cmd_train(struct poyo_opts *o);
int poyo_cmd_finetune(struct poyo_opts *o);
int poyo_cmd_eval(struct poyo_opts *o);
int poyo_cmd_baseline(struct poyo_opts *o);

#endif
