/* ax_cli.h — what every command shares: messages and exit codes, option
 * parsing helpers, threads, signals, progress on stderr.
 *
 * This module is for programs, not for library code: it is the one part of
 * libaxon that prints and exits. Exit codes: 0 success, 1 runtime failure
 * (I/O, divergence), 2 usage or bad input.
 */
#ifndef AX_CLI_H
#define AX_CLI_H

#include "ax_base.h"

#define AX_VERSION "0.1.0"
/* Interrupted: a trainer stopped by SIGINT/SIGTERM after saving (128 + SIGINT). */
enum { AX_EXIT_OK = 0, AX_EXIT_FAIL = 1, AX_EXIT_USAGE = 2, AX_EXIT_INTERRUPTED = 130 };

/* Call first in main(): records the program name for messages, installs
 * the per-op profile report (AX_PROFILE=1) at exit. */
void ax_cli_init(const char *prog);
const char *ax_prog(void);

/* "prog: <message>\n" on stderr, then exit(code). */
_Noreturn void ax_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "prog: <what>: <ax_error_detail() or ax_strerror(st)>\n", exit(code);
 * what NULL leaves it out (the detail already names the file). */
_Noreturn void ax_die_status(int code, enum ax_status st, const char *what);
void ax_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: <message>\nTry 'prog --help'.\n", exit 2. */
_Noreturn void ax_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ax_print_version(void);   /* "prog (axon) 0.1.0" on stdout */

/* Option values: out of range or not a number -> ax_usage_error naming the option. */
long ax_parse_long(const char *opt, const char *s, long lo, long hi);
double ax_parse_double(const char *opt, const char *s, double lo, double hi);
uint64_t ax_parse_seed(const char *opt, const char *s);
/* Pick s among NULL-terminated names; returns its index or usage error. */
int ax_parse_choice(const char *opt, const char *s, const char *const *names);

/* --threads N: 0 = all cores. Sets OpenBLAS and OpenMP thread counts. */
void ax_threads_set(int n);
int ax_threads_get(void);

/* SIGINT/SIGTERM set a flag instead of killing, so a trainer can save and
 * exit at the end of its step. A second signal exits at once (status 130). */
void ax_signals_install(void);
int ax_interrupted(void);   /* nonzero once a signal arrived */

/* Progress on stderr: a bar with rate and ETA on a terminal, otherwise a
 * plain line every `every_sec` seconds. Quiet if quiet is set. */
struct ax_progress {
	const char *label;
	long total, done;
	double t0, last;
	int tty, quiet;
};
void ax_progress_begin(struct ax_progress *p, const char *label, long total, int quiet);
void ax_progress_update(struct ax_progress *p, long done, const char *extra /* may be NULL */);
void ax_progress_end(struct ax_progress *p);

double ax_now(void);   /* monotonic seconds */

#endif
