/* token.c — one window's spike tokens, latents and behaviour queries.
 *
 * POYO tokenises spikes at full resolution: each spike of a kept unit in
 * [t0, t0 + 1 s) is a token UnitEmb(unit) + TypeEmb(spike) at its time;
 * every kept unit also has a start token at 0 and an end token at 1 s, so
 * a silent unit is still seen. Tokens are in time order (start tokens,
 * spikes, end tokens); times are relative to t0. A batch pads every
 * window to the longest (pad 1, masked as keys by the encoder); queries
 * (behaviour samples) are padded likewise (qsample -1, not scored).
 */
#include "poyo.h"

#include <math.h>
#include <string.h>

/* Tokens of window w: count only (out NULL) or written from index 0. */
static int window_tokens(const struct poyo_session *s, const struct poyo_window *w,
			 const uint8_t *keep, int offset, int32_t *unit, int32_t *type, float *time)
{
	float t0 = (float)w->t0, t1 = (float)(w->t0 + POYO_WINDOW);
	size_t a = poyo_lower_bound(s->spike_t, s->K, t0), e = poyo_lower_bound(s->spike_t, s->K, t1);
	int n = 0;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			for (size_t i = a; i < e; i++) {
				int u = s->spike_u[i];
				if (keep && !keep[u])
					continue;
				if (unit) {
					unit[n] = offset + u, type[n] = POYO_TOK_SPIKE;
					time[n] = (float)((double)s->spike_t[i] - w->t0);
				}
				n++;
			}
			continue;
		}
		for (int u = 0; u < s->U; u++) {
			if (keep && !keep[u])
				continue;
			if (unit) {
				unit[n] = offset + u;
				type[n] = pass == 0 ? POYO_TOK_START : POYO_TOK_END;
				time[n] = pass == 0 ? 0.0f : (float)POYO_WINDOW;
			}
			n++;
		}
	}
	return n;
}

/* Behaviour samples of the window's trial inside [t0, t0 + 1 s): [*a, *e). */
static void window_samples(const struct poyo_session *s, const struct poyo_window *w,
			   size_t *a, size_t *e)
{
	float lo = (float)fmax(w->t0, s->trial_start[w->trial]);
	float hi = (float)fmin(w->t0 + POYO_WINDOW, s->trial_end[w->trial]);
	*a = poyo_lower_bound(s->hand_t, (size_t)s->S, lo);
	*e = poyo_lower_bound(s->hand_t, (size_t)s->S, hi);
	if (*e < *a)
		*e = *a;
}

double poyo_window_weight(const struct poyo_session *s, const struct poyo_window *w)
{
	size_t a, e;
	double sum = 0;
	window_samples(s, w, &a, &e);
	for (size_t k = a; k < e; k++)
		sum += s->weight[k];
	return sum;
}

void poyo_batch_make(struct ax_tape *t, const struct poyo_session *ss, int first,
		     const struct poyo_window *w, int B, const uint8_t *const *keep,
		     const int *offsets, struct poyo_batch *b)
{
	int T = 1, Q = 1;
	for (int i = 0; i < B; i++) {
		size_t a, e;
		T = AX_MAX(T, window_tokens(&ss[w[i].session], &w[i], keep ? keep[i] : NULL, 0,
					    NULL, NULL, NULL));
		window_samples(&ss[w[i].session], &w[i], &a, &e);
		Q = AX_MAX(Q, (int)(e - a));
	}
	*b = (struct poyo_batch){ .B = B, .T = T, .Q = Q };
	size_t BT = (size_t)B * T, BQ = (size_t)B * Q;
	b->unit = ax_tape_ints(t, BT);
	b->type = ax_tape_ints(t, BT);
	b->session = ax_tape_ints(t, (size_t)B);
	b->qsample = ax_tape_ints(t, BQ);
	b->time = ax_arena_zalloc(t->arena, BT * sizeof(float));
	b->qtime = ax_arena_zalloc(t->arena, BQ * sizeof(float));
	b->pad = ax_arena_alloc(t->arena, BT);
	memset(b->unit, 0, BT * sizeof(int32_t));
	memset(b->type, 0, BT * sizeof(int32_t));
	memset(b->pad, 1, BT);
	for (int i = 0; i < B; i++) {
		const struct poyo_session *s = &ss[w[i].session];
		size_t o = (size_t)i * T, a, e;
		int n = window_tokens(s, &w[i], keep ? keep[i] : NULL, offsets[first + w[i].session],
				      b->unit + o, b->type + o, b->time + o);
		memset(b->pad + o, 0, (size_t)n);
		b->session[i] = first + w[i].session;
		window_samples(s, &w[i], &a, &e);
		for (int q = 0; q < Q; q++) {
			size_t k = a + (size_t)q;
			b->qsample[(size_t)i * Q + q] = k < e ? (int32_t)k : -1;
			b->qtime[(size_t)i * Q + q] = k < e ? (float)(s->hand_t[k] - w[i].t0) : 0.0f;
		}
	}
}

void poyo_unit_dropout(struct ax_rng *r, int U, uint8_t *keep)
{
	/* Triangular(a = U/2, mode = b = U) by inversion: F(x) = ((x - a)/(b - a))^2. */
	double a = 0.5 * U, x = a + (U - a) * sqrt(ax_rng_uniform_double(r));
	int k = AX_MAX(1, AX_MIN(U, (int)lround(x)));
	memset(keep, 0, (size_t)U);
	for (int u = 0, left = k; u < U && left > 0; u++) /* selection sampling */
		if (ax_rng_uniform_double(r) * (U - u) < left)
			keep[u] = 1, left--;
}
