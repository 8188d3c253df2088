/* cli.c — messages, exit codes, option parsing, threads, signals, progress. */
#include "ax_cli.h"
#include "ax_profile.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog_name = "axon";
static int n_threads;

const char *ax_prog(void) { return prog_name; }

static void profile_at_exit(void) { ax_profile_report(stderr); }

void ax_cli_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	prog_name = slash ? slash + 1 : prog;
	if (ax_profile_enabled())
		atexit(profile_at_exit);
}

static void vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ax_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(code);
}

void ax_die_status(int code, enum ax_status st, const char *what)
{
	const char *d = ax_error_detail();
	fprintf(stderr, "%s: %s%s%s\n", prog_name, what ? what : "", what ? ": " : "",
		d && *d ? d : ax_strerror(st));
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
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog_name);
	exit(AX_EXIT_USAGE);
}

void ax_print_version(void) { printf("%s (axon) %s\n", prog_name, AX_VERSION); }

long ax_parse_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno)
		ax_usage_error("%s: '%s' is not an integer", opt, s);
	if (v < lo || v > hi)
		ax_usage_error("%s: %ld is outside [%ld, %ld]", opt, v, lo, hi);
	return v;
}

double ax_parse_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		ax_usage_error("%s: '%s' is not a number", opt, s);
	if (v < lo || v > hi)
		ax_usage_error("%s: %g is outside [%g, %g]", opt, v, lo, hi);
	return v;
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
	if (interrupted)
		_exit(128 + sig);
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
