/* nwb.c — NWB files through the HDF5 C library: opening, objects,
 * datasets, strings and attributes (the tables and series built on these
 * are in nwb_tables.c). Only calls whose signature is the same in HDF5
 * 1.10, 1.12 and 1.14 are used. */
#include "ax_nwb.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

struct ax_nwb {
	hid_t file;
	char *path;
};

/* "FILE: OBJ: <message>" as the detail of st. */
static enum ax_status nwb_fail(const struct ax_nwb *f, enum ax_status st, const char *obj,
			       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum ax_status nwb_fail(const struct ax_nwb *f, enum ax_status st, const char *obj,
			       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ax_error_set(st, "%s: %s: %s", f->path, obj, msg);
}

/* The signature is looked for first because HDF5's own check, given any
 * file, may go on to read it as HDF5. */
int ax_hdf5_signature(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return 0;
	int found = 0;
	char magic[8];
	for (long at = 0; !found && at >= 0 && at <= LONG_MAX / 2; at = at ? 2 * at : 512)
		if (fseek(fp, at, SEEK_SET) || fread(magic, 1, sizeof magic, fp) != sizeof magic)
			break;
		else
			found = !memcmp(magic, AX_HDF5_MAGIC, sizeof magic);
	fclose(fp);
	return found;
}

enum ax_status ax_nwb_open(struct ax_nwb **out, const char *path)
{
	*out = NULL;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* the library never prints */
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return ax_error_set(AX_ERR_IO, "%s: %s", path, strerror(errno));
	fclose(fp);
	if (!ax_hdf5_signature(path) || H5Fis_hdf5(path) <= 0)
		return ax_error_set(AX_ERR_FORMAT, "%s: not an HDF5 file (NWB files are HDF5)", path);
	hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (id < 0)
		return ax_error_set(AX_ERR_FORMAT, "%s: an HDF5 file that HDF5 cannot open", path);
	struct ax_nwb *f = ax_xcalloc(1, sizeof *f);
	f->file = id;
	f->path = ax_xstrdup(path);
	*out = f;
	return AX_OK;
}

void ax_nwb_close(struct ax_nwb *f)
{
	if (!f)
		return;
	H5Fclose(f->file);
	free(f->path);
	free(f);
}

const char *ax_nwb_path(const struct ax_nwb *f) { return f->path; }

/* H5Lexists fails on a missing intermediate group, so each prefix of the
 * path is checked in turn; the last link must also lead to an object. */
int ax_nwb_exists(const struct ax_nwb *f, const char *obj)
{
	if (!strcmp(obj, "/"))
		return 1;
	size_t len = strlen(obj);
	if (obj[0] != '/' || len >= 1024 || obj[len - 1] == '/')
		return 0;
	char buf[1024];
	memcpy(buf, obj, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		char c = buf[i];
		buf[i] = 0;
		int here = H5Lexists(f->file, buf, H5P_DEFAULT) > 0 &&
			   H5Oexists_by_name(f->file, buf, H5P_DEFAULT) > 0;
		buf[i] = c;
		if (!here)
			return 0;
	}
	return 1;
}

enum ax_status ax_nwb_members(const struct ax_nwb *f, const char *group, char ***names, int *n)
{
	*names = NULL, *n = 0;
	if (!ax_nwb_exists(f, group))
		return nwb_fail(f, AX_ERR_NOTFOUND, group, "no such group in the file");
	hid_t g = H5Gopen2(f->file, group, H5P_DEFAULT);
	H5G_info_t info;
	if (g < 0 || H5Gget_info(g, &info) < 0) {
		if (g >= 0)
			H5Gclose(g);
		return nwb_fail(f, AX_ERR_FORMAT, group, "not a group");
	}
	char **v = ax_xcalloc(info.nlinks ? info.nlinks : 1, sizeof *v);
	int k = 0;
	for (hsize_t i = 0; i < info.nlinks; i++) {
		ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0,
						 H5P_DEFAULT);
		if (len < 0)
			continue;
		v[k] = ax_xmalloc((size_t)len + 1);
		H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, v[k], (size_t)len + 1,
				   H5P_DEFAULT);
		k++;
	}
	H5Gclose(g);
	*names = v, *n = k;
	return AX_OK;
}

void ax_nwb_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The dataset obj opened (close with H5Dclose). */
static enum ax_status nwb_dataset(const struct ax_nwb *f, const char *obj, hid_t *d)
{
	*d = -1;
	if (!ax_nwb_exists(f, obj))
		return nwb_fail(f, AX_ERR_NOTFOUND, obj, "not in the file");
	hid_t o = H5Oopen(f->file, obj, H5P_DEFAULT);
	if (o < 0)
		return nwb_fail(f, AX_ERR_FORMAT, obj, "cannot be opened");
	if (H5Iget_type(o) != H5I_DATASET) {
		H5Oclose(o);
		return nwb_fail(f, AX_ERR_FORMAT, obj, "a group, not a dataset");
	}
	*d = o;
	return AX_OK;
}

static void type_name(hid_t t, char *buf, size_t cap)
{
	size_t bits = H5Tget_size(t) * 8;
	switch (H5Tget_class(t)) {
	case H5T_FLOAT: snprintf(buf, cap, "float%zu", bits); break;
	case H5T_INTEGER:
		snprintf(buf, cap, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
		break;
	case H5T_STRING: snprintf(buf, cap, "string"); break;
	case H5T_REFERENCE: snprintf(buf, cap, "reference"); break;
	case H5T_COMPOUND: snprintf(buf, cap, "compound"); break;
	case H5T_ENUM: snprintf(buf, cap, "enum"); break;
	default: snprintf(buf, cap, "other"); break;
	}
}

/* Type and shape of an open dataset. */
static enum ax_status nwb_info(const struct ax_nwb *f, const char *obj, hid_t d,
			       struct ax_nwb_dataset *out)
{
	memset(out, 0, sizeof *out);
	hid_t t = H5Dget_type(d), s = H5Dget_space(d);
	int nd = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
	hsize_t dims[H5S_MAX_RANK];
	if (t >= 0)
		type_name(t, out->type, sizeof out->type);
	if (nd >= 0 && nd <= AX_ARRAY_MAX_DIMS)
		H5Sget_simple_extent_dims(s, dims, NULL);
	if (t >= 0)
		H5Tclose(t);
	if (s >= 0)
		H5Sclose(s);
	if (t < 0 || nd < 0)
		return nwb_fail(f, AX_ERR_FORMAT, obj, "unreadable type or shape");
	if (nd > AX_ARRAY_MAX_DIMS)
		return nwb_fail(f, AX_ERR_UNSUPPORTED, obj, "%d dimensions (at most %d)", nd,
				AX_ARRAY_MAX_DIMS);
	out->ndim = nd;
	for (int i = 0; i < nd; i++) {
		if (dims[i] > (hsize_t)INT64_MAX)
			return nwb_fail(f, AX_ERR_FORMAT, obj, "dimension %d too large", i);
		out->shape[i] = (int64_t)dims[i];
	}
	return AX_OK;
}

enum ax_status ax_nwb_dataset_info(const struct ax_nwb *f, const char *obj,
				   struct ax_nwb_dataset *d)
{
	hid_t ds;
	enum ax_status st = nwb_dataset(f, obj, &ds);
	if (st)
		return st;
	st = nwb_info(f, obj, ds, d);
	H5Dclose(ds);
	return st;
}

enum ax_status ax_nwb_read(const struct ax_nwb *f, const char *obj, struct ax_array *out)
{
	memset(out, 0, sizeof *out);
	struct ax_nwb_dataset info;
	hid_t d;
	enum ax_status st = nwb_dataset(f, obj, &d);
	if (st)
		return st;
	if ((st = nwb_info(f, obj, d, &info)))
		goto out;
	int fl = !strncmp(info.type, "float", 5);
	if (!fl && strncmp(info.type, "int", 3) && strncmp(info.type, "uint", 4)) {
		st = nwb_fail(f, AX_ERR_UNSUPPORTED, obj, "holds %s values, not numbers", info.type);
		goto out;
	}
	if ((st = ax_array_alloc(out, fl ? AX_F64 : AX_I64, info.ndim, info.shape))) {
		st = nwb_fail(f, st, obj, "too large to read");
		goto out;
	}
	if (ax_array_count(out) &&
	    H5Dread(d, fl ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
		    out->data) < 0) {
		ax_array_free(out);
		st = nwb_fail(f, AX_ERR_FORMAT, obj, "its data cannot be read");
	}
out:
	H5Dclose(d);
	return st;
}

/* n strings of type t (class string) read by read(obj_id, memtype, buf)
 * from an open dataset or attribute into malloc'd copies. */
static enum ax_status read_text(const struct ax_nwb *f, const char *obj, hid_t id, int is_attr,
				hid_t t, size_t n, char **out)
{
	hid_t mem = H5Tcopy(H5T_C_S1);
	H5Tset_cset(mem, H5Tget_cset(t));
	int vlen = H5Tis_variable_str(t) > 0;
	size_t size = vlen ? sizeof(char *) : H5Tget_size(t) + 1;
	H5Tset_size(mem, vlen ? H5T_VARIABLE : size);
	if (!vlen)
		H5Tset_strpad(mem, H5T_STR_NULLTERM);
	size_t bytes;
	if (ax_mul_size(n ? n : 1, size, &bytes)) {
		H5Tclose(mem);
		return nwb_fail(f, AX_ERR_NOMEM, obj, "too many strings");
	}
	char *buf = ax_xcalloc(1, bytes);
	herr_t rc = is_attr ? H5Aread(id, mem, buf) : H5Dread(id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
	for (size_t i = 0; i < n; i++) {
		const char *s = vlen ? ((char **)(void *)buf)[i] : buf + i * size;
		out[i] = ax_xstrdup(rc >= 0 && s ? s : "");
	}
	if (vlen && rc >= 0)
		for (size_t i = 0; i < n; i++)
			H5free_memory(((char **)(void *)buf)[i]);
	H5Tclose(mem);
	free(buf);
	return rc < 0 ? nwb_fail(f, AX_ERR_FORMAT, obj, "its strings cannot be read") : AX_OK;
}

enum ax_status ax_nwb_read_strings(const struct ax_nwb *f, const char *obj, char ***out,
				   size_t *n)
{
	*out = NULL, *n = 0;
	struct ax_nwb_dataset info;
	hid_t d, t = -1;
	enum ax_status st = nwb_dataset(f, obj, &d);
	if (st)
		return st;
	if ((st = nwb_info(f, obj, d, &info)))
		goto out;
	if (strcmp(info.type, "string") || info.ndim > 1) {
		st = nwb_fail(f, AX_ERR_UNSUPPORTED, obj, "%d-dimensional %s values, not a list of text",
			      info.ndim, info.type);
		goto out;
	}
	size_t count = info.ndim ? (size_t)info.shape[0] : 1;
	char **v = ax_xcalloc(count ? count : 1, sizeof *v);
	t = H5Dget_type(d);
	if ((st = read_text(f, obj, d, 0, t, count, v))) {
		ax_nwb_names_free(v, (int)count);
		goto out;
	}
	*out = v, *n = count;
out:
	if (t >= 0)
		H5Tclose(t);
	H5Dclose(d);
	return st;
}

/* The attribute name of obj opened, with its type (close both). */
static enum ax_status nwb_attr(const struct ax_nwb *f, const char *obj, const char *name,
			       hid_t *a, hid_t *t)
{
	*a = *t = -1;
	if (!ax_nwb_exists(f, obj))
		return nwb_fail(f, AX_ERR_NOTFOUND, obj, "not in the file");
	if (H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT) <= 0)
		return nwb_fail(f, AX_ERR_NOTFOUND, obj, "no attribute '%s'", name);
	*a = H5Aopen_by_name(f->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	*t = *a >= 0 ? H5Aget_type(*a) : -1;
	hid_t s = *a >= 0 ? H5Aget_space(*a) : -1;
	hssize_t npoints = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
	if (s >= 0)
		H5Sclose(s);
	if (*t < 0 || npoints != 1) {
		if (*t >= 0)
			H5Tclose(*t);
		if (*a >= 0)
			H5Aclose(*a);
		*a = *t = -1;
		return nwb_fail(f, AX_ERR_FORMAT, obj, "attribute '%s' is not one value", name);
	}
	return AX_OK;
}

enum ax_status ax_nwb_attr_string(const struct ax_nwb *f, const char *obj, const char *name,
				  char **out)
{
	*out = NULL;
	hid_t a, t;
	enum ax_status st = nwb_attr(f, obj, name, &a, &t);
	if (st)
		return st;
	if (H5Tget_class(t) != H5T_STRING)
		st = nwb_fail(f, AX_ERR_FORMAT, obj, "attribute '%s' is not text", name);
	else
		st = read_text(f, obj, a, 1, t, 1, out);
	H5Tclose(t);
	H5Aclose(a);
	return st;
}

enum ax_status ax_nwb_attr_f64(const struct ax_nwb *f, const char *obj, const char *name,
			       double *out)
{
	*out = 0;
	hid_t a, t;
	enum ax_status st = nwb_attr(f, obj, name, &a, &t);
	if (st)
		return st;
	H5T_class_t c = H5Tget_class(t);
	if ((c != H5T_FLOAT && c != H5T_INTEGER) || H5Aread(a, H5T_NATIVE_DOUBLE, out) < 0)
		st = nwb_fail(f, AX_ERR_FORMAT, obj, "attribute '%s' is not a number", name);
	H5Tclose(t);
	H5Aclose(a);
	return st;
}

/* Depth-first walk under group g (path `at`) collecting TimeSeries. */
static void series_walk(const struct ax_nwb *f, const char *at, int depth, char ***paths, int *n)
{
	char **names;
	int k;
	if (depth > 16 || ax_nwb_members(f, at, &names, &k))
		return;
	for (int i = 0; i < k; i++) {
		char sub[1024];
		if ((size_t)snprintf(sub, sizeof sub, "%s/%s", strcmp(at, "/") ? at : "", names[i]) >=
		    sizeof sub)
			continue;
		H5L_info_t li;
		if (H5Lget_info(f->file, sub, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
			continue;
		hid_t o = H5Oopen(f->file, sub, H5P_DEFAULT);
		int group = o >= 0 && H5Iget_type(o) == H5I_GROUP;
		if (o >= 0)
			H5Oclose(o);
		if (!group)
			continue;
		char data[1100], ts[1100], st[1100];
		snprintf(data, sizeof data, "%s/data", sub);
		snprintf(ts, sizeof ts, "%s/timestamps", sub);
		snprintf(st, sizeof st, "%s/starting_time", sub);
		if (ax_nwb_exists(f, data) && (ax_nwb_exists(f, ts) || ax_nwb_exists(f, st))) {
			*paths = ax_xrealloc(*paths, (size_t)(*n + 1) * sizeof **paths);
			(*paths)[(*n)++] = ax_xstrdup(sub);
		} else {
			series_walk(f, sub, depth + 1, paths, n);
		}
	}
	ax_nwb_names_free(names, k);
}

enum ax_status ax_nwb_series_list(const struct ax_nwb *f, char ***paths, int *n)
{
	*paths = NULL, *n = 0;
	series_walk(f, "/", 0, paths, n);
	return AX_OK;
}
