/* ax_io.h — NPY, safetensors, CSV, IDX, atomic output files.
 *
 * Every reader treats its input as hostile: sizes are checked against the
 * bytes actually present and against overflow; a bad file yields
 * AX_ERR_FORMAT (or NOMEM/UNSUPPORTED) with a detail naming the file, the
 * byte offset and what was expected — never a crash.
 * Reading is gzip-transparent: a gzip-compressed input (any name) is
 * inflated through zlib; plain input passes through unchanged. Byte offsets
 * in details count bytes of the (inflated) stream. Every reader's detail
 * starts with the input's name ("-" for stdin), so a command can print it
 * as it is.
 * Ownership: an ax_array owns its data (free with ax_array_free) unless it
 * is mapped: then its data belong to a mapped bundle's file (ax_bundle_map)
 * and are read-only. A bundle owns its arrays and metadata (ax_bundle_free).
 * Data are little-endian in memory; the library builds on little-endian
 * hosts only (checked at compile time).
 */
#ifndef AX_IO_H
#define AX_IO_H

#include "ax_base.h"

#include <sys/types.h>

#define AX_ARRAY_MAX_DIMS 8

enum ax_dtype { AX_F32, AX_F64, AX_I32, AX_I64, AX_U8, AX_BOOL };

size_t ax_dtype_size(enum ax_dtype dt);
const char *ax_dtype_name(enum ax_dtype dt); /* "float32", "int32", ... */
/* The dtype's code in the file formats; from_safetensors is the inverse
 * (-1 if unknown). NPY descrs are matched by the NPY reader itself. */
const char *ax_dtype_npy(enum ax_dtype dt);         /* "<f4", "|u1", "|b1", ... */
const char *ax_dtype_safetensors(enum ax_dtype dt); /* "F32", "U8", "BOOL", ... */
int ax_dtype_from_safetensors(const char *s);

/* An n-dimensional array as stored on disk: C order, little-endian in memory. */
struct ax_array {
	enum ax_dtype dtype;
	int ndim;                        /* 0 (scalar) .. AX_ARRAY_MAX_DIMS */
	int64_t shape[AX_ARRAY_MAX_DIMS];
	void *data;                      /* owned; count() * dtype_size bytes */
	int mapped;                      /* 1: data point into a read-only mapping */
};

size_t ax_array_count(const struct ax_array *a);    /* product of shape */
size_t ax_array_bytes(const struct ax_array *a);    /* count() * dtype size */
/* Bytes of a C-order shape with elements of elem_size bytes (elem_size 1:
 * the element count), checked: 0 and *bytes set, or -1 if the product
 * overflows size_t. Dimensions must be non-negative. Readers check a shape
 * from a file with this before trusting ax_array_count(). */
int ax_shape_bytes(int ndim, const int64_t *shape, size_t elem_size, size_t *bytes);
/* numpy-style "(2, 3)", "(3,)", "()"; a negative dimension prints as "*". */
void ax_shape_fmt(char *buf, size_t cap, int ndim, const int64_t *shape);
enum ax_status ax_array_alloc(struct ax_array *a, enum ax_dtype dt, int ndim,
			      const int64_t *shape); /* zeroed data */
void ax_array_free(struct ax_array *a);   /* a mapped array's data are left alone */
/* Value i converted to double / float, whatever the dtype. */
double ax_array_get(const struct ax_array *a, size_t i);
/* A float32 copy of any numeric array (in place conversion of a's data; a
 * mapped array that is not float32 becomes an owned float32 copy, a mapped
 * float32 array stays as it is). */
enum ax_status ax_array_to_f32(struct ax_array *a);

/* ---- input streams (gzip-transparent), "-" is stdin ----
 * A stream yields at most AX_READ_MAX bytes (after inflating), or the limit
 * set with ax_reader_set_limit; reading past it is AX_ERR_UNSUPPORTED with a
 * message, so an endless input (/dev/zero) cannot fill memory. */
#define AX_READ_MAX ((size_t)4 << 30)
struct ax_reader;
enum ax_status ax_reader_open(struct ax_reader **r, const char *path);
void ax_reader_set_limit(struct ax_reader *r, size_t limit);
/* Reads exactly n bytes; AX_ERR_EOF if the stream ends before the first
 * byte, AX_ERR_FORMAT ("truncated") if it ends part-way. */
enum ax_status ax_reader_read(struct ax_reader *r, void *buf, size_t n);
/* n bytes of payload into a fresh malloc'd buffer (*out; NULL when n is 0);
 * any shortfall, even at the first byte, is AX_ERR_FORMAT. The buffer grows
 * as data arrive, so a hostile size in a header cannot force a huge
 * allocation before the truncation is noticed. */
enum ax_status ax_reader_read_alloc(struct ax_reader *r, size_t n, void **out);
/* Up to n (<= 16) bytes ahead without consuming them; *got < n only at the
 * end of the stream. For sniffing a format. */
enum ax_status ax_reader_peek(struct ax_reader *r, void *buf, size_t n, size_t *got);
/* Everything left in the stream: *buf is malloc'd, NUL-added. */
enum ax_status ax_reader_read_rest(struct ax_reader *r, char **buf, size_t *len);
size_t ax_reader_offset(const struct ax_reader *r);  /* bytes consumed so far */
const char *ax_reader_name(const struct ax_reader *r);
void ax_reader_close(struct ax_reader *r);
/* Whole input into memory (open + read_rest + close): *buf is malloc'd, NUL-added. */
enum ax_status ax_read_all(const char *path, char **buf, size_t *len);

/* A whole input for random access without reading it whole. A regular,
 * uncompressed, non-empty file is mapped read-only: a page is read when
 * first touched and shared by every process mapping the file, so ranks
 * that each sample their own windows of a large corpus read only those
 * windows, and a node holds one copy whatever its rank count. Anything
 * else (gzip, '-', a pipe, an empty file) is read into memory as by
 * ax_read_all. Recorded as an input as readers are.
 * A mapped file must not be modified in place while it is mapped: the
 * process sees the change, and a page past a truncated end raises SIGBUS
 * when touched (the size is checked only at map time). Replacing the file
 * (a new file renamed over it, as every axon output is written) is safe:
 * the mapping keeps the old contents. */
struct ax_input {
	const unsigned char *data;
	size_t len;
	void *map;               /* the mapping, or NULL */
	char *buf;               /* or the malloc'd copy */
	int has_id;              /* a regular file: dev/ino are its identity */
	dev_t dev;
	ino_t ino;
};
enum ax_status ax_input_map(const char *path, struct ax_input *in);
void ax_input_free(struct ax_input *in);

/* What this process did with a file, so an output never silently replaces
 * an input: every regular file a reader opens is recorded (device, inode) as
 * an input, one read whole as a bundle as such, one written through
 * ax_outfile as written here (reading it back later changes nothing). */
enum ax_file_use { AX_FILE_UNSEEN, AX_FILE_INPUT, AX_FILE_BUNDLE, AX_FILE_WRITTEN };
enum ax_file_use ax_file_use(const char *path);   /* UNSEEN if absent or not regular */
void ax_file_written(int fd);                     /* called by ax_outfile */
void ax_reader_read_as_bundle(struct ax_reader *r);  /* called by ax_bundle_read */
void ax_input_read_as_bundle(const struct ax_input *in);  /* called by ax_bundle_map */

/* A file's name for display: path's last component, cut at the first
 * occurrence of `cut` unless that is where the name starts
 * ("data/m1.safetensors", ".safetensors" -> "m1"; cut "." -> up to the first
 * dot). Allocated with ax_xmalloc; free it. */
char *ax_path_stem(const char *path, const char *cut);

/* ---- NPY (format versions 1.0, 2.0, 3.0; '<f4' '<f8' '<i4' '<i8' '|u1' '|b1') ----
 * fortran_order True and big-endian descrs ('>f4') are AX_ERR_UNSUPPORTED
 * (no silent byte swapping). Bool bytes other than 0 read as 1. Writing
 * uses version 1.0 and pads the header to 64 bytes, as numpy does. */
#define AX_NPY_MAGIC "\x93NUMPY"
/* Next array of a stream; AX_ERR_EOF when the stream is cleanly at its end. */
enum ax_status ax_npy_read(struct ax_reader *r, struct ax_array *out);
/* Convenience: the first array of a file. */
enum ax_status ax_npy_load(const char *path, struct ax_array *out);
enum ax_status ax_npy_write(FILE *f, const struct ax_array *a);
/* Shorthand for float32 data without building an ax_array. */
enum ax_status ax_npy_write_f32(FILE *f, const float *data, int ndim, const int64_t *shape);
/* Atomic save of one array to a file (temp + rename). */
enum ax_status ax_npy_save(const char *path, const struct ax_array *a);

/* ---- bundles (lib/bundle.c) and their safetensors files (lib/io_safetensors.c) ----
 * A bundle is named arrays in insertion order plus string metadata; names
 * and metadata keys are unique and found in O(1) (a hash index).
 * Reader: header length < 100 MB and inside the file; strict JSON, UTF-8
 * strings; every tensor's data_offsets inside the data section with length
 * count*size; tensors may leave holes but not overlap, so what is copied
 * out is bounded by the file's size. Unknown keys in a tensor's entry are
 * ignored; __metadata__ must map strings to strings (or be null).
 * Writer: 8-byte LE header length, JSON header padded with spaces to a
 * multiple of 8 bytes, then the tensors' data in insertion order. */
struct ax_bundle_entry {
	char *name;
	struct ax_array array;
};
struct ax_bundle_index {   /* hash of names -> position + 1 (0: empty slot) */
	int *slot;
	size_t cap;            /* a power of two, or 0 */
};
struct ax_bundle {
	int n, cap;
	struct ax_bundle_entry *entries;  /* in file order (writer: insertion order) */
	int nmeta;
	char **meta_keys, **meta_values;  /* __metadata__, string values */
	struct ax_bundle_index names, metas;  /* maintained by the functions below */
	struct ax_input file;  /* ax_bundle_map: the mapping its arrays point into */
};
void ax_bundle_init(struct ax_bundle *b);
void ax_bundle_free(struct ax_bundle *b);   /* and unmaps a mapped bundle's file */
enum ax_status ax_bundle_load(const char *path, struct ax_bundle *b);
/* As ax_bundle_load, with the same checks and errors, but the arrays are not
 * copied: each points into a read-only mapping of the file (ax_input_map),
 * shared by every process that maps it, its pages read when first touched,
 * so ranks on a node hold one copy of a data set and touch only what they
 * use. Its arrays are mapped (read-only: a write through their data faults;
 * ax_array_to_f32 makes an owned copy). Copied instead: a tensor whose data
 * are not aligned for its dtype in the file (the writer packs tensors in
 * order from an 8-byte aligned start, so an F32 after an odd number of U8
 * bytes, or an F64 after an odd number of F32, is), and BOOL tensors
 * (normalised to 0/1). Where the input cannot be mapped
 * (gzip, '-', a pipe, an empty file) it is read and copied as by
 * ax_bundle_load. The file must not be modified in place while the bundle is
 * mapped (see ax_input_map). */
enum ax_status ax_bundle_map(const char *path, struct ax_bundle *b);
/* The rest of an open stream as a bundle (b is initialised here). */
enum ax_status ax_bundle_read(struct ax_reader *r, struct ax_bundle *b);
/* Atomic write (temp + rename); entries sorted by nothing: written as given. */
enum ax_status ax_bundle_save(const char *path, const struct ax_bundle *b);
/* Add a copy of data (the bundle owns the copy). Names must be unique. */
void ax_bundle_add(struct ax_bundle *b, const char *name, enum ax_dtype dt, int ndim,
		   const int64_t *shape, const void *data);
void ax_bundle_add_f32(struct ax_bundle *b, const char *name, int ndim,
		       const int64_t *shape, const float *data);
/* Take over a malloc'd name and the array a (its data may still be NULL):
 * 0, or -1 (nothing taken) if the name is already there. Readers use it. */
int ax_bundle_adopt(struct ax_bundle *b, char *name, const struct ax_array *a);
void ax_bundle_set_meta(struct ax_bundle *b, const char *key, const char *value);
/* Take over malloc'd key and value: 0, or -1 (nothing taken) if key is there. */
int ax_bundle_adopt_meta(struct ax_bundle *b, char *key, char *value);
const char *ax_bundle_meta(const struct ax_bundle *b, const char *key); /* NULL if absent */
const struct ax_array *ax_bundle_find(const struct ax_bundle *b, const char *name);
/* Find + check dtype and shape (ndim entries; -1 = any; shape NULL: only
 * ndim is checked) with a clear detail: NOTFOUND if absent, FORMAT if the
 * dtype or shape differ. */
enum ax_status ax_bundle_get(const struct ax_bundle *b, const char *name, enum ax_dtype dt,
			     int ndim, const int64_t *shape, const struct ax_array **out);

/* ---- CSV ---- */
/* Writer: header once, then rows of numbers (%.9g) or mixed text. Each row
 * is flushed so a reader at the other end of a pipe sees it at once. */
struct ax_csv {
	FILE *f;
	int ncols;
};
void ax_csv_begin(struct ax_csv *c, FILE *f, const char *header /* "step,loss,acc" */);
void ax_csv_row(struct ax_csv *c, const double *values);   /* ncols values */
/* Row with printf-style format covering all columns, e.g. "%d,%s,%.6g". */
void ax_csv_rowf(struct ax_csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reader: header row + rows; RFC 4180 quoting; cells kept as text, numbers
 * parsed on demand. Ragged rows are AX_ERR_FORMAT with line number. CRLF or
 * LF line ends, a leading UTF-8 BOM is skipped, blank lines are ignored, an
 * empty input is FORMAT "no header". Gzip-transparent like every reader.
 * All names and cells live in one block that names[0] points to. */
struct ax_table {
	int ncols, nrows;
	char **names;          /* ncols */
	char **cells;          /* nrows * ncols, row-major */
};
enum ax_status ax_table_load(const char *path, struct ax_table *t); /* "-" stdin */
/* The rest of an open stream as a table (after sniffing it with peek). */
enum ax_status ax_table_read(struct ax_reader *r, struct ax_table *t);
void ax_table_free(struct ax_table *t);
int ax_table_col(const struct ax_table *t, const char *name);       /* -1 if absent */
/* Cell as number: NAN for empty or non-numeric text ("nan", "inf" parse). */
double ax_table_num(const struct ax_table *t, int row, int col);
const char *ax_table_str(const struct ax_table *t, int row, int col);

/* ---- IDX (MNIST family: u8/i8/i16/i32/f32/f64, big-endian, up to 8 dims) ----
 * Types map to: 0x08 u8 -> AX_U8; 0x09 i8, 0x0B i16, 0x0C i32 -> AX_I32;
 * 0x0D f32 -> AX_F32; 0x0E f64 -> AX_F64 (lossless; ax_array_to_f32 if
 * needed). Bytes after the data are AX_ERR_FORMAT. */
enum ax_status ax_idx_load(const char *path, struct ax_array *out);
/* A labelled image set of the MNIST family: <dir>/<split>-images-idx3-ubyte.gz
 * (n, side, side) bytes and <dir>/<split>-labels-idx1-ubyte.gz (each without
 * .gz when only the uncompressed file is there), n byte
 * labels each below classes (split "train" or "t10k"); limit > 0 keeps the
 * first limit images (shape[0] cut). AX_ERR_FORMAT naming the file for a
 * wrong shape, count or label; both arrays empty on failure. */
enum ax_status ax_idx_load_labelled(const char *dir, const char *split, int side, int classes,
				    long limit, struct ax_array *images, struct ax_array *labels);

/* ---- atomic output files ---- */
/* Writes go to "<path>.tmp.<pid>"; commit flushes, fsyncs and renames over
 * path; abort removes the temp file. "-" means stdout (commit just flushes).
 * A failed commit removes the temp file too; either way o is finished.
 * An existing target that is not a regular file (/dev/null, a FIFO) is
 * written in place. A target this process read as an input is refused with
 * AX_ERR_ARG (ax_outfile_open_bundle: unless it was read as a bundle). Temp
 * files of the same target whose pid no longer runs (a killed run) are
 * removed on open. */
struct ax_outfile {
	FILE *f;
	char *path, *tmp;    /* tmp NULL: stdout or in place */
	int in_place;
};
enum ax_status ax_outfile_open(struct ax_outfile *o, const char *path);
enum ax_status ax_outfile_open_bundle(struct ax_outfile *o, const char *path);
enum ax_status ax_outfile_commit(struct ax_outfile *o);
void ax_outfile_abort(struct ax_outfile *o);

#endif
