/* ipd-learn — learning-aware policy gradients (COALA-PG, arXiv:2410.18636):
 * meta agents that account for their co-players' learning, in the iterated
 * prisoner's dilemma and CleanUp-lite; and the exact tabular IPD of App. C. */
#include "ipd_learn.h"

#include <string.h>

static const char usage_text[] =
	"Usage: ipd-learn train [OPTION]...\n"
	"       ipd-learn analytic [OPTION]...\n"
	"Meta agents learn, by PPO on batch lambda returns, to play against co-players\n"
	"that are themselves learning. CSV rows of means per iteration on stdout.\n"
	"\n"
	"train options:\n"
	"      --env ENV          ipd (default) or cleanup (CleanUp-lite)\n"
	"      --estimator EST    coala (default), unaware, mfos\n"
	"      --payoff R,S,T,P   IPD payoffs of CC, CD, DC, DD to the first player\n"
	"                         (1,-1,2,0), each within [-1e6, 1e6]\n"
	"      --lanes B          parallel inner episodes per meta-trajectory (16;\n"
	"                         cleanup 8)\n"
	"      --episodes M       inner episodes per meta-trajectory (20; cleanup 10)\n"
	"      --steps T          steps per inner episode (10; cleanup 32)\n"
	"      --meta-batch E     meta-trajectories per iteration (128; cleanup 8)\n"
	"      --iters N          meta-iterations (150; cleanup 200)\n"
	"      --p-naive P        probability a co-player is a naive learner (1)\n"
	"      --meta-agents N    meta agents in the pool (1)\n"
	"      --preset NAME      paper: the paper's sizes (E 128, 3000 iterations,\n"
	"                         lr 3e-4; IPD B 16 M 20 T 10, CleanUp B 32 M 100\n"
	"                         T 64); small: the defaults\n"
	"      --width W          recurrent width of the meta agent (32)\n"
	"      --lr X             meta agents' Adam learning rate (1e-3)\n"
	"      --epochs N         PPO epochs (4)\n"
	"      --minibatches N    PPO minibatches (2)\n"
	"      --entropy X        PPO entropy bonus (0, as in the paper)\n"
	"      --start-defect X   meta agents start from defection: policy bias X on\n"
	"                         defect (IPD; 0 = uniform, 3 = 95% defection)\n"
	"      --naive-lr X       naive learners' step size (IPD Adam 0.6; cleanup\n"
	"                         Adam 5e-3)\n"
	"      --naive-hidden H   naive hidden width, 0 = tabular/linear (IPD 0;\n"
	"                         cleanup 32)\n"
	"      --naive-optim NAME sgd or adam (adam)\n"
	"      --naive-init-std X spread of the naive learners' initial logits (IPD 0.5)\n"
	"      --naive-vs-naive   baseline: a naive learner in seat 0 too (no meta agent)\n"
	"      --fixed P0,PCC,PCD,PDC,PDD\n"
	"                         reference: seat 0 plays a fixed memory-one strategy,\n"
	"                         P(cooperate) at the start and after CC, CD, DC, DD\n"
	"                         (own action first; clamped to [1e-6, 1 - 1e-6]),\n"
	"                         against naive learners (IPD; tit for tat 1,1,0,1,0)\n"
	"      --policy-out FILE  last iteration's behaviour per inner episode, NPY\n"
	"                         (2, M, K)\n"
	AX_RUN_HELP
	"\n"
	"analytic options (exact tabular IPD, App. C):\n"
	"      --lookahead K      naive steps the meta agents look ahead (1; 0 = naive)\n"
	"      --versus WHO       meta: two look-ahead agents (default); naive: one\n"
	"                         look-ahead agent against fresh naive learners taking\n"
	"                         K steps\n"
	"      --iters N          gradient steps (300)\n"
	"      --naive-lr X       naive step size on the per-step return (10)\n"
	"      --meta-lr X        meta agents' step size (10)\n"
	"      --gamma X          discount (0.95)\n"
	"      --init-std X       spread of the initial logits (1)\n"
	"      --start-defect X   the first agent's initial logits are shifted by -X\n"
	"      --payoff R,S,T,P   as above\n"
	"\n"
	"common options:\n"
	"  -s, --seed N           random seed (1)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { SUB_TRAIN, SUB_ANALYTIC };
static const char *const subs[] = { "train", "analytic", NULL };

enum {
	OPT_ENV, OPT_EST, OPT_PAYOFF, OPT_LANES, OPT_EPISODES, OPT_STEPS, OPT_META_BATCH,
	OPT_ITERS, OPT_P_NAIVE, OPT_META_AGENTS, OPT_PRESET, OPT_WIDTH, OPT_LR, OPT_EPOCHS,
	OPT_MINIBATCHES, OPT_ENTROPY, OPT_START_DEFECT, OPT_NAIVE_LR, OPT_NAIVE_HIDDEN,
	OPT_NAIVE_OPTIM, OPT_NAIVE_INIT_STD, OPT_NAIVE_VS_NAIVE, OPT_FIXED, OPT_POLICY_OUT,
	OPT_LOOKAHEAD, OPT_VERSUS, OPT_META_LR, OPT_GAMMA, OPT_INIT_STD,
};

#define TRAIN AX_SUB(SUB_TRAIN)
#define ANALYTIC AX_SUB(SUB_ANALYTIC)
#define BOTH (TRAIN | ANALYTIC)
#define FIXED AX_OPT_FIXED
/* FIXED: a setting the checkpoint holds, refused with --resume. */
static const struct ax_option options[] = {
	{ "env", 0, 1, TRAIN, OPT_ENV, FIXED },
	{ "estimator", 0, 1, TRAIN, OPT_EST, FIXED },
	{ "payoff", 0, 1, BOTH, OPT_PAYOFF, FIXED },
	{ "lanes", 0, 1, TRAIN, OPT_LANES, FIXED },
	{ "episodes", 0, 1, TRAIN, OPT_EPISODES, FIXED },
	{ "steps", 0, 1, TRAIN, OPT_STEPS, FIXED },
	{ "meta-batch", 0, 1, TRAIN, OPT_META_BATCH, FIXED },
	{ "iters", 0, 1, BOTH, OPT_ITERS, 0 },
	{ "p-naive", 0, 1, TRAIN, OPT_P_NAIVE, FIXED },
	{ "meta-agents", 0, 1, TRAIN, OPT_META_AGENTS, FIXED },
	{ "preset", 0, 1, TRAIN, OPT_PRESET, FIXED },
	{ "width", 0, 1, TRAIN, OPT_WIDTH, FIXED },
	{ "lr", 0, 1, TRAIN, OPT_LR, FIXED },
	{ "epochs", 0, 1, TRAIN, OPT_EPOCHS, FIXED },
	{ "minibatches", 0, 1, TRAIN, OPT_MINIBATCHES, FIXED },
	{ "entropy", 0, 1, TRAIN, OPT_ENTROPY, FIXED },
	{ "start-defect", 0, 1, BOTH, OPT_START_DEFECT, FIXED },
	{ "naive-lr", 0, 1, BOTH, OPT_NAIVE_LR, FIXED },
	{ "naive-hidden", 0, 1, TRAIN, OPT_NAIVE_HIDDEN, FIXED },
	{ "naive-optim", 0, 1, TRAIN, OPT_NAIVE_OPTIM, FIXED },
	{ "naive-init-std", 0, 1, TRAIN, OPT_NAIVE_INIT_STD, FIXED },
	{ "naive-vs-naive", 0, 0, TRAIN, OPT_NAIVE_VS_NAIVE, FIXED },
	{ "fixed", 0, 1, TRAIN, OPT_FIXED, FIXED },
	{ "policy-out", 0, 1, TRAIN, OPT_POLICY_OUT, 0 },
	{ "lookahead", 0, 1, ANALYTIC, OPT_LOOKAHEAD, 0 },
	{ "versus", 0, 1, ANALYTIC, OPT_VERSUS, 0 },
	{ "meta-lr", 0, 1, ANALYTIC, OPT_META_LR, 0 },
	{ "gamma", 0, 1, ANALYTIC, OPT_GAMMA, 0 },
	{ "init-std", 0, 1, ANALYTIC, OPT_INIT_STD, 0 },
	{ "seed", 's', 1, BOTH, AX_OPT_SEED, FIXED },
};

static const char *const preset_names[] = { "paper", "small", NULL };
static const char *const versus_names[] = { "meta", "naive", NULL };

/* n numbers "a,b,..." in [lo, hi] into v, or a usage error saying what. */
static void parse_floats(const struct ax_cli *cli, const char *arg, double lo, double hi, int n,
			 float *v, const char *what)
{
	double *x;
	if (ax_parse_list_double(ax_cli_opt(cli), arg, lo, hi, n, &x) != n)
		ax_usage_error("%s: expected %s, got '%s'", ax_cli_opt(cli), what, arg);
	for (int i = 0; i < n; i++)
		v[i] = (float)x[i];
	free(x);
}

/* --payoff R,S,T,P into payoff[mine][theirs]. */
static void parse_payoff(const struct ax_cli *cli, const char *arg, float payoff[2][2])
{
	parse_floats(cli, arg, -IPD_PAYOFF_MAX, IPD_PAYOFF_MAX, 4, &payoff[0][0],
		     "four numbers R,S,T,P");
}

/* One train option into `given` (the values as typed, range-checked). */
static void train_option(const struct ax_cli *cli, int id, const char *arg,
			 struct ipd_train_cfg *given, int *paper)
{
	switch (id) {
	case OPT_PAYOFF: parse_payoff(cli, arg, given->payoff); return;
	case OPT_FIXED:
		given->fixed = 1;
		parse_floats(cli, arg, 0, 1, IPD_OBS, given->fixed_coop,
			     "five probabilities P0,PCC,PCD,PDC,PDD");
		return;
	case OPT_NAIVE_VS_NAIVE: given->naive_vs_naive = 1; return;
	case OPT_PRESET: *paper = ax_parse_choice(ax_cli_opt(cli), arg, preset_names) == 0; return;
	case OPT_POLICY_OUT: given->policy_out = arg; return;
	}
	const struct ax_setting *s = ax_setting_find(ipd_train_settings, ipd_train_nsettings,
						     ax_cli_opt(cli));
	AX_ASSERT(s && "every other train option is a setting");
	ax_cli_setting(cli, s, arg, given);
}

static void analytic_option(const struct ax_cli *cli, int id, const char *arg,
			    struct ipd_analytic_cfg *ac)
{
	const char *o = ax_cli_opt(cli);
	switch (id) {
	case OPT_PAYOFF: parse_payoff(cli, arg, ac->payoff); break;
	case OPT_ITERS: ac->iters = (int)ax_parse_long(o, arg, 0, 100000000); break;
	case OPT_START_DEFECT: ac->init_defect = ax_parse_double(o, arg, -20, 20); break;
	case OPT_NAIVE_LR: ac->naive_lr = ax_parse_double(o, arg, 0, 1000); break;
	case OPT_LOOKAHEAD: ac->lookahead = (int)ax_parse_long(o, arg, 0, 10000); break;
	case OPT_VERSUS: ac->versus_naive = ax_parse_choice(o, arg, versus_names); break;
	case OPT_META_LR: ac->meta_lr = ax_parse_double(o, arg, 0, 1000); break;
	case OPT_GAMMA: ac->gamma = ax_parse_double(o, arg, 0, 0.9999); break;
	case OPT_INIT_STD: ac->init_std = ax_parse_double(o, arg, 0, 100); break;
	}
}

/* dst's field of setting s = src's. */
static void setting_copy(const struct ax_setting *s, void *dst, const void *src)
{
	static const size_t size[] = {
		[AX_SET_INT] = sizeof(int), [AX_SET_LONG] = sizeof(long),
		[AX_SET_DOUBLE] = sizeof(double), [AX_SET_FLOAT] = sizeof(float),
		[AX_SET_CHOICE] = sizeof(int), [AX_SET_BOOL] = sizeof(int),
		[AX_SET_U64] = sizeof(uint64_t),
	};
	memcpy((char *)dst + s->offset, (const char *)src + s->offset, size[s->type]);
}

/* Was the option of setting s given? */
static int setting_given(const struct ax_cli *cli, const struct ax_setting *s)
{
	if (!s->flag)
		return 0;
	for (size_t i = 0; i < AX_COUNTOF(options); i++)
		if (!strcmp(options[i].name, s->flag + 2))
			return ax_cli_seen(cli, options[i].id);
	return 0;
}

/* The settings of a train run: the checkpoint's (--resume) or the defaults
 * of --env and --preset, then the options given on top. */
static void train_settings(const struct ax_cli *cli, const struct ipd_train_cfg *given,
			   int paper, struct ipd_train_cfg *tc, struct ax_bundle *ckpt)
{
	const char *resume = cli->common.run.resume;
	ipd_train_defaults(tc, given->env);
	if (paper)
		ipd_train_preset_paper(tc);
	if (resume) {
		ax_cli_refuse(cli, AX_OPT_FIXED, "conflicts with --resume (the checkpoint fixes it)");
		enum ax_status st = ax_ckpt_open(resume, IPD_CKPT_KIND, ckpt);
		if (st || (st = ipd_train_load_settings(ckpt, tc)))
			ax_die_status(AX_EXIT_USAGE, st, "resume");
	}
	for (int i = 0; i < ipd_train_nsettings; i++)
		if (setting_given(cli, &ipd_train_settings[i]))
			setting_copy(&ipd_train_settings[i], tc, given);
	if (!resume && ax_cli_seen(cli, AX_OPT_SEED))
		tc->seed = cli->common.seed;
	tc->policy_out = given->policy_out;
	tc->quiet = cli->common.quiet;
	tc->run = cli->common.run;
	if (ipd_train_check(tc) && resume)
		ax_die(AX_EXIT_USAGE, "resume: %s: %s", resume, ax_error_detail());
	if (ipd_train_check(tc))
		ax_usage_error("%s", ax_error_detail());
}

int main(int argc, char **argv)
{
	ax_cli_init("ipd-learn");
	struct ax_cli cli = { .usage = usage_text, .subs = subs, .opts = options,
			      .nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN };
	cli.common.seed = 1;
	ax_cli_begin(&cli, argc, argv);
	struct ipd_train_cfg given;
	ipd_train_defaults(&given, IPD_ENV_IPD);
	struct ipd_analytic_cfg ac = {
		.gamma = 0.95, .naive_lr = 10.0, .meta_lr = 10.0, .lookahead = 1, .iters = 300,
		.init_std = 1.0,
	};
	memcpy(ac.payoff, given.payoff, sizeof ac.payoff);
	int paper = 0;
	const char *arg;
	for (int id; (id = ax_cli_next(&cli, &arg)) != AX_OPT_END;) {
		if (cli.sub == SUB_ANALYTIC)
			analytic_option(&cli, id, arg, &ac);
		else
			train_option(&cli, id, arg, &given, &paper);
	}
	if (cli.nfiles)
		ax_usage_error("unexpected argument '%s'", cli.files[0]);
	if (cli.sub == SUB_ANALYTIC) {
		ac.seed = cli.common.seed;
		ax_signals_install_pipe();
		return ax_cli_exiting(ipd_analytic_run(&ac, stdout));
	}
	struct ipd_train_cfg tc;
	struct ax_bundle ckpt;
	train_settings(&cli, &given, paper, &tc, &ckpt);
	int code = ipd_train_run(&tc, tc.run.resume ? &ckpt : NULL, stdout);
	if (tc.run.resume)
		ax_bundle_free(&ckpt);
	return code;
}
