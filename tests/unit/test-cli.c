/* test-cli.c — the command helpers: option parsing (and its exit 2),
 * messages, signals, progress lines, threads, the per-op profile. */
#include "testutil.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* fn in a child with stderr captured (tu_run_child); its exit status. */
struct thunk {
	void (*fn)(void);
};
static void call(void *t) { ((struct thunk *)t)->fn(); }
static int run_child(void (*fn)(void), char *err, size_t n)
{
	struct thunk t = { fn };
	return tu_run_child(call, &t, err, n);
}

static void bad_long(void) { ax_parse_long("--steps", "12x", 0, 100); }
static void out_of_range(void) { ax_parse_long("--steps", "101", 0, 100); }
static void bad_double(void) { ax_parse_double("--lr", "nan", 0, 1); }
static void bad_seed(void) { ax_parse_seed("--seed", "-3"); }
static void bad_choice(void)
{
	static const char *const names[] = { "learned", "random", NULL };
	ax_parse_choice("--route", "lerned", names);
}
static void die_status(void)
{
	ax_error_set(AX_ERR_FORMAT, "data.npy: truncated at byte 12");
	ax_die_status(2, AX_ERR_FORMAT, "reading input");
}
static void die_status_bare(void)
{
	ax_error_set(AX_ERR_IO, "%s", "");  /* no detail */
	ax_die_status(1, AX_ERR_IO, NULL);
}

/* A nested failure's detail gets the outer file's name in front. */
static void test_error_prefix(void **state)
{
	(void)state;
	assert_int_equal(ax_error_prefix(ax_error_set(AX_ERR_FORMAT, "key 'x': bad"), "c.ckpt"),
			 AX_ERR_FORMAT);
	assert_string_equal(ax_error_detail(), "c.ckpt: key 'x': bad");
	char long_prefix[600];
	memset(long_prefix, 'p', sizeof long_prefix - 1);
	long_prefix[sizeof long_prefix - 1] = '\0';
	ax_error_set(AX_ERR_IO, "inner");
	ax_error_prefix(AX_ERR_IO, long_prefix);   /* cut to the buffer, still a string */
	assert_int_equal(strlen(ax_error_detail()), 511);
	assert_int_equal(ax_error_detail()[0], 'p');
}

static void test_parse_errors(void **state)
{
	char err[512];
	ax_cli_init("/usr/bin/mytool");
	assert_int_equal(run_child(bad_long, err, sizeof err), 2);
	assert_non_null(strstr(err, "mytool: --steps: '12x' is not an integer"));
	assert_non_null(strstr(err, "Try 'mytool --help'."));
	assert_int_equal(run_child(out_of_range, err, sizeof err), 2);
	assert_non_null(strstr(err, "--steps: 101 is outside [0, 100]"));
	assert_int_equal(run_child(bad_double, err, sizeof err), 2);
	assert_non_null(strstr(err, "--lr: 'nan' is not a number"));
	assert_int_equal(run_child(bad_seed, err, sizeof err), 2);
	assert_int_equal(run_child(bad_choice, err, sizeof err), 2);
	assert_non_null(strstr(err, "unknown value 'lerned' (one of: learned, random)"));
	assert_int_equal(run_child(die_status, err, sizeof err), 2);
	assert_string_equal(err, "mytool: reading input: data.npy: truncated at byte 12\n");
	assert_int_equal(run_child(die_status_bare, err, sizeof err), 1);
	assert_string_equal(err, "mytool: I/O error\n");  /* no detail: the status text */
}

static void test_parse_ok(void **state)
{
	static const char *const names[] = { "a", "b", NULL };
	assert_int_equal(ax_parse_long("--n", "-7", -10, 10), -7);
	assert_float_equal(ax_parse_double("--x", "2.5e-3", 0, 1), 2.5e-3, 0);
	assert_true(ax_parse_seed("--seed", "0x10") == 16);
	assert_int_equal(ax_parse_choice("--k", "b", names), 1);
}

static void test_signals(void **state)
{
	ax_signals_install();
	assert_int_equal(ax_interrupted(), 0);
	raise(SIGTERM);  /* caught: the flag is set, the process lives on */
	assert_int_equal(ax_interrupted(), SIGTERM);
}

static void progress_lines(void)
{
	struct ax_progress p;
	ax_progress_begin(&p, "train", 10, 0);
	for (long i = 1; i <= 10; i++)
		ax_progress_update(&p, i, "loss 1.5");
	ax_progress_end(&p);
}

/* A mapped input truncated during the run: exit 1 with a message, not a
 * crash, when a page past its new end is touched. */
static void touch_truncated(void)
{
	static char page[8192];
	const char *p = tu_write_file("shrinks.txt", page, sizeof page);
	struct ax_input in;
	ax_cli_init("prog");
	if (ax_input_map(p, &in) || !in.map || truncate(p, 0))
		exit(5);
	volatile unsigned char c = in.data[sizeof page - 1];
	(void)c;
	exit(0);
}

static void test_bus_error(void **state)
{
	char err[512];
	assert_int_equal(run_child(touch_truncated, err, sizeof err), 1);
	assert_non_null(strstr(err, "prog: bus error: a mapped input file was truncated"));
}

static void test_progress_plain(void **state)
{
	char err[512];
	/* stderr is a pipe, not a terminal: plain lines, here only the final one. */
	assert_int_equal(run_child(progress_lines, err, sizeof err), 0);
	assert_non_null(strstr(err, "train 10/10"));
	assert_non_null(strstr(err, "loss 1.5"));
	assert_null(strchr(err, '\r'));
}

static void test_threads_and_profile(void **state)
{
	ax_threads_set(1);
	assert_int_equal(ax_threads_get(), 1);
	ax_threads_set(0);
	assert_true(ax_threads_get() >= 1);
	ax_profile_reset();
	ax_profile_add("matmul", 0.5, 1e9);
	ax_profile_add("matmul", 0.5, 1e9);
	char buf[1024] = "";
	FILE *f = fmemopen(buf, sizeof buf - 1, "w");
	ax_profile_report(f);
	fclose(f);
	assert_non_null(strstr(buf, "matmul"));
	assert_non_null(strstr(buf, "2.00")); /* 2 GFLOP in 1 s */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_prefix),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_bus_error),
		cmocka_unit_test(test_progress_plain),
		cmocka_unit_test(test_threads_and_profile),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
