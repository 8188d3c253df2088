/* train.c — meta-training: roll out a meta-batch of meta-trajectories,
 * compute the estimator's advantages with batch lambda returns, update each
 * meta agent with PPO, print one CSV row per iteration.
 *
 * Determinism: iteration k draws everything (co-player assignment, naive
 * initialisation, environment, actions, minibatch order) from streams split
 * off (seed, k), so a checkpoint needs only the weights, the optimiser state
 * and k for a resumed run to continue bit-exactly. */
#include "ipd_learn.h"

#include "ax_checkpoint.h"
#include "ax_run.h"

#include <math.h>
#include <string.h>

struct agent {
	struct ipd_meta_net net;
	struct ax_optim opt;
};

/* One iteration's sequences of one meta agent: R = nblocks * B rows, each a
 * lane of one (meta-trajectory, seat) block, L steps long. */
struct agent_batch {
	int R, nblocks;
	int *block_e, *block_seat;
	float *obs;                      /* (R, L, O) */
	int32_t *act;                    /* (R, L) */
	float *logp, *val, *rew, *adv, *tgt;   /* (R, L) */
	float *h;                        /* (R, W) recurrent state while acting */
};

struct trainer {
	const struct ipd_train_cfg *c;
	int E, B, M, T, L, O, Oenv, A, N, W, n;
	struct ax_arena long_arena, iter_arena, step_arena;
	struct ax_tape tape;
	struct agent *agents;
	struct agent_batch *batch;       /* (N), in iter_arena */
	struct ipd_env env;
	struct ax_rng base;
	long iter;                       /* iterations completed */
	struct ipd_env_counts window[2]; /* sums since the last CSV row */
	int (*seat_agent)[2];            /* (E): agent index or -1 = naive */
	int *lane_group;                 /* (n): 0 meta vs naive, 1 meta vs meta */
	struct ipd_naive_cfg naive_cfg;      /* c->naive with the environment's sizes */
	struct ipd_naive *naive;             /* (E, 2): by meta-trajectory and seat */
	float *naive_storage;
	float *naive_obs, *naive_rew;    /* (2, n, T, Oenv), (2, n, T) current episode */
	int *naive_act;                  /* (2, n, T) */
	float *naive_scratch;
	/* per step */
	float *obs_seat[2];              /* (n, Oenv) */
	int *act_seat[2];
	float *rew_seat[2];
	/* behaviour per inner episode: [seat][m][k] sums and counts */
	double *beh_sum, *beh_cnt;
	int beh_k;
};

/* ---- set-up ---- */

static void trainer_init(struct trainer *tr, const struct ipd_train_cfg *c)
{
	memset(tr, 0, sizeof *tr);
	tr->c = c;
	tr->E = c->meta_batch;
	tr->B = c->lanes;
	tr->M = c->episodes;
	tr->T = c->steps;
	tr->L = c->episodes * c->steps;
	tr->N = c->meta_agents;
	tr->W = c->width;
	tr->n = tr->E * tr->B;
	ipd_env_init(&tr->env, c->env, tr->n, c->payoff);
	tr->Oenv = tr->env.obs_dim;
	tr->O = tr->Oenv + 1;            /* + first-step-of-inner-episode flag */
	tr->A = tr->env.n_actions;
	ax_arena_init(&tr->long_arena, 0);
	ax_arena_init(&tr->iter_arena, 0);
	ax_arena_init(&tr->step_arena, 0);
	ax_tape_init(&tr->tape, &tr->step_arena);
	ax_rng_seed(&tr->base, c->seed);

	struct ax_rng init_rng = ax_rng_split(&tr->base, 0xA6E27);
	tr->agents = ax_xcalloc((size_t)tr->N, sizeof *tr->agents);
	for (int i = 0; i < tr->N; i++) {
		char prefix[32];
		snprintf(prefix, sizeof prefix, "agent%d.", i);
		struct agent *ag = &tr->agents[i];
		ipd_meta_init(&ag->net, &tr->long_arena, &init_rng, prefix, tr->O, tr->W, tr->A,
			      c->defect_bias);
		ax_optim_init(&ag->opt, AX_OPTIM_ADAM, &ag->net.params);
		ag->opt.eps = c->adam_eps;
	}

	struct ipd_naive_cfg *nc = &tr->naive_cfg;
	*nc = c->naive;
	nc->obs_dim = tr->Oenv;
	nc->n_actions = tr->A;
	int P = ipd_naive_nparam(nc);
	tr->naive = ax_xcalloc((size_t)tr->E * 2, sizeof *tr->naive);
	tr->naive_storage = ax_xcalloc((size_t)tr->E * 2 * 4 * P, sizeof(float));
	tr->naive_obs = ax_xcalloc((size_t)2 * tr->n * tr->T * tr->Oenv, sizeof(float));
	tr->naive_rew = ax_xcalloc((size_t)2 * tr->n * tr->T, sizeof(float));
	tr->naive_act = ax_xcalloc((size_t)2 * tr->n * tr->T, sizeof(int));
	tr->naive_scratch = ax_xcalloc(ipd_naive_scratch_floats(nc, tr->B, tr->T), sizeof(float));
	tr->seat_agent = ax_xcalloc((size_t)tr->E, sizeof *tr->seat_agent);
	tr->lane_group = ax_xcalloc((size_t)tr->n, sizeof *tr->lane_group);
	for (int s = 0; s < 2; s++) {
		tr->obs_seat[s] = ax_xcalloc((size_t)tr->n * tr->Oenv, sizeof(float));
		tr->act_seat[s] = ax_xcalloc((size_t)tr->n, sizeof(int));
		tr->rew_seat[s] = ax_xcalloc((size_t)tr->n, sizeof(float));
	}
	tr->beh_k = c->env == IPD_ENV_IPD ? IPD_OBS : IPD_CL_ACTIONS;
	tr->beh_sum = ax_xcalloc((size_t)2 * tr->M * tr->beh_k, sizeof(double));
	tr->beh_cnt = ax_xcalloc((size_t)2 * tr->M * tr->beh_k, sizeof(double));
}

static void trainer_free(struct trainer *tr)
{
	for (int i = 0; i < tr->N; i++)
		ax_params_free(&tr->agents[i].net.params);
	free(tr->agents);
	ipd_env_free(&tr->env);
	free(tr->naive);
	free(tr->naive_storage);
	free(tr->naive_obs);
	free(tr->naive_rew);
	free(tr->naive_act);
	free(tr->naive_scratch);
	free(tr->seat_agent);
	free(tr->lane_group);
	for (int s = 0; s < 2; s++) {
		free(tr->obs_seat[s]);
		free(tr->act_seat[s]);
		free(tr->rew_seat[s]);
	}
	free(tr->beh_sum);
	free(tr->beh_cnt);
	ax_tape_free(&tr->tape);
	ax_arena_free(&tr->step_arena);
	ax_arena_free(&tr->iter_arena);
	ax_arena_free(&tr->long_arena);
}

/* Draw the co-players and lay out each agent's rows for this iteration. */
static void assign_seats(struct trainer *tr, struct ax_rng *r)
{
	int E = tr->E, B = tr->B, L = tr->L, O = tr->O;
	struct ax_arena *a = &tr->iter_arena;
	for (int e = 0; e < E; e++) {
		tr->seat_agent[e][0] = tr->c->naive_vs_naive || tr->c->fixed ? -1 : e % tr->N;
		int naive = ax_rng_uniform_double(r) < tr->c->p_naive;
		tr->seat_agent[e][1] = naive ? -1 : (int)ax_rng_below(r, (uint32_t)tr->N);
		for (int b = 0; b < B; b++)
			tr->lane_group[e * B + b] = !naive;
	}
	tr->batch = ax_arena_zalloc(a, (size_t)tr->N * sizeof *tr->batch);
	for (int e = 0; e < E; e++)
		for (int s = 0; s < 2; s++)
			if (tr->seat_agent[e][s] >= 0)
				tr->batch[tr->seat_agent[e][s]].nblocks++;
	for (int i = 0; i < tr->N; i++) {
		struct agent_batch *ab = &tr->batch[i];
		size_t R = (size_t)ab->nblocks * B, RL = R * L;
		ab->R = (int)R;
		ab->block_e = ax_arena_alloc(a, (size_t)ab->nblocks * sizeof(int));
		ab->block_seat = ax_arena_alloc(a, (size_t)ab->nblocks * sizeof(int));
		ab->obs = ax_arena_alloc(a, RL * O * sizeof(float));
		ab->act = ax_arena_alloc(a, RL * sizeof(int32_t));
		ab->logp = ax_arena_alloc(a, RL * sizeof(float));
		ab->val = ax_arena_alloc(a, RL * sizeof(float));
		ab->rew = ax_arena_alloc(a, RL * sizeof(float));
		ab->adv = ax_arena_alloc(a, RL * sizeof(float));
		ab->tgt = ax_arena_alloc(a, RL * sizeof(float));
		ab->h = ax_arena_zalloc(a, R * tr->W * sizeof(float));
		ab->nblocks = 0;
	}
	for (int e = 0; e < E; e++)
		for (int s = 0; s < 2; s++) {
			int i = tr->seat_agent[e][s];
			if (i < 0)
				continue;
			struct agent_batch *ab = &tr->batch[i];
			ab->block_e[ab->nblocks] = e;
			ab->block_seat[ab->nblocks] = s;
			ab->nblocks++;
		}
}

static void record_behaviour(struct trainer *tr, int seat, int m, int lane, const float *probs)
{
	double *sum = tr->beh_sum + ((size_t)seat * tr->M + m) * tr->beh_k;
	double *cnt = tr->beh_cnt + ((size_t)seat * tr->M + m) * tr->beh_k;
	if (tr->c->env == IPD_ENV_IPD) {
		const float *o = tr->obs_seat[seat] + (size_t)lane * tr->Oenv;
		int s = 0;
		while (s < IPD_OBS - 1 && o[s] == 0.0f)
			s++;
		sum[s] += probs[0];
		cnt[s] += 1;
	} else {
		for (int k = 0; k < IPD_CL_ACTIONS; k++) {
			sum[k] += probs[k];
			cnt[k] += 1;
		}
	}
}

// A policy to draw from: every probability a number (weights that went
// non-finite make them NaN).
static int probs_finite(const float *p, int n)
{
	for (int i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

/* One step of every meta agent on its rows, in no-grad mode: step l of the
 * meta-trajectory, t within the inner episode m. Returns 0, or -1 if a
 * policy is not finite. */
static int meta_act(struct trainer *tr, int m, int t, struct ax_rng *r)
{
	int B = tr->B, L = tr->L, O = tr->O, Oenv = tr->Oenv, W = tr->W, A = tr->A;
	int l = m * tr->T + t;
	for (int i = 0; i < tr->N; i++) {
		struct agent_batch *ab = &tr->batch[i];
		if (!ab->R)
			continue;
		ax_tape_reset(&tr->tape);
		ax_no_grad_begin(&tr->tape);
		struct ax_tensor *x = ax_tensor_3d(&tr->step_arena, ab->R, 1, O);
		for (int k = 0; k < ab->nblocks; k++) {
			int e = ab->block_e[k], seat = ab->block_seat[k];
			for (int b = 0; b < B; b++) {
				int row = k * B + b, lane = e * B + b;
				float *xo = x->data + (size_t)row * O;
				memcpy(xo, tr->obs_seat[seat] + (size_t)lane * Oenv, Oenv * sizeof(float));
				xo[Oenv] = t == 0;
				memcpy(ab->obs + ((size_t)row * L + l) * O, xo, O * sizeof(float));
			}
		}
		struct ax_tensor *h0 = ax_tensor_wrap(&tr->step_arena, ab->h, 2, (int[]){ ab->R, W });
		struct ipd_meta_out out = ipd_meta_forward(&tr->tape, &tr->agents[i].net, x, h0);
		memcpy(ab->h, out.h->data, (size_t)ab->R * W * sizeof(float));
		for (int k = 0; k < ab->nblocks; k++) {
			int e = ab->block_e[k], seat = ab->block_seat[k];
			for (int b = 0; b < B; b++) {
				int row = k * B + b, lane = e * B + b;
				const float *lg = out.logits->data + (size_t)row * A;
				float probs[IPD_CL_ACTIONS], mx;
				float s = ax_softmax_row(A, lg, probs, &mx);
				if (!probs_finite(probs, A)) {
					ax_no_grad_end(&tr->tape);
					return -1;
				}
				int act = ax_rng_categorical(r, probs, A);
				size_t at = (size_t)row * L + l;
				ab->act[at] = act;
				ab->logp[at] = lg[act] - mx - logf(s);
				ab->val[at] = out.value->data[row];
				tr->act_seat[seat][lane] = act;
				record_behaviour(tr, seat, m, lane, probs);
			}
		}
		ax_no_grad_end(&tr->tape);
	}
	return 0;
}

static int naive_act(struct trainer *tr, int m, int t, struct ax_rng *r)
{
	int B = tr->B, T = tr->T, Oenv = tr->Oenv, A = tr->A, n = tr->n;
	float probs[IPD_CL_ACTIONS], hid[256];
	for (int e = 0; e < tr->E; e++)
		for (int seat = 0; seat < 2; seat++) {
			if (tr->seat_agent[e][seat] >= 0)
				continue;
			for (int b = 0; b < B; b++) {
				int lane = e * B + b;
				size_t at = (size_t)seat * n * T + (size_t)lane * T + t;
				const float *o = tr->obs_seat[seat] + (size_t)lane * Oenv;
				ipd_naive_probs(&tr->naive[2 * e + seat], o, probs, hid);
				if (!probs_finite(probs, A))
					return -1;
				int act = ax_rng_categorical(r, probs, A);
				tr->act_seat[seat][lane] = act;
				memcpy(tr->naive_obs + at * Oenv, o, Oenv * sizeof(float));
				tr->naive_act[at] = act;
				record_behaviour(tr, seat, m, lane, probs);
			}
		}
	return 0;
}

/* Seat 0's reference player: a tabular "naive learner" whose logits give
 * P(cooperate) = coop[s] in each joint state and which never updates. */
static void fixed_strategy(struct ipd_naive *nl, const float coop[IPD_OBS])
{
	for (int s = 0; s < IPD_OBS; s++) {
		float p = AX_MIN(AX_MAX(coop[s], 1e-6f), 1.0f - 1e-6f);
		nl->w[s] = logf(p / (1.0f - p));       /* cooperate logit, action 0 */
		nl->w[IPD_OBS + s] = 0.0f;             /* defect logit */
	}
}

/* Play one meta-batch of meta-trajectories. counts[0]: meta-trajectories
 * against naive learners, counts[1]: against meta agents. Returns 0, or -1
 * if a policy is not finite. */
static int rollout(struct trainer *tr, struct ax_rng *it_rng, struct ipd_env_counts counts[2])
{
	int B = tr->B, T = tr->T, L = tr->L, n = tr->n;
	struct ax_rng act_rng = ax_rng_split(it_rng, 1);
	int P = ipd_naive_nparam(&tr->naive_cfg);
	for (int k = 0; k < 2 * tr->E; k++) {
		if (tr->seat_agent[k / 2][k % 2] >= 0)
			continue;   /* a meta agent's seat */
		struct ax_rng nr = ax_rng_split(it_rng, 0x10000 + (uint64_t)k);
		ipd_naive_init(&tr->naive[k], &tr->naive_cfg, tr->naive_storage + (size_t)k * 4 * P, &nr);
		if (tr->c->fixed && k % 2 == 0)
			fixed_strategy(&tr->naive[k], tr->c->fixed_coop);
	}
	memset(tr->beh_sum, 0, (size_t)2 * tr->M * tr->beh_k * sizeof(double));
	memset(tr->beh_cnt, 0, (size_t)2 * tr->M * tr->beh_k * sizeof(double));
	for (int m = 0; m < tr->M; m++) {
		struct ax_rng er = ax_rng_split(it_rng, 0x20000 + (uint64_t)m);
		ipd_env_reset(&tr->env, &er);
		for (int t = 0; t < T; t++) {
			ipd_env_observe(&tr->env, 0, tr->obs_seat[0]);
			ipd_env_observe(&tr->env, 1, tr->obs_seat[1]);
			if (meta_act(tr, m, t, &act_rng) || naive_act(tr, m, t, &act_rng))
				return -1;
			ipd_env_step(&tr->env, tr->act_seat[0], tr->act_seat[1], tr->rew_seat[0],
				 tr->rew_seat[1], counts, tr->lane_group);
			int l = m * T + t;
			for (int i = 0; i < tr->N; i++) {
				struct agent_batch *ab = &tr->batch[i];
				for (int k = 0; k < ab->nblocks; k++)
					for (int b = 0; b < B; b++)
						ab->rew[(size_t)(k * B + b) * L + l] =
							tr->rew_seat[ab->block_seat[k]][ab->block_e[k] * B + b];
			}
			for (int seat = 0; seat < 2; seat++)
				for (int lane = 0; lane < n; lane++)
					tr->naive_rew[(size_t)seat * n * T + (size_t)lane * T + t] =
						tr->rew_seat[seat][lane];
		}
		for (int e = 0; e < tr->E; e++)
			for (int seat = 0; seat < 2; seat++)
				if (tr->seat_agent[e][seat] < 0 && !(seat == 0 && tr->c->fixed)) {
					size_t off = (size_t)seat * n * T + (size_t)e * B * T;
					ipd_naive_update(&tr->naive[2 * e + seat], B, T,
						     tr->naive_obs + off * tr->Oenv, tr->naive_act + off,
						     tr->naive_rew + off, tr->naive_scratch);
				}
	}
	return 0;
}

/* Advantages (the estimator's batch lambda returns of TD errors) and critic
 * targets (batch-unaware TD(lambda)), block by block of B lanes. */
static void compute_advantages(struct trainer *tr)
{
	const struct ipd_train_cfg *c = tr->c;
	int B = tr->B, L = tr->L, T = tr->T;
	int norm_cur, avg_future;
	ipd_estimator_flags(c->est, &norm_cur, &avg_future);
	float *delta = ax_arena_alloc(&tr->iter_arena, (size_t)B * L * sizeof(float));
	float *rs = ax_arena_alloc(&tr->iter_arena, (size_t)B * L * sizeof(float));
	float *vnext = ax_arena_alloc(&tr->iter_arena, (size_t)B * L * sizeof(float));
	for (int i = 0; i < tr->N; i++) {
		struct agent_batch *ab = &tr->batch[i];
		for (int k = 0; k < ab->nblocks; k++) {
			size_t off = (size_t)k * B * L;
			const float *rew = ab->rew + off, *val = ab->val + off;
			for (int b = 0; b < B; b++)
				for (int l = 0; l < L; l++) {
					size_t j = (size_t)b * L + l;
					vnext[j] = l + 1 < L ? val[j + 1] : 0.0f;   /* meta-trajectory end is terminal */
					rs[j] = rew[j] * c->reward_scale;
					delta[j] = rs[j] + c->gamma * vnext[j] - val[j];
				}
			ipd_batch_lambda_returns(B, L, T, delta, NULL, c->gamma * c->lambda, 1.0f, norm_cur,
					     avg_future, ab->adv + off);
			ipd_batch_lambda_returns(B, L, T, rs, vnext, c->gamma, c->lambda, 0, 0, ab->tgt + off);
		}
	}
}

/* PPO on each agent's rows: whole sequences, shuffled into minibatches. */
static double ppo_update(struct trainer *tr, struct ax_rng *it_rng)
{
	const struct ipd_train_cfg *c = tr->c;
	int L = tr->L, O = tr->O;
	struct ax_rng r = ax_rng_split(it_rng, 2);
	double loss_sum = 0.0;
	int nloss = 0;
	for (int i = 0; i < tr->N; i++) {
		struct agent_batch *ab = &tr->batch[i];
		struct agent *ag = &tr->agents[i];
		if (!ab->R)
			continue;
		int nmb = AX_MIN(c->minibatches, ab->R);
		int32_t *perm = ax_arena_alloc(&tr->iter_arena, (size_t)ab->R * sizeof(int32_t));
		for (int epoch = 0; epoch < c->epochs; epoch++) {
			ax_rng_permutation(&r, perm, ab->R);
			for (int mb = 0; mb < nmb; mb++) {
				int first = mb * ab->R / nmb, S = (mb + 1) * ab->R / nmb - first;
				size_t SL = (size_t)S * L;
				ax_tape_reset(&tr->tape);
				struct ax_tensor *x = ax_tensor_3d(&tr->step_arena, S, L, O);
				struct ipd_ppo_data d = { .clip = c->clip, .value_coef = c->value_coef,
							.entropy_coef = c->entropy_coef };
				int32_t *act = ax_tape_ints(&tr->tape, SL);
				float *f = ax_arena_alloc(&tr->step_arena, 4 * SL * sizeof(float));
				float *lp = f, *adv = f + SL, *vo = f + 2 * SL, *tg = f + 3 * SL;
				for (int s = 0; s < S; s++) {
					size_t src = (size_t)perm[first + s] * L, dst = (size_t)s * L;
					memcpy(x->data + dst * O, ab->obs + src * O, (size_t)L * O * sizeof(float));
					memcpy(act + dst, ab->act + src, L * sizeof(int32_t));
					memcpy(lp + dst, ab->logp + src, L * sizeof(float));
					memcpy(adv + dst, ab->adv + src, L * sizeof(float));
					memcpy(vo + dst, ab->val + src, L * sizeof(float));
					memcpy(tg + dst, ab->tgt + src, L * sizeof(float));
				}
				d.action = act;
				d.logp_old = lp;
				d.adv = adv;
				d.v_old = vo;
				d.target = tg;
				ax_params_zero_grad(&ag->net.params);
				struct ipd_meta_out out = ipd_meta_forward(&tr->tape, &ag->net, x, NULL);
				struct ax_tensor *loss = ipd_ppo_loss(&tr->tape, out.logits, out.value, &d);
				ax_tape_backward(&tr->tape, loss, 1.0f);
				ax_clip_grad_norm(&ag->net.params, c->max_grad_norm);
				ax_optim_step(&ag->opt, c->lr);
				loss_sum += loss->data[0];
				nloss++;
			}
		}
	}
	ax_tape_reset(&tr->tape);
	return nloss ? loss_sum / nloss : 0.0;
}

/* ---- checkpoints ---- */

/* Each agent's optimiser state under "agent<i>.": their step counts can
 * differ (an agent with fewer rows than --minibatches takes fewer PPO steps). */
static void optim_prefix(char *prefix, size_t n, int agent)
{
	snprintf(prefix, n, "agent%d.", agent);
}

static enum ax_status save_checkpoint(const struct trainer *tr, const struct ax_run *run)
{
	struct ax_bundle b;
	char key[32];
	ax_ckpt_begin(&b, IPD_CKPT_KIND);
	for (int i = 0; i < tr->N; i++) {
		ax_params_to_bundle(&tr->agents[i].net.params, &b, "");
		optim_prefix(key, sizeof key, i);
		ax_optim_to_bundle(&tr->agents[i].opt, &b, key);
	}
	ax_ckpt_put_settings(&b, ipd_train_settings, ipd_train_nsettings, tr->c);
	ax_run_put(run, &b);
	ipd_window_put(&b, tr->window);
	enum ax_status st = ax_bundle_save(tr->c->run.checkpoint, &b);
	ax_bundle_free(&b);
	return st;
}

/* Weights, optimiser states, the run's position and the window's sums from
 * a checkpoint whose settings made this trainer. */
static enum ax_status load_checkpoint(struct trainer *tr, const struct ax_bundle *b,
				      struct ax_run *run)
{
	char key[32];
	enum ax_status st = ipd_ckpt_check_tensors(b);
	for (int i = 0; i < tr->N && !st; i++) {
		optim_prefix(key, sizeof key, i);
		if (!(st = ax_params_from_bundle(&tr->agents[i].net.params, b, "")))
			st = ax_optim_from_bundle(&tr->agents[i].opt, b, key);
	}
	if (!st)
		st = ax_run_resume(run, b);
	if (!st)
		st = ipd_window_get(b, tr->window);
	return st;
}

/* Behaviour of the last iteration, (2, M, K): seat 0 the meta agents, seat 1
 * their co-players; IPD: P(cooperate) in each observed state s0, CC, CD, DC,
 * DD (own action first), CleanUp: mean action probabilities. NaN where a
 * state never occurred. */
static enum ax_status write_policy(const struct trainer *tr, const char *path)
{
	size_t n = (size_t)2 * tr->M * tr->beh_k;
	float *p = ax_xmalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		p[i] = tr->beh_cnt[i] > 0 ? (float)(tr->beh_sum[i] / tr->beh_cnt[i]) : NAN;
	struct ax_array a = { .dtype = AX_F32, .ndim = 3, .shape = { 2, tr->M, tr->beh_k }, .data = p };
	enum ax_status st = ax_npy_save(path, &a);
	free(p);
	return st;
}

/* ---- the loop ---- */

static double per_step(double x, long steps)
{
	return steps ? x / (double)steps : NAN;
}

static void csv_header(const struct ipd_train_cfg *c, struct ax_csv *csv, FILE *out)
{
	if (c->env == IPD_ENV_IPD)
		ax_csv_begin(csv, out, "iter,estimator,seed,meta_reward,coplayer_reward,meta_coop,"
			     "coplayer_coop,reward_vs_naive,naive_reward,reward_vs_meta,loss,seconds");
	else
		ax_csv_begin(csv, out, "iter,estimator,seed,meta_reward,coplayer_reward,meta_zap_rate,"
			     "coplayer_zap_rate,apples,clean_share,reward_vs_naive,naive_reward,"
			     "reward_vs_meta,loss,seconds");
}

static void csv_row(const struct trainer *tr, struct ax_csv *csv, const struct ipd_env_counts k[2],
		    double loss, double seconds)
{
	const struct ipd_train_cfg *c = tr->c;
	long steps = k[0].steps + k[1].steps;
	double r0 = per_step(k[0].reward[0] + k[1].reward[0], steps);
	double r1 = per_step(k[0].reward[1] + k[1].reward[1], steps);
	double vs_naive = per_step(k[0].reward[0], k[0].steps);
	double naive_r = per_step(k[0].reward[1], k[0].steps);
	// in meta-vs-meta trajectories both seats are meta agents
	double vs_meta = per_step(k[1].reward[0] + k[1].reward[1], 2 * k[1].steps);
	const char *est = c->fixed ? "fixed" : c->naive_vs_naive ? "naive" : ipd_estimator_names[c->est];
	if (c->env == IPD_ENV_IPD) {
		ax_csv_rowf(csv, "%ld,%s,%llu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f", tr->iter, est,
			    (unsigned long long)c->seed,
			    r0, r1, per_step(k[0].coop[0] + k[1].coop[0], steps),
			    per_step(k[0].coop[1] + k[1].coop[1], steps), vs_naive, naive_r, vs_meta,
			    loss, seconds);
	} else {
		double apples = k[0].apples[0] + k[0].apples[1] + k[1].apples[0] + k[1].apples[1];
		double clean0 = k[0].cleaned[0] + k[1].cleaned[0];
		double clean = clean0 + k[0].cleaned[1] + k[1].cleaned[1];
		long episodes = steps / c->steps;
		ax_csv_rowf(csv, "%ld,%s,%llu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f",
			    tr->iter, est, (unsigned long long)c->seed, r0, r1, per_step(k[0].zaps[0] + k[1].zaps[0], steps),
			    per_step(k[0].zaps[1] + k[1].zaps[1], steps), per_step(apples, episodes),
			    clean > 0 ? clean0 / clean : NAN, vs_naive, naive_r, vs_meta, loss, seconds);
	}
}

/* One iteration; its loss (NaN if a policy was not finite). */
static double iteration(struct trainer *tr, struct ipd_env_counts counts[2])
{
	struct ax_rng it_rng = ax_rng_split(&tr->base, 1000 + (uint64_t)tr->iter);
	memset(counts, 0, 2 * sizeof *counts);
	ax_arena_reset(&tr->iter_arena);
	assign_seats(tr, &it_rng);
	if (rollout(tr, &it_rng, counts))
		return NAN;
	compute_advantages(tr);
	return ppo_update(tr, &it_rng);
}

int ipd_train_run(const struct ipd_train_cfg *c, const struct ax_bundle *ckpt, FILE *out)
{
	struct trainer tr;
	struct ax_run run;
	enum ax_status st;
	trainer_init(&tr, c);
	ax_run_init(&run, &c->run, c->iters, c->quiet);
	run.loss_hint = "or a policy: try a lower --lr";
	if (ckpt && (st = load_checkpoint(&tr, ckpt, &run)))
		ax_die_status(AX_EXIT_USAGE, st, "resume");
	tr.iter = run.step;
	struct ax_csv csv;
	csv_header(c, &csv, out);
	while (ax_run_next(&run)) {
		struct ipd_env_counts counts[2];
		unsigned d = ax_run_step_done(&run, iteration(&tr, counts));
		tr.iter = run.step;
		ipd_window_add(tr.window, counts);
		if (d & AX_RUN_LOG) {
			csv_row(&tr, &csv, tr.window, ax_run_mean_loss(&run), ax_now() - run.t_begin);
			memset(tr.window, 0, sizeof tr.window);
		}
		if (c->policy_out && (d & AX_RUN_STOP) && (st = write_policy(&tr, c->policy_out)))
			ax_die_status(AX_EXIT_FAIL, st, "policy-out");
		if ((d & AX_RUN_SAVE) && (st = save_checkpoint(&tr, &run)))
			ax_die_status(AX_EXIT_FAIL, st, "checkpoint");
	}
	trainer_free(&tr);
	return ax_run_finish(&run);
}
