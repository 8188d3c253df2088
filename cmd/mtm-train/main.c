/* mtm-train — multi-task masking (MtM, arXiv:2407.14668) for population
 * spiking data: an NDT1-style transformer trained on several sessions with
 * neuron, causal, intra- and inter-region masking, and its evaluation.
 *
 *   mtm-train train [OPTION]... SESSION...   train (or fine-tune with --init)
 *   mtm-train eval  [OPTION]... SESSION...   every metric, CSV on stdout
 */
#include "mtm.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static const char usage_text[] =
	"Usage: mtm-train train [OPTION]... --checkpoint FILE SESSION...\n"
	"       mtm-train eval  [OPTION]... --checkpoint FILE SESSION...\n"
	"Multi-task masking (MtM) for binned spike counts. A SESSION is a\n"
	"safetensors bundle with \"counts\" (trials, bins, neurons) and optionally\n"
	"\"regions\", \"rates\", \"choice\", \"wheel\", \"split\" (see mtm-train(1)).\n"
	"\n"
	"train: CSV step,session,mask,loss,lr on stdout every --log-every steps.\n"
	"  -c, --checkpoint FILE  checkpoint to write (periodically and at the end)\n"
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
	"      --init CKPT        start the core from CKPT (fine-tune on new sessions)\n"
	"      --resume CKPT      continue a run bit-exactly\n"
	"      --every N          also save the checkpoint every N steps\n"
	"      --stop-at N        save and stop after step N (the schedule still\n"
	"                         spans --steps; continue with --resume)\n"
	"      --log-every N      log every N steps (default 50)\n"
	"\n"
	"eval: CSV session,metric,value,oracle on stdout, one row per metric and\n"
	"session (sessions in the checkpoint's order).\n"
	"  -c, --checkpoint FILE  trained model\n"
	"      --predict-out FILE NPY stream, per session the co-smoothing rates\n"
	"                         (test trials, bins, neurons) in spikes per bin\n"
	"\n"
	"  -s, --seed N           seed (default 42)\n"
	"      --threads N        threads (default: all cores)\n"
	"  -q, --quiet            no progress on stderr\n"
	"  -h, --help             print this help and exit\n"
	"      --version          print the version and exit\n"
	"\n"
	"Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error or bad\n"
	"input, 130 when a signal stopped training (the checkpoint is saved first).\n";

enum {
	OPT_LR = 256, OPT_WD, OPT_WARMUP, OPT_DIM, OPT_LAYERS, OPT_HEADS, OPT_HIDDEN, OPT_DROPOUT,
	OPT_INIT, OPT_RESUME, OPT_EVERY, OPT_LOG_EVERY, OPT_PREDICT, OPT_THREADS, OPT_VERSION,
	OPT_STOP_AT,
};

struct opts {
	const char *checkpoint, *init, *resume, *predict_out;
	int mask, batch, every, log_every, threads, quiet;
	long steps, stop_at;
	double lr, weight_decay, warmup;
	int dim, layers, heads, hidden;
	double dropout;
	uint64_t seed;
};

static const char *const mask_names[] = { "neuron", "causal", "intra", "inter", "temporal",
					  "mtm", NULL };

/* ---- sessions ---- */

static struct mtm_session *load_sessions(char **paths, int n)
{
	struct mtm_session *s = ax_xcalloc((size_t)n, sizeof *s);
	for (int i = 0; i < n; i++) {
		mtm_session_load(&s[i], paths[i]);
		if (s[i].T != s[0].T)
			ax_die(AX_EXIT_USAGE, "%s: %d bins per trial, but %s has %d", paths[i], s[i].T,
			       paths[0], s[0].T);
	}
	return s;
}

/* ---- checkpoints ---- */

static void put_int_list(struct ax_bundle *b, const char *key, const int *v, int n)
{
	char *buf = ax_xmalloc((size_t)n * 12 + 1), *p = buf;
	*p = 0;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s%d", i ? "," : "", v[i]);
	ax_bundle_set_meta(b, key, buf);
	free(buf);
}

static long meta_long(const struct ax_bundle *b, const char *path, const char *key)
{
	long v;
	if (ax_ckpt_get_long(b, key, &v))
		ax_die(AX_EXIT_USAGE, "%s: %s", path, ax_error_detail());
	return v;
}

static double meta_double(const struct ax_bundle *b, const char *path, const char *key)
{
	double v;
	if (ax_ckpt_get_double(b, key, &v))
		ax_die(AX_EXIT_USAGE, "%s: %s", path, ax_error_detail());
	return v;
}

static void load_checkpoint(const char *path, struct ax_bundle *b)
{
	enum ax_status st = ax_ckpt_load(path, "mtm-train", b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
}

/* Model configuration from a checkpoint's metadata; neurons per session
 * from "mtm.neurons" (malloc'd). */
static void config_from_checkpoint(const struct ax_bundle *b, const char *path,
				   struct mtm_config *c)
{
	memset(c, 0, sizeof *c);
	c->D = (int)meta_long(b, path, "mtm.dim");
	c->layers = (int)meta_long(b, path, "mtm.layers");
	c->heads = (int)meta_long(b, path, "mtm.heads");
	c->hidden = (int)meta_long(b, path, "mtm.hidden");
	c->T = (int)meta_long(b, path, "mtm.bins");
	c->dropout = (float)meta_double(b, path, "mtm.dropout");
	const char *list = ax_bundle_meta(b, "mtm.neurons");
	if (c->D < 1 || c->D > 65536 || c->layers < 0 || c->layers > 1000 || c->heads < 1 ||
	    c->D % c->heads || c->hidden < 1 || c->hidden > 1 << 20 || c->T < 1 || c->T > 100000 ||
	    !list)
		ax_die(AX_EXIT_USAGE, "%s: malformed mtm-train configuration in the metadata", path);
	c->neurons = ax_xmalloc((strlen(list) / 2 + 2) * sizeof(int));
	for (const char *p = list; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1 || v > 100000 || (*end && *end != ','))
			ax_die(AX_EXIT_USAGE, "%s: malformed mtm.neurons '%s'", path, list);
		c->neurons[c->nsessions++] = (int)v;
		p = *end ? end + 1 : end;
	}
}

struct run {
	struct opts o;
	struct mtm_model m;
	struct ax_optim opt;
	struct ax_rng data_rng, drop_rng;
	struct mtm_session *sess;
	int nsess;
};

static void save_checkpoint(const struct run *r, long step)
{
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_params_to_bundle(&r->m.params, &b, "");
	ax_optim_to_bundle(&r->opt, &b, "");
	ax_ckpt_put_rng(&b, "rng.data", &r->data_rng);
	ax_ckpt_put_rng(&b, "rng.dropout", &r->drop_rng);
	const struct mtm_config *c = &r->m.cfg;
	ax_bundle_set_meta(&b, "axon.kind", "mtm-train");
	ax_ckpt_put_long(&b, "axon.step", step);
	ax_ckpt_put_long(&b, "mtm.dim", c->D);
	ax_ckpt_put_long(&b, "mtm.layers", c->layers);
	ax_ckpt_put_long(&b, "mtm.heads", c->heads);
	ax_ckpt_put_long(&b, "mtm.hidden", c->hidden);
	ax_ckpt_put_long(&b, "mtm.bins", c->T);
	ax_ckpt_put_double(&b, "mtm.dropout", c->dropout);
	put_int_list(&b, "mtm.neurons", c->neurons, c->nsessions);
	ax_bundle_set_meta(&b, "mtm.mask", mask_names[r->o.mask]);
	ax_ckpt_put_long(&b, "mtm.steps", r->o.steps);
	ax_ckpt_put_long(&b, "mtm.batch", r->o.batch);
	ax_ckpt_put_double(&b, "mtm.lr", r->o.lr);
	ax_ckpt_put_double(&b, "mtm.weight_decay", r->o.weight_decay);
	ax_ckpt_put_double(&b, "mtm.warmup", r->o.warmup);
	size_t len = 1;
	for (int i = 0; i < r->nsess; i++)
		len += strlen(r->sess[i].name) + 1;
	char *names = ax_xcalloc(len, 1);
	for (int i = 0; i < r->nsess; i++) {
		if (i)
			strcat(names, ",");
		strcat(names, r->sess[i].name);
	}
	ax_bundle_set_meta(&b, "mtm.sessions", names);
	free(names);
	enum ax_status st = ax_bundle_save(r->o.checkpoint, &b);
	ax_bundle_free(&b);
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "checkpoint");
}

/* The --mask a checkpoint was trained with (index into mask_names). */
static int mask_from_checkpoint(const struct ax_bundle *b, const char *path)
{
	const char *mask = ax_bundle_meta(b, "mtm.mask");
	for (int i = 0; mask && mask_names[i]; i++)
		if (!strcmp(mask, mask_names[i]))
			return i;
	ax_die(AX_EXIT_USAGE, "%s: unknown or missing mtm.mask in the metadata", path);
}

/* Sessions must match the model's stitchers one to one, in order. */
static void check_sessions_fit(const struct mtm_config *c, const struct mtm_session *s, int n,
			       const char *ckpt)
{
	if (n > c->nsessions)
		ax_die(AX_EXIT_USAGE, "%s holds %d sessions, but %d session files were given", ckpt,
		       c->nsessions, n);
	for (int i = 0; i < n; i++) {
		if (s[i].N != c->neurons[i])
			ax_die(AX_EXIT_USAGE,
			       "%s: %d neurons, but session %d of %s has %d (neuron-count mismatch)",
			       s[i].path, s[i].N, i, ckpt, c->neurons[i]);
		if (s[i].T != c->T)
			ax_die(AX_EXIT_USAGE, "%s: %d bins per trial, but %s was trained on %d", s[i].path,
			       s[i].T, ckpt, c->T);
	}
}

/* ---- training ---- */

static int cmd_train(struct opts *o, char **files, int nfiles)
{
	struct run r = { .o = *o };
	r.sess = load_sessions(files, nfiles);
	r.nsess = nfiles;
	struct ax_bundle ck;
	ax_bundle_init(&ck);
	struct mtm_config cfg = { 0 };
	long start = 0;
	const char *from = o->resume ? o->resume : o->init;
	if (from) {
		load_checkpoint(from, &ck);
		config_from_checkpoint(&ck, from, &cfg);
		if (o->resume) {
			check_sessions_fit(&cfg, r.sess, nfiles, from);
			if (nfiles != cfg.nsessions)
				ax_die(AX_EXIT_USAGE, "%s was trained on %d sessions, %d given", from,
				       cfg.nsessions, nfiles);
			r.o.mask = mask_from_checkpoint(&ck, from);
			r.o.steps = meta_long(&ck, from, "mtm.steps");
			r.o.batch = (int)meta_long(&ck, from, "mtm.batch");
			r.o.lr = meta_double(&ck, from, "mtm.lr");
			r.o.weight_decay = meta_double(&ck, from, "mtm.weight_decay");
			r.o.warmup = meta_double(&ck, from, "mtm.warmup");
			start = meta_long(&ck, from, "axon.step");
		} else {
			if (r.sess[0].T != cfg.T)
				ax_die(AX_EXIT_USAGE, "%s: %d bins per trial, but %s was trained on %d",
				       r.sess[0].path, r.sess[0].T, from, cfg.T);
			free(cfg.neurons);
			cfg.neurons = NULL;
		}
	} else {
		cfg.D = o->dim, cfg.layers = o->layers, cfg.heads = o->heads;
		cfg.hidden = o->hidden > 0 ? o->hidden : 2 * o->dim;
		cfg.dropout = (float)o->dropout;
		cfg.T = r.sess[0].T;
		if (cfg.D % cfg.heads)
			ax_usage_error("--dim %d is not divisible by --heads %d", cfg.D, cfg.heads);
	}
	if (!cfg.neurons) {
		cfg.nsessions = nfiles;
		cfg.neurons = ax_xmalloc((size_t)nfiles * sizeof(int));
		for (int i = 0; i < nfiles; i++)
			cfg.neurons[i] = r.sess[i].N;
	}
	mtm_model_init(&r.m, &cfg, o->seed);
	free(cfg.neurons);
	/* Read-out biases start at log mean counts: the null model from step 0. */
	for (int s = 0; s < nfiles; s++)
		for (int n = 0; n < r.sess[s].N; n++)
			r.m.readout[s].b->data[n] = logf(r.sess[s].mean_count[n] + 1e-3f);
	ax_optim_init(&r.opt, AX_OPTIM_ADAMW, &r.m.params);
	r.opt.weight_decay = (float)r.o.weight_decay;
	struct ax_rng root;
	ax_rng_seed(&root, o->seed);
	r.data_rng = ax_rng_split(&root, 2);
	r.drop_rng = ax_rng_split(&root, 3);
	enum ax_status st;
	if (o->resume) {
		if ((st = ax_params_from_bundle(&r.m.params, &ck, "")) ||
		    (st = ax_optim_from_bundle(&r.opt, &ck, "")) ||
		    (st = ax_ckpt_get_rng(&ck, "rng.data", &r.data_rng)) ||
		    (st = ax_ckpt_get_rng(&ck, "rng.dropout", &r.drop_rng)))
			ax_die(AX_EXIT_USAGE, "%s: %s", from, ax_error_detail());
	} else if (o->init) {
		/* Shared core from the checkpoint; stitchers, session embeddings
		 * and read-outs stay new. */
		if (ax_params_from_bundle_except(&r.m.params, &ck, "", mtm_param_is_session))
			ax_die(AX_EXIT_USAGE, "%s: %s", from, ax_error_detail());
	}
	ax_bundle_free(&ck);
	if (start >= r.o.steps)
		ax_die(AX_EXIT_USAGE, "%s is already at step %ld of %ld", from, start, r.o.steps);

	/* Scratch, sized once: the step itself allocates only from the arena. */
	int T = r.m.cfg.T, maxTrain = 0, B = r.o.batch;
	for (int s = 0; s < nfiles; s++)
		maxTrain = AX_MAX(maxTrain, r.sess[s].ntrain);
	int32_t *order = ax_xmalloc((size_t)maxTrain * sizeof *order);
	struct ax_arena step_arena;
	ax_arena_init(&step_arena, 0);
	struct ax_tape tape;
	ax_tape_init(&tape, &step_arena);
	tape.training = 1;

	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "step,session,mask,loss,lr");
	struct ax_progress prog;
	ax_progress_begin(&prog, "train", r.o.steps, o->quiet);
	ax_signals_install();
	static const enum mtm_scheme mtm_tasks[4] = { MTM_NEURON, MTM_CAUSAL, MTM_INTRA, MTM_INTER };
	double loss_acc = 0;
	int loss_n = 0;
	long step, end = r.o.steps;
	if (o->stop_at > 0 && o->stop_at < end)
		end = o->stop_at;
	for (step = start; step < end; step++) {
		int s = (int)ax_rng_below(&r.data_rng, (uint32_t)nfiles);
		const struct mtm_session *se = &r.sess[s];
		enum mtm_scheme scheme = r.o.mask == MTM_MASK_MTM
						 ? mtm_tasks[ax_rng_below(&r.data_rng, 4)]
						 : (enum mtm_scheme)r.o.mask;
		int N = se->N, Bs = AX_MIN(B, se->ntrain);
		size_t TN = (size_t)T * N;
		/* Trials: the first Bs of a partial Fisher-Yates shuffle. */
		memcpy(order, se->train, (size_t)se->ntrain * sizeof *order);
		for (int i = 0; i < Bs; i++) {
			int j = i + (int)ax_rng_below(&r.data_rng, (uint32_t)(se->ntrain - i));
			int32_t tmp = order[i];
			order[i] = order[j], order[j] = tmp;
		}
		int shape[3] = { Bs, T, N };
		struct ax_tensor *x = ax_tensor_new(&step_arena, 3, shape);
		struct ax_tensor *y = ax_tensor_new(&step_arena, 3, shape);
		struct ax_tensor *w = ax_tensor_new(&step_arena, 3, shape);
		/* Per trial: the mask drawn straight into x (keep) and w (target),
		 * then x = counts * keep. */
		for (int b = 0; b < Bs; b++) {
			const float *c = se->counts + (size_t)order[b] * TN;
			float *xb = x->data + (size_t)b * TN;
			mtm_mask_draw(scheme, &r.data_rng, T, N, se->region, se->nregions, xb,
				      w->data + (size_t)b * TN);
			memcpy(y->data + (size_t)b * TN, c, TN * sizeof *c);
			for (size_t i = 0; i < TN; i++)
				xb[i] *= c[i];
		}
		struct ax_tensor *lr_out = mtm_forward(&tape, &r.m, s, x, scheme, &r.drop_rng, NULL);
		struct ax_tensor *loss = ax_poisson_nll(&tape, lr_out, y, w);
		float lval = loss->data[0];
		if (!isfinite(lval)) {
			ax_progress_end(&prog);
			ax_die(AX_EXIT_FAIL, "loss is not finite at step %ld (try a lower --lr)", step);
		}
		ax_params_zero_grad(&r.m.params);
		ax_tape_backward(&tape, loss, 1.0f);
		ax_clip_grad_norm(&r.m.params, 1.0f);
		float lr = ax_sched_onecycle(step, r.o.steps, (float)r.o.warmup, (float)r.o.lr, 25.0f,
					     1e4f);
		ax_optim_step(&r.opt, lr);
		ax_tape_reset(&tape);
		loss_acc += lval, loss_n++;
		if ((step + 1) % r.o.log_every == 0 || step + 1 == r.o.steps) {
			ax_csv_rowf(&csv, "%ld,%s,%s,%.6f,%.6g", step + 1, se->name,
				    mtm_scheme_names[scheme], loss_acc / loss_n, lr);
			loss_acc = 0, loss_n = 0;
		}
		ax_progress_update(&prog, step + 1, NULL);
		if (r.o.every > 0 && (step + 1) % r.o.every == 0 && step + 1 < r.o.steps)
			save_checkpoint(&r, step + 1);
		if (ax_interrupted()) {
			step++;
			break;
		}
	}
	ax_progress_end(&prog);
	save_checkpoint(&r, step);
	int rc = 0;
	if (step < end) {
		ax_warn("interrupted at step %ld; checkpoint saved to %s (continue with --resume)", step,
			r.o.checkpoint);
		rc = AX_EXIT_INTERRUPTED;
	}
	free(order);
	ax_tape_free(&tape);
	ax_arena_free(&step_arena);
	mtm_model_free(&r.m);
	for (int i = 0; i < nfiles; i++)
		mtm_session_free(&r.sess[i]);
	free(r.sess);
	return rc;
}

/* ---- evaluation ---- */

static int cmd_eval(struct opts *o, char **files, int nfiles)
{
	struct mtm_session *sess = load_sessions(files, nfiles);
	struct ax_bundle ck;
	struct mtm_config cfg;
	load_checkpoint(o->checkpoint, &ck);
	config_from_checkpoint(&ck, o->checkpoint, &cfg);
	check_sessions_fit(&cfg, sess, nfiles, o->checkpoint);
	int trained = mask_from_checkpoint(&ck, o->checkpoint);
	struct mtm_model m;
	mtm_model_init(&m, &cfg, o->seed);
	free(cfg.neurons);
	if (ax_params_from_bundle(&m.params, &ck, ""))
		ax_die(AX_EXIT_USAGE, "%s: %s", o->checkpoint, ax_error_detail());
	ax_bundle_free(&ck);

	struct ax_outfile pred_file = { 0 };
	if (o->predict_out && ax_outfile_open(&pred_file, o->predict_out))
		ax_die(AX_EXIT_FAIL, "%s", ax_error_detail());
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "session,metric,value,oracle");
	struct ax_progress prog;
	ax_progress_begin(&prog, "eval", nfiles, o->quiet);
	for (int s = 0; s < nfiles; s++) {
		struct mtm_eval_result res;
		size_t npred = (size_t)sess[s].ntest * sess[s].T * sess[s].N;
		float *pred = o->predict_out ? ax_xmalloc(npred * sizeof *pred) : NULL;
		mtm_evaluate(&m, s, &sess[s], trained, &res, pred);
		for (int k = 0; k < MET_N; k++) {
			if (isnan(res.value[k]) && isnan(res.oracle[k]))
				continue;
			ax_csv_rowf(&csv, "%s,%s,%.6g,%.6g", sess[s].name, mtm_metric_names[k],
				    res.value[k], res.oracle[k]);
		}
		if (pred) {
			int64_t shape[3] = { sess[s].ntest, sess[s].T, sess[s].N };
			if (ax_npy_write_f32(pred_file.f, pred, 3, shape)) {
				ax_outfile_abort(&pred_file);
				ax_die(AX_EXIT_FAIL, "%s: %s", o->predict_out, ax_error_detail());
			}
			free(pred);
		}
		ax_progress_update(&prog, s + 1, NULL);
	}
	ax_progress_end(&prog);
	if (o->predict_out && ax_outfile_commit(&pred_file))
		ax_die(AX_EXIT_FAIL, "%s", ax_error_detail());
	mtm_model_free(&m);
	for (int i = 0; i < nfiles; i++)
		mtm_session_free(&sess[i]);
	free(sess);
	return 0;
}

int main(int argc, char **argv)
{
	ax_cli_init("mtm-train");
	static const struct option longopts[] = {
		{ "checkpoint", required_argument, 0, 'c' }, { "mask", required_argument, 0, 'm' },
		{ "steps", required_argument, 0, 'n' },      { "batch", required_argument, 0, 'b' },
		{ "lr", required_argument, 0, OPT_LR },      { "weight-decay", required_argument, 0, OPT_WD },
		{ "warmup", required_argument, 0, OPT_WARMUP },
		{ "dim", required_argument, 0, OPT_DIM },    { "layers", required_argument, 0, OPT_LAYERS },
		{ "heads", required_argument, 0, OPT_HEADS },
		{ "hidden", required_argument, 0, OPT_HIDDEN },
		{ "dropout", required_argument, 0, OPT_DROPOUT },
		{ "init", required_argument, 0, OPT_INIT },  { "resume", required_argument, 0, OPT_RESUME },
		{ "every", required_argument, 0, OPT_EVERY },
		{ "stop-at", required_argument, 0, OPT_STOP_AT },
		{ "log-every", required_argument, 0, OPT_LOG_EVERY },
		{ "predict-out", required_argument, 0, OPT_PREDICT },
		{ "seed", required_argument, 0, 's' },       { "threads", required_argument, 0, OPT_THREADS },
		{ "quiet", no_argument, 0, 'q' },            { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, OPT_VERSION },  { 0, 0, 0, 0 },
	};
	struct opts o = { .mask = MTM_MASK_MTM, .batch = 16, .log_every = 50, .steps = 3000,
			  .lr = 1e-3, .weight_decay = 0.01, .warmup = 0.15, .dim = 64, .layers = 2,
			  .heads = 4, .hidden = 0, .dropout = 0.2, .seed = 42 };
	int c;
	while ((c = getopt_long(argc, argv, "c:m:n:b:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.checkpoint = optarg; break;
		case 'm': o.mask = ax_parse_choice("--mask", optarg, mask_names); break;
		case 'n': o.steps = ax_parse_long("--steps", optarg, 1, 100000000); break;
		case 'b': o.batch = (int)ax_parse_long("--batch", optarg, 1, 100000); break;
		case OPT_LR: o.lr = ax_parse_double("--lr", optarg, 0, 10); break;
		case OPT_WD: o.weight_decay = ax_parse_double("--weight-decay", optarg, 0, 10); break;
		case OPT_WARMUP: o.warmup = ax_parse_double("--warmup", optarg, 0, 1); break;
		case OPT_DIM: o.dim = (int)ax_parse_long("--dim", optarg, 1, 65536); break;
		case OPT_LAYERS: o.layers = (int)ax_parse_long("--layers", optarg, 0, 1000); break;
		case OPT_HEADS: o.heads = (int)ax_parse_long("--heads", optarg, 1, 1024); break;
		case OPT_HIDDEN: o.hidden = (int)ax_parse_long("--hidden", optarg, 1, 1 << 20); break;
		case OPT_DROPOUT: o.dropout = ax_parse_double("--dropout", optarg, 0, 0.95); break;
		case OPT_INIT: o.init = optarg; break;
		case OPT_RESUME: o.resume = optarg; break;
		case OPT_EVERY: o.every = (int)ax_parse_long("--every", optarg, 0, 100000000); break;
		case OPT_STOP_AT: o.stop_at = ax_parse_long("--stop-at", optarg, 1, 100000000); break;
		case OPT_LOG_EVERY: o.log_every = (int)ax_parse_long("--log-every", optarg, 1, 100000000); break;
		case OPT_PREDICT: o.predict_out = optarg; break;
		case 's': o.seed = ax_parse_seed("--seed", optarg); break;
		case OPT_THREADS: o.threads = (int)ax_parse_long("--threads", optarg, 0, 4096); break;
		case 'q': o.quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case OPT_VERSION: ax_print_version(); return 0;
		default: ax_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		ax_usage_error("missing sub-command: train or eval");
	static const char *const cmds[] = { "train", "eval", NULL };
	int cmd = ax_parse_choice("sub-command", argv[optind++], cmds);
	if (optind >= argc)
		ax_usage_error("no SESSION file given");
	if (!o.checkpoint)
		ax_usage_error("--checkpoint FILE is required");
	if (o.init && o.resume)
		ax_usage_error("--init and --resume exclude each other");
	ax_threads_set(o.threads);
	return cmd == 0 ? cmd_train(&o, argv + optind, argc - optind)
			: cmd_eval(&o, argv + optind, argc - optind);
}
