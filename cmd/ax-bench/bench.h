/* bench.h — ax-bench's shared configuration and timing helpers.
 *   main.c   the CLI; block, gru, sgemm
 *   ops.c    per-op ns/element and GB/s (ops), the tape timing helper
 *   attn.c   attention and the command-shape products beside sgemm (attn, shapes)
 */
#ifndef AX_BENCH_H
#define AX_BENCH_H

#include "axon.h"

struct config {
	int batch, seq, dim, heads, iters, threads;
	uint64_t seed;
};

/* A long-lived arena for inputs, a per-run tape, and the tensors a run reads. */
struct ops_data {
	struct ax_arena arena, step;
	struct ax_tape tape;
	struct ax_rng rng;
	struct ax_tensor *x, *y, *z, *gamma, *beta;
	int32_t *targets;
	struct ax_attn_desc attn;
};

void ops_open(struct ops_data *o, uint64_t seed);
void ops_close(struct ops_data *o);
void bench_fwd_bwd(struct ops_data *o, struct ax_tensor *(*run)(struct ops_data *, int),
		   int kind, int reps, double *fwd, double *bwd);

void bench_ops(const struct config *c);
void bench_attn(const struct config *c);
void bench_shapes(const struct config *c);

#endif
