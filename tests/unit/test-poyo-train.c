/* test-poyo-train.c — poyo-train: tokenisation of a hand-made session,
 * the stitched R^2 against a direct computation, unit-identification
 * fine-tuning changes only the embeddings it may, and the session checks. */
#include "testutil.h"

#include "../../cmd/poyo-train/data.c"
#include "../../cmd/poyo-train/eval.c"
#include "../../cmd/poyo-train/model.c"
#include "../../cmd/poyo-train/settings.c"
#include "../../cmd/poyo-train/token.c"
#include "../../cmd/poyo-train/train.c"

#include <math.h>
#include <string.h>

/* A hand-made session: 3 units, 2 trials of 1.5 s, behaviour at 10 Hz. */
static const float tok_spike_t[] = { 0.10f, 0.35f, 0.50f, 0.50f, 1.20f, 1.60f, 2.90f };
static const int32_t tok_spike_u[] = { 0, 2, 1, 0, 0, 2, 1 };
static const float tok_start[] = { 0.0f, 1.5f }, tok_end[] = { 1.5f, 3.0f };

static void tok_session(struct poyo_session *s, float *hand_t, float *vel)
{
	memset(s, 0, sizeof *s);
	s->U = 3, s->K = AX_COUNTOF(tok_spike_t), s->spike_t = tok_spike_t;
	s->spike_u = tok_spike_u, s->M = 2, s->trial_start = tok_start, s->trial_end = tok_end;
	s->S = 30, s->hand_t = hand_t, s->hand_vel = vel, s->ntrain = 1;
	for (int i = 0; i < 30; i++)
		hand_t[i] = 0.1f * (float)i, vel[2 * i] = (float)i, vel[2 * i + 1] = -(float)i;
}

static void test_tokens(void **state)
{
	(void)state;
	float hand_t[30], vel[60];
	struct poyo_session s;
	tok_session(&s, hand_t, vel);
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	/* Window 0 at t0 = 0.3 in trial 0, all units; window 1 at t0 = 0 with
	 * unit 1 dropped. The session is the model's session 2 of units offset 10. */
	struct poyo_window w[2] = { { .session = 0, .t0 = 0.3, .trial = 0 },
				    { .session = 0, .t0 = 0.0, .trial = 0 } };
	uint8_t all[3] = { 1, 1, 1 }, drop1[3] = { 1, 0, 1 };
	const uint8_t *keep[2] = { all, drop1 };
	int offsets[3] = { 0, 4, 10 };
	struct poyo_batch b;
	poyo_batch_make(&t, &s, 2, w, 2, keep, offsets, &b);
	/* Window 0: 3 starts, spikes at 0.35 (u2), 0.5 (u1), 0.5 (u0), 1.2 (u0), 3 ends. */
	assert_int_equal(b.T, 10);
	const int32_t unit0[10] = { 10, 11, 12, 12, 11, 10, 10, 10, 11, 12 };
	const int32_t type0[10] = { 1, 1, 1, 0, 0, 0, 0, 2, 2, 2 };
	const float time0[10] = { 0, 0, 0, 0.35f - 0.3f, 0.5f - 0.3f, 0.5f - 0.3f, 1.2f - 0.3f, 1, 1, 1 };
	for (int j = 0; j < 10; j++) {
		assert_int_equal(b.unit[j], unit0[j]);
		assert_int_equal(b.type[j], type0[j]);
		assert_true(fabsf(b.time[j] - time0[j]) < 1e-6f);
		assert_int_equal(b.pad[j], 0);
		if (j)
			assert_true(b.time[j] >= b.time[j - 1]);   /* time order */
	}
	/* Window 1: units 0, 2: 2 starts, spikes 0.1 (u0), 0.35 (u2), 0.5 (u0), 2 ends; padded. */
	const int32_t unit1[7] = { 10, 12, 10, 12, 10, 10, 12 };
	for (int j = 0; j < 10; j++) {
		assert_int_equal(b.pad[10 + j], j >= 7);
		if (j < 7)
			assert_int_equal(b.unit[10 + j], unit1[j]);
		else
			assert_true(b.unit[10 + j] == 0 && b.type[10 + j] == 0 && b.time[10 + j] == 0);
	}
	assert_int_equal(b.session[0], 2);
	/* Queries: samples of trial 0 inside [t0, t0 + 1): window 0 = samples 3..12
	 * (0.3 .. 1.2), window 1 = 0..9; Q = 10, none padded. */
	assert_int_equal(b.Q, 10);
	for (int q = 0; q < 10; q++) {
		assert_int_equal(b.qsample[q], 3 + q);
		assert_true(fabsf(b.qtime[q] - (hand_t[3 + q] - 0.3f)) < 1e-6f);
		assert_int_equal(b.qsample[10 + q], q);
	}
	/* A window near the trial's end scores only the trial's samples: 1.0 + 1 s
	 * would reach 2.0 but trial 0 ends at 1.5 -> samples 10..14, padded to 5. */
	struct poyo_window late = { .session = 0, .t0 = 1.0, .trial = 0 };
	poyo_batch_make(&t, &s, 0, &late, 1, NULL, offsets, &b);
	assert_int_equal(b.Q, 5);
	assert_int_equal(b.qsample[0], 10);
	assert_int_equal(b.qsample[4], 14);
	ax_tape_free(&t);
	ax_arena_free(&a);
}

static void test_unit_dropout(void **state)
{
	(void)state;
	struct ax_rng r;
	ax_rng_seed(&r, 5);
	uint8_t keep[40];
	int lo = 40, hi = 0;
	for (int i = 0; i < 200; i++) {
		poyo_unit_dropout(&r, 40, keep);
		int k = 0;
		for (int u = 0; u < 40; u++)
			k += keep[u];
		lo = AX_MIN(lo, k), hi = AX_MAX(hi, k);
	}
	assert_true(lo >= 20 && hi <= 40 && hi > lo);
}

/* A small synthetic session with cosine-tuned units (5 trials of 1.8 s). */
struct synth {
	float *spike_t, *hand_t, *vel, start[5], end[5];
	int32_t *spike_u;
};

static void synth_session(struct poyo_session *s, struct synth *y, uint64_t seed)
{
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	memset(s, 0, sizeof *s);
	int S = 5 * 180, cap = 20000, K = 0;
	y->hand_t = ax_xmalloc((size_t)S * sizeof(float));
	y->vel = ax_xmalloc((size_t)S * 2 * sizeof(float));
	y->spike_t = ax_xmalloc((size_t)cap * sizeof(float));
	y->spike_u = ax_xmalloc((size_t)cap * sizeof(int32_t));
	for (int m = 0; m < 5; m++)
		y->start[m] = 1.8f * m, y->end[m] = 1.8f * (m + 1);
	for (int i = 0; i < S; i++) {
		double tt = 0.01 * i, ph = 2 * M_PI * tt / 1.8;
		y->hand_t[i] = (float)tt;
		y->vel[2 * i] = (float)sin(ph), y->vel[2 * i + 1] = (float)cos(3 * ph);
		for (int u = 0; u < 4; u++) {
			double rate = 20 * exp(0.8 * (u % 2 ? y->vel[2 * i] : y->vel[2 * i + 1]));
			for (int k = 0; k < 10; k++)   /* 1 ms steps */
				if (ax_rng_uniform(&r) < rate * 1e-3 && K < cap)
					y->spike_t[K] = (float)(tt + k * 1e-3), y->spike_u[K++] = u;
		}
	}
	s->U = 4, s->K = (size_t)K, s->spike_t = y->spike_t, s->spike_u = y->spike_u;
	s->S = S, s->hand_t = y->hand_t, s->hand_vel = y->vel, s->M = 5;
	s->trial_start = y->start, s->trial_end = y->end, s->ntrain = 4;
	s->name = "synth";
	make_weights(s);
}

static void synth_free(struct poyo_session *s, struct synth *y)
{
	free(y->spike_t), free(y->spike_u), free(y->hand_t), free(y->vel), free(s->weight);
}

static struct poyo_config tiny_config(int *units, int n)
{
	return (struct poyo_config){ .dim = 8, .depth = 1, .cross_heads = 2, .self_heads = 1,
				     .latents = 2, .vel_scale = 2.0, .nsessions = n,
				     .units = units };
}

/* Stitched predictions: each test sample the mean of the windows (run one by
 * one here) that hold it; R^2 = 1 - SS_res/SS_tot per component, in double. */
static void test_stitched_r2(void **state)
{
	(void)state;
	struct poyo_session s;
	struct synth y;
	synth_session(&s, &y, 3);
	int units[1] = { 4 };
	struct poyo_config cfg = tiny_config(units, 1);
	struct poyo_model m;
	poyo_model_init(&m, &cfg, 9);
	float *pred = ax_xmalloc((size_t)s.S * 2 * sizeof(float));
	poyo_predict(&m, &s, 0, pred);
	/* Direct: windows 0, 0.5 and 0.8 s into the test trial (1.8 s long), at
	 * the very same times (the fastest rotary turns by 2 pi per 0.1 ms). */
	double sum[2 * 180] = { 0 }, cnt[180] = { 0 };
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	t.no_grad = 1;
	const double starts[3] = { y.start[4], (double)y.start[4] + 0.5, (double)y.end[4] - 1.0 };
	for (int wi = 0; wi < 3; wi++) {
		struct poyo_window w = { .session = 0, .t0 = starts[wi], .trial = 4 };
		struct poyo_batch b;
		poyo_batch_make(&t, &s, 0, &w, 1, NULL, m.offsets, &b);
		struct ax_tensor *out = poyo_forward(&t, &m, &b, NULL);
		for (int q = 0; q < b.Q; q++) {
			int k = b.qsample[q] - 720;
			sum[2 * k] += out->data[2 * q] * 2.0, sum[2 * k + 1] += out->data[2 * q + 1] * 2.0;
			cnt[k] += 1;
		}
		ax_tape_reset(&t);
	}
	for (int k = 0; k < s.S; k++)
		for (int c = 0; c < 2; c++) {
			if (k < 720) {
				assert_true(isnan(pred[2 * k + c]));
				continue;
			}
			assert_true(cnt[k - 720] > 0);
			double want = sum[2 * (k - 720) + c] / cnt[k - 720];
			if (!(fabs(pred[2 * k + c] - want) <= 1e-5 * (1 + fabs(want))))
				fail_msg("sample %d.%d: stitched %g, direct %g", k, c, pred[2 * k + c], want);
		}
	double r2, rx, ry, direct[2];
	int n;
	poyo_r2(&s, pred, &r2, &rx, &ry, &n);
	for (int c = 0; c < 2; c++) {
		double mean = 0, res = 0, tot = 0;
		for (int k = 720; k < 900; k++)
			mean += y.vel[2 * k + c] / 180.0;
		for (int k = 720; k < 900; k++) {
			res += pow(y.vel[2 * k + c] - pred[2 * k + c], 2);
			tot += pow(y.vel[2 * k + c] - mean, 2);
		}
		direct[c] = 1 - res / tot;
	}
	assert_int_equal(n, 180);
	assert_true(fabs(rx - direct[0]) < 1e-5 && fabs(ry - direct[1]) < 1e-5);
	assert_true(fabs(r2 - 0.5 * (direct[0] + direct[1])) < 1e-5);
	ax_tape_free(&t);
	ax_arena_free(&a);
	free(pred);
	poyo_model_free(&m);
	synth_free(&s, &y);
}

/* Unit identification on session 1 of a two-session model: after a few
 * steps only session 1's rows of unit_emb and session_emb have changed;
 * every other parameter and row keeps its bits. */
static void test_unit_id_only_embeddings(void **state)
{
	(void)state;
	struct poyo_session s;
	struct synth y;
	synth_session(&s, &y, 4);
	int units[2] = { 5, 4 };
	struct poyo_config cfg = tiny_config(units, 2);
	struct poyo_trainer tr;
	memset(&tr, 0, sizeof tr);
	poyo_model_init(&tr.m, &cfg, 1);
	tr.ss = &s, tr.ns = 1, tr.first = 1;
	tr.ts = (struct poyo_train_cfg){ .steps = 4, .batch = 3, .lr = 0.05, .weight_decay = 1e-4,
					 .flat = 0.5, .unit_id = 1 };
	optim_setup(&tr);
	struct ax_run_opts ro;
	ax_run_opts_default(&ro);
	ax_run_init(&tr.run, &ro, 4, 1);
	ax_arena_init(&tr.arena, 0);
	ax_tape_init(&tr.tape, &tr.arena);
	tr.tape.training = 1;
	struct poyo_window win[3];
	uint8_t k0[4], k1[4], k2[4], *keep[3] = { k0, k1, k2 };
	tr.win = win, tr.keep = keep;
	struct ax_params *p = &tr.m.params;
	float **before = ax_xmalloc((size_t)p->n * sizeof *before);
	for (int i = 0; i < p->n; i++) {
		before[i] = ax_xmalloc(p->list[i]->size * sizeof(float));
		memcpy(before[i], p->list[i]->data, p->list[i]->size * sizeof(float));
	}
	struct ax_rng base;
	ax_rng_seed(&base, 7);
	for (tr.run.step = 0; tr.run.step < 4; tr.run.step++)
		assert_true(isfinite(train_step(&tr, &base, 0.05f)));
	for (int i = 0; i < p->n; i++) {
		const struct ax_tensor *w = p->list[i];
		size_t keep_n = w->size, C = (size_t)cfg.dim;
		if (w == tr.m.unit_emb.w)
			keep_n = 5 * C;   /* session 0's rows */
		else if (w == tr.m.session_emb.w)
			keep_n = C;
		if (memcmp(w->data, before[i], keep_n * sizeof(float)))
			fail_msg("%s changed where unit identification may not change it", w->name);
		if (keep_n < w->size && !memcmp(w->data + keep_n, before[i] + keep_n,
						(w->size - keep_n) * sizeof(float)))
			fail_msg("%s: the new session's rows did not change", w->name);
		free(before[i]);
	}
	free(before);
	ax_tape_free(&tr.tape);
	ax_arena_free(&tr.arena);
	poyo_model_free(&tr.m);
	synth_free(&s, &y);
}

/* A new session's rows start at the pretrained rows' mean, spread as they
 * are: here rows 0-2 are (1, 2) + (+-3, 0) or (0, 0): mean (1, 2), RMS
 * distance from it sqrt(18 / 6) = sqrt(3); the new row z 0.02 becomes
 * (1, 2) + sqrt(3) z; the old rows keep their bits. */
static void test_new_rows_like_pretrained(void **state)
{
	(void)state;
	struct ax_arena a;
	ax_arena_init(&a, 0);
	struct ax_tensor *w = ax_tensor_2d(&a, 4, 2);
	float init[8] = { 4, 2, -2, 2, 1, 2, 0.02f, -0.04f };
	memcpy(w->data, init, sizeof init);
	poyo_rows_like_pretrained(w, 3);
	assert_memory_equal(w->data, init, 6 * sizeof(float));
	float want[2] = { 1 + sqrtf(3.0f), 2 - 2 * sqrtf(3.0f) };
	tu_assert_close(w->data + 6, want, 2, 1e-6, 0, "new row");
	ax_arena_free(&a);
}

/* Session checks: unsorted spikes, units out of range, no behaviour. */
static const char *write_session(const char *name, int unsorted, int32_t bad_unit, int no_hand)
{
	struct ax_bundle b;
	ax_bundle_init(&b);
	float st[3] = { 0.1f, unsorted ? 0.05f : 0.2f, 0.3f }, ht[2] = { 0, 0.01f }, hv[4] = { 0 };
	float ts[2] = { 0, 1 }, te[2] = { 1, 2 };
	int32_t su[3] = { 0, 1, bad_unit };
	ax_bundle_add_f32(&b, "spike_times", 1, (int64_t[]){ 3 }, st);
	ax_bundle_add(&b, "spike_units", AX_I32, 1, (int64_t[]){ 3 }, su);
	if (!no_hand) {
		ax_bundle_add_f32(&b, "hand_t", 1, (int64_t[]){ 2 }, ht);
		ax_bundle_add_f32(&b, "hand_vel", 2, (int64_t[]){ 2, 2 }, hv);
	}
	ax_bundle_add_f32(&b, "trial_start", 1, (int64_t[]){ 2 }, ts);
	ax_bundle_add_f32(&b, "trial_end", 1, (int64_t[]){ 2 }, te);
	ax_bundle_set_meta(&b, "units", "2");
	const char *path = tu_path(name);
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	return path;
}

static void test_session_checks(void **state)
{
	(void)state;
	struct poyo_session s;
	assert_int_equal(poyo_session_load(&s, write_session("ok.safetensors", 0, 1, 0)), AX_OK);
	assert_int_equal(s.ntrain, 1);
	poyo_session_free(&s);
	assert_int_equal(poyo_session_load(&s, write_session("u.safetensors", 1, 1, 0)),
			 AX_ERR_FORMAT);
	tu_assert_detail("not sorted in time");
	poyo_session_free(&s);
	assert_int_equal(poyo_session_load(&s, write_session("r.safetensors", 0, 2, 0)),
			 AX_ERR_FORMAT);
	tu_assert_detail("outside [0, 2)");
	poyo_session_free(&s);
	assert_int_equal(poyo_session_load(&s, write_session("n.safetensors", 0, -1, 0)),
			 AX_ERR_FORMAT);
	poyo_session_free(&s);
	assert_int_equal(poyo_session_load(&s, write_session("h.safetensors", 0, 1, 1)),
			 AX_ERR_FORMAT);
	tu_assert_detail("no 'hand_t'");
	poyo_session_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_unit_dropout),
		cmocka_unit_test(test_stitched_r2),
		cmocka_unit_test(test_unit_id_only_embeddings),
		cmocka_unit_test(test_new_rows_like_pretrained),
		cmocka_unit_test(test_session_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
