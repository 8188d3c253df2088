/* Fit y = 3x - 1 with one linear layer through libaxon's public API: the
 * tape records the forward pass, backward fills the gradients, Adam steps.
 * The learnt weight and bias are saved as an NPY array. Built by
 * tests/cmd/install.sh against an installed copy with pkg-config, and shown
 * in the README ("Using the library from C"). */
#include <axon.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "linear.npy";
	struct ax_arena long_arena, step_arena;
	ax_arena_init(&long_arena, 0);   /* parameters, gradients, optimiser state */
	ax_arena_init(&step_arena, 0);   /* activations and the tape, reset every step */

	struct ax_rng rng;
	ax_rng_seed(&rng, 1);
	struct ax_params params;
	ax_params_init(&params, &long_arena);
	struct ax_nn_linear layer;
	ax_nn_linear_init(&layer, &params, &rng, "fc", 1, 1, 1);
	struct ax_optim adam;
	ax_optim_init(&adam, AX_OPTIM_ADAM, &params);

	enum { N = 32 };
	float x[N], y[N];
	for (int i = 0; i < N; i++) {
		x[i] = (float)i / N - 0.5f;
		y[i] = 3 * x[i] - 1;
	}
	struct ax_tape tape;
	ax_tape_init(&tape, &step_arena);
	float first = 0, loss = 0;
	for (int step = 0; step < 500; step++) {
		ax_tape_reset(&tape);
		ax_params_zero_grad(&params);
		struct ax_tensor *xt = ax_const(&tape, 2, (int[]){ N, 1 }, x);
		struct ax_tensor *yt = ax_const(&tape, 2, (int[]){ N, 1 }, y);
		struct ax_tensor *l = ax_mse(&tape, ax_nn_linear(&tape, &layer, xt), yt);
		ax_tape_backward(&tape, l, 1);
		ax_optim_step(&adam, 0.05f);
		loss = l->data[0];
		if (step == 0)
			first = loss;
	}
	printf("loss %.3g -> %.3g, w %.3f, b %.3f\n", first, loss, layer.w->data[0],
	       layer.b->data[0]);

	struct ax_array a;
	enum ax_status st = ax_array_alloc(&a, AX_F32, 1, (int64_t[]){ 2 });
	if (st == AX_OK) {
		((float *)a.data)[0] = layer.w->data[0];
		((float *)a.data)[1] = layer.b->data[0];
		st = ax_npy_save(out, &a);   /* atomic: temp file, then rename */
		ax_array_free(&a);
	}
	if (st != AX_OK)
		fprintf(stderr, "%s\n", ax_error_detail());
	ax_tape_free(&tape);
	ax_params_free(&params);
	ax_arena_free(&step_arena);
	ax_arena_free(&long_arena);
	return st == AX_OK && loss < 1e-3f ? 0 : 1;
}
