/* ax_tensor.h — arenas and tensors.
 *
 * Ownership: tensors belong to the arena they were made in and are never
 * freed one by one. A long-lived arena holds parameters, gradients and
 * optimiser state; a per-step arena holds activations and the tape and is
 * reset after each step, so a training loop does no malloc once warm.
 * Arenas grow by chunks; nobody guesses a size up front.
 */
#ifndef AX_TENSOR_H
#define AX_TENSOR_H

#include "ax_base.h"

#define AX_MAX_DIMS 5

/* ---- arena ---- */
struct ax_arena_chunk;
struct ax_arena {
	struct ax_arena_chunk *head;   /* first chunk (see ax_arena_reset) */
	struct ax_arena_chunk *cur;    /* chunk being carved */
	size_t chunk_size;             /* minimum size of a new chunk */
	size_t used, peak;             /* bytes handed out since reset; high-water mark */
	int was_reset;                 /* ax_arena_reset has run */
	int grew;                      /* a chunk was added since the last reset (after the first) */
};

/* chunk_size 0 = 1 MiB. */
void ax_arena_init(struct ax_arena *a, size_t chunk_size);
/* 64-byte aligned, uninitialised. Grows by a new chunk when full. */
void *ax_arena_alloc(struct ax_arena *a, size_t bytes);
void *ax_arena_zalloc(struct ax_arena *a, size_t bytes);
/* Forget every allocation but keep the memory for reuse: the first reset
 * keeps the chunks as they are, for a next step that allocates as the
 * first did; after a later step that still needed a new chunk, they become
 * one of the high-water mark, so the next step fits in one. */
void ax_arena_reset(struct ax_arena *a);
void ax_arena_free(struct ax_arena *a);

/* ---- tensor: float32, contiguous, row-major, up to 5 dims ---- */
struct ax_tensor {
	float *data;
	float *grad;          /* NULL unless gradients flow to this tensor */
	int ndim;
	int shape[AX_MAX_DIMS];
	size_t size;          /* number of elements */
	int requires_grad;    /* leaf parameter, or result of an op on one */
	const char *name;     /* parameters: checkpoint name; else NULL */
};

/* Uninitialised / zeroed tensor in arena a. shape has ndim entries. */
struct ax_tensor *ax_tensor_new(struct ax_arena *a, int ndim, const int *shape);
struct ax_tensor *ax_tensor_zeros(struct ax_arena *a, int ndim, const int *shape);
/* Shorthands: ax_tensor_2d(a, rows, cols) etc. */
struct ax_tensor *ax_tensor_1d(struct ax_arena *a, int n0);
struct ax_tensor *ax_tensor_2d(struct ax_arena *a, int n0, int n1);
struct ax_tensor *ax_tensor_3d(struct ax_arena *a, int n0, int n1, int n2);
struct ax_tensor *ax_tensor_4d(struct ax_arena *a, int n0, int n1, int n2, int n3);
/* A tensor header over existing data (no copy, no grad). */
struct ax_tensor *ax_tensor_wrap(struct ax_arena *a, float *data, int ndim, const int *shape);
/* Give t a zeroed gradient buffer from arena a (parameters: long-lived arena). */
void ax_tensor_require_grad(struct ax_tensor *t, struct ax_arena *a);

void ax_tensor_fill(struct ax_tensor *t, float v);
int ax_tensor_same_shape(const struct ax_tensor *a, const struct ax_tensor *b);
/* "3x4x5" into buf. */
const char *ax_shape_str(const struct ax_tensor *t, char *buf, size_t n);
/* Product of shape[from..to) (dims outside the range count as 1). */
size_t ax_tensor_span(const struct ax_tensor *t, int from, int to);
/* Last dimension, and the product of all others (rows). */
static inline int ax_tensor_cols(const struct ax_tensor *t) { return t->shape[t->ndim - 1]; }
static inline size_t ax_tensor_rows(const struct ax_tensor *t) { return t->size / (size_t)t->shape[t->ndim - 1]; }

#endif
