/* settings.c — mod-lm's settings: the model's and the training's, each
 * described once for the flags and the checkpoint (ax_settings.h), with the
 * checks their ranges cannot say. Apart from the rest of the command so a
 * fuzz target can read checkpoints with it alone. */
#include "mod.h"

#include <limits.h>

const char *mod_config_check(const struct mod_config *c)
{
	if (c->layers < 1 || c->layers > 64)
		return "--layers must be in 1..64";
	if (c->dim < 2 || c->heads < 1 || c->dim % c->heads)
		return "--dim must be a multiple of --heads";
	if (c->pos == MOD_POS_ROPE && (c->dim / c->heads) % 2)
		return "rotary positions need an even head dimension (--dim / --heads)";
	if (c->dim % 2)
		return "--dim must be even (the predictor has dim/2 hidden units)";
	if (c->ctx < 2)
		return "--ctx must be at least 2";
	if (!(c->capacity > 0 && c->capacity <= 1))
		return "--capacity must be in (0, 1]";
	if (c->route_every < 1)
		return "--route-every must be at least 1";
	return NULL;
}

const char *const mod_pos_names[] = { "learned", "rope", NULL };
const char *const mod_route_names[] = { "learned", "random", NULL };

const struct ax_setting mod_model_settings[] = {
	AX_SETTING_INT("mod-lm.layers", "--layers", struct mod_config, layers, 1, 64),
	AX_SETTING_INT("mod-lm.dim", "--dim", struct mod_config, dim, 2, 16384),
	AX_SETTING_INT("mod-lm.heads", "--heads", struct mod_config, heads, 1, 1024),
	AX_SETTING_INT("mod-lm.ctx", "--ctx", struct mod_config, ctx, 2, 65536),
	AX_SETTING_INT("mod-lm.hidden", "--hidden", struct mod_config, hidden, 1, 1 << 20),
	AX_SETTING_CHOICE("mod-lm.pos", "--pos", struct mod_config, pos, mod_pos_names),
	AX_SETTING_DOUBLE("mod-lm.capacity", "--capacity", struct mod_config, capacity, 0, 1,
			  AX_LO_OPEN),
	AX_SETTING_INT("mod-lm.route_every", "--route-every", struct mod_config, route_every, 1, 64),
	AX_SETTING_CHOICE("mod-lm.route", "--route", struct mod_config, route, mod_route_names),
	AX_SETTING_BOOL("mod-lm.predictor", "--predictor", struct mod_config, predictor),
};
const int mod_n_model_settings = (int)AX_COUNTOF(mod_model_settings);

static const char *const optim_names[] = { "sgd", "adam", "adamw", NULL };

const struct ax_setting mod_train_settings[] = {
	AX_SETTING_LONG("train.total_steps", "--steps", struct mod_train_state, total_steps, 1,
			1L << 40),
	AX_SETTING_LONG("train.warmup", "--warmup", struct mod_train_state, warmup, 0, 1L << 40),
	AX_SETTING_DOUBLE("train.lr", "--lr", struct mod_train_state, lr, 0, 10, 0),
	AX_SETTING_DOUBLE("train.lr_min", "--lr-min", struct mod_train_state, lr_min, 0, 10, 0),
	AX_SETTING_DOUBLE("train.weight_decay", "--weight-decay", struct mod_train_state,
			  weight_decay, 0, 10, 0),
	AX_SETTING_DOUBLE("train.clip", "--clip", struct mod_train_state, clip, 0, 1e9, 0),
	AX_SETTING_DOUBLE("train.aux_weight", "--aux-loss", struct mod_train_state, aux_weight, 0,
			  1e6, 0),
	AX_SETTING_DOUBLE("train.flops_budget", "--flops", struct mod_train_state, flops_budget, 0,
			  1e30, 0),
	AX_SETTING_DOUBLE("train.val_frac", "--val-frac", struct mod_train_state, val_frac, 0, 0.9,
			  0),
	AX_SETTING_INT("train.batch", "--batch", struct mod_train_state, batch, 1, 1 << 16),
	AX_SETTING_INT("train.val_tokens", "--val-bytes", struct mod_train_state, val_tokens, 0,
		       1 << 30),
	AX_SETTING_U64("train.seed", "--seed", struct mod_train_state, seed),
	AX_SETTING_CHOICE("train.optim", "--optim", struct mod_train_state, optim, optim_names),
	/* Progress, not flags. */
	AX_SETTING_DOUBLE("train.flops_done", NULL, struct mod_train_state, flops_done, 0, 1e300, 0),
	AX_SETTING_LONG("train.tokens_done", NULL, struct mod_train_state, tokens_done, 0, LONG_MAX),
};
const int mod_n_train_settings = (int)AX_COUNTOF(mod_train_settings);

const char *mod_train_check(const struct mod_train_state *ts)
{
	if (ts->optim == AX_OPTIM_SGD)
		return "--optim: one of adam, adamw";
	return NULL;
}
