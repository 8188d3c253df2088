/* nwb_fixture.c — a small NWB 2.x file written through libhdf5 in the
 * schema's layout (groups, datasets and the attributes neurodata_type,
 * namespace, colnames, description, target, table, rate, ...), with known
 * units, electrodes, trials and two TimeSeries. Included by
 * tests/unit/test-nwb-import.c and tests/cmd/nwb-fixture.c;
 * scripts/ref/nwb_fixture.py writes the same file with h5py
 * (tests/ref/nwb-h5py.nwb). All times are exact in binary where a test
 * compares resampled values.
 *
 * Variants: "good"; "brain_area" (regions in a units column, no electrodes);
 * "no-units"; "index-past-end"; "index-decreasing"; "spikes-unordered";
 * "userblock" (the good file after a 512-byte user block).
 */
#include <hdf5.h>
#include <string.h>

/* Units 10..13: spike times (seconds), quality, electrode (row of the
 * electrodes table, whose locations are CA1, DG, PO), observed intervals. */
static const double nwbfx_spikes[] = {
	0.1, 0.26, 0.30, 0.52, 1.1, 2.9, 6.6, 6.61, 8.0, /* unit 10: 9 */
	2.3, 2.53, 4.7,                                  /* unit 11: 3 */
	                                                 /* unit 12: 0 */
	6.3, 6.9,                                        /* unit 13: 2 */
};
static const int64_t nwbfx_spike_end[] = { 9, 12, 12, 14 };
static const int64_t nwbfx_ids[] = { 10, 11, 12, 13 };
static const char *const nwbfx_quality[] = { "good", "good", "mua", "good" };
static const int64_t nwbfx_unit_electrode[] = { 0, 1, 2, 0 };
static const char *const nwbfx_locations[] = { "CA1", "DG", "PO" };
static const char *const nwbfx_unit_area[] = { "CA1", "DG", "PO", "CA1" };
static const double nwbfx_obs[][2] = { { 0, 7.9 }, { 0, 3 }, { 4, 10 }, { 0, 10 }, { 0, 10 } };
static const int64_t nwbfx_obs_end[] = { 1, 3, 4, 5 };
/* Trials: 1.5 s each, stimulus 0.5 s in. */
static const double nwbfx_start[] = { 0, 2, 4, 6 }, nwbfx_stop[] = { 1.5, 3.5, 5.5, 7.5 };
static const double nwbfx_stim_on[] = { 0.5, 2.5, 4.5, 6.5 };
static const double nwbfx_choice[] = { -1, 1, 0, 1 };
/* IBL's convention: the contrast on the stimulus' side, NaN on the other. */
#define NWBFX_NAN (0.0 / 0.0)
static const double nwbfx_contrast_left[] = { 1, NWBFX_NAN, 0.25, NWBFX_NAN };
static const double nwbfx_contrast_right[] = { NWBFX_NAN, 0.5, NWBFX_NAN, 0.0625 };
static const double nwbfx_prob_left[] = { 0.8, 0.8, 0.2, 0.2 };
static const int64_t nwbfx_reach_dir[] = { 0, 3, 5, 7 };
static const char *const nwbfx_outcome[] = { "hit", "miss", "hit", "hit" };
/* Wheel: 64 Hz from 0 s, 3t - 1. Hand: timestamps 1/128 + i/64, (t, 1 - t/2). */
enum { NWBFX_WHEEL_N = 512, NWBFX_HAND_N = 512 };
#define NWBFX_WHEEL(t) (3 * (t) - 1)
#define NWBFX_HAND_T(i) (1.0 / 128 + (i) / 64.0)

static void nwbfx_attr_str(hid_t obj, const char *name, const char *value)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, t, &value);
	H5Aclose(a), H5Sclose(s), H5Tclose(t);
}

static void nwbfx_attr_ref(hid_t obj, const char *name, hid_t file, const char *target)
{
	hobj_ref_t ref;
	H5Rcreate(&ref, file, target, H5R_OBJECT, -1);
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(obj, name, H5T_STD_REF_OBJ, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_STD_REF_OBJ, &ref);
	H5Aclose(a), H5Sclose(s);
}

/* A typed NWB object: neurodata_type, namespace "core", description. */
static void nwbfx_typed(hid_t obj, const char *type, const char *description)
{
	nwbfx_attr_str(obj, "neurodata_type", type);
	nwbfx_attr_str(obj, "namespace", "core");
	if (description)
		nwbfx_attr_str(obj, "description", description);
}

static hid_t nwbfx_group(hid_t parent, const char *name, const char *type, const char *description)
{
	hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (type)
		nwbfx_typed(g, type, description);
	return g;
}

/* A dataset of n (x cols) values of memory type mt stored as file type ft. */
static hid_t nwbfx_data(hid_t g, const char *name, hid_t ft, hid_t mt, size_t n, size_t cols,
			const void *v, const char *type)
{
	hsize_t dims[2] = { n, cols };
	hid_t s = H5Screate_simple(cols ? 2 : 1, dims, NULL);
	hid_t d = H5Dcreate2(g, name, ft, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (n)
		H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
	if (type)
		nwbfx_typed(d, type, type[0] == 'V' && type[6] == 'D' ? "a column" : NULL);
	H5Sclose(s);
	return d;
}

static void nwbfx_f64(hid_t g, const char *name, size_t n, size_t cols, const double *v, const char *type)
{
	H5Dclose(nwbfx_data(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, cols, v, type));
}

static void nwbfx_i64(hid_t g, const char *name, size_t n, const int64_t *v, const char *type)
{
	H5Dclose(nwbfx_data(g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, n, 0, v, type));
}

/* A VectorIndex whose target attribute points at the column it indexes. */
static void nwbfx_index(hid_t file, hid_t g, const char *name, size_t n, const int64_t *v,
			const char *target)
{
	hid_t d = nwbfx_data(g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, n, 0, v, "VectorIndex");
	nwbfx_attr_ref(d, "target", file, target);
	H5Dclose(d);
}

static void nwbfx_strings(hid_t g, const char *name, size_t n, const char *const *v, const char *type)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	H5Dclose(nwbfx_data(g, name, t, t, n, 0, v, type));
	H5Tclose(t);
}

/* A scalar text dataset (identifier, session_description, ...). */
static void nwbfx_text(hid_t g, const char *name, const char *value)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t d = H5Dcreate2(g, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
	H5Dclose(d), H5Sclose(s), H5Tclose(t);
}

static void nwbfx_colnames(hid_t g, size_t n, const char *const *names)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hsize_t dims[1] = { n };
	hid_t s = H5Screate_simple(1, dims, NULL);
	hid_t a = H5Acreate2(g, "colnames", t, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, t, names);
	H5Aclose(a), H5Sclose(s), H5Tclose(t);
}

static void nwbfx_units(hid_t file, const char *variant)
{
	double spikes[sizeof nwbfx_spikes / sizeof *nwbfx_spikes];
	int64_t end[4];
	memcpy(spikes, nwbfx_spikes, sizeof spikes);
	memcpy(end, nwbfx_spike_end, sizeof end);
	if (!strcmp(variant, "index-past-end"))
		end[3] = 15;
	if (!strcmp(variant, "index-decreasing"))
		end[2] = 8;
	if (!strcmp(variant, "spikes-unordered"))
		spikes[10] = 2.2;   /* unit 11: 2.3, 2.2, 4.7 */
	int area = !strcmp(variant, "brain_area");
	hid_t g = nwbfx_group(file, "units", "Units", "sorted units");
	static const char *const cols[] = { "spike_times", "obs_intervals", "quality", "electrodes" };
	static const char *const cols_area[] = { "spike_times", "obs_intervals", "quality", "brain_area" };
	nwbfx_colnames(g, 4, area ? cols_area : cols);
	nwbfx_i64(g, "id", 4, nwbfx_ids, "ElementIdentifiers");
	nwbfx_f64(g, "spike_times", sizeof spikes / sizeof *spikes, 0, spikes, "VectorData");
	nwbfx_index(file, g, "spike_times_index", 4, end, "/units/spike_times");
	nwbfx_f64(g, "obs_intervals", 5, 2, &nwbfx_obs[0][0], "VectorData");
	nwbfx_index(file, g, "obs_intervals_index", 4, nwbfx_obs_end, "/units/obs_intervals");
	nwbfx_strings(g, "quality", 4, nwbfx_quality, "VectorData");
	if (area) {
		nwbfx_strings(g, "brain_area", 4, nwbfx_unit_area, "VectorData");
	} else {
		static const int64_t one_each[] = { 1, 2, 3, 4 };
		hid_t d = nwbfx_data(g, "electrodes", H5T_STD_I64LE, H5T_NATIVE_INT64, 4, 0,
				     nwbfx_unit_electrode, "DynamicTableRegion");
		nwbfx_attr_ref(d, "table", file, "/general/extracellular_ephys/electrodes");
		H5Dclose(d);
		nwbfx_index(file, g, "electrodes_index", 4, one_each, "/units/electrodes");
	}
	H5Gclose(g);
}

static void nwbfx_general(hid_t file, int electrodes)
{
	hid_t g = nwbfx_group(file, "general", NULL, NULL);
	hid_t e = nwbfx_group(g, "extracellular_ephys", NULL, NULL);
	if (electrodes) {
		static const int64_t ids[] = { 0, 1, 2 };
		static const char *const cols[] = { "location", "group_name" };
		static const char *const group_name[] = { "probe00", "probe00", "probe01" };
		hid_t t = nwbfx_group(e, "electrodes", "DynamicTable", "metadata about electrodes");
		nwbfx_colnames(t, 2, cols);
		nwbfx_i64(t, "id", 3, ids, "ElementIdentifiers");
		nwbfx_strings(t, "location", 3, nwbfx_locations, "VectorData");
		nwbfx_strings(t, "group_name", 3, group_name, "VectorData");
		H5Gclose(t);
	}
	H5Gclose(e), H5Gclose(g);
}

static void nwbfx_trials(hid_t file)
{
	static const int64_t ids[] = { 0, 1, 2, 3 };
	static const char *const cols[] = { "start_time", "stop_time", "stimOn_times", "choice",
					    "contrastLeft", "contrastRight", "probabilityLeft",
					    "reach_dir", "outcome" };
	hid_t iv = nwbfx_group(file, "intervals", NULL, NULL);
	hid_t t = nwbfx_group(iv, "trials", "TimeIntervals", "experimental trials");
	nwbfx_colnames(t, 9, cols);
	nwbfx_i64(t, "id", 4, ids, "ElementIdentifiers");
	nwbfx_f64(t, "start_time", 4, 0, nwbfx_start, "VectorData");
	nwbfx_f64(t, "stop_time", 4, 0, nwbfx_stop, "VectorData");
	nwbfx_f64(t, "stimOn_times", 4, 0, nwbfx_stim_on, "VectorData");
	nwbfx_f64(t, "choice", 4, 0, nwbfx_choice, "VectorData");
	nwbfx_f64(t, "contrastLeft", 4, 0, nwbfx_contrast_left, "VectorData");
	nwbfx_f64(t, "contrastRight", 4, 0, nwbfx_contrast_right, "VectorData");
	nwbfx_f64(t, "probabilityLeft", 4, 0, nwbfx_prob_left, "VectorData");
	nwbfx_i64(t, "reach_dir", 4, nwbfx_reach_dir, "VectorData");
	nwbfx_strings(t, "outcome", 4, nwbfx_outcome, "VectorData");
	H5Gclose(t), H5Gclose(iv);
}

static void nwbfx_series(hid_t file)
{
	static double wheel[NWBFX_WHEEL_N], hand[NWBFX_HAND_N][2], hand_t[NWBFX_HAND_N];
	for (int i = 0; i < NWBFX_WHEEL_N; i++)
		wheel[i] = NWBFX_WHEEL(i / 64.0);
	for (int i = 0; i < NWBFX_HAND_N; i++) {
		hand_t[i] = NWBFX_HAND_T(i);
		hand[i][0] = hand_t[i], hand[i][1] = 1 - hand_t[i] / 2;
	}
	double zero = 0;
	hid_t acq = nwbfx_group(file, "acquisition", NULL, NULL);
	hid_t w = nwbfx_group(acq, "wheel_velocity", "TimeSeries", "wheel velocity");
	nwbfx_f64(w, "data", NWBFX_WHEEL_N, 0, wheel, NULL);
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(w, "starting_time", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero);
	double rate = 64;
	hid_t a = H5Acreate2(d, "rate", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_DOUBLE, &rate);
	nwbfx_attr_str(d, "unit", "seconds");
	H5Aclose(a), H5Dclose(d), H5Sclose(s);
	hid_t proc = nwbfx_group(file, "processing", NULL, NULL);
	hid_t beh = nwbfx_group(proc, "behavior", "ProcessingModule", "behaviour");
	hid_t h = nwbfx_group(beh, "hand_vel", "TimeSeries", "hand velocity (x, y)");
	nwbfx_f64(h, "data", NWBFX_HAND_N, 2, &hand[0][0], NULL);
	nwbfx_f64(h, "timestamps", NWBFX_HAND_N, 0, hand_t, NULL);
	H5Gclose(h), H5Gclose(beh), H5Gclose(proc), H5Gclose(w), H5Gclose(acq);
}

/* The fixture file at path: 0, or -1 if HDF5 failed to create it. */
static int nwbfx_write(const char *path, const char *variant)
{
	hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
	if (!strcmp(variant, "userblock"))
		H5Pset_userblock(fcpl, 512);
	hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
	H5Pclose(fcpl);
	if (file < 0)
		return -1;
	nwbfx_typed(file, "NWBFile", NULL);
	nwbfx_attr_str(file, "nwb_version", "2.6.0");
	nwbfx_text(file, "identifier", "fixture-0001");
	nwbfx_text(file, "session_description", "axon test fixture: four units, four trials");
	nwbfx_text(file, "session_start_time", "2026-01-01T00:00:00+00:00");
	nwbfx_text(file, "timestamps_reference_time", "2026-01-01T00:00:00+00:00");
	int area = !strcmp(variant, "brain_area");
	nwbfx_general(file, !area);
	if (strcmp(variant, "no-units"))
		nwbfx_units(file, variant);
	nwbfx_trials(file);
	nwbfx_series(file);
	return H5Fclose(file) < 0 ? -1 : 0;
}
