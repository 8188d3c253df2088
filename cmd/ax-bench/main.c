/* ax-bench — time libaxon's building blocks on this machine.
 *
 *   ax-bench block   forward+backward of one pre-LN transformer block
 *   ax-bench gru     forward+backward of a GRU over a sequence
 *   ax-bench sgemm   cblas_sgemm rate (the ceiling for everything else)
 *   ax-bench ops     every elementwise and row-wise op: ns/element, GB/s (ops.c)
 *   ax-bench attn    the attention kernel beside sgemm on its shapes (attn.c)
 *   ax-bench shapes  the commands' linear layers as a fraction of sgemm (attn.c)
 *   ax-bench machine what the numbers were measured on: CPU, cores, BLAS
 *
 * CSV on stdout: a header, then one row per run. block and gru are timed
 * in PyTorch too, by scripts/ref/bench_lib.py.
 */
#include "bench.h"

#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: ax-bench block|gru|sgemm|ops|attn|shapes|machine [OPTION]...\n"
	"Time libaxon's building blocks on this machine; CSV on stdout.\n"
	"  block    forward+backward of a pre-LN transformer block\n"
	"  gru      forward+backward of a GRU over a sequence\n"
	"  sgemm    cblas_sgemm on square matrices\n"
	"  ops      every elementwise and row-wise op: ns/element, GB/s, in and out of cache\n"
	"  attn     the attention kernel beside sgemm on its shapes (T 32..512, head dim 16..64)\n"
	"  shapes   the commands' linear layers as a fraction of sgemm\n"
	"  machine  CPU, cores and BLAS (key: value lines)\n"
	"block, gru and sgemm print bench,threads,batch,seq,dim,ms_per_iter,gflops\n"
	"  -b, --batch N     batch size (block 8, gru 64)\n"
	"  -T, --seq N       sequence length (block 128, gru 256); ops: elements of the\n"
	"                    in-cache size (32768); attn: one length (all)\n"
	"  -C, --dim N       model width, GRU hidden size (block 256, gru 64), matrix\n"
	"                    size (sgemm 512); ops: Mi elements of the large size (16)\n"
	"  -H, --heads N     attention heads (4)\n"
	"  -n, --iters N     timed iterations (block 20, gru 10, sgemm 20, ops 5, attn 5,\n"
	"                    shapes 10); ops, attn and shapes keep the best\n"
	"  -j, --threads N   threads (0 = all cores)\n"
	"  -s, --seed N      initialisation seed (1)\n"
	"  -q, --quiet       (accepted; ax-bench prints no progress)\n"
	"  -h, --help        print this help and exit\n"
	"      --version     print the version and exit\n";

static void report(const char *what, const struct config *c, double seconds, double flops)
{
	printf("%s,%d,%d,%d,%d,%.3f,%.2f\n", what, ax_threads_get(), c->batch, c->seq, c->dim,
	       1e3 * seconds / c->iters, flops * c->iters / seconds * 1e-9);
}

/* secs = wall time of c->iters runs of the body, after two warm-up runs. */
#define TIMED(secs, c, ...)                                          \
	do {                                                         \
		for (int w_ = 0; w_ < 2; w_++) { __VA_ARGS__; }      \
		double t0_ = ax_now();                               \
		for (int i_ = 0; i_ < (c)->iters; i_++) { __VA_ARGS__; } \
		secs = ax_now() - t0_;                               \
	} while (0)

/* Parameters in a long-lived arena, activations on a per-step tape, and a
 * random input of shape (B, T, C) — what each timed model needs. */
struct bench_model {
	struct ax_arena long_arena, step;
	struct ax_params params;
	struct ax_tape tape;
	struct ax_rng rng;
	float *input;
};

static void model_init(struct bench_model *m, const struct config *c)
{
	ax_arena_init(&m->long_arena, 0);
	ax_arena_init(&m->step, 0);
	ax_params_init(&m->params, &m->long_arena);
	ax_tape_init(&m->tape, &m->step);
	ax_rng_seed(&m->rng, c->seed);
}

static void model_input(struct bench_model *m, size_t n)
{
	m->input = ax_arena_alloc(&m->long_arena, n * sizeof(float));
	ax_rng_fill_normal(&m->rng, m->input, n, 0, 1);
}

/* A fresh step: the input as a leaf that wants its gradient. */
static struct ax_tensor *model_step_input(struct bench_model *m, int B, int T, int C)
{
	ax_tape_reset(&m->tape);
	struct ax_tensor *x = ax_const(&m->tape, 3, (int[]){ B, T, C }, m->input);
	ax_tensor_require_grad(x, &m->step);
	return x;
}

static void model_free(struct bench_model *m)
{
	ax_tape_free(&m->tape);
	ax_params_free(&m->params);
	ax_arena_free(&m->step);
	ax_arena_free(&m->long_arena);
}

static void bench_block(const struct config *c)
{
	struct bench_model m;
	struct ax_nn_block blk;
	int B = c->batch, T = c->seq, C = c->dim;
	model_init(&m, c);
	ax_nn_block_init(&blk, &m.params, &m.rng, "block", C, c->heads, 4 * C);
	model_input(&m, (size_t)B * T * C);
	struct ax_attn_desc d = { .causal = 1 };
	double secs;
	TIMED(secs, c, {
		struct ax_tensor *y = ax_nn_block(&m.tape, &blk, model_step_input(&m, B, T, C), &d, NULL);
		ax_tape_backward(&m.tape, ax_mean_all(&m.tape, y), 1.0f);
	});
	/* Forward: 4 C x C projections, 2 C x 4C MLP layers, QK^T and PV over
	 * all T x T pairs (the causal half is not subtracted); backward 2x. */
	double fwd = 2.0 * B * T * (4.0 * C * C + 8.0 * C * C) + 4.0 * B * T * T * C;
	report("block", c, secs, 3 * fwd);
	model_free(&m);
}

static void bench_gru(const struct config *c)
{
	struct bench_model m;
	struct ax_nn_gru g;
	int B = c->batch, T = c->seq, H = c->dim;
	model_init(&m, c);
	ax_nn_gru_init(&g, &m.params, &m.rng, "gru", H, H);
	model_input(&m, (size_t)B * T * H);
	double secs;
	TIMED(secs, c, {
		struct ax_tensor *y = ax_nn_gru(&m.tape, &g, model_step_input(&m, B, T, H), NULL);
		ax_tape_backward(&m.tape, ax_mean_all(&m.tape, y), 1.0f);
	});
	double fwd = 2.0 * B * T * 3 * H * (H + H);
	report("gru", c, secs, 3 * fwd);
	model_free(&m);
}

static void bench_sgemm(const struct config *c)
{
	int n = c->dim;
	float *a = ax_xmalloc(sizeof(float) * n * n), *b = ax_xmalloc(sizeof(float) * n * n),
	      *out = ax_xmalloc(sizeof(float) * n * n);
	struct ax_rng r;
	ax_rng_seed(&r, c->seed);
	ax_rng_fill_normal(&r, a, (size_t)n * n, 0, 1);
	ax_rng_fill_normal(&r, b, (size_t)n * n, 0, 1);
	double secs;
	TIMED(secs, c, ax_sgemm(0, 0, n, n, n, 1.0f, a, b, 0.0f, out));
	report("sgemm", c, secs, 2.0 * n * n * n);
	free(a);
	free(b);
	free(out);
}

/* key: value lines: the CPU's model name, online cores, the BLAS. */
static void print_machine(void)
{
	char line[512], model[256] = "unknown", blas[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	ax_blas_describe(blas, sizeof blas);
	printf("cpu: %s\ncores: %ld\nblas: %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), blas);
}

enum { SUB_BLOCK, SUB_GRU, SUB_SGEMM, SUB_OPS, SUB_ATTN, SUB_SHAPES, SUB_MACHINE };
enum { OPT_BATCH, OPT_SEQ, OPT_DIM, OPT_HEADS, OPT_ITERS };

static const char *const subs[] = { "block", "gru", "sgemm", "ops", "attn", "shapes", "machine",
				    NULL };
#define TIMED_SUBS (AX_SUBS_ALL & ~AX_SUB(SUB_MACHINE))
static const struct ax_option options[] = {
	{ "batch", 'b', 1, AX_SUB(SUB_BLOCK) | AX_SUB(SUB_GRU), OPT_BATCH, 0 },
	{ "seq", 'T', 1, AX_SUB(SUB_BLOCK) | AX_SUB(SUB_GRU) | AX_SUB(SUB_OPS) | AX_SUB(SUB_ATTN),
	  OPT_SEQ, 0 },
	{ "dim", 'C', 1, AX_SUB(SUB_BLOCK) | AX_SUB(SUB_GRU) | AX_SUB(SUB_SGEMM) | AX_SUB(SUB_OPS),
	  OPT_DIM, 0 },
	{ "heads", 'H', 1, AX_SUB(SUB_BLOCK) | AX_SUB(SUB_ATTN), OPT_HEADS, 0 },
	{ "iters", 'n', 1, TIMED_SUBS, OPT_ITERS, 0 },
	{ "threads", 'j', 1, TIMED_SUBS, AX_OPT_THREADS, 0 },
	{ "seed", 's', 1, TIMED_SUBS, AX_OPT_SEED, 0 },
};

/* The sub-command's options into *c; unset sizes take its defaults. */
static int parse(struct config *c, int argc, char **argv)
{
	struct ax_cli cli = { .usage = usage_text, .subs = subs, .opts = options,
			      .nopts = (int)AX_COUNTOF(options) };
	cli.common.seed = 1;
	ax_cli_begin(&cli, argc, argv);
	*c = (struct config){ .heads = 4 };
	const char *arg;
	for (int id; (id = ax_cli_next(&cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(&cli);
		switch (id) {
		case OPT_BATCH: c->batch = (int)ax_parse_long(opt, arg, 1, 1 << 16); break;
		case OPT_SEQ: c->seq = (int)ax_parse_long(opt, arg, 1, 1 << 16); break;
		case OPT_DIM: c->dim = (int)ax_parse_long(opt, arg, 1, 1 << 14); break;
		case OPT_HEADS: c->heads = (int)ax_parse_long(opt, arg, 1, 256); break;
		case OPT_ITERS: c->iters = (int)ax_parse_long(opt, arg, 1, 1000000); break;
		}
	}
	if (cli.nfiles > 0)
		ax_usage_error("%s: unexpected operand '%s'", cli.sub_name, cli.files[0]);
	c->threads = cli.common.threads;
	c->seed = cli.common.seed;
	static const int defaults[6][4] = { { 8, 128, 256, 20 }, { 64, 256, 64, 10 }, { 0, 0, 512, 20 },
					    { 0, 0, 0, 5 },         { 0, 0, 0, 5 },         { 0, 0, 0, 10 } };
	if (cli.sub < SUB_MACHINE) {
		const int *d = defaults[cli.sub];
		c->batch = c->batch ? c->batch : d[0];
		c->seq = c->seq ? c->seq : d[1];
		c->dim = c->dim ? c->dim : d[2];
		c->iters = c->iters ? c->iters : d[3];
	}
	if (cli.sub == SUB_BLOCK && c->dim % c->heads)
		ax_usage_error("block: --dim %d is not divisible by --heads %d", c->dim, c->heads);
	return cli.sub;
}

int main(int argc, char **argv)
{
	ax_cli_init("ax-bench");
	struct config c;
	int which = parse(&c, argc, argv);
	if (which <= SUB_SGEMM)
		printf("bench,threads,batch,seq,dim,ms_per_iter,gflops\n");
	switch (which) {
	case SUB_BLOCK: bench_block(&c); break;
	case SUB_GRU: bench_gru(&c); break;
	case SUB_SGEMM: bench_sgemm(&c); break;
	case SUB_OPS: bench_ops(&c); break;
	case SUB_ATTN: bench_attn(&c); break;
	case SUB_SHAPES: bench_shapes(&c); break;
	default: print_machine(); break;
	}
	return 0;
}
