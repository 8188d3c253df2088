/* ssl.h — ssl-train's pieces: Fashion-MNIST and the fixed subset (data.c),
 * the conv backbone and the projector (model.c), the BarlowTwins and
 * VICReg losses for A views and the `loss` sub-command (loss.c), the
 * settings, checkpoint and pretraining loop (train.c), the linear probe and
 * the representations (probe.c); main.c is the CLI. */
#ifndef SSL_H
#define SSL_H

#include "axon.h"

enum { SSL_SIDE = 28, SSL_PIXELS = 784, SSL_CLASSES = 10, SSL_MAX_VIEWS = 16 };

enum ssl_loss_kind { SSL_BARLOW, SSL_VICREG, SSL_NLOSSES };
extern const char *const ssl_loss_names[SSL_NLOSSES + 1];

/* ---- data (data.c) ---- */
struct ssl_data {
	int n;
	uint8_t *x;       /* (n, 28, 28) grey levels 0..255 */
	int32_t *y;       /* (n) classes 0..9 */
};
/* <dir>/<split>-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz (split
 * "train" or "t10k"); limit > 0 keeps the first limit images. */
enum ax_status ssl_data_load(struct ssl_data *d, const char *dir, const char *split, int limit);
/* Keep a fixed fraction of the images: round(frac * n) of them (at least
 * one), drawn without replacement from the stream of seed, in their
 * original order. */
void ssl_data_subset(struct ssl_data *d, double frac, uint64_t seed);
void ssl_data_free(struct ssl_data *d);
/* Images i of d scaled to [0, 1] into x (n, 1, 28, 28). */
void ssl_data_images(const struct ssl_data *d, const int32_t *idx, int n, float *x);

/* ---- model (model.c) ---- */
struct ssl_config {
	int width;        /* backbone channels: width, 2 width, 4 width */
	int proj_dim;     /* D */
};
static inline int ssl_rep_dim(const struct ssl_config *c) { return 4 * c->width; }  /* R */
struct ssl_model {
	struct ssl_config cfg;
	struct ax_arena arena;       /* long-lived: parameters, gradients, buffers, optimiser */
	struct ax_params params;
	struct ax_tensor *conv[3];   /* backbone.0/4/8.weight (Cout, Cin, 3, 3), no bias */
	struct ax_nn_batchnorm bn[3];/* backbone.1/5/9 */
	struct ax_nn_linear proj0;   /* projector.0: R -> D, no bias */
	struct ax_nn_batchnorm pbn;  /* projector.1 */
	struct ax_nn_linear proj3;   /* projector.3: D -> D */
};
void ssl_model_init(struct ssl_model *m, const struct ssl_config *cfg, uint64_t seed);
void ssl_model_free(struct ssl_model *m);
/* Representations (B, R) of images x (B, 1, 28, 28); in training the
 * BatchNorm layers update their running statistics if track. */
struct ax_tensor *ssl_backbone(struct ax_tape *t, struct ssl_model *m, struct ax_tensor *x,
			       int track);
/* Projections (B, D) of representations (B, R). */
struct ax_tensor *ssl_projector(struct ax_tape *t, struct ssl_model *m, struct ax_tensor *h,
				int track);
/* Parameters and BatchNorm buffers into / from a checkpoint. */
void ssl_model_to_bundle(const struct ssl_model *m, struct ax_bundle *b);
enum ax_status ssl_model_from_bundle(struct ssl_model *m, const struct ax_bundle *b);

/* ---- losses (loss.c) ---- */
struct ssl_loss_cfg {
	enum ssl_loss_kind kind;
	double lambda, mu, nu;
};
/* Terms: BarlowTwins loss = on + lambda * off (terms[0], [1]); VICReg loss =
 * lambda * inv + mu * var + nu * cov (terms[0..2]). */
enum { SSL_MAX_TERMS = 3 };
int ssl_loss_nterms(enum ssl_loss_kind k);
const char *ssl_loss_header(enum ssl_loss_kind k);   /* "loss,on,off" / "loss,inv,var,cov" */
/* The loss of A views z[a] (N, D) each; N >= 2. terms (SSL_MAX_TERMS) filled. */
struct ax_tensor *ssl_loss(struct ax_tape *t, const struct ssl_loss_cfg *c, struct ax_tensor **z,
			   int A, float *terms);

/* ---- settings, checkpoint, pretraining (train.c) ---- */
struct ssl_settings {
	struct ssl_config cfg;
	struct ssl_loss_cfg loss;
	double lambda_scale;      /* > 0: lambda = lambda_scale / D */
	int views;                /* A */
	double subset;            /* fraction of the training images, (0, 1] */
	int epochs, batch, groups;
	double lr, weight_decay;
	int probe_every;          /* probe accuracy every N epochs (0: never) */
	int probe_epochs;         /* epochs of the linear probe */
	int probe_limit;          /* training images of the probe (0: all) */
	uint64_t seed;
};
extern const struct ax_setting ssl_settings_table[];
extern const int ssl_nsettings;
void ssl_settings_default(struct ssl_settings *s, enum ssl_loss_kind k);
/* lambda from lambda_scale when that is set. */
void ssl_settings_resolve(struct ssl_settings *s);
/* A model and its settings from a checkpoint; b stays open (free it). */
enum ax_status ssl_checkpoint_read(const char *path, struct ssl_model *m, struct ssl_settings *s,
				   struct ax_bundle *b);

/* ---- probe (probe.c) ---- */
/* Representations (n, R) of images idx of d, BatchNorm in evaluation mode. */
void ssl_represent(struct ssl_model *m, const struct ssl_data *d, float *rep);
/* Train Linear(R -> 10) on the frozen representations of train, Adam
 * lr 1e-3, label smoothing 0.1, batch 256, `epochs` epochs in an order drawn
 * from seed; returns the test accuracy. */
double ssl_probe(struct ssl_model *m, const struct ssl_data *train, const struct ssl_data *test,
		 int epochs, uint64_t seed);

/* ---- the sub-commands; main.c parses ---- */
struct ssl_opts {
	struct ssl_settings s;
	struct ax_common common;
	const char *data;
	const char *split;        /* embed: "train" or "test" */
	const char *output, *labels;
	int limit;                /* probe, embed: images used (0: all) */
	char **files;             /* loss: the views */
	int nfiles;
};
int ssl_cmd_pretrain(const struct ssl_opts *o);
int ssl_cmd_probe(const struct ssl_opts *o);
int ssl_cmd_embed(const struct ssl_opts *o);
int ssl_cmd_loss(const struct ssl_opts *o);

#endif
