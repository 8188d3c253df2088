/* ops.c — per-op rates: every elementwise and row-wise kernel in ns per
 * element and GB/s, at a size that fits in the core's cache and one that
 * does not; the attention kernel in GFLOP/s beside sgemm on the same shapes.
 *
 * Each op runs through the tape as a model would call it; forward and
 * backward are timed apart (the backward by calling the recorded node's
 * backward once per repetition) and the best of the repetitions is kept.
 * GB/s counts the bytes each direction must move at least (its inputs read
 * once, its outputs written once, accumulated gradients read and written).
 */
#include "bench.h"

#include <string.h>

struct op_case {
	const char *name;
	int row;               /* row-wise: rows of ROW_C elements */
	int fwd_bytes, bwd_bytes;  /* per element */
	struct ax_tensor *(*run)(struct ops_data *o, int kind);
	int kind;
};

#define ROW_C 256

static struct ax_tensor *run_unary(struct ops_data *o, int kind)
{
	return ax_unary(&o->tape, (enum ax_unary)kind, o->x);
}
static struct ax_tensor *run_softmax(struct ops_data *o, int log)
{
	return log ? ax_log_softmax(&o->tape, o->x) : ax_softmax(&o->tape, o->x);
}
static struct ax_tensor *run_layernorm(struct ops_data *o, int rms)
{
	return rms ? ax_rmsnorm(&o->tape, o->x, o->gamma, 1e-5f)
		   : ax_layernorm(&o->tape, o->x, o->gamma, o->beta, 1e-5f);
}
static struct ax_tensor *run_xent(struct ops_data *o, int smooth)
{
	return ax_cross_entropy(&o->tape, o->x, o->targets, smooth ? 0.1f : 0.0f, -1);
}
static struct ax_tensor *run_dropout(struct ops_data *o, int unused)
{
	return ax_dropout(&o->tape, o->x, 0.1f, &o->rng);
}
static struct ax_tensor *run_poisson(struct ops_data *o, int unused)
{
	return ax_poisson_nll(&o->tape, o->x, o->y, NULL);
}
static struct ax_tensor *run_gauss(struct ops_data *o, int unused)
{
	return ax_gaussian_nll(&o->tape, o->x, o->z, o->y);
}

static const struct op_case CASES[] = {
	{ "relu", 0, 8, 20, run_unary, AX_RELU },
	{ "gelu", 0, 8, 20, run_unary, AX_GELU },
	{ "gelu_tanh", 0, 8, 20, run_unary, AX_GELU_TANH },
	{ "silu", 0, 8, 20, run_unary, AX_SILU },
	{ "sigmoid", 0, 8, 20, run_unary, AX_SIGMOID },
	{ "tanh", 0, 8, 20, run_unary, AX_TANH },
	{ "exp", 0, 8, 20, run_unary, AX_EXP },
	{ "softmax", 1, 8, 16, run_softmax, 0 },
	{ "log_softmax", 1, 8, 16, run_softmax, 1 },
	{ "layernorm", 1, 8, 16, run_layernorm, 0 },
	{ "rmsnorm", 1, 8, 16, run_layernorm, 1 },
	{ "cross_entropy", 1, 8, 12, run_xent, 0 },
	{ "cross_entropy_smooth", 1, 8, 12, run_xent, 1 },
	{ "dropout", 0, 12, 16, run_dropout, 0 },
	{ "poisson_nll", 0, 8, 16, run_poisson, 0 },
	{ "gaussian_nll", 0, 12, 28, run_gauss, 0 },
};

static struct ax_tensor *leaf(struct ops_data *o, size_t n, int grad)
{
	struct ax_tensor *t = ax_tensor_2d(&o->arena, (int)(n / ROW_C), ROW_C);
	ax_rng_fill_normal(&o->rng, t->data, n, 0, 1);
	if (grad)
		ax_tensor_require_grad(t, &o->arena);
	return t;
}

void ops_open(struct ops_data *o, uint64_t seed)
{
	memset(o, 0, sizeof *o);
	ax_arena_init(&o->arena, 0);
	ax_arena_init(&o->step, 0);
	ax_tape_init(&o->tape, &o->step);
	o->tape.training = 1;
	ax_rng_seed(&o->rng, seed);
}

void ops_close(struct ops_data *o)
{
	ax_tape_free(&o->tape);
	ax_arena_free(&o->step);
	ax_arena_free(&o->arena);
}

static void ops_init(struct ops_data *o, size_t n, uint64_t seed)
{
	ops_open(o, seed);
	o->x = leaf(o, n, 1);
	o->y = leaf(o, n, 0);
	for (size_t i = 0; i < n; i++) // a count-like target for the Poisson loss
		o->y->data[i] = o->y->data[i] * o->y->data[i];
	o->z = leaf(o, n, 1);
	o->gamma = ax_tensor_1d(&o->arena, ROW_C);
	o->beta = ax_tensor_1d(&o->arena, ROW_C);
	ax_tensor_fill(o->gamma, 1.0f);
	ax_tensor_fill(o->beta, 0.0f);
	ax_tensor_require_grad(o->gamma, &o->arena);
	ax_tensor_require_grad(o->beta, &o->arena);
	o->targets = ax_arena_alloc(&o->arena, n / ROW_C * sizeof(int32_t));
	for (size_t r = 0; r < n / ROW_C; r++)
		o->targets[r] = (int32_t)((r * 7919) % ROW_C);
}

static void print_rate(const char *name, const char *dir, size_t n, double secs, int bytes)
{
	printf("%s,%s,%d,%zu,%.3f,%.2f\n", name, dir, ax_threads_get(), n, 1e9 * secs / n,
	       (double)bytes * n / secs * 1e-9);
}

/* Best forward and backward times of reps runs of run(o, kind), after one
 * warm-up run. The output's gradient is filled with 0.5. */
void bench_fwd_bwd(struct ops_data *o, struct ax_tensor *(*run)(struct ops_data *, int),
		   int kind, int reps, double *fwd, double *bwd)
{
	*fwd = *bwd = 1e30;
	for (int r = 0; r < reps + 1; r++) {
		ax_tape_reset(&o->tape);
		double t0 = ax_now();
		struct ax_tensor *out = run(o, kind);
		double t1 = ax_now();
		AX_ASSERT(o->tape.n > 0 && "ops bench: op recorded no node");
		struct ax_tape_node *node = &o->tape.nodes[o->tape.n - 1];
		ax_tensor_require_grad(out, &o->step);
		for (size_t i = 0; i < out->size; i++)
			out->grad[i] = 0.5f;
		double t2 = ax_now();
		node->op->backward(node);
		double t3 = ax_now();
		if (r > 0) {
			*fwd = AX_MIN(*fwd, t1 - t0);
			*bwd = AX_MIN(*bwd, t3 - t2);
		}
	}
}

static void time_case(struct ops_data *o, const struct op_case *c, size_t n, int reps)
{
	double fwd, bwd;
	bench_fwd_bwd(o, c->run, c->kind, reps, &fwd, &bwd);
	print_rate(c->name, "fwd", n, fwd, c->fwd_bytes);
	print_rate(c->name, "bwd", n, bwd, c->bwd_bytes);
}

static void time_adam(struct ops_data *o, size_t n, int reps)
{
	// w, g, m, v: x, y, z and x's gradient
	float *w = o->x->data, *g = o->y->data, *m = o->z->data, *v = o->x->grad;
	memset(v, 0, n * sizeof(float));
	double best = 1e30;
	for (int r = 0; r < reps + 1; r++) {
		double t0 = ax_now();
		ax_adam_update(n, w, g, m, v, r + 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.01f);
		double t1 = ax_now();
		if (r > 0)
			best = AX_MIN(best, t1 - t0);
	}
	print_rate("adamw", "step", n, best, 28);
}

/* -T sets the small size in elements (default 32768: 128 KiB per tensor,
 * in L2), -C the large one in Mi elements (default 16: 64 MiB per tensor);
 * -n the repetitions. */
void bench_ops(const struct config *c)
{
	size_t sizes[2] = { c->seq ? (size_t)c->seq : 32768, (size_t)(c->dim ? c->dim : 16) << 20 };
	printf("op,dir,threads,elements,ns_per_element,gb_per_s\n");
	for (int s = 0; s < 2; s++) {
		size_t n = (sizes[s] + ROW_C - 1) / ROW_C * ROW_C;
		int reps = s == 0 ? c->iters * 20 : c->iters;
		struct ops_data o;
		ops_init(&o, n, c->seed);
		for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
			time_case(&o, &CASES[i], n, reps);
		time_adam(&o, n, reps);
		ops_close(&o);
	}
}
