/* train.c — settings, checkpoint and `ssl-train pretrain` on lib's training
 * run (ax_run.h): a CSV row per epoch, checkpoints, bit-exact resume.
 *
 * Everything random in a step is drawn from (seed, step): the epoch's order
 * of the subset from ax_rng_split(order, epoch), each view of each image
 * from ax_rng_split(augment, (step * batch + row) * views + view). A resumed
 * run therefore needs no RNG state, and each rank augments only its rows.
 *
 * Data parallelism: the batch is cut into `groups` equal groups; each view
 * of a group runs through backbone and projector on its own (BatchNorm
 * statistics per group and view) and the loss is the mean of the groups'
 * losses, as on `groups` GPUs without synchronised BatchNorm. Ranks take
 * whole groups (groups must be a multiple of the rank count; default: the
 * rank count), so R ranks compute what one rank computes with the same
 * --groups, to rounding. Running statistics follow group 0 only (rank 0's).
 */
#include "ssl.h"

#include <math.h>
#include <string.h>

#define SET(key, flag, type, field, ...) \
	AX_SETTING_##type("ssl." key, "--" flag, struct ssl_settings, field, __VA_ARGS__)
const struct ax_setting ssl_settings_table[] = {
	SET("width", "width", INT, cfg.width, 1, 512),
	SET("proj_dim", "proj-dim", INT, cfg.proj_dim, 1, 1 << 14),
	SET("loss", "loss", CHOICE, loss.kind, ssl_loss_names),
	SET("lambda", "lambda", DOUBLE, loss.lambda, 0, 1e6, 0),
	SET("lambda_scale", "lambda-scale", DOUBLE, lambda_scale, 0, 1e9, 0),
	SET("mu", "mu", DOUBLE, loss.mu, 0, 1e6, 0),
	SET("nu", "nu", DOUBLE, loss.nu, 0, 1e6, 0),
	SET("views", "views", INT, views, 2, SSL_MAX_VIEWS),
	SET("subset", "subset", DOUBLE, subset, 0, 1, AX_LO_OPEN),
	SET("epochs", "epochs", INT, epochs, 1, 1 << 20),
	SET("batch", "batch", INT, batch, 2, 1 << 16),
	SET("groups", "groups", INT, groups, 1, 1 << 12),
	SET("lr", "lr", DOUBLE, lr, 0, 10, AX_LO_OPEN),
	SET("weight_decay", "weight-decay", DOUBLE, weight_decay, 0, 1, 0),
	SET("probe_every", "probe-every", INT, probe_every, 0, 1 << 20),
	SET("probe_epochs", "probe-epochs", INT, probe_epochs, 1, 10000),
	SET("probe_limit", "probe-limit", INT, probe_limit, 0, 1 << 30),
	AX_SETTING_U64("ssl.seed", "--seed", struct ssl_settings, seed),
};
const int ssl_nsettings = (int)AX_COUNTOF(ssl_settings_table);
#undef SET

void ssl_settings_default(struct ssl_settings *s, enum ssl_loss_kind k)
{
	*s = (struct ssl_settings){
		.cfg = { .width = 16, .proj_dim = 128 },
		.loss = { .kind = k, .lambda = 25, .mu = 25, .nu = 1 },
		.lambda_scale = k == SSL_BARLOW ? 5.12 : 0,
		.views = 2, .subset = 1, .epochs = 10, .batch = 256, .groups = 1,
		.lr = 1e-3, .weight_decay = 1e-6, .probe_epochs = 10, .seed = 42,
	};
}

void ssl_settings_resolve(struct ssl_settings *s)
{
	if (s->lambda_scale > 0)
		s->loss.lambda = s->lambda_scale / s->cfg.proj_dim;
}

/* What single ranges cannot say; NULL if fine. */
static const char *check(const void *base)
{
	const struct ssl_settings *s = base;
	static char buf[160];
	if (s->batch % s->groups)
		snprintf(buf, sizeof buf, "--batch %d is not a multiple of --groups %d", s->batch,
			 s->groups);
	else if (s->batch / s->groups < 2)
		snprintf(buf, sizeof buf, "--batch %d in %d groups leaves fewer than 2 rows a group",
			 s->batch, s->groups);
	else
		return NULL;
	return buf;
}

enum ax_status ssl_checkpoint_read(const char *path, struct ssl_model *m, struct ssl_settings *s,
				   struct ax_bundle *b)
{
	ssl_settings_default(s, SSL_BARLOW);
	enum ax_status st = ax_ckpt_open_config(path, "ssl-train", ssl_settings_table,
						ssl_nsettings, s, check, b);
	if (st)
		return st;
	ssl_model_init(m, &s->cfg, 0);
	if ((st = ssl_model_from_bundle(m, b))) {
		ssl_model_free(m);
		ax_bundle_free(b);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}

struct ssl_trainer {
	struct ssl_settings s;
	struct ssl_model m;
	struct ax_optim opt;
	struct ax_run run;
	struct ssl_data train, ptrain, test;   /* the subset; the probe's images */
	struct ax_rng order, augment;
	struct ax_arena arena;
	struct ax_tape tape;
	int32_t *perm;          /* this epoch's order of the subset */
	long perm_epoch;
	long spe;               /* steps per epoch */
	float *x;               /* (views, rows of a group, 784) */
	uint64_t *keys;
};

static void save(const struct ssl_trainer *tr)
{
	struct ax_bundle b;
	ax_ckpt_begin(&b, "ssl-train");
	ssl_model_to_bundle(&tr->m, &b);
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_settings(&b, ssl_settings_table, ssl_nsettings, &tr->s);
	ax_run_put(&tr->run, &b);
	enum ax_status st = ax_bundle_save(tr->run.o.checkpoint, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "checkpoint");
}

static void optim_start(struct ssl_trainer *tr)
{
	ax_optim_init(&tr->opt, AX_OPTIM_ADAM, &tr->m.params);
	tr->opt.weight_decay = (float)tr->s.weight_decay;
	tr->opt.decay_vectors = 1;   /* torch Adam decays every parameter */
}

/* Model and optimiser: fresh, or from --resume (then *ck stays open for
 * ax_run_resume, once the schedule's length is known; returns 1). */
static int trainer_start(struct ssl_trainer *tr, const struct ssl_opts *o, struct ax_bundle *ck)
{
	const char *resume = o->common.run.resume;
	if (!resume) {
		tr->s = o->s;
		ssl_model_init(&tr->m, &tr->s.cfg, tr->s.seed);
		optim_start(tr);
		return 0;
	}
	enum ax_status st = ssl_checkpoint_read(resume, &tr->m, &tr->s, ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	optim_start(tr);
	if ((st = ax_optim_from_bundle(&tr->opt, ck, "")))
		ax_die(AX_EXIT_USAGE, "%s: %s", resume, ax_error_detail());
	return 1;
}

/* Images of group g's rows into tr->x, every view augmented. */
static void draw_views(struct ssl_trainer *tr, const int32_t *rows, long step, int g, int ng,
		       uint8_t *raw)
{
	const struct ssl_settings *s = &tr->s;
	for (int i = 0; i < ng; i++)
		memcpy(raw + (size_t)i * SSL_PIXELS, tr->train.x + (size_t)rows[i] * SSL_PIXELS,
		       SSL_PIXELS);
	struct ax_augment aug;
	ax_augment_default(&aug);
	for (int a = 0; a < s->views; a++) {
		for (int i = 0; i < ng; i++)
			tr->keys[i] = ((uint64_t)step * s->batch + (uint64_t)g * ng + i) * s->views + a;
		ax_augment_batch_u8(&aug, &tr->augment, tr->keys, ng, 1, SSL_SIDE, SSL_SIDE, raw,
				    tr->x + (size_t)a * ng * SSL_PIXELS);
	}
}

/* One step; returns the global batch's loss, its terms into sums[1..]. */
static double train_step(struct ssl_trainer *tr, uint8_t *raw, double *sums)
{
	const struct ssl_settings *s = &tr->s;
	long step = tr->run.step, epoch = step / tr->spe;
	if (tr->perm_epoch != epoch) {
		struct ax_rng r = ax_rng_split(&tr->order, (uint64_t)epoch);
		ax_rng_permutation(&r, tr->perm, tr->train.n);
		tr->perm_epoch = epoch;
	}
	const int32_t *rows = tr->perm + (step % tr->spe) * s->batch;
	int G = s->groups, Gr = G / ax_dist_size(), ng = s->batch / G, nt = ssl_loss_nterms(s->loss.kind);
	memset(sums, 0, (1 + SSL_MAX_TERMS) * sizeof *sums);
	struct ax_tape *t = &tr->tape;
	for (int g = ax_dist_rank() * Gr; g < (ax_dist_rank() + 1) * Gr; g++) {
		draw_views(tr, rows + (size_t)g * ng, step, g, ng, raw);
		struct ax_tensor *z[SSL_MAX_VIEWS];
		for (int a = 0; a < s->views; a++) {
			struct ax_tensor *x = ax_const(t, 4, (int[]){ ng, 1, SSL_SIDE, SSL_SIDE },
						       tr->x + (size_t)a * ng * SSL_PIXELS);
			z[a] = ssl_projector(t, &tr->m, ssl_backbone(t, &tr->m, x, g == 0), g == 0);
		}
		float terms[SSL_MAX_TERMS];
		struct ax_tensor *l = ssl_loss(t, &s->loss, z, s->views, terms);
		sums[0] += l->data[0] / G;
		for (int k = 0; k < nt; k++)
			sums[1 + k] += terms[k] / G;
		if (isfinite(l->data[0]))
			ax_tape_backward(t, l, 1.0f / (float)Gr);
		ax_tape_reset(t);
	}
	ax_dist_allreduce_grads(&tr->m.params, (float)Gr / (float)G, sums,
				ax_dist_size() > 1 ? 1 + nt : 0);
	if (isfinite(sums[0]))
		ax_optim_step(&tr->opt, (float)s->lr);
	ax_params_zero_grad(&tr->m.params);
	return sums[0];
}

/* Fashion-MNIST: the training subset, and the probe's images if it runs. */
static void load_data(struct ssl_trainer *tr, const struct ssl_opts *o)
{
	const struct ssl_settings *s = &tr->s;
	enum ax_status st = ssl_data_load(&tr->train, o->data, "train", 0);
	if (!st && s->probe_every > 0 && ax_dist_root()) {
		st = ssl_data_load(&tr->ptrain, o->data, "train", s->probe_limit);
		if (!st)
			st = ssl_data_load(&tr->test, o->data, "t10k", 0);
	}
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	ssl_data_subset(&tr->train, s->subset, s->seed ^ 0x737562736574ULL);
	tr->spe = tr->train.n / s->batch;
	if (tr->spe < 1)
		ax_die(AX_EXIT_USAGE, "--subset %g leaves %d images, fewer than --batch %d", s->subset,
		       tr->train.n, s->batch);
}

/* The CSV row of an epoch (or of a --log-every step); probe accuracy when due. */
static void log_row(struct ssl_trainer *tr, struct ax_csv *csv)
{
	const struct ssl_settings *s = &tr->s;
	const struct ax_run_acc *a = &tr->run.acc;
	long step = tr->run.step;
	double acc = NAN;
	if (s->probe_every > 0 && step % tr->spe == 0 &&
	    ((step / tr->spe) % s->probe_every == 0 || step == tr->run.total))
		acc = ssl_probe(&tr->m, &tr->ptrain, &tr->test, s->probe_epochs, s->seed);
	char terms[128] = "";
	for (int k = 0; k < ssl_loss_nterms(s->loss.kind); k++)
		snprintf(terms + strlen(terms), sizeof terms - strlen(terms), ",%.6g",
			 a->steps > 0 ? a->user[k] / a->steps : NAN);
	ax_csv_rowf(csv, "%.6g,%ld,%.6g%s,%.4f,%.1f", (double)step / tr->spe, step,
		    ax_run_mean_loss(&tr->run), terms, acc,
		    a->seconds > 0 ? a->steps * s->batch / a->seconds : 0.0);
}

static void report_start(const struct ssl_trainer *tr)
{
	const struct ssl_settings *s = &tr->s;
	fprintf(stderr, "ssl-train: %s, D = %d, lambda = %g, %d views, R = %d, %zu parameters; "
		"%d training images, %ld steps of %d in %d group(s) per epoch\n",
		ssl_loss_names[s->loss.kind], s->cfg.proj_dim, s->loss.lambda, s->views,
		ssl_rep_dim(&s->cfg), ax_params_count(&tr->m.params), tr->train.n, tr->spe,
		s->batch, s->groups);
}

int ssl_cmd_pretrain(const struct ssl_opts *o)
{
	ax_dist_init();
	struct ssl_trainer tr;
	memset(&tr, 0, sizeof tr);
	struct ax_bundle ck;
	int resumed = trainer_start(&tr, o, &ck);
	const struct ssl_settings *s = &tr.s;
	if (s->groups % ax_dist_size())
		ax_usage_error("--groups %d is not a multiple of the %d ranks", s->groups,
			       ax_dist_size());
	load_data(&tr, o);
	struct ax_run_opts ro = o->common.run;
	if (ro.log_every == 0)
		ro.log_every = tr.spe;   /* a row per epoch */
	ax_run_init(&tr.run, &ro, (long)s->epochs * tr.spe, o->common.quiet);
	if (resumed) {
		enum ax_status st = ax_run_resume(&tr.run, &ck);
		ax_bundle_free(&ck);
		if (st)
			ax_die_status(AX_EXIT_USAGE, st, o->common.run.resume);
	}
	ax_dist_bcast_params(&tr.m.params);
	if (!o->common.quiet && ax_dist_root())
		report_start(&tr);
	struct ax_rng root;
	ax_rng_seed(&root, s->seed);
	tr.order = ax_rng_split(&root, 3), tr.augment = ax_rng_split(&root, 4);
	tr.perm = ax_xmalloc((size_t)tr.train.n * sizeof(int32_t));
	tr.perm_epoch = -1;
	int ng = s->batch / s->groups;
	tr.x = ax_xmalloc((size_t)s->views * ng * SSL_PIXELS * sizeof(float));
	tr.keys = ax_xmalloc((size_t)ng * sizeof(uint64_t));
	uint8_t *raw = ax_xmalloc((size_t)ng * SSL_PIXELS);
	ax_arena_init(&tr.arena, 0);
	ax_tape_init(&tr.tape, &tr.arena);
	struct ax_csv csv;
	char header[160];
	snprintf(header, sizeof header, "epoch,step,%s,probe_acc,images_per_s",
		 ssl_loss_header(s->loss.kind));
	ax_csv_begin(&csv, stdout, header);
	if (s->probe_every > 0 && tr.run.step == 0 && ax_dist_root())
		log_row(&tr, &csv);   /* epoch 0: the probe at initialisation */
	while (ax_run_next(&tr.run)) {
		double sums[1 + SSL_MAX_TERMS];
		double loss = train_step(&tr, raw, sums);
		for (int k = 0; k < ssl_loss_nterms(s->loss.kind); k++)
			tr.run.acc.user[k] += sums[1 + k];
		unsigned done = ax_run_step_done(&tr.run, loss);
		if ((done & AX_RUN_LOG) && ax_dist_root())
			log_row(&tr, &csv);
		if (done & AX_RUN_SAVE)
			save(&tr);
	}
	ax_dist_check_same(&tr.m.params);
	free(tr.perm), free(tr.x), free(tr.keys), free(raw);
	ax_tape_free(&tr.tape);
	ax_arena_free(&tr.arena);
	ssl_data_free(&tr.train), ssl_data_free(&tr.ptrain), ssl_data_free(&tr.test);
	ssl_model_free(&tr.m);
	return ax_run_finish(&tr.run);
}
