/* bundle.c — the bundle container: named arrays in insertion order plus
 * string metadata, each name found in O(1) through a hash index of entry
 * positions (open addressing, linear probing, at most half full). The file
 * format is io_safetensors.c's business. */
#include "ax_io.h"

#include <string.h>

/* ---- name index ---- */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Slot of name in ix (holding position + 1), or of the empty slot where it would go. */
static size_t index_slot(const struct ax_bundle_index *ix, char *const *names, size_t stride,
			 const char *name)
{
	size_t mask = ix->cap - 1, i = (size_t)hash_name(name) & mask;
	while (ix->slot[i]) {
		const char *have = *(char *const *)((const char *)names +
						     (size_t)(ix->slot[i] - 1) * stride);
		if (!strcmp(have, name))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

/* Position of name among n names (names[k * stride] bytes apart), or -1. */
static int index_find(const struct ax_bundle_index *ix, char *const *names, size_t stride,
		      const char *name)
{
	if (!ix->cap)
		return -1;
	return ix->slot[index_slot(ix, names, stride, name)] - 1;
}

/* Records position n - 1 (its name already stored), growing the table first. */
static void index_add(struct ax_bundle_index *ix, char *const *names, size_t stride, int n)
{
	if ((size_t)n * 2 > ix->cap) {
		struct ax_bundle_index big = {ax_xcalloc(AX_MAX(ix->cap * 2, 16), sizeof *big.slot),
					      AX_MAX(ix->cap * 2, 16)};
		for (int k = 0; k < n - 1; k++) {
			const char *nm = *(char *const *)((const char *)names + (size_t)k * stride);
			big.slot[index_slot(&big, names, stride, nm)] = k + 1;
		}
		free(ix->slot);
		*ix = big;
	}
	const char *nm = *(char *const *)((const char *)names + (size_t)(n - 1) * stride);
	ix->slot[index_slot(ix, names, stride, nm)] = n;
}

#define ENTRY_NAMES(b) (&(b)->entries[0].name), sizeof(struct ax_bundle_entry)
#define META_NAMES(b) ((b)->meta_keys), sizeof(char *)

/* ---- the container ---- */

void ax_bundle_init(struct ax_bundle *b) { memset(b, 0, sizeof *b); }

void ax_bundle_free(struct ax_bundle *b)
{
	for (int i = 0; i < b->n; i++) {
		free(b->entries[i].name);
		ax_array_free(&b->entries[i].array);
	}
	for (int i = 0; i < b->nmeta; i++) {
		free(b->meta_keys[i]);
		free(b->meta_values[i]);
	}
	free(b->entries);
	free(b->meta_keys);
	free(b->meta_values);
	free(b->names.slot);
	free(b->metas.slot);
	ax_input_free(&b->file);   /* after the arrays that point into it */
	ax_bundle_init(b);
}

const struct ax_array *ax_bundle_find(const struct ax_bundle *b, const char *name)
{
	int i = b->n ? index_find(&b->names, ENTRY_NAMES(b), name) : -1;
	return i < 0 ? NULL : &b->entries[i].array;
}

int ax_bundle_adopt(struct ax_bundle *b, char *name, const struct ax_array *a)
{
	if (ax_bundle_find(b, name))
		return -1;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->entries = ax_xrealloc(b->entries, (size_t)b->cap * sizeof *b->entries);
	}
	b->entries[b->n].name = name;
	b->entries[b->n].array = *a;
	b->n++;
	index_add(&b->names, ENTRY_NAMES(b), b->n);
	return 0;
}

void ax_bundle_add(struct ax_bundle *b, const char *name, enum ax_dtype dt, int ndim,
		   const int64_t *shape, const void *data)
{
	AX_ASSERT(strcmp(name, "__metadata__") && "__metadata__ is reserved");
	AX_ASSERT(!ax_bundle_find(b, name) && "tensor names in a bundle must be unique");
	struct ax_array a;
	enum ax_status st = ax_array_alloc(&a, dt, ndim, shape);
	AX_ASSERT(st == AX_OK && "array too large");
	size_t bytes = ax_array_bytes(&a);
	if (bytes)   /* data may be NULL for an empty array */
		memcpy(a.data, data, bytes);
	ax_bundle_adopt(b, ax_xstrdup(name), &a);
}

void ax_bundle_add_f32(struct ax_bundle *b, const char *name, int ndim, const int64_t *shape,
		       const float *data)
{
	ax_bundle_add(b, name, AX_F32, ndim, shape, data);
}

static int meta_index(const struct ax_bundle *b, const char *key)
{
	return b->nmeta ? index_find(&b->metas, META_NAMES(b), key) : -1;
}

int ax_bundle_adopt_meta(struct ax_bundle *b, char *key, char *value)
{
	if (meta_index(b, key) >= 0)
		return -1;
	b->meta_keys = ax_xrealloc(b->meta_keys, (size_t)(b->nmeta + 1) * sizeof(char *));
	b->meta_values = ax_xrealloc(b->meta_values, (size_t)(b->nmeta + 1) * sizeof(char *));
	b->meta_keys[b->nmeta] = key;
	b->meta_values[b->nmeta++] = value;
	index_add(&b->metas, META_NAMES(b), b->nmeta);
	return 0;
}

void ax_bundle_set_meta(struct ax_bundle *b, const char *key, const char *value)
{
	int i = meta_index(b, key);
	if (i >= 0) {
		free(b->meta_values[i]);
		b->meta_values[i] = ax_xstrdup(value);
		return;
	}
	ax_bundle_adopt_meta(b, ax_xstrdup(key), ax_xstrdup(value));
}

const char *ax_bundle_meta(const struct ax_bundle *b, const char *key)
{
	int i = meta_index(b, key);
	return i < 0 ? NULL : b->meta_values[i];
}

enum ax_status ax_bundle_get(const struct ax_bundle *b, const char *name, enum ax_dtype dt,
			     int ndim, const int64_t *shape, const struct ax_array **out)
{
	const struct ax_array *a = ax_bundle_find(b, name);
	*out = NULL;
	if (!a)
		return ax_error_set(AX_ERR_NOTFOUND, "bundle has no tensor '%s'", name);
	int ok = a->dtype == dt && a->ndim == ndim;
	for (int i = 0; ok && shape && i < ndim; i++)
		ok = shape[i] < 0 || shape[i] == a->shape[i];
	if (!ok) {
		char want[200], got[200];
		ax_shape_fmt(want, sizeof want, ndim, shape ? shape : (const int64_t[AX_ARRAY_MAX_DIMS]){
			-1, -1, -1, -1, -1, -1, -1, -1});
		ax_shape_fmt(got, sizeof got, a->ndim, a->shape);
		return ax_error_set(AX_ERR_FORMAT, "tensor '%s': expected %s %s, found %s %s", name,
				    ax_dtype_name(dt), want, ax_dtype_name(a->dtype), got);
	}
	*out = a;
	return AX_OK;
}
