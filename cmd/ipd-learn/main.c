/* ipd-learn — learning-aware policy gradients (COALA-PG, arXiv:2410.18636):
 * meta agents that account for their co-players' learning, in the iterated
 * prisoner's dilemma and CleanUp-lite; and the exact tabular IPD of App. C. */
#include "ipd_learn.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static const char usage_text[] =
	"Usage: ipd-learn [train] [OPTION]...\n"
	"       ipd-learn analytic [OPTION]...\n"
	"Meta agents learn, by PPO on batch lambda returns, to play against co-players\n"
	"that are themselves learning. One CSV row per iteration on stdout.\n"
	"\n"
	"train options:\n"
	"      --env ENV            ipd (default) or cleanup (CleanUp-lite)\n"
	"      --estimator EST      coala (default), unaware, mfos\n"
	"      --payoff R,S,T,P     IPD payoffs of CC, CD, DC, DD to the first player\n"
	"                           (default 1,-1,2,0)\n"
	"      --lanes B            parallel inner episodes per meta-trajectory (16; cleanup 8)\n"
	"      --episodes M         inner episodes per meta-trajectory (20; cleanup 10)\n"
	"      --steps T            steps per inner episode (10; cleanup 32)\n"
	"      --meta-batch E       meta-trajectories per iteration (128; cleanup 8)\n"
	"      --iters N            meta-iterations (150; cleanup 200)\n"
	"      --p-naive P          probability a co-player is a naive learner (1)\n"
	"      --meta-agents N      meta agents in the pool (1)\n"
	"      --preset NAME        paper: the paper's sizes (E 128, 3000 iterations, lr 3e-4;\n"
	"                           IPD B 16 M 20 T 10, CleanUp B 32 M 100 T 64); small:\n"
	"                           the defaults\n"
	"      --width W            recurrent width of the meta agent (32)\n"
	"      --lr X               meta agents' Adam learning rate (1e-3)\n"
	"      --epochs N           PPO epochs (4)\n"
	"      --minibatches N      PPO minibatches (2)\n"
	"      --entropy X          PPO entropy bonus (0, as in the paper)\n"
	"      --start-defect X     meta agents start from defection: policy bias X on\n"
	"                           defect (IPD; 0 = uniform, 3 = 95% defection)\n"
	"      --naive-lr X         naive learners' step size (IPD Adam 0.6; cleanup Adam 5e-3)\n"
	"      --naive-hidden H     naive hidden width, 0 = tabular/linear (IPD 0; cleanup 32)\n"
	"      --naive-optim NAME   sgd or adam (adam)\n"
	"      --naive-init-std X   spread of the naive learners' initial logits (IPD 0.5)\n"
	"      --naive-vs-naive     baseline: a naive learner in seat 0 too (no meta agent)\n"
	"      --fixed P0,PCC,PCD,PDC,PDD\n"
	"                           reference: seat 0 plays a fixed memory-one strategy,\n"
	"                           P(cooperate) at the start and after CC, CD, DC, DD (own\n"
	"                           action first), against naive learners (IPD; e.g. tit for\n"
	"                           tat 1,1,0,1,0)\n"
	"      --policy-out FILE    last iteration's behaviour per inner episode, NPY (2, M, K)\n"
	"      --checkpoint FILE    save weights and optimiser state (atomically)\n"
	"      --every N            checkpoint every N iterations (50) and at the end\n"
	"      --resume FILE        continue a checkpointed run bit-exactly\n"
	"\n"
	"analytic options (exact tabular IPD, App. C):\n"
	"      --lookahead K        naive steps the meta agents look ahead (1; 0 = naive)\n"
	"      --versus WHO         meta: two look-ahead agents (default); naive: one\n"
	"                           look-ahead agent against fresh naive learners taking K steps\n"
	"      --iters N            gradient steps (300)\n"
	"      --naive-lr X         naive step size on the per-step return (10)\n"
	"      --meta-lr X          meta agents' step size (10)\n"
	"      --gamma X            discount (0.95)\n"
	"      --init-std X         spread of the initial logits (1)\n"
	"      --start-defect X     the first agent's initial logits are shifted by -X\n"
	"      --payoff R,S,T,P     as above\n"
	"\n"
	"common options:\n"
	"  -s, --seed N             random seed (1)\n"
	"      --threads N          threads, 0 = all cores (0)\n"
	"  -q, --quiet              no progress on stderr\n"
	"  -h, --help               print this help and exit\n"
	"      --version            print the version and exit\n"
	"\n"
	"Exit status: 0 success, 1 runtime failure, 2 usage error or bad input,\n"
	"130 interrupted (the checkpoint, if any, is saved first).\n";

enum {
	OPT_ENV = 256, OPT_EST, OPT_PAYOFF, OPT_LANES, OPT_EPISODES, OPT_STEPS, OPT_META_BATCH,
	OPT_ITERS, OPT_P_NAIVE, OPT_META_AGENTS, OPT_PRESET, OPT_WIDTH, OPT_LR, OPT_EPOCHS,
	OPT_MINIBATCHES, OPT_START_DEFECT, OPT_NAIVE_LR, OPT_NAIVE_HIDDEN, OPT_NAIVE_OPTIM,
	OPT_NAIVE_INIT_STD, OPT_POLICY_OUT, OPT_CHECKPOINT, OPT_EVERY, OPT_RESUME, OPT_LOOKAHEAD,
	OPT_VERSUS, OPT_META_LR, OPT_NAIVE_VS_NAIVE, OPT_GAMMA, OPT_INIT_STD, OPT_THREADS, OPT_VERSION, OPT_FIXED,
	OPT_ENTROPY,
};

static const struct option long_options[] = {
	{ "env", required_argument, NULL, OPT_ENV },
	{ "estimator", required_argument, NULL, OPT_EST },
	{ "payoff", required_argument, NULL, OPT_PAYOFF },
	{ "lanes", required_argument, NULL, OPT_LANES },
	{ "episodes", required_argument, NULL, OPT_EPISODES },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "meta-batch", required_argument, NULL, OPT_META_BATCH },
	{ "iters", required_argument, NULL, OPT_ITERS },
	{ "p-naive", required_argument, NULL, OPT_P_NAIVE },
	{ "meta-agents", required_argument, NULL, OPT_META_AGENTS },
	{ "preset", required_argument, NULL, OPT_PRESET },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "minibatches", required_argument, NULL, OPT_MINIBATCHES },
	{ "entropy", required_argument, NULL, OPT_ENTROPY },
	{ "start-defect", required_argument, NULL, OPT_START_DEFECT },
	{ "naive-lr", required_argument, NULL, OPT_NAIVE_LR },
	{ "naive-hidden", required_argument, NULL, OPT_NAIVE_HIDDEN },
	{ "naive-optim", required_argument, NULL, OPT_NAIVE_OPTIM },
	{ "naive-init-std", required_argument, NULL, OPT_NAIVE_INIT_STD },
	{ "policy-out", required_argument, NULL, OPT_POLICY_OUT },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "every", required_argument, NULL, OPT_EVERY },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "lookahead", required_argument, NULL, OPT_LOOKAHEAD },
	{ "versus", required_argument, NULL, OPT_VERSUS },
	{ "naive-vs-naive", no_argument, NULL, OPT_NAIVE_VS_NAIVE },
	{ "fixed", required_argument, NULL, OPT_FIXED },
	{ "meta-lr", required_argument, NULL, OPT_META_LR },
	{ "gamma", required_argument, NULL, OPT_GAMMA },
	{ "init-std", required_argument, NULL, OPT_INIT_STD },
	{ "seed", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void parse_payoff(const char *s, float payoff[2][2])
{
	double v[4];
	char *end;
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		v[i] = strtod(p, &end);
		if (end == p || !isfinite(v[i]) || (i < 3 ? *end != ',' : *end != '\0'))
			ax_usage_error("--payoff: expected four numbers R,S,T,P, got '%s'", s);
		if (fabs(v[i]) > IPD_PAYOFF_MAX)
			ax_usage_error("--payoff: %g is out of range [%g, %g]", v[i], -IPD_PAYOFF_MAX,
				       IPD_PAYOFF_MAX);
		p = end + 1;
	}
	payoff[0][0] = (float)v[0];
	payoff[0][1] = (float)v[1];
	payoff[1][0] = (float)v[2];
	payoff[1][1] = (float)v[3];
}

static void parse_fixed(const char *s, float coop[IPD_OBS])
{
	char *end;
	const char *p = s;
	for (int i = 0; i < IPD_OBS; i++) {
		double v = strtod(p, &end);
		if (end == p || !(v >= 0 && v <= 1) || (i < IPD_OBS - 1 ? *end != ',' : *end != '\0'))
			ax_usage_error("--fixed: expected five probabilities P0,PCC,PCD,PDC,PDD in [0, 1], "
				       "got '%s'", s);
		coop[i] = (float)v;
		p = end + 1;
	}
}

static const char *const env_names[] = { "ipd", "cleanup", NULL };
static const char *const preset_names[] = { "paper", "small", NULL };
static const char *const optim_names[] = { "sgd", "adam", NULL };
static const char *const versus_names[] = { "meta", "naive", NULL };

/* Options only one sub-command understands are usage errors in the other. */
static int train_only(int opt)
{
	return opt == OPT_ENV || opt == OPT_EST || opt == OPT_LANES || opt == OPT_EPISODES ||
	       opt == OPT_STEPS || opt == OPT_META_BATCH || opt == OPT_P_NAIVE ||
	       opt == OPT_META_AGENTS || opt == OPT_PRESET || opt == OPT_WIDTH || opt == OPT_LR ||
	       opt == OPT_EPOCHS || opt == OPT_MINIBATCHES || opt == OPT_NAIVE_HIDDEN ||
	       opt == OPT_NAIVE_OPTIM || opt == OPT_NAIVE_INIT_STD || opt == OPT_POLICY_OUT ||
	       opt == OPT_CHECKPOINT || opt == OPT_EVERY || opt == OPT_RESUME ||
	       opt == OPT_NAIVE_VS_NAIVE || opt == OPT_FIXED || opt == OPT_ENTROPY;
}

static int analytic_only(int opt)
{
	return opt == OPT_LOOKAHEAD || opt == OPT_VERSUS || opt == OPT_META_LR ||
	       opt == OPT_GAMMA || opt == OPT_INIT_STD;
}

int main(int argc, char **argv)
{
	ax_cli_init("ipd-learn");
	int analytic = 0;
	if (argc > 1 && (!strcmp(argv[1], "analytic") || !strcmp(argv[1], "train"))) {
		analytic = !strcmp(argv[1], "analytic");
		argv[1] = argv[0];
		argv++;
		argc--;
	}

	// First pass: --env and --preset choose the defaults the other options adjust.
	enum ipd_env_kind env = IPD_ENV_IPD;
	int paper = 0, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:qh", long_options, NULL)) != -1) {
		if (opt == OPT_ENV && !analytic)
			env = (enum ipd_env_kind)ax_parse_choice("--env", optarg, env_names);
		else if (opt == OPT_PRESET && !analytic)
			paper = ax_parse_choice("--preset", optarg, preset_names) == 0;
	}
	struct ipd_train_cfg tc;
	ipd_train_defaults(&tc, env);
	if (paper)
		ipd_train_preset_paper(&tc);
	struct ipd_analytic_cfg ac = {
		.gamma = 0.95, .naive_lr = 10.0, .meta_lr = 10.0, .lookahead = 1, .iters = 300,
		.init_std = 1.0, .seed = 1,
	};
	memcpy(ac.payoff, tc.payoff, sizeof ac.payoff);
	int threads = 0;

	optind = 0;   // GNU getopt: full re-initialisation
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "s:qh", long_options, NULL)) != -1) {
		if (analytic && train_only(opt))
			ax_usage_error("option '%s' is for training, not 'analytic'", argv[optind - 1]);
		if (!analytic && analytic_only(opt))
			ax_usage_error("option '%s' is for 'analytic' only", argv[optind - 1]);
		switch (opt) {
		case OPT_ENV: case OPT_PRESET: break;
		case OPT_EST: tc.est = (enum ipd_estimator)ax_parse_choice("--estimator", optarg, ipd_estimator_names); break;
		case OPT_PAYOFF: parse_payoff(optarg, tc.payoff); parse_payoff(optarg, ac.payoff); break;
		case OPT_LANES: tc.lanes = (int)ax_parse_long("--lanes", optarg, 1, 4096); break;
		case OPT_EPISODES: tc.episodes = (int)ax_parse_long("--episodes", optarg, 1, 100000); break;
		case OPT_STEPS: tc.steps = (int)ax_parse_long("--steps", optarg, 1, 100000); break;
		case OPT_META_BATCH: tc.meta_batch = (int)ax_parse_long("--meta-batch", optarg, 1, 100000); break;
		case OPT_ITERS:
			tc.iters = (int)ax_parse_long("--iters", optarg, 0, 100000000);
			ac.iters = tc.iters;
			break;
		case OPT_P_NAIVE: tc.p_naive = ax_parse_double("--p-naive", optarg, 0, 1); break;
		case OPT_META_AGENTS: tc.meta_agents = (int)ax_parse_long("--meta-agents", optarg, 1, 1024); break;
		case OPT_WIDTH: tc.width = (int)ax_parse_long("--width", optarg, 1, 4096); break;
		case OPT_LR: tc.lr = (float)ax_parse_double("--lr", optarg, 0, 10); break;
		case OPT_EPOCHS: tc.epochs = (int)ax_parse_long("--epochs", optarg, 1, 1000); break;
		case OPT_MINIBATCHES: tc.minibatches = (int)ax_parse_long("--minibatches", optarg, 1, 100000); break;
		case OPT_ENTROPY: tc.entropy_coef = (float)ax_parse_double("--entropy", optarg, 0, 10); break;
		case OPT_START_DEFECT:
			tc.defect_bias = (float)ax_parse_double("--start-defect", optarg, -20, 20);
			ac.init_defect = tc.defect_bias;
			break;
		case OPT_NAIVE_LR:
			tc.naive.lr = (float)ax_parse_double("--naive-lr", optarg, 0, 1000);
			ac.naive_lr = tc.naive.lr;
			break;
		case OPT_NAIVE_HIDDEN: tc.naive.hidden = (int)ax_parse_long("--naive-hidden", optarg, 0, 256); break;
		case OPT_NAIVE_OPTIM: tc.naive.adam = ax_parse_choice("--naive-optim", optarg, optim_names); break;
		case OPT_NAIVE_INIT_STD: tc.naive.init_std = (float)ax_parse_double("--naive-init-std", optarg, 0, 100); break;
		case OPT_NAIVE_VS_NAIVE: tc.naive_vs_naive = 1; break;
		case OPT_FIXED: tc.fixed = 1; parse_fixed(optarg, tc.fixed_coop); break;
		case OPT_POLICY_OUT: tc.policy_out = optarg; break;
		case OPT_CHECKPOINT: tc.checkpoint = optarg; break;
		case OPT_EVERY: tc.every = ax_parse_long("--every", optarg, 1, 100000000); break;
		case OPT_RESUME: tc.resume = optarg; break;
		case OPT_LOOKAHEAD: ac.lookahead = (int)ax_parse_long("--lookahead", optarg, 0, 10000); break;
		case OPT_VERSUS: ac.versus_naive = ax_parse_choice("--versus", optarg, versus_names); break;
		case OPT_META_LR: ac.meta_lr = ax_parse_double("--meta-lr", optarg, 0, 1000); break;
		case OPT_GAMMA: ac.gamma = ax_parse_double("--gamma", optarg, 0, 0.9999); break;
		case OPT_INIT_STD: ac.init_std = ax_parse_double("--init-std", optarg, 0, 100); break;
		case 's': tc.seed = ac.seed = ax_parse_seed("--seed", optarg); break;
		case OPT_THREADS: threads = (int)ax_parse_long("--threads", optarg, 0, 4096); break;
		case 'q': tc.quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return AX_EXIT_OK;
		case OPT_VERSION: ax_print_version(); return AX_EXIT_OK;
		default: ax_usage_error("unknown option");
		}
	}
	if (optind < argc)
		ax_usage_error("unexpected argument '%s'", argv[optind]);
	ax_threads_set(threads);
	ax_signals_install();
	if (analytic)
		return ipd_analytic_run(&ac, stdout);

	if (tc.meta_batch < tc.meta_agents)
		ax_usage_error("--meta-batch %d is smaller than --meta-agents %d: every meta agent "
			       "needs a meta-trajectory each iteration", tc.meta_batch, tc.meta_agents);
	if (tc.env == IPD_ENV_CLEANUP && tc.fixed)
		ax_usage_error("--fixed is for the IPD");
	if (tc.fixed && tc.naive_vs_naive)
		ax_usage_error("--fixed and --naive-vs-naive both choose seat 0's player");
	if ((tc.fixed || tc.naive_vs_naive) && tc.p_naive < 1)
		ax_usage_error("%s plays against naive learners only: --p-naive must be 1",
			       tc.fixed ? "--fixed" : "--naive-vs-naive");
	if (tc.env == IPD_ENV_CLEANUP && tc.defect_bias != 0)
		ax_usage_error("--start-defect is for the IPD");
	double lanes_total = (double)tc.lanes * tc.meta_batch, seq = (double)tc.episodes * tc.steps;
	if (lanes_total * seq > 2e9)
		ax_usage_error("meta-batch x lanes x episodes x steps = %.3g steps per iteration is too large",
			       lanes_total * seq);
	return ipd_train_run(&tc, stdout);
}
