/* dist.c — data parallelism over MPI (see ax_dist.h). Without AXON_MPI the
 * program is one rank and every collective returns at once. */
#include "ax_dist.h"
#include "ax_cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef AXON_MPI
#include <mpi.h>
#endif

static struct {
	int init, mpi, rank, size;
	float *buf;            /* packing buffer: every gradient, then the extras */
	size_t cap;            /* in floats */
	double seconds, bytes;
} dist = { .size = 1 };

int ax_dist_built(void)
{
#ifdef AXON_MPI
	return 1;
#else
	return 0;
#endif
}

#ifdef AXON_MPI
/* Launched as part of a job? Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE;
 * srun with PMIx sets PMIX_RANK; MPICH-style launchers PMI_SIZE. */
static int launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

/* A rank that exits any other way than through ax_dist_finalize (ax_die, a
 * failed check) leaves without finalising: mpirun (or srun) then ends the
 * whole job with that rank's exit status, instead of the other ranks
 * waiting in a collective for ever, which MPI_Finalize here could cause. */
#endif

void ax_dist_init(void)
{
	if (dist.init)
		return;
	dist.init = 1;
#ifdef AXON_MPI
	if (!launched())
		return;
	MPI_Init(NULL, NULL);
	MPI_Comm_rank(MPI_COMM_WORLD, &dist.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &dist.size);
	dist.mpi = 1;
	if (dist.rank != 0) {
		/* Rank 0 alone writes the CSV: the others' standard output goes nowhere. */
		fflush(stdout);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
#endif
}

void ax_dist_finalize(void)
{
#ifdef AXON_MPI
	int done = 0;
	if (dist.mpi && (MPI_Finalized(&done), !done))
		MPI_Finalize();
#endif
	free(dist.buf);
	dist.buf = NULL;
	dist.cap = 0;
}

int ax_dist_rank(void) { return dist.rank; }
int ax_dist_size(void) { return dist.size; }

void ax_dist_shard(long n, long *begin, long *count)
{
	AX_ASSERT(n >= dist.size && "fewer rows than ranks");
	long b = n * dist.rank / dist.size, e = n * (dist.rank + 1) / dist.size;
	*begin = b;
	*count = e - b;
}

#ifdef AXON_MPI
static float *pack_buffer(size_t n)
{
	if (n > dist.cap) {
		free(dist.buf);
		dist.buf = ax_xmalloc(n * sizeof *dist.buf);
		dist.cap = n;
	}
	return dist.buf;
}
#endif

void ax_dist_bcast_params(struct ax_params *p)
{
#ifdef AXON_MPI
	if (dist.size < 2)
		return;
	size_t n = ax_params_count(p), off = 0;
	float *buf = pack_buffer(n);
	for (int i = 0; i < p->n; off += p->list[i]->size, i++)
		memcpy(buf + off, p->list[i]->data, p->list[i]->size * sizeof *buf);
	double t0 = ax_now();
	MPI_Bcast(buf, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
	dist.seconds += ax_now() - t0;
	off = 0;
	for (int i = 0; i < p->n; off += p->list[i]->size, i++)
		memcpy(p->list[i]->data, buf + off, p->list[i]->size * sizeof *buf);
#else
	(void)p;
#endif
}

void ax_dist_allreduce_grads(struct ax_params *p, float weight, double *extra, int n)
{
#ifdef AXON_MPI
	if (dist.size < 2)
		return;
	/* Gradients as floats, then each extra double split into a float pair
	 * would lose bits: send extras as doubles in a second, tiny message. */
	size_t ng = ax_params_count(p), off = 0;
	float *buf = pack_buffer(ng);
	for (int i = 0; i < p->n; off += p->list[i]->size, i++) {
		const float *g = p->list[i]->grad;
		float *dst = buf + off;
		for (size_t j = 0; j < p->list[i]->size; j++)
			dst[j] = g ? g[j] * weight : 0;
	}
	double t0 = ax_now();
	MPI_Allreduce(MPI_IN_PLACE, buf, (int)ng, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	if (n > 0)
		MPI_Allreduce(MPI_IN_PLACE, extra, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	dist.seconds += ax_now() - t0;
	dist.bytes += (double)ng * sizeof *buf + (double)n * sizeof *extra;
	off = 0;
	for (int i = 0; i < p->n; off += p->list[i]->size, i++)
		if (p->list[i]->grad)
			memcpy(p->list[i]->grad, buf + off, p->list[i]->size * sizeof *buf);
#else
	(void)p, (void)weight, (void)extra, (void)n;
#endif
}

int ax_dist_max(int v)
{
#ifdef AXON_MPI
	if (dist.size < 2)
		return v;
	int max = v;
	MPI_Allreduce(&v, &max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return max;
#else
	return v;
#endif
}

void ax_dist_check_same(const struct ax_params *p)
{
#ifdef AXON_MPI
	if (dist.size < 2)
		return;
	uint64_t h = 1469598103934665603ull;   /* FNV-1a over the raw bytes */
	for (int i = 0; i < p->n; i++) {
		const unsigned char *b = (const unsigned char *)p->list[i]->data;
		for (size_t j = 0; j < p->list[i]->size * sizeof(float); j++)
			h = (h ^ b[j]) * 1099511628211ull;
	}
	uint64_t lo = h, hi = h;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	if (lo != hi)
		ax_die(AX_EXIT_FAIL, "rank %d: parameters differ between ranks at the end of the run",
		       dist.rank);
#else
	(void)p;
#endif
}

double ax_dist_comm_seconds(void) { return dist.seconds; }
double ax_dist_comm_bytes(void) { return dist.bytes; }
