/* ipd_learn.h — ipd-learn's one header: learning-aware policy gradients (COALA-PG,
 * arXiv:2410.18636) in the iterated prisoner's dilemma and CleanUp-lite.
 *
 * Vocabulary (the paper's): a meta-trajectory is M inner episodes of T steps
 * played on B parallel lanes; after each inner episode a naive co-player takes
 * one learning step on its B lanes. A meta-batch holds E meta-trajectories.
 * Seat 0 is always a meta agent; seat 1 is a naive learner (probability
 * p_naive) or a meta agent from the pool.
 *
 * Each section below names the file that defines it: main.c (the CLI
 * only), train.c (the loop: rollout, advantages, PPO, metrics, checkpoints),
 * settings.c (defaults, one checkpoint key per setting),
 * model.c (the meta agent and the PPO loss op), naive.c (the naive
 * learners), returns.c (batch lambda returns, Alg. 1), env.c, env_ipd.c,
 * env_cleanup.c (the environments), analytic.c (the exact tabular IPD of
 * App. C). Every symbol starts with ipd_ (IPD_ for constants).
 */
#ifndef IPD_LEARN_H
#define IPD_LEARN_H

#include "axon.h"

/* ---- environments: env.c (one interface), env_ipd.c, env_cleanup.c ---- */

enum ipd_env_kind { IPD_ENV_IPD, IPD_ENV_CLEANUP };

/* The largest payoff magnitude: rewards summed over a whole run stay finite
 * in float. */
#define IPD_PAYOFF_MAX 1e6

/* IPD: actions 0 = cooperate, 1 = defect. Joint state seen by a player:
 * 0 start, 1 CC, 2 CD, 3 DC, 4 DD (own action first). */
#define IPD_OBS 5
#define IPD_ACTIONS 2

/* CleanUp-lite grid: IPD_CL_W columns x IPD_CL_H rows; column 0 orchard, column
 * IPD_CL_W-1 river. Actions: up, down, left, right, zap, no-op. */
#define IPD_CL_W 5
#define IPD_CL_H 4
#define IPD_CL_CELLS (IPD_CL_W * IPD_CL_H)
#define IPD_CL_ACTIONS 6
enum { IPD_CL_UP, IPD_CL_DOWN, IPD_CL_LEFT, IPD_CL_RIGHT, IPD_CL_ZAP, IPD_CL_NOOP };
#define IPD_CL_DIRT_P 0.35f
#define IPD_CL_ZAP_P 0.9f
#define IPD_CL_ZAP_RANGE 2
#define IPD_CL_FREEZE 5
#define IPD_CL_START_DIRT 3
/* own pos, other pos, apples (orchard rows), dirt (river rows), own frozen,
 * other frozen, constant 1 */
#define IPD_CL_OBS (2 * IPD_CL_CELLS + 2 * IPD_CL_H + 3)

struct ipd_cleanup_lane {
	int pos[2];                 /* cell index y*IPD_CL_W + x */
	int frozen[2];              /* steps left frozen */
	unsigned char apple[IPD_CL_H];  /* orchard cell of each row */
	unsigned char dirt[IPD_CL_H];   /* river cell of each row */
};

/* What happened in one step, per seat (summed over lanes). */
struct ipd_env_counts {
	double reward[2], coop[2], zaps[2], zap_hits[2], apples[2], cleaned[2];
	long steps;                 /* lane-steps */
};

struct ipd_env {
	enum ipd_env_kind kind;
	int n;                      /* lanes */
	int obs_dim, n_actions;
	float payoff[2][2];         /* IPD: payoff[mine][theirs] */
	int *ipd_state;             /* (n) joint state from seat 0's side */
	struct ipd_cleanup_lane *cl;    /* (n) */
	struct ax_rng *rng;         /* (n) per-lane streams (CleanUp) */
};

void ipd_env_init(struct ipd_env *e, enum ipd_env_kind kind, int n, const float payoff[2][2]);
void ipd_env_free(struct ipd_env *e);
/* Start an inner episode on every lane; CleanUp lane i draws from stream i
 * split off episode_rng (the IPD draws nothing). */
void ipd_env_reset(struct ipd_env *e, const struct ax_rng *episode_rng);
/* Observation of `seat` on every lane into obs (n, obs_dim). */
void ipd_env_observe(const struct ipd_env *e, int seat, float *obs);
/* Joint step: actions a0, a1 (n) -> rewards r0, r1 (n); counts += events. */
/* counts[group[i]] += lane i's events (group NULL: all into counts[0]). */
void ipd_env_step(struct ipd_env *e, const int *a0, const int *a1, float *r0, float *r1,
	      struct ipd_env_counts *counts, const int *group);

/* IPD internals, exposed for the tests and the analytic mode. */
int ipd_joint_state(int mine, int theirs);     /* 1..4 */
int ipd_swap_state(int s);                     /* the co-player's view */
void ipd_observe(const int *state, int n, int seat, float *obs);
void ipd_step(struct ipd_env *e, const int *a0, const int *a1, float *r0, float *r1,
	      struct ipd_env_counts *counts, const int *group);

/* CleanUp internals, exposed for the tests. */
void ipd_cleanup_reset_lane(struct ipd_cleanup_lane *l, struct ax_rng *r);
void ipd_cleanup_step_lane(struct ipd_cleanup_lane *l, struct ax_rng *r, const int a[2], float rew[2],
		       struct ipd_env_counts *c);
void ipd_cleanup_observe_lane(const struct ipd_cleanup_lane *l, int seat, float *obs);
int ipd_cleanup_distance(int cell0, int cell1);    /* Manhattan */

/* ---- returns.c: batch lambda returns and the estimators ---- */

/* Paper Alg. 1 on one group of B lanes, L steps, inner episodes of T steps:
 * r (B, L) rewards, v_next (B, L) the value of the state after each step
 * (v_next[:, L-1] is the bootstrap), out (B, L). A single backward pass:
 *   acc = v_next[:, L-1];  g = mean_b(acc)
 *   at each inner-episode end, if average_future: acc = g
 *   acc = r_t / norm + disc * ((1 - lambda) * v_next_t + lambda * acc)
 *   g   = mean_b(r_t + disc * ((1 - lambda) * v_next_t + lambda * g))
 * with norm = B if normalise_current else 1. v_next NULL means zeros. */
void ipd_batch_lambda_returns(int B, int L, int T, const float *r, const float *v_next,
			  float disc, float lambda, int normalise_current, int average_future,
			  float *out);

enum ipd_estimator { IPD_EST_COALA, IPD_EST_UNAWARE, IPD_EST_MFOS };
extern const char *const ipd_estimator_names[];
/* The estimator's two Alg. 1 flags. */
void ipd_estimator_flags(enum ipd_estimator est, int *normalise_current, int *average_future);

/* ---- naive.c: naive learners ---- */

/* A naive learner: softmax policy and value over the current observation
 * (tabular when hidden == 0 and the observation is one-hot), trained by A2C
 * on its B lanes after each inner episode. Fresh every meta-trajectory. */
struct ipd_naive_cfg {
	int obs_dim, n_actions, hidden;
	float lr, gamma, value_coef, reward_scale, init_std;
	int adam;                   /* 0: plain SGD, 1: Adam (eps 1e-5) */
};

struct ipd_naive {
	const struct ipd_naive_cfg *cfg;
	int nparam;
	float *w;                   /* all parameters, then grad, m, v */
	float *grad, *m, *v;
	long step;
};

int ipd_naive_nparam(const struct ipd_naive_cfg *c);
void ipd_naive_init(struct ipd_naive *nl, const struct ipd_naive_cfg *c, float *storage /* 4*nparam */,
		struct ax_rng *r);
/* Policy logits (n_actions) and value of one observation; scratch hidden. */
float ipd_naive_forward(const struct ipd_naive *nl, const float *obs, float *logits, float *hid);
/* One A2C step on an episode: obs (B, T, O), actions, rewards (B, T).
 * scratch: at least ipd_naive_scratch_floats(). */
size_t ipd_naive_scratch_floats(const struct ipd_naive_cfg *c, int B, int T);
void ipd_naive_update(struct ipd_naive *nl, int B, int T, const float *obs, const int *act,
		  const float *rew, float *scratch);
/* Probability of each action for observation obs. */
void ipd_naive_probs(const struct ipd_naive *nl, const float *obs, float *p, float *hid);

/* ---- model.c: the meta agent and the PPO loss ---- */

/* Residual gated linear recurrence (RG-LRU-like, Hawk's core) of width W:
 *   x = embed(obs)
 *   y = rmsnorm(x); a = sigmoid(gate(y)); h_t = a_t h_{t-1} + (1 - a_t) inp(y)_t
 *   x = x + out(h);  x = x + mlp(rmsnorm(x))
 *   z = rmsnorm(x); logits = pi(z); value = v(z)   (pi, v zero-initialised)
 * Training runs h through ax_scan over the whole meta-trajectory; acting
 * steps it one step at a time from the carried state. */
struct ipd_meta_net {
	struct ax_params params;
	struct ax_nn_linear embed, gate, inp, out, fc1, fc2, pi, v;
	struct ax_tensor *norm1, *norm2, *normf;
};

struct ipd_meta_out {
	struct ax_tensor *logits;   /* (N, L, A) */
	struct ax_tensor *value;    /* (N, L, 1) */
	struct ax_tensor *h;        /* (N, L, W) recurrent states */
};

/* Parameter names start with prefix ("agent0."). */
void ipd_meta_init(struct ipd_meta_net *m, struct ax_arena *long_arena, struct ax_rng *r,
		   const char *prefix, int obs_dim, int width, int n_actions, float defect_bias);
/* obs (N, L, O); h0 (N, W) or NULL. */
struct ipd_meta_out ipd_meta_forward(struct ax_tape *t, const struct ipd_meta_net *m,
				 struct ax_tensor *obs, struct ax_tensor *h0);

/* PPO clipped policy loss plus clipped value loss, fused: logits (S, A),
 * value (S) -> mean over S of
 *   -min(rho A, clip(rho, 1-eps, 1+eps) A)
 *   + value_coef * 0.5 * max((v - R)^2, (v_old + clip(v - v_old, -eps, eps) - R)^2)
 *   - entropy_coef * H(softmax(logits))
 * with rho = exp(logp(a) - logp_old). The per-sample arrays must live until
 * backward (the tape's arena). */
struct ipd_ppo_data {
	const int32_t *action;
	const float *logp_old, *adv, *v_old, *target;
	float clip, value_coef, entropy_coef;
};
struct ax_tensor *ipd_ppo_loss(struct ax_tape *t, struct ax_tensor *logits, struct ax_tensor *value,
			   const struct ipd_ppo_data *d);

/* ---- settings (settings.c) of meta-training (train.c); main.c fills them ---- */

#define IPD_CKPT_KIND "ipd-learn"

struct ipd_train_cfg {
	enum ipd_env_kind env;
	enum ipd_estimator est;
	float payoff[2][2];
	int lanes, episodes, steps, meta_batch, iters, meta_agents;
	double p_naive;
	int width;
	/* meta PPO */
	float lr, adam_eps, clip, value_coef, entropy_coef, max_grad_norm, reward_scale, gamma, lambda;
	int epochs, minibatches;
	float defect_bias;          /* initial policy bias towards defection (IPD) */
	int naive_vs_naive;         /* baseline: seat 0 is a naive learner too */
	int fixed;                  /* reference: seat 0 plays the fixed memory-one */
	float fixed_coop[IPD_OBS];  /* strategy P(cooperate | s0, CC, CD, DC, DD) */
	struct ipd_naive_cfg naive;
	uint64_t seed;
	/* not settings: how this invocation runs */
	int quiet;
	const char *policy_out;
	struct ax_run_opts run;     /* --log-every, --checkpoint, --every, --stop-at, --resume */
};

/* ---- settings.c: defaults, the settings table, checkpoint metadata ---- */

/* The settings a checkpoint holds, one metadata key each ("ipd.lanes"),
 * with the flag that sets them and its range. */
extern const struct ax_setting ipd_train_settings[];
extern const int ipd_train_nsettings;

/* Defaults of env (run options left zero: main sets them). */
void ipd_train_defaults(struct ipd_train_cfg *c, enum ipd_env_kind env);
void ipd_train_preset_paper(struct ipd_train_cfg *c);
/* Settings that do not go together: AX_ERR_ARG with the reason. */
enum ax_status ipd_train_check(const struct ipd_train_cfg *c);
/* The settings of a checkpoint (opened with ax_ckpt_open) into c. */
enum ax_status ipd_train_load_settings(const struct ax_bundle *ckpt, struct ipd_train_cfg *c);
/* Every float tensor finite, Adam's second moments ("optim.v.") >= 0. */
enum ax_status ipd_ckpt_check_tensors(const struct ax_bundle *ckpt);
/* The counts since the last CSV row: w += k; into and out of the metadata
 * key "ipd.run.window". */
void ipd_window_add(struct ipd_env_counts w[2], struct ipd_env_counts k[2]);
void ipd_window_put(struct ax_bundle *b, const struct ipd_env_counts w[2]);
enum ax_status ipd_window_get(const struct ax_bundle *b, struct ipd_env_counts w[2]);

/* ---- train.c: the loop ---- */

/* Runs the trainer (from ckpt if not NULL), writes CSV to out; returns the
 * exit status. The command's train entry point: it may exit. */
int ipd_train_run(const struct ipd_train_cfg *c, const struct ax_bundle *ckpt, FILE *out);

/* ---- analytic.c: the exact tabular IPD ---- */

/* Exact tabular IPD (App. C). Policies are 5 logits of cooperating in
 * s0, CC, CD, DC, DD (own action first). */
struct ipd_analytic_cfg {
	float payoff[2][2];
	double gamma, naive_lr, meta_lr;
	int lookahead, iters, versus_naive;
	double init_std, init_defect;
	uint64_t seed;
};
/* Discounted returns (J0, J1) of seats 0 and 1, normalised per step ((1-gamma) J). */
void ipd_analytic_returns(const float payoff[2][2], double gamma, const double th0[5],
		      const double th1[5], double J[2]);
/* Exact gradient of seat `seat`'s normalised return w.r.t. its own logits. */
void ipd_analytic_grad_own(const float payoff[2][2], double gamma, const double th0[5],
		       const double th1[5], int seat, double g[5]);
/* Writes one CSV row per step to out; returns the exit status (128 + the
 * signal when interrupted, 1 when out fails). */
int ipd_analytic_run(const struct ipd_analytic_cfg *c, FILE *out);

#endif
