/* checkpoint.c — RNG state and typed metadata in checkpoint bundles. */
#include "ax_checkpoint.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void ax_ckpt_put_rng(struct ax_bundle *b, const char *name, const struct ax_rng *r)
{
	int64_t words[4];
	memcpy(words, r->s, sizeof words);
	ax_bundle_add(b, name, AX_I64, 1, (int64_t[]){ 4 }, words);
}

enum ax_status ax_ckpt_get_rng(const struct ax_bundle *b, const char *name, struct ax_rng *r)
{
	const struct ax_array *a;
	enum ax_status st = ax_bundle_get(b, name, AX_I64, 1, (int64_t[]){ 4 }, &a);
	if (st)
		return st;
	memcpy(r->s, a->data, sizeof r->s);
	return AX_OK;
}

void ax_ckpt_put_long(struct ax_bundle *b, const char *key, long v)
{
	char s[32];
	snprintf(s, sizeof s, "%ld", v);
	ax_bundle_set_meta(b, key, s);
}

void ax_ckpt_put_double(struct ax_bundle *b, const char *key, double v)
{
	char s[40];
	snprintf(s, sizeof s, "%.17g", v);
	ax_bundle_set_meta(b, key, s);
}

enum ax_status ax_ckpt_get_str(const struct ax_bundle *b, const char *key, const char **v)
{
	*v = ax_bundle_meta(b, key);
	if (!*v)
		return ax_error_set(AX_ERR_NOTFOUND, "checkpoint metadata has no '%s'", key);
	return AX_OK;
}

enum ax_status ax_ckpt_get_long(const struct ax_bundle *b, const char *key, long *v)
{
	const char *s;
	enum ax_status st = ax_ckpt_get_str(b, key, &s);
	if (st)
		return st;
	char *end;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (end == s || *end || errno)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata '%s' is not an integer: '%s'",
				    key, s);
	return AX_OK;
}

enum ax_status ax_ckpt_get_double(const struct ax_bundle *b, const char *key, double *v)
{
	const char *s;
	enum ax_status st = ax_ckpt_get_str(b, key, &s);
	if (st)
		return st;
	char *end;
	*v = strtod(s, &end);
	if (end == s || *end)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata '%s' is not a number: '%s'",
				    key, s);
	return AX_OK;
}

enum ax_status ax_ckpt_check_kind(const struct ax_bundle *b, const char *path, const char *kind)
{
	const char *found = ax_bundle_meta(b, "axon.kind");
	if (!found)
		return ax_error_set(AX_ERR_FORMAT, "%s: not an axon checkpoint (no axon.kind)", path);
	if (strcmp(found, kind))
		return ax_error_set(AX_ERR_FORMAT, "%s: a %s checkpoint, not %s", path, found, kind);
	return AX_OK;
}

enum ax_status ax_ckpt_load(const char *path, const char *kind, struct ax_bundle *b)
{
	enum ax_status st = ax_bundle_load(path, b);   /* empty on failure */
	if (!st && (st = ax_ckpt_check_kind(b, path, kind)))
		ax_bundle_free(b);
	return st;
}
