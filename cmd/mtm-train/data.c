/* data.c — loading and checking a session bundle (layout in mtm-train(1)).
 *
 * The bundle is mapped (ax_bundle_map), not read: float32 arrays are used
 * where they lie in the file, so ranks on a node share one copy of the
 * counts; an array of another dtype is converted into a float32 copy.
 *
 * Required: "counts" (trials, T, N), any numeric dtype, finite and >= 0.
 * Optional: "regions" (N) int (labels; absent = one region), "rates" like
 * counts (true rates: oracle metrics), "choice" (trials) int 0/1, "wheel"
 * (trials, T), "split" (trials) int, 1 = test trial. Without "split" every
 * fifth trial (index % 5 == 4) is a test trial. Anything else is
 * AX_ERR_FORMAT "FILE: what".
 */
#include "mtm.h"

#include <math.h>
#include <string.h>

#define BAD(...) ax_error_set(AX_ERR_FORMAT, __VA_ARGS__)

/* An array converted to float32 in *out; NULL when absent and optional;
 * AX_ERR_FORMAT when it is there with the wrong rank or sizes (dims[i] < 0:
 * any) or a non-finite value. */
static enum ax_status get_f32(struct mtm_session *s, const char *name, int ndim,
			      const int64_t *dims, int required, const struct ax_array **out)
{
	struct ax_array *a = (struct ax_array *)ax_bundle_find(&s->bundle, name);
	*out = NULL;
	if (!a)
		return required ? BAD("%s: no '%s' array (expected trials x bins x neurons)",
				      s->path, name) : AX_OK;
	int ok = a->ndim == ndim && a->dtype != AX_BOOL;
	for (int i = 0; ok && i < ndim; i++)
		ok = dims[i] < 0 || a->shape[i] == dims[i];
	if (!ok)
		return BAD("%s: '%s' has dtype %s and %d dims, not the expected shape", s->path,
			   name, ax_dtype_name(a->dtype), a->ndim);
	if (ax_array_to_f32(a))
		return ax_error_set(AX_ERR_NOMEM, "%s: out of memory converting '%s'", s->path, name);
	float *x = a->data;
	for (size_t i = 0, n = ax_array_count(a); i < n; i++)
		if (!isfinite(x[i]))
			return BAD("%s: '%s' holds a non-finite value at element %zu", s->path, name, i);
	*out = a;
	return AX_OK;
}

static int cmp_int32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* An integer-valued array read through float32 (labels are small). */
static int32_t *to_ints(const struct ax_array *a)
{
	size_t n = ax_array_count(a);
	int32_t *v = ax_xmalloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (int32_t)lrintf(((const float *)a->data)[i]);
	return v;
}

/* Regions: labels compacted to 0..nregions-1 in increasing label order. */
static void compact_regions(struct mtm_session *s, const struct ax_array *a)
{
	s->region = ax_xcalloc((size_t)s->N, sizeof *s->region);
	if (!a) {
		s->nregions = 1;
		return;
	}
	int32_t *label = to_ints(a), *sorted = ax_xmalloc((size_t)s->N * sizeof *sorted);
	memcpy(sorted, label, (size_t)s->N * sizeof *sorted);
	qsort(sorted, (size_t)s->N, sizeof *sorted, cmp_int32);
	int distinct = 0;
	for (int n = 0; n < s->N; n++)
		if (!n || sorted[n] != sorted[distinct - 1])
			sorted[distinct++] = sorted[n];
	for (int n = 0; n < s->N; n++) {
		int32_t *hit = bsearch(&label[n], sorted, (size_t)distinct, sizeof *sorted, cmp_int32);
		s->region[n] = (int32_t)(hit - sorted);
	}
	s->nregions = distinct;
	free(label), free(sorted);
}

/* Train and test trials from "split" (or every fifth trial), and the mean
 * count of each neuron over the training trials. */
static enum ax_status split_trials(struct mtm_session *s, const struct ax_array *a)
{
	int32_t *is_test = ax_xcalloc((size_t)s->trials, sizeof *is_test);
	if (a) {
		int32_t *v = to_ints(a);
		for (int m = 0; m < s->trials; m++)
			is_test[m] = v[m] == 1;
		free(v);
	} else {
		for (int m = 0; m < s->trials; m++)
			is_test[m] = m % 5 == 4;
	}
	s->train = ax_xmalloc((size_t)s->trials * sizeof *s->train);
	s->test = ax_xmalloc((size_t)s->trials * sizeof *s->test);
	for (int m = 0; m < s->trials; m++) {
		if (is_test[m])
			s->test[s->ntest++] = m;
		else
			s->train[s->ntrain++] = m;
	}
	free(is_test);
	if (!s->ntrain || !s->ntest)
		return BAD("%s: the split leaves no training or no test trial", s->path);
	s->mean_count = ax_xcalloc((size_t)s->N, sizeof *s->mean_count);
	size_t TN = (size_t)s->T * s->N;
	for (int k = 0; k < s->ntrain; k++)
		for (int t = 0; t < s->T; t++)
			for (int n = 0; n < s->N; n++)
				s->mean_count[n] += s->counts[(size_t)s->train[k] * TN + (size_t)t * s->N + n];
	for (int n = 0; n < s->N; n++)
		s->mean_count[n] /= (float)s->ntrain * s->T;
	return AX_OK;
}

/* "counts": its shape gives trials, T, N. */
static enum ax_status read_counts(struct mtm_session *s)
{
	const struct ax_array *c;
	enum ax_status st = get_f32(s, "counts", 3, (int64_t[]){ -1, -1, -1 }, 1, &c);
	if (st)
		return st;
	if (c->shape[0] < 2 || c->shape[1] < 11 || c->shape[2] < 1 || c->shape[0] > 1000000 ||
	    c->shape[1] > 100000 || c->shape[2] > 100000)
		return BAD("%s: 'counts' must have at least 2 trials, 11 bins and 1 neuron", s->path);
	s->trials = (int)c->shape[0], s->T = (int)c->shape[1], s->N = (int)c->shape[2];
	s->counts = c->data;
	for (size_t i = 0, n = ax_array_count(c); i < n; i++)
		if (s->counts[i] < 0)
			return BAD("%s: 'counts' holds a negative value", s->path);
	return AX_OK;
}

enum ax_status mtm_session_load(struct mtm_session *s, const char *path)
{
	memset(s, 0, sizeof *s);
	s->path = ax_xstrdup(path);
	s->name = ax_path_stem(path, ".");
	enum ax_status st = ax_bundle_map(path, &s->bundle);
	if (!st)
		st = read_counts(s);
	if (st)
		return st;
	int64_t dims3[3] = { s->trials, s->T, s->N }, dimsN[1] = { s->N };
	int64_t dimsM[1] = { s->trials }, dimsMT[2] = { s->trials, s->T };
	const struct ax_array *rates, *choice, *wheel, *regions, *split;
	if ((st = get_f32(s, "rates", 3, dims3, 0, &rates)) ||
	    (st = get_f32(s, "choice", 1, dimsM, 0, &choice)) ||
	    (st = get_f32(s, "wheel", 2, dimsMT, 0, &wheel)) ||
	    (st = get_f32(s, "regions", 1, dimsN, 0, &regions)) ||
	    (st = get_f32(s, "split", 1, dimsM, 0, &split)))
		return st;
	s->rates = rates ? rates->data : NULL;
	s->wheel = wheel ? wheel->data : NULL;
	if (choice) {
		s->choice = to_ints(choice);
		for (int m = 0; m < s->trials; m++)
			if (((const float *)choice->data)[m] != 0 && ((const float *)choice->data)[m] != 1)
				return BAD("%s: 'choice' of trial %d is %g, not 0 or 1", path, m,
					   (double)((const float *)choice->data)[m]);
	}
	compact_regions(s, regions);
	return split_trials(s, split);
}

void mtm_session_free(struct mtm_session *s)
{
	free(s->path), free(s->name), free(s->region), free(s->choice);
	free(s->train), free(s->test), free(s->mean_count);
	ax_bundle_free(&s->bundle);
}

enum ax_status mtm_sessions_load(char **paths, int n, struct mtm_session **out)
{
	struct mtm_session *s = ax_xcalloc((size_t)n, sizeof *s);
	enum ax_status st = AX_OK;
	int i;
	for (i = 0; i < n && !st; i++) {
		st = mtm_session_load(&s[i], paths[i]);
		if (!st && s[i].T != s[0].T)
			st = BAD("%s: %d bins per trial, but %s has %d", paths[i], s[i].T, paths[0],
				 s[0].T);
	}
	if (st) {
		mtm_sessions_free(s, i);
		s = NULL;
	}
	*out = s;
	return st;
}

void mtm_sessions_free(struct mtm_session *s, int n)
{
	for (int i = 0; i < n; i++)
		mtm_session_free(&s[i]);
	free(s);
}

enum ax_status mtm_sessions_fit(const struct mtm_config *c, const struct mtm_session *s, int n,
				const char *ckpt)
{
	if (n > c->nsessions)
		return BAD("%s holds %d sessions, but %d session files were given", ckpt,
			   c->nsessions, n);
	for (int i = 0; i < n; i++) {
		if (s[i].N != c->neurons[i])
			return BAD("%s: %d neurons, but session %d of %s has %d (neuron-count mismatch)",
				   s[i].path, s[i].N, i, ckpt, c->neurons[i]);
		if (s[i].T != c->T)
			return BAD("%s: %d bins per trial, but %s was trained on %d", s[i].path, s[i].T,
				   ckpt, c->T);
	}
	return AX_OK;
}
