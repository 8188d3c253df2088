/* test-run.c — the command layer: option tables (sub-commands, common
 * options, errors as one line, exit 2), typed settings shared by flags and
 * checkpoints, number and list parsing, the training run's decisions and
 * resume, out-of-memory exits. */
#include "testutil.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn(arg) in a child with stderr captured; its exit status (or -signal). */
static int child(void (*fn)(void *), void *arg, char *err, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		fn(arg);
		exit(0);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t got;
	while (len + 1 < n && (got = read(fds[0], err + len, n - 1 - len)) > 0)
		len += (size_t)got;
	err[len] = 0;
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/* ---- options ---- */

enum { OPT_DIM, OPT_LENGTH, OPT_STEPS, OPT_FLAG };
static const char *const subs[] = { "train", "eval", "sample", NULL };
static const struct ax_option opts[] = {
	{ "dim", 0, 1, AX_SUB(0), OPT_DIM, AX_OPT_FIXED },
	{ "steps", 'n', 1, AX_SUB(0), OPT_STEPS, 0 },
	{ "length", 'n', 1, AX_SUB(2), OPT_LENGTH, 0 },
	{ "flag", 'f', 0, AX_SUB(0) | AX_SUB(1), OPT_FLAG, 0 },
	{ "checkpoint", 'c', 1, AX_SUB(0) | AX_SUB(1), AX_OPT_CHECKPOINT, 0 },
};

struct parsed {
	long dim, steps, length;
	int flag;
	struct ax_cli cli;
};

static void parse_argv(struct parsed *p, int argc, char **argv)
{
	memset(p, 0, sizeof *p);
	p->cli = (struct ax_cli){ .usage = "Usage: tool SUB\n", .subs = subs, .opts = opts,
				  .nopts = (int)AX_COUNTOF(opts), .train_subs = AX_SUB(0) };
	p->cli.common.seed = 42;
	ax_cli_begin(&p->cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&p->cli, &arg)) != AX_OPT_END;) {
		const char *o = ax_cli_opt(&p->cli);
		switch (id) {
		case OPT_DIM: p->dim = ax_parse_long(o, arg, 1, 64); break;
		case OPT_STEPS: p->steps = ax_parse_long(o, arg, 1, 100); break;
		case OPT_LENGTH: p->length = ax_parse_long(o, arg, 1, 100); break;
		case OPT_FLAG: p->flag = 1; break;
		default: fail_msg("unexpected id %d", id);
		}
	}
}

static void test_options_ok(void **state)
{
	ax_cli_init("tool");
	char *a1[] = { "tool", "train", "--dim", "8", "-n", "5", "in.txt", "-f", "--log-every", "3",
		       "-c", "ck", "--stop-at=4", "-s", "7", "--threads", "1", "-q", NULL };
	struct parsed p;
	parse_argv(&p, 18, a1);
	assert_int_equal(p.cli.sub, 0);
	assert_int_equal(p.dim, 8);
	assert_int_equal(p.steps, 5);
	assert_int_equal(p.flag, 1);
	assert_int_equal(p.cli.nfiles, 1);
	assert_string_equal(p.cli.files[0], "in.txt");
	assert_int_equal(p.cli.common.run.log_every, 3);
	assert_int_equal(p.cli.common.run.stop_at, 4);
	assert_int_equal(p.cli.common.run.every, 0);   /* shared default */
	assert_string_equal(p.cli.common.run.checkpoint, "ck");
	assert_true(p.cli.common.seed == 7);
	assert_int_equal(p.cli.common.quiet, 1);
	assert_true(ax_cli_seen(&p.cli, OPT_DIM) && ax_cli_seen(&p.cli, AX_OPT_CHECKPOINT));
	assert_false(ax_cli_seen(&p.cli, AX_OPT_RESUME));
	/* The same short letter means --length in sample. */
	char *a2[] = { "tool", "sample", "-n", "9", NULL };
	parse_argv(&p, 4, a2);
	assert_int_equal(p.cli.sub, 2);
	assert_int_equal(p.length, 9);
	assert_true(p.cli.common.seed == 42);
	assert_int_equal(p.cli.common.run.log_every, 50);
}

static char **bad_argv;
static int bad_argc;
static void parse_bad(void *unused)
{
	struct parsed p;
	parse_argv(&p, bad_argc, bad_argv);
	if (p.cli.common.run.resume)
		ax_cli_refuse(&p.cli, AX_OPT_FIXED, "conflicts with --resume");
}

static void expect_usage(const char *line, char **argv, int argc)
{
	char err[512];
	bad_argv = argv, bad_argc = argc;
	assert_int_equal(child(parse_bad, NULL, err, sizeof err), 2);
	char want[256];
	snprintf(want, sizeof want, "tool: %s\nTry 'tool --help'.\n", line);
	assert_string_equal(err, want);
}

static void test_options_errors(void **state)
{
	ax_cli_init("tool");
	expect_usage("a sub-command is needed: train, eval or sample", (char *[]){ "tool", NULL }, 1);
	expect_usage("unknown sub-command 'fit' (train, eval or sample)",
		     (char *[]){ "tool", "fit", NULL }, 2);
	expect_usage("--bogus: unknown option", (char *[]){ "tool", "train", "--bogus=1", NULL }, 3);
	expect_usage("-x: unknown option", (char *[]){ "tool", "train", "-x", NULL }, 3);
	expect_usage("--seed: a value is needed", (char *[]){ "tool", "train", "--seed", NULL }, 3);
	expect_usage("-n: a value is needed", (char *[]){ "tool", "train", "-n", NULL }, 3);
	expect_usage("--flag: takes no value", (char *[]){ "tool", "train", "--flag=2", NULL }, 3);
	expect_usage("eval: option --dim does not apply",
		     (char *[]){ "tool", "eval", "--dim", "3", NULL }, 4);
	expect_usage("sample: option --log-every does not apply",
		     (char *[]){ "tool", "sample", "--log-every", "3", NULL }, 4);
	expect_usage("--checkpoint: an empty file name",
		     (char *[]){ "tool", "train", "--checkpoint", "", NULL }, 4);
	expect_usage("train: --dim conflicts with --resume",
		     (char *[]){ "tool", "train", "--resume", "r", "--dim", "3", NULL }, 6);
	expect_usage("train: --log-every conflicts with --resume",
		     (char *[]){ "tool", "train", "--log-every", "3", "--resume", "r", NULL }, 6);
	expect_usage("--dim: 99 is outside [1, 64]",
		     (char *[]){ "tool", "train", "--dim", "99", NULL }, 4);
	expect_usage("-q: the sub-command comes first (train, eval or sample)",
		     (char *[]){ "tool", "-q", "train", NULL }, 3);
}

/* ---- numbers and lists ---- */

static void test_numbers_and_lists(void **state)
{
	double d;
	long l;
	assert_int_equal(ax_number_double("1e-320", 0, 100, 0, &d), AX_ERR_ARG);
	tu_assert_detail("out of the range of a double");
	assert_int_equal(ax_number_double("abc", 0, 1, 0, &d), AX_ERR_ARG);
	tu_assert_detail("'abc' is not a number");
	assert_int_equal(ax_number_double("0", 0, 1, AX_LO_OPEN, &d), AX_ERR_ARG);
	tu_assert_detail("0 is outside (0, 1]");
	assert_int_equal(ax_number_double("1", 0, 1, AX_LO_OPEN, &d), AX_OK);
	assert_int_equal(ax_number_long("99999999999999999999", 0, 10, &l), AX_ERR_ARG);
	tu_assert_detail("out of the range of an integer");

	double *v;
	int n;
	assert_int_equal(ax_list_double("0.1:0.5:0.1", 0, 1, 100, &v, &n), AX_OK);
	assert_int_equal(n, 5);
	assert_float_equal(v[4], 0.5, 1e-12);
	free(v);
	assert_int_equal(ax_list_double("1,2.5,0:1:0.5", -10, 10, 100, &v, &n), AX_OK);
	assert_int_equal(n, 5);
	assert_float_equal(v[1], 2.5, 0);
	assert_float_equal(v[4], 1.0, 0);
	free(v);
	int *iv;
	assert_int_equal(ax_list_int("1,2,3", 0, 10, 10, &iv, &n), AX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(iv[2], 3);
	free(iv);
	assert_int_equal(ax_list_int("4:10:3", 0, 10, 10, &iv, &n), AX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(iv[2], 10);
	free(iv);
	assert_int_equal(ax_list_int("1,,2", 0, 10, 10, &iv, &n), AX_ERR_ARG);
	assert_int_equal(ax_list_int("1,20", 0, 10, 10, &iv, &n), AX_ERR_ARG);
	tu_assert_detail("20 is outside [0, 10]");
	assert_int_equal(ax_list_double("1:2", 0, 10, 10, &v, &n), AX_ERR_ARG);
	assert_int_equal(ax_list_double("1:2:0", 0, 10, 10, &v, &n), AX_ERR_ARG);
	assert_int_equal(ax_list_double("0:1:0.001", 0, 10, 10, &v, &n), AX_ERR_ARG);
	tu_assert_detail("more than 10 values");
	assert_int_equal(ax_list_double("", 0, 10, 10, &v, &n), AX_ERR_ARG);
}

/* ---- settings: one table for flags and checkpoints ---- */

struct cfg {
	int layers;
	long steps;
	double capacity;
	float dropout;
	int pos, predictor;
	uint64_t seed;
};
static const char *const pos_names[] = { "learned", "rope", NULL };
static const struct ax_setting settings[] = {
	AX_SETTING_INT("t.layers", "--layers", struct cfg, layers, 1, 64),
	AX_SETTING_LONG("t.steps", "--steps", struct cfg, steps, 1, LONG_MAX),
	AX_SETTING_DOUBLE("t.capacity", "--capacity", struct cfg, capacity, 0, 1, AX_LO_OPEN),
	AX_SETTING_FLOAT("t.dropout", "--dropout", struct cfg, dropout, 0, 1, AX_HI_OPEN),
	AX_SETTING_CHOICE("t.pos", "--pos", struct cfg, pos, pos_names),
	AX_SETTING_BOOL("t.predictor", "--predictor", struct cfg, predictor),
	AX_SETTING_U64("t.seed", "--seed", struct cfg, seed),
};
#define NSET ((int)AX_COUNTOF(settings))

static void test_settings_checkpoint(void **state)
{
	struct cfg c = { 4, LONG_MAX, 0.125, 0.2f, 1, 1, 0xFFFFFFFFFFFFFFFFull }, back;
	struct ax_bundle b;
	ax_ckpt_begin(&b, "tool");
	ax_ckpt_put_settings(&b, settings, NSET, &c);
	ax_ckpt_put_int_list(&b, "t.neurons", (int[]){ 12, 8 }, 2);
	const char *path = tu_path("ck.safetensors");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);

	assert_int_equal(ax_ckpt_open(path, "tool", &b), AX_OK);
	assert_string_equal(ax_bundle_meta(&b, "t.pos"), "rope");   /* readable with ax-info */
	assert_string_equal(ax_bundle_meta(&b, "t.capacity"), "0.125");
	memset(&back, 0, sizeof back);
	assert_int_equal(ax_ckpt_get_settings(&b, settings, NSET, &back), AX_OK);
	/* field by field: the padding of c is not initialised */
	assert_true(c.layers == back.layers && c.steps == back.steps &&
		    c.capacity == back.capacity && c.dropout == back.dropout && c.pos == back.pos &&
		    c.predictor == back.predictor && c.seed == back.seed);
	int *nv, n;
	assert_int_equal(ax_ckpt_get_int_list(&b, "t.neurons", 1, 100, 10, &nv, &n), AX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(nv[1], 8);
	free(nv);

	/* An edited value is refused with the flag's own range. */
	static const struct { const char *key, *value, *detail; } bad[] = {
		{ "t.layers", "70", "'t.layers' (--layers): 70 is outside [1, 64]" },
		{ "t.capacity", "nan", "'nan' is not a number" },
		{ "t.capacity", "-1", "-1 is outside (0, 1]" },
		{ "t.dropout", "1", "1 is outside [0, 1)" },
		{ "t.pos", "alibi", "unknown value 'alibi'" },
		{ "t.predictor", "2", "2 is outside [0, 1]" },
		{ "t.steps", "1e3", "'1e3' is not an integer" },
		{ "t.seed", "-1", "not a non-negative integer" },
	};
	for (size_t i = 0; i < AX_COUNTOF(bad); i++) {
		struct ax_bundle e;
		assert_int_equal(ax_ckpt_open(path, "tool", &e), AX_OK);
		ax_bundle_set_meta(&e, bad[i].key, bad[i].value);
		assert_int_equal(ax_ckpt_get_settings(&e, settings, NSET, &back), AX_ERR_FORMAT);
		tu_assert_detail(bad[i].detail);
		ax_bundle_free(&e);
	}
	ax_bundle_set_meta(&b, "t.neurons", "12,0");
	assert_int_equal(ax_ckpt_get_int_list(&b, "t.neurons", 1, 100, 10, &nv, &n), AX_ERR_FORMAT);
	tu_assert_detail("'t.neurons': 0 is outside [1, 100]");
	ax_bundle_set_meta(&b, "t.neurons", "1:3:1");
	assert_int_equal(ax_ckpt_get_int_list(&b, "t.neurons", 1, 100, 10, &nv, &n), AX_ERR_FORMAT);
	ax_bundle_free(&b);

	/* A checkpoint from before the scheme (no axon.format) is refused. */
	ax_bundle_init(&b);
	ax_bundle_set_meta(&b, "axon.kind", "tool");
	assert_int_equal(ax_bundle_save(path, &b), AX_OK);
	ax_bundle_free(&b);
	assert_int_equal(ax_ckpt_open(path, "tool", &b), AX_ERR_UNSUPPORTED);
	tu_assert_detail("written by an older axon");
	assert_int_equal(ax_ckpt_open(path, "other", &b), AX_ERR_FORMAT);
	tu_assert_detail("a tool checkpoint, not other");
	assert_non_null(ax_setting_find(settings, NSET, "--pos"));
	assert_null(ax_setting_find(settings, NSET, "--bogus"));
}

/* ---- the training run ---- */

/* Decisions of a run over steps, as a string "L" log, "S" save, "X" stop;
 * step k (1-based) has loss k. */
static void run_trace(struct ax_run *r, char *out, size_t n)
{
	size_t len = 0;
	while (ax_run_next(r)) {
		unsigned d = ax_run_step_done(r, 1.0 + r->step);
		len += (size_t)snprintf(out + len, n - len, "%ld%s%s%s ", r->step,
					(d & AX_RUN_LOG) ? "L" : "", (d & AX_RUN_SAVE) ? "S" : "",
					(d & AX_RUN_STOP) ? "X" : "");
	}
}

static void test_run_decisions(void **state)
{
	unsetenv("AXON_TEST_STEPS");
	struct ax_run_opts o;
	ax_run_opts_default(&o);
	o.log_every = 3, o.every = 4, o.checkpoint = "ck";
	struct ax_run r;
	char trace[512] = "";
	ax_run_init(&r, &o, 7, 1);
	run_trace(&r, trace, sizeof trace);
	assert_string_equal(trace, "1 2 3L 4S 5 6L 7LSX ");
	assert_int_equal(ax_run_finish(&r), 0);

	/* --stop-at 5: no row at 5, a save; the sums since row 3 are kept. */
	o.stop_at = 5;
	ax_run_init(&r, &o, 7, 1);
	trace[0] = 0;
	run_trace(&r, trace, sizeof trace);
	assert_string_equal(trace, "1 2 3L 4S 5SX ");
	assert_float_equal(ax_run_mean_loss(&r), (4.0 + 5.0) / 2, 0);   /* steps 4, 5 */
	struct ax_bundle b;
	ax_bundle_init(&b);
	ax_run_put(&r, &b);
	assert_string_equal(ax_bundle_meta(&b, "axon.step"), "5");
	ax_run_finish(&r);

	/* Resumed: the row at 6 averages steps 4..6, as without the stop; the
	 * checkpoint's --log-every holds. */
	o.stop_at = 0;
	o.log_every = 50;
	ax_run_init(&r, &o, 7, 1);
	assert_int_equal(ax_run_resume(&r, &b), AX_OK);
	assert_int_equal(r.step, 5);
	assert_int_equal(r.o.log_every, 3);
	trace[0] = 0;
	assert_int_equal(ax_run_next(&r), 1);
	unsigned d = ax_run_step_done(&r, 7.0);
	assert_true(d & AX_RUN_LOG);
	assert_float_equal(ax_run_mean_loss(&r), (4.0 + 5.0 + 7.0) / 3, 0);
	ax_run_finish(&r);

	/* Resuming at or past --stop-at runs no step. */
	o.stop_at = 2;
	ax_run_init(&r, &o, 7, 1);
	assert_int_equal(ax_run_resume(&r, &b), AX_OK);
	assert_int_equal(ax_run_next(&r), 0);
	assert_int_equal(ax_run_finish(&r), 0);

	/* A hostile axon.step or sums are refused. */
	ax_bundle_set_meta(&b, "axon.step", "-1");
	assert_int_equal(ax_run_resume(&r, &b), AX_ERR_FORMAT);
	ax_bundle_set_meta(&b, "axon.step", "8");
	assert_int_equal(ax_run_resume(&r, &b), AX_ERR_FORMAT);
	ax_bundle_set_meta(&b, "axon.step", "5");
	ax_bundle_set_meta(&b, "axon.log_every", "0");
	assert_int_equal(ax_run_resume(&r, &b), AX_ERR_FORMAT);
	tu_assert_detail("the range of --log-every");
	ax_bundle_set_meta(&b, "axon.log_every", "3");
	ax_bundle_set_meta(&b, "axon.run.acc", "1,2");
	assert_int_equal(ax_run_resume(&r, &b), AX_ERR_FORMAT);
	tu_assert_detail("axon.run.acc");
	ax_bundle_free(&b);

	/* AXON_TEST_STEPS acts as --stop-at. */
	setenv("AXON_TEST_STEPS", "2", 1);
	o.stop_at = 0;
	ax_run_init(&r, &o, 7, 1);
	trace[0] = 0;
	run_trace(&r, trace, sizeof trace);
	assert_string_equal(trace, "1 2LSX ");   /* a row, as at a last step */
	unsetenv("AXON_TEST_STEPS");
}

static void nan_run(void *unused)
{
	ax_cli_init("tool");
	struct ax_run_opts o;
	ax_run_opts_default(&o);
	struct ax_run r;
	ax_run_init(&r, &o, 10, 1);
	while (ax_run_next(&r))
		ax_run_step_done(&r, r.step == 2 ? NAN : 1.0);
}

static void signal_run(void *sig)
{
	ax_cli_init("tool");
	struct ax_run_opts o;
	ax_run_opts_default(&o);
	o.checkpoint = "ck";
	struct ax_run r;
	ax_run_init(&r, &o, 10, 1);
	unsigned last = 0;
	while (ax_run_next(&r)) {
		if (r.step == 3)
			raise(*(int *)sig);
		last = ax_run_step_done(&r, 1.0);
	}
	if (r.step != 4 || last != (AX_RUN_SAVE | AX_RUN_STOP))
		exit(99);
	exit(ax_run_finish(&r));
}

static void test_run_exits(void **state)
{
	char err[512];
	assert_int_equal(child(nan_run, NULL, err, sizeof err), 1);
	assert_non_null(strstr(err, "tool: loss is not finite at step 3 (nan; try a lower --lr)"));
	int sigs[3] = { SIGINT, SIGTERM, SIGPIPE }, codes[3] = { 130, 143, 141 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(child(signal_run, &sigs[i], err, sizeof err), codes[i]);
		assert_non_null(strstr(err, "at step 4; checkpoint saved"));
	}
}

static void oom(void *unused)
{
	ax_cli_init("tool");
	struct ax_arena a;
	ax_arena_init(&a, 0);
	ax_tensor_new(&a, 4, (int[]){ 1 << 20, 1 << 20, 1 << 20, 1 << 20 });
}

static void oom_malloc(void *unused)
{
	ax_cli_init("tool");
	ax_xmalloc_for((size_t)1 << 62, "the sample history");
}

static void test_out_of_memory(void **state)
{
	char err[512];
	assert_int_equal(child(oom, NULL, err, sizeof err), 1);
	assert_string_equal(err, "tool: out of memory: a tensor (its size overflows)\n");
	assert_int_equal(child(oom_malloc, NULL, err, sizeof err), 1);
	assert_string_equal(err, "tool: out of memory: 4611686018427387904 bytes for the sample "
				 "history\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_ok),
		cmocka_unit_test(test_options_errors),
		cmocka_unit_test(test_numbers_and_lists),
		cmocka_unit_test(test_settings_checkpoint),
		cmocka_unit_test(test_run_decisions),
		cmocka_unit_test(test_run_exits),
		cmocka_unit_test(test_out_of_memory),
	};
	return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
