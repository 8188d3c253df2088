/* train.c — one training step, the checkpoint, and the training loop on
 * lib's training run (ax_run.h). */
#include "an.h"

#include <math.h>
#include <string.h>

#define SET(key, flag, type, field, ...) \
	AX_SETTING_##type("an." key, "--" flag, struct an_settings, field, __VA_ARGS__)
const struct ax_setting an_settings_table[] = {
	SET("model", "model", CHOICE, cfg.kind, an_kind_names),
	SET("task", "task", CHOICE, cfg.task, an_task_names),
	SET("basal", "basal", CHOICE, cfg.basal, an_basal_names),
	SET("channels1", "channels", INT, cfg.channels[0], 1, AN_MAX_CHANNELS),
	SET("channels2", "channels", INT, cfg.channels[1], 1, AN_MAX_CHANNELS),
	SET("layers", "layers", INT, cfg.layers, 1, AN_MAX_LAYERS),
	SET("hidden", "hidden", INT, cfg.hidden, 1, 8192),
	SET("ctx_hidden", "ctx-hidden", INT, cfg.ctx_hidden, 1, 4096),
	SET("delay_max", "delay-max", INT, cfg.delay_max, 0, 64),
	SET("steps", "steps", LONG, steps, 1, 1L << 40),
	SET("pretrain", "pretrain", LONG, pretrain, 0, 1L << 40),
	SET("batch", "batch", INT, batch, 1, 1 << 16),
	SET("lr", "lr", DOUBLE, lr, 0, 10, AX_LO_OPEN),
	SET("alpha_min", "alpha-min", FLOAT, mix.alpha_lo, 0, 1, 0),
	SET("alpha_max", "alpha-max", FLOAT, mix.alpha_hi, 0, 1, 0),
	SET("p_blend", "p-blend", FLOAT, mix.p_blend, 0, 1, 0),
	SET("p_context", "p-context", FLOAT, mix.p_context, 0, 1, 0),
	SET("p_wrong", "p-wrong", FLOAT, mix.p_wrong, 0, 1, 0),
	SET("clean_cue", "clean-cue", CHOICE, mix.clean_cue, an_clean_cue_names),
	SET("limit", "limit", INT, limit, 0, 1 << 30),
	AX_SETTING_BOOL("an.init", "--init", struct an_settings, init),
};
const int an_nsettings = (int)AX_COUNTOF(an_settings_table);
#undef SET

void an_settings_default(struct an_settings *s)
{
	*s = (struct an_settings){
		.cfg = { .kind = AN_APICAL, .task = AN_BLEND, .basal = AN_BASAL_MLP,
			 .channels = { 16, 32 }, .layers = 2, .hidden = 256,
			 .ctx_hidden = 64, .delay_max = 3 },
		.steps = 3000, .pretrain = 2000, .batch = 64, .lr = 1e-3,
		.mix = { .pairs = (1u << AN_NPAIRS) - 1, .alpha_lo = 0.5f, .alpha_hi = 1.0f,
			 .p_blend = 0.75f, .p_context = 0.75f, .p_wrong = 0.25f },
	};
}

enum ax_status an_settings_check(const struct an_settings *s)
{
	if (s->mix.alpha_lo > s->mix.alpha_hi)
		return ax_error_set(AX_ERR_ARG, "--alpha-min %g is above --alpha-max %g",
				    s->mix.alpha_lo, s->mix.alpha_hi);
	if (s->init && s->pretrain)
		return ax_error_set(AX_ERR_ARG, "--pretrain conflicts with --init (whose model "
				    "is the pre-trained feedforward pathway)");
	if (s->pretrain > s->steps)
		return ax_error_set(AX_ERR_ARG, "--pretrain %ld is more than --steps %ld", s->pretrain,
				    s->steps);
	if (s->mix.p_context + s->mix.p_wrong > 1.0f)
		return ax_error_set(AX_ERR_ARG, "--p-context + --p-wrong is %g, above 1",
				    s->mix.p_context + s->mix.p_wrong);
	return AX_OK;
}

/* The selected pairs as "0/6,2/4" (buf of at least 16 bytes). */
static const char *pairs_text(unsigned pairs, char *buf)
{
	buf[0] = 0;
	for (int p = 0; p < AN_NPAIRS; p++)
		if (pairs >> p & 1) {
			if (buf[0])
				strcat(buf, ",");
			strcat(buf, an_pair_names[p]);
		}
	return buf;
}

enum ax_status an_checkpoint_read(const char *path, struct an_model *m, struct an_settings *s,
				  struct ax_bundle *b)
{
	enum ax_status st = ax_ckpt_open(path, "apical-net", b);
	if (st)
		return st;
	const char *pairs;
	if ((st = ax_ckpt_get_settings(b, an_settings_table, an_nsettings, s)) ||
	    (st = an_settings_check(s)) || (st = ax_ckpt_get_str(b, "an.pairs", &pairs)) ||
	    (st = an_pairs_parse(pairs, &s->mix.pairs))) {
		ax_bundle_free(b);
		return ax_error_prefix(st == AX_ERR_ARG ? AX_ERR_FORMAT : st, path);
	}
	an_model_init(m, &s->cfg, 0);
	if ((st = ax_params_from_bundle(&m->params, b, ""))) {
		an_model_free(m);
		ax_bundle_free(b);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}

void an_batch_draw(struct an_batch *b, const struct an_config *c, const struct an_data *d,
		   const struct an_mix *mix, struct ax_rng *r)
{
	for (int i = 0; i < b->B; i++) {
		struct an_example e = an_example_train(mix, r);
		int delay = c->task == AN_TEMPORAL ? (int)ax_rng_below(r, (uint32_t)c->delay_max + 1) : 0;
		an_batch_set(b, c, d, i, &e, delay, r);
	}
	an_batch_render(b, c, d);
}

int an_top_down_phase(const struct an_settings *s, long step)
{
	return s->cfg.kind != AN_NOCTX && (s->init || (s->pretrain > 0 && step >= s->pretrain));
}

float an_step_lr(const struct an_settings *s, long step)
{
	long p = s->cfg.kind == AN_NOCTX ? 0 : s->pretrain;
	if (step < p)
		return ax_sched_cosine(step, 0, p, (float)s->lr, 0.0f);
	return ax_sched_cosine(step - p, 0, s->steps - p, (float)s->lr, 0.0f);
}

/* Gradients of the feedforward pathway set to 0: the conv stages, the basal
 * weights and biases (concat: of the feature columns; the cue's columns
 * learn), and the read-out. With a fresh Adam state they then stay exactly
 * where they are. */
static void freeze_feedforward(struct an_model *m)
{
	for (int s = 0; m->cfg.basal == AN_BASAL_CONV && s < 2; s++) {
		memset(m->conv_w[s]->grad, 0, m->conv_w[s]->size * sizeof(float));
		memset(m->conv_b[s]->grad, 0, m->conv_b[s]->size * sizeof(float));
	}
	for (int l = 0; l < m->cfg.layers; l++) {
		struct ax_nn_linear *b = &m->layer[l].basal;
		memset(b->b->grad, 0, b->b->size * sizeof(float));
		int in = b->w->shape[1], cols = l == 0 ? an_feature_dim(&m->cfg) : in;
		for (int j = 0; j < b->w->shape[0]; j++)
			memset(b->w->grad + (size_t)j * in, 0, (size_t)cols * sizeof(float));
	}
	memset(m->out.w->grad, 0, m->out.w->size * sizeof(float));
	memset(m->out.b->grad, 0, m->out.b->size * sizeof(float));
}

float an_train_step(struct an_model *m, struct ax_optim *opt, struct ax_tape *t,
		    const struct an_batch *b, float lr, int top_down_only, int *hits)
{
	const struct an_config *c = &m->cfg;
	long b0, nb;
	ax_dist_shard(b->B, &b0, &nb);   /* this rank's rows (all of them on one rank) */
	int B = (int)nb;
	ax_tape_reset(t);
	ax_params_zero_grad(&m->params);
	struct ax_tensor *x = ax_const(t, 2, (int[]){ B, AN_PIXELS }, b->x + b0 * AN_PIXELS);
	struct ax_tensor *ctx = NULL;
	if (c->kind != AN_NOCTX) {
		float *cue = b->cue + (size_t)b0 * an_cue_size(c);
		ctx = an_context(t, m, c->task == AN_TEMPORAL ?
				 ax_const(t, 3, (int[]){ B, an_frames(c), AN_PIXELS }, cue) :
				 ax_const(t, 2, (int[]){ B, AN_CLASSES }, cue));
	}
	struct ax_tensor *logits = an_forward(t, m, x, ctx, NULL);
	int32_t *y = ax_tape_ints(t, (size_t)B);
	memcpy(y, b->y + b0, (size_t)B * sizeof(int32_t));
	struct ax_tensor *loss = ax_cross_entropy(t, logits, y, 0.0f, -1);
	float weight = (float)B / (float)b->B;
	/* The shard's share of the batch's mean loss, and its hits. */
	double sums[2] = { loss->data[0] * (double)weight, an_count_correct(logits->data, y, B) };
	if (isfinite(loss->data[0]))
		ax_tape_backward(t, loss, 1.0f);
	int many = ax_dist_size() > 1;
	ax_dist_allreduce_grads(&m->params, weight, sums, many ? 2 : 0);
	float value = many ? (float)sums[0] : loss->data[0];
	if (hits)
		*hits = (int)sums[1];
	if (!isfinite(value))
		return value;
	if (top_down_only)
		freeze_feedforward(m);
	ax_optim_step(opt, lr);
	return value;
}

struct an_trainer {
	struct an_settings s;
	struct an_model m;
	struct ax_optim opt;
	struct ax_rng rng;
	struct ax_run run;
};

static void save(const struct an_trainer *tr)
{
	struct ax_bundle b;
	char pairs[32];
	ax_ckpt_begin(&b, "apical-net");
	ax_params_to_bundle(&tr->m.params, &b, "");
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_rng(&b, "rng.data", &tr->rng);
	ax_ckpt_put_settings(&b, an_settings_table, an_nsettings, &tr->s);
	ax_bundle_set_meta(&b, "an.pairs", pairs_text(tr->s.mix.pairs, pairs));
	ax_run_put(&tr->run, &b);
	enum ax_status st = ax_bundle_save(tr->run.o.checkpoint, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "checkpoint");
}

/* Adam from zero moments and step 0. */
static void optim_restart(struct ax_optim *o)
{
	for (int i = 0; i < o->params->n; i++) {
		size_t n = o->params->list[i]->size * sizeof(float);
		memset(o->m[i], 0, n);
		if (o->v[i])
			memset(o->v[i], 0, n);
	}
	o->step = 0;
}

/* Copy name from src into dst (same shape; or, for concat's first layer,
 * dst's first `features` columns of each row from src's first ones). */
static enum ax_status copy_param(struct ax_tensor *dst, const struct ax_bundle *src,
				 const char *path, int features)
{
	const struct ax_array *a = ax_bundle_find(src, dst->name);
	int rows = dst->shape[0], cols = (int)(dst->size / (size_t)rows);
	if (!a || a->dtype != AX_F32 || a->ndim != dst->ndim || a->shape[0] != rows)
		return ax_error_set(AX_ERR_FORMAT, "%s: no float32 '%s' with %d rows", path,
				    dst->name, rows);
	int scols = (int)(ax_array_count(a) / (size_t)rows), n = AX_MIN(cols, scols);
	if (scols != cols && (dst->ndim != 2 || n != features))
		return ax_error_set(AX_ERR_FORMAT, "%s: '%s' has %d columns, not %d", path,
				    dst->name, scols, cols);
	for (int j = 0; j < rows; j++)
		memcpy(dst->data + (size_t)j * cols, (const float *)a->data + (size_t)j * scols,
		       (size_t)n * sizeof(float));
	return AX_OK;
}

/* --init: the conv stages, the basal weights and biases and the read-out
 * of another checkpoint (any model, same --basal, --channels, --layers and
 * --hidden). */
static enum ax_status load_feedforward(struct an_model *m, const char *path)
{
	struct ax_bundle b;
	struct an_settings s;
	an_settings_default(&s);
	enum ax_status st = ax_ckpt_open(path, "apical-net", &b);
	if (!st && (st = ax_ckpt_get_settings(&b, an_settings_table, an_nsettings, &s)))
		st = ax_error_prefix(st, path);
	if (!st && (s.cfg.layers != m->cfg.layers || s.cfg.hidden != m->cfg.hidden))
		st = ax_error_set(AX_ERR_ARG, "%s: %d layers of %d units, not %d of %d", path,
				  s.cfg.layers, s.cfg.hidden, m->cfg.layers, m->cfg.hidden);
	const struct an_config *c = &m->cfg;
	if (!st && (s.cfg.basal != c->basal ||
		    (c->basal == AN_BASAL_CONV && (s.cfg.channels[0] != c->channels[0] ||
						   s.cfg.channels[1] != c->channels[1]))))
		st = ax_error_set(AX_ERR_ARG, "%s: --basal %s (channels %d,%d), not %s (%d,%d)",
				  path, an_basal_names[s.cfg.basal], s.cfg.channels[0],
				  s.cfg.channels[1], an_basal_names[c->basal], c->channels[0],
				  c->channels[1]);
	int features = an_feature_dim(c);
	for (int i = 0; !st && c->basal == AN_BASAL_CONV && i < 2; i++)
		if (!(st = copy_param(m->conv_w[i], &b, path, features)))
			st = copy_param(m->conv_b[i], &b, path, features);
	for (int l = 0; !st && l < m->cfg.layers; l++)
		if (!(st = copy_param(m->layer[l].basal.w, &b, path, features)))
			st = copy_param(m->layer[l].basal.b, &b, path, features);
	if (!st && !(st = copy_param(m->out.w, &b, path, features)))
		st = copy_param(m->out.b, &b, path, features);
	/* The top-down weights too, from a model of the same kind. */
	for (int l = 0; !st && s.cfg.kind == m->cfg.kind && l < m->cfg.layers; l++) {
		struct ax_nn_linear *a = &m->layer[l].apical;
		if (a->w && !(st = copy_param(a->w, &b, path, features)) && a->b)
			st = copy_param(a->b, &b, path, features);
	}
	ax_bundle_free(&b);
	return st;
}

/* Model, optimiser and data stream: fresh from the seed, or from --resume. */
static void trainer_start(struct an_trainer *tr, const struct ax_common *c, const char *init)
{
	if (!c->run.resume) {
		an_model_init(&tr->m, &tr->s.cfg, c->seed);
		enum ax_status st = init ? load_feedforward(&tr->m, init) : AX_OK;
		if (st)
			ax_die_status(AX_EXIT_USAGE, st, NULL);
		ax_optim_init(&tr->opt, AX_OPTIM_ADAM, &tr->m.params);
		struct ax_rng root;
		ax_rng_seed(&root, c->seed);
		tr->rng = ax_rng_split(&root, 7);
		ax_run_init(&tr->run, &c->run, tr->s.steps, c->quiet);
		return;
	}
	struct ax_bundle b;
	enum ax_status st = an_checkpoint_read(c->run.resume, &tr->m, &tr->s, &b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	ax_optim_init(&tr->opt, AX_OPTIM_ADAM, &tr->m.params);
	ax_run_init(&tr->run, &c->run, tr->s.steps, c->quiet);
	if ((st = ax_optim_from_bundle(&tr->opt, &b, "")) ||
	    (st = ax_ckpt_get_rng(&b, "rng.data", &tr->rng)) || (st = ax_run_resume(&tr->run, &b)))
		ax_die(AX_EXIT_USAGE, "%s: %s", c->run.resume, ax_error_detail());
	ax_bundle_free(&b);
}

int an_cmd_train(const struct an_opts *o)
{
	struct an_trainer tr = { .s = o->s };
	ax_dist_init();
	trainer_start(&tr, &o->common, o->init);
	if (tr.s.batch < ax_dist_size())
		ax_usage_error("--batch %d is less than the %d ranks", tr.s.batch, ax_dist_size());
	ax_dist_bcast_params(&tr.m.params);   /* every rank starts from rank 0's values */
	struct an_data d;
	enum ax_status st = an_data_load(&d, o->data, "train", tr.s.limit);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	struct an_batch b;
	an_batch_alloc(&b, &tr.s.cfg, tr.s.batch);
	struct ax_arena step;
	struct ax_tape t;
	ax_arena_init(&step, 0);
	ax_tape_init(&t, &step);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,loss,accuracy,lr");
	/* Pre-training sees no cue; the top-down phase starts a fresh Adam. */
	struct an_mix plain = tr.s.mix;
	plain.p_context = plain.p_wrong = 0.0f;
	while (ax_run_next(&tr.run)) {
		long k = tr.run.step;
		int top_down = an_top_down_phase(&tr.s, k);
		if (top_down && k == tr.s.pretrain)
			optim_restart(&tr.opt);
		int plain_phase = tr.s.cfg.kind != AN_NOCTX && k < tr.s.pretrain;
		an_batch_draw(&b, &tr.s.cfg, &d, plain_phase ? &plain : &tr.s.mix, &tr.rng);
		float lr = an_step_lr(&tr.s, k);
		int hits;
		float loss = an_train_step(&tr.m, &tr.opt, &t, &b, lr, top_down, &hits);
		tr.run.acc.user[0] += hits, tr.run.acc.user[1] += b.B;
		unsigned done = ax_run_step_done(&tr.run, loss);
		if (done & AX_RUN_LOG)
			ax_csv_row(&csv, (double[]){ (double)tr.run.step, ax_run_mean_loss(&tr.run),
						     tr.run.acc.user[0] / tr.run.acc.user[1], lr });
		if (done & AX_RUN_SAVE)
			save(&tr);
	}
	ax_dist_check_same(&tr.m.params);
	ax_tape_free(&t);
	ax_arena_free(&step);
	an_batch_free(&b);
	an_data_free(&d);
	an_model_free(&tr.m);
	return ax_run_finish(&tr.run);
}
