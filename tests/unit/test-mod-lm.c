/* test-mod-lm.c — Mixture-of-Depths model internals (cmd/mod-lm). The
 * command's model files are compiled in directly: they are not library code. */
#include "testutil.h"

#include "../../cmd/mod-lm/data.c"
#include "../../cmd/mod-lm/model.c"
#include "../../cmd/mod-lm/sample.c"

static struct mod_config tiny_config(double capacity, enum mod_pos pos, int predictor)
{
	return (struct mod_config){ .layers = 4, .dim = 16, .heads = 2, .ctx = 16, .hidden = 32,
				    .pos = pos, .capacity = capacity, .route_every = 2,
				    .route = MOD_ROUTE_LEARNED, .predictor = predictor };
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
		struct mod_model m;
		mod_model_init(&m, &c, 7);
		struct ax_arena a;
		struct ax_tape t;
		ax_arena_init(&a, 0);
		ax_tape_init(&t, &a);
		int B = 3, S = 16, C = c.dim;
		struct ax_tensor *x = tu_leaf(&a, 2, (int[]){ B * S, C }, 11, 1.0f);
		float scores[3 * 16];
		struct ax_rng r;
		ax_rng_seed(&r, 5);
		ax_rng_fill_normal(&r, scores, (size_t)B * S, 0, 1);
		int32_t sel[3 * 16];
		select_topk(scores, B, S, S, sel);   /* k = S: everything, in order */
		struct ax_tensor *dense = mod_block_dense(&t, &m, 1, x, B, S);
		struct ax_tensor *routed = mod_block_routed(&t, &m, 1, x, B, S, sel, S, NULL);
		assert_memory_equal(dense->data, routed->data, dense->size * sizeof(float));
		ax_tape_free(&t);
		ax_arena_free(&a);
		mod_model_free(&m);
	}
}

/* Exactly k tokens per sequence enter each routed block, ascending (causal
 * order), and they are the k largest router logits; the others pass the
 * block unchanged while the selected ones change. */
static void test_exactly_k_routed(void **state)
{
	(void)state;
	struct mod_config c = tiny_config(0.25, MOD_POS_LEARNED, 1);
	struct mod_model m;
	mod_model_init(&m, &c, 3);
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	int B = 2, S = 16, k = 4;
	assert_int_equal(mod_capacity_k(&c, S), k);
	int32_t tok[32];
	random_tokens(tok, B * S, 9);
	struct mod_forward_out fo;
	mod_forward(&t, &m, tok, B, S, MOD_ROUTER_TOPK, NULL, 1, &fo);
	for (int l = 0; l < c.layers; l++) {
		if (!m.blocks[l].routed) {
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
	struct ax_tensor *x = tu_leaf(&a, 2, (int[]){ B * S, c.dim }, 4, 1.0f);
	struct ax_tensor *r = ax_nn_linear(&t, &m.blocks[1].router, x);
	int32_t sel[8];
	select_topk(r->data, B, S, k, sel);
	for (int b = 0; b < B; b++)
		for (int s = 0; s < S; s++) {
			int in = 0, better = 0;
			for (int j = 0; j < k; j++)
				in |= sel[b * k + j] == b * S + s;
			for (int s2 = 0; s2 < S; s2++)
				better += r->data[b * S + s2] > r->data[b * S + s];
			assert_int_equal(in, better < k);
		}
	struct ax_tensor *y = mod_block_routed(&t, &m, 1, x, B, S, sel, k,
					       ax_gather_rows(&t, r, sel, B * k));
	for (int i = 0; i < B * S; i++) {
		int in = 0;
		for (int j = 0; j < B * k; j++)
			in |= sel[j] == i;
		int same = !memcmp(x->data + i * c.dim, y->data + i * c.dim, c.dim * sizeof(float));
		assert_int_equal(same, !in);
	}
	ax_tape_free(&t);
	ax_arena_free(&a);
	mod_model_free(&m);
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
	struct mod_model m;
	mod_model_init(&m, &c, 21);
	struct router_ctx rc = { .m = &m };
	random_tokens(rc.tok, 32, 8);
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	struct mod_forward_out fo;
	mod_forward(&t, &m, rc.tok, 2, 16, MOD_ROUTER_TOPK, NULL, 0, &fo);
	assert_null(fo.aux_loss);
	int32_t tg[32];
	random_tokens(tg, 32, 10);
	ax_tape_backward(&t, ax_cross_entropy(&t, fo.logits, tg, 0, -1), 1.0f);
	for (int l = 1; l < c.layers; l += 2) {
		double norm = 0;
		const struct ax_tensor *w = m.blocks[l].router.w;
		for (size_t i = 0; i < w->size; i++)
			norm += (double)w->grad[i] * w->grad[i];
		assert_true(norm > 1e-12);
	}
	ax_tape_free(&t);
	ax_arena_free(&a);
	ax_params_zero_grad(&m.params);
	struct ax_tensor *in[] = { m.blocks[3].router.w };
	tu_gradcheck(router_forward, in, 1, &rc, 1e-3f, 2e-3, 5e-2, 16, "router weight");
	mod_model_free(&m);
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
			struct mod_model m;
			mod_model_init(&m, &c, 40 + pos);
			int S = 16;
			int32_t tok[16];
			random_tokens(tok, S, 77);
			struct ax_arena a;
			struct ax_tape t;
			ax_arena_init(&a, 0);
			ax_tape_init(&t, &a);
			ax_no_grad_begin(&t);
			struct mod_forward_out fo;
			mod_forward(&t, &m, tok, 1, S, rule, NULL, 0, &fo);
			/* both some and not all tokens routed, or the test says little */
			assert_true(fo.selected > 0 && fo.selected < fo.decisions);
			struct mod_infer *inf = mod_infer_new(&m, rule, 1);
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
			mod_infer_free(inf);
			ax_tape_free(&t);
			ax_arena_free(&a);
			mod_model_free(&m);
		}
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
		cmocka_unit_test(test_flops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
