/* model.c — the conv backbone and the projector.
 *
 * Backbone (Fashion-MNIST 1x28x28, width w, as torch nn.Sequential
 * "backbone"; convolutions 3x3, padding 1, no bias, before BatchNorm):
 *   0 conv 1->w, 1 BN, 2 ReLU, 3 maxpool 2     -> w x 14 x 14
 *   4 conv w->2w, 5 BN, 6 ReLU, 7 maxpool 2    -> 2w x 7 x 7
 *   8 conv 2w->4w, 9 BN, 10 ReLU, 11 global average pool
 *   h = representation, R = 4w dimensions (default w 16: R = 64).
 * Projector (arXiv:2312.10725, "projector"):
 *   z = W3 relu(BN(W0 h)) + b3,  W0 (D, R) without bias, W3 (D, D).
 * Convolutions and linear layers start as torch's defaults
 * (U(+-1/sqrt(fan_in))), BatchNorm at weight 1, bias 0.
 */
#include "ssl.h"

#include <stdio.h>
#include <string.h>

void ssl_model_init(struct ssl_model *m, const struct ssl_config *cfg, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed);
	r = ax_rng_split(&root, 1);
	int w = cfg->width, R = ssl_rep_dim(cfg), D = cfg->proj_dim;
	int cin[3] = { 1, w, 2 * w }, cout[3] = { w, 2 * w, 4 * w };
	for (int i = 0; i < 3; i++) {
		m->conv[i] = ax_param(&m->params, 4, (int[]){ cout[i], cin[i], 3, 3 },
				      "backbone.%d.weight", 4 * i);
		ax_init_fan_in(m->conv[i], &r, cin[i] * 9);
		char name[32];
		snprintf(name, sizeof name, "backbone.%d", 4 * i + 1);
		ax_nn_batchnorm_init(&m->bn[i], &m->params, name, cout[i]);
	}
	r = ax_rng_split(&root, 2);
	ax_nn_linear_init(&m->proj0, &m->params, &r, "projector.0", R, D, 0);
	ax_nn_batchnorm_init(&m->pbn, &m->params, "projector.1", D);
	ax_nn_linear_init(&m->proj3, &m->params, &r, "projector.3", D, D, 1);
}

void ssl_model_free(struct ssl_model *m)
{
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

struct ax_tensor *ssl_backbone(struct ax_tape *t, struct ssl_model *m, struct ax_tensor *x,
			       int track)
{
	/* ReLU after the pool: max and ReLU commute, values and gradients
	 * alike, and the ReLU then runs over a quarter of the values. */
	for (int i = 0; i < 3; i++) {
		x = ax_nn_batchnorm(t, &m->bn[i], ax_conv2d(t, x, m->conv[i], NULL, 1, 1), track);
		if (i < 2)
			x = ax_maxpool2d(t, x, 2, 2);
		x = ax_relu(t, x);
	}
	int B = x->shape[0], C = x->shape[1];
	x = ax_avgpool2d(t, x, x->shape[2], x->shape[3]);
	return ax_reshape(t, x, 2, (int[]){ B, C });
}

struct ax_tensor *ssl_projector(struct ax_tape *t, struct ssl_model *m, struct ax_tensor *h,
				int track)
{
	struct ax_tensor *z = ax_nn_linear(t, &m->proj0, h);
	z = ax_relu(t, ax_nn_batchnorm(t, &m->pbn, z, track));
	return ax_nn_linear(t, &m->proj3, z);
}

void ssl_model_to_bundle(const struct ssl_model *m, struct ax_bundle *b)
{
	ax_params_to_bundle(&m->params, b, "");
	for (int i = 0; i < 3; i++)
		ax_nn_batchnorm_to_bundle(&m->bn[i], b, "");
	ax_nn_batchnorm_to_bundle(&m->pbn, b, "");
}

enum ax_status ssl_model_from_bundle(struct ssl_model *m, const struct ax_bundle *b)
{
	enum ax_status st = ax_params_from_bundle(&m->params, b, "");
	for (int i = 0; !st && i < 3; i++)
		st = ax_nn_batchnorm_from_bundle(&m->bn[i], b, "");
	if (!st)
		st = ax_nn_batchnorm_from_bundle(&m->pbn, b, "");
	return st;
}
