/* optim.c — SGD(+momentum), Adam, AdamW, LAMB, mirror descent; sparse row
 * updates and frozen parameters; clipping; schedules. */
#include "ax_optim.h"
#include "ax_math.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

void ax_optim_init(struct ax_optim *o, enum ax_optim_kind kind, struct ax_params *p)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = kind == AX_OPTIM_LAMB ? 1e-6f : 1e-8f;
	o->lamb_clamp = 10.0f;
	o->weight_decay = kind == AX_OPTIM_ADAMW ? 0.01f : 0.0f;
	o->decay_vectors = 1;
	o->potential = (struct ax_potential){ AX_POT_PNORM, 2.0 };
	o->params = p;
	o->m = ax_arena_alloc(p->arena, p->n * sizeof *o->m);
	o->v = ax_arena_alloc(p->arena, p->n * sizeof *o->v);
	o->flags = ax_arena_zalloc(p->arena, (size_t)AX_MAX(p->n, 1));
	for (int i = 0; i < p->n; i++) {
		o->m[i] = ax_arena_zalloc(p->arena, p->list[i]->size * sizeof(float));
		o->v[i] = kind == AX_OPTIM_SGD || kind == AX_OPTIM_MD ? NULL
			: ax_arena_zalloc(p->arena, p->list[i]->size * sizeof(float));
	}
}

/* Adam on elements [lo, hi): each on its own, so the same bits however the
 * elements are split between threads. */
static void adam_span(size_t lo, size_t hi, float *w, const float *g, float *m, float *v,
		      float bc1, float bc2, float lr, float b1, float b2, float eps, float l2,
		      float decay)
{
	for (size_t j = lo; j < hi; j++) { // [vec]
		float gj = l2 != 0 ? g[j] + l2 * w[j] : g[j];
		if (decay != 0)
			w[j] -= lr * decay * w[j];
		m[j] = b1 * m[j] + (1 - b1) * gj;
		v[j] = b2 * v[j] + (1 - b2) * gj * gj;
		float mhat = m[j] / bc1, vhat = v[j] / bc2;
		w[j] -= lr * mhat / (sqrtf(vhat) + eps);
	}
}

void ax_adam_update(size_t n, float *w, const float *g, float *m, float *v, long step,
		    float lr, float b1, float b2, float eps, float l2, float decay)
{
	float bc1 = 1.0f - powf(b1, (float)step), bc2 = 1.0f - powf(b2, (float)step);
	/* A large tensor's four arrays outgrow a core's cache: two cores have
	 * twice the bandwidth. */
#pragma omp parallel if (n > AX_ELEMENTWISE_PAR_MIN)
	{
		size_t lo, hi;
		ax_thread_span(n, &lo, &hi);
		adam_span(lo, hi, w, g, m, v, bc1, bc2, lr, b1, b2, eps, l2, decay);
	}
}

void ax_optim_set_flags(struct ax_optim *o, const struct ax_tensor *t, unsigned flags)
{
	for (int i = 0; i < o->params->n; i++)
		if (o->params->list[i] == t) {
			o->flags[i] = (uint8_t)flags;
			return;
		}
	AX_ASSERT(0 && "ax_optim_set_flags: not a parameter of this optimiser");
}

/* Rows [0, R) of C values: which the step touches (all, or with SPARSE
 * those with a non-zero gradient). */
static int row_touched(const float *g, int C, int sparse)
{
	if (!sparse)
		return 1;
	for (int c = 0; c < C; c++)
		if (g[c] != 0)
			return 1;
	return 0;
}

/* LAMB on one tensor of R rows of C values (see ax_optim.h). Two passes:
 * moments and norms, then the step (u recomputed with the same operations). */
static void lamb_update(const struct ax_optim *o, int R, int C, float *w, const float *g,
			float *m, float *v, float lr, float wd, int sparse)
{
	float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
	double wsq = 0, usq = 0;
	for (int r = 0; r < R; r++) {
		size_t at = (size_t)r * C;
		if (!row_touched(g + at, C, sparse))
			continue;
		for (size_t j = at; j < at + (size_t)C; j++) {
			m[j] = b1 * m[j] + (1 - b1) * g[j];
			v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
			float u = m[j] / (sqrtf(v[j]) + eps) + wd * w[j];
			wsq += (double)w[j] * w[j];
			usq += (double)u * u;
		}
	}
	double wn = AX_MIN(sqrt(wsq), (double)o->lamb_clamp), un = sqrt(usq);
	float step = lr * (wn == 0 || un == 0 ? 1.0f : (float)(wn / un));
	for (int r = 0; r < R; r++) {
		size_t at = (size_t)r * C;
		if (!row_touched(g + at, C, sparse))
			continue;
		for (size_t j = at; j < at + (size_t)C; j++)
			w[j] -= step * (m[j] / (sqrtf(v[j]) + eps) + wd * w[j]);
	}
}

/* Adam/AdamW on the touched rows of a sparse table. */
static void adam_rows(const struct ax_optim *o, const struct ax_tensor *t, float *m, float *v,
		      float lr, float wd)
{
	int C = t->shape[t->ndim - 1], R = (int)(t->size / (size_t)C);
	int adamw = o->kind == AX_OPTIM_ADAMW;
	for (int r = 0; r < R; r++) {
		size_t at = (size_t)r * C;
		if (row_touched(t->grad + at, C, 1))
			ax_adam_update((size_t)C, t->data + at, t->grad + at, m + at, v + at, o->step,
				       lr, o->beta1, o->beta2, o->eps, adamw ? 0.0f : wd,
				       adamw ? wd : 0.0f);
	}
}

void ax_optim_step(struct ax_optim *o, float lr)
{
	struct ax_params *p = o->params;
	o->step++;
	for (int i = 0; i < p->n; i++) {
		struct ax_tensor *t = p->list[i];
		float *w = t->data, *g = t->grad, *m = o->m[i];
		float wd = (t->ndim > 1 || o->decay_vectors) ? o->weight_decay : 0.0f;
		int sparse = (o->flags[i] & AX_OPTIM_SPARSE) && t->ndim == 2;
		if (o->flags[i] & AX_OPTIM_FROZEN)
			continue;
		if (o->kind == AX_OPTIM_LAMB) {
			int C = t->shape[t->ndim - 1];
			lamb_update(o, (int)(t->size / (size_t)C), C, w, g, m, o->v[i], lr, wd, sparse);
		} else if (sparse && o->kind != AX_OPTIM_SGD && o->kind != AX_OPTIM_MD) {
			adam_rows(o, t, m, o->v[i], lr, wd);
		} else if (o->kind == AX_OPTIM_SGD) {
			for (size_t j = 0; j < t->size; j++) { // [vec]
				float gj = g[j] + wd * w[j];
				m[j] = o->momentum * m[j] + gj;  /* torch: buf = mu*buf + g */
				w[j] -= lr * (o->momentum > 0 ? m[j] : gj);
			}
		} else if (o->kind == AX_OPTIM_MD) {
			ax_md_update(t->size, w, g, m, o->potential, lr, o->momentum);
		} else {
			int adamw = o->kind == AX_OPTIM_ADAMW;
			ax_adam_update(t->size, w, g, m, o->v[i], o->step, lr, o->beta1, o->beta2,
				       o->eps, adamw ? 0.0f : wd, adamw ? wd : 0.0f);
		}
	}
}

void ax_optim_to_bundle(const struct ax_optim *o, struct ax_bundle *b, const char *prefix)
{
	const struct ax_params *p = o->params;
	for (int i = 0; i < p->n; i++) {
		const struct ax_tensor *t = p->list[i];
		int64_t shape[AX_MAX_DIMS];
		char name[300];
		for (int d = 0; d < t->ndim; d++)
			shape[d] = t->shape[d];
		snprintf(name, sizeof name, "%soptim.m.%s", prefix, t->name);
		ax_bundle_add_f32(b, name, t->ndim, shape, o->m[i]);
		if (o->v[i]) {
			snprintf(name, sizeof name, "%soptim.v.%s", prefix, t->name);
			ax_bundle_add_f32(b, name, t->ndim, shape, o->v[i]);
		}
	}
	char key[300], step[32];
	snprintf(key, sizeof key, "%soptim.step", prefix);
	snprintf(step, sizeof step, "%ld", o->step);
	ax_bundle_set_meta(b, key, step);
}

enum ax_status ax_optim_from_bundle(struct ax_optim *o, const struct ax_bundle *b,
				    const char *prefix)
{
	const struct ax_params *p = o->params;
	char key[300];
	snprintf(key, sizeof key, "%soptim.step", prefix);
	const char *step = ax_bundle_meta(b, key);
	if (!step)
		return ax_error_set(AX_ERR_NOTFOUND, "checkpoint has no optimiser state (%s)", key);
	for (int i = 0; i < p->n; i++) {
		const struct ax_tensor *t = p->list[i];
		int64_t shape[AX_MAX_DIMS];
		char name[300];
		const struct ax_array *a;
		for (int d = 0; d < t->ndim; d++)
			shape[d] = t->shape[d];
		for (int slot = 0; slot < 2; slot++) {
			float *dst = slot ? o->v[i] : o->m[i];
			if (!dst)
				continue;
			snprintf(name, sizeof name, "%soptim.%c.%s", prefix, slot ? 'v' : 'm', t->name);
			enum ax_status st = ax_bundle_get(b, name, AX_F32, t->ndim, shape, &a);
			if (st)
				return st;
			memcpy(dst, a->data, t->size * sizeof(float));
		}
	}
	o->step = strtol(step, NULL, 10);
	return AX_OK;
}

double ax_potential_grad(struct ax_potential pot, double w)
{
	if (pot.kind == AX_POT_NEGENTROPY)
		return w == 0 ? NAN : (w > 0 ? 1.0 : -1.0) * (log(fabs(w)) + 1.0);
	return copysign(pow(fabs(w), pot.p - 1.0), w);
}

double ax_potential_inverse(struct ax_potential pot, double z, double sign)
{
	if (pot.kind == AX_POT_NEGENTROPY)
		return sign > 0 ? exp(z - 1.0) : -exp(-z - 1.0);
	return copysign(pow(fabs(z), 1.0 / (pot.p - 1.0)), z);
}

enum ax_status ax_potential_parse(const char *s, struct ax_potential *pot)
{
	if (!strcmp(s, "negentropy")) {
		*pot = (struct ax_potential){ AX_POT_NEGENTROPY, 0 };
		return AX_OK;
	}
	char *end;
	double p = s[0] == 'p' && (isdigit((unsigned char)s[1]) || s[1] == '.')
		? strtod(s + 1, &end) : NAN;
	if (p != p || *end || !(p > 1 && p <= 100))
		return ax_error_set(AX_ERR_ARG, "'%s' is not a potential (negentropy, or p<P> "
				    "with 1 < P <= 100, e.g. p2)", s);
	*pot = (struct ax_potential){ AX_POT_PNORM, p };
	return AX_OK;
}

void ax_potential_name(struct ax_potential pot, char *buf, size_t cap)
{
	if (pot.kind == AX_POT_NEGENTROPY)
		snprintf(buf, cap, "negentropy");
	else
		snprintf(buf, cap, "p%g", pot.p);
}

/* One loop per potential, so the ones without a libm call vectorise.
 * p = 2 takes SGD's arithmetic (w -= lr * d), so its bits are SGD's. p = 1.5
 * and p = 3 (exponents 0.5 and 2 both ways) take sqrtf and a product, as
 * PyTorch's pow does for these exponents: x * x is powf(x, 2) in every
 * float, and sqrtf is the correctly rounded root, where powf(x, 0.5f) is one
 * ulp off in 0.06% of floats. Other p go through powf, negentropy through
 * expf (scalar calls). d is the momentum-averaged gradient when momentum > 0. */
#define MD_LOOP(d_to_w)                                                                  \
	do {                                                                             \
		if (momentum > 0)                                                        \
			for (size_t j = 0; j < n; j++) {                                 \
				float d = m[j] = momentum * m[j] + g[j];                  \
				d_to_w;                                                  \
			}                                                                \
		else                                                                     \
			for (size_t j = 0; j < n; j++) {                                 \
				float d = g[j];                                          \
				d_to_w;                                                  \
			}                                                                \
	} while (0)
static inline float sign_or_zero(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f; }
static inline float signed_pow(float x, float e) { return copysignf(powf(fabsf(x), e), x); }
static inline float signed_sqrt(float x) { return copysignf(sqrtf(fabsf(x)), x); }
static inline float signed_square(float x) { return copysignf(x * x, x); }

void ax_md_update(size_t n, float *w, const float *g, float *m, struct ax_potential pot,
		  float lr, float momentum)
{
	float q = (float)(pot.p - 1.0), iq = (float)(1.0 / (pot.p - 1.0));
	if (pot.kind == AX_POT_NEGENTROPY)
		MD_LOOP(w[j] *= expf(-lr * sign_or_zero(w[j]) * d)); // vec: scalar (libm expf)
	else if (pot.p == 2.0)
		MD_LOOP(w[j] -= lr * d); // [vec]
	else if (pot.p == 1.5)
		MD_LOOP(w[j] = signed_square(signed_sqrt(w[j]) - lr * d)); // [vec]
	else if (pot.p == 3.0)
		MD_LOOP(w[j] = signed_sqrt(signed_square(w[j]) - lr * d)); // [vec]
	else
		MD_LOOP(w[j] = signed_pow(signed_pow(w[j], q) - lr * d, iq)); // vec: scalar (libm powf)
}
#undef MD_LOOP

float ax_clip_grad_norm(struct ax_params *p, float max_norm)
{
	double sq = 0;
	for (int i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->list[i]->size; j++)
			sq += (double)p->list[i]->grad[j] * p->list[i]->grad[j];
	float norm = (float)sqrt(sq);
	if (!isfinite(norm))
		return NAN;
	if (norm > max_norm) {
		float s = max_norm / (norm + 1e-6f);  /* torch's clip_grad_norm_ */
		for (int i = 0; i < p->n; i++)
			for (size_t j = 0; j < p->list[i]->size; j++)
				p->list[i]->grad[j] *= s;
	}
	return norm;
}

float ax_sched_cosine(long step, long warmup, long total, float lr_max, float lr_min)
{
	if (step < warmup)
		return lr_max * (float)(step + 1) / (float)warmup;
	if (step >= total)
		return lr_min;
	double progress = (double)(step - warmup) / (double)AX_MAX(1, total - warmup);
	return lr_min + (lr_max - lr_min) * 0.5f * (float)(1.0 + cos(M_PI * progress));
}

float ax_sched_onecycle(long step, long total, float pct, float lr_max, float div, float final_div)
{
	double initial = lr_max / div, final = initial / final_div;
	double up_end = pct * total - 1, down_end = total - 1;
	double lo, hi, frac;
	if (step <= up_end) {
		lo = initial;
		hi = lr_max;
		frac = up_end > 0 ? step / up_end : 1;
	} else {
		lo = lr_max;
		hi = final;
		frac = down_end > up_end ? (step - up_end) / (down_end - up_end) : 1;
	}
	if (frac > 1)
		frac = 1;
	/* Cosine annealing from lo to hi. */
	return (float)(hi + (lo - hi) / 2.0 * (1.0 + cos(M_PI * frac)));
}
