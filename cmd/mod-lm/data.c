/* data.c — the byte corpus and its held-out split. */
#include "mod.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fortune files themselves: regular files without the .dat (strfile
 * index) or .u8 (UTF-8 symlink) companions, sorted so the order is fixed. */
static enum ax_status list_default_corpus(char ***out, int *nout)
{
	DIR *d = opendir(MOD_DEFAULT_CORPUS);
	if (!d)
		return ax_error_set(AX_ERR_IO, "%s: %s (install the 'fortunes' package or give FILEs)",
				    MOD_DEFAULT_CORPUS, strerror(errno));
	char **names = NULL;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".u8"))
			continue;
		char path[4096];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", MOD_DEFAULT_CORPUS, e->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = ax_xrealloc(names, (size_t)cap * sizeof *names);
		}
		names[n++] = ax_xstrdup(path);
	}
	closedir(d);
	if (n == 0)
		return ax_error_set(AX_ERR_ARG, "%s: no text files", MOD_DEFAULT_CORPUS);
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	*out = names;
	*nout = n;
	return AX_OK;
}

static void append(struct mod_text *t, size_t *cap, const unsigned char *src, size_t n)
{
	if (n == 0)
		return;  /* an empty file: src may be NULL */
	if (t->n + n > *cap) {
		*cap = (t->n + n) * 2;
		t->own = ax_xrealloc(t->own, *cap);
	}
	memcpy(t->own + t->n, src, n);
	t->n += n;
	t->bytes = t->own;
}

/* Each file's tail is held out, so both splits sample every source. One
 * file: both splits are views of its mapping; several: copies. */
static enum ax_status split_files(char **files, int nfiles, double val_frac,
				  struct mod_text *train, struct mod_text *val)
{
	size_t cap_train = 0, cap_val = 0;
	for (int i = 0; i < nfiles; i++) {
		struct ax_input in;
		enum ax_status st = ax_input_map(files[i], &in);
		if (st)
			return st;
		size_t nval = (size_t)((double)in.len * val_frac);
		if (nfiles == 1) {
			train->in = in;
			train->bytes = in.data, train->n = in.len - nval;
			val->bytes = in.data + in.len - nval, val->n = nval;
			return AX_OK;
		}
		append(train, &cap_train, in.data, in.len - nval);
		append(val, &cap_val, in.data + in.len - nval, nval);
		ax_input_free(&in);
	}
	return AX_OK;
}

enum ax_status mod_text_load(char **files, int nfiles, double val_frac, struct mod_text *train,
			     struct mod_text *val)
{
	char **own = NULL;
	enum ax_status st = AX_OK;
	memset(train, 0, sizeof *train);
	memset(val, 0, sizeof *val);
	if (nfiles == 0) {
		st = list_default_corpus(&own, &nfiles);
		if (st)
			return st;
		files = own;
	}
	st = split_files(files, nfiles, val_frac, train, val);
	if (own) {
		for (int i = 0; i < nfiles; i++)
			free(own[i]);
		free(own);
	}
	if (!st && train->n == 0)
		st = ax_error_set(AX_ERR_ARG, "the input text is empty");
	if (st) {
		mod_text_free(val);
		mod_text_free(train);
	}
	return st;
}

void mod_text_free(struct mod_text *t)
{
	free(t->own);
	ax_input_free(&t->in);
	memset(t, 0, sizeof *t);
}
