/* test-nwb-import.c — lib's NWB reader (lib/nwb.c, lib/nwb_tables.c) and
 * nwb-import's two layouts, checked exactly on the fixture written here
 * through libhdf5 (nwb_fixture.c) and on the same file written by h5py
 * (tests/ref/nwb-h5py.nwb, scripts/ref/nwb_fixture.py). */
#include "testutil.h"

#include "../../cmd/nwb-import/layout.c"
#include "../../cmd/nwb-import/trials.c"
#include "../../cmd/nwb-import/units.c"
#include "nwb_fixture.c"

#include <math.h>
#include <string.h>

static const char *fixture(const char *variant)
{
	char name[64];
	snprintf(name, sizeof name, "fixture-%s.nwb", variant);
	const char *path = tu_path(name);
	assert_int_equal(nwbfx_write(path, variant), 0);
	return path;
}

static const struct ax_array *get(const struct ax_bundle *b, const char *name, enum ax_dtype dt,
				  size_t count)
{
	const struct ax_array *a = ax_bundle_find(b, name);
	assert_non_null(a);
	assert_int_equal(a->dtype, dt);
	assert_int_equal(ax_array_count(a), count);
	return a;
}

static void assert_ints(const struct ax_bundle *b, const char *name, const int32_t *want, size_t n)
{
	const int32_t *v = get(b, name, AX_I32, n)->data;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], want[i]);
}

static void assert_meta(const struct ax_bundle *b, const char *key, const char *want)
{
	const char *v = ax_bundle_meta(b, key);
	assert_non_null(v);
	assert_string_equal(v, want);
}

/* The bundle of path with the options o (converted in this process). */
static void convert(const char *path, struct nwbi_opts *o, struct ax_bundle *b)
{
	struct ax_nwb *f;
	o->in = path, o->args = "nwb-import (test)";
	assert_int_equal(ax_nwb_open(&f, path), AX_OK);
	enum ax_status st = nwbi_bundle(f, o, b);
	if (st)
		fail_msg("%s", ax_error_detail());
	ax_nwb_close(f);
}

/* IBL-style: good units, choice -1/1 -> 0/1 with no-go trials dropped,
 * windows -0.25..0.5 s around stimOn_times in 12 bins, the wheel at bin centres. */
static void check_binned(const char *path)
{
	char *where[] = { "quality=good" };
	char *fields[] = { "choice=choice:-1=0,1=1,0=drop", "stimulus_side=contrastLeft:nan=1,*=0",
			   "contrast=contrastRight:nan=0", "block=probabilityLeft:0.8=0,0.2=1" };
	struct nwbi_opts o = { .layout = NWBI_BINNED, .align = "stimOn_times", .win_a = -0.25,
			       .win_b = 0.5, .bin = 0.0625, .where = where, .nwhere = 1,
			       .fields = fields, .nfields = 4, .behavior = "/acquisition/wheel_velocity" };
	struct ax_bundle b;
	convert(path, &o, &b);
	enum { M = 3, T = 12, N = 3 };
	static const struct { int m, k, n; float count; } hits[] = {
		{ 0, 0, 0, 2 }, { 0, 4, 0, 1 }, { 1, 10, 0, 1 }, { 2, 5, 0, 2 },
		{ 1, 0, 1, 1 }, { 1, 4, 1, 1 }, { 2, 0, 2, 1 }, { 2, 10, 2, 1 },
	};
	float want[M * T * N] = { 0 };
	for (size_t i = 0; i < AX_COUNTOF(hits); i++)
		want[(hits[i].m * T + hits[i].k) * N + hits[i].n] = hits[i].count;
	const float *counts = get(&b, "counts", AX_F32, M * T * N)->data;
	assert_int_equal(ax_bundle_find(&b, "counts")->shape[1], T);
	for (int i = 0; i < M * T * N; i++)
		assert_true(counts[i] == want[i]);
	static const double stim[M] = { 0.5, 2.5, 6.5 };
	const float *wheel = get(&b, "wheel", AX_F32, M * T)->data;
	for (int m = 0; m < M; m++)
		for (int k = 0; k < T; k++)
			assert_true(wheel[m * T + k] == (float)NWBFX_WHEEL(stim[m] - 0.25 + (k + 0.5) / 16));
	assert_ints(&b, "regions", (int32_t[]){ 0, 1, 0 }, N);
	assert_ints(&b, "unit_ids", (int32_t[]){ 10, 11, 13 }, N);
	assert_ints(&b, "choice", (int32_t[]){ 0, 1, 1 }, M);
	assert_ints(&b, "stimulus_side", (int32_t[]){ 0, 1, 1 }, M);
	assert_ints(&b, "block", (int32_t[]){ 0, 0, 1 }, M);
	const float *contrast = get(&b, "contrast", AX_F32, M)->data;
	assert_true(contrast[0] == 0 && contrast[1] == 0.5f && contrast[2] == 0.0625f);
	assert_meta(&b, "region_names", "CA1,DG");
	assert_meta(&b, "source.identifier", "fixture-0001");
	assert_meta(&b, "trials_dropped", "1");
	assert_meta(&b, "units_where", "quality=good");
	assert_meta(&b, "align", "stimOn_times");
	assert_meta(&b, "bins", "12");
	assert_meta(&b, "behavior_clamped", "0");
	ax_bundle_free(&b);
}

/* Reaching: every unit and spike (but unit 10's at 8.0 s, after its
 * observed interval), in time order; the hand resampled at 32 Hz between
 * samples taken at 1/128 + i/64 s. */
static void check_reach(const char *path, const char *region_source)
{
	char *fields[] = { "target=reach_dir", "outcome=outcome" };
	struct nwbi_opts o = { .layout = NWBI_REACH, .rate = 32, .fields = fields, .nfields = 2,
			       .behavior = "/processing/behavior/hand_vel" };
	struct ax_bundle b;
	convert(path, &o, &b);
	static const float times[] = { 0.1f, 0.26f, 0.30f, 0.52f, 1.1f, 2.3f, 2.53f,
				       2.9f, 4.7f, 6.3f, 6.6f, 6.61f, 6.9f };
	const float *st = get(&b, "spike_times", AX_F32, 13)->data;
	for (int i = 0; i < 13; i++)
		assert_true(st[i] == times[i]);
	assert_ints(&b, "spike_units", (int32_t[]){ 0, 0, 0, 0, 0, 1, 1, 0, 1, 3, 0, 0, 3 }, 13);
	const float *ht = get(&b, "hand_t", AX_F32, 255)->data;
	const float *hv = get(&b, "hand_vel", AX_F32, 255 * 2)->data;
	for (int k = 0; k < 255; k++) {
		double t = (k + 1) / 32.0;
		assert_true(ht[k] == (float)t);
		assert_true(hv[2 * k] == (float)t && hv[2 * k + 1] == (float)(1 - t / 2));
	}
	assert_ints(&b, "target", (int32_t[]){ 0, 3, 5, 7 }, 4);
	assert_ints(&b, "outcome", (int32_t[]){ 0, 1, 0, 0 }, 4);
	assert_ints(&b, "regions", (int32_t[]){ 0, 1, 2, 0 }, 4);
	const float *ts = get(&b, "trial_start", AX_F32, 4)->data, *te = get(&b, "trial_end", AX_F32, 4)->data;
	for (int m = 0; m < 4; m++)
		assert_true(ts[m] == (float)nwbfx_start[m] && te[m] == (float)nwbfx_stop[m]);
	assert_meta(&b, "region_names", "CA1,DG,PO");
	assert_meta(&b, "region_source", region_source);
	assert_meta(&b, "outcome_names", "hit,miss");
	assert_meta(&b, "spikes_outside_obs_intervals", "1");
	assert_meta(&b, "hand_rate", "32");
	assert_meta(&b, "axon.kind", "nwb-import.reach");
	ax_bundle_free(&b);
}

static void test_layouts(void **state)
{
	const char *good = fixture("good");
	check_binned(good);
	check_reach(good, "/general/extracellular_ephys/electrodes/location");
	check_reach(fixture("brain_area"), "/units/brain_area");
}

static void test_h5py_file(void **state)
{
	check_binned(tu_ref("nwb-h5py.nwb"));
	check_reach(tu_ref("nwb-h5py.nwb"), "/general/extracellular_ephys/electrodes/location");
}

static void test_reader(void **state)
{
	struct ax_nwb *f;
	assert_int_equal(ax_nwb_open(&f, fixture("good")), AX_OK);
	struct ax_nwb_units u;
	assert_int_equal(ax_nwb_units_load(f, &u), AX_OK);
	assert_int_equal(u.n, 4);
	assert_int_equal(u.nspikes, 14);
	assert_true(u.id[3] == 13 && u.end[2] == 12 && u.times[13] == 6.9);
	ax_nwb_units_free(&u);
	char **paths;
	int n;
	assert_int_equal(ax_nwb_series_list(f, &paths, &n), AX_OK);
	assert_int_equal(n, 2);
	assert_string_equal(paths[0], "/acquisition/wheel_velocity");
	assert_string_equal(paths[1], "/processing/behavior/hand_vel");
	ax_nwb_names_free(paths, n);
	struct ax_nwb_series s;
	assert_int_equal(ax_nwb_series_load(f, "/acquisition/wheel_velocity", &s), AX_OK);
	assert_true(s.n == NWBFX_WHEEL_N && s.dim == 1 && s.t[64] == 1.0 && s.data[64] == 2.0);
	ax_nwb_series_free(&s);
	char *type;
	assert_int_equal(ax_nwb_attr_string(f, "/units", "neurodata_type", &type), AX_OK);
	assert_string_equal(type, "Units");
	free(type);
	assert_int_equal(ax_nwb_series_load(f, "/acquisition/nothing", &s), AX_ERR_NOTFOUND);
	tu_assert_detail("/acquisition/nothing");
	ax_nwb_close(f);
}

/* Each malformed file: the status and the path inside the file named. */
static void test_bad_files(void **state)
{
	static const struct { const char *variant, *detail; } cases[] = {
		{ "no-units", "/units: no such group" },
		{ "index-past-end", "/units/spike_times_index: offset 3 (15) is past the end" },
		{ "index-decreasing", "/units/spike_times_index: offset 2 (8) is less than" },
		{ "spikes-unordered", "/units/spike_times: spike times out of order within unit 1" },
	};
	for (size_t i = 0; i < AX_COUNTOF(cases); i++) {
		struct ax_nwb *f;
		struct ax_nwb_units u;
		assert_int_equal(ax_nwb_open(&f, fixture(cases[i].variant)), AX_OK);
		assert_int_not_equal(ax_nwb_units_load(f, &u), AX_OK);
		tu_assert_detail(cases[i].detail);
		ax_nwb_close(f);
	}
	struct ax_nwb *f;
	assert_int_equal(ax_nwb_open(&f, tu_write_file("text.nwb", "not hdf5\n", 9)), AX_ERR_FORMAT);
	tu_assert_detail("not an HDF5 file");
	assert_int_equal(ax_nwb_open(&f, tu_path("absent.nwb")), AX_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_h5py_file),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
