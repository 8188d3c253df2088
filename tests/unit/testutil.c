/* testutil.c — scratch files and tolerant comparisons for unit tests. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static void remove_tmpdir(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmpdir);
}

const char *tu_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/axon-test-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tmpdir))
			abort();
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

/* "dir/name" in one of 8 static buffers used in turn, so a test can hold a
 * few paths at once. */
static const char *join(const char *dir, const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, 1024, "%s/%s", dir, name);
	return b;
}

const char *tu_path(const char *name) { return join(tu_tmpdir(), name); }

const char *tu_write_file(const char *name, const void *data, size_t n)
{
	const char *p = tu_path(name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return p;
}

void tu_assert_detail(const char *frag)
{
	const char *d = ax_error_detail();
	if (!strstr(d, frag))
		fail_msg("error detail \"%s\" lacks \"%s\"", d, frag);
}

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	char *b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

const char *tu_ref(const char *name)
{
	static char dir[256];
	const char *root = getenv("AXON_ROOT");
	snprintf(dir, sizeof dir, "%s/tests/ref", root ? root : ".");
	return join(dir, name);
}

void tu_assert_close(const float *a, const float *b, size_t n, double atol, double rtol,
		     const char *what)
{
	size_t worst = 0;
	double worst_excess = -1;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]), tol = atol + rtol * fabs(b[i]);
		double excess = isnan(d) ? INFINITY : d - tol;
		if (excess > worst_excess) {
			worst_excess = excess;
			worst = i;
		}
	}
	if (worst_excess > 0)
		fail_msg("%s: element %zu differs: %.8g vs %.8g (atol %g rtol %g)", what, worst,
			 a[worst], b[worst], atol, rtol);
}

struct ax_tensor *tu_leaf(struct ax_arena *a, int ndim, const int *shape, uint64_t seed, float std)
{
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	struct ax_tensor *t = ax_tensor_new(a, ndim, shape);
	ax_rng_fill_normal(&r, t->data, t->size, 0.0f, std);
	ax_tensor_require_grad(t, a);
	return t;
}

static double weighted_sum(const struct ax_tensor *out, const float *R)
{
	double s = 0;
	for (size_t i = 0; i < out->size; i++)
		s += (double)out->data[i] * R[i];
	return s;
}

void tu_gradcheck(tu_forward_fn fn, struct ax_tensor **in, int n_in, void *ctx, float eps,
		  double atol, double rtol, size_t max_elems, const char *what)
{
	struct ax_arena step;
	struct ax_tape t;
	ax_arena_init(&step, 0);
	ax_tape_init(&t, &step);
	t.training = 0;
	for (int i = 0; i < n_in; i++)
		memset(in[i]->grad, 0, in[i]->size * sizeof(float));

	struct ax_tensor *out = fn(&t, in, ctx);
	float *R = malloc(out->size * sizeof(float));
	struct ax_rng r;
	ax_rng_seed(&r, 12345);
	ax_rng_fill_normal(&r, R, out->size, 0.0f, 1.0f);
	struct ax_tensor *Rt = ax_const(&t, out->ndim, out->shape, R);
	ax_tape_backward(&t, ax_sum_all(&t, ax_mul(&t, out, Rt)), 1.0f);

	for (int i = 0; i < n_in; i++) {
		struct ax_tensor *x = in[i];
		size_t n = x->size, stride = 1;
		if (max_elems && n > max_elems)
			stride = (n + max_elems - 1) / max_elems;
		for (size_t j = 0; j < n; j += stride) {
			float keep = x->data[j];
			ax_tape_reset(&t);
			ax_no_grad_begin(&t);
			x->data[j] = keep + eps;
			double lp = weighted_sum(fn(&t, in, ctx), R);
			ax_tape_reset(&t);
			x->data[j] = keep - eps;
			double lm = weighted_sum(fn(&t, in, ctx), R);
			ax_no_grad_end(&t);
			x->data[j] = keep;
			double num = (lp - lm) / (2.0 * eps), ana = x->grad[j];
			if (!(fabs(ana - num) <= atol + rtol * fabs(num)))
				fail_msg("%s: input %d element %zu: analytic %.6g numeric %.6g", what,
					 i, j, ana, num);
		}
	}
	free(R);
	ax_tape_free(&t);
	ax_arena_free(&step);
}

int tu_run_child(void (*fn)(void *), void *arg, char *err, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		fn(arg);
		exit(0);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t got;
	while (len + 1 < n && (got = read(fds[0], err + len, n - 1 - len)) > 0)
		len += (size_t)got;
	err[len] = 0;
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}
