/* tensor.c — chunked arenas and contiguous float tensors. */
#include "ax_tensor.h"

#include <string.h>

#define ARENA_ALIGN 64

struct ax_arena_chunk {
	struct ax_arena_chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void ax_arena_init(struct ax_arena *a, size_t chunk_size)
{
	memset(a, 0, sizeof *a);
	a->chunk_size = chunk_size ? chunk_size : (size_t)1 << 20;
}

static struct ax_arena_chunk *chunk_new(size_t size)
{
	struct ax_arena_chunk *c = NULL;
	if (size <= SIZE_MAX - sizeof *c - ARENA_ALIGN)
		c = aligned_alloc(ARENA_ALIGN,
				  (sizeof *c + size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
	if (!c)
		ax_oom(size, "an arena chunk (tensors)");
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *ax_arena_alloc(struct ax_arena *a, size_t bytes)
{
	if (bytes > SIZE_MAX - ARENA_ALIGN)
		ax_oom(bytes, "an arena allocation (tensors)");
	bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	if (!bytes)
		bytes = ARENA_ALIGN;
	/* on to the next chunk kept by a reset, else a new one at the end; the
	 * chunks after cur are unused this step, and one too small for this
	 * allocation would stay so: it is freed, not kept beside a new one */
	while (!a->cur || a->cur->used + bytes > a->cur->size) {
		struct ax_arena_chunk *next = a->cur ? a->cur->next : NULL;
		if (next && next->size < bytes) {
			a->cur->next = next->next;
			free(next);
			continue;
		}
		if (next) {
			a->cur = next;
			continue;
		}
		struct ax_arena_chunk *c = chunk_new(AX_MAX(a->chunk_size, bytes));
		if (a->cur)
			a->cur->next = c;
		else
			a->head = c;
		a->cur = c;
		a->grew |= a->was_reset;
	}
	void *p = a->cur->data + a->cur->used;
	a->cur->used += bytes;
	a->used += bytes;
	if (a->used > a->peak)
		a->peak = a->used;
	return p;
}

void *ax_arena_zalloc(struct ax_arena *a, size_t bytes)
{
	return memset(ax_arena_alloc(a, bytes), 0, bytes);
}

/* The first reset keeps every chunk: a step of the same allocations as the
 * first (the usual training step) finds them where they were, and no memory
 * is given back and taken again (a page fault per 4 KiB: ssl-train's second
 * step took 430 ms instead of 65 when it was). A later step that still needed a new
 * chunk has allocations that vary (windows of varying length: poyo-train,
 * mtm-train): its chunks are replaced by one of the high-water mark and an
 * eighth more, so steps of varying size settle on one chunk; until then a
 * kept chunk too small for an allocation is freed as it is passed, so that
 * the memory held stays near the old chunks' (poyo-train's peak resident
 * memory is as it was; its second and third steps fault memory in, where
 * coalescing at the first reset faulted only the second). */
void ax_arena_reset(struct ax_arena *a)
{
	if (a->grew && a->head->next) {
		size_t size = AX_MAX(a->chunk_size, a->peak + a->peak / 8);
		ax_arena_free(a);
		a->head = chunk_new(size);
	}
	for (struct ax_arena_chunk *c = a->head; c; c = c->next)
		c->used = 0;
	a->cur = a->head;
	a->used = 0;
	a->grew = 0;
	a->was_reset = 1;
}

void ax_arena_free(struct ax_arena *a)
{
	struct ax_arena_chunk *c = a->head;
	while (c) {
		struct ax_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = a->cur = NULL;
	a->used = 0;
}

static struct ax_tensor *header_new(struct ax_arena *a, int ndim, const int *shape)
{
	AX_ASSERT(ndim >= 1 && ndim <= AX_MAX_DIMS && "tensor rank must be 1..5");
	struct ax_tensor *t = ax_arena_alloc(a, sizeof *t);
	memset(t, 0, sizeof *t);
	t->ndim = ndim;
	t->size = 1;
	for (int i = 0; i < ndim; i++) {
		AX_ASSERT(shape[i] >= 0 && "negative dimension");
		t->shape[i] = shape[i];
		if (ax_mul_size(t->size, (size_t)shape[i], &t->size))
			ax_oom(SIZE_MAX, "a tensor (its size overflows)");
	}
	return t;
}

/* Bytes of t's data; a size the address space cannot hold is out of memory. */
static size_t data_bytes(const struct ax_tensor *t)
{
	size_t bytes;
	if (ax_mul_size(t->size, sizeof(float), &bytes))
		ax_oom(SIZE_MAX, "a tensor (its size overflows)");
	return bytes;
}

struct ax_tensor *ax_tensor_new(struct ax_arena *a, int ndim, const int *shape)
{
	struct ax_tensor *t = header_new(a, ndim, shape);
	t->data = ax_arena_alloc(a, data_bytes(t));
	return t;
}

struct ax_tensor *ax_tensor_zeros(struct ax_arena *a, int ndim, const int *shape)
{
	struct ax_tensor *t = header_new(a, ndim, shape);
	t->data = ax_arena_zalloc(a, data_bytes(t));
	return t;
}

struct ax_tensor *ax_tensor_1d(struct ax_arena *a, int n0)
{
	return ax_tensor_new(a, 1, (int[]){ n0 });
}

struct ax_tensor *ax_tensor_2d(struct ax_arena *a, int n0, int n1)
{
	return ax_tensor_new(a, 2, (int[]){ n0, n1 });
}

struct ax_tensor *ax_tensor_3d(struct ax_arena *a, int n0, int n1, int n2)
{
	return ax_tensor_new(a, 3, (int[]){ n0, n1, n2 });
}

struct ax_tensor *ax_tensor_4d(struct ax_arena *a, int n0, int n1, int n2, int n3)
{
	return ax_tensor_new(a, 4, (int[]){ n0, n1, n2, n3 });
}

struct ax_tensor *ax_tensor_wrap(struct ax_arena *a, float *data, int ndim, const int *shape)
{
	struct ax_tensor *t = header_new(a, ndim, shape);
	t->data = data;
	return t;
}

void ax_tensor_require_grad(struct ax_tensor *t, struct ax_arena *a)
{
	if (!t->grad)
		t->grad = ax_arena_zalloc(a, t->size * sizeof(float));
	t->requires_grad = 1;
}

void ax_tensor_fill(struct ax_tensor *t, float v)
{
	for (size_t i = 0; i < t->size; i++)
		t->data[i] = v;
}

int ax_tensor_same_shape(const struct ax_tensor *a, const struct ax_tensor *b)
{
	if (a->ndim != b->ndim)
		return 0;
	for (int i = 0; i < a->ndim; i++)
		if (a->shape[i] != b->shape[i])
			return 0;
	return 1;
}

const char *ax_shape_str(const struct ax_tensor *t, char *buf, size_t n)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < t->ndim && off < n; i++)
		off += snprintf(buf + off, n - off, i ? "x%d" : "%d", t->shape[i]);
	return buf;
}

size_t ax_tensor_span(const struct ax_tensor *t, int from, int to)
{
	size_t s = 1;
	for (int i = AX_MAX(from, 0); i < AX_MIN(to, t->ndim); i++)
		s *= (size_t)t->shape[i];
	return s;
}
