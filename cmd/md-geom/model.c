/* model.c — the networks md-geom fine-tunes on Fashion-MNIST.
 *
 *   mlp  logits = W4 relu(W2 relu(W0 x + b0) + b2) + b4,  x (B, 784)
 *   gru  h_t = GRU(row_t, h_{t-1}) over the 28 rows of 28 pixels, h_0 = 0;
 *        logits = W h_28 + b
 *
 * Parameter names are nn.Sequential's (mlp.0.weight, ...) and nn.GRU's
 * (gru.weight_ih_l0, ...); initialisation PyTorch's defaults. */
#include "md_geom.h"

#include <string.h>

const char *const mdg_net_names[] = { "mlp", "gru", NULL };

void mdg_model_init(struct mdg_model *m, enum mdg_net kind, int hidden, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->hidden = hidden;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed);
	r = ax_rng_split(&root, 1);
	if (kind == MDG_NET_MLP) {
		ax_nn_mlp_init(&m->mlp, &m->params, &r, "mlp", (int[]){ 784, hidden, hidden, 10 }, 4,
			       AX_RELU);
	} else {
		ax_nn_gru_init(&m->gru, &m->params, &r, "gru", 28, hidden);
		ax_nn_linear_init(&m->head, &m->params, &r, "head", hidden, 10, 1);
	}
}

void mdg_model_free(struct mdg_model *m)
{
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

struct ax_tensor *mdg_forward(struct ax_tape *t, const struct mdg_model *m, struct ax_tensor *x)
{
	int B = x->shape[0];
	if (m->kind == MDG_NET_MLP)
		return ax_nn_mlp(t, &m->mlp, x);
	struct ax_tensor *rows = ax_reshape(t, x, 3, (int[]){ B, 28, 28 });
	struct ax_tensor *h = ax_nn_gru(t, &m->gru, rows, NULL);          /* (B, 28, H) */
	struct ax_tensor *last = ax_slice(t, h, 1, 27, 1);                /* (B, 1, H) */
	last = ax_reshape(t, last, 2, (int[]){ B, m->hidden });
	return ax_nn_linear(t, &m->head, last);
}

int mdg_is_weight(const struct ax_tensor *p)
{
	return p->ndim == 2;
}
