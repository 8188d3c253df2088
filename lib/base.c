/* base.c — status strings, per-thread error detail, checked allocation. */
#include "ax_base.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char error_detail[512];

const char *ax_strerror(enum ax_status st)
{
	switch (st) {
	case AX_OK: return "ok";
	case AX_ERR_IO: return "I/O error";
	case AX_ERR_FORMAT: return "malformed input";
	case AX_ERR_NOMEM: return "out of memory";
	case AX_ERR_UNSUPPORTED: return "unsupported";
	case AX_ERR_ARG: return "bad argument";
	case AX_ERR_NOTFOUND: return "not found";
	case AX_ERR_NUMERIC: return "numerical failure";
	case AX_ERR_EOF: return "end of stream";
	}
	return "unknown error";
}

const char *ax_error_detail(void) { return error_detail; }

enum ax_status ax_error_set(enum ax_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error_detail, sizeof error_detail, fmt, ap);
	va_end(ap);
	return st;
}

enum ax_status ax_error_prefix(enum ax_status st, const char *prefix)
{
	/* Move the detail right, then write the prefix before it; a detail
	 * longer than the buffer is cut, as ax_error_set's is. */
	if (!error_detail[0])   /* no detail: the status's own text */
		snprintf(error_detail, sizeof error_detail, "%s", ax_strerror(st));
	size_t cap = sizeof error_detail, lp = strlen(prefix) + 2;
	if (lp >= cap)
		lp = cap - 1;
	memmove(error_detail + lp, error_detail, cap - lp - 1);
	error_detail[cap - 1] = '\0';
	memcpy(error_detail, prefix, lp > 2 ? lp - 2 : 0);
	if (lp >= 2)
		memcpy(error_detail + lp - 2, ": ", 2);
	return st;
}

void ax_assert_fail(const char *expr, const char *file, int line)
{
	/* The one place the library writes: a programmer error is a bug in the
	 * caller, and aborting with its location is the useful thing to do. */
	fprintf(stderr, "axon: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

static ax_oom_fn oom_handler;

void ax_oom_handler_set(ax_oom_fn fn) { oom_handler = fn; }

void ax_oom(size_t bytes, const char *what)
{
	if (oom_handler)
		oom_handler(bytes, what);
	fprintf(stderr, "axon: out of memory: %zu bytes for %s\n", bytes, what);
	ax_assert_fail("out of memory", __FILE__, __LINE__);
}

void *ax_xmalloc_for(size_t n, const char *what)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		ax_oom(n, what);
	return p;
}

void *ax_xmalloc(size_t n) { return ax_xmalloc_for(n, "a buffer"); }

void *ax_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) {
		size_t bytes;
		ax_oom(ax_mul_size(n, sz, &bytes) ? SIZE_MAX : bytes, "a buffer");
	}
	return p;
}

void *ax_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		ax_oom(n, "a buffer");
	return p;
}

char *ax_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(ax_xmalloc(n), s, n);
}
