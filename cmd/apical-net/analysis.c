/* analysis.c — the lrp and silence sub-commands: relevance per class, the
 * relation between relevance to a pair's overlap and the apical signal,
 * and accuracy with the most relevant (or random) units silenced. */
#include "an.h"

#include <math.h>
#include <string.h>

static void need_blend(const char *sub, const struct an_settings *s)
{
	if (s->cfg.task != AN_BLEND)
		ax_die(AX_EXIT_USAGE, "%s: needs a blend-task model (this one is %s)", sub,
		       an_task_names[s->cfg.task]);
}

static void write_class_relevance(const char *path, const struct an_model *m,
				  const struct an_data *d, const struct an_opts *o)
{
	int L = m->cfg.layers, H = m->cfg.hidden;
	float *rel = ax_xmalloc((size_t)L * AN_CLASSES * H * sizeof(float));
	an_class_relevance(m, d, o->n, o->common.seed, (float)o->eps, rel);
	struct ax_outfile f;
	enum ax_status st = ax_outfile_open(&f, path);
	if (!st && (st = ax_npy_write_f32(f.f, rel, 3, (int64_t[]){ L, AN_CLASSES, H })))
		ax_outfile_abort(&f);
	else if (!st)
		st = ax_outfile_commit(&f);
	free(rel);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, path);
}

/* One CSV of units (pair, layer, unit, relevance, signal); NULL: none. */
static void write_units(struct ax_outfile *f, const struct an_settings *s, int p,
			const float *rel, const float *sig)
{
	int H = s->cfg.hidden;
	for (int u = 0; u < s->cfg.layers * H; u++)
		fprintf(f->f, "%s,%s,%d,%d,%.6g,%.6g\n", an_kind_names[s->cfg.kind], an_pair_names[p],
			u / H, u % H, rel[u], sig ? sig[u] : NAN);
}

int an_cmd_lrp(const struct an_opts *o)
{
	struct an_model m;
	struct an_settings s;
	struct an_data d;
	an_open_model(o, &m, &s, &d);
	need_blend("lrp", &s);
	if (o->npy_out)
		write_class_relevance(o->npy_out, &m, &d, o);
	unsigned pairs = o->pairs ? o->pairs : s.mix.pairs;
	int units = s.cfg.layers * s.cfg.hidden, np = 0;
	int has_signal = s.cfg.kind == AN_APICAL || s.cfg.kind == AN_POINT;
	float *rel = ax_xmalloc((size_t)AN_NPAIRS * units * sizeof(float));
	float *sig = ax_xmalloc((size_t)AN_NPAIRS * units * sizeof(float));
	struct ax_outfile uf;
	enum ax_status st;
	if (o->units_out) {
		if ((st = ax_outfile_open(&uf, o->units_out)))
			ax_die_status(AX_EXIT_FAIL, st, o->units_out);
		fputs("model,pair,layer,unit,relevance,signal\n", uf.f);
	}
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "model,pair,r,n");
	for (int p = 0; p < AN_NPAIRS; p++) {
		if (!(pairs >> p & 1))
			continue;
		float *rp = rel + (size_t)np * units, *sp = sig + (size_t)np * units;
		an_overlap_relevance(&m, &d, p, o->n, o->common.seed + (uint64_t)p, (float)o->eps, rp);
		if (has_signal)
			an_apical_signal(&m, p, sp);
		ax_csv_rowf(&csv, "%s,%s,%.4f,%d", an_kind_names[s.cfg.kind], an_pair_names[p],
			    has_signal ? an_pearson(rp, sp, units) : NAN, units);
		if (o->units_out)
			write_units(&uf, &s, p, rp, has_signal ? sp : NULL);
		np++;
	}
	ax_csv_rowf(&csv, "%s,all,%.4f,%d", an_kind_names[s.cfg.kind],
		    has_signal ? an_pearson(rel, sig, np * units) : NAN, np * units);
	if (o->units_out && (st = ax_outfile_commit(&uf)))
		ax_die_status(AX_EXIT_FAIL, st, o->units_out);
	free(rel), free(sig);
	an_data_free(&d);
	an_model_free(&m);
	return AX_EXIT_OK;
}

/* Overlap relevance averaged over the selected pairs: the silencing rank. */
static void overlap_score(const struct an_model *m, const struct an_data *d, unsigned pairs,
			  const struct an_opts *o, float *score)
{
	int units = m->cfg.layers * m->cfg.hidden, np = 0;
	float *rp = ax_xmalloc((size_t)units * sizeof(float));
	memset(score, 0, (size_t)units * sizeof(float));
	for (int p = 0; p < AN_NPAIRS; p++)
		if (pairs >> p & 1) {
			an_overlap_relevance(m, d, p, o->n / 4 + 1, o->common.seed + (uint64_t)p,
					     (float)o->eps, rp);
			for (int u = 0; u < units; u++)
				score[u] += rp[u];
			np++;
		}
	for (int u = 0; u < units; u++)
		score[u] /= (float)np;
	free(rp);
}

int an_cmd_silence(const struct an_opts *o)
{
	struct an_model m;
	struct an_settings s;
	struct an_data d;
	an_open_model(o, &m, &s, &d);
	need_blend("silence", &s);
	int units = s.cfg.layers * s.cfg.hidden;
	if (o->top > units)
		ax_die(AX_EXIT_USAGE, "silence: --top %d is more than the model's %d hidden units",
		       o->top, units);
	unsigned pairs = o->pairs ? o->pairs : s.mix.pairs;
	float *score = ax_xmalloc((size_t)units * sizeof(float));
	float *top = ax_xmalloc((size_t)units * sizeof(float));
	float *rnd = ax_xmalloc((size_t)o->draws * units * sizeof(float));
	overlap_score(&m, &d, pairs, o, score);
	an_keep_top(score, units, o->top, top);
	struct ax_rng root;
	ax_rng_seed(&root, o->common.seed);
	for (int k = 0; k < o->draws; k++) {
		struct ax_rng r = ax_rng_split(&root, 100 + (uint64_t)k);
		an_keep_random(units, o->top, &r, rnd + (size_t)k * units);
	}
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "model,selection,k,condition,alpha,accuracy,intact,change,n");
	const float alphas[] = { 0.5f, 1.0f };
	for (int c = 0; c < AN_NCONDS; c++)
		for (int a = 0; a < 2; a++) {
			uint64_t seed = o->common.seed + 1;
			double intact = an_accuracy(&m, &d, pairs, c, alphas[a], 0, o->n, seed, NULL);
			double acc = an_accuracy(&m, &d, pairs, c, alphas[a], 0, o->n, seed, top), racc = 0;
			for (int k = 0; k < o->draws; k++)
				racc += an_accuracy(&m, &d, pairs, c, alphas[a], 0, o->n, seed,
						    rnd + (size_t)k * units) / o->draws;
			const char *name = an_kind_names[s.cfg.kind], *cn = an_cond_names[c];
			ax_csv_rowf(&csv, "%s,top,%d,%s,%g,%.6f,%.6f,%.6f,%d", name, o->top, cn,
				    alphas[a], acc, intact, acc - intact, o->n);
			ax_csv_rowf(&csv, "%s,random,%d,%s,%g,%.6f,%.6f,%.6f,%d", name, o->top, cn,
				    alphas[a], racc, intact, racc - intact, o->n * o->draws);
		}
	free(score), free(top), free(rnd);
	an_data_free(&d);
	an_model_free(&m);
	return AX_EXIT_OK;
}
