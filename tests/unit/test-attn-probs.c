/* test-attn-probs.c — ax_attention_probs: the weights ax_attention uses
 * (its output is those weights times v, head by head), zero outside the
 * band and the masks, rows summing to 1 or all zero. */
#include "testutil.h"

#include <math.h>
#include <string.h>

enum { B = 2, T = 7, H = 2, D = 4, C = H * D };

static void check_probs(struct ax_attn_desc *d, const uint8_t *mask)
{
	struct ax_arena a;
	struct ax_tape t;
	ax_arena_init(&a, 0);
	ax_tape_init(&t, &a);
	struct ax_tensor *q = tu_leaf(&a, 3, (int[]){ B, T, C }, 1, 1.0f);
	struct ax_tensor *k = tu_leaf(&a, 3, (int[]){ B, T, C }, 2, 1.0f);
	struct ax_tensor *v = tu_leaf(&a, 3, (int[]){ B, T, C }, 3, 1.0f);
	struct ax_tensor *out = ax_attention(&t, q, k, v, d);
	struct ax_tensor *p = ax_attention_probs(&t, q, k, d);
	assert_int_equal(p->ndim, 4);
	assert_true(p->shape[0] == B && p->shape[1] == H && p->shape[2] == T && p->shape[3] == T);
	assert_false(p->requires_grad);
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++)
			for (int i = 0; i < T; i++) {
				const float *row = p->data + (((size_t)b * H + h) * T + i) * T;
				double s = 0;
				int seen = 0;
				for (int j = 0; j < T; j++) {
					int ok = j <= i && (!d->window || i - j < d->window) &&
						 (!mask || mask[i * T + j]);
					if (!ok)
						assert_true(row[j] == 0);
					seen += ok;
					s += row[j];
				}
				assert_true(seen ? fabs(s - 1) < 1e-5 : s == 0);
				for (int e = 0; e < D; e++) {   /* out = P v (no rotation of v) */
					double o = 0;
					for (int j = 0; j < T; j++)
						o += row[j] * v->data[((size_t)b * T + j) * C + h * D + e];
					float got = out->data[((size_t)b * T + i) * C + h * D + e];
					assert_true(fabs(o - got) < 1e-5);
				}
			}
	ax_tape_free(&t);
	ax_arena_free(&a);
}

static void test_band(void **state)
{
	struct ax_attn_desc d = { .H = H, .causal = 1, .window = 3 };
	check_probs(&d, NULL);
	d.window = 0;
	check_probs(&d, NULL);
	d.window = 1;   /* a memory of one step: all weight on itself */
	check_probs(&d, NULL);
}

static void test_rope_and_mask(void **state)
{
	uint8_t mask[T * T];
	for (int i = 0; i < T * T; i++)
		mask[i] = (i % T) != 2 && i / T != 4;   /* key 2 hidden; query 4 sees nothing */
	struct ax_attn_desc d = { .H = H, .causal = 1, .window = 4, .rope = 1, .mask = mask };
	check_probs(&d, mask);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_band),
		cmocka_unit_test(test_rope_and_mask),
	};
	return cmocka_run_group_tests_name("attn-probs", tests, NULL, NULL);
}
