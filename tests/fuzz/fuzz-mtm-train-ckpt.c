/* fuzz-mtm-train-ckpt.c — an mtm-train checkpoint as `train --resume`,
 * `--init` and `eval` read it before building the model: open (kind,
 * format), the model's settings and neuron list, the training's settings.
 * Whatever the bytes, each step returns a status: no crash, no assertion.
 * The sources are compiled in (the fuzz build links only the I/O module
 * and base). */
#include "../../lib/checkpoint.c"
#include "../../lib/settings.c"
#include "../../cmd/mtm-train/settings.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	struct ax_bundle b;
	struct mtm_config c;
	if (mtm_checkpoint_open(fuzz_path(0, data, n), &b, &c))
		return 0;
	// what the model then relies on
	if (c.D < 1 || c.heads < 1 || c.D % c.heads || c.T < 11 || c.nsessions < 1 ||
	    !(c.dropout >= 0 && c.dropout <= 0.95f))
		abort();
	for (int s = 0; s < c.nsessions; s++)
		if (c.neurons[s] < 1)
			abort();
	free(c.neurons);
	struct mtm_train_cfg t = { 0 };
	if (!mtm_get_train_settings(&b, &t) &&
	    (t.batch < 1 || t.steps < 1 || (unsigned)t.mask >= 6 ||
	     !(t.causal_share >= 0 && t.causal_share <= 1) || t.forward_window < 0))
		abort();
	ax_bundle_free(&b);
	return 0;
}
