/* train.c — one training step, and the training loop. */
#include "an.h"

#include <math.h>
#include <string.h>

void an_batch_draw(struct an_batch *b, const struct an_config *c, const struct an_data *d,
		   const struct an_mix *mix, struct ax_rng *r)
{
	for (int i = 0; i < b->B; i++) {
		struct an_example e = an_example_train(mix, r);
		int delay = c->task == AN_TEMPORAL ? (int)ax_rng_below(r, (uint32_t)c->delay_max + 1) : 0;
		an_batch_set(b, c, d, i, &e, delay, r);
	}
}

float an_train_step(struct an_model *m, struct ax_optim *opt, struct ax_tape *t,
		    const struct an_batch *b, float lr)
{
	const struct an_config *c = &m->cfg;
	int B = b->B;
	ax_tape_reset(t);
	ax_params_zero_grad(&m->params);
	struct ax_tensor *x = ax_const(t, 2, (int[]){ B, AN_PIXELS }, b->x), *ctx = NULL;
	if (c->kind != AN_NOCTX) {
		struct ax_tensor *cue =
			c->task == AN_TEMPORAL ?
				ax_const(t, 3, (int[]){ B, an_frames(c), AN_PIXELS }, b->cue) :
				ax_const(t, 2, (int[]){ B, AN_CLASSES }, b->cue);
		ctx = an_context(t, m, cue);
	}
	struct ax_tensor *logits = an_forward(t, m, x, ctx, NULL);
	int32_t *y = ax_tape_ints(t, (size_t)B);
	memcpy(y, b->y, (size_t)B * sizeof(int32_t));
	struct ax_tensor *loss = ax_cross_entropy(t, logits, y, 0.0f, -1);
	float value = loss->data[0];
	if (!isfinite(value))
		return value;
	ax_tape_backward(t, loss, 1.0f);
	ax_optim_step(opt, lr);
	return value;
}
