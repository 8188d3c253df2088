/* settings.c — mtm-train's settings: the model's and the training's, each
 * described once for the flags and the checkpoint (ax_settings.h), and the
 * model config read back from a checkpoint. Apart from the rest of the
 * command so a fuzz target can read checkpoints with it alone. */
#include "mtm.h"

#include <stddef.h>
#include <string.h>

const struct ax_setting mtm_model_settings[] = {
	AX_SETTING_INT("mtm.dim", "--dim", struct mtm_config, D, 1, 65536),
	AX_SETTING_INT("mtm.layers", "--layers", struct mtm_config, layers, 0, 1000),
	AX_SETTING_INT("mtm.heads", "--heads", struct mtm_config, heads, 1, 1024),
	AX_SETTING_INT("mtm.hidden", "--hidden", struct mtm_config, hidden, 1, 1 << 20),
	AX_SETTING_INT("mtm.bins", NULL, struct mtm_config, T, 11, 100000),
	AX_SETTING_FLOAT("mtm.dropout", "--dropout", struct mtm_config, dropout, 0, 0.95, 0),
};
const int mtm_n_model_settings = (int)AX_COUNTOF(mtm_model_settings);

const char *mtm_config_check(const struct mtm_config *c)
{
	if (c->D % c->heads)
		return "--dim is not divisible by --heads";
	return NULL;
}

void mtm_put_config(struct ax_bundle *b, const struct mtm_config *c)
{
	ax_ckpt_put_settings(b, mtm_model_settings, mtm_n_model_settings, c);
	ax_ckpt_put_int_list(b, "mtm.neurons", c->neurons, c->nsessions);
}

enum ax_status mtm_get_config(const struct ax_bundle *b, struct mtm_config *c)
{
	memset(c, 0, sizeof *c);
	enum ax_status st = ax_ckpt_get_settings(b, mtm_model_settings, mtm_n_model_settings, c);
	if (!st && mtm_config_check(c))
		st = ax_error_set(AX_ERR_FORMAT, "checkpoint settings: %s", mtm_config_check(c));
	if (!st)
		st = ax_ckpt_get_int_list(b, "mtm.neurons", 1, 100000, 10000, &c->neurons,
					  &c->nsessions);
	return st;
}

enum ax_status mtm_checkpoint_open(const char *path, struct ax_bundle *b, struct mtm_config *c)
{
	enum ax_status st = ax_ckpt_open(path, "mtm-train", b);
	if (st)
		return st;
	if ((st = mtm_get_config(b, c))) {
		ax_bundle_free(b);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}

const char *const mtm_mask_names[] = { "neuron", "causal", "intra", "inter", "temporal", "mtm",
				       NULL };

const struct ax_setting mtm_train_settings[] = {
	AX_SETTING_CHOICE("mtm.mask", "--mask", struct mtm_train_cfg, mask, mtm_mask_names),
	AX_SETTING_LONG("mtm.steps", "--steps", struct mtm_train_cfg, steps, 1, 100000000),
	AX_SETTING_INT("mtm.batch", "--batch", struct mtm_train_cfg, batch, 1, 100000),
	AX_SETTING_DOUBLE("mtm.lr", "--lr", struct mtm_train_cfg, lr, 0, 10, 0),
	AX_SETTING_DOUBLE("mtm.weight_decay", "--weight-decay", struct mtm_train_cfg, weight_decay,
			  0, 10, 0),
	AX_SETTING_DOUBLE("mtm.warmup", "--warmup", struct mtm_train_cfg, warmup, 0, 1, 0),
	AX_SETTING_U64("mtm.seed", "--seed", struct mtm_train_cfg, seed),
	AX_SETTING_DOUBLE("mtm.causal_share", "--causal-share", struct mtm_train_cfg, causal_share,
			  0, 1, 0),
	AX_SETTING_INT("mtm.forward_window", "--forward-window", struct mtm_train_cfg,
		       forward_window, 0, 100000),
};
const int mtm_n_train_settings = (int)AX_COUNTOF(mtm_train_settings);

enum ax_status mtm_get_train_settings(const struct ax_bundle *b, struct mtm_train_cfg *c)
{
	c->causal_share = 0.25, c->forward_window = 0;
	for (int i = 0; i < mtm_n_train_settings; i++) {
		const struct ax_setting *s = &mtm_train_settings[i];
		int later = s->offset == offsetof(struct mtm_train_cfg, causal_share) ||
			    s->offset == offsetof(struct mtm_train_cfg, forward_window);
		if (later && !ax_bundle_meta(b, s->key))
			continue;
		enum ax_status st = ax_ckpt_get_setting(b, s, c);
		if (st)
			return st;
	}
	return AX_OK;
}
