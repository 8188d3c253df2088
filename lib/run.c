/* run.c — the training run: when to log, save and stop; signals, the loss,
 * standard output, progress and the exit status (see ax_run.h). */
#include "ax_run.h"
#include "ax_checkpoint.h"

#include <math.h>
#include <signal.h>
#include <string.h>

void ax_run_init(struct ax_run *r, const struct ax_run_opts *o, long total, int quiet)
{
	AX_ASSERT(total >= 1 && "a run has at least one step");
	memset(r, 0, sizeof *r);
	r->o = *o;
	r->total = total;
	r->quiet = quiet;
	r->loss_hint = "try a lower --lr";
	const char *test = getenv("AXON_TEST_STEPS");
	long cut = test ? strtol(test, NULL, 10) : 0;
	r->end = total;
	if (r->o.stop_at > 0 && r->o.stop_at < r->end)
		r->end = r->o.stop_at;
	if (cut > 0 && cut < r->end) {
		r->end = cut;
		r->cut = 1;
	}
}

enum ax_status ax_run_resume(struct ax_run *r, const struct ax_bundle *ckpt)
{
	long step;
	enum ax_status st = ax_ckpt_get_long(ckpt, "axon.step", &step);
	if (st)
		return st;
	if (step < 0 || step > r->total)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'axon.step' = %ld is outside "
				    "[0, %ld] (the run's steps)", step, r->total);
	long log_every;
	if ((st = ax_ckpt_get_long(ckpt, "axon.log_every", &log_every)))
		return st;
	if (log_every < 1 || log_every > 1L << 40)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'axon.log_every' = %ld is "
				    "outside [1, %ld] (the range of --log-every)", log_every, 1L << 40);
	const char *text;
	if ((st = ax_ckpt_get_str(ckpt, "axon.run.acc", &text)))
		return st;
	double *v;
	int n, want = 3 + AX_RUN_USER;
	if (strchr(text, ':') || ax_list_double(text, -HUGE_VAL, HUGE_VAL, want, &v, &n) ||
	    n != want)
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'axon.run.acc' is not %d "
				    "numbers: '%.60s'", want, text);
	r->acc.loss_sum = v[0], r->acc.steps = v[1], r->acc.seconds = v[2];
	memcpy(r->acc.user, v + 3, sizeof r->acc.user);
	free(v);
	if (!(r->acc.steps >= 0 && r->acc.steps <= (double)step))
		return ax_error_set(AX_ERR_FORMAT, "checkpoint metadata 'axon.run.acc': %g steps "
				    "since the last row at step %ld", r->acc.steps, step);
	r->step = r->start = step;
	r->o.log_every = log_every;
	return AX_OK;
}

int ax_run_next(struct ax_run *r)
{
	if (!r->started) {
		r->started = 1;
		ax_signals_install_pipe();
		r->t_begin = ax_now();
		if (r->step >= r->end && r->step < r->total && !r->quiet)
			ax_warn("already at step %ld (stop at %ld): no step to run", r->step, r->end);
		ax_progress_begin(&r->prog, "train", r->total, r->quiet);
		r->prog.done = r->step;
	}
	if (r->stop || r->step >= r->end)
		return 0;
	if (r->logged) {
		memset(&r->acc, 0, sizeof r->acc);
		r->logged = 0;
	}
	r->t_step = ax_now();
	return 1;
}

unsigned ax_run_step_done(struct ax_run *r, double loss)
{
	if (!isfinite(loss)) {
		ax_progress_end(&r->prog);
		ax_die(AX_EXIT_FAIL, "loss is not finite at step %ld (%g; %s)", r->step + 1, loss,
		       r->loss_hint);
	}
	r->step++;
	r->acc.loss_sum += loss;
	r->acc.steps += 1;
	r->acc.seconds += ax_now() - r->t_step;
	unsigned d = 0;
	int sig = ax_interrupted();
	if (sig)
		r->stop = sig;
	else if (ferror(stdout))
		r->stop = -1;
	int last = r->step == r->total || (r->cut && r->step == r->end);
	if (!r->stop && (r->step % r->o.log_every == 0 || last))
		d |= AX_RUN_LOG;
	if (r->stop || r->step >= r->end)
		d |= AX_RUN_STOP;
	if (r->o.checkpoint && ((r->o.every > 0 && r->step % r->o.every == 0) || (d & AX_RUN_STOP)))
		d |= AX_RUN_SAVE;
	if (d & AX_RUN_LOG)
		r->logged = 1;
	char extra[48];
	snprintf(extra, sizeof extra, "loss %.4g", loss);
	ax_progress_update(&r->prog, r->step, extra);
	return d;
}

double ax_run_mean_loss(const struct ax_run *r)
{
	return r->acc.steps > 0 ? r->acc.loss_sum / r->acc.steps : NAN;
}

void ax_run_put(const struct ax_run *r, struct ax_bundle *b)
{
	ax_ckpt_put_long(b, "axon.step", r->step);
	ax_ckpt_put_long(b, "axon.log_every", r->o.log_every);
	struct ax_run_acc zero = { 0 };
	const struct ax_run_acc *a = r->logged ? &zero : &r->acc;   /* a row restarts the sums */
	char buf[64 * (3 + AX_RUN_USER)];
	int len = snprintf(buf, sizeof buf, "%.17g,%.17g,%.17g", a->loss_sum, a->steps, a->seconds);
	for (int i = 0; i < AX_RUN_USER; i++)
		len += snprintf(buf + len, sizeof buf - (size_t)len, ",%.17g", a->user[i]);
	ax_bundle_set_meta(b, "axon.run.acc", buf);
}

int ax_run_finish(struct ax_run *r)
{
	if (r->started)
		ax_progress_end(&r->prog);
	const char *saved = r->o.checkpoint ? "; checkpoint saved" : " (no --checkpoint: nothing saved)";
	int code = AX_EXIT_OK;
	if (r->stop == -1) {
		enum ax_status st = ax_stdout_check();
		ax_warn("%s; stopped at step %ld%s", st ? ax_error_detail() : "standard output failed",
			r->step, saved);
		code = AX_EXIT_FAIL;
	} else if (r->stop == SIGPIPE) {
		ax_warn("standard output closed (broken pipe); stopped at step %ld%s", r->step, saved);
		code = AX_EXIT_PIPE;
	} else if (r->stop) {
		ax_warn("interrupted at step %ld%s%s", r->step, saved,
			r->o.checkpoint ? " (continue with --resume)" : "");
		code = 128 + r->stop;
	}
	if (code)
		clearerr(stdout);
	return ax_cli_exiting(code);
}
