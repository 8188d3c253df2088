/* io_idx.c — IDX files (MNIST, Fashion-MNIST): big-endian, typed, n-d.
 * Layout: 0, 0, type, ndim; ndim u32 BE dims; data BE in C order. */
#include "ax_io.h"

#include <string.h>
#include <unistd.h>

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static enum ax_status idx_read(struct ax_reader *r, struct ax_array *out)
{
	const char *name = ax_reader_name(r);
	unsigned char h[4 + 4 * AX_ARRAY_MAX_DIMS];
	enum ax_status st = ax_reader_read(r, h, 4);
	if (st)
		return st == AX_ERR_EOF ? ax_error_set(AX_ERR_FORMAT, "%s: empty file, expected "
						       "an IDX header", name) : st;
	if (h[0] || h[1])
		return ax_error_set(AX_ERR_FORMAT, "%s: not an IDX file (bad magic at byte 0)", name);
	int type = h[2], ndim = h[3];
	size_t esize;
	enum ax_dtype dt;
	switch (type) {
	case 0x08: esize = 1, dt = AX_U8; break;
	case 0x09: esize = 1, dt = AX_I32; break;
	case 0x0B: esize = 2, dt = AX_I32; break;
	case 0x0C: esize = 4, dt = AX_I32; break;
	case 0x0D: esize = 4, dt = AX_F32; break;
	case 0x0E: esize = 8, dt = AX_F64; break;
	default:
		return ax_error_set(AX_ERR_FORMAT, "%s: unknown IDX element type 0x%02x at byte 2",
				    name, type);
	}
	if (ndim > AX_ARRAY_MAX_DIMS)
		return ax_error_set(AX_ERR_UNSUPPORTED, "%s: IDX file has %d dimensions (at most %d)",
				    name, ndim, AX_ARRAY_MAX_DIMS);
	if ((st = ax_reader_read(r, h + 4, 4 * (size_t)ndim)))
		return st == AX_ERR_EOF ? ax_error_set(AX_ERR_FORMAT, "%s: IDX header truncated at "
						       "byte 4", name) : st;
	struct ax_array a = {.dtype = dt, .ndim = ndim};
	for (int i = 0; i < ndim; i++)
		a.shape[i] = be32(h + 4 + 4 * i);
	size_t count, raw_bytes, out_bytes;
	if (ax_shape_bytes(ndim, a.shape, 1, &count) || ax_mul_size(count, esize, &raw_bytes) ||
	    ax_mul_size(count, ax_dtype_size(dt), &out_bytes))
		return ax_error_set(AX_ERR_FORMAT, "%s: IDX dimensions overflow", name);
	unsigned char *raw;
	if ((st = ax_reader_read_alloc(r, raw_bytes, (void **)&raw)))
		return st;
	unsigned char extra;
	if ((st = ax_reader_read(r, &extra, 1)) != AX_ERR_EOF) {
		free(raw);
		return st ? st : ax_error_set(AX_ERR_FORMAT, "%s: unexpected bytes after the IDX "
					      "data at byte %zu", name, raw_bytes + 4 + 4 * ndim);
	}
	/* Widen or byte-swap into the output dtype; same-size types swap in place.
	 * The size comes from the file, so a failed malloc is NOMEM. */
	unsigned char *o = out_bytes == raw_bytes ? raw : malloc(out_bytes ? out_bytes : 1);
	if (!o && out_bytes) {
		free(raw);
		return ax_error_set(AX_ERR_NOMEM, "%s: cannot allocate %zu bytes", name, out_bytes);
	}
	for (size_t i = 0; i < count; i++) {
		const unsigned char *b = raw + i * esize;
		switch (type) {
		case 0x09: ((int32_t *)o)[i] = (int8_t)b[0]; break;
		case 0x0B: ((int32_t *)o)[i] = (int16_t)(b[0] << 8 | b[1]); break;
		case 0x0C: case 0x0D: {
			uint32_t v = be32(b);
			memcpy(o + 4 * i, &v, 4);
			break;
		}
		case 0x0E: {
			uint64_t v = (uint64_t)be32(b) << 32 | be32(b + 4);
			memcpy(o + 8 * i, &v, 8);
			break;
		}
		}
	}
	if (o != raw)
		free(raw);
	a.data = o ? (void *)o : ax_xmalloc(1);
	*out = a;
	return AX_OK;
}

enum ax_status ax_idx_load(const char *path, struct ax_array *out)
{
	struct ax_reader *r;
	memset(out, 0, sizeof *out);
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = idx_read(r, out);
	ax_reader_close(r);
	return st;
}

/* dir/split-name.gz (as Debian ships the datasets), else dir/split-name if
 * that one is there; errors name the .gz file when neither is. */
static void idx_path(char *path, size_t size, const char *dir, const char *split,
		     const char *name)
{
	char plain[4096];
	snprintf(path, size, "%s/%s-%s.gz", dir, split, name);
	snprintf(plain, sizeof plain, "%s/%s-%s", dir, split, name);
	if (access(path, R_OK) != 0 && access(plain, R_OK) == 0)
		snprintf(path, size, "%s", plain);
}

enum ax_status ax_idx_load_labelled(const char *dir, const char *split, int side, int classes,
				    long limit, struct ax_array *images, struct ax_array *labels)
{
	char ipath[4096], lpath[4096];
	idx_path(ipath, sizeof ipath, dir, split, "images-idx3-ubyte");
	idx_path(lpath, sizeof lpath, dir, split, "labels-idx1-ubyte");
	memset(labels, 0, sizeof *labels);
	enum ax_status st = ax_idx_load(ipath, images);
	if (!st)
		st = ax_idx_load(lpath, labels);
	if (!st && (images->dtype != AX_U8 || images->ndim != 3 || images->shape[0] < 1 ||
		    images->shape[1] != side || images->shape[2] != side))
		st = ax_error_set(AX_ERR_FORMAT, "%s: not %dx%d byte images", ipath, side, side);
	if (!st && (labels->dtype != AX_U8 || labels->ndim != 1 ||
		    labels->shape[0] != images->shape[0]))
		st = ax_error_set(AX_ERR_FORMAT, "%s: not one byte label per image of %s", lpath,
				  ipath);
	if (!st && limit > 0 && limit < images->shape[0])
		images->shape[0] = labels->shape[0] = limit;   /* the data stay allocated whole */
	const uint8_t *lab = labels->data;
	for (int64_t i = 0; !st && i < labels->shape[0]; i++)
		if (lab[i] >= classes)
			st = ax_error_set(AX_ERR_FORMAT, "%s: label %d of image %lld is not a class "
					  "0..%d", lpath, lab[i], (long long)i, classes - 1);
	if (st)
		ax_array_free(images), ax_array_free(labels);
	return st;
}
