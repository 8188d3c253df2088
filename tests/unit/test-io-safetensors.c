/* test-io-safetensors.c — bundles: round trips, layout, strict header parsing. */
#include "testutil.h"
#include "ax_io.h"

#include <math.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* A safetensors file from a JSON header and data bytes; hlen overrides the
 * length field unless it is (uint64_t)-1. */
static const char *st_file_len(const char *name, const char *json, uint64_t hlen,
			       const void *data, size_t n)
{
	size_t j = strlen(json);
	unsigned char *b = malloc(8 + j + n);
	if (hlen == (uint64_t)-1)
		hlen = j;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(hlen >> (8 * i));
	memcpy(b + 8, json, j);
	memcpy(b + 8 + j, data, n);
	const char *p = tu_write_file(name, b, 8 + j + n);
	free(b);
	return p;
}

static const char *st_file(const char *name, const char *json, const void *data, size_t n)
{
	return st_file_len(name, json, (uint64_t)-1, data, n);
}

/* The status of loading path; mapping it (ax_bundle_map) must give the
 * same status and detail. */
static enum ax_status load_status(const char *path)
{
	struct ax_bundle b;
	enum ax_status st = ax_bundle_load(path, &b);
	if (st == AX_OK)
		ax_bundle_free(&b);
	else
		assert_int_equal(b.n, 0);   /* a failed load leaves an empty bundle */
	char detail[1024];
	snprintf(detail, sizeof detail, "%s", st ? ax_error_detail() : "");
	enum ax_status mst = ax_bundle_map(path, &b);
	if (mst != st || (st && strcmp(detail, ax_error_detail())))
		fail_msg("mapping %s: status %d \"%s\"; loading it: %d \"%s\"", path, mst,
			 ax_error_detail(), st, detail);
	if (mst == AX_OK)
		ax_bundle_free(&b);
	else
		assert_true(b.n == 0 && !b.file.map);
	return st;
}

static void fill_bundle(struct ax_bundle *b)
{
	float w[6] = {1, -2, 3.5f, 0, 1e-30f, -1e30f};
	double d[2] = {M_PI, -0.0};
	int32_t i32[3] = {INT32_MIN, 0, INT32_MAX};
	int64_t i64 = INT64_MIN;
	uint8_t u8[4] = {0, 1, 128, 255};
	uint8_t bl[2] = {1, 0};
	const int64_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3}, s4[2] = {2, 2},
		      s0[2] = {0, 5};
	ax_bundle_init(b);
	ax_bundle_add_f32(b, "layer.0.weight", 2, s23, w);
	ax_bundle_add(b, "d", AX_F64, 1, s2, d);
	ax_bundle_add(b, "i32", AX_I32, 1, s3, i32);
	ax_bundle_add(b, "step", AX_I64, 0, NULL, &i64);   /* scalar */
	ax_bundle_add(b, "u8", AX_U8, 2, s4, u8);
	ax_bundle_add(b, "mask", AX_BOOL, 1, s2, bl);
	ax_bundle_add(b, "empty", AX_F32, 2, s0, NULL);
	ax_bundle_set_meta(b, "format", "pt");
	ax_bundle_set_meta(b, "config", "{\"d\": 64,\n\t\"name\": \"a\\\\b\"} \xc3\xa9");
	ax_bundle_set_meta(b, "format", "axon");   /* replaces */
}

/* The bytes of fill_bundle() saved to a file (malloc'd, *n of them). */
static char *saved_bundle(const char *name, size_t *n)
{
	struct ax_bundle a;
	fill_bundle(&a);
	const char *p = tu_path(name);
	assert_int_equal(ax_bundle_save(p, &a), AX_OK);
	ax_bundle_free(&a);
	return tu_read_file(p, n);
}

/* fill_bundle() saved gzip-compressed as name; its path. */
static const char *saved_bundle_gz(const char *name)
{
	size_t n;
	char *raw = saved_bundle("plain.safetensors", &n);
	const char *gz = tu_path(name);
	gzFile g = gzopen(gz, "wb");
	assert_int_equal(gzwrite(g, raw, (unsigned)n), (int)n);
	gzclose(g);
	free(raw);
	return gz;
}

static void test_bundle_roundtrip(void **state)
{
	struct ax_bundle a, b;
	fill_bundle(&a);
	assert_int_equal(a.nmeta, 2);
	assert_string_equal(ax_bundle_meta(&a, "format"), "axon");
	assert_null(ax_bundle_meta(&a, "nope"));
	const char *p = tu_path("b.safetensors");
	assert_int_equal(ax_bundle_save(p, &a), AX_OK);
	assert_int_equal(ax_bundle_load(p, &b), AX_OK);
	assert_int_equal(b.n, a.n);
	for (int i = 0; i < a.n; i++) {
		const struct ax_array *x = &a.entries[i].array, *y = &b.entries[i].array;
		assert_string_equal(a.entries[i].name, b.entries[i].name);   /* file order */
		assert_int_equal(x->dtype, y->dtype);
		assert_int_equal(x->ndim, y->ndim);
		for (int d = 0; d < x->ndim; d++)
			assert_int_equal(x->shape[d], y->shape[d]);
		assert_memory_equal(x->data, y->data, ax_array_bytes(x));
	}
	assert_int_equal(b.nmeta, 2);
	for (int i = 0; i < a.nmeta; i++)
		assert_string_equal(ax_bundle_meta(&b, a.meta_keys[i]), a.meta_values[i]);
	ax_bundle_free(&b);
	ax_bundle_free(&a);
	assert_int_equal(a.n, 0);
}

static void test_bundle_layout(void **state)
{
	size_t n;
	char *f = saved_bundle("layout.safetensors", &n);
	uint64_t h = 0;
	for (int i = 7; i >= 0; i--)
		h = h << 8 | (unsigned char)f[i];
	assert_int_equal(h % 8, 0);   /* data section 8-byte aligned */
	assert_true(h < n);
	assert_int_equal(f[8], '{');
	size_t end = 8 + h;
	while (f[end - 1] == ' ')
		end--;
	assert_int_equal(f[end - 1], '}');
	f[end] = 0;
	assert_non_null(strstr(f + 8, "\"layer.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],"
				      "\"data_offsets\":[0,24]}"));
	assert_non_null(strstr(f + 8, "\"step\":{\"dtype\":\"I64\",\"shape\":[],"));
	assert_non_null(strstr(f + 8, "\"__metadata__\":{\"format\":\"axon\",\"config\":"
				      "\"{\\\"d\\\": 64,\\u000a\\u0009"));
	/* data: 24 + 16 + 12 + 8 + 4 + 2 + 0 bytes after the header */
	assert_int_equal(n, 8 + h + 66);
	float first;
	memcpy(&first, f + 8 + h, 4);
	assert_true(first == 1.0f);
	free(f);
}

static void test_bundle_get(void **state)
{
	struct ax_bundle a;
	const struct ax_array *x;
	fill_bundle(&a);
	const int64_t ok[2] = {2, 3}, any[2] = {-1, 3}, bad[2] = {3, 2};
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F32, 2, ok, &x), AX_OK);
	assert_int_equal(x->shape[1], 3);
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F32, 2, any, &x), AX_OK);
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F32, 2, NULL, &x), AX_OK);
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F32, 2, bad, &x), AX_ERR_FORMAT);
	assert_null(x);
	tu_assert_detail("expected float32 (3, 2), found float32 (2, 3)");
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F64, 2, ok, &x), AX_ERR_FORMAT);
	assert_int_equal(ax_bundle_get(&a, "layer.0.weight", AX_F32, 1, NULL, &x), AX_ERR_FORMAT);
	assert_int_equal(ax_bundle_get(&a, "nope", AX_F32, 1, NULL, &x), AX_ERR_NOTFOUND);
	tu_assert_detail("'nope'");
	assert_non_null(ax_bundle_find(&a, "step"));
	assert_null(ax_bundle_find(&a, "layer.0"));
	ax_bundle_free(&a);
}

static void test_bundle_empty_and_gzip(void **state)
{
	struct ax_bundle a, b;
	ax_bundle_init(&a);
	const char *p = tu_path("empty.safetensors");
	assert_int_equal(ax_bundle_save(p, &a), AX_OK);
	assert_int_equal(ax_bundle_load(p, &b), AX_OK);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.nmeta, 0);
	ax_bundle_free(&b);

	fill_bundle(&a);
	const char *gz = saved_bundle_gz("b.safetensors.gz");
	assert_int_equal(ax_bundle_load(gz, &b), AX_OK);
	assert_int_equal(b.n, a.n);
	assert_string_equal(ax_bundle_meta(&b, "format"), "axon");
	ax_bundle_free(&b);
	ax_bundle_free(&a);
}

static void test_bundle_hand_written(void **state)
{
	/* What other writers produce: spaces, escapes, unknown keys, null metadata. */
	const char *json = " { \"__metadata__\" : null , \"w\\u00e9\\ud83d\\ude00\\n\" : "
			   "{ \"shape\" : [ 2 ] , \"extra\": [1.5e3, {\"a\": [true, false, null]}],"
			   " \"data_offsets\" : [ 8 , 16 ] , \"dtype\" : \"F32\" } ,"
			   " \"z\": {\"dtype\": \"U8\", \"shape\": [0, 4], \"data_offsets\": [0, 0]}"
			   "}   ";
	float data[4] = {9, 9, 1.25f, -4};
	struct ax_bundle b;
	assert_int_equal(ax_bundle_load(st_file("hand.st", json, data, sizeof data), &b), AX_OK);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.nmeta, 0);
	assert_string_equal(b.entries[0].name, "w\xc3\xa9\xf0\x9f\x98\x80\n");
	const float *w = b.entries[0].array.data;
	assert_true(w[0] == 1.25f && w[1] == -4.0f);
	assert_int_equal(b.entries[1].array.shape[1], 4);
	ax_bundle_free(&b);
}

static void test_bundle_malformed(void **state)
{
	static const struct {
		const char *json;
		enum ax_status st;
		const char *detail;
	} cases[] = {
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,100]}}",
		 AX_ERR_FORMAT, "outside the data section (8 bytes)"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
		 AX_ERR_FORMAT, "outside"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
		 AX_ERR_FORMAT, "span 4 bytes, but float32 of that shape needs 8"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551615,"
		 "18446744073709551615]}}", AX_ERR_FORMAT, "outside"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
		 "\"data_offsets\":[0,8]}}", AX_ERR_FORMAT, "shape overflows"},
		{"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
		 AX_ERR_UNSUPPORTED, "dtype 'F16'"},
		{"{\"a\":{\"dtype\":1,\"shape\":[2],\"data_offsets\":[0,8]}}", AX_ERR_FORMAT,
		 "expected a string"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", AX_ERR_FORMAT, "lacks"},
		{"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
		 AX_ERR_FORMAT, "repeated key"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
		 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", AX_ERR_FORMAT,
		 "'a' appears twice"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", AX_ERR_FORMAT,
		 "non-negative integer"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", AX_ERR_FORMAT,
		 "non-negative integer"},
		{"{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
		 AX_ERR_UNSUPPORTED, "more than 8"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", AX_ERR_FORMAT,
		 "exactly two"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", AX_ERR_FORMAT,
		 "two integers"},
		{"{\"a\":[]}", AX_ERR_FORMAT, "expected '{' for a tensor entry"},
		{"{\"a\":{}}", AX_ERR_FORMAT, "empty tensor entry"},
		{"{\"__metadata__\":{\"k\":1}}", AX_ERR_FORMAT, "values must be strings"},
		{"{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", AX_ERR_FORMAT, "repeated key"},
		{"{\"__metadata__\":{},\"__metadata__\":{}}", AX_ERR_FORMAT, "repeated __metadata__"},
		{"{\"__metadata__\":[]}", AX_ERR_FORMAT, "object of strings"},
		/* JSON grammar */
		{"", AX_ERR_FORMAT, "at byte 8: expected '{'"},
		{"[]", AX_ERR_FORMAT, "expected '{'"},
		{"{\"a\" {}}", AX_ERR_FORMAT, "expected ':'"},
		{"{\"__metadata__\":{},}", AX_ERR_FORMAT, "expected a string"},
		{"{\"__metadata__\":{\"k\":\"v}}", AX_ERR_FORMAT, "unterminated string"},
		{"{\"__metadata__\":{\"k\":\"\\x\"}}", AX_ERR_FORMAT, "bad escape"},
		{"{\"__metadata__\":{\"k\":\"\\u12\"}}", AX_ERR_FORMAT, "bad escape"},
		{"{\"__metadata__\":{\"k\":\"a\tb\"}}", AX_ERR_FORMAT, "control character"},
		{"{\"__metadata__\":{\"k\":\"\\ud800x\"}}", AX_ERR_FORMAT, "unpaired surrogate"},
		{"{\"__metadata__\":{\"k\":\"\\udc00\"}}", AX_ERR_FORMAT, "unpaired surrogate"},
		{"{\"__metadata__\":{\"k\":\"\\u0000\"}}", AX_ERR_FORMAT, "NUL in string"},
		{"{\"__metadata__\":{\"k\":\"v\\", AX_ERR_FORMAT, "unterminated string"},
		{"{\"a\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", AX_ERR_FORMAT,
		 "expected ',' or ']'"},
		{"{\"a\":{\"x\":1.,\"dtype\":\"U8\"}}", AX_ERR_FORMAT, "digit expected after '.'"},
		{"{\"a\":{\"x\":1e,\"dtype\":\"U8\"}}", AX_ERR_FORMAT, "digit expected in exponent"},
		{"{\"a\":{\"x\":-,\"dtype\":\"U8\"}}", AX_ERR_FORMAT, "expected a number"},
		{"{\"a\":{\"x\":tru,\"dtype\":\"U8\"}}", AX_ERR_FORMAT, "expected a number"},
		{"{\"a\":{\"x\":[1,2,,\"dtype\":\"U8\"}}", AX_ERR_FORMAT, "expected a number"},
		{"{\"a\":{\"x\":{\"q\" 1}}}", AX_ERR_FORMAT, "expected ':'"},
		/* names must be UTF-8: a stray continuation byte, an overlong '/', a surrogate */
		{"{\"a\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
		 AX_ERR_FORMAT, "at byte 11: invalid UTF-8"},
		{"{\"\xc0\xaf\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
		 AX_ERR_FORMAT, "invalid UTF-8"},
		{"{\"__metadata__\":{\"k\":\"\xed\xa0\x80\"}}", AX_ERR_FORMAT, "invalid UTF-8"},
		{"{\"\xf4\x90\x80\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
		 AX_ERR_FORMAT, "invalid UTF-8"},
		/* overlapping data (which would let a small file ask for much memory) */
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", AX_ERR_FORMAT,
		 "tensors 'a' and 'b' overlap"},
		{"{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
		 "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", AX_ERR_FORMAT,
		 "overlap"},
		{"{} x", AX_ERR_FORMAT, "text after the header object"},
		{"{}{}", AX_ERR_FORMAT, "text after the header object"},
		{"{\"a\":{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		 "[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		 "]]]]]]]]]]]]]]]]]]]]]}}}", AX_ERR_FORMAT, "nesting too deep"},
	};
	float data[2] = {1, 2};
	for (size_t i = 0; i < AX_COUNTOF(cases); i++) {
		const char *p = st_file("bad.safetensors", cases[i].json, data, sizeof data);
		enum ax_status st = load_status(p);
		if (st != cases[i].st || !strstr(ax_error_detail(), cases[i].detail))
			fail_msg("case %zu (%s): status %d, detail \"%s\"; want %d, \"%s\"", i,
				 cases[i].json, st, ax_error_detail(), cases[i].st, cases[i].detail);
		tu_assert_detail("bad.safetensors: ");
	}
}

/* Valid UTF-8 names and holes in the data pass; empty tensors may sit anywhere. */
static void test_bundle_utf8_holes(void **state)
{
	const char *json = "{\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\":{\"dtype\":\"U8\","
			   "\"shape\":[2],\"data_offsets\":[0,2]},\"e\":{\"dtype\":\"F32\","
			   "\"shape\":[0],\"data_offsets\":[1,1]},\"b\":{\"dtype\":\"U8\","
			   "\"shape\":[2],\"data_offsets\":[4,6]}}";
	struct ax_bundle b;
	assert_int_equal(ax_bundle_load(st_file("u.st", json, "\1\2\0\0\5\6\0\0", 8), &b),
			 AX_OK);
	const struct ax_array *a = ax_bundle_find(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_non_null(a);
	assert_int_equal(((uint8_t *)ax_bundle_find(&b, "b")->data)[1], 6);
	assert_int_equal(ax_array_count(ax_bundle_find(&b, "e")), 0);
	ax_bundle_free(&b);
}

/* Thousands of names: each found, in order, through the index; the same
 * after a save and load. */
static void test_bundle_many_names(void **state)
{
	struct ax_bundle b, c;
	ax_bundle_init(&b);
	char name[32];
	int64_t shape[1] = {1};
	for (int i = 0; i < 5000; i++) {
		float v = (float)i;
		snprintf(name, sizeof name, "layer.%d.w", i);
		ax_bundle_add_f32(&b, name, 1, shape, &v);
		snprintf(name, sizeof name, "k%d", i % 700);
		ax_bundle_set_meta(&b, name, name + 1);
	}
	assert_int_equal(b.n, 5000);
	assert_int_equal(b.nmeta, 700);
	const char *p = tu_path("many.safetensors");
	assert_int_equal(ax_bundle_save(p, &b), AX_OK);
	assert_int_equal(ax_bundle_load(p, &c), AX_OK);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "layer.%d.w", i);
		const struct ax_array *a = ax_bundle_find(&c, name);
		assert_non_null(a);
		assert_true(*(float *)a->data == (float)i);
		assert_string_equal(c.entries[i].name, name);
	}
	assert_null(ax_bundle_find(&c, "layer.5000.w"));
	assert_string_equal(ax_bundle_meta(&c, "k699"), "699");
	assert_null(ax_bundle_meta(&c, "k700"));
	struct ax_array dup = {0};
	assert_int_equal(ax_bundle_adopt(&c, (char *)"layer.17.w", &dup), -1);
	ax_bundle_free(&b);
	ax_bundle_free(&c);
}

static void test_bundle_header_length(void **state)
{
	const char *json = "{}";
	assert_int_equal(load_status(st_file_len("h.st", json, (uint64_t)1 << 40, "", 0)),
			 AX_ERR_FORMAT);
	tu_assert_detail("header length 1099511627776 is implausible");
	assert_int_equal(load_status(st_file_len("h.st", json, 100000000, "", 0)), AX_ERR_FORMAT);
	tu_assert_detail("implausible");
	assert_int_equal(load_status(st_file_len("h.st", json, 3, "", 0)), AX_ERR_FORMAT);
	tu_assert_detail("header length 3 exceeds the file (10 bytes)");
	assert_int_equal(load_status(tu_write_file("h.st", "\x02\0\0\0", 4)), AX_ERR_FORMAT);
	tu_assert_detail("too short");
	assert_int_equal(load_status(tu_write_file("h.st", "", 0)), AX_ERR_FORMAT);
	/* Every proper prefix of a real file fails cleanly. */
	size_t n;
	char *f = saved_bundle("full.safetensors", &n);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(load_status(tu_write_file("cut.st", f, cut)), AX_ERR_FORMAT);
	free(f);
	assert_int_equal(load_status(tu_path("missing.st")), AX_ERR_IO);
}

/* a and b hold the same names, dtypes, shapes, bytes and metadata. */
static void assert_same_bundle(const struct ax_bundle *a, const struct ax_bundle *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		const struct ax_array *x = &a->entries[i].array, *y = &b->entries[i].array;
		assert_string_equal(a->entries[i].name, b->entries[i].name);
		assert_int_equal(x->dtype, y->dtype);
		assert_int_equal(x->ndim, y->ndim);
		for (int d = 0; d < x->ndim; d++)
			assert_int_equal(x->shape[d], y->shape[d]);
		assert_memory_equal(x->data, y->data, ax_array_bytes(x));
	}
	assert_int_equal(a->nmeta, b->nmeta);
	for (int i = 0; i < a->nmeta; i++)
		assert_string_equal(ax_bundle_meta(b, a->meta_keys[i]), a->meta_values[i]);
}

static int is_mapped(const void *p, size_t n)
{
	unsigned char vec[4];
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), at = (uintptr_t)p / page * page;
	return mincore((void *)at, AX_MIN(n, 4 * page), vec) == 0;
}

/* A mapped bundle: the arrays, values and metadata of a loaded one, its
 * arrays (all but BOOL) inside the mapping; freeing it unmaps the file. */
static void test_bundle_map_same(void **state)
{
	struct ax_bundle a, b;
	size_t n;
	char *raw = saved_bundle("m.safetensors", &n);
	const char *p = tu_write_file("m2.safetensors", raw, n);   /* not written by axon */
	free(raw);
	assert_int_equal(ax_bundle_load(p, &a), AX_OK);
	assert_int_equal(ax_bundle_map(p, &b), AX_OK);
	assert_same_bundle(&a, &b);
	assert_non_null(b.file.map);
	assert_int_equal(b.file.len, n);
	const char *lo = b.file.map, *hi = lo + n;
	for (int i = 0; i < b.n; i++) {
		const struct ax_array *x = &b.entries[i].array;
		int inside = (const char *)x->data >= lo && (const char *)x->data <= hi;
		int aligned = (uintptr_t)x->data % ax_dtype_size(x->dtype) == 0;
		assert_true(aligned);
		/* copied: BOOL, and what the writer's packing leaves unaligned ("step",
		 * I64 at data offset 52; "empty", F32 at 66) */
		const char *nm = b.entries[i].name;
		int copied = !strcmp(nm, "mask") || !strcmp(nm, "step") || !strcmp(nm, "empty");
		assert_int_equal(x->mapped, !copied);
		assert_int_equal(inside, x->mapped);
		assert_int_equal(a.entries[i].array.mapped, 0);
	}
	assert_int_equal(ax_file_use(p), AX_FILE_BUNDLE);   /* may be saved over, as loaded */
	void *map = b.file.map;
	assert_true(is_mapped(map, n));
	ax_bundle_free(&b);
	assert_false(is_mapped(map, n));
	assert_int_equal(errno, ENOMEM);
	assert_null(b.file.map);
	assert_int_equal(b.n, 0);
	ax_bundle_free(&a);
}

/* Where the file cannot be mapped (gzip) or a tensor sits unaligned for its
 * dtype, the bundle holds copies, equal to what loading gives. */
static void test_bundle_map_fallbacks(void **state)
{
	struct ax_bundle a, b;
	const char *gz = saved_bundle_gz("g.safetensors.gz");
	assert_int_equal(ax_bundle_load(gz, &a), AX_OK);
	assert_int_equal(ax_bundle_map(gz, &b), AX_OK);
	assert_same_bundle(&a, &b);
	assert_null(b.file.map);
	for (int i = 0; i < b.n; i++)
		assert_int_equal(b.entries[i].array.mapped, 0);
	ax_bundle_free(&a);
	ax_bundle_free(&b);

	/* The data section starts at byte 8 + 163, so "f" (offset 1) is
	 * 4-aligned and "d" (offset 9) is not 8-aligned. */
	const char *json = "{\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
			   "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]},"
			   "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[9,17]}}   ";
	assert_int_equal((8 + strlen(json) + 1) % 4, 0);
	assert_int_equal((8 + strlen(json) + 9) % 8, 4);
	unsigned char data[17] = {7};
	float f[2] = {1.5f, -2};
	double d = M_PI;
	memcpy(data + 1, f, 8);
	memcpy(data + 9, &d, 8);
	const char *p = st_file("odd.st", json, data, sizeof data);
	assert_int_equal(ax_bundle_load(p, &a), AX_OK);
	assert_int_equal(ax_bundle_map(p, &b), AX_OK);
	assert_same_bundle(&a, &b);
	assert_int_equal(ax_bundle_find(&b, "u")->mapped, 1);
	assert_int_equal(ax_bundle_find(&b, "f")->mapped, 1);
	assert_int_equal(ax_bundle_find(&b, "d")->mapped, 0);   /* unaligned: copied */
	assert_true(*(const double *)ax_bundle_find(&b, "d")->data == M_PI);
	ax_bundle_free(&a);
	ax_bundle_free(&b);
}

static void write_mapped(void *arg)
{
	struct ax_bundle *b = arg;
	signal(SIGSEGV, SIG_DFL);   /* not cmocka's handler */
	((float *)b->entries[0].array.data)[0] = 42;   /* must fault */
	exit(0);
}

/* A mapped bundle cannot be written through: a store into its data faults,
 * and ax_array_to_f32 converts into an owned copy; the file stays as it was. */
static void test_bundle_map_read_only(void **state)
{
	struct ax_bundle b;
	size_t n, m;
	char *before = saved_bundle("ro.safetensors", &n);
	const char *p = tu_path("ro.safetensors");
	assert_int_equal(ax_bundle_map(p, &b), AX_OK);
	assert_int_equal(b.entries[0].array.dtype, AX_F32);
	char err[256];
	assert_int_equal(tu_run_child(write_mapped, &b, err, sizeof err), -SIGSEGV);
	struct ax_array *i32 = (struct ax_array *)ax_bundle_find(&b, "i32");
	const void *in_map = i32->data;
	assert_int_equal(ax_array_to_f32(i32), AX_OK);
	assert_int_equal(i32->mapped, 0);
	assert_ptr_not_equal(i32->data, in_map);
	assert_true(((float *)i32->data)[2] == (float)INT32_MAX);
	struct ax_array *w = (struct ax_array *)ax_bundle_find(&b, "layer.0.weight");
	const void *w_at = w->data;
	assert_int_equal(ax_array_to_f32(w), AX_OK);   /* float32 already: stays mapped */
	assert_true(w->mapped && w->data == w_at);
	ax_bundle_free(&b);   /* frees the copy, unmaps the rest */
	char *after = tu_read_file(p, &m);
	assert_int_equal(m, n);
	assert_memory_equal(before, after, n);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_roundtrip),
		cmocka_unit_test(test_bundle_layout),
		cmocka_unit_test(test_bundle_get),
		cmocka_unit_test(test_bundle_empty_and_gzip),
		cmocka_unit_test(test_bundle_hand_written),
		cmocka_unit_test(test_bundle_malformed),
		cmocka_unit_test(test_bundle_header_length),
		cmocka_unit_test(test_bundle_utf8_holes),
		cmocka_unit_test(test_bundle_many_names),
		cmocka_unit_test(test_bundle_map_same),
		cmocka_unit_test(test_bundle_map_fallbacks),
		cmocka_unit_test(test_bundle_map_read_only),
	};
	return cmocka_run_group_tests_name("io-safetensors", tests, NULL, NULL);
}
