/* io_outfile.c — atomic output files: write a temp file beside the target,
 * fsync, rename over it. An interrupted or failed run leaves the old file
 * (or nothing) behind, never a truncated one. */
#include "ax_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum ax_status ax_outfile_open(struct ax_outfile *o, const char *path)
{
	memset(o, 0, sizeof *o);
	if (!strcmp(path, "-")) {
		o->f = stdout;
		o->path = ax_xstrdup(path);
		return AX_OK;
	}
	size_t n = strlen(path) + 32;
	char *tmp = ax_xmalloc(n);
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	/* O_EXCL: never write through a stale temp file or a planted symlink. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		enum ax_status st = ax_error_set(AX_ERR_IO, "%s: cannot create %s: %s", path, tmp,
						 strerror(errno));
		free(tmp);
		return st;
	}
	o->f = fdopen(fd, "wb");
	AX_ASSERT(o->f && "fdopen on a fresh descriptor");
	o->path = ax_xstrdup(path);
	o->tmp = tmp;
	return AX_OK;
}

static void finish(struct ax_outfile *o)
{
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
}

enum ax_status ax_outfile_commit(struct ax_outfile *o)
{
	AX_ASSERT(o->f && "outfile not open");
	enum ax_status st = AX_OK;
	if (!o->tmp) {   /* stdout */
		if (fflush(o->f) || ferror(o->f))
			st = ax_error_set(AX_ERR_IO, "standard output: write error: %s",
					  strerror(errno));
		finish(o);
		return st;
	}
	const char *what = NULL;
	int err = 0;
	if (fflush(o->f) || ferror(o->f))
		what = "write", err = errno ? errno : EIO;
	else if (fsync(fileno(o->f)) && errno != EINVAL)   /* EINVAL: not syncable (pipe-like) */
		what = "fsync", err = errno;
	if (fclose(o->f) && !what)
		what = "close", err = errno;
	if (!what && rename(o->tmp, o->path))
		what = "rename", err = errno;
	if (what) {
		unlink(o->tmp);
		st = ax_error_set(AX_ERR_IO, "%s: %s failed: %s", o->path, what, strerror(err));
	}
	finish(o);
	return st;
}

void ax_outfile_abort(struct ax_outfile *o)
{
	if (!o->f)
		return;
	if (o->tmp) {
		fclose(o->f);
		unlink(o->tmp);
	} else {
		fflush(o->f);   /* stdout: what was written is gone already */
	}
	finish(o);
}
