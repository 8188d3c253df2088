/* test-mod-lm.c — Mixture-of-Depths model internals (cmd/mod-lm). The
 * command's model files are compiled in directly: they are not library code. */
#include "testutil.h"

#include "../../cmd/mod-lm/data.c"
#include "../../cmd/mod-lm/settings.c"
#include "../../cmd/mod-lm/model.c"
#include "../../cmd/mod-lm/eval.c"
#include "../../cmd/mod-lm/train.c"
#include "../../cmd/mod-lm/sample.c"

static struct mod_config tiny_config(double capacity, enum mod_pos pos, int predictor)
{
	return (struct mod_config){ .layers = 4, .dim = 16, .heads = 2, .ctx = 16, .hidden = 32,
				    .pos = pos, .capacity = capacity, .route_every = 2,
				    .route = MOD_ROUTE_LEARNED, .predictor = predictor };
}

/* A model and a fresh tape on its own arena. */
struct fix {
	struct mod_model m;
	struct ax_arena a;
	struct ax_tape t;
};

static void fix_init(struct fix *f, const struct mod_config *c, uint64_t seed)
{
	mod_model_init(&f->m, c, seed);
	ax_arena_init(&f->a, 0);
	ax_tape_init(&f->t, &f->a);
}

static void fix_free(struct fix *f)
{
	ax_tape_free(&f->t);
	ax_arena_free(&f->a);
	mod_model_free(&f->m);
}

static void random_tokens(int32_t *tok, int n, uint64_t seed)
{
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	for (int i = 0; i < n; i++)
		tok[i] = (int32_t)ax_rng_below(&r, MOD_VOCAB);
}

/* At capacity 1 (k = S, every token selected, no router multiplier) the
 * routed path — top-k, gather, attention at the original positions,
 * scatter — computes the dense block bit for bit. */
static void test_full_capacity_routed_equals_dense(void **state)
{
	(void)state;
	for (int pos = MOD_POS_LEARNED; pos <= MOD_POS_ROPE; pos++) {
		struct mod_config c = tiny_config(0.5, pos, 0);
		struct fix f;
		fix_init(&f, &c, 7);
		int B = 3, S = 16, C = c.dim;
		struct ax_tensor *x = tu_leaf(&f.a, 2, (int[]){ B * S, C }, 11, 1.0f);
		float scores[3 * 16];
		struct ax_rng r;
		ax_rng_seed(&r, 5);
		ax_rng_fill_normal(&r, scores, (size_t)B * S, 0, 1);
		int32_t sel[3 * 16];
		select_topk(scores, B, S, S, sel);   /* k = S: everything, in order */
		struct ax_tensor *dense = mod_block_dense(&f.t, &f.m, 1, x, B, S);
		struct ax_tensor *routed = mod_block_routed(&f.t, &f.m, 1, x, B, S, sel, S, NULL);
		assert_memory_equal(dense->data, routed->data, dense->size * sizeof(float));
		fix_free(&f);
	}
}

static int row_in(const int32_t *sel, int n, int row)
{
	for (int j = 0; j < n; j++)
		if (sel[j] == row)
			return 1;
	return 0;
}

/* Exactly k tokens per sequence enter each routed block, ascending (causal
 * order), and they are the k largest router logits; the others pass the
 * block unchanged while the selected ones get x + r*f, where f sees only the
 * selected tokens (unselected ones are not keys) and only earlier ones. */
static void test_exactly_k_routed(void **state)
{
	(void)state;
	struct mod_config c = tiny_config(0.25, MOD_POS_LEARNED, 1);
	struct fix f;
	fix_init(&f, &c, 3);
	struct mod_model *m = &f.m;
	struct ax_tape *t = &f.t;
	int B = 2, S = 16, k = 4, C = 16;
	assert_int_equal(c.dim, C);
	assert_int_equal(mod_capacity_k(&c, S), k);
	int32_t tok[32];
	random_tokens(tok, B * S, 9);
	struct mod_forward_out fo;
	mod_forward(t, m, tok, B, S, MOD_ROUTER_TOPK, NULL, 1, &fo);
	for (int l = 0; l < c.layers; l++) {
		if (!m->blocks[l].routed) {
			assert_null(fo.sel[l]);
			continue;
		}
		assert_int_equal(fo.nsel[l], B * k);
		for (int b = 0; b < B; b++)
			for (int j = 0; j < k; j++) {
				int32_t i = fo.sel[l][b * k + j];
				assert_true(i >= b * S && i < (b + 1) * S);
				if (j)
					assert_true(i > fo.sel[l][b * k + j - 1]);
			}
	}
	assert_int_equal(fo.selected, 2 * B * k);   /* two routed blocks of four */
	assert_int_equal(fo.decisions, 2 * B * S);
	assert_non_null(fo.aux_loss);
	assert_non_null(fo.pred_loss);

	/* Pass-through and top-k of r on one block directly. */
	int shape[] = { B * S, C };
	struct ax_tensor *x = tu_leaf(&f.a, 2, shape, 4, 1.0f);
	struct ax_tensor *r = ax_nn_linear(t, &m->blocks[1].router, x);
	int32_t sel[8];
	select_topk(r->data, B, S, k, sel);
	for (int b = 0; b < B; b++)
		for (int s = 0; s < S; s++) {
			int better = 0;
			for (int s2 = 0; s2 < S; s2++)
				better += r->data[b * S + s2] > r->data[b * S + s];
			assert_int_equal(row_in(sel + b * k, k, b * S + s), better < k);
		}
	struct ax_tensor *scale = ax_gather_rows(t, r, sel, B * k);
	struct ax_tensor *y = mod_block_routed(t, m, 1, x, B, S, sel, k, scale);
	for (int i = 0; i < B * S; i++) {
		int same = !memcmp(x->data + i * C, y->data + i * C, C * sizeof(float));
		assert_int_equal(same, !row_in(sel, B * k, i));
	}

	/* x + r*f: a selected row moves by r times the unscaled update. */
	struct ax_tensor *y1 = mod_block_routed(t, m, 1, x, B, S, sel, k, NULL);
	for (int j = 0; j < B * k; j++) {
		float got[16], want[16];
		size_t at = (size_t)sel[j] * C;
		for (int i = 0; i < C; i++) {
			got[i] = y->data[at + i] - x->data[at + i];
			want[i] = r->data[sel[j]] * (y1->data[at + i] - x->data[at + i]);
		}
		tu_assert_close(got, want, C, 1e-5, 1e-4, "x + r*f");
	}

	/* Changing every unselected token leaves the selected rows' outputs
	 * bit-identical: they are neither queries nor keys. */
	struct ax_tensor *x2 = tu_leaf(&f.a, 2, shape, 4, 1.0f);
	for (int i = 0; i < B * S; i++)
		if (!row_in(sel, B * k, i))
			for (int d = 0; d < C; d++)
				x2->data[i * C + d] += 1.0f;
	struct ax_tensor *y2 = mod_block_routed(t, m, 1, x2, B, S, sel, k, scale);
	for (int j = 0; j < B * k; j++)
		assert_memory_equal(y->data + sel[j] * C, y2->data + sel[j] * C, C * sizeof(float));

	/* Changing each sequence's last selected token changes it alone:
	 * attention among the selected tokens is causal. */
	struct ax_tensor *x3 = tu_leaf(&f.a, 2, shape, 4, 1.0f);
	for (int b = 0; b < B; b++)
		for (int d = 0; d < C; d++)
			x3->data[sel[b * k + k - 1] * C + d] += 1.0f;
	struct ax_tensor *y3 = mod_block_routed(t, m, 1, x3, B, S, sel, k, scale);
	for (int j = 0; j < B * k; j++) {
		int same = !memcmp(y->data + sel[j] * C, y3->data + sel[j] * C, C * sizeof(float));
		assert_int_equal(same, j % k != k - 1);
	}
	fix_free(&f);
}

/* The loss reaches the router through x + r*f (no aux loss here), and the
 * analytic gradient agrees with finite differences. */
struct router_ctx {
	struct mod_model *m;
	int32_t tok[32];
};

static struct ax_tensor *router_forward(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	(void)in;
	struct router_ctx *rc = ctx;
	struct mod_forward_out fo;
	mod_forward(t, rc->m, rc->tok, 2, 16, MOD_ROUTER_TOPK, NULL, 0, &fo);
	return fo.logits;
}

static void test_gradients_reach_router(void **state)
{
	(void)state;
	struct mod_config c = tiny_config(0.25, MOD_POS_ROPE, 0);
	struct fix f;
	fix_init(&f, &c, 21);
	struct router_ctx rc = { .m = &f.m };
	random_tokens(rc.tok, 32, 8);
	struct mod_forward_out fo;
	mod_forward(&f.t, &f.m, rc.tok, 2, 16, MOD_ROUTER_TOPK, NULL, 0, &fo);
	assert_null(fo.aux_loss);
	int32_t tg[32];
	random_tokens(tg, 32, 10);
	ax_tape_backward(&f.t, ax_cross_entropy(&f.t, fo.logits, tg, 0, -1), 1.0f);
	for (int l = 1; l < c.layers; l += 2) {
		double norm = 0;
		const struct ax_tensor *w = f.m.blocks[l].router.w;
		for (size_t i = 0; i < w->size; i++)
			norm += (double)w->grad[i] * w->grad[i];
		assert_true(norm > 1e-12);
	}
	ax_params_zero_grad(&f.m.params);
	struct ax_tensor *in[] = { f.m.blocks[3].router.w };
	tu_gradcheck(router_forward, in, 1, &rc, 1e-3f, 2e-3, 5e-2, 16, "router weight");
	fix_free(&f);
}

/* Token-by-token sampling with KV caches gives the logits of the batch
 * forward under the same causal rule: routed-out tokens are absent as keys
 * in both. */
static void test_sampler_matches_forward(void **state)
{
	(void)state;
	for (int pos = MOD_POS_LEARNED; pos <= MOD_POS_ROPE; pos++)
		for (int rule = MOD_ROUTER_AUX; rule <= MOD_ROUTER_PREDICTOR; rule++) {
			struct mod_config c = tiny_config(0.25, pos, 1);
			struct fix f;
			fix_init(&f, &c, 40 + pos);
			int S = 16;
			int32_t tok[16];
			random_tokens(tok, S, 77);
			ax_no_grad_begin(&f.t);
			struct mod_forward_out fo;
			mod_forward(&f.t, &f.m, tok, 1, S, rule, NULL, 0, &fo);
			/* both some and not all tokens routed, or the test says little */
			assert_true(fo.selected > 0 && fo.selected < fo.decisions);
			struct mod_infer *inf = mod_infer_new(&f.m, rule, 1);
			float logits[MOD_VOCAB];
			for (int s = 0; s < S; s++) {
				assert_int_equal(mod_infer_step(inf, tok[s], logits), 0);
				tu_assert_close(logits, fo.logits->data + s * MOD_VOCAB, MOD_VOCAB,
						1e-4, 1e-4, "incremental logits");
			}
			long visits, computed;
			mod_infer_counts(inf, &visits, &computed);
			assert_int_equal(visits, fo.decisions);
			assert_int_equal(computed, fo.selected);
			assert_int_equal(mod_infer_step(inf, 0, logits), -1);   /* context full */
			/* After a reset (how `mod-lm sample` rebuilds a full context)
			 * the caches are empty and the same tokens give the same logits. */
			mod_infer_reset(inf);
			for (int s = 0; s < S; s++) {
				assert_int_equal(mod_infer_step(inf, tok[s], logits), 0);
				tu_assert_close(logits, fo.logits->data + s * MOD_VOCAB, MOD_VOCAB,
						1e-4, 1e-4, "logits after a reset");
			}
			mod_infer_free(inf);
			fix_free(&f);
		}
}

/* mod_eval_text batches windows (16 at a time, resetting the caller's tape
 * in between): its mean equals the windows' losses one at a time, and it
 * leaves the tape empty and recording again. */
static void test_eval_text_windows(void **state)
{
	(void)state;
	struct mod_config c = tiny_config(0.25, MOD_POS_LEARNED, 0);
	struct fix f;
	fix_init(&f, &c, 5);
	int S = c.ctx, nwin = 37;   /* three batches: 16, 16, 5 */
	struct mod_text text = { .n = (size_t)nwin * S + 1 + 7 };   /* 7 bytes left over */
	int32_t tok[(37 * 16 + 8)];
	random_tokens(tok, (int)text.n, 12);
	uint8_t *bytes = malloc(text.n);
	for (size_t i = 0; i < text.n; i++)
		bytes[i] = (uint8_t)tok[i];
	text.bytes = bytes;
	double frac;
	double mean = mod_eval_text(&f.t, &f.m, &text, SIZE_MAX, MOD_ROUTER_TOPK, 1, &frac);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.t.no_grad, 0);
	assert_true(fabs(frac - 0.25) < 1e-12);
	double sum = 0;
	for (int w = 0; w < nwin; w++) {
		struct mod_forward_out fo;
		mod_forward(&f.t, &f.m, tok + w * S, 1, S, MOD_ROUTER_TOPK, NULL, 0, &fo);
		sum += ax_cross_entropy(&f.t, fo.logits, tok + w * S + 1, 0, -1)->data[0];
		ax_tape_reset(&f.t);
	}
	assert_true(fabs(mean - sum / nwin) <= 1e-5 * (sum / nwin));
	free(bytes);
	fix_free(&f);
}

/* FLOPs: routed blocks at capacity; a known small case by hand. */
static void test_flops(void **state)
{
	(void)state;
	struct mod_config c = { .layers = 2, .dim = 8, .heads = 2, .ctx = 8, .hidden = 16,
				.capacity = 0.25, .route_every = 2, .route = MOD_ROUTE_LEARNED };
	double C = 8, hid = 16;
	double dense_blk = 2 * 8 * (4 * C * C + 2 * C * hid) + 4 * 64 * C;
	double routed_blk = 2 * 2 * (4 * C * C + 2 * C * hid) + 4 * 4 * C + 2 * 8 * C;
	double head = 2 * 8 * C * 256;
	assert_true(fabs(mod_forward_flops(&c, 8) - (dense_blk + routed_blk + head)) < 1e-6);
	c.capacity = 1;
	assert_true(fabs(mod_forward_flops(&c, 8) - (2 * dense_blk + head)) < 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_capacity_routed_equals_dense),
		cmocka_unit_test(test_exactly_k_routed),
		cmocka_unit_test(test_gradients_reach_router),
		cmocka_unit_test(test_sampler_matches_forward),
		cmocka_unit_test(test_eval_text_windows),
		cmocka_unit_test(test_flops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
