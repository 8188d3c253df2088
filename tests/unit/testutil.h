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
/* Path of a committed reference file under tests/ref/. */
const char *tu_ref(const char *name);

/* assert every |a[i]-b[i]| <= atol + rtol*|b[i]|, printing the worst index. */
void tu_assert_close(const float *a, const float *b, size_t n, double atol, double rtol,
		     const char *what);

#endif
