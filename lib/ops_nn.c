/* ops_nn.c — products, normalisation, losses, indexing and the fused
 * sequence/image ops: thin autograd wrappers over lib/kernels_*.c. */
#include "ax_rng.h"
#include "ax_tape.h"
#include "ax_math.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* The gradient buffer a backward kernel should add into, or NULL to skip. */
#define GRAD_OR_NULL(x) ((x) && (x)->requires_grad ? (x)->grad : NULL)

/* ---------------------------------------------------------------------------
 * Indexing.
 */
static void embedding_backward(struct ax_tape_node *n)
{
	const int32_t *ids = n->saved;
	int C = n->iarg[0];
	size_t count = n->out->size / C;
	for (size_t i = 0; i < count; i++) {
		float *dw = n->in[0]->grad + (size_t)ids[i] * C;
		const float *g = n->out->grad + i * C;
		for (int c = 0; c < C; c++)
			dw[c] += g[c];
	}
}
static const struct ax_opdef OP_EMBEDDING = { "embedding", "embedding backward", embedding_backward, 0 };

struct ax_tensor *ax_embedding(struct ax_tape *t, struct ax_tensor *w, const int32_t *ids,
			       int ids_ndim, const int *ids_shape)
{
	double t0 = ax_op_clock();
	AX_ASSERT(w->ndim == 2 && ids_ndim >= 1 && ids_ndim < AX_MAX_DIMS && "embedding shapes");
	int shape[AX_MAX_DIMS], V = w->shape[0], C = w->shape[1];
	size_t count = 1;
	for (int i = 0; i < ids_ndim; i++) {
		shape[i] = ids_shape[i];
		count *= (size_t)ids_shape[i];
	}
	shape[ids_ndim] = C;
	struct ax_tensor *o = ax_op_output(t, ids_ndim + 1, shape);
	for (size_t i = 0; i < count; i++) {
		AX_ASSERT(ids[i] >= 0 && ids[i] < V && "embedding id out of range");
		memcpy(o->data + i * C, w->data + (size_t)ids[i] * C, C * sizeof(float));
	}
	struct ax_tape_node *n = ax_op_record(t, &OP_EMBEDDING, o, w, NULL, NULL, NULL);
	if (n) {
		int32_t *copy = ax_tape_ints(t, count);
		memcpy(copy, ids, count * sizeof *ids);
		n->saved = copy;
		n->iarg[0] = C;
	}
	ax_op_done(&OP_EMBEDDING, t0, 0);
	return o;
}

static void gather_rows_backward(struct ax_tape_node *n)
{
	const int32_t *idx = n->saved;
	int M = n->out->shape[0], C = n->out->shape[1];
	for (int m = 0; m < M; m++)
		for (int c = 0; c < C; c++)
			n->in[0]->grad[(size_t)idx[m] * C + c] += n->out->grad[(size_t)m * C + c];
}
static const struct ax_opdef OP_GATHER = { "gather_rows", "gather_rows backward", gather_rows_backward, 0 };

struct ax_tensor *ax_gather_rows(struct ax_tape *t, struct ax_tensor *x, const int32_t *idx, int M)
{
	double t0 = ax_op_clock();
	AX_ASSERT(x->ndim == 2 && "gather_rows takes (N, C)");
	int N = x->shape[0], C = x->shape[1];
	struct ax_tensor *o = ax_op_output(t, 2, (int[]){ M, C });
	for (int m = 0; m < M; m++) {
		AX_ASSERT(idx[m] >= 0 && idx[m] < N && "gather index out of range");
		memcpy(o->data + (size_t)m * C, x->data + (size_t)idx[m] * C, C * sizeof(float));
	}
	struct ax_tape_node *n = ax_op_record(t, &OP_GATHER, o, x, NULL, NULL, NULL);
	if (n)
		n->saved = (void *)idx;
	ax_op_done(&OP_GATHER, t0, 0);
	return o;
}

static void scatter_add_backward(struct ax_tape_node *n)
{
	struct ax_tensor *base = n->in[0], *src = n->in[1];
	const int32_t *idx = n->saved;
	int M = src->shape[0], C = src->shape[1];
	if (base->requires_grad)
		for (size_t i = 0; i < base->size; i++)
			base->grad[i] += n->out->grad[i];
	if (src->requires_grad)
		for (int m = 0; m < M; m++)
			for (int c = 0; c < C; c++)
				src->grad[(size_t)m * C + c] += n->out->grad[(size_t)idx[m] * C + c];
}
static const struct ax_opdef OP_SCATTER = { "scatter_add_rows", "scatter_add_rows backward", scatter_add_backward, 0 };

struct ax_tensor *ax_scatter_add_rows(struct ax_tape *t, struct ax_tensor *base,
				      struct ax_tensor *src, const int32_t *idx)
{
	double t0 = ax_op_clock();
	AX_ASSERT(base->ndim == 2 && src->ndim == 2 && base->shape[1] == src->shape[1] &&
		  "scatter_add_rows takes (N, C) and (M, C)");
	int N = base->shape[0], M = src->shape[0], C = src->shape[1];
	struct ax_tensor *o = ax_op_output(t, 2, base->shape);
	memcpy(o->data, base->data, base->size * sizeof(float));
	for (int m = 0; m < M; m++) {
		AX_ASSERT(idx[m] >= 0 && idx[m] < N && "scatter index out of range");
		for (int c = 0; c < C; c++)
			o->data[(size_t)idx[m] * C + c] += src->data[(size_t)m * C + c];
	}
	struct ax_tape_node *n = ax_op_record(t, &OP_SCATTER, o, base, src, NULL, NULL);
	if (n)
		n->saved = (void *)idx;
	ax_op_done(&OP_SCATTER, t0, 0);
	return o;
}

/* ---------------------------------------------------------------------------
 * Products.
 */
static void matmul_backward(struct ax_tape_node *n)
{
	struct ax_tensor *a = n->in[0], *b = n->in[1];
	int ta = n->iarg[0], tb = n->iarg[1], M = n->iarg[2], N = n->iarg[3], K = n->iarg[4];
	int batch = n->iarg[5];
	size_t sa = (size_t)M * K, sb = (size_t)K * N, sc = (size_t)M * N;
	for (int i = 0; i < batch; i++) {
		const float *A = a->data + i * sa, *B = b->data + i * sb, *G = n->out->grad + i * sc;
		if (a->requires_grad) {
			if (!ta) /* dA (M,K) += G (M,N) op(B)^T */
				ax_sgemm(0, !tb, M, K, N, 1.0f, G, B, 1.0f, a->grad + i * sa);
			else     /* dA (K,M) += op(B) G^T */
				ax_sgemm(tb, 1, K, M, N, 1.0f, B, G, 1.0f, a->grad + i * sa);
		}
		if (b->requires_grad) {
			if (!tb) /* dB (K,N) += op(A)^T G */
				ax_sgemm(!ta, 0, K, N, M, 1.0f, A, G, 1.0f, b->grad + i * sb);
			else     /* dB (N,K) += G^T op(A) */
				ax_sgemm(1, ta, N, K, M, 1.0f, G, A, 1.0f, b->grad + i * sb);
		}
	}
}
static const struct ax_opdef OP_MATMUL = { "matmul", "matmul backward", matmul_backward, 0 };

static struct ax_tensor *matmul_common(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b,
				       int ta, int tb, int batch, int M, int N, int K,
				       int ndim, const int *shape)
{
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, ndim, shape);
	for (int i = 0; i < batch; i++)
		ax_sgemm(ta, tb, M, N, K, 1.0f, a->data + (size_t)i * M * K,
			 b->data + (size_t)i * K * N, 0.0f, o->data + (size_t)i * M * N);
	struct ax_tape_node *n = ax_op_record(t, &OP_MATMUL, o, a, b, NULL, NULL);
	double flops = 2.0 * batch * M * N * K;
	if (n) {
		int args[] = { ta, tb, M, N, K, batch };
		memcpy(n->iarg, args, sizeof args);
		n->flops = flops;
	}
	ax_op_done(&OP_MATMUL, t0, flops);
	return o;
}

struct ax_tensor *ax_matmul(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b, int ta, int tb)
{
	AX_ASSERT(b->ndim == 2 && (a->ndim == 2 || !ta) && "matmul takes 2-D operands");
	int K = ta ? a->shape[0] : ax_tensor_cols(a);
	int M = ta ? a->shape[1] : (int)ax_tensor_rows(a);
	int Kb = tb ? b->shape[1] : b->shape[0], N = tb ? b->shape[0] : b->shape[1];
	AX_ASSERT(K == Kb && "matmul inner dimensions differ");
	int shape[AX_MAX_DIMS], nd;
	if (ta) {
		shape[0] = M;
		nd = 1;
	} else {
		memcpy(shape, a->shape, sizeof shape);
		nd = a->ndim - 1;
	}
	shape[nd++] = N;
	return matmul_common(t, a, b, ta, tb, 1, M, N, K, nd, shape);
}

struct ax_tensor *ax_bmm(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b, int ta, int tb)
{
	AX_ASSERT(a->ndim == 3 && b->ndim == 3 && a->shape[0] == b->shape[0] && "bmm takes (Bt,M,K),(Bt,K,N)");
	int M = ta ? a->shape[2] : a->shape[1], K = ta ? a->shape[1] : a->shape[2];
	int Kb = tb ? b->shape[2] : b->shape[1], N = tb ? b->shape[1] : b->shape[2];
	AX_ASSERT(K == Kb && "bmm inner dimensions differ");
	return matmul_common(t, a, b, ta, tb, a->shape[0], M, N, K, 3, (int[]){ a->shape[0], M, N });
}

/* dx (M,in) += G (M,out) W (out,in); dx = G W when dx is fresh (the
 * product's sums start from +0, so they are the bits of adding to zeros). */
static void linear_dx(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *w = n->in[1];
	int M = (int)ax_tensor_rows(x), in = w->shape[1], out = w->shape[0];
	float beta = n->fresh & 1 ? 0.0f : 1.0f;
	ax_sgemm(0, 0, M, in, out, 1.0f, n->out->grad, w->data, beta, x->grad);
}

/* dW (out,in) += G^T x, and the bias's gradient */
static void linear_dw(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
	int M = (int)ax_tensor_rows(x), in = w->shape[1], out = w->shape[0];
	const float *G = n->out->grad;
	if (w->requires_grad)
		ax_sgemm(1, 0, out, in, M, 1.0f, G, x->data, 1.0f, w->grad);
	if (bias && bias->requires_grad)
		for (int m = 0; m < M; m++)
			for (int j = 0; j < out; j++) // [vec]
				bias->grad[j] += G[(size_t)m * out + j];
}

/* dx and dW are two independent products of equal cost. With two threads or
 * more they run side by side, one single-threaded sgemm per core (OpenBLAS
 * runs single-threaded inside an OpenMP region), instead of each product
 * split across the cores. Same bits either way: OpenBLAS splits a product's
 * output between threads, never its sums. Otherwise the products run outside
 * any parallel construct: inside even an inactive one (an if clause that is
 * false) OpenBLAS's own threaded region is a nested one, for which libgomp
 * starts threads anew on every call (apical-net at 2 threads ran 2x slower
 * than at 1). */
static void linear_backward(struct ax_tape_node *n)
{
	int want_dx = n->in[0]->requires_grad, want_dw = n->in[1]->requires_grad;
	if (want_dx && want_dw && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel sections num_threads(2)
		{
#pragma omp section
			linear_dx(n);
#pragma omp section
			linear_dw(n);
		}
		return;
	}
	if (want_dx)
		linear_dx(n);
	linear_dw(n);
}
static const struct ax_opdef OP_LINEAR = { "linear", "linear backward", linear_backward, 1 };

/* Rows [lo, hi) of y = x W^T + bias. */
static void linear_rows(int lo, int hi, int in, int out, const float *x, const float *w,
			const float *bias, float *y)
{
	if (hi <= lo)
		return;
	x += (size_t)lo * in;
	y += (size_t)lo * out;
	if (bias) {
		for (int m = 0; m < hi - lo; m++)
			memcpy(y + (size_t)m * out, bias, out * sizeof(float));
		ax_sgemm(0, 1, hi - lo, out, in, 1.0f, x, w, 1.0f, y);
	} else {
		ax_sgemm(0, 1, hi - lo, out, in, 1.0f, x, w, 0.0f, y);
	}
}

struct ax_tensor *ax_linear(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *w,
			    struct ax_tensor *bias)
{
	AX_ASSERT(w->ndim == 2 && ax_tensor_cols(x) == w->shape[1] && "linear: x (..., in), w (out, in)");
	AX_ASSERT((!bias || (bias->ndim == 1 && bias->shape[0] == w->shape[0])) && "linear: bias (out)");
	double t0 = ax_op_clock();
	int M = (int)ax_tensor_rows(x), in = w->shape[1], out = w->shape[0];
	int shape[AX_MAX_DIMS];
	memcpy(shape, x->shape, sizeof shape);
	shape[x->ndim - 1] = out;
	struct ax_tensor *o = ax_op_output(t, x->ndim, shape);
	/* With several threads and rows enough, each thread takes a block of
	 * rows with a single-threaded sgemm (OpenBLAS's inside an OpenMP
	 * region), as linear_backward does with dx and dW: OpenBLAS's own
	 * split of such products kept two cores 15-30% short of twice one
	 * (the block 19.5 -> 18.9 ms, mod-lm 5% more tokens/s). The bits are
	 * fixed by the thread count: OpenBLAS picks kernels by size, so a
	 * block of rows may not add up as the whole product would. */
	int nt = omp_get_max_threads();
	if (nt > 1 && M >= 64 * nt && !omp_in_parallel()) {
#pragma omp parallel num_threads(nt)
		{
			size_t lo, hi;
			ax_thread_span((size_t)M, &lo, &hi);
			linear_rows((int)lo, (int)hi, in, out, x->data, w->data,
				    bias ? bias->data : NULL, o->data);
		}
	} else {
		linear_rows(0, M, in, out, x->data, w->data, bias ? bias->data : NULL, o->data);
	}
	struct ax_tape_node *n = ax_op_record(t, &OP_LINEAR, o, x, w, bias, NULL);
	double flops = 2.0 * M * in * out;
	if (n)
		n->flops = flops;
	ax_op_done(&OP_LINEAR, t0, flops);
	return o;
}

/* ---------------------------------------------------------------------------
 * Normalisation and softmax.
 */
static void layernorm_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *g = n->in[1], *b = n->in[2];
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	const float *mean = n->saved, *rstd = mean + N;
	ax_layernorm_backward(N, C, x->data, g->data, mean, rstd, n->out->grad,
			      GRAD_OR_NULL(x), GRAD_OR_NULL(g), GRAD_OR_NULL(b), n->fresh & 1);
}
static const struct ax_opdef OP_LAYERNORM = { "layernorm", "layernorm backward", layernorm_backward, 1 };

struct ax_tensor *ax_layernorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma,
			       struct ax_tensor *beta, float eps)
{
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	AX_ASSERT(gamma->size == (size_t)C && (!beta || beta->size == (size_t)C) && "layernorm: gamma/beta (C)");
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	float *stats = ax_arena_alloc(t->arena, 2 * (size_t)N * sizeof(float));
	ax_layernorm_forward(N, C, x->data, gamma->data, beta ? beta->data : NULL, eps, o->data,
			     stats, stats + N);
	struct ax_tape_node *n = ax_op_record(t, &OP_LAYERNORM, o, x, gamma, beta, NULL);
	if (n)
		n->saved = stats;
	ax_op_done(&OP_LAYERNORM, t0, 8.0 * x->size);
	return o;
}

/* x (B, C, S...): channels on axis 1, everything after it one S. */
static void bn_dims(const struct ax_tensor *x, int *B, int *C, int *S)
{
	*B = x->shape[0], *C = x->shape[1], *S = 1;
	for (int i = 2; i < x->ndim; i++)
		*S *= x->shape[i];
}

static void batchnorm_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *g = n->in[1], *b = n->in[2];
	int B, C, S;
	bn_dims(x, &B, &C, &S);
	const float *mean = n->saved, *rstd = mean + C;
	ax_batchnorm_backward(B, C, S, n->iarg[0], x->data, mean, rstd, g ? g->data : NULL,
			      n->out->grad, GRAD_OR_NULL(x), GRAD_OR_NULL(g), GRAD_OR_NULL(b),
			      n->fresh & 1);
}
static const struct ax_opdef OP_BATCHNORM = { "batchnorm", "batchnorm backward", batchnorm_backward, 1 };

struct ax_tensor *ax_batchnorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma,
			       struct ax_tensor *beta, float *running_mean, float *running_var,
			       float momentum, float eps)
{
	AX_ASSERT(x->ndim >= 2 && "batchnorm: x (B, C, ...)");
	int B, C, S;
	bn_dims(x, &B, &C, &S);
	AX_ASSERT((!gamma || gamma->size == (size_t)C) && (!beta || beta->size == (size_t)C) &&
		  "batchnorm: gamma/beta (C)");
	AX_ASSERT((t->training || (running_mean && running_var)) &&
		  "batchnorm: evaluation needs the running statistics");
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	float *stats = ax_arena_alloc(t->arena, 3 * (size_t)C * sizeof(float));
	float *mean = stats, *rstd = stats + C, *var = stats + 2 * C;
	if (t->training) {
		ax_batchnorm_stats(B, C, S, x->data, eps, mean, rstd, var);
		for (int c = 0; running_mean && c < C; c++) {
			running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean[c];
			running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var[c];
		}
	} else
		for (int c = 0; c < C; c++) {
			mean[c] = running_mean[c];
			rstd[c] = 1.0f / sqrtf(running_var[c] + eps);
		}
	ax_batchnorm_forward(B, C, S, x->data, mean, rstd, gamma ? gamma->data : NULL,
			     beta ? beta->data : NULL, o->data);
	struct ax_tape_node *n = ax_op_record(t, &OP_BATCHNORM, o, x, gamma, beta, NULL);
	if (n) {
		n->saved = stats;
		n->iarg[0] = t->training;
	}
	ax_op_done(&OP_BATCHNORM, t0, 6.0 * x->size);
	return o;
}

static void rmsnorm_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *g = n->in[1];
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	ax_rmsnorm_backward(N, C, x->data, g->data, n->saved, n->out->grad, GRAD_OR_NULL(x),
			    GRAD_OR_NULL(g), n->fresh & 1);
}
static const struct ax_opdef OP_RMSNORM = { "rmsnorm", "rmsnorm backward", rmsnorm_backward, 1 };

struct ax_tensor *ax_rmsnorm(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *gamma, float eps)
{
	double t0 = ax_op_clock();
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	AX_ASSERT(gamma->size == (size_t)C && "rmsnorm: gamma (C)");
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	float *rstd = ax_arena_alloc(t->arena, (size_t)N * sizeof(float));
	ax_rmsnorm_forward(N, C, x->data, gamma->data, eps, o->data, rstd);
	struct ax_tape_node *n = ax_op_record(t, &OP_RMSNORM, o, x, gamma, NULL, NULL);
	if (n)
		n->saved = rstd;
	ax_op_done(&OP_RMSNORM, t0, 0);
	return o;
}

static void softmax_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0];
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	if (n->iarg[0])
		ax_log_softmax_backward(N, C, n->out->data, n->out->grad, x->grad);
	else
		ax_softmax_backward(N, C, n->out->data, n->out->grad, x->grad);
}
static const struct ax_opdef OP_SOFTMAX = { "softmax", "softmax backward", softmax_backward, 0 };

static struct ax_tensor *softmax_common(struct ax_tape *t, struct ax_tensor *x, int log)
{
	double t0 = ax_op_clock();
	int C = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	if (log)
		ax_log_softmax_forward(N, C, x->data, o->data);
	else
		ax_softmax_forward(N, C, x->data, o->data);
	struct ax_tape_node *n = ax_op_record(t, &OP_SOFTMAX, o, x, NULL, NULL, NULL);
	if (n)
		n->iarg[0] = log;
	ax_op_done(&OP_SOFTMAX, t0, 0);
	return o;
}
struct ax_tensor *ax_softmax(struct ax_tape *t, struct ax_tensor *x) { return softmax_common(t, x, 0); }
struct ax_tensor *ax_log_softmax(struct ax_tape *t, struct ax_tensor *x) { return softmax_common(t, x, 1); }

static void dropout_backward(struct ax_tape_node *n)
{
	const float *keep = n->saved, *g = n->out->grad;
	float *dx = n->in[0]->grad;
	size_t size = n->out->size;
	for (size_t i = 0; i < size; i++) // [vec]
		dx[i] += g[i] * keep[i];
}
static const struct ax_opdef OP_DROPOUT = { "dropout", "dropout backward", dropout_backward, 0 };

struct ax_tensor *ax_dropout(struct ax_tape *t, struct ax_tensor *x, float p, struct ax_rng *rng)
{
	double t0 = ax_op_clock();
	if (!t->training || p <= 0)
		return x;
	AX_ASSERT(p < 1 && "dropout probability must be below 1");
	struct ax_tensor *o = ax_op_output(t, x->ndim, x->shape);
	float *keep = ax_arena_alloc(t->arena, x->size * sizeof(float)), scale = 1.0f / (1.0f - p);
	ax_rng_fill_keep(rng, keep, x->size, p, scale);
	const float *xd = x->data;
	float *od = o->data;
	for (size_t i = 0; i < x->size; i++) // [vec]
		od[i] = xd[i] * keep[i];
	struct ax_tape_node *n = ax_op_record(t, &OP_DROPOUT, o, x, NULL, NULL, NULL);
	if (n)
		n->saved = keep;
	ax_op_done(&OP_DROPOUT, t0, 0);
	return o;
}

/* ---------------------------------------------------------------------------
 * Losses. Each returns shape (1); backward scales by the loss's gradient.
 */
static struct ax_tensor *scalar_out(struct ax_tape *t, double v)
{
	struct ax_tensor *o = ax_op_output(t, 1, (int[]){ 1 });
	o->data[0] = (float)v;
	return o;
}

struct xent_saved {
	float *probs;
	const int32_t *targets;
};

static void xent_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0];
	struct xent_saved *s = n->saved;
	int V = ax_tensor_cols(x), N = (int)ax_tensor_rows(x);
	ax_xent_backward(N, V, s->probs, s->targets, n->farg[0], n->iarg[0], n->iarg[1],
			 n->out->grad[0], x->grad);
}
static const struct ax_opdef OP_XENT = { "cross_entropy", "cross_entropy backward", xent_backward, 0 };

struct ax_tensor *ax_cross_entropy(struct ax_tape *t, struct ax_tensor *logits,
				   const int32_t *targets, float smoothing, int32_t ignore_index)
{
	double t0 = ax_op_clock();
	int V = ax_tensor_cols(logits), N = (int)ax_tensor_rows(logits), count;
	float *probs = ax_arena_alloc(t->arena, logits->size * sizeof(float));
	float loss = ax_xent_forward(N, V, logits->data, targets, smoothing, ignore_index, probs, &count);
	struct ax_tensor *o = scalar_out(t, loss);
	struct ax_tape_node *n = ax_op_record(t, &OP_XENT, o, logits, NULL, NULL, NULL);
	if (n) {
		struct xent_saved *s = ax_arena_alloc(t->arena, sizeof *s);
		int32_t *tcopy = ax_tape_ints(t, N);
		memcpy(tcopy, targets, N * sizeof *targets);
		*s = (struct xent_saved){ probs, tcopy };
		n->saved = s;
		n->farg[0] = smoothing;
		n->iarg[0] = ignore_index;
		n->iarg[1] = count;
	}
	ax_op_done(&OP_XENT, t0, 5.0 * logits->size);
	return o;
}

static double weight_total(const struct ax_tensor *w, size_t n)
{
	if (!w)
		return (double)n;
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += w->data[i];
	return s;
}

/* One term of the Poisson NLL: w (exp(x) - y x), 0 where w == 0 (a select,
 * not a branch: exp of a masked entry may be huge). */
static inline float poisson_term(float w, float x, float y)
{
	float t = w * (ax_expf(x) - y * x);
	return w != 0 ? t : 0.0f;
}

/* Elementwise loss terms summed in double in ax_math.h's lanes: fill
 * writes the float terms of elements [i0, i0 + m) into term, a block at a
 * time (its loops vectorise), three inputs a, b, c. */
typedef void (*terms_fn)(size_t i0, size_t m, const float *a, const float *b, const float *c,
			 float *term);

static double terms_sum(size_t n, terms_fn fill, const float *a, const float *b, const float *c)
{
	enum { BLK = 256 };
	float term[BLK];
	struct ax_lanes_d acc = { 0 };
	for (size_t i0 = 0; i0 < n; i0 += BLK) {
		size_t m = AX_MIN(BLK, n - i0);
		fill(i0, m, a, b, c, term);
		ax_lanes_d_add(&acc, term, m);
	}
	return ax_lanes_d_total(&acc);
}

/* w (exp(x) - y x) with x, y, w = a, b, c (w NULL: all weights 1). The
 * weighted and unweighted loops are separate: a vectorised select between
 * w[j] and 1 would load through a NULL w with masked loads, which cost a
 * microcode assist each. */
static void poisson_terms(size_t i0, size_t m, const float *x, const float *y, const float *w,
			  float *term)
{
	x += i0, y += i0;
	if (w)
		for (size_t j = 0; j < m; j++) // [vec]
			term[j] = poisson_term(w[i0 + j], x[j], y[j]);
	else
		for (size_t j = 0; j < m; j++) // [vec]
			term[j] = poisson_term(1.0f, x[j], y[j]);
}

/* 0.5 (lv + (y - mu)^2 exp(-lv)) with mu, lv, y = a, b, c. */
static void gnll_terms(size_t i0, size_t m, const float *mu, const float *lv, const float *y,
		       float *term)
{
	mu += i0, lv += i0, y += i0;
	for (size_t j = 0; j < m; j++) { // [vec]
		float d = y[j] - mu[j];
		term[j] = 0.5f * (lv[j] + d * d * ax_expf(-lv[j]));
	}
}

static void poisson_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *y = n->in[1], *w = n->in[2];
	float scale = n->out->grad[0] / n->farg[0];
	const float *xd = x->data, *yd = y->data, *wd = w ? w->data : NULL;
	float *gx = GRAD_OR_NULL(x), *gy = GRAD_OR_NULL(y);
	size_t size = x->size;
	/* A masked entry (weight 0) passes no gradient: a select, as in the
	 * forward; weighted and unweighted loops apart, as there. */
	if (gx && wd)
		for (size_t i = 0; i < size; i++) { // [vec]
			float gi = scale * wd[i] * (ax_expf(xd[i]) - yd[i]);
			gx[i] += wd[i] != 0 ? gi : 0.0f;
		}
	if (gx && !wd)
		for (size_t i = 0; i < size; i++) // [vec]
			gx[i] += scale * 1.0f * (ax_expf(xd[i]) - yd[i]);
	if (gy && wd)
		for (size_t i = 0; i < size; i++) // [vec]
			gy[i] -= wd[i] != 0 ? scale * wd[i] * xd[i] : 0.0f;
	if (gy && !wd)
		for (size_t i = 0; i < size; i++) // [vec]
			gy[i] -= scale * 1.0f * xd[i];
}
static const struct ax_opdef OP_POISSON = { "poisson_nll", "poisson_nll backward", poisson_backward, 0 };

struct ax_tensor *ax_poisson_nll(struct ax_tape *t, struct ax_tensor *log_rate,
				 struct ax_tensor *target, struct ax_tensor *weight)
{
	double t0 = ax_op_clock();
	AX_ASSERT(log_rate->size == target->size && (!weight || weight->size == target->size) &&
		  "poisson_nll: shapes differ");
	double total = weight_total(weight, log_rate->size);
	double acc = terms_sum(log_rate->size, poisson_terms, log_rate->data, target->data,
			       weight ? weight->data : NULL);
	if (total <= 0)
		total = 1; /* nothing counted: loss 0, gradient 0 */
	struct ax_tensor *o = scalar_out(t, acc / total);
	struct ax_tape_node *n = ax_op_record(t, &OP_POISSON, o, log_rate, target, weight, NULL);
	if (n)
		n->farg[0] = (float)total;
	ax_op_done(&OP_POISSON, t0, 0);
	return o;
}

static void gnll_backward(struct ax_tape_node *n)
{
	struct ax_tensor *mu = n->in[0], *lv = n->in[1], *y = n->in[2];
	float scale = n->out->grad[0] / (float)mu->size;
	const float *md = mu->data, *ld = lv->data, *yd = y->data;
	float *gm = GRAD_OR_NULL(mu), *gl = GRAD_OR_NULL(lv), *gy = GRAD_OR_NULL(y);
	size_t size = mu->size;
	/* one loop per gradient, so each vectorises */
	if (gm)
		for (size_t i = 0; i < size; i++) // [vec]
			gm[i] -= scale * (yd[i] - md[i]) * ax_expf(-ld[i]);
	if (gy)
		for (size_t i = 0; i < size; i++) // [vec]
			gy[i] += scale * (yd[i] - md[i]) * ax_expf(-ld[i]);
	if (gl)
		for (size_t i = 0; i < size; i++) { // [vec]
			float d = yd[i] - md[i];
			gl[i] += scale * 0.5f * (1 - d * d * ax_expf(-ld[i]));
		}
}
static const struct ax_opdef OP_GNLL = { "gaussian_nll", "gaussian_nll backward", gnll_backward, 0 };

struct ax_tensor *ax_gaussian_nll(struct ax_tape *t, struct ax_tensor *mu, struct ax_tensor *logvar,
				  struct ax_tensor *target)
{
	double t0 = ax_op_clock();
	AX_ASSERT(mu->size == logvar->size && mu->size == target->size && "gaussian_nll: shapes differ");
	double mean = terms_sum(mu->size, gnll_terms, mu->data, logvar->data, target->data) /
		      (double)mu->size;
	struct ax_tensor *o = scalar_out(t, mean);
	ax_op_record(t, &OP_GNLL, o, mu, logvar, target, NULL);
	ax_op_done(&OP_GNLL, t0, 0);
	return o;
}

static void mse_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *y = n->in[1];
	float scale = 2.0f * n->out->grad[0] / (float)x->size;
	for (size_t i = 0; i < x->size; i++) {
		float d = x->data[i] - y->data[i];
		if (x->requires_grad)
			x->grad[i] += scale * d;
		if (y->requires_grad)
			y->grad[i] -= scale * d;
	}
}
static const struct ax_opdef OP_MSE = { "mse", "mse backward", mse_backward, 0 };

struct ax_tensor *ax_mse(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *target)
{
	double t0 = ax_op_clock();
	AX_ASSERT(x->size == target->size && "mse: shapes differ");
	double acc = 0;
	for (size_t i = 0; i < x->size; i++) {
		double d = (double)x->data[i] - target->data[i];
		acc += d * d;
	}
	struct ax_tensor *o = scalar_out(t, acc / (double)x->size);
	ax_op_record(t, &OP_MSE, o, x, target, NULL, NULL);
	ax_op_done(&OP_MSE, t0, 0);
	return o;
}

static void bce_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *y = n->in[1], *w = n->in[2];
	float scale = n->out->grad[0] / (float)x->size;
	for (size_t i = 0; i < x->size; i++) {
		float wi = w ? w->data[i] : 1.0f, s = 1.0f / (1.0f + expf(-x->data[i]));
		if (x->requires_grad)
			x->grad[i] += scale * wi * (s - y->data[i]);
		if (y->requires_grad)
			y->grad[i] -= scale * wi * x->data[i];
	}
}
static const struct ax_opdef OP_BCE = { "bce_logits", "bce_logits backward", bce_backward, 0 };

struct ax_tensor *ax_bce_logits(struct ax_tape *t, struct ax_tensor *logits,
				struct ax_tensor *target, struct ax_tensor *weight)
{
	double t0 = ax_op_clock();
	AX_ASSERT(logits->size == target->size && (!weight || weight->size == logits->size) &&
		  "bce_logits: shapes differ");
	double acc = 0;
	for (size_t i = 0; i < logits->size; i++) {
		double x = logits->data[i], wi = weight ? weight->data[i] : 1.0;
		acc += wi * (fmax(x, 0) - x * target->data[i] + log1p(exp(-fabs(x))));
	}
	struct ax_tensor *o = scalar_out(t, acc / (double)logits->size);
	ax_op_record(t, &OP_BCE, o, logits, target, weight, NULL);
	ax_op_done(&OP_BCE, t0, 0);
	return o;
}

static void kl_backward(struct ax_tape_node *n)
{
	struct ax_tensor *m1 = n->in[0], *l1 = n->in[1], *m2 = n->in[2], *l2 = n->in[3];
	float scale = n->out->grad[0] / (float)n->iarg[0];
	for (size_t i = 0; i < m1->size; i++) {
		float mu2 = m2 ? m2->data[i] : 0, lv2 = l2 ? l2->data[i] : 0;
		float d = m1->data[i] - mu2, iv2 = expf(-lv2), v1 = expf(l1->data[i]);
		if (m1->requires_grad)
			m1->grad[i] += scale * d * iv2;
		if (m2 && m2->requires_grad)
			m2->grad[i] -= scale * d * iv2;
		if (l1->requires_grad)
			l1->grad[i] += scale * 0.5f * (v1 * iv2 - 1);
		if (l2 && l2->requires_grad)
			l2->grad[i] += scale * 0.5f * (1 - (v1 + d * d) * iv2);
	}
}
static const struct ax_opdef OP_KL = { "kl_diag_gauss", "kl_diag_gauss backward", kl_backward, 0 };

struct ax_tensor *ax_kl_diag_gauss(struct ax_tape *t, struct ax_tensor *mu1, struct ax_tensor *lv1,
				   struct ax_tensor *mu2, struct ax_tensor *lv2)
{
	double t0 = ax_op_clock();
	AX_ASSERT(mu1->size == lv1->size && (!mu2 || mu2->size == mu1->size) &&
		  (!lv2 || lv2->size == mu1->size) && "kl_diag_gauss: shapes differ");
	int rows = (int)ax_tensor_rows(mu1);
	double acc = 0;
	for (size_t i = 0; i < mu1->size; i++) {
		double mu_2 = mu2 ? mu2->data[i] : 0, lv_2 = lv2 ? lv2->data[i] : 0;
		double d = mu1->data[i] - mu_2;
		acc += 0.5 * (lv_2 - lv1->data[i] + (exp(lv1->data[i]) + d * d) * exp(-lv_2) - 1);
	}
	struct ax_tensor *o = scalar_out(t, acc / rows);
	struct ax_tape_node *n = ax_op_record(t, &OP_KL, o, mu1, lv1, mu2, lv2);
	if (n)
		n->iarg[0] = rows;
	ax_op_done(&OP_KL, t0, 0);
	return o;
}

/* ---------------------------------------------------------------------------
 * Fused sequence and image ops.
 */
static void attn_backward(struct ax_tape_node *n)
{
	struct ax_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
	const struct ax_attn_desc *d = n->saved;
	const float *saved = (const float *)(d + 1);
	float *work = ax_arena_alloc(n->arena, ax_attn_work_size(d) * sizeof(float));
	ax_attn_backward(d, q->data, k->data, v->data, saved, n->out->grad, GRAD_OR_NULL(q),
			 GRAD_OR_NULL(k), GRAD_OR_NULL(v), work);
}
static const struct ax_opdef OP_ATTN = { "attention", "attention backward", attn_backward, 0 };

struct ax_tensor *ax_attention(struct ax_tape *t, struct ax_tensor *q, struct ax_tensor *k,
			       struct ax_tensor *v, const struct ax_attn_desc *desc)
{
	AX_ASSERT(q->ndim == 3 && k->ndim == 3 && v->ndim == 3 && "attention takes (B, T, H*D)");
	AX_ASSERT(ax_tensor_same_shape(k, v) && q->shape[0] == k->shape[0] &&
		  q->shape[2] == k->shape[2] && desc->H > 0 && q->shape[2] % desc->H == 0 &&
		  "attention: q (B,Tq,C), k and v (B,Tk,C), C divisible by H");
	double t0 = ax_op_clock();
	struct ax_attn_desc dd = *desc;
	dd.B = q->shape[0];
	dd.Tq = q->shape[1];
	dd.Tk = k->shape[1];
	dd.D = q->shape[2] / dd.H;
	size_t nsaved = ax_attn_saved_size(&dd);
	/* The descriptor and the saved buffer share one allocation. */
	size_t head = (sizeof dd + sizeof(float) - 1) / sizeof(float) * sizeof(float);
	struct ax_attn_desc *d = ax_arena_alloc(t->arena, head + nsaved * sizeof(float));
	*d = dd;
	float *saved = (float *)((char *)d + head);
	struct ax_tensor *o = ax_op_output(t, 3, q->shape);
	ax_attn_forward(d, q->data, k->data, v->data, o->data, saved);
	struct ax_tape_node *n = ax_op_record(t, &OP_ATTN, o, q, k, v, NULL);
	double flops = 4.0 * dd.B * dd.H * dd.Tq * dd.Tk * dd.D;
	if (n) {
		n->saved = d;
		n->flops = flops;
	}
	ax_op_done(&OP_ATTN, t0, flops);
	return o;
}

// the saved descriptor, then the work buffer from the next 64-byte boundary
#define CONV_HEAD ((sizeof(struct ax_conv_desc) + 63) / 64 * 64)

static void conv_backward(struct ax_tape_node *n)
{
	const struct ax_conv_desc *c = n->saved;
	float *work = (float *)((char *)n->saved + CONV_HEAD);
	struct ax_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
	ax_conv2d_backward(c, x->data, w->data, n->out->grad, GRAD_OR_NULL(x), GRAD_OR_NULL(w),
			   GRAD_OR_NULL(b), work, n->fresh & 1);
}
static const struct ax_opdef OP_CONV = { "conv2d", "conv2d backward", conv_backward, 1 };

struct ax_tensor *ax_conv2d(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *w,
			    struct ax_tensor *bias, int stride, int pad)
{
	AX_ASSERT(x->ndim == 4 && w->ndim == 4 && x->shape[1] == w->shape[1] &&
		  "conv2d: x (B,Cin,H,W), w (Cout,Cin,KH,KW)");
	double t0 = ax_op_clock();
	struct ax_conv_desc cd = { x->shape[0], x->shape[1], x->shape[2], x->shape[3],
				   w->shape[0], w->shape[2], w->shape[3], stride, pad, 0, 0 };
	cd.team = ax_conv_team(&cd);
	int OH = ax_conv_out_h(&cd), OW = ax_conv_out_w(&cd);
	AX_ASSERT(OH > 0 && OW > 0 && "conv2d: kernel larger than the padded input");
	struct ax_conv_desc *c = ax_arena_alloc(t->arena, CONV_HEAD + ax_conv_work_size(&cd) * sizeof(float));
	*c = cd;
	float *work = (float *)((char *)c + CONV_HEAD);
	struct ax_tensor *o = ax_op_output(t, 4, (int[]){ cd.B, cd.Cout, OH, OW });
	ax_conv2d_forward(c, x->data, w->data, bias ? bias->data : NULL, o->data, work);
	struct ax_tape_node *n = ax_op_record(t, &OP_CONV, o, x, w, bias, NULL);
	double flops = 2.0 * cd.B * cd.Cout * OH * OW * cd.Cin * cd.KH * cd.KW;
	if (n) {
		n->saved = c;
		n->flops = flops;
	}
	ax_op_done(&OP_CONV, t0, flops);
	return o;
}

static void pool_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0];
	int B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
	int k = n->iarg[1], s = n->iarg[2];
	if (n->iarg[0])
		ax_maxpool2d_backward(B, C, H, W, k, s, n->saved, n->out->grad, x->grad, n->fresh & 1);
	else
		ax_avgpool2d_backward(B, C, H, W, k, s, n->out->grad, x->grad, n->fresh & 1);
}
static const struct ax_opdef OP_POOL = { "pool2d", "pool2d backward", pool_backward, 1 };

static struct ax_tensor *pool_common(struct ax_tape *t, struct ax_tensor *x, int k, int s, int max)
{
	double t0 = ax_op_clock();
	AX_ASSERT(x->ndim == 4 && k > 0 && s > 0 && x->shape[2] >= k && x->shape[3] >= k &&
		  "pool2d: x (B,C,H,W) at least k x k");
	int B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
	int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
	struct ax_tensor *o = ax_op_output(t, 4, (int[]){ B, C, OH, OW });
	int32_t *arg = NULL;
	if (max) {
		arg = ax_tape_ints(t, o->size);
		ax_maxpool2d_forward(B, C, H, W, k, s, x->data, o->data, arg);
	} else
		ax_avgpool2d_forward(B, C, H, W, k, s, x->data, o->data);
	struct ax_tape_node *n = ax_op_record(t, &OP_POOL, o, x, NULL, NULL, NULL);
	if (n) {
		n->iarg[0] = max;
		n->iarg[1] = k;
		n->iarg[2] = s;
		n->saved = arg;
	}
	ax_op_done(&OP_POOL, t0, 0);
	return o;
}
struct ax_tensor *ax_maxpool2d(struct ax_tape *t, struct ax_tensor *x, int k, int s) { return pool_common(t, x, k, s, 1); }
struct ax_tensor *ax_avgpool2d(struct ax_tape *t, struct ax_tensor *x, int k, int s) { return pool_common(t, x, k, s, 0); }

static void scan_backward(struct ax_tape_node *n)
{
	struct ax_tensor *a = n->in[0], *b = n->in[1], *h0 = n->in[2];
	int B = a->shape[0], T = a->shape[1], D = a->shape[2];
	ax_scan_backward(B, T, D, a->data, h0 ? h0->data : NULL, n->out->data, n->out->grad,
			 GRAD_OR_NULL(a), GRAD_OR_NULL(b), GRAD_OR_NULL(h0));
}
static const struct ax_opdef OP_SCAN = { "scan", "scan backward", scan_backward, 0 };

struct ax_tensor *ax_scan(struct ax_tape *t, struct ax_tensor *a, struct ax_tensor *b,
			  struct ax_tensor *h0)
{
	AX_ASSERT(a->ndim == 3 && ax_tensor_same_shape(a, b) && "scan: a, b (B, T, D)");
	AX_ASSERT((!h0 || (h0->size == (size_t)a->shape[0] * a->shape[2])) && "scan: h0 (B, D)");
	double t0 = ax_op_clock();
	int B = a->shape[0], T = a->shape[1], D = a->shape[2];
	struct ax_tensor *o = ax_op_output(t, 3, a->shape);
	ax_scan_forward(B, T, D, a->data, b->data, h0 ? h0->data : NULL, o->data);
	struct ax_tape_node *n = ax_op_record(t, &OP_SCAN, o, a, b, h0, NULL);
	if (n)
		n->flops = 2.0 * a->size;
	ax_op_done(&OP_SCAN, t0, 2.0 * a->size);
	return o;
}

struct gru_saved {
	struct ax_tensor *w_hh, *b_hh;
	float *buf;
};

static void gru_backward(struct ax_tape_node *n)
{
	struct ax_tensor *x = n->in[0], *h0 = n->in[1], *w_ih = n->in[2], *b_ih = n->in[3];
	struct gru_saved *s = n->saved;
	int B = x->shape[0], T = x->shape[1], I = x->shape[2], H = n->out->shape[2];
	float *work = ax_arena_alloc(n->arena, ax_gru_work_size(B, T, I, H) * sizeof(float));
	ax_gru_backward(B, T, I, H, x->data, h0 ? h0->data : NULL, w_ih->data, s->w_hh->data,
			n->out->data, s->buf, n->out->grad, GRAD_OR_NULL(x), GRAD_OR_NULL(h0),
			GRAD_OR_NULL(w_ih), ax_tape_grad(n, s->w_hh), GRAD_OR_NULL(b_ih),
			ax_tape_grad(n, s->b_hh), work);
}
static const struct ax_opdef OP_GRU = { "gru", "gru backward", gru_backward, 0 };

struct ax_tensor *ax_gru(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *h0,
			 struct ax_tensor *w_ih, struct ax_tensor *w_hh, struct ax_tensor *b_ih,
			 struct ax_tensor *b_hh)
{
	AX_ASSERT(x->ndim == 3 && w_ih->ndim == 2 && w_hh->ndim == 2 && "gru: x (B,T,I)");
	int B = x->shape[0], T = x->shape[1], I = x->shape[2], H = w_hh->shape[1];
	AX_ASSERT(w_ih->shape[0] == 3 * H && w_ih->shape[1] == I && w_hh->shape[0] == 3 * H &&
		  (!b_ih || b_ih->size == (size_t)3 * H) && (!b_hh || b_hh->size == (size_t)3 * H) &&
		  "gru: w_ih (3H,I), w_hh (3H,H), biases (3H) or NULL");
	AX_ASSERT((!h0 || h0->size == (size_t)B * H) && "gru: h0 (B,H)");
	double t0 = ax_op_clock();
	struct ax_tensor *o = ax_op_output(t, 3, (int[]){ B, T, H });
	float *buf = ax_arena_alloc(t->arena, ax_gru_saved_size(B, T, I, H) * sizeof(float));
	ax_gru_forward(B, T, I, H, x->data, h0 ? h0->data : NULL, w_ih->data, w_hh->data,
		       b_ih ? b_ih->data : NULL, b_hh ? b_hh->data : NULL, o->data, buf);
	/* Six inputs, four slots: the recurrent weights travel in saved, and
	 * any input that needs a gradient carries the record. */
	struct ax_tensor *all[] = { x, h0, w_ih, b_ih, w_hh, b_hh }, *carrier = NULL;
	for (int i = 0; i < 6 && !carrier; i++)
		if (all[i] && all[i]->requires_grad)
			carrier = all[i];
	struct ax_tape_node *n =
		carrier ? ax_op_record(t, &OP_GRU, o, carrier, NULL, NULL, NULL) : NULL;
	double flops = 2.0 * B * T * 3 * H * (I + H);
	if (n) {
		n->in[0] = x;
		n->in[1] = h0;
		n->in[2] = w_ih;
		n->in[3] = b_ih;
		struct gru_saved *s = ax_arena_alloc(t->arena, sizeof *s);
		*s = (struct gru_saved){ w_hh, b_hh, buf };
		n->saved = s;
		n->flops = flops;
	}
	ax_op_done(&OP_GRU, t0, flops);
	return o;
}
