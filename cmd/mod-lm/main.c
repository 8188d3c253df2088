/* mod-lm — Mixture-of-Depths byte-level language models (arXiv:2404.02258):
 * train, eval, sample. See man/man1/mod-lm.1. */
#include "mod_lm.h"

#include <getopt.h>
#include <math.h>
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
	"      --val-bytes N      bytes of it evaluated per log row (32768)\n"
	"      --log-every N      CSV row (with validation) every N steps (50)\n"
	"      --checkpoint FILE  save here (at the end, every --every N steps, on SIGINT)\n"
	"      --every N          checkpoint interval in steps\n"
	"      --resume FILE      continue a run bit-exactly (config from the checkpoint)\n"
	"      --stop-at STEP     stop (and save) after STEP steps; schedule unchanged\n"
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
	"      --threads N        threads (0 = all cores)\n"
	"  -q, --quiet            no progress on stderr\n"
	"  -h, --help             print this help and exit\n"
	"      --version          print the version and exit\n"
	"\n"
	"Exit status: 0 success, 1 runtime failure, 2 usage or bad input;\n"
	"an interrupted training run saves its checkpoint and exits 130.\n";

static const char *const router_names[] = { "topk", "aux", "predictor", "random", NULL };

enum {
	OPT_ROUTE_EVERY = 256, OPT_ROUTE, OPT_AUX, OPT_PREDICTOR, OPT_LAYERS, OPT_DIM, OPT_HEADS,
	OPT_CTX, OPT_HIDDEN, OPT_POS, OPT_FLOPS, OPT_LR, OPT_LR_MIN, OPT_WARMUP, OPT_OPTIM,
	OPT_WD, OPT_CLIP, OPT_VAL_FRAC, OPT_VAL_BYTES, OPT_LOG_EVERY, OPT_CHECKPOINT, OPT_EVERY,
	OPT_RESUME, OPT_STOP_AT, OPT_ROUTER, OPT_HELD_OUT, OPT_MAX_BYTES, OPT_THREADS, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "capacity", required_argument, NULL, 'c' },
	{ "route-every", required_argument, NULL, OPT_ROUTE_EVERY },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "aux-loss", required_argument, NULL, OPT_AUX },
	{ "predictor", no_argument, NULL, OPT_PREDICTOR },
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "dim", required_argument, NULL, OPT_DIM },
	{ "heads", required_argument, NULL, OPT_HEADS },
	{ "ctx", required_argument, NULL, OPT_CTX },
	{ "hidden", required_argument, NULL, OPT_HIDDEN },
	{ "pos", required_argument, NULL, OPT_POS },
	{ "batch", required_argument, NULL, 'b' },
	{ "steps", required_argument, NULL, 'n' },
	{ "length", required_argument, NULL, 'n' },
	{ "flops", required_argument, NULL, OPT_FLOPS },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "lr-min", required_argument, NULL, OPT_LR_MIN },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "optim", required_argument, NULL, OPT_OPTIM },
	{ "weight-decay", required_argument, NULL, OPT_WD },
	{ "clip", required_argument, NULL, OPT_CLIP },
	{ "val-frac", required_argument, NULL, OPT_VAL_FRAC },
	{ "val-bytes", required_argument, NULL, OPT_VAL_BYTES },
	{ "log-every", required_argument, NULL, OPT_LOG_EVERY },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "every", required_argument, NULL, OPT_EVERY },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "stop-at", required_argument, NULL, OPT_STOP_AT },
	{ "model", required_argument, NULL, 'm' },
	{ "router", required_argument, NULL, OPT_ROUTER },
	{ "held-out", no_argument, NULL, OPT_HELD_OUT },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "prompt", required_argument, NULL, 'p' },
	{ "temperature", required_argument, NULL, 't' },
	{ "top-k", required_argument, NULL, 'k' },
	{ "seed", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Every option, whichever sub-command; each sub-command rejects the ones
 * it does not use (seen[] records what was given). */
struct opts {
	struct mod_config cfg;
	struct mod_train_state ts;
	long steps, stop_at, every, length;
	double temperature;
	int top_k, router, held_out, threads, quiet;
	size_t max_bytes;
	const char *checkpoint, *resume, *model, *prompt;
	char seen[512];
	char **files;
	int nfiles;
};

static void opts_default(struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->cfg = (struct mod_config){ .layers = 4, .dim = 128, .heads = 4, .ctx = 128, .hidden = 0,
				      .pos = MOD_POS_LEARNED, .capacity = 0.125, .route_every = 2,
				      .route = MOD_ROUTE_LEARNED, .predictor = 0 };
	o->ts = (struct mod_train_state){ .lr = 2e-3, .weight_decay = 0.1, .clip = 1.0,
					  .aux_weight = 0.01, .val_frac = 0.05, .batch = 16,
					  .log_every = 50, .val_tokens = 32768, .seed = 1,
					  .optim = AX_OPTIM_ADAMW };
	o->steps = 1000;
	o->length = 256;
	o->temperature = 0.8;
	o->max_bytes = SIZE_MAX;
	o->prompt = "\n";
}

static void parse(struct opts *o, int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:b:n:m:p:t:k:s:qh", long_opts, NULL)) != -1) {
		if (c == '?')
			ax_usage_error("unknown or incomplete option");
		o->seen[c] = 1;
		switch (c) {
		case 'c': o->cfg.capacity = ax_parse_double("--capacity", optarg, -INFINITY, INFINITY);
			if (!(o->cfg.capacity > 0 && o->cfg.capacity <= 1))
				ax_usage_error("--capacity: %s is outside (0, 1]", optarg);
			break;
		case OPT_ROUTE_EVERY: o->cfg.route_every = (int)ax_parse_long("--route-every", optarg, 1, 64); break;
		case OPT_ROUTE: o->cfg.route = ax_parse_choice("--route", optarg, (const char *const[]){ "learned", "random", NULL }); break;
		case OPT_AUX: o->ts.aux_weight = ax_parse_double("--aux-loss", optarg, 0, 1e6); break;
		case OPT_PREDICTOR: o->cfg.predictor = 1; break;
		case OPT_LAYERS: o->cfg.layers = (int)ax_parse_long("--layers", optarg, 1, 64); break;
		case OPT_DIM: o->cfg.dim = (int)ax_parse_long("--dim", optarg, 2, 16384); break;
		case OPT_HEADS: o->cfg.heads = (int)ax_parse_long("--heads", optarg, 1, 1024); break;
		case OPT_CTX: o->cfg.ctx = (int)ax_parse_long("--ctx", optarg, 2, 65536); break;
		case OPT_HIDDEN: o->cfg.hidden = (int)ax_parse_long("--hidden", optarg, 1, 1 << 20); break;
		case OPT_POS: o->cfg.pos = ax_parse_choice("--pos", optarg, (const char *const[]){ "learned", "rope", NULL }); break;
		case 'b': o->ts.batch = (int)ax_parse_long("--batch", optarg, 1, 1 << 16); break;
		case 'n': o->steps = o->length = ax_parse_long("--steps/--length", optarg, 1, 1L << 40); break;
		case OPT_FLOPS: o->ts.flops_budget = ax_parse_double("--flops", optarg, 1, 1e30); break;
		case OPT_LR: o->ts.lr = ax_parse_double("--lr", optarg, 0, 10); break;
		case OPT_LR_MIN: o->ts.lr_min = ax_parse_double("--lr-min", optarg, 0, 10); break;
		case OPT_WARMUP: o->ts.warmup = ax_parse_long("--warmup", optarg, 0, 1L << 40); break;
		case OPT_OPTIM: o->ts.optim = ax_parse_choice("--optim", optarg, (const char *const[]){ "sgd", "adam", "adamw", NULL });
			if (o->ts.optim == AX_OPTIM_SGD)
				ax_usage_error("--optim: one of adam, adamw");
			break;
		case OPT_WD: o->ts.weight_decay = ax_parse_double("--weight-decay", optarg, 0, 10); break;
		case OPT_CLIP: o->ts.clip = ax_parse_double("--clip", optarg, 0, 1e9); break;
		case OPT_VAL_FRAC: o->ts.val_frac = ax_parse_double("--val-frac", optarg, 0, 0.9); break;
		case OPT_VAL_BYTES: o->ts.val_tokens = (int)ax_parse_long("--val-bytes", optarg, 0, 1 << 30); break;
		case OPT_LOG_EVERY: o->ts.log_every = (int)ax_parse_long("--log-every", optarg, 1, 1 << 30); break;
		case OPT_CHECKPOINT: o->checkpoint = optarg; break;
		case OPT_EVERY: o->every = ax_parse_long("--every", optarg, 1, 1L << 40); break;
		case OPT_RESUME: o->resume = optarg; break;
		case OPT_STOP_AT: o->stop_at = ax_parse_long("--stop-at", optarg, 1, 1L << 40); break;
		case 'm': o->model = optarg; break;
		case OPT_ROUTER: o->router = ax_parse_choice("--router", optarg, router_names); break;
		case OPT_HELD_OUT: o->held_out = 1; break;
		case OPT_MAX_BYTES: o->max_bytes = (size_t)ax_parse_long("--max-bytes", optarg, 2, 1L << 40); break;
		case 'p': o->prompt = optarg; break;
		case 't': o->temperature = ax_parse_double("--temperature", optarg, 0, 100); break;
		case 'k': o->top_k = (int)ax_parse_long("--top-k", optarg, 0, MOD_VOCAB); break;
		case 's': o->ts.seed = ax_parse_seed("--seed", optarg); break;
		case OPT_THREADS: o->threads = (int)ax_parse_long("--threads", optarg, 0, 4096); break;
		case 'q': o->quiet = 1; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case OPT_VERSION: ax_print_version(); exit(0);
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	ax_threads_set(o->threads);
}

/* Reject options that belong to another sub-command. */
static void only(const struct opts *o, const char *cmd, const int *allowed, int n)
{
	for (const struct option *lo = long_opts; lo->name; lo++) {
		if (!o->seen[lo->val] || lo->val == 'h' || lo->val == 's' || lo->val == OPT_THREADS ||
		    lo->val == 'q' || lo->val == OPT_VERSION)
			continue;
		int ok = 0;
		for (int i = 0; i < n; i++)
			ok |= allowed[i] == lo->val;
		if (!ok)
			ax_usage_error("%s: option --%s does not apply", cmd, lo->name);
	}
}

static void load_model_or_die(const char *path, struct mod_model *m, struct ax_bundle *keep)
{
	if (!path)
		ax_usage_error("a checkpoint is needed: -m FILE");
	enum ax_status st = mod_load(path, m, keep);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
}

/* ---------------------------------------------------------------- train */
/* Sums over the training steps since the previous CSV row. */
struct run_stats {
	double loss_sum, train_time;
	long steps, decisions, router_hits, pred_hits;
};

/* One CSV row; the validation loss is evaluated on the trainer's (empty)
 * tape, reusing its arena. */
static void log_row(struct ax_csv *csv, struct ax_tape *t, const struct mod_model *m,
		    const struct mod_text *val, const struct mod_train_state *ts, float lr,
		    struct run_stats *rs)
{
	const struct mod_config *c = &m->cfg;
	int has_router = c->capacity < 1 && c->route == MOD_ROUTE_LEARNED;
	double val_bpb = NAN;
	if (val->n >= 2 && ts->val_tokens > 0)
		val_bpb = mod_eval_text(t, m, val, (size_t)ts->val_tokens + 1, MOD_ROUTER_TOPK,
					ts->seed, NULL) / M_LN2;
	double racc = has_router && rs->decisions ? (double)rs->router_hits / rs->decisions : NAN;
	double pacc = has_router && c->predictor && rs->decisions
		? (double)rs->pred_hits / rs->decisions : NAN;
	double tokens = (double)rs->steps * ts->batch * c->ctx;
	ax_csv_rowf(csv, "%ld,%ld,%.6e,%.6g,%.6f,%.6f,%.5f,%.5f,%.1f", ts->step, ts->tokens_done,
		    ts->flops_done, lr, rs->loss_sum / rs->steps / M_LN2, val_bpb, racc, pacc,
		    rs->train_time > 0 ? tokens / rs->train_time : 0.0);
	memset(rs, 0, sizeof *rs);
}

/* Training FLOPs of one step: batch sequences of the full context, forward
 * and backward (2x forward). */
static double train_step_flops(const struct mod_config *c, int batch)
{
	return 3.0 * mod_forward_flops(c, c->ctx) * batch;
}

static void save_or_die(const char *path, const struct mod_model *m, const struct ax_optim *o,
			const struct mod_train_state *ts)
{
	enum ax_status st = mod_save(path, m, o, ts);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot save checkpoint");
}

static int cmd_train(int argc, char **argv)
{
	struct opts o;
	opts_default(&o);
	parse(&o, argc, argv);
	static const int allowed[] = { 'c', OPT_ROUTE_EVERY, OPT_ROUTE, OPT_AUX, OPT_PREDICTOR,
		OPT_LAYERS, OPT_DIM, OPT_HEADS, OPT_CTX, OPT_HIDDEN, OPT_POS, 'b', 'n', OPT_FLOPS,
		OPT_LR, OPT_LR_MIN, OPT_WARMUP, OPT_OPTIM, OPT_WD, OPT_CLIP, OPT_VAL_FRAC,
		OPT_VAL_BYTES, OPT_LOG_EVERY, OPT_CHECKPOINT, OPT_EVERY, OPT_RESUME, OPT_STOP_AT };
	only(&o, "train", allowed, (int)AX_COUNTOF(allowed));

	struct mod_model m;
	struct mod_train_state ts = o.ts;
	struct ax_bundle ckpt;
	int resumed = 0;
	if (o.resume) {
		static const int with_resume[] = { OPT_RESUME, OPT_CHECKPOINT, OPT_EVERY, OPT_STOP_AT };
		only(&o, "train --resume (model and training options come from the checkpoint)",
		     with_resume, (int)AX_COUNTOF(with_resume));
		load_model_or_die(o.resume, &m, &ckpt);
		enum ax_status st = mod_load_train_state(&ckpt, &ts);
		if (st)
			ax_die_status(AX_EXIT_USAGE, st, o.resume);
		resumed = 1;
	} else {
		if (!o.cfg.hidden)
			o.cfg.hidden = 4 * o.cfg.dim;
		const char *why = mod_config_check(&o.cfg);
		if (why)
			ax_usage_error("%s", why);
		if (!(o.cfg.capacity < 1 && o.cfg.route == MOD_ROUTE_LEARNED))
			ts.aux_weight = 0;   /* no routers */
		double step_flops = train_step_flops(&o.cfg, ts.batch);
		ts.total_steps = o.steps;
		if (ts.flops_budget > 0) {
			ts.total_steps = (long)floor(ts.flops_budget / step_flops);
			if (ts.total_steps < 1)
				ax_usage_error("--flops: %g is less than one step (%.3g FLOPs)",
					       ts.flops_budget, step_flops);
		}
		if (!o.seen[OPT_WARMUP])
			ts.warmup = ts.total_steps / 20;
		if (!o.seen[OPT_LR_MIN])
			ts.lr_min = ts.lr / 10;
		mod_model_init(&m, &o.cfg, ts.seed);
	}
	const struct mod_config *c = &m.cfg;

	struct mod_text train, val;
	enum ax_status st = mod_text_load(o.files, o.nfiles, ts.val_frac, &train, &val);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot read the text");
	if (train.n < (size_t)c->ctx + 1)
		ax_die(AX_EXIT_USAGE, "training text too short: %zu bytes, need at least --ctx + 1 = %d",
		       train.n, c->ctx + 1);

	struct ax_optim opt;
	ax_optim_init(&opt, ts.optim, &m.params);
	opt.weight_decay = (float)ts.weight_decay;
	if (resumed) {
		st = ax_optim_from_bundle(&opt, &ckpt, "");
		ax_bundle_free(&ckpt);
		if (st)
			ax_die_status(AX_EXIT_USAGE, st, o.resume);
	}

	int B = ts.batch, S = c->ctx;
	double step_flops = train_step_flops(c, B);
	if (!o.quiet)
		fprintf(stderr, "mod-lm: %zu parameters, %d routed of %d blocks, k = %d of %d, "
			"%.3g training FLOPs/step, %ld steps; %zu train / %zu held-out bytes\n",
			ax_params_count(&m.params), c->capacity < 1 ? (c->layers) / c->route_every : 0,
			c->layers, c->capacity < 1 ? mod_capacity_k(c, S) : S, S, step_flops,
			ts.total_steps, train.n, val.n);

	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	int32_t *in = ax_xmalloc((size_t)B * S * sizeof *in), *tg = ax_xmalloc((size_t)B * S * sizeof *tg);
	struct ax_rng base;
	ax_rng_seed(&base, ts.seed ^ 0x6d6f642d6c6dULL);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,tokens,flops,lr,train_bpb,val_bpb,router_acc,predictor_acc,tokens_per_s");
	struct run_stats rs = { 0 };
	struct ax_progress prog;
	ax_progress_begin(&prog, "train", ts.total_steps, o.quiet);
	ax_signals_install();
	float lr = 0;
	int interrupted = 0;

	while (ts.step < ts.total_steps) {
		double t0 = ax_now();
		lr = ax_sched_cosine(ts.step, ts.warmup, ts.total_steps, (float)ts.lr, (float)ts.lr_min);
		/* Batch and random routing depend only on (seed, step): a resumed
		 * run draws exactly what the uninterrupted one would have. */
		struct ax_rng data_rng = ax_rng_split(&base, 2 * (uint64_t)ts.step);
		struct ax_rng route_rng = ax_rng_split(&base, 2 * (uint64_t)ts.step + 1);
		for (int b = 0; b < B; b++) {
			size_t at = (size_t)(ax_rng_u64(&data_rng) % (train.n - (size_t)S));
			for (int s = 0; s < S; s++) {
				in[b * S + s] = train.bytes[at + s];
				tg[b * S + s] = train.bytes[at + s + 1];
			}
		}
		struct mod_forward_out fo;
		mod_forward(&tape, &m, in, B, S, MOD_ROUTER_TOPK, &route_rng, 1, &fo);
		struct ax_tensor *ce = ax_cross_entropy(&tape, fo.logits, tg, 0.0f, -1);
		struct ax_tensor *loss = ce;
		if (fo.aux_loss && ts.aux_weight > 0)
			loss = ax_add(&tape, loss, ax_scale(&tape, fo.aux_loss, (float)ts.aux_weight));
		if (fo.pred_loss)   /* the predictor's own parameters only (stop-gradient input) */
			loss = ax_add(&tape, loss, fo.pred_loss);
		float ce_value = ce->data[0];
		if (!isfinite(ce_value))
			ax_die(AX_EXIT_FAIL, "training diverged at step %ld (loss %g); try a lower --lr",
			       ts.step, ce_value);
		ax_tape_backward(&tape, loss, 1.0f);
		if (ts.clip > 0)
			ax_clip_grad_norm(&m.params, (float)ts.clip);
		ax_optim_step(&opt, lr);
		ax_params_zero_grad(&m.params);
		ax_tape_reset(&tape);

		ts.step++;
		ts.flops_done += step_flops;
		ts.tokens_done += (long)B * S;
		rs.loss_sum += ce_value;
		rs.steps++;
		rs.decisions += fo.decisions;
		rs.router_hits += fo.router_hits;
		rs.pred_hits += fo.pred_hits;
		rs.train_time += ax_now() - t0;
		interrupted = ax_interrupted();
		int last = ts.step == ts.total_steps || interrupted || (o.stop_at && ts.step >= o.stop_at);
		if (ts.step % ts.log_every == 0 || last)
			log_row(&csv, &tape, &m, &val, &ts, lr, &rs);
		if (o.checkpoint && o.every && ts.step % o.every == 0)
			save_or_die(o.checkpoint, &m, &opt, &ts);
		char extra[64];
		snprintf(extra, sizeof extra, "loss %.3f bpb", ce_value / M_LN2);
		ax_progress_update(&prog, ts.step, extra);
		if (last)
			break;
	}
	ax_progress_end(&prog);
	if (o.checkpoint)
		save_or_die(o.checkpoint, &m, &opt, &ts);
	free(in);
	free(tg);
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	mod_text_free(&train);
	mod_text_free(&val);
	mod_model_free(&m);
	if (interrupted) {
		ax_warn("interrupted at step %ld%s", ts.step,
			o.checkpoint ? "; checkpoint saved" : " (no --checkpoint: nothing saved)");
		return AX_EXIT_INTERRUPTED;
	}
	return 0;
}

/* ----------------------------------------------------------------- eval */
static int cmd_eval(int argc, char **argv)
{
	struct opts o;
	opts_default(&o);
	parse(&o, argc, argv);
	static const int allowed[] = { 'm', OPT_ROUTER, OPT_HELD_OUT, OPT_MAX_BYTES, OPT_VAL_FRAC };
	only(&o, "eval", allowed, (int)AX_COUNTOF(allowed));
	struct mod_model m;
	struct ax_bundle b;
	load_model_or_die(o.model, &m, &b);
	double val_frac = 0.05;
	if (ax_bundle_meta(&b, "train.val_frac"))
		ax_ckpt_get_double(&b, "train.val_frac", &val_frac);
	ax_bundle_free(&b);
	if (o.seen[OPT_VAL_FRAC])
		val_frac = o.ts.val_frac;
	enum mod_router router = o.router;
	const struct mod_config *c = &m.cfg;
	if (c->capacity < 1 && c->route == MOD_ROUTE_RANDOM && router != MOD_ROUTER_RANDOM &&
	    o.seen[OPT_ROUTER])
		ax_usage_error("--router %s: this model routes at random (--router random)",
			       router_names[router]);
	if (c->capacity < 1 && c->route == MOD_ROUTE_LEARNED) {
		if (router == MOD_ROUTER_PREDICTOR && !c->predictor)
			ax_usage_error("--router predictor: this model was trained without --predictor");
		if (router == MOD_ROUTER_RANDOM)
			ax_usage_error("--router random: this model has a learned router");
	}
	if (c->route == MOD_ROUTE_RANDOM)
		router = MOD_ROUTER_RANDOM;

	int held_out = o.held_out || o.nfiles == 0;
	struct mod_text train, val;
	enum ax_status st = mod_text_load(o.files, o.nfiles, held_out ? val_frac : 0, &train, &val);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot read the text");
	const struct mod_text *text = held_out ? &val : &train;
	if (text->n < 2)
		ax_die(AX_EXIT_USAGE, "the text to evaluate has %zu bytes; need at least 2", text->n);
	struct ax_arena arena;
	struct ax_tape tape;
	ax_arena_init(&arena, 0);
	ax_tape_init(&tape, &arena);
	double frac;
	double loss = mod_eval_text(&tape, &m, text, o.max_bytes, router, o.ts.seed, &frac);
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	size_t n = text->n < o.max_bytes ? text->n : o.max_bytes;
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "router,bytes,loss_nats,bpb,routed_frac,fwd_flops_per_byte");
	ax_csv_rowf(&csv, "%s,%zu,%.7f,%.7f,%.5f,%.6g", c->capacity < 1 ? router_names[router] : "dense",
		    n, loss, loss / M_LN2, frac, mod_forward_flops(c, c->ctx) / c->ctx);
	mod_text_free(&train);
	mod_text_free(&val);
	mod_model_free(&m);
	return 0;
}

/* --------------------------------------------------------------- sample */
/* The next byte: greedy at temperature 0, else drawn from softmax(logits / T)
 * over the top_k most likely bytes (all if 0; ties at the k-th value stay). */
static int sample_next(struct ax_rng *rng, float *logits, double temperature, int top_k)
{
	if (temperature <= 0) {
		int best = 0;
		for (int i = 1; i < MOD_VOCAB; i++)
			if (logits[i] > logits[best])
				best = i;
		return best;
	}
	if (top_k > 0 && top_k < MOD_VOCAB) {
		int32_t idx[MOD_VOCAB];
		ax_topk_rows(1, MOD_VOCAB, top_k, logits, idx);
		float cut = INFINITY;   /* the k-th largest logit */
		for (int j = 0; j < top_k; j++)
			cut = fminf(cut, logits[idx[j]]);
		for (int i = 0; i < MOD_VOCAB; i++)
			if (logits[i] < cut)
				logits[i] = -INFINITY;
	}
	return ax_rng_categorical_logits(rng, logits, MOD_VOCAB, (float)temperature);
}

static int cmd_sample(int argc, char **argv)
{
	struct opts o;
	opts_default(&o);
	parse(&o, argc, argv);
	static const int allowed[] = { 'm', OPT_ROUTER, 'p', 'n', 't', 'k' };
	only(&o, "sample", allowed, (int)AX_COUNTOF(allowed));
	if (o.nfiles)
		ax_usage_error("sample: unexpected argument '%s'", o.files[0]);
	struct mod_model m;
	load_model_or_die(o.model, &m, NULL);
	const struct mod_config *c = &m.cfg;
	enum mod_router router = c->predictor ? MOD_ROUTER_PREDICTOR : MOD_ROUTER_AUX;
	if (o.seen[OPT_ROUTER]) {
		router = o.router;
		if (router == MOD_ROUTER_TOPK)
			ax_usage_error("--router topk looks at future tokens; sampling needs aux or predictor");
		if (router == MOD_ROUTER_PREDICTOR && !c->predictor && c->capacity < 1)
			ax_usage_error("--router predictor: this model was trained without --predictor");
	}
	size_t plen = strlen(o.prompt);
	if (plen == 0)
		ax_usage_error("--prompt: empty");
	struct mod_infer *inf = mod_infer_new(&m, router, o.ts.seed);
	struct ax_rng rng;
	ax_rng_seed(&rng, o.ts.seed);
	/* history: prompt + generated, for re-filling the cache when it is full */
	size_t cap = plen + (size_t)o.length + 1;
	uint8_t *hist = ax_xmalloc(cap);
	memcpy(hist, o.prompt, plen);
	size_t n = plen, start = plen > (size_t)c->ctx ? plen - (size_t)c->ctx : 0;
	float logits[MOD_VOCAB];
	fwrite(o.prompt, 1, plen, stdout);
	double t0 = ax_now();
	for (size_t i = start; i < n; i++)
		mod_infer_step(inf, hist[i], logits);
	double t1 = ax_now();
	for (long g = 0; g < o.length; g++) {
		int next = sample_next(&rng, logits, o.temperature, o.top_k);
		hist[n++] = (uint8_t)next;
		putchar(next);
		if (mod_infer_step(inf, next, logits) < 0) {
			/* Context full: keep the last half and rebuild the caches. */
			mod_infer_reset(inf);
			for (size_t i = n - (size_t)c->ctx / 2; i < n; i++)
				mod_infer_step(inf, hist[i], logits);
		}
	}
	double t2 = ax_now();
	if (fflush(stdout) || ferror(stdout))
		ax_die(AX_EXIT_FAIL, "cannot write the sample");
	long visits, computed;
	mod_infer_counts(inf, &visits, &computed);
	if (!o.quiet)
		fprintf(stderr, "mod-lm: prompt %zu bytes in %.3f s; generated %ld bytes in %.3f s: "
			"%.1f tokens/s; routed blocks computed %.1f%% of visits\n",
			n - (size_t)o.length - start, t1 - t0, o.length, t2 - t1,
			o.length / (t2 - t1), visits ? 100.0 * computed / visits : 100.0);
	free(hist);
	mod_infer_free(inf);
	mod_model_free(&m);
	return 0;
}

int main(int argc, char **argv)
{
	ax_cli_init("mod-lm");
	if (argc < 2)
		ax_usage_error("a sub-command is needed: train, eval or sample");
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(sub, "--version")) {
		ax_print_version();
		return 0;
	}
	if (!strcmp(sub, "train"))
		return cmd_train(argc - 1, argv + 1);
	if (!strcmp(sub, "eval"))
		return cmd_eval(argc - 1, argv + 1);
	if (!strcmp(sub, "sample"))
		return cmd_sample(argc - 1, argv + 1);
	ax_usage_error("unknown sub-command '%s' (train, eval or sample)", sub);
}
