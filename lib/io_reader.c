/* io_reader.c — gzip-transparent input streams over zlib's gzFile, and the
 * process's record of the files it read.
 *
 * gzread passes plain (non-gzip) data through unchanged, so every reader in
 * the library gets .gz support for free. A few bytes of look-ahead let a
 * caller sniff the format of a pipe without consuming it. No stream yields
 * more than AX_READ_MAX bytes (or its own limit), so an endless input such
 * as /dev/zero ends with a message instead of filling memory.
 *
 * Every regular file opened for reading is recorded by device and inode so
 * that io_outfile.c can refuse to replace an input with an output; files this
 * process wrote itself are recorded as such and are never refused.
 */
#include "ax_io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct ax_reader {
	gzFile gz;
	char *name;
	size_t off;                 /* bytes handed to the caller */
	unsigned char ahead[16];    /* peeked, not yet consumed */
	size_t nahead;
	size_t limit;               /* most bytes the stream may yield */
	int has_id;                 /* a regular file: dev/ino are its identity */
	dev_t dev;
	ino_t ino;
};

/* ---- the files this process read or wrote ---- */

static struct {
	pthread_mutex_t lock;
	size_t n, cap;
	struct file_id { dev_t dev; ino_t ino; enum ax_file_use use; } *v;
} files = {PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL};

static struct file_id *file_find(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < files.n; i++)
		if (files.v[i].dev == dev && files.v[i].ino == ino)
			return &files.v[i];
	return NULL;
}

/* Records a use of a file; a file written here stays AX_FILE_WRITTEN, an
 * input read whole as a bundle stays AX_FILE_BUNDLE. */
static void file_note(dev_t dev, ino_t ino, enum ax_file_use use)
{
	pthread_mutex_lock(&files.lock);
	struct file_id *f = file_find(dev, ino);
	if (!f) {
		if (files.n == files.cap) {
			files.cap = files.cap ? 2 * files.cap : 16;
			files.v = ax_xrealloc(files.v, files.cap * sizeof *files.v);
		}
		f = &files.v[files.n++];
		*f = (struct file_id){dev, ino, use};
	} else if (use == AX_FILE_WRITTEN || (f->use == AX_FILE_INPUT && use == AX_FILE_BUNDLE)) {
		f->use = use;
	}
	pthread_mutex_unlock(&files.lock);
}

void ax_file_written(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		file_note(st.st_dev, st.st_ino, AX_FILE_WRITTEN);
}

enum ax_file_use ax_file_use(const char *path)
{
	struct stat st;
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return AX_FILE_UNSEEN;
	pthread_mutex_lock(&files.lock);
	const struct file_id *f = file_find(st.st_dev, st.st_ino);
	enum ax_file_use use = f ? f->use : AX_FILE_UNSEEN;
	pthread_mutex_unlock(&files.lock);
	return use;
}

void ax_reader_read_as_bundle(struct ax_reader *r)
{
	if (r->has_id)
		file_note(r->dev, r->ino, AX_FILE_BUNDLE);
}

void ax_input_read_as_bundle(const struct ax_input *in)
{
	if (in->has_id)
		file_note(in->dev, in->ino, AX_FILE_BUNDLE);
}

void ax_reader_set_limit(struct ax_reader *r, size_t limit) { r->limit = limit; }

/* ---- streams ---- */

enum ax_status ax_reader_open(struct ax_reader **out, const char *path)
{
	*out = NULL;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0)
		return ax_error_set(AX_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	int known = fstat(fd, &st) == 0;
	if (known && S_ISDIR(st.st_mode)) {
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
	r->limit = AX_READ_MAX;
	if (known && S_ISREG(st.st_mode)) {
		r->has_id = 1;
		r->dev = st.st_dev;
		r->ino = st.st_ino;
		file_note(st.st_dev, st.st_ino, AX_FILE_INPUT);
	}
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

static enum ax_status over_limit(const struct ax_reader *r)
{
	return ax_error_set(AX_ERR_UNSUPPORTED, "%s: input longer than %zu bytes, the limit for "
			    "one input (an endless device such as /dev/zero?)", r->name, r->limit);
}

/* Bytes to ask for when n are wanted: one past the limit at most, to tell
 * "at the limit" from "over it". */
static size_t allowance(const struct ax_reader *r, size_t n)
{
	size_t room = r->limit - AX_MIN(r->off, r->limit);
	return room == SIZE_MAX ? n : AX_MIN(n, room + 1);
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
	enum ax_status st = take(r, buf, allowance(r, n), &got);
	if (!st && r->off > r->limit)
		st = over_limit(r);
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
		size_t got, want = allowance(r, cap - have);
		enum ax_status st = take(r, p + have, want, &got);
		have += got;
		if (!st && r->off > r->limit)
			st = over_limit(r);
		if (st || got < want) {
			free(p);
			return st ? st : truncated(r, n - have);
		}
		if (have == n)
			break;
		if (have < cap)
			continue;
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
		/* one byte past the limit at most, to tell "at the limit" from "over it" */
		size_t want = allowance(r, cap - 1 - have), got;
		enum ax_status st = take(r, p + have, want, &got);
		if (!st && r->off > r->limit)
			st = over_limit(r);
		if (st) {
			free(p);
			return st;
		}
		have += got;
		if (got < want)
			break;
		if (have < cap - 1)
			continue;
		if (cap > SIZE_MAX / 2) {
			free(p);
			return ax_error_set(AX_ERR_NOMEM, "%s: input too large", r->name);
		}
		size_t next = AX_MIN(cap * 2, AX_MAX(r->limit, cap) + 2);
		char *q = realloc(p, next);
		if (!q) {
			free(p);
			return ax_error_set(AX_ERR_NOMEM, "%s: cannot allocate %zu bytes", r->name,
					    next);
		}
		p = q;
		cap = next;
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

/* ---- whole inputs for random access ---- */

/* A regular file that does not start with gzip's magic bytes. */
static int mappable(int fd, const struct stat *st)
{
	unsigned char magic[2];
	return S_ISREG(st->st_mode) && st->st_size > 0 &&
	       !(pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
}

enum ax_status ax_input_map(const char *path, struct ax_input *in)
{
	memset(in, 0, sizeof *in);
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	int known = fd >= 0 && fstat(fd, &st) == 0;
	if (known && S_ISREG(st.st_mode))
		in->has_id = 1, in->dev = st.st_dev, in->ino = st.st_ino;
	if (known && mappable(fd, &st) && (uintmax_t)st.st_size <= SIZE_MAX) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			close(fd);
			file_note(st.st_dev, st.st_ino, AX_FILE_INPUT);
			in->map = p;
			in->data = p;
			in->len = (size_t)st.st_size;
			return AX_OK;
		}
	}
	if (fd >= 0)
		close(fd);
	enum ax_status err = ax_read_all(path, &in->buf, &in->len);
	in->data = (const unsigned char *)in->buf;
	return err;
}

void ax_input_free(struct ax_input *in)
{
	if (in->map)
		munmap(in->map, in->len);
	free(in->buf);
	memset(in, 0, sizeof *in);
}
