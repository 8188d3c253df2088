/* test-agent-probe.c — agent-probe's gridworld rules and determinism, the
 * band mask on the attention weights, attention rows summing to 1, head
 * ablation and activation patching at their limits, checkpoints. */
#include "testutil.h"

#include "../../cmd/agent-probe/env.c"
#include "../../cmd/agent-probe/model.c"
#include "../../cmd/agent-probe/output.c"
#include "../../cmd/agent-probe/patch.c"
#include "../../cmd/agent-probe/probe.c"
#include "../../cmd/agent-probe/rollout.c"
#include "../../cmd/agent-probe/train.c"

#include <math.h>
#include <string.h>

/* A world with the trees where the test wants them. */
static void env_at(struct ap_env *e, int cue, int x0, int x1, int edits)
{
	struct ax_rng r;
	ax_rng_seed(&r, 1);
	ap_env_reset(e, &r, edits);
	e->cue = cue, e->tree_x[0] = x0, e->tree_x[1] = x1;
}

static float cell(const float *obs, int dx, int dy, int ch)
{
	return obs[((dy + 2) * AP_VIEW + dx + 2) * AP_CH + ch];
}

static void test_env_rules(void **state)
{
	struct ap_env e;
	float obs[AP_OBS];
	env_at(&e, 1, 5, 8, 0);
	assert_int_equal(e.ax, 5), assert_int_equal(e.ay, 7);
	ap_env_observe(&e, 0, obs);
	assert_true(cell(obs, 0, 0, AP_C_BLUE) == 1 && cell(obs, 0, 0, AP_C_RED) == 0);
	assert_true(cell(obs, 0, 2, AP_C_WALL) == 1);    /* the bottom wall, then outside */
	assert_true(obs[AP_VIEW * AP_VIEW * AP_CH] == 1); /* no wood */
	/* Up to (5,3): the trunk at (5,2) blocks the next move. */
	for (int k = 0; k < 4; k++)
		assert_true(ap_env_step(&e, AP_UP) == 0);
	assert_int_equal(e.ay, 3);
	assert_false(ap_env_cue_visible(&e));
	ap_env_observe(&e, 0, obs);
	assert_true(cell(obs, 0, -1, AP_C_BROWN) == 1 && cell(obs, 0, -2, AP_C_GREEN) == 1);
	assert_true(cell(obs, 0, 0, AP_C_BLUE) == 0);
	/* The left door stays shut without the wood. */
	for (int k = 0; k < 6; k++)
		ap_env_step(&e, AP_LEFT);
	assert_int_equal(e.ax, 1);
	assert_false(e.done);
	/* Back, chop tree 0 from below, then tree 1 from its left side. */
	for (int k = 0; k < 4; k++)
		ap_env_step(&e, AP_RIGHT);
	assert_true(fabsf(ap_env_step(&e, AP_ATTACK) - 0.1f) < 1e-6f);
	assert_int_equal(e.wood, 1);
	assert_true(e.chopped[0]);
	ap_env_step(&e, AP_UP);                          /* the trunk is gone: move in */
	assert_int_equal(e.ay, 2);
	ap_env_step(&e, AP_RIGHT), ap_env_step(&e, AP_RIGHT);
	assert_int_equal(e.ax, 7);
	ap_env_step(&e, AP_ATTACK);
	assert_int_equal(e.wood, 2);
	/* The cue said right: the left door fails, the right one succeeds. */
	struct ap_env f = e;
	f.ax = 1, f.ay = 3;
	assert_true(ap_env_step(&f, AP_LEFT) == 0 && f.done && !f.success);
	f = e;
	f.ax = 9, f.ay = 3;
	assert_true(ap_env_step(&f, AP_RIGHT) == 1 && f.done && f.success);
	/* Time runs out at AP_TMAX steps. */
	f = e;
	while (!f.done)
		ap_env_step(&f, AP_ATTACK);
	assert_int_equal(f.t, AP_TMAX);
	assert_false(f.success);
}

/* The same seed gives the same worlds and expert episodes; the expert
 * solves every world in time. */
static void test_env_determinism_and_expert(void **state)
{
	enum { N = 200 };
	float *o1 = malloc((size_t)N * AP_TMAX * AP_OBS * sizeof(float));
	float *o2 = malloc((size_t)N * AP_TMAX * AP_OBS * sizeof(float));
	int32_t a1[N * AP_TMAX], a2[N * AP_TMAX];
	struct ax_rng r1, r2;
	ax_rng_seed(&r1, 9), ax_rng_seed(&r2, 9);
	int l1 = ap_expert_batch(&r1, N, 0.2f, o1, a1), l2 = ap_expert_batch(&r2, N, 0.2f, o2, a2);
	assert_int_equal(l1, l2);
	assert_memory_equal(o1, o2, (size_t)N * AP_TMAX * AP_OBS * sizeof(float));
	assert_memory_equal(a1, a2, sizeof a1);
	struct ax_rng r;
	ax_rng_seed(&r, 3);
	int cues[2] = { 0 }, longest = 0;
	for (int i = 0; i < N; i++) {
		struct ap_env e;
		ap_env_reset(&e, &r, 0);
		assert_true(abs(e.tree_x[0] - e.tree_x[1]) >= 2);
		cues[e.cue]++;
		while (!e.done)
			ap_env_step(&e, ap_env_expert(&e));
		assert_true(e.success);
		longest = AX_MAX(longest, e.t);
	}
	assert_true(cues[0] > 60 && cues[1] > 60);
	assert_true(longest < 32);   /* the cue stays in a 32-step memory */
	free(o1), free(o2);
}

static void test_edits(void **state)
{
	int ed;
	assert_int_equal(ap_edit_parse("lookalike,nocue", &ed), AX_OK);
	assert_int_equal(ed, AP_EDIT_LOOKALIKE | AP_EDIT_NOCUE);
	assert_int_equal(ap_edit_parse("none", &ed), AX_OK);
	assert_int_equal(ed, 0);
	assert_int_equal(ap_edit_parse("tree", &ed), AX_ERR_ARG);
	tu_assert_detail("'tree' is not an edit");
	assert_int_equal(ap_edit_parse("nocue,", &ed), AX_ERR_ARG);
	assert_int_equal(ap_edit_parse("", &ed), AX_ERR_ARG);
	assert_int_equal(ap_edit_parse("lookalike,control", &ed), AX_ERR_ARG);
	assert_int_equal(ap_edit_parse("nocue,swapcue", &ed), AX_ERR_ARG);

	struct ap_env e;
	float obs[AP_OBS], plain[AP_OBS];
	env_at(&e, 0, 5, 8, AP_EDIT_LOOKALIKE | AP_EDIT_SWAPCUE);
	assert_int_equal(e.need, 1);
	ap_env_observe(&e, e.edits, obs);
	ap_env_observe(&e, 0, plain);
	assert_true(cell(obs, 0, 0, AP_C_BLUE) == 1 && cell(plain, 0, 0, AP_C_RED) == 1);
	e.ay = 3;
	assert_true(ap_env_odd_adjacent(&e));
	ap_env_observe(&e, e.edits, obs);
	ap_env_observe(&e, 0, plain);
	assert_true(cell(obs, 0, -1, AP_C_BROWN) == 1 && cell(obs, 0, -1, AP_C_FACE) == 1);
	assert_true(cell(obs, 0, -2, AP_C_GREEN) == 1);
	assert_true(cell(plain, 0, -1, AP_C_BROWN) == 1 && cell(plain, 0, -1, AP_C_FACE) == 0);
	ap_env_step(&e, AP_ATTACK);
	assert_int_equal(e.wood, 0);
	assert_int_equal(e.odd_hits, 1);
	assert_false(e.chopped[0]);

	env_at(&e, 0, 5, 8, AP_EDIT_CONTROL | AP_EDIT_MOVECUE);
	e.ay = 3;
	ap_env_observe(&e, e.edits, obs);
	assert_true(cell(obs, 0, -1, AP_C_PURPLE) == 1 && cell(obs, 0, -1, AP_C_BROWN) == 0);
	assert_true(cell(obs, 0, -2, AP_C_GREEN) == 0);
	assert_true(cell(obs, 0, 1, AP_C_RED) == 1);    /* moved to (5,4) */
	ap_env_observe(&e, 0, plain);
	assert_true(cell(plain, 0, 1, AP_C_RED) == 0 && cell(plain, 0, -2, AP_C_GREEN) == 1);
}

static void tiny_model(struct ap_model *m, int memory)
{
	struct ap_config c;
	ap_config_default(&c);
	c.memory = memory, c.dim = 16, c.heads = 2, c.layers = 2;
	ap_model_init(m, &c, 5);
}

static float *random_obs(int n, uint64_t seed)
{
	float *obs = malloc((size_t)n * AP_TMAX * AP_OBS * sizeof(float));
	int32_t *act = malloc((size_t)n * AP_TMAX * sizeof(int32_t));
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	ap_expert_batch(&r, n, 0.3f, obs, act);
	free(act);
	return obs;
}

/* No weight outside the band (t - K < s <= t), and rows sum to 1. */
static void test_band_mask_and_rows(void **state)
{
	enum { N = 3, K = 5, L = 2, H = 2, T = AP_TMAX };
	struct ap_model m;
	tiny_model(&m, K);
	float *obs = random_obs(N, 4);
	float *probs = malloc((size_t)L * N * H * T * T * sizeof(float));
	struct ap_probe p = { .probs = probs };
	free(ap_logits(&m, N, obs, &p));
	for (int k = 0; k < L * N * H; k++)
		for (int t = 0; t < T; t++) {
			const float *row = probs + ((size_t)k * T + t) * T;
			double s = 0;
			for (int j = 0; j < T; j++) {
				if (j > t || t - j >= K)
					assert_true(row[j] == 0);
				else
					assert_true(row[j] > 0);
				s += row[j];
			}
			assert_true(fabs(s - 1) < 1e-5);
		}
	free(probs);
	/* The summary's offset rows sum to 1 too. */
	struct ap_episodes ep;
	ap_rollout(&m, 2, 4, 0, 1.0f, NULL, &ep);
	float *att = ap_episode_attention(&m, &ep);
	struct ap_attn_summary s;
	ap_attention_summary(&m, &ep, att, &s);
	for (int k = 0; k < L * H; k++) {
		double sum = 0;
		for (int o = 0; o < K; o++)
			sum += s.by_offset[k * K + o];
		assert_true(fabs(sum - 1) < 1e-5);
		assert_true(s.last4[k] + s.cue[k] + s.trees[k] <= 1 + 1e-5);
	}
	ap_attn_summary_free(&s);
	free(att);
	ap_episodes_free(&ep);
	free(obs);
	ap_model_free(&m);
}

/* Gain 1 on every head (no ablation) changes no bit; zeroing one does. */
static void test_ablation(void **state)
{
	enum { N = 2 };
	struct ap_model m;
	tiny_model(&m, 32);
	float *obs = random_obs(N, 6);
	float ones[4] = { 1, 1, 1, 1 }, one_off[4] = { 1, 0, 1, 1 };
	float *plain = ap_logits(&m, N, obs, NULL);
	struct ap_probe p = { .head_gain = ones };
	float *same = ap_logits(&m, N, obs, &p);
	assert_memory_equal(plain, same, (size_t)N * AP_TMAX * AP_NACT * sizeof(float));
	p.head_gain = one_off;
	float *diff = ap_logits(&m, N, obs, &p);
	assert_true(memcmp(plain, diff, (size_t)N * AP_TMAX * AP_NACT * sizeof(float)) != 0);
	double rows[2 * 5];
	ap_ablate(&m, 3, 4, AP_EDIT_LOOKALIKE, rows);
	struct ap_episodes ep;
	ap_rollout(&m, 3, 4, 0, 0, NULL, &ep);
	assert_true(rows[0] == ap_success_rate(&ep));
	ap_episodes_free(&ep);
	free(plain), free(same), free(diff), free(obs);
	ap_model_free(&m);
}

/* Against itself every effect is 0 (0/0 handled); patching every head at
 * every step restores the clean run exactly: effect 1. */
static void test_patching_limits(void **state)
{
	struct ap_model m;
	tiny_model(&m, 32);
	struct ap_patch_result p;
	ap_patch(&m, 4, 3, 1, &p);
	assert_true(p.clean == p.corrupted);
	assert_true(p.all_effect == 0);
	for (int k = 0; k < p.L * p.T * p.H; k++)
		assert_true(p.effect[k] == 0);
	for (int k = 0; k < p.L * p.T; k++)
		assert_true(p.resid[k] == 0);
	ap_patch_free(&p);
	ap_patch(&m, 4, 3, 0, &p);
	assert_true(p.clean != p.corrupted);
	assert_true(fabs(p.all_effect - 1) < 1e-12);
	double s = 0;
	for (int t = 0; t < p.T; t++)
		s += p.rollout[t];
	assert_true(fabs(s - 1) < 1e-4);   /* rollout rows stay distributions */
	ap_patch_free(&p);
	ap_model_free(&m);
}

/* A checkpoint reloads to the same logits; a wrong kind or setting fails. */
static void test_checkpoint(void **state)
{
	struct ap_model m, back;
	tiny_model(&m, 7);
	struct ax_bundle b;
	ap_model_save_bundle(&m, &b);
	const char *path = tu_path("m.ckpt");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	assert_int_equal(ap_model_load(&back, path), AX_OK);
	assert_int_equal(back.cfg.memory, 7);
	float *obs = random_obs(2, 8);
	float *l1 = ap_logits(&m, 2, obs, NULL), *l2 = ap_logits(&back, 2, obs, NULL);
	assert_memory_equal(l1, l2, (size_t)2 * AP_TMAX * AP_NACT * sizeof(float));
	ap_model_free(&back);

	ap_model_save_bundle(&m, &b);
	ax_bundle_set_meta(&b, "agent_probe.memory", "0");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	assert_int_equal(ap_model_load(&back, path), AX_ERR_FORMAT);
	tu_assert_detail("--memory");
	ax_ckpt_begin(&b, "mod-lm");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	assert_true(ap_model_load(&back, path) != AX_OK);
	tu_assert_detail("not agent-probe");
	free(l1), free(l2), free(obs);
	ap_model_free(&m);
}

/* The forward and its attention weights match the PyTorch reference
 * (scripts/ref/agent_probe.py --golden) with the reference's weights. */
static void test_matches_pytorch(void **state)
{
	struct ap_config c;
	ap_config_default(&c);
	c.memory = 5, c.dim = 16, c.layers = 2, c.heads = 2;
	struct ap_model m;
	ap_model_init(&m, &c, 1);
	struct ax_bundle b;
	assert_int_equal(ax_bundle_load(tu_ref("agent-probe/weights.safetensors"), &b), AX_OK);
	assert_int_equal(ax_params_from_bundle(&m.params, &b, ""), AX_OK);
	assert_int_equal(b.n, (int)m.params.n);   /* no name left over */
	ax_bundle_free(&b);
	struct ax_array obs, logits, probs;
	assert_int_equal(ax_npy_load(tu_ref("agent-probe/obs.npy"), &obs), AX_OK);
	assert_int_equal(ax_npy_load(tu_ref("agent-probe/logits.npy"), &logits), AX_OK);
	assert_int_equal(ax_npy_load(tu_ref("agent-probe/probs.npy"), &probs), AX_OK);
	int N = (int)obs.shape[0], T = (int)obs.shape[1];
	float *p = malloc(ax_array_count(&probs) * sizeof(float));
	struct ap_probe pr = { .probs = p };
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	ax_no_grad_begin(&t);
	struct ax_tensor *l = ap_model_forward(&t, &m, N, T, obs.data, &pr);
	assert_int_equal(l->size, ax_array_count(&logits));
	tu_assert_close(l->data, logits.data, l->size, 1e-4, 1e-4, "logits");
	tu_assert_close(p, probs.data, ax_array_count(&probs), 1e-5, 1e-4, "attention");
	ax_tape_free(&t);
	ax_arena_free(&a);
	free(p);
	ax_array_free(&obs), ax_array_free(&logits), ax_array_free(&probs);
	ap_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_rules),
		cmocka_unit_test(test_env_determinism_and_expert),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_band_mask_and_rows),
		cmocka_unit_test(test_ablation),
		cmocka_unit_test(test_patching_limits),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_matches_pytorch),
	};
	return cmocka_run_group_tests_name("agent-probe", tests, NULL, NULL);
}
