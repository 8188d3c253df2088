/* io_npy.c — NPY arrays (numpy's .npy format), one or a stream of several.
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE for 1.x, u32 LE
 * for 2.x/3.x), a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and '\n', then the raw C-order data.
 */
#include "ax_io.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define NPY_MAX_HEADER (1u << 20)   /* real headers are < 1 KB; refuse silly ones */

/* ---- header dict parser: exactly the subset numpy writes ---- */

struct hdr {
	const char *s, *p, *end;
	const char *name;
	size_t base;   /* file offset of s[0], for messages */
};

static enum ax_status hdr_err(const struct hdr *h, const char *what)
{
	return ax_error_set(AX_ERR_FORMAT, "%s: bad NPY header at byte %zu: %s", h->name,
			    h->base + (size_t)(h->p - h->s), what);
}

static void hdr_ws(struct hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static int hdr_accept(struct hdr *h, char c)
{
	hdr_ws(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return 1;
	}
	return 0;
}

static int hdr_word(struct hdr *h, const char *w)
{
	size_t n = strlen(w);
	hdr_ws(h);
	if ((size_t)(h->end - h->p) >= n && !memcmp(h->p, w, n) &&
	    (h->p + n == h->end || !isalnum((unsigned char)h->p[n]))) {
		h->p += n;
		return 1;
	}
	return 0;
}

/* A quoted Python string without escapes (all numpy ever writes here). */
static enum ax_status hdr_string(struct hdr *h, char *out, size_t cap)
{
	hdr_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return hdr_err(h, "expected a quoted string");
	char q = *h->p++;
	size_t n = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || (unsigned char)*h->p < 0x20)
			return hdr_err(h, "unexpected character in string");
		if (n + 1 >= cap)
			return hdr_err(h, "string too long");
		out[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return hdr_err(h, "unterminated string");
	h->p++;
	out[n] = 0;
	return AX_OK;
}

static enum ax_status hdr_descr(struct hdr *h, enum ax_dtype *dt)
{
	hdr_ws(h);
	if (h->p < h->end && *h->p == '[')
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: structured NPY dtypes are not supported",
				    h->name);
	char d[16];
	enum ax_status st = hdr_string(h, d, sizeof d);
	if (st)
		return st;
	/* Byte order: '<' little, '|' not applicable, '=' native (little here).
	 * Big-endian data is refused rather than swapped: numpy never writes it
	 * unless asked, and a silent swap would hide a producer's bug. */
	for (int i = 0; i <= AX_BOOL; i++) {
		const char *code = ax_dtype_npy((enum ax_dtype)i);
		if (strcmp(d + (d[0] != 0), code + 1))
			continue;
		if (d[0] == '>' && ax_dtype_size((enum ax_dtype)i) > 1)
			return ax_error_set(AX_ERR_UNSUPPORTED,
					    "%s: big-endian NPY data ('%s') is not supported; "
					    "save with dtype '%s'", h->name, d, code);
		if (!strchr("<|=>", d[0]))
			break;
		*dt = (enum ax_dtype)i;
		return AX_OK;
	}
	return ax_error_set(AX_ERR_UNSUPPORTED,
			    "%s: NPY dtype '%s' is not supported (float32, float64, int32, "
			    "int64, uint8, bool)", h->name, d);
}

static enum ax_status hdr_shape(struct hdr *h, struct ax_array *a)
{
	if (!hdr_accept(h, '('))
		return hdr_err(h, "expected '(' starting the shape");
	int n = 0, comma = 0;
	for (;;) {
		if (hdr_accept(h, ')'))
			break;
		if (n > 0 && !comma)
			return hdr_err(h, "expected ',' or ')' in the shape");
		hdr_ws(h);
		if (h->p >= h->end || !isdigit((unsigned char)*h->p))
			return hdr_err(h, "expected a non-negative integer in the shape");
		uint64_t v = 0;
		while (h->p < h->end && isdigit((unsigned char)*h->p)) {
			v = v * 10 + (uint64_t)(*h->p++ - '0');
			if (v > INT64_MAX)
				return hdr_err(h, "dimension too large");
		}
		if (h->p < h->end && *h->p == 'L')   /* Python 2 long literal */
			h->p++;
		if (n == AX_ARRAY_MAX_DIMS)
			return ax_error_set(AX_ERR_UNSUPPORTED,
					    "%s: NPY array has more than %d dimensions", h->name,
					    AX_ARRAY_MAX_DIMS);
		a->shape[n++] = (int64_t)v;
		comma = hdr_accept(h, ',');
	}
	if (n == 1 && !comma)
		return hdr_err(h, "a 1-element shape needs a trailing comma, e.g. (3,)");
	a->ndim = n;
	return AX_OK;
}

static enum ax_status parse_header(struct hdr *h, struct ax_array *a)
{
	enum ax_status st;
	int have_descr = 0, have_order = 0, have_shape = 0;
	if (!hdr_accept(h, '{'))
		return hdr_err(h, "expected '{'");
	for (;;) {
		if (hdr_accept(h, '}'))
			break;
		char key[32];
		if ((st = hdr_string(h, key, sizeof key)))
			return st;
		if (!hdr_accept(h, ':'))
			return hdr_err(h, "expected ':' after a key");
		if (!strcmp(key, "descr") && !have_descr++) {
			if ((st = hdr_descr(h, &a->dtype)))
				return st;
		} else if (!strcmp(key, "fortran_order") && !have_order++) {
			if (hdr_word(h, "True"))
				return ax_error_set(AX_ERR_UNSUPPORTED,
						    "%s: fortran_order True is not supported; save a "
						    "C-contiguous array (np.ascontiguousarray)", h->name);
			if (!hdr_word(h, "False"))
				return hdr_err(h, "fortran_order must be True or False");
		} else if (!strcmp(key, "shape") && !have_shape++) {
			if ((st = hdr_shape(h, a)))
				return st;
		} else {
			return hdr_err(h, "unknown or repeated key (want descr, fortran_order, shape)");
		}
		if (!hdr_accept(h, ',')) {
			if (!hdr_accept(h, '}'))
				return hdr_err(h, "expected ',' or '}'");
			break;
		}
	}
	hdr_ws(h);
	if (h->p != h->end)
		return hdr_err(h, "unexpected text after the dict");
	if (!have_descr || !have_order || !have_shape)
		return hdr_err(h, "dict lacks one of descr, fortran_order, shape");
	return AX_OK;
}

/* ---- reading ---- */

static uint32_t le32(const unsigned char *b)
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

enum ax_status ax_npy_read(struct ax_reader *r, struct ax_array *out)
{
	memset(out, 0, sizeof *out);
	const char *name = ax_reader_name(r);
	size_t start = ax_reader_offset(r);
	unsigned char pre[12];
	size_t got;
	/* Peek first so that short junk at the end reads as bad magic, and an
	 * empty remainder as the clean end of the stream. */
	enum ax_status st = ax_reader_peek(r, pre, 6, &got);
	if (st)
		return st;
	if (got == 0)
		return ax_error_set(AX_ERR_EOF, "%s: end of input at byte %zu", name, start);
	if (memcmp(pre, AX_NPY_MAGIC, got))
		return ax_error_set(AX_ERR_FORMAT, "%s: not an NPY array at byte %zu (bad magic)",
				    name, start);
	if ((st = ax_reader_read(r, pre, 8)))
		return st;
	if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: NPY format version %u.%u at byte %zu "
				    "is not supported (1.0, 2.0, 3.0)", name, pre[6], pre[7], start);
	size_t lensize = pre[6] == 1 ? 2 : 4, hlen;
	if ((st = ax_reader_read(r, pre + 8, lensize)))
		return st == AX_ERR_EOF ? ax_error_set(AX_ERR_FORMAT, "%s: NPY header truncated at "
						       "byte %zu", name, start + 8) : st;
	hlen = lensize == 2 ? (size_t)(pre[8] | pre[9] << 8) : le32(pre + 8);
	if (hlen > NPY_MAX_HEADER)
		return ax_error_set(AX_ERR_FORMAT, "%s: NPY header length %zu at byte %zu is "
				    "implausible", name, hlen, start + 8);
	char *text;
	if ((st = ax_reader_read_alloc(r, hlen, (void **)&text)))
		return st;
	const char *t = text ? text : "";   /* hlen 0: NULL buffer, empty dict text */
	struct hdr h = {t, t, t + hlen, name, start + 8 + lensize};
	struct ax_array a = {0};
	st = parse_header(&h, &a);
	free(text);
	if (st)
		return st;
	size_t bytes;
	if (ax_shape_bytes(a.ndim, a.shape, ax_dtype_size(a.dtype), &bytes))
		return ax_error_set(AX_ERR_FORMAT, "%s: NPY shape at byte %zu overflows", name,
				    start);
	if ((st = ax_reader_read_alloc(r, bytes, &a.data)))
		return st;
	if (!a.data)
		a.data = ax_xmalloc(1);   /* empty arrays still own a buffer */
	if (a.dtype == AX_BOOL)
		for (size_t i = 0; i < bytes; i++)
			((uint8_t *)a.data)[i] = ((uint8_t *)a.data)[i] != 0;
	*out = a;
	return AX_OK;
}

enum ax_status ax_npy_load(const char *path, struct ax_array *out)
{
	struct ax_reader *r;
	memset(out, 0, sizeof *out);
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = ax_npy_read(r, out);
	if (st == AX_ERR_EOF)
		st = ax_error_set(AX_ERR_FORMAT, "%s: empty file, expected an NPY array", path);
	ax_reader_close(r);
	return st;
}

/* ---- writing ---- */

enum ax_status ax_npy_write(FILE *f, const struct ax_array *a)
{
	AX_ASSERT(a->ndim >= 0 && a->ndim <= AX_ARRAY_MAX_DIMS && "ndim out of range");
	char dict[512];
	int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
			 ax_dtype_npy(a->dtype));
	for (int i = 0; i < a->ndim; i++)
		n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", i ? ", " : "",
			      (long long)a->shape[i]);
	n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", a->ndim == 1 ? "," : "");
	/* Pad with spaces so magic + length + dict + '\n' is a multiple of 64. */
	size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64, hlen = total - 10;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
				 (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
	size_t bytes = ax_array_bytes(a);
	errno = 0;
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
	for (size_t i = (size_t)n; ok && i < hlen - 1; i++)
		ok = putc(' ', f) != EOF;
	ok = ok && putc('\n', f) != EOF && (!bytes || fwrite(a->data, 1, bytes, f) == bytes);
	if (!ok)
		return ax_error_set(AX_ERR_IO, "writing NPY data: %s",
				    errno ? strerror(errno) : "write error");
	return AX_OK;
}

enum ax_status ax_npy_write_f32(FILE *f, const float *data, int ndim, const int64_t *shape)
{
	struct ax_array a = {.dtype = AX_F32, .ndim = ndim, .data = (void *)data};
	AX_ASSERT(ndim >= 0 && ndim <= AX_ARRAY_MAX_DIMS && "ndim out of range");
	for (int i = 0; i < ndim; i++)
		a.shape[i] = shape[i];
	return ax_npy_write(f, &a);
}

enum ax_status ax_npy_save(const char *path, const struct ax_array *a)
{
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
	if (st)
		return st;
	if ((st = ax_npy_write(o.f, a))) {
		char why[256];
		snprintf(why, sizeof why, "%s", ax_error_detail());
		ax_outfile_abort(&o);
		return ax_error_set(st, "%s: %s", path, why);
	}
	return ax_outfile_commit(&o);
}
