/* score.c — md-geom's weight files: reading and checking NPY streams,
 * scoring two of them, writing weights and histograms. */
#include "md_geom.h"

#include <math.h>
#include <string.h>

enum ax_status mdg_read_weights(struct ax_reader *r, int index, double **w, size_t *n)
{
	struct ax_array a;
	const char *name = ax_reader_name(r);
	enum ax_status st = ax_npy_read(r, &a);
	if (st)
		return st;
	*n = ax_array_count(&a);
	if (a.dtype != AX_F32 && a.dtype != AX_F64)
		st = ax_error_set(AX_ERR_FORMAT, "%s: array %d is %s, not float32 or float64", name,
				  index, ax_dtype_name(a.dtype));
	else if (*n == 0)
		st = ax_error_set(AX_ERR_FORMAT, "%s: array %d holds no weights", name, index);
	if (st) {
		ax_array_free(&a);
		return st;
	}
	*w = ax_xmalloc(*n * sizeof **w);
	for (size_t i = 0; i < *n && !st; i++) {
		(*w)[i] = ax_array_get(&a, i);
		if (!isfinite((*w)[i]))
			st = ax_error_set(AX_ERR_FORMAT, "%s: array %d: weight %zu is %g", name,
					  index, i, (*w)[i]);
	}
	ax_array_free(&a);
	if (st) {
		free(*w);
		*w = NULL;
	}
	return st;
}

/* Reads the next array (per_tensor) or the rest of the stream (else),
 * appended into one vector. *n = 0 and AX_OK at the end of the stream. */
static enum ax_status read_part(struct ax_reader *r, int per_tensor, int *index, double **w,
				size_t *n)
{
	*w = NULL;
	*n = 0;
	for (;;) {
		double *part;
		size_t m;
		enum ax_status st = mdg_read_weights(r, *index, &part, &m);
		if (st == AX_ERR_EOF) {
			if (*index == 0)
				return ax_error_set(AX_ERR_FORMAT, "%s: empty, expected NPY arrays",
						    ax_reader_name(r));
			return AX_OK;
		}
		if (st) {
			free(*w);
			return st;
		}
		(*index)++;
		*w = ax_xrealloc(*w, (*n + m) * sizeof **w);
		memcpy(*w + *n, part, m * sizeof *part);
		*n += m;
		free(part);
		if (per_tensor)
			return AX_OK;
	}
}

static void report(const struct mdg_score_job *job, int tensor, size_t n,
		   const struct mdg_score *s, FILE *out, FILE *err)
{
	char name[32], tag[32] = "";
	if (job->per_tensor)
		snprintf(tag, sizeof tag, "tensor %d: ", tensor);
	for (int c = 0; c < job->ncand; c++) {
		ax_potential_name(job->cand[c], name, sizeof name);
		if (job->per_tensor)
			fprintf(out, "%d,", tensor);
		fprintf(out, "%s,%.6g,%.6g\n", name, s[c].distance, s[c].rel_change);
		if (s[c].invalid && err)
			fprintf(err, "%s: %s%s: %zu of %zu weights left out (zero or sign change)\n",
				ax_prog(), tag, name, s[c].invalid, n);
	}
	int best = mdg_best(s, job->ncand);
	if (!err)
		return;
	if (best < 0) {
		fprintf(err, "%s: %sno candidate fits (no spread in the dual change)\n", ax_prog(), tag);
		return;
	}
	ax_potential_name(job->cand[best], name, sizeof name);
	fprintf(err, "%s: %sinferred geometry: %s (distance %.4g)\n", ax_prog(), tag, name,
		s[best].distance);
}

enum ax_status mdg_score_files(const struct mdg_score_job *job, FILE *out, FILE *err)
{
	struct ax_reader *r0 = NULL, *r1 = NULL;
	struct mdg_score *s = ax_xmalloc((size_t)job->ncand * sizeof *s);
	enum ax_status st = ax_reader_open(&r0, job->w0);
	if (!st)
		st = ax_reader_open(&r1, job->w1);
	fprintf(out, job->per_tensor ? "tensor,potential,distance,rel_change\n"
				     : "potential,distance,rel_change\n");
	for (int i0 = 0, i1 = 0, tensor = 0; !st; tensor++) {
		double *w0, *w1;
		size_t n0, n1;
		if ((st = read_part(r0, job->per_tensor, &i0, &w0, &n0)))
			break;
		if ((st = read_part(r1, job->per_tensor, &i1, &w1, &n1))) {
			free(w0);
			break;
		}
		if (n0 != n1) {
			if (n0 == 0 || n1 == 0)
				st = ax_error_set(AX_ERR_FORMAT, "%s holds %d arrays, %s %d or more",
						  n0 ? job->w1 : job->w0, tensor, n0 ? job->w0 : job->w1,
						  tensor + 1);
			else
				st = ax_error_set(AX_ERR_FORMAT, "%s holds %zu weights%s, %s %zu",
						  job->w0, n0, job->per_tensor ? " in this array" : "",
						  job->w1, n1);
			free(w0);
			free(w1);
			break;
		}
		if (n0 == 0)
			break;
		struct mdg_pair pr;
		mdg_pair_init(&pr, n0, w0, w1);
		for (int c = 0; c < job->ncand; c++)
			mdg_score(&pr, job->cand[c], &s[c]);
		report(job, tensor, n0, s, out, err);
		mdg_pair_free(&pr);
		fflush(out);
	}
	ax_reader_close(r0);
	ax_reader_close(r1);
	free(s);
	return st;
}

enum ax_status mdg_save_weights(const char *dir, const char *name, const float *w, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct ax_outfile o;
	enum ax_status st = ax_outfile_open(&o, path);
	if (st)
		return st;
	st = ax_npy_write_f32(o.f, w, 1, (int64_t[]){ (int64_t)n });
	if (st) {
		ax_outfile_abort(&o);
		return st;
	}
	return ax_outfile_commit(&o);
}

enum ax_status mdg_hist_file(const char *path, int bins, int log_abs, FILE *out, FILE *err)
{
	struct ax_reader *r;
	double *w;
	size_t n;
	int index = 0;
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = read_part(r, 0, &index, &w, &n);
	ax_reader_close(r);
	if (st)
		return st;
	size_t m = 0, zeros = 0;
	for (size_t i = 0; i < n; i++) {
		if (log_abs && w[i] == 0)
			zeros++;
		else
			w[m++] = log_abs ? log10(fabs(w[i])) : w[i];
	}
	if (zeros && err)
		fprintf(err, "%s: %zu of %zu weights are zero (no log)\n", ax_prog(), zeros, n);
	long *count = ax_xmalloc((size_t)bins * sizeof *count);
	double lo, hi;
	mdg_histogram(w, m, bins, &lo, &hi, count);
	fprintf(out, "lo,hi,count,density\n");
	double width = (hi - lo) / bins;
	for (int b = 0; b < bins; b++)
		fprintf(out, "%.6g,%.6g,%ld,%.6g\n", lo + b * width, lo + (b + 1) * width, count[b],
			m ? count[b] / (m * width) : 0.0);
	if (err)
		fprintf(err, "%s: distance of %s to a normal: %.4g\n", ax_prog(),
			log_abs ? "log10|w|" : "w", mdg_cdf_distance(w, m));
	free(count);
	free(w);
	return AX_OK;
}
