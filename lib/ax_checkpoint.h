/* ax_checkpoint.h — what every trainer's checkpoint holds besides weights.
 *
 * A checkpoint is a safetensors bundle: the parameters under their names,
 * the optimiser state (ax_optim_to_bundle), RNG streams, and metadata:
 * "axon.kind" (which command and model made it), "axon.step", and the
 * command's own config keys. Written atomically with ax_bundle_save.
 */
#ifndef AX_CHECKPOINT_H
#define AX_CHECKPOINT_H

#include "ax_io.h"
#include "ax_rng.h"

/* RNG state as an int64 tensor of 4 words named `name`. */
void ax_ckpt_put_rng(struct ax_bundle *b, const char *name, const struct ax_rng *r);
enum ax_status ax_ckpt_get_rng(const struct ax_bundle *b, const char *name, struct ax_rng *r);
/* Integer / float / string metadata with a clear error when absent or malformed. */
void ax_ckpt_put_long(struct ax_bundle *b, const char *key, long v);
void ax_ckpt_put_double(struct ax_bundle *b, const char *key, double v); /* %.17g round-trips */
enum ax_status ax_ckpt_get_long(const struct ax_bundle *b, const char *key, long *v);
enum ax_status ax_ckpt_get_double(const struct ax_bundle *b, const char *key, double *v);
enum ax_status ax_ckpt_get_str(const struct ax_bundle *b, const char *key, const char **v);
/* AX_ERR_FORMAT "<path>: a <found> checkpoint, not <kind>" unless axon.kind == kind. */
enum ax_status ax_ckpt_check_kind(const struct ax_bundle *b, const char *path, const char *kind);
/* Load a checkpoint bundle and check its kind; on failure b is left empty. */
enum ax_status ax_ckpt_load(const char *path, const char *kind, struct ax_bundle *b);

#endif
