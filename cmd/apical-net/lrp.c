/* lrp.c — layer-wise relevance propagation (epsilon rule) through the
 * blend-task models, and the unit rankings used for silencing.
 *
 * Relevance starts at the chosen logit, R_k = z_k (other logits 0), and
 * goes down layer by layer. Through a linear layer z = W in + rest (rest:
 * the bias, and the point model's context drive A c):
 *
 *   R_in[i] = sum_j in[i] W[j,i] R[j] / (z[j] + eps sgn z[j])   (sgn 0 = +1)
 *
 * so sum_i R_in[i] = sum_j R[j] (z[j] - rest[j]) / (z[j] + eps sgn z[j]):
 * relevance is conserved up to what the bias, the context and eps absorb.
 * Through a hidden unit h = relu(b) * g(a) the relevance of h passes to its
 * basal drive b whole: the apical gain acts as a gate, as LRP treats the
 * gates of an LSTM ("signal-take-all"), so none flows into the context.
 * The conv pathway (--basal conv): a convolution is a linear layer with
 * shared weights, so the same rule holds, computed as in[i] times the
 * convolution's input gradient for the output gradient R / (z + eps sgn z);
 * a ReLU passes relevance unchanged and a max pool routes it to the input
 * that won ("winner-take-all"). */
#include "an.h"

#include <math.h>
#include <string.h>

/* One conv stage of the conv pathway, kept from the forward pass. */
struct an_lrp_stage {
	struct ax_conv_desc d;         /* one image */
	float *in;                     /* the stage's input (Cin, S, S) */
	float *z;                      /* conv output before the ReLU (Cout, S, S) */
	int32_t *argmax;               /* of the pool (Cout, S/2, S/2) */
	float *R;                      /* relevance of z */
	float *s;                      /* scratch: R / (z + eps sgn z), and the ReLU's output */
	float *Rin;                    /* relevance of in */
};

struct an_lrp_work {
	float *in0;                    /* layer 0's input: features x or [x; c] */
	float *z[AN_MAX_LAYERS];       /* pre-activation of the basal drive (+ point context) */
	float *h[AN_MAX_LAYERS];       /* unit outputs */
	float zo[AN_CLASSES];
	float *R, *Rin;                /* scratch: relevance of a layer's outputs, inputs */
	struct an_lrp_stage conv[2];   /* --basal conv */
	float *conv_work;
};

struct an_lrp_work *an_lrp_work_new(const struct an_model *m)
{
	const struct an_config *cfg = &m->cfg;
	int H = cfg->hidden, n0 = an_feature_dim(cfg) + m->ctx_dim;
	AX_ASSERT(cfg->task == AN_BLEND && "lrp: blend-task models only");
	struct an_lrp_work *w = ax_xcalloc(1, sizeof *w);
	w->in0 = ax_xcalloc((size_t)n0, sizeof(float));
	for (int l = 0; l < cfg->layers; l++) {
		w->z[l] = ax_xcalloc((size_t)H, sizeof(float));
		w->h[l] = ax_xcalloc((size_t)H, sizeof(float));
	}
	w->R = ax_xcalloc((size_t)AX_MAX(H, n0), sizeof(float));
	w->Rin = ax_xcalloc((size_t)AX_MAX(H, n0), sizeof(float));
	if (cfg->basal == AN_BASAL_CONV) {
		size_t work = 0;
		for (int s = 0; s < 2; s++) {
			struct an_lrp_stage *st = &w->conv[s];
			int S = AN_SIDE >> s, cin = s ? cfg->channels[0] : 1, cout = cfg->channels[s];
			st->d = (struct ax_conv_desc){ 1, cin, S, S, cout, 3, 3, 1, 1, 0, 0 };
			size_t n_in = (size_t)cin * S * S, n_out = (size_t)cout * S * S;
			st->in = ax_xcalloc(n_in, sizeof(float));
			st->Rin = ax_xcalloc(n_in, sizeof(float));
			st->z = ax_xcalloc(n_out, sizeof(float));
			st->R = ax_xcalloc(n_out, sizeof(float));
			st->s = ax_xcalloc(n_out, sizeof(float));
			st->argmax = ax_xcalloc(n_out / 4, sizeof(int32_t));
			work = AX_MAX(work, ax_conv_work_size(&st->d));
		}
		w->conv_work = ax_xcalloc(work, sizeof(float));
	}
	return w;
}

void an_lrp_work_free(struct an_lrp_work *w)
{
	if (!w)
		return;
	free(w->in0), free(w->R), free(w->Rin);
	for (int l = 0; l < AN_MAX_LAYERS; l++)
		free(w->z[l]), free(w->h[l]);
	for (int s = 0; s < 2; s++) {
		struct an_lrp_stage *st = &w->conv[s];
		free(st->in), free(st->Rin), free(st->z), free(st->R), free(st->s), free(st->argmax);
	}
	free(w->conv_work);
	free(w);
}

const float *an_lrp_logits(const struct an_lrp_work *w)
{
	return w->zo;
}

void an_lrp_linear(int n_in, int n_out, const float *W, const float *in, const float *z,
		   const float *R, float eps, float *R_in)
{
	for (int j = 0; j < n_out; j++) {
		if (R[j] == 0.0f)
			continue;
		float s = R[j] / (z[j] + (z[j] >= 0.0f ? eps : -eps));
		const float *wj = W + (size_t)j * n_in;
		for (int i = 0; i < n_in; i++)
			R_in[i] += in[i] * wj[i] * s;
	}
}

/* out (n_out) = W in + b (b may be NULL). */
static void matvec(int n_in, int n_out, const float *W, const float *b, const float *in,
		   float *out)
{
	for (int j = 0; j < n_out; j++) {
		const float *wj = W + (size_t)j * n_in;
		float s = b ? b[j] : 0.0f;
		for (int i = 0; i < n_in; i++)
			s += wj[i] * in[i];
		out[j] = s;
	}
}

static float gain(float a)
{
	return 2.0f / (1.0f + expf(-a));
}

/* The conv pathway's forward for one image x into feat (an_feature_dim). */
static void conv_forward(const struct an_model *m, struct an_lrp_work *w, const float *x,
			 float *feat)
{
	memcpy(w->conv[0].in, x, AN_PIXELS * sizeof(float));
	for (int s = 0; s < 2; s++) {
		struct an_lrp_stage *st = &w->conv[s];
		const struct ax_conv_desc *d = &st->d;
		size_t n = (size_t)d->Cout * d->H * d->W;
		ax_conv2d_forward(d, st->in, m->conv_w[s]->data, m->conv_b[s]->data, st->z,
				  w->conv_work);
		for (size_t i = 0; i < n; i++)
			st->s[i] = st->z[i] > 0.0f ? st->z[i] : 0.0f;
		ax_maxpool2d_forward(1, d->Cout, d->H, d->W, 2, 2, st->s, s ? feat : w->conv[1].in,
				     st->argmax);
	}
}

/* Relevance of the features (R_feat) down through the conv pathway to the
 * pixels (R_x). */
static void conv_relevance(struct an_lrp_work *w, const struct an_model *m, const float *R_feat,
			   float eps, float *R_x)
{
	for (int s = 1; s >= 0; s--) {
		struct an_lrp_stage *st = &w->conv[s];
		const struct ax_conv_desc *d = &st->d;
		size_t n = (size_t)d->Cout * d->H * d->W, n_in = (size_t)d->Cin * d->H * d->W;
		memset(st->R, 0, n * sizeof(float));
		ax_maxpool2d_backward(1, d->Cout, d->H, d->W, 2, 2, st->argmax,
				      s ? R_feat : w->conv[1].Rin, st->R, 0);
		for (size_t j = 0; j < n; j++)
			st->s[j] = st->R[j] / (st->z[j] + (st->z[j] >= 0.0f ? eps : -eps));
		memset(st->Rin, 0, n_in * sizeof(float));
		ax_conv2d_backward(d, st->in, m->conv_w[s]->data, st->s, st->Rin, NULL, NULL,
				   w->conv_work, 0);
		for (size_t i = 0; i < n_in; i++)
			st->Rin[i] *= st->in[i];
	}
	memcpy(R_x, w->conv[0].Rin, AN_PIXELS * sizeof(float));
}

/* Forward in plain C, keeping what the backward pass needs. */
static void lrp_forward(const struct an_model *m, struct an_lrp_work *w, const float *x,
			const float *c)
{
	const struct an_config *cfg = &m->cfg;
	int H = cfg->hidden, C = m->ctx_dim, F = an_feature_dim(cfg);
	int n_in = F + (cfg->kind == AN_CONCAT ? C : 0);
	if (cfg->basal == AN_BASAL_CONV)
		conv_forward(m, w, x, w->in0);
	else
		memcpy(w->in0, x, AN_PIXELS * sizeof(float));
	if (cfg->kind == AN_CONCAT)
		for (int i = 0; i < C; i++)
			w->in0[F + i] = c ? c[i] : 0.0f;
	float *a = w->Rin; /* scratch for the apical drive */
	for (int l = 0; l < cfg->layers; l++) {
		const struct an_layer *L = &m->layer[l];
		const float *in = l ? w->h[l - 1] : w->in0;
		matvec(l ? H : n_in, H, L->basal.w->data, L->basal.b->data, in, w->z[l]);
		int ctx = c && (cfg->kind == AN_APICAL || cfg->kind == AN_POINT);
		if (cfg->kind == AN_APICAL || cfg->kind == AN_POINT) {
			const float *bias = L->apical.b ? L->apical.b->data : NULL;
			if (ctx)
				matvec(C, H, L->apical.w->data, bias, c, a);
			else
				for (int j = 0; j < H; j++)
					a[j] = bias ? bias[j] : 0.0f;
		}
		for (int j = 0; j < H; j++) {
			if (cfg->kind == AN_POINT)
				w->z[l][j] += a[j];
			float r = w->z[l][j] > 0.0f ? w->z[l][j] : 0.0f;
			w->h[l][j] = cfg->kind == AN_APICAL ? r * gain(a[j]) : r;
		}
	}
	matvec(H, AN_CLASSES, m->out.w->data, m->out.b->data, w->h[cfg->layers - 1], w->zo);
}

float an_lrp(const struct an_model *m, struct an_lrp_work *w, const float *x, const float *c,
	     int k, float eps, float *R_hidden, float *R_x)
{
	const struct an_config *cfg = &m->cfg;
	int H = cfg->hidden, L = cfg->layers, F = an_feature_dim(cfg);
	int n0 = F + (cfg->kind == AN_CONCAT ? m->ctx_dim : 0);
	lrp_forward(m, w, x, c);
	float Ro[AN_CLASSES] = { 0 };
	Ro[k] = w->zo[k];
	memset(w->R, 0, (size_t)H * sizeof(float));
	an_lrp_linear(H, AN_CLASSES, m->out.w->data, w->h[L - 1], w->zo, Ro, eps, w->R);
	for (int l = L - 1; l >= 0; l--) {
		memcpy(R_hidden + (size_t)l * H, w->R, (size_t)H * sizeof(float));
		if (l == 0 && !R_x)
			break;
		int n_in = l ? H : n0;
		memset(w->Rin, 0, (size_t)n_in * sizeof(float));
		an_lrp_linear(n_in, H, m->layer[l].basal.w->data, l ? w->h[l - 1] : w->in0, w->z[l],
			      w->R, eps, w->Rin);
		memcpy(w->R, w->Rin, (size_t)n_in * sizeof(float));
	}
	if (R_x && cfg->basal == AN_BASAL_CONV)
		conv_relevance(w, m, w->R, eps, R_x);
	else if (R_x)
		memcpy(R_x, w->R, AN_PIXELS * sizeof(float));
	return w->zo[k];
}

void an_overlap_relevance(const struct an_model *m, const struct an_data *d, int p, int n,
			  uint64_t seed, float eps, float *out)
{
	int units = m->cfg.layers * m->cfg.hidden;
	struct an_lrp_work *w = an_lrp_work_new(m);
	float *R = ax_xmalloc((size_t)units * sizeof(float)), x[AN_PIXELS];
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	memset(out, 0, (size_t)units * sizeof(float));
	for (int i = 0; i < n; i++) {
		struct an_example e = an_example_blend(p, 0.5f, AN_NONE, &r);
		an_render(d, &e, &r, x);
		for (int s = 0; s < 2; s++) {
			an_lrp(m, w, x, NULL, an_pairs[p][s], eps, R, NULL);
			for (int u = 0; u < units; u++)
				out[u] += R[u] / (2.0f * n);
		}
	}
	free(R);
	an_lrp_work_free(w);
}

void an_apical_signal(const struct an_model *m, int p, float *out)
{
	int H = m->cfg.hidden, C = m->ctx_dim, c0 = an_pairs[p][0], c1 = an_pairs[p][1];
	AX_ASSERT((m->cfg.kind == AN_APICAL || m->cfg.kind == AN_POINT) && m->cfg.task == AN_BLEND &&
		  "an_apical_signal: blend task, apical or point model");
	for (int l = 0; l < m->cfg.layers; l++) {
		const struct an_layer *L = &m->layer[l];
		for (int j = 0; j < H; j++) {
			const float *aw = L->apical.w->data + (size_t)j * C;
			float v = L->apical.b ? L->apical.b->data[j] : 0.0f, s;
			if (m->cfg.kind == AN_APICAL)
				s = gain(aw[c0] + v) - gain(aw[c1] + v);
			else
				s = aw[c0] - aw[c1];
			out[(size_t)l * H + j] = fabsf(s);
		}
	}
}

void an_class_relevance(const struct an_model *m, const struct an_data *d, int n, uint64_t seed,
			float eps, float *out)
{
	int H = m->cfg.hidden, L = m->cfg.layers, units = L * H;
	struct an_lrp_work *w = an_lrp_work_new(m);
	float *R = ax_xmalloc((size_t)units * sizeof(float)), x[AN_PIXELS];
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	memset(out, 0, (size_t)units * AN_CLASSES * sizeof(float));
	for (int k = 0; k < AN_CLASSES; k++)
		for (int i = 0; i < n; i++) {
			int idx = d->idx[k][ax_rng_below(&r, (uint32_t)d->count[k])];
			an_image(d, idx, x);
			an_lrp(m, w, x, NULL, k, eps, R, NULL);
			for (int l = 0; l < L; l++)
				for (int j = 0; j < H; j++)
					out[((size_t)l * AN_CLASSES + k) * H + j] += R[l * H + j] / n;
		}
	free(R);
	an_lrp_work_free(w);
}

double an_pearson(const float *x, const float *y, int n)
{
	double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
	for (int i = 0; i < n; i++)
		mx += x[i], my += y[i];
	mx /= n, my /= n;
	for (int i = 0; i < n; i++) {
		double a = x[i] - mx, b = y[i] - my;
		sxx += a * a, syy += b * b, sxy += a * b;
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

void an_keep_top(const float *score, int units, int k, float *keep)
{
	for (int u = 0; u < units; u++)
		keep[u] = 1.0f;
	/* k passes of a linear scan: k and units are small. Ties: lower index. */
	for (int s = 0; s < k && s < units; s++) {
		int best = -1;
		for (int u = 0; u < units; u++)
			if (keep[u] != 0.0f && (best < 0 || score[u] > score[best]))
				best = u;
		keep[best] = 0.0f;
	}
}

void an_keep_random(int units, int k, struct ax_rng *r, float *keep)
{
	int32_t *perm = ax_xmalloc((size_t)units * sizeof(int32_t));
	ax_rng_permutation(r, perm, units);
	for (int u = 0; u < units; u++)
		keep[u] = 1.0f;
	for (int s = 0; s < k && s < units; s++)
		keep[perm[s]] = 0.0f;
	free(perm);
}
