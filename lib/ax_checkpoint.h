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
#include "ax_settings.h"

/* The metadata scheme: axon.format "2" = one typed key per setting, written
 * by ax_ckpt_begin. A checkpoint without it predates the scheme. */
#define AX_CKPT_FORMAT "2"

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


/* ---- checkpoint settings (one key per setting; see ax_settings.h) ----
 * ax_ckpt_begin: init b and set axon.kind, axon.format. Then the command's
 * tensors and settings; ax_run_put (ax_run.h) adds axon.step. */
void ax_ckpt_begin(struct ax_bundle *b, const char *kind);
/* Load path, check its kind and that it carries axon.format AX_CKPT_FORMAT:
 * an older checkpoint is AX_ERR_UNSUPPORTED "<path>: written by an older
 * axon (before one metadata key per setting); retrain it". b empty on failure. */
enum ax_status ax_ckpt_open(const char *path, const char *kind, struct ax_bundle *b);
/* Write / read one setting of *base under its key. Reading checks the type
 * and the range exactly as the flag does: AX_ERR_FORMAT "checkpoint setting
 * 'mod.layers' (--layers): 70 is outside [1, 64]"; absent: AX_ERR_FORMAT too. */
void ax_ckpt_put_setting(struct ax_bundle *b, const struct ax_setting *s, const void *base);
enum ax_status ax_ckpt_get_setting(const struct ax_bundle *b, const struct ax_setting *s,
				   void *base);
/* The whole table, in order; reading stops at the first failure. */
void ax_ckpt_put_settings(struct ax_bundle *b, const struct ax_setting *table, int n,
			  const void *base);
enum ax_status ax_ckpt_get_settings(const struct ax_bundle *b, const struct ax_setting *table,
				    int n, void *base);
/* A list of integers (e.g. neurons per session) as "12,8,30", each in [lo, hi],
 * 1..max of them; *v malloc'd. */
void ax_ckpt_put_int_list(struct ax_bundle *b, const char *key, const int *v, int n);
enum ax_status ax_ckpt_get_int_list(const struct ax_bundle *b, const char *key, long lo, long hi,
				    int max, int **v, int *n);

#endif
