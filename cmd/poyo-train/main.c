/* poyo-train — POYO (arXiv:2310.16046): spike tokens, a PerceiverIO
 * decoder of hand velocity across sessions, few-shot unit identification.
 * The command line only; the work is in train.c and eval.c.
 *
 *   poyo-train train    [OPTION]... -c CKPT SESSION...      pretrain (or scratch)
 *   poyo-train finetune [OPTION]... -m CKPT -c OUT SESSION   a new session
 *   poyo-train eval     [OPTION]... -m CKPT SESSION...      stitched R^2, CSV
 *   poyo-train baseline [OPTION]... SESSION...              Wiener filter, CSV
 */
#include "poyo.h"

#include <string.h>

static const char usage_text[] =
	"Usage: poyo-train train    [OPTION]... -c CKPT SESSION...\n"
	"       poyo-train finetune [OPTION]... -m CKPT -c OUT SESSION\n"
	"       poyo-train eval     [OPTION]... -m CKPT SESSION...\n"
	"       poyo-train baseline [OPTION]... SESSION...\n"
	"Decode hand velocity from spike times with POYO: one token per spike, a\n"
	"PerceiverIO over sessions, unit identification for a new session. A\n"
	"SESSION is a reach bundle as spike-sim reach writes (see poyo-train(1)).\n"
	"\n"
	"train, finetune: CSV step,loss,lr,windows_per_s on stdout.\n"
	"  -n, --steps N          training steps (train 1000, finetune 300)\n"
	"  -b, --batch N          1 s windows per step (default 16)\n"
	"      --trials N         use only the first N training trials of each\n"
	"                         session (0: all of the train split)\n"
	"      --lr X             LAMB learning rate (train 4e-3, finetune 2e-2)\n"
	"      --weight-decay X   LAMB weight decay (default 1e-4)\n"
	"      --flat X           fraction of steps at --lr before the cosine decay (0.5)\n"
	"train only:\n"
	"      --dim N            model width (default 64)\n"
	"      --depth N          processor self-attention layers (default 2)\n"
	"      --cross-heads N    encoder/decoder heads (default 2)\n"
	"      --self-heads N     processor heads (default 2)\n"
	"      --latents N        latents per 0.125 s step (default 8)\n"
	"      --dropout X        dropout after the feed-forwards (default 0)\n"
	"finetune only:\n"
	"  -m, --model CKPT       the pretrained model\n"
	"      --unit-id          train only the new unit and session embeddings (default)\n"
	"      --full             ... for the first half of the steps, then everything\n"
	AX_RUN_HELP
	"  -c FILE                short for --checkpoint (required)\n"
	"\n"
	"eval: CSV session,r2,r2_x,r2_y,n on the test trials; the SESSIONs are the\n"
	"model's last ones, in order (a fine-tuned model's new session is its last).\n"
	"  -m, --model CKPT       trained model\n"
	"      --predict-out FILE NPY stream, per session (samples, 2) velocity\n"
	"                         aligned with hand_t, NaN where not scored\n"
	"baseline: the Wiener filter, same split, same CSV (and --predict-out).\n"
	"      --lags N           count bins before each sample (default 5)\n"
	"      --bin S            bin width in seconds (default 0.05)\n"
	"      --trials N         as for train\n"
	"\n"
	"  -s, --seed N           seed (default 42)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { OPT_SETTING, OPT_MODEL, OPT_PREDICT, OPT_LAGS, OPT_BIN };
static const char *const subs[] = { "train", "finetune", "eval", "baseline", NULL };
#define TRAIN AX_SUB(POYO_SUB_TRAIN)
#define FINE AX_SUB(POYO_SUB_FINETUNE)
#define EVAL AX_SUB(POYO_SUB_EVAL)
#define BASE AX_SUB(POYO_SUB_BASELINE)
#define FIXED AX_OPT_FIXED

static const struct ax_option options[] = {
	{ "checkpoint", 'c', 1, TRAIN | FINE, AX_OPT_CHECKPOINT, 0 },
	{ "steps", 'n', 1, TRAIN | FINE, OPT_SETTING, FIXED },
	{ "batch", 'b', 1, TRAIN | FINE, OPT_SETTING, FIXED },
	{ "trials", 0, 1, TRAIN | FINE | BASE, OPT_SETTING, FIXED },
	{ "lr", 0, 1, TRAIN | FINE, OPT_SETTING, FIXED },
	{ "weight-decay", 0, 1, TRAIN | FINE, OPT_SETTING, FIXED },
	{ "flat", 0, 1, TRAIN | FINE, OPT_SETTING, FIXED },
	{ "dim", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "depth", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "cross-heads", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "self-heads", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "latents", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "dropout", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "unit-id", 0, 0, FINE, OPT_SETTING, FIXED },
	{ "full", 0, 0, FINE, OPT_SETTING, FIXED },
	{ "seed", 's', 1, TRAIN | FINE, AX_OPT_SEED, FIXED },
	{ "model", 'm', 1, FINE | EVAL, OPT_MODEL, FIXED },
	{ "predict-out", 0, 1, EVAL | BASE, OPT_PREDICT, 0 },
	{ "lags", 0, 1, BASE, OPT_LAGS, 0 },
	{ "bin", 0, 1, BASE, OPT_BIN, 0 },
};

static void parse_setting(struct poyo_opts *o, const char *arg)
{
	int found = ax_cli_setting_in(&o->cli, poyo_model_settings, poyo_n_model_settings, arg,
				      &o->model) ||
		    ax_cli_setting_in(&o->cli, poyo_train_settings, poyo_n_train_settings, arg,
				      &o->train);
	AX_ASSERT(found && "an option marked OPT_SETTING has no setting");
}

static void defaults(struct poyo_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				  .nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN | FINE };
	o->cli.common.seed = 42;
	o->model = (struct poyo_config){ .dim = 64, .depth = 2, .cross_heads = 2,
					 .self_heads = 2, .latents = 8, .dropout = 0 };
	o->train = (struct poyo_train_cfg){ .steps = 1000, .batch = 16, .lr = 4e-3,
					    .weight_decay = 1e-4, .flat = 0.5 };
	o->lags = 5;
	o->bin = 0.05;
}

static void parse(struct poyo_opts *o, int argc, char **argv)
{
	defaults(o);
	ax_cli_begin(&o->cli, argc, argv);
	int fine = o->cli.sub == POYO_SUB_FINETUNE;
	if (fine)
		o->train.steps = 300, o->train.lr = 2e-2, o->train.unit_id = 1;
	const char *arg;
	for (int id; (id = ax_cli_next(&o->cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(&o->cli);
		switch (id) {
		case OPT_SETTING: parse_setting(o, arg); break;
		case OPT_MODEL:
		case OPT_PREDICT:
			if (!*arg)
				ax_usage_error("%s: an empty file name", opt);
			*(id == OPT_MODEL ? &o->model_path : &o->predict_out) = arg;
			break;
		case OPT_LAGS: o->lags = (int)ax_parse_long(opt, arg, 1, 100); break;
		case OPT_BIN: o->bin = ax_parse_double(opt, arg, 1e-3, 10); break;
		}
	}
	o->train.seed = o->cli.common.seed;
	if (fine)
		o->train.unit_id = 1;
	if (o->cli.nfiles == 0)
		ax_usage_error("no SESSION file given");
	int sub = o->cli.sub;
	if ((sub == POYO_SUB_TRAIN || fine) && !o->cli.common.run.checkpoint)
		ax_usage_error("--checkpoint FILE is required");
	if (fine && o->cli.nfiles != 1)
		ax_usage_error("finetune takes one SESSION");
	if (fine && !o->model_path && !o->cli.common.run.resume)
		ax_usage_error("finetune: --model CKPT is required");
	if (sub == POYO_SUB_EVAL && !o->model_path)
		ax_usage_error("--model CKPT is required");
}

int main(int argc, char **argv)
{
	ax_cli_init("poyo-train");
	struct poyo_opts o;
	parse(&o, argc, argv);
	switch (o.cli.sub) {
	case POYO_SUB_TRAIN: return poyo_cmd_train(&o);
	case POYO_SUB_FINETUNE: return poyo_cmd_finetune(&o);
	case POYO_SUB_EVAL: return poyo_cmd_eval(&o);
	default: return poyo_cmd_baseline(&o);
	}
}
