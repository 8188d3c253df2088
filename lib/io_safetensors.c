/* io_safetensors.c — bundles as safetensors files: named arrays plus string
 * metadata.
 *
 * Layout: u64 LE header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v"}, "w": {"dtype": "F32", "shape": [2, 3],
 *    "data_offsets": [0, 24]}, ...}
 * then the data section; offsets are relative to its start. The header is
 * read with the strict tokenizer of ax_json.h; the container is bundle.c's.
 */
#include "ax_io.h"
#include "ax_json.h"

#include <errno.h>
#include <string.h>

#define ST_MAX_HEADER 100000000u   /* the reference implementation's limit */

/* ---- reading ---- */

static uint64_t le64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

struct span {
	uint64_t begin, end;
	size_t at;   /* file offset of the tensor's entry, for messages */
	int entry;   /* its position in the bundle */
};

static enum ax_status parse_dtype(struct ax_json *j, struct ax_array *a)
{
	char *d;
	size_t at = ax_json_offset(j);
	enum ax_status st = ax_json_string(j, &d);
	if (st)
		return st;
	int dt = ax_dtype_from_safetensors(d);
	if (dt < 0)
		st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: safetensors dtype '%s' at byte %zu is "
				  "not supported (F32, F64, I32, I64, U8, BOOL)", j->name, d, at);
	a->dtype = (enum ax_dtype)(dt < 0 ? 0 : dt);
	free(d);
	return st;
}

static enum ax_status parse_shape(struct ax_json *j, struct ax_array *a, size_t at)
{
	enum ax_status st = ax_json_expect(j, '[', "expected '[' for the shape");
	if (st || ax_json_accept(j, ']'))
		return st;
	do {
		uint64_t v;
		if (a->ndim == AX_ARRAY_MAX_DIMS)
			st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: tensor at byte %zu has more than "
					  "%d dimensions", j->name, at, AX_ARRAY_MAX_DIMS);
		else if (!(st = ax_json_uint(j, INT64_MAX, &v)))
			a->shape[a->ndim++] = (int64_t)v;
	} while (!st && ax_json_accept(j, ','));
	return st ? st : ax_json_expect(j, ']', "expected ',' or ']' in the shape");
}

static enum ax_status parse_offsets(struct ax_json *j, struct span *sp)
{
	enum ax_status st;
	if (!(st = ax_json_expect(j, '[', "expected '[' for data_offsets")) &&
	    !(st = ax_json_uint(j, UINT64_MAX, &sp->begin)) &&
	    !(st = ax_json_expect(j, ',', "data_offsets needs two integers")) &&
	    !(st = ax_json_uint(j, UINT64_MAX, &sp->end)))
		st = ax_json_expect(j, ']', "data_offsets needs exactly two integers");
	return st;
}

static enum ax_status parse_tensor(struct ax_json *j, struct ax_array *a, struct span *sp)
{
	enum ax_status st;
	int have[3] = {0, 0, 0};   /* dtype, shape, data_offsets */
	sp->at = ax_json_offset(j);
	if ((st = ax_json_expect(j, '{', "expected '{' for a tensor entry")))
		return st;
	if (ax_json_accept(j, '}'))
		return ax_json_err(j, "empty tensor entry");
	do {
		char *key;
		if ((st = ax_json_string(j, &key)))
			return st;
		if ((st = ax_json_expect(j, ':', "expected ':'"))) {
			free(key);
			return st;
		}
		int k = !strcmp(key, "dtype") ? 0 : !strcmp(key, "shape") ? 1
		      : !strcmp(key, "data_offsets") ? 2 : -1;
		free(key);
		if (k >= 0 && have[k]++)
			return ax_json_err(j, "repeated key in a tensor entry");
		st = k == 0 ? parse_dtype(j, a) : k == 1 ? parse_shape(j, a, sp->at)
		   : k == 2 ? parse_offsets(j, sp)
		   : ax_json_skip(j, 2);   /* unknown keys are ignored, as upstream does */
		if (st)
			return st;
	} while (ax_json_accept(j, ','));
	if ((st = ax_json_expect(j, '}', "expected ',' or '}' after a tensor entry")))
		return st;
	if (!have[0] || !have[1] || !have[2])
		return ax_error_set(AX_ERR_FORMAT, "%s: tensor entry at byte %zu lacks dtype, shape "
				    "or data_offsets", j->name, sp->at);
	return AX_OK;
}

static enum ax_status parse_metadata(struct ax_json *j, struct ax_bundle *b)
{
	enum ax_status st;
	if (ax_json_literal(j, "null"))
		return AX_OK;
	if ((st = ax_json_expect(j, '{', "__metadata__ must be an object of strings")))
		return st;
	if (ax_json_accept(j, '}'))
		return AX_OK;
	do {
		char *k, *v;
		if ((st = ax_json_string(j, &k)))
			return st;
		if ((st = ax_json_expect(j, ':', "expected ':'")) ||
		    (st = ax_json_peek(j) == '"' ? ax_json_string(j, &v)
					 : ax_json_err(j, "__metadata__ values must be strings"))) {
			free(k);
			return st;
		}
		if (ax_bundle_adopt_meta(b, k, v)) {
			free(k);
			free(v);
			return ax_json_err(j, "repeated key in __metadata__");
		}
	} while (ax_json_accept(j, ','));
	return ax_json_expect(j, '}', "expected ',' or '}' in __metadata__");
}

/* One "name": {...} or "__metadata__": {...} member of the header object. */
static enum ax_status parse_member(struct ax_json *j, struct ax_bundle *b, int *have_meta,
				   struct span **spans, int *cap)
{
	char *key;
	enum ax_status st = ax_json_string(j, &key);
	if (st)
		return st;
	if ((st = ax_json_expect(j, ':', "expected ':'"))) {
		free(key);
		return st;
	}
	if (!strcmp(key, "__metadata__")) {
		free(key);
		return (*have_meta)++ ? ax_json_err(j, "repeated __metadata__")
				      : parse_metadata(j, b);
	}
	struct ax_array a = {0};
	struct span sp = {0};
	if ((st = parse_tensor(j, &a, &sp))) {
		free(key);
		return st;
	}
	if (ax_bundle_adopt(b, key, &a)) {
		st = ax_error_set(AX_ERR_FORMAT, "%s: tensor name '%s' appears twice", j->name, key);
		free(key);
		return st;
	}
	if (b->n > *cap) {
		*cap = b->cap;
		*spans = ax_xrealloc(*spans, (size_t)*cap * sizeof **spans);
	}
	sp.entry = b->n - 1;
	(*spans)[b->n - 1] = sp;
	return AX_OK;
}

static int by_begin(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	return (a->begin > b->begin) - (a->begin < b->begin);
}

/* Sizes and offsets of every tensor checked; tensors may not overlap, so the
 * data copied out is bounded by the data section's size. Sorts spans. */
static enum ax_status check_spans(const struct ax_bundle *b, struct span *spans, size_t dlen,
				  const char *name)
{
	for (int i = 0; i < b->n; i++) {
		const struct ax_bundle_entry *e = &b->entries[i];
		const struct span *sp = &spans[i];
		size_t bytes = 0;
		if (ax_shape_bytes(e->array.ndim, e->array.shape, ax_dtype_size(e->array.dtype),
				   &bytes))
			return ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': shape overflows", name,
					    e->name);
		if (sp->begin > sp->end || sp->end > dlen)
			return ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] "
					    "outside the data section (%zu bytes)", name, e->name,
					    (unsigned long long)sp->begin,
					    (unsigned long long)sp->end, dlen);
		if (sp->end - sp->begin != bytes)
			return ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': data_offsets span %llu "
					    "bytes, but %s of that shape needs %zu", name, e->name,
					    (unsigned long long)(sp->end - sp->begin),
					    ax_dtype_name(e->array.dtype), bytes);
	}
	if (b->n == 0)
		return AX_OK;
	qsort(spans, (size_t)b->n, sizeof *spans, by_begin);
	uint64_t reach = 0;
	int last = -1;
	for (int i = 0; i < b->n; i++) {
		const struct span *sp = &spans[i];
		if (sp->end == sp->begin)
			continue;
		if (sp->begin < reach)
			return ax_error_set(AX_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the "
					    "data section", name, b->entries[last].name,
					    b->entries[sp->entry].name);
		reach = sp->end;
		last = sp->entry;
	}
	return AX_OK;
}

/* Arrays copied out of data, or (mapped: data is a read-only mapping)
 * pointing into it where the bytes are aligned for the dtype and need no
 * normalising (every dtype but BOOL). */
static enum ax_status copy_data(struct ax_bundle *b, const struct span *spans,
				const unsigned char *data, int mapped, const char *name)
{
	for (int i = 0; i < b->n; i++) {
		const struct span *sp = &spans[i];
		struct ax_bundle_entry *e = &b->entries[sp->entry];
		size_t bytes = (size_t)(sp->end - sp->begin);
		const unsigned char *at = data + sp->begin;
		if (mapped && e->array.dtype != AX_BOOL &&
		    (uintptr_t)at % ax_dtype_size(e->array.dtype) == 0) {
			e->array.data = (void *)at;   /* read-only: see ax_array.mapped */
			e->array.mapped = 1;
			continue;
		}
		if (!(e->array.data = malloc(bytes ? bytes : 1)))
			return ax_error_set(AX_ERR_NOMEM, "%s: tensor '%s': cannot allocate %zu bytes",
					    name, e->name, bytes);
		if (e->array.dtype == AX_BOOL)
			for (size_t k = 0; k < bytes; k++)
				((uint8_t *)e->array.data)[k] = data[sp->begin + k] != 0;
		else if (bytes)
			memcpy(e->array.data, data + sp->begin, bytes);
	}
	return AX_OK;
}

static enum ax_status parse_bundle(const char *buf, size_t len, int mapped, const char *name,
				   struct ax_bundle *b)
{
	if (len < 8)
		return ax_error_set(AX_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors "
				    "file", name, len);
	uint64_t hlen = le64((const unsigned char *)buf);
	if (hlen >= ST_MAX_HEADER)
		return ax_error_set(AX_ERR_FORMAT, "%s: safetensors header length %llu is "
				    "implausible (limit 100 MB)", name, (unsigned long long)hlen);
	if (hlen > len - 8)
		return ax_error_set(AX_ERR_FORMAT, "%s: safetensors header length %llu exceeds the "
				    "file (%zu bytes)", name, (unsigned long long)hlen, len);
	struct ax_json j = {buf + 8, buf + 8, buf + 8 + hlen, name, "safetensors header", 8};
	struct span *spans = NULL;
	int cap = 0, have_meta = 0;
	enum ax_status st = ax_json_expect(&j, '{', "expected '{'");
	if (!st && !ax_json_accept(&j, '}')) {
		do
			st = parse_member(&j, b, &have_meta, &spans, &cap);
		while (!st && ax_json_accept(&j, ','));
		if (!st)
			st = ax_json_expect(&j, '}', "expected ',' or '}'");
	}
	if (!st && ax_json_peek(&j) >= 0)
		st = ax_json_err(&j, "text after the header object");
	size_t dlen = len - 8 - (size_t)hlen;
	if (!st)
		st = check_spans(b, spans, dlen, name);
	if (!st)
		st = copy_data(b, spans, (const unsigned char *)buf + 8 + hlen, mapped, name);
	free(spans);
	return st;
}

enum ax_status ax_bundle_read(struct ax_reader *r, struct ax_bundle *b)
{
	char *buf;
	size_t len;
	ax_bundle_init(b);
	ax_reader_read_as_bundle(r);
	enum ax_status st = ax_reader_read_rest(r, &buf, &len);
	if (st)
		return st;
	st = parse_bundle(buf, len, 0, ax_reader_name(r), b);
	free(buf);
	if (st)
		ax_bundle_free(b);
	return st;
}

enum ax_status ax_bundle_load(const char *path, struct ax_bundle *b)
{
	struct ax_reader *r;
	ax_bundle_init(b);
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = ax_bundle_read(r, b);
	ax_reader_close(r);
	return st;
}

enum ax_status ax_bundle_map(const char *path, struct ax_bundle *b)
{
	struct ax_input in;
	ax_bundle_init(b);
	enum ax_status st = ax_input_map(path, &in);
	if (st)
		return st;
	ax_input_read_as_bundle(&in);
	st = parse_bundle((const char *)in.data, in.len, in.map != NULL, path, b);
	if (st)
		ax_bundle_free(b);   /* before the mapping its arrays point into */
	if (st || !in.map)
		ax_input_free(&in);
	else
		b->file = in;
	return st;
}

/* ---- writing ---- */

static void header_json(struct ax_strbuf *h, const struct ax_bundle *b)
{
	char num[64];
	ax_strbuf_puts(h, "{");
	if (b->nmeta) {
		ax_strbuf_puts(h, "\"__metadata__\":{");
		for (int i = 0; i < b->nmeta; i++) {
			if (i)
				ax_strbuf_puts(h, ",");
			ax_strbuf_json(h, b->meta_keys[i]);
			ax_strbuf_puts(h, ":");
			ax_strbuf_json(h, b->meta_values[i]);
		}
		ax_strbuf_puts(h, "}");
	}
	size_t off = 0;
	for (int i = 0; i < b->n; i++) {
		const struct ax_array *a = &b->entries[i].array;
		size_t bytes = ax_array_bytes(a);
		if (i || b->nmeta)
			ax_strbuf_puts(h, ",");
		ax_strbuf_json(h, b->entries[i].name);
		ax_strbuf_puts(h, ":{\"dtype\":\"");
		ax_strbuf_puts(h, ax_dtype_safetensors(a->dtype));
		ax_strbuf_puts(h, "\",\"shape\":[");
		for (int d = 0; d < a->ndim; d++) {
			snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)a->shape[d]);
			ax_strbuf_puts(h, num);
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
		ax_strbuf_puts(h, num);
		off += bytes;
	}
	ax_strbuf_puts(h, "}");
	while (h->n % 8)
		ax_strbuf_puts(h, " ");   /* keeps the data section 8-byte aligned */
}

enum ax_status ax_bundle_save(const char *path, const struct ax_bundle *b)
{
	struct ax_strbuf h = {0};
	header_json(&h, b);
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open_bundle(&o, path);
	if (st) {
		free(h.p);
		return st;
	}
	unsigned char len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
	errno = 0;
	int ok = fwrite(len8, 1, 8, o.f) == 8 && fwrite(h.p, 1, h.n, o.f) == h.n;
	for (int i = 0; ok && i < b->n; i++) {
		const struct ax_array *a = &b->entries[i].array;
		size_t bytes = ax_array_bytes(a);
		ok = !bytes || fwrite(a->data, 1, bytes, o.f) == bytes;
	}
	free(h.p);
	if (!ok) {
		st = ax_error_set(AX_ERR_IO, "%s: write failed: %s", path,
				  errno ? strerror(errno) : "write error");
		ax_outfile_abort(&o);
		return st;
	}
	return ax_outfile_commit(&o);
}
