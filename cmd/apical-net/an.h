/* an.h — apical-net's pieces: Fashion-MNIST data with the blend and temporal
 * tasks (data.c), the apical model and its controls (model.c), accuracy per
 * context condition (eval.c), layer-wise relevance propagation and
 * silencing (lrp.c), the training loop (train.c); main.c is the CLI. */
#ifndef AN_H
#define AN_H

#include "axon.h"

enum { AN_CLASSES = 10, AN_PIXELS = 784, AN_NPAIRS = 4, AN_MAX_LAYERS = 4,
       AN_MAX_CHANNELS = 1024 };

/* --model: apical gain, point-neuron (context added to the basal drive),
 * context concatenated to the input, no context. */
enum an_kind { AN_APICAL, AN_POINT, AN_CONCAT, AN_NOCTX, AN_NKINDS };
extern const char *const an_kind_names[AN_NKINDS + 1];
/* --task */
enum an_task { AN_BLEND, AN_TEMPORAL, AN_NTASKS };
extern const char *const an_task_names[AN_NTASKS + 1];
/* --basal: the feedforward pathway below the hidden layers: the image as
 * it is, or two conv-ReLU-maxpool stages (model.c). */
enum an_basal { AN_BASAL_MLP, AN_BASAL_CONV, AN_NBASALS };
extern const char *const an_basal_names[AN_NBASALS + 1];
/* Context conditions: the true class, the other class of the pair, a class
 * outside the pair, no context. */
enum an_cond { AN_RELEVANT, AN_OPPOSING, AN_IRRELEVANT, AN_NONE, AN_NCONDS };
extern const char *const an_cond_names[AN_NCONDS + 1];
/* The confusable pairs: T-shirt/Shirt, Pullover/Coat, Pullover/Shirt,
 * Sneaker/Ankle boot; names "0/6", "2/4", "2/6", "7/9". */
extern const int an_pairs[AN_NPAIRS][2];
extern const char *const an_pair_names[AN_NPAIRS + 1];

/* ---- data (data.c) ---- */
struct an_data {
	int n;
	uint8_t *x;                 /* (n, 784) pixels 0..255, read as v / 255 */
	int32_t *y;                 /* (n) class 0..9 */
	int32_t *idx[AN_CLASSES];   /* image indices of each class */
	int count[AN_CLASSES];
};
/* The IDX pair <split>-images-idx3-ubyte.gz / <split>-labels-idx1-ubyte.gz
 * under dir (split "train" or "t10k"); limit > 0 keeps the first limit
 * images. Every class must be present. */
enum ax_status an_data_load(struct an_data *d, const char *dir, const char *split, int limit);
/* Takes ownership of x and y (malloc'd) and builds the class indices. */
enum ax_status an_data_from(struct an_data *d, uint8_t *x, int32_t *y, int n);
/* Image i as floats in [0, 1], into out (784). */
void an_image(const struct an_data *d, int i, float *out);
void an_data_free(struct an_data *d);

/* A pair selection: bit p set = an_pairs[p] in use. Parses "all" or a
 * comma list of pair names; AX_ERR_ARG with a detail otherwise. */
enum ax_status an_pairs_parse(const char *s, unsigned *mask);

/* One example's recipe. The image is alpha * x(label) + (1 - alpha) *
 * x(other); a clean image has alpha 1 (other still names the pair's other
 * class when pair >= 0; pair -1: a clean image of any class). ctx is the
 * cued class, -1 for none. */
struct an_example {
	int pair, label, other, ctx;
	float alpha;
};
/* Class shown as context under a condition (-1 for none); irrelevant draws
 * uniformly among the 8 classes outside the pair. */
int an_context_class(enum an_cond c, int label, int other, struct ax_rng *r);
/* A blend from pair p with the label side drawn uniformly; condition c. */
struct an_example an_example_blend(int p, float alpha, enum an_cond c, struct ax_rng *r);
/* The image of e into x (784): one random image of each class from d.
 * an_render = an_draw_images, then an_blend. */
void an_render(const struct an_data *d, const struct an_example *e, struct ax_rng *r, float *x);
/* The rows of d that e's image blends: one random image of each class. */
struct an_images {
	int label, other;
};
struct an_images an_draw_images(const struct an_data *d, const struct an_example *e,
				struct ax_rng *r);
void an_blend(const struct an_data *d, const struct an_example *e, struct an_images im, float *x);

/* Training mixture (both tasks): with probability p_blend a blend from a
 * random selected pair with alpha ~ U[alpha_lo, alpha_hi], else a clean
 * image of any class; the cue is the label with probability p_context, a
 * wrong class (uniform among the other 9) with probability p_wrong, else
 * none. With clean_cue AN_CUE_RANDOM the clean images are instead images
 * of a random selected pair (alpha 1) whose cue, present with probability
 * p_context + p_wrong, is the label, the pair's other class or a class
 * outside the pair with equal probability: the cue tells which of two
 * superimposed images is meant, and a clean image has nothing to disclose.
 * The label is always the image's (the blend's alpha side). */
enum an_clean_cue { AN_CUE_LABEL, AN_CUE_RANDOM, AN_NCLEANCUES };
extern const char *const an_clean_cue_names[AN_NCLEANCUES + 1];
struct an_mix {
	unsigned pairs;
	float alpha_lo, alpha_hi, p_blend, p_context, p_wrong;
	enum an_clean_cue clean_cue;
};
struct an_example an_example_train(const struct an_mix *mix, struct ax_rng *r);

/* Temporal sequences of T = delay_max + 3 frames (784 each):
 *   [blank x (delay_max - delay), x(l1), x(l2), blank x delay, target]
 * with (l1 + l2) mod 10 = e->ctx, l1 uniform; for no context (ctx -1) the
 * two context frames are blank too. The target frame is e's image, drawn
 * first (the same images whatever the condition). */
void an_render_sequence(const struct an_data *d, const struct an_example *e, int delay,
			int delay_max, struct ax_rng *r, float *frames);

/* ---- model (model.c) ---- */
struct an_config {
	enum an_kind kind;
	enum an_task task;
	enum an_basal basal;
	int channels[2];            /* conv: channels of the two stages */
	int layers, hidden;         /* hidden layers (>= 1) and their width */
	int ctx_hidden;             /* temporal: encoder and GRU width */
	int delay_max;              /* temporal: frames = delay_max + 3 */
};
struct an_layer {
	struct ax_nn_linear basal;  /* (H, in) + bias */
	struct ax_nn_linear apical; /* apical: (H, C) + bias; point: (H, C), no bias */
};
struct an_model {
	struct an_config cfg;
	struct ax_tensor *conv_w[2], *conv_b[2]; /* conv: (C_s, C_{s-1}, 3, 3), (C_s) */
	int ctx_dim;                /* C = 10: a one-hot cue or the context network's belief */
	struct ax_params params;
	struct ax_arena arena;      /* long-lived: params, grads, optimiser */
	struct an_layer layer[AN_MAX_LAYERS];
	struct ax_nn_linear out;
	struct ax_nn_linear encoder;  /* temporal: frame -> ctx_hidden, ReLU */
	struct ax_nn_gru gru;         /* temporal: the recurrent context network */
	struct ax_nn_linear head;     /* temporal: GRU state -> cue logits */
};
void an_model_init(struct an_model *m, const struct an_config *cfg, uint64_t seed);
void an_model_free(struct an_model *m);
static inline int an_frames(const struct an_config *c) { return c->delay_max + 3; }
/* The side of the conv pathway's output maps, and the features the first
 * hidden layer sees: 784 pixels, or channels[1] maps of 7 x 7. */
enum { AN_SIDE = 28, AN_CONV_SIDE = AN_SIDE / 4 };
static inline int an_feature_dim(const struct an_config *c)
{
	return c->basal == AN_BASAL_CONV ? c->channels[1] * AN_CONV_SIDE * AN_CONV_SIDE : AN_PIXELS;
}
/* Features (B, an_feature_dim) of images x (B, 784): x itself, or the conv
 * pathway's output maps, flattened. */
struct ax_tensor *an_features(struct ax_tape *t, const struct an_model *m, struct ax_tensor *x);
/* The gain unit: relu(b) * 2 sigmoid(a). */
struct ax_tensor *an_gain_unit(struct ax_tape *t, struct ax_tensor *b, struct ax_tensor *a);
/* The context vector (B, 10): blend: cue is the one-hot (B, 10) returned
 * as is; temporal: cue is (B, T, 784) frames, of which the first T - 1 run
 * through the bottom-up sweep, the encoder, the GRU and the head. */
struct ax_tensor *an_context(struct ax_tape *t, const struct an_model *m, struct ax_tensor *cue);
/* Logits (B, 10) for images x (B, 784) and context c (B, C) (ignored by
 * the none model). keep (layers * hidden, 0 or 1) silences units, or NULL. */
struct ax_tensor *an_forward(struct ax_tape *t, const struct an_model *m, struct ax_tensor *x,
			     struct ax_tensor *c, const float *keep);

/* ---- a batch of examples as model inputs (eval.c) ---- */
struct an_batch {
	int B;
	float *x;      /* (B, 784) the image (temporal: the target frame) */
	float *cue;    /* blend: (B, 10) one-hot or zeros; temporal: (B, T, 784) */
	int32_t *y;
	struct an_example *ex;     /* (B) blend: each row's recipe */
	struct an_images *images;  /* (B) and its images, for an_batch_render */
};
void an_batch_alloc(struct an_batch *b, const struct an_config *c, int B);
/* Floats of one example's cue: 10 (blend) or T * 784 (temporal). */
size_t an_cue_size(const struct an_config *c);
void an_batch_free(struct an_batch *b);
/* Row i of b from example e (temporal: with the given delay). A blend row's
 * cue, label and image rows are set here, its pixels by an_batch_render. */
void an_batch_set(struct an_batch *b, const struct an_config *c, const struct an_data *d, int i,
		  const struct an_example *e, int delay, struct ax_rng *r);
/* The pixels of every blend row an_batch_set recorded, in parallel: a batch
 * reads random rows of the whole image set and waits on memory. Call it
 * once the rows are set; temporal rows need nothing more. */
void an_batch_render(struct an_batch *b, const struct an_config *c, const struct an_data *d);
/* How many rows of logits (B, 10) have their largest entry at y. */
int an_count_correct(const float *logits, const int32_t *y, int B);
/* Logits of a filled batch (no gradient), into logits (B, 10). */
void an_predict(const struct an_model *m, const struct an_batch *b, const float *keep,
		float *logits);

/* ---- evaluation (eval.c) ---- */
/* Accuracy of n examples of pairs `pairs` at alpha under condition c
 * (temporal: at delay). The images drawn depend only on seed, so every
 * condition and alpha sees the same image pairs. */
double an_accuracy(const struct an_model *m, const struct an_data *d, unsigned pairs,
		   enum an_cond c, float alpha, int delay, int n, uint64_t seed, const float *keep);

/* ---- relevance (lrp.c) ---- */
/* Epsilon rule through one linear layer z = W in + rest (rest: bias and any
 * other input's share): R_in[i] += sum_j in[i] W[j,i] R[j] / (z[j] + eps sgn z[j]).
 * W (n_out, n_in) row-major; z the full pre-activation (n_out). */
void an_lrp_linear(int n_in, int n_out, const float *W, const float *in, const float *z,
		   const float *R, float eps, float *R_in);
/* One example through the model in plain C, keeping what relevance needs,
 * then relevance of every hidden unit (layers * hidden) for logit k, and of
 * the input pixels (784) if R_x is not NULL. c (C) may be NULL (no context).
 * Blend task only. Returns logit k. */
struct an_lrp_work;
struct an_lrp_work *an_lrp_work_new(const struct an_model *m);
void an_lrp_work_free(struct an_lrp_work *w);
float an_lrp(const struct an_model *m, struct an_lrp_work *w, const float *x, const float *c,
	     int k, float eps, float *R_hidden, float *R_x);
/* The plain-C logits of the last an_lrp call (10). */
const float *an_lrp_logits(const struct an_lrp_work *w);

/* Relevance of each hidden unit to the overlap of pair p: the mean over n
 * ambiguous blends (alpha 0.5, no context) of the relevance for the two
 * pair classes' logits, averaged. out (layers * hidden). */
void an_overlap_relevance(const struct an_model *m, const struct an_data *d, int p, int n,
			  uint64_t seed, float eps, float *out);
/* The top-down signal each hidden unit receives for pair p: how differently
 * the two pair classes' cues drive it, |g(e_p) - g(e_q)| for the apical gain,
 * |W_a (e_p - e_q)| for the point model's additive drive. out (layers *
 * hidden). Blend task, apical or point model. */
void an_apical_signal(const struct an_model *m, int p, float *out);
/* Mean relevance of each hidden unit per class over n clean images of the
 * class without context: out (layers, 10, hidden). */
void an_class_relevance(const struct an_model *m, const struct an_data *d, int n, uint64_t seed,
			float eps, float *out);
/* Pearson correlation of x and y (n); NAN if either is constant. */
double an_pearson(const float *x, const float *y, int n);
/* keep (units) with the k units of largest score set to 0, others 1. */
void an_keep_top(const float *score, int units, int k, float *keep);
/* keep with k units drawn uniformly without replacement set to 0. */
void an_keep_random(int units, int k, struct ax_rng *r, float *keep);

/* ---- settings, checkpoint, training (train.c) ---- */
/* Everything a checkpoint fixes: the model and the training schedule. */
struct an_settings {
	struct an_config cfg;
	long steps, pretrain;       /* all steps; of them, the first without cues */
	int batch;
	double lr;                  /* peak; cosine decay to 0 over steps */
	struct an_mix mix;          /* mix.pairs is stored as "an.pairs" */
	int limit;                  /* training images used (0: all) */
	int init;                   /* the feedforward pathway came from --init: every
				     * step is a top-down step */
};
extern const struct ax_setting an_settings_table[];
extern const int an_nsettings;
void an_settings_default(struct an_settings *s);
/* Settings that constrain each other (alpha range, cue probabilities). */
enum ax_status an_settings_check(const struct an_settings *s);
/* A trained model and its settings from a checkpoint (b keeps the bundle
 * open for the caller: optimiser, RNG, run state; free it). */
enum ax_status an_checkpoint_read(const char *path, struct an_model *m, struct an_settings *s,
				  struct ax_bundle *b);
/* A batch from the training mixture (temporal: delay ~ U{0..delay_max}). */
void an_batch_draw(struct an_batch *b, const struct an_config *c, const struct an_data *d,
		   const struct an_mix *mix, struct ax_rng *r);
/* Training has two phases [choice]: for the first `pretrain` steps the
 * whole network learns without any cue (p_context and p_wrong taken as 0);
 * then the feedforward pathway is frozen and only the top-down pathway
 * learns, with cues: the apical (point: context) weights, the cue's
 * columns of layer 0 (concat) and the context network (temporal), from a
 * fresh Adam state. The none model has no top-down pathway: it trains
 * everything throughout. pretrain 0: one phase, everything with cues.
 * With --init (s->init) the feedforward pathway comes from another
 * checkpoint and every step is a top-down step. */
int an_top_down_phase(const struct an_settings *s, long step);
/* Learning rate at a step: cosine from lr to 0 over each phase. */
float an_step_lr(const struct an_settings *s, long step);
/* Cross-entropy on the batch, backward, one optimiser step at lr (with
 * top_down_only, the feedforward pathway's gradients zeroed first);
 * returns the loss (not finite: no step taken); *hits the correct
 * predictions (hits may be NULL). Under several MPI ranks (ax_dist.h) every
 * rank holds the whole batch and computes its shard of rows; gradients,
 * loss and hits are those of the whole batch, summed in one message. */
float an_train_step(struct an_model *m, struct ax_optim *opt, struct ax_tape *t,
		    const struct an_batch *b, float lr, int top_down_only, int *hits);

/* ---- the sub-commands (train.c, eval.c, analysis.c); main.c parses ---- */
struct an_opts {
	struct an_settings s;       /* train */
	struct ax_common common;    /* threads, seed, quiet, run options */
	const char *data;           /* Fashion-MNIST folder */
	const char *init;           /* train: feedforward pathway from this checkpoint */
	int limit;                  /* eval, lrp, silence: test images used (0: all) */
	unsigned pairs;             /* eval, lrp, silence: 0 = the checkpoint's */
	double *alphas;             /* eval */
	int nalphas;
	int *delays;                /* eval, temporal task; NULL = 0..delay_max */
	int ndelays;
	int n;                      /* examples per cell (eval, silence) or per pair/class (lrp) */
	int top, draws;             /* silence */
	double eps;                 /* lrp, silence */
	const char *npy_out, *units_out;   /* lrp */
};
/* The model of -m, its settings and the test images (exits 2 on failure). */
void an_open_model(const struct an_opts *o, struct an_model *m, struct an_settings *s,
		   struct an_data *d);
int an_cmd_train(const struct an_opts *o);
int an_cmd_eval(const struct an_opts *o);
int an_cmd_lrp(const struct an_opts *o);
int an_cmd_silence(const struct an_opts *o);

#endif
