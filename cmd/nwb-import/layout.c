/* layout.c — the bundle: the reach layout (every spike of the recording as
 * spike-sim reach writes them, trials marking their spans, behaviour
 * resampled on a regular clock) or the binned layout (counts in windows
 * around each trial's align time, as spike-sim ibl writes them, behaviour
 * at the bin centres), and the metadata saying where it came from. */
#include "nwbi.h"

#include <math.h>
#include <string.h>

/* Column col of series s at time x, linear between samples; outside the
 * samples, the first or last value (counted in *clamped). */
static double interp(const struct ax_nwb_series *s, size_t col, double x, size_t *clamped)
{
	if (x <= s->t[0] || x >= s->t[s->n - 1]) {
		*clamped += x < s->t[0] || x > s->t[s->n - 1];
		return s->data[(x <= s->t[0] ? 0 : s->n - 1) * s->dim + col];
	}
	size_t lo = 0, hi = s->n - 1;   /* t[lo] <= x < t[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->t[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	double a = s->data[lo * s->dim + col], b = s->data[hi * s->dim + col];
	double w = (x - s->t[lo]) / (s->t[hi] - s->t[lo]);
	return w == 0 ? a : a + w * (b - a);
}

static void meta_f(struct ax_bundle *b, const char *key, const char *fmt, double v)
{
	char buf[64];
	snprintf(buf, sizeof buf, fmt, v);
	ax_bundle_set_meta(b, key, buf);
}

/* Joined with ';' (the --units-where and --trial texts). */
static void meta_list(struct ax_bundle *b, const char *key, char **v, int n)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *s = ax_xcalloc(1, len);
	for (int i = 0; i < n; i++)
		strcat(strcat(s, i ? ";" : ""), v[i]);
	ax_bundle_set_meta(b, key, s);
	free(s);
}

/* Provenance: the source file, its identity, every choice made. */
static void meta_common(struct ax_bundle *b, const struct ax_nwb *f, const struct nwbi_opts *o,
			const struct nwbi_units *u, const struct nwbi_trials *t)
{
	static const char *const root[][2] = {
		{ "/identifier", "source.identifier" },
		{ "/session_description", "source.session_description" },
		{ "/session_start_time", "source.session_start_time" },
	};
	ax_bundle_set_meta(b, "axon.kind", o->layout == NWBI_REACH ? "nwb-import.reach" : "nwb-import.binned");
	ax_bundle_set_meta(b, "source", o->in);
	for (size_t i = 0; i < AX_COUNTOF(root); i++) {
		char **v;
		size_t n;
		if (!ax_nwb_read_strings(f, root[i][0], &v, &n)) {
			ax_bundle_set_meta(b, root[i][1], n ? v[0] : "");
			ax_nwb_names_free(v, (int)n);
		}
	}
	char *ver;
	if (!ax_nwb_attr_string(f, "/", "nwb_version", &ver)) {
		ax_bundle_set_meta(b, "source.nwb_version", ver);
		free(ver);
	}
	ax_bundle_set_meta(b, "command", o->args);
	meta_f(b, "units", "%.0f", u->n);
	meta_f(b, "units_in_file", "%.0f", (double)u->total);
	meta_list(b, "units_where", o->where, o->nwhere);
	ax_bundle_set_meta(b, "region_source", u->region_source);
	ax_bundle_set_meta(b, "region_names", u->region_names);
	meta_f(b, "spikes_outside_obs_intervals", "%.0f", (double)u->unobserved);
	meta_f(b, "trials", "%.0f", t->n);
	meta_f(b, "trials_in_file", "%.0f", (double)t->total);
	meta_f(b, "trials_dropped", "%.0f", (double)t->dropped);
	meta_list(b, "trial_fields", o->fields, o->nfields);
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].names) {
			char key[160];
			snprintf(key, sizeof key, "%s_names", t->fields[i].name);
			ax_bundle_set_meta(b, key, t->fields[i].names);
		}
	ax_bundle_set_meta(b, "behavior", o->behavior ? o->behavior : "");
}

/* Trial spans, the mapped fields (int32 when every value is a whole
 * number, else float32) and the units' ids and regions. */
static void add_common(struct ax_bundle *b, const struct nwbi_units *u, const struct nwbi_trials *t)
{
	int64_t sM[1] = { t->n }, sU[1] = { u->n };
	float *f = ax_xmalloc((size_t)t->n * sizeof *f);
	int32_t *iv = ax_xmalloc((size_t)(t->n > u->n ? t->n : u->n) * sizeof *iv);
	for (int m = 0; m < t->n; m++)
		f[m] = (float)t->start[m];
	ax_bundle_add_f32(b, "trial_start", 1, sM, f);
	for (int m = 0; m < t->n; m++)
		f[m] = (float)t->stop[m];
	ax_bundle_add_f32(b, "trial_end", 1, sM, f);
	for (int i = 0; i < t->nfields; i++) {
		const double *v = t->fields[i].v;
		int whole = 1;
		for (int m = 0; m < t->n; m++) {
			whole &= v[m] == floor(v[m]) && fabs(v[m]) < 2147483648.0;
			f[m] = (float)v[m];
			iv[m] = whole ? (int32_t)v[m] : 0;
		}
		if (whole)
			ax_bundle_add(b, t->fields[i].name, AX_I32, 1, sM, iv);
		else
			ax_bundle_add_f32(b, t->fields[i].name, 1, sM, f);
	}
	ax_bundle_add(b, "regions", AX_I32, 1, sU, u->region);
	for (int i = 0; i < u->n; i++)
		iv[i] = (int32_t)u->id[i];
	ax_bundle_add(b, "unit_ids", AX_I32, 1, sU, iv);
	free(f), free(iv);
}

struct spike {
	double t;
	int32_t unit;
};

static int cmp_spike(const void *pa, const void *pb)
{
	const struct spike *a = pa, *b = pb;
	return a->t < b->t ? -1 : a->t > b->t ? 1 : (a->unit > b->unit) - (a->unit < b->unit);
}

/* Reach: spikes of all kept units in time order (ties by unit). */
static void reach_spikes(struct ax_bundle *b, const struct nwbi_units *u)
{
	size_t K = u->start[u->n];
	struct spike *all = ax_xmalloc((K ? K : 1) * sizeof *all);
	for (int i = 0; i < u->n; i++)
		for (size_t k = u->start[i]; k < u->start[i + 1]; k++)
			all[k] = (struct spike){ u->times[k], i };
	qsort(all, K, sizeof *all, cmp_spike);
	float *st = ax_xmalloc((K ? K : 1) * sizeof *st);
	int32_t *su = ax_xmalloc((K ? K : 1) * sizeof *su);
	for (size_t k = 0; k < K; k++)
		st[k] = (float)all[k].t, su[k] = all[k].unit;
	int64_t sK[1] = { (int64_t)K };
	ax_bundle_add_f32(b, "spike_times", 1, sK, st);
	ax_bundle_add(b, "spike_units", AX_I32, 1, sK, su);
	free(all), free(st), free(su);
}

/* Reach: the series on the clock k / rate over its span. */
static enum ax_status reach_behavior(struct ax_bundle *b, const struct nwbi_opts *o,
				     const struct ax_nwb_series *s)
{
	double k0 = ceil(s->t[0] * o->rate), k1 = floor(s->t[s->n - 1] * o->rate);
	if (k1 - k0 + 1 > 1e9)
		return ax_error_set(AX_ERR_ARG, "--rate %g: over 1e9 samples of %s", o->rate, o->behavior);
	int64_t S = k1 >= k0 ? (int64_t)(k1 - k0) + 1 : 0, D = (int64_t)s->dim;
	float *ht = ax_xmalloc((size_t)(S ? S : 1) * sizeof *ht);
	float *hv = ax_xmalloc((size_t)(S ? S * D : 1) * sizeof *hv);
	size_t clamped = 0;
	for (int64_t k = 0; k < S; k++) {
		double x = (k0 + (double)k) / o->rate;
		ht[k] = (float)x;
		for (int64_t c = 0; c < D; c++)
			hv[k * D + c] = (float)interp(s, (size_t)c, x, &clamped);
	}
	ax_bundle_add_f32(b, "hand_t", 1, (int64_t[]){ S }, ht);
	ax_bundle_add_f32(b, "hand_vel", 2, (int64_t[]){ S, D }, hv);
	meta_f(b, "hand_rate", "%.17g", o->rate);
	free(ht), free(hv);
	return AX_OK;
}

/* Binned: counts (trials, T, N) in [align + a + k bin, align + a + (k+1) bin). */
static void binned_counts(struct ax_bundle *b, const struct nwbi_opts *o, const struct nwbi_units *u,
			  const struct nwbi_trials *t, int T)
{
	size_t N = (size_t)u->n, unobserved = 0;
	float *counts = ax_xcalloc((size_t)t->n * T * N, sizeof *counts);
	for (int m = 0; m < t->n; m++)
		for (size_t i = 0; i < N; i++) {
			double c = t->align[m];
			unobserved += !nwbi_units_observed(u, (int)i, c + o->win_a, c + o->win_a + T * o->bin);
			/* The unit's spikes are in order: start a little before the window. */
			size_t lo = u->start[i], hi = u->start[i + 1];
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (u->times[mid] < c + o->win_a - o->bin)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t s = lo; s < u->start[i + 1]; s++) {
				double k = floor((u->times[s] - c - o->win_a) / o->bin);
				if (k >= T)
					break;
				if (k >= 0)
					counts[((size_t)m * T + (size_t)k) * N + i] += 1;
			}
		}
	ax_bundle_add_f32(b, "counts", 3, (int64_t[]){ t->n, T, (int64_t)N }, counts);
	meta_f(b, "unobserved_windows", "%.0f", (double)unobserved);
	free(counts);
}

/* Binned: the series at every bin centre, as "wheel" (trials, T). */
static enum ax_status binned_behavior(struct ax_bundle *b, const struct nwbi_opts *o,
				      const struct nwbi_trials *t, int T, const struct ax_nwb_series *s)
{
	if (s->dim != 1)
		return ax_error_set(AX_ERR_ARG, "--behavior %s: %zu columns; the binned layout's "
				    "\"wheel\" takes a one-column series", o->behavior, s->dim);
	float *w = ax_xmalloc((size_t)t->n * T * sizeof *w);
	size_t clamped = 0;
	for (int m = 0; m < t->n; m++)
		for (int k = 0; k < T; k++)
			w[(size_t)m * T + k] = (float)interp(s, 0, t->align[m] + o->win_a + (k + 0.5) * o->bin,
							     &clamped);
	ax_bundle_add_f32(b, "wheel", 2, (int64_t[]){ t->n, T }, w);
	meta_f(b, "behavior_clamped", "%.0f", (double)clamped);
	free(w);
	return AX_OK;
}

static enum ax_status build(struct ax_bundle *b, const struct ax_nwb *f, const struct nwbi_opts *o,
			    const struct nwbi_units *u, const struct nwbi_trials *t)
{
	struct ax_nwb_series s = { 0 };
	enum ax_status st = AX_OK;
	if (o->behavior && !(st = ax_nwb_series_load(f, o->behavior, &s)) && !s.n)
		st = ax_error_set(AX_ERR_FORMAT, "%s: %s: no samples", o->in, o->behavior);
	if (st)
		return st;
	int T = (int)lround((o->win_b - o->win_a) / o->bin);
	meta_common(b, f, o, u, t);
	if (o->layout == NWBI_REACH) {
		reach_spikes(b, u);
		if (o->behavior)
			st = reach_behavior(b, o, &s);
	} else {
		binned_counts(b, o, u, t, T);
		if (o->behavior)
			st = binned_behavior(b, o, t, T, &s);
		float *al = ax_xmalloc((size_t)t->n * sizeof *al);
		for (int m = 0; m < t->n; m++)
			al[m] = (float)t->align[m];
		ax_bundle_add_f32(b, "align_time", 1, (int64_t[]){ t->n }, al);
		free(al);
		ax_bundle_set_meta(b, "align", o->align);
		meta_f(b, "bin_size", "%.17g", o->bin);
		meta_f(b, "bins", "%.0f", T);
		char win[80];
		snprintf(win, sizeof win, "%.17g:%.17g", o->win_a, o->win_b);
		ax_bundle_set_meta(b, "window", win);
	}
	add_common(b, u, t);
	ax_nwb_series_free(&s);
	return st;
}

enum ax_status nwbi_bundle(const struct ax_nwb *f, const struct nwbi_opts *o, struct ax_bundle *b)
{
	struct nwbi_units u;
	struct nwbi_trials t;
	ax_bundle_init(b);
	enum ax_status st = nwbi_units_load(f, o, &u);
	if (st)
		return st;
	if (!(st = nwbi_trials_load(f, o, &t)))
		st = build(b, f, o, &u, &t);
	nwbi_units_free(&u);
	nwbi_trials_free(&t);
	return st;
}
