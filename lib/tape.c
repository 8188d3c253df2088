/* tape.c — recording ops and walking them backwards. */
#include "ax_tape.h"
#include "ax_profile.h"
#include "ax_math.h"

#include <math.h>
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
	free(t->blocks);
	t->nodes = NULL;
	t->blocks = NULL;
	t->n = t->cap = 0;
	t->n_blocks = t->cap_blocks = 0;
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
	n->tape = t;
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

/* Backward's gradient buffers: blocks of the step arena, each either lent
 * to one tensor or free; a request takes the smallest free block that fits,
 * else a new one. The array persists across steps like the node array. */
struct ax_grad_block {
	float *p;
	size_t cap;
	int lent;
};

static float *grad_acquire(struct ax_tape *t, size_t size, int zero)
{
	struct ax_grad_block *best = NULL;
	for (int i = 0; i < t->n_blocks; i++) {
		struct ax_grad_block *b = &t->blocks[i];
		if (!b->lent && b->cap >= size && (!best || b->cap < best->cap))
			best = b;
	}
	if (!best) {
		if (t->n_blocks == t->cap_blocks) {
			t->cap_blocks = t->cap_blocks ? 2 * t->cap_blocks : 64;
			t->blocks = ax_xrealloc(t->blocks, t->cap_blocks * sizeof *t->blocks);
		}
		best = &t->blocks[t->n_blocks++];
		*best = (struct ax_grad_block){ ax_arena_alloc(t->arena, size * sizeof(float)), size, 0 };
	}
	best->lent = 1;
	/* zeroed by the whole team when large: a gradient of image activations
	 * is tens of MB, and one core's memset left the others waiting */
	float *p = best->p;
	if (!zero) {
		for (size_t i = 0; t->poison_fresh && i < size; i++)
			p[i] = NAN;
		return p;
	}
#pragma omp parallel if (size > AX_ELEMENTWISE_PAR_MIN)
	{
		size_t lo, hi;
		ax_thread_span(size, &lo, &hi);
		memset(p + lo, 0, (hi - lo) * sizeof(float));
	}
	return p;
}

/* Gives x's buffer back if the pool lent it (a caller may have given an
 * output its own buffer, to read it after backward). */
static void grad_release(struct ax_tape *t, struct ax_tensor *x)
{
	for (int i = 0; i < t->n_blocks; i++)
		if (t->blocks[i].p == x->grad) {
			t->blocks[i].lent = 0;
			x->grad = NULL;
			return;
		}
}

static float *grad_of(struct ax_tape *t, struct ax_tensor *x)
{
	if (!x || !x->requires_grad)
		return NULL;
	if (!x->grad)
		x->grad = grad_acquire(t, x->size, 1);
	return x->grad;
}

/* in[k]'s gradient for node n: when it has none yet and n's backward writes
 * it whole, an unzeroed buffer (marked in n->fresh); else as grad_of. An
 * input that appears twice in n is always zeroed (its second use adds). */
static void input_grad(struct ax_tape *t, struct ax_tape_node *n, int k)
{
	struct ax_tensor *x = n->in[k];
	int twice = 0;
	for (int j = 0; j < 4; j++)
		twice |= j != k && n->in[j] == x;
	if (x && x->requires_grad && !x->grad && (n->op->writes_whole >> k & 1) && !twice &&
	    !t->plain_grads) {
		x->grad = grad_acquire(t, x->size, 0);
		n->fresh |= 1u << k;
	} else
		grad_of(t, x);
}

float *ax_tape_grad(struct ax_tape_node *n, struct ax_tensor *x) { return grad_of(n->tape, x); }

void ax_tape_backward(struct ax_tape *t, struct ax_tensor *loss, float seed)
{
	AX_ASSERT(loss->size == 1 && "backward needs a one-element loss");
	if (!loss->requires_grad)
		return;
	/* A tensor that requires a gradient is a leaf that got its buffer with
	 * ax_tensor_require_grad (parameters) or a recorded output, which gets
	 * one from the pool when first needed (see ax_tape.h). The order of
	 * the additions into each gradient is that of the walk, as before. */
	t->n_blocks = 0;
	grad_of(t, loss)[0] += seed;
	int prof = ax_profile_enabled();
	for (int i = t->n - 1; i >= 0; i--) {
		struct ax_tape_node *n = &t->nodes[i];
		grad_of(t, n->out);   /* an output nothing used: zeros, as before */
		n->fresh = 0;
		for (int k = 0; k < 4; k++)
			input_grad(t, n, k);
		double t0 = prof ? ax_op_clock() : 0;
		n->op->backward(n);
		if (prof)
			ax_profile_add(n->op->bwd_name, ax_op_clock() - t0, 2 * n->flops);
		grad_release(t, n->out);
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
