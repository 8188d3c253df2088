/* io_array.c — dtypes and the ax_array container shared by all readers. */
#include "ax_io.h"

#include <math.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "axon reads and writes little-endian data in place: little-endian hosts only"
#endif

/* The one table of dtypes: size and names in numpy, NPY and safetensors. */
static const struct {
	size_t size;
	const char *name, *npy, *st;
} dtypes[] = {
	[AX_F32] = {4, "float32", "<f4", "F32"},
	[AX_F64] = {8, "float64", "<f8", "F64"},
	[AX_I32] = {4, "int32", "<i4", "I32"},
	[AX_I64] = {8, "int64", "<i8", "I64"},
	[AX_U8] = {1, "uint8", "|u1", "U8"},
	[AX_BOOL] = {1, "bool", "|b1", "BOOL"},
};

static void check_dtype(enum ax_dtype dt)
{
	AX_ASSERT((unsigned)dt < AX_COUNTOF(dtypes) && "unknown dtype");
}

size_t ax_dtype_size(enum ax_dtype dt)
{
	check_dtype(dt);
	return dtypes[dt].size;
}

const char *ax_dtype_name(enum ax_dtype dt)
{
	check_dtype(dt);
	return dtypes[dt].name;
}

const char *ax_dtype_npy(enum ax_dtype dt)
{
	check_dtype(dt);
	return dtypes[dt].npy;
}

const char *ax_dtype_safetensors(enum ax_dtype dt)
{
	check_dtype(dt);
	return dtypes[dt].st;
}

int ax_dtype_from_safetensors(const char *s)
{
	for (size_t i = 0; i < AX_COUNTOF(dtypes); i++)
		if (!strcmp(s, dtypes[i].st))
			return (int)i;
	return -1;
}

size_t ax_array_count(const struct ax_array *a)
{
	size_t n = 1;
	for (int i = 0; i < a->ndim; i++)
		n *= (size_t)a->shape[i];   /* no overflow: checked when the shape was made */
	return n;
}

size_t ax_array_bytes(const struct ax_array *a)
{
	return ax_array_count(a) * ax_dtype_size(a->dtype);
}

int ax_shape_bytes(int ndim, const int64_t *shape, size_t elem_size, size_t *bytes)
{
	size_t n = 1;   /* the count first: a zero dimension after a huge one is fine */
	for (int i = 0; i < ndim; i++)
		if ((uint64_t)shape[i] > SIZE_MAX || ax_mul_size(n, (size_t)shape[i], &n))
			return -1;
	return ax_mul_size(n, elem_size, bytes);
}

enum ax_status ax_array_alloc(struct ax_array *a, enum ax_dtype dt, int ndim,
			      const int64_t *shape)
{
	check_dtype(dt);
	AX_ASSERT(ndim >= 0 && ndim <= AX_ARRAY_MAX_DIMS && "ndim out of range");
	memset(a, 0, sizeof *a);
	for (int i = 0; i < ndim; i++)
		AX_ASSERT(shape[i] >= 0 && "negative dimension");
	size_t bytes;
	if (ax_shape_bytes(ndim, shape, dtypes[dt].size, &bytes))
		return ax_error_set(AX_ERR_NOMEM, "array shape overflows the address space");
	void *p = calloc(bytes ? bytes : 1, 1);
	if (!p)
		return ax_error_set(AX_ERR_NOMEM, "cannot allocate %zu bytes for an array", bytes);
	a->dtype = dt;
	a->ndim = ndim;
	for (int i = 0; i < ndim; i++)
		a->shape[i] = shape[i];
	a->data = p;
	return AX_OK;
}

void ax_array_free(struct ax_array *a)
{
	if (!a)
		return;
	if (!a->mapped)
		free(a->data);
	a->data = NULL;
	a->ndim = 0;
	a->mapped = 0;
}

static double get(enum ax_dtype dt, const void *data, size_t i)
{
	switch (dt) {
	case AX_F32: return ((const float *)data)[i];
	case AX_F64: return ((const double *)data)[i];
	case AX_I32: return ((const int32_t *)data)[i];
	case AX_I64: return (double)((const int64_t *)data)[i];
	case AX_U8: return ((const uint8_t *)data)[i];
	case AX_BOOL: return ((const uint8_t *)data)[i] != 0;
	}
	AX_ASSERT(0 && "unknown dtype");
}

double ax_array_get(const struct ax_array *a, size_t i)
{
	AX_ASSERT(i < ax_array_count(a) && "index out of range");
	return get(a->dtype, a->data, i);
}

enum ax_status ax_array_to_f32(struct ax_array *a)
{
	if (a->dtype == AX_F32)
		return AX_OK;
	size_t n = ax_array_count(a), bytes;
	if (ax_mul_size(n, sizeof(float), &bytes))
		return ax_error_set(AX_ERR_NOMEM, "array too large to convert to float32");
	float *f = malloc(bytes ? bytes : 1);
	if (!f)
		return ax_error_set(AX_ERR_NOMEM, "cannot allocate %zu bytes for float32 copy", bytes);
	for (size_t i = 0; i < n; i++)
		f[i] = (float)get(a->dtype, a->data, i);
	if (!a->mapped)
		free(a->data);
	a->mapped = 0;
	a->data = f;
	a->dtype = AX_F32;
	return AX_OK;
}

void ax_shape_fmt(char *buf, size_t cap, int ndim, const int64_t *shape)
{
	size_t n = (size_t)snprintf(buf, cap, "(");
	for (int i = 0; i < ndim && n < cap; i++) {
		if (shape[i] < 0)
			n += (size_t)snprintf(buf + n, cap - n, "%s*", i ? ", " : "");
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "",
					      (long long)shape[i]);
	}
	if (n < cap)
		snprintf(buf + n, cap - n, "%s)", ndim == 1 ? "," : "");
}
