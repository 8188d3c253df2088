/* mtm-train — multi-task masking (MtM, arXiv:2407.14668) for population
 * spiking data: the command line. The work is in train.c and eval.c.
 *
 *   mtm-train train [OPTION]... SESSION...   train (or fine-tune with --init)
 *   mtm-train eval  [OPTION]... SESSION...   every metric, CSV on stdout
 */
#include "mtm.h"

#include <string.h>

static const char usage_text[] =
	"Usage: mtm-train train [OPTION]... --checkpoint FILE SESSION...\n"
	"       mtm-train eval  [OPTION]... --checkpoint FILE SESSION...\n"
	"Multi-task masking (MtM) for binned spike counts. A SESSION is a\n"
	"safetensors bundle with \"counts\" (trials, bins, neurons) and optionally\n"
	"\"regions\", \"rates\", \"choice\", \"wheel\", \"split\" (see mtm-train(1)).\n"
	"\n"
	"train: CSV step,session,mask,loss,lr on stdout every --log-every steps.\n"
	"  -m, --mask NAME        mtm (default), temporal, neuron, causal, intra, inter\n"
	"  -n, --steps N          training steps (default 3000)\n"
	"  -b, --batch N          trials per step, all from one session (default 16)\n"
	"      --lr X             peak learning rate (default 1e-3)\n"
	"      --weight-decay X   AdamW weight decay (default 0.01)\n"
	"      --warmup X         one-cycle warm-up fraction (default 0.15)\n"
	"      --dim N            model width (default 64)\n"
	"      --layers N         transformer blocks (default 2)\n"
	"      --heads N          attention heads (default 4)\n"
	"      --hidden N         MLP width (default 2 * dim)\n"
	"      --dropout X        dropout in the blocks (default 0.2)\n"
	"      --causal-share X   mtm: probability of the causal task (default 0.25)\n"
	"      --forward-window W causal task: mask the last W bins instead of\n"
	"                         bins with probability 0.6 (default 0: off)\n"
	"      --init CKPT        start the core from CKPT (fine-tune on new sessions)\n"
	AX_RUN_HELP
	"  -c FILE                short for --checkpoint (required)\n"
	"\n"
	"eval: CSV session,metric,value,oracle on stdout, one row per metric and\n"
	"session (sessions in the checkpoint's order).\n"
	"  -c, --checkpoint FILE  trained model\n"
	"      --predict-out FILE NPY stream, per session the co-smoothing rates\n"
	"                         (test trials, bins, neurons) in spikes per bin\n"
	"      --forward-prompt P an MtM model's prompt for forward prediction:\n"
	"                         causal (default), neuron, intra, inter\n"
	"\n"
	"  -s, --seed N           seed (default 42)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { OPT_SETTING, OPT_INIT, OPT_PREDICT, OPT_FORWARD_PROMPT };
static const char *const subs[] = { "train", "eval", NULL };
#define TRAIN AX_SUB(MTM_SUB_TRAIN)
#define EVAL AX_SUB(MTM_SUB_EVAL)
#define FIXED AX_OPT_FIXED

/* OPT_SETTING options are parsed by their flag's entry in
 * mtm_model_settings or mtm_train_settings. */
static const struct ax_option options[] = {
	{ "checkpoint", 'c', 1, TRAIN | EVAL, AX_OPT_CHECKPOINT, 0 },
	{ "mask", 'm', 1, TRAIN, OPT_SETTING, FIXED },
	{ "steps", 'n', 1, TRAIN, OPT_SETTING, FIXED },
	{ "batch", 'b', 1, TRAIN, OPT_SETTING, FIXED },
	{ "lr", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "weight-decay", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "warmup", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "dim", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "layers", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "heads", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "hidden", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "dropout", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "causal-share", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "forward-window", 0, 1, TRAIN, OPT_SETTING, FIXED },
	{ "seed", 's', 1, AX_SUBS_ALL, AX_OPT_SEED, FIXED },
	{ "init", 0, 1, TRAIN, OPT_INIT, FIXED },
	{ "predict-out", 0, 1, EVAL, OPT_PREDICT, 0 },
	{ "forward-prompt", 0, 1, EVAL, OPT_FORWARD_PROMPT, 0 },
};

static void parse_setting(struct mtm_opts *o, const char *arg)
{
	int found = ax_cli_setting_in(&o->cli, mtm_model_settings, mtm_n_model_settings, arg,
				      &o->model) ||
		    ax_cli_setting_in(&o->cli, mtm_train_settings, mtm_n_train_settings, arg,
				      &o->train);
	AX_ASSERT(found && "an option marked OPT_SETTING has no setting");
}

static void parse(struct mtm_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				  .nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN };
	o->cli.common.seed = 42;
	o->model = (struct mtm_config){ .D = 64, .layers = 2, .heads = 4, .hidden = 0,
					.dropout = 0.2f };
	o->train = (struct mtm_train_cfg){ .mask = MTM_MASK_MTM, .steps = 3000, .batch = 16,
					   .lr = 1e-3, .weight_decay = 0.01, .warmup = 0.15,
					   .causal_share = 0.25 };
	o->forward_prompt = MTM_CAUSAL;
	ax_cli_begin(&o->cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&o->cli, &arg)) != AX_OPT_END;) {
		switch (id) {
		case OPT_SETTING: parse_setting(o, arg); break;
		case OPT_FORWARD_PROMPT: {
			static const char *const prompts[] = { "neuron", "causal", "intra", "inter", NULL };
			o->forward_prompt = (enum mtm_scheme)ax_parse_choice(ax_cli_opt(&o->cli), arg,
									     prompts);
			break;
		}
		case OPT_INIT:
		case OPT_PREDICT:
			if (!*arg)
				ax_usage_error("%s: an empty file name", ax_cli_opt(&o->cli));
			*(id == OPT_INIT ? &o->init : &o->predict_out) = arg;
			break;
		}
	}
	o->train.seed = o->cli.common.seed;
	if (o->cli.nfiles == 0)
		ax_usage_error("no SESSION file given");
	if (!o->cli.common.run.checkpoint)
		ax_usage_error("--checkpoint FILE is required");
	if (o->init && o->cli.common.run.resume)
		ax_usage_error("--init and --resume exclude each other");
}

int main(int argc, char **argv)
{
	ax_cli_init("mtm-train");
	struct mtm_opts o;
	parse(&o, argc, argv);
	return o.cli.sub == MTM_SUB_TRAIN ? mtm_cmd_train(&o) : mtm_cmd_eval(&o);
}
