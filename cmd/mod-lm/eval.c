/* eval.c — loss over a text with a chosen routing rule, and `mod-lm eval`. */
#include "mod.h"

#include <math.h>
#include <string.h>

const char *const mod_router_names[] = { "topk", "aux", "predictor", "random", NULL };

double mod_eval_text(struct ax_tape *t, const struct mod_model *m, const struct mod_text *text,
		     size_t max_bytes, enum mod_router router, uint64_t seed, double *routed_frac)
{
	size_t n = text->n < max_bytes ? text->n : max_bytes;
	if (n < 2)
		return NAN;
	int S = (int)(n - 1 < (size_t)m->cfg.ctx ? n - 1 : (size_t)m->cfg.ctx);
	size_t nwin = (n - 1) / (size_t)S;
	int causal = router == MOD_ROUTER_AUX || router == MOD_ROUTER_PREDICTOR;
	int maxB = causal ? 1 : 16;
	struct ax_rng rng;
	ax_rng_seed(&rng, seed);
	ax_no_grad_begin(t);
	double sum = 0;
	long decisions = 0, selected = 0;
	for (size_t w = 0; w < nwin; w += (size_t)maxB) {
		int B = (int)(nwin - w < (size_t)maxB ? nwin - w : (size_t)maxB);
		int32_t *in = ax_tape_ints(t, (size_t)B * S), *tg = ax_tape_ints(t, (size_t)B * S);
		for (int b = 0; b < B; b++)
			for (int s = 0; s < S; s++) {
				size_t at = (w + (size_t)b) * S + (size_t)s;
				in[b * S + s] = text->bytes[at];
				tg[b * S + s] = text->bytes[at + 1];
			}
		struct mod_forward_out fo;
		mod_forward(t, m, in, B, S, router, &rng, 0, &fo);
		struct ax_tensor *loss = ax_cross_entropy(t, fo.logits, tg, 0.0f, -1);
		sum += (double)loss->data[0] * B * S;
		decisions += fo.decisions;
		selected += fo.selected;
		ax_tape_reset(t);
	}
	ax_no_grad_end(t);
	if (routed_frac)
		*routed_frac = decisions ? (double)selected / decisions : NAN;
	return sum / ((double)nwin * S);
}

/* The router rule eval uses: --router, checked against what the model has. */
static enum mod_router eval_router(const struct mod_opts *o, const struct mod_config *c)
{
	enum mod_router router = o->router;
	int given = ax_cli_seen(&o->cli, MOD_OPT_ROUTER);
	if (c->capacity < 1 && c->route == MOD_ROUTE_RANDOM && router != MOD_ROUTER_RANDOM && given)
		ax_usage_error("--router %s: this model routes at random (--router random)",
			       mod_router_names[router]);
	if (c->capacity < 1 && c->route == MOD_ROUTE_LEARNED) {
		if (router == MOD_ROUTER_PREDICTOR && !c->predictor)
			ax_usage_error("--router predictor: this model was trained without --predictor");
		if (router == MOD_ROUTER_RANDOM)
			ax_usage_error("--router random: this model has a learned router");
	}
	return c->route == MOD_ROUTE_RANDOM ? MOD_ROUTER_RANDOM : router;
}

int mod_cmd_eval(struct mod_opts *o)
{
	if (!o->model)
		ax_usage_error("a checkpoint is needed: -m FILE");
	struct mod_model m;
	struct ax_bundle b;
	enum ax_status st = mod_load(o->model, &m, &b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, "cannot load checkpoint");
	/* The held-out tail: --val-frac, else the checkpoint's (range-checked). */
	struct mod_train_state ts = { .val_frac = 0.05 };
	const struct ax_setting *vf = ax_setting_find(mod_train_settings, mod_n_train_settings,
						      "--val-frac");
	if (ax_cli_seen(&o->cli, MOD_OPT_VAL_FRAC))
		ts.val_frac = o->ts.val_frac;
	else if (ax_bundle_meta(&b, vf->key) && (st = ax_ckpt_get_setting(&b, vf, &ts)))
		ax_die_status(AX_EXIT_USAGE, st, o->model);
	ax_bundle_free(&b);
	const struct mod_config *c = &m.cfg;
	enum mod_router router = eval_router(o, c);
	int held_out = o->held_out || o->cli.nfiles == 0;
	struct mod_text train, val;
	st = mod_text_load(o->cli.files, o->cli.nfiles, held_out ? ts.val_frac : 0, &train, &val);
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
	size_t max_bytes = (size_t)o->max_bytes;
	double loss = mod_eval_text(&tape, &m, text, max_bytes, router, o->cli.common.seed, &frac);
	ax_tape_free(&tape);
	ax_arena_free(&arena);
	size_t n = text->n < max_bytes ? text->n : max_bytes;
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "router,bytes,loss_nats,bpb,routed_frac,fwd_flops_per_byte");
	ax_csv_rowf(&csv, "%s,%zu,%.7f,%.7f,%.5f,%.6g",
		    c->capacity < 1 ? mod_router_names[router] : "dense", n, loss, loss / M_LN2, frac,
		    mod_forward_flops(c, c->ctx) / c->ctx);
	mod_text_free(&train);
	mod_text_free(&val);
	mod_model_free(&m);
	return 0;
}
