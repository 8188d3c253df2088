/* ax_optim.h — optimisers, gradient clipping, learning-rate schedules.
 *
 * An optimiser updates every parameter of a registry from its gradient.
 * State (moments) lives in the registry's long-lived arena and is saved in
 * checkpoints under "<prefix>optim.<slot>.<param name>" with the step count
 * in the bundle metadata as "<prefix>optim.step", so a resumed run continues
 * bit-exactly; several optimisers share a bundle under different prefixes.
 */
#ifndef AX_OPTIM_H
#define AX_OPTIM_H

#include "ax_nn.h"

enum ax_optim_kind {
	AX_OPTIM_SGD,    /* momentum (0 = plain), L2 weight decay added to the gradient */
	AX_OPTIM_ADAM,   /* weight decay added to the gradient (torch Adam) */
	AX_OPTIM_ADAMW,  /* decoupled weight decay (torch AdamW) */
	AX_OPTIM_MD,     /* mirror descent under `potential`, SGD's momentum, no decay */
	AX_OPTIM_LAMB,   /* layer-wise adaptive (You et al. 2019), as torch_optimizer.Lamb */
};

/* ---- LAMB ----
 * Per parameter tensor: m, v as Adam's (no bias correction), the step
 *   u = m / (sqrt(v) + eps) + weight_decay * w,
 * scaled by the trust ratio min(|w|, lamb_clamp) / |u| (1 when either norm
 * is 0):  w -= lr * trust * u. eps defaults to 1e-6 for LAMB. */

/* Per-parameter flags (ax_optim_set_flags):
 *  AX_OPTIM_FROZEN  the parameter and its state are never changed;
 *  AX_OPTIM_SPARSE  a 2-D table (embeddings) updated row by row: rows whose
 *                   gradient is all zero this step (untouched) keep their
 *                   values and moments; LAMB's norms cover the touched rows.
 *                   Adam, AdamW and LAMB; SGD and mirror descent ignore it. */
enum { AX_OPTIM_FROZEN = 1, AX_OPTIM_SPARSE = 2 };

/* ---- mirror descent (Pogodin et al., arXiv:2305.19394) ----
 * A potential phi sets the geometry of learning: the step is taken in the
 * dual space,  grad phi(w') = grad phi(w) - lr * m,  with m the gradient or
 * its momentum buffer (m = momentum * m + g, as SGD's).
 *   p-norm      phi = sum |w|^p / p,     grad phi = sign(w) |w|^(p-1), p > 1;
 *               w' = signpow(signpow(w, p-1) - lr m, 1/(p-1)); p = 2 is SGD.
 *   negentropy  phi = sum |w| log |w|,   grad phi = sign(w) (log |w| + 1);
 *               w' = w exp(-lr sign(w) m): multiplicative, a weight keeps its
 *               sign and a zero stays zero. */
enum ax_potential_kind { AX_POT_PNORM, AX_POT_NEGENTROPY };
struct ax_potential {
	enum ax_potential_kind kind;
	double p;                   /* p-norm exponent, > 1 */
};
/* grad phi(w); negentropy at w = 0 is -inf * 0: NAN. */
double ax_potential_grad(struct ax_potential pot, double w);
/* The w with grad phi(w) = z. Negentropy's dual map sends each half-line
 * onto all of R, so it needs the sign of w (+1 or -1); p-norm ignores it. */
double ax_potential_inverse(struct ax_potential pot, double z, double sign);
/* "negentropy" or "p<value>" with value > 1 ("p1.5", "p2"); AX_ERR_ARG
 * with a detail otherwise. */
enum ax_status ax_potential_parse(const char *s, struct ax_potential *pot);
/* The name ax_potential_parse reads: "negentropy", or "p" and %g of p. */
void ax_potential_name(struct ax_potential pot, char *buf, size_t cap);
/* One mirror-descent step on n raw values. m is the momentum buffer (unused,
 * may be NULL, when momentum is 0). With p = 2 the bits are SGD's. */
void ax_md_update(size_t n, float *w, const float *g, float *m, struct ax_potential pot,
		  float lr, float momentum);

struct ax_optim {
	enum ax_optim_kind kind;
	float beta1, beta2, eps;    /* Adam: 0.9, 0.999, 1e-8 */
	float momentum;             /* SGD, mirror descent */
	struct ax_potential potential; /* mirror descent (default p = 2) */
	float weight_decay;
	int decay_vectors;          /* 0: 1-D params (biases, norms) are not decayed */
	long step;
	float lamb_clamp;           /* LAMB: cap on the weight norm (10) */
	struct ax_params *params;
	float **m, **v;             /* per parameter; v unused by SGD */
	uint8_t *flags;             /* per parameter: AX_OPTIM_FROZEN | AX_OPTIM_SPARSE */
};

/* Defaults as PyTorch's; adjust fields after init. */
void ax_optim_init(struct ax_optim *o, enum ax_optim_kind kind, struct ax_params *p);
void ax_optim_step(struct ax_optim *o, float lr);
/* Set the flags of parameter t (one of o's registry) to flags. */
void ax_optim_set_flags(struct ax_optim *o, const struct ax_tensor *t, unsigned flags);
void ax_optim_to_bundle(const struct ax_optim *o, struct ax_bundle *b, const char *prefix);
enum ax_status ax_optim_from_bundle(struct ax_optim *o, const struct ax_bundle *b,
				    const char *prefix);

/* One bias-corrected Adam step (step >= 1) on n raw values, as ax_optim_step
 * does per parameter: l2 adds l2 * w to the gradient (torch Adam's weight
 * decay), decay first shrinks w by lr * decay (AdamW's). For callers that
 * keep parameters outside a registry. */
void ax_adam_update(size_t n, float *w, const float *g, float *m, float *v, long step,
		    float lr, float b1, float b2, float eps, float l2, float decay);

/* Scale all gradients so their global L2 norm is at most max_norm; returns
 * the norm before clipping (NaN if a gradient is not finite). */
float ax_clip_grad_norm(struct ax_params *p, float max_norm);

/* Linear warm-up to lr_max over `warmup` steps, then cosine to lr_min at `total`. */
float ax_sched_cosine(long step, long warmup, long total, float lr_max, float lr_min);
/* torch OneCycleLR (cosine, two phases): from lr_max/div over pct*total steps
 * up to lr_max, then down to lr_max/(div*final_div). */
float ax_sched_onecycle(long step, long total, float pct, float lr_max, float div, float final_div);

#endif
