/* model.c — pyramidal-cell layers with basal and apical inputs, and the
 * three controls.
 *
 * The paper's exact equations are not available offline; this is the
 * model as designed here (choices marked [choice]). x is the image (784),
 * c the context vector (C), h_0 = x (--basal mlp) or the conv pathway's
 * features (--basal conv, below), l = 1..L hidden layers of H units:
 *
 *   apical   b_l = W_l h_{l-1} + u_l                 basal drive
 *            a_l = A_l c + v_l                       apical drive
 *            h_l = relu(b_l) * g(a_l),  g(a) = 2 sigmoid(a)
 *   point    h_l = relu(W_l h_{l-1} + A_l c + u_l)   context added to the drive
 *   concat   h_1 = relu(W_1 [x; c] + u_1), h_l = relu(W_l h_{l-1} + u_l)
 *   none     h_l = relu(W_l h_{l-1} + u_l)
 *   logits   = W_o h_L + u_o
 *
 * [choice] g(a) = 2 sigmoid(a): positive, 1 at a = 0 (no context leaves the
 * basal response as it is), bounded in (0, 2), so context can amplify or
 * damp a unit but never drive one whose basal drive is off (relu(b) = 0).
 * [choice] Context reaches every hidden layer (apical and point alike);
 * concat sees it once, at the input.
 * [choice] Context c: blend task, a one-hot class cue (zeros for no
 * context, so the apical gain is g(v_l) and the point drive adds nothing);
 * temporal task, a recurrent context network over the T - 1 frames before
 * the target. Each frame f_t first goes through the bottom-up sweep of the
 * same network (the layers above without any context: relu(W_l h + u_l),
 * then W_o h + u_o; no gradient flows back through it) to class beliefs
 * p_t = softmax(logits); then e_t = relu(E p_t + e), s_t = GRU(e_t,
 * s_{t-1}), s_0 = 0, and the cue c = softmax(K s_{T-1} + k), a belief over
 * the 10 classes (C = 10 in both tasks): top-down context built from what
 * the network recognised earlier, reaching the apical dendrites through
 * the same kind of weights A_l as the blend task's one-hot cue (so a
 * temporal model can start from a blend model's, --init). The target frame
 * reaches only the basal (feedforward) pathway.
 *
 * --basal conv [choice]: the basal (feedforward) pathway starts with two
 * stages conv 3x3 (padding 1, bias) - ReLU - maxpool 2 on the 28 x 28 image,
 * C1 then C2 channels (--channels, default 16,32), so h_0 is C2 maps of
 * 7 x 7 flattened (1568 features). Context never reaches the conv stages:
 * it acts on the hidden layers above them, as on the MLP's. A small conv
 * front raises clean-image accuracy, which is what the context conditions
 * are measured against.
 *
 * Parameter names follow scripts/ref/apical_net.py: layers.<l>.basal,
 * layers.<l>.apical, out, features.0 and features.3 (the conv stages, as in
 * torch's nn.Sequential of conv, ReLU, pool, conv, ...), context.encoder,
 * context.gru (nn.GRU names), context.head.
 * Initialisation: PyTorch's nn.Linear / nn.GRU defaults, except [choice]
 * the apical biases v_l, which start at 0: without context the gain is
 * then exactly 1 and a model that takes its feedforward pathway from
 * another (--init) starts out computing what that one does. */
#include "an.h"

#include <string.h>

void an_model_init(struct an_model *m, const struct an_config *cfg, uint64_t seed)
{
	AX_ASSERT(cfg->layers >= 1 && cfg->layers <= AN_MAX_LAYERS && "an_model_init: layers");
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	m->ctx_dim = AN_CLASSES;
	ax_arena_init(&m->arena, 0);
	ax_params_init(&m->params, &m->arena);
	struct ax_rng root, r;
	ax_rng_seed(&root, seed);
	r = ax_rng_split(&root, 1);
	int H = cfg->hidden, C = m->ctx_dim, ctx = cfg->kind != AN_NOCTX;
	if (cfg->basal == AN_BASAL_CONV)
		for (int s = 0; s < 2; s++) {
			int cin = s ? cfg->channels[0] : 1, cout = cfg->channels[s];
			m->conv_w[s] = ax_param(&m->params, 4, (int[]){ cout, cin, 3, 3 },
						"features.%d.weight", 3 * s);
			m->conv_b[s] = ax_param(&m->params, 1, (int[]){ cout }, "features.%d.bias",
						3 * s);
			ax_init_fan_in(m->conv_w[s], &r, cin * 9);
			ax_init_fan_in(m->conv_b[s], &r, cin * 9);
		}
	for (int l = 0; l < cfg->layers; l++) {
		char name[48];
		int in = l ? H : an_feature_dim(cfg) + (cfg->kind == AN_CONCAT ? C : 0);
		snprintf(name, sizeof name, "layers.%d.basal", l);
		ax_nn_linear_init(&m->layer[l].basal, &m->params, &r, name, in, H, 1);
		if (cfg->kind == AN_APICAL || cfg->kind == AN_POINT) {
			snprintf(name, sizeof name, "layers.%d.apical", l);
			ax_nn_linear_init(&m->layer[l].apical, &m->params, &r, name, C, H,
					  cfg->kind == AN_APICAL);
			if (m->layer[l].apical.b)
				ax_tensor_fill(m->layer[l].apical.b, 0.0f);
		}
	}
	ax_nn_linear_init(&m->out, &m->params, &r, "out", H, AN_CLASSES, 1);
	if (cfg->task == AN_TEMPORAL && ctx) {
		struct ax_rng rc = ax_rng_split(&root, 2);
		ax_nn_linear_init(&m->encoder, &m->params, &rc, "context.encoder", AN_CLASSES,
				  cfg->ctx_hidden, 1);
		ax_nn_gru_init(&m->gru, &m->params, &rc, "context.gru", cfg->ctx_hidden,
			       cfg->ctx_hidden);
		ax_nn_linear_init(&m->head, &m->params, &rc, "context.head", cfg->ctx_hidden,
				  AN_CLASSES, 1);
	}
}

void an_model_free(struct an_model *m)
{
	ax_params_free(&m->params);
	ax_arena_free(&m->arena);
}

struct ax_tensor *an_gain_unit(struct ax_tape *t, struct ax_tensor *b, struct ax_tensor *a)
{
	return ax_mul(t, ax_relu(t, b), ax_scale(t, ax_sigmoid(t, a), 2.0f));
}

struct ax_tensor *an_features(struct ax_tape *t, const struct an_model *m, struct ax_tensor *x)
{
	if (m->cfg.basal == AN_BASAL_MLP)
		return x;
	int B = x->shape[0];
	struct ax_tensor *h = ax_reshape(t, x, 4, (int[]){ B, 1, AN_SIDE, AN_SIDE });
	/* relu(maxpool(z)) = maxpool(relu(z)), gradients too; the ReLU after
	 * the pool runs over a quarter of the values. */
	for (int s = 0; s < 2; s++)
		h = ax_relu(t, ax_maxpool2d(t, ax_conv2d(t, h, m->conv_w[s], m->conv_b[s], 1, 1), 2, 2));
	return ax_reshape(t, h, 2, (int[]){ B, an_feature_dim(&m->cfg) });
}

/* The bottom-up sweep without context (no gradient): logits (n, 10) of
 * images x (n, 784). concat's first layer sees a zero cue. */
static struct ax_tensor *bottom_up(struct ax_tape *t, const struct an_model *m,
				   struct ax_tensor *x)
{
	ax_no_grad_begin(t);
	struct ax_tensor *h = an_features(t, m, x);
	if (m->cfg.kind == AN_CONCAT) {
		struct ax_tensor *zero = ax_const(t, 2, (int[]){ x->shape[0], m->ctx_dim }, NULL);
		ax_tensor_fill(zero, 0.0f);
		h = ax_concat(t, (struct ax_tensor *[]){ h, zero }, 2, 1);
	}
	for (int l = 0; l < m->cfg.layers; l++)
		h = ax_relu(t, ax_nn_linear(t, &m->layer[l].basal, h));
	h = ax_nn_linear(t, &m->out, h);
	ax_no_grad_end(t);
	return h;
}

struct ax_tensor *an_context(struct ax_tape *t, const struct an_model *m, struct ax_tensor *cue)
{
	if (m->cfg.task == AN_BLEND)
		return cue;
	int B = cue->shape[0], T = an_frames(&m->cfg);
	AX_ASSERT(cue->ndim == 3 && cue->shape[1] == T && "an_context: cue is (B, T, 784)");
	struct ax_tensor *f = ax_reshape(t, ax_slice(t, cue, 1, 0, T - 1), 2,
					 (int[]){ B * (T - 1), AN_PIXELS });
	struct ax_tensor *p = ax_softmax(t, bottom_up(t, m, f));
	p = ax_reshape(t, p, 3, (int[]){ B, T - 1, AN_CLASSES });
	struct ax_tensor *e = ax_relu(t, ax_nn_linear(t, &m->encoder, p));
	struct ax_tensor *s = ax_nn_gru(t, &m->gru, e, NULL);
	s = ax_reshape(t, ax_slice(t, s, 1, T - 2, 1), 2, (int[]){ B, m->cfg.ctx_hidden });
	return ax_softmax(t, ax_nn_linear(t, &m->head, s));
}

struct ax_tensor *an_forward(struct ax_tape *t, const struct an_model *m, struct ax_tensor *x,
			     struct ax_tensor *c, const float *keep)
{
	const struct an_config *cfg = &m->cfg;
	int H = cfg->hidden;
	struct ax_tensor *h = an_features(t, m, x);
	if (cfg->kind == AN_CONCAT)
		h = ax_concat(t, (struct ax_tensor *[]){ h, c }, 2, 1);
	for (int l = 0; l < cfg->layers; l++) {
		const struct an_layer *L = &m->layer[l];
		struct ax_tensor *b = ax_nn_linear(t, &L->basal, h);
		if (cfg->kind == AN_APICAL)
			h = an_gain_unit(t, b, ax_nn_linear(t, &L->apical, c));
		else if (cfg->kind == AN_POINT)
			h = ax_relu(t, ax_add(t, b, ax_nn_linear(t, &L->apical, c)));
		else
			h = ax_relu(t, b);
		if (keep)
			h = ax_mul(t, h, ax_const(t, 1, (int[]){ H }, keep + (size_t)l * H));
	}
	return ax_nn_linear(t, &m->out, h);
}
