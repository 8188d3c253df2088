/* ax_kernels.h — forward/backward kernels on raw float arrays.
 *
 * Plain functions with explicit sizes; shapes in comments are row-major.
 * Backward kernels ACCUMULATE into their gradient outputs (+=), and skip any
 * gradient pointer that is NULL. Forward kernels may save what backward
 * needs into a caller-provided buffer whose size the matching *_saved_size()
 * function gives (in floats), so the caller can carve it from an arena.
 * Matrix products go through cblas_sgemm (row-major).
 * Determinism: results depend only on inputs and the thread count.
 */
#ifndef AX_KERNELS_H
#define AX_KERNELS_H

#include "ax_base.h"

/* ---- matrix products ---- */
/* C (M,N) = alpha * op(A) op(B) + beta * C, op(A) (M,K), op(B) (K,N). */
void ax_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
	      const float *B, float beta, float *C);
/* The same with explicit leading dimensions (row strides), for sub-blocks
 * such as one head's columns of a (T, H*D) matrix: lda = H*D. */
void ax_sgemm_ld(int transA, int transB, int M, int N, int K, float alpha, const float *A,
		 int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* y = alpha * op(A) x + beta * y; A stored (M,N), op(A) A (x has N elements, y
 * M) or with transA A^T (x M, y N). A matrix-vector product as an sgemm with
 * one column makes OpenBLAS copy all of A into its panels on every call
 * (md-geom train, A 100 x 10000: 3000 steps took 3.26 s that way, 0.73 s so). */
void ax_sgemv(int transA, int M, int N, float alpha, const float *A, const float *x, float beta,
	      float *y);
/* A kernel that splits independent sgemms across an OpenMP team runs OpenBLAS
 * single-threaded meanwhile (its pthreads build would otherwise start its own
 * threads under every team member and oversubscribe the cores):
 *   int nt = omp_get_max_threads(), prev = ax_blas_serial_begin();
 *   #pragma omp parallel num_threads(nt) ...; ax_blas_serial_end(prev);
 * Call both from outside the parallel region. The OpenMP build's
 * openblas_set_num_threads sets OpenMP's thread count too, so the team's
 * size must be read before and given to the region explicitly. */
int ax_blas_serial_begin(void);
void ax_blas_serial_end(int prev);
/* The BLAS's configuration and the core type it chose, e.g.
 * "OpenBLAS 0.3.21 ... USE_OPENMP Haswell MAX_THREADS=64 (core Haswell)". */
void ax_blas_describe(char *buf, size_t n);
/* The OpenBLAS kernel set this CPU should get when OpenBLAS chose an older one
 * (it falls back to Prescott's SSE3 kernels on CPUs newer than it knows), or
 * NULL when its choice stands: "SkylakeX" with AVX-512 (F, BW, DQ, VL),
 * "Haswell" with AVX2 and FMA. Only a pre-AVX2 choice is overridden. */
const char *ax_blas_core_upgrade(const char *chosen, int avx2_fma, int avx512);
/* The same for the running CPU and the loaded OpenBLAS. */
const char *ax_blas_core_wanted(void);

/* ---- normalisation ---- */
/* x, y (N, C); gamma, beta (C) (beta may be NULL); mean, rstd (N) saved.
 * Backward adds into dx, dgamma, dbeta; with assign_dx, dx is written as 0 +
 * its value (the bits of adding to zeros), so it need not be zeroed first. */
void ax_layernorm_forward(int N, int C, const float *x, const float *gamma, const float *beta,
			  float eps, float *y, float *mean, float *rstd);
void ax_layernorm_backward(int N, int C, const float *x, const float *gamma, const float *mean,
			   const float *rstd, const float *dy, float *dx, float *dgamma,
			   float *dbeta, int assign_dx);
/* RMSNorm: y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps). */
void ax_rmsnorm_forward(int N, int C, const float *x, const float *gamma, float eps, float *y,
			float *rstd);
void ax_rmsnorm_backward(int N, int C, const float *x, const float *gamma, const float *rstd,
			 const float *dy, float *dx, float *dgamma, int assign_dx);
/* Batch normalisation of x (B, C, S) per channel c over its B*S values
 * (S = H*W for images, 1 for rows); see kernels_norm.c. stats: mean, rstd
 * (C) with biased variance, and the unbiased variance (C, or NULL). */
void ax_batchnorm_stats(int B, int C, int S, const float *x, float eps, float *mean, float *rstd,
			float *var_unbiased);
void ax_batchnorm_forward(int B, int C, int S, const float *x, const float *mean,
			  const float *rstd, const float *gamma, const float *beta, float *y);
/* assign_dx: dx is written, as 0 + its value (the bits of adding to zeros),
 * not added to: a caller with an uninitialised dx need not zero it first. */
void ax_batchnorm_backward(int B, int C, int S, int training, const float *x, const float *mean,
			   const float *rstd, const float *gamma, const float *dy, float *dx,
			   float *dgamma, float *dbeta, int assign_dx);

/* ---- softmax and cross-entropy ---- */
/* Row softmax / log-softmax over the last dim: x, y (N, C). */
void ax_softmax_forward(int N, int C, const float *x, float *y);
/* One row, for callers that also need log p: p = exp(x - mx) / sum with
 * *mx = max x; returns sum, so log p[k] = x[k] - mx - logf(sum). x (C), p (C),
 * p may be x. */
float ax_softmax_row(int C, const float *x, float *p, float *mx);
void ax_softmax_backward(int N, int C, const float *y, const float *dy, float *dx);
void ax_log_softmax_forward(int N, int C, const float *x, float *y);
void ax_log_softmax_backward(int N, int C, const float *y, const float *dy, float *dx);
/* Mean over counted rows of the label-smoothed cross-entropy
 *   loss_n = -(1-s) log p[t_n] - (s/V) sum_v log p[v]
 * logits (N, V), targets (N); rows with target == ignore_index (e.g. -1) are
 * skipped. probs (N, V) saved. Returns the mean loss; *count = counted rows. */
float ax_xent_forward(int N, int V, const float *logits, const int32_t *targets, float smoothing,
		      int32_t ignore_index, float *probs, int *count);
/* dlogits += dloss * d(mean loss)/dlogits. */
void ax_xent_backward(int N, int V, const float *probs, const int32_t *targets, float smoothing,
		      int32_t ignore_index, int count, float dloss, float *dlogits);

/* ---- attention: one fused op (scores, mask, softmax, weighted sum) ----
 * q (B, Tq, H*D), k and v (B, Tk, H*D), out (B, Tq, H*D): heads side by side
 * in the channel dim, as a linear layer produces them, so no permutes.
 * Query i may see key j when every active rule allows it:
 *   causal:  kpos[j] <= qpos[i]          (positions default to i + Tk - Tq and j)
 *   window:  qpos[i] - kpos[j] < window  (window > 0; a causal sliding band)
 *   key_pad: key_pad[b*Tk + j] == 0      (1 marks padding)
 *   mask:    mask[(b*)Tq*Tk + i*Tk + j] != 0
 * A query that sees no key outputs zeros (and passes no gradient).
 * rope: rotary embedding (pairs (2i, 2i+1) of each head, theta_i =
 * base^(-2i/D)) applied to q and k (and v when rope_v) at their positions
 * before the scores; out is NOT rotated back (as in rotary-v variants)
 * unless rope_out.
 * Rotary on continuous time (POYO, arXiv:2310.16046): with qtime and ktime
 * (seconds, both given) the angles come from the times, not the positions:
 * pair i of a head (D/2 pairs) turns by t * w_i with
 *   w_i = 2 pi / (tmin (tmax/tmin)^(4i/D))   for i < D/4,
 *   w_i = 0 (not rotated)                    for i >= D/4,
 * so half the dimensions carry time (tmin 1e-4 s, tmax 4 s by default).
 * Masks (causal, window) still use the integer positions.
 * rope_out: out is rotated back by minus the query's angles, so with rope_v
 * a value enters relative to the query's time (POYO's rotary values). */
struct ax_attn_desc {
	int B, Tq, Tk, H, D;
	float scale;               /* 0 means 1/sqrt(D) */
	int causal;
	int window;                /* 0 = unlimited */
	const uint8_t *key_pad;    /* (B, Tk) or NULL */
	const uint8_t *mask;       /* (Tq, Tk), or (B, Tq, Tk) if mask_per_batch; NULL */
	int mask_per_batch;
	const int32_t *qpos;       /* (B, Tq) or NULL */
	const int32_t *kpos;       /* (B, Tk) or NULL */
	int rope, rope_v;          /* apply rotary to q,k; also to v */
	float rope_base;           /* 0 means 10000 */
	const float *qtime;        /* (B, Tq) seconds, or NULL: rotary at these times */
	const float *ktime;        /* (B, Tk) seconds; given with qtime */
	float rope_tmin, rope_tmax; /* time rotary periods; 0 means 1e-4 and 4 s */
	int rope_out;              /* rotate out back by the query angles */
};
/* saved: the probabilities (B, H, Tq, Tk), then with rope the rotated q, k
 * (and v) and their cos/sin tables. work: backward scratch (dscores, and the
 * rotated-frame gradients with rope); contents need not survive the call. */
/* The time-rotary frequency w_i of pair i for head dim D (0 for i >= D/4);
 * tmin, tmax 0 mean the defaults. */
double ax_rope_time_freq(int i, int D, double tmin, double tmax);
size_t ax_attn_saved_size(const struct ax_attn_desc *d);
size_t ax_attn_work_size(const struct ax_attn_desc *d);
void ax_attn_forward(const struct ax_attn_desc *d, const float *q, const float *k,
		     const float *v, float *out, float *saved);
void ax_attn_backward(const struct ax_attn_desc *d, const float *q, const float *k,
		      const float *v, const float *saved, const float *dout, float *dq,
		      float *dk, float *dv, float *work);

/* ---- convolution and pooling (NCHW) ----
 * x (B, Cin, H, W), w (Cout, Cin, KH, KW), bias (Cout) or NULL,
 * y (B, Cout, OH, OW), OH = (H + 2*pad - KH)/stride + 1. im2col over chunks of
 * `chunk` images + one sgemm per chunk; chunk 0 (the default) sizes the chunk
 * to the cache. With team > 1 that many threads take the chunks in turn, each
 * with its own panels and a single-threaded sgemm; otherwise chunks run one
 * after another on OpenBLAS's threads. y and dx have the same bits either
 * way; dw sums each thread's chunks first (bits fixed by the team size). The
 * work buffer's size depends on the chunk and the team. */
struct ax_conv_desc {
	int B, Cin, H, W, Cout, KH, KW, stride, pad;
	int chunk; /* images per im2col panel; 0: chosen by the kernel (3x3 with
		    * stride 1 and padding 1 has no panel and ignores it) */
	int team;  /* threads splitting the chunks (or images); 0 or 1: none (see
		    * ax_conv_team) */
};
int ax_conv_out_h(const struct ax_conv_desc *c);
int ax_conv_out_w(const struct ax_conv_desc *c);
/* The team for c at the current thread count: all threads when there are
 * at least two chunks per thread (3x3, stride 1, padding 1: an image per
 * thread), else 1 (outside a parallel region only). */
int ax_conv_team(const struct ax_conv_desc *c);
size_t ax_conv_work_size(const struct ax_conv_desc *c);   /* floats of scratch */
void ax_conv2d_forward(const struct ax_conv_desc *c, const float *x, const float *w,
		       const float *bias, float *y, float *work);
/* Backward accumulates; with assign_dx, as every backward below with it,
 * dx is written instead (0 + its value: the bits of adding to zeros), so a
 * caller with an uninitialised dx need not zero it first. */
void ax_conv2d_backward(const struct ax_conv_desc *c, const float *x, const float *w,
			const float *dy, float *dx, float *dw, float *dbias, float *work,
			int assign_dx);
/* Pooling with window k, stride s, no padding: x (B,C,H,W) -> y (B,C,OH,OW).
 * Max pool saves the argmax index per output (int32, B*C*OH*OW; required). */
void ax_maxpool2d_forward(int B, int C, int H, int W, int k, int s, const float *x, float *y,
			  int32_t *argmax);
void ax_maxpool2d_backward(int B, int C, int H, int W, int k, int s, const int32_t *argmax,
			   const float *dy, float *dx, int assign_dx);
void ax_avgpool2d_forward(int B, int C, int H, int W, int k, int s, const float *x, float *y);
void ax_avgpool2d_backward(int B, int C, int H, int W, int k, int s, const float *dy,
			   float *dx, int assign_dx);

/* ---- linear recurrence h_t = a_t * h_{t-1} + b_t (elementwise) ----
 * a, b, h (B, T, D); h0 (B, D) or NULL (zeros). Backward is the reverse scan
 *   g_t = dh_t + a_{t+1} g_{t+1};  da_t = g_t h_{t-1};  db_t = g_t;  dh0 = a_0 g_0. */
void ax_scan_forward(int B, int T, int D, const float *a, const float *b, const float *h0,
		     float *h);
void ax_scan_backward(int B, int T, int D, const float *a, const float *h0, const float *h,
		      const float *dh, float *da, float *db, float *dh0);

/* ---- GRU over a sequence (PyTorch nn.GRU semantics, gate order r, z, n) ----
 * x (B, T, I), h0 (B, H) or NULL, w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H),
 * hs (B, T, H) all hidden states.
 *   r = sig(W_ir x + b_ir + W_hr h + b_hr); z = sig(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h
 * saved: gates (B, T, 4H) = [r, z, n, W_hn h + b_hn] per step, plus (B, 3H)
 * forward scratch. work: backward scratch (gate gradients for all steps, so
 * the weight gradients are a few large sgemms). b_ih, b_hh may be NULL (zero),
 * as may any gradient output. */
size_t ax_gru_saved_size(int B, int T, int I, int H);
size_t ax_gru_work_size(int B, int T, int I, int H);
void ax_gru_forward(int B, int T, int I, int H, const float *x, const float *h0,
		    const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
		    float *hs, float *saved);
void ax_gru_backward(int B, int T, int I, int H, const float *x, const float *h0,
		     const float *w_ih, const float *w_hh, const float *hs, const float *saved,
		     const float *dhs, float *dx, float *dh0, float *dw_ih, float *dw_hh,
		     float *db_ih, float *db_hh, float *work);

/* ---- selection (no gradient) ----
 * For each of N rows of x (N, C): the k largest indices, returned in
 * ascending index order (so selected tokens keep their causal order). Ties
 * go to the lower index. idx (N, k). */
void ax_topk_rows(int N, int C, int k, const float *x, int32_t *idx);

#endif
