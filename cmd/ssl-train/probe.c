/* probe.c — frozen representations, the linear probe, and the `probe` and
 * `embed` sub-commands. */
#include "ssl.h"

#include <math.h>
#include <string.h>

enum { REP_BATCH = 256, PROBE_BATCH = 256 };

void ssl_represent(struct ssl_model *m, const struct ssl_data *d, float *rep)
{
	int R = ssl_rep_dim(&m->cfg);
	struct ax_arena arena;
	struct ax_tape t;
	ax_arena_init(&arena, 0);
	ax_tape_init(&t, &arena);
	t.training = 0;   /* BatchNorm by its running statistics */
	ax_no_grad_begin(&t);
	int32_t idx[REP_BATCH];
	for (int b0 = 0; b0 < d->n; b0 += REP_BATCH) {
		int n = AX_MIN(REP_BATCH, d->n - b0);
		struct ax_tensor *x = ax_const(&t, 4, (int[]){ n, 1, SSL_SIDE, SSL_SIDE }, NULL);
		for (int i = 0; i < n; i++)
			idx[i] = b0 + i;
		ssl_data_images(d, idx, n, x->data);
		struct ax_tensor *h = ssl_backbone(&t, m, x, 0);
		memcpy(rep + (size_t)b0 * R, h->data, (size_t)n * R * sizeof(float));
		ax_tape_reset(&t);
	}
	ax_tape_free(&t);
	ax_arena_free(&arena);
}

/* Correct predictions of the probe on n representations. */
static int count_correct(struct ax_tape *t, const struct ax_nn_linear *lin, const float *rep,
			 const int32_t *y, int n, int R)
{
	int hits = 0;
	ax_no_grad_begin(t);
	for (int b0 = 0; b0 < n; b0 += PROBE_BATCH) {
		int nb = AX_MIN(PROBE_BATCH, n - b0);
		struct ax_tensor *x = ax_const(t, 2, (int[]){ nb, R }, rep + (size_t)b0 * R);
		struct ax_tensor *lg = ax_nn_linear(t, lin, x);
		for (int i = 0; i < nb; i++) {
			const float *l = lg->data + (size_t)i * SSL_CLASSES;
			int best = 0;
			for (int k = 1; k < SSL_CLASSES; k++)
				if (l[k] > l[best])
					best = k;
			hits += best == y[b0 + i];
		}
		ax_tape_reset(t);
	}
	ax_no_grad_end(t);
	return hits;
}

double ssl_probe(struct ssl_model *m, const struct ssl_data *train, const struct ssl_data *test,
		 int epochs, uint64_t seed)
{
	int R = ssl_rep_dim(&m->cfg), n = train->n;
	float *rtr = ax_xmalloc_for((size_t)n * R * sizeof(float), "probe representations");
	float *rte = ax_xmalloc_for((size_t)test->n * R * sizeof(float), "probe representations");
	ssl_represent(m, train, rtr);
	ssl_represent(m, test, rte);
	struct ax_arena long_arena, arena;
	struct ax_params p;
	struct ax_nn_linear lin;
	struct ax_optim opt;
	struct ax_tape t;
	struct ax_rng root, r;
	ax_arena_init(&long_arena, 0);
	ax_params_init(&p, &long_arena);
	ax_rng_seed(&root, seed ^ 0x70726f6265ULL);
	r = ax_rng_split(&root, 1);
	ax_nn_linear_init(&lin, &p, &r, "probe", R, SSL_CLASSES, 1);
	ax_optim_init(&opt, AX_OPTIM_ADAM, &p);
	ax_arena_init(&arena, 0);
	ax_tape_init(&t, &arena);
	int32_t *perm = ax_xmalloc((size_t)n * sizeof(int32_t));
	for (int e = 0; e < epochs; e++) {
		r = ax_rng_split(&root, 2 + (uint64_t)e);
		ax_rng_permutation(&r, perm, n);
		for (int b0 = 0; b0 < n; b0 += PROBE_BATCH) {
			int nb = AX_MIN(PROBE_BATCH, n - b0);
			struct ax_tensor *x = ax_const(&t, 2, (int[]){ nb, R }, NULL);
			int32_t *y = ax_tape_ints(&t, (size_t)nb);
			for (int i = 0; i < nb; i++) {
				memcpy(x->data + (size_t)i * R, rtr + (size_t)perm[b0 + i] * R,
				       (size_t)R * sizeof(float));
				y[i] = train->y[perm[b0 + i]];
			}
			struct ax_tensor *l = ax_cross_entropy(&t, ax_nn_linear(&t, &lin, x), y, 0.1f, -1);
			ax_tape_backward(&t, l, 1.0f);
			ax_optim_step(&opt, 1e-3f);
			ax_params_zero_grad(&p);
			ax_tape_reset(&t);
		}
	}
	double acc = (double)count_correct(&t, &lin, rte, test->y, test->n, R) / test->n;
	free(perm), free(rtr), free(rte);
	ax_tape_free(&t);
	ax_arena_free(&arena);
	ax_params_free(&p);
	ax_arena_free(&long_arena);
	return acc;
}

/* The model of -m, exit 2 on failure. */
static void open_model(const struct ssl_opts *o, struct ssl_model *m, struct ssl_settings *s)
{
	struct ax_bundle b;
	enum ax_status st = ssl_checkpoint_read(o->common.run.checkpoint, m, s, &b);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	ax_bundle_free(&b);
}

static void load_or_die(struct ssl_data *d, const char *dir, const char *split, int limit)
{
	enum ax_status st = ssl_data_load(d, dir, split, limit);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
}

int ssl_cmd_probe(const struct ssl_opts *o)
{
	struct ssl_model m;
	struct ssl_settings s;
	open_model(o, &m, &s);
	struct ssl_data train, test;
	load_or_die(&train, o->data, "train", o->limit);
	load_or_die(&test, o->data, "t10k", 0);
	double acc = ssl_probe(&m, &train, &test, o->s.probe_epochs, o->common.seed);
	struct ax_csv csv;
	ax_csv_begin(&csv, stdout, "accuracy,train_images,test_images,probe_epochs");
	ax_csv_rowf(&csv, "%.4f,%d,%d,%d", acc, train.n, test.n, o->s.probe_epochs);
	ssl_data_free(&train), ssl_data_free(&test);
	ssl_model_free(&m);
	return ax_cli_exiting(0);
}

/* One array to path ("-": standard output), atomically. */
static void write_npy(const char *path, enum ax_dtype dt, int ndim, const int64_t *shape,
		      const void *data)
{
	struct ax_outfile f;
	struct ax_array a = { .dtype = dt, .ndim = ndim, .data = (void *)data };
	memcpy(a.shape, shape, (size_t)ndim * sizeof *shape);
	enum ax_status st = ax_outfile_open(&f, path);
	if (!st && (st = ax_npy_write(f.f, &a)))
		ax_outfile_abort(&f);
	else if (!st)
		st = ax_outfile_commit(&f);
	if (st)
		ax_die_status(st == AX_ERR_ARG ? AX_EXIT_USAGE : AX_EXIT_FAIL, st, path);
}

int ssl_cmd_embed(const struct ssl_opts *o)
{
	struct ssl_model m;
	struct ssl_settings s;
	open_model(o, &m, &s);
	struct ssl_data d;
	load_or_die(&d, o->data, strcmp(o->split, "test") ? "train" : "t10k", o->limit);
	int R = ssl_rep_dim(&m.cfg);
	float *rep = ax_xmalloc_for((size_t)d.n * R * sizeof(float), "representations");
	ssl_represent(&m, &d, rep);
	write_npy(o->output, AX_F32, 2, (int64_t[]){ d.n, R }, rep);
	if (o->labels)
		write_npy(o->labels, AX_I32, 1, (int64_t[]){ d.n }, d.y);
	free(rep);
	ssl_data_free(&d);
	ssl_model_free(&m);
	return ax_cli_exiting(0);
}
