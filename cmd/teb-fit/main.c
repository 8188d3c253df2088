/* teb-fit — the transfer entropy bottleneck (arXiv:2211.16607): the command
 * line. `teb-fit gen|train|te [OPTION]... [FILE]...`; the work is in data.c,
 * train.c and eval.c. See man/man1/teb-fit.1. */
#include "teb.h"

#include <string.h>

static const char usage_text[] =
	"Usage: teb-fit gen TASK [OPTION]... -o FILE\n"
	"       teb-fit train [OPTION]... DATA\n"
	"       teb-fit te -m CHECKPOINT [OPTION]... DATA\n"
	"Transfer entropy from a source to a target time series with the transfer\n"
	"entropy bottleneck. DATA is a safetensors bundle with arrays \"source\" and\n"
	"\"target\" ((T), (T, d) or (sequences, T, d)), or two NPY files SOURCE TARGET.\n"
	"\n"
	"gen: TASK lingauss, lingauss-multi, lingauss-ar (closed-form TE in the\n"
	"metadata \"te_true\") or sines (the paper's task)\n"
	"  -o, --output FILE      the bundle to write\n"
	"      --coupling C       x -> y coupling c (1)\n"
	"      --ar A             target autoregression a, |a| < 1 (0.5)\n"
	"      --noise S          target noise s (1)\n"
	"      --source-ar B      lingauss-ar: source autoregression b, |b| < 1 (0.8)\n"
	"      --dim D            lingauss-multi: dimensions of x and y (3)\n"
	"  -n, --length N         steps (20000); sines: sequences (2000)\n"
	"      --switch-prob P    sines: probability of a frequency switch (0.5)\n"
	"\n"
	"train: writes CSV to stdout: step,loss,nll_y,nll_te,kl_y,kl_te,mse_y,mse_te,\n"
	"val_mse_y,val_mse_te,val_te\n"
	"      --history L        target and source steps the encoders read (8)\n"
	"      --horizon H        future target steps predicted (1)\n"
	"      --latent K         latent dimensions (16)\n"
	"      --width W          hidden width of every MLP (64)\n"
	"      --variance V       decoders' variance: learned, or a fixed value (learned)\n"
	"      --beta B           likelihood weight of TEB: kappa = B * H * target dims (1e4)\n"
	"      --beta-y B         the same for the Y module (--beta)\n"
	"      --from-context     train the Y module first, then TEB with it frozen\n"
	"                         (each phase --steps steps); default: jointly\n"
	"  -n, --steps N          training steps (6000)\n"
	"  -b, --batch N          windows per step (128)\n"
	"      --lr LR            Adam learning rate, cosine to LR/20 (1e-3)\n"
	"      --holdout F        held-out fraction: the last sequences, or the last\n"
	"                         steps of a single sequence (0.2)\n"
	AX_RUN_HELP
	"\n"
	"te: writes CSV group,windows,te,te_lo,te_hi,nll_y,nll_te,mse_y,mse_te,te_true\n"
	"(TE in nats per step; a row for all windows, then one per \"group\" label)\n"
	"  -m, --model FILE       checkpoint\n"
	"      --holdout F        score the last F of DATA (the checkpoint's; 1 = all)\n"
	"      --boot N           bootstrap resamples (1000)\n"
	"      --level P          confidence level of the interval (0.95)\n"
	"\n"
	"common:\n"
	"  -s, --seed N           seed (1)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

static const char *const subs[] = { "gen", "train", "te", NULL };
#define GEN AX_SUB(TEB_SUB_GEN)
#define TRAIN AX_SUB(TEB_SUB_TRAIN)
#define TE AX_SUB(TEB_SUB_TE)
#define FIXED AX_OPT_FIXED

/* Options whose id is TEB_OPT_SETTING are parsed by their flag's entry in
 * teb_model_settings or teb_train_settings. */
static const struct ax_option options[] = {
	{ "output", 'o', 1, GEN, TEB_OPT_OUTPUT, 0 },
	{ "coupling", 0, 1, GEN, TEB_OPT_COUPLING, 0 },
	{ "ar", 0, 1, GEN, TEB_OPT_AR, 0 },
	{ "noise", 0, 1, GEN, TEB_OPT_NOISE, 0 },
	{ "source-ar", 0, 1, GEN, TEB_OPT_SOURCE_AR, 0 },
	{ "dim", 0, 1, GEN, TEB_OPT_DIM, 0 },
	{ "length", 'n', 1, GEN, TEB_OPT_LENGTH, 0 },
	{ "switch-prob", 0, 1, GEN, TEB_OPT_SWITCH, 0 },
	{ "history", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "horizon", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "latent", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "width", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "variance", 0, 1, TRAIN, TEB_OPT_VARIANCE, FIXED },
	{ "beta", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "beta-y", 0, 1, TRAIN, TEB_OPT_BETA_Y, FIXED },
	{ "from-context", 0, 0, TRAIN, TEB_OPT_FROM_CONTEXT, FIXED },
	{ "steps", 'n', 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "batch", 'b', 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "lr", 0, 1, TRAIN, TEB_OPT_SETTING, FIXED },
	{ "holdout", 0, 1, TRAIN | TE, TEB_OPT_HOLDOUT, FIXED },
	{ "seed", 's', 1, AX_SUBS_ALL, AX_OPT_SEED, FIXED },
	{ "model", 'm', 1, TE, TEB_OPT_MODEL, 0 },
	{ "boot", 0, 1, TE, TEB_OPT_BOOT, 0 },
	{ "level", 0, 1, TE, TEB_OPT_LEVEL, 0 },
};

static void opts_default(struct teb_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				  .nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN };
	o->cli.common.seed = 1;
	o->cfg = (struct teb_config){ .L = 8, .H = 1, .latent = 16, .width = 64, .learned_var = 1,
				      .fixed_var = 0.1f, .beta = 1e4f, .beta_y = 1e4f };
	o->tr = (struct teb_train_opts){ .mode = TEB_JOINT, .steps = 6000, .batch = 128,
					 .lr = 1e-3, .holdout = 0.2 };
	teb_task_defaults(&o->task, TEB_LINGAUSS);
	o->boot = 1000;
	o->level = 0.95;
}

/* A setting given by its flag: into the model config or the training options. */
static void parse_setting(struct teb_opts *o, const char *arg)
{
	if (!ax_cli_setting_in(&o->cli, teb_model_settings, teb_n_model_settings, arg, &o->cfg) &&
	    !ax_cli_setting_in(&o->cli, teb_train_settings, teb_n_train_settings, arg, &o->tr))
		AX_ASSERT(0 && "an option marked TEB_OPT_SETTING has no setting");
}

/* --variance learned|VALUE */
static void parse_variance(struct teb_opts *o, const char *arg)
{
	o->cfg.learned_var = !strcmp(arg, "learned");
	if (!o->cfg.learned_var)
		o->cfg.fixed_var = (float)ax_parse_double(ax_cli_opt(&o->cli), arg, 1e-6, 1e6);
}

static void parse_task(struct teb_opts *o, int id, const char *arg)
{
	const char *opt = ax_cli_opt(&o->cli);
	struct teb_task_params *p = &o->task;
	switch (id) {
	case TEB_OPT_COUPLING: p->coupling = ax_parse_double(opt, arg, -100, 100); break;
	case TEB_OPT_AR: p->ar = ax_parse_double(opt, arg, -0.999, 0.999); break;
	case TEB_OPT_NOISE: p->noise = ax_parse_double(opt, arg, 1e-3, 100); break;
	case TEB_OPT_SOURCE_AR: p->source_ar = ax_parse_double(opt, arg, -0.999, 0.999); break;
	case TEB_OPT_DIM: p->dim = (int)ax_parse_long(opt, arg, 1, 64); break;
	case TEB_OPT_LENGTH: p->length = ax_parse_long(opt, arg, 2, 1L << 26); break;
	case TEB_OPT_SWITCH: p->switch_prob = ax_parse_double(opt, arg, 0, 1); break;
	}
}

static void parse(struct teb_opts *o, int argc, char **argv)
{
	ax_cli_begin(&o->cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&o->cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(&o->cli);
		switch (id) {
		case TEB_OPT_SETTING:
		case TEB_OPT_BETA_Y: parse_setting(o, arg); break;
		case TEB_OPT_VARIANCE: parse_variance(o, arg); break;
		case TEB_OPT_FROM_CONTEXT: o->tr.mode = TEB_FROM_CONTEXT; break;
		case TEB_OPT_HOLDOUT:
			o->holdout = o->tr.holdout = ax_parse_double(opt, arg, 0, 1);
			break;
		case TEB_OPT_OUTPUT: o->output = arg; break;
		case TEB_OPT_MODEL: o->model = arg; break;
		case TEB_OPT_BOOT: o->boot = (int)ax_parse_long(opt, arg, 0, 1000000); break;
		case TEB_OPT_LEVEL: o->level = ax_parse_double(opt, arg, 0.01, 0.9999); break;
		default: parse_task(o, id, arg); break;
		}
	}
	if (o->cli.sub == TEB_SUB_TRAIN && o->tr.holdout > 0.9)
		ax_usage_error("--holdout: %g leaves too little to train on (at most 0.9)",
			       o->tr.holdout);
}

int main(int argc, char **argv)
{
	ax_cli_init("teb-fit");
	struct teb_opts o;
	opts_default(&o);
	parse(&o, argc, argv);
	switch (o.cli.sub) {
	case TEB_SUB_GEN: return teb_cmd_gen(&o);
	case TEB_SUB_TRAIN: return teb_cmd_train(&o);
	default: return teb_cmd_te(&o);
	}
}
