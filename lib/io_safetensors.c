/* io_safetensors.c — safetensors bundles: named arrays plus string metadata.
 *
 * Layout: u64 LE header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v"}, "w": {"dtype": "F32", "shape": [2, 3],
 *    "data_offsets": [0, 24]}, ...}
 * then the data section; offsets are relative to its start.
 * The JSON parser below is small and strict (RFC 8259 grammar, no NUL in
 * strings, nesting depth bounded) and builds no tree: the header's shape is
 * fixed, and anything else is validated and skipped.
 */
#include "ax_io.h"

#include <errno.h>
#include <string.h>

#define ST_MAX_HEADER 100000000u   /* the reference implementation's limit */
#define JSON_MAX_DEPTH 64

/* ---- JSON ---- */

struct js {
	const char *s, *p, *end;
	const char *name;
	size_t base;   /* file offset of s[0] */
};

static enum ax_status js_err(const struct js *j, const char *what)
{
	return ax_error_set(AX_ERR_FORMAT, "%s: bad safetensors header at byte %zu: %s", j->name,
			    j->base + (size_t)(j->p - j->s), what);
}

static int js_peek(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int js_accept(struct js *j, char c)
{
	if (js_peek(j) != (unsigned char)c)
		return 0;
	j->p++;
	return 1;
}

static enum ax_status js_expect(struct js *j, char c, const char *what)
{
	return js_accept(j, c) ? AX_OK : js_err(j, what);
}

static int js_literal(struct js *j, const char *w)
{
	size_t n = strlen(w);
	if (js_peek(j) < 0 || (size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return 0;
	j->p += n;
	return 1;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int js_hex4(struct js *j, unsigned *v)
{
	if (j->end - j->p < 4)
		return 0;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)j->p[i]);
		if (h < 0)
			return 0;
		*v = *v << 4 | (unsigned)h;
	}
	j->p += 4;
	return 1;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string, unescaped into a malloc'd *out (or only validated if out is NULL).
 * Escapes never decode longer than they are written, so the span bounds it. */
static enum ax_status js_string(struct js *j, char **out)
{
	if (out)
		*out = NULL;
	if (!js_accept(j, '"'))
		return js_err(j, "expected a string");
	const char *q = j->p;
	while (q < j->end && *q != '"')
		q += *q == '\\' && q + 1 < j->end ? 2 : 1;
	if (q >= j->end)
		return js_err(j, "unterminated string");
	char *o = out ? ax_xmalloc((size_t)(q - j->p) + 1) : NULL, *w = o;
	char tmp[4];
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20) {
			free(o);
			return js_err(j, "control character in string");
		}
		if (c != '\\') {
			if (w)
				*w++ = (char)c;
			j->p++;
			continue;
		}
		j->p++;
		char e = *j->p++;
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			if (w)
				*w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			continue;
		}
		unsigned cp, lo;
		if (e != 'u' || !js_hex4(j, &cp)) {
			free(o);
			return js_err(j, "bad escape in string");
		}
		if (cp >= 0xd800 && cp < 0xdc00) {   /* high surrogate: needs its low half */
			if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    (j->p += 2, !js_hex4(j, &lo)) || lo < 0xdc00 || lo >= 0xe000) {
				free(o);
				return js_err(j, "unpaired surrogate in string");
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0) {
			free(o);
			return js_err(j, cp ? "unpaired surrogate in string" : "NUL in string");
		}
		size_t k = utf8_put(tmp, cp);
		if (w) {
			memcpy(w, tmp, k);
			w += k;
		}
	}
	j->p++;
	if (w)
		*w = 0;
	if (out)
		*out = o;
	return AX_OK;
}

/* A number per the JSON grammar; *is_uint says it is plain digits. */
static enum ax_status js_number(struct js *j, uint64_t *v, int *is_uint)
{
	js_peek(j);
	const char *p = j->p, *e = j->end;
	int neg = p < e && *p == '-', frac = 0, overflow = 0;
	p += neg;
	if (p >= e || *p < '0' || *p > '9')
		return js_err(j, "expected a number");
	uint64_t x = 0;
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9') {
			unsigned d = (unsigned)(*p++ - '0');
			overflow |= x > (UINT64_MAX - d) / 10;
			x = x * 10 + d;
		}
	if (p < e && *p == '.') {
		frac = 1;
		if (++p >= e || *p < '0' || *p > '9')
			return j->p = p, js_err(j, "digit expected after '.'");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		frac = 1;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return j->p = p, js_err(j, "digit expected in exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (is_uint)
		*is_uint = !neg && !frac && !overflow;
	if (v)
		*v = x;
	j->p = p;
	return AX_OK;
}

static enum ax_status js_uint(struct js *j, uint64_t max, uint64_t *v)
{
	const char *at = (js_peek(j), j->p);
	int ok;
	enum ax_status st = js_number(j, v, &ok);
	if (st)
		return st;
	if (!ok || *v > max) {
		j->p = at;
		return js_err(j, "expected a non-negative integer in range");
	}
	return AX_OK;
}

static enum ax_status js_skip(struct js *j, int depth)
{
	enum ax_status st;
	if (depth > JSON_MAX_DEPTH)
		return js_err(j, "nesting too deep");
	int c = js_peek(j);
	if (c == '"')
		return js_string(j, NULL);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		if (js_accept(j, close))
			return AX_OK;
		do {
			if (c == '{') {
				if ((st = js_string(j, NULL)) || (st = js_expect(j, ':', "expected ':'")))
					return st;
			}
			if ((st = js_skip(j, depth + 1)))
				return st;
		} while (js_accept(j, ','));
		return js_expect(j, close, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	if (js_literal(j, "true") || js_literal(j, "false") || js_literal(j, "null"))
		return AX_OK;
	return js_number(j, NULL, NULL);
}

/* ---- bundle container ---- */

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
	ax_bundle_init(b);
}

static struct ax_bundle_entry *push_entry(struct ax_bundle *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->entries = ax_xrealloc(b->entries, (size_t)b->cap * sizeof *b->entries);
	}
	struct ax_bundle_entry *e = &b->entries[b->n++];
	memset(e, 0, sizeof *e);
	return e;
}

static void push_meta(struct ax_bundle *b, char *key, char *value)
{
	b->meta_keys = ax_xrealloc(b->meta_keys, (size_t)(b->nmeta + 1) * sizeof(char *));
	b->meta_values = ax_xrealloc(b->meta_values, (size_t)(b->nmeta + 1) * sizeof(char *));
	b->meta_keys[b->nmeta] = key;
	b->meta_values[b->nmeta++] = value;
}

const struct ax_array *ax_bundle_find(const struct ax_bundle *b, const char *name)
{
	for (int i = 0; i < b->n; i++)
		if (!strcmp(b->entries[i].name, name))
			return &b->entries[i].array;
	return NULL;
}

void ax_bundle_add(struct ax_bundle *b, const char *name, enum ax_dtype dt, int ndim,
		   const int64_t *shape, const void *data)
{
	AX_ASSERT(!ax_bundle_find(b, name) && "tensor names in a bundle must be unique");
	AX_ASSERT(strcmp(name, "__metadata__") && "__metadata__ is reserved");
	struct ax_array a;
	AX_ASSERT(ax_array_alloc(&a, dt, ndim, shape) == AX_OK && "array too large");
	size_t bytes = ax_array_bytes(&a);
	if (bytes)   /* data may be NULL for an empty array */
		memcpy(a.data, data, bytes);
	struct ax_bundle_entry *e = push_entry(b);
	e->name = ax_xstrdup(name);
	e->array = a;
}

void ax_bundle_add_f32(struct ax_bundle *b, const char *name, int ndim, const int64_t *shape,
		       const float *data)
{
	ax_bundle_add(b, name, AX_F32, ndim, shape, data);
}

void ax_bundle_set_meta(struct ax_bundle *b, const char *key, const char *value)
{
	for (int i = 0; i < b->nmeta; i++)
		if (!strcmp(b->meta_keys[i], key)) {
			free(b->meta_values[i]);
			b->meta_values[i] = ax_xstrdup(value);
			return;
		}
	push_meta(b, ax_xstrdup(key), ax_xstrdup(value));
}

const char *ax_bundle_meta(const struct ax_bundle *b, const char *key)
{
	for (int i = 0; i < b->nmeta; i++)
		if (!strcmp(b->meta_keys[i], key))
			return b->meta_values[i];
	return NULL;
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
};

static enum ax_status parse_tensor(struct js *j, struct ax_array *a, struct span *sp)
{
	enum ax_status st;
	int have_dtype = 0, have_shape = 0, have_offsets = 0;
	sp->at = j->base + (size_t)(j->p - j->s);
	if ((st = js_expect(j, '{', "expected '{' for a tensor entry")))
		return st;
	if (js_accept(j, '}'))
		return js_err(j, "empty tensor entry");
	do {
		char *key;
		if ((st = js_string(j, &key)))
			return st;
		if ((st = js_expect(j, ':', "expected ':'"))) {
			free(key);
			return st;
		}
		int dup = 0;
		if (!strcmp(key, "dtype")) {
			dup = have_dtype++;
			char *d;
			const char *at = (js_peek(j), j->p);
			if (!dup && !(st = js_string(j, &d))) {
				int dt = ax_dtype_from_safetensors(d);
				if (dt < 0) {
					j->p = at;
					st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: safetensors dtype '%s' "
							  "at byte %zu is not supported (F32, F64, I32, "
							  "I64, U8, BOOL)", j->name, d,
							  j->base + (size_t)(at - j->s));
				}
				a->dtype = (enum ax_dtype)(dt < 0 ? 0 : dt);
				free(d);
			}
		} else if (!strcmp(key, "shape")) {
			dup = have_shape++;
			if (!dup && !(st = js_expect(j, '[', "expected '[' for the shape")) &&
			    !js_accept(j, ']')) {
				do {
					uint64_t v;
					if (a->ndim == AX_ARRAY_MAX_DIMS)
						st = ax_error_set(AX_ERR_UNSUPPORTED, "%s: tensor at byte "
								  "%zu has more than %d dimensions",
								  j->name, sp->at, AX_ARRAY_MAX_DIMS);
					else if (!(st = js_uint(j, INT64_MAX, &v)))
						a->shape[a->ndim++] = (int64_t)v;
				} while (!st && js_accept(j, ','));
				if (!st)
					st = js_expect(j, ']', "expected ',' or ']' in the shape");
			}
		} else if (!strcmp(key, "data_offsets")) {
			dup = have_offsets++;
			if (!dup && !(st = js_expect(j, '[', "expected '[' for data_offsets")) &&
			    !(st = js_uint(j, UINT64_MAX, &sp->begin)) &&
			    !(st = js_expect(j, ',', "data_offsets needs two integers")) &&
			    !(st = js_uint(j, UINT64_MAX, &sp->end)))
				st = js_expect(j, ']', "data_offsets needs exactly two integers");
		} else {
			st = js_skip(j, 2);   /* unknown keys are ignored, as upstream does */
		}
		free(key);
		if (!st && dup)
			st = js_err(j, "repeated key in a tensor entry");
		if (st)
			return st;
	} while (js_accept(j, ','));
	if ((st = js_expect(j, '}', "expected ',' or '}' after a tensor entry")))
		return st;
	if (!have_dtype || !have_shape || !have_offsets)
		return ax_error_set(AX_ERR_FORMAT, "%s: tensor entry at byte %zu lacks dtype, shape "
				    "or data_offsets", j->name, sp->at);
	return AX_OK;
}

static enum ax_status parse_metadata(struct js *j, struct ax_bundle *b)
{
	enum ax_status st;
	if (js_literal(j, "null"))
		return AX_OK;
	if ((st = js_expect(j, '{', "__metadata__ must be an object of strings")))
		return st;
	if (js_accept(j, '}'))
		return AX_OK;
	do {
		char *k, *v;
		if ((st = js_string(j, &k)))
			return st;
		if ((st = js_expect(j, ':', "expected ':'")) ||
		    (st = js_peek(j) == '"' ? js_string(j, &v)
					    : js_err(j, "__metadata__ values must be strings"))) {
			free(k);
			return st;
		}
		if (ax_bundle_meta(b, k)) {
			free(k);
			free(v);
			return js_err(j, "repeated key in __metadata__");
		}
		push_meta(b, k, v);
	} while (js_accept(j, ','));
	return js_expect(j, '}', "expected ',' or '}' in __metadata__");
}

static int cmp_entry_name(const void *x, const void *y)
{
	const struct ax_bundle_entry *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

static enum ax_status check_unique(struct ax_bundle *b, const char *name)
{
	if (b->n < 2)
		return AX_OK;
	const struct ax_bundle_entry **v = ax_xmalloc((size_t)b->n * sizeof *v);
	for (int i = 0; i < b->n; i++)
		v[i] = &b->entries[i];
	qsort(v, (size_t)b->n, sizeof *v, cmp_entry_name);
	enum ax_status st = AX_OK;
	for (int i = 1; i < b->n && !st; i++)
		if (!strcmp(v[i - 1]->name, v[i]->name))
			st = ax_error_set(AX_ERR_FORMAT, "%s: tensor name '%s' appears twice", name,
					  v[i]->name);
	free(v);
	return st;
}

static enum ax_status parse_bundle(const char *buf, size_t len, const char *name,
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
	const unsigned char *data = (const unsigned char *)buf + 8 + hlen;
	size_t dlen = len - 8 - (size_t)hlen;
	struct js j = {buf + 8, buf + 8, buf + 8 + hlen, name, 8};
	struct span *spans = NULL;
	int nspans = 0, have_meta = 0;
	enum ax_status st = js_expect(&j, '{', "expected '{'");
	if (!st && !js_accept(&j, '}')) {
		do {
			char *key;
			if ((st = js_string(&j, &key)))
				break;
			if ((st = js_expect(&j, ':', "expected ':'"))) {
				free(key);
				break;
			}
			if (!strcmp(key, "__metadata__")) {
				free(key);
				st = have_meta++ ? js_err(&j, "repeated __metadata__")
						 : parse_metadata(&j, b);
				continue;
			}
			struct ax_bundle_entry *e = push_entry(b);
			e->name = key;
			if (nspans < b->cap)
				spans = ax_xrealloc(spans, (size_t)b->cap * sizeof *spans);
			nspans = b->cap;
			st = parse_tensor(&j, &e->array, &spans[b->n - 1]);
		} while (!st && js_accept(&j, ','));
		if (!st)
			st = js_expect(&j, '}', "expected ',' or '}'");
	}
	if (!st && js_peek(&j) >= 0)
		st = js_err(&j, "text after the header object");
	if (!st)
		st = check_unique(b, name);
	for (int i = 0; !st && i < b->n; i++) {
		struct ax_bundle_entry *e = &b->entries[i];
		const struct span *sp = &spans[i];
		size_t bytes = 0;
		if (ax_shape_bytes(e->array.ndim, e->array.shape, ax_dtype_size(e->array.dtype),
				   &bytes))
			st = ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': shape overflows", name,
					  e->name);
		else if (sp->begin > sp->end || sp->end > dlen)
			st = ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] "
					  "outside the data section (%zu bytes)", name, e->name,
					  (unsigned long long)sp->begin,
					  (unsigned long long)sp->end, dlen);
		else if (sp->end - sp->begin != bytes)
			st = ax_error_set(AX_ERR_FORMAT, "%s: tensor '%s': data_offsets span %llu "
					  "bytes, but %s of that shape needs %zu", name, e->name,
					  (unsigned long long)(sp->end - sp->begin),
					  ax_dtype_name(e->array.dtype), bytes);
		/* malloc, not ax_xmalloc: tensors may share data, so their total
		 * is not bounded by the file's size. */
		else if (!(e->array.data = malloc(bytes ? bytes : 1)))
			st = ax_error_set(AX_ERR_NOMEM, "%s: tensor '%s': cannot allocate %zu bytes",
					  name, e->name, bytes);
		else if (e->array.dtype == AX_BOOL)
			for (size_t k = 0; k < bytes; k++)
				((uint8_t *)e->array.data)[k] = data[sp->begin + k] != 0;
		else
			memcpy(e->array.data, data + sp->begin, bytes);
	}
	free(spans);
	return st;
}

enum ax_status ax_bundle_read(struct ax_reader *r, struct ax_bundle *b)
{
	char *buf;
	size_t len;
	ax_bundle_init(b);
	enum ax_status st = ax_reader_read_rest(r, &buf, &len);
	if (st)
		return st;
	st = parse_bundle(buf, len, ax_reader_name(r), b);
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

/* ---- writing ---- */

struct sb {
	char *p;
	size_t n, cap;
};

static void sb_put(struct sb *s, const char *t, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = AX_MAX(2 * s->cap, s->n + n + 1 + 256);
		s->p = ax_xrealloc(s->p, s->cap);
	}
	memcpy(s->p + s->n, t, n);
	s->n += n;
	s->p[s->n] = 0;
}

static void sb_str(struct sb *s, const char *t) { sb_put(s, t, strlen(t)); }

static void sb_json(struct sb *s, const char *t)
{
	sb_put(s, "\"", 1);
	for (; *t; t++) {
		unsigned char c = (unsigned char)*t;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			sb_put(s, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sb_put(s, esc, 6);
		} else {
			sb_put(s, (const char *)&c, 1);
		}
	}
	sb_put(s, "\"", 1);
}

enum ax_status ax_bundle_save(const char *path, const struct ax_bundle *b)
{
	struct sb h = {0};
	char num[64];
	sb_str(&h, "{");
	if (b->nmeta) {
		sb_str(&h, "\"__metadata__\":{");
		for (int i = 0; i < b->nmeta; i++) {
			if (i)
				sb_str(&h, ",");
			sb_json(&h, b->meta_keys[i]);
			sb_str(&h, ":");
			sb_json(&h, b->meta_values[i]);
		}
		sb_str(&h, "}");
	}
	size_t off = 0;
	for (int i = 0; i < b->n; i++) {
		const struct ax_array *a = &b->entries[i].array;
		size_t bytes = ax_array_bytes(a);
		if (i || b->nmeta)
			sb_str(&h, ",");
		sb_json(&h, b->entries[i].name);
		sb_str(&h, ":{\"dtype\":\"");
		sb_str(&h, ax_dtype_safetensors(a->dtype));
		sb_str(&h, "\",\"shape\":[");
		for (int d = 0; d < a->ndim; d++) {
			snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)a->shape[d]);
			sb_str(&h, num);
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
		sb_str(&h, num);
		off += bytes;
	}
	sb_str(&h, "}");
	while (h.n % 8)
		sb_str(&h, " ");   /* keeps the data section 8-byte aligned */

	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
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
