/* train.c — behaviour cloning from the scripted expert, on lib's training
 * run. Each step draws fresh expert episodes (with --noise, a random action
 * is taken instead of the expert's now and then, while the label stays the
 * expert's, so the data cover recovering from mistakes) and minimises the
 * cross-entropy of the expert's actions at every step of every episode. */
#include "ap.h"

#include <string.h>

#define AP_KIND "agent-probe"

int ap_expert_batch(struct ax_rng *r, int n, float noise, float *obs, int32_t *act)
{
	int longest = 0;
	memset(obs, 0, (size_t)n * AP_TMAX * AP_OBS * sizeof(float));
	for (int i = 0; i < n; i++) {
		struct ap_env e;
		ap_env_reset(&e, r, 0);
		int t = 0;
		for (; !e.done; t++) {
			ap_env_observe(&e, 0, obs + ((size_t)i * AP_TMAX + t) * AP_OBS);
			int a = ap_env_expert(&e);
			act[i * AP_TMAX + t] = a;
			if (noise > 0 && ax_rng_uniform(r) < noise)
				a = (int)ax_rng_below(r, AP_NACT);
			ap_env_step(&e, a);
		}
		for (int s = t; s < AP_TMAX; s++)
			act[i * AP_TMAX + s] = -1;
		longest = AX_MAX(longest, t);
	}
	return longest;
}

void ap_model_save_bundle(const struct ap_model *m, struct ax_bundle *b)
{
	ax_ckpt_begin(b, AP_KIND);
	ax_params_to_bundle(&m->params, b, "");
	ax_ckpt_put_settings(b, ap_settings, ap_nsettings, &m->cfg);
}

enum ax_status ap_model_load(struct ap_model *m, const char *path)
{
	struct ax_bundle b;
	struct ap_config cfg;
	ap_config_default(&cfg);
	enum ax_status st = ax_ckpt_open(path, AP_KIND, &b);
	if (st)
		return st;
	if ((st = ax_ckpt_get_settings(&b, ap_settings, ap_nsettings, &cfg))) {
		ax_bundle_free(&b);
		return ax_error_set(st, "%s: %s", path, ax_error_detail());
	}
	if (cfg.dim % cfg.heads) {
		ax_bundle_free(&b);
		return ax_error_set(AX_ERR_FORMAT, "%s: dim %d is not a multiple of heads %d",
				    path, cfg.dim, cfg.heads);
	}
	ap_model_init(m, &cfg, 0);
	if ((st = ax_params_from_bundle(&m->params, &b, ""))) {
		st = ax_error_set(st, "%s: %s", path, ax_error_detail());
		ap_model_free(m);
	}
	ax_bundle_free(&b);
	return st;
}

struct ap_trainer {
	struct ap_model *m;
	struct ax_optim opt;
	struct ax_rng data;
	float *obs, *obs_c;
	int32_t *act, *act_c;
	struct ax_arena arena;
	struct ax_tape tape;
};

/* Rows [b0, b0 + nb) of the (B, AP_TMAX) batch as (nb, T); returns the
 * number of labelled steps of the whole batch. */
static double ap_take_shard(struct ap_trainer *tr, int B, int T, long b0, long nb)
{
	for (long i = 0; i < nb; i++) {
		memcpy(tr->obs_c + (size_t)i * T * AP_OBS,
		       tr->obs + (size_t)(b0 + i) * AP_TMAX * AP_OBS, (size_t)T * AP_OBS * sizeof(float));
		memcpy(tr->act_c + i * T, tr->act + (b0 + i) * AP_TMAX, T * sizeof(int32_t));
	}
	double labelled = 0;
	for (int k = 0; k < B * AP_TMAX; k++)
		labelled += tr->act[k] >= 0;
	return labelled;
}

/* One step; returns the global batch's loss and adds correct predictions
 * and counted steps to hits[0], hits[1]. Every rank draws the whole batch
 * of episodes (one stream) and computes its shard of them; the loss is a
 * mean over labelled steps, so each rank's gradient is weighted by its
 * share of them before the sum (ax_dist.h); clipping follows the sum. */
static double ap_train_step(struct ap_trainer *tr, double *hits)
{
	const struct ap_config *c = &tr->m->cfg;
	int B = c->batch, T = ap_expert_batch(&tr->data, B, c->noise, tr->obs, tr->act);
	long b0, nb;
	ax_dist_shard(B, &b0, &nb);
	double labelled = ap_take_shard(tr, B, T, b0, nb);
	struct ax_tensor *logits = ap_model_forward(&tr->tape, tr->m, (int)nb, T, tr->obs_c, NULL);
	struct ax_tensor *loss = ax_cross_entropy(&tr->tape, logits, tr->act_c, 0, -1);
	double sums[3] = { loss->data[0], 0, 0 };   /* loss, hits, labelled steps */
	for (int k = 0; k < nb * T; k++) {
		if (tr->act_c[k] < 0)
			continue;
		const float *l = logits->data + (size_t)k * AP_NACT;
		int best = 0;
		for (int a = 1; a < AP_NACT; a++)
			best = l[a] > l[best] ? a : best;
		sums[1] += best == tr->act_c[k];
		sums[2] += 1;
	}
	ax_tape_backward(&tr->tape, loss, 1.0f);
	if (ax_dist_size() > 1) {
		float weight = (float)(sums[2] / labelled);
		sums[0] *= weight;
		ax_dist_allreduce_grads(&tr->m->params, weight, sums, 3);
	}
	hits[0] += sums[1];
	hits[1] += sums[2];
	ax_clip_grad_norm(&tr->m->params, 1.0f);
	ax_optim_step(&tr->opt, c->lr);
	ax_params_zero_grad(&tr->m->params);
	ax_tape_reset(&tr->tape);
	return sums[0];
}

static void ap_train_save(const struct ap_trainer *tr, const struct ax_run *run,
			  const char *path)
{
	struct ax_bundle b;
	ap_model_save_bundle(tr->m, &b);
	ax_optim_to_bundle(&tr->opt, &b, "");
	ax_ckpt_put_rng(&b, "rng.data", &tr->data);
	ax_run_put(run, &b);
	enum ax_status st = ax_bundle_save(path, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, NULL);
}

int ap_train(struct ap_model *m, const struct ap_train_opts *o, const struct ax_bundle *resume)
{
	struct ap_trainer tr = { .m = m };
	const struct ap_config *c = &m->cfg;
	size_t S = (size_t)c->batch * AP_TMAX;
	tr.obs = ax_xmalloc(S * AP_OBS * sizeof(float));
	tr.obs_c = ax_xmalloc(S * AP_OBS * sizeof(float));
	tr.act = ax_xmalloc(S * sizeof(int32_t));
	tr.act_c = ax_xmalloc(S * sizeof(int32_t));
	ax_arena_init(&tr.arena, 0);
	ax_tape_init(&tr.tape, &tr.arena);
	ax_optim_init(&tr.opt, AX_OPTIM_ADAM, &m->params);
	struct ax_rng root;
	ax_rng_seed(&root, c->seed);
	tr.data = ax_rng_split(&root, 2);
	struct ax_run run;
	ax_run_init(&run, o->run, c->steps, o->quiet);
	if (resume) {
		enum ax_status st;
		if ((st = ax_optim_from_bundle(&tr.opt, resume, "")) ||
		    (st = ax_ckpt_get_rng(resume, "rng.data", &tr.data)) ||
		    (st = ax_run_resume(&run, resume)))
			ax_die_status(AX_EXIT_USAGE, st, o->run->resume);
	}
	ax_dist_bcast_params(&m->params);   /* every rank starts from rank 0's values */
	struct ax_csv csv;
	if (run.step == 0)
		ax_csv_begin(&csv, stdout, "step,loss,accuracy,success,seconds");
	else
		csv = (struct ax_csv){ .f = stdout, .ncols = 5 };
	while (ax_run_next(&run)) {
		double loss = ap_train_step(&tr, run.acc.user);
		unsigned d = ax_run_step_done(&run, loss);
		if ((d & AX_RUN_LOG) && ax_dist_root()) {   /* rank 0 alone evaluates and writes */
			struct ap_episodes ep;
			ap_rollout(m, c->seed + 7777, c->eval_episodes, 0, 0, NULL, &ep);
			double row[5] = { (double)run.step, ax_run_mean_loss(&run),
					  run.acc.user[0] / AX_MAX(run.acc.user[1], 1),
					  ap_success_rate(&ep), run.acc.seconds };
			ap_episodes_free(&ep);
			ax_csv_row(&csv, row);
		}
		if ((d & AX_RUN_SAVE) && o->run->checkpoint)
			ap_train_save(&tr, &run, o->run->checkpoint);
	}
	ax_dist_check_same(&m->params);
	free(tr.obs), free(tr.obs_c), free(tr.act), free(tr.act_c);
	ax_tape_free(&tr.tape);
	ax_arena_free(&tr.arena);
	return ax_run_finish(&run);
}
