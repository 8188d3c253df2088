/* ax_base.h — status codes, error detail, assertions, shared small types.
 *
 * Error convention: a fallible call returns enum ax_status (0 ok, negative
 * error). The call that fails also records a human-readable detail (file,
 * offset, what was expected) retrievable with ax_error_detail() on the same
 * thread until the next failing call. The library never prints, never exits.
 * Programmer errors (wrong shapes, NULL where forbidden) are AX_ASSERT()s.
 */
#ifndef AX_BASE_H
#define AX_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum ax_status {
	AX_OK = 0,
	AX_ERR_IO = -1,          /* open/read/write/rename failed (errno detail) */
	AX_ERR_FORMAT = -2,      /* malformed or truncated input */
	AX_ERR_NOMEM = -3,       /* allocation failed or size overflow */
	AX_ERR_UNSUPPORTED = -4, /* well-formed but not handled (dtype, version) */
	AX_ERR_ARG = -5,         /* bad argument value from the caller's user */
	AX_ERR_NOTFOUND = -6,    /* named item (tensor, column) absent */
	AX_ERR_NUMERIC = -7,     /* NaN/inf or divergence */
	AX_ERR_EOF = -8,         /* clean end of a stream (not an error for loops) */
};

/* Short fixed text for a status ("I/O error", "malformed input", ...). */
const char *ax_strerror(enum ax_status st);

/* Detail of the last failure on this thread ("" if none). */
const char *ax_error_detail(void);

/* Record a detail (printf-style) and return st, so a failing path reads
 *   return ax_error_set(AX_ERR_FORMAT, "%s: header truncated at byte %zu", path, off);
 */
enum ax_status ax_error_set(enum ax_status st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put "<prefix>: " before the current detail (the file a nested failure
 * happened in; with no detail, before ax_strerror(st)) and return st. */
enum ax_status ax_error_prefix(enum ax_status st, const char *prefix);

/* Programmer-error check: AX_ASSERT(n > 0 && "shape must be positive"). Always on. */
#define AX_ASSERT(cond)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			ax_assert_fail(#cond, __FILE__, __LINE__);             \
	} while (0)
_Noreturn void ax_assert_fail(const char *expr, const char *file, int line);

/* Checked size arithmetic: returns 0 and sets *out, or -1 on overflow. */
static inline int ax_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

/* malloc/calloc/realloc that never return NULL: on failure they call the
 * out-of-memory handler (for sizes set by the program's user: flags, the
 * arena; sizes coming from input files go through ax_mul_size and return
 * AX_ERR_NOMEM instead). ax_xmalloc_for names what the memory is for. */
void *ax_xmalloc(size_t n);
void *ax_xmalloc_for(size_t n, const char *what);
void *ax_xcalloc(size_t n, size_t sz);
void *ax_xrealloc(void *p, size_t n);
char *ax_xstrdup(const char *s);

/* Out of memory: the library calls the handler with the size asked and what
 * it was for ("an arena chunk", "a 3x4 tensor"). The default handler is an
 * assertion failure; ax_cli_init installs one that prints
 * "prog: out of memory: N bytes for WHAT" and exits 1. The handler must not
 * return. ax_oom is what allocation paths call. */
typedef void (*ax_oom_fn)(size_t bytes, const char *what);
void ax_oom_handler_set(ax_oom_fn fn);
_Noreturn void ax_oom(size_t bytes, const char *what);

#define AX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AX_MAX(a, b) ((a) > (b) ? (a) : (b))
#define AX_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
