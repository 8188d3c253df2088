/* mod-lm — Mixture-of-Depths byte-level language models (arXiv:2404.02258):
 * the command line. `mod-lm train|eval|sample [OPTION]... [FILE]...`; the
 * work is in train.c, eval.c and sample.c. See man/man1/mod-lm.1. */
#include "mod.h"

#include <limits.h>
#include <string.h>

static const char usage_text[] =
	"Usage: mod-lm train [OPTION]... [FILE]...\n"
	"       mod-lm eval -m CHECKPOINT [OPTION]... [FILE]...\n"
	"       mod-lm sample -m CHECKPOINT [OPTION]...\n"
	"Mixture-of-Depths byte-level transformer language models.\n"
	"Text comes from FILEs ('-' is standard input) or, by default, the fortune\n"
	"files in " MOD_DEFAULT_CORPUS ".\n"
	"\n"
	"train: writes CSV to stdout: step,tokens,flops,lr,train_bpb,val_bpb,\n"
	"router_acc,predictor_acc,tokens_per_s\n"
	"  -c, --capacity F       fraction of tokens per routed block, (0,1]; 1 = dense (0.125)\n"
	"      --route-every K    route every K-th block (2: blocks 1, 3, ...)\n"
	"      --route learned|random  router, or top-k on random scores (control)\n"
	"      --aux-loss W       weight of BCE(router logits, top-k membership) (0.01)\n"
	"      --predictor        train the causal MLP predictor (stop-gradient input)\n"
	"      --layers N         blocks (4)           --dim C    width (128)\n"
	"      --heads H          heads (4)            --ctx S    context bytes (128)\n"
	"      --hidden N         MLP width (4*dim)    --pos learned|rope (learned)\n"
	"  -b, --batch B          sequences per step (16)\n"
	"  -n, --steps N          training steps, cosine schedule length (1000)\n"
	"      --flops BUDGET     stop at a training-FLOP budget (sets --steps)\n"
	"      --lr LR            peak learning rate (2e-3); --lr-min (lr/10)\n"
	"      --warmup N         warm-up steps (5% of steps)\n"
	"      --optim adam|adamw (adamw); --weight-decay W (0.1); --clip N (1)\n"
	"      --val-frac F       held-out tail of each file (0.05)\n"
	"      --val-bytes N      bytes of it scored per log row (32768)\n"
	AX_RUN_HELP
	"\n"
	"eval: prints router,bytes,loss_nats,bpb,routed_frac,fwd_flops_per_byte\n"
	"(forward FLOPs per byte at the full context, routed blocks at capacity)\n"
	"  -m, --model FILE       checkpoint\n"
	"      --router R         topk (training rule), aux, predictor, random\n"
	"      --held-out         only the held-out tail of each FILE (default with no FILE)\n"
	"      --val-frac F       size of that tail (the checkpoint's)\n"
	"      --max-bytes N      evaluate at most N bytes (all)\n"
	"\n"
	"sample: prints PROMPT and the generated text; speed on stderr\n"
	"  -m, --model FILE       checkpoint\n"
	"  -p, --prompt TEXT      start text (a newline)\n"
	"  -n, --length N         bytes to generate (256)\n"
	"  -t, --temperature T    0 = greedy (0.8)\n"
	"  -k, --top-k K          sample among the K most likely bytes (0 = all)\n"
	"      --router R         aux or predictor (default: predictor if trained), random\n"
	"\n"
	"common:\n"
	"  -s, --seed N           seed (1)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

static const char *const subs[] = { "train", "eval", "sample", NULL };
#define TRAIN AX_SUB(MOD_SUB_TRAIN)
#define EVAL AX_SUB(MOD_SUB_EVAL)
#define SAMPLE AX_SUB(MOD_SUB_SAMPLE)
#define FIXED AX_OPT_FIXED

/* Options whose id is MOD_OPT_SETTING are parsed by their flag's entry in
 * mod_model_settings or mod_train_settings. */
static const struct ax_option options[] = {
	{ "capacity", 'c', 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "route-every", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "route", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "aux-loss", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "predictor", 0, 0, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "layers", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "dim", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "heads", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "ctx", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "hidden", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "pos", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "batch", 'b', 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "steps", 'n', 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "flops", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "lr", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "lr-min", 0, 1, TRAIN, MOD_OPT_LR_MIN, FIXED },
	{ "warmup", 0, 1, TRAIN, MOD_OPT_WARMUP, FIXED },
	{ "optim", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "weight-decay", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "clip", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "val-frac", 0, 1, TRAIN | EVAL, MOD_OPT_VAL_FRAC, FIXED },
	{ "val-bytes", 0, 1, TRAIN, MOD_OPT_SETTING, FIXED },
	{ "seed", 's', 1, AX_SUBS_ALL, AX_OPT_SEED, FIXED },
	{ "model", 'm', 1, EVAL | SAMPLE, MOD_OPT_MODEL, 0 },
	{ "router", 0, 1, EVAL | SAMPLE, MOD_OPT_ROUTER, 0 },
	{ "held-out", 0, 0, EVAL, MOD_OPT_HELD_OUT, 0 },
	{ "max-bytes", 0, 1, EVAL, MOD_OPT_MAX_BYTES, 0 },
	{ "prompt", 'p', 1, SAMPLE, MOD_OPT_PROMPT, 0 },
	{ "length", 'n', 1, SAMPLE, MOD_OPT_LENGTH, 0 },
	{ "temperature", 't', 1, SAMPLE, MOD_OPT_TEMPERATURE, 0 },
	{ "top-k", 'k', 1, SAMPLE, MOD_OPT_TOP_K, 0 },
};

static void opts_default(struct mod_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = options,
				  .nopts = (int)AX_COUNTOF(options), .train_subs = TRAIN };
	o->cli.common.seed = 1;
	o->cfg = (struct mod_config){ .layers = 4, .dim = 128, .heads = 4, .ctx = 128, .hidden = 0,
				      .pos = MOD_POS_LEARNED, .capacity = 0.125, .route_every = 2,
				      .route = MOD_ROUTE_LEARNED, .predictor = 0 };
	o->ts = (struct mod_train_state){ .total_steps = 1000, .lr = 2e-3, .weight_decay = 0.1,
					  .clip = 1.0, .aux_weight = 0.01, .val_frac = 0.05,
					  .batch = 16, .val_tokens = 32768, .optim = AX_OPTIM_ADAMW };
	o->length = 256;
	o->temperature = 0.8;
	o->max_bytes = LONG_MAX;
	o->prompt = "\n";
}

/* A setting given by its flag: into the model config or the training state. */
static void parse_setting(struct mod_opts *o, const char *arg)
{
	const char *flag = ax_cli_opt(&o->cli);
	const struct ax_setting *s = ax_setting_find(mod_model_settings, mod_n_model_settings, flag);
	if (s)
		ax_cli_setting(&o->cli, s, arg ? arg : "1", &o->cfg);   /* --predictor: 1 */
	else if ((s = ax_setting_find(mod_train_settings, mod_n_train_settings, flag)))
		ax_cli_setting(&o->cli, s, arg, &o->ts);
	else
		AX_ASSERT(0 && "an option marked MOD_OPT_SETTING has no setting");
}

static void parse(struct mod_opts *o, int argc, char **argv)
{
	ax_cli_begin(&o->cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&o->cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(&o->cli);
		switch (id) {
		case MOD_OPT_SETTING:
		case MOD_OPT_WARMUP:
		case MOD_OPT_LR_MIN:
		case MOD_OPT_VAL_FRAC: parse_setting(o, arg); break;
		case MOD_OPT_MODEL: o->model = arg; break;
		case MOD_OPT_ROUTER: o->router = ax_parse_choice(opt, arg, mod_router_names); break;
		case MOD_OPT_HELD_OUT: o->held_out = 1; break;
		case MOD_OPT_MAX_BYTES: o->max_bytes = ax_parse_long(opt, arg, 2, 1L << 40); break;
		case MOD_OPT_PROMPT: o->prompt = arg; break;
		case MOD_OPT_LENGTH: o->length = ax_parse_long(opt, arg, 1, 1L << 40); break;
		case MOD_OPT_TEMPERATURE: o->temperature = ax_parse_double(opt, arg, 0, 100); break;
		case MOD_OPT_TOP_K: o->top_k = (int)ax_parse_long(opt, arg, 0, MOD_VOCAB); break;
		}
	}
	o->ts.seed = o->cli.common.seed;
}

int main(int argc, char **argv)
{
	ax_cli_init("mod-lm");
	struct mod_opts o;
	opts_default(&o);
	parse(&o, argc, argv);
	switch (o.cli.sub) {
	case MOD_SUB_TRAIN: return mod_cmd_train(&o);
	case MOD_SUB_EVAL: return mod_cmd_eval(&o);
	default: return mod_cmd_sample(&o);
	}
}
