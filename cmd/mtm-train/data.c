/* data.c — loading and checking a session bundle (layout in mtm-train(1)).
 *
 * Required: "counts" (trials, T, N), any numeric dtype, finite and >= 0.
 * Optional: "regions" (N) int (labels; absent = one region), "rates" like
 * counts (true rates: oracle metrics), "choice" (trials) int 0/1, "wheel"
 * (trials, T), "split" (trials) int, 1 = test trial. Without "split" every
 * fifth trial (index % 5 == 4) is a test trial.
 */
#include "mtm.h"

#include <math.h>
#include <string.h>

_Noreturn static void bad(const struct mtm_session *s, const char *what)
{
	ax_die(AX_EXIT_USAGE, "%s: %s", s->path, what);
}

/* Optional array: NULL when absent, converted to float32; exit 2 when it is
 * there with the wrong rank or sizes (dims[i] < 0: any). */
static struct ax_array *get_f32(struct mtm_session *s, const char *name, int ndim,
				const int64_t *dims, int required)
{
	struct ax_array *a = (struct ax_array *)ax_bundle_find(&s->bundle, name);
	char msg[256];
	if (!a) {
		if (!required)
			return NULL;
		snprintf(msg, sizeof msg, "no '%s' array (expected trials x bins x neurons)", name);
		bad(s, msg);
	}
	int ok = a->ndim == ndim && a->dtype != AX_BOOL;
	for (int i = 0; ok && i < ndim; i++)
		ok = dims[i] < 0 || a->shape[i] == dims[i];
	if (!ok) {
		snprintf(msg, sizeof msg, "'%s' has dtype %s and %d dims, not the expected shape",
			 name, ax_dtype_name(a->dtype), a->ndim);
		bad(s, msg);
	}
	if (ax_array_to_f32(a))
		bad(s, "out of memory converting an array");
	float *x = a->data;
	for (size_t i = 0, n = ax_array_count(a); i < n; i++)
		if (!isfinite(x[i])) {
			snprintf(msg, sizeof msg, "'%s' holds a non-finite value at element %zu", name, i);
			bad(s, msg);
		}
	return a;
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

void mtm_session_load(struct mtm_session *s, const char *path)
{
	memset(s, 0, sizeof *s);
	s->path = ax_xstrdup(path);
	const char *base = strrchr(path, '/');
	s->name = ax_xstrdup(base ? base + 1 : path);
	char *dot = strchr(s->name, '.');
	if (dot && dot != s->name)
		*dot = 0;
	enum ax_status st = ax_bundle_load(path, &s->bundle);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);

	const struct ax_array *c = get_f32(s, "counts", 3, (int64_t[]){ -1, -1, -1 }, 1);
	if (c->shape[0] < 2 || c->shape[1] < 11 || c->shape[2] < 1 || c->shape[0] > 1000000 ||
	    c->shape[1] > 100000 || c->shape[2] > 100000)
		bad(s, "'counts' must have at least 2 trials, 11 bins and 1 neuron");
	s->trials = (int)c->shape[0], s->T = (int)c->shape[1], s->N = (int)c->shape[2];
	s->counts = c->data;
	for (size_t i = 0, n = ax_array_count(c); i < n; i++)
		if (s->counts[i] < 0)
			bad(s, "'counts' holds a negative value");
	int64_t dims3[3] = { s->trials, s->T, s->N }, dimsN[1] = { s->N };
	int64_t dimsM[1] = { s->trials }, dimsMT[2] = { s->trials, s->T };
	const struct ax_array *a;
	if ((a = get_f32(s, "rates", 3, dims3, 0)))
		s->rates = a->data;
	if ((a = get_f32(s, "choice", 1, dimsM, 0)))
		s->choice = to_ints(a);
	if ((a = get_f32(s, "wheel", 2, dimsMT, 0)))
		s->wheel = a->data;

	/* Regions: labels compacted to 0..nregions-1 in increasing label order. */
	s->region = ax_xcalloc((size_t)s->N, sizeof *s->region);
	if ((a = get_f32(s, "regions", 1, dimsN, 0))) {
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
	} else {
		s->nregions = 1;
	}

	/* Split. */
	int32_t *is_test = ax_xcalloc((size_t)s->trials, sizeof *is_test);
	if ((a = get_f32(s, "split", 1, dimsM, 0))) {
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
		bad(s, "the split leaves no training or no test trial");

	s->mean_count = ax_xcalloc((size_t)s->N, sizeof *s->mean_count);
	size_t TN = (size_t)s->T * s->N;
	for (int k = 0; k < s->ntrain; k++)
		for (int t = 0; t < s->T; t++)
			for (int n = 0; n < s->N; n++)
				s->mean_count[n] += s->counts[(size_t)s->train[k] * TN + (size_t)t * s->N + n];
	for (int n = 0; n < s->N; n++)
		s->mean_count[n] /= (float)s->ntrain * s->T;
}

void mtm_session_free(struct mtm_session *s)
{
	free(s->path), free(s->name), free(s->region), free(s->choice);
	free(s->train), free(s->test), free(s->mean_count);
	ax_bundle_free(&s->bundle);
}
