/* test-io.c — arrays, gzip-transparent readers, NPY, IDX, atomic outfiles. */
#include "testutil.h"
#include "ax_io.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ---- */

static const int64_t *dims(int n, ...)
{
	static int64_t s[AX_ARRAY_MAX_DIMS];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s[i] = va_arg(ap, int64_t);
	va_end(ap);
	return s;
}

/* An array of dtype dt whose element i holds a distinct, exactly
 * representable value (bool: alternating). */
static void make_array(struct ax_array *a, enum ax_dtype dt, int ndim, const int64_t *shape)
{
	assert_int_equal(ax_array_alloc(a, dt, ndim, shape), AX_OK);
	size_t n = ax_array_count(a);
	for (size_t i = 0; i < n; i++) {
		double v = (double)i - 3;
		switch (dt) {
		case AX_F32: ((float *)a->data)[i] = (float)(v * 0.5); break;
		case AX_F64: ((double *)a->data)[i] = v * 0.25; break;
		case AX_I32: ((int32_t *)a->data)[i] = (int32_t)v * 1000; break;
		case AX_I64: ((int64_t *)a->data)[i] = (int64_t)v * 10000000000LL; break;
		case AX_U8: ((uint8_t *)a->data)[i] = (uint8_t)(i * 7); break;
		case AX_BOOL: ((uint8_t *)a->data)[i] = i % 2; break;
		}
	}
}

static void assert_same_array(const struct ax_array *a, const struct ax_array *b)
{
	assert_int_equal(a->dtype, b->dtype);
	assert_int_equal(a->ndim, b->ndim);
	for (int i = 0; i < a->ndim; i++)
		assert_int_equal(a->shape[i], b->shape[i]);
	assert_non_null(b->data);
	assert_memory_equal(a->data, b->data, ax_array_bytes(a));
}

/* Detail of the last failure contains every given fragment. */
static size_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* An NPY file from a header dict literal (version 1.0) plus data bytes. */
static const char *npy_file(const char *name, const char *dict, const void *data, size_t n)
{
	unsigned char buf[1024];
	size_t h = strlen(dict);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)(h & 0xff);
	buf[9] = (unsigned char)(h >> 8);
	memcpy(buf + 10, dict, h);
	memcpy(buf + 10 + h, data, n);
	return tu_write_file(name, buf, 10 + h + n);
}

static enum ax_status load_status(const char *path)
{
	struct ax_array a;
	enum ax_status st = ax_npy_load(path, &a);
	if (st == AX_OK)
		ax_array_free(&a);
	return st;
}

/* ---- dtypes and arrays ---- */

static void test_dtypes(void **state)
{
	assert_int_equal(ax_dtype_size(AX_F32), 4);
	assert_int_equal(ax_dtype_size(AX_F64), 8);
	assert_int_equal(ax_dtype_size(AX_I32), 4);
	assert_int_equal(ax_dtype_size(AX_I64), 8);
	assert_int_equal(ax_dtype_size(AX_U8), 1);
	assert_int_equal(ax_dtype_size(AX_BOOL), 1);
	assert_string_equal(ax_dtype_name(AX_F32), "float32");
	assert_string_equal(ax_dtype_name(AX_BOOL), "bool");
	assert_string_equal(ax_dtype_npy(AX_I64), "<i8");
	assert_string_equal(ax_dtype_npy(AX_U8), "|u1");
	for (int i = AX_F32; i <= AX_BOOL; i++)
		assert_int_equal(ax_dtype_from_safetensors(ax_dtype_safetensors(i)), i);
	assert_int_equal(ax_dtype_from_safetensors("F16"), -1);
	assert_int_equal(ax_dtype_from_safetensors("f32"), -1);
}

static void test_array_alloc_get_convert(void **state)
{
	struct ax_array a;
	assert_int_equal(ax_array_alloc(&a, AX_I64, 2, dims(2, (int64_t)2, (int64_t)3)), AX_OK);
	assert_int_equal(ax_array_count(&a), 6);
	for (size_t i = 0; i < 6; i++)
		assert_true(ax_array_get(&a, i) == 0.0);   /* zeroed */
	((int64_t *)a.data)[5] = -7;
	assert_true(ax_array_get(&a, 5) == -7.0);
	assert_int_equal(ax_array_to_f32(&a), AX_OK);
	assert_int_equal(a.dtype, AX_F32);
	assert_true(((float *)a.data)[5] == -7.0f);
	ax_array_free(&a);

	assert_int_equal(ax_array_alloc(&a, AX_BOOL, 1, dims(1, (int64_t)3)), AX_OK);
	((uint8_t *)a.data)[1] = 1;
	assert_int_equal(ax_array_to_f32(&a), AX_OK);
	float want[3] = {0, 1, 0};
	tu_assert_close(a.data, want, 3, 0, 0, "bool to f32");
	ax_array_free(&a);

	assert_int_equal(ax_array_alloc(&a, AX_F64, 0, NULL), AX_OK);   /* scalar */
	assert_int_equal(ax_array_count(&a), 1);
	ax_array_free(&a);

	const int64_t huge[2] = {INT64_MAX, INT64_MAX};
	assert_int_equal(ax_array_alloc(&a, AX_F32, 2, huge), AX_ERR_NOMEM);

	assert_int_equal(ax_array_alloc(&a, AX_F64, 3, dims(3, (int64_t)2, (int64_t)0,
							     (int64_t)5)), AX_OK);
	assert_int_equal(ax_array_count(&a), 0);
	assert_int_equal(ax_array_bytes(&a), 0);
	ax_array_free(&a);
	assert_int_equal(ax_array_alloc(&a, AX_I32, 2, dims(2, (int64_t)3, (int64_t)5)), AX_OK);
	assert_int_equal(ax_array_bytes(&a), 60);
	ax_array_free(&a);
}

static void test_shape_fmt(void **state)
{
	char buf[64];
	ax_shape_fmt(buf, sizeof buf, 2, (int64_t[]){ 2, 3 });
	assert_string_equal(buf, "(2, 3)");
	ax_shape_fmt(buf, sizeof buf, 1, (int64_t[]){ 7 });
	assert_string_equal(buf, "(7,)");
	ax_shape_fmt(buf, sizeof buf, 0, NULL);
	assert_string_equal(buf, "()");
	ax_shape_fmt(buf, sizeof buf, 3, (int64_t[]){ -1, 4, -1 });
	assert_string_equal(buf, "(*, 4, *)");
	ax_shape_fmt(buf, 5, 2, (int64_t[]){ 1000, 1000 });  /* cut, still terminated */
	assert_string_equal(buf, "(100");
}

static void test_shape_bytes(void **state)
{
	size_t n = 12345;
	assert_int_equal(ax_shape_bytes(0, NULL, 8, &n), 0);   /* a scalar: one element */
	assert_int_equal(n, 8);
	assert_int_equal(ax_shape_bytes(3, dims(3, (int64_t)2, (int64_t)3, (int64_t)4), 1, &n), 0);
	assert_int_equal(n, 24);
	assert_int_equal(ax_shape_bytes(2, dims(2, (int64_t)2, (int64_t)3), 4, &n), 0);
	assert_int_equal(n, 24);
	/* The element count overflows; the byte count overflows only with the
	 * element size; a zero after a huge dimension is an empty array. */
	const int64_t big = (int64_t)1 << 40;
	n = 7;
	assert_int_equal(ax_shape_bytes(2, dims(2, big, big), 1, &n), -1);
	assert_int_equal(n, 7);   /* untouched on failure */
	assert_int_equal(ax_shape_bytes(2, dims(2, big, (int64_t)1 << 23), 1, &n), 0);
	assert_int_equal(n, (size_t)1 << 63);
	assert_int_equal(ax_shape_bytes(2, dims(2, big, (int64_t)1 << 23), 2, &n), -1);
	assert_int_equal(ax_shape_bytes(2, dims(2, (int64_t)1 << 62, (int64_t)0), 8, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- reader ---- */

static void test_reader_basics(void **state)
{
	const char *p = tu_write_file("r.bin", "abcdefghij", 10);
	struct ax_reader *r;
	char b[16];
	size_t got;
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	assert_string_equal(ax_reader_name(r), p);
	assert_int_equal(ax_reader_peek(r, b, 3, &got), AX_OK);
	assert_int_equal(got, 3);
	assert_memory_equal(b, "abc", 3);
	assert_int_equal(ax_reader_offset(r), 0);   /* peeking consumes nothing */
	assert_int_equal(ax_reader_read(r, b, 2), AX_OK);
	assert_memory_equal(b, "ab", 2);
	assert_int_equal(ax_reader_peek(r, b, 5, &got), AX_OK);
	assert_memory_equal(b, "cdefg", 5);
	assert_int_equal(ax_reader_read(r, b, 4), AX_OK);
	assert_memory_equal(b, "cdef", 4);
	assert_int_equal(ax_reader_offset(r), 6);
	assert_int_equal(ax_reader_read(r, b, 5), AX_ERR_FORMAT);   /* 4 left */
	tu_assert_detail("truncated at byte 10");
	assert_int_equal(ax_reader_read(r, b, 1), AX_ERR_EOF);
	assert_int_equal(ax_reader_peek(r, b, 4, &got), AX_OK);
	assert_int_equal(got, 0);
	ax_reader_close(r);

	char *all;
	size_t len;
	assert_int_equal(ax_read_all(p, &all, &len), AX_OK);
	assert_int_equal(len, 10);
	assert_string_equal(all, "abcdefghij");   /* NUL-added */
	free(all);

	void *buf;
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	assert_int_equal(ax_reader_read_alloc(r, 0, &buf), AX_OK);
	assert_null(buf);
	assert_int_equal(ax_reader_read_alloc(r, 4, &buf), AX_OK);
	assert_memory_equal(buf, "abcd", 4);
	free(buf);
	/* A hostile size: fails as truncated, without allocating 1 TB first. */
	assert_int_equal(ax_reader_read_alloc(r, (size_t)1 << 40, &buf), AX_ERR_FORMAT);
	assert_null(buf);
	ax_reader_close(r);
}

static void test_reader_errors(void **state)
{
	struct ax_reader *r;
	assert_int_equal(ax_reader_open(&r, tu_path("missing.npy")), AX_ERR_IO);
	assert_null(r);
	tu_assert_detail("missing.npy: No such file");
	assert_int_equal(ax_reader_open(&r, tu_tmpdir()), AX_ERR_IO);
	tu_assert_detail("is a directory");
}

static const char *gz_file(const char *name, const void *data, size_t n)
{
	const char *p = tu_path(name);
	gzFile g = gzopen(p, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
	assert_int_equal(gzclose(g), Z_OK);
	return p;
}

static void test_reader_gzip(void **state)
{
	char big[100000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 31 % 251);
	const char *p = gz_file("big.gz", big, sizeof big);
	assert_true(file_size(p) < sizeof big);   /* really compressed */
	char *all;
	size_t len;
	assert_int_equal(ax_read_all(p, &all, &len), AX_OK);
	assert_int_equal(len, sizeof big);
	assert_memory_equal(all, big, sizeof big);
	free(all);

	/* A cut gzip member is an error, not a quiet end of input. */
	size_t n;
	char *gz = tu_read_file(p, &n);
	const char *cut = tu_write_file("cut.gz", gz, n / 2);
	free(gz);
	assert_int_equal(ax_read_all(cut, &all, &len), AX_ERR_FORMAT);
	tu_assert_detail("cut.gz: corrupt gzip data");
	assert_null(all);
}

/* ---- NPY ---- */

static void test_npy_roundtrip_all_dtypes(void **state)
{
	static const int64_t shapes[][AX_ARRAY_MAX_DIMS] = {
		{0}, {0}, {5}, {2, 3}, {2, 0, 3}, {1, 2, 1, 2, 1, 2, 1, 2},
	};
	static const int ndims[] = {0, 1, 1, 2, 3, 8};
	for (int dt = AX_F32; dt <= AX_BOOL; dt++) {
		for (size_t s = 0; s < AX_COUNTOF(ndims); s++) {
			struct ax_array a, b;
			make_array(&a, (enum ax_dtype)dt, ndims[s], shapes[s]);
			const char *p = tu_path("rt.npy");
			assert_int_equal(ax_npy_save(p, &a), AX_OK);
			/* numpy's alignment */
			assert_int_equal((file_size(p) - ax_array_bytes(&a)) % 64, 0);
			assert_int_equal(ax_npy_load(p, &b), AX_OK);
			assert_same_array(&a, &b);
			ax_array_free(&a);
			ax_array_free(&b);
		}
	}
}

static void test_npy_header_matches_numpy(void **state)
{
	/* The exact bytes np.save writes for np.zeros((3, 4), np.float32). */
	float z[12] = {0};
	const char *p = tu_path("np.npy");
	FILE *f = fopen(p, "wb");
	assert_int_equal(ax_npy_write_f32(f, z, 2, dims(2, (int64_t)3, (int64_t)4)), AX_OK);
	fclose(f);
	size_t n;
	char *b = tu_read_file(p, &n);
	assert_int_equal(n, 128 + 48);
	const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
	assert_memory_equal(b, "\x93NUMPY\x01\x00\x76\x00", 10);   /* v1.0, 118 bytes */
	assert_memory_equal(b + 10, dict, strlen(dict));
	for (size_t i = 10 + strlen(dict); i < 127; i++)
		assert_int_equal(b[i], ' ');
	assert_int_equal(b[127], '\n');
	free(b);

	/* 1-d shapes need the trailing comma: (5,). */
	struct ax_array a;
	make_array(&a, AX_U8, 1, dims(1, (int64_t)5));
	assert_int_equal(ax_npy_save(p, &a), AX_OK);
	b = tu_read_file(p, &n);
	assert_non_null(memmem(b, n, "'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 55));
	free(b);
	ax_array_free(&a);
	/* 0-d: shape (). */
	make_array(&a, AX_F64, 0, NULL);
	assert_int_equal(ax_npy_save(p, &a), AX_OK);
	b = tu_read_file(p, &n);
	assert_non_null(memmem(b, n, "'shape': (), }", 14));
	free(b);
	ax_array_free(&a);
}

static void write_stream(FILE *f, struct ax_array *arrs)
{
	make_array(&arrs[0], AX_F32, 2, dims(2, (int64_t)2, (int64_t)2));
	make_array(&arrs[1], AX_I32, 1, dims(1, (int64_t)7));
	make_array(&arrs[2], AX_U8, 0, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ax_npy_write(f, &arrs[i]), AX_OK);
}

static void read_stream(const char *p, struct ax_array *arrs)
{
	struct ax_reader *r;
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	for (int i = 0; i < 3; i++) {
		struct ax_array b;
		assert_int_equal(ax_npy_read(r, &b), AX_OK);
		assert_same_array(&arrs[i], &b);
		ax_array_free(&b);
	}
	struct ax_array b;
	assert_int_equal(ax_npy_read(r, &b), AX_ERR_EOF);
	assert_int_equal(ax_npy_read(r, &b), AX_ERR_EOF);
	ax_reader_close(r);
}

static void test_npy_stream(void **state)
{
	struct ax_array arrs[3];
	const char *p = tu_path("stream.npy");
	FILE *f = fopen(p, "wb");
	write_stream(f, arrs);
	fclose(f);
	read_stream(p, arrs);

	/* ax_npy_load takes the first array only. */
	struct ax_array b;
	assert_int_equal(ax_npy_load(p, &b), AX_OK);
	assert_same_array(&arrs[0], &b);
	ax_array_free(&b);

	/* Garbage after the last array is an error at its offset, not EOF. */
	f = fopen(p, "ab");
	fputs("junk", f);
	fclose(f);
	struct ax_reader *r;
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ax_npy_read(r, &b), AX_OK);
		ax_array_free(&b);
	}
	char at[64];
	snprintf(at, sizeof at, "at byte %zu (bad magic)", file_size(p) - 4);
	assert_int_equal(ax_npy_read(r, &b), AX_ERR_FORMAT);
	tu_assert_detail(at);
	ax_reader_close(r);
	for (int i = 0; i < 3; i++)
		ax_array_free(&arrs[i]);
}

static void test_npy_gzip_stream(void **state)
{
	struct ax_array arrs[3];
	char *mem;
	size_t n;
	FILE *f = open_memstream(&mem, &n);
	write_stream(f, arrs);
	fclose(f);
	const char *p = gz_file("stream.npy.gz", mem, n);
	free(mem);
	read_stream(p, arrs);
	for (int i = 0; i < 3; i++)
		ax_array_free(&arrs[i]);
}

static void test_npy_versions_2_and_3(void **state)
{
	const char *dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n";
	int32_t data[2] = {-5, 77};
	for (int v = 2; v <= 3; v++) {
		unsigned char buf[256];
		size_t h = strlen(dict);
		memcpy(buf, "\x93NUMPY", 6);
		buf[6] = (unsigned char)v;
		buf[7] = 0;
		buf[8] = (unsigned char)h, buf[9] = 0, buf[10] = 0, buf[11] = 0;
		memcpy(buf + 12, dict, h);
		memcpy(buf + 12 + h, data, sizeof data);
		const char *p = tu_write_file("v.npy", buf, 12 + h + sizeof data);
		struct ax_array a;
		assert_int_equal(ax_npy_load(p, &a), AX_OK);
		assert_int_equal(a.dtype, AX_I32);
		assert_int_equal(a.ndim, 1);
		assert_int_equal(a.shape[0], 2);
		assert_memory_equal(a.data, data, sizeof data);
		ax_array_free(&a);
	}
	/* Version 4.0 does not exist (yet). */
	unsigned char buf[16] = "\x93NUMPY\x04\x00\x00\x00";
	assert_int_equal(load_status(tu_write_file("v4.npy", buf, 16)), AX_ERR_UNSUPPORTED);
	tu_assert_detail("version 4.0");
}

static void test_npy_header_variants_accepted(void **state)
{
	float one = 1;
	struct ax_array a;
	/* Key order, double quotes, no trailing comma, Python 2 longs, '=' order. */
	const char *ok[] = {
		"{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}",
		"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,)}   \n",
		"{'descr':'<f4','fortran_order':False,'shape':(1L,),}",
		"{'descr': '=f4', 'fortran_order': False, 'shape': (1, ), }",
	};
	for (size_t i = 0; i < AX_COUNTOF(ok); i++) {
		const char *p = npy_file("ok.npy", ok[i], &one, 4);
		if (ax_npy_load(p, &a) != AX_OK)
			fail_msg("rejected %s: %s", ok[i], ax_error_detail());
		assert_int_equal(a.dtype, AX_F32);
		assert_true(((float *)a.data)[0] == 1.0f);
		ax_array_free(&a);
	}
	/* Bool bytes are normalised to 0/1. */
	const unsigned char bools[3] = {0, 1, 7};
	const char *p = npy_file("b.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
				 bools, 3);
	assert_int_equal(ax_npy_load(p, &a), AX_OK);
	assert_int_equal(((uint8_t *)a.data)[2], 1);
	ax_array_free(&a);
}

static void test_npy_malformed(void **state)
{
	static const struct {
		const char *dict;
		enum ax_status st;
		const char *detail;
	} cases[] = {
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
		 AX_ERR_UNSUPPORTED, "fortran_order True"},
		{"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
		 AX_ERR_UNSUPPORTED, "big-endian"},
		{"{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }",
		 AX_ERR_UNSUPPORTED, "'<f2' is not supported"},
		{"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
		 AX_ERR_UNSUPPORTED, "structured"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2), }",
		 AX_ERR_UNSUPPORTED, "more than 8 dimensions"},
		{"{'descr': '<f4', 'fortran_order': False}", AX_ERR_FORMAT, "lacks"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
		 AX_ERR_FORMAT, "unknown or repeated key"},
		{"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
		 AX_ERR_FORMAT, "unknown or repeated key"},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", AX_ERR_FORMAT,
		 "True or False"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", AX_ERR_FORMAT,
		 "expected '('"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", AX_ERR_FORMAT,
		 "trailing comma"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", AX_ERR_FORMAT,
		 "non-negative integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", AX_ERR_FORMAT,
		 "expected ',' or ')'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
		 AX_ERR_FORMAT, "dimension too large"},
		{"{'descr': 3, 'fortran_order': False, 'shape': (2,), }", AX_ERR_FORMAT,
		 "quoted string"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", AX_ERR_FORMAT,
		 "after the dict"},
		{"{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", AX_ERR_FORMAT,
		 "expected ',' or '}'"},
		{"{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }", AX_ERR_FORMAT,
		 "expected ':'"},
		{"['descr', '<f4']", AX_ERR_FORMAT, "expected '{'"},
		{"", AX_ERR_FORMAT, "expected '{'"},
		/* shape product overflows size_t */
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
		 AX_ERR_FORMAT, "overflows"},
		/* huge but representable: must fail as truncated, not allocate 8 TB */
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
		 AX_ERR_FORMAT, "truncated"},
	};
	float data[2] = {1, 2};
	for (size_t i = 0; i < AX_COUNTOF(cases); i++) {
		const char *p = npy_file("bad.npy", cases[i].dict, data, sizeof data);
		enum ax_status st = load_status(p);
		if (st != cases[i].st || !strstr(ax_error_detail(), cases[i].detail))
			fail_msg("case %zu (%s): status %d, detail \"%s\"; want %d, \"%s\"", i,
				 cases[i].dict, st, ax_error_detail(), cases[i].st, cases[i].detail);
		tu_assert_detail("bad.npy");   /* the file is named */
	}
}

static void test_npy_truncated_and_magic(void **state)
{
	struct ax_array a;
	make_array(&a, AX_F32, 2, dims(2, (int64_t)3, (int64_t)4));
	const char *p = tu_path("full.npy");
	assert_int_equal(ax_npy_save(p, &a), AX_OK);
	ax_array_free(&a);
	size_t n;
	char *b = tu_read_file(p, &n);
	/* Every proper prefix fails cleanly with a message naming the file. */
	for (size_t cut = 1; cut < n; cut++) {
		const char *q = tu_write_file("cut.npy", b, cut);
		assert_int_equal(load_status(q), AX_ERR_FORMAT);
		tu_assert_detail("cut.npy: ");
	}
	tu_assert_detail("truncated at byte 175");   /* the last cut: 1 data byte short */
	const char *q = tu_write_file("cut.npy", b, 9);
	assert_int_equal(load_status(q), AX_ERR_FORMAT);
	q = tu_write_file("cut.npy", b, 60);
	assert_int_equal(load_status(q), AX_ERR_FORMAT);
	tu_assert_detail("truncated at byte 60");
	/* Bad magic. */
	b[1] = 'X';
	q = tu_write_file("magic.npy", b, n);
	assert_int_equal(load_status(q), AX_ERR_FORMAT);
	tu_assert_detail("magic.npy: not an NPY array at byte 0 (bad magic)");
	free(b);
	/* Empty file. */
	q = tu_write_file("empty.npy", "", 0);
	assert_int_equal(load_status(q), AX_ERR_FORMAT);
	tu_assert_detail("empty");
	/* Implausible header length (version 2, 4 GB). */
	q = tu_write_file("hlen.npy", "\x93NUMPY\x02\x00\xff\xff\xff\xff{", 13);
	assert_int_equal(load_status(q), AX_ERR_FORMAT);
	tu_assert_detail("header length 4294967295");
}

/* ---- outfile ---- */

static int count_tmp_files(void)
{
	DIR *d = opendir(tu_tmpdir());
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void test_outfile(void **state)
{
	const char *p = tu_path("out.txt");
	struct ax_outfile o;
	unlink(p);
	/* Abort: no file at all. */
	assert_int_equal(ax_outfile_open(&o, p), AX_OK);
	fputs("partial", o.f);
	assert_int_equal(access(p, F_OK), -1);   /* nothing visible while writing */
	ax_outfile_abort(&o);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(count_tmp_files(), 0);
	/* Commit. */
	assert_int_equal(ax_outfile_open(&o, p), AX_OK);
	fputs("first", o.f);
	assert_int_equal(ax_outfile_commit(&o), AX_OK);
	size_t n;
	char *b = tu_read_file(p, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(b, "first", 5);
	free(b);
	/* Abort over an existing file leaves it untouched. */
	assert_int_equal(ax_outfile_open(&o, p), AX_OK);
	fputs("second, longer", o.f);
	ax_outfile_abort(&o);
	b = tu_read_file(p, &n);
	assert_memory_equal(b, "first", 5);
	assert_int_equal(n, 5);
	free(b);
	/* Commit over an existing file replaces it. */
	assert_int_equal(ax_outfile_open(&o, p), AX_OK);
	fputs("second", o.f);
	assert_int_equal(ax_outfile_commit(&o), AX_OK);
	b = tu_read_file(p, &n);
	assert_memory_equal(b, "second", 6);
	free(b);
	assert_int_equal(count_tmp_files(), 0);
	/* A folder that does not exist. */
	assert_int_equal(ax_outfile_open(&o, tu_path("no/such/dir/x.npy")), AX_ERR_IO);
	tu_assert_detail("x.npy");
	/* "-" is stdout. */
	assert_int_equal(ax_outfile_open(&o, "-"), AX_OK);
	assert_ptr_equal(o.f, stdout);
	assert_int_equal(ax_outfile_commit(&o), AX_OK);
}

/* A FIFO as the target is written in place (a child reads it), not replaced
 * by a regular file. */
static void test_outfile_fifo(void **state)
{
	const char *f = tu_path("fifo");
	char got[64] = "";
	assert_int_equal(mkfifo(f, 0600), 0);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {   /* child: copy the FIFO into the pipe */
		FILE *in = fopen(f, "rb");
		size_t n = in ? fread(got, 1, sizeof got - 1, in) : 0;
		_exit(write(pipefd[1], got, n) == (ssize_t)n ? 0 : 1);
	}
	close(pipefd[1]);
	struct ax_outfile o;
	assert_int_equal(ax_outfile_open(&o, f), AX_OK);
	assert_null(o.tmp);
	fputs("through the fifo", o.f);
	assert_int_equal(ax_outfile_commit(&o), AX_OK);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	ssize_t n = read(pipefd[0], got, sizeof got - 1);
	close(pipefd[0]);
	assert_int_equal(n, 16);
	assert_memory_equal(got, "through the fifo", 16);
	struct stat sb;
	assert_int_equal(stat(f, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(count_tmp_files(), 0);
	unlink(f);
}

/* Temp files of the same target left by a dead process go; a live
 * process's and another target's stay. */
static void test_outfile_stale_temps(void **state)
{
	pid_t dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	char stale[64], live[64], other[64];
	snprintf(stale, sizeof stale, "st.png.tmp.%ld", (long)dead);
	snprintf(live, sizeof live, "st.png.tmp.%ld", (long)getppid());
	snprintf(other, sizeof other, "sx.png.tmp.%ld", (long)dead);
	char keep_live[4096], keep_other[4096], gone[4096];
	snprintf(gone, sizeof gone, "%s", tu_write_file(stale, "x", 1));
	snprintf(keep_live, sizeof keep_live, "%s", tu_write_file(live, "x", 1));
	snprintf(keep_other, sizeof keep_other, "%s", tu_write_file(other, "x", 1));
	struct ax_outfile o;
	assert_int_equal(ax_outfile_open(&o, tu_path("st.png")), AX_OK);
	assert_int_equal(ax_outfile_commit(&o), AX_OK);
	assert_int_equal(access(gone, F_OK), -1);
	assert_int_equal(access(keep_live, F_OK), 0);
	assert_int_equal(access(keep_other, F_OK), 0);
	unlink(keep_live);
	unlink(keep_other);
}

/* An input cannot be replaced by an output; a bundle can be by a bundle;
 * a file this process wrote can be read and written again. */
/* ax_input_map: a plain file mapped, gzip and empty files read, a mapped
 * input recorded as one (an output may not replace it). */
static void stem_is(const char *path, const char *cut, const char *want)
{
	char *got = ax_path_stem(path, cut);
	assert_string_equal(got, want);
	free(got);
}

static void test_path_stem(void **state)
{
	(void)state;
	stem_is("data/m1.safetensors", ".safetensors", "m1");
	stem_is("m1.safetensors", ".safetensors", "m1");
	stem_is("a/b.c/m1.x.safetensors", ".safetensors", "m1.x");
	stem_is("a/m1.npy", ".safetensors", "m1.npy");
	stem_is("a/.safetensors", ".safetensors", ".safetensors");
	stem_is("x/y/s3.v2.safetensors", ".", "s3");
	stem_is("x/.hidden", ".", ".hidden");
	stem_is("dir/", ".", "");
}

static void test_input_map(void **state)
{
	(void)state;
	struct ax_input in;
	const char *p = tu_write_file("mapped.txt", "abcdefghij", 10);
	assert_int_equal(ax_input_map(p, &in), AX_OK);
	assert_non_null(in.map);
	assert_null(in.buf);
	assert_int_equal(in.len, 10);
	assert_memory_equal(in.data, "abcdefghij", 10);
	ax_input_free(&in);
	assert_null(in.data);
	assert_int_equal(ax_file_use(p), AX_FILE_INPUT);
	struct ax_outfile o;
	assert_int_equal(ax_outfile_open(&o, p), AX_ERR_ARG);

	assert_int_equal(ax_input_map(gz_file("mapped.gz", "klmno", 5), &in), AX_OK);
	assert_null(in.map);
	assert_int_equal(in.len, 5);
	assert_memory_equal(in.data, "klmno", 5);
	ax_input_free(&in);

	assert_int_equal(ax_input_map(tu_write_file("empty.txt", "", 0), &in), AX_OK);
	assert_int_equal(in.len, 0);
	ax_input_free(&in);
	assert_int_equal(ax_input_map(tu_path("absent.txt"), &in), AX_ERR_IO);
	tu_assert_detail("absent.txt");
}

static void test_outfile_refuses_inputs(void **state)
{
	const char *in = tu_write_file("input.csv", "a,b\n1,2\n", 8);
	struct ax_table t;
	assert_int_equal(ax_table_load(in, &t), AX_OK);
	ax_table_free(&t);
	struct ax_outfile o;
	assert_int_equal(ax_outfile_open(&o, in), AX_ERR_ARG);
	tu_assert_detail("input.csv: is also an input");
	assert_int_equal(ax_outfile_open_bundle(&o, in), AX_ERR_ARG);
	size_t n;
	char *b = tu_read_file(in, &n);
	assert_int_equal(n, 8);
	free(b);
	/* a bundle read from a file may be saved over it, nothing else may */
	struct ax_bundle bu;
	ax_bundle_init(&bu);
	ax_bundle_set_meta(&bu, "k", "v");
	const char *bp = tu_write_file("read.st", "\x02\0\0\0\0\0\0\0{}", 10);
	struct ax_bundle rd;
	assert_int_equal(ax_bundle_load(bp, &rd), AX_OK);
	ax_bundle_free(&rd);
	assert_int_equal(ax_outfile_open(&o, bp), AX_ERR_ARG);
	assert_int_equal(ax_bundle_save(bp, &bu), AX_OK);
	/* written here: loading it back and writing it again is fine */
	const char *own = tu_path("own.st");
	assert_int_equal(ax_bundle_save(own, &bu), AX_OK);
	assert_int_equal(ax_bundle_load(own, &rd), AX_OK);
	ax_bundle_free(&rd);
	assert_int_equal(ax_outfile_open(&o, own), AX_OK);
	ax_outfile_abort(&o);
	ax_bundle_free(&bu);
}

/* No stream yields more than its limit: an endless device ends with a message. */
static void test_reader_limit(void **state)
{
	struct ax_reader *r;
	char *all;
	size_t len;
	void *buf;
	char b[8];
	assert_int_equal(ax_reader_open(&r, "/dev/zero"), AX_OK);
	ax_reader_set_limit(r, 100000);
	assert_int_equal(ax_reader_read_rest(r, &all, &len), AX_ERR_UNSUPPORTED);
	tu_assert_detail("/dev/zero: input longer than 100000 bytes, the limit");
	ax_reader_close(r);
	assert_int_equal(ax_reader_open(&r, "/dev/zero"), AX_OK);
	ax_reader_set_limit(r, 10);
	assert_int_equal(ax_reader_read(r, b, 8), AX_OK);
	assert_int_equal(ax_reader_read_alloc(r, 3, &buf), AX_ERR_UNSUPPORTED);
	ax_reader_close(r);
	/* exactly at the limit is fine */
	const char *p = tu_write_file("ten.txt", "0123456789", 10);
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	ax_reader_set_limit(r, 10);
	assert_int_equal(ax_reader_read_rest(r, &all, &len), AX_OK);
	assert_int_equal(len, 10);
	free(all);
	ax_reader_close(r);
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	ax_reader_set_limit(r, 10);
	assert_int_equal(ax_reader_read_alloc(r, 10, &buf), AX_OK);
	free(buf);
	ax_reader_close(r);
}

static void test_npy_save_failure_keeps_old_file(void **state)
{
	struct ax_array a;
	make_array(&a, AX_F32, 1, dims(1, (int64_t)4));
	const char *p = tu_path("keep.npy");
	assert_int_equal(ax_npy_save(p, &a), AX_OK);
	ax_array_free(&a);
	/* Saving into a missing folder fails and names the path. */
	make_array(&a, AX_F32, 1, dims(1, (int64_t)4));
	assert_int_equal(ax_npy_save(tu_path("nodir/keep.npy"), &a), AX_ERR_IO);
	ax_array_free(&a);
	struct ax_array b;
	assert_int_equal(ax_npy_load(p, &b), AX_OK);
	assert_int_equal(b.shape[0], 4);
	ax_array_free(&b);
}

/* ---- IDX ---- */

static size_t idx_header(unsigned char *b, int type, int ndim, const uint32_t *d)
{
	b[0] = b[1] = 0;
	b[2] = (unsigned char)type;
	b[3] = (unsigned char)ndim;
	for (int i = 0; i < ndim; i++) {
		b[4 + 4 * i] = (unsigned char)(d[i] >> 24);
		b[5 + 4 * i] = (unsigned char)(d[i] >> 16);
		b[6 + 4 * i] = (unsigned char)(d[i] >> 8);
		b[7 + 4 * i] = (unsigned char)d[i];
	}
	return 4 + 4 * (size_t)ndim;
}

static void test_idx_types(void **state)
{
	unsigned char b[256];
	struct ax_array a;
	const uint32_t d23[2] = {2, 3};

	size_t h = idx_header(b, 0x08, 2, d23);
	for (int i = 0; i < 6; i++)
		b[h + i] = (unsigned char)(250 + i % 6);
	assert_int_equal(ax_idx_load(tu_write_file("u8.idx", b, h + 6), &a), AX_OK);
	assert_int_equal(a.dtype, AX_U8);
	assert_int_equal(a.ndim, 2);
	assert_int_equal(a.shape[0], 2);
	assert_int_equal(a.shape[1], 3);
	assert_int_equal(((uint8_t *)a.data)[5], 255);
	ax_array_free(&a);

	/* Signed integers of 1, 2 and 4 bytes (big-endian) widen to int32. */
	static const struct {
		int type;
		size_t esize;
		const char *raw;
		int32_t want[3];
	} ints[] = {
		{0x09, 1, "\xff\x7f\x80", {-1, 127, -128}},
		{0x0B, 2, "\xff\xfe\x01\x02\x80\x00", {-2, 258, -32768}},
		{0x0C, 4, "\xff\xff\xff\xfe\x01\x02\x03\x04\x80\x00\x00\x00",
		 {-2, 0x01020304, INT32_MIN}},
	};
	const uint32_t d3[1] = {3};
	for (size_t k = 0; k < AX_COUNTOF(ints); k++) {
		h = idx_header(b, ints[k].type, 1, d3);
		memcpy(b + h, ints[k].raw, 3 * ints[k].esize);
		assert_int_equal(ax_idx_load(tu_write_file("int.idx", b, h + 3 * ints[k].esize), &a),
				 AX_OK);
		assert_int_equal(a.dtype, AX_I32);
		assert_int_equal(a.ndim, 1);
		assert_int_equal(a.shape[0], 3);
		assert_memory_equal(a.data, ints[k].want, sizeof ints[k].want);
		ax_array_free(&a);
	}

	const uint32_t d2[1] = {2};
	h = idx_header(b, 0x0D, 1, d2);
	memcpy(b + h, "\x3f\xc0\x00\x00\xc1\x20\x00\x00", 8);   /* 1.5, -10 */
	assert_int_equal(ax_idx_load(tu_write_file("f32.idx", b, h + 8), &a), AX_OK);
	assert_int_equal(a.dtype, AX_F32);
	float wf[2] = {1.5f, -10.0f};
	tu_assert_close(a.data, wf, 2, 0, 0, "idx f32");
	ax_array_free(&a);

	h = idx_header(b, 0x0E, 1, d2);
	memcpy(b + h, "\x3f\xf8\x00\x00\x00\x00\x00\x00\xc0\x24\x00\x00\x00\x00\x00\x00", 16);
	assert_int_equal(ax_idx_load(tu_write_file("f64.idx", b, h + 16), &a), AX_OK);
	assert_int_equal(a.dtype, AX_F64);
	assert_true(((double *)a.data)[0] == 1.5 && ((double *)a.data)[1] == -10.0);
	ax_array_free(&a);

	/* Gzip-compressed, like the MNIST downloads. */
	h = idx_header(b, 0x08, 1, d3);
	memcpy(b + h, "\x01\x02\x03", 3);
	assert_int_equal(ax_idx_load(gz_file("u8.idx.gz", b, h + 3), &a), AX_OK);
	assert_memory_equal(a.data, "\x01\x02\x03", 3);
	ax_array_free(&a);
}

static void test_idx_malformed(void **state)
{
	unsigned char b[256];
	struct ax_array a;
	const uint32_t d23[2] = {2, 3};
	size_t h = idx_header(b, 0x08, 2, d23);
	memset(b + h, 1, 7);
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h + 5), &a), AX_ERR_FORMAT);
	tu_assert_detail("t.idx: truncated");
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, 6), &a), AX_ERR_FORMAT);
	tu_assert_detail("t.idx: truncated at byte 6");
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, 0), &a), AX_ERR_FORMAT);
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h + 7), &a), AX_ERR_FORMAT);
	tu_assert_detail("unexpected bytes after the IDX data at byte 18");
	b[2] = 0x0A;
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h + 6), &a), AX_ERR_FORMAT);
	tu_assert_detail("element type 0x0a");
	b[2] = 0x08;
	b[0] = 1;
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h + 6), &a), AX_ERR_FORMAT);
	tu_assert_detail("bad magic");
	b[0] = 0;
	b[3] = 9;
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, 64), &a), AX_ERR_UNSUPPORTED);
	/* Dimensions whose product overflows, and a huge one with no data. */
	const uint32_t big[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};
	h = idx_header(b, 0x0E, 4, big);
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h), &a), AX_ERR_FORMAT);
	tu_assert_detail("overflow");
	const uint32_t wide[2] = {0xffffffff, 0x10000};   /* 2^48 floats: 1 PB */
	h = idx_header(b, 0x0D, 2, wide);
	assert_int_equal(ax_idx_load(tu_write_file("t.idx", b, h + 4), &a), AX_ERR_FORMAT);
	tu_assert_detail("truncated");
}

static void test_idx_fashion_mnist(void **state)
{
	const char *p = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
	if (access(p, R_OK) != 0)
		skip();
	struct ax_array a;
	assert_int_equal(ax_idx_load(p, &a), AX_OK);
	assert_int_equal(a.dtype, AX_U8);
	assert_int_equal(a.ndim, 1);
	assert_int_equal(a.shape[0], 10000);
	int hist[10] = {0};
	for (size_t i = 0; i < 10000; i++) {
		uint8_t v = ((uint8_t *)a.data)[i];
		assert_true(v <= 9);
		hist[v]++;
	}
	for (int k = 0; k < 10; k++)
		assert_int_equal(hist[k], 1000);   /* the test set is balanced */
	ax_array_free(&a);
	p = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
	if (access(p, R_OK) == 0) {
		assert_int_equal(ax_idx_load(p, &a), AX_OK);
		assert_int_equal(a.ndim, 3);
		assert_int_equal(a.shape[0], 10000);
		assert_int_equal(a.shape[1], 28);
		assert_int_equal(a.shape[2], 28);
		ax_array_free(&a);
	}
}

/* The writers' bytes equal the committed fixtures that tests/cmd/ax-info.sh
 * loads with numpy; AXON_REGEN=1 rewrites the fixtures instead. */
static void check_fixture(const char *tmp, const char *ref)
{
	size_t n, m;
	char *got = tu_read_file(tmp, &n);
	if (getenv("AXON_REGEN")) {
		FILE *f = fopen(ref, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(got, 1, n, f), n);
		fclose(f);
	}
	char *want = tu_read_file(ref, &m);
	assert_int_equal(n, m);
	assert_memory_equal(got, want, n);
	free(got);
	free(want);
}

static void test_writers_match_fixtures(void **state)
{
	const float w[6] = {0.5f, -1, 2, 3, 4, 0.001f};
	const int64_t s23[2] = {2, 3}, s2[1] = {2}, n = -7;
	const uint8_t m[2] = {1, 0};
	struct ax_array a;
	assert_int_equal(ax_array_alloc(&a, AX_F32, 2, s23), AX_OK);
	memcpy(a.data, w, sizeof w);
	assert_int_equal(ax_npy_save(tu_path("axon.npy"), &a), AX_OK);
	ax_array_free(&a);
	check_fixture(tu_path("axon.npy"), tu_ref("io/axon.npy"));

	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_bundle_add_f32(&b, "w", 2, s23, w);
	ax_bundle_add(&b, "n", AX_I64, 0, NULL, &n);
	ax_bundle_add(&b, "m", AX_BOOL, 1, s2, m);
	ax_bundle_set_meta(&b, "note", "made by axon");
	ax_bundle_set_meta(&b, "config", "{\"d\": 8}");
	assert_int_equal(ax_bundle_save(tu_path("axon.safetensors"), &b), AX_OK);
	ax_bundle_free(&b);
	check_fixture(tu_path("axon.safetensors"), tu_ref("io/axon.safetensors"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dtypes),
		cmocka_unit_test(test_array_alloc_get_convert),
		cmocka_unit_test(test_shape_bytes),
		cmocka_unit_test(test_shape_fmt),
		cmocka_unit_test(test_reader_basics),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_reader_gzip),
		cmocka_unit_test(test_npy_roundtrip_all_dtypes),
		cmocka_unit_test(test_npy_header_matches_numpy),
		cmocka_unit_test(test_npy_stream),
		cmocka_unit_test(test_npy_gzip_stream),
		cmocka_unit_test(test_npy_versions_2_and_3),
		cmocka_unit_test(test_npy_header_variants_accepted),
		cmocka_unit_test(test_npy_malformed),
		cmocka_unit_test(test_npy_truncated_and_magic),
		cmocka_unit_test(test_outfile),
		cmocka_unit_test(test_npy_save_failure_keeps_old_file),
		cmocka_unit_test(test_idx_types),
		cmocka_unit_test(test_idx_malformed),
		cmocka_unit_test(test_idx_fashion_mnist),
		cmocka_unit_test(test_writers_match_fixtures),
		cmocka_unit_test(test_outfile_fifo),
		cmocka_unit_test(test_outfile_stale_temps),
		cmocka_unit_test(test_outfile_refuses_inputs),
		cmocka_unit_test(test_path_stem),
		cmocka_unit_test(test_input_map),
		cmocka_unit_test(test_reader_limit),
	};
	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
