# common.sh — what the batch scripts share: how to launch ranks and how to
# continue a preempted run. Sourced, not run.
#
# launch ARGS...: under Slurm, `srun ARGS` (one rank per task, as the job's
# --nodes/--ntasks-per-node ask); elsewhere `mpirun -np ${NP:-2} ARGS`, so a
# script's command line can be tried on one machine first (as the test suite
# does). Open MPI refuses root without OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM), and
# one machine needs oversubscription for more ranks than cores: both are set
# for the local case only.
launch() {
	if [ -n "${SLURM_JOB_ID:-}" ]; then
		srun --kill-on-bad-exit=1 "$@"
	else
		OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
		OMPI_MCA_rmaps_base_oversubscribe=1 mpirun -np "${NP:-2}" "$@"
	fi
}

# resume_or_start CKPT: the options that continue from CKPT if a previous
# attempt of this job saved it (after SIGTERM on preemption or at the time
# limit), else nothing. Checkpoints are written atomically by rank 0, so
# the file is whole or absent.
resume_or_start() {
	if [ -s "$1" ]; then echo "--resume $1"; fi
}

# finished STATUS: a trainer that saved and exited on SIGTERM (143; srun
# may report it as 0 or 143) asks to run again: requeue the job when Slurm
# allows it, so it continues from its checkpoint.
requeue_if_stopped() {
	status=$1
	if [ "$status" = 143 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
		scontrol requeue "$SLURM_JOB_ID"
	fi
	return "$status"
}

# train_job COMMAND [OPTION]...: the data-parallel training the batch
# scripts run: `COMMAND train` launched with --threads $THREADS -q,
# checkpoints to $OUT/model.ckpt every ${EVERY:-500} steps (and on SIGTERM),
# rank 0's CSV appended to $OUT/train.csv. The first attempt starts with
# $DEFAULTS and OPTION...; a requeued one resumes from the checkpoint, which
# fixes the model and schedule (OPTION... are then not given). $OPERANDS
# (data files; a glob expands here) come last. Requeues the job when the
# trainer stopped on SIGTERM; returns its status.
train_job() {
	bin=$1; shift
	mkdir -p "$OUT"
	ckpt=$OUT/model.ckpt
	resume=$(resume_or_start "$ckpt")
	if [ -n "$resume" ]; then
		set -- $resume
	else
		set -- ${DEFAULTS:-} "$@"
	fi
	launch "$bin" train --threads "$THREADS" -q --checkpoint "$ckpt" --every "${EVERY:-500}" \
		"$@" ${OPERANDS:-} >> "$OUT/train.csv"
	requeue_if_stopped $?
}
