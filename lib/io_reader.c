/* io_reader.c — gzip-transparent input streams over zlib's gzFile.
 *
 * gzread passes plain (non-gzip) data through unchanged, so every reader in
 * the library gets .gz support for free. A few bytes of look-ahead let a
 * caller sniff the format of a pipe without consuming it.
 */
#include "ax_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct ax_reader {
	gzFile gz;
	char *name;
	size_t off;                 /* bytes handed to the caller */
	unsigned char ahead[16];    /* peeked, not yet consumed */
	size_t nahead;
};

enum ax_status ax_reader_open(struct ax_reader **out, const char *path)
{
	*out = NULL;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0)
		return ax_error_set(AX_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return ax_error_set(AX_ERR_IO, "%s: is a directory", path);
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return ax_error_set(AX_ERR_NOMEM, "%s: cannot set up zlib stream", path);
	}
	gzbuffer(gz, 1 << 17);
	struct ax_reader *r = ax_xcalloc(1, sizeof *r);
	r->gz = gz;
	r->name = ax_xstrdup(path);
	*out = r;
	return AX_OK;
}

void ax_reader_close(struct ax_reader *r)
{
	if (!r)
		return;
	gzclose_r(r->gz);
	free(r->name);
	free(r);
}

const char *ax_reader_name(const struct ax_reader *r) { return r->name; }
size_t ax_reader_offset(const struct ax_reader *r) { return r->off; }

/* Up to n bytes from zlib into buf; *got < n only at the end of input.
 * A truncated or corrupt gzip member is an error, not a quiet end. */
static enum ax_status gz_fill(struct ax_reader *r, unsigned char *buf, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		unsigned chunk = (unsigned)AX_MIN(n - *got, (size_t)1 << 30);
		int k = gzread(r->gz, buf + *got, chunk);
		int errnum = Z_OK;
		const char *msg = k <= 0 ? gzerror(r->gz, &errnum) : "";
		if (errnum == Z_ERRNO)
			return ax_error_set(AX_ERR_IO, "%s: read error at byte %zu: %s", r->name,
					    r->off + r->nahead + *got, strerror(errno));
		if (errnum != Z_OK)
			return ax_error_set(AX_ERR_FORMAT, "%s: corrupt gzip data after byte %zu: %s",
					    r->name, r->off + r->nahead + *got, msg);
		if (k <= 0)
			break;
		*got += (size_t)k;
	}
	return AX_OK;
}

/* Up to n bytes, look-ahead first; consumes what it returns. */
static enum ax_status take(struct ax_reader *r, void *buf, size_t n, size_t *got)
{
	size_t a = AX_MIN(n, r->nahead);
	memcpy(buf, r->ahead, a);
	memmove(r->ahead, r->ahead + a, r->nahead - a);
	r->nahead -= a;
	size_t more = 0;
	enum ax_status st = n > a ? gz_fill(r, (unsigned char *)buf + a, n - a, &more) : AX_OK;
	*got = a + more;
	r->off += *got;
	return st;
}

static enum ax_status truncated(const struct ax_reader *r, size_t missing)
{
	return ax_error_set(AX_ERR_FORMAT, "%s: truncated at byte %zu: %zu more bytes expected",
			    r->name, r->off, missing);
}

enum ax_status ax_reader_read(struct ax_reader *r, void *buf, size_t n)
{
	size_t got;
	enum ax_status st = take(r, buf, n, &got);
	if (st)
		return st;
	if (got == 0 && n > 0)
		return ax_error_set(AX_ERR_EOF, "%s: end of input at byte %zu", r->name, r->off);
	return got < n ? truncated(r, n - got) : AX_OK;
}

enum ax_status ax_reader_read_alloc(struct ax_reader *r, size_t n, void **out)
{
	*out = NULL;
	if (n == 0)
		return AX_OK;
	size_t cap = AX_MIN(n, (size_t)1 << 20), have = 0;
	unsigned char *p = malloc(cap);
	if (!p)
		return ax_error_set(AX_ERR_NOMEM, "%s: cannot allocate %zu bytes", r->name, cap);
	for (;;) {
		size_t got;
		enum ax_status st = take(r, p + have, cap - have, &got);
		have += got;
		if (st || have < cap) {
			free(p);
			return st ? st : truncated(r, n - have);
		}
		if (have == n)
			break;
		/* Grow only once the data so far have actually arrived. */
		size_t next = cap <= n / 2 ? cap * 2 : n;
		unsigned char *q = realloc(p, next);
		if (!q) {
			free(p);
			return ax_error_set(AX_ERR_NOMEM, "%s: cannot allocate %zu bytes", r->name,
					    next);
		}
		p = q;
		cap = next;
	}
	*out = p;
	return AX_OK;
}

enum ax_status ax_reader_peek(struct ax_reader *r, void *buf, size_t n, size_t *got)
{
	AX_ASSERT(n <= sizeof r->ahead && "peek at most 16 bytes");
	if (r->nahead < n) {
		size_t more;
		enum ax_status st = gz_fill(r, r->ahead + r->nahead, n - r->nahead, &more);
		if (st)
			return st;
		r->nahead += more;
	}
	*got = AX_MIN(n, r->nahead);
	memcpy(buf, r->ahead, *got);
	return AX_OK;
}

enum ax_status ax_reader_read_rest(struct ax_reader *r, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	size_t cap = 1 << 16, have = 0;
	char *p = ax_xmalloc(cap);
	for (;;) {
		size_t got;
		enum ax_status st = take(r, p + have, cap - 1 - have, &got);
		if (st) {
			free(p);
			return st;
		}
		have += got;
		if (have < cap - 1)
			break;
		if (cap > SIZE_MAX / 2) {
			free(p);
			return ax_error_set(AX_ERR_NOMEM, "%s: input too large", r->name);
		}
		char *q = realloc(p, cap * 2);
		if (!q) {
			free(p);
			return ax_error_set(AX_ERR_NOMEM, "%s: cannot allocate %zu bytes", r->name,
					    cap * 2);
		}
		p = q;
		cap *= 2;
	}
	p[have] = 0;
	*buf = p;
	*len = have;
	return AX_OK;
}

enum ax_status ax_read_all(const char *path, char **buf, size_t *len)
{
	struct ax_reader *r;
	*buf = NULL;
	*len = 0;
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = ax_reader_read_rest(r, buf, len);
	ax_reader_close(r);
	return st;
}
