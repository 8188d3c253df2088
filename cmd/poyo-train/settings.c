/* settings.c — poyo-train's settings: the model's and the training's, each
 * described once for the flags and the checkpoint (ax_settings.h). */
#include "poyo.h"

#include <string.h>

const struct ax_setting poyo_model_settings[] = {
	AX_SETTING_INT("poyo.dim", "--dim", struct poyo_config, dim, 4, 4096),
	AX_SETTING_INT("poyo.depth", "--depth", struct poyo_config, depth, 0, 64),
	AX_SETTING_INT("poyo.cross_heads", "--cross-heads", struct poyo_config, cross_heads, 1, 64),
	AX_SETTING_INT("poyo.self_heads", "--self-heads", struct poyo_config, self_heads, 1, 64),
	AX_SETTING_INT("poyo.latents", "--latents", struct poyo_config, latents, 1, 256),
	AX_SETTING_FLOAT("poyo.dropout", "--dropout", struct poyo_config, dropout, 0, 0.9, 0),
	AX_SETTING_DOUBLE("poyo.vel_scale", NULL, struct poyo_config, vel_scale, 0, 1e9,
			  AX_LO_OPEN),
};
const int poyo_n_model_settings = (int)AX_COUNTOF(poyo_model_settings);

const char *poyo_config_check(const struct poyo_config *c)
{
	if (c->dim % c->cross_heads || (c->dim / c->cross_heads) % 4)
		return "--dim / --cross-heads must be a multiple of 4 (the rotary head dim)";
	if (c->dim % c->self_heads || (c->dim / c->self_heads) % 4)
		return "--dim / --self-heads must be a multiple of 4 (the rotary head dim)";
	return NULL;
}

void poyo_put_config(struct ax_bundle *b, const struct poyo_config *c)
{
	ax_ckpt_put_settings(b, poyo_model_settings, poyo_n_model_settings, c);
	ax_ckpt_put_int_list(b, "poyo.units", c->units, c->nsessions);
}

enum ax_status poyo_checkpoint_open(const char *path, struct ax_bundle *b,
				    struct poyo_config *c)
{
	memset(c, 0, sizeof *c);
	enum ax_status st = ax_ckpt_open(path, POYO_KIND, b);
	if (st)
		return st;
	st = ax_ckpt_get_settings(b, poyo_model_settings, poyo_n_model_settings, c);
	if (!st && poyo_config_check(c))
		st = ax_error_set(AX_ERR_FORMAT, "checkpoint settings: %s", poyo_config_check(c));
	if (!st)
		st = ax_ckpt_get_int_list(b, "poyo.units", 1, 1000000, 100000, &c->units,
					  &c->nsessions);
	if (st) {
		ax_bundle_free(b);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}

enum ax_status poyo_model_load(const char *path, struct poyo_model *m, struct ax_bundle *ck)
{
	struct poyo_config cfg;
	enum ax_status st = poyo_checkpoint_open(path, ck, &cfg);
	if (st)
		return st;
	poyo_model_init(m, &cfg, 0);
	free(cfg.units);
	if ((st = ax_params_from_bundle(&m->params, ck, ""))) {
		ax_bundle_free(ck);
		poyo_model_free(m);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}

const struct ax_setting poyo_train_settings[] = {
	AX_SETTING_LONG("poyo.steps", "--steps", struct poyo_train_cfg, steps, 1, 100000000),
	AX_SETTING_INT("poyo.batch", "--batch", struct poyo_train_cfg, batch, 1, 100000),
	AX_SETTING_INT("poyo.trials", "--trials", struct poyo_train_cfg, trials, 0, 10000000),
	AX_SETTING_DOUBLE("poyo.lr", "--lr", struct poyo_train_cfg, lr, 0, 10, AX_LO_OPEN),
	AX_SETTING_DOUBLE("poyo.weight_decay", "--weight-decay", struct poyo_train_cfg,
			  weight_decay, 0, 10, 0),
	AX_SETTING_DOUBLE("poyo.flat", "--flat", struct poyo_train_cfg, flat, 0, 1, 0),
	AX_SETTING_BOOL("poyo.unit_id", "--unit-id", struct poyo_train_cfg, unit_id),
	AX_SETTING_BOOL("poyo.full", "--full", struct poyo_train_cfg, full),
	AX_SETTING_U64("poyo.seed", "--seed", struct poyo_train_cfg, seed),
};
const int poyo_n_train_settings = (int)AX_COUNTOF(poyo_train_settings);
