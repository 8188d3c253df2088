/* agent-probe — a memory-transformer agent in a gridworld, and the probes
 * that explain it (arXiv:2407.12161): attention by memory offset, edited
 * observations, head ablation, activation patching, attention rollout.
 * The command line only; the work is in the other files (ap.h). */
#include "ap.h"

#include <string.h>

static const char usage_text[] =
	"Usage: agent-probe train [OPTION]...\n"
	"       agent-probe rollout|attention|intervene|ablate|patch -m CKPT [OPTION]...\n"
	"A transformer policy over the last K steps of a gridworld (a cue to remember,\n"
	"trees to chop, two doors; see agent-probe(1)), cloned from a scripted expert,\n"
	"and the probes that explain it.\n"
	"\n"
	"train: CSV step,loss,accuracy,success,seconds on stdout.\n"
	"      --memory K         steps the policy sees, itself included (default 32)\n"
	"      --dim N            model width (default 64)\n"
	"      --layers N         transformer blocks (default 2)\n"
	"      --heads N          attention heads (default 4)\n"
	"      --steps N          training steps (default 1500)\n"
	"      --batch N          expert episodes per step (default 16)\n"
	"      --lr X             Adam learning rate (default 1e-3)\n"
	"      --noise X          the expert acts at random this often (default 0.2)\n"
	"      --eval-episodes N  greedy episodes behind each row's success (default 64)\n"
	AX_RUN_HELP
	"\n"
	"rollout: NPY stream: observations (n, 40, 203) float32, actions (n, 40)\n"
	"int32 (-1 after the end), rewards (n, 40) float32, lengths (n) int32,\n"
	"attention (n, layers, heads, 40, 40) float32.\n"
	"attention: CSV layer,head,last4,cue,trees,older on stdout; -o: (layers,\n"
	"heads, K) mass by memory offset; --png: time x offset heatmap.\n"
	"intervene: CSV edit,episodes,success,kl,dlogit_attack,attack_rate,attack_prob.\n"
	"ablate: CSV layer,head,success,d_success,attack_rate,d_attack (-1,-1: none).\n"
	"patch: CSV clean,corrupted,all_effect,layer,step,head,effect,resid_layer,\n"
	"resid_step,resid_effect (the largest effects); -o: (layers, 40, heads)\n"
	"normalised effects of head outputs; --resid: (layers, 40) of the residual\n"
	"stream; --png: both as a heatmap; --rollout: (40) attention rollout.\n"
	"  -m, --model CKPT       trained checkpoint\n"
	"  -n, --episodes N       episodes (default 64)\n"
	"      --edit SPEC        lookalike, control, nocue, movecue, swapcue, several\n"
	"                         joined by commas, or none (intervene: required;\n"
	"                         ablate: default lookalike)\n"
	"      --temperature X    rollout: sample at this temperature (default 0: greedy)\n"
	"  -o, --output FILE      the NPY output (rollout: default stdout)\n"
	"      --png FILE         a heatmap PNG\n"
	"      --rollout FILE     patch: the attention rollout NPY\n"
	"      --resid FILE       patch: the residual-stream effects NPY\n"
	"      --self             patch: the clean run is also the corrupted one\n"
	"\n"
	"  -s, --seed N           seed (default 1); one thread unless --threads says\n"
	"                         otherwise (the model is small)\n"
	AX_COMMON_HELP
	"\n"
	AX_EXIT_HELP;

enum { SUB_TRAIN, SUB_ROLLOUT, SUB_ATTENTION, SUB_INTERVENE, SUB_ABLATE, SUB_PATCH };
static const char *const subs[] = { "train", "rollout", "attention", "intervene", "ablate",
				    "patch", NULL };
enum { OPT_SETTING = 0, OPT_MODEL, OPT_EPISODES, OPT_EDIT, OPT_TEMP, OPT_OUTPUT,
       OPT_PNG, OPT_ROLLOUT, OPT_SELF, OPT_RESID };
#define PROBES (AX_SUBS_ALL & ~AX_SUB(SUB_TRAIN))
static const struct ax_option opts[] = {
	{ "memory", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "dim", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "layers", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "heads", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "steps", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "batch", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "lr", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "noise", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "eval-episodes", 0, 1, AX_SUB(SUB_TRAIN), OPT_SETTING, AX_OPT_FIXED },
	{ "checkpoint", 'c', 1, AX_SUB(SUB_TRAIN), AX_OPT_CHECKPOINT, 0 },
	{ "model", 'm', 1, PROBES, OPT_MODEL, 0 },
	{ "episodes", 'n', 1, PROBES, OPT_EPISODES, 0 },
	{ "edit", 0, 1, AX_SUB(SUB_ROLLOUT) | AX_SUB(SUB_INTERVENE) | AX_SUB(SUB_ABLATE),
	  OPT_EDIT, 0 },
	{ "temperature", 0, 1, AX_SUB(SUB_ROLLOUT), OPT_TEMP, 0 },
	{ "output", 'o', 1, AX_SUB(SUB_ROLLOUT) | AX_SUB(SUB_ATTENTION) | AX_SUB(SUB_PATCH),
	  OPT_OUTPUT, 0 },
	{ "png", 0, 1, AX_SUB(SUB_ATTENTION) | AX_SUB(SUB_PATCH), OPT_PNG, 0 },
	{ "rollout", 0, 1, AX_SUB(SUB_PATCH), OPT_ROLLOUT, 0 },
	{ "self", 0, 0, AX_SUB(SUB_PATCH), OPT_SELF, 0 },
	{ "resid", 0, 1, AX_SUB(SUB_PATCH), OPT_RESID, 0 },
};

struct ap_cmd {
	struct ax_cli cli;
	struct ap_config cfg;
	const char *model, *output, *png, *rollout, *resid, *edit_spec;
	int episodes, edits, edit_given, self;
	double temperature;
};

static void ap_parse(struct ap_cmd *c, int argc, char **argv)
{
	c->cli = (struct ax_cli){ .usage = usage_text, .subs = subs, .opts = opts,
				  .nopts = (int)AX_COUNTOF(opts), .train_subs = AX_SUB(SUB_TRAIN) };
	c->cli.common.seed = 1;
	ap_config_default(&c->cfg);
	c->episodes = 64;
	ax_cli_begin(&c->cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&c->cli, &arg)) != AX_OPT_END;) {
		const char *o = ax_cli_opt(&c->cli);
		enum ax_status st;
		switch (id) {
		case OPT_MODEL: c->model = arg; break;
		case OPT_EPISODES: c->episodes = (int)ax_parse_long(o, arg, 1, 100000); break;
		case OPT_EDIT:
			if ((st = ap_edit_parse(arg, &c->edits)))
				ax_usage_error("%s: %s", o, ax_error_detail());
			c->edit_given = 1, c->edit_spec = arg;
			break;
		case OPT_TEMP: c->temperature = ax_parse_double(o, arg, 0, 100); break;
		case OPT_OUTPUT: c->output = arg; break;
		case OPT_PNG: c->png = arg; break;
		case OPT_ROLLOUT: c->rollout = arg; break;
		case OPT_SELF: c->self = 1; break;
		case OPT_RESID: c->resid = arg; break;
		default:
			AX_ASSERT(id == OPT_SETTING &&
				  ax_cli_setting_in(&c->cli, ap_settings, ap_nsettings, arg, &c->cfg));
		}
	}
	if (c->cli.nfiles)
		ax_usage_error("unexpected operand '%s'", c->cli.files[0]);
	/* The model is small: more threads mostly wait for each other (on a busy
	 * machine, minutes instead of seconds), so one unless asked. */
	if (!ax_cli_seen(&c->cli, AX_OPT_THREADS))
		ax_threads_set(1);
	if (c->cli.sub != SUB_TRAIN && !c->model)
		ax_usage_error("%s: -m CKPT is needed", c->cli.sub_name);
	if (c->cli.sub == SUB_INTERVENE && !c->edit_given)
		ax_usage_error("intervene: --edit SPEC is needed");
	if (c->cli.sub == SUB_ABLATE && !c->edit_given)
		c->edits = AP_EDIT_LOOKALIKE;
	if (c->cfg.dim % c->cfg.heads)
		ax_usage_error("--dim %d is not a multiple of --heads %d", c->cfg.dim, c->cfg.heads);
}

static int cmd_train(struct ap_cmd *c)
{
	struct ap_model m;
	struct ax_bundle ck, *resume = NULL;
	const char *rpath = c->cli.common.run.resume;
	ax_dist_init();
	if (rpath) {
		ax_cli_refuse(&c->cli, AX_OPT_FIXED, "conflicts with --resume (the checkpoint fixes it)");
		enum ax_status st = ap_model_load(&m, rpath);
		if (st || (st = ax_ckpt_open(rpath, "agent-probe", &ck)))
			ax_die_status(AX_EXIT_USAGE, st, NULL);
		resume = &ck;
	} else {
		c->cfg.seed = c->cli.common.seed;
		ap_model_init(&m, &c->cfg, c->cfg.seed);
	}
	if (m.cfg.batch < ax_dist_size())
		ax_usage_error("--batch %d is less than the %d ranks", m.cfg.batch, ax_dist_size());
	struct ap_train_opts o = { .run = &c->cli.common.run, .quiet = c->cli.common.quiet };
	int rc = ap_train(&m, &o, resume);
	if (resume)
		ax_bundle_free(resume);
	ap_model_free(&m);
	return ax_cli_exiting(rc);
}

static void ap_load(const struct ap_cmd *c, struct ap_model *m)
{
	enum ax_status st = ap_model_load(m, c->model);
	if (st)
		ax_die_status(st == AX_ERR_IO ? AX_EXIT_FAIL : AX_EXIT_USAGE, st, NULL);
}

static void ap_check(enum ax_status st, const char *what)
{
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, what);
}

static int cmd_rollout(struct ap_cmd *c, const struct ap_model *m)
{
	struct ap_episodes ep;
	ap_rollout(m, c->cli.common.seed, c->episodes, c->edits, (float)c->temperature, NULL, &ep);
	float *att = ap_episode_attention(m, &ep);
	struct ax_outfile out;
	ap_check(ax_outfile_open(&out, c->output ? c->output : "-"), NULL);
	int64_t n = ep.n, T = AP_TMAX;
	enum ax_status st;
	if ((st = ax_npy_write_f32(out.f, ep.obs, 3, (int64_t[]){ n, T, AP_OBS })) ||
	    (st = ap_npy_i32(out.f, ep.act, 2, (int64_t[]){ n, T })) ||
	    (st = ax_npy_write_f32(out.f, ep.rew, 2, (int64_t[]){ n, T })) ||
	    (st = ap_npy_i32(out.f, ep.len, 1, (int64_t[]){ n })) ||
	    (st = ax_npy_write_f32(out.f, att, 5, (int64_t[]){ n, m->cfg.layers, m->cfg.heads, T, T }))) {
		ax_outfile_abort(&out);
		ap_check(st, "rollout");
	}
	ap_check(ax_outfile_commit(&out), NULL);
	free(att);
	ap_episodes_free(&ep);
	return 0;
}

static int cmd_attention(struct ap_cmd *c, const struct ap_model *m)
{
	struct ap_episodes ep;
	ap_rollout(m, c->cli.common.seed, c->episodes, 0, 0, NULL, &ep);
	float *att = ap_episode_attention(m, &ep);
	struct ap_attn_summary s;
	ap_attention_summary(m, &ep, att, &s);
	int L = m->cfg.layers, H = m->cfg.heads, K = AX_MIN(m->cfg.memory, AP_TMAX);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "layer,head,last4,cue,trees,older");
	for (int k = 0; k < L * H; k++)
		ax_csv_row(&csv, (double[]){ k / H, k % H, s.last4[k], s.cue[k], s.trees[k],
					     1 - s.last4[k] - s.cue[k] - s.trees[k] });
	if (c->output)
		ap_check(ap_save_f32(c->output, s.by_offset, 3, (int64_t[]){ L, H, K }), NULL);
	if (c->png)
		ap_check(ap_heatmap_png(c->png, "attention by memory offset (all heads)",
					"offset (steps back)", "episode step", s.time_offset,
					AP_TMAX, K, 0, 1), NULL);
	ap_attn_summary_free(&s);
	free(att);
	ap_episodes_free(&ep);
	return 0;
}

static int cmd_intervene(struct ap_cmd *c, const struct ap_model *m)
{
	struct ap_episodes ep;
	struct ap_effect e;
	ap_rollout(m, c->cli.common.seed, c->episodes, c->edits, 0, NULL, &ep);
	ap_intervene(m, &ep, &e);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "edit,episodes,success,kl,dlogit_attack,attack_rate,attack_prob");
	ax_csv_rowf(&csv, "%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g", c->edit_spec, ep.n, e.success, e.kl,
		    e.dlogit_attack, e.attack_rate, e.attack_prob);
	ap_episodes_free(&ep);
	return 0;
}

static int cmd_ablate(struct ap_cmd *c, const struct ap_model *m)
{
	int LH = m->cfg.layers * m->cfg.heads;
	double *rows = ax_xmalloc((size_t)(LH + 1) * 2 * sizeof(double));
	ap_ablate(m, c->cli.common.seed, c->episodes, c->edits, rows);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "layer,head,success,d_success,attack_rate,d_attack");
	for (int k = -1; k < LH; k++) {
		const double *r = rows + (k + 1) * 2;
		ax_csv_row(&csv, (double[]){ k < 0 ? -1 : k / m->cfg.heads,
					     k < 0 ? -1 : k % m->cfg.heads, r[0], r[0] - rows[0],
					     r[1], r[1] - rows[1] });
	}
	free(rows);
	return 0;
}

static size_t ap_argmax(const float *v, size_t n)
{
	size_t best = 0;
	for (size_t k = 1; k < n; k++)
		if (v[k] > v[best])
			best = k;
	return best;
}

/* Rows layer*H + head (head outputs), then one row per layer (residual). */
static enum ax_status ap_patch_png(const char *path, const struct ap_patch_result *p)
{
	int R = p->L * p->H + p->L;
	float *v = ax_xmalloc((size_t)R * p->T * sizeof(float));
	for (int l = 0; l < p->L; l++)
		for (int t = 0; t < p->T; t++) {
			for (int h = 0; h < p->H; h++)
				v[((size_t)l * p->H + h) * p->T + t] =
					p->effect[((size_t)l * p->T + t) * p->H + h];
			v[((size_t)p->L * p->H + l) * p->T + t] = p->resid[(size_t)l * p->T + t];
		}
	enum ax_status st = ap_heatmap_png(path, "patching: normalised effect", "episode step",
					   "layer*heads+head; residual by layer", v, R, p->T, 0, 1);
	free(v);
	return st;
}

static int cmd_patch(struct ap_cmd *c, const struct ap_model *m)
{
	struct ap_patch_result p;
	ap_patch(m, c->cli.common.seed, c->episodes, c->self, &p);
	size_t bh = ap_argmax(p.effect, (size_t)p.L * p.T * p.H);
	size_t br = ap_argmax(p.resid, (size_t)p.L * p.T);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "clean,corrupted,all_effect,layer,step,head,effect,"
		     "resid_layer,resid_step,resid_effect");
	ax_csv_row(&csv, (double[]){ p.clean, p.corrupted, p.all_effect,
				     (double)(bh / ((size_t)p.T * p.H)), (double)(bh / p.H % p.T),
				     (double)(bh % p.H), p.effect[bh], (double)(br / p.T),
				     (double)(br % p.T), p.resid[br] });
	if (c->output)
		ap_check(ap_save_f32(c->output, p.effect, 3, (int64_t[]){ p.L, p.T, p.H }), NULL);
	if (c->resid)
		ap_check(ap_save_f32(c->resid, p.resid, 2, (int64_t[]){ p.L, p.T }), NULL);
	if (c->rollout)
		ap_check(ap_save_f32(c->rollout, p.rollout, 1, (int64_t[]){ p.T }), NULL);
	if (c->png)
		ap_check(ap_patch_png(c->png, &p), NULL);
	ap_patch_free(&p);
	return 0;
}

int main(int argc, char **argv)
{
	ax_cli_init("agent-probe");
	struct ap_cmd c = { 0 };
	ap_parse(&c, argc, argv);
	if (c.cli.sub == SUB_TRAIN)
		return cmd_train(&c);
	struct ap_model m;
	ap_load(&c, &m);
	int rc = 0;
	switch (c.cli.sub) {
	case SUB_ROLLOUT: rc = cmd_rollout(&c, &m); break;
	case SUB_ATTENTION: rc = cmd_attention(&c, &m); break;
	case SUB_INTERVENE: rc = cmd_intervene(&c, &m); break;
	case SUB_ABLATE: rc = cmd_ablate(&c, &m); break;
	default: rc = cmd_patch(&c, &m); break;
	}
	ap_model_free(&m);
	return rc;
}
