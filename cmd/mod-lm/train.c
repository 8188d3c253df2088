/* train.c — `mod-lm train`: the loop, on lib's training run (ax_run.h). */
#include "mod.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* Training FLOPs of one step: batch sequences of the full context, forward
 * and backward (2x forward). */
static double train_step_flops(const struct mod_config *c, int batch)
{
	return 3.0 * mod_forward_flops(c, c->ctx) * batch;
}

/* Everything the loop needs. */
struct mod_trainer {
	struct mod_model m;
	struct mod_train_state ts;
	struct ax_optim opt;
	struct ax_run run;
	struct mod_text train, val;
	struct ax_arena arena;           /* activations and the tape, reset per step */
	struct ax_tape tape;
	int32_t *in, *tg;                /* (B, S) inputs and targets */
};

static void save_or_die(const char *path, const struct mod_trainer *tr)
{
	struct ax_bundle b;
	ax_ckpt_begin(&b, MOD_KIND);
	mod_put_model(&b, &tr->m);
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_settings(&b, mod_train_settings, mod_n_train_settings, &tr->ts);
	ax_run_put(&tr->run, &b);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot save checkpoint");
}

/* A new model from the options: config checks, --flops, defaults that
 * depend on other settings. */
static void start_new(struct mod_opts *o, struct mod_trainer *tr)
{
	struct mod_config cfg = o->cfg;
	if (!cfg.hidden)
		cfg.hidden = 4 * cfg.dim;
	const char *why = mod_config_check(&cfg);
	if (why)
		ax_usage_error("%s", why);
	tr->ts = o->ts;
	struct mod_train_state *ts = &tr->ts;
	if (!(cfg.capacity < 1 && cfg.route == MOD_ROUTE_LEARNED))
		ts->aux_weight = 0;   /* no routers */
	double step_flops = train_step_flops(&cfg, ts->batch);
	if (ts->flops_budget > 0) {
		ts->total_steps = (long)floor(ts->flops_budget / step_flops);
		if (ts->total_steps < 1)
			ax_usage_error("--flops: %g is less than one step (%.3g FLOPs)",
				       ts->flops_budget, step_flops);
	}
	if (!ax_cli_seen(&o->cli, MOD_OPT_WARMUP))
		ts->warmup = ts->total_steps / 20;
	if (!ax_cli_seen(&o->cli, MOD_OPT_LR_MIN))
		ts->lr_min = ts->lr / 10;
	if ((why = mod_train_check(ts)))
		ax_usage_error("%s", why);
	mod_model_init(&tr->m, &cfg, ts->seed);
	ax_optim_init(&tr->opt, ts->optim, &tr->m.params);
	tr->opt.weight_decay = (float)ts->weight_decay;
	ax_run_init(&tr->run, &o->cli.common.run, ts->total_steps, o->cli.common.quiet);
}

/* Model, optimiser, training state and run position from --resume FILE;
 * every setting range-checked as its flag is. */
static void start_resumed(struct mod_opts *o, struct mod_trainer *tr)
{
	const char *path = o->cli.common.run.resume;
	ax_cli_refuse(&o->cli, AX_OPT_FIXED,
		      "conflicts with --resume (the checkpoint fixes the model and training settings)");
	struct ax_bundle ck;
	enum ax_status st = mod_load(path, &tr->m, &ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	const char *why = NULL;
	if (!(st = ax_ckpt_get_settings(&ck, mod_train_settings, mod_n_train_settings, &tr->ts)) &&
	    (why = mod_train_check(&tr->ts)))
		st = ax_error_set(AX_ERR_FORMAT, "%s", why);
	if (!st) {
		ax_run_init(&tr->run, &o->cli.common.run, tr->ts.total_steps, o->cli.common.quiet);
		st = ax_run_resume(&tr->run, &ck);
	}
	if (!st) {
		ax_optim_init(&tr->opt, tr->ts.optim, &tr->m.params);
		tr->opt.weight_decay = (float)tr->ts.weight_decay;
		st = ax_optim_from_bundle(&tr->opt, &ck, "");
	}
	ax_bundle_free(&ck);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, path);
}

/* One CSV row; the validation loss is evaluated on the trainer's (empty)
 * tape, reusing its arena. The run's sums: user[0] routing decisions,
 * user[1] router hits, user[2] predictor hits. */
static void log_row(struct ax_csv *csv, struct mod_trainer *tr, float lr)
{
	const struct mod_config *c = &tr->m.cfg;
	const struct mod_train_state *ts = &tr->ts;
	const struct ax_run_acc *a = &tr->run.acc;
	int has_router = c->capacity < 1 && c->route == MOD_ROUTE_LEARNED;
	if (!ax_dist_root())
		return;   /* rank 0 alone writes the CSV */
	double val_bpb = NAN;
	if (tr->val.n >= 2 && ts->val_tokens > 0)
		val_bpb = mod_eval_text(&tr->tape, &tr->m, &tr->val, (size_t)ts->val_tokens + 1,
					MOD_ROUTER_TOPK, ts->seed, NULL) / M_LN2;
	double racc = has_router && a->user[0] ? a->user[1] / a->user[0] : NAN;
	double pacc = has_router && c->predictor && a->user[0] ? a->user[2] / a->user[0] : NAN;
	double tokens = a->steps * ts->batch * c->ctx;
	ax_csv_rowf(csv, "%ld,%ld,%.6e,%.6g,%.6f,%.6f,%.5f,%.5f,%.1f", tr->run.step,
		    ts->tokens_done, ts->flops_done, lr, ax_run_mean_loss(&tr->run) / M_LN2, val_bpb,
		    racc, pacc, a->seconds > 0 ? tokens / a->seconds : 0.0);
}

/* One training step at tr->run.step; returns the global batch's
 * cross-entropy. Batch and random routing depend only on (seed, step): a
 * resumed run draws exactly what the uninterrupted one would have. Under
 * several ranks every rank draws the whole batch and computes its shard of
 * rows; the gradients and the step's sums are then reduced in one message
 * (ax_dist.h). Random routing draws per rank (a stream split by rank), so
 * such models match a one-rank run in distribution, not value by value. */
static double train_step(struct mod_trainer *tr, const struct ax_rng *base, float lr)
{
	const struct mod_train_state *ts = &tr->ts;
	int B = ts->batch, S = tr->m.cfg.ctx;
	long b0, nb;
	ax_dist_shard(B, &b0, &nb);
	uint64_t step = (uint64_t)tr->run.step;
	struct ax_rng data_rng = ax_rng_split(base, 2 * step);
	struct ax_rng route_rng = ax_rng_split(base, 2 * step + 1);
	if (ax_dist_rank() > 0)
		route_rng = ax_rng_split(&route_rng, (uint64_t)ax_dist_rank());
	for (int b = 0; b < B; b++) {
		size_t at = (size_t)(ax_rng_u64(&data_rng) % (tr->train.n - (size_t)S));
		if (b < b0 || b >= b0 + nb)
			continue;
		int32_t *in = tr->in + (b - b0) * S, *tg = tr->tg + (b - b0) * S;
		for (int s = 0; s < S; s++) {
			in[s] = tr->train.bytes[at + s];
			tg[s] = tr->train.bytes[at + s + 1];
		}
	}
	struct mod_forward_out fo;
	struct ax_tape *t = &tr->tape;
	mod_forward(t, &tr->m, tr->in, (int)nb, S, MOD_ROUTER_TOPK, &route_rng, 1, &fo);
	struct ax_tensor *ce = ax_cross_entropy(t, fo.logits, tr->tg, 0.0f, -1);
	struct ax_tensor *loss = ce;
	if (fo.aux_loss && ts->aux_weight > 0)
		loss = ax_add(t, loss, ax_scale(t, fo.aux_loss, (float)ts->aux_weight));
	if (fo.pred_loss)   /* the predictor's own parameters only (stop-gradient input) */
		loss = ax_add(t, loss, fo.pred_loss);
	float weight = (float)nb / (float)B;
	double sums[4] = { ce->data[0] * (double)weight, (double)fo.decisions,
			   (double)fo.router_hits, (double)fo.pred_hits };
	if (isfinite(ce->data[0]))
		ax_tape_backward(t, loss, 1.0f);
	ax_dist_allreduce_grads(&tr->m.params, weight, sums, ax_dist_size() > 1 ? 4 : 0);
	double ce_value = ax_dist_size() > 1 ? sums[0] : (double)ce->data[0];
	if (isfinite(ce_value)) {
		if (ts->clip > 0)
			ax_clip_grad_norm(&tr->m.params, (float)ts->clip);
		ax_optim_step(&tr->opt, lr);
	}
	ax_params_zero_grad(&tr->m.params);
	ax_tape_reset(t);
	tr->run.acc.user[0] += sums[1];
	tr->run.acc.user[1] += sums[2];
	tr->run.acc.user[2] += sums[3];
	return ce_value;
}

static void report_start(const struct mod_trainer *tr)
{
	const struct mod_config *c = &tr->m.cfg;
	int S = c->ctx;
	fprintf(stderr, "mod-lm: %zu parameters, %d routed of %d blocks, k = %d of %d, "
		"%.3g training FLOPs/step, %ld steps; %zu train / %zu held-out bytes\n",
		ax_params_count(&tr->m.params), c->capacity < 1 ? c->layers / c->route_every : 0,
		c->layers, c->capacity < 1 ? mod_capacity_k(c, S) : S, S,
		train_step_flops(c, tr->ts.batch), tr->ts.total_steps, tr->train.n, tr->val.n);
}

int mod_cmd_train(struct mod_opts *o)
{
	struct mod_trainer tr;
	memset(&tr, 0, sizeof tr);
	ax_dist_init();
	if (o->cli.common.run.resume)
		start_resumed(o, &tr);
	else
		start_new(o, &tr);
	if (tr.ts.batch < ax_dist_size())
		ax_usage_error("--batch %d is less than the %d ranks", tr.ts.batch, ax_dist_size());
	ax_dist_bcast_params(&tr.m.params);   /* every rank starts from rank 0's values */
	const struct mod_config *c = &tr.m.cfg;
	enum ax_status st = mod_text_load(o->cli.files, o->cli.nfiles, tr.ts.val_frac, &tr.train,
					  &tr.val);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot read the text");
	if (tr.train.n < (size_t)c->ctx + 1)
		ax_die(AX_EXIT_USAGE, "training text too short: %zu bytes, need at least --ctx + 1 = %d",
		       tr.train.n, c->ctx + 1);
	if (!o->cli.common.quiet && ax_dist_root())
		report_start(&tr);
	ax_arena_init(&tr.arena, 0);
	ax_tape_init(&tr.tape, &tr.arena);
	size_t BS = (size_t)tr.ts.batch * (size_t)c->ctx;
	tr.in = ax_xmalloc_for(BS * sizeof *tr.in, "a batch (--batch x --ctx)");
	tr.tg = ax_xmalloc_for(BS * sizeof *tr.tg, "a batch (--batch x --ctx)");
	struct ax_rng base;
	ax_rng_seed(&base, tr.ts.seed ^ 0x6d6f642d6c6dULL);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,tokens,flops,lr,train_bpb,val_bpb,router_acc,predictor_acc,tokens_per_s");
	double step_flops = train_step_flops(c, tr.ts.batch);
	const char *ckpt = o->cli.common.run.checkpoint;
	while (ax_run_next(&tr.run)) {
		struct mod_train_state *ts = &tr.ts;
		float lr = ax_sched_cosine(tr.run.step, ts->warmup, ts->total_steps, (float)ts->lr,
					   (float)ts->lr_min);
		double ce = train_step(&tr, &base, lr);
		ts->flops_done += step_flops;
		ts->tokens_done += (long)BS;
		unsigned d = ax_run_step_done(&tr.run, ce);
		if (d & AX_RUN_LOG)
			log_row(&csv, &tr, lr);
		if (d & AX_RUN_SAVE)
			save_or_die(ckpt, &tr);
	}
	ax_dist_check_same(&tr.m.params);
	free(tr.in);
	free(tr.tg);
	ax_tape_free(&tr.tape);
	ax_arena_free(&tr.arena);
	mod_text_free(&tr.train);
	mod_text_free(&tr.val);
	mod_model_free(&tr.m);
	return ax_run_finish(&tr.run);
}
