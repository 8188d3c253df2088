/* ax_run.h — a training run: the decisions every trainer makes around its
 * own step (log, checkpoint, stop), the same for all of them.
 *
 * Not a framework: the command keeps its loop and its step; the run says
 * when to write a CSV row and when to save, watches signals, the loss and
 * standard output, draws the progress line, and gives the exit status.
 * Like ax_cli, this is program code: it prints to stderr and may exit.
 *
 *   struct ax_run run;
 *   ax_run_init(&run, &cli.common.run, total_steps, cli.common.quiet);
 *   if (resuming) ax_run_resume(&run, &ckpt);      // axon.step and the row sums
 *   while (ax_run_next(&run)) {                     // run.step = steps done so far
 *       ... one step; run.acc.user[0] += hits; ...
 *       unsigned d = ax_run_step_done(&run, loss);  // exits 1 on a non-finite loss
 *       if (d & AX_RUN_LOG)  row(ax_run_mean_loss(&run), run.acc.user...);
 *       if (d & AX_RUN_SAVE) save(...);             // calls ax_run_put(&run, &bundle)
 *   }
 *   return ax_run_finish(&run);                     // 0, or 128 + signal, or 1
 *
 * Rules, shared by every trainer (the man pages describe them once):
 *  - a CSV row when the step count is a multiple of --log-every and at the
 *    last step of the schedule; never at a --stop-at or a signal, so a run
 *    stopped and resumed writes exactly the rows of an uninterrupted one (the
 *    sums since the last row travel in the checkpoint);
 *  - a save (if --checkpoint) every --every steps, and when the run stops
 *    for any reason: the end, --stop-at, SIGINT, SIGTERM, a closed output;
 *  - --stop-at S stops after step S without changing the schedule; resuming
 *    at or past S runs no step and writes nothing;
 *  - AXON_TEST_STEPS=N in the environment acts as --stop-at N, except that
 *    step N writes a row as a last step does (how the test suite runs the
 *    man pages' long EXAMPLES: a plot of the CSV then has a row to show);
 *  - SIGINT, SIGTERM: finish the step, save, exit 130, 143; SIGPIPE or a
 *    write error on standard output: save, exit 141 (broken pipe) or 1;
 *  - a non-finite loss: "prog: loss is not finite at step N (...)", exit 1,
 *    nothing saved (the previous checkpoint stays).
 */
#ifndef AX_RUN_H
#define AX_RUN_H

#include "ax_cli.h"
#include "ax_io.h"

/* The --help lines of the training-run and common options, one text for
 * every trainer (the man pages share theirs: man/man1/training-run.inc). */
#define AX_RUN_HELP \
	"      --log-every N      a CSV row every N steps and at the last (50)\n" \
	"      --checkpoint FILE  save here: at the end, when stopped, every --every N\n" \
	"      --every N          also save every N steps (0: not in between; 0)\n" \
	"      --stop-at STEP     stop and save after STEP; the schedule is unchanged\n" \
	"      --resume FILE      continue a run bit-exactly (its settings come from\n" \
	"                         FILE; --checkpoint, --every, --stop-at may be given)\n"
#define AX_COMMON_HELP \
	"      --threads N        threads (0 = all cores)\n" \
	"  -q, --quiet            no progress on stderr\n" \
	"  -h, --help             print this help and exit\n" \
	"      --version          print the version and exit\n"
#define AX_EXIT_HELP \
	"Exit status: 0 success, 1 runtime failure, 2 usage or bad input; a training\n" \
	"run stopped by a signal saves its checkpoint and exits 130 (SIGINT),\n" \
	"143 (SIGTERM) or 141 (its output closed).\n"

enum { AX_RUN_LOG = 1, AX_RUN_SAVE = 2, AX_RUN_STOP = 4 };
#define AX_RUN_USER 6

/* Sums since the last CSV row; saved in checkpoints (axon.run.acc). */
struct ax_run_acc {
	double loss_sum;          /* of the losses passed to ax_run_step_done */
	double steps;             /* steps summed */
	double seconds;           /* wall time of those steps (from ax_run_next to step_done) */
	double user[AX_RUN_USER]; /* the command's own sums (hits, counts) */
};

struct ax_run {
	struct ax_run_opts o;
	long step;                /* steps done (the next step's index) */
	long start;               /* step this invocation started from */
	long total;               /* schedule length */
	long end;                 /* where this invocation stops: min(total, stop-at, AXON_TEST_STEPS) */
	int quiet;
	struct ax_run_acc acc;
	int logged;               /* a row was just written: the sums restart at the next step */
	int stop;                 /* why the run stopped: 0 running or done, else the signal or -1 (output) */
	int started;
	int cut;                  /* end set by AXON_TEST_STEPS */
	double t_begin, t_step;   /* time of ax_run's first step; of the current step */
	const char *loss_hint;    /* in the non-finite message; default "try a lower --lr" */
	struct ax_progress prog;
};

/* total >= 1 steps. Reads AXON_TEST_STEPS. */
void ax_run_init(struct ax_run *r, const struct ax_run_opts *o, long total, int quiet);
/* Continue from a checkpoint written with ax_run_put: axon.step in [0, total],
 * --log-every (axon.log_every) and the sums since the last row. AX_ERR_FORMAT
 * with the key on failure. */
enum ax_status ax_run_resume(struct ax_run *r, const struct ax_bundle *ckpt);
/* 1 if a step should run now (r->step < r->end and nothing stopped it). The
 * first call installs the signal handlers (SIGINT, SIGTERM, SIGPIPE). */
int ax_run_next(struct ax_run *r);
/* After a step with this loss: r->step advances; returns AX_RUN_LOG /
 * AX_RUN_SAVE / AX_RUN_STOP bits. A non-finite loss exits 1. */
unsigned ax_run_step_done(struct ax_run *r, double loss);
/* Mean loss over the steps since the last row. */
double ax_run_mean_loss(const struct ax_run *r);
/* axon.step, axon.log_every and axon.run.acc into a checkpoint being written. */
void ax_run_put(const struct ax_run *r, struct ax_bundle *b);
/* Ends the progress line, says why a run stopped early, returns the exit
 * status: 0 (done or --stop-at), 130/143 (SIGINT/SIGTERM), 141 (SIGPIPE),
 * 1 (standard output failed). */
int ax_run_finish(struct ax_run *r);

#endif
