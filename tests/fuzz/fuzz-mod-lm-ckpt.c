/* fuzz-mod-lm-ckpt.c — a mod-lm checkpoint as `train --resume` and `eval`
 * read it before building the model: open (kind, format), the model's and
 * the training's settings typed and range-checked, their combination.
 * Whatever the bytes, each step returns a status: no crash, no assertion.
 * The sources are compiled in (the fuzz build links only the I/O module
 * and base). */
#include "../../lib/checkpoint.c"
#include "../../lib/settings.c"
#include "../../cmd/mod-lm/settings.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

static const char *config_check(const void *c) { return mod_config_check(c); }

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_bundle b;
	struct mod_config c = { 0 };
	if (ax_ckpt_open_config(fuzz_path(0, data, n), MOD_KIND, mod_model_settings,
				mod_n_model_settings, &c, config_check, &b))
		return 0;
	// what the model then relies on
	if (c.layers < 1 || c.dim % c.heads || !(c.capacity > 0 && c.capacity <= 1) || c.ctx < 2)
		abort();
	struct mod_train_state ts = { 0 };
	if (!ax_ckpt_get_settings(&b, mod_train_settings, mod_n_train_settings, &ts) &&
	    !mod_train_check(&ts) &&
	    (ts.batch < 1 || ts.total_steps < 1 || !(ts.val_frac >= 0 && ts.val_frac <= 0.9)))
		abort();
	ax_bundle_free(&b);
	return 0;
}
