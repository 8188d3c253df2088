/* ax_dist.h — data parallelism over MPI (Open MPI), optional.
 *
 * A program started by mpirun/srun runs as one of R ranks; started alone it
 * is rank 0 of 1 and nothing here communicates. Built without MPI (make
 * MPI=0, or no mpicc) every program is one rank and these calls are no-ops.
 *
 * The pattern every trainer follows:
 *  - ax_dist_init() first in a training sub-command; ranks other than 0 then
 *    write nothing to standard output (it is pointed at /dev/null) and show
 *    no progress: rank 0 alone prints CSV and saves checkpoints (ax_run does
 *    the rest: it saves on rank 0 only and makes every rank stop at the same
 *    step);
 *  - parameters are broadcast from rank 0 after initialisation or resume
 *    (ax_dist_bcast_params), so every rank starts from the same values;
 *  - every random draw that shapes the global batch (which examples, masks)
 *    is made identically on every rank; each rank then computes its shard,
 *    rows [begin, begin + count) of ax_dist_shard, and per-rank noise
 *    (dropout) comes from a stream split by rank (ax_dist_rng);
 *  - a large input is mapped (ax_input_map, ax_io.h), not read whole, so
 *    each rank reads only the examples of its rows;
 *  - after backward, ax_dist_allreduce_grads(params, count / global, extra)
 *    turns each rank's mean-over-shard gradient into the global batch's mean
 *    in one message (plus the caller's metric sums in `extra`); then every
 *    rank clips and steps identically.
 * A run is deterministic for a given seed, thread count and rank count.
 * With another rank count the summation order differs, so results agree to
 * rounding, not to the bit.
 *
 * Process-wide state: MPI is one per process, and so is this module's.
 */
#ifndef AX_DIST_H
#define AX_DIST_H

#include "ax_nn.h"

/* 1 if the library was built with MPI. */
int ax_dist_built(void);
/* Join the MPI job if launched by mpirun or srun (Open MPI's or PMIx's
 * environment variables say so); otherwise one rank. Idempotent; finalises
 * at exit. */
void ax_dist_init(void);
/* Leave the job cleanly (ax_run_finish calls it). A rank that exits without
 * it, through ax_die or a crash, aborts the whole job instead of leaving
 * the other ranks waiting in a collective. */
void ax_dist_finalize(void);
int ax_dist_rank(void);
int ax_dist_size(void);
static inline int ax_dist_root(void) { return ax_dist_rank() == 0; }

/* This rank's share of n rows: [*begin, *begin + *count), balanced to one
 * row. n must be at least the rank count (checked by the caller: a usage
 * error there). */
void ax_dist_shard(long n, long *begin, long *count);

/* Values of every parameter from rank 0 (one message). */
void ax_dist_bcast_params(struct ax_params *p);
/* Gradients: g <- sum over ranks of weight_r * g_r, in one message, with
 * the n doubles of extra summed in the same message (metrics: loss sums,
 * hit counts). weight is this rank's count / global batch. */
void ax_dist_allreduce_grads(struct ax_params *p, float weight, double *extra, int n);
/* The largest v over ranks, on every rank. */
int ax_dist_max(int v);
/* Exit 1 with a message unless every rank holds bit-identical parameters
 * (a cheap end-of-run check: one 64-bit hash per rank). */
void ax_dist_check_same(const struct ax_params *p);
/* Seconds spent in collectives and bytes reduced so far (for benchmarks). */
double ax_dist_comm_seconds(void);
double ax_dist_comm_bytes(void);

#endif
