/* io_outfile.c — atomic output files: write a temp file beside the target,
 * fsync, rename over it, sync the directory. An interrupted or failed run
 * leaves the old file (or nothing) behind, never a truncated one.
 *
 * Three cases beside the plain one:
 * - a target that exists and is not a regular file (a character device such
 *   as /dev/null, a FIFO, a socket) is written in place: replacing it would
 *   turn the node into a regular file;
 * - a target this process read as an input is refused (AX_ERR_ARG), so a
 *   slip such as `-o data.csv data.csv` cannot destroy the data; a bundle
 *   may replace a bundle it was read as (a checkpoint saved over the one a
 *   run resumed from);
 * - temp files of the same target left by a killed run ("<path>.tmp.<pid>"
 *   whose pid no longer exists) are removed before a new one is made.
 */
#include "ax_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory path is in (malloc'd): "." for a bare name, "/" for "/x". */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? ax_xstrdup(path) : ax_xstrdup(".");
	if (slash)
		dir[slash - path + (slash == path)] = 0;
	return dir;
}

/* Removes "<base>.tmp.<pid>" beside path for pids that no longer run. */
static void remove_stale_temps(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = parent_dir(path);
	DIR *d = opendir(dir);
	if (d) {
		size_t nb = strlen(base);
		for (struct dirent *e; (e = readdir(d));) {
			const char *t = e->d_name;
			if (strncmp(t, base, nb) || strncmp(t + nb, ".tmp.", 5))
				continue;
			const char *digits = t + nb + 5;
			char *end;
			long pid = strtol(digits, &end, 10);
			if (*digits < '1' || *digits > '9' || *end || pid <= 0 || pid == (long)getpid())
				continue;
			if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
				unlinkat(dirfd(d), t, 0);
		}
		closedir(d);
	}
	free(dir);
}

/* An existing non-regular target, opened for writing in place. */
static enum ax_status open_in_place(struct ax_outfile *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ax_error_set(AX_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	o->f = fdopen(fd, "wb");
	AX_ASSERT(o->f && "fdopen on a fresh descriptor");
	o->path = ax_xstrdup(path);
	o->in_place = 1;
	return AX_OK;
}

static enum ax_status open_output(struct ax_outfile *o, const char *path, int bundle)
{
	memset(o, 0, sizeof *o);
	if (!strcmp(path, "-")) {
		o->f = stdout;
		o->path = ax_xstrdup(path);
		return AX_OK;
	}
	struct stat sb;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
		return open_in_place(o, path);
	enum ax_file_use use = ax_file_use(path);
	if (use == AX_FILE_INPUT || (use == AX_FILE_BUNDLE && !bundle))
		return ax_error_set(AX_ERR_ARG, "%s: is also an input; refusing to replace it "
				    "(name another output file)", path);
	remove_stale_temps(path);
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

enum ax_status ax_outfile_open(struct ax_outfile *o, const char *path)
{
	return open_output(o, path, 0);
}

enum ax_status ax_outfile_open_bundle(struct ax_outfile *o, const char *path)
{
	return open_output(o, path, 1);
}

static void finish(struct ax_outfile *o)
{
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
}

/* stdout or a target written in place: flush (and close) with errors reported. */
static enum ax_status commit_stream(struct ax_outfile *o)
{
	int err = fflush(o->f) || ferror(o->f) ? (errno ? errno : EIO) : 0;
	if (o->in_place && fclose(o->f) && !err)
		err = errno ? errno : EIO;
	enum ax_status st = AX_OK;
	if (err && !o->in_place)
		st = ax_error_set(AX_ERR_IO, "standard output: write error: %s", strerror(err));
	else if (err)
		st = ax_error_set(AX_ERR_IO, "%s: write error: %s", o->path, strerror(err));
	finish(o);
	return st;
}

/* The rename itself survives a power cut only once the directory is synced;
 * a directory that cannot be opened or synced leaves it to the kernel. */
static void sync_parent_dir(const char *path)
{
	char *dir = parent_dir(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

enum ax_status ax_outfile_commit(struct ax_outfile *o)
{
	AX_ASSERT(o->f && "outfile not open");
	if (!o->tmp)
		return commit_stream(o);
	enum ax_status st = AX_OK;
	const char *what = NULL;
	int err = 0;
	if (fflush(o->f) || ferror(o->f))
		what = "write", err = errno ? errno : EIO;
	else if (fsync(fileno(o->f)) && errno != EINVAL)   /* EINVAL: not syncable (pipe-like) */
		what = "fsync", err = errno;
	if (!what)
		ax_file_written(fileno(o->f));
	if (fclose(o->f) && !what)
		what = "close", err = errno;
	if (!what && rename(o->tmp, o->path))
		what = "rename", err = errno;
	if (!what)
		sync_parent_dir(o->path);
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
	} else if (o->in_place) {
		fclose(o->f);   /* what was written is gone already */
	} else {
		fflush(o->f);   /* stdout: what was written is gone already */
	}
	finish(o);
}
