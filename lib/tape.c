/* tape.c — recording ops and walking them backwards. */
#include "ax_tape.h"
#include "ax_profile.h"

#include <string.h>
#include <time.h>

void ax_tape_init(struct ax_tape *t, struct ax_arena *step_arena)
{
	memset(t, 0, sizeof *t);
	t->arena = step_arena;
	t->training = 1;
}

void ax_tape_free(struct ax_tape *t)
{
	free(t->nodes);
	t->nodes = NULL;
	t->n = t->cap = 0;
}

void ax_tape_reset(struct ax_tape *t)
{
	t->n = 0;
	ax_arena_reset(t->arena);
}

struct ax_tensor *ax_op_output(struct ax_tape *t, int ndim, const int *shape)
{
	return ax_tensor_new(t->arena, ndim, shape);
}

struct ax_tape_node *ax_op_record(struct ax_tape *t, const struct ax_opdef *op,
				  struct ax_tensor *out, struct ax_tensor *in0,
				  struct ax_tensor *in1, struct ax_tensor *in2,
				  struct ax_tensor *in3)
{
	if (t->no_grad)
		return NULL;
	struct ax_tensor *in[4] = { in0, in1, in2, in3 };
	int any = 0;
	for (int i = 0; i < 4; i++)
		any |= in[i] && in[i]->requires_grad;
	if (!any)
		return NULL;
	if (t->n == t->cap) {
		/* Grows during the first step only; later steps reuse it. */
		t->cap = t->cap ? 2 * t->cap : 256;
		t->nodes = ax_xrealloc(t->nodes, t->cap * sizeof *t->nodes);
	}
	struct ax_tape_node *n = &t->nodes[t->n++];
	memset(n, 0, sizeof *n);
	n->op = op;
	n->out = out;
	n->arena = t->arena;
	memcpy(n->in, in, sizeof in);
	out->requires_grad = 1;
	return n;
}

double ax_op_clock(void)
{
	if (!ax_profile_enabled())
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void ax_op_done(const struct ax_opdef *op, double t0, double flops)
{
	if (ax_profile_enabled())
		ax_profile_add(op->name, ax_op_clock() - t0, flops);
}

void ax_tape_backward(struct ax_tape *t, struct ax_tensor *loss, float seed)
{
	AX_ASSERT(loss->size == 1 && "backward needs a one-element loss");
	if (!loss->requires_grad)
		return;
	/* A tensor that requires a gradient is a leaf that got its buffer with
	 * ax_tensor_require_grad (parameters) or a recorded output: those get
	 * theirs here, in the step arena. */
	for (int i = 0; i < t->n; i++) {
		struct ax_tensor *o = t->nodes[i].out;
		if (!o->grad)
			o->grad = ax_arena_zalloc(t->arena, o->size * sizeof(float));
	}
	loss->grad[0] += seed;
	int prof = ax_profile_enabled();
	for (int i = t->n - 1; i >= 0; i--) {
		struct ax_tape_node *n = &t->nodes[i];
		double t0 = prof ? ax_op_clock() : 0;
		n->op->backward(n);
		if (prof)
			ax_profile_add(n->op->bwd_name, ax_op_clock() - t0, 2 * n->flops);
	}
}

struct ax_tensor *ax_const(struct ax_tape *t, int ndim, const int *shape, const float *data)
{
	struct ax_tensor *x = ax_tensor_new(t->arena, ndim, shape);
	if (data)
		memcpy(x->data, data, x->size * sizeof(float));
	return x;
}

int32_t *ax_tape_ints(struct ax_tape *t, size_t n)
{
	return ax_arena_alloc(t->arena, n * sizeof(int32_t));
}

struct ax_tensor *ax_detach(struct ax_tape *t, struct ax_tensor *x)
{
	return ax_tensor_wrap(t->arena, x->data, x->ndim, x->shape);
}
