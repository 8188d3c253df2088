/* train.c — `mtm-train train`: the loop, on lib's training run (ax_run.h). */
#include "mtm.h"

#include <math.h>
#include <string.h>

struct mtm_trainer {
	struct mtm_train_cfg cfg;
	struct mtm_model m;
	struct ax_optim opt;
	struct ax_rng data_rng, drop_rng;
	struct ax_run run;
	struct mtm_session *sess;
	int nsess;
	struct ax_arena arena;          /* per step */
	struct ax_tape tape;
	int32_t *order;                 /* training trials, the step's batch first */
};

static void save_checkpoint(const struct mtm_trainer *tr, const char *path)
{
	struct ax_bundle b;
	ax_ckpt_begin(&b, "mtm-train");
	ax_params_to_bundle(&tr->m.params, &b, "");
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_rng(&b, "rng.data", &tr->data_rng);
	ax_ckpt_put_rng(&b, "rng.dropout", &tr->drop_rng);
	mtm_put_config(&b, &tr->m.cfg);
	ax_ckpt_put_settings(&b, mtm_train_settings, mtm_n_train_settings, &tr->cfg);
	ax_run_put(&tr->run, &b);
	size_t len = 1;
	for (int i = 0; i < tr->nsess; i++)
		len += strlen(tr->sess[i].name) + 1;
	char *names = ax_xcalloc(len, 1);
	for (int i = 0; i < tr->nsess; i++) {
		if (i)
			strcat(names, ",");
		strcat(names, tr->sess[i].name);
	}
	ax_bundle_set_meta(&b, "mtm.sessions", names);
	free(names);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "checkpoint");
}

/* The model config: the options' for a new run, the checkpoint's with
 * --resume (and its training settings) or --init (its core). ck is left
 * open (empty when neither). */
static void model_config(struct mtm_opts *o, struct mtm_trainer *tr, struct ax_bundle *ck,
			 struct mtm_config *cfg)
{
	const char *from = o->cli.common.run.resume ? o->cli.common.run.resume : o->init;
	int n = tr->nsess;
	enum ax_status st;
	ax_bundle_init(ck);
	if (!from) {
		*cfg = o->model;
		if (!cfg->hidden)
			cfg->hidden = 2 * cfg->D;
		cfg->T = tr->sess[0].T;
		if (mtm_config_check(cfg))
			ax_usage_error("--dim %d is not divisible by --heads %d", cfg->D, cfg->heads);
		return;
	}
	if ((st = mtm_checkpoint_open(from, ck, cfg)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	if (o->cli.common.run.resume) {
		if ((st = mtm_sessions_fit(cfg, tr->sess, n, from)))
			ax_die_status(AX_EXIT_USAGE, st, NULL);
		if (n != cfg->nsessions)
			ax_die(AX_EXIT_USAGE, "%s was trained on %d sessions, %d given", from,
			       cfg->nsessions, n);
		if ((st = mtm_get_train_settings(ck, &tr->cfg)))
			ax_die_status(AX_EXIT_USAGE, st, from);
		return;
	}
	if (tr->sess[0].T != cfg->T)
		ax_die(AX_EXIT_USAGE, "%s: %d bins per trial, but %s was trained on %d",
		       tr->sess[0].path, tr->sess[0].T, from, cfg->T);
	free(cfg->neurons);
	cfg->neurons = NULL;
}

/* Model, optimiser, RNG streams and run position. */
static void start(struct mtm_opts *o, struct mtm_trainer *tr)
{
	const char *resume = o->cli.common.run.resume;
	if (resume)
		ax_cli_refuse(&o->cli, AX_OPT_FIXED, "conflicts with --resume (the checkpoint fixes "
			      "the model and training settings)");
	tr->cfg = o->train;
	struct ax_bundle ck;
	struct mtm_config cfg;
	model_config(o, tr, &ck, &cfg);
	if (!cfg.neurons) {
		cfg.nsessions = tr->nsess;
		cfg.neurons = ax_xmalloc((size_t)tr->nsess * sizeof(int));
		for (int i = 0; i < tr->nsess; i++)
			cfg.neurons[i] = tr->sess[i].N;
	}
	uint64_t seed = tr->cfg.seed;
	mtm_model_init(&tr->m, &cfg, seed);
	free(cfg.neurons);
	/* Read-out biases start at log mean counts: the null model from step 0. */
	for (int s = 0; s < tr->nsess; s++)
		for (int n = 0; n < tr->sess[s].N; n++)
			tr->m.readout[s].b->data[n] = logf(tr->sess[s].mean_count[n] + 1e-3f);
	ax_optim_init(&tr->opt, AX_OPTIM_ADAMW, &tr->m.params);
	tr->opt.weight_decay = (float)tr->cfg.weight_decay;
	struct ax_rng root;
	ax_rng_seed(&root, seed);
	tr->data_rng = ax_rng_split(&root, 2);
	tr->drop_rng = ax_rng_split(&root, 3);
	ax_run_init(&tr->run, &o->cli.common.run, tr->cfg.steps, o->cli.common.quiet);
	enum ax_status st = AX_OK;
	if (resume) {
		if ((st = ax_params_from_bundle(&tr->m.params, &ck, "")) ||
		    (st = ax_optim_from_bundle(&tr->opt, &ck, "")) ||
		    (st = ax_ckpt_get_rng(&ck, "rng.data", &tr->data_rng)) ||
		    (st = ax_ckpt_get_rng(&ck, "rng.dropout", &tr->drop_rng)))
			ax_die(AX_EXIT_USAGE, "%s: %s", resume, ax_error_detail());
		if ((st = ax_run_resume(&tr->run, &ck)))
			ax_die_status(AX_EXIT_USAGE, st, resume);
	} else if (o->init) {
		/* Shared core from the checkpoint; stitchers, session embeddings
		 * and read-outs stay new. */
		if (ax_params_from_bundle_except(&tr->m.params, &ck, "", mtm_param_is_session))
			ax_die(AX_EXIT_USAGE, "%s: %s", o->init, ax_error_detail());
	}
	ax_bundle_free(&ck);
}

/* The step's masking scheme: the --mask one, or for MtM one of its four
 * tasks, causal with probability --causal-share and the others equally. */
static enum mtm_scheme draw_scheme(struct mtm_trainer *tr)
{
	static const enum mtm_scheme tasks[4] = { MTM_NEURON, MTM_CAUSAL, MTM_INTRA, MTM_INTER };
	static const enum mtm_scheme others[3] = { MTM_NEURON, MTM_INTRA, MTM_INTER };
	if (tr->cfg.mask != MTM_MASK_MTM)
		return (enum mtm_scheme)tr->cfg.mask;
	if (tr->cfg.causal_share == 0.25)   /* uniform: one draw, as before the option */
		return tasks[ax_rng_below(&tr->data_rng, 4)];
	if (ax_rng_uniform(&tr->data_rng) < tr->cfg.causal_share)
		return MTM_CAUSAL;
	return others[ax_rng_below(&tr->data_rng, 3)];
}

/* One step: a session, a scheme, a batch of its training trials masked;
 * returns the global batch's loss. *s and *scheme say what it was. Under
 * several ranks every rank draws the whole batch and its masks (the same
 * streams) and computes its shard of trials; the loss is a mean over the
 * masked entries, so each rank's gradient is weighted by its share of them
 * before the sum (ax_dist.h). Dropout draws per rank. */
static double train_step(struct mtm_trainer *tr, int *s_out, enum mtm_scheme *scheme_out)
{
	int s = (int)ax_rng_below(&tr->data_rng, (uint32_t)tr->nsess);
	const struct mtm_session *se = &tr->sess[s];
	enum mtm_scheme scheme = draw_scheme(tr);
	int T = tr->m.cfg.T, N = se->N, Bs = AX_MIN(tr->cfg.batch, se->ntrain);
	size_t TN = (size_t)T * N;
	long b0, nb;
	ax_dist_shard(Bs, &b0, &nb);
	memcpy(tr->order, se->train, (size_t)se->ntrain * sizeof *tr->order);
	ax_rng_shuffle_head(&tr->data_rng, tr->order, se->ntrain, Bs);
	int shape[3] = { (int)nb, T, N };
	struct ax_tensor *x = ax_tensor_new(&tr->arena, 3, shape);
	struct ax_tensor *y = ax_tensor_new(&tr->arena, 3, shape);
	struct ax_tensor *w = ax_tensor_new(&tr->arena, 3, shape);
	float *keep = NULL, *target = NULL;   /* other ranks' trials: drawn, not kept */
	if (nb < Bs) {
		keep = ax_arena_alloc(&tr->arena, TN * sizeof *keep);
		target = ax_arena_alloc(&tr->arena, TN * sizeof *target);
	}
	/* Per trial: the mask drawn straight into x (keep) and w (target),
	 * then x = counts * keep. */
	double w_all = 0, w_mine = 0;
	for (int b = 0; b < Bs; b++) {
		int mine = b >= b0 && b < b0 + nb;
		float *xb = mine ? x->data + (size_t)(b - b0) * TN : keep;
		float *wb = mine ? w->data + (size_t)(b - b0) * TN : target;
		if (scheme == MTM_CAUSAL && tr->cfg.forward_window > 0)
			mtm_mask_forward(T, N, AX_MIN(tr->cfg.forward_window, T - 1), xb, wb);
		else
			mtm_mask_draw(scheme, &tr->data_rng, T, N, se->region, se->nregions, xb, wb);
		if (ax_dist_size() > 1) {
			double sum = 0;
			for (size_t i = 0; i < TN; i++)
				sum += wb[i];
			w_all += sum;
			w_mine += mine ? sum : 0;
		}
		if (!mine)
			continue;
		const float *c = se->counts + (size_t)tr->order[b] * TN;
		memcpy(y->data + (size_t)(b - b0) * TN, c, TN * sizeof *c);
		for (size_t i = 0; i < TN; i++)
			xb[i] *= c[i];
	}
	struct ax_tensor *lr_out = mtm_forward(&tr->tape, &tr->m, s, x, scheme, &tr->drop_rng, NULL);
	struct ax_tensor *loss = ax_poisson_nll(&tr->tape, lr_out, y, w);
	double lval = loss->data[0];
	ax_params_zero_grad(&tr->m.params);
	if (isfinite(lval))
		ax_tape_backward(&tr->tape, loss, 1.0f);
	if (ax_dist_size() > 1) {
		float weight = w_all > 0 ? (float)(w_mine / w_all) : 0.0f;
		double sum = lval * weight;
		ax_dist_allreduce_grads(&tr->m.params, weight, &sum, 1);
		lval = sum;
	}
	if (isfinite(lval))
		ax_clip_grad_norm(&tr->m.params, 1.0f);
	*s_out = s;
	*scheme_out = scheme;
	return lval;
}

int mtm_cmd_train(struct mtm_opts *o)
{
	struct mtm_trainer tr;
	memset(&tr, 0, sizeof tr);
	ax_dist_init();
	tr.nsess = o->cli.nfiles;
	enum ax_status st = mtm_sessions_load(o->cli.files, tr.nsess, &tr.sess);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	start(o, &tr);
	int maxTrain = 0;
	for (int s = 0; s < tr.nsess; s++) {
		maxTrain = AX_MAX(maxTrain, tr.sess[s].ntrain);
		if (AX_MIN(tr.cfg.batch, tr.sess[s].ntrain) < ax_dist_size())
			ax_usage_error("%s: a batch of %d trials is less than the %d ranks",
				       tr.sess[s].path, AX_MIN(tr.cfg.batch, tr.sess[s].ntrain),
				       ax_dist_size());
	}
	ax_dist_bcast_params(&tr.m.params);   /* every rank starts from rank 0's values */
	if (ax_dist_rank() > 0)   /* dropout: a stream of each rank's own */
		tr.drop_rng = ax_rng_split(&tr.drop_rng, (uint64_t)ax_dist_rank());
	tr.order = ax_xmalloc((size_t)maxTrain * sizeof *tr.order);
	ax_arena_init(&tr.arena, 0);
	ax_tape_init(&tr.tape, &tr.arena);
	tr.tape.training = 1;
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,session,mask,loss,lr");
	while (ax_run_next(&tr.run)) {
		int s;
		enum mtm_scheme scheme;
		double loss = train_step(&tr, &s, &scheme);
		float lr = ax_sched_onecycle(tr.run.step, tr.cfg.steps, (float)tr.cfg.warmup,
					     (float)tr.cfg.lr, 25.0f, 1e4f);
		if (isfinite(loss))
			ax_optim_step(&tr.opt, lr);
		ax_tape_reset(&tr.tape);
		unsigned d = ax_run_step_done(&tr.run, loss);
		if (d & AX_RUN_LOG)
			ax_csv_rowf(&csv, "%ld,%s,%s,%.6f,%.6g", tr.run.step, tr.sess[s].name,
				    mtm_scheme_names[scheme], ax_run_mean_loss(&tr.run), lr);
		if (d & AX_RUN_SAVE)
			save_checkpoint(&tr, o->cli.common.run.checkpoint);
	}
	ax_dist_check_same(&tr.m.params);
	free(tr.order);
	ax_tape_free(&tr.tape);
	ax_arena_free(&tr.arena);
	mtm_model_free(&tr.m);
	mtm_sessions_free(tr.sess, tr.nsess);
	return ax_run_finish(&tr.run);
}
