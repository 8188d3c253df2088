/* loss.c — BarlowTwins and VICReg for A >= 2 views (arXiv:2312.10725),
 * written as tape ops so backward comes for free; and `ssl-train loss`.
 *
 * z_a (N, D) the a-th view's projections.
 * BarlowTwins: rows L2-normalised, then all A*N rows standardised together
 * per dimension ((z - mean) / sqrt(var + 1e-5), biased variance, as
 * BatchNorm1d(affine=False)).
 *   A = 2: C = z_0^T z_1 / N; on = sum_d (C_dd - 1)^2, off = sum_{d!=e} C_de^2.
 *          (The brief's 1/2 sum over i of the same terms for C and C^T.)
 *   A > 2: zbar = mean_a z_a; on = (1/A) sum_a sum_d (mean_n z_a[n,d] zbar[n,d] - 1)^2,
 *          off = sum_{d!=e} (zbar^T zbar / N)_de^2.
 *   L = on + lambda * off.
 * VICReg on raw projections, for a pair (z, z'):
 *   inv = MSE(z, z'); var = 1/2 [mean_d relu(1 - std(z)) + mean_d relu(1 - std(z'))],
 *   std = sqrt(unbiased variance + 1e-4); cov = sum_{d!=e} Cov(z)_de^2 / D
 *   + the same for z', Cov with 1/(N - 1).
 *   A = 2: the pair (z_0, z_1); A > 2: each view i against the mean of the
 *   other A - 1 views, each term averaged over i.
 *   L = lambda * inv + mu * var + nu * cov.
 */
#include "ssl.h"

#include <math.h>
#include <string.h>

const char *const ssl_loss_names[SSL_NLOSSES + 1] = { "barlow", "vicreg", NULL };

int ssl_loss_nterms(enum ssl_loss_kind k)
{
	return k == SSL_BARLOW ? 2 : 3;
}

const char *ssl_loss_header(enum ssl_loss_kind k)
{
	return k == SSL_BARLOW ? "loss,on,off" : "loss,inv,var,cov";
}

/* (D, D) constant: the identity (diag 1) or its complement (diag 0). */
static struct ax_tensor *eye(struct ax_tape *t, int D, int off)
{
	struct ax_tensor *e = ax_const(t, 2, (int[]){ D, D }, NULL);
	for (int i = 0; i < D * D; i++)
		e->data[i] = (i / D == i % D) != off;
	return e;
}

/* sum_{d!=e} c_de^2 of a (D, D) matrix. */
static struct ax_tensor *off_diag_sq(struct ax_tape *t, struct ax_tensor *c)
{
	return ax_sum_all(t, ax_mul(t, ax_square(t, c), eye(t, c->shape[0], 1)));
}

/* x^T y / n of (N, D) matrices. */
static struct ax_tensor *cross(struct ax_tape *t, struct ax_tensor *x, struct ax_tensor *y, float n)
{
	return ax_scale(t, ax_matmul(t, x, y, 1, 0), 1.0f / n);
}

static struct ax_tensor *barlow(struct ax_tape *t, const struct ssl_loss_cfg *c,
				struct ax_tensor **z, int A, float *terms)
{
	int N = z[0]->shape[0], D = z[0]->shape[1];
	struct ax_tensor *all = ax_concat(t, z, A, 0);   /* (A N, D) */
	struct ax_tensor *norm = ax_sqrt(t, ax_sum(t, ax_square(t, all), 1));
	all = ax_div(t, all, ax_reshape(t, norm, 2, (int[]){ A * N, 1 }));
	int training = t->training;
	t->training = 1;   /* standardise by these rows' own statistics */
	all = ax_batchnorm(t, all, NULL, NULL, NULL, NULL, 0.0f, 1e-5f);
	t->training = training;
	struct ax_tensor *v[SSL_MAX_VIEWS], *on, *off;
	for (int a = 0; a < A; a++)
		v[a] = ax_slice(t, all, 0, a * N, N);
	if (A == 2) {
		struct ax_tensor *cc = cross(t, v[0], v[1], (float)N);
		struct ax_tensor *diag = ax_sum(t, ax_mul(t, cc, eye(t, D, 0)), 1);
		on = ax_sum_all(t, ax_square(t, ax_add_scalar(t, diag, -1.0f)));
		off = off_diag_sq(t, cc);
	} else {
		struct ax_tensor *zbar = v[0];
		for (int a = 1; a < A; a++)
			zbar = ax_add(t, zbar, v[a]);
		zbar = ax_scale(t, zbar, 1.0f / (float)A);
		on = NULL;
		for (int a = 0; a < A; a++) {
			struct ax_tensor *m = ax_mean(t, ax_mul(t, v[a], zbar), 0);
			struct ax_tensor *s = ax_sum_all(t, ax_square(t, ax_add_scalar(t, m, -1.0f)));
			on = on ? ax_add(t, on, s) : s;
		}
		on = ax_scale(t, on, 1.0f / (float)A);
		off = off_diag_sq(t, cross(t, zbar, zbar, (float)N));
	}
	terms[0] = on->data[0], terms[1] = off->data[0];
	return ax_add(t, on, ax_scale(t, off, (float)c->lambda));
}

/* VICReg's variance and covariance terms of one view: out[0] mean_d
 * relu(1 - std), out[1] sum_{d!=e} Cov_de^2 / D. */
static void vic_stats(struct ax_tape *t, struct ax_tensor *z, struct ax_tensor **var,
		      struct ax_tensor **cov)
{
	int N = z->shape[0], D = z->shape[1];
	struct ax_tensor *zc = ax_sub(t, z, ax_mean(t, z, 0));
	struct ax_tensor *v = ax_scale(t, ax_sum(t, ax_square(t, zc), 0), 1.0f / (float)(N - 1));
	struct ax_tensor *sd = ax_sqrt(t, ax_add_scalar(t, v, 1e-4f));
	*var = ax_mean_all(t, ax_relu(t, ax_affine(t, sd, -1.0f, 1.0f)));
	*cov = ax_scale(t, off_diag_sq(t, cross(t, zc, zc, (float)(N - 1))), 1.0f / (float)D);
}

static struct ax_tensor *vicreg(struct ax_tape *t, const struct ssl_loss_cfg *c,
				struct ax_tensor **z, int A, float *terms)
{
	struct ax_tensor *sum = NULL, *inv = NULL, *var = NULL, *cov = NULL;
	if (A > 2)
		for (int a = 0; a < A; a++)
			sum = sum ? ax_add(t, sum, z[a]) : z[a];
	int pairs = A == 2 ? 1 : A;
	for (int i = 0; i < pairs; i++) {
		struct ax_tensor *other = A == 2 ? z[1] :
			ax_scale(t, ax_sub(t, sum, z[i]), 1.0f / (float)(A - 1));
		struct ax_tensor *v1, *c1, *v2, *c2;
		vic_stats(t, z[i], &v1, &c1);
		vic_stats(t, other, &v2, &c2);
		struct ax_tensor *pi = ax_mse(t, z[i], other);
		struct ax_tensor *pv = ax_scale(t, ax_add(t, v1, v2), 0.5f), *pc = ax_add(t, c1, c2);
		inv = inv ? ax_add(t, inv, pi) : pi;
		var = var ? ax_add(t, var, pv) : pv;
		cov = cov ? ax_add(t, cov, pc) : pc;
	}
	inv = ax_scale(t, inv, 1.0f / (float)pairs);
	var = ax_scale(t, var, 1.0f / (float)pairs);
	cov = ax_scale(t, cov, 1.0f / (float)pairs);
	terms[0] = inv->data[0], terms[1] = var->data[0], terms[2] = cov->data[0];
	struct ax_tensor *l = ax_add(t, ax_scale(t, inv, (float)c->lambda),
				     ax_scale(t, var, (float)c->mu));
	return ax_add(t, l, ax_scale(t, cov, (float)c->nu));
}

struct ax_tensor *ssl_loss(struct ax_tape *t, const struct ssl_loss_cfg *c, struct ax_tensor **z,
			   int A, float *terms)
{
	AX_ASSERT(A >= 2 && A <= SSL_MAX_VIEWS && z[0]->ndim == 2 && z[0]->shape[0] >= 2 &&
		  "ssl_loss: 2..16 views of (N >= 2, D)");
	memset(terms, 0, SSL_MAX_TERMS * sizeof *terms);
	return c->kind == SSL_BARLOW ? barlow(t, c, z, A, terms) : vicreg(t, c, z, A, terms);
}

/* The views of a file: one array (A, N, D) or a stream of A arrays (N, D),
 * any numeric dtype, into views (A, N, D) float32 (malloc'd). */
static enum ax_status read_views(const char *path, float **views, int *A, int *N, int *D)
{
	struct ax_reader *r;
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	struct ax_array a[SSL_MAX_VIEWS + 1];
	int n = 0;
	while (!st && n <= SSL_MAX_VIEWS) {
		st = ax_npy_read(r, &a[n]);
		if (!st && (st = ax_array_to_f32(&a[n])))
			ax_array_free(&a[n]);
		if (!st)
			n++;
	}
	if (st == AX_ERR_EOF)
		st = AX_OK;
	else if (!st)
		st = ax_error_set(AX_ERR_FORMAT, "%s: more than %d arrays", path, SSL_MAX_VIEWS);
	ax_reader_close(r);
	if (!st && n == 0)
		st = ax_error_set(AX_ERR_FORMAT, "%s: no array", path);
	int three = !st && n == 1 && a[0].ndim == 3;
	if (!st && three)
		*A = (int)a[0].shape[0], *N = (int)a[0].shape[1], *D = (int)a[0].shape[2];
	else if (!st && a[0].ndim == 2)
		*A = n, *N = (int)a[0].shape[0], *D = (int)a[0].shape[1];
	else if (!st)
		st = ax_error_set(AX_ERR_FORMAT, "%s: not (A, N, D) nor a stream of (N, D) arrays",
				  path);
	for (int i = 1; !st && !three && i < n; i++)
		if (a[i].ndim != 2 || a[i].shape[0] != *N || a[i].shape[1] != *D)
			st = ax_error_set(AX_ERR_FORMAT, "%s: array %d is not (%d, %d) as the first",
					  path, i + 1, *N, *D);
	if (!st && (*A < 2 || *A > SSL_MAX_VIEWS || *N < 2 || *D < 1))
		st = ax_error_set(AX_ERR_FORMAT, "%s: %d views of %d rows of %d: need 2..%d views "
				  "of at least 2 rows", path, *A, *N, *D, SSL_MAX_VIEWS);
	if (!st) {
		size_t per = (size_t)*N * *D;
		*views = ax_xmalloc((size_t)*A * per * sizeof(float));
		for (int i = 0; i < *A; i++)
			memcpy(*views + i * per, three ? (float *)a[0].data + i * per : a[i].data,
			       per * sizeof(float));
	}
	for (int i = 0; i < n; i++)
		ax_array_free(&a[i]);
	return st;
}

int ssl_cmd_loss(const struct ssl_opts *o)
{
	float *views = NULL;
	int A = 0, N = 0, D = 0;
	enum ax_status st = read_views(o->files[0], &views, &A, &N, &D);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	struct ssl_loss_cfg c = o->s.loss;
	if (o->s.lambda_scale > 0)
		c.lambda = o->s.lambda_scale / D;
	struct ax_arena arena;
	struct ax_tape t;
	ax_arena_init(&arena, 0);
	ax_tape_init(&t, &arena);
	struct ax_tensor *z[SSL_MAX_VIEWS];
	for (int a = 0; a < A; a++)
		z[a] = ax_const(&t, 2, (int[]){ N, D }, views + (size_t)a * N * D);
	float terms[SSL_MAX_TERMS];
	struct ax_tensor *l = ssl_loss(&t, &c, z, A, terms);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, ssl_loss_header(c.kind));
	double row[1 + SSL_MAX_TERMS] = { l->data[0] };
	for (int i = 0; i < ssl_loss_nterms(c.kind); i++)
		row[1 + i] = terms[i];
	ax_csv_row(&csv, row);
	ax_tape_free(&t);
	ax_arena_free(&arena);
	free(views);
	return ax_cli_exiting(0);
}
