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
#include "ax_settings.h"

#define AX_VERSION "0.1.0"
/* A trainer stopped by a signal exits 128 + the signal after saving:
 * SIGINT 130, SIGTERM 143, SIGPIPE 141 (its standard output was closed). */
enum { AX_EXIT_OK = 0, AX_EXIT_FAIL = 1, AX_EXIT_USAGE = 2, AX_EXIT_INTERRUPTED = 130,
       AX_EXIT_PIPE = 141, AX_EXIT_TERMINATED = 143 };

/* The --help lines of the common options and of the exit status, one text
 * for every command (trainers add AX_RUN_HELP from ax_run.h). */
#define AX_COMMON_HELP \
	"      --threads N        threads (0 = all cores)\n" \
	"  -q, --quiet            no progress on stderr\n" \
	"  -h, --help             print this help and exit\n" \
	"      --version          print the version and exit\n"
#define AX_EXIT_HELP \
	"Exit status: 0 success, 1 runtime failure, 2 usage or bad input; a training\n" \
	"run stopped by a signal saves its checkpoint and exits 130 (SIGINT),\n" \
	"143 (SIGTERM) or 141 (its output closed).\n"

/* Call first in main(). It records the program name for messages; installs
 * the per-op profile report (AX_PROFILE=1) at exit; makes allocation
 * failures exit 1 with "prog: out of memory: N bytes for WHAT"; makes a
 * SIGBUS (a mapped input truncated during the run) exit 1 with "prog: bus
 * error: ..." instead of dumping core; and guards
 * the standard streams:
 *  - a descriptor 0, 1 or 2 closed at start is opened on /dev/null in the
 *    direction that fails (0 write-only, 1 and 2 read-only), so no file the
 *    program opens later takes its number, and writing the CSV to a closed
 *    stdout fails instead of landing in that file;
 *  - at exit, standard output and standard error are flushed and checked: a
 *    write error ("> /dev/full", ">&-") turns a successful exit into exit 1
 *    with "prog: standard output: write error: ..." (a failing exit keeps
 *    its code). This covers --help and --version too. */
void ax_cli_init(const char *prog);
/* Record the status main is about to return (ax_run_finish does), so the
 * stream check at exit keeps a failure code such as 141; returns code. */
int ax_cli_exiting(int code);
/* Flush and check standard output now (long runs: stop early on a full
 * disk or a closed pipe). AX_ERR_IO with the reason, or AX_OK. */
enum ax_status ax_stdout_check(void);
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

/* Option values: out of range or not a number -> ax_usage_error naming the
 * option ("--lr: 20 is outside [0, 10]", "--temperature: '1e-320' is out of
 * the range of a double"). */
long ax_parse_long(const char *opt, const char *s, long lo, long hi);
double ax_parse_double(const char *opt, const char *s, double lo, double hi);
uint64_t ax_parse_seed(const char *opt, const char *s);
/* Pick s among NULL-terminated names; returns its index or usage error. */
int ax_parse_choice(const char *opt, const char *s, const char *const *names);
/* Lists "1,2,3", "0.1:1:0.1" or mixed (see ax_list_double); usage error
 * naming opt. *v is malloc'd. */
int ax_parse_list_double(const char *opt, const char *s, double lo, double hi, int max,
			 double **v);
int ax_parse_list_int(const char *opt, const char *s, long lo, long hi, int max, int **v);

/* ---- options: `command SUB [OPTION]... [FILE]...` ----
 * A command declares its options once in a table; each entry says which
 * sub-commands accept it. The common options are declared here once:
 *   --threads N, -s/--seed N, -q/--quiet, -h/--help, --version (every
 *   sub-command), and the training-run options --log-every, --checkpoint,
 *   --every, --stop-at, --resume (the sub-commands in train_subs; see
 *   ax_run.h). A command entry with a common id (AX_OPT_*) gives that option
 *   a short name (mtm-train's -c for --checkpoint) or other sub-commands.
 * Errors are one line "prog: what: detail" + "Try 'prog --help'.", exit 2:
 * unknown option, missing value, an option the sub-command does not take
 * ("eval: option --steps does not apply"), unknown sub-command.
 *
 *   struct ax_cli cli = { .usage = usage, .subs = subs, .opts = opts,
 *                         .nopts = AX_COUNTOF(opts), .train_subs = AX_SUB(0) };
 *   ax_cli_begin(&cli, argc, argv);          // sub-command, common defaults
 *   const char *arg;
 *   for (int id; (id = ax_cli_next(&cli, &arg)) != AX_OPT_END;)
 *       switch (id) { case OPT_DIM: cfg.dim = ax_parse_long(ax_cli_opt(&cli), arg, 1, 4096); ... }
 *   // cli.common holds threads/seed/quiet/run; cli.files, cli.nfiles the operands
 */
#define AX_SUB(i) (1u << (i))
#define AX_SUBS_ALL (~0u)
enum {
	AX_OPT_END = -1,
	AX_OPT_THREADS = -2, AX_OPT_SEED = -3, AX_OPT_QUIET = -4, AX_OPT_HELP = -5,
	AX_OPT_VERSION = -6, AX_OPT_LOG_EVERY = -7, AX_OPT_CHECKPOINT = -8, AX_OPT_EVERY = -9,
	AX_OPT_STOP_AT = -10, AX_OPT_RESUME = -11,
};
/* ax_option.flags: a model or schedule setting the checkpoint fixes; with
 * --resume it is refused (ax_cli_refuse). --log-every carries it (the
 * training run saves and restores it). */
enum { AX_OPT_FIXED = 1 };

struct ax_option {
	const char *name;     /* long name without "--" */
	int short_name;       /* 'c', or 0 */
	int has_arg;          /* 1: takes a value */
	unsigned subs;        /* AX_SUB(i) | ...: the sub-commands that accept it; AX_SUBS_ALL */
	int id;               /* >= 0, returned by ax_cli_next; or a common AX_OPT_* */
	int flags;            /* AX_OPT_FIXED */
};

/* The training-run options (ax_run.h) with their shared defaults. */
struct ax_run_opts {
	long log_every;          /* --log-every N: a CSV row every N steps and at the last (50) */
	long every;              /* --every N: checkpoint every N steps too (0: at the end only) */
	long stop_at;            /* --stop-at STEP: stop and save after STEP (0: no) */
	const char *checkpoint;  /* --checkpoint FILE: where to save (NULL: nowhere) */
	const char *resume;      /* --resume FILE: continue that run bit-exactly */
};
void ax_run_opts_default(struct ax_run_opts *o);

struct ax_common {
	int threads;            /* --threads N (0: all cores) */
	uint64_t seed;          /* -s/--seed N; the command sets its default before ax_cli_begin */
	int quiet;              /* -q/--quiet */
	struct ax_run_opts run; /* training-run options */
};

#define AX_CLI_MAX_OPTS 96
struct ax_cli {
	/* The command fills these in. */
	const char *usage;                /* the --help text (stdout, exit 0) */
	const char *const *subs;          /* NULL-terminated sub-command names; NULL: none */
	const struct ax_option *opts;
	int nopts;
	unsigned train_subs;              /* sub-commands that take the training-run options */
	struct ax_common common;          /* defaults in, values out (seed: set before begin) */
	/* Results. */
	int sub;                          /* index into subs (0 without sub-commands) */
	const char *sub_name;             /* "train", or the program name */
	char **files;                     /* operands, after ax_cli_next returned AX_OPT_END */
	int nfiles;
	/* Internal. */
	int argc;
	char **argv;
	int n;                            /* merged table: command options then common ones */
	struct ax_option all[AX_CLI_MAX_OPTS];
	unsigned char seen[AX_CLI_MAX_OPTS];
	int cur;                          /* index of the option last returned */
	char optname[64];                 /* "--dim" */
};

/* Read the sub-command (argv[1]; "-h"/"--help"/"--version" there work too)
 * and set the common defaults (seed excepted: set cli->common.seed first,
 * or it is 0). Usage error for a missing or unknown sub-command. */
void ax_cli_begin(struct ax_cli *cli, int argc, char **argv);
/* The next command option: its id, *arg its value (NULL if none). Common
 * options are handled here (help and version print and exit). AX_OPT_END
 * after the last option: then cli->files/nfiles are set and the thread
 * count applied. */
int ax_cli_next(struct ax_cli *cli, const char **arg);
/* "--dim" for the option ax_cli_next last returned (for ax_parse_*). */
const char *ax_cli_opt(const struct ax_cli *cli);
/* Was the option with this id (command or common) given? */
int ax_cli_seen(const struct ax_cli *cli, int id);
/* Usage error naming the first given option whose flags include flag:
 * "train: --dim conflicts with --resume (the checkpoint fixes it)" with
 * why = "conflicts with --resume (the checkpoint fixes it)". */
void ax_cli_refuse(const struct ax_cli *cli, int flag, const char *why);
/* Parse arg into a setting (ax_settings.h) of *base; usage error naming
 * the option with the setting's range. */
void ax_cli_setting(const struct ax_cli *cli, const struct ax_setting *s, const char *arg,
		    void *base);
/* If the option ax_cli_next last returned is the flag of an entry of table,
 * parse arg into it (as ax_cli_setting; no value: "1", for a flag such as
 * --predictor) and return 1; else 0. Lets a command parse every setting
 * option by its table entry. */
int ax_cli_setting_in(const struct ax_cli *cli, const struct ax_setting *table, int n,
		      const char *arg, void *base);
/* Print the usage text to stdout and exit 0 (the stream check at exit
 * still applies). */
_Noreturn void ax_cli_help(const struct ax_cli *cli);

/* --threads N: 0 = all cores. Sets OpenBLAS and OpenMP thread counts. */
void ax_threads_set(int n);
int ax_threads_get(void);

/* SIGINT/SIGTERM (and SIGPIPE) set a flag instead of killing, so a trainer
 * can save and exit at the end of its step. A second signal exits at once
 * (status 128 + signal). ax_signals_install_pipe also catches SIGPIPE: a
 * write to a closed pipe then fails with EPIPE and ax_interrupted() says
 * SIGPIPE. */
void ax_signals_install(void);
void ax_signals_install_pipe(void);
int ax_interrupted(void);   /* the signal number once one arrived, else 0 */

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
