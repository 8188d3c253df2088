/* fuzz-ipd-learn-ckpt.c — an ipd-learn checkpoint as --resume reads it
 * before building the trainer: open (kind, format), every setting typed and
 * range-checked, the settings' combination, every tensor finite, the window
 * of counts. Whatever the bytes, each step returns a status: no crash, no
 * assertion. The sources are compiled in (the fuzz build links only the I/O
 * module and base). */
#include "../../lib/checkpoint.c"
#include "../../lib/settings.c"
#include "../../cmd/ipd-learn/returns.c"
#include "../../cmd/ipd-learn/settings.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_bundle b;
	if (ax_ckpt_open(fuzz_path(0, data, n), IPD_CKPT_KIND, &b))
		return 0;
	struct ipd_train_cfg c;
	struct ipd_env_counts w[2];
	ipd_train_defaults(&c, IPD_ENV_IPD);
	if (!ipd_train_load_settings(&b, &c) && !ipd_train_check(&c)) {
		// what the trainer then relies on
		if (c.lanes < 1 || c.meta_batch < c.meta_agents || !(c.p_naive >= 0 && c.p_naive <= 1) ||
		    !isfinite(c.payoff[0][0]) || (unsigned)c.env > IPD_ENV_CLEANUP)
			abort();
		if (!ipd_ckpt_check_tensors(&b) && !ipd_window_get(&b, w) && w[0].steps < 0)
			abort();
	}
	ax_bundle_free(&b);
	return 0;
}
