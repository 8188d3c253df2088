/* eval.c — MtM's metrics on one session.
 *
 * Spike prediction (bits/spike, per neuron, averaged over neurons with
 * spikes; the null model is each neuron's mean count over the scored
 * entries), on the session's test trials:
 *   co_smoothing  neuron n zeroed in every bin, neuron prompt, score n
 *   forward_pred  last 10 bins zeroed, causal prompt (+ causal attention;
 *                 --forward-prompt picks another of MtM's prompts)
 *   inter_region  each region zeroed in turn, inter prompt, score it
 *   intra_region  only one region visible, each of its neurons zeroed in
 *                 turn, intra prompt, score that neuron
 * Behaviour from the frozen encoder (nothing masked; MtM uses the neuron
 * prompt), 5-fold cross-validation over all trials (fold = trial % 5),
 * features standardised on the training folds:
 *   choice_acc    logistic regression (L2 1.0) on the encoder output averaged
 *                 over bins [T/2, 7T/10) and [7T/10, T)
 *   wheel_r2      ridge (L2 1.0) from the encoder output of each bin
 * Oracle: the true rates score the same entries; its decoders read the log
 * true rates instead of the encoder output (a reference for behaviour, not
 * a strict ceiling). */
#include "mtm.h"

#include <math.h>
#include <string.h>

const char *const mtm_metric_names[MET_N] = {
	"co_smoothing", "forward_pred", "inter_region", "intra_region", "choice_acc", "wheel_r2",
};

enum { EVAL_BATCH = 64, FOLDS = 5, FORWARD_BINS = 10 };

struct eval_ctx {
	const struct mtm_model *m;
	const struct mtm_session *s;
	int sidx;
	struct ax_arena arena;
	struct ax_tape tape;
	float *keep;        /* (T, N) the input mask of the current pass */
	uint8_t *take;      /* (N) the neurons a pass scores (all zero between passes) */
};

/* One pass over trials idx with inputs counts * keep: the rates of the
 * neurons with take[n] (every neuron if take is NULL) into their columns of
 * rates (nidx, T, N), other columns untouched; features (nidx, T, D) too if
 * asked. */
static void predict(struct eval_ctx *e, const int32_t *idx, int nidx, enum mtm_scheme prompt,
		    const uint8_t *take, float *rates, float *features)
{
	const struct mtm_session *s = e->s;
	int T = s->T, N = s->N, D = e->m->cfg.D;
	size_t TN = (size_t)T * N;
	for (int k0 = 0; k0 < nidx; k0 += EVAL_BATCH) {
		int B = AX_MIN(EVAL_BATCH, nidx - k0);
		struct ax_tensor *x = ax_tensor_new(&e->arena, 3, (int[]){ B, T, N });
		for (int b = 0; b < B; b++) {
			const float *c = s->counts + (size_t)idx[k0 + b] * TN;
			for (size_t i = 0; i < TN; i++)
				x->data[(size_t)b * TN + i] = c[i] * e->keep[i];
		}
		struct ax_tensor *feat, *lr = mtm_forward(&e->tape, e->m, e->sidx, x, prompt, NULL, &feat);
		if (rates)
			for (size_t i = 0; i < (size_t)B * T; i++)
				for (int n = 0; n < N; n++)
					if (!take || take[n])
						rates[((size_t)k0 * T + i) * N + n] = expf(lr->data[i * N + n]);
		if (features)
			memcpy(features + (size_t)k0 * T * D, feat->data, (size_t)B * T * D * sizeof(float));
		ax_tape_reset(&e->tape);
	}
}

double mtm_mean_bps(const struct mtm_session *s, const int32_t *idx, int nidx, int t0, int t1,
		    const float *pred, int pred_by_idx)
{
	int N = s->N, len = t1 - t0;
	size_t TN = (size_t)s->T * N, n_ent = (size_t)nidx * len;
	float *cnt = ax_xmalloc(n_ent * sizeof *cnt), *rt = ax_xmalloc(n_ent * sizeof *rt);
	double sum = 0;
	int used = 0;
	for (int n = 0; n < N; n++) {
		size_t e = 0;
		for (int k = 0; k < nidx; k++)
			for (int t = t0; t < t1; t++, e++) {
				size_t off = (size_t)t * N + n;
				cnt[e] = s->counts[(size_t)idx[k] * TN + off];
				rt[e] = pred[(size_t)(pred_by_idx ? k : idx[k]) * TN + off];
			}
		double b = ax_bits_per_spike(n_ent, 1, cnt, rt);
		if (isfinite(b))
			sum += b, used++;
	}
	free(cnt), free(rt);
	return used ? sum / used : NAN;
}

static void keep_all(struct eval_ctx *e, float v)
{
	for (size_t i = 0; i < (size_t)e->s->T * e->s->N; i++)
		e->keep[i] = v;
}

static void keep_neuron(struct eval_ctx *e, int n, float v)
{
	for (int t = 0; t < e->s->T; t++)
		e->keep[(size_t)t * e->s->N + n] = v;
}

/* Cross-validated decoding of y from X (n, d), samples grouped by trial
 * (per_trial samples each; fold = trial % FOLDS). Accuracy for a binary y
 * (classify), else pooled R^2 of the held-out predictions. */
static double cv_decode(int n, int d, int per_trial, const float *X, const float *y, int classify)
{
	float *Xtr = ax_xmalloc((size_t)n * d * sizeof *Xtr), *ytr = ax_xmalloc((size_t)n * sizeof *ytr);
	float *pred = ax_xmalloc((size_t)n * sizeof *pred), *w = ax_xmalloc((size_t)d * sizeof *w);
	double *mu = ax_xmalloc((size_t)d * sizeof *mu), *sd = ax_xmalloc((size_t)d * sizeof *sd);
	for (int f = 0; f < FOLDS; f++) {
		int ntr = 0;
		for (int j = 0; j < d; j++)
			mu[j] = sd[j] = 0;
		for (int i = 0; i < n; i++)
			if ((i / per_trial) % FOLDS != f) {
				ntr++;
				for (int j = 0; j < d; j++)
					mu[j] += X[(size_t)i * d + j];
			}
		if (!ntr || ntr == n)
			continue;
		for (int j = 0; j < d; j++)
			mu[j] /= ntr;
		for (int i = 0; i < n; i++)
			if ((i / per_trial) % FOLDS != f)
				for (int j = 0; j < d; j++) {
					double v = X[(size_t)i * d + j] - mu[j];
					sd[j] += v * v;
				}
		for (int j = 0; j < d; j++)
			sd[j] = sqrt(sd[j] / ntr) + 1e-6;
		int k = 0;
		for (int i = 0; i < n; i++) {
			if ((i / per_trial) % FOLDS == f)
				continue;
			for (int j = 0; j < d; j++)
				Xtr[(size_t)k * d + j] = (float)((X[(size_t)i * d + j] - mu[j]) / sd[j]);
			ytr[k++] = y[i];
		}
		float b;
		if (classify)
			ax_logreg_fit(ntr, d, Xtr, ytr, 1.0, 25, w, &b);
		else
			ax_ridge_fit(ntr, d, Xtr, ytr, 1.0, w, &b);
		for (int i = 0; i < n; i++) {
			if ((i / per_trial) % FOLDS != f)
				continue;
			double z = b;
			for (int j = 0; j < d; j++)
				z += w[j] * (X[(size_t)i * d + j] - mu[j]) / sd[j];
			pred[i] = (float)z;
		}
	}
	double score;
	if (classify) {
		int right = 0;
		for (int i = 0; i < n; i++)
			right += (pred[i] > 0) == (y[i] > 0.5f);
		score = (double)right / n;
	} else {
		score = ax_r2((size_t)n, y, pred);
	}
	free(Xtr), free(ytr), free(pred), free(w), free(mu), free(sd);
	return score;
}

/* Behaviour decoding from per-bin features F (trials, T, d). */
static void decode_behaviour(const struct mtm_session *s, const float *F, int d, double *choice,
			     double *wheel)
{
	int M = s->trials, T = s->T;
	*choice = *wheel = NAN;
	if (s->choice) {
		int w0 = T / 2, w1 = 7 * T / 10;
		float *X = ax_xcalloc((size_t)M * 2 * d, sizeof *X), *y = ax_xmalloc((size_t)M * sizeof *y);
		for (int m = 0; m < M; m++) {
			y[m] = s->choice[m] != 0;
			for (int t = w0; t < T; t++) {
				float *xo = X + (size_t)m * 2 * d + (t < w1 ? 0 : d);
				float inv = 1.0f / (float)(t < w1 ? w1 - w0 : T - w1);
				for (int j = 0; j < d; j++)
					xo[j] += inv * F[((size_t)m * T + t) * d + j];
			}
		}
		*choice = cv_decode(M, 2 * d, 1, X, y, 1);
		free(X), free(y);
	}
	if (s->wheel)
		*wheel = cv_decode(M * T, d, T, F, s->wheel, 0);
}

/* Behaviour decoded from the frozen encoder's features over all trials
 * (and, as the oracle, from the true log rates). */
static void eval_behaviour(struct eval_ctx *e, enum mtm_scheme prompt, struct mtm_eval_result *res)
{
	const struct mtm_session *s = e->s;
	int M = s->trials, T = s->T, N = s->N, D = e->m->cfg.D;
	size_t TN = (size_t)T * N;
	int32_t *all = ax_xmalloc((size_t)M * sizeof *all);
	for (int k = 0; k < M; k++)
		all[k] = k;
	float *F = ax_xmalloc((size_t)M * T * D * sizeof *F);
	keep_all(e, 1);
	predict(e, all, M, prompt, NULL, NULL, F);
	decode_behaviour(s, F, D, &res->value[MET_CHOICE], &res->value[MET_WHEEL]);
	free(F);
	if (s->rates) {
		F = ax_xmalloc((size_t)M * TN * sizeof *F);
		for (size_t i = 0; i < (size_t)M * TN; i++)
			F[i] = logf(s->rates[i] > 1e-6f ? s->rates[i] : 1e-6f);
		decode_behaviour(s, F, N, &res->oracle[MET_CHOICE], &res->oracle[MET_WHEEL]);
		free(F);
	}
	free(all);
}

void mtm_evaluate(const struct mtm_model *m, int sidx, const struct mtm_session *s, int trained,
		  enum mtm_scheme forward_prompt, struct mtm_eval_result *res, float *predict_out)
{
	struct eval_ctx e = { .m = m, .s = s, .sidx = sidx };
	ax_arena_init(&e.arena, 0);
	ax_tape_init(&e.tape, &e.arena);
	e.tape.no_grad = 1;
	e.tape.training = 0;
	int T = s->T, N = s->N, nt = s->ntest;
	size_t TN = (size_t)T * N;
	e.keep = ax_xmalloc(TN * sizeof *e.keep);
	e.take = ax_xcalloc((size_t)N, sizeof *e.take);
	float *pred = ax_xmalloc((size_t)nt * TN * sizeof *pred);
#define PROMPT(task) (trained == MTM_MASK_MTM ? (enum mtm_scheme)(task) : (enum mtm_scheme)trained)
	for (int i = 0; i < MET_N; i++)
		res->value[i] = res->oracle[i] = NAN;

	/* Co-smoothing. */
	for (int n = 0; n < N; n++) {
		keep_all(&e, 1);
		keep_neuron(&e, n, 0);
		e.take[n] = 1;
		predict(&e, s->test, nt, PROMPT(MTM_NEURON), e.take, pred, NULL);
		e.take[n] = 0;
	}
	res->value[MET_COSMOOTH] = mtm_mean_bps(s, s->test, nt, 0, T, pred, 1);
	if (predict_out)
		memcpy(predict_out, pred, (size_t)nt * TN * sizeof *pred);

	/* Forward prediction. */
	int tf = T - FORWARD_BINS;
	keep_all(&e, 1);
	for (size_t i = (size_t)tf * N; i < TN; i++)
		e.keep[i] = 0;
	predict(&e, s->test, nt, PROMPT(forward_prompt), NULL, pred, NULL);
	res->value[MET_FORWARD] = mtm_mean_bps(s, s->test, nt, tf, T, pred, 1);

	/* Inter-region: each region masked whole, in turn. */
	for (int r = 0; r < s->nregions; r++) {
		keep_all(&e, 1);
		for (int n = 0; n < N; n++) {
			e.take[n] = s->region[n] == r;
			if (e.take[n])
				keep_neuron(&e, n, 0);
		}
		predict(&e, s->test, nt, PROMPT(MTM_INTER), e.take, pred, NULL);
	}
	memset(e.take, 0, (size_t)N);
	res->value[MET_INTER] = mtm_mean_bps(s, s->test, nt, 0, T, pred, 1);

	/* Intra-region: one region visible, each of its neurons left out. */
	for (int n = 0; n < N; n++) {
		keep_all(&e, 0);
		for (int j = 0; j < N; j++)
			if (s->region[j] == s->region[n] && j != n)
				keep_neuron(&e, j, 1);
		e.take[n] = 1;
		predict(&e, s->test, nt, PROMPT(MTM_INTRA), e.take, pred, NULL);
		e.take[n] = 0;
	}
	res->value[MET_INTRA] = mtm_mean_bps(s, s->test, nt, 0, T, pred, 1);

	if (s->rates) {
		double b = mtm_mean_bps(s, s->test, nt, 0, T, s->rates, 0);
		res->oracle[MET_COSMOOTH] = res->oracle[MET_INTER] = res->oracle[MET_INTRA] = b;
		res->oracle[MET_FORWARD] = mtm_mean_bps(s, s->test, nt, tf, T, s->rates, 0);
	}

	if (s->choice || s->wheel)
		eval_behaviour(&e, PROMPT(MTM_NEURON), res);
#undef PROMPT
	free(e.keep), free(e.take), free(pred);
	ax_tape_free(&e.tape);
	ax_arena_free(&e.arena);
}

/* ---- `mtm-train eval` ---- */

/* Every metric of session s as CSV rows; its co-smoothing rates into the
 * NPY stream f if not NULL. */
static void eval_session(const struct mtm_model *m, int s, const struct mtm_session *se,
			 int trained, enum mtm_scheme forward_prompt, struct ax_csv *csv, FILE *f,
			 const char *fpath)
{
	struct mtm_eval_result res;
	size_t npred = (size_t)se->ntest * se->T * se->N;
	float *pred = f ? ax_xmalloc_for(npred * sizeof *pred, "the predictions") : NULL;
	mtm_evaluate(m, s, se, trained, forward_prompt, &res, pred);
	for (int k = 0; k < MET_N; k++) {
		if (isnan(res.value[k]) && isnan(res.oracle[k]))
			continue;
		ax_csv_rowf(csv, "%s,%s,%.6g,%.6g", se->name, mtm_metric_names[k], res.value[k],
			    res.oracle[k]);
	}
	if (pred) {
		int64_t shape[3] = { se->ntest, se->T, se->N };
		if (ax_npy_write_f32(f, pred, 3, shape))
			ax_die(AX_EXIT_FAIL, "%s: %s", fpath, ax_error_detail());
		free(pred);
	}
}

int mtm_cmd_eval(struct mtm_opts *o)
{
	const char *path = o->cli.common.run.checkpoint;
	int n = o->cli.nfiles;
	struct mtm_session *sess;
	enum ax_status st = mtm_sessions_load(o->cli.files, n, &sess);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	struct ax_bundle ck;
	struct mtm_config cfg;
	struct mtm_train_cfg tc;
	if ((st = mtm_checkpoint_open(path, &ck, &cfg)) || (st = mtm_sessions_fit(&cfg, sess, n, path)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	const struct ax_setting *mask = ax_setting_find(mtm_train_settings, mtm_n_train_settings,
							"--mask");
	if ((st = ax_ckpt_get_setting(&ck, mask, &tc)))
		ax_die_status(AX_EXIT_USAGE, st, path);
	struct mtm_model m;
	mtm_model_init(&m, &cfg, o->cli.common.seed);
	free(cfg.neurons);
	if (ax_params_from_bundle(&m.params, &ck, ""))
		ax_die(AX_EXIT_USAGE, "%s: %s", path, ax_error_detail());
	ax_bundle_free(&ck);

	struct ax_outfile pred_file = { 0 };
	if (o->predict_out && ax_outfile_open(&pred_file, o->predict_out))
		ax_die(AX_EXIT_FAIL, "%s", ax_error_detail());
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "session,metric,value,oracle");
	struct ax_progress prog;
	ax_progress_begin(&prog, "eval", n, o->cli.common.quiet);
	for (int s = 0; s < n; s++) {
		eval_session(&m, s, &sess[s], tc.mask, o->forward_prompt, &csv,
			     o->predict_out ? pred_file.f : NULL, o->predict_out);
		ax_progress_update(&prog, s + 1, NULL);
	}
	ax_progress_end(&prog);
	if ((st = ax_stdout_check())) {   /* before the predictions replace their file */
		ax_outfile_abort(&pred_file);
		ax_die_status(AX_EXIT_FAIL, st, NULL);
	}
	if (o->predict_out && ax_outfile_commit(&pred_file))
		ax_die(AX_EXIT_FAIL, "%s", ax_error_detail());
	mtm_model_free(&m);
	mtm_sessions_free(sess, n);
	return 0;
}
