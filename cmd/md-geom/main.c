/* md-geom — which geometry of plasticity trained these weights? Mirror-
 * descent training and the dual-space test statistic (arXiv:2305.19394).
 * See man/man1/md-geom.1. */
#include "md_geom.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
	"Usage: md-geom score [--candidates LIST] [--per-tensor] W0 W1\n"
	"       md-geom train [OPTION]...\n"
	"       md-geom synth [OPTION]...\n"
	"       md-geom finetune [OPTION]...\n"
	"       md-geom hist [--bins N] [--log-abs] W\n"
	"Which mirror-descent potential (geometry of plasticity) explains a weight change,\n"
	"and the paper's experiments that produce weights of a known geometry.\n"
	"Potentials: negentropy (sum |w| log |w|, multiplicative updates) and pP, the\n"
	"p-norm sum |w|^P / P, P > 1 (p2: gradient descent).\n"
	"\n"
	"score: W0, W1 NPY files (float32/float64, same size, '-' stdin, gzip or not).\n"
	"CSV on stdout: potential,distance,rel_change (tensor first with --per-tensor);\n"
	"the inferred geometry (smallest distance) on stderr.\n"
	"  -c, --candidates LIST  comma-separated potentials (negentropy,p1.1,...,p3)\n"
	"      --per-tensor       score each array of the NPY streams on its own\n"
	"\n"
	"train: linear regression, x ~ N(0, C) + U(-0.5, 0.5), C_ij = (-1)^|i-j|/(1+|i-j|)^q,\n"
	"labels +-1, w0 ~ N(0, 1/D), MSE, full-batch mirror descent (momentum, cosine\n"
	"schedule). CSV step,loss,lr on stdout; OUT/w0.npy and OUT/w1.npy.\n"
	"  -p, --potential P      the training geometry (p2)\n"
	"  -D, --dim D            weights (1000)\n"
	"  -N, --samples N        training points (round(D^E))\n"
	"  -e, --exponent E       N = round(D^E) (0.5)\n"
	"      --corr Q           correlation decay q (1)\n"
	"  -n, --steps N          full-batch steps (100)\n"
	"      --lr LR            learning rate (default: the largest of logspace(-7, -1, 16)\n"
	"                         that brings the loss under --target; finetune: up to 10)\n"
	"      --target L         loss the search aims for (1e-3; finetune 0.05)\n"
	"      --momentum M       (0.9)\n"
	"  -o, --out-dir DIR      where w0.npy and w1.npy go (.)\n"
	"      --log-every N      a CSV row every N steps (10)\n"
	"      --stop-at STEP     stop after STEP steps (schedule unchanged)\n"
	"\n"
	"synth: weights with a known dual change, grad phi(W1) = grad phi(W0) +\n"
	"scale |grad phi(1/sqrt(D))| xi; writes OUT/w0.npy and OUT/w1.npy.\n"
	"  -p, --potential P, -D, --dim D, -o, --out-dir DIR   as train\n"
	"      --init gauss|lognormal  W0 ~ N(0, 1/D), or log|w| ~ N(log(1/sqrt(D)), sigma^2)\n"
	"                         with random signs (gauss)\n"
	"      --scale S          size of the dual change (0.1)\n"
	"      --sigma S          log-normal spread (1)\n"
	"\n"
	"finetune: a network pretrained with SGD on Fashion-MNIST, fine-tuned with\n"
	"mirror descent on a few t10k images; OUT/w0.npy and OUT/w1.npy are NPY streams\n"
	"of its weight matrices (mlp: 3 layers; gru: input, recurrent, read-out).\n"
	"  -p, --potential P, -n, --steps N, --lr, --target, --momentum, -o, --out-dir,\n"
	"  --log-every, --stop-at   as train (the search aims at the fine-tuning loss)\n"
	"      --net mlp|gru      784-H-H-10 ReLU MLP, or a GRU over the 28 rows (mlp)\n"
	"      --hidden H         width (64)\n"
	"      --data DIR         Fashion-MNIST IDX files (" MDG_DEFAULT_DATA ")\n"
	"      --pretrain-steps N SGD steps (1000)  --pretrain-lr LR (0.05)\n"
	"      --pretrain-images N  first N training images (60000)\n"
	"  -b, --batch B          pretraining batch (64)\n"
	"      --images N         fine-tuning images, the first N of t10k (256)\n"
	"\n"
	"hist: CSV lo,hi,count,density of the weights of W (every array of the stream);\n"
	"the distance of their standardised distribution to a normal on stderr.\n"
	"  -b, --bins N           bins (40)\n"
	"      --log-abs          of log10 |w| (zeros counted apart)\n"
	"\n"
	"common:\n"
	"  -s, --seed N           seed (1)\n"
	AX_COMMON_HELP
	"\n"
	"Exit status: 0 success, 1 runtime failure, 2 usage or bad input;\n"
	"a run stopped by a signal exits 130 (SIGINT), 143 (SIGTERM) or 141 (its\n"
	"output closed); md-geom keeps no checkpoints.\n";

enum { SCORE, TRAIN, SYNTH, FINETUNE, HIST };
static const char *const subs[] = { "score", "train", "synth", "finetune", "hist", NULL };

enum {
	OPT_CANDIDATES, OPT_PER_TENSOR, OPT_POTENTIAL, OPT_DIM, OPT_SAMPLES, OPT_EXPONENT,
	OPT_CORR, OPT_STEPS, OPT_LR, OPT_TARGET, OPT_MOMENTUM, OPT_OUT_DIR, OPT_INIT, OPT_SCALE,
	OPT_SIGMA, OPT_NET, OPT_HIDDEN, OPT_DATA, OPT_PRE_STEPS, OPT_PRE_LR, OPT_PRE_IMAGES,
	OPT_BATCH, OPT_IMAGES, OPT_BINS, OPT_LOG_ABS,
};
#define S_TRAIN_FT (AX_SUB(TRAIN) | AX_SUB(FINETUNE))
static const struct ax_option opts[] = {
	{ "candidates", 'c', 1, AX_SUB(SCORE), OPT_CANDIDATES, 0 },
	{ "per-tensor", 0, 0, AX_SUB(SCORE), OPT_PER_TENSOR, 0 },
	{ "potential", 'p', 1, S_TRAIN_FT | AX_SUB(SYNTH), OPT_POTENTIAL, 0 },
	{ "dim", 'D', 1, AX_SUB(TRAIN) | AX_SUB(SYNTH), OPT_DIM, 0 },
	{ "samples", 'N', 1, AX_SUB(TRAIN), OPT_SAMPLES, 0 },
	{ "exponent", 'e', 1, AX_SUB(TRAIN), OPT_EXPONENT, 0 },
	{ "corr", 0, 1, AX_SUB(TRAIN), OPT_CORR, 0 },
	{ "steps", 'n', 1, S_TRAIN_FT, OPT_STEPS, 0 },
	{ "lr", 0, 1, S_TRAIN_FT, OPT_LR, 0 },
	{ "target", 0, 1, S_TRAIN_FT, OPT_TARGET, 0 },
	{ "momentum", 0, 1, S_TRAIN_FT, OPT_MOMENTUM, 0 },
	{ "out-dir", 'o', 1, S_TRAIN_FT | AX_SUB(SYNTH), OPT_OUT_DIR, 0 },
	{ "init", 0, 1, AX_SUB(SYNTH), OPT_INIT, 0 },
	{ "scale", 0, 1, AX_SUB(SYNTH), OPT_SCALE, 0 },
	{ "sigma", 0, 1, AX_SUB(SYNTH), OPT_SIGMA, 0 },
	{ "net", 0, 1, AX_SUB(FINETUNE), OPT_NET, 0 },
	{ "hidden", 0, 1, AX_SUB(FINETUNE), OPT_HIDDEN, 0 },
	{ "data", 0, 1, AX_SUB(FINETUNE), OPT_DATA, 0 },
	{ "pretrain-steps", 0, 1, AX_SUB(FINETUNE), OPT_PRE_STEPS, 0 },
	{ "pretrain-lr", 0, 1, AX_SUB(FINETUNE), OPT_PRE_LR, 0 },
	{ "pretrain-images", 0, 1, AX_SUB(FINETUNE), OPT_PRE_IMAGES, 0 },
	{ "batch", 'b', 1, AX_SUB(FINETUNE), OPT_BATCH, 0 },
	{ "images", 0, 1, AX_SUB(FINETUNE), OPT_IMAGES, 0 },
	{ "bins", 'b', 1, AX_SUB(HIST), OPT_BINS, 0 },
	{ "log-abs", 0, 0, AX_SUB(HIST), OPT_LOG_ABS, 0 },
	/* The runs are short searches: --log-every and --stop-at, no checkpoints. */
	{ "log-every", 0, 1, S_TRAIN_FT, AX_OPT_LOG_EVERY, 0 },
	{ "stop-at", 0, 1, S_TRAIN_FT, AX_OPT_STOP_AT, 0 },
};

/* Every sub-command's settings; each reads the ones it takes. */
struct opts {
	struct ax_potential cand[MDG_MAX_CANDIDATES];
	int ncand, per_tensor, bins, log_abs;
	struct mdg_train_cfg train;
	double exponent;
	struct mdg_synth synth;
	struct mdg_finetune ft;
	struct mdg_md md;
	const char *data;
};

static void defaults(struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->ncand = mdg_default_candidates(o->cand);
	o->bins = 40;
	o->train = (struct mdg_train_cfg){ .pot = { AX_POT_PNORM, 2.0 }, .D = 1000, .steps = 100,
					   .q = 1, .momentum = 0.9, .target = NAN, .out_dir = "." };
	o->exponent = 0.5;
	o->synth = (struct mdg_synth){ MDG_INIT_GAUSS, 1000, 0.1, 1.0 };
	o->ft = (struct mdg_finetune){ MDG_NET_MLP, 64, 60000, 1000, 64, 256, 0.05f, 1 };
	o->data = MDG_DEFAULT_DATA;
}

static struct ax_potential parse_potential(const char *opt, const char *arg)
{
	struct ax_potential p;
	if (ax_potential_parse(arg, &p))
		ax_usage_error("%s: %s", opt, ax_error_detail());
	return p;
}

static void parse_one(struct opts *o, int id, const char *opt, const char *arg)
{
	switch (id) {
	case OPT_CANDIDATES:
		if (mdg_parse_candidates(arg, o->cand, &o->ncand))
			ax_usage_error("%s: %s", opt, ax_error_detail());
		break;
	case OPT_PER_TENSOR: o->per_tensor = 1; break;
	case OPT_POTENTIAL: o->train.pot = parse_potential(opt, arg); break;
	case OPT_DIM: o->train.D = o->synth.D = (int)ax_parse_long(opt, arg, 2, 1 << 24); break;
	case OPT_SAMPLES: o->train.N = (int)ax_parse_long(opt, arg, 1, 1 << 20); break;
	case OPT_EXPONENT: o->exponent = ax_parse_double(opt, arg, 0, 1); break;
	case OPT_CORR: o->train.q = ax_parse_double(opt, arg, 0.1, 10); break;
	case OPT_STEPS: o->train.steps = (int)ax_parse_long(opt, arg, 1, 1 << 24); break;
	case OPT_LR: o->train.lr = ax_parse_double(opt, arg, 1e-12, 1e3); break;
	case OPT_TARGET: o->train.target = ax_parse_double(opt, arg, 0, 1e30); break;
	case OPT_MOMENTUM: o->train.momentum = ax_parse_double(opt, arg, 0, 0.999); break;
	case OPT_OUT_DIR: o->train.out_dir = arg; break;
	case OPT_INIT:
		o->synth.init = ax_parse_choice(opt, arg, (const char *const[]){ "gauss", "lognormal", NULL });
		break;
	case OPT_SCALE: o->synth.scale = ax_parse_double(opt, arg, 0, 100); break;
	case OPT_SIGMA: o->synth.sigma = ax_parse_double(opt, arg, 0, 10); break;
	case OPT_NET: o->ft.net = ax_parse_choice(opt, arg, mdg_net_names); break;
	case OPT_HIDDEN: o->ft.hidden = (int)ax_parse_long(opt, arg, 1, 4096); break;
	case OPT_DATA: o->data = arg; break;
	case OPT_PRE_STEPS: o->ft.pre_steps = (int)ax_parse_long(opt, arg, 0, 1 << 24); break;
	case OPT_PRE_LR: o->ft.pre_lr = (float)ax_parse_double(opt, arg, 0, 10); break;
	case OPT_PRE_IMAGES: o->ft.pre_n = (int)ax_parse_long(opt, arg, 1, 1 << 24); break;
	case OPT_BATCH: o->ft.batch = (int)ax_parse_long(opt, arg, 1, 1 << 16); break;
	case OPT_IMAGES: o->ft.ft_n = (int)ax_parse_long(opt, arg, 1, 1 << 16); break;
	case OPT_BINS: o->bins = (int)ax_parse_long(opt, arg, 1, 100000); break;
	case OPT_LOG_ABS: o->log_abs = 1; break;
	}
}

/* Runtime failures exit 1, bad input 2. */
_Noreturn static void die(enum ax_status st, const char *what)
{
	int input = st == AX_ERR_FORMAT || st == AX_ERR_ARG || st == AX_ERR_UNSUPPORTED ||
		    st == AX_ERR_NOTFOUND;
	ax_die_status(input ? AX_EXIT_USAGE : AX_EXIT_FAIL, st, what);
}

static void need_files(const struct ax_cli *cli, int n, const char *what)
{
	if (cli->nfiles != n)
		ax_usage_error("%s: %s (got %d operand%s)", cli->sub_name, what, cli->nfiles,
			       cli->nfiles == 1 ? "" : "s");
}

static void make_dir(const char *dir)
{
	if (mkdir(dir, 0777) && errno != EEXIST)
		ax_die(AX_EXIT_FAIL, "%s: cannot create: %s", dir, strerror(errno));
}

static int cmd_score(const struct ax_cli *cli, const struct opts *o)
{
	need_files(cli, 2, "two weight files are needed, W0 and W1");
	if (!strcmp(cli->files[0], "-") && !strcmp(cli->files[1], "-"))
		ax_usage_error("score: W0 and W1 cannot both be standard input");
	struct mdg_score_job job = { cli->files[0], cli->files[1], o->cand, o->ncand,
				     o->per_tensor };
	enum ax_status st = mdg_score_files(&job, stdout, cli->common.quiet ? NULL : stderr);
	if (st)
		die(st, NULL);
	return AX_EXIT_OK;
}

static int cmd_train(const struct ax_cli *cli, struct opts *o)
{
	need_files(cli, 0, "no operands are taken");
	struct mdg_train_cfg c = o->train;
	if (!c.N)
		c.N = (int)AX_MAX(1, lround(pow(c.D, o->exponent)));
	if (isnan(c.target))
		c.target = 1e-3;
	make_dir(c.out_dir);
	int code = 0;
	enum ax_status st = mdg_regress_run(&c, &cli->common, &code);
	if (st)
		die(st, "train");
	return code;
}

static int cmd_synth(const struct ax_cli *cli, const struct opts *o)
{
	need_files(cli, 0, "no operands are taken");
	int D = o->synth.D;
	float *w0 = ax_xmalloc((size_t)D * sizeof *w0), *w1 = ax_xmalloc((size_t)D * sizeof *w1);
	mdg_synth(&o->synth, o->train.pot, cli->common.seed, w0, w1);
	make_dir(o->train.out_dir);
	enum ax_status st = mdg_save_weights(o->train.out_dir, "w0.npy", w0, (size_t)D);
	if (!st)
		st = mdg_save_weights(o->train.out_dir, "w1.npy", w1, (size_t)D);
	if (st)
		die(st, "synth");
	free(w0);
	free(w1);
	return AX_EXIT_OK;
}

static int cmd_finetune(const struct ax_cli *cli, struct opts *o)
{
	need_files(cli, 0, "no operands are taken");
	struct mdg_finetune ft = o->ft;
	ft.seed = cli->common.seed;
	struct mdg_md md = { o->train.pot, o->train.steps, (float)o->train.lr,
			     (float)o->train.momentum };
	make_dir(o->train.out_dir);
	int code = 0;
	double target = isnan(o->train.target) ? 0.05 : o->train.target;
	enum ax_status st = mdg_finetune_run(&ft, &md, target, o->data, o->train.out_dir,
					     &cli->common, &code);
	if (st)
		die(st, "finetune");
	return code;
}

static int cmd_hist(const struct ax_cli *cli, const struct opts *o)
{
	need_files(cli, 1, "one weight file is needed");
	enum ax_status st = mdg_hist_file(cli->files[0], o->bins, o->log_abs, stdout,
					  cli->common.quiet ? NULL : stderr);
	if (st)
		die(st, NULL);
	return AX_EXIT_OK;
}

int main(int argc, char **argv)
{
	ax_cli_init("md-geom");
	struct ax_cli cli = { .usage = usage, .subs = subs, .opts = opts,
			      .nopts = AX_COUNTOF(opts), .common.seed = 1 };
	struct opts o;
	defaults(&o);
	ax_cli_begin(&cli, argc, argv);
	cli.common.run.log_every = 10;
	const char *arg;
	for (int id; (id = ax_cli_next(&cli, &arg)) != AX_OPT_END;)
		parse_one(&o, id, ax_cli_opt(&cli), arg);
	switch (cli.sub) {
	case SCORE: return cmd_score(&cli, &o);
	case TRAIN: return cmd_train(&cli, &o);
	case SYNTH: return cmd_synth(&cli, &o);
	case FINETUNE: return cmd_finetune(&cli, &o);
	default: return cmd_hist(&cli, &o);
	}
}
