/* testutil.c — scratch files and tolerant comparisons for unit tests. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

const char *tu_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, 512, "%s/%s", tu_tmpdir(), name);
	return b;
}

const char *tu_write_file(const char *name, const void *data, size_t n)
{
	const char *p = tu_path(name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return p;
}

const char *tu_ref(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];
	const char *root = getenv("AXON_ROOT");
	snprintf(b, 512, "%s/tests/ref/%s", root ? root : ".", name);
	return b;
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
