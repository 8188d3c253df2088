/* teb.h — teb-fit's pieces, one section per file:
 *   data.c    data sets, windows, the synthetic tasks; `teb-fit gen`
 *   model.c   the Y module and the transfer entropy bottleneck, settings,
 *             checkpoints
 *   eval.c    the TE estimate with its bootstrap interval; `teb-fit te`
 *   train.c   the training step and loop on lib's training run; `teb-fit train`
 *   main.c    the command line only
 *
 * Transfer entropy TE_{X->Y} = I(Y' ; X_past | Y_past), in nats per step:
 * what the source's past adds to predicting the target's future beyond the
 * target's own past (arXiv:2211.16607).
 */
#ifndef TEB_H
#define TEB_H

#include "axon.h"

#define TEB_KIND "teb-fit"

/* ---- data (data.c) ----
 * A data set is nseq sequences of T steps: source (nseq, T, dx) and target
 * (nseq, T, dy). A bundle may hold them as (T, d) or (T) (one sequence) or
 * (nseq, T, d). A window at step t of a sequence is the history
 * y[t-L+1..t], x[t-L+1..t] and the future y[t+1..t+H]. */
struct teb_data {
	int nseq, T, dx, dy;
	const float *source, *target;   /* (nseq, T, dx), (nseq, T, dy) */
	int32_t *group;             /* (nseq) labels for per-group TE, or NULL */
	double te_true;             /* metadata "te_true", NAN if absent */
	struct ax_bundle bundle;    /* holds source and target */
};
/* A bundle with arrays "source" and "target" (and optionally "group"),
 * mapped (ax_bundle_map): float32 arrays are used where they lie in the
 * file, others converted into float32 copies. Bad input (missing arrays,
 * rank or length mismatch, non-finite values) is AX_ERR_FORMAT/NOTFOUND
 * with a detail naming the file. */
enum ax_status teb_data_load(struct teb_data *d, const char *path);
/* The same from two NPY files. */
enum ax_status teb_data_load_npy(struct teb_data *d, const char *source, const char *target);
void teb_data_free(struct teb_data *d);
/* One bundle, or two NPY files (source, target). */
enum ax_status teb_data_open(struct teb_data *d, char **files, int nfiles);

/* Which windows a run sees: sequences [s0, s1) and steps [t0, t1) of each. */
struct teb_span {
	int s0, s1, t0, t1;
};
/* Training part (test = 0) or held-out part (test = 1): with several
 * sequences the last round(holdout * nseq) sequences are held out, with one
 * sequence its last round(holdout * T) steps. */
struct teb_span teb_split(const struct teb_data *d, double holdout, int test);
long teb_span_windows(const struct teb_span *s, int L, int H);
/* Window i of span s: yh (L*dy), xh (L*dx), yf (H*dy); returns its sequence. */
int teb_window(const struct teb_data *d, const struct teb_span *s, int L, int H, long i,
	       float *yh, float *xh, float *yf);

/* Synthetic tasks. Parameters of each, defaults in teb_task_defaults. */
enum teb_task { TEB_LINGAUSS, TEB_LINGAUSS_MULTI, TEB_LINGAUSS_AR, TEB_SINES, TEB_NTASKS };
extern const char *const teb_task_names[TEB_NTASKS + 1];
struct teb_task_params {
	enum teb_task task;
	double coupling, ar, noise;  /* c, a, s */
	double source_ar;            /* lingauss-ar: b */
	int dim;                     /* lingauss-multi: d */
	long length;                 /* lingauss*: steps; sines: sequences */
	double switch_prob;          /* sines */
	uint64_t seed;
};
void teb_task_defaults(struct teb_task_params *p, enum teb_task task);
/* Closed-form TE_{X->Y} in nats per step for a one-step horizon (NAN for
 * sines); derived in data.c's top comment and teb-fit(1). */
double teb_te_closed_form(const struct teb_task_params *p);
/* Generates the task into b (arrays "source", "target", sines also
 * "group"; metadata "teb.task", its parameters, "te_true"). */
void teb_generate(const struct teb_task_params *p, struct ax_bundle *b);
/* The lingauss-multi coupling pattern M (d, d): 1 on the diagonal, 0.5 at
 * (i, i+1 mod d). */
double teb_multi_pattern(int d, int i, int j);

/* ---- model (model.c) ---- */
struct teb_config {
	int L, H, dx, dy;          /* history, horizon, source and target dims */
	int latent, width;         /* K, hidden width of every MLP */
	int learned_var;           /* decoders' variance: learned or fixed */
	float fixed_var;           /* the fixed variance (paper: 0.1) */
	float beta, beta_y;        /* likelihood weights of TEB and the Y module */
};
struct teb_model {
	struct teb_config cfg;
	struct ax_arena arena;     /* parameters, gradients, optimiser state */
	struct ax_params py, px;   /* Y module; X module + TE decoder */
	struct ax_nn_mlp y_enc, y_dec, x_enc, te_dec;
};
/* Checks a config; a message on error, else NULL. */
const char *teb_config_check(const struct teb_config *c);
void teb_model_init(struct teb_model *m, const struct teb_config *c, uint64_t seed);
void teb_model_free(struct teb_model *m);
/* The model settings: one per field of struct teb_config, shared by the
 * flags and the checkpoint keys "teb.history", ... (ax_settings.h). */
extern const struct ax_setting teb_model_settings[];
extern const int teb_n_model_settings;
/* Parameters and model settings into a checkpoint being written. */
void teb_put_model(struct ax_bundle *b, const struct teb_model *m);
/* Opens a teb-fit checkpoint, checks its settings as the flags are checked,
 * loads config and weights (m initialised here); the bundle is kept in
 * *keep (or freed if keep is NULL). */
enum ax_status teb_load(const char *path, struct teb_model *m, struct ax_bundle *keep);
/* Copies the Y decoder's weights into the TE decoder (TEB then starts
 * exactly as the target-only model). */
void teb_copy_decoder(struct teb_model *m);

/* A batch of B windows: yh (B, L*dy), xh (B, L*dx), yf (B, H*dy). Under
 * several ranks a batch is one rank's shard: rows [first, first + B) of a
 * global batch of total rows (total 0: the batch is whole). The latent
 * noise is drawn for every row of the global batch and the shard's rows
 * kept, so a shard sees the values the whole batch would. */
struct teb_batch {
	int B, first, total;
	float *yh, *xh, *yf;
};
/* What one forward gives: both models' predictive means and log-variances
 * (B, H*dy), the likelihood and KL terms (one element each: NLL is the mean
 * 0.5*(logvar + err^2/var) per output element, KL summed over the latent,
 * mean over the batch) and the two losses
 *   loss_y  = beta_y * H*dy * nll_y  + kl_y
 *   loss_te = beta   * H*dy * nll_te + kl_te. */
struct teb_out {
	struct ax_tensor *mu_y, *lv_y, *mu_te, *lv_te;
	struct ax_tensor *nll_y, *nll_te, *kl_y, *kl_te, *loss_y, *loss_te;
};
/* noise draws the latent samples (reparameterisation). */
void teb_forward(struct ax_tape *t, const struct teb_model *m, const struct teb_batch *b,
		 struct ax_rng *noise, struct teb_out *o);

/* ---- the TE estimate (eval.c) ---- */
/* Per window: log d_TE(y'|z,c) - log d_Y(y'|c) summed over target dims and
 * averaged over the horizon (nats per step); squared errors of both. */
void teb_window_scores(const struct teb_config *c, const struct teb_batch *b,
		       const struct teb_out *o, double *te, double *se_y, double *se_te,
		       double *nll_y, double *nll_te);
struct teb_estimate {
	long n;                      /* windows */
	double te, lo, hi;           /* mean and bootstrap interval */
	double nll_y, nll_te, mse_y, mse_te;
};
/* Mean of v[n] with a percentile bootstrap interval at `level` (e.g. 0.95)
 * from `reps` resamples drawn from r. */
void teb_bootstrap(const double *v, long n, int reps, double level, struct ax_rng *r,
		   double *mean, double *lo, double *hi);
/* Scores every window of span s (batches of `batch`); group >= 0 keeps only
 * the sequences with that label. */
void teb_evaluate(const struct teb_model *m, const struct teb_data *d, const struct teb_span *s,
		  int group, int batch, int reps, double level, uint64_t seed,
		  struct teb_estimate *e);

/* ---- training (train.c) ---- */
enum teb_mode { TEB_JOINT, TEB_FROM_CONTEXT };
extern const char *const teb_mode_names[];
struct teb_train_opts {
	int mode;                  /* enum teb_mode */
	long steps;                /* per phase (from-context runs 2 * steps) */
	int batch;
	double lr, holdout;
	uint64_t seed;
};
/* Training settings (flags and checkpoint keys "teb.steps", ...). */
extern const struct ax_setting teb_train_settings[];
extern const int teb_n_train_settings;
struct teb_trainer {
	struct teb_train_opts o;
	const struct teb_data *d;
	struct teb_span span;      /* training windows */
	long nwin, step;
	struct teb_model m;
	struct ax_params all;      /* py then px: what ranks broadcast and reduce */
	struct ax_optim opt_y, opt_x;
	struct ax_rng data_rng, noise_rng;
	struct teb_batch b;
	struct ax_arena arena;     /* per step */
	struct ax_tape tape;
};
/* One logged training step: the loss optimised, both models' NLL per output
 * element (nats, with the constant), both KLs, both mean squared errors,
 * all over the global batch. */
struct teb_step_log {
	long step;
	double loss, nll_y, nll_te, kl_y, kl_te, mse_y, mse_te;
};
/* A new trainer (model initialised from o->seed) over d's training span;
 * under several ranks its batch is this rank's shard of o->batch windows
 * (at least one each: the caller checks o->batch against the rank count). */
void teb_trainer_init(struct teb_trainer *tr, const struct teb_train_opts *o,
		      const struct teb_config *c, const struct teb_data *d);
/* Optimisers, random streams and step into / from a checkpoint. */
void teb_trainer_put(const struct teb_trainer *tr, struct ax_bundle *b);
enum ax_status teb_trainer_get(struct teb_trainer *tr, const struct ax_bundle *b, long step);
void teb_trainer_free(struct teb_trainer *tr);
long teb_total_steps(const struct teb_train_opts *o);
void teb_train_step(struct teb_trainer *tr, struct teb_step_log *lg);

/* ---- the command line (main.c fills struct teb_opts in) ---- */
enum { TEB_SUB_GEN, TEB_SUB_TRAIN, TEB_SUB_TE };
enum {
	TEB_OPT_SETTING, TEB_OPT_VARIANCE, TEB_OPT_FROM_CONTEXT, TEB_OPT_BETA, TEB_OPT_BETA_Y,
	TEB_OPT_OUTPUT, TEB_OPT_MODEL, TEB_OPT_HOLDOUT, TEB_OPT_BOOT, TEB_OPT_LEVEL,
	TEB_OPT_COUPLING, TEB_OPT_AR, TEB_OPT_NOISE, TEB_OPT_SOURCE_AR, TEB_OPT_DIM,
	TEB_OPT_LENGTH, TEB_OPT_SWITCH,
};
struct teb_opts {
	struct ax_cli cli;               /* common options, operands */
	struct teb_config cfg;
	struct teb_train_opts tr;
	struct teb_task_params task;
	const char *output, *model;
	double holdout, level;
	int boot;
};
int teb_cmd_gen(struct teb_opts *o);
int teb_cmd_train(struct teb_opts *o);
int teb_cmd_te(struct teb_opts *o);

#endif
