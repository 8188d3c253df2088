/* data.c — loading and checking a reach session bundle (layout in
 * poyo-train(1); spike-sim reach writes it).
 *
 * Required: "spike_times" (K) float32 seconds, non-decreasing;
 * "spike_units" (K) int32 in [0, units) with metadata "units"; "hand_t" (S)
 * float32, non-decreasing; "hand_vel" (S, 2) float32; "trial_start",
 * "trial_end" (M) float32. Anything else in the bundle is ignored.
 * The bundle is mapped (ax_bundle_map), not read: the arrays are used where
 * they lie in the file, so ranks on a node share one copy of the spikes.
 * Split: the first 80% of trials train, the rest test.
 * Loss weights: samples whose speed exceeds 10% of the session's largest
 * speed are the reach (weight POYO_REACH_W), the rest weight 1.
 */
#include "poyo.h"

#include <math.h>
#include <string.h>

#define BAD(...) ax_error_set(AX_ERR_FORMAT, __VA_ARGS__)

size_t poyo_lower_bound(const float *x, size_t n, float v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The array `name` with dtype dt, ndim dims, dims[i] < 0 meaning any. */
static enum ax_status need(const struct poyo_session *s, const char *name, enum ax_dtype dt,
			   int ndim, const int64_t *dims, const struct ax_array **out)
{
	const struct ax_array *a = ax_bundle_find(&s->bundle, name);
	if (!a)
		return BAD("%s: no '%s' array (not a reach session?)", s->path, name);
	int ok = a->dtype == dt && a->ndim == ndim;
	for (int i = 0; ok && i < ndim; i++)
		ok = dims[i] < 0 || a->shape[i] == dims[i];
	if (!ok)
		return BAD("%s: '%s' is %s with %d dims, not %s of the expected shape", s->path,
			   name, ax_dtype_name(a->dtype), a->ndim, ax_dtype_name(dt));
	*out = a;
	return AX_OK;
}

static enum ax_status check_sorted(const struct poyo_session *s, const char *name,
				   const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return BAD("%s: '%s' holds a non-finite value at element %zu", s->path, name, i);
		if (i && x[i] < x[i - 1])
			return BAD("%s: '%s' is not sorted in time (element %zu)", s->path, name, i);
	}
	return AX_OK;
}

static enum ax_status load_arrays(struct poyo_session *s)
{
	const struct ax_array *a;
	enum ax_status st;
	const char *units = ax_bundle_meta(&s->bundle, "units");
	long U = 0;
	if (!units || ax_number_long(units, 1, 1000000, &U))
		return BAD("%s: no valid 'units' metadata (the session's unit count)", s->path);
	s->U = (int)U;
	if ((st = need(s, "spike_times", AX_F32, 1, (int64_t[]){ -1 }, &a)))
		return st;
	s->K = (size_t)a->shape[0];
	s->spike_t = a->data;
	if ((st = need(s, "spike_units", AX_I32, 1, (int64_t[]){ (int64_t)s->K }, &a)))
		return st;
	s->spike_u = a->data;
	if ((st = need(s, "hand_t", AX_F32, 1, (int64_t[]){ -1 }, &a)))
		return st;
	s->S = (int)a->shape[0];
	s->hand_t = a->data;
	if (s->S < 1)
		return BAD("%s: no behaviour samples ('hand_t' is empty)", s->path);
	if ((st = need(s, "hand_vel", AX_F32, 2, (int64_t[]){ s->S, 2 }, &a)))
		return st;
	s->hand_vel = a->data;
	if ((st = need(s, "trial_start", AX_F32, 1, (int64_t[]){ -1 }, &a)))
		return st;
	s->M = (int)a->shape[0];
	s->trial_start = a->data;
	if ((st = need(s, "trial_end", AX_F32, 1, (int64_t[]){ s->M }, &a)))
		return st;
	s->trial_end = a->data;
	return AX_OK;
}

static enum ax_status validate(struct poyo_session *s)
{
	enum ax_status st;
	if ((st = check_sorted(s, "spike_times", s->spike_t, s->K)) ||
	    (st = check_sorted(s, "hand_t", s->hand_t, (size_t)s->S)))
		return st;
	for (size_t i = 0; i < s->K; i++)
		if (s->spike_u[i] < 0 || s->spike_u[i] >= s->U)
			return BAD("%s: 'spike_units'[%zu] = %d is outside [0, %d)", s->path, i,
				   s->spike_u[i], s->U);
	for (int i = 0; i < 2 * s->S; i++)
		if (!isfinite(s->hand_vel[i]))
			return BAD("%s: 'hand_vel' holds a non-finite value at element %d", s->path, i);
	if (s->M < 2)
		return BAD("%s: %d trials; at least 2 are needed (train and test)", s->path, s->M);
	for (int m = 0; m < s->M; m++)
		if (!(s->trial_end[m] > s->trial_start[m]))
			return BAD("%s: trial %d ends before it starts", s->path, m);
	return AX_OK;
}

/* Reach samples: speed above 10% of the largest. */
static void make_weights(struct poyo_session *s)
{
	double vmax = 0;
	for (int i = 0; i < s->S; i++)
		vmax = fmax(vmax, hypot(s->hand_vel[2 * i], s->hand_vel[2 * i + 1]));
	s->weight = ax_xmalloc((size_t)s->S * sizeof *s->weight);
	for (int i = 0; i < s->S; i++) {
		double v = hypot(s->hand_vel[2 * i], s->hand_vel[2 * i + 1]);
		s->weight[i] = vmax > 0 && v > 0.1 * vmax ? POYO_REACH_W : 1.0f;
	}
}

enum ax_status poyo_session_load(struct poyo_session *s, const char *path)
{
	memset(s, 0, sizeof *s);
	ax_bundle_init(&s->bundle);
	s->path = ax_xstrdup(path);
	s->name = ax_path_stem(path, ".safetensors");
	enum ax_status st = ax_bundle_map(path, &s->bundle);
	if (st)
		return ax_error_prefix(st, path);
	if ((st = load_arrays(s)) || (st = validate(s)))
		return st;
	s->ntrain = (int)lround(s->M * (1.0 - POYO_TEST_FRAC));
	s->ntrain = AX_MAX(1, AX_MIN(s->M - 1, s->ntrain));
	make_weights(s);
	return AX_OK;
}

void poyo_session_free(struct poyo_session *s)
{
	ax_bundle_free(&s->bundle);
	free(s->path), free(s->name), free(s->weight);
	memset(s, 0, sizeof *s);
}

enum ax_status poyo_sessions_load(char **paths, int n, struct poyo_session **out)
{
	struct poyo_session *s = ax_xcalloc((size_t)n, sizeof *s);
	for (int i = 0; i < n; i++) {
		enum ax_status st = poyo_session_load(&s[i], paths[i]);
		if (st) {
			poyo_sessions_free(s, i + 1);
			*out = NULL;
			return st;
		}
	}
	*out = s;
	return AX_OK;
}

void poyo_sessions_free(struct poyo_session *s, int n)
{
	for (int i = 0; s && i < n; i++)
		poyo_session_free(&s[i]);
	free(s);
}
