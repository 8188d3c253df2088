/* ax_nwb.h — reading NWB 2.x files (HDF5, the format of DANDI and the IBL
 * public data) through the HDF5 C library: datasets, attributes, the units
 * table, DynamicTable columns (ragged ones with their _index) and
 * TimeSeries. Objects are named by their path in the file ("/units/id").
 *
 * Every reader treats the file as hostile: a missing object is
 * AX_ERR_NOTFOUND, a malformed one AX_ERR_FORMAT (an index past the end of
 * its data or decreasing, spike times out of order within a unit, lengths
 * that disagree), a type not handled AX_ERR_UNSUPPORTED; the detail starts
 * "FILE: /path/in/file: ". HDF5's own error printing is switched off.
 * Ownership: whatever a loader fills in is freed with the matching _free.
 */
#ifndef AX_NWB_H
#define AX_NWB_H

#include "ax_io.h"

struct ax_nwb;   /* an open file */

/* AX_ERR_IO if path cannot be read, AX_ERR_FORMAT if it is not HDF5. */
enum ax_status ax_nwb_open(struct ax_nwb **f, const char *path);
void ax_nwb_close(struct ax_nwb *f);
const char *ax_nwb_path(const struct ax_nwb *f);
/* The 8-byte HDF5 signature: at byte 0, or after a user block at byte 512,
 * 1024, 2048, ... */
#define AX_HDF5_MAGIC "\x89HDF\r\n\x1a\n"
/* 1 if the file at path carries the HDF5 signature where the format puts it. */
int ax_hdf5_signature(const char *path);

/* 1 if obj is in the file (group or dataset), else 0. */
int ax_nwb_exists(const struct ax_nwb *f, const char *obj);
/* The names of a group's members in name order (*names malloc'd, each
 * name too: ax_nwb_names_free). */
enum ax_status ax_nwb_members(const struct ax_nwb *f, const char *group, char ***names, int *n);
void ax_nwb_names_free(char **names, int n);

/* A dataset's type ("float64", "int32", "uint8", "string", "reference",
 * "compound", ...) and shape. */
struct ax_nwb_dataset {
	char type[16];
	int ndim;
	int64_t shape[AX_ARRAY_MAX_DIMS];
};
enum ax_status ax_nwb_dataset_info(const struct ax_nwb *f, const char *obj,
				   struct ax_nwb_dataset *d);
/* A numeric dataset whole: AX_F64 for floats, AX_I64 for integers. */
enum ax_status ax_nwb_read(const struct ax_nwb *f, const char *obj, struct ax_array *out);
/* A string dataset (scalar or 1-D; fixed or variable length): *n strings. */
enum ax_status ax_nwb_read_strings(const struct ax_nwb *f, const char *obj, char ***out,
				   size_t *n);
/* A scalar attribute of obj ("/" is the root). */
enum ax_status ax_nwb_attr_string(const struct ax_nwb *f, const char *obj, const char *name,
				  char **out);
enum ax_status ax_nwb_attr_f64(const struct ax_nwb *f, const char *obj, const char *name,
			       double *out);

/* One value per row of a DynamicTable: numbers (num) or text (str), one of
 * the two NULL. A column stored as (rows, 1) counts as one value per row. */
struct ax_nwb_column {
	size_t n;
	double *num;
	char **str;
};
enum ax_status ax_nwb_column_load(const struct ax_nwb *f, const char *table, const char *name,
				  size_t rows, struct ax_nwb_column *c);
void ax_nwb_column_free(struct ax_nwb_column *c);

/* Text values (a column of labels) coded 0, 1, ... in the sorted order of
 * their distinct values (code: n of them); the distinct values joined with
 * commas in *names (malloc'd). */
void ax_nwb_text_codes(char *const *v, size_t n, double *code, char **names);

/* A ragged column: TABLE/NAME holds every row's values one after another
 * (values.shape[0] of them), TABLE/NAME_index each row's end offset. Row i
 * is values [end[i-1], end[i]) (end[-1] = 0). Offsets that decrease or pass
 * the end of the values are AX_ERR_FORMAT naming NAME_index. */
struct ax_nwb_ragged {
	struct ax_array values;  /* AX_F64 or AX_I64 */
	int64_t *end;
	size_t rows;
};
enum ax_status ax_nwb_ragged_load(const struct ax_nwb *f, const char *table, const char *name,
				  struct ax_nwb_ragged *r);
void ax_nwb_ragged_free(struct ax_nwb_ragged *r);

/* The units table: /units/id and the spike times of each unit
 * (/units/spike_times with spike_times_index), float64 seconds, checked
 * finite and in order within each unit. Unit i's spikes are
 * times[start(i) .. end[i]), start(i) = i ? end[i-1] : 0. */
struct ax_nwb_units {
	size_t n, nspikes;
	int64_t *id;
	double *times;
	int64_t *end;
};
enum ax_status ax_nwb_units_load(const struct ax_nwb *f, struct ax_nwb_units *u);
void ax_nwb_units_free(struct ax_nwb_units *u);

/* A TimeSeries: PATH/data, (n) or (n, D), and its sample times from
 * PATH/timestamps or PATH/starting_time (with its "rate" attribute), which
 * must not decrease. */
struct ax_nwb_series {
	size_t n, dim;
	double *t;     /* (n) seconds */
	double *data;  /* (n, dim) */
};
enum ax_status ax_nwb_series_load(const struct ax_nwb *f, const char *path,
				  struct ax_nwb_series *s);
void ax_nwb_series_free(struct ax_nwb_series *s);
/* Every TimeSeries in the file (a group with "data" and "timestamps" or
 * "starting_time"), as paths in name order, depth first. */
enum ax_status ax_nwb_series_list(const struct ax_nwb *f, char ***paths, int *n);

#endif
