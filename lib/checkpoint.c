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

void ax_ckpt_begin(struct ax_bundle *b, const char *kind)
{
	ax_bundle_init(b);
	ax_bundle_set_meta(b, "axon.kind", kind);
	ax_bundle_set_meta(b, "axon.format", AX_CKPT_FORMAT);
}

enum ax_status ax_ckpt_open(const char *path, const char *kind, struct ax_bundle *b)
{
	enum ax_status st = ax_ckpt_load(path, kind, b);
	if (st)
		return st;
	const char *f = ax_bundle_meta(b, "axon.format");
	if (f && !strcmp(f, AX_CKPT_FORMAT))
		return AX_OK;
	/* The message first: f points into the bundle. */
	if (!f)
		st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: written by an older axon (before one "
				  "metadata key per setting); retrain it", path);
	else
		st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: checkpoint format '%.40s', this axon "
				  "reads format %s", path, f, AX_CKPT_FORMAT);
	ax_bundle_free(b);
	return st;
}

void ax_ckpt_put_setting(struct ax_bundle *b, const struct ax_setting *s, const void *base)
{
	char buf[64];
	ax_setting_format(s, base, buf, sizeof buf);
	ax_bundle_set_meta(b, s->key, buf);
}

enum ax_status ax_ckpt_get_setting(const struct ax_bundle *b, const struct ax_setting *s,
				   void *base)
{
	const char *text = ax_bundle_meta(b, s->key);
	if (!text)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata has no '%s'", s->key);
	if (ax_setting_parse(s, text, base)) {
		char why[256];
		snprintf(why, sizeof why, "%s", ax_error_detail());
		return ax_error_set(AX_ERR_FORMAT, "checkpoint setting '%s'%s%s%s: %s", s->key,
				    s->flag ? " (" : "", s->flag ? s->flag : "", s->flag ? ")" : "",
				    why);
	}
	return AX_OK;
}

void ax_ckpt_put_settings(struct ax_bundle *b, const struct ax_setting *table, int n,
			  const void *base)
{
	for (int i = 0; i < n; i++)
		ax_ckpt_put_setting(b, &table[i], base);
}

enum ax_status ax_ckpt_get_settings(const struct ax_bundle *b, const struct ax_setting *table,
				    int n, void *base)
{
	for (int i = 0; i < n; i++) {
		enum ax_status st = ax_ckpt_get_setting(b, &table[i], base);
		if (st)
			return st;
	}
	return AX_OK;
}

void ax_ckpt_put_int_list(struct ax_bundle *b, const char *key, const int *v, int n)
{
	char *buf = ax_xmalloc((size_t)n * 12 + 1), *p = buf;
	*p = 0;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s%d", i ? "," : "", v[i]);
	ax_bundle_set_meta(b, key, buf);
	free(buf);
}

enum ax_status ax_ckpt_get_int_list(const struct ax_bundle *b, const char *key, long lo, long hi,
				    int max, int **v, int *n)
{
	const char *text;
	enum ax_status st = ax_ckpt_get_str(b, key, &text);
	if (st)
		return st;
	/* Plain integers only (no a:b:step in a checkpoint). */
	if (strchr(text, ':'))
		return ax_error_set(AX_ERR_FORMAT, "checkpoint setting '%s': '%s' is not a list of "
				    "integers", key, text);
	if (ax_list_int(text, lo, hi, max, v, n)) {
		char why[256];
		snprintf(why, sizeof why, "%s", ax_error_detail());
		return ax_error_set(AX_ERR_FORMAT, "checkpoint setting '%s': %s", key, why);
	}
	return AX_OK;
}

enum ax_status ax_ckpt_open_config(const char *path, const char *kind,
				   const struct ax_setting *table, int n, void *base,
				   const char *(*check)(const void *base), struct ax_bundle *b)
{
	enum ax_status st = ax_ckpt_open(path, kind, b);
	if (st)
		return st;
	st = ax_ckpt_get_settings(b, table, n, base);
	const char *why = st || !check ? NULL : check(base);
	if (why)
		st = ax_error_set(AX_ERR_FORMAT, "bad model config: %s", why);
	if (st) {
		ax_bundle_free(b);
		return ax_error_prefix(st, path);
	}
	return AX_OK;
}
