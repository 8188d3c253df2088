/* apical-net — top-down context on apical dendrites resolves ambiguous
 * stimuli (arXiv:2312.05484): hidden units whose apical input scales the
 * gain of their basal response, against point-neuron controls, on blended
 * Fashion-MNIST images and a temporal version; relevance and silencing.
 *
 *   apical-net train   [OPTION]...         train, CSV on stdout
 *   apical-net eval    -m CKPT [OPTION]... accuracy per condition and alpha
 *   apical-net lrp     -m CKPT [OPTION]... relevance, overlap vs apical signal
 *   apical-net silence -m CKPT [OPTION]... accuracy with units silenced
 */
#include "an.h"

#include <string.h>

static const char usage_text[] =
	"Usage: apical-net train   [OPTION]...\n"
	"       apical-net eval    -m CKPT [OPTION]...\n"
	"       apical-net lrp     -m CKPT [OPTION]...\n"
	"       apical-net silence -m CKPT [OPTION]...\n"
	"Top-down context through apical dendrites on ambiguous Fashion-MNIST blends.\n"
	"\n"
	"train: CSV step,loss,accuracy,lr on stdout (see apical-net(1)).\n"
	"      --model KIND       apical (default), point, concat, none\n"
	"      --task TASK        blend (default) or temporal\n"
	"      --basal KIND       mlp (default): the image feeds the hidden layers;\n"
	"                         conv: two conv-ReLU-maxpool stages first\n"
	"      --channels C1,C2   conv: channels of the two stages (default 16,32)\n"
	"      --layers N         hidden layers (default 2)\n"
	"      --hidden N         units per hidden layer (default 256)\n"
	"      --ctx-hidden N     temporal: context encoder and GRU width (default 64)\n"
	"      --delay-max N      temporal: blank frames after the context, at most (3)\n"
	"  -n, --steps N          training steps (default 3000)\n"
	"      --pretrain N       of them, the first N without cues; then only the\n"
	"                         top-down pathway learns (default 2/3 of the steps;\n"
	"                         0: one phase)\n"
	"  -b, --batch N          examples per step (default 64)\n"
	"      --lr X             Adam learning rate, cosine to 0 per phase (1e-3)\n"
	"      --pairs LIST       confusable pairs: 0/6,2/4,2/6,7/9 or all (default)\n"
	"      --alpha-min X      blends: alpha ~ U[alpha-min, alpha-max] (0.5)\n"
	"      --alpha-max X      (1)\n"
	"      --p-blend X        fraction of blends; the rest clean images (0.75)\n"
	"      --p-context X      cue the true class (0.75)\n"
	"      --p-wrong X        cue a wrong class (0.25); otherwise no cue\n"
	"      --clean-cue HOW    label: clean images of any class, cued as blends\n"
	"                         (default); random: clean images of the pairs, cued\n"
	"                         with the label, the other or an outside class alike\n"
	"      --init CKPT        take the feedforward pathway (conv stages, basal\n"
	"                         weights, read-out)\n"
	"                         from CKPT, e.g. a none model; every step is top-down\n"
	"      --limit N          use the first N training images only\n"
	AX_RUN_HELP
	"  -m FILE                short for --checkpoint\n"
	"\n"
	"eval: CSV model,condition,alpha,accuracy,n (temporal: and delay).\n"
	"      --alpha LIST       alphas, \"0.5,0.7,1\" or \"0.5:1:0.1\" (default); 1 = clean\n"
	"      --delay LIST       temporal: delays (default 0..delay-max)\n"
	"\n"
	"lrp: CSV model,pair,r,n: correlation over hidden units of relevance to the\n"
	"pair's overlap and the apical signal.\n"
	"  -o, --output FILE      NPY (layers, 10, hidden): mean relevance per class\n"
	"      --units FILE       CSV of every unit's relevance and signal\n"
	"      --eps X            epsilon of the LRP rule (default 0.01)\n"
	"\n"
	"silence: CSV model,selection,k,condition,alpha,accuracy,intact,change,n.\n"
	"      --top K            silence the K units most relevant to the overlap,\n"
	"                         and K random ones (default 32)\n"
	"      --draws N          random draws averaged (default 5)\n"
	"\n"
	"eval, lrp, silence:\n"
	"  -m, --checkpoint FILE  the trained model\n"
	"      --pairs LIST       pairs to test (default: the model's)\n"
	"      --n N              examples per cell (eval, silence; default 2000) or per\n"
	"                         pair and class (lrp; default 200)\n"
	"      --limit N          use the first N test images only\n"
	"\n"
	"      --data DIR         Fashion-MNIST IDX files (default\n"
	"                         /usr/share/datasets/fashion-mnist)\n"
	"  -s, --seed N           seed (default 42)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { SUB_TRAIN, SUB_EVAL, SUB_LRP, SUB_SILENCE };
static const char *const subs[] = { "train", "eval", "lrp", "silence", NULL };
#define TRAIN AX_SUB(SUB_TRAIN)
#define USE (AX_SUB(SUB_EVAL) | AX_SUB(SUB_LRP) | AX_SUB(SUB_SILENCE))
#define FIX AX_OPT_FIXED

enum {
	OPT_SETTING, /* a setting of an_settings_table (train.c), found by its flag */
	OPT_PRETRAIN, /* a setting too; --init refuses it */
	OPT_PAIRS = 100, OPT_INIT, OPT_LIMIT, OPT_DATA, OPT_ALPHA, OPT_DELAY, OPT_N, OPT_OUTPUT, OPT_UNITS,
	OPT_EPS, OPT_TOP, OPT_DRAWS, OPT_CHANNELS,
};
static const struct ax_option options[] = {
	{ "model", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "task", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "basal", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "channels", 0, 1, TRAIN, OPT_CHANNELS, FIX },
	{ "layers", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "hidden", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "ctx-hidden", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "delay-max", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "steps", 'n', 1, TRAIN, OPT_SETTING, FIX },
	{ "batch", 'b', 1, TRAIN, OPT_SETTING, FIX },
	{ "lr", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "pretrain", 0, 1, TRAIN, OPT_PRETRAIN, FIX },
	{ "alpha-min", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "alpha-max", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "p-blend", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "p-context", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "p-wrong", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "clean-cue", 0, 1, TRAIN, OPT_SETTING, FIX },
	{ "init", 0, 1, TRAIN, OPT_INIT, FIX },
	{ "limit", 0, 1, AX_SUBS_ALL, OPT_LIMIT, FIX },
	{ "pairs", 0, 1, AX_SUBS_ALL, OPT_PAIRS, FIX },
	{ "checkpoint", 'm', 1, AX_SUBS_ALL, AX_OPT_CHECKPOINT, 0 },
	{ "data", 0, 1, AX_SUBS_ALL, OPT_DATA, 0 },
	{ "alpha", 0, 1, AX_SUB(SUB_EVAL), OPT_ALPHA, 0 },
	{ "delay", 0, 1, AX_SUB(SUB_EVAL), OPT_DELAY, 0 },
	{ "n", 0, 1, USE, OPT_N, 0 },
	{ "output", 'o', 1, AX_SUB(SUB_LRP), OPT_OUTPUT, 0 },
	{ "units", 0, 1, AX_SUB(SUB_LRP), OPT_UNITS, 0 },
	{ "eps", 0, 1, AX_SUB(SUB_LRP) | AX_SUB(SUB_SILENCE), OPT_EPS, 0 },
	{ "top", 0, 1, AX_SUB(SUB_SILENCE), OPT_TOP, 0 },
	{ "draws", 0, 1, AX_SUB(SUB_SILENCE), OPT_DRAWS, 0 },
};

static void parse_option(struct ax_cli *cli, struct an_opts *o, int id, const char *arg)
{
	const char *opt = ax_cli_opt(cli);
	enum ax_status st;
	switch (id) {
	case OPT_SETTING:
	case OPT_PRETRAIN:
		ax_cli_setting(cli, ax_setting_find(an_settings_table, an_nsettings, opt), arg, &o->s);
		break;
	case OPT_PAIRS:
		if ((st = an_pairs_parse(arg, &o->pairs)))
			ax_usage_error("%s: %s", opt, ax_error_detail());
		break;
	case OPT_CHANNELS: {
		int *v;
		if (ax_parse_list_int(opt, arg, 1, AN_MAX_CHANNELS, 2, &v) != 2)
			ax_usage_error("%s: '%s': two channel counts, C1,C2", opt, arg);
		o->s.cfg.channels[0] = v[0], o->s.cfg.channels[1] = v[1];
		free(v);
		break;
	}
	case OPT_INIT: o->init = arg; break;
	case OPT_LIMIT: o->limit = (int)ax_parse_long(opt, arg, 0, 1 << 30); break;
	case OPT_DATA: o->data = arg; break;
	case OPT_ALPHA:
		free(o->alphas);
		o->nalphas = ax_parse_list_double(opt, arg, 0, 1, 1000, &o->alphas);
		break;
	case OPT_DELAY:
		free(o->delays);
		o->ndelays = ax_parse_list_int(opt, arg, 0, 64, 65, &o->delays);
		break;
	case OPT_N: o->n = (int)ax_parse_long(opt, arg, 1, 1 << 24); break;
	case OPT_OUTPUT: o->npy_out = arg; break;
	case OPT_UNITS: o->units_out = arg; break;
	case OPT_EPS: o->eps = ax_parse_double(opt, arg, 0, 1e6); break;
	case OPT_TOP: o->top = (int)ax_parse_long(opt, arg, 0, 1 << 20); break;
	case OPT_DRAWS: o->draws = (int)ax_parse_long(opt, arg, 1, 1000); break;
	}
}

/* Defaults of everything a sub-command reads, then the command line. */
static void parse_args(struct ax_cli *cli, struct an_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	an_settings_default(&o->s);
	o->data = "/usr/share/datasets/fashion-mnist";
	o->eps = 0.01;
	o->top = 32, o->draws = 5;
	*cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				.nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN };
	cli->common.seed = 42;
	ax_cli_begin(cli, argc, argv);
	o->n = cli->sub == SUB_LRP ? 200 : 2000;
	const char *arg;
	for (int id; (id = ax_cli_next(cli, &arg)) != AX_OPT_END;)
		parse_option(cli, o, id, arg);
	o->common = cli->common;
	if (cli->nfiles)
		ax_usage_error("%s: unexpected operand '%s'", cli->sub_name, cli->files[0]);
}

int main(int argc, char **argv)
{
	ax_cli_init("apical-net");
	struct ax_cli cli;
	struct an_opts o;
	parse_args(&cli, &o, argc, argv);
	if (cli.sub == SUB_TRAIN) {
		if (o.common.run.resume)
			ax_cli_refuse(&cli, AX_OPT_FIXED, "conflicts with --resume (the checkpoint fixes it)");
		if (o.pairs)
			o.s.mix.pairs = o.pairs;
		o.s.limit = o.limit;
		if (!ax_cli_seen(&cli, OPT_PRETRAIN))
			o.s.pretrain = o.s.steps * 2 / 3;
		if (o.init) {
			if (ax_cli_seen(&cli, OPT_PRETRAIN))
				ax_usage_error("train: --pretrain conflicts with --init");
			o.s.init = 1, o.s.pretrain = 0;
		}
		if (an_settings_check(&o.s))
			ax_usage_error("train: %s", ax_error_detail());
		return an_cmd_train(&o);
	}
	if (!o.common.run.checkpoint)
		ax_usage_error("%s: -m CKPT (the trained model) is required", cli.sub_name);
	if (!o.alphas)
		o.nalphas = ax_parse_list_double("--alpha", "0.5:1:0.1", 0, 1, 1000, &o.alphas);
	int code = cli.sub == SUB_EVAL ? an_cmd_eval(&o) :
		   cli.sub == SUB_LRP  ? an_cmd_lrp(&o) : an_cmd_silence(&o);
	free(o.alphas), free(o.delays);
	return ax_cli_exiting(code);
}
