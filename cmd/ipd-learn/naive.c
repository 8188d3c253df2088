/* naive.c — naive learners: a softmax policy and a value over the current
 * observation only, trained by A2C on the B lanes of each inner episode.
 *
 * With hidden == 0 the policy is logits = Wp obs: on the IPD's one-hot
 * observation that is exactly the 5-logit tabular policy of App. C. With
 * hidden > 0 (CleanUp) a tanh layer is shared by policy and value. Forward
 * and backward are written out by hand: the learner is tiny and there is
 * one per meta-trajectory. Parameter layout: [W1 (H,O), b1 (H)] Wp (A,F),
 * wv (F), F = H or O. */
#include "ipd_learn.h"

#include <math.h>
#include <string.h>

static int features(const struct ipd_naive_cfg *c)
{
	return c->hidden ? c->hidden : c->obs_dim;
}

int ipd_naive_nparam(const struct ipd_naive_cfg *c)
{
	int F = features(c), trunk = c->hidden ? c->hidden * c->obs_dim + c->hidden : 0;
	return trunk + c->n_actions * F + F;
}

void ipd_naive_init(struct ipd_naive *nl, const struct ipd_naive_cfg *c, float *storage, struct ax_rng *r)
{
	int P = ipd_naive_nparam(c), F = features(c), O = c->obs_dim, H = c->hidden;
	nl->cfg = c;
	nl->nparam = P;
	nl->w = storage;
	nl->grad = storage + P;
	nl->m = storage + 2 * P;
	nl->v = storage + 3 * P;
	nl->step = 0;
	memset(storage, 0, 4 * (size_t)P * sizeof *storage);
	float *wp = nl->w;
	if (H) {
		ax_rng_fill_uniform(r, nl->w, (size_t)H * O, -1.0f / sqrtf((float)O), 1.0f / sqrtf((float)O));
		wp += H * O + H;
	}
	ax_rng_fill_normal(r, wp, (size_t)c->n_actions * F, 0.0f,
			   H ? c->init_std / sqrtf((float)H) : c->init_std);
}

// features f into hid (F), logits (A); returns the value.
float ipd_naive_forward(const struct ipd_naive *nl, const float *obs, float *logits, float *hid)
{
	const struct ipd_naive_cfg *c = nl->cfg;
	int O = c->obs_dim, H = c->hidden, F = features(c), A = c->n_actions;
	const float *w = nl->w, *f = obs;
	if (H) {
		const float *b1 = w + H * O;
		for (int j = 0; j < H; j++) {
			float s = b1[j];
			for (int o = 0; o < O; o++)
				s += w[j * O + o] * obs[o];
			hid[j] = tanhf(s);
		}
		f = hid;
		w += H * O + H;
	} else {
		memcpy(hid, obs, (size_t)O * sizeof *hid);
	}
	for (int a = 0; a < A; a++) {
		float s = 0.0f;
		for (int k = 0; k < F; k++)
			s += w[a * F + k] * f[k];
		logits[a] = s;
	}
	const float *wv = w + A * F;
	float v = 0.0f;
	for (int k = 0; k < F; k++)
		v += wv[k] * f[k];
	return v;
}

void ipd_naive_probs(const struct ipd_naive *nl, const float *obs, float *p, float *hid)
{
	float mx;
	ipd_naive_forward(nl, obs, p, hid);
	ax_softmax_row(nl->cfg->n_actions, p, p, &mx);
}

// ret, val, adv (N); features (N, F) and logits (N, A) of the one forward
// pass; pre (F), dlogit (A).
size_t ipd_naive_scratch_floats(const struct ipd_naive_cfg *c, int B, int T)
{
	size_t F = (size_t)features(c), A = (size_t)c->n_actions;
	return (size_t)B * T * (3 + F + A) + F + A;
}

void ipd_naive_update(struct ipd_naive *nl, int B, int T, const float *obs, const int *act,
		  const float *rew, float *scratch)
{
	const struct ipd_naive_cfg *c = nl->cfg;
	int O = c->obs_dim, H = c->hidden, F = features(c), A = c->n_actions, N = B * T;
	float *ret = scratch, *val = ret + N, *adv = val + N, *feat = adv + N;
	float *logits = feat + (size_t)N * F, *pre = logits + (size_t)N * A, *dlogit = pre + F;

	// Discounted returns within the episode (its end is terminal), values;
	// the forward pass is kept for the gradient below.
	double mean = 0.0, sq = 0.0;
	for (int b = 0; b < B; b++) {
		float g = 0.0f;
		for (int t = T - 1; t >= 0; t--) {
			int i = b * T + t;
			g = rew[i] * c->reward_scale + c->gamma * g;
			ret[i] = g;
			val[i] = ipd_naive_forward(nl, obs + (size_t)i * O, logits + (size_t)i * A,
					       feat + (size_t)i * F);
			adv[i] = g - val[i];
			mean += adv[i];
		}
	}
	mean /= N;
	for (int i = 0; i < N; i++)
		sq += (adv[i] - mean) * (adv[i] - mean);
	float inv_std = (float)(1.0 / (sqrt(sq / N) + 1e-8));
	for (int i = 0; i < N; i++)
		adv[i] = (float)(adv[i] - mean) * inv_std;

	// Loss = mean(-logp(a) adv) + value_coef * 0.5 * mean((V - G)^2).
	memset(nl->grad, 0, (size_t)nl->nparam * sizeof *nl->grad);
	float *gW1 = nl->grad, *gb1 = gW1 + (H ? H * O : 0);
	float *gWp = nl->grad + (H ? H * O + H : 0), *gwv = gWp + A * F;
	const float *Wp = nl->w + (H ? H * O + H : 0), *wv = Wp + A * F;
	for (int i = 0; i < N; i++) {
		const float *x = obs + (size_t)i * O, *hid = feat + (size_t)i * F;
		float *probs = logits + (size_t)i * A;
		float mx;
		ax_softmax_row(A, probs, probs, &mx);
		for (int a = 0; a < A; a++)
			dlogit[a] = (probs[a] - (a == act[i])) * adv[i] / N;
		float dv = c->value_coef * (val[i] - ret[i]) / N;
		for (int a = 0; a < A; a++)
			for (int k = 0; k < F; k++)
				gWp[a * F + k] += dlogit[a] * hid[k];
		for (int k = 0; k < F; k++)
			gwv[k] += dv * hid[k];
		if (!H)
			continue;
		for (int k = 0; k < F; k++) {
			float s = dv * wv[k];
			for (int a = 0; a < A; a++)
				s += dlogit[a] * Wp[a * F + k];
			pre[k] = s * (1.0f - hid[k] * hid[k]);
		}
		for (int j = 0; j < H; j++) {
			gb1[j] += pre[j];
			for (int o = 0; o < O; o++)
				gW1[j * O + o] += pre[j] * x[o];
		}
	}

	nl->step++;
	if (!c->adam) {
		for (int k = 0; k < nl->nparam; k++)
			nl->w[k] -= c->lr * nl->grad[k];
		return;
	}
	ax_adam_update((size_t)nl->nparam, nl->w, nl->grad, nl->m, nl->v, nl->step, c->lr, 0.9f,
		       0.999f, 1e-5f, 0.0f, 0.0f);
}
