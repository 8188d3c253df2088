/* attn.c — the attention kernel and the command-shape products beside the
 * rate cblas_sgemm reaches on the same shapes.
 *
 * attn: causal self-attention, 4 heads, B*T = 2048 tokens, for T in
 * 32..512 and head dim 16..64 (the shapes of mod-lm, mtm-train and a
 * Perceiver's latent block). GFLOP/s counts the products a causal kernel
 * must do (the visible half of QK^T and PV: 2 T (T+1) D per head forward,
 * twice that backward). sgemm_gflops is cblas_sgemm running the full
 * (T,D)x(D,T) and (T,T)x(T,D) products of every head, the rate the same
 * products reach without masking or softmax.
 *
 * shapes: ax_linear forward+backward at the (tokens, in) x (in, out)
 * shapes mod-lm, mtm-train and the block benchmark use, as a fraction of
 * sgemm at 1024^3.
 */
#include "bench.h"

#include <string.h>

static struct ax_tensor *run_attn(struct ops_data *o, int unused)
{
	return ax_attention(&o->tape, o->x, o->y, o->z, &o->attn);
}

static struct ax_tensor *qkv_leaf(struct ops_data *o, int B, int T, int C)
{
	struct ax_tensor *t = ax_tensor_3d(&o->arena, B, T, C);
	ax_rng_fill_normal(&o->rng, t->data, t->size, 0, 1);
	ax_tensor_require_grad(t, &o->arena);
	return t;
}

/* Seconds of the best of reps runs of both full per-head products. */
static double sgemm_heads(const float *q, const float *k, float *S, float *out, int BH, int T,
			  int D, int reps)
{
	double best = 1e30;
	for (int r = 0; r < reps + 1; r++) {
		double t0 = ax_now();
		for (int bh = 0; bh < BH; bh++) {
			const float *qh = q + (size_t)bh * T * D, *kh = k + (size_t)bh * T * D;
			ax_sgemm(0, 1, T, T, D, 1.0f, qh, kh, 0.0f, S);
			ax_sgemm(0, 0, T, D, T, 1.0f, S, kh, 0.0f, out + (size_t)bh * T * D);
		}
		double t1 = ax_now();
		if (r > 0)
			best = AX_MIN(best, t1 - t0);
	}
	return best;
}

static void attn_case(const struct config *c, int T, int D)
{
	int H = c->heads, B = AX_MAX(1, 2048 / T), C = H * D;
	struct ops_data o;
	ops_open(&o, c->seed);
	o.x = qkv_leaf(&o, B, T, C);
	o.y = qkv_leaf(&o, B, T, C);
	o.z = qkv_leaf(&o, B, T, C);
	o.attn = (struct ax_attn_desc){ .H = H, .causal = 1 };
	double fwd, bwd;
	bench_fwd_bwd(&o, run_attn, 0, c->iters, &fwd, &bwd);
	float *S = ax_arena_alloc(&o.arena, (size_t)T * T * sizeof(float));
	double sg = sgemm_heads(o.x->data, o.y->data, S, o.z->grad, B * H, T, D, c->iters);
	double useful = 2.0 * B * H * T * (T + 1.0) * D, full = 4.0 * B * H * T * T * D;
	printf("attn,%d,%d,%d,%d,%d,%.3f,%.2f,%.3f,%.2f,%.2f\n", ax_threads_get(), B, T, H, D,
	       1e3 * fwd, useful / fwd * 1e-9, 1e3 * bwd, 2 * useful / bwd * 1e-9, full / sg * 1e-9);
	ops_close(&o);
}

void bench_attn(const struct config *c)
{
	static const int Ts[] = { 32, 64, 128, 256, 512 }, Ds[] = { 16, 32, 64 };
	printf("bench,threads,batch,seq,heads,head_dim,fwd_ms,fwd_gflops,bwd_ms,bwd_gflops,"
	       "sgemm_gflops\n");
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 5; j++)
			if (!c->seq || c->seq == Ts[j])
				attn_case(c, Ts[j], Ds[i]);
}

static struct ax_tensor *run_linear(struct ops_data *o, int unused)
{
	return ax_linear(&o->tape, o->x, o->y, o->z);
}

/* ax_linear forward and backward GFLOP/s on (M, K) x (K, N); rate the
 * reference sgemm rate. */
static void shape_case(const struct config *c, const char *who, int M, int K, int N, double rate)
{
	struct ops_data o;
	ops_open(&o, c->seed);
	o.x = ax_tensor_2d(&o.arena, M, K);
	o.y = ax_tensor_2d(&o.arena, N, K);
	o.z = ax_tensor_1d(&o.arena, N);
	ax_rng_fill_normal(&o.rng, o.x->data, o.x->size, 0, 1);
	ax_rng_fill_normal(&o.rng, o.y->data, o.y->size, 0, 0.1f);
	ax_rng_fill_normal(&o.rng, o.z->data, o.z->size, 0, 0.1f);
	ax_tensor_require_grad(o.x, &o.arena);
	ax_tensor_require_grad(o.y, &o.arena);
	ax_tensor_require_grad(o.z, &o.arena);
	double fwd, bwd, fl = 2.0 * M * K * N;
	bench_fwd_bwd(&o, run_linear, 0, c->iters, &fwd, &bwd);
	printf("shape,%d,%s,%d,%d,%d,%.2f,%.2f,%.0f,%.0f\n", ax_threads_get(), who, M, K, N,
	       fl / fwd * 1e-9, 2 * fl / bwd * 1e-9, 100 * fl / fwd * 1e-9 / rate,
	       100 * 2 * fl / bwd * 1e-9 / rate);
	ops_close(&o);
}

void bench_shapes(const struct config *c)
{
	static const struct { const char *who; int M, K, N; } S[] = {
		{ "mod-lm qkv/out", 2048, 128, 128 }, { "mod-lm fc1", 2048, 128, 512 },
		{ "mod-lm fc2", 2048, 512, 128 },     { "mod-lm head", 2048, 128, 256 },
		{ "mod-lm routed", 256, 128, 128 },   { "mtm qkv/out", 1600, 64, 64 },
		{ "mtm fc1", 1600, 64, 256 },         { "mtm fc2", 1600, 256, 64 },
		{ "block qkv/out", 1024, 256, 256 },  { "block fc1", 1024, 256, 1024 },
		{ "block fc2", 1024, 1024, 256 },
		{ "apical in", 64, 784, 256 },        { "apical hidden", 64, 256, 256 },
		{ "apical out", 64, 256, 10 },
	};
	int n = 1024;
	float *a = ax_xmalloc(sizeof(float) * n * n), *b = ax_xmalloc(sizeof(float) * n * n),
	      *out = ax_xmalloc(sizeof(float) * n * n);
	memset(a, 0, sizeof(float) * n * n);
	memset(b, 0, sizeof(float) * n * n);
	double best = 1e30;
	for (int r = 0; r < 4; r++) {
		double t0 = ax_now();
		ax_sgemm(0, 0, n, n, n, 1.0f, a, b, 0.0f, out);
		best = AX_MIN(best, ax_now() - t0);
	}
	free(a);
	free(b);
	free(out);
	double rate = 2.0 * n * n * n / best * 1e-9;
	printf("bench,threads,shape,M,K,N,fwd_gflops,bwd_gflops,fwd_pct_sgemm,bwd_pct_sgemm\n");
	printf("shape,%d,sgemm 1024^3,%d,%d,%d,%.2f,%.2f,100,100\n", ax_threads_get(), n, n, n,
	       rate, rate);
	for (size_t i = 0; i < sizeof S / sizeof S[0]; i++)
		shape_case(c, S[i].who, S[i].M, S[i].K, S[i].N, rate);
}
