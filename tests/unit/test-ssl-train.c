/* test-ssl-train.c — ssl-train's losses against PyTorch at A = 2 and A = 4
 * (scripts/ref/ssl_train.py) and against finite differences, the fixed
 * subset, and the model's checkpoint round trip. */
#include "testutil.h"

#include "../../cmd/ssl-train/data.c"
#include "../../cmd/ssl-train/loss.c"
#include "../../cmd/ssl-train/model.c"
#include "../../cmd/ssl-train/probe.c"
#include "../../cmd/ssl-train/train.c"

#include <math.h>
#include <string.h>

static const float *ref_f32(const struct ax_bundle *b, const char *name, size_t n)
{
	const struct ax_array *a = ax_bundle_find(b, name);
	if (!a || a->dtype != AX_F32 || ax_array_count(a) != n)
		fail_msg("reference %s missing or not %zu floats", name, n);
	return a->data;
}

static void test_losses_reference(void **state)
{
	struct ax_bundle ref;
	ax_bundle_init(&ref);
	if (ax_bundle_load(tu_ref("ssl-train/losses.safetensors"), &ref))
		fail_msg("losses.safetensors: %s", ax_error_detail());
	enum { N = 8, D = 6 };
	for (int A = 2; A <= 4; A += 2)
		for (int k = 0; k < SSL_NLOSSES; k++) {
			struct ssl_loss_cfg c = { .kind = k, .lambda = k == SSL_BARLOW ? 0.05 : 25,
						  .mu = 25, .nu = 1 };
			char name[64], what[64];
			snprintf(name, sizeof name, "a%d.views", A);
			const float *v = ref_f32(&ref, name, (size_t)A * N * D);
			struct ax_arena a;
			struct ax_tape t;
			ax_arena_init(&a, 0);
			ax_tape_init(&t, &a);
			struct ax_tensor *z[4];
			for (int i = 0; i < A; i++) {
				z[i] = ax_tensor_zeros(&a, 2, (int[]){ N, D });
				ax_tensor_require_grad(z[i], &a);
				memcpy(z[i]->data, v + i * N * D, N * D * sizeof(float));
			}
			float terms[SSL_MAX_TERMS];
			struct ax_tensor *l = ssl_loss(&t, &c, z, A, terms);
			ax_tape_backward(&t, l, 1.0f);
			int nt = ssl_loss_nterms(c.kind);
			snprintf(what, sizeof what, "A=%d %s", A, ssl_loss_names[k]);
			snprintf(name, sizeof name, "a%d.%s.loss", A, ssl_loss_names[k]);
			tu_assert_close(l->data, ref_f32(&ref, name, 1), 1, 1e-5, 1e-5, what);
			snprintf(name, sizeof name, "a%d.%s.terms", A, ssl_loss_names[k]);
			tu_assert_close(terms, ref_f32(&ref, name, nt), nt, 1e-5, 1e-5, what);
			snprintf(name, sizeof name, "a%d.%s.grad", A, ssl_loss_names[k]);
			const float *g = ref_f32(&ref, name, (size_t)A * N * D);
			for (int i = 0; i < A; i++)
				tu_assert_close(z[i]->grad, g + i * N * D, N * D, 1e-5, 1e-3, what);
			ax_tape_free(&t);
			ax_arena_free(&a);
		}
	ax_bundle_free(&ref);
}

struct loss_ctx {
	struct ssl_loss_cfg c;
	int A;
};

static struct ax_tensor *loss_fn(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	struct loss_ctx *c = ctx;
	float terms[SSL_MAX_TERMS];
	return ssl_loss(t, &c->c, in, c->A, terms);
}

static void test_losses_gradcheck(void **state)
{
	struct ax_arena a;
	ax_arena_init(&a, 0);
	for (int A = 2; A <= 3; A++)
		for (int k = 0; k < SSL_NLOSSES; k++) {
			struct ax_tensor *z[3];
			for (int i = 0; i < A; i++)
				z[i] = tu_leaf(&a, 2, (int[]){ 6, 4 }, 10 + (uint64_t)i, 1.0f);
			/* std below 1 so VICReg's hinge is active */
			struct loss_ctx c = { { k, k == SSL_BARLOW ? 0.1 : 2.0, 3.0, 0.5 }, A };
			if (k == SSL_VICREG)
				for (int i = 0; i < A; i++)
					for (size_t j = 0; j < z[i]->size; j++)
						z[i]->data[j] *= 0.5f;
			char what[64];
			snprintf(what, sizeof what, "%s A=%d", ssl_loss_names[k], A);
			tu_gradcheck(loss_fn, z, A, &c, 1e-3f, 2e-3, 2e-2, 0, what);
		}
	ax_arena_free(&a);
}

static void test_subset(void **state)
{
	struct ssl_data d = { .n = 100 }, e = { .n = 100 };
	d.x = calloc(100, SSL_PIXELS), d.y = malloc(100 * sizeof(int32_t));
	e.x = calloc(100, SSL_PIXELS), e.y = malloc(100 * sizeof(int32_t));
	for (int i = 0; i < 100; i++)
		d.y[i] = e.y[i] = i, d.x[(size_t)i * SSL_PIXELS] = e.x[(size_t)i * SSL_PIXELS] = (uint8_t)i;
	ssl_data_subset(&d, 0.25, 7);
	ssl_data_subset(&e, 0.25, 7);
	assert_int_equal(d.n, 25);
	assert_memory_equal(d.y, e.y, 25 * sizeof(int32_t));
	for (int i = 0; i < 25; i++) {
		assert_int_equal(d.x[(size_t)i * SSL_PIXELS], d.y[i]);   /* images follow labels */
		if (i)
			assert_true(d.y[i] > d.y[i - 1]);                /* original order */
	}
	ssl_data_free(&d), ssl_data_free(&e);
}

/* Representations (B, R); parameters and running statistics survive a bundle. */
static void test_model(void **state)
{
	struct ssl_config cfg = { .width = 4, .proj_dim = 8 };
	struct ssl_model m, back;
	ssl_model_init(&m, &cfg, 1);
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	struct ax_tensor *x = ax_const(&t, 4, (int[]){ 3, 1, 28, 28 }, NULL);
	for (size_t i = 0; i < x->size; i++)
		x->data[i] = (float)(i % 17) / 17.0f;
	struct ax_tensor *h = ssl_backbone(&t, &m, x, 1);
	assert_int_equal(h->ndim, 2);
	assert_int_equal(h->shape[1], ssl_rep_dim(&cfg));
	struct ax_tensor *z = ssl_projector(&t, &m, h, 1);
	assert_int_equal(z->shape[0], 3);
	assert_int_equal(z->shape[1], 8);
	assert_true(m.bn[0].num_batches == 1 && m.bn[0].running_mean[0] != 0.0f);
	struct ax_bundle b;
	ax_bundle_init(&b);
	ssl_model_to_bundle(&m, &b);
	assert_non_null(ax_bundle_find(&b, "backbone.9.running_var"));
	assert_non_null(ax_bundle_find(&b, "projector.1.num_batches_tracked"));
	ssl_model_init(&back, &cfg, 2);
	assert_int_equal(ssl_model_from_bundle(&back, &b), AX_OK);
	assert_memory_equal(back.bn[2].running_var, m.bn[2].running_var, 16 * sizeof(float));
	assert_memory_equal(back.conv[1]->data, m.conv[1]->data, m.conv[1]->size * sizeof(float));
	ax_bundle_free(&b);
	ax_tape_free(&t);
	ax_arena_free(&a);
	ssl_model_free(&m), ssl_model_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_losses_reference),
		cmocka_unit_test(test_losses_gradcheck),
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
