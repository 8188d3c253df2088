/* kernels_blas.c — matrix products: thin wrappers over cblas_sgemm and
 * cblas_sgemv (row-major). */
#include "ax_kernels.h"

#include <cblas.h>
#include <string.h>

void ax_sgemm_ld(int transA, int transB, int M, int N, int K, float alpha, const float *A,
		 int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	AX_ASSERT(M >= 0 && N >= 0 && K >= 0 && "sgemm: negative size");
	if (M == 0 || N == 0)
		return;
	cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
		    transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
		    ldc);
}

// C (M,N) = alpha * op(A) op(B) + beta * C; A stored (M,K) or (K,M) if transA,
// B stored (K,N) or (N,K) if transB; all contiguous row-major.
void ax_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
	      const float *B, float beta, float *C)
{
	ax_sgemm_ld(transA, transB, M, N, K, alpha, A, AX_MAX(1, transA ? M : K), B,
		    AX_MAX(1, transB ? K : N), beta, C, AX_MAX(1, N));
}

// y = alpha * op(A) x + beta * y, A stored (M,N) row-major
void ax_sgemv(int transA, int M, int N, float alpha, const float *A, const float *x, float beta,
	      float *y)
{
	AX_ASSERT(M >= 0 && N >= 0 && "sgemv: negative size");
	if (M == 0 || N == 0)
		return;
	cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, M, N, alpha, A, N, x, 1,
		    beta, y, 1);
}

int ax_blas_serial_begin(void)
{
	int prev = openblas_get_num_threads();
	if (prev > 1)
		openblas_set_num_threads(1);
	return prev;
}

void ax_blas_serial_end(int prev)
{
	if (prev > 1)
		openblas_set_num_threads(prev);
}

// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... (core Haswell)": the BLAS and
// the kernel set it picked for this CPU, for benchmark reports.
void ax_blas_describe(char *buf, size_t n)
{
	snprintf(buf, n, "%s (core %s)", openblas_get_config(), openblas_get_corename());
}

const char *ax_blas_core_upgrade(const char *chosen, int avx2_fma, int avx512)
{
	static const char *const avx2_class[] = { "Haswell", "Zen", "SkylakeX", "Cooperlake",
						  "SapphireRapids" };
	for (size_t i = 0; i < AX_COUNTOF(avx2_class); i++)
		if (!strcmp(chosen, avx2_class[i]))
			return NULL;
	if (avx512)
		return "SkylakeX";
	return avx2_fma ? "Haswell" : NULL;
}

const char *ax_blas_core_wanted(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	int avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		     __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
	return ax_blas_core_upgrade(openblas_get_corename(), avx2_fma, avx512);
#else
	return NULL;
#endif
}
