/* attn_probs.c — the probabilities an attention op uses, for probes
 * (interpretability: attention maps, rollout). See ax_attention_probs in
 * ax_tape.h. */
#include "ax_tape.h"

struct ax_tensor *ax_attention_probs(struct ax_tape *t, struct ax_tensor *q,
				     struct ax_tensor *k, const struct ax_attn_desc *desc)
{
	AX_ASSERT(q->ndim == 3 && k->ndim == 3 && q->shape[0] == k->shape[0] &&
		  q->shape[2] == k->shape[2] && desc->H > 0 && q->shape[2] % desc->H == 0 &&
		  "attention probs: q (B,Tq,C), k (B,Tk,C), C divisible by H");
	struct ax_attn_desc d = *desc;
	d.B = q->shape[0];
	d.Tq = q->shape[1];
	d.Tk = k->shape[1];
	d.D = q->shape[2] / d.H;
	/* The op's own forward (k stands in for v: only the weights are kept),
	 * so the probabilities are bit for bit the ones ax_attention used. */
	float *saved = ax_arena_alloc(t->arena, ax_attn_saved_size(&d) * sizeof(float));
	float *out = ax_arena_alloc(t->arena, (size_t)d.B * d.Tq * q->shape[2] * sizeof(float));
	ax_attn_forward(&d, q->data, k->data, k->data, out, saved);
	return ax_tensor_wrap(t->arena, saved, 4, (int[]){ d.B, d.H, d.Tq, d.Tk });
}
