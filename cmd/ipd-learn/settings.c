/* settings.c — ipd-learn's settings: their defaults, the table that gives
 * each one flag and one checkpoint metadata key with its range, the checks
 * across settings, and the rest of a checkpoint's metadata that is not a
 * tensor (the window of counts since the last CSV row). */
#include "ipd_learn.h"

#include "ax_checkpoint.h"

#include <math.h>
#include <string.h>

void ipd_train_defaults(struct ipd_train_cfg *c, enum ipd_env_kind env)
{
	memset(c, 0, sizeof *c);
	c->env = env;
	c->est = IPD_EST_COALA;
	float payoff[2][2] = { { 1.0f, -1.0f }, { 2.0f, 0.0f } };
	memcpy(c->payoff, payoff, sizeof payoff);
	c->lanes = 16;
	c->episodes = 20;
	c->steps = 10;
	c->meta_batch = 128;     /* the paper's: at 64, COALA-PG fell into defection in 2 of 5 seeds */
	c->iters = 150;
	c->meta_agents = 1;
	c->p_naive = 1.0;
	c->width = 32;
	c->lr = 1e-3f;
	c->adam_eps = 1e-5f;
	c->clip = 0.2f;
	c->value_coef = 0.5f;
	c->max_grad_norm = 1.0f;
	c->reward_scale = 0.05f;
	c->gamma = 1.0f;
	c->lambda = 1.0f;
	c->epochs = 4;
	c->minibatches = 2;
	c->naive = (struct ipd_naive_cfg){
		.hidden = 0, .lr = 0.6f, .gamma = 0.99f, .value_coef = 0.5f,
		.reward_scale = 0.05f, .init_std = 0.5f, .adam = 1,
	};
	if (env == IPD_ENV_CLEANUP) {
		c->lanes = 8;
		c->episodes = 10;
		c->steps = 32;
		c->meta_batch = 8;
		c->iters = 200;
		c->naive.hidden = 32;
		c->naive.adam = 1;
		c->naive.lr = 5e-3f;
		c->naive.init_std = 0.0f;
	}
	c->seed = 1;
}

void ipd_train_preset_paper(struct ipd_train_cfg *c)
{
	c->meta_batch = 128;
	c->iters = 3000;
	c->lr = 3e-4f;
	if (c->env == IPD_ENV_IPD) {
		c->lanes = 16;
		c->episodes = 20;
		c->steps = 10;
	} else {
		c->lanes = 32;
		c->episodes = 100;
		c->steps = 64;
	}
}

static const char *const env_names[] = { "ipd", "cleanup", NULL };
static const char *const optim_names[] = { "sgd", "adam", NULL };

#define CFG struct ipd_train_cfg
const struct ax_setting ipd_train_settings[] = {
	AX_SETTING_CHOICE("ipd.env", "--env", CFG, env, env_names),
	AX_SETTING_CHOICE("ipd.estimator", "--estimator", CFG, est, ipd_estimator_names),
	AX_SETTING_FLOAT("ipd.payoff.cc", "--payoff", CFG, payoff[0][0], -IPD_PAYOFF_MAX, IPD_PAYOFF_MAX, 0),
	AX_SETTING_FLOAT("ipd.payoff.cd", "--payoff", CFG, payoff[0][1], -IPD_PAYOFF_MAX, IPD_PAYOFF_MAX, 0),
	AX_SETTING_FLOAT("ipd.payoff.dc", "--payoff", CFG, payoff[1][0], -IPD_PAYOFF_MAX, IPD_PAYOFF_MAX, 0),
	AX_SETTING_FLOAT("ipd.payoff.dd", "--payoff", CFG, payoff[1][1], -IPD_PAYOFF_MAX, IPD_PAYOFF_MAX, 0),
	AX_SETTING_INT("ipd.lanes", "--lanes", CFG, lanes, 1, 4096),
	AX_SETTING_INT("ipd.episodes", "--episodes", CFG, episodes, 1, 100000),
	AX_SETTING_INT("ipd.steps", "--steps", CFG, steps, 1, 100000),
	AX_SETTING_INT("ipd.meta_batch", "--meta-batch", CFG, meta_batch, 1, 100000),
	AX_SETTING_INT("ipd.iters", "--iters", CFG, iters, 1, 100000000),
	AX_SETTING_INT("ipd.meta_agents", "--meta-agents", CFG, meta_agents, 1, 1024),
	AX_SETTING_DOUBLE("ipd.p_naive", "--p-naive", CFG, p_naive, 0, 1, 0),
	AX_SETTING_INT("ipd.width", "--width", CFG, width, 1, 4096),
	AX_SETTING_FLOAT("ipd.lr", "--lr", CFG, lr, 0, 10, 0),
	AX_SETTING_INT("ipd.epochs", "--epochs", CFG, epochs, 1, 1000),
	AX_SETTING_INT("ipd.minibatches", "--minibatches", CFG, minibatches, 1, 100000),
	AX_SETTING_FLOAT("ipd.entropy", "--entropy", CFG, entropy_coef, 0, 10, 0),
	AX_SETTING_FLOAT("ipd.start_defect", "--start-defect", CFG, defect_bias, -20, 20, 0),
	AX_SETTING_FLOAT("ipd.naive.lr", "--naive-lr", CFG, naive.lr, 0, 1000, 0),
	AX_SETTING_INT("ipd.naive.hidden", "--naive-hidden", CFG, naive.hidden, 0, 256),
	AX_SETTING_CHOICE("ipd.naive.optim", "--naive-optim", CFG, naive.adam, optim_names),
	AX_SETTING_FLOAT("ipd.naive.init_std", "--naive-init-std", CFG, naive.init_std, 0, 100, 0),
	AX_SETTING_BOOL("ipd.naive_vs_naive", "--naive-vs-naive", CFG, naive_vs_naive),
	AX_SETTING_BOOL("ipd.fixed", "--fixed", CFG, fixed),
	AX_SETTING_FLOAT("ipd.fixed.p0", "--fixed", CFG, fixed_coop[0], 0, 1, 0),
	AX_SETTING_FLOAT("ipd.fixed.pcc", "--fixed", CFG, fixed_coop[1], 0, 1, 0),
	AX_SETTING_FLOAT("ipd.fixed.pcd", "--fixed", CFG, fixed_coop[2], 0, 1, 0),
	AX_SETTING_FLOAT("ipd.fixed.pdc", "--fixed", CFG, fixed_coop[3], 0, 1, 0),
	AX_SETTING_FLOAT("ipd.fixed.pdd", "--fixed", CFG, fixed_coop[4], 0, 1, 0),
	AX_SETTING_U64("ipd.seed", "--seed", CFG, seed),
	/* constants of the method, no flag: kept so a checkpoint says how it was made */
	AX_SETTING_FLOAT("ipd.adam_eps", NULL, CFG, adam_eps, 0, 1, AX_LO_OPEN),
	AX_SETTING_FLOAT("ipd.clip", NULL, CFG, clip, 0, 1, AX_LO_OPEN),
	AX_SETTING_FLOAT("ipd.value_coef", NULL, CFG, value_coef, 0, 100, 0),
	AX_SETTING_FLOAT("ipd.max_grad_norm", NULL, CFG, max_grad_norm, 0, 1e6, AX_LO_OPEN),
	AX_SETTING_FLOAT("ipd.reward_scale", NULL, CFG, reward_scale, 0, 1000, AX_LO_OPEN),
	AX_SETTING_FLOAT("ipd.gamma", NULL, CFG, gamma, 0, 1, 0),
	AX_SETTING_FLOAT("ipd.lambda", NULL, CFG, lambda, 0, 1, 0),
	AX_SETTING_FLOAT("ipd.naive.gamma", NULL, CFG, naive.gamma, 0, 1, 0),
	AX_SETTING_FLOAT("ipd.naive.value_coef", NULL, CFG, naive.value_coef, 0, 100, 0),
	AX_SETTING_FLOAT("ipd.naive.reward_scale", NULL, CFG, naive.reward_scale, 0, 1000, AX_LO_OPEN),
};
#undef CFG
const int ipd_train_nsettings = (int)AX_COUNTOF(ipd_train_settings);

enum ax_status ipd_train_check(const struct ipd_train_cfg *c)
{
	double lanes_total = (double)c->lanes * c->meta_batch, seq = (double)c->episodes * c->steps;
	if (c->meta_batch < c->meta_agents)
		return ax_error_set(AX_ERR_ARG, "--meta-batch %d is smaller than --meta-agents %d: "
				    "every meta agent needs a meta-trajectory each iteration",
				    c->meta_batch, c->meta_agents);
	if (c->env == IPD_ENV_CLEANUP && c->fixed)
		return ax_error_set(AX_ERR_ARG, "--fixed is for the IPD");
	if (c->fixed && c->naive_vs_naive)
		return ax_error_set(AX_ERR_ARG, "--fixed and --naive-vs-naive both choose seat 0's player");
	if ((c->fixed || c->naive_vs_naive) && c->p_naive < 1)
		return ax_error_set(AX_ERR_ARG, "%s plays against naive learners only: --p-naive must be 1",
				    c->fixed ? "--fixed" : "--naive-vs-naive");
	if (c->env == IPD_ENV_CLEANUP && c->defect_bias != 0)
		return ax_error_set(AX_ERR_ARG, "--start-defect is for the IPD");
	if (lanes_total * seq > 2e9)
		return ax_error_set(AX_ERR_ARG, "meta-batch x lanes x episodes x steps = %.3g steps per "
				    "iteration is too large", lanes_total * seq);
	return AX_OK;
}

enum ax_status ipd_train_load_settings(const struct ax_bundle *ckpt, struct ipd_train_cfg *c)
{
	return ax_ckpt_get_settings(ckpt, ipd_train_settings, ipd_train_nsettings, c);
}

/* The window's sums (the counts since the last CSV row) as metadata
 * "ipd.run.window": per group, the six event pairs then the lane-steps. */
#define WINDOW_N 13
static double *count_field(struct ipd_env_counts *k, int i)   /* i < WINDOW_N - 1 */
{
	double *f[] = { k->reward, k->coop, k->zaps, k->zap_hits, k->apples, k->cleaned };
	return &f[i / 2][i % 2];
}

void ipd_window_put(struct ax_bundle *b, const struct ipd_env_counts window[2])
{
	struct ipd_env_counts w[2];
	char buf[2 * WINDOW_N * 26];
	memcpy(w, window, sizeof w);
	int len = 0;
	for (int g = 0; g < 2; g++) {
		for (int i = 0; i < WINDOW_N - 1; i++)
			len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%.17g", len ? "," : "",
					*count_field(&w[g], i));
		len += snprintf(buf + len, sizeof buf - (size_t)len, ",%ld", w[g].steps);
	}
	ax_bundle_set_meta(b, "ipd.run.window", buf);
}

enum ax_status ipd_window_get(const struct ax_bundle *b, struct ipd_env_counts w[2])
{
	const char *text;
	double *v;
	int n;
	enum ax_status st = ax_ckpt_get_str(b, "ipd.run.window", &text);
	if (st)
		return st;
	if (strchr(text, ':') || ax_list_double(text, -1e300, 1e300, 2 * WINDOW_N, &v, &n))
		n = 0;
	else if (n != 2 * WINDOW_N)
		free(v);
	if (n != 2 * WINDOW_N)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'ipd.run.window' is not %d "
				    "numbers: '%.60s'", 2 * WINDOW_N, text);
	double bad = 0;
	for (int g = 0; g < 2; g++) {
		const double *x = v + g * WINDOW_N;
		for (int i = 0; i < WINDOW_N - 1; i++)
			*count_field(&w[g], i) = x[i];
		if (!(x[WINDOW_N - 1] >= 0 && x[WINDOW_N - 1] <= 1e15))
			bad = x[WINDOW_N - 1];
		w[g].steps = bad ? 0 : (long)x[WINDOW_N - 1];
	}
	free(v);
	if (bad)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'ipd.run.window': %g lane-steps",
				    bad);
	return AX_OK;
}

/* Every float of a checkpoint finite, Adam's second moments not negative. */
enum ax_status ipd_ckpt_check_tensors(const struct ax_bundle *b)
{
	for (int i = 0; i < b->n; i++) {
		const struct ax_array *a = &b->entries[i].array;
		if (a->dtype != AX_F32)
			continue;
		const float *x = a->data;
		int second = strstr(b->entries[i].name, "optim.v.") != NULL;
		for (size_t k = 0; k < ax_array_count(a); k++)
			if (!isfinite(x[k]) || (second && x[k] < 0))
				return ax_error_set(AX_ERR_FORMAT, "tensor '%s' holds %g at index %zu",
						    b->entries[i].name, (double)x[k], k);
	}
	return AX_OK;
}

void ipd_window_add(struct ipd_env_counts w[2], struct ipd_env_counts k[2])
{
	for (int g = 0; g < 2; g++) {
		for (int i = 0; i < WINDOW_N - 1; i++)
			*count_field(&w[g], i) += *count_field(&k[g], i);
		w[g].steps += k[g].steps;
	}
}

