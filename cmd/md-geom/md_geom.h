/* md_geom.h — md-geom's pieces: the dual-space test statistic and weight
 * histograms (eval.c), the data of the paper's experiments (data.c), the
 * fine-tuned networks (model.c) and the training loops (train.c); main.c
 * is the CLI. The mirror-descent step itself is lib's (ax_optim.h). */
#ifndef MD_GEOM_H
#define MD_GEOM_H

#include "axon.h"

/* ---- the statistic (eval.c) ----
 * For a candidate potential phi, Delta = grad phi(W1) - grad phi(W0) over
 * the weights phi can take, standardised (mean 0, population std 1); the
 * distance is the trapezoid integral of |F_emp(x) - Phi(x)| over MDG_GRID
 * evenly spaced points of [-MDG_XMAX, MDG_XMAX] (numpy.linspace's points),
 * F_emp(x) the fraction of standardised values <= x, Phi the standard
 * normal CDF. rel_change = ||Delta|| / ||grad phi(W0)||. */
#define MDG_GRID 1000
#define MDG_XMAX 5.0
#define MDG_MAX_CANDIDATES 256

/* Two snapshots of the same weights, flattened, in double; log |w| is
 * computed once for every candidate. */
struct mdg_pair {
	size_t n;
	double *w0, *w1;        /* (n), owned */
	double *l0, *l1;        /* log |w| (-inf at 0) */
	double *delta;          /* scratch (n) */
};
/* Takes ownership of w0 and w1 (malloc'd, n each). */
void mdg_pair_init(struct mdg_pair *pr, size_t n, double *w0, double *w1);
void mdg_pair_free(struct mdg_pair *pr);

struct mdg_score {
	double distance;        /* NAN when fewer than 2 valid weights or no spread */
	double rel_change;
	size_t invalid;         /* weights phi cannot take (negentropy: zero in W0 or
				   W1, or a sign change), left out and counted */
};
void mdg_score(const struct mdg_pair *pr, struct ax_potential pot, struct mdg_score *out);
/* The distance of n values (standardised here; x is not changed). */
double mdg_cdf_distance(const double *x, size_t n);
/* negentropy, p1.1, p1.2, ..., p3: returns the count (21). */
int mdg_default_candidates(struct ax_potential *c);
/* Comma-separated potential names; AX_ERR_ARG naming the bad one. */
enum ax_status mdg_parse_candidates(const char *list, struct ax_potential *c, int *n);
/* Index of the smallest finite distance; -1 if there is none. */
int mdg_best(const struct mdg_score *s, int n);

/* Histogram of n values in `bins` equal bins over [min, max] (counts
 * zeroed here; *lo, *hi the range). */
void mdg_histogram(const double *x, size_t n, int bins, double *lo, double *hi, long *counts);

/* ---- weight files (score.c) ---- */
/* The next array of an NPY stream as n doubles (*w malloc'd): float32 or
 * float64, at least one element, all finite (AX_ERR_FORMAT naming the
 * stream, the array's index and the weight otherwise). AX_ERR_EOF at a
 * clean end. */
enum ax_status mdg_read_weights(struct ax_reader *r, int index, double **w, size_t *n);
/* Scores W0 against W1 for each candidate: CSV rows on out (header first,
 * "potential,distance,rel_change", with a leading "tensor" column when
 * per_tensor), one line per inferred geometry and per candidate with left-
 * out weights on err. Without per_tensor every array of each stream is
 * one flat vector; err NULL says nothing. AX_ERR_FORMAT when the sizes or
 * array counts differ. */
struct mdg_score_job {
	const char *w0, *w1;      /* paths, "-" stdin (not both) */
	const struct ax_potential *cand;
	int ncand, per_tensor;
};
enum ax_status mdg_score_files(const struct mdg_score_job *job, FILE *out, FILE *err);
/* Writes n weights as a float32 NPY array to dir/name atomically. */
enum ax_status mdg_save_weights(const char *dir, const char *name, const float *w, size_t n);
/* Writes histogram rows "lo,hi,count,density" of the weights in path (all
 * arrays of the stream) or, with log_abs, of log10 |w| (zeros counted and
 * reported on err, which may be NULL). */
enum ax_status mdg_hist_file(const char *path, int bins, int log_abs, FILE *out, FILE *err);

/* ---- data (data.c) ---- */
/* Rows of N(0, C), C_ij = (-1)^|i-j| / (1 + |i-j|)^q, by circulant
 * embedding: C sits in a circulant matrix of size M (a power of two >=
 * 2(D-1)) whose eigenvalues (an FFT of its first row) are all positive for
 * q = 1, 2; one complex FFT of sqrt(eigenvalue / M)-weighted complex noise
 * gives two independent rows. x (n, D). AX_ERR_NUMERIC if an eigenvalue is
 * negative (other q). */
enum ax_status mdg_corr_rows(int D, double q, int n, struct ax_rng *r, float *x);
/* In-place complex FFT, M a power of two: X_k = sum_j x_j exp(-2 pi i jk/M),
 * with tw (M) the table mdg_fft_table fills: exp(-2 pi i k/M), k < M/2. */
void mdg_fft_table(int M, double *tw);
void mdg_fft(int M, const double *tw, double *re, double *im);

/* The paper's regression task: X = rows of N(0, C) + U(-0.5, 0.5), labels
 * +-1 (fair coins), each from its own stream of seed. */
struct mdg_regress {
	int D, N;
	float *X;               /* (N, D) */
	float *y;               /* (N) */
};
enum ax_status mdg_regress_make(struct mdg_regress *t, int D, int N, double q, uint64_t seed);
void mdg_regress_free(struct mdg_regress *t);

/* The robustness experiment: W0 Gaussian N(0, 1/D) or log-normal
 * (log |w| ~ N(log(1/sqrt(D)), sigma^2), random signs), and
 *   grad phi(W1) = grad phi(W0) + scale * |grad phi(1/sqrt(D))| * xi,
 * xi ~ N(0, 1), for the true potential pot. */
enum mdg_init { MDG_INIT_GAUSS, MDG_INIT_LOGNORMAL };
struct mdg_synth {
	enum mdg_init init;
	int D;
	double scale, sigma;    /* 0.1, 1 */
};
void mdg_synth(const struct mdg_synth *s, struct ax_potential pot, uint64_t seed, float *w0,
	       float *w1);

#define MDG_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
/* Fashion-MNIST from its IDX files (gzip or not) in dir: the first max_n
 * images of the training or t10k split, pixels / 255. */
struct mdg_images {
	int n;
	float *x;               /* (n, 784) */
	int32_t *y;             /* (n) 0..9 */
};
enum ax_status mdg_images_load(const char *dir, int train, int max_n, struct mdg_images *im);
void mdg_images_free(struct mdg_images *im);

/* ---- networks for fine-tuning (model.c) ---- */
enum mdg_net { MDG_NET_MLP, MDG_NET_GRU };
extern const char *const mdg_net_names[];
struct mdg_model {
	enum mdg_net kind;
	int hidden;
	struct ax_arena arena;  /* long-lived: parameters, gradients, optimiser */
	struct ax_params params;
	struct ax_nn_mlp mlp;   /* MLP: 784 -> hidden -> hidden -> 10, ReLU */
	struct ax_nn_gru gru;   /* GRU: 28 rows of 28 pixels -> hidden */
	struct ax_nn_linear head; /* GRU: last hidden state -> 10 */
};
void mdg_model_init(struct mdg_model *m, enum mdg_net kind, int hidden, uint64_t seed);
void mdg_model_free(struct mdg_model *m);
/* x (B, 784) -> logits (B, 10). */
struct ax_tensor *mdg_forward(struct ax_tape *t, const struct mdg_model *m, struct ax_tensor *x);
/* 1 for the parameters written as W0/W1 (weight matrices; not biases). */
int mdg_is_weight(const struct ax_tensor *p);

/* ---- training (train.c) ---- */
/* Mirror descent of the paper: momentum 0.9, cosine schedule from lr to 0
 * over `steps` full-batch steps. */
struct mdg_md {
	struct ax_potential pot;
	int steps;
	float lr, momentum;
};
/* Learning rates of the search: 10^(-7 + 0.4 i), i < MDG_NLR for the
 * regression (the paper's logspace(-7, -1, 16)); fine-tuning goes on to 10
 * (i < MDG_NLR_FT), as multiplicative steps on small weights need more. */
#define MDG_NLR 16
#define MDG_NLR_FT 21
double mdg_lr_grid(int i);
/* Linear regression, MSE (1/N) sum (x.w - y)^2 without bias, from w
 * (D, in: w0, out: w1). loss (steps + 1) receives the loss before each step
 * and at the end. AX_ERR_NUMERIC if the loss stops being finite or grows a
 * millionfold (MDG_BLOWUP; a diverging rate of the search). */
enum ax_status mdg_regress_train(const struct mdg_regress *t, const struct mdg_md *md, float *w,
				 float *loss);
/* md-geom train: the learning-rate search (lr 0) or the given rate, then
 * the run on lib's training run (CSV step,loss,lr on stdout), then
 * out_dir/w0.npy and w1.npy (where the run stopped). *code: its exit
 * status; AX_ERR_* for bad settings (ARG), divergence at every rate
 * (NUMERIC), a failed write (IO). */
struct mdg_train_cfg {
	struct ax_potential pot;
	int D, N, steps;
	double q, lr, momentum, target;
	const char *out_dir;
};
enum ax_status mdg_regress_run(const struct mdg_train_cfg *cfg, const struct ax_common *c,
			       int *code);

/* Tries the first nlr rates of the grid from the largest down; run(ctx, lr)
 * returns the final loss (NAN if it diverged). Returns the index of the
 * first rate whose loss is below target, else the one with the lowest
 * loss, -1 if every run diverged; *loss is its loss, *met 1 if it is below
 * target. Runs are deterministic, so the caller can repeat the chosen one. */
int mdg_lr_search(double (*run)(void *ctx, float lr), void *ctx, int nlr, double target,
		  double *loss, int *met);

/* Fine-tuning: pretraining with SGD (momentum 0.9, cosine schedule) on
 * minibatches of the first pre_n training images, then full-batch mirror
 * descent on the first ft_n t10k images. */
struct mdg_finetune {
	enum mdg_net net;
	int hidden, pre_n, pre_steps, batch, ft_n;
	float pre_lr;
	uint64_t seed;
};
struct mdg_ft_state {
	struct mdg_model model;
	struct mdg_images pre, ft;
	float **w0;                /* pretrained values of every parameter */
	struct ax_optim opt;       /* fine-tuning: AX_OPTIM_MD */
	struct ax_arena step;
	struct ax_tape tape;
};
/* Loads the images (AX_ERR_* from the IDX reader), builds the model. */
enum ax_status mdg_ft_begin(struct mdg_ft_state *s, const struct mdg_finetune *cfg,
			    const char *data_dir);
void mdg_ft_end(struct mdg_ft_state *s);
/* Pretrains and snapshots the weights in s->w0; returns the last loss. */
double mdg_pretrain(struct mdg_ft_state *s, const struct mdg_finetune *cfg);
/* Mean cross-entropy of the current weights on all of im; *acc (may be
 * NULL) the accuracy. */
double mdg_ft_loss(struct mdg_ft_state *s, const struct mdg_images *im, double *acc);
/* Fine-tunes from the snapshot with md; loss (md->steps + 1) as in
 * mdg_regress_train. Returns the final loss (NAN if it diverged). */
double mdg_ft_run(struct mdg_ft_state *s, const struct mdg_md *md, float *loss);

/* md-geom finetune: pretraining, the search (md->lr 0) with target on the
 * fine-tuning loss, the run, then out_dir/w0.npy and w1.npy, NPY streams of
 * the weight matrices in registration order. As mdg_regress_run. */
enum ax_status mdg_finetune_run(const struct mdg_finetune *cfg, const struct mdg_md *md,
				double target, const char *data_dir, const char *out_dir,
				const struct ax_common *c, int *code);

#endif
