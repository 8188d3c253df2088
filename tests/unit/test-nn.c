/* test-nn.c — layers and optimisers against PyTorch golden values
 * (scripts/ref/lib_ref.py writes tests/ref/lib/), and the RNG. */
#include "testutil.h"

#include <math.h>
#include <string.h>

static struct ax_bundle ref;

static const float *ref_f32(const char *name, size_t n)
{
	const struct ax_array *a = ax_bundle_find(&ref, name);
	if (!a)
		fail_msg("reference has no '%s'", name);
	assert_int_equal(a->dtype, AX_F32);
	assert_int_equal(ax_array_count(a), n);
	return a->data;
}

static void load_ref(const char *file)
{
	ax_bundle_free(&ref);
	ax_bundle_init(&ref);
	enum ax_status st = ax_bundle_load(tu_ref(file), &ref);
	if (st)
		fail_msg("%s: %s", file, ax_error_detail());
}

/* Copy "param.<suffix>" into every parameter named "<prefix>.<suffix>". */
static void params_from_ref(struct ax_params *p, const char *prefix)
{
	for (int i = 0; i < p->n; i++) {
		char name[256];
		snprintf(name, sizeof name, "param.%s", p->list[i]->name + strlen(prefix) + 1);
		memcpy(p->list[i]->data, ref_f32(name, p->list[i]->size), p->list[i]->size * sizeof(float));
	}
}

static void check_grads(struct ax_params *p, const char *prefix, double atol, double rtol)
{
	for (int i = 0; i < p->n; i++) {
		char name[256];
		snprintf(name, sizeof name, "grad.%s", p->list[i]->name + strlen(prefix) + 1);
		tu_assert_close(p->list[i]->grad, ref_f32(name, p->list[i]->size), p->list[i]->size,
				atol, rtol, name);
	}
}

/* Forward + backward of L = sum(out * R) for a layer, against the reference. */
typedef struct ax_tensor *(*layer_fn)(struct ax_tape *t, void *layer, struct ax_tensor *x);

static void run_golden(struct ax_params *p, const char *prefix, void *layer, layer_fn fn,
		       int ndim, const int *xshape)
{
	struct ax_arena step;
	struct ax_tape t;
	ax_arena_init(&step, 0);
	ax_tape_init(&t, &step);
	params_from_ref(p, prefix);
	ax_params_zero_grad(p);
	struct ax_tensor *x = ax_const(&t, ndim, xshape, NULL);
	memcpy(x->data, ref_f32("x", x->size), x->size * sizeof(float));
	ax_tensor_require_grad(x, &step);
	struct ax_tensor *out = fn(&t, layer, x);
	tu_assert_close(out->data, ref_f32("out", out->size), out->size, 1e-5, 1e-4, "out");
	struct ax_tensor *R = ax_const(&t, out->ndim, out->shape, ref_f32("R", out->size));
	ax_tape_backward(&t, ax_sum_all(&t, ax_mul(&t, out, R)), 1.0f);
	tu_assert_close(x->grad, ref_f32("grad.x", x->size), x->size, 1e-5, 1e-4, "grad.x");
	check_grads(p, prefix, 1e-5, 1e-4);
	ax_tape_free(&t);
	ax_arena_free(&step);
}

/* A parameter registry in its own arena, with a seeded RNG for the initialisers. */
struct model {
	struct ax_arena arena;
	struct ax_params params;
	struct ax_rng rng;
};

static void model_init(struct model *m)
{
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	ax_rng_seed(&m->rng, 1);
}

static void model_free(struct model *m)
{
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

static struct ax_tensor *block_fwd(struct ax_tape *t, void *layer, struct ax_tensor *x)
{
	struct ax_attn_desc d = { .causal = 1 };
	return ax_nn_block(t, layer, x, &d, NULL);
}

/* x + block_delta(x) is the block itself. */
static struct ax_tensor *block_delta_fwd(struct ax_tape *t, void *layer, struct ax_tensor *x)
{
	struct ax_attn_desc d = { .causal = 1 };
	return ax_add(t, x, ax_nn_block_delta(t, layer, x, &d, NULL));
}

static void test_block_golden(void **state)
{
	static const layer_fn forwards[] = { block_fwd, block_delta_fwd };
	for (size_t i = 0; i < AX_COUNTOF(forwards); i++) {
		struct model m;
		struct ax_nn_block b;
		model_init(&m);
		ax_nn_block_init(&b, &m.params, &m.rng, "blk", 16, 4, 32);
		assert_int_equal(m.params.n, 16);
		load_ref("lib/block.safetensors");
		run_golden(&m.params, "blk", &b, forwards[i], 3, (int[]){ 2, 6, 16 });
		model_free(&m);
	}
}

static struct ax_tensor *gru_fwd(struct ax_tape *t, void *layer, struct ax_tensor *x)
{
	return ax_nn_gru(t, layer, x, NULL);
}

static void test_gru_golden(void **state)
{
	struct model m;
	struct ax_nn_gru g;
	model_init(&m);
	ax_nn_gru_init(&g, &m.params, &m.rng, "gru", 5, 7);
	load_ref("lib/gru.safetensors");
	run_golden(&m.params, "gru", &g, gru_fwd, 3, (int[]){ 3, 9, 5 });
	model_free(&m);
}

static void test_mlp_names(void **state)
{
	struct ax_arena a;
	struct ax_params p;
	struct ax_rng r;
	struct ax_nn_mlp m;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a);
	ax_rng_seed(&r, 3);
	ax_nn_mlp_init(&m, &p, &r, "mlp", (int[]){ 4, 8, 3 }, 3, AX_SILU);
	assert_int_equal(p.n, 4);
	assert_non_null(ax_params_find(&p, "mlp.0.weight"));
	assert_non_null(ax_params_find(&p, "mlp.2.bias"));
	assert_int_equal(ax_params_count(&p), 4 * 8 + 8 + 8 * 3 + 3);
	ax_params_free(&p);
	ax_arena_free(&a);
}

/* ---- optimisers and schedules ---- */
static void run_optim(enum ax_optim_kind kind, float lr, float momentum, float wd,
		      const char *name)
{
	struct ax_arena a;
	struct ax_params p;
	struct ax_optim o;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a);
	struct ax_tensor *w = ax_param(&p, 1, (int[]){ 10 }, "w");
	memcpy(w->data, ref_f32("p0", 10), sizeof(float) * 10);
	ax_optim_init(&o, kind, &p);
	o.momentum = momentum;
	o.weight_decay = wd;
	const float *g = ref_f32("grads", 60);
	for (int s = 0; s < 6; s++) {
		memcpy(w->grad, g + 10 * s, sizeof(float) * 10);
		ax_optim_step(&o, lr);
	}
	tu_assert_close(w->data, ref_f32(name, 10), 10, 1e-6, 1e-5, name);
	ax_params_free(&p);
	ax_arena_free(&a);
}

static void test_optimisers(void **state)
{
	load_ref("lib/optim.safetensors");
	run_optim(AX_OPTIM_SGD, 0.1f, 0.9f, 0.01f, "sgd");
	run_optim(AX_OPTIM_ADAM, 0.01f, 0, 0.01f, "adam");
	run_optim(AX_OPTIM_ADAMW, 0.01f, 0, 0.1f, "adamw");
}

/* LAMB on a (4, 5) table, dense and with sparse row updates (row 2 has no
 * gradient in steps 2-4: untouched then), against scripts/ref/lib_ref.py;
 * a frozen parameter keeps its bits. */
static void run_lamb(int sparse, const char *name)
{
	struct ax_arena a;
	struct ax_params p;
	struct ax_optim o;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a);
	struct ax_tensor *w = ax_param(&p, 2, (int[]){ 4, 5 }, "w");
	struct ax_tensor *f = ax_param(&p, 1, (int[]){ 3 }, "frozen");
	memcpy(w->data, ref_f32("lamb_p0", 20), sizeof(float) * 20);
	f->data[0] = 1, f->data[1] = 2, f->data[2] = 3;
	f->grad[0] = f->grad[1] = f->grad[2] = 0.5f;
	ax_optim_init(&o, AX_OPTIM_LAMB, &p);
	o.weight_decay = 0.01f;
	ax_optim_set_flags(&o, f, AX_OPTIM_FROZEN);
	if (sparse)
		ax_optim_set_flags(&o, w, AX_OPTIM_SPARSE);
	const float *g = ref_f32("lamb_grads", 120);
	float row2[5];
	for (int s = 0; s < 6; s++) {
		if (s == 1)
			memcpy(row2, w->data + 10, sizeof row2);
		memcpy(w->grad, g + 20 * s, sizeof(float) * 20);
		ax_optim_step(&o, 0.02f);
		if (sparse && s >= 1 && s <= 3)  /* untouched row: the same bits */
			assert_memory_equal(w->data + 10, row2, sizeof row2);
	}
	tu_assert_close(w->data, ref_f32(name, 20), 20, 1e-6, 1e-5, name);
	assert_true(f->data[0] == 1 && f->data[1] == 2 && f->data[2] == 3);
	ax_params_free(&p);
	ax_arena_free(&a);
}

static void test_lamb(void **state)
{
	load_ref("lib/optim.safetensors");
	run_lamb(0, "lamb");
	run_lamb(1, "lamb_sparse");
}

/* Adam and AdamW with sparse row updates: a row with no gradient keeps its
 * bits (no decay, no moment decay), and the rows with one step exactly as a
 * dense table of those rows alone. */
static void run_sparse_adam(enum ax_optim_kind kind)
{
	struct ax_arena a;
	struct ax_params p, q;
	struct ax_optim o, od;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a);
	ax_params_init(&q, &a);
	struct ax_tensor *w = ax_param(&p, 2, (int[]){ 4, 5 }, "w");
	struct ax_tensor *d = ax_param(&q, 2, (int[]){ 2, 5 }, "d");
	for (int i = 0; i < 20; i++)
		w->data[i] = 0.1f * (float)(i % 7) - 0.3f;
	memcpy(d->data, w->data, sizeof(float) * 5);           // row 0
	memcpy(d->data + 5, w->data + 10, sizeof(float) * 5);  // row 2
	float row0[5], row1[5], row3[5];
	memcpy(row0, w->data, sizeof row0);
	memcpy(row1, w->data + 5, sizeof row1);
	memcpy(row3, w->data + 15, sizeof row3);
	ax_optim_init(&o, kind, &p);
	ax_optim_init(&od, kind, &q);
	o.weight_decay = od.weight_decay = 0.05f;
	ax_optim_set_flags(&o, w, AX_OPTIM_SPARSE);
	for (int s = 0; s < 4; s++) {
		memset(w->grad, 0, sizeof(float) * 20);
		for (int c = 0; c < 5; c++) {
			w->grad[c] = d->grad[c] = 0.2f * (float)(c - s);
			w->grad[10 + c] = d->grad[5 + c] = 0.1f * (float)(s + c + 1);
		}
		ax_optim_step(&o, 0.01f);
		ax_optim_step(&od, 0.01f);
	}
	assert_memory_equal(w->data + 5, row1, sizeof row1);
	assert_memory_equal(w->data + 15, row3, sizeof row3);
	assert_memory_equal(w->data, d->data, sizeof(float) * 5);
	assert_memory_equal(w->data + 10, d->data + 5, sizeof(float) * 5);
	assert_memory_not_equal(w->data, row0, sizeof row0); // the touched rows moved
	ax_params_free(&q);
	ax_params_free(&p);
	ax_arena_free(&a);
}

static void test_sparse_adam(void **state)
{
	run_sparse_adam(AX_OPTIM_ADAM);
	run_sparse_adam(AX_OPTIM_ADAMW);
}

static void test_schedules(void **state)
{
	load_ref("lib/optim.safetensors");
	float lrs[40];
	for (int s = 0; s < 40; s++)
		lrs[s] = ax_sched_onecycle(s, 40, 0.15f, 1e-3f, 25, 1e4f);
	tu_assert_close(lrs, ref_f32("onecycle", 40), 40, 1e-9, 1e-4, "onecycle");
	/* Cosine: warm-up reaches the peak, then decays to the floor. */
	assert_float_equal(ax_sched_cosine(9, 10, 100, 1.0f, 0.1f), 1.0f, 1e-6);
	assert_float_equal(ax_sched_cosine(55, 10, 100, 1.0f, 0.1f), 0.55f, 1e-6);
	assert_float_equal(ax_sched_cosine(100, 10, 100, 1.0f, 0.1f), 0.1f, 1e-6);
}

static int skip_head(const char *name) { return strncmp(name, "head.", 5) == 0; }

/* Loading all parameters, or all but those a predicate skips. */
static void test_params_from_bundle(void **state)
{
	struct model src, dst;
	model_init(&src);
	model_init(&dst);
	struct ax_nn_linear l1, h1, l2, h2;
	ax_nn_linear_init(&l1, &src.params, &src.rng, "core", 3, 4, 1);
	ax_nn_linear_init(&h1, &src.params, &src.rng, "head", 4, 2, 1);
	ax_nn_linear_init(&l2, &dst.params, &dst.rng, "core", 3, 4, 1);
	ax_nn_linear_init(&h2, &dst.params, &dst.rng, "head", 4, 5, 1);  /* another shape */
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_params_to_bundle(&src.params, &b, "");
	assert_int_equal(ax_params_from_bundle(&dst.params, &b, ""), AX_ERR_FORMAT);
	assert_int_equal(ax_params_from_bundle_except(&dst.params, &b, "", skip_head), AX_OK);
	assert_memory_equal(l2.w->data, l1.w->data, 12 * sizeof(float));
	assert_memory_equal(l2.b->data, l1.b->data, 4 * sizeof(float));
	ax_bundle_free(&b);
	model_free(&src);
	model_free(&dst);
}

static void test_clip_and_state(void **state)
{
	struct ax_arena a;
	struct ax_params p;
	struct ax_optim o, o2;
	ax_arena_init(&a, 0);
	ax_params_init(&p, &a);
	struct ax_tensor *w = ax_param(&p, 1, (int[]){ 2 }, "w");
	w->grad[0] = 3;
	w->grad[1] = 4;
	assert_float_equal(ax_clip_grad_norm(&p, 1.0f), 5.0f, 1e-6);
	assert_float_equal(hypotf(w->grad[0], w->grad[1]), 1.0f, 1e-5);
	w->grad[0] = NAN;
	assert_true(isnan(ax_clip_grad_norm(&p, 1.0f)));
	/* State round trip through a bundle. */
	w->grad[0] = 1;
	ax_optim_init(&o, AX_OPTIM_ADAM, &p);
	ax_optim_step(&o, 0.1f);
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_optim_to_bundle(&o, &b, "");
	ax_optim_init(&o2, AX_OPTIM_ADAM, &p);
	assert_int_equal(ax_optim_from_bundle(&o2, &b, ""), AX_OK);
	assert_int_equal(o2.step, 1);
	assert_memory_equal(o2.m[0], o.m[0], 2 * sizeof(float));
	assert_memory_equal(o2.v[0], o.v[0], 2 * sizeof(float));
	/* Two optimisers in one bundle, each under its own prefix and step. */
	ax_optim_step(&o, 0.1f);
	ax_optim_to_bundle(&o, &b, "a.");
	ax_optim_to_bundle(&o2, &b, "b.");
	struct ax_optim o3;
	ax_optim_init(&o3, AX_OPTIM_ADAM, &p);
	assert_int_equal(ax_optim_from_bundle(&o3, &b, "a."), AX_OK);
	assert_int_equal(o3.step, 2);
	assert_memory_equal(o3.m[0], o.m[0], 2 * sizeof(float));
	assert_int_equal(ax_optim_from_bundle(&o3, &b, "b."), AX_OK);
	assert_int_equal(o3.step, 1);
	assert_int_equal(ax_optim_from_bundle(&o3, &b, "c."), AX_ERR_NOTFOUND);
	ax_bundle_free(&b);
	ax_params_free(&p);
	ax_arena_free(&a);
}

/* ---- random numbers ---- */
static void test_rng_determinism(void **state)
{
	struct ax_rng a, b;
	ax_rng_seed(&a, 42);
	ax_rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		assert_true(ax_rng_u64(&a) == ax_rng_u64(&b));
	struct ax_rng c1 = ax_rng_split(&a, 1), c1b = ax_rng_split(&a, 1), c2 = ax_rng_split(&a, 2);
	uint64_t x = ax_rng_u64(&c1);
	assert_true(x == ax_rng_u64(&c1b));
	assert_true(x != ax_rng_u64(&c2));
}

static void test_rng_moments(void **state)
{
	struct ax_rng r;
	ax_rng_seed(&r, 7);
	const int n = 200000;
	double su = 0, sn = 0, sn2 = 0, sb = 0, sp = 0, sp2 = 0, spl = 0, spl2 = 0;
	for (int i = 0; i < n; i++) {
		float u = ax_rng_uniform(&r);
		assert_true(u >= 0 && u < 1);
		su += u;
		double z = ax_rng_normal(&r);
		sn += z;
		sn2 += z * z;
		sb += ax_rng_bernoulli(&r, 0.3f);
		double k = ax_rng_poisson(&r, 3.5);
		sp += k;
		sp2 += k * k;
		double kl = ax_rng_poisson(&r, 40.0); /* the PTRS branch */
		spl += kl;
		spl2 += kl * kl;
	}
	/* Tolerances are ~5 standard errors. */
	assert_float_equal(su / n, 0.5, 0.004);
	assert_float_equal(sn / n, 0.0, 0.012);
	assert_float_equal(sn2 / n, 1.0, 0.02);
	assert_float_equal(sb / n, 0.3, 0.006);
	assert_float_equal(sp / n, 3.5, 0.022);
	assert_float_equal(sp2 / n - (sp / n) * (sp / n), 3.5, 0.1);
	assert_float_equal(spl / n, 40.0, 0.075);
	assert_float_equal(spl2 / n - (spl / n) * (spl / n), 40.0, 1.0);
}

static void test_rng_discrete(void **state)
{
	struct ax_rng r;
	ax_rng_seed(&r, 9);
	int counts[3] = { 0 };
	float p[3] = { 0.2f, 0.0f, 0.8f };
	for (int i = 0; i < 50000; i++)
		counts[ax_rng_categorical(&r, p, 3)]++;
	assert_int_equal(counts[1], 0);
	assert_float_equal(counts[0] / 50000.0, 0.2, 0.01);
	float logits[2] = { 0.0f, logf(3.0f) };
	int ones = 0;
	for (int i = 0; i < 40000; i++)
		ones += ax_rng_categorical_logits(&r, logits, 2, 1.0f);
	assert_float_equal(ones / 40000.0, 0.75, 0.01);
	int32_t perm[50];
	ax_rng_permutation(&r, perm, 50);
	int seen[50] = { 0 };
	for (int i = 0; i < 50; i++)
		seen[perm[i]]++;
	for (int i = 0; i < 50; i++)
		assert_int_equal(seen[i], 1);
	for (int i = 0; i < 1000; i++)
		assert_true(ax_rng_below(&r, 7) < 7);
	/* shuffle_head: a sample of k of n, each element equally likely to land
	 * in the head; the whole array stays a permutation. */
	int hits[10] = { 0 };
	for (int rep = 0; rep < 20000; rep++) {
		int32_t x[10];
		for (int i = 0; i < 10; i++)
			x[i] = i;
		ax_rng_shuffle_head(&r, x, 10, 3);
		int seen10[10] = { 0 };
		for (int i = 0; i < 10; i++)
			seen10[x[i]]++;
		for (int i = 0; i < 10; i++)
			assert_int_equal(seen10[i], 1);
		for (int i = 0; i < 3; i++)
			hits[x[i]]++;
	}
	for (int i = 0; i < 10; i++)
		assert_float_equal(hits[i] / 20000.0, 0.3, 0.015);
	/* Its draws: x[i] swaps with x[i + below(n - i)], i < k. */
	struct ax_rng a, b;
	ax_rng_seed(&a, 4);
	b = a;
	int32_t x[6] = { 0, 1, 2, 3, 4, 5 }, y[6] = { 0, 1, 2, 3, 4, 5 };
	ax_rng_shuffle_head(&a, x, 6, 2);
	for (int i = 0; i < 2; i++) {
		int j = i + (int)ax_rng_below(&b, (uint32_t)(6 - i));
		int32_t t = y[i];
		y[i] = y[j], y[j] = t;
	}
	assert_memory_equal(x, y, sizeof x);
}

static void test_checkpoint_meta(void **state)
{
	struct ax_bundle b;
	struct ax_rng r, r2;
	long v;
	double d;
	ax_bundle_init(&b);
	ax_rng_seed(&r, 5);
	ax_ckpt_put_rng(&b, "rng", &r);
	ax_ckpt_put_long(&b, "axon.step", 123);
	ax_ckpt_put_double(&b, "lr", 0.1);
	ax_bundle_set_meta(&b, "axon.kind", "mod-lm");
	assert_int_equal(ax_ckpt_get_rng(&b, "rng", &r2), AX_OK);
	assert_memory_equal(&r, &r2, sizeof r);
	assert_int_equal(ax_ckpt_get_long(&b, "axon.step", &v), AX_OK);
	assert_int_equal(v, 123);
	assert_int_equal(ax_ckpt_get_double(&b, "lr", &d), AX_OK);
	assert_true(d == 0.1);
	assert_int_equal(ax_ckpt_check_kind(&b, "x", "mod-lm"), AX_OK);
	assert_int_equal(ax_ckpt_check_kind(&b, "x", "ipd-learn"), AX_ERR_FORMAT);
	assert_non_null(strstr(ax_error_detail(), "a mod-lm checkpoint, not ipd-learn"));
	assert_int_equal(ax_ckpt_get_long(&b, "missing", &v), AX_ERR_NOTFOUND);
	/* Through a file: load checks the kind, and leaves nothing on a mismatch. */
	const char *path = tu_path("ckpt.safetensors");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	assert_int_equal(ax_ckpt_load(path, "mod-lm", &b), AX_OK);
	assert_int_equal(ax_ckpt_get_rng(&b, "rng", &r2), AX_OK);
	ax_bundle_free(&b);
	assert_int_equal(ax_ckpt_load(path, "mtm-train", &b), AX_ERR_FORMAT);
	assert_int_equal(b.n, 0);
	assert_int_equal(ax_ckpt_load(tu_path("missing.safetensors"), "mod-lm", &b), AX_ERR_IO);
}

int main(void)
{
	ax_bundle_init(&ref);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_golden),
		cmocka_unit_test(test_gru_golden),
		cmocka_unit_test(test_mlp_names),
		cmocka_unit_test(test_optimisers),
		cmocka_unit_test(test_lamb),
		cmocka_unit_test(test_sparse_adam),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_params_from_bundle),
		cmocka_unit_test(test_clip_and_state),
		cmocka_unit_test(test_rng_determinism),
		cmocka_unit_test(test_rng_moments),
		cmocka_unit_test(test_rng_discrete),
		cmocka_unit_test(test_checkpoint_meta),
	};
	int rc = cmocka_run_group_tests_name("nn", tests, NULL, NULL);
	ax_bundle_free(&ref);
	return rc;
}
