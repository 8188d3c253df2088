/* testutil.h — shared helpers for the cmocka unit tests. Include after
 * <cmocka.h>'s prerequisites (stdarg, stddef, setjmp). */
#ifndef AX_TESTUTIL_H
#define AX_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh scratch folder for the test binary (removed at exit). */
const char *tu_tmpdir(void);
/* tu_path("x.npy") -> "<tmpdir>/x.npy" in a static rotating buffer. */
const char *tu_path(const char *name);
/* Write bytes to a file under the tmpdir, return its path. */
const char *tu_write_file(const char *name, const void *data, size_t n);
/* Fail unless ax_error_detail() contains frag. */
void tu_assert_detail(const char *frag);
/* A whole file in a malloc'd buffer (one spare byte), its length in *len. */
char *tu_read_file(const char *path, size_t *len);
/* Run fn(arg) in a child process with its stderr captured into err (n
 * bytes with the NUL); returns its exit status, or -signal if killed. */
int tu_run_child(void (*fn)(void *), void *arg, char *err, size_t n);
/* Path of a committed reference file under tests/ref/. */
const char *tu_ref(const char *name);

/* assert every |a[i]-b[i]| <= atol + rtol*|b[i]|, printing the worst index. */
void tu_assert_close(const float *a, const float *b, size_t n, double atol, double rtol,
		     const char *what);


#include "axon.h"

/* Gradient check of an op (or a whole forward) against central finite
 * differences. fn builds an output from the inputs on the tape; the checker
 * uses L = sum(out * R) with a fixed random R, accumulates L in double for
 * the numeric side, and compares every input element (or `max_elems`
 * evenly spread ones) with |analytic - numeric| <= atol + rtol*|numeric|.
 * Inputs must be parameters-like (requires_grad, grad allocated). */
typedef struct ax_tensor *(*tu_forward_fn)(struct ax_tape *t, struct ax_tensor **in, void *ctx);
void tu_gradcheck(tu_forward_fn fn, struct ax_tensor **in, int n_in, void *ctx, float eps,
		  double atol, double rtol, size_t max_elems, const char *what);
/* A leaf tensor with gradient, filled N(0, std) from seed. */
struct ax_tensor *tu_leaf(struct ax_arena *a, int ndim, const int *shape, uint64_t seed, float std);

#endif
