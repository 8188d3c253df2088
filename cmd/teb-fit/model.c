/* model.c — the target-only model (Y module) and the transfer entropy
 * bottleneck (X module), after arXiv:2211.16607. With y, x the flattened
 * histories (L*dy, L*dx) and y' the future (H*dy):
 *
 *   Y module   (mu_c, lv_c) = y_enc(y)               q(c | y), K dims
 *              c = mu_c + exp(lv_c / 2) eps
 *              d_Y(y' | c) = N(mu_y, exp(lv_y)),  (mu_y, lv_y) = y_dec(c)
 *              loss_y = beta_y H dy NLL_Y + KL(q(c|y) || N(0, I))
 *   X module   (m, lv_x) = x_enc(x)
 *              e(z | x, c) = N(mu_c + m, exp(lv_c) + exp(lv_x))
 *              b(z | c)    = N(mu_c, exp(lv_c))       (the Y module's own Gaussian)
 *              z = mu_e + exp(lv_e / 2) eps'
 *              d_TE(y' | z, c) = N(mu_te, exp(lv_te)), (mu_te, lv_te) = te_dec(z)
 *              loss_te = beta H dy NLL_TE + KL(e || b)
 *
 * z is c plus what the source adds: the X encoder starts at m = 0 and
 * exp(lv_x) = 1e-7 (last layer's weights zero), so e = b and no information
 * flows at first; KL(e || b) bounds I(X; Z | C) and charges every nat the
 * source adds. mu_c and lv_c enter the X module detached: the TE loss never
 * trains the Y module (else it could widen b to make the KL free). The X
 * encoder reads the source only: given mu_c, which the Y decoder sees only
 * through c's noise, it could pass on target information the Y module
 * hides and count it as transfer (1.3 nats on non-switching sines, where
 * the true value is 0). The TE decoder sees mu_c with at least c's noise. The
 * decoders' variance is learned (an output head) or fixed. The NLL terms
 * are per output element without the constant 1/2 ln(2 pi).
 *
 * Parameter names follow scripts/ref/teb_fit.py's state dict: y_enc.0, ...
 */
#include "teb.h"

#include <math.h>
#include <string.h>

#define TEB_X_LOGVAR0 (-16.118095651f) /* ln(1e-7) */

const struct ax_setting teb_model_settings[] = {
	AX_SETTING_INT("teb.history", "--history", struct teb_config, L, 1, 10000),
	AX_SETTING_INT("teb.horizon", "--horizon", struct teb_config, H, 1, 10000),
	AX_SETTING_INT("teb.source_dims", NULL, struct teb_config, dx, 1, 4096),
	AX_SETTING_INT("teb.target_dims", NULL, struct teb_config, dy, 1, 4096),
	AX_SETTING_INT("teb.latent", "--latent", struct teb_config, latent, 1, 4096),
	AX_SETTING_INT("teb.width", "--width", struct teb_config, width, 1, 65536),
	AX_SETTING_BOOL("teb.learned_variance", "--variance", struct teb_config, learned_var),
	AX_SETTING_FLOAT("teb.fixed_variance", "--variance", struct teb_config, fixed_var, 0, 1e6,
			 AX_LO_OPEN),
	AX_SETTING_FLOAT("teb.beta", "--beta", struct teb_config, beta, 0, 1e9, AX_LO_OPEN),
	AX_SETTING_FLOAT("teb.beta_y", "--beta-y", struct teb_config, beta_y, 0, 1e9, AX_LO_OPEN),
};
const int teb_n_model_settings = (int)AX_COUNTOF(teb_model_settings);

const char *teb_config_check(const struct teb_config *c)
{
	if (c->L < 1 || c->L > 10000 || c->H < 1 || c->H > 10000)
		return "history and horizon must be 1..10000";
	if (c->latent < 1 || c->latent > 4096 || c->width < 1 || c->width > 65536)
		return "latent and width must be 1..4096 and 1..65536";
	if (!c->learned_var && !(c->fixed_var > 0 && isfinite(c->fixed_var)))
		return "a fixed variance must be positive";
	if (!(c->beta > 0) || !(c->beta_y > 0))
		return "beta must be positive";
	return NULL;
}

/* A two-hidden-layer SiLU MLP in -> width -> width -> out. */
static void mlp_init(struct ax_nn_mlp *m, struct ax_params *p, struct ax_rng *r, const char *name,
		     int in, int width, int out)
{
	ax_nn_mlp_init(m, p, r, name, (int[]){ in, width, width, out }, 4, AX_SILU);
}

void teb_model_init(struct teb_model *m, const struct teb_config *c, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->cfg = *c;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->py, &m->arena);
	ax_params_init(&m->px, &m->arena);
	struct ax_rng root, ry, rx;
	ax_rng_seed(&root, seed);
	ry = ax_rng_split(&root, 1), rx = ax_rng_split(&root, 2);
	int K = c->latent, W = c->width, out = c->H * c->dy * (c->learned_var ? 2 : 1);
	mlp_init(&m->y_enc, &m->py, &ry, "y_enc", c->L * c->dy, W, 2 * K);
	mlp_init(&m->y_dec, &m->py, &ry, "y_dec", K, W, out);
	mlp_init(&m->x_enc, &m->px, &rx, "x_enc", c->L * c->dx, W, 2 * K);
	mlp_init(&m->te_dec, &m->px, &rx, "te_dec", K, W, out);
	const struct ax_nn_linear *last = &m->x_enc.layers[m->x_enc.n - 1];
	ax_tensor_fill(last->w, 0);
	for (int k = 0; k < 2 * K; k++)
		last->b->data[k] = k < K ? 0.0f : TEB_X_LOGVAR0;
	teb_copy_decoder(m);
}

void teb_put_model(struct ax_bundle *b, const struct teb_model *m)
{
	ax_params_to_bundle(&m->py, b, "");
	ax_params_to_bundle(&m->px, b, "");
	ax_ckpt_put_settings(b, teb_model_settings, teb_n_model_settings, &m->cfg);
}

static const char *config_check(const void *c)
{
	return teb_config_check(c);
}

enum ax_status teb_load(const char *path, struct teb_model *m, struct ax_bundle *keep)
{
	struct ax_bundle b;
	struct teb_config c = { 0 };
	enum ax_status st = ax_ckpt_open_config(path, TEB_KIND, teb_model_settings,
						teb_n_model_settings, &c, config_check, &b);
	if (st)
		return st;
	teb_model_init(m, &c, 0);
	if ((st = ax_params_from_bundle(&m->py, &b, "")) ||
	    (st = ax_params_from_bundle(&m->px, &b, "")))
		teb_model_free(m);
	if (keep && !st)
		*keep = b;
	else
		ax_bundle_free(&b);
	return st;
}

void teb_model_free(struct teb_model *m)
{
	ax_params_free(&m->py);
	ax_params_free(&m->px);
	ax_arena_free(&m->arena);
}

void teb_copy_decoder(struct teb_model *m)
{
	for (int i = 0; i < m->y_dec.n; i++) {
		const struct ax_nn_linear *a = &m->y_dec.layers[i], *b = &m->te_dec.layers[i];
		memcpy(b->w->data, a->w->data, a->w->size * sizeof(float));
		memcpy(b->b->data, a->b->data, a->b->size * sizeof(float));
	}
}

/* (mu, lv) halves of a decoder's output; lv constant when the variance is fixed. */
static void split_head(struct ax_tape *t, const struct teb_config *c, struct ax_tensor *h,
		       struct ax_tensor **mu, struct ax_tensor **lv)
{
	int n = c->H * c->dy;
	if (c->learned_var) {
		*mu = ax_slice(t, h, 1, 0, n);
		*lv = ax_slice(t, h, 1, n, n);
	} else {
		*mu = h;
		*lv = ax_const(t, 2, h->shape, NULL);
		ax_tensor_fill(*lv, logf(c->fixed_var));
	}
}

/* mu + exp(lv / 2) * eps, eps ~ N(0, I) from r: (B, K), the rows of b's
 * shard of the global batch's draws. */
static struct ax_tensor *sample(struct ax_tape *t, const struct teb_batch *b,
				struct ax_tensor *mu, struct ax_tensor *lv, struct ax_rng *r)
{
	struct ax_tensor *eps = ax_const(t, mu->ndim, mu->shape, NULL);
	if (b->total > b->B) {
		size_t K = (size_t)mu->shape[1];
		float *all = ax_arena_alloc(t->arena, (size_t)b->total * K * sizeof *all);
		ax_rng_fill_normal(r, all, (size_t)b->total * K, 0, 1);
		memcpy(eps->data, all + (size_t)b->first * K, eps->size * sizeof *all);
	} else {
		ax_rng_fill_normal(r, eps->data, eps->size, 0, 1);
	}
	return ax_add(t, mu, ax_mul(t, ax_exp(t, ax_scale(t, lv, 0.5f)), eps));
}

void teb_forward(struct ax_tape *t, const struct teb_model *m, const struct teb_batch *b,
		 struct ax_rng *noise, struct teb_out *o)
{
	const struct teb_config *c = &m->cfg;
	int B = b->B, K = c->latent;
	float kappa_y = c->beta_y * (float)(c->H * c->dy), kappa = c->beta * (float)(c->H * c->dy);
	struct ax_tensor *yh = ax_const(t, 2, (int[]){ B, c->L * c->dy }, b->yh);
	struct ax_tensor *xh = ax_const(t, 2, (int[]){ B, c->L * c->dx }, b->xh);
	struct ax_tensor *yf = ax_const(t, 2, (int[]){ B, c->H * c->dy }, b->yf);

	/* Y module */
	struct ax_tensor *hc = ax_nn_mlp(t, &m->y_enc, yh);
	struct ax_tensor *mu_c = ax_slice(t, hc, 1, 0, K), *lv_c = ax_slice(t, hc, 1, K, K);
	struct ax_tensor *cs = sample(t, b, mu_c, lv_c, noise);
	split_head(t, c, ax_nn_mlp(t, &m->y_dec, cs), &o->mu_y, &o->lv_y);
	o->nll_y = ax_gaussian_nll(t, o->mu_y, o->lv_y, yf);
	o->kl_y = ax_kl_diag_gauss(t, mu_c, lv_c, NULL, NULL);
	o->loss_y = ax_add(t, ax_scale(t, o->nll_y, kappa_y), o->kl_y);

	/* X module on the detached context */
	struct ax_tensor *mc = ax_detach(t, mu_c), *lc = ax_detach(t, lv_c);
	struct ax_tensor *hx = ax_nn_mlp(t, &m->x_enc, xh);
	struct ax_tensor *mu_e = ax_add(t, mc, ax_slice(t, hx, 1, 0, K));
	struct ax_tensor *lv_e = ax_log(t, ax_add(t, ax_exp(t, lc), ax_exp(t, ax_slice(t, hx, 1, K, K))));
	struct ax_tensor *z = sample(t, b, mu_e, lv_e, noise);
	split_head(t, c, ax_nn_mlp(t, &m->te_dec, z), &o->mu_te, &o->lv_te);
	o->nll_te = ax_gaussian_nll(t, o->mu_te, o->lv_te, yf);
	o->kl_te = ax_kl_diag_gauss(t, mu_e, lv_e, mc, lc);
	o->loss_te = ax_add(t, ax_scale(t, o->nll_te, kappa), o->kl_te);
}
