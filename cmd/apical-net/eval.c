/* eval.c — batches of examples as model inputs, and accuracy per context
 * condition and alpha. */
#include "an.h"

#include <string.h>

size_t an_cue_size(const struct an_config *c)
{
	return c->task == AN_TEMPORAL ? (size_t)an_frames(c) * AN_PIXELS : AN_CLASSES;
}

void an_batch_alloc(struct an_batch *b, const struct an_config *c, int B)
{
	b->B = B;
	b->x = ax_xcalloc((size_t)B * AN_PIXELS, sizeof(float));
	b->cue = ax_xcalloc((size_t)B * an_cue_size(c), sizeof(float));
	b->y = ax_xcalloc((size_t)B, sizeof(int32_t));
	b->ex = ax_xcalloc((size_t)B, sizeof *b->ex);
	b->images = ax_xcalloc((size_t)B, sizeof *b->images);
}

void an_batch_free(struct an_batch *b)
{
	free(b->x), free(b->cue), free(b->y), free(b->ex), free(b->images);
}

void an_batch_set(struct an_batch *b, const struct an_config *c, const struct an_data *d, int i,
		  const struct an_example *e, int delay, struct ax_rng *r)
{
	size_t n = an_cue_size(c);
	float *cue = b->cue + (size_t)i * n, *x = b->x + (size_t)i * AN_PIXELS;
	if (c->task == AN_TEMPORAL) {
		an_render_sequence(d, e, delay, c->delay_max, r, cue);
		memcpy(x, cue + (n - AN_PIXELS), AN_PIXELS * sizeof(float));
	} else {
		/* the image rows now, in the order an_render draws them; the
		 * pixels in an_batch_render */
		b->ex[i] = *e;
		b->images[i] = an_draw_images(d, e, r);
		memset(cue, 0, n * sizeof(float));
		if (e->ctx >= 0)
			cue[e->ctx] = 1.0f;
	}
	b->y[i] = e->label;
}

void an_batch_render(struct an_batch *b, const struct an_config *c, const struct an_data *d)
{
	if (c->task != AN_BLEND)
		return;
#pragma omp parallel for schedule(static)
	for (int i = 0; i < b->B; i++)
		an_blend(d, &b->ex[i], b->images[i], b->x + (size_t)i * AN_PIXELS);
}

/* The cue as a tensor of the task's shape. */
static struct ax_tensor *cue_tensor(struct ax_tape *t, const struct an_config *c,
				    const struct an_batch *b, int B)
{
	if (c->task == AN_TEMPORAL)
		return ax_const(t, 3, (int[]){ B, an_frames(c), AN_PIXELS }, b->cue);
	return ax_const(t, 2, (int[]){ B, AN_CLASSES }, b->cue);
}

void an_predict(const struct an_model *m, const struct an_batch *b, const float *keep,
		float *logits)
{
	struct ax_arena step;
	struct ax_tape t;
	ax_arena_init(&step, 0);
	ax_tape_init(&t, &step);
	ax_no_grad_begin(&t);
	struct ax_tensor *x = ax_const(&t, 2, (int[]){ b->B, AN_PIXELS }, b->x);
	struct ax_tensor *c = NULL;
	if (m->cfg.kind != AN_NOCTX)
		c = an_context(&t, m, cue_tensor(&t, &m->cfg, b, b->B));
	struct ax_tensor *z = an_forward(&t, m, x, c, keep);
	memcpy(logits, z->data, (size_t)b->B * AN_CLASSES * sizeof(float));
	ax_tape_free(&t);
	ax_arena_free(&step);
}

int an_count_correct(const float *logits, const int32_t *y, int B)
{
	int hits = 0;
	for (int i = 0; i < B; i++) {
		const float *z = logits + (size_t)i * AN_CLASSES;
		int k = 0;
		for (int j = 1; j < AN_CLASSES; j++)
			if (z[j] > z[k])
				k = j;
		hits += k == y[i];
	}
	return hits;
}

/* Pair of example i: the selected pairs in turn. */
static int nth_pair(unsigned pairs, int i)
{
	int set[AN_NPAIRS], n = 0;
	for (int p = 0; p < AN_NPAIRS; p++)
		if (pairs >> p & 1)
			set[n++] = p;
	AX_ASSERT(n > 0 && "an_accuracy: no pair selected");
	return set[i % n];
}

double an_accuracy(const struct an_model *m, const struct an_data *d, unsigned pairs,
		   enum an_cond c, float alpha, int delay, int n, uint64_t seed, const float *keep)
{
	enum { CHUNK = 250 };
	struct an_batch b;
	an_batch_alloc(&b, &m->cfg, CHUNK);
	float *logits = ax_xmalloc(CHUNK * AN_CLASSES * sizeof(float));
	struct ax_rng root;
	ax_rng_seed(&root, seed);
	long correct = 0;
	for (int i0 = 0; i0 < n; i0 += CHUNK) {
		b.B = AX_MIN(CHUNK, n - i0);
		for (int j = 0; j < b.B; j++) {
			/* One stream per example and purpose: the recipe and the images
			 * are the same under every condition and alpha. */
			struct ax_rng re = ax_rng_split(&root, 3 * (uint64_t)(i0 + j));
			struct ax_rng rc = ax_rng_split(&root, 3 * (uint64_t)(i0 + j) + 1);
			struct ax_rng ri = ax_rng_split(&root, 3 * (uint64_t)(i0 + j) + 2);
			struct an_example e = an_example_blend(nth_pair(pairs, i0 + j), alpha, AN_NONE,
							       &re);
			e.ctx = an_context_class(c, e.label, e.other, &rc);
			an_batch_set(&b, &m->cfg, d, j, &e, delay, &ri);
		}
		an_batch_render(&b, &m->cfg, d);
		an_predict(m, &b, keep, logits);
		correct += an_count_correct(logits, b.y, b.B);
	}
	free(logits);
	an_batch_free(&b);
	return n ? (double)correct / n : 0.0;
}

/* The trained model named by -m, its settings and the test images. */
void an_open_model(const struct an_opts *o, struct an_model *m, struct an_settings *s,
		   struct an_data *d)
{
	const char *path = o->common.run.checkpoint;
	struct ax_bundle b;
	enum ax_status st = an_checkpoint_read(path, m, s, &b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	ax_bundle_free(&b);
	if ((st = an_data_load(d, o->data, "t10k", o->limit)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
}

int an_cmd_eval(const struct an_opts *o)
{
	struct an_model m;
	struct an_settings s;
	struct an_data d;
	an_open_model(o, &m, &s, &d);
	unsigned pairs = o->pairs ? o->pairs : s.mix.pairs;
	int temporal = s.cfg.task == AN_TEMPORAL, nd = temporal ? o->ndelays : 1;
	int *delays = o->delays;
	if (temporal && !delays) {
		nd = s.cfg.delay_max + 1;
		delays = ax_xmalloc((size_t)nd * sizeof(int));
		for (int i = 0; i < nd; i++)
			delays[i] = i;
	}
	for (int i = 0; temporal && i < nd; i++)
		if (delays[i] > s.cfg.delay_max)
			ax_die(AX_EXIT_USAGE, "eval: --delay %d is beyond the model's --delay-max %d",
			       delays[i], s.cfg.delay_max);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, temporal ? "model,condition,alpha,accuracy,n,delay" :
					      "model,condition,alpha,accuracy,n");
	for (int k = 0; k < nd; k++)
		for (int c = 0; c < AN_NCONDS; c++)
			for (int a = 0; a < o->nalphas; a++) {
				int delay = temporal ? delays[k] : 0;
				double acc = an_accuracy(&m, &d, pairs, c, (float)o->alphas[a], delay,
							 o->n, o->common.seed, NULL);
				if (temporal)
					ax_csv_rowf(&csv, "%s,%s,%g,%.6f,%d,%d", an_kind_names[s.cfg.kind],
						    an_cond_names[c], o->alphas[a], acc, o->n, delay);
				else
					ax_csv_rowf(&csv, "%s,%s,%g,%.6f,%d", an_kind_names[s.cfg.kind],
						    an_cond_names[c], o->alphas[a], acc, o->n);
			}
	if (delays != o->delays)
		free(delays);
	an_data_free(&d);
	an_model_free(&m);
	return AX_EXIT_OK;
}
