/* cli.c — messages, exit codes, option parsing, threads, signals, progress. */
#include "ax_cli.h"
#include "ax_dist.h"
#include "ax_kernels.h"
#include "ax_profile.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog_name = "axon";
static int n_threads;
/* The code a deliberate exit (ax_die, ax_usage_error) leaves with: the
 * stream check at exit turns only a successful exit into a failure. */
static int exit_code;

const char *ax_prog(void) { return prog_name; }

static void profile_at_exit(void) { ax_profile_report(stderr); }

static void on_oom(size_t bytes, const char *what)
{
	if (bytes == SIZE_MAX)
		ax_die(AX_EXIT_FAIL, "out of memory: %s", what);
	ax_die(AX_EXIT_FAIL, "out of memory: %zu bytes for %s", bytes, what);
}

/* A closed 0, 1 or 2 gets /dev/null opened the way that fails. */
static void guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (got != fd) {   /* cannot happen: fd is the lowest free one */
			if (got >= 0)
				close(got);
			_exit(AX_EXIT_FAIL);
		}
	}
}

static enum ax_status stream_check(FILE *f, const char *name)
{
	errno = 0;
	if (fflush(f) == 0 && !ferror(f))
		return AX_OK;
	int e = errno ? errno : EIO;
	clearerr(f);
	return ax_error_set(AX_ERR_IO, "%s: write error: %s", name,
			    e == EBADF ? "the stream is closed" : strerror(e));
}

int ax_cli_exiting(int code)
{
	exit_code = code;
	return code;
}

enum ax_status ax_stdout_check(void) { return stream_check(stdout, "standard output"); }

static void streams_at_exit(void)
{
	enum ax_status out = stream_check(stdout, "standard output");
	if (out && exit_code == 0)
		fprintf(stderr, "%s: %s\n", prog_name, ax_error_detail());
	enum ax_status err = stream_check(stderr, "standard error");
	if ((out || err) && exit_code == 0)
		_exit(AX_EXIT_FAIL);
}

/* OpenBLAS picks its kernel set once, as it loads, from OPENBLAS_CORETYPE or
 * else from the CPU; on a CPU newer than it knows it falls back to Prescott's
 * SSE3 kernels, whose sgemm runs 4-5 times slower than the AVX2 or AVX-512
 * ones on the same cores. So when the variable is unset and the choice is
 * older than the CPU, the command starts itself again, once, with the
 * variable set to the right kernel set (a user's own setting always stands).
 * This runs first thing in main, before anything is read or written. If the
 * restart cannot be made, the command goes on with the slow kernels. */
static char *read_own_cmdline(size_t *len)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096;
	char *buf = malloc(cap);
	ssize_t got = 0;
	*len = 0;
	while (buf && (got = read(fd, buf + *len, cap - *len)) > 0)
		if ((*len += (size_t)got) == cap) {
			char *grown = realloc(buf, cap *= 2);
			if (!grown)
				free(buf);
			buf = grown;
		}
	close(fd);
	if (buf && (got < 0 || *len == 0 || buf[*len - 1] != 0)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static void blas_restart_with_better_core(void)
{
	const char *core = getenv("OPENBLAS_CORETYPE") ? NULL : ax_blas_core_wanted();
	size_t len;
	char *args = core ? read_own_cmdline(&len) : NULL;
	if (!args)
		return;
	size_t argc = 0;
	for (size_t i = 0; i < len; i++)
		argc += args[i] == 0;
	char **argv = malloc((argc + 1) * sizeof *argv);
	if (argv && !setenv("OPENBLAS_CORETYPE", core, 1)) {
		size_t k = 0;
		for (size_t i = 0; i < len; i += strlen(args + i) + 1)
			argv[k++] = args + i;
		argv[k] = NULL;
		execv("/proc/self/exe", argv);
		unsetenv("OPENBLAS_CORETYPE");   /* no restart: carry on as loaded */
	}
	free(argv);
	free(args);
}

static char bus_message[256];

/* A mapped input (ax_input_map, ax_bundle_map) cut short under the program:
 * touching a page past its new end raises SIGBUS. Say so and exit 1. */
static void on_bus_error(int sig)
{
	(void)sig;
	ssize_t n = write(2, bus_message, strlen(bus_message));
	(void)n;
	_exit(AX_EXIT_FAIL);
}

static void bus_error_install(void)
{
	snprintf(bus_message, sizeof bus_message, "%s: bus error: a mapped input file was "
		 "truncated or rewritten during the run (inputs must not change while in use)\n",
		 prog_name);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_bus_error;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

void ax_cli_init(const char *prog)
{
	blas_restart_with_better_core();
	const char *slash = strrchr(prog, '/');
	prog_name = slash ? slash + 1 : prog;
	guard_std_fds();
	bus_error_install();
	ax_oom_handler_set(on_oom);
	atexit(streams_at_exit);   /* first registered: runs last */
	if (ax_profile_enabled())
		atexit(profile_at_exit);
}

/* "prog: message\n", then `tail` if any, in one write: under mpirun every
 * rank may report the same error, and whole lines do not interleave. */
static void vmessage_tail(const char *fmt, va_list ap, const char *tail)
{
	char line[4096];
	int n = snprintf(line, sizeof line, "%s: ", prog_name);
	if (n >= 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n%s", line, tail ? tail : "");
}

static void vmessage(const char *fmt, va_list ap) { vmessage_tail(fmt, ap, NULL); }

void ax_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit_code = code;
	exit(code);
}

void ax_die_status(int code, enum ax_status st, const char *what)
{
	const char *d = ax_error_detail();
	fprintf(stderr, "%s: %s%s%s\n", prog_name, what ? what : "", what ? ": " : "",
		d && *d ? d : ax_strerror(st));
	exit_code = code;
	exit(code);
}

void ax_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void ax_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char try_help[300];
	snprintf(try_help, sizeof try_help, "Try '%s --help'.\n", prog_name);
	vmessage_tail(fmt, ap, try_help);
	va_end(ap);
	exit_code = AX_EXIT_USAGE;
	exit(AX_EXIT_USAGE);
}

void ax_print_version(void)
{
	char blas[512];
	ax_blas_describe(blas, sizeof blas);
	printf("%s (axon) %s\n%s\nBLAS: %s\n", prog_name, AX_VERSION,
	       ax_dist_built() ? "built with MPI (Open MPI)"
			       : "built without MPI: every command runs as one rank",
	       blas);
}

long ax_parse_long(const char *opt, const char *s, long lo, long hi)
{
	long v;
	if (ax_number_long(s, lo, hi, &v))
		ax_usage_error("%s: %s", opt, ax_error_detail());
	return v;
}

double ax_parse_double(const char *opt, const char *s, double lo, double hi)
{
	double v;
	if (ax_number_double(s, lo, hi, 0, &v))
		ax_usage_error("%s: %s", opt, ax_error_detail());
	return v;
}

int ax_parse_list_double(const char *opt, const char *s, double lo, double hi, int max,
			 double **v)
{
	int n;
	if (ax_list_double(s, lo, hi, max, v, &n))
		ax_usage_error("%s: %s", opt, ax_error_detail());
	return n;
}

int ax_parse_list_int(const char *opt, const char *s, long lo, long hi, int max, int **v)
{
	int n;
	if (ax_list_int(s, lo, hi, max, v, &n))
		ax_usage_error("%s: %s", opt, ax_error_detail());
	return n;
}

uint64_t ax_parse_seed(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || *end || errno || *s == '-')
		ax_usage_error("%s: '%s' is not a non-negative integer", opt, s);
	return v;
}

int ax_parse_choice(const char *opt, const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	char list[256] = "";
	for (int i = 0; names[i]; i++) {
		strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
		strncat(list, names[i], sizeof list - strlen(list) - 1);
	}
	ax_usage_error("%s: unknown value '%s' (one of: %s)", opt, s, list);
}

void ax_threads_set(int n)
{
	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (int)c : 1;
	}
	n_threads = n;
	openblas_set_num_threads(n);
	omp_set_num_threads(n);
}

int ax_threads_get(void)
{
	if (!n_threads)
		ax_threads_set(0);
	return n_threads;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	if (interrupted && sig != SIGPIPE)
		_exit(128 + sig);
	if (!interrupted)
		interrupted = sig;
}

void ax_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ax_signals_install_pipe(void)
{
	ax_signals_install();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

int ax_interrupted(void) { return interrupted; }

double ax_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void ax_progress_begin(struct ax_progress *p, const char *label, long total, int quiet)
{
	p->label = label;
	p->total = total;
	p->done = 0;
	p->t0 = p->last = ax_now();
	p->tty = isatty(2);
	p->quiet = quiet;
}

static void fmt_time(char *buf, size_t n, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, n, "--:--");
	else if (s < 3600)
		snprintf(buf, n, "%02d:%02d", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02d", (int)s / 3600, ((int)s % 3600) / 60);
}

void ax_progress_update(struct ax_progress *p, long done, const char *extra)
{
	if (p->quiet)
		return;
	double now = ax_now();
	p->done = done;
	double period = p->tty ? 0.1 : 10.0;
	if (now - p->last < period && done != p->total)
		return;
	p->last = now;
	double el = now - p->t0, rate = el > 0 ? done / el : 0;
	char eta[32], elapsed[32];
	fmt_time(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : NAN);
	fmt_time(elapsed, sizeof elapsed, el);
	if (p->tty) {
		int width = 24, fill = p->total > 0 ? (int)(width * done / p->total) : 0;
		char bar[32];
		for (int i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = 0;
		fprintf(stderr, "\r%s [%s] %ld/%ld %.1f/s %s<%s %s\033[K", p->label, bar, done,
			p->total, rate, elapsed, eta, extra ? extra : "");
	} else {
		fprintf(stderr, "%s: %s %ld/%ld %.1f/s elapsed %s eta %s %s\n", prog_name, p->label,
			done, p->total, rate, elapsed, eta, extra ? extra : "");
	}
}

void ax_progress_end(struct ax_progress *p)
{
	if (p->quiet)
		return;
	if (p->tty)
		fputc('\n', stderr);
}
