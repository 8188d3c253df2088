/* data.c — Fashion-MNIST, the blend generator and the temporal sequences.
 *
 * An example is a recipe (struct an_example: pair, label, other class,
 * alpha, cued class) drawn first and rendered into pixels second, so the
 * same recipe can be shown under every context condition. */
#include "an.h"

#include <string.h>

const char *const an_kind_names[AN_NKINDS + 1] = { "apical", "point", "concat", "none", NULL };
const char *const an_task_names[AN_NTASKS + 1] = { "blend", "temporal", NULL };
const char *const an_basal_names[AN_NBASALS + 1] = { "mlp", "conv", NULL };
const char *const an_cond_names[AN_NCONDS + 1] = { "relevant", "opposing", "irrelevant", "none",
						   NULL };
const char *const an_clean_cue_names[AN_NCLEANCUES + 1] = { "label", "random", NULL };
const int an_pairs[AN_NPAIRS][2] = { { 0, 6 }, { 2, 4 }, { 2, 6 }, { 7, 9 } };
const char *const an_pair_names[AN_NPAIRS + 1] = { "0/6", "2/4", "2/6", "7/9", NULL };

enum ax_status an_data_from(struct an_data *d, uint8_t *x, int32_t *y, int n)
{
	memset(d, 0, sizeof *d);
	d->n = n, d->x = x, d->y = y;
	for (int i = 0; i < n; i++) {
		if (y[i] < 0 || y[i] >= AN_CLASSES)
			return ax_error_set(AX_ERR_FORMAT, "label %d of image %d is not a class 0..9",
					    (int)y[i], i);
		d->count[y[i]]++;
	}
	for (int k = 0; k < AN_CLASSES; k++) {
		if (!d->count[k])
			return ax_error_set(AX_ERR_FORMAT, "no image of class %d among %d", k, n);
		d->idx[k] = ax_xmalloc((size_t)d->count[k] * sizeof(int32_t));
		d->count[k] = 0;
	}
	for (int i = 0; i < n; i++)
		d->idx[y[i]][d->count[y[i]]++] = i;
	return AX_OK;
}

void an_data_free(struct an_data *d)
{
	free(d->x), free(d->y);
	for (int k = 0; k < AN_CLASSES; k++)
		free(d->idx[k]);
	memset(d, 0, sizeof *d);
}

enum ax_status an_data_load(struct an_data *d, const char *dir, const char *split, int limit)
{
	struct ax_array im, lb;
	enum ax_status st = ax_idx_load_labelled(dir, split, 28, AN_CLASSES, limit, &im, &lb);
	if (st)
		return st;
	int n = (int)im.shape[0];
	uint8_t *x = ax_xmalloc((size_t)n * AN_PIXELS);
	int32_t *y = ax_xmalloc((size_t)n * sizeof(int32_t));
	const uint8_t *lab = lb.data;
	memcpy(x, im.data, (size_t)n * AN_PIXELS);
	for (int i = 0; i < n; i++)
		y[i] = lab[i];
	ax_array_free(&im), ax_array_free(&lb);
	st = an_data_from(d, x, y, n);
	if (st) {
		an_data_free(d);
		return ax_error_prefix(st, dir);
	}
	return AX_OK;
}

enum ax_status an_pairs_parse(const char *s, unsigned *mask)
{
	*mask = 0;
	if (!strcmp(s, "all")) {
		*mask = (1u << AN_NPAIRS) - 1;
		return AX_OK;
	}
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		int found = -1;
		for (int i = 0; i < AN_NPAIRS; i++)
			if (strlen(an_pair_names[i]) == len && !strncmp(p, an_pair_names[i], len))
				found = i;
		if (found < 0)
			return ax_error_set(AX_ERR_ARG,
					    "unknown pair '%.*s' (0/6, 2/4, 2/6, 7/9 or all)",
					    (int)len, p);
		*mask |= 1u << found;
		if (!p[len])
			return AX_OK;
		p += len + 1;
	}
}

int an_context_class(enum an_cond c, int label, int other, struct ax_rng *r)
{
	switch (c) {
	case AN_RELEVANT: return label;
	case AN_OPPOSING: return other;
	case AN_IRRELEVANT: {
		int k = (int)ax_rng_below(r, AN_CLASSES - 2);
		int lo = AX_MIN(label, other), hi = AX_MAX(label, other);
		k += k >= lo;
		k += k >= hi;
		return k;
	}
	default: return -1;
	}
}

struct an_example an_example_blend(int p, float alpha, enum an_cond c, struct ax_rng *r)
{
	int side = (int)ax_rng_below(r, 2);
	struct an_example e = { .pair = p, .label = an_pairs[p][side],
				.other = an_pairs[p][1 - side], .alpha = alpha };
	e.ctx = an_context_class(c, e.label, e.other, r);
	return e;
}

/* A pair index drawn uniformly among those set in mask. */
static int draw_pair(unsigned mask, struct ax_rng *r)
{
	int n = 0, set[AN_NPAIRS];
	for (int p = 0; p < AN_NPAIRS; p++)
		if (mask >> p & 1)
			set[n++] = p;
	AX_ASSERT(n > 0 && "an_mix: no pair selected");
	return set[ax_rng_below(r, (uint32_t)n)];
}

struct an_example an_example_train(const struct an_mix *mix, struct ax_rng *r)
{
	float u = ax_rng_uniform(r);
	int ctx = u < mix->p_context ? 1 : u < mix->p_context + mix->p_wrong ? 2 : 0;
	struct an_example e;
	if (ax_rng_uniform(r) < mix->p_blend) {
		int p = draw_pair(mix->pairs, r);
		float a = mix->alpha_lo + (mix->alpha_hi - mix->alpha_lo) * ax_rng_uniform(r);
		e = an_example_blend(p, a, AN_NONE, r);
	} else if (mix->clean_cue == AN_CUE_RANDOM) {
		/* A clean image of a pair, cued with the label, the pair's other
		 * class or a class outside the pair alike: a cue that says
		 * nothing about a clean image's label. */
		enum an_cond c = ctx ? (enum an_cond)ax_rng_below(r, 3) : AN_NONE;
		return an_example_blend(draw_pair(mix->pairs, r), 1.0f, c, r);
	} else {
		int k = (int)ax_rng_below(r, AN_CLASSES);
		e = (struct an_example){ .pair = -1, .label = k, .other = k, .alpha = 1.0f, .ctx = -1 };
	}
	if (ctx == 1)
		e.ctx = e.label;
	else if (ctx == 2) /* uniform among the 9 other classes */
		e.ctx = (e.label + 1 + (int)ax_rng_below(r, AN_CLASSES - 1)) % AN_CLASSES;
	return e;
}

void an_image(const struct an_data *d, int i, float *out)
{
	const uint8_t *pix = d->x + (size_t)i * AN_PIXELS;
	for (int p = 0; p < AN_PIXELS; p++)
		out[p] = pix[p] / 255.0f;
}

/* The index of an image of class k drawn at random. */
static int draw_image(const struct an_data *d, int k, struct ax_rng *r)
{
	return d->idx[k][ax_rng_below(r, (uint32_t)d->count[k])];
}

struct an_images an_draw_images(const struct an_data *d, const struct an_example *e,
				struct ax_rng *r)
{
	struct an_images im;
	im.label = draw_image(d, e->label, r);
	im.other = draw_image(d, e->other, r);
	return im;
}

/* The images stay bytes: a batch draws them at random from the whole set,
 * and as floats they were 4x the memory traffic, most of a step's time
 * outside the model on one core. */
void an_blend(const struct an_data *d, const struct an_example *e, struct an_images im, float *x)
{
	const uint8_t *a = d->x + (size_t)im.label * AN_PIXELS, *b = d->x + (size_t)im.other * AN_PIXELS;
	float w = e->alpha;
	for (int i = 0; i < AN_PIXELS; i++)
		x[i] = w * (a[i] / 255.0f) + (1.0f - w) * (b[i] / 255.0f);
}

void an_render(const struct an_data *d, const struct an_example *e, struct ax_rng *r, float *x)
{
	an_blend(d, e, an_draw_images(d, e, r), x);
}

void an_render_sequence(const struct an_data *d, const struct an_example *e, int delay,
			int delay_max, struct ax_rng *r, float *frames)
{
	AX_ASSERT(delay >= 0 && delay <= delay_max && "an_render_sequence: delay out of range");
	int T = delay_max + 3, first = delay_max - delay;
	memset(frames, 0, (size_t)T * AN_PIXELS * sizeof(float));
	an_render(d, e, r, frames + (size_t)(T - 1) * AN_PIXELS); /* first: same draws */
	if (e->ctx >= 0) {
		int l1 = (int)ax_rng_below(r, AN_CLASSES);
		int l2 = ((e->ctx - l1) % AN_CLASSES + AN_CLASSES) % AN_CLASSES;
		an_image(d, draw_image(d, l1, r), frames + (size_t)first * AN_PIXELS);
		an_image(d, draw_image(d, l2, r), frames + (size_t)(first + 1) * AN_PIXELS);
	}
}
