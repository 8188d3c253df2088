/* ssl-train — BarlowTwins and VICReg with small projectors and many views
 * on Fashion-MNIST (arXiv:2312.10725).
 *
 *   ssl-train pretrain [OPTION]...            pretrain, CSV per epoch on stdout
 *   ssl-train probe    -m CKPT [OPTION]...    linear-probe test accuracy
 *   ssl-train embed    -m CKPT [OPTION]...    representations as NPY
 *   ssl-train loss     --loss L [OPTION]... VIEWS   the loss of given projections
 */
#include "ssl.h"

#include <string.h>

static const char usage_text[] =
	"Usage: ssl-train pretrain [OPTION]...\n"
	"       ssl-train probe    -m CKPT [OPTION]...\n"
	"       ssl-train embed    -m CKPT [OPTION]...\n"
	"       ssl-train loss     [OPTION]... VIEWS\n"
	"Self-supervised pretraining (BarlowTwins, VICReg) with a small projector and\n"
	"A augmented views per image, on Fashion-MNIST.\n"
	"\n"
	"pretrain: CSV epoch,step,loss,<terms>,probe_acc,images_per_s on stdout.\n"
	"      --loss NAME        barlow (default) or vicreg\n"
	"      --proj-dim D       projector dimension (default 128)\n"
	"      --lambda L         barlow: off-diagonal weight; vicreg: invariance weight\n"
	"                         (vicreg default 25)\n"
	"      --lambda-scale K   lambda = K / D instead (barlow default 5.12)\n"
	"      --mu M             vicreg: variance weight (25)\n"
	"      --nu N             vicreg: covariance weight (1)\n"
	"      --views A          augmented views per image, 2..16 (default 2)\n"
	"      --subset F         a fixed, seeded fraction of the training images (1)\n"
	"      --width W          backbone channels W, 2W, 4W; R = 4W (default 16)\n"
	"  -n, --epochs N         epochs (default 10)\n"
	"  -b, --batch N          images per step (default 256)\n"
	"      --groups G         BatchNorm and loss per group of batch/G images, as on G\n"
	"                         devices (default: the number of MPI ranks)\n"
	"      --lr X             Adam learning rate (1e-3)\n"
	"      --weight-decay X   Adam weight decay (1e-6)\n"
	"      --probe-every N    linear-probe accuracy every N epochs and at epoch 0\n"
	"                         (default 0: never)\n"
	"      --probe-limit N    training images of that probe (default 0: all)\n"
	AX_RUN_HELP
	"  -m FILE                short for --checkpoint\n"
	"\n"
	"probe: CSV accuracy,train_images,test_images,probe_epochs: Linear(R -> 10) on\n"
	"the frozen representation, Adam 1e-3, label smoothing 0.1.\n"
	"embed: the representations (N, R) float32 as NPY.\n"
	"  -m, --checkpoint FILE  the pretrained model\n"
	"      --limit N          use the first N images only\n"
	"      --probe-epochs N   probe (and pretrain's probe): epochs (default 10)\n"
	"      --split NAME       embed: train or test (default test)\n"
	"  -o, --output FILE      embed: the NPY file (default -, standard output)\n"
	"      --labels FILE      embed: the labels (N) int32 as NPY\n"
	"\n"
	"loss: CSV loss,on,off (barlow) or loss,inv,var,cov (vicreg) of VIEWS, one NPY\n"
	"array (A, N, D) or a stream of A arrays (N, D); takes --loss, --lambda,\n"
	"--lambda-scale, --mu, --nu.\n"
	"\n"
	"      --data DIR         Fashion-MNIST IDX files (default\n"
	"                         /usr/share/datasets/fashion-mnist)\n"
	"  -s, --seed N           seed (default 42)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { SUB_PRETRAIN, SUB_PROBE, SUB_EMBED, SUB_LOSS };
static const char *const subs[] = { "pretrain", "probe", "embed", "loss", NULL };
#define PRE AX_SUB(SUB_PRETRAIN)
#define LOSS (AX_SUB(SUB_PRETRAIN) | AX_SUB(SUB_LOSS))
#define USE (AX_SUB(SUB_PROBE) | AX_SUB(SUB_EMBED))
#define FIX AX_OPT_FIXED

enum {
	OPT_SETTING, OPT_LOSS, OPT_LAMBDA, OPT_SCALE, OPT_VIC, OPT_GROUPS, OPT_PROBE_EPOCHS,
	OPT_DATA = 100, OPT_LIMIT, OPT_SPLIT, OPT_OUTPUT, OPT_LABELS,
};
static const struct ax_option options[] = {
	{ "loss", 0, 1, LOSS, OPT_LOSS, FIX },
	{ "proj-dim", 0, 1, PRE, OPT_SETTING, FIX },
	{ "lambda", 0, 1, LOSS, OPT_LAMBDA, FIX },
	{ "lambda-scale", 0, 1, LOSS, OPT_SCALE, FIX },
	{ "mu", 0, 1, LOSS, OPT_VIC, FIX },
	{ "nu", 0, 1, LOSS, OPT_VIC, FIX },
	{ "views", 0, 1, PRE, OPT_SETTING, FIX },
	{ "subset", 0, 1, PRE, OPT_SETTING, FIX },
	{ "width", 0, 1, PRE, OPT_SETTING, FIX },
	{ "epochs", 'n', 1, PRE, OPT_SETTING, FIX },
	{ "batch", 'b', 1, PRE, OPT_SETTING, FIX },
	{ "groups", 0, 1, PRE, OPT_GROUPS, FIX },
	{ "lr", 0, 1, PRE, OPT_SETTING, FIX },
	{ "weight-decay", 0, 1, PRE, OPT_SETTING, FIX },
	{ "probe-every", 0, 1, PRE, OPT_SETTING, FIX },
	{ "probe-limit", 0, 1, PRE, OPT_SETTING, FIX },
	{ "probe-epochs", 0, 1, PRE | AX_SUB(SUB_PROBE), OPT_PROBE_EPOCHS, FIX },
	{ "checkpoint", 'm', 1, PRE | USE, AX_OPT_CHECKPOINT, 0 },
	{ "data", 0, 1, PRE | USE, OPT_DATA, 0 },
	{ "limit", 0, 1, USE, OPT_LIMIT, 0 },
	{ "split", 0, 1, AX_SUB(SUB_EMBED), OPT_SPLIT, 0 },
	{ "output", 'o', 1, AX_SUB(SUB_EMBED), OPT_OUTPUT, 0 },
	{ "labels", 0, 1, AX_SUB(SUB_EMBED), OPT_LABELS, 0 },
};

static void parse_option(struct ax_cli *cli, struct ssl_opts *o, int id, const char *arg)
{
	const char *opt = ax_cli_opt(cli);
	switch (id) {
	case OPT_DATA: o->data = arg; break;
	case OPT_LIMIT: o->limit = (int)ax_parse_long(opt, arg, 0, 1 << 30); break;
	case OPT_SPLIT:
		o->split = (const char *[]){ "train", "test" }[ax_parse_choice(opt, arg,
			(const char *const[]){ "train", "test", NULL })];
		break;
	case OPT_OUTPUT: o->output = arg; break;
	case OPT_LABELS: o->labels = arg; break;
	default:
		ax_cli_setting(cli, ax_setting_find(ssl_settings_table, ssl_nsettings, opt), arg,
			       &o->s);
	}
}

/* Defaults of everything a sub-command reads, then the command line. The
 * loss's defaults depend on --loss, read first. */
static void parse_args(struct ax_cli *cli, struct ssl_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	ssl_settings_default(&o->s, SSL_BARLOW);
	o->data = "/usr/share/datasets/fashion-mnist";
	o->split = "test", o->output = "-";
	*cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				.nopts = (int)AX_COUNTOF(options), .train_subs = PRE };
	cli->common.seed = 42;
	ax_cli_begin(cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(cli, &arg)) != AX_OPT_END;) {
		if (id == OPT_LOSS) {   /* the loss's own defaults, then what else was given */
			struct ssl_settings d;
			ax_cli_setting(cli, ax_setting_find(ssl_settings_table, ssl_nsettings, "--loss"),
				       arg, &o->s);
			ssl_settings_default(&d, o->s.loss.kind);
			if (!ax_cli_seen(cli, OPT_LAMBDA) && !ax_cli_seen(cli, OPT_SCALE))
				o->s.loss.lambda = d.loss.lambda, o->s.lambda_scale = d.lambda_scale;
			continue;
		}
		parse_option(cli, o, id, arg);
		if (id == OPT_LAMBDA && !ax_cli_seen(cli, OPT_SCALE))
			o->s.lambda_scale = 0;
	}
	o->common = cli->common;
	o->s.seed = o->common.seed;
	o->files = cli->files, o->nfiles = cli->nfiles;
}

/* What the options say together (exit 2 otherwise). */
static void check_loss_options(const struct ax_cli *cli, const struct ssl_opts *o)
{
	if (ax_cli_seen(cli, OPT_LAMBDA) && ax_cli_seen(cli, OPT_SCALE))
		ax_usage_error("%s: --lambda conflicts with --lambda-scale", cli->sub_name);
	if (ax_cli_seen(cli, OPT_VIC) && o->s.loss.kind != SSL_VICREG)
		ax_usage_error("%s: --mu and --nu are VICReg's weights (--loss vicreg)",
			       cli->sub_name);
}

int main(int argc, char **argv)
{
	ax_cli_init("ssl-train");
	struct ax_cli cli;
	struct ssl_opts o;
	parse_args(&cli, &o, argc, argv);
	if (cli.sub == SUB_LOSS) {
		check_loss_options(&cli, &o);
		if (cli.nfiles != 1)
			ax_usage_error("loss: one VIEWS file is required (- for standard input)");
		return ssl_cmd_loss(&o);
	}
	if (cli.nfiles)
		ax_usage_error("%s: unexpected operand '%s'", cli.sub_name, cli.files[0]);
	if (cli.sub == SUB_PRETRAIN) {
		ax_dist_init();
		if (o.common.run.resume)
			ax_cli_refuse(&cli, AX_OPT_FIXED,
				      "conflicts with --resume (the checkpoint fixes it)");
		check_loss_options(&cli, &o);
		if (!ax_cli_seen(&cli, AX_OPT_LOG_EVERY))
			o.common.run.log_every = 0;   /* a row per epoch */
		if (!ax_cli_seen(&cli, OPT_GROUPS))
			o.s.groups = ax_dist_size();
		ssl_settings_resolve(&o.s);
		if (o.s.batch % o.s.groups || o.s.batch / o.s.groups < 2)
			ax_usage_error("pretrain: --batch %d does not split into %d groups of at "
				       "least 2 images", o.s.batch, o.s.groups);
		return ssl_cmd_pretrain(&o);
	}
	if (!o.common.run.checkpoint)
		ax_usage_error("%s: -m CKPT (the pretrained model) is required", cli.sub_name);
	return cli.sub == SUB_PROBE ? ssl_cmd_probe(&o) : ssl_cmd_embed(&o);
}
