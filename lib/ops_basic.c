/* ops_basic.c — elementwise (broadcasting), unary, reductions, shapes, indexing. */
#include "ax_math.h"
#include "ax_tape.h"

#include <math.h>
#include <string.h>

#include <omp.h>

/* ---------------------------------------------------------------------------
 * Broadcasting binary ops. Shapes align on the right; a dimension of 1 (or a
 * missing one) repeats. The walk keeps an output multi-index and the two
 * input offsets, with the last dimension as a tight inner loop.
 */
enum binop { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV };

struct bcast {
	int nd;
	int shape[AX_MAX_DIMS];
	size_t sa[AX_MAX_DIMS], sb[AX_MAX_DIMS]; /* element strides, 0 where repeated */
};

static void bcast_init(struct bcast *bc, const struct ax_tensor *a, const struct ax_tensor *b)
{
	int nd = AX_MAX(a->ndim, b->ndim);
	bc->nd = nd;
	size_t sa = 1, sb = 1;
	for (int i = nd - 1; i >= 0; i--) {
		int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
		int da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
		AX_ASSERT((da == db || da == 1 || db == 1) && "shapes do not broadcast");
		bc->shape[i] = AX_MAX(da, db);
		if (da == 0 || db == 0)
			bc->shape[i] = 0;
		bc->sa[i] = da == 1 ? 0 : sa;
		bc->sb[i] = db == 1 ? 0 : sb;
		sa *= (size_t)da;
		sb *= (size_t)db;
	}
}

/* Calls body(ia, ib, io, n, sa_inner, sb_inner) once per inner row. */
#define BCAST_FOR_ROWS(bc, ...)                                                    \
	do {                                                                      \
		int nd_ = (bc)->nd, inner_ = (bc)->shape[nd_ - 1];                \
		size_t rows_ = 1;                                                 \
		for (int d_ = 0; d_ < nd_ - 1; d_++)                              \
			rows_ *= (size_t)(bc)->shape[d_];                         \
		int idx_[AX_MAX_DIMS] = { 0 };                                    \
		size_t ia = 0, ib = 0, io = 0;                                    \
		size_t sai = (bc)->sa[nd_ - 1], sbi = (bc)->sb[nd_ - 1];          \
		for (size_t r_ = 0; r_ < rows_ && inner_ > 0; r_++) {            \
			__VA_ARGS__;                                                \
			io += inner_;                                             \
			for (int d_ = nd_ - 2; d_ >= 0; d_--) {                   \
				ia += (bc)->sa[d_];                               \
				ib += (bc)->sb[d_];                               \
				if (++idx_[d_] < (bc)->shape[d_])                 \
					break;                                    \
				ia -= (bc)->sa[d_] * (size_t)(bc)->shape[d_];     \
				ib -= (bc)->sb[d_] * (size_t)(bc)->shape[d_];     \
				idx_[d_] = 0;                                     \
			}                                                         \
		}                                                                 \
		(void)inner_;                                                     \
	} while (0)

/* Same shapes (residual adds, gates): one loop per gradient, each
 * vectorised; the same expressions and order per element as the general
 * loop below (dA before dB, which matters when a and b are one tensor). A
 * gradient whose assign flag is set is unzeroed and gets 0 + its term. */
static void binop_backward_same(enum binop op, size_t n, const float *A, const float *B,
				const float *G, float *dA, float *dB, int assign_a, int assign_b)
{
	switch (op) {
	case BIN_ADD:
	case BIN_SUB:
		if (dA)
			for (size_t i = 0; i < n; i++) // [vec]
				dA[i] = (assign_a ? 0.0f : dA[i]) + G[i];
		if (dB && op == BIN_ADD)
			for (size_t i = 0; i < n; i++) // [vec]
				dB[i] = (assign_b ? 0.0f : dB[i]) + G[i];
		if (dB && op == BIN_SUB)
			for (size_t i = 0; i < n; i++) // [vec]
				dB[i] = (assign_b ? 0.0f : dB[i]) + -G[i];
		break;
	case BIN_MUL:
		if (dA)
			for (size_t i = 0; i < n; i++) // [vec]
				dA[i] = (assign_a ? 0.0f : dA[i]) + G[i] * B[i];
		if (dB)
			for (size_t i = 0; i < n; i++) // [vec]
				dB[i] = (assign_b ? 0.0f : dB[i]) + G[i] * A[i];
		break;
	default:
		if (dA)
			for (size_t i = 0; i < n; i++) // [vec]
				dA[i] = (assign_a ? 0.0f : dA[i]) + G[i] / B[i];
		if (dB)
			for (size_t i = 0; i < n; i++) // [vec]
				dB[i] = (assign_b ? 0.0f : dB[i]) + -G[i] * A[i] / (B[i] * B[i]);
		break;
	}
}

/* Same shapes: O = A op B, one vectorised loop per op. */
static void binop_same_span(enum binop op, size_t n, const float *A, const float *B, float *O)
{
	switch (op) {
	case BIN_ADD: for (size_t i = 0; i < n; i++) O[i] = A[i] + B[i]; break; // [vec]
	case BIN_SUB: for (size_t i = 0; i < n; i++) O[i] = A[i] - B[i]; break; // [vec]
	case BIN_MUL: for (size_t i = 0; i < n; i++) O[i] = A[i] * B[i]; break; // [vec]
	case BIN_DIV: for (size_t i = 0; i < n; i++) O[i] = A[i] / B[i]; break; // [vec]
	}
}

static void binop_backward(struct ax_tape_node *n)
{
	struct ax_tensor *a = n->in[0], *b = n->in[1], *o = n->out;
	enum binop op = n->iarg[0];
	if (a->size == o->size && b->size == o->size) {
		const float *A = a->data, *B = b->data, *G = o->grad;
		float *dA = a->grad, *dB = b->grad;
#pragma omp parallel if (o->size > AX_ELEMENTWISE_PAR_MIN)
		{
			size_t lo, hi;
			ax_thread_span(o->size, &lo, &hi);
			binop_backward_same(op, hi - lo, A + lo, B + lo, G + lo, dA ? dA + lo : NULL,
					    dB ? dB + lo : NULL, n->fresh & 1, n->fresh >> 1 & 1);
		}
		return;
	}
	struct bcast bc;
	bcast_init(&bc, a, b);
	const float *A = a->data, *B = b->data, *G = o->grad;
	float *dA = a->grad, *dB = b->grad;
	/* broadcasting adds several terms into an element: start from zeros */
	if (n->fresh & 1)
		memset(dA, 0, a->size * sizeof *dA);
	if (n->fresh & 2)
		memset(dB, 0, b->size * sizeof *dB);
	BCAST_FOR_ROWS(&bc, {
		for (int j = 0; j < inner_; j++) {
			float g = G[io + j], x = A[ia + j * sai], y = B[ib + j * sbi];
			float ga, gb;
			switch (op) {
			case BIN_ADD: ga = g; gb = g; break;
			case BIN_SUB: ga = g; gb = -g; break;
			case BIN_MUL: ga = g * y; gb = g * x; break;
			default: ga = g / y; gb = -g * x / (y * y); break;
			}
			if (dA)
				dA[ia + j * sai] += ga;
			if (dB)
				dB[ib + j * sbi] += gb;
		}
	});
}

static const struct ax_opdef OP_ADD = { "add", "add backward", binop_backward, 3 };
static const struct ax_opdef OP_SUB = { "sub", "sub backward", binop_backward, 3 };
static const struct ax_opdef OP_MUL = { "mul", "mul backward", binop_backward, 3 };
static const struct ax_opdef OP_DIV = { "div", "div backward", binop_backward, 3 };

static struct ax_tensor *binop(struct ax_tape *t, enum binop op, struct ax_tensor *a,
			       struct ax_tensor *b)
{
	static const struct ax_opdef *defs[] = { &OP_ADD, &OP_SUB, &OP_MUL, &OP_DIV };
	double t0 = ax_op_clock();
	struct bcast bc;
	bcast_init(&bc, a, b);
	struct ax_tensor *o = ax_op_output(t, bc.nd, bc.shape);
	const float *A = a->data, *B = b->data;
	float *O = o->data;
	if (a->size == o->size && b->size == o->size) {
#pragma omp parallel if (o->size > AX_ELEMENTWISE_PAR_MIN)
		{
			size_t lo, hi;
			ax_thread_span(o->size, &lo, &hi);
			binop_same_span(op, hi - lo, A + lo, B + lo, O + lo);
		}
	} else {
		BCAST_FOR_ROWS(&bc, {
			switch (op) {
			case BIN_ADD: for (int j = 0; j < inner_; j++) O[io + j] = A[ia + j * sai] + B[ib + j * sbi]; break;
			case BIN_SUB: for (int j = 0; j < inner_; j++) O[io + j] = A[ia + j * sai] - B[ib + j * sbi]; break;
			case BIN_MUL: for (int j = 0; j < inner_; j++) O[io + j] = A[ia + j * sai] * B[ib + j * sbi]; break;
			case BIN_DIV: for (int j = 0; j < inner_; j++) O[io + j] = A[ia + j * sai] / B[ib + j * sbi]; break;
			}
		});
	}
	struct ax_tape_node *n = ax_op_record(t, defs[op], o, a, b, NULL, NULL);
	if (n)
		n->iarg[0] = op;
	ax_op_done(defs[op], t0, (double)o->size);
	return o;
}

struct ax_tensor *ax_add(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b) { return binop(t, BIN_ADD, a, b); }
struct ax_tensor *ax_sub(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b) { return binop(t, BIN_SUB, a, b); }
struct ax_tensor *ax_mul(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b) { return binop(t, BIN_MUL, a, b); }
struct ax_tensor *ax_div(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b) { return binop(t, BIN_DIV, a, b); }

/* ---- y = x * s + c ---- */
static void affine_backward(struct ax_tape_node *n)
{
	float s = n->farg[0];
	float *dx = n->in[0]->grad;
	const float *g = n->out->grad;
	for (size_t i = 0; i < n->out->size; i++) // [vec]
		dx[i] += s * g[i];
}
static const struct ax_opdef OP_AFFINE = { "affine", "affine backward", affine_backward, 0 };

struct ax_tensor *ax_affine(struct ax_tape *t, struct ax_tensor *x, float s, float c)
{
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	for (size_t i = 0; i < x->size; i++) // [vec]
		o->data[i] = x->data[i] * s + c;
	struct ax_tape_node *n = ax_op_record(t, &OP_AFFINE, o, x, NULL, NULL, NULL);
	if (n)
		n->farg[0] = s;
	ax_op_done(&OP_AFFINE, t0, 0);
	return o;
}

/* ---- unary ---- */
static inline float unary_f(enum ax_unary k, float x)
{
	switch (k) {
	case AX_NEG: return -x;
	case AX_EXP: return ax_expf(x);
	case AX_LOG: return logf(x);
	case AX_SQRT: return sqrtf(x);
	case AX_SQUARE: return x * x;
	case AX_TANH: return ax_tanhf(x);
	case AX_SIGMOID: return 1.0f / (1.0f + ax_expf(-x));
	case AX_RELU: return x > 0 ? x : 0;
	case AX_GELU: return 0.5f * x * (1.0f + ax_erff(x * (float)M_SQRT1_2));
	case AX_GELU_TANH: {
		float u = 0.7978845608f * (x + 0.044715f * x * x * x);
		return 0.5f * x * (1.0f + ax_tanhf(u));
	}
	case AX_SILU: return x / (1.0f + ax_expf(-x));
	case AX_SOFTSIGN: return x / (1.0f + fabsf(x));
	case AX_SOFTPLUS: return x > 20 ? x : log1pf(expf(x)); /* torch's threshold 20 */
	case AX_ABS: return fabsf(x);
	}
	return 0;
}

/* d y / d x given x and y = f(x). */
static inline float unary_df(enum ax_unary k, float x, float y)
{
	switch (k) {
	case AX_NEG: return -1;
	case AX_EXP: return y;
	case AX_LOG: return 1.0f / x;
	case AX_SQRT: return 0.5f / y;
	case AX_SQUARE: return 2 * x;
	case AX_TANH: return 1 - y * y;
	case AX_SIGMOID: return y * (1 - y);
	case AX_RELU: return x > 0 ? 1.0f : 0.0f;
	case AX_GELU: {
		float cdf = 0.5f * (1.0f + ax_erff(x * (float)M_SQRT1_2));
		float pdf = ax_expf(-0.5f * x * x) * 0.3989422804f;
		return cdf + x * pdf;
	}
	case AX_GELU_TANH: {
		float u = 0.7978845608f * (x + 0.044715f * x * x * x);
		float th = ax_tanhf(u), du = 0.7978845608f * (1 + 3 * 0.044715f * x * x);
		return 0.5f * (1 + th) + 0.5f * x * (1 - th * th) * du;
	}
	case AX_SILU: {
		float s = 1.0f / (1.0f + ax_expf(-x));
		return s * (1 + x * (1 - s));
	}
	case AX_SOFTSIGN: {
		float d = 1 + fabsf(x);
		return 1.0f / (d * d);
	}
	case AX_SOFTPLUS: return x > 20 ? 1.0f : 1.0f / (1.0f + expf(-x));
	case AX_ABS: return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
	}
	return 0;
}

/* dx += g * f'(x) over n elements, or dx = 0 + g * f'(x) when assign (dx
 * unzeroed); one loop per kind (a constant kind in each), so each vectorises. */
#define UNARY_BWD_LOOP(kind)                                                         \
	for (size_t i = 0; i < n; i++)                                               \
		dx[i] = (assign ? 0.0f : dx[i]) + g[i] * unary_df(kind, x[i], y[i])
static void unary_bwd_span(enum ax_unary k, size_t n, const float *x, const float *y,
			   const float *g, float *dx, int assign)
{
	switch (k) {
	case AX_GELU: UNARY_BWD_LOOP(AX_GELU); break; // [vec]
	case AX_SILU: UNARY_BWD_LOOP(AX_SILU); break; // [vec]
	case AX_RELU: UNARY_BWD_LOOP(AX_RELU); break; // [vec]
	case AX_TANH: UNARY_BWD_LOOP(AX_TANH); break; // [vec]
	case AX_SIGMOID: UNARY_BWD_LOOP(AX_SIGMOID); break; // [vec]
	case AX_GELU_TANH: UNARY_BWD_LOOP(AX_GELU_TANH); break; // [vec]
	case AX_EXP: UNARY_BWD_LOOP(AX_EXP); break; // [vec]
	case AX_NEG: UNARY_BWD_LOOP(AX_NEG); break; // [vec]
	case AX_SQRT: UNARY_BWD_LOOP(AX_SQRT); break; // [vec]
	case AX_SQUARE: UNARY_BWD_LOOP(AX_SQUARE); break; // [vec]
	case AX_SOFTSIGN: UNARY_BWD_LOOP(AX_SOFTSIGN); break; // [vec]
	case AX_ABS: UNARY_BWD_LOOP(AX_ABS); break; // [vec]
	default: UNARY_BWD_LOOP(k); break; // vec: scalar (log, softplus: libm calls)
	}
}
#undef UNARY_BWD_LOOP

static void unary_backward(struct ax_tape_node *n)
{
	enum ax_unary k = n->iarg[0];
	const float *x = n->in[0]->data, *y = n->out->data, *g = n->out->grad;
	float *dx = n->in[0]->grad;
	size_t n_el = n->out->size;
#pragma omp parallel if (n_el > AX_ELEMENTWISE_PAR_MIN)
	{
		size_t lo, hi;
		ax_thread_span(n_el, &lo, &hi);
		unary_bwd_span(k, hi - lo, x + lo, y + lo, g + lo, dx + lo, n->fresh & 1);
	}
}
static const struct ax_opdef OP_UNARY = { "unary", "unary backward", unary_backward, 1 };

/* y = f(x) over n elements; one loop per kind, so each vectorises. */
static void unary_fwd_span(enum ax_unary k, size_t n, const float *x, float *y)
{
	switch (k) {
	case AX_RELU: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_RELU, x[i]); break; // [vec]
	case AX_GELU: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_GELU, x[i]); break; // [vec]
	case AX_SILU: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_SILU, x[i]); break; // [vec]
	case AX_SIGMOID: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_SIGMOID, x[i]); break; // [vec]
	case AX_TANH: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_TANH, x[i]); break; // [vec]
	case AX_GELU_TANH: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_GELU_TANH, x[i]); break; // [vec]
	case AX_EXP: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_EXP, x[i]); break; // [vec]
	case AX_NEG: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_NEG, x[i]); break; // [vec]
	case AX_SQRT: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_SQRT, x[i]); break; // [vec]
	case AX_SQUARE: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_SQUARE, x[i]); break; // [vec]
	case AX_SOFTSIGN: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_SOFTSIGN, x[i]); break; // [vec]
	case AX_ABS: for (size_t i = 0; i < n; i++) y[i] = unary_f(AX_ABS, x[i]); break; // [vec]
	default: for (size_t i = 0; i < n; i++) y[i] = unary_f(k, x[i]); break; // vec: scalar (log, softplus: libm calls)
	}
}

struct ax_tensor *ax_unary(struct ax_tape *t, enum ax_unary kind, struct ax_tensor *x)
{
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	const float *xd = x->data;
	float *od = o->data;
	size_t n_el = x->size;
#pragma omp parallel if (n_el > AX_ELEMENTWISE_PAR_MIN)
	{
		size_t lo, hi;
		ax_thread_span(n_el, &lo, &hi);
		unary_fwd_span(kind, hi - lo, xd + lo, od + lo);
	}
	struct ax_tape_node *n = ax_op_record(t, &OP_UNARY, o, x, NULL, NULL, NULL);
	if (n)
		n->iarg[0] = kind;
	ax_op_done(&OP_UNARY, t0, (double)x->size);
	return o;
}

/* ---------------------------------------------------------------------------
 * Reductions over one axis: view x as (outer, len, inner).
 */
enum reduce { RED_SUM, RED_MEAN, RED_MAX };

static void reduce_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0];
	enum reduce kind = n->iarg[0];
	size_t outer = n->iarg[1], len = n->iarg[2], inner = n->iarg[3];
	const float *g = n->out->grad;
	const int32_t *arg = n->saved;
	float scale = kind == RED_MEAN ? 1.0f / (float)len : 1.0f;
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			float gi = g[o * inner + i] * scale;
			if (kind == RED_MAX)
				x->grad[(o * len + arg[o * inner + i]) * inner + i] += gi;
			else
				for (size_t l = 0; l < len; l++)
					x->grad[(o * len + l) * inner + i] += gi;
		}
}
static const struct ax_opdef OP_REDUCE = { "reduce", "reduce backward", reduce_backward, 0 };

static struct ax_tensor *reduce(struct ax_tape *t, struct ax_tensor *x, int axis, enum reduce kind)
{
	double t0 = ax_op_clock();
	if (axis < 0)
		axis += x->ndim;
	AX_ASSERT(axis >= 0 && axis < x->ndim && "reduction axis out of range");
	size_t outer = ax_tensor_span(x, 0, axis), len = x->shape[axis];
	size_t inner = ax_tensor_span(x, axis + 1, x->ndim);
	AX_ASSERT(len > 0 && "reduction over an empty axis");
	int shape[AX_MAX_DIMS], nd = 0;
	for (int i = 0; i < x->ndim; i++)
		if (i != axis)
			shape[nd++] = x->shape[i];
	if (nd == 0)
		shape[nd++] = 1;
	struct ax_tensor *o = ax_op_output(t, nd, shape);
	int32_t *arg = kind == RED_MAX ? ax_tape_ints(t, outer * inner) : NULL;
	for (size_t a = 0; a < outer; a++)
		for (size_t i = 0; i < inner; i++) {
			const float *p = x->data + a * len * inner + i;
			double acc = kind == RED_MAX ? p[0] : 0;
			int best = 0;
			for (size_t l = 0; l < len; l++) {
				float v = p[l * inner];
				if (kind == RED_MAX) {
					if (v > acc) {
						acc = v;
						best = (int)l;
					}
				} else
					acc += v;
			}
			if (kind == RED_MEAN)
				acc /= (double)len;
			o->data[a * inner + i] = (float)acc;
			if (arg)
				arg[a * inner + i] = best;
		}
	struct ax_tape_node *n = ax_op_record(t, &OP_REDUCE, o, x, NULL, NULL, NULL);
	if (n) {
		n->iarg[0] = kind;
		n->iarg[1] = (int)outer;
		n->iarg[2] = (int)len;
		n->iarg[3] = (int)inner;
		n->saved = arg;
	}
	ax_op_done(&OP_REDUCE, t0, 0);
	return o;
}

struct ax_tensor *ax_sum(struct ax_tape *t, struct ax_tensor *x, int axis) { return reduce(t, x, axis, RED_SUM); }
struct ax_tensor *ax_mean(struct ax_tape *t, struct ax_tensor *x, int axis) { return reduce(t, x, axis, RED_MEAN); }
struct ax_tensor *ax_max(struct ax_tape *t, struct ax_tensor *x, int axis) { return reduce(t, x, axis, RED_MAX); }

static struct ax_tensor *flat(struct ax_tape *t, struct ax_tensor *x)
{
	return ax_reshape(t, x, 1, (int[]){ (int)x->size });
}
struct ax_tensor *ax_sum_all(struct ax_tape *t, struct ax_tensor *x) { return reduce(t, flat(t, x), 0, RED_SUM); }
struct ax_tensor *ax_mean_all(struct ax_tape *t, struct ax_tensor *x) { return reduce(t, flat(t, x), 0, RED_MEAN); }

/* ---------------------------------------------------------------------------
 * Shapes.
 */
static void reshape_backward(struct ax_tape_node *n)
{
	float *dx = n->in[0]->grad;
	const float *g = n->out->grad;
	int assign = n->fresh & 1;
	for (size_t i = 0; i < n->out->size; i++) // [vec]
		dx[i] = (assign ? 0.0f : dx[i]) + g[i];
}
static const struct ax_opdef OP_RESHAPE = { "reshape", "reshape backward", reshape_backward, 1 };

struct ax_tensor *ax_reshape(struct ax_tape *t, struct ax_tensor *x, int ndim, const int *shape)
{
	int s[AX_MAX_DIMS], free_dim = -1;
	size_t known = 1;
	AX_ASSERT(ndim >= 1 && ndim <= AX_MAX_DIMS && "reshape rank must be 1..5");
	for (int i = 0; i < ndim; i++) {
		s[i] = shape[i];
		if (s[i] == -1) {
			AX_ASSERT(free_dim < 0 && "only one -1 in a reshape");
			free_dim = i;
		} else
			known *= (size_t)s[i];
	}
	if (free_dim >= 0) {
		AX_ASSERT(known > 0 && x->size % known == 0 && "reshape: size does not divide");
		s[free_dim] = (int)(x->size / known);
		known *= (size_t)s[free_dim];
	}
	AX_ASSERT(known == x->size && "reshape must keep the element count");
	struct ax_tensor *o = ax_tensor_wrap(t->arena, x->data, ndim, s);
	ax_op_record(t, &OP_RESHAPE, o, x, NULL, NULL, NULL);
	return o;
}

/* Output index walk for permute: out[i...] = x[perm-mapped index]. */
static void permute_copy(const struct ax_tensor *x, const int *perm, const float *src, float *dst,
			 int to_out)
{
	int nd = x->ndim, oshape[AX_MAX_DIMS], idx[AX_MAX_DIMS] = { 0 };
	size_t xstride[AX_MAX_DIMS], ostride[AX_MAX_DIMS];
	size_t s = 1;
	for (int i = nd - 1; i >= 0; i--) {
		xstride[i] = s;
		s *= (size_t)x->shape[i];
	}
	for (int i = 0; i < nd; i++) {
		oshape[i] = x->shape[perm[i]];
		ostride[i] = xstride[perm[i]];  /* step in x per step of out dim i */
	}
	size_t xi = 0;
	for (size_t o = 0; o < x->size; o++) {
		if (to_out)
			dst[o] = src[xi];
		else
			dst[xi] += src[o];
		for (int d = nd - 1; d >= 0; d--) {
			xi += ostride[d];
			if (++idx[d] < oshape[d])
				break;
			xi -= ostride[d] * (size_t)oshape[d];
			idx[d] = 0;
		}
	}
}

static void permute_backward(struct ax_tape_node *n)
{
	permute_copy(n->in[0], n->iarg, n->out->grad, n->in[0]->grad, 0);
}
static const struct ax_opdef OP_PERMUTE = { "permute", "permute backward", permute_backward, 0 };

struct ax_tensor *ax_permute(struct ax_tape *t, struct ax_tensor *x, const int *perm)
{
	double t0 = ax_op_clock();
	int shape[AX_MAX_DIMS], seen = 0;
	for (int i = 0; i < x->ndim; i++) {
		AX_ASSERT(perm[i] >= 0 && perm[i] < x->ndim && !(seen & (1 << perm[i])) &&
			  "permute needs a permutation of the dims");
		seen |= 1 << perm[i];
		shape[i] = x->shape[perm[i]];
	}
	struct ax_tensor *o = ax_op_output(t, x->ndim, shape);
	permute_copy(x, perm, x->data, o->data, 1);
	struct ax_tape_node *n = ax_op_record(t, &OP_PERMUTE, o, x, NULL, NULL, NULL);
	if (n)
		memcpy(n->iarg, perm, x->ndim * sizeof(int));
	ax_op_done(&OP_PERMUTE, t0, 0);
	return o;
}

struct ax_tensor *ax_transpose(struct ax_tape *t, struct ax_tensor *x, int d0, int d1)
{
	int perm[AX_MAX_DIMS];
	for (int i = 0; i < x->ndim; i++)
		perm[i] = i;
	perm[d0] = d1;
	perm[d1] = d0;
	return ax_permute(t, x, perm);
}

/* Concat and slice view tensors as (outer, len_along_axis * inner). */
struct concat_saved {
	int n;
	struct ax_tensor **xs;
};

static void concat_backward(struct ax_tape_node *n)
{
	struct concat_saved *s = n->saved;
	size_t outer = n->iarg[0], inner = n->iarg[1], total = n->iarg[2], off = 0;
	for (int k = 0; k < s->n; k++) {
		struct ax_tensor *x = s->xs[k];
		size_t w = x->size / (outer ? outer : 1);
		float *dx = ax_tape_grad(n, x);   /* only xs[0] is in in[] */
		if (dx)
			for (size_t o = 0; o < outer; o++)
				for (size_t j = 0; j < w; j++)
					dx[o * w + j] += n->out->grad[o * total * inner + off + j];
		off += w;
	}
}
static const struct ax_opdef OP_CONCAT = { "concat", "concat backward", concat_backward, 0 };

struct ax_tensor *ax_concat(struct ax_tape *t, struct ax_tensor **xs, int n, int axis)
{
	double t0 = ax_op_clock();
	AX_ASSERT(n >= 1 && "concat of nothing");
	struct ax_tensor *x0 = xs[0];
	if (axis < 0)
		axis += x0->ndim;
	int shape[AX_MAX_DIMS], total = 0;
	for (int k = 0; k < n; k++) {
		AX_ASSERT(xs[k]->ndim == x0->ndim && "concat: ranks differ");
		for (int i = 0; i < x0->ndim; i++)
			AX_ASSERT((i == axis || xs[k]->shape[i] == x0->shape[i]) &&
				  "concat: shapes differ off the axis");
		total += xs[k]->shape[axis];
	}
	memcpy(shape, x0->shape, sizeof shape);
	shape[axis] = total;
	struct ax_tensor *o = ax_op_output(t, x0->ndim, shape);
	size_t outer = ax_tensor_span(x0, 0, axis), inner = ax_tensor_span(x0, axis + 1, x0->ndim);
	size_t off = 0;
	for (int k = 0; k < n; k++) {
		size_t w = xs[k]->shape[axis] * inner;
		for (size_t a = 0; a < outer; a++)
			memcpy(o->data + a * total * inner + off, xs[k]->data + a * w, w * sizeof(float));
		off += w;
	}
	/* Record with a grad-carrying input in slot 0 (the slots hold only 4);
	 * the full list goes in saved. */
	struct ax_tensor *carrier = NULL;
	for (int k = 0; k < n && !carrier; k++)
		if (xs[k]->requires_grad)
			carrier = xs[k];
	struct ax_tape_node *node =
		carrier ? ax_op_record(t, &OP_CONCAT, o, carrier, NULL, NULL, NULL) : NULL;
	if (node) {
		struct concat_saved *s = ax_arena_alloc(t->arena, sizeof *s);
		s->n = n;
		s->xs = ax_arena_alloc(t->arena, n * sizeof *s->xs);
		memcpy(s->xs, xs, n * sizeof *xs);
		node->saved = s;
		node->iarg[0] = (int)outer;
		node->iarg[1] = (int)inner;
		node->iarg[2] = total;
	}
	ax_op_done(&OP_CONCAT, t0, 0);
	return o;
}

static void slice_backward(struct ax_tape_node *n)
{
	size_t outer = n->iarg[0], len = n->iarg[1], start = n->iarg[2], w = n->iarg[3],
	       inner = n->iarg[4];
	for (size_t a = 0; a < outer; a++)
		for (size_t j = 0; j < w * inner; j++)
			n->in[0]->grad[(a * len + start) * inner + j] += n->out->grad[a * w * inner + j];
}
static const struct ax_opdef OP_SLICE = { "slice", "slice backward", slice_backward, 0 };

struct ax_tensor *ax_slice(struct ax_tape *t, struct ax_tensor *x, int axis, int start, int len)
{
	double t0 = ax_op_clock();
	if (axis < 0)
		axis += x->ndim;
	AX_ASSERT(axis >= 0 && axis < x->ndim && start >= 0 && len >= 0 &&
		  start + len <= x->shape[axis] && "slice out of range");
	int shape[AX_MAX_DIMS];
	memcpy(shape, x->shape, sizeof shape);
	shape[axis] = len;
	struct ax_tensor *o = ax_op_output(t, x->ndim, shape);
	size_t outer = ax_tensor_span(x, 0, axis), inner = ax_tensor_span(x, axis + 1, x->ndim);
	size_t full = x->shape[axis];
	for (size_t a = 0; a < outer; a++)
		memcpy(o->data + a * len * inner, x->data + (a * full + start) * inner,
		       len * inner * sizeof(float));
	struct ax_tape_node *n = ax_op_record(t, &OP_SLICE, o, x, NULL, NULL, NULL);
	if (n) {
		n->iarg[0] = (int)outer;
		n->iarg[1] = (int)full;
		n->iarg[2] = start;
		n->iarg[3] = len;
		n->iarg[4] = (int)inner;
	}
	ax_op_done(&OP_SLICE, t0, 0);
	return o;
}
