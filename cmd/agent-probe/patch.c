/* patch.c — activation patching of head outputs between a clean and a
 * corrupted run, and attention rollout (definitions in probe.c's comment). */
#include "ap.h"

#include <math.h>
#include <string.h>

struct ap_patch_data {
	int n, last;              /* episodes; latest decision step */
	float *clean, *corr;      /* observations (n, AP_TMAX, AP_OBS) */
	uint8_t *decide;          /* (n, AP_TMAX) */
	int *dir;                 /* (n) the clean cue's door direction */
};

/* Expert episodes of seed (no noise), their decision steps, and the
 * corrupted copy with the cue colour swapped (identical with self). */
static void ap_patch_data(uint64_t seed, int n, int self, struct ap_patch_data *d)
{
	size_t S = (size_t)n * AP_TMAX;
	d->n = n, d->last = -1;
	d->clean = ax_xcalloc(S * AP_OBS, sizeof(float));
	d->corr = ax_xmalloc(S * AP_OBS * sizeof(float));
	d->decide = ax_xcalloc(S, 1);
	d->dir = ax_xmalloc((size_t)n * sizeof(int));
	struct ax_rng root;
	ax_rng_seed(&root, seed);
	for (int i = 0; i < n; i++) {
		struct ax_rng r = ax_rng_split(&root, (uint64_t)i);
		struct ap_env e;
		ap_env_reset(&e, &r, 0);
		d->dir[i] = e.cue == 0 ? AP_LEFT : AP_RIGHT;
		while (!e.done) {
			size_t at = (size_t)i * AP_TMAX + e.t;
			ap_env_observe(&e, 0, d->clean + at * AP_OBS);
			if (e.wood >= e.need && !ap_env_cue_visible(&e)) {
				d->decide[at] = 1;
				d->last = AX_MAX(d->last, e.t);
			}
			ap_env_step(&e, ap_env_expert(&e));
		}
	}
	memcpy(d->corr, d->clean, S * AP_OBS * sizeof(float));
	if (self)
		return;
	for (size_t k = 0; k < S * AP_VIEW * AP_VIEW; k++) {
		float *c = d->corr + (k / (AP_VIEW * AP_VIEW)) * AP_OBS + (k % (AP_VIEW * AP_VIEW)) * AP_CH;
		float red = c[AP_C_RED];
		c[AP_C_RED] = c[AP_C_BLUE], c[AP_C_BLUE] = red;
	}
}

static void ap_patch_data_free(struct ap_patch_data *d)
{
	free(d->clean), free(d->corr), free(d->decide), free(d->dir);
}

/* The metric of a forward over the episodes (see probe.c). */
static double ap_patch_metric(const struct ap_model *m, const struct ap_patch_data *d,
			      const float *obs, const struct ap_probe *probe)
{
	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	ax_no_grad_begin(&tape);
	struct ax_tensor *lg = ap_model_forward(&tape, m, d->n, AP_TMAX, obs, probe);
	double sum = 0;
	int used = 0;
	for (int i = 0; i < d->n; i++) {
		double s = 0;
		int k = 0, other = d->dir[i] == AP_LEFT ? AP_RIGHT : AP_LEFT;
		for (int t = 0; t < AP_TMAX; t++) {
			size_t at = (size_t)i * AP_TMAX + t;
			if (!d->decide[at])
				continue;
			const float *l = lg->data + at * AP_NACT;
			s += (double)l[d->dir[i]] - l[other], k++;
		}
		if (k)
			sum += s / k, used++;
	}
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	return used ? sum / used : 0;
}

/* Head-mean attention, with the residual, multiplied over layers; the
 * decision steps' rows averaged into p->rollout (AP_TMAX). */
static void ap_rollout_map(const struct ap_model *m, const struct ap_patch_data *d,
			   const float *probs, float *out)
{
	int L = m->cfg.layers, H = m->cfg.heads, T = AP_TMAX, n = d->n;
	double *R = ax_xmalloc((size_t)T * T * sizeof(double));
	double *A = ax_xmalloc((size_t)T * T * sizeof(double)), *tmp = ax_xmalloc((size_t)T * T * sizeof(double));
	double *acc = ax_xcalloc(T, sizeof(double));
	long rows = 0;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < T * T; k++)
			R[k] = k / T == k % T;
		for (int l = 0; l < L; l++) {
			for (int k = 0; k < T * T; k++) {
				double s = 0;
				for (int h = 0; h < H; h++)
					s += probs[((((size_t)l * n + i) * H + h) * T * T) + k];
				A[k] = 0.5 * s / H + 0.5 * (k / T == k % T);
			}
			for (int r = 0; r < T; r++)    /* R = A R */
				for (int c = 0; c < T; c++) {
					double s = 0;
					for (int j = 0; j < T; j++)
						s += A[r * T + j] * R[j * T + c];
					tmp[r * T + c] = s;
				}
			memcpy(R, tmp, (size_t)T * T * sizeof(double));
		}
		for (int t = 0; t < T; t++)
			if (d->decide[(size_t)i * T + t]) {
				for (int c = 0; c < T; c++)
					acc[c] += R[t * T + c];
				rows++;
			}
	}
	for (int c = 0; c < T; c++)
		out[c] = rows ? (float)(acc[c] / rows) : 0;
	free(R), free(A), free(tmp), free(acc);
}

static double ap_normalise(double patched, double corr, double clean)
{
	double den = clean - corr;
	return fabs(den) < 1e-6 ? 0 : (patched - corr) / den;
}

void ap_patch(const struct ap_model *m, uint64_t seed, int n, int self,
	      struct ap_patch_result *p)
{
	int L = m->cfg.layers, H = m->cfg.heads, T = AP_TMAX, C = m->cfg.dim;
	struct ap_patch_data d;
	ap_patch_data(seed, n, self, &d);
	float *heads = ax_xmalloc((size_t)L * n * T * C * sizeof(float));
	float *resid = ax_xmalloc((size_t)L * n * T * C * sizeof(float));
	uint8_t *rmask = ax_xcalloc((size_t)L * T, 1);
	float *probs = ax_xmalloc((size_t)L * n * H * T * T * sizeof(float));
	uint8_t *mask = ax_xcalloc((size_t)L * T * H, 1);
	p->L = L, p->T = T, p->H = H;
	p->effect = ax_xcalloc((size_t)L * T * H, sizeof(float));
	p->resid = ax_xcalloc((size_t)L * T, sizeof(float));
	p->rollout = ax_xcalloc(T, sizeof(float));
	struct ap_probe rec = { .heads_out = heads, .probs = probs, .resid_out = resid };
	p->clean = ap_patch_metric(m, &d, d.clean, &rec);
	p->corrupted = ap_patch_metric(m, &d, d.corr, NULL);
	struct ap_probe pat = { .patch_src = heads, .patch = mask };
	/* Steps after the last decision step cannot reach it (causal): 0. */
	for (int l = 0; l < L; l++)
		for (int t = 0; t <= d.last; t++)
			for (int h = 0; h < H; h++) {
				size_t k = ((size_t)l * T + t) * H + h;
				mask[k] = 1;
				double mp = ap_patch_metric(m, &d, d.corr, &pat);
				p->effect[k] = (float)ap_normalise(mp, p->corrupted, p->clean);
				mask[k] = 0;
			}
	struct ap_probe rpat = { .resid_src = resid, .resid_patch = rmask };
	for (int l = 0; l < L; l++)
		for (int t = 0; t <= d.last; t++) {
			rmask[l * T + t] = 1;
			double mp = ap_patch_metric(m, &d, d.corr, &rpat);
			p->resid[l * T + t] = (float)ap_normalise(mp, p->corrupted, p->clean);
			rmask[l * T + t] = 0;
		}
	memset(mask, 1, (size_t)L * T * H);
	p->all_effect = ap_normalise(ap_patch_metric(m, &d, d.corr, &pat), p->corrupted, p->clean);
	ap_rollout_map(m, &d, probs, p->rollout);
	free(heads), free(probs), free(mask), free(resid), free(rmask);
	ap_patch_data_free(&d);
}

void ap_patch_free(struct ap_patch_result *p)
{
	free(p->effect), free(p->resid), free(p->rollout);
	memset(p, 0, sizeof *p);
}
